/**
 * Benchmark (not a test), issue 17's encode target: Parquet encoders on the same rows, per
 * collection shape. Our writer (`writeParquetObject`: pipeline/lake/parquet/), DuckDB as the
 * reference, and candidates behind the same interface: apache-arrow + parquet-wasm (arrow-rs
 * compiled to WebAssembly; with and without dictionary encoding) and DuckDB itself (rows appended
 * from JS). Decisions and figures: docs/adr/0019-parquet-encoder.md, 0026-columnar-encoder.md.
 *
 * Per shape and encoder, each run in its own child process (peak RSS is per process):
 * - rows/s with the rows already in memory, after an untimed warm-up write: wall and CPU time,
 *   median of `--repeat` runs, as one object (every row) and as one object per device (the
 *   worker's unit, a window);
 * - peak RSS of a child that streams the rows in as the worker does, under the worker
 *   function's NODE_OPTIONS (a 128 MiB old space);
 * - bytes written, against DuckDB and against pyarrow + SNAPPY on the same rows and row groups
 *   (scripts/bench/pyarrow_parquet.py).
 * Results: `.local/bench/encoders.json` and a table.
 *
 * Rows come from the snapshot generator through the worker's own validation and pivot
 * (encoders/rows.ts), cached as NDJSON under `.local/bench/encoders/`. Children run from an
 * esbuild bundle built as the functions are (infra/bundle.ts), DuckDB and parquet-wasm loaded
 * from node_modules.
 */
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  type ChildArgs,
  type ChildReport,
  ENCODERS,
  type Encoder,
  type Mode,
  measure,
  OURS,
} from "./encoders/measure.js";

const ROOT = process.env.ENCODERS_BENCH_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CHILD_BUNDLE = join(ROOT, ".local/build/bench/encoders.mjs");
const ROWS_DIR = join(ROOT, ".local/bench/encoders");
const OUT = join(ROOT, ".local/bench/encoders.json");
const MiB = 1024 * 1024;

/** Snapshot sizes per shape: ~100k rows and more for the dense shapes, realistic rows for all. */
const SHAPES: Record<string, { devices: number; days: number }> = {
  events: { devices: 200, days: 20 },
  variable_logs: { devices: 40, days: 20 },
  alarm: { devices: 400, days: 20 },
  request: { devices: 400, days: 20 },
};
const SEED = 42;

const USAGE = `Usage: node_modules/.bin/tsx scripts/bench/encoders.ts [options]

  --shapes LIST     comma-separated (default ${Object.keys(SHAPES).join(",")})
  --encoders LIST   comma-separated (default ${ENCODERS.join(",")})
  --repeat N        timed runs per shape and encoder, each in its own child (default 3)
  --from-source     children run the TypeScript through tsx, not the bundle
  --help            this text`;

interface ShapeResult {
  readonly shape: string;
  readonly rows: number;
  readonly devices: number;
  readonly pyarrow: { version: string; ms: number; fileBytes: number };
  readonly runs: Record<string, ChildReport[]>;
  readonly stream: Record<string, ChildReport>;
  readonly loadavg: { before: number[]; after: number[] };
}

function rowsFileOf(shape: string): string {
  const s = SHAPES[shape];
  if (!s) throw new Error(`unknown shape ${shape}; known: ${Object.keys(SHAPES).join(", ")}`);
  return join(ROWS_DIR, `${shape}-seed${SEED}-${s.devices}x${s.days}.ndjson`);
}

async function ensureRows(shape: string): Promise<void> {
  const path = rowsFileOf(shape);
  if (existsSync(path)) return;
  await mkdir(ROWS_DIR, { recursive: true });
  // The snapshot generator is the parent's alone.
  const { snapshotRows } = await import("./encoders/rows.js");
  const { NdjsonWriter } = await import("./ingest/rows.js");
  const quarantine = await mkdtemp(join(tmpdir(), "encoders-quarantine-"));
  const out = new NdjsonWriter(`${path}.tmp`);
  let rows = 0;
  for await (const device of snapshotRows(
    shape,
    { seed: SEED, ...(SHAPES[shape] as { devices: number; days: number }) },
    quarantine,
  )) {
    await out.write(device.rows);
    rows += device.rows.length;
  }
  await out.close();
  await rm(quarantine, { recursive: true, force: true });
  const { rename } = await import("node:fs/promises");
  await rename(`${path}.tmp`, path);
  console.log(`${shape}: ${rows.toLocaleString("en-US")} rows generated → ${path}`);
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"], env });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
    });
    child.on("error", fail);
    child.on("close", (code, signal) => {
      if (code === 0) done(stdout);
      else fail(new Error(`${cmd} ${args.join(" ")} exited with ${signal ?? `status ${code}`}`));
    });
  });
}

