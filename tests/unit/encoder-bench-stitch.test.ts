/**
 * The Parquet encoder benchmark's parquet-wasm candidate (scripts/bench/encoders/, ADR 0019) makes
 * files the lake's readers accept: its row groups are cut as the lake's writer cuts them, each
 * written by parquet-wasm as a file of its own and stitched into one, and every value reads back.
 * Its figures (bytes, rows/s) stand on this.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ParquetReader } from "@dsnp/parquetjs";
import { Table as ArrowTable, tableToIPC } from "apache-arrow";
import { Table, writeParquet } from "parquet-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalObjectStore } from "../../pipeline/lake/local-store.js";
import { collection, type LakeRow, type RegistryEntry, table } from "../../pipeline/schema/index.js";
import { arrowSchemaOf, recordBatchOf } from "../../scripts/bench/encoders/arrow-rows.js";
import { footerOf } from "../../scripts/bench/encoders/stitch.js";
import { CompactReader, CompactWriter } from "../../scripts/bench/encoders/thrift-compact.js";
import { writeWithParquetWasm } from "../../scripts/bench/encoders/wasm-writer.js";
import { sampleRows } from "../support/sample-rows.js";

let dir: string;
let store: LocalObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "encoder-stitch-"));
  store = new LocalObjectStore(dir);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

async function* from(rows: readonly LakeRow[]): AsyncGenerator<LakeRow> {
  yield* rows;
}

async function readBack(entry: RegistryEntry, key: string): Promise<{ rows: LakeRow[]; groups: number }> {
  const reader = await ParquetReader.openBuffer(await readFile(join(dir, key)));
  const cursor = reader.getCursor();
  const rows: LakeRow[] = [];
  for (let r = await cursor.next(); r; r = await cursor.next()) {
    const read = r as LakeRow;
    rows.push(
      Object.fromEntries(
        entry.columns.map((c) => {
          const v = read[c.name];
          return [c.name, v === undefined ? null : typeof v === "bigint" ? Number(v) : v];
        }),
      ),
    );
  }
  const groups = reader.metadata?.row_groups.length ?? 0;
  await reader.close();
  return { rows, groups };
}

describe("parquet-wasm candidate", () => {
  it.each([
    [collection("alarm"), 25, 10],
    [collection("variable_logs"), 7, 3],
    [table("device"), 7, 3],
  ])("%s: every row and value back, row groups as the lake cuts them", async (entry, count, rowGroupSize) => {
    const key = `${entry.name}/${count}.parquet`;
    const rows = sampleRows(entry, count);
    const written = await writeWithParquetWasm(entry, from(rows), store, key, { rowGroupSize });
    expect(written?.rows).toBe(count);
    const back = await readBack(entry, key);
    expect(back.groups).toBe(Math.ceil(count / rowGroupSize));
    expect(back.rows).toEqual(rows);
  });

  it("ends a row group early on rowGroupBytes", async () => {
    const entry = collection("request");
    const rows = sampleRows(entry, 40).map((row, i) => ({
      ...row,
      payload: JSON.stringify({ i, blob: "x".repeat(10_000) }),
    }));
    await writeWithParquetWasm(entry, from(rows), store, "request/wide.parquet", {
      rowGroupSize: 1_000,
      rowGroupBytes: 32 * 1024,
    });
    expect((await readBack(entry, "request/wide.parquet")).groups).toBe(10);
  });

  it("writes a footer by parquet-rs back byte for byte after reading it", () => {
    const entry = collection("alarm");
    const batch = recordBatchOf(entry, arrowSchemaOf(entry), sampleRows(entry, 25));
    const file = writeParquet(Table.fromIPCStream(tableToIPC(new ArrowTable([batch]), "stream")));
    const length = new DataView(file.buffer, file.byteOffset).getUint32(file.length - 8, true);
    const footer = file.subarray(file.length - 8 - length, file.length - 8);
    const writer = new CompactWriter();
    writer.struct(new CompactReader(footer).struct());
    expect(Buffer.from(writer.bytes())).toEqual(Buffer.from(footer));
    expect(footerOf(file).get(3)).toBe(25n); // num_rows
  });
});
