/**
 * Benchmark (not a test): peak memory of `writeParquetObject` is bounded by the row group, not by
 * the number of rows (docs/design.md §8, "Memory of a worker is bounded by row-group size").
 *
 * Writes `variable_logs`-shaped rows, generated lazily, to the folder store, once per run in a
 * fresh child process (peak RSS is per process, so each figure must come from its own process),
 * and prints rows, row-group size, peak RSS and rows/s per run.
 *
 * What to expect: live memory follows the row-group size. The encoder keeps each finished row
 * group's footer entry (a few hundred bytes) until the footer, inherent to a footer-last format.
 * Peak RSS still grows with the rows, because V8 grows its heap toward its limits before it
 * collects: writing 2,000,000 rows under a 128 MiB old space, the live heap stayed 25–60 MiB while
 * V8's heap grew to ~155 MiB (ADR 0026).
 *
 * Usage: npx tsx scripts/bench/parquet-memory.ts            (the default runs)
 *        npx tsx scripts/bench/parquet-memory.ts --quick    (200,000 and 800,000 rows)
 *        npx tsx scripts/bench/parquet-memory.ts --rows 2000000 --row-group 10000   (one run)
 *        ... --out FILE                                      (also the results as JSON)
 */
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { LocalObjectStore } from "../../pipeline/lake/local-store.js";
import { writeParquetObject } from "../../pipeline/lake/parquet-object.js";
import { collection, type LakeRow } from "../../pipeline/schema/index.js";

/** Default runs: the same row group at 10x the rows, then a 5x larger row group. */
const RUNS = [
  { rows: 200_000, rowGroup: 10_000 },
  { rows: 2_000_000, rowGroup: 10_000 },
  { rows: 2_000_000, rowGroup: 50_000 },
] as const;

/** `--quick`: the same row group at 4x the rows. */
const QUICK_RUNS = [
  { rows: 200_000, rowGroup: 10_000 },
  { rows: 800_000, rowGroup: 10_000 },
] as const;

export interface RunResult {
  rows: number;
  rowGroup: number;
  seconds: number;
  rowsPerSecond: number;
  fileMiB: number;
  startRssMiB: number;
  peakRssMiB: number;
}

/**
 * One device's pivoted log, one row a second: float values vary per row (as sensor readings do,
 * so compression is not flattered) and every third reading of the optional columns is null.
 */
async function* variableLogRows(count: number): AsyncGenerator<LakeRow> {
  const entry = collection("variable_logs");
  const sensors = entry.columns.filter((c) => c.type === "float64").map((c) => c.name);
  const start = Date.UTC(2024, 0, 1);
  for (let i = 0; i < count; i++) {
    const row: LakeRow = { id_device: 4242, time: new Date(start + i * 1000) };
    for (const [j, name] of sensors.entries()) {
      row[name] = (i + j) % 3 === 2 ? null : 20 + ((i * 7 + j * 13) % 2000) / 10 + Math.sin(i / 60 + j);
    }
    yield row;
  }
}

const MiB = 1024 * 1024;
/** `maxRSS` is in kibibytes on Linux and macOS. */
const peakRssMiB = () => (process.resourceUsage().maxRSS * 1024) / MiB;

async function runOnce(rows: number, rowGroup: number): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), "parquet-memory-"));
  try {
    const startRssMiB = process.memoryUsage().rss / MiB;
    const started = process.hrtime.bigint();
    const written = await writeParquetObject(
      collection("variable_logs"),
      variableLogRows(rows),
      new LocalObjectStore(dir),
      "variable_logs/idDevice=4242/1704067200000.parquet",
      { rowGroupSize: rowGroup },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (written?.rows !== rows) throw new Error(`wrote ${written?.rows} rows, expected ${rows}`);
    return {
      rows,
      rowGroup,
      seconds,
      rowsPerSecond: rows / seconds,
      fileMiB: written.bytes / MiB,
      startRssMiB,
      peakRssMiB: peakRssMiB(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runInChild(rows: number, rowGroup: number): RunResult {
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, script, "--rows", String(rows), "--row-group", String(rowGroup), "--json"],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  if (child.status !== 0) throw new Error(`run of ${rows} rows failed with status ${child.status}`);
  return JSON.parse(child.stdout.trim().split("\n").at(-1) as string) as RunResult;
}

function print(results: readonly RunResult[]): void {
  const f = (n: number, digits = 0) => n.toFixed(digits);
  console.log("rows       row group  peak RSS MiB  RSS before MiB  rows/s    seconds  file MiB");
  for (const r of results) {
    console.log(
      [
        f(r.rows).padEnd(10),
        f(r.rowGroup).padEnd(10),
        f(r.peakRssMiB, 1).padEnd(13),
        f(r.startRssMiB, 1).padEnd(15),
        f(r.rowsPerSecond).padEnd(9),
        f(r.seconds, 1).padEnd(8),
        f(r.fileMiB, 1),
      ].join(" "),
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: "string" },
      "row-group": { type: "string" },
      json: { type: "boolean" },
      quick: { type: "boolean", default: false },
      out: { type: "string" },
    },
  });
  if (values.rows && values.json) {
    // A child: one run, its result as the last line.
    console.log(JSON.stringify(await runOnce(Number(values.rows), Number(values["row-group"] ?? 10_000))));
    return;
  }
  const runs = values.rows
    ? [{ rows: Number(values.rows), rowGroup: Number(values["row-group"] ?? 10_000) }]
    : values.quick
      ? QUICK_RUNS
      : RUNS;
  console.log(`node ${process.version}, ${process.platform}/${process.arch}; one child process per run`);
  const results = runs.map((run) => runInChild(run.rows, run.rowGroup));
  print(results);
  if (values.out) {
    await mkdir(dirname(values.out), { recursive: true });
    await writeFile(values.out, `${JSON.stringify({ runs: results }, null, 2)}\n`);
    console.log(`figures written to ${values.out}`);
  }
}

await main();
