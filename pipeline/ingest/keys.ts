/**
 * Raw-layer object keys. Deterministic from (collection, device, window start), so a retried or
 * replayed window overwrites its own object instead of adding a duplicate next to it. The
 * `idDevice=` segment is Hive-style, so Athena and Spark read it as a partition column.
 */
import type { Window } from "./windows.js";

/**
 * Where refused documents are kept in the raw layer, beside the collections' folders. The
 * deployment grants the quarantine writers this prefix and expires it after review time.
 */
export const QUARANTINE_PREFIX = "_quarantine/";

export function rawObjectKey(collection: string, idDevice: number, window: Window): string {
  if (!/^[a-z0-9_]+$/.test(collection)) throw new RangeError(`invalid collection name ${collection}`);
  if (!Number.isSafeInteger(idDevice) || idDevice < 0) throw new RangeError(`invalid idDevice ${idDevice}`);
  return `${collection}/idDevice=${idDevice}/${window.from.getTime()}.parquet`;
}

/** The device of a raw object key of `collection`, or null for any other key. */
export function deviceOfRawKey(collection: string, key: string): number | null {
  const match = /^([a-z0-9_]+)\/idDevice=(\d+)\//.exec(key);
  return match && match[1] === collection ? Number(match[2]) : null;
}

/**
 * Where a refused document is kept, with its reason, for a person to look at. Deterministic like
 * the raw key, so a replayed window rewrites its quarantine objects instead of orphaning them.
 */
export function quarantineKey(
  collection: string,
  idDevice: number,
  window: Window,
  documentId: string,
): string {
  const safeId = documentId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 128);
  return `${QUARANTINE_PREFIX}${rawObjectKey(collection, idDevice, window).replace(/\.parquet$/, "")}/${safeId}.json`;
}

/**
 * Quarantine key of a document that no time window can select (timestamp missing, null or not a
 * date), found by the worker's first pass over a device.
 */
export function untimedQuarantineKey(collection: string, idDevice: number, documentId: string): string {
  const safeId = documentId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 128);
  return `${QUARANTINE_PREFIX}${collection}/idDevice=${idDevice}/untimed/${safeId}.json`;
}
