/**
 * Source document → lake row. Known fields are coerced by the entry's zod schema; fields beyond
 * the schema fold into the JSON `payload` column (or are reported as `extraKeys` where an entry
 * has no payload), so new source fields never fail a load and never vanish.
 */

import { type Document, EJSON } from "bson";
import { type DocumentIssue, DocumentValidationError, documentIdOf } from "../errors.js";
import { PAYLOAD_COLUMN, type RegistryEntry } from "./registry.js";

/** Above this a payload is refused: one row that large would dominate a row group's memory. */
export const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;

export type LakeRow = Record<string, unknown>;

export interface LakeRowResult {
  readonly row: LakeRow;
  /** Source keys outside the schema: what schema owners may promote to columns. */
  readonly extraKeys: readonly string[];
}

function idDeviceOf(doc: Record<string, unknown>): number | undefined {
  const id = Number(doc.idDevice);
  return Number.isSafeInteger(id) ? id : undefined;
}

/**
 * Validate and convert one document.
 * @throws DocumentValidationError naming the collection, the document id and each bad field.
 */
export function toLakeRow(entry: RegistryEntry, doc: unknown): LakeRowResult {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new DocumentValidationError({ collection: entry.name }, [
      { field: "<document>", reason: `expected an object, got ${doc === null ? "null" : typeof doc}` },
    ]);
  }
  const source = doc as Record<string, unknown>;
  const context = { collection: entry.name, documentId: documentIdOf(source), idDevice: idDeviceOf(source) };
  const shape = entry.schema.shape as Record<string, unknown>;
  const known: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key in shape) known[key] = value;
    else extra[key] = value;
  }

  const parsed = entry.schema.safeParse(known);
  if (!parsed.success) {
    const issues: DocumentIssue[] = parsed.error.issues.map((issue) => {
      const field = issue.path.map(String).join(".") || "<document>";
      const missing = issue.path.length === 1 && known[String(issue.path[0])] === undefined;
      return { field, reason: missing ? "required field is missing" : issue.message };
    });
    throw new DocumentValidationError(context, issues, { cause: parsed.error });
  }

  const values = parsed.data as Record<string, unknown>;
  const row: LakeRow = {};
  for (const col of entry.columns) {
    if (col.source === PAYLOAD_COLUMN && entry.kind === "collection" && entry.payload) continue;
    row[col.name] = values[col.source] ?? null;
  }
  const extraKeys = Object.keys(extra);
  if (entry.kind === "collection" && entry.payload) {
    row[PAYLOAD_COLUMN] = extraKeys.length ? payloadOf(extra, context) : null;
  }
  return { row, extraKeys };
}

/** True for an int64 a JS number cannot hold exactly (a `Long` or `bigint` beyond ±(2^53 - 1)). */
function isInexactInt64(value: unknown): boolean {
  if (typeof value === "bigint") return !Number.isSafeInteger(Number(value));
  if ((value as { _bsontype?: unknown } | null)?._bsontype !== "Long") return false;
  return !Number.isSafeInteger((value as { toNumber(): number }).toNumber());
}

/** Arrays and plain objects (documents as the driver hands them over) are walked; BSON values are not. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function keepInt64(value: unknown): unknown {
  if (isInexactInt64(value)) return { $numberLong: String(value) };
  if (Array.isArray(value)) return value.map(keepInt64);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = keepInt64(v);
    return out;
  }
  return value;
}

/**
 * A source value as JSON-ready data, losing nothing: relaxed extended JSON (plain numbers, strings
 * and booleans; `{"$date": ...}`, `{"$oid": ...}` for the other BSON types), except int64 values
 * a JSON number cannot hold exactly (beyond ±(2^53 - 1)), which are written in the canonical form
 * `{"$numberLong": "<all digits>"}`: relaxed mode alone would write them as rounded numbers.
 * `EJSON.parse` reads either form back to the same value. Used for the `payload` column and for
 * quarantine copies (pipeline/ingest/quarantine.ts).
 */
export function losslessEjson(value: unknown): unknown {
  return EJSON.serialize(keepInt64(value) as Document, { relaxed: true });
}

/** {@link losslessEjson} as JSON text. */
export function losslessJson(value: unknown): string {
  return JSON.stringify(losslessEjson(value));
}

function payloadOf(extra: Record<string, unknown>, context: { collection: string }): string {
  const text = losslessJson(extra);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new DocumentValidationError(context, [
      {
        field: PAYLOAD_COLUMN,
        reason: `extra fields take ${bytes} bytes, above the ${MAX_PAYLOAD_BYTES} limit`,
      },
    ]);
  }
  return text;
}
