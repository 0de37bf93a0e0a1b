/**
 * Documents no device's query can select: `idDevice` missing, null or not a number. Per-device
 * windows never see them, so without this sweep they would be lost silently. The summary step
 * sweeps each collection of its plan once per execution; on MongoDB the `{idDevice, ts}` index
 * bounds the query to the non-number keys, on FerretDB it is a scan.
 */
import type { Db, Document, Filter } from "mongodb";
import type { Logger } from "pino";
import { documentIdOf } from "../errors.js";
import type { ObjectStore } from "../lake/object-store.js";
import type { OrphanRecords, QuarantineRecord } from "./ingest-state.js";
import { quarantineDocument } from "./quarantine.js";

/** Also matches documents without the field: `$not` is true where `$type` has nothing to test. */
export const ORPHAN_FILTER: Filter<Document> = { idDevice: { $not: { $type: "number" } } };

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
    const documentId = documentIdOf(doc);
    if (documentId !== undefined && known.has(documentId)) continue;
    const value = doc.idDevice;
    const reason =
      `${collection} document ${documentId ?? "<no _id>"} names no device: idDevice ` +
      (value === undefined
        ? "is missing"
        : value === null
          ? "is null"
          : `is a ${typeof value} (${JSON.stringify(value)})`);
    records.push(
      await quarantineDocument(store, doc, {
        collection,
        site: { orphan: true },
        reason,
        ordinal: records.length,
      }),
    );
  }
  return records;
}

export interface OrphanSweepDeps {
  readonly source: Db;
  readonly store: ObjectStore;
  readonly state: OrphanRecords;
  readonly log?: Logger;
}

export interface OrphanSweep {
  readonly runId: string;
  readonly planId: string | null;
  readonly collections: readonly string[];
}

/**
 * The summary's sweep: per collection, the orphans not quarantined before are copied to the
 * store, then recorded and counted in the run's metric row in one commit. A document id already
 * quarantined as an orphan is skipped, so each orphan is quarantined once.
 * @returns the orphans quarantined now, by collection.
 */
export async function quarantineOrphans(
  deps: OrphanSweepDeps,
  run: OrphanSweep,
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const collection of run.collections) {
    const known = await deps.state.quarantinedOrphans(collection);
    const records = await sweepOrphans(deps.source, deps.store, collection, known);
    found.set(collection, records.length);
    if (!records.length) continue;
    await deps.state.commitOrphans({
      runId: run.runId,
      planId: run.planId,
      collection,
      quarantined: records,
    });
    deps.log?.warn({ collection, orphans: records.length }, "documents without a device quarantined");
  }
  return found;
}
