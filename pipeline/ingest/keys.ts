/**
 * Raw-layer object keys. Deterministic from (collection, device, window start), so a retried or
 * replayed window overwrites its own object instead of adding a duplicate next to it. The
 * `idDevice=` segment is Hive-style, so Athena and Spark read it as a partition column.
 *
 * The format is a contract with the curate job, which finds each row's object by its key: the
 * job tables carry {@link RAW_OBJECT_KEY_TEMPLATE} and {@link RAW_PARTITION_KEY}
 * (`pipeline/schema/job-tables.ts`), and `glue/lakehouse_glue/job_tables.py` parses keys with
 * them, so Python holds no copy of the format (docs/adr/0012-glue-entry-and-contracts.md).
 */
import type { Window } from "./windows.js";

/**
 * Where refused documents are kept in the raw layer, beside the collections' folders. The
 * deployment grants the quarantine writers this prefix and expires it after review time.
 */
export const QUARANTINE_PREFIX = "_quarantine/";

/** The Hive partition column of the raw layer: the folder `idDevice=<id>` of each object. */
export const RAW_PARTITION_KEY = "idDevice";

/**
 * A raw object's key with its three parts as `{name}` placeholders. Literal text is limited to
 * what both Python's and Java's regular expressions read alike once `.` is escaped, since the
 * curate job matches keys in Spark (`regexp_extract`) too.
 */
export const RAW_OBJECT_KEY_TEMPLATE = `{collection}/${RAW_PARTITION_KEY}={idDevice}/{windowFromMs}.parquet`;

/** The parts of a raw object key, by their placeholder names in {@link RAW_OBJECT_KEY_TEMPLATE}. */
export interface RawObjectKeyParts {
  readonly collection: string;
  readonly idDevice: number;
  readonly windowFromMs: number;
}

export function rawObjectKey(collection: string, idDevice: number, window: Window): string {
  if (!/^[a-z0-9_]+$/.test(collection)) throw new RangeError(`invalid collection name ${collection}`);
  if (!Number.isSafeInteger(idDevice) || idDevice < 0) throw new RangeError(`invalid idDevice ${idDevice}`);
  const windowFromMs = window.from.getTime();
  // The key's digits-only part: a window before 1970 would put a "-" there, which no reader expects.
  if (!Number.isSafeInteger(windowFromMs) || windowFromMs < 0) {
    throw new RangeError(`invalid window start ${window.from.toISOString()}`);
  }
  return renderRawObjectKey({ collection, idDevice, windowFromMs });
}

function renderRawObjectKey(parts: RawObjectKeyParts): string {
  return RAW_OBJECT_KEY_TEMPLATE.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = parts[name as keyof RawObjectKeyParts];
    if (value === undefined) throw new RangeError(`raw key template names an unknown part {${name}}`);
    return String(value);
  });
}

/** The key up to the device's folder, for `collection` (`alarm/idDevice=`). */
const devicePrefix = (collection: string) =>
  RAW_OBJECT_KEY_TEMPLATE.slice(0, RAW_OBJECT_KEY_TEMPLATE.indexOf("{idDevice}")).replace(
    "{collection}",
    collection,
  );

/**
 * The device of a raw object key of `collection`, or null for any other key. Matches a key's
 * beginning only: partial uploads (temp files, multipart keys) count as the device's too.
 */
export function deviceOfRawKey(collection: string, key: string): number | null {
  const prefix = devicePrefix(collection);
  if (!key.startsWith(prefix)) return null;
  const match = /^(\d+)\//.exec(key.slice(prefix.length));
  return match ? Number(match[1]) : null;
}

/**
 * The key of a refused document's copy: `<QUARANTINE_PREFIX><folder>/<document id>.json`, the id
 * made safe for a key. Every quarantine key is made here; the functions below choose the folder.
 */
function quarantineObjectKey(folder: string, documentId: string): string {
  const safeId = documentId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 128);
  return `${QUARANTINE_PREFIX}${folder}/${safeId}.json`;
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
  return quarantineObjectKey(
    rawObjectKey(collection, idDevice, window).replace(/\.parquet$/, ""),
    documentId,
  );
}

/**
 * Quarantine key of a document that no time window can select (timestamp missing, null or not a
 * date), found by the worker's first pass over a device.
 */
export function untimedQuarantineKey(collection: string, idDevice: number, documentId: string): string {
  return quarantineObjectKey(`${devicePrefix(collection)}${idDevice}/untimed`, documentId);
}

/** Quarantine key of a document no device's query selects (`idDevice` missing or not a number). */
export function orphanQuarantineKey(collection: string, documentId: string): string {
  return quarantineObjectKey(`${collection}/no-device`, documentId);
}
