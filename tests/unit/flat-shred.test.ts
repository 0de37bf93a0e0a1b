/**
 * The flat shred (pipeline/lake/flat-shred.ts) is parquetjs's own `shredRecord` for the lake's
 * schemas, only faster: for every registry entry the same row buffer and byte-identical files,
 * the same errors with the buffer left as it was, other schemas through the original, and the
 * writer really calls it once installed.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ParquetSchema, ParquetWriter } from "@dsnp/parquetjs";
import shredModule, { type RecordBuffer } from "@dsnp/parquetjs/dist/lib/shred.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { planSnapshot } from "../../local/snapshot/index.js";
import {
  installFlatShred,
  isFlatSchema,
  isFlatShredInstalled,
  originalShredRecord,
  shredFlatRecord,
} from "../../pipeline/lake/flat-shred.js";
import { openParquetFile, type ParquetWriterOptions } from "../../pipeline/lake/parquet-file.js";
import {
  type ColumnSpec,
  type ColumnType,
  collection,
  collections,
  type LakeRow,
  parquetSchemaOf,
  type RegistryEntry,
  tables,
  toLakeRow,
} from "../../pipeline/schema/index.js";
import { snapshotRows } from "../../scripts/bench/encoders/rows.js";
import { sampleRows } from "../support/sample-rows.js";

type Shred = (schema: ParquetSchema, record: Record<string, unknown>, buffer: RecordBuffer) => void;

const entries: RegistryEntry[] = [...collections, ...tables];
// Seed 7 gives every collection rows (evereo_sess needs an EVEREO oven in the fleet).
const SNAPSHOT = { seed: 7, devices: 6, days: 3 };
/** Generated rows per entry at most (variable_logs has thousands). */
const MAX_GENERATED = 300;

let dir: string;
const generated = new Map<RegistryEntry, LakeRow[]>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "flat-shred-"));
  const plan = planSnapshot(SNAPSHOT);
  for (const entry of tables) {
    const source = (plan.rows as unknown as Record<string, unknown[]>)[entry.name] ?? [];
    generated.set(
      entry,
      source.slice(0, MAX_GENERATED).map((doc) => toLakeRow(entry, doc).row),
    );
  }
  for (const entry of collections) {
    const rows: LakeRow[] = [];
    for await (const device of snapshotRows(entry.name, SNAPSHOT, join(dir, "quarantine"))) {
      rows.push(...device.rows.slice(0, MAX_GENERATED - rows.length));
      if (rows.length >= MAX_GENERATED) break;
    }
    generated.set(entry, rows);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
  expect(isFlatShredInstalled()).toBe(true);
});

/** Values the lake's writer accepts for a column type, beyond what the generators make. */
function edgeValues(type: ColumnType): unknown[] {
  switch (type) {
    case "string":
    case "json":
      return [
        "",
        "ünïcode ✓ 中文 🔥",
        "nul\u0000byte",
        Buffer.from("a buffer"),
        new Uint8Array([104, 105]),
        ["one"],
      ];
    case "int32":
      return [0, -1, 2 ** 31 - 1, -(2 ** 31), [7]];
    case "int64":
      return [0, -Number.MAX_SAFE_INTEGER, 2n ** 63n - 1n, -(2n ** 63n), 42n, "9007199254740993", [5n]];
    case "float64":
      return [0, -0, Number.NaN, Number.POSITIVE_INFINITY, 1.5e300, "3.25", [2.5]];
    case "boolean":
      return [true, false, 1, 0, "", [true]];
    case "timestamp":
      return [
        new Date(0),
        new Date(-86_400_000),
        new Date(Date.UTC(2030, 0, 1)),
        1_700_000_000_123,
        [new Date(1)],
      ];
  }
}

/** Values parquetjs shreds but cannot encode into a file: INT32 as bigint or text, arrays of a null. */
function shredOnlyValues(type: ColumnType): unknown[] {
  if (type === "int32") return [12n, "34", [null]];
  if (type === "boolean") return [[null], [undefined]];
  return [];
}

