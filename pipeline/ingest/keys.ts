/**
 * Raw-layer object keys. Deterministic from (collection, device, window start), so a retried or
 * replayed window overwrites its own object instead of adding a duplicate next to it. The
 * `idDevice=` segment is Hive-style: Spark reading a folder derives it as a column. The Glue raw
 * tables do not declare it as a partition (the rows carry `id_device` themselves).
 *
 * The format is a contract with the curate job, which finds each row's object by its key: the
 * job tables carry {@link RAW_OBJECT_KEY_TEMPLATE} and {@link RAW_PARTITION_KEY}
 * (`pipeline/schema/job-tables.ts`), and `glue/lakehouse_glue/job_tables.py` parses keys with
 * them, so Python holds no copy of the format (docs/adr/0012-glue-entry-and-contracts.md).
 */
import { createHash, randomBytes } from "node:crypto";
import { type Document, EJSON } from "bson";
import type { Window } from "./windows.js";

/**
 * Where refused documents are kept in the raw layer, beside the collections' folders. The
 * deployment grants the quarantine writers this prefix and expires it after review time.
 */
export const QUARANTINE_PREFIX = "_quarantine/";

/** The Hive-style folder of each raw object's device: `idDevice=<id>`. */
export const RAW_PARTITION_KEY = "idDevice";

/**
 * A raw object's key with its three parts as `{name}` placeholders. Literal text is limited to
 * what both Python's and Java's regular expressions read alike once `.` is escaped, since the
 * curate job matches keys in Spark (`regexp_extract`) too.
 */
export const RAW_OBJECT_KEY_TEMPLATE = `{collection}/${RAW_PARTITION_KEY}={idDevice}/{windowFromMs}.parquet`;

/**
 * A pack's key (ADR 0023): small windows of several devices in one object, beside the devices'
 * folders. Unlike a window's key it names no window: every write of a pack gets a new `packId`, so
 * a pack never replaces an object that holds other windows. The ledger says which device windows
 * a pack holds; a pack whose commit never happened is found through its `pack_upload` row and
 * removed (worker.ts).
 */
export const RAW_PACK_KEY_TEMPLATE = "{collection}/packs/{packId}.parquet";

/**
 * The S3 tag the curate job puts on a raw object once every ledger row naming it is in curated
 * (ADR 0024). The raw bucket's lifecycle expires tagged objects early and the rest only at the
 * stack's backstop, so a curate that fails for days never loses a raw object it has not read.
 */
export const RAW_CURATED_TAG = { key: "lakehouse-curated", value: "true" } as const;

/** What a pack id is made of: the write's UTC time to the millisecond, then 48 random bits. */
export const PACK_ID_PATTERN = /^\d{8}T\d{9}Z-[0-9a-f]{12}$/;

/** A new pack id: sorts by write time, and two writes never share one. */
export function newPackId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, "");
  return `${stamp}-${randomBytes(6).toString("hex")}`;
}

/** The folder of a collection's packs (`alarm/packs/`). */
export function rawPackPrefix(collection: string): string {
  return RAW_PACK_KEY_TEMPLATE.slice(0, RAW_PACK_KEY_TEMPLATE.indexOf("{packId}")).replace(
    "{collection}",
    collection,
  );
}

export function rawPackKey(collection: string, packId: string): string {
  if (!/^[a-z0-9_]+$/.test(collection)) throw new RangeError(`invalid collection name ${collection}`);
  if (!PACK_ID_PATTERN.test(packId)) throw new RangeError(`invalid pack id ${packId}`);
  return RAW_PACK_KEY_TEMPLATE.replace("{collection}", collection).replace("{packId}", packId);
}

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

/** Longest document part of a quarantine key; longer ones are cut and end in a hash. */
const MAX_DOCUMENT_PART = 128;
/** Characters kept from a cut document part, before its hash. */
const CUT_AT = 96;

