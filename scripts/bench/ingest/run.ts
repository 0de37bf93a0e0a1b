/**
 * The parent: load the snapshot, then per collection run each measurement in its own child, check
 * that they all saw the same data, and print the report; then the scaling runs on a snapshot of
 * their own (few devices, many days: long windows), and the JSON of every figure if asked.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { DAY_MS } from "../../../pipeline/ingest/windows.js";
import { WORKER_NODE_OPTIONS } from "../../../pipeline/lambda/env.js";
import { collection } from "../../../pipeline/schema/index.js";
import { pyarrowWrite } from "./arrow.js";
import { bundleChildren, killChildren, runChild, runChildrenFromSource } from "./children.js";
import type { Context } from "./context.js";
import { details, fmt, legend, limits, scalingLine, summary } from "./report.js";
import type {
  CollectionResult,
  CursorReport,
  DuckReport,
  EncodeReport,
  IngestBenchJson,
  RecordReport,
  ReplayReport,
  ScalingReport,
  StagesReport,
  WorkerReport,
} from "./reports.js";
import { busiestDevices, openScratch, type Scratch, type SnapshotSize, workerBatch } from "./snapshot.js";

export interface ScalingOptions {
  /** Collections of the scaling runs (none: no scaling runs). */
  readonly collections: readonly string[];
  /** Their snapshot: few devices, many days, so that a 1× window already fills row groups. */
  readonly devices: number;
  readonly days: number;
  /** Of its devices, the runs take this many with the most documents (the longest histories). */
  readonly busiest: number;
}

export interface BenchOptions extends SnapshotSize {
  readonly keep: boolean;
  readonly collections: readonly string[];
  /** The worker child's V8 old-space cap in MiB; 0: V8's default; null: the worker function's NODE_OPTIONS. */
  readonly maxOldSpaceMiB: number | null;
  readonly profileDir: string | null;
  readonly fromSource: boolean;
  readonly scaling: ScalingOptions;
  /** Where to write every figure as JSON (the `npm run bench` summary reads it); null: nowhere. */
  readonly jsonOut: string | null;
}

/** The window sizes of the scaling runs, as multiples of the base window. */
export const SCALING_FACTORS = [1, 4, 16] as const;
const LARGEST_FACTOR = 16;

const SIX_HOURS = DAY_MS / 4;

/**
 * The scaling runs' base window: a sixteenth of the snapshot's days, in whole 6-hour units
 * (`variable_logs` slots), so the longest window spans a device's data.
 */
export function scalingBaseWindowMs(days: number): number {
  return Math.max(SIX_HOURS, Math.floor((days * DAY_MS) / LARGEST_FACTOR / SIX_HOURS) * SIX_HOURS);
}

/**
 * Node flags of the worker child (and of the replays): as deployed, unless `--max-old-space` says
 * otherwise; a CPU profile of the worker child with `--profile`.
 */
function workerFlags(options: BenchOptions, coll: string, profile = true): string[] {
  return [
    ...(options.maxOldSpaceMiB === null
      ? WORKER_NODE_OPTIONS.split(" ")
      : options.maxOldSpaceMiB > 0
        ? [`--max-old-space-size=${options.maxOldSpaceMiB}`]
        : []),
    ...(options.profileDir && profile
      ? ["--cpu-prof", `--cpu-prof-dir=${resolve(options.profileDir, coll)}`]
      : []),
  ];
}

/** A collection's context for the children, written where they read it. */
async function writeContext(
  scratch: Scratch,
  coll: string,
  devices: Context["devices"],
): Promise<{ ctx: Context; contextPath: string }> {
  const dir = join(scratch.dir, coll);
  await mkdir(dir, { recursive: true });
  const ctx: Context = {
    mongodbUrl: scratch.mongodbUrl,
    mongodbDatabase: scratch.name,
    supportUrl: scratch.supportUrl,
    stagesSupportUrl: scratch.stagesSupportUrl,
    collection: coll,
    devices,
    dir,
  };
  const contextPath = join(dir, "context.json");
  await writeFile(contextPath, JSON.stringify(ctx));
  return { ctx, contextPath };
}

