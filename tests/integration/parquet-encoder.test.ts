/**
 * The lake's Parquet encoder (pipeline/lake/parquet/) against readers that share none of its
 * code: the format's generated Thrift types (parquetjs's gen-nodejs/parquet_types), pyarrow,
 * DuckDB and parquetjs's reader. Values at every edge a column type has, several row groups,
 * dictionaries where they pay and not where they do not, statistics, and rows that do not fit.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ParquetReader } from "@dsnp/parquetjs";
import parquetTypes from "@dsnp/parquetjs/dist/gen-nodejs/parquet_types.js";
import parquetUtil from "@dsnp/parquetjs/dist/lib/util.js";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ColumnValueError } from "../../pipeline/lake/parquet/column.js";
import { bitWidthOf, encodeHybrid } from "../../pipeline/lake/parquet/rle.js";
import { ParquetEncoder } from "../../pipeline/lake/parquet/writer.js";
import { openParquetFile } from "../../pipeline/lake/parquet-file.js";
import { defineTable, fields as f, type LakeRow, parquetSchemaOf } from "../../pipeline/schema/index.js";

const run = promisify(execFile);
const PYTHON = join(process.cwd(), ".local/venv/bin/python");
const TOOL = join(process.cwd(), "glue/tools/parquet_schema.py");

const edge = defineTable({
  name: "edge_values",
  behaviour: "replace",
  naturalKey: ["id"],
  schema: z.object({
    id: f.int64(),
    kind: f.text(),
    small: f.int32().nullish(),
    big: f.int64().nullish(),
    ratio: f.float64().nullish(),
    flag: f.boolean().nullish(),
    at: f.timestamp(),
    seen: f.timestamp().nullish(),
    name: f.text().nullish(),
    doc: f.json().nullish(),
    nothing: f.text().nullish(),
  }),
});

const ROWS = 2_600;
const GROUP = 1_000;
const FLOATS = [
  0,
  -0,
  1.5,
  -1e308,
  1e308,
  5e-324,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0.1 + 0.2,
];
const TEXTS = [
  "",
  "é",
  "€ and 😀",
  `${"a".repeat(23)}é`,
  "b".repeat(24),
  "ascii",
  "\u0000nul",
  "line\nbreak",
];
const INT32 = [-2147483648, 2147483647, 0, -1, 1, 42];
const INT64 = [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, -1, 2 ** 32, -(2 ** 32) - 1];
const LONG_TEXT = "x".repeat(300_000);

/** Row i: repetitive columns (dictionaries), unique ones (PLAIN), nulls in runs and scattered. */
function edgeRow(i: number): LakeRow {
  return {
    id: (i - 1_300) * 1_000_003,
    kind: "constant",
    small: i % 7 === 6 ? null : INT32[i % INT32.length],
    big: i % 5 === 4 ? null : i % 3 ? INT64[i % INT64.length] : i * 123_456_789 - 1e11,
    ratio: i < 3 * FLOATS.length ? FLOATS[i % FLOATS.length] : i % 11 === 0 ? null : i / 7,
    flag: i % 3 === 0 ? null : i % 2 === 0,
    at: new Date(Date.UTC(1900, 0, 1) + i * 17 * 86_400_001),
    seen: i >= 1_500 && i < 1_900 ? null : new Date(1_700_000_000_000 + (i % 10)),
    name: i % 9 === 8 ? null : TEXTS[i % TEXTS.length],
    doc: i === 17 ? LONG_TEXT : i % 2 ? null : JSON.stringify({ i, s: TEXTS[i % TEXTS.length] }),
    nothing: null,
  };
}

const rows = Array.from({ length: ROWS }, (_, i) => edgeRow(i));
const columns = parquetSchemaOf(edge);

let dir: string;
let path: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "parquet-encoder-"));
  path = join(dir, "edge.parquet");
  const writer = await openParquetFile(edge, path, { rowGroupSize: GROUP });
  for (const row of rows) await writer.append(row);
  await writer.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The spec's reading of the hybrid encoding, written apart from the encoder. */
function decodeHybrid(buf: Uint8Array, bitWidth: number, count: number): number[] {
  const out: number[] = [];
  let at = 0;
  const varint = () => {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = buf[at++] as number;
      n += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return n;
      shift += 7;
    }
  };
  while (out.length < count) {
    if (at >= buf.length) throw new Error(`ran out of bytes after ${out.length} values`);
    const header = varint();
    if (header % 2 === 1) {
      const values = (header >>> 1) * 8;
      let bit = at * 8;
      for (let v = 0; v < values; v++) {
        let value = 0;
        for (let b = 0; b < bitWidth; b++, bit++)
          value += ((buf[bit >> 3] as number) >> (bit & 7)) & 1 ? 2 ** b : 0;
        out.push(value);
      }
      at += (values * bitWidth) / 8;
    } else {
      let value = 0;
      for (let b = 0; b < Math.ceil(bitWidth / 8); b++) value += (buf[at++] as number) * 256 ** b;
      for (let r = 0; r < header / 2; r++) out.push(value);
    }
  }
  return out.slice(0, count);
}

