/**
 * Source document → lake row. Known fields are coerced by the entry's zod schema; fields beyond
 * the schema fold into the JSON `payload` column (or are reported as `extraKeys` where an entry
 * has no payload), so new source fields never fail a load and never vanish.
 */

import { EJSON } from "bson";
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

function payloadOf(extra: Record<string, unknown>, context: { collection: string }): string {
  // Relaxed extended JSON keeps BSON types readable ({"$date": ...}, {"$oid": ...}) and lossless.
  const text = EJSON.stringify(extra, { relaxed: true });
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
