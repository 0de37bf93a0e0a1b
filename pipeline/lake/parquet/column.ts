/**
 * One column of a row group, buffered by type (numbers in a typed array, text as strings) and
 * encoded as one column chunk: an optional dictionary page and one data page (V1), each SNAPPY.
 *
 * Encoding per chunk: a dictionary (PLAIN_DICTIONARY: the dictionary PLAIN, the indices in the
 * RLE / bit-packed hybrid) when it makes the chunk smaller, else PLAIN. That is what shrinks the
 * lake's repetitive columns (a sensor's name, a status, a device id) and its mostly-null ones
 * (definition levels in runs), where a PLAIN-only writer was 1.3× pyarrow's bytes.
 */
import snappy from "snappyjs";
import type { ParquetColumn } from "../../schema/parquet.js";
import {
  Codec,
  ColumnMetaData,
  DataPageHeader,
  DictionaryPageHeader,
  Encoding,
  PageHeader,
  PageType,
  PhysicalType,
  Statistics,
} from "./format.js";
import { bitWidthOf, encodeHybrid } from "./rle.js";
import { binary, encodeStruct, i32, i32s, i64, strings, struct, type ThriftStruct } from "./thrift.js";

/** A value that does not fit its column: the row it came in is not added. */
export class ColumnValueError extends Error {
  override readonly name = "ColumnValueError";
}

/** The encoded chunk (pages, each header then body) and its footer entry. */
export interface EncodedChunk {
  readonly pages: readonly Buffer[];
  readonly bytes: number;
  /** ColumnMetaData, with offsets relative to the chunk's start (the writer shifts them). */
  readonly meta: (offset: number) => ThriftStruct;
  readonly uncompressedBytes: number;
}

/** Values looked at before deciding a dictionary is hopeless (more than half of them distinct). */
const DICTIONARY_SAMPLE = 1024;
/** A dictionary stops growing here: beyond it PLAIN is as small and cheaper to read. */
const DICTIONARY_MAX_ENTRIES = 1 << 16;
const DICTIONARY_MAX_BYTES = 1024 * 1024;

type Text = string | Uint8Array;

export class ColumnBuffer {
  readonly spec: ParquetColumn;
  readonly #nullable: boolean;
  /** Rows appended, nulls included. */
  rows = 0;
  /** Non-null values appended. */
  values = 0;
  /** Estimated bytes of the values appended (text: characters; others: 8). */
  bytes = 0;
  #defs: Uint8Array;
  #numbers: Float64Array | undefined;
  #booleans: Uint8Array | undefined;
  readonly #texts: Text[] | undefined;
  readonly #kind: "number" | "boolean" | "text";

  /** `capacity`: values before the first growth (a row group's rows, or fewer for small windows). */
  constructor(spec: ParquetColumn, capacity: number) {
    this.spec = spec;
    this.#nullable = spec.repetition === "OPTIONAL";
    this.#defs = new Uint8Array(this.#nullable ? capacity : 0);
    const { type } = spec;
    if (type === "string" || type === "json") {
      this.#kind = "text";
      this.#texts = [];
    } else if (type === "boolean") {
      this.#kind = "boolean";
      this.#booleans = new Uint8Array(capacity);
    } else {
      this.#kind = "number";
      this.#numbers = new Float64Array(capacity);
    }
  }

