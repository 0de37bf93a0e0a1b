/**
 * Every registry entry round-trips through a Parquet file written by the lake writer, and an
 * independent reader (pyarrow, in the project's Python venv) sees the columns the Glue catalog
 * declares: same names, types and nullability, same values.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ParquetReader } from "@dsnp/parquetjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openParquetFile } from "../../pipeline/lake/parquet-file.js";
import {
  collections,
  GLUE_TYPE,
  glueColumnsOf,
  type RegistryEntry,
  tables,
} from "../../pipeline/schema/index.js";
import { sampleRows } from "../support/sample-rows.js";

const run = promisify(execFile);
const PYTHON = join(process.cwd(), ".local/venv/bin/python");
const TOOL = join(process.cwd(), "glue/tools/parquet_schema.py");
const ROWS = 7;

/** How pyarrow names the Arrow type that each Glue type must come back as. */
const ARROW_FOR_GLUE: Record<string, RegExp> = {
  [GLUE_TYPE.string]: /^(large_)?string$/,
  [GLUE_TYPE.int32]: /^int32$/,
  [GLUE_TYPE.int64]: /^int64$/,
  [GLUE_TYPE.float64]: /^double$/,
  [GLUE_TYPE.boolean]: /^bool$/,
  [GLUE_TYPE.timestamp]: /^timestamp\[ms, tz=(UTC|\+00:00)\]$/,
};

interface ArrowReport {
  file: string;
  num_rows: number;
  num_row_groups: number;
  compression: string;
  columns: { name: string; arrow_type: string; nullable: boolean }[];
  rows: Record<string, unknown>[];
}

let dir: string;
const files = new Map<string, string>();
const entries: RegistryEntry[] = [...collections, ...tables];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lake-roundtrip-"));
  for (const entry of entries) {
    const path = join(dir, `${entry.kind}-${entry.name}.parquet`);
    // A row group of 3 forces several groups, as a long window would.
    const writer = await openParquetFile(entry, path, { rowGroupSize: 3 });
    for (const row of sampleRows(entry, ROWS)) await writer.append(row);
    await writer.close();
    files.set(entry.name + entry.kind, path);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function arrowReports(): Promise<Map<string, ArrowReport>> {
  const paths = [...files.values()];
  const { stdout } = await run(PYTHON, [TOOL, "--all-rows", ...paths], { maxBuffer: 64 * 1024 * 1024 });
  const reports = stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as ArrowReport);
  return new Map(reports.map((r) => [r.file, r]));
}

describe.each(entries.map((e) => [`${e.kind} ${e.name}`, e] as const))("%s", (_label, entry) => {
  it("reads back the rows it wrote", async () => {
    const reader = await ParquetReader.openFile(files.get(entry.name + entry.kind) as string);
    const cursor = reader.getCursor();
    const back: Record<string, unknown>[] = [];
    for (let rec = await cursor.next(); rec; rec = await cursor.next())
      back.push(rec as Record<string, unknown>);
    await reader.close();
    const normalised = back.map((r) =>
      Object.fromEntries(
        entry.columns.map((c) => {
          const v = r[c.name];
          // parquetjs returns absent optionals as undefined and INT64 as bigint.
          return [c.name, v === undefined ? null : typeof v === "bigint" ? Number(v) : v];
        }),
      ),
    );
    expect(normalised).toEqual(sampleRows(entry, ROWS));
  });
});

describe("independent reader (pyarrow)", () => {
  let reports: Map<string, ArrowReport>;
  beforeAll(async () => {
    reports = await arrowReports();
  });

  it.each(entries.map((e) => [`${e.kind} ${e.name}`, e] as const))(
    "%s: Glue columns equal the file schema",
    (_label, entry) => {
      const report = reports.get(files.get(entry.name + entry.kind) as string);
      expect(report).toBeDefined();
      if (!report) return;
      expect(report.num_rows).toBe(ROWS);
      expect(report.num_row_groups).toBe(Math.ceil(ROWS / 3));
      expect(report.compression).toBe("SNAPPY");
      const glue = glueColumnsOf(entry);
      expect(report.columns.map((c) => c.name)).toEqual(glue.map((c) => c.name));
      for (const [i, col] of glue.entries()) {
        const arrow = report.columns[i];
        expect(arrow?.arrow_type, `${entry.name}.${col.name}`).toMatch(ARROW_FOR_GLUE[col.type] as RegExp);
        expect(arrow?.nullable, `${entry.name}.${col.name} nullability`).toBe(entry.columns[i]?.nullable);
      }
    },
  );

  it("reads the same values, timestamps as UTC instants", () => {
    const alarm = collections.find((c) => c.name === "alarm") as RegistryEntry;
    const report = reports.get(files.get("alarmcollection") as string);
    const expected = sampleRows(alarm, ROWS);
    expect(report?.rows).toHaveLength(ROWS);
    for (const [i, row] of (report?.rows ?? []).entries()) {
      const want = expected[i] as Record<string, unknown>;
      expect(new Date(row.active_ts as string).getTime()).toBe((want.active_ts as Date).getTime());
      expect(row.id).toBe(want.id);
      expect(row.id_device).toBe(want.id_device);
      expect(row.reset_ts === null).toBe(want.reset_ts === null);
      expect(row.payload).toBe(want.payload);
    }
  });
});