describe("RLE / bit-packed hybrid", () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const cases: [string, number, number[]][] = [
    ["empty", 1, []],
    ["one value", 1, [1]],
    ["a long run", 1, new Array(10_000).fill(1)],
    ["alternating", 1, Array.from({ length: 999 }, (_, i) => i % 2)],
    ["seven equal, then noise", 3, [5, 5, 5, 5, 5, 5, 5, 1, 2, 3]],
    ["noise, a run of exactly 8, noise", 4, [1, 2, 3, 9, 9, 9, 9, 9, 9, 9, 9, 4, 5]],
    [
      "runs after odd-length noise",
      2,
      [1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1],
    ],
  ];
  for (const width of [1, 2, 5, 7, 8, 9, 12, 16, 17, 23, 24]) {
    const max = 2 ** width - 1;
    const values: number[] = [];
    while (values.length < 3_001) {
      const v = random() < 0.1 ? max : Math.floor(random() * (max + 1));
      const run = random() < 0.3 ? 1 + Math.floor(random() * 40) : 1;
      for (let r = 0; r < run; r++) values.push(v);
    }
    cases.push([`width ${width}, random runs`, width, values.slice(0, 3_001)]);
  }

  it.each(cases)("%s round-trips", (_label, width, values) => {
    const encoded = encodeHybrid(Uint32Array.from(values), values.length, width);
    expect(decodeHybrid(encoded, width, values.length)).toEqual(values);
  });

  it("writes a run of equal values as one RLE run, a few bytes", () => {
    expect(encodeHybrid(new Uint8Array(100_000).fill(1), 100_000, 1).byteLength).toBeLessThan(6);
  });

  it("refuses widths outside 1..24 and sizes widths from the largest value", () => {
    expect(() => encodeHybrid([0], 1, 0)).toThrow(RangeError);
    expect(() => encodeHybrid([0], 1, 25)).toThrow(RangeError);
    expect([0, 1, 2, 3, 255, 256, 65_535].map(bitWidthOf)).toEqual([1, 1, 2, 2, 8, 9, 16]);
  });
});

describe("the file's structure, as parquet.thrift names it", () => {
  const { decodeThrift } = parquetUtil;
  const T = parquetTypes;
  const num = (v: unknown) => Number(v);

  it("has a footer and page headers the generated Thrift types read field by field", async () => {
    const buf = await readFile(path);
    expect(buf.subarray(0, 4).toString()).toBe("PAR1");
    expect(buf.subarray(-4).toString()).toBe("PAR1");
    const footerLength = buf.readUInt32LE(buf.length - 8);
    const footerAt = buf.length - 8 - footerLength;
    const meta = new T.FileMetaData();
    expect(decodeThrift(meta, buf, footerAt)).toBe(footerLength);

    expect(meta.version).toBe(1);
    expect(num(meta.num_rows)).toBe(ROWS);
    expect(meta.created_by).toMatch(/^oven-lakehouse version \d+$/);
    const [root, ...leaves] = meta.schema;
    expect(root).toMatchObject({ name: "root", num_children: columns.length });
    expect(leaves.map((l) => l.name)).toEqual(columns.map((c) => c.name));
    for (const [i, c] of columns.entries()) {
      const leaf = leaves[i];
      expect(leaf?.type).toBe(T.Type[c.physical]);
      expect(leaf?.repetition_type).toBe(T.FieldRepetitionType[c.repetition]);
      expect(leaf?.converted_type ?? undefined).toBe(c.converted && T.ConvertedType[c.converted]);
    }

    expect(meta.row_groups.map((g) => num(g.num_rows))).toEqual([GROUP, GROUP, ROWS - 2 * GROUP]);
    let expectedAt = 4;
    for (const group of meta.row_groups) {
      const groupRows = num(group.num_rows);
      expect(num(group.file_offset)).toBe(expectedAt);
      const groupStart = expectedAt;
      for (const [i, chunk] of group.columns.entries()) {
        const m = chunk.meta_data;
        const column = columns[i];
        if (!m || !column) throw new Error("column chunk without metadata");
        expect(m.type).toBe(T.Type[column.physical]);
        expect(m.codec).toBe(T.CompressionCodec.SNAPPY);
        expect(m.path_in_schema).toEqual([column.name]);
        expect(num(m.num_values)).toBe(groupRows);
        // Chunks follow one another: the dictionary page (if any), then the data page.
        const first =
          m.dictionary_page_offset == null ? num(m.data_page_offset) : num(m.dictionary_page_offset);
        expect(first).toBe(expectedAt);
        expect(num(chunk.file_offset)).toBe(expectedAt);
        let at = first;
        if (m.dictionary_page_offset != null) {
          const page = new T.PageHeader();
          at += decodeThrift(page, buf, at);
          expect(page.type).toBe(T.PageType.DICTIONARY_PAGE);
          expect(page.dictionary_page_header?.encoding).toBe(T.Encoding.PLAIN_DICTIONARY);
          at += page.compressed_page_size;
          expect(m.encodings).toContain(T.Encoding.PLAIN_DICTIONARY);
        }
        expect(num(m.data_page_offset)).toBe(at);
        const page = new T.PageHeader();
        at += decodeThrift(page, buf, at);
        expect(page.type).toBe(T.PageType.DATA_PAGE);
        expect(page.data_page_header?.num_values).toBe(groupRows);
        expect(page.data_page_header?.definition_level_encoding).toBe(T.Encoding.RLE);
        expect(m.encodings).toContain(page.data_page_header?.encoding);
        at += page.compressed_page_size;
        expect(at - first).toBe(num(m.total_compressed_size));
        expectedAt = at;
        const nulls = rows
          .slice(meta.row_groups.indexOf(group) * GROUP)
          .slice(0, groupRows)
          .filter((r) => r[column.name] == null).length;
        expect(num(m.statistics?.null_count)).toBe(nulls);
        expect(m.statistics?.min_value === undefined || m.statistics?.min_value === null).toBe(
          !column.statistics,
        );
      }
      expect(num(group.total_compressed_size)).toBe(expectedAt - groupStart);
    }
    expect(expectedAt).toBe(footerAt);
  });
});

