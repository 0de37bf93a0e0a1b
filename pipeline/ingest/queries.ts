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
 * would otherwise pose as the first one and hide the rest.
 */
export function firstDocumentQuery(entry: CollectionEntry, idDevice: number): SourceQuery & { limit: 1 } {
  const ts = entry.sourceTimestampField;
  return { filter: { idDevice, [ts]: { $type: "date" } }, sort: { [ts]: 1 }, limit: 1 };
}

/**
 * The device's document at one end of the timestamp field's sort order (`1`: lowest, `-1`:
 * highest). MongoDB sorts mixed types in BSON order: missing and null, numbers, strings (and
 * the other types) before dates, then timestamps, regular expressions and MaxKey after them.
 * So when both ends are dates (or the device has no documents), the device has no untimed
 * document, and the low end is its first one: two index seeks on `{idDevice, <ts>}` instead of
 * the {@link untimedQuery} scan of every document of the device.
 */
export function edgeQuery(
  entry: CollectionEntry,
  idDevice: number,
  direction: 1 | -1,
): SourceQuery & { limit: 1 } {
  return { filter: { idDevice }, sort: { [entry.sourceTimestampField]: direction }, limit: 1 };
}

/**
 * A device's documents that no window query can select: timestamp missing, null or of another
 * type (a date stored as a string). Range queries skip them by type, so without this pass they
 * would be lost silently; the worker quarantines them when it first meets the device.
 */
export function untimedQuery(entry: CollectionEntry, idDevice: number): SourceQuery {
  return {
    filter: { idDevice, [entry.sourceTimestampField]: { $not: { $type: "date" } } },
    sort: { _id: 1 },
  };
}