/** Every measurement of one collection, after checking they all read the same documents. */
async function measure(ctx: Context, contextPath: string, options: BenchOptions): Promise<CollectionResult> {
  const cursor = await runChild<CursorReport>("cursor", contextPath);
  const worker = await runChild<WorkerReport>("worker", contextPath, workerFlags(options, ctx.collection));
  // The stages child also keeps what the server answered: the replay's recording.
  const stages = await runChild<StagesReport>("stages", contextPath);
  const record: RecordReport = {
    ...stages.recording,
    documents: stages.documents,
    windows: stages.windows,
    ms: null,
  };
  const replay = await runChild<ReplayReport>(
    "replay",
    contextPath,
    workerFlags(options, ctx.collection, false),
  );
  const encode = await runChild<EncodeReport>("encode", contextPath);
  const duck = await runChild<DuckReport>("duckdb", contextPath);
  const arrow = await pyarrowWrite(ctx);
  const checks = [
    ["cursor documents", cursor.documents, worker.documents],
    ["cursor windows", cursor.windows, worker.windows],
    ["stages documents", stages.documents, worker.documents],
    ["stages windows", stages.windows, worker.windows],
    ["stages rows", stages.rows, worker.rows],
    ["replay documents", replay.documents, worker.documents],
    ["replay windows", replay.windows, worker.windows],
    ["replay rows", replay.rows, worker.rows],
    ["our encode rows", encode.rows, worker.rows],
    ["DuckDB rows", duck.json1.rows, worker.rows],
    ["pyarrow rows", arrow.rows, worker.rows],
  ] as const;
  for (const [what, got, want] of checks) {
    if (got !== want) {
      throw new Error(
        `${ctx.collection}: ${what} ${got}, worker ${want}: the runs did not see the same data`,
      );
    }
  }
  return { name: ctx.collection, cursor, worker, stages, record, replay, encode, duck, arrow };
}

/**
 * One collection's scaling runs: recorded once at the longest window, then replayed at 1×, 4×
 * and 16× the base window, each in its own child (peak RSS per window size).
 */
async function scale(ctx: Context, options: BenchOptions): Promise<ScalingReport> {
  const baseWindowMs = scalingBaseWindowMs(options.scaling.days);
  const at = async (windowMs: number, name: string) => {
    const path = join(ctx.dir, `context-${name}.json`);
    await writeFile(path, JSON.stringify({ ...ctx, windowMs } satisfies Context));
    return path;
  };
  const record = await runChild<RecordReport>("record", await at(LARGEST_FACTOR * baseWindowMs, "record"));
  const runs: ScalingReport["runs"][number][] = [];
  for (const factor of SCALING_FACTORS) {
    const path = await at(factor * baseWindowMs, `${factor}x`);
    const run = await runChild<ReplayReport>("replay", path, workerFlags(options, ctx.collection, false));
    if (run.documents !== record.documents) {
      throw new Error(
        `${ctx.collection}: the ${factor}x replay read ${run.documents} documents, the recording ${record.documents}`,
      );
    }
    runs.push({ factor, ...run });
  }
  return {
    name: ctx.collection,
    devices: ctx.devices.length,
    days: options.scaling.days,
    baseWindowMs,
    record,
    runs,
  };
}

