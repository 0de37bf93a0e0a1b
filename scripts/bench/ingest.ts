/**
 * Benchmark (not a test): the MongoDB → raw worker against a bare cursor read, and our Parquet
 * encode against DuckDB, measured in one run on one synthetic snapshot (docs/design.md §8).
 *
 * The snapshot is loaded once into throwaway databases, dropped at the end unless `--keep`
 * (ingest/snapshot.ts). Per collection, each measurement runs in its own child process, so peak
 * RSS is that measurement's alone; each runs the production code, `runWorker` included, with
 * doubles around it where a measurement needs them:
 *
 * - cursor:  `runWorker` whose source reads every document and hands it none (ingest/cursor.ts):
 *            the worker's queries, decoded by the driver and nothing else done per document.
 * - worker:  `runWorker` end to end into a folder store, fresh support database, default options,
 *            under the worker function's NODE_OPTIONS (ingest/worker.ts).
 * - stages:  `runWorker` one device at a time with each stage timed on its own; then the rows go
 *            to NDJSON, the input of the encode and DuckDB children (ingest/stages.ts).
 * - record:  `runWorker` with every answer of the server kept raw (ingest/without-server.ts).
 * - replay:  the worker without the server: `runWorker` fed the recording from memory, no MongoDB
 *            and no support database, objects into a folder store; documents and rows per CPU
 *            second (per core) and peak RSS (ingest/replay.ts).
 * - scaling: on a snapshot of its own (few devices, many days), record at 16× a base window, then
 *            replay at 1×, 4× and 16×, each in its own child: per-window time and peak RSS.
 * - encode:  our writer (`writeParquetObject`, folder store) on the NDJSON rows (ingest/encode.ts).
 * - duckdb:  DuckDB `COPY ... TO ... (FORMAT parquet)` on the same rows (ingest/duckdb.ts).
 *
 * Every child runs from one esbuild bundle of this file, built as the functions are
 * (infra/bundle.ts): the Lambda runs a bundle, not TypeScript through a loader.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Context, MODES, type Mode, readContext } from "./ingest/context.js";

const USAGE = `Usage: npx tsx scripts/bench/ingest.ts [options]

  --devices N          devices of the snapshot (default 40)
  --days N             days of the snapshot (default 20)
  --seed N             snapshot seed (default 42)
  --collections LIST   comma-separated (default events,request,variable_logs,alarm)
  --keep               keep the throwaway databases and the scratch folder
  --max-old-space MiB  the worker child's V8 heap cap; 0: V8's default; unset: the worker
                       function's NODE_OPTIONS (WORKER_NODE_OPTIONS)
  --profile DIR        a V8 CPU profile of each worker child, under DIR/<collection>
  --from-source        children run the TypeScript through tsx, not the bundle
  --scaling LIST       collections whose replay also runs at 1x, 4x and 16x a base window, on
                       a snapshot of their own (default events,variable_logs; none: no scaling)
  --scaling-devices N  devices of the scaling snapshot (default 6); the runs take the 2 with
                       the most documents (installs are spread over the days)
  --scaling-days N     its days (default 240: base window 15 days, the longest 240)
  --json FILE          also write every figure as JSON (npm run bench's summary reads it)
  --help               this text

The default takes 4-5 min on 2 cores; e.g. --devices 20 --days 10 --collections events,alarm.`;

const DEFAULTS = { devices: 40, days: 20, seed: 42, scalingDevices: 6, scalingDays: 240 } as const;
/** Devices of the scaling runs: the busiest of the scaling snapshot's. */
const SCALING_BUSIEST = 2;
const DEFAULT_COLLECTIONS = ["events", "request", "variable_logs", "alarm"];
/** The dense shapes: where a longer window means more documents per window. */
const DEFAULT_SCALING = ["events", "variable_logs"];

/** Each child loads only its own measurement (literal imports, so esbuild bundles them). */
const CHILDREN: Record<Mode, () => Promise<(ctx: Context) => Promise<unknown>>> = {
  cursor: async () => (await import("./ingest/cursor.js")).cursorRead,
  worker: async () => (await import("./ingest/worker.js")).workerRun,
  stages: async () => (await import("./ingest/stages.js")).stagesRun,
  record: async () => (await import("./ingest/without-server.js")).recordRun,
  replay: async () => (await import("./ingest/without-server.js")).replayRun,
  encode: async () => (await import("./ingest/encode.js")).encodeRows,
  duckdb: async () => (await import("./ingest/duckdb.js")).duckdbCopy,
};

function wholeNumber(flag: string, s: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`--${flag} must be a whole number, got ${s}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: "string", default: String(DEFAULTS.devices) },
      days: { type: "string", default: String(DEFAULTS.days) },
      seed: { type: "string", default: String(DEFAULTS.seed) },
      collections: { type: "string", default: DEFAULT_COLLECTIONS.join(",") },
      keep: { type: "boolean", default: false },
      "max-old-space": { type: "string" },
      profile: { type: "string" },
      "from-source": { type: "boolean", default: false },
      scaling: { type: "string", default: DEFAULT_SCALING.join(",") },
      "scaling-devices": { type: "string", default: String(DEFAULTS.scalingDevices) },
      "scaling-days": { type: "string", default: String(DEFAULTS.scalingDays) },
      json: { type: "string" },
      help: { type: "boolean", default: false },
      // Between the parent and its children only.
      child: { type: "string" },
      context: { type: "string" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.child) {
    const mode = values.child as Mode;
    if (!MODES.includes(mode) || !values.context) throw new Error(`bad child invocation: ${values.child}`);
    const measure = await CHILDREN[mode]();
    console.log(JSON.stringify(await measure(await readContext(values.context))));
    return;
  }
  const { runBench } = await import("./ingest/run.js");
  const list = (s: string) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
  const collections = list(values.collections);
  await runBench(fileURLToPath(import.meta.url), {
    devices: wholeNumber("devices", values.devices),
    days: wholeNumber("days", values.days),
    seed: wholeNumber("seed", values.seed),
    keep: values.keep,
    maxOldSpaceMiB:
      values["max-old-space"] !== undefined ? wholeNumber("max-old-space", values["max-old-space"]) : null,
    profileDir: values.profile ?? null,
    fromSource: values["from-source"],
    collections,
    scaling: {
      collections: values.scaling === "none" ? [] : list(values.scaling),
      devices: wholeNumber("scaling-devices", values["scaling-devices"]),
      days: wholeNumber("scaling-days", values["scaling-days"]),
      busiest: SCALING_BUSIEST,
    },
    jsonOut: values.json ?? null,
  });
}

await main();
