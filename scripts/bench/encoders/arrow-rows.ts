/**
 * Lake rows → one Arrow record batch per row group, for the parquet-wasm candidate: each column
 * straight into typed arrays (no Arrow builders, no BigInt per value), strings encoded once per
 * column when they are all ASCII. The Arrow types are the registry's Parquet types as arrow-rs
 * maps them: Utf8 → BYTE_ARRAY (String), Int64 → INT64, Timestamp(ms, "UTC") → INT64
 * TIMESTAMP(MILLIS, isAdjustedToUTC), nullable ↔ OPTIONAL.
 */
import {
  Bool,
  type Data,
  type DataType,
  Field,
  Float64,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
  Utf8,
} from "apache-arrow";
import type { ColumnType, LakeRow, RegistryEntry } from "../../../pipeline/schema/index.js";

const ARROW_TYPE = {
  string: () => new Utf8(),
  json: () => new Utf8(),
  int32: () => new Int32(),
  int64: () => new Int64(),
  float64: () => new Float64(),
  boolean: () => new Bool(),
  timestamp: () => new TimestampMillisecond("UTC"),
} as const satisfies Record<ColumnType, () => DataType>;

export function arrowSchemaOf(entry: RegistryEntry): Schema {
  return new Schema(entry.columns.map((c) => new Field(c.name, ARROW_TYPE[c.type](), c.nullable)));
}

/** A value that does not fit its column: the writer reports the row it was in. */
export class RowValueError extends Error {
  constructor(
    readonly row: number,
    message: string,
  ) {
    super(message);
    this.name = "RowValueError";
  }
}

const TWO_32 = 2 ** 32;

interface Nulls {
  bitmap: Uint8Array | undefined;
  count: number;
}

function absent(v: unknown, i: number, name: string, nulls: Nulls): boolean {
  if (v !== null && v !== undefined) {
    if (nulls.bitmap) nulls.bitmap[i >> 3] = (nulls.bitmap[i >> 3] as number) | (1 << (i & 7));
    return false;
  }
  if (!nulls.bitmap) throw new RowValueError(i, `missing required field: ${name}`);
  nulls.count++;
  return true;
}

function utf8Column(rows: readonly LakeRow[], name: string, nulls: Nulls): Data {
  const n = rows.length;
  const offsets = new Int32Array(n + 1);
  const parts: string[] = new Array(n);
  let units = 0;
  for (let i = 0; i < n; i++) {
    const v = rows[i]?.[name];
    if (absent(v, i, name, nulls)) parts[i] = "";
    else if (typeof v !== "string") throw new RowValueError(i, `${name}: expected a string, got ${typeof v}`);
    else {
      parts[i] = v;
      units += v.length;
    }
    offsets[i + 1] = units;
  }
  let data = Buffer.from(parts.join(""), "utf8");
  if (data.length !== units) {
    // Not all ASCII: encode each string on its own (joined, a lone surrogate at the end of one
    // string and one at the start of the next would pair up and shift every offset after them).
    data = Buffer.allocUnsafe(parts.reduce((s, p) => s + Buffer.byteLength(p, "utf8"), 0));
    let at = 0;
    for (let i = 0; i < n; i++) {
      at += data.write(parts[i] as string, at, "utf8");
      offsets[i + 1] = at;
    }
  }
  return makeData({
    type: new Utf8(),
    length: n,
    nullCount: nulls.count,
    nullBitmap: nulls.bitmap,
    valueOffsets: offsets,
    data,
  });
}

function int64Column(
  rows: readonly LakeRow[],
  name: string,
  nulls: Nulls,
  type: Int64 | TimestampMillisecond,
): Data {
  const n = rows.length;
  const words = new Int32Array(n * 2);
  const big = new BigInt64Array(words.buffer);
  for (let i = 0; i < n; i++) {
    const v = rows[i]?.[name];
    if (absent(v, i, name, nulls)) continue;
    let x: number;
    if (typeof v === "number") x = v;
    else if (v instanceof Date) x = v.getTime();
    else if (typeof v === "bigint") {
      big[i] = v;
      continue;
    } else throw new RowValueError(i, `${name}: expected an integer, got ${typeof v}`);
    if (!Number.isSafeInteger(x)) throw new RowValueError(i, `${name}: ${x} is not a safe integer`);
    const hi = Math.floor(x / TWO_32);
    words[2 * i] = x - hi * TWO_32;
    words[2 * i + 1] = hi;
  }
  return makeData({ type, length: n, nullCount: nulls.count, nullBitmap: nulls.bitmap, data: big } as never);
}

function int32Column(rows: readonly LakeRow[], name: string, nulls: Nulls): Data {
  const n = rows.length;
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = rows[i]?.[name];
    if (absent(v, i, name, nulls)) continue;
    if (typeof v !== "number" || (v | 0) !== v)
      throw new RowValueError(i, `${name}: ${String(v)} is not an int32`);
    data[i] = v;
  }
  return makeData({ type: new Int32(), length: n, nullCount: nulls.count, nullBitmap: nulls.bitmap, data });
}

function float64Column(rows: readonly LakeRow[], name: string, nulls: Nulls): Data {
  const n = rows.length;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = rows[i]?.[name];
    if (absent(v, i, name, nulls)) continue;
    if (typeof v !== "number") throw new RowValueError(i, `${name}: expected a number, got ${typeof v}`);
    data[i] = v;
  }
  return makeData({ type: new Float64(), length: n, nullCount: nulls.count, nullBitmap: nulls.bitmap, data });
}

function boolColumn(rows: readonly LakeRow[], name: string, nulls: Nulls): Data {
  const n = rows.length;
  const data = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    const v = rows[i]?.[name];
    if (absent(v, i, name, nulls)) continue;
    if (typeof v !== "boolean") throw new RowValueError(i, `${name}: expected a boolean, got ${typeof v}`);
    if (v) data[i >> 3] = (data[i >> 3] as number) | (1 << (i & 7));
  }
  return makeData({ type: new Bool(), length: n, nullCount: nulls.count, nullBitmap: nulls.bitmap, data });
}

/** One record batch of `rows`, every column of `entry` in its order. */
export function recordBatchOf(entry: RegistryEntry, schema: Schema, rows: readonly LakeRow[]): RecordBatch {
  const n = rows.length;
  const children = entry.columns.map((c): Data => {
    const nulls: Nulls = { bitmap: c.nullable ? new Uint8Array((n + 7) >> 3) : undefined, count: 0 };
    switch (c.type) {
      case "string":
      case "json":
        return utf8Column(rows, c.name, nulls);
      case "int64":
        return int64Column(rows, c.name, nulls, new Int64());
      case "timestamp":
        return int64Column(rows, c.name, nulls, new TimestampMillisecond("UTC"));
      case "int32":
        return int32Column(rows, c.name, nulls);
      case "float64":
        return float64Column(rows, c.name, nulls);
      case "boolean":
        return boolColumn(rows, c.name, nulls);
      default:
        throw new Error(`${c.name}: no Arrow type for ${c.type satisfies never}`);
    }
  });
  const data = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children });
  return new RecordBatch(schema, data);
}