  /** Add one row's value; throws ColumnValueError (and adds nothing) when it does not fit. */
  append(value: unknown): void {
    if (value === null || value === undefined) {
      if (!this.#nullable) throw new ColumnValueError(`missing required field: ${this.spec.name}`);
      this.#def(0);
      this.rows++;
      return;
    }
    if (this.#kind === "number") {
      const n = this.#number(value);
      const numbers = this.#grownNumbers();
      numbers[this.values] = n;
      this.bytes += 8;
    } else if (this.#kind === "text") {
      if (typeof value === "string") this.bytes += value.length;
      else if (value instanceof Uint8Array) this.bytes += value.byteLength;
      else throw this.#mismatch(value);
      (this.#texts as Text[]).push(value);
    } else {
      if (typeof value !== "boolean") throw this.#mismatch(value);
      const booleans = this.#grownBooleans();
      booleans[this.values] = value ? 1 : 0;
      this.bytes += 8;
    }
    if (this.#nullable) this.#def(1);
    this.values++;
    this.rows++;
  }

  /** Drop rows appended after the first `rows` (a row that failed in a later column). */
  truncate(rows: number): void {
    if (rows >= this.rows) return;
    let values = this.values;
    if (this.#nullable) {
      for (let r = rows; r < this.rows; r++) values -= this.#defs[r] as number;
    } else values -= this.rows - rows;
    // `bytes` only bounds a row group; the dropped row's share is left in (an overestimate).
    this.#texts?.splice(values);
    this.rows = rows;
    this.values = values;
  }

  /** The column chunk of everything appended; the buffer is then empty again. */
  encode(): EncodedChunk {
    const rows = this.rows;
    const values = this.values;
    const dictionary = this.#dictionary();
    const pages: Buffer[] = [];
    let uncompressed = 0;
    let dictionaryAt = -1;
    let bytes = 0;
    if (dictionary) {
      const body = this.#plain(dictionary.entries, dictionary.entries.length);
      const page = compressedPage(body, {
        type: PageType.DICTIONARY_PAGE,
        header: struct(PageHeader.dictionaryPageHeader, [
          i32(DictionaryPageHeader.numValues, dictionary.entries.length),
          i32(DictionaryPageHeader.encoding, Encoding.PLAIN_DICTIONARY),
        ]),
      });
      dictionaryAt = 0;
      pages.push(page.bytes);
      bytes += page.bytes.byteLength;
      uncompressed += page.uncompressed;
    }
    const parts: Buffer[] = [];
    if (this.#nullable) {
      const levels = encodeHybrid(this.#defs, rows, 1);
      const length = Buffer.allocUnsafe(4);
      length.writeUInt32LE(levels.byteLength, 0);
      parts.push(length, levels);
    }
    if (dictionary) {
      const width = bitWidthOf(Math.max(1, dictionary.entries.length - 1));
      parts.push(Buffer.of(width), encodeHybrid(dictionary.indices, values, width));
    } else {
      parts.push(this.#plain(this.#texts ?? this.#numbers ?? (this.#booleans as Uint8Array), values));
    }
    const encoding = dictionary ? Encoding.PLAIN_DICTIONARY : Encoding.PLAIN;
    const dataAt = bytes;
    const data = compressedPage(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), {
      type: PageType.DATA_PAGE,
      header: struct(PageHeader.dataPageHeader, [
        i32(DataPageHeader.numValues, rows),
        i32(DataPageHeader.encoding, encoding),
        i32(DataPageHeader.definitionLevelEncoding, Encoding.RLE),
        i32(DataPageHeader.repetitionLevelEncoding, Encoding.RLE),
      ]),
    });
    pages.push(data.bytes);
    bytes += data.bytes.byteLength;
    uncompressed += data.uncompressed;

    const statistics = this.#statistics(rows - values);
    const { name, physical } = this.spec;
    const encodings = dictionary ? [Encoding.PLAIN_DICTIONARY, Encoding.RLE] : [Encoding.PLAIN, Encoding.RLE];
    const total = bytes;
    this.#reset();
    return {
      pages,
      bytes,
      uncompressedBytes: uncompressed,
      meta: (offset) => [
        i32(ColumnMetaData.type, PhysicalType[physical]),
        i32s(ColumnMetaData.encodings, encodings),
        strings(ColumnMetaData.pathInSchema, [name]),
        i32(ColumnMetaData.codec, Codec.SNAPPY),
        i64(ColumnMetaData.numValues, rows),
        i64(ColumnMetaData.totalUncompressedSize, uncompressed),
        i64(ColumnMetaData.totalCompressedSize, total),
        i64(ColumnMetaData.dataPageOffset, offset + dataAt),
        dictionaryAt >= 0 ? i64(ColumnMetaData.dictionaryPageOffset, offset + dictionaryAt) : undefined,
        struct(ColumnMetaData.statistics, statistics),
      ],
    };
  }

  #reset(): void {
    this.rows = 0;
    this.values = 0;
    this.bytes = 0;
    this.#texts?.splice(0);
  }

  #def(level: 0 | 1): void {
    if (this.rows === this.#defs.length) this.#defs = grown(this.#defs, this.rows + 1);
    this.#defs[this.rows] = level;
  }

  #grownNumbers(): Float64Array {
    let numbers = this.#numbers as Float64Array;
    if (this.values === numbers.length) {
      const bigger = new Float64Array(Math.max(16, numbers.length * 2));
      bigger.set(numbers);
      numbers = bigger;
      this.#numbers = numbers;
    }
    return numbers;
  }

  #grownBooleans(): Uint8Array {
    let booleans = this.#booleans as Uint8Array;
    if (this.values === booleans.length) {
      booleans = grown(booleans, this.values + 1);
      this.#booleans = booleans;
    }
    return booleans;
  }

  /** A number column's value as the number it stores: the millisecond of a time, an integer. */
  #number(value: unknown): number {
    const { type } = this.spec;
    let n: number;
    if (typeof value === "number") n = value;
    else if (value instanceof Date && type === "timestamp") n = value.getTime();
    else if (typeof value === "bigint" && type !== "float64" && type !== "timestamp") {
      n = Number(value);
      if (BigInt(n) !== value) throw new ColumnValueError(`${this.spec.name}: ${value} is beyond ±2^53`);
    } else throw this.#mismatch(value);
    if (type === "float64") return n;
    if (!Number.isSafeInteger(n)) {
      throw new ColumnValueError(
        `${this.spec.name}: expected ${type === "timestamp" ? "a valid time" : "an integer"}, got ${n}`,
      );
    }
    if (type === "int32" && (n < -0x80000000 || n > 0x7fffffff)) {
      throw new ColumnValueError(`${this.spec.name}: ${n} does not fit int32`);
    }
    return n;
  }

