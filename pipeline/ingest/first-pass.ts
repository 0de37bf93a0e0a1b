/**
 * A device's first pass and its untimed documents. Where a device without a bookmark starts is its
 * oldest dated document (one index seek). Documents no window can select (timestamp missing, null
 * or not a date) are swept on every run, not only on the first pass: they may arrive any time.
 *
 * Production MongoDB indexes `{idDevice, <ts>}`, and both queries are bounded by it: the first
 * document is a seek, and the untimed sweep reads only the keys of the device's untimed documents
 * (see `untimedQuery`), nothing on a device that has none. A document met again by a later sweep
 * is recognised by its quarantine key and neither copied nor counted twice.
 */
import type { Document } from "mongodb";
import { documentIdOf } from "../errors.js";
import type { CollectionEntry } from "../schema/registry.js";
import type { QuarantineRecord } from "./ingest-state.js";
import { namesSeveralDevices, severalDevicesRefusal } from "./orphans.js";
import { type QuarantineOnce, SWEEP_BATCH } from "./quarantine.js";
import { firstDocumentQuery, untimedQuery } from "./queries.js";
import type { DocumentSource, SourceCollection } from "./source.js";

/** The device's oldest dated document's timestamp; null when it has none. */
export async function firstDated(
  coll: SourceCollection,
  entry: CollectionEntry,
  idDevice: number,
): Promise<Date | null> {
  const q = firstDocumentQuery(entry, idDevice);
  const ts = entry.sourceTimestampField;
  const doc = await coll
    .find(q.filter, { sort: q.sort, limit: q.limit, projection: { _id: 0, [ts]: 1 } })
    .next();
  const first = doc?.[ts];
  return first instanceof Date ? first : null;
}

/** How a value's type reads in a reason: BSON wrappers by their BSON name (`a Timestamp`). */
function typeName(value: unknown): string {
  const bson = (value as { _bsontype?: unknown })._bsontype;
  if (typeof bson === "string") return `a ${bson}`;
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
}

/** Why a document no window can select was refused: what its timestamp holds. */
export function untimedReason(entry: CollectionEntry, doc: Document): string {
  const field = entry.sourceTimestampField;
  const value = doc[field];
  return (
    `${entry.name} document ${documentIdOf(doc) ?? "<no _id>"} cannot be windowed: ${field} ` +
    (value === undefined ? "is missing" : value === null ? "is null" : `is ${typeName(value)}, not a date`)
  );
}

export interface UntimedSweep {
  /** The documents quarantined now (none of them had a quarantine row). */
  readonly records: QuarantineRecord[];
  readonly queriesRun: number;
}

/**
 * Quarantines the device's documents that no window can select and that have no quarantine row
 * yet (see `untimedQuery`): read as `_id`, `idDevice` and timestamp, fetched whole only when
 * quarantined now (`QuarantineOnce.sweep`). A document whose `idDevice` is an array is kept as an
 * orphan, once.
 */
export async function sweepUntimed(
  source: DocumentSource,
  entry: CollectionEntry,
  idDevice: number,
  once: QuarantineOnce,
): Promise<UntimedSweep> {
  const coll = source.collection(entry.name);
  const query = untimedQuery(entry, idDevice);
  const found = coll.find(query.filter, {
    sort: query.sort,
    projection: { _id: 1, idDevice: 1, [entry.sourceTimestampField]: 1 },
    batchSize: SWEEP_BATCH,
  });
  const { records, queriesRun } = await once.sweep(coll, found, (doc, ordinal) =>
    namesSeveralDevices(doc)
      ? severalDevicesRefusal(entry.name, doc, ordinal)
      : {
          collection: entry.name,
          site: { idDevice, untimed: true },
          reason: untimedReason(entry, doc),
          ordinal,
        },
  );
  return { records, queriesRun: queriesRun + 1 };
}