async function pyarrowBytes(shape: string, scratch: string): Promise<ShapeResult["pyarrow"]> {
  const { collection } = await import("../../pipeline/schema/index.js");
  const { PARQUET_WRITER_OPTIONS } = await import("../../pipeline/lake/parquet-file.js");
  const columns = collection(shape).columns.map((c) => ({ name: c.name, type: c.type }));
  const stdout = await run(join(ROOT, ".local/venv/bin/python"), [
    join(ROOT, "scripts/bench/pyarrow_parquet.py"),
    rowsFileOf(shape),
    join(scratch, `${shape}-pyarrow.parquet`),
    String(PARQUET_WRITER_OPTIONS.rowGroupSize),
    JSON.stringify(columns),
  ]);
  return JSON.parse(stdout) as ShapeResult["pyarrow"];
}

let childEntry: { script: string; execArgv: readonly string[] } = { script: CHILD_BUNDLE, execArgv: [] };

async function bundleChildren(): Promise<void> {
  const { buildSync } = await import("esbuild");
  const { BUNDLE_OPTIONS, OPTIONAL_EXTERNALS } = await import("../../infra/bundle.js");
  buildSync({
    ...BUNDLE_OPTIONS,
    entryPoints: [fileURLToPath(import.meta.url)],
    outfile: CHILD_BUNDLE,
    // Native add-on and a WebAssembly module read from beside its JavaScript: from node_modules.
    external: [...OPTIONAL_EXTERNALS, "@duckdb/node-api", "parquet-wasm"],
    metafile: false,
  });
}

async function runChild(args: ChildArgs): Promise<ChildReport> {
  // Streaming is how the worker writes: under the worker function's V8 heap cap, as deployed.
  const { WORKER_NODE_OPTIONS } = await import("../../pipeline/lambda/env.js");
  const flags = args.mode === "stream" ? WORKER_NODE_OPTIONS.split(" ") : [];
  const stdout = await run(
    process.execPath,
    [...flags, ...childEntry.execArgv, childEntry.script, "--child", JSON.stringify(args)],
    { ...process.env, ENCODERS_BENCH_ROOT: ROOT },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1) as string) as ChildReport;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export interface SummaryRow {
  readonly shape: string;
  readonly encoder: string;
  readonly rows: number;
  readonly objects: number;
  /** Rows in memory → one object: median wall and CPU rows/s. */
  readonly rowsPerS: number;
  readonly rowsPerCpuS: number;
  /** Rows in memory → one object per device. */
  readonly perDeviceRowsPerS: number | null;
  readonly perDeviceRowsPerCpuS: number | null;
  /** Streamed rows → one object: peak RSS of the child. */
  readonly streamPeakRssMiB: number | null;
  /** Rows held in memory: peak RSS, and RSS once loaded. */
  readonly memoryPeakRssMiB: number;
  readonly loadedRssMiB: number;
  readonly bytes: number;
  readonly vsDuckdbWall: number | null;
  readonly vsDuckdbCpu: number | null;
  readonly vsDuckdbPerDeviceCpu: number | null;
  readonly bytesVsPyarrow: number;
}