  #mismatch(value: unknown): ColumnValueError {
    const got = value instanceof Date ? "a Date" : typeof value;
    return new ColumnValueError(`${this.spec.name}: expected a ${this.spec.type} value, got ${got}`);
  }

  /**
   * The chunk's dictionary, when it makes the chunk smaller than PLAIN: its distinct values in
   * first-seen order and each value's index. Booleans never take one (PLAIN is a bit a value).
   */
  #dictionary(): { entries: Text[] | Float64Array; indices: Uint32Array } | undefined {
    const count = this.values;
    if (count === 0 || this.#kind === "boolean") return undefined;
    const indices = new Uint32Array(count);
    if (this.#kind === "number") {
      const numbers = this.#numbers as Float64Array;
      const seen = new Map<number, number>();
      for (let i = 0; i < count; i++) {
        if (i === DICTIONARY_SAMPLE && hopeless(seen.size)) return undefined;
        const v = numbers[i] as number;
        let index = seen.get(v);
        if (index === undefined) {
          // -0 and 0 are one Map key but two doubles: such a chunk stays PLAIN.
          if (v === 0 && 1 / v < 0) return undefined;
          index = seen.size;
          if (index >= DICTIONARY_MAX_ENTRIES) return undefined;
          seen.set(v, index);
        }
        indices[i] = index;
      }
      const width = this.spec.type === "int32" ? 4 : 8;
      if (!smaller(seen.size * width, seen.size, count, count * width)) return undefined;
      return { entries: Float64Array.from(seen.keys()), indices };
    }
    const texts = this.#texts as Text[];
    const seen = new Map<string, number>();
    let dictionaryBytes = 0;
    let plainBytes = 0;
    for (let i = 0; i < count; i++) {
      if (i === DICTIONARY_SAMPLE && hopeless(seen.size)) return undefined;
      const v = texts[i];
      if (typeof v !== "string") return undefined; // raw bytes: rare, PLAIN
      plainBytes += 4 + v.length;
      let index = seen.get(v);
      if (index === undefined) {
        index = seen.size;
        dictionaryBytes += 4 + v.length;
        if (index >= DICTIONARY_MAX_ENTRIES || dictionaryBytes > DICTIONARY_MAX_BYTES) {
          return undefined;
        }
        seen.set(v, index);
      }
      indices[i] = index;
    }
    if (!smaller(dictionaryBytes, seen.size, count, plainBytes)) return undefined;
    return { entries: [...seen.keys()], indices };
  }

  /** PLAIN encoding of `count` values. */
  #plain(values: Text[] | Float64Array | Uint8Array, count: number): Buffer {
    switch (this.spec.type) {
      case "boolean": {
        const out = Buffer.alloc(Math.ceil(count / 8));
        for (let i = 0; i < count; i++) if (values[i]) out[i >> 3] = (out[i >> 3] as number) | (1 << (i & 7));
        return out;
      }
      case "int32": {
        const out = new Int32Array(count);
        for (let i = 0; i < count; i++) out[i] = values[i] as number;
        return Buffer.from(out.buffer, 0, count * 4);
      }
      case "float64":
        return Buffer.from((values as Float64Array).slice(0, count).buffer, 0, count * 8);
      case "int64":
      case "timestamp": {
        // Two's-complement halves of each integer, little-endian (no BigInt per value).
        const out = new Int32Array(count * 2);
        for (let i = 0; i < count; i++) {
          const v = values[i] as number;
          const high = Math.floor(v / 0x100000000);
          out[2 * i] = v - high * 0x100000000;
          out[2 * i + 1] = high;
        }
        return Buffer.from(out.buffer, 0, count * 8);
      }
      default:
        return plainTexts(values as Text[], count);
    }
  }

  #statistics(nulls: number): ThriftStruct {
    const nullCount = i64(Statistics.nullCount, nulls);
    if (!this.spec.statistics || this.values === 0) return [nullCount];
    const range =
      this.#kind === "boolean"
        ? rangeOf(this.#booleans as Uint8Array, this.values)
        : rangeOf(this.#numbers as Float64Array, this.values);
    if (!range) return [nullCount];
    const [min, max] = range;
    const low = this.#plain(Float64Array.of(min), 1);
    const high = this.#plain(Float64Array.of(max), 1);
    return [
      binary(Statistics.max, high),
      binary(Statistics.min, low),
      nullCount,
      binary(Statistics.maxValue, high),
      binary(Statistics.minValue, low),
    ];
  }
}