interface ArrowReport {
  num_rows: number;
  num_row_groups: number;
  leaves: {
    path: string;
    encodings: string[];
    has_dictionary_page: boolean;
    compression: string;
    statistics: ({ null_count: number | null; min: unknown; max: unknown } | null)[];
  }[];
  rows: Record<string, unknown>[];
}

async function arrow(file: string): Promise<ArrowReport> {
  const { stdout } = await run(PYTHON, [TOOL, "--all-rows", file], { maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(stdout) as ArrowReport;
}

/** A value as parquet_schema.py prints it: non-finite floats as text, times as ISO-8601 UTC. */
function arrowJson(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "number" && !Number.isFinite(value)) {
    return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
  }
  return value ?? null;
}

/** Equal, with -0 told apart from 0 and NaN equal to itself. */
function same(actual: unknown, expected: unknown): boolean {
  return (
    Object.is(actual, expected) ||
    (actual instanceof Date && expected instanceof Date && +actual === +expected)
  );
}

function mismatches(
  read: readonly Record<string, unknown>[],
  expected: (row: LakeRow) => Record<string, unknown>,
) {
  const out: string[] = [];
  for (const [i, row] of rows.entries()) {
    const want = expected(row);
    for (const [name, value] of Object.entries(want)) {
      const got = read[i]?.[name];
      if (!same(got, value)) out.push(`row ${i} ${name}: read ${String(got)}, wrote ${String(value)}`);
    }
    if (out.length > 5) break;
  }
  return out;
}

describe("edge values, read back by three independent readers", () => {
  it("pyarrow reads every value, with statistics that agree with the rows", async () => {
    const report = await arrow(path);
    expect(report.num_rows).toBe(ROWS);
    expect(report.num_row_groups).toBe(3);
    expect(report.rows).toHaveLength(ROWS);
    expect(
      mismatches(report.rows, (row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, arrowJson(v)])),
      ),
    ).toEqual([]);

    for (const leaf of report.leaves) {
      const column = columns.find((c) => c.name === leaf.path);
      if (!column) throw new Error(`unexpected column ${leaf.path}`);
      expect(leaf.compression).toBe("SNAPPY");
      for (const [g, stats] of leaf.statistics.entries()) {
        const values = rows.slice(g * GROUP, (g + 1) * GROUP).map((r) => r[column.name]);
        const present = values.filter((v) => v != null);
        expect(stats?.null_count).toBe(values.length - present.length);
        const ordered = present.map(Number).filter((v) => !Number.isNaN(v));
        if (!column.statistics || ordered.length === 0) {
          expect([stats?.min ?? null, stats?.max ?? null]).toEqual([null, null]);
          continue;
        }
        // Physical values: a time as its milliseconds, a boolean as itself.
        const asWritten = (n: number) => (column.type === "boolean" ? n === 1 : arrowJson(n));
        expect(stats?.min).toEqual(asWritten(Math.min(...ordered)));
        expect(stats?.max).toEqual(asWritten(Math.max(...ordered)));
      }
    }
  });

  it("uses a dictionary for repetitive columns and PLAIN for unique or long ones", async () => {
    const report = await arrow(path);
    const leaf = (name: string) => report.leaves.find((l) => l.path === name);
    for (const name of ["kind", "small", "name", "seen"])
      expect(leaf(name)?.has_dictionary_page, name).toBe(true);
    for (const name of ["id", "at", "doc", "flag", "nothing"])
      expect(leaf(name)?.has_dictionary_page, name).toBe(false);
  });

  it("DuckDB reads every value", async () => {
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    try {
      const result = await conn.runAndReadAll(
        `SELECT id, kind, small, big, ratio, flag, epoch_ms("at") AS "at", epoch_ms(seen) AS seen, name, doc, nothing
         FROM read_parquet('${path.replaceAll("'", "''")}')`,
      );
      const read = result
        .getRowObjectsJS()
        .map((r) =>
          Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v])),
        );
      expect(read).toHaveLength(ROWS);
      expect(
        mismatches(read, (row) =>
          Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.getTime() : v])),
        ),
      ).toEqual([]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });

  it("parquetjs's reader reads every value", async () => {
    const reader = await ParquetReader.openFile(path);
    const cursor = reader.getCursor();
    const read: Record<string, unknown>[] = [];
    for (let r = await cursor.next(); r; r = await cursor.next()) {
      read.push(
        Object.fromEntries(
          columns.map((c) => {
            const v = (r as Record<string, unknown>)[c.name];
            return [c.name, typeof v === "bigint" ? Number(v) : (v ?? null)];
          }),
        ),
      );
    }
    await reader.close();
    expect(mismatches(read, (row) => row)).toEqual([]);
  });
});

