/**
 * Documents no device's query can select: `idDevice` missing, null or not a number. Per-device
 * windows never see them, so without this sweep they would be lost silently. The summary step
 * sweeps each collection of its plan once per execution; on MongoDB the `{idDevice, ts}` index
 * bounds the query to the non-number keys, on FerretDB it is a scan.
 */
import { EJSON } from "bson";
import type { Db, Document, Filter } from "mongodb";
import type { ObjectStore } from "../lake/object-store.js";
import { QUARANTINE_PREFIX } from "./keys.js";
import type { QuarantineRecord } from "./ledger.js";

/** Also matches documents without the field: `$not` is true where `$type` has nothing to test. */
export const ORPHAN_FILTER: Filter<Document> = { idDevice: { $not: { $type: "number" } } };

export function orphanKey(collection: string, documentId: string): string {
  return `${QUARANTINE_PREFIX}${collection}/no-device/${documentId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 128)}.json`;
}

/**
 * Quarantines the collection's orphans not already in `known` (document ids quarantined before),
 * each under a key of its own id, so a repeated sweep rewrites rather than adds.
 */
export async function sweepOrphans(
  source: Db,
  store: ObjectStore,
  collection: string,
  known: ReadonlySet<string>,
): Promise<QuarantineRecord[]> {
  const records: QuarantineRecord[] = [];
  for await (const doc of source.collection(collection).find(ORPHAN_FILTER, { sort: { _id: 1 } })) {
    const id = doc._id;
    const documentId =
      id === undefined || id === null
        ? null
        : typeof id === "object" && "toHexString" in id
          ? id.toHexString()
          : String(id);
    if (documentId !== null && known.has(documentId)) continue;
    const value = doc.idDevice;
    const reason =
      `${collection} document ${documentId ?? "<no _id>"} names no device: idDevice ` +
      (value === undefined
        ? "is missing"
        : value === null
          ? "is null"
          : `is a ${typeof value} (${JSON.stringify(value)})`);
    const objectKey = orphanKey(collection, documentId ?? `no-id-${records.length}`);
    const body = JSON.stringify({ collection, reason, document: EJSON.serialize(doc, { relaxed: true }) });
    await store.putBuffer(objectKey, Buffer.from(body));
    records.push({ documentId, reason, objectKey });
  }
  return records;
}
