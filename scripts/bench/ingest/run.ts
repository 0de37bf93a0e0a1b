/**
 * The parent: load the snapshot, then per collection run each measurement in its own child, check
 * that they all saw the same data, and print the report.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { WORKER_NODE_OPTIONS } from "../../../pipeline/lambda/env.js";
import { collection } from "../../../pipeline/schema/index.js";
import { pyarrowWrite } from "./arrow.js";
import { bundleChildren, killChildren, runChild, runChildrenFromSource } from "./children.js";
import type { Context } from "./context.js";
import { details, fmt, legend, limits, summary } from "./report.js";
import type {
  CollectionResult,
  CursorReport,
  DuckReport,
  EncodeReport,
  StagesReport,
  WorkerReport,
} from "./reports.js";
import { openScratch, type SnapshotSize, workerBatch } from "./snapshot.js";

export interface BenchOptions extends SnapshotSize {
  readonly keep: boolean;
  readonly collections: readonly string[];
  /** The worker child's V8 old-space cap in MiB; 0: V8's default; null: the worker function's NODE_OPTIONS. */
  readonly maxOldSpaceMiB: number | null;
  readonly profileDir: string | null;
  readonly fromSource: boolean;
}

/** Node flags of the worker child: as deployed, unless `--max-old-space` says otherwise. */
function workerFlags(options: BenchOptions, coll: string): string[] {
  return [
    ...(options.maxOldSpaceMiB === null
      ? WORKER_NODE_OPTIONS.split(" ")
      : options.maxOldSpaceMiB > 0
        ? [`--max-old-space-size=${options.maxOldSpaceMiB}`]
        : []),
    ...(options.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${resolve(options.profileDir, coll)}`] : []),
  ];
}

/** Every measurement of one collection, after checking they all read the same documents. */
async function measure(ctx: Context, contextPath: string, options: BenchOptions): Promise<CollectionResult> {
  const cursor = await runChild<CursorReport>("cursor", contextPath);
  const worker = await runChild<WorkerReport>("worker", contextPath, workerFlags(options, ctx.collection));
  const stages = await runChild<StagesReport>("stages", contextPath);
  const encode = await runChild<EncodeReport>("encode", contextPath);
  const duck = await runChild<DuckReport>("duckdb", contextPath);
  const arrow = await pyarrowWrite(ctx);
  const checks = [
    ["cursor documents", cursor.documents, worker.documents],
    ["cursor windows", cursor.windows, worker.windows],
    ["stages documents", stages.documents, worker.documents],
    ["stages windows", stages.windows, worker.windows],
    ["stages rows", stages.rows, worker.rows],
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
  return { name: ctx.collection, cursor, worker, stages, encode, duck, arrow };
}

/** `entry`: the benchmark's entry file, which the children run (bundled unless `fromSource`). */
export async function runBench(entry: string, options: BenchOptions): Promise<void> {
  const started = performance.now();
  if (options.fromSource) runChildrenFromSource(entry);
  else await bundleChildren(entry);
  for (const name of options.collections) collection(name); // fail early on a typo
  const scratch = await openScratch();
  const cleanup = async () => {
    killChildren();
    await scratch.dispose(options.keep);
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
    const loaded = await scratch.load(options);
    const counts = options.collections.map((c) => `${c} ${fmt(loaded.documents[c] ?? Number.NaN)}`);
    const dated = loaded.devices.filter((d) => d.lastLogDate !== null).length;
    console.log(
      `snapshot seed ${options.seed}, ${options.devices} devices × ${options.days} days loaded in ` +
        `${fmt(loaded.durationMs / 1000, 1)} s into ${scratch.name}: ${counts.join(", ")}; ${dated} devices with last_log_date`,
    );

    const results: CollectionResult[] = [];
    for (const coll of options.collections) {
      const dir = join(scratch.dir, coll);
      await mkdir(dir, { recursive: true });
      const ctx: Context = {
        mongodbUrl: scratch.mongodbUrl,
        mongodbDatabase: scratch.name,
        supportUrl: scratch.supportUrl,
        stagesSupportUrl: scratch.stagesSupportUrl,
        collection: coll,
        devices: workerBatch(loaded.devices, coll),
        dir,
      };
      const contextPath = join(dir, "context.json");
      await writeFile(contextPath, JSON.stringify(ctx));
      const t0 = performance.now();
      results.push(await measure(ctx, contextPath, options));
      console.error(`[bench] ${coll} measured in ${fmt((performance.now() - t0) / 1000, 1)} s`);
      if (!options.keep) await rm(dir, { recursive: true, force: true });
    }

    console.log("");
    console.log(summary(results));
    console.log(legend());
    console.log("");
    for (const r of results) console.log(details(r));
    console.log("");
    console.log("what limits it:");
    for (const r of results) console.log(`  ${limits(r)}`);
    const load1 = loadavg();
    console.log(
      `\nwall time ${fmt((performance.now() - started) / 1000, 1)} s (snapshot load ${fmt(loaded.durationMs / 1000, 1)} s); ` +
        `load average at the end ${load1.map((l) => l.toFixed(2)).join(" ")}`,
    );
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await cleanup();
  }
}