/**
 * Percent-encodes UTF-8 text for a key segment: RFC 3986's unreserved characters but `~` are kept
 * (`A-Z a-z 0-9 - . _`), every other byte is `%XX`. Reversible, hence injective; `~` is left to
 * the markers of {@link documentPart}. (Strings read from MongoDB are well-formed UTF-16, which
 * `Buffer.from` encodes one-to-one.)
 */
function percentEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9._-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const isObjectId = (id: unknown): id is { toHexString(): string } =>
  typeof id === "object" && id !== null && (id as { _bsontype?: unknown })._bsontype === "ObjectId";

/**
 * A document's `_id` as the last segment of its quarantine key: injective (two ids never share
 * one), deterministic, and made of `A-Z a-z 0-9 - . _ ~ %` only. Four disjoint forms:
 * - an ObjectId: its 24 hex digits (the keys it always had);
 * - a string: percent-encoded ({@link percentEncode}); one that would read as an ObjectId's hex
 *   gets its first character encoded, so the two never meet;
 * - any other value (a number, a date, a sub-document; null): `~` and its canonical extended JSON,
 *   percent-encoded, which keeps the type (`5` is `~%7B%22%24numberInt%22%3A%225%22%7D`, `"5"` is `5`);
 * - no `_id` at all (not possible in MongoDB, which adds one): `~none-<ordinal>`, the position
 *   among what the caller read.
 * A part longer than 128 characters keeps its first 96 and ends in `~` and a SHA-256 prefix of
 * the whole part (128 bits): a `~` past the first character marks only that form.
 */
export function documentPart(id: unknown, ordinal: number): string {
  let part: string;
  if (id === undefined) part = `~none-${ordinal}`;
  else if (isObjectId(id)) part = id.toHexString();
  else if (typeof id === "string") {
    part = percentEncode(id);
    if (/^[0-9a-f]{24}$/.test(part))
      part = `%${part.charCodeAt(0).toString(16).toUpperCase()}${part.slice(1)}`;
  } else part = `~${percentEncode(EJSON.stringify(id as Document, { relaxed: false }))}`;
  if (part.length <= MAX_DOCUMENT_PART) return part;
  const digest = createHash("sha256").update(part).digest("hex").slice(0, 32);
  return `${part.slice(0, CUT_AT)}~${digest}`;
}

/**
 * The key of a refused document's copy: `<QUARANTINE_PREFIX><folder>/<document part>.json`. Every
 * quarantine key is made here; the functions below choose the folder.
 */
function quarantineObjectKey(folder: string, id: unknown, ordinal: number): string {
  return `${QUARANTINE_PREFIX}${folder}/${documentPart(id, ordinal)}.json`;
}

/**
 * Where a refused document is kept, with its reason, for a person to look at. Deterministic like
 * the raw key, so a replayed window rewrites its quarantine objects instead of orphaning them.
 * `id` is the document's `_id` as read (see {@link documentPart}).
 */
export function quarantineKey(
  collection: string,
  idDevice: number,
  window: Window,
  id: unknown,
  ordinal = 0,
): string {
  return quarantineObjectKey(
    rawObjectKey(collection, idDevice, window).replace(/\.parquet$/, ""),
    id,
    ordinal,
  );
}

/**
 * Quarantine key of a document that no time window can select (timestamp missing, null or not a
 * date), found by the worker's untimed sweep of a device.
 */
export function untimedQuarantineKey(collection: string, idDevice: number, id: unknown, ordinal = 0): string {
  return quarantineObjectKey(`${devicePrefix(collection)}${idDevice}/untimed`, id, ordinal);
}

/**
 * Quarantine key of a document no single device's query selects: `idDevice` missing, not a
 * number, no `ddc` device, or an array naming several (orphans.ts).
 */
export function orphanQuarantineKey(collection: string, id: unknown, ordinal = 0): string {
  return quarantineObjectKey(`${collection}/no-device`, id, ordinal);
}
