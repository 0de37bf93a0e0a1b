/**
 * MongoDB queries of the worker, per collection. Only find with filters, sort and limit: what
 * both production MongoDB and the local FerretDB run (DESIGN §7).
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

/** The device's oldest document, where a device without `lastts` starts (not October 2015). */
export function firstDocumentQuery(entry: CollectionEntry, idDevice: number): SourceQuery & { limit: 1 } {
  return { filter: { idDevice }, sort: { [entry.sourceTimestampField]: 1 }, limit: 1 };
}
