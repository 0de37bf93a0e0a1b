/**
 * One Parquet file out of row groups that were each written as a file of their own: the column
 * chunks are copied as they are (pages hold no absolute offsets), the footers' row groups are
 * merged into one footer with their offsets shifted. How the parquet-wasm candidate keeps the
 * lake's row groups exactly (a row group ends at 10,000 rows or ~4 MiB of row data, whichever
 * first: parquet-wasm's writers only cut by their own limits) and streams them one at a time.
 *
 * Dropped from each small file: its page indexes (written after the row groups; the lake writes
 * none) and its key-value metadata (`ARROW:schema`, ~1 KB an object; Spark and Glue read the
 * Parquet schema).
 */
import { CompactReader, CompactWriter, T, type TList, TStruct, type TValue } from "./thrift-compact.js";

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

// parquet.thrift field ids.
const FILE = { schema: 2, numRows: 3, rowGroups: 4, keyValue: 5 } as const;
const ROW_GROUP = { columns: 1, fileOffset: 5, ordinal: 7 } as const;
const CHUNK = { fileOffset: 2, meta: 3, pageIndexes: [4, 5, 6, 7] } as const;
const COLUMN_META = {
  totalCompressed: 7,
  dataPage: 9,
  indexPage: 10,
  dictionaryPage: 11,
  bloomFilter: 14,
} as const;
const SCHEMA_NAME = 4;

export function footerOf(file: Uint8Array): TStruct {
  const n = file.length;
  const tail = new DataView(file.buffer, file.byteOffset + n - 8, 8);
  const length = tail.getUint32(0, true);
  if (tail.getUint32(4, true) !== 0x31524150) throw new Error("not a Parquet file (no trailing PAR1)");
  return new CompactReader(file, n - 8 - length).struct();
}

const list = (v: TValue | undefined): TList => v as TList;
const i64 = (v: TValue | undefined): bigint | undefined => v as bigint | undefined;

export class ParquetStitcher {
  #offset = BigInt(MAGIC.length);
  #rows = 0n;
  #first: TStruct | undefined;
  readonly #rowGroups: TStruct[] = [];

  /** Rows in the row groups added so far. */
  get rows(): number {
    return Number(this.#rows);
  }

  /** The file's first bytes. */
  header(): Uint8Array {
    return MAGIC;
  }

  /** Take the row group of a whole small file; returns its bytes, to write next. */
  add(file: Uint8Array): Uint8Array {
    const meta = footerOf(file);
    this.#first ??= meta;
    const groups = list(meta.get(FILE.rowGroups)).items as TStruct[];
    if (groups.length !== 1) throw new Error(`expected one row group, the file has ${groups.length}`);
    const group = groups[0] as TStruct;
    const chunks = list(group.get(ROW_GROUP.columns)).items as TStruct[];
    let start = BigInt(file.length);
    let end = 0n;
    for (const chunk of chunks) {
      const cm = chunk.get(CHUNK.meta) as TStruct;
      const first = i64(cm.get(COLUMN_META.dictionaryPage)) ?? (i64(cm.get(COLUMN_META.dataPage)) as bigint);
      const last = first + (i64(cm.get(COLUMN_META.totalCompressed)) as bigint);
      if (first < start) start = first;
      if (last > end) end = last;
    }
    const shift = this.#offset - start;
    for (const chunk of chunks) {
      const cm = chunk.get(CHUNK.meta) as TStruct;
      for (const id of [
        COLUMN_META.dataPage,
        COLUMN_META.indexPage,
        COLUMN_META.dictionaryPage,
        COLUMN_META.bloomFilter,
      ]) {
        const at = i64(cm.get(id));
        if (at !== undefined) cm.set(id, T.I64, at + shift);
      }
      const fileOffset = i64(chunk.get(CHUNK.fileOffset));
      if (fileOffset !== undefined && fileOffset > 0n) chunk.set(CHUNK.fileOffset, T.I64, fileOffset + shift);
      for (const id of CHUNK.pageIndexes) chunk.delete(id);
    }
    const groupOffset = i64(group.get(ROW_GROUP.fileOffset));
    if (groupOffset !== undefined) group.set(ROW_GROUP.fileOffset, T.I64, groupOffset + shift);
    group.set(ROW_GROUP.ordinal, T.I16, this.#rowGroups.length);
    this.#rowGroups.push(group);
    this.#rows += i64(meta.get(FILE.numRows)) as bigint;
    this.#offset += end - start;
    return file.subarray(Number(start), Number(end));
  }

  /** The footer: every row group added, then its length and PAR1. */
  footer(): Uint8Array {
    const meta = this.#first;
    if (!meta) throw new Error("no row group was added");
    meta.set(FILE.numRows, T.I64, this.#rows);
    meta.set(FILE.rowGroups, T.LIST, {
      kind: "list",
      elemType: T.STRUCT,
      set: false,
      items: this.#rowGroups,
    });
    meta.delete(FILE.keyValue);
    const root = list(meta.get(FILE.schema)).items[0] as TStruct;
    root.set(SCHEMA_NAME, T.BINARY, new TextEncoder().encode("root"));
    const writer = new CompactWriter();
    writer.struct(meta);
    const body = writer.bytes();
    const out = new Uint8Array(body.length + 8);
    out.set(body, 0);
    new DataView(out.buffer).setUint32(body.length, body.length, true);
    out.set(MAGIC, body.length + 4);
    return out;
  }
}

export { TStruct };
