/**
 * Where a device without a bookmark starts, and whether it holds untimed documents (timestamp
 * missing, null or not a date) that no window can select. Shared by the worker and the
 * benchmark's bare cursor read, so both run the same queries.
 *
 * Production MongoDB indexes `{idDevice, <ts>}`: the two edge probes are index seeks. The full
 * untimed scan (every document of the device: `$not: {$type: "date"}` cannot use the index
 * bounds) runs only when an edge shows an untimed document, which is rare; without the probes
 * the bulk load would read every device's history twice.
 */
import type { Collection, Document } from "mongodb";
import type { CollectionEntry } from "../schema/registry.js";
import { edgeQuery, firstDocumentQuery } from "./queries.js";

export interface FirstPassProbe {
  /** The device's oldest dated document's timestamp; null when it has none. */
  readonly first: Date | null;
  /** An edge is untimed: the untimed scan must run (and `first` came from the typed probe). */
  readonly hasUntimed: boolean;
  readonly queriesRun: number;
}

async function edge(coll: Collection<Document>, entry: CollectionEntry, idDevice: number, direction: 1 | -1) {
  const q = edgeQuery(entry, idDevice, direction);
  const ts = entry.sourceTimestampField;
  const doc = await coll
    .find(q.filter, { sort: q.sort, limit: q.limit, projection: { _id: 0, [ts]: 1 } })
    .next();
  return { found: doc !== null, value: doc?.[ts] as unknown };
}

/**
 * Probe a device's ends. When both are dates, `first` is the low end; otherwise the caller runs
 * the untimed scan, and `first` comes from the typed first-document query (run here).
 */
export async function probeFirstPass(
  coll: Collection<Document>,
  entry: CollectionEntry,
  idDevice: number,
): Promise<FirstPassProbe> {
  const low = await edge(coll, entry, idDevice, 1);
  if (!low.found) return { first: null, hasUntimed: false, queriesRun: 1 };
  const high = await edge(coll, entry, idDevice, -1);
  if (low.value instanceof Date && high.value instanceof Date) {
    return { first: low.value, hasUntimed: false, queriesRun: 2 };
  }
  const q = firstDocumentQuery(entry, idDevice);
  const ts = entry.sourceTimestampField;
  const doc = await coll
    .find(q.filter, { sort: q.sort, limit: q.limit, projection: { _id: 0, [ts]: 1 } })
    .next();
  const first = doc?.[ts];
  return { first: first instanceof Date ? first : null, hasUntimed: true, queriesRun: 3 };
}
