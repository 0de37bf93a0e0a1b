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
 *            to NDJSON, the input of the next two (ingest/stages.ts).
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
  --help               this text

The default takes 3-4 min on 2 cores; e.g. --devices 20 --days 10 --collections events,alarm.`;

const DEFAULTS = { devices: 40, days: 20, seed: 42 } as const;
const DEFAULT_COLLECTIONS = ["events", "request", "variable_logs", "alarm"];

/** Each child loads only its own measurement (literal imports, so esbuild bundles them). */
const CHILDREN: Record<Mode, () => Promise<(ctx: Context) => Promise<unknown>>> = {
  cursor: async () => (await import("./ingest/cursor.js")).cursorRead,
  worker: async () => (await import("./ingest/worker.js")).workerRun,
  stages: async () => (await import("./ingest/stages.js")).stagesRun,
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
  await runBench(fileURLToPath(import.meta.url), {
    devices: wholeNumber("devices", values.devices),
    days: wholeNumber("days", values.days),
    seed: wholeNumber("seed", values.seed),
    keep: values.keep,
    maxOldSpaceMiB:
      values["max-old-space"] !== undefined ? wholeNumber("max-old-space", values["max-old-space"]) : null,
    profileDir: values.profile ?? null,
    fromSource: values["from-source"],
    collections: values.collections
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  });
}

await main();