/** Smallest and largest of `values[0..count)`, NaN left out (it orders nowhere); none: undefined. */
function rangeOf(values: Float64Array | Uint8Array, count: number): [number, number] | undefined {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let any = false;
  for (let i = 0; i < count; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    any = true;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return any ? [min, max] : undefined;
}

/** More than half of the first DICTIONARY_SAMPLE values distinct: a unique-ish column (times, ids). */
function hopeless(distinct: number): boolean {
  return distinct > DICTIONARY_SAMPLE / 2;
}

/** Dictionary page plus bit-packed indices against PLAIN, before compression. */
function smaller(dictionaryBytes: number, entries: number, count: number, plainBytes: number): boolean {
  const indexBytes = Math.ceil((count * bitWidthOf(Math.max(1, entries - 1))) / 8) + 1;
  return dictionaryBytes + indexBytes < plainBytes;
}

/** BYTE_ARRAY PLAIN: each value's UTF-8 bytes after their 4-byte little-endian length. */
function plainTexts(values: readonly Text[], count: number): Buffer {
  let capacity = 0;
  for (let i = 0; i < count; i++) {
    const v = values[i] as Text;
    capacity += 4 + (typeof v === "string" ? v.length : v.byteLength);
  }
  let out: Buffer = Buffer.allocUnsafe(capacity + 64);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const v = values[i] as Text;
    // Room for the worst case (3 bytes a UTF-16 unit) of this value, grown only past ASCII.
    const most = 4 + (typeof v === "string" ? v.length * 3 : v.byteLength);
    if (at + most > out.byteLength) out = grown(out.subarray(0, at), Math.max(out.byteLength * 2, at + most));
    let length: number;
    if (typeof v !== "string") {
      out.set(v, at + 4);
      length = v.byteLength;
    } else if (v.length < 24) {
      length = asciiInto(v, out, at + 4);
      if (length < 0) length = out.write(v, at + 4, "utf8");
    } else length = out.write(v, at + 4, "utf8");
    out.writeUInt32LE(length, at);
    at += 4 + length;
  }
  return out.subarray(0, at);
}

/** A short string's bytes when all are ASCII (cheaper than a native call); -1 otherwise. */
function asciiInto(value: string, out: Buffer, at: number): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7f) return -1;
    out[at + i] = c;
  }
  return value.length;
}

function grown(array: Uint8Array, least: number): Buffer {
  const bigger = Buffer.allocUnsafe(Math.max(least, array.length * 2, 16));
  bigger.set(array);
  return bigger;
}

/** A page: its header (Thrift) then its SNAPPY body. */
function compressedPage(
  body: Buffer,
  kind: { type: number; header: ReturnType<typeof struct> },
): { bytes: Buffer; uncompressed: number } {
  const compressed = snappy.compress(body) as Uint8Array;
  const header = encodeStruct([
    i32(PageHeader.type, kind.type),
    i32(PageHeader.uncompressedPageSize, body.byteLength),
    i32(PageHeader.compressedPageSize, compressed.byteLength),
    kind.header,
  ]);
  const bytes = Buffer.allocUnsafe(header.byteLength + compressed.byteLength);
  header.copy(bytes, 0);
  bytes.set(compressed, header.byteLength);
  return { bytes, uncompressed: header.byteLength + body.byteLength };
}
