/**
 * Field builders for lake schemas. Each one is a plain zod type (so the column model can read
 * it) behind a preprocess step that coerces the few representations a source really sends:
 * BSON wrappers from the MongoDB driver, ISO date strings, numeric strings. Anything else is left
 * untouched so zod refuses it with a reason; nothing is silently turned into a string.
 */
import { z } from "zod";

declare module "zod" {
  interface GlobalMeta {
    /** Set by {@link json}: a text column holding a JSON document. */
    lakeType?: "json";
  }
}

/** BSON values arrive as driver classes; they all expose `_bsontype`. */
function bsonType(value: unknown): string | undefined {
  return typeof value === "object" && value !== null && "_bsontype" in value
    ? String((value as { _bsontype: unknown })._bsontype)
    : undefined;
}

function toNumber(value: unknown): unknown {
  switch (bsonType(value)) {
    case "Long":
    case "Int32":
    case "Double":
      return Number((value as { valueOf(): unknown }).valueOf());
    case "Decimal128":
      return Number(String(value));
  }
  // Number("") is 0 and Number(" ") too: only strings that look like numbers are coerced.
  if (typeof value === "string" && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) {
    return Number(value);
  }
  return value;
}

// An ISO-8601 date or date-time; anything looser (e.g. "12/03/2020") is refused, since its
// meaning depends on a locale the source never stated.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function toDate(value: unknown): unknown {
  if (typeof value === "string" && ISO_DATE.test(value)) {
    // A date-time without an offset is read as UTC, as the ovens report UTC.
    const withZone = /(Z|[+-]\d{2}:?\d{2})$/.test(value) || value.length === 10 ? value : `${value}Z`;
    return new Date(withZone);
  }
  if (bsonType(value) === "Timestamp") {
    return new Date(Number((value as { getHighBits(): number }).getHighBits()) * 1000);
  }
  return value;
}

function toText(value: unknown): unknown {
  if (bsonType(value) === "ObjectId") return (value as { toHexString(): string }).toHexString();
  return value;
}

function toBoolean(value: unknown): unknown {
  if (value === 0 || value === 1) return value === 1;
  if (value === "true" || value === "false") return value === "true";
  return value;
}

/** UTC instant, millisecond precision (Parquet TIMESTAMP_MILLIS, Iceberg timestamptz). */
export const timestamp = () => z.preprocess(toDate, z.date());
/** 32-bit signed integer. */
export const int32 = () => z.preprocess(toNumber, z.int32());
/** 64-bit signed integer, limited to JavaScript's safe range so no value loses digits. */
export const int64 = () => z.preprocess(toNumber, z.int());
/** IEEE double; NaN and infinities are refused. */
export const float64 = () => z.preprocess(toNumber, z.number());
export const text = () => z.preprocess(toText, z.string());
export const boolean = () => z.preprocess(toBoolean, z.boolean());
/** Drivers hand jsonb columns over parsed; the lake keeps the JSON text. */
function toJsonText(value: unknown): unknown {
  return typeof value === "object" && value !== null ? JSON.stringify(value) : value;
}

/**
 * Free-form JSON kept as text in the lake (the `payload` column and jsonb source columns),
 * marked through zod's metadata so the column model types it `json`: see `columns.ts`.
 */
export const json = () => z.preprocess(toJsonText, z.string().meta({ lakeType: "json" }));