/** Nulls as a row may hold them for a nullable column: null, undefined, an absent key, []. */
const ABSENT = Symbol("absent");
const NULLS: unknown[] = [null, undefined, ABSENT, []];

function withValue(row: LakeRow, col: ColumnSpec, value: unknown): LakeRow {
  const out = { ...row };
  if (value === ABSENT) delete out[col.name];
  else out[col.name] = value;
  return out;
}

/** Generated rows, sample rows, and each edge value in a row of its own. */
function rowsOf(entry: RegistryEntry, withShredOnly: boolean): LakeRow[] {
  const samples = sampleRows(entry, 7);
  const base = samples[0] as LakeRow;
  const edges = entry.columns.flatMap((col) =>
    [
      ...edgeValues(col.type),
      ...(withShredOnly ? shredOnlyValues(col.type) : []),
      ...(col.nullable ? NULLS : []),
    ].map((value) => withValue(base, col, value)),
  );
  // Every nullable column absent at once, as a source row that only has its required fields.
  const sparse = entry.columns.reduce((row, col) => (col.nullable ? withValue(row, col, ABSENT) : row), base);
  return [...(generated.get(entry) ?? []), ...samples, ...edges, sparse];
}

/** A row buffer as plain data: Sets as arrays, key order kept. */
function plain(buffer: RecordBuffer) {
  return {
    keys: Object.keys(buffer),
    rowCount: buffer.rowCount,
    pageRowCount: buffer.pageRowCount,
    pages: buffer.pages,
    columnData: Object.entries(buffer.columnData ?? {}).map(([path, data]) => ({
      path,
      keys: Object.keys(data),
      dlevels: data.dlevels,
      rlevels: data.rlevels,
      values: data.values,
      distinct: [...(data.distinct_values ?? [])],
      count: data.count,
    })),
  };
}

/** Equal buffers; distinct values are the very values of the rows (parquetjs's statistics come from them), except the copies parquetjs makes of byte arrays. */
function expectSameBuffer(actual: RecordBuffer, expected: RecordBuffer): void {
  const a = plain(actual);
  const e = plain(expected);
  expect(a).toStrictEqual(e);
  for (const [i, column] of e.columnData.entries()) {
    for (const [j, value] of column.distinct.entries()) {
      if (!(value instanceof Uint8Array)) expect(a.columnData[i]?.distinct[j]).toBe(value);
    }
  }
}

function shredAll(shred: Shred, schema: ParquetSchema, rows: readonly LakeRow[]): RecordBuffer {
  const buffer: RecordBuffer = {};
  for (const row of rows) shred(schema, row, buffer);
  return buffer;
}

/** What a shred throws, as comparable data; undefined when it does not throw. */
function thrown(run: () => void): { type: string; message: string } | undefined {
  try {
    run();
  } catch (error) {
    return { type: (error as Error).constructor.name, message: (error as Error).message };
  }
  return undefined;
}

/**
 * Write `rows` with the lake's writer and return the file and the rows' errors. `original`:
 * parquetjs's own shredding, as before {@link installFlatShred}.
 */