describe("rows that do not fit", () => {
  const options = { rowGroupSize: 10, rowGroupBytes: 1 << 20 };
  const good = (i: number) => edgeRow(i + 100);

  it.each<[string, Partial<LakeRow>, RegExp]>([
    ["a missing required value", { id: null }, /missing required field: id/],
    ["an int32 out of range", { small: 2 ** 31 }, /small: 2147483648 does not fit int32/],
    ["a fraction in an integer column", { big: 1.5 }, /big: expected an integer, got 1.5/],
    ["an int64 beyond ±2^53", { big: 2n ** 60n + 1n }, /big: 1152921504606846977 is beyond ±2\^53/],
    ["an invalid time", { seen: new Date(Number.NaN) }, /seen: expected a valid time/],
    ["text in a boolean column", { flag: "yes" }, /flag: expected a boolean value, got string/],
    ["a number in a text column", { name: 7 }, /name: expected a string value, got number/],
    ["a time in a number column", { ratio: new Date(0) }, /ratio: expected a float64 value, got a Date/],
  ])("refuses %s, and keeps nothing of that row", async (_label, bad, message) => {
    const encoder = new ParquetEncoder(edge, options);
    const parts: Buffer[] = [encoder.start()];
    for (let i = 0; i < 13; i++) {
      const group = encoder.append(good(i));
      if (group) parts.push(group);
    }
    expect(() => encoder.append({ ...good(99), ...bad })).toThrow(ColumnValueError);
    expect(() => encoder.append({ ...good(99), ...bad })).toThrow(message);
    expect(encoder.rows).toBe(13);
    for (let i = 13; i < 25; i++) {
      const group = encoder.append(good(i));
      if (group) parts.push(group);
    }
    parts.push(...encoder.finish());
    const file = join(dir, "refused.parquet");
    await writeFile(file, Buffer.concat(parts));
    const report = await arrow(file);
    expect(report.num_rows).toBe(25);
    expect(report.rows.map((r) => r.id)).toEqual(Array.from({ length: 25 }, (_, i) => good(i).id));
  });

  it("writes a valid file of no rows", async () => {
    const encoder = new ParquetEncoder(edge, options);
    const file = join(dir, "empty.parquet");
    await writeFile(file, Buffer.concat([encoder.start(), ...encoder.finish()]));
    const report = await arrow(file);
    expect(report).toMatchObject({ num_rows: 0, num_row_groups: 0, rows: [] });
  });

  it("ends a row group at its byte budget as well as at its row count", () => {
    const encoder = new ParquetEncoder(edge, { rowGroupSize: 1_000, rowGroupBytes: 64 * 1024 });
    encoder.start();
    const cut: number[] = [];
    for (let i = 0; i < 10; i++) {
      if (encoder.append({ ...good(i), doc: "y".repeat(30_000) })) cut.push(i);
    }
    expect(cut).toEqual([2, 5, 8]);
  });
});