/** `entry`: the benchmark's entry file, which the children run (bundled unless `fromSource`). */
export async function runBench(entry: string, options: BenchOptions): Promise<void> {
  for (const name of [...options.collections, ...options.scaling.collections]) collection(name); // typos
  for (const name of options.scaling.collections) {
    const updated = collection(name).updatedField;
    if (updated) {
      throw new RangeError(
        `--scaling ${name}: its windows also select by ${updated}, so a shorter window is not a slice of a longer one`,
      );
    }
  }
  const started = performance.now();
  if (options.fromSource) runChildrenFromSource(entry);
  else await bundleChildren(entry);
  const scratches: Scratch[] = [];
  const cleanup = async () => {
    killChildren();
    for (const s of scratches) await s.dispose(options.keep);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    const load0 = loadavg();
    console.log(
      `node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} cores, ` +
        `load average ${load0.map((l) => l.toFixed(2)).join(" ")}; one child process per measurement, ` +
        `${options.fromSource ? "TypeScript through tsx" : "from an esbuild bundle as the Lambda runs"}`,
    );
    const scratch = await openScratch();
    scratches.push(scratch);
    const loaded = await scratch.load(options);
    const counts = options.collections.map((c) => `${c} ${fmt(loaded.documents[c] ?? Number.NaN)}`);
    const dated = loaded.devices.filter((d) => d.lastLogDate !== null).length;
    console.log(
      `snapshot seed ${options.seed}, ${options.devices} devices × ${options.days} days loaded in ` +
        `${fmt(loaded.durationMs / 1000, 1)} s into ${scratch.name}: ${counts.join(", ")}; ${dated} devices with last_log_date`,
    );

    const results: CollectionResult[] = [];
    for (const coll of options.collections) {
      const { ctx, contextPath } = await writeContext(scratch, coll, workerBatch(loaded.devices, coll));
      const t0 = performance.now();
      results.push(await measure(ctx, contextPath, options));
      console.error(`[bench] ${coll} measured in ${fmt((performance.now() - t0) / 1000, 1)} s`);
      if (!options.keep) await rm(ctx.dir, { recursive: true, force: true });
    }

    const scaling: ScalingReport[] = [];
    if (options.scaling.collections.length) {
      const s = options.scaling;
      const scalingScratch = await openScratch();
      scratches.push(scalingScratch);
      const more = await scalingScratch.load({
        seed: options.seed,
        devices: s.devices,
        days: s.days,
        collections: s.collections,
      });
      console.error(
        `[bench] scaling snapshot, ${s.devices} devices × ${s.days} days, loaded in ${fmt(more.durationMs / 1000, 1)} s`,
      );
      for (const coll of s.collections) {
        const devices = await busiestDevices(
          scalingScratch,
          coll,
          workerBatch(more.devices, coll),
          s.busiest,
        );
        const { ctx } = await writeContext(scalingScratch, coll, devices);
        const t0 = performance.now();
        scaling.push(await scale(ctx, options));
        console.error(`[bench] ${coll} scaled in ${fmt((performance.now() - t0) / 1000, 1)} s`);
        if (!options.keep) await rm(ctx.dir, { recursive: true, force: true });
      }
    }

    console.log("");
    console.log(summary(results));
    console.log(legend());
    console.log("");
    for (const r of results) console.log(details(r));
    if (scaling.length) {
      console.log("");
      console.log(
        `scaling: the worker without the server at 1x, 4x and 16x a base window, on the ${options.scaling.busiest} busiest of ` +
          `${options.scaling.devices} devices × ${options.scaling.days} days (recorded once at the longest window)`,
      );
      for (const s of scaling) console.log(scalingLine(s));
    }
    console.log("");
    console.log("what limits it:");
    for (const r of results) console.log(`  ${limits(r)}`);
    const load1 = loadavg();
    const wallMs = performance.now() - started;
    console.log(
      `\nwall time ${fmt(wallMs / 1000, 1)} s (snapshot load ${fmt(loaded.durationMs / 1000, 1)} s); ` +
        `load average at the end ${load1.map((l) => l.toFixed(2)).join(" ")}`,
    );
    if (options.jsonOut) {
      const json: IngestBenchJson = {
        snapshot: {
          seed: options.seed,
          devices: options.devices,
          days: options.days,
          loadMs: loaded.durationMs,
          documents: loaded.documents,
        },
        node: process.version,
        cores: availableParallelism(),
        loadBefore: load0,
        loadAfter: load1,
        wallMs,
        workerNodeOptions: workerFlags(options, "", false).join(" "),
        collections: results,
        scaling,
      };
      await mkdir(dirname(resolve(options.jsonOut)), { recursive: true });
      await writeFile(options.jsonOut, `${JSON.stringify(json, null, 2)}\n`);
      console.log(`figures written to ${options.jsonOut}`);
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await cleanup();
  }
}