function summarize(results: readonly ShapeResult[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const r of results) {
    const rate = (reports: readonly ChildReport[], pick: (c: ChildReport) => number | null) => {
      const xs = reports.map(pick).filter((x): x is number => x !== null);
      return xs.length ? r.rows / (median(xs) / 1000) : null;
    };
    const duck = r.runs.duckdb;
    const duckWall = duck ? rate(duck, (c) => c.one.ms) : null;
    const duckCpu = duck ? rate(duck, (c) => c.one.cpuMs) : null;
    const duckDevCpu = duck ? rate(duck, (c) => c.perDevice?.cpuMs ?? null) : null;
    for (const [encoder, reports] of Object.entries(r.runs)) {
      const wall = rate(reports, (c) => c.one.ms) as number;
      const cpu = rate(reports, (c) => c.one.cpuMs) as number;
      const devWall = rate(reports, (c) => c.perDevice?.ms ?? null);
      const devCpu = rate(reports, (c) => c.perDevice?.cpuMs ?? null);
      const first = reports[0] as ChildReport;
      rows.push({
        shape: r.shape,
        encoder,
        rows: r.rows,
        objects: first.perDevice?.objects ?? 1,
        rowsPerS: wall,
        rowsPerCpuS: cpu,
        perDeviceRowsPerS: devWall,
        perDeviceRowsPerCpuS: devCpu,
        streamPeakRssMiB: r.stream[encoder]?.peakRssMiB ?? null,
        memoryPeakRssMiB: median(reports.map((c) => c.peakRssMiB)),
        loadedRssMiB: median(reports.map((c) => c.loadedRssMiB)),
        bytes: first.one.bytes,
        vsDuckdbWall: duckWall ? wall / duckWall : null,
        vsDuckdbCpu: duckCpu ? cpu / duckCpu : null,
        vsDuckdbPerDeviceCpu: duckDevCpu && devCpu ? devCpu / duckDevCpu : null,
        bytesVsPyarrow: first.one.bytes / r.pyarrow.fileBytes,
      });
    }
  }
  return rows;
}

async function printTable(summary: readonly SummaryRow[]): Promise<void> {
  const { formatTable } = await import("../../local/cli/table.js");
  const f = (n: number | null, digits = 0) =>
    n === null
      ? "-"
      : n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const right = (header: string) => ({ header, align: "right" as const });
  console.log(
    formatTable(
      [
        { header: "shape" },
        { header: "encoder" },
        right("rows"),
        right("rows/s"),
        right("rows/CPU-s"),
        right("÷ DuckDB (CPU)"),
        right("per device rows/CPU-s"),
        right("÷ DuckDB"),
        right("peak RSS MiB (stream)"),
        right("bytes"),
        right("÷ pyarrow"),
      ],
      summary.map((s) => [
        s.shape,
        s.encoder,
        s.rows,
        f(s.rowsPerS),
        f(s.rowsPerCpuS),
        f(s.vsDuckdbCpu, 2),
        f(s.perDeviceRowsPerCpuS),
        f(s.vsDuckdbPerDeviceCpu, 2),
        f(s.streamPeakRssMiB, 1),
        s.bytes,
        f(s.bytesVsPyarrow, 2),
      ]),
    ),
  );
}

/** Bytes of the worker function's bundle as deployed, and with the candidate writer in it. */
interface BundleSizes {
  readonly workerBundleBytes: number;
  readonly workerWithCandidateBundleBytes: number;
  readonly parquetWasmModuleBytes: number;
}

