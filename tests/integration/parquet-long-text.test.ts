/**
 * Large text is stored once: a raw object of `request` documents with multi-megabyte bodies is
 * about the size of the bodies, not three times it (page-header and footer statistics used to
 * carry each column's full minimum and maximum), and pyarrow reads every body back intact.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openParquetFile } from "../../pipeline/lake/parquet-file.js";
import { collections, type RegistryEntry } from "../../pipeline/schema/index.js";
import { NO_STATISTICS } from "../../pipeline/schema/parquet.js";
import { sampleRows } from "../support/sample-rows.js";

const run = promisify(execFile);
const PYTHON = join(process.cwd(), ".local/venv/bin/python");
const TOOL = join(process.cwd(), "glue/tools/parquet_schema.py");

const request = collections.find((c) => c.name === "request") as RegistryEntry;
/** Incompressible text (base64 of random bytes), so the file size measures what is stored. */
const body = (mb: number) => randomBytes(Math.round(mb * 786_432)).toString("base64");

let dir: string;
let path: string;
let bodies: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lake-long-text-"));
  path = join(dir, "request.parquet");
  bodies = [body(4), body(2), body(3)];
  const rows = sampleRows(request, bodies.length).map((r, i) => ({ ...r, body: bodies[i] }));
  const writer = await openParquetFile(request, path, { rowGroupSize: 2 });
  for (const row of rows) await writer.append(row);
  await writer.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("long text in a raw object", () => {
  it("costs about its own size: no full-length statistics in page headers or the footer", async () => {
    const text = bodies.reduce((n, b) => n + b.length, 0);
    const { size } = await stat(path);
    expect(size).toBeGreaterThan(text);
    expect(size).toBeLessThan(text * 1.05);
  });

  it("reads back intact with pyarrow", async () => {
    const { stdout } = await run(PYTHON, [TOOL, "--all-rows", path], { maxBuffer: 256 * 1024 * 1024 });
    const report = JSON.parse(stdout.trim()) as { rows: { body: string }[] };
    expect(report.rows.map((r) => r.body)).toEqual(bodies);
  });

  it("keeps statistics on numbers and times, drops them on text and JSON", () => {
    expect([...NO_STATISTICS].sort()).toEqual(["json", "string"]);
  });
});
