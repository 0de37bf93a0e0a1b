/**
 * MongoDB queries of the worker, per collection. Only find with filters, sort and limit: what
 * both production MongoDB and the local FerretDB run (docs/design.md §7).
 */
import type { Filter, Sort } from "mongodb";
import type { CollectionEntry } from "../schema/registry.js";
import type { Window } from "./windows.js";

export interface SourceQuery {
  readonly filter: Filter<Record<string, unknown>>;
  readonly sort: Sort;
}

/**
 * Documents of one device in one window. `alarm` also matches alarms reset in the window, so an
 * alarm extracted while open comes again with its `resetTS` (the curate job merges the two).
 */
export function windowQuery(entry: CollectionEntry, idDevice: number, window: Window): SourceQuery {
  const range = { $gte: window.from, $lt: window.to };
  const ts = entry.sourceTimestampField;
  const filter = entry.updatedField
    ? { idDevice, $or: [{ [ts]: range }, { [entry.updatedField]: range }] }
    : { idDevice, [ts]: range };
  return { filter, sort: { [ts]: 1 } };
}

/**
 * The device's oldest dated document, where a device without `lastts` starts (not October 2015).
 * Only dates: MongoDB sorts missing and null (and strings) before dates, so an untimed document
 * would otherwise pose as the first one and hide the rest. An index seek on `{idDevice, <ts>}`.
 */
export function firstDocumentQuery(entry: CollectionEntry, idDevice: number): SourceQuery & { limit: 1 } {
  const ts = entry.sourceTimestampField;
  return { filter: { idDevice, [ts]: { $type: "date" } }, sort: { [ts]: 1 }, limit: 1 };
}

/** The earliest instant a BSON date can hold that JavaScript can too (`new Date(-8.64e15)`). */
export const EARLIEST_DATE = new Date(-8_640_000_000_000_000);

/**
 * A device's documents that no window query can select: timestamp missing, null or of another
 * type (a date stored as a string or a number, a BSON Timestamp). Range queries skip them by
 * type, so without this sweep they would be lost silently; the worker runs it for every device
 * on every run (first-pass.ts `sweepUntimed`).
 *
 * Written as "not a date at or after the earliest date" rather than `$not: {$type: "date"}`:
 * MongoDB's planner cannot turn a negated `$type` into index bounds (it scans every key of the
 * device and fetches every document), but it can negate a range. Comparisons are type-bracketed,
 * so `$gte: EARLIEST_DATE` matches every date and nothing else, and its complement on the
 * `{idDevice, <ts>}` index is two intervals, [MinKey, EARLIEST_DATE) and (the last date, MaxKey]:
 * missing (indexed as null), null, numbers, strings, objects, Timestamps... An index seek that
 * finds nothing on a device without untimed documents, which is nearly every device on nearly
 * every run. FerretDB runs it too (there it reads the device's documents, as every query does:
 * tools/ferretdb/indexes.sql). `$type` lists are no way
 * around it: FerretDB 1.24 refuses the aliases `decimal`, `javascript`, `symbol`, `minKey`,
 * `maxKey` and the like, so a list both servers accept would miss some types.
 */
export function untimedQuery(entry: CollectionEntry, idDevice: number): SourceQuery {
  const ts = entry.sourceTimestampField;
  // In index order: a sort on `_id` could tempt the planner into the `_id` index (every document).
  return { filter: { idDevice, [ts]: { $not: { $gte: EARLIEST_DATE } } }, sort: { [ts]: 1 } };
}