async function bundleSizes(): Promise<BundleSizes> {
  const { buildSync } = await import("esbuild");
  const { BUNDLE_OPTIONS } = await import("../../infra/bundle.js");
  const { FUNCTION_ENTRIES } = await import("../../infra/bundle.js");
  const dir = await mkdtemp(join(tmpdir(), "encoders-bundle-"));
  try {
    const size = (entry: string, name: string) => {
      const outfile = join(dir, `${name}.mjs`);
      buildSync({
        ...BUNDLE_OPTIONS,
        stdin: { contents: entry, resolveDir: ROOT, loader: "ts" },
        outfile,
        metafile: false,
      });
      return statSync(outfile).size;
    };
    const worker = `export * from "./${FUNCTION_ENTRIES.worker}";`;
    const wasm = join(ROOT, "node_modules/parquet-wasm/node/parquet_wasm_bg.wasm");
    return {
      workerBundleBytes: size(worker, "worker"),
      workerWithCandidateBundleBytes: size(
        `${worker}\nexport * from "./scripts/bench/encoders/wasm-writer.ts";`,
        "candidate",
      ),
      parquetWasmModuleBytes: statSync(wasm).size,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      shapes: { type: "string", default: Object.keys(SHAPES).join(",") },
      encoders: { type: "string", default: ENCODERS.join(",") },
      repeat: { type: "string", default: "3" },
      "from-source": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
      child: { type: "string" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.child) {
    console.log(JSON.stringify(await measure(JSON.parse(values.child) as ChildArgs)));
    return;
  }
  const shapes = values.shapes.split(",").filter(Boolean);
  const encoders = values.encoders.split(",").filter(Boolean) as Encoder[];
  for (const e of encoders) if (!ENCODERS.includes(e)) throw new Error(`unknown encoder ${e}`);
  const repeat = Number(values.repeat);
  if (!Number.isSafeInteger(repeat) || repeat < 1)
    throw new RangeError("--repeat must be a positive integer");
  if (values["from-source"])
    childEntry = { script: fileURLToPath(import.meta.url), execArgv: process.execArgv };
  else await bundleChildren();

  const scratch = await mkdtemp(join(tmpdir(), "encoders-bench-"));
  const results: ShapeResult[] = [];
  const started = new Date().toISOString();
  try {
    for (const shape of shapes) {
      await ensureRows(shape);
      const before = loadavg();
      const pyarrow = await pyarrowBytes(shape, scratch);
      const runs: Record<string, ChildReport[]> = {};
      const stream: Record<string, ChildReport> = {};
      const child = (encoder: Encoder, mode: Mode) =>
        runChild({
          encoder,
          mode,
          shape,
          rowsFile: rowsFileOf(shape),
          dir: join(scratch, `${shape}-${mode}`),
        });
      // Repeats interleaved across encoders, so a burst of load on the shared machine hits all.
      for (let i = 0; i < repeat; i++) {
        for (const encoder of encoders) {
          const report = await child(encoder, "memory");
          runs[encoder] = [...(runs[encoder] ?? []), report];
          console.log(
            `${shape} ${encoder} #${i + 1}: ${report.rows} rows, one object ${report.one.ms.toFixed(0)} ms ` +
              `(CPU ${report.one.cpuMs.toFixed(0)}), per device ${report.perDevice?.ms.toFixed(0)} ms ` +
              `(CPU ${report.perDevice?.cpuMs.toFixed(0)}), ${report.one.bytes} B, peak RSS ${report.peakRssMiB.toFixed(1)} MiB; load ${loadavg()[0]?.toFixed(2)}`,
          );
        }
      }
      for (const encoder of encoders) {
        const report = await child(encoder, "stream");
        stream[encoder] = report;
        console.log(
          `${shape} ${encoder} stream: peak RSS ${report.peakRssMiB.toFixed(1)} MiB, ${report.one.ms.toFixed(0)} ms`,
        );
      }
      const first = runs[encoders[0] as string]?.[0] as ChildReport;
      const devices = first.perDevice?.objects ?? 0;
      results.push({
        shape,
        rows: first.rows,
        devices,
        pyarrow,
        runs,
        stream,
        loadavg: { before, after: loadavg() },
      });
      await rm(join(scratch, `${shape}-memory`), { recursive: true, force: true });
      await rm(join(scratch, `${shape}-stream`), { recursive: true, force: true });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const summary = summarize(results);
  const bundles = await bundleSizes();
  const report = {
    started,
    finished: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    cpus: (await import("node:os")).availableParallelism(),
    repeat,
    ours: OURS,
    uptime: (await readFile("/proc/loadavg", "utf8").catch(() => "")).trim(),
    shapes: SHAPES,
    seed: SEED,
    bundles,
    summary,
    results,
  };
  await mkdir(dirname(OUT), { recursive: true });
  await writeFile(OUT, `${JSON.stringify(report, null, 2)}\n`);
  await printTable(summary);
  console.log(
    `\nworker bundle ${(bundles.workerBundleBytes / MiB).toFixed(2)} MiB; with the parquet-wasm candidate ` +
      `${(bundles.workerWithCandidateBundleBytes / MiB).toFixed(2)} MiB + ${(bundles.parquetWasmModuleBytes / MiB).toFixed(2)} MiB of .wasm\n` +
      `load average during the run: ${results.map((r) => `${r.shape} ${r.loadavg.before[0]?.toFixed(1)}→${r.loadavg.after[0]?.toFixed(1)}`).join(", ")}\n` +
      `written: ${OUT}`,
  );
}

await main();