async function writeFile(
  entry: RegistryEntry,
  rows: readonly LakeRow[],
  name: string,
  options: Partial<ParquetWriterOptions>,
  original: boolean,
): Promise<{ bytes: Buffer; errors: string[]; calls: number }> {
  const spy = vi.spyOn(shredModule, "shredRecord");
  if (original) spy.mockImplementation(originalShredRecord);
  const path = join(dir, `${name}-${original ? "original" : "flat"}.parquet`);
  const writer = await openParquetFile(entry, path, { rowGroupSize: 64, ...options });
  const errors: string[] = [];
  for (const row of rows) {
    try {
      await writer.append(row);
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  await writer.close();
  const calls = spy.mock.calls.length;
  spy.mockRestore();
  return { bytes: await readFile(path), errors, calls };
}

async function expectSameFile(
  entry: RegistryEntry,
  rows: readonly LakeRow[],
  name: string,
  options: Partial<ParquetWriterOptions> = {},
): Promise<string[]> {
  const expected = await writeFile(entry, rows, name, options, true);
  const actual = await writeFile(entry, rows, name, options, false);
  expect(expected.calls).toBe(rows.length);
  expect(actual.calls).toBe(rows.length);
  expect(actual.errors).toEqual(expected.errors);
  expect(actual.bytes.length).toBe(expected.bytes.length);
  expect(actual.bytes.equals(expected.bytes)).toBe(true);
  return actual.errors;
}

describe.each(entries.map((e) => [`${e.kind} ${e.name}`, e] as const))("%s", (_label, entry) => {
  const schema = parquetSchemaOf(entry);

  it("has a flat Parquet schema", () => {
    expect(isFlatSchema(schema)).toBe(true);
  });

  it("shreds every row into the buffer parquetjs makes", () => {
    const rows = rowsOf(entry, true);
    expect(generated.get(entry)?.length).toBeGreaterThan(0);
    expectSameBuffer(shredAll(shredFlatRecord, schema, rows), shredAll(originalShredRecord, schema, rows));
  });

  it("writes the file parquetjs writes, byte for byte", async () => {
    const rows = rowsOf(entry, false);
    expect(await expectSameFile(entry, rows, `${entry.kind}-${entry.name}`)).toEqual([]);
    // Data page V2 and the page index take the buffer's levels and counts their own way.
    await expectSameFile(entry, rows, `${entry.kind}-${entry.name}-v2`, {
      useDataPageV2: true,
      pageIndex: true,
    });
  });
});

describe("errors", () => {
  const events = collection("events");
  const required = events.columns.find((c) => !c.nullable && c.type === "string") as ColumnSpec;
  /** A column of `type`: of events where it has one, so the writer test below has the most. */
  const columnOf = (type: ColumnType): [RegistryEntry, ColumnSpec] => {
    for (const entry of [events, ...entries]) {
      const col = entry.columns.find((c) => c.type === type);
      if (col) return [entry, col];
    }
    throw new Error(`no ${type} column`);
  };
  const badValue = (type: ColumnType, value: unknown): [RegistryEntry, ColumnSpec, unknown] => [
    ...columnOf(type),
    value,
  ];

  const bad: [string, RegistryEntry, ColumnSpec, unknown][] = [
    ...NULLS.map((value): [string, RegistryEntry, ColumnSpec, unknown] => [
      `required ${required.name} ${value === ABSENT ? "absent" : JSON.stringify(value)}`,
      events,
      required,
      value,
    ]),
    ["a number for text", ...badValue("string", 5)],
    ["an object for a double", ...badValue("float64", {})],
    ["text for an int64", ...badValue("int64", "twelve")],
    ["an object for a timestamp", ...badValue("timestamp", {})],
    ["a negative number for a timestamp", ...badValue("timestamp", -5)],
    ["a Float64Array", ...badValue("string", new Float64Array(2))],
    ["two values in an array", ...badValue("string", ["a", "b"])],
    ["an array of a null for text", ...badValue("string", [null])],
  ];

  it.each(bad)("%s: the same error, and the buffer is left as it was", (_label, entry, col, value) => {
    const schema = parquetSchemaOf(entry);
    const [good, other] = sampleRows(entry, 2) as [LakeRow, LakeRow];
    const row = withValue(good, col, value);
    const expected = thrown(() => originalShredRecord(schema, row, {}));
    expect(expected).toBeDefined();

    // First row: parquetjs has not even set the buffer up.
    const first: RecordBuffer = {};
    expect(thrown(() => shredFlatRecord(schema, row, first))).toEqual(expected);
    expect(first).toEqual({});

    const flat: RecordBuffer = {};
    const original: RecordBuffer = {};
    for (const [shred, buffer] of [
      [shredFlatRecord, flat],
      [originalShredRecord, original],
    ] as const) {
      shred(schema, good, buffer);
      expect(thrown(() => shred(schema, row, buffer))).toEqual(expected);
      shred(schema, other, buffer);
    }
    expectSameBuffer(flat, original);
    expect(flat.rowCount).toBe(2);
  });

  it("rows that throw in a writer leave the file as parquetjs leaves it", async () => {
    const [good, other] = sampleRows(events, 2) as [LakeRow, LakeRow];
    const failing = bad
      .filter(([, entry]) => entry === events)
      .map(([, , col, value]) => withValue(good, col, value));
    expect(failing.length).toBeGreaterThan(NULLS.length);
    const rows = [good, ...failing, other, ...sampleRows(events, 5)];
    const errors = await expectSameFile(events, rows, "errors");
    expect(errors).toHaveLength(failing.length);
    expect(errors[0]).toBe(`missing required field: ${required.name}`);
  });

  it("a falsy record is a row of nulls, as in parquetjs, REQUIRED columns too", () => {
    const schema = parquetSchemaOf(events);
    const rows = [sampleRows(events, 1)[0] as LakeRow, null as unknown as LakeRow];
    expectSameBuffer(shredAll(shredFlatRecord, schema, rows), shredAll(originalShredRecord, schema, rows));
  });
});

/** A row that counts `in` tests: parquetjs's walk makes them, the flat shred reads keys only. */
function countingRow(row: Record<string, unknown>): { row: Record<string, unknown>; ins: () => number } {
  let ins = 0;
  const proxy = new Proxy(row, {
    has(target, key) {
      ins++;
      return Reflect.has(target, key);
    },
  });
  return { row: proxy, ins: () => ins };
}

describe("schemas that are not flat", () => {
  const nested = new ParquetSchema({
    id: { type: "INT64" },
    place: { optional: true, fields: { city: { type: "UTF8" }, zip: { type: "UTF8", optional: true } } },
  });
  const repeated = new ParquetSchema({
    id: { type: "INT64" },
    tags: { type: "UTF8", repeated: true },
  });
  const rows = [
    { id: 1n, place: { city: "Padova", zip: "35127" }, tags: ["a", "b"] },
    { id: 2n, place: null, tags: [] },
    { id: 3n, place: { city: "Vigodarzere" }, tags: ["c"] },
  ];

  it.each([
    ["nested", nested],
    ["repeated", repeated],
  ])("%s: go through parquetjs's own shredding", (_label, schema) => {
    expect(isFlatSchema(schema)).toBe(false);
    expect(() => shredFlatRecord(schema, rows[0] as LakeRow, {})).toThrow(TypeError);
    const installed = shredModule.shredRecord as Shred;
    const counted = countingRow(rows[0] as LakeRow);
    installed(schema, counted.row, {});
    expect(counted.ins()).toBeGreaterThan(0);
    expectSameBuffer(shredAll(installed, schema, rows), shredAll(originalShredRecord, schema, rows));
  });
});

describe("installFlatShred", () => {
  it("is in effect once the lake's writer modules are loaded, and idempotent", () => {
    expect(isFlatShredInstalled()).toBe(true);
    const installed = shredModule.shredRecord;
    expect(installFlatShred()).toBe(true);
    expect(shredModule.shredRecord).toBe(installed);
    expect(installed).not.toBe(originalShredRecord);
  });

  it("patches the module object parquetjs's writer calls, which takes the fast path", async () => {
    const entry = collection("events");
    const spy = vi.spyOn(shredModule, "shredRecord");
    const writer = await ParquetWriter.openFile(parquetSchemaOf(entry), join(dir, "spied.parquet"), {});
    const rows = sampleRows(entry, 3).map((row) => countingRow(row));
    for (const { row } of rows) await writer.appendRow(row);
    await writer.close();
    expect(spy).toHaveBeenCalledTimes(3);
    expect(rows.map(({ ins }) => ins())).toEqual([0, 0, 0]);

    // The same rows through parquetjs's walk: the counting row does tell the two apart.
    const control = countingRow(sampleRows(entry, 1)[0] as LakeRow);
    originalShredRecord(parquetSchemaOf(entry), control.row, {});
    expect(control.ins()).toBe(entry.columns.length);
  });
});
