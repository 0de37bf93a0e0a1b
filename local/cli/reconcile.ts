/**
 * `reconcile`: the local stack's source against its curated tables and quarantine, per
 * collection, device and day (pipeline/reconcile), printed for an operator; exit status 1 when
 * anything is a difference. `--repair` replays what a replay can fix, runs the curate job on
 * local Spark so the replayed windows reach curated, and reconciles again to show the result.
 * In AWS the same code runs as the state machine's last stage (the function `reconcile`).
 */
import { join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import pino, { type Logger } from "pino";
import type { ReconcileOutput } from "../../pipeline/lambda/events.js";
import { reconcileDeps } from "../../pipeline/lambda/steps.js";
import { CAUSES, type Cause, type Finding, isDifference } from "../../pipeline/reconcile/causes.js";
import { type ReconcileReport, reconcile } from "../../pipeline/reconcile/reconcile.js";
import { formatShard, parseShard, type Shard, WHOLE } from "../../pipeline/reconcile/shard.js";
import { loadLocalConfig } from "../config.js";
import { localFunctions } from "../orchestration/local-functions.js";
import { runSparkJob } from "../orchestration/spark-job.js";
import { localGlueJobs, writeJobTables } from "./glue-jobs.js";
import { collectionsOption, LOCAL_LAKE_DIR } from "./ingest.js";
import { count, formatTable } from "./table.js";

/** Differences listed one by one; the rest are counted (all are in `reconcile_difference`). */
const SHOWN = 25;

export function reconcileCommand(): Command {
  return new Command("reconcile")
    .description("compare the source with curated and quarantine per collection, device and day")
    .addOption(
      new Option("--mode <mode>", "auto = full the first time, then the days touched since")
        .choices(["auto", "full", "incremental"])
        .default("auto"),
    )
    .option("--repair", "re-extract what a replay can fix, curate it, and reconcile again", false)
    .option("--collections <names>", "comma-separated collections (default: all)")
    .addOption(
      new Option(
        "--shard <i/N>",
        "only the devices whose id modulo N is i, with that shard's own passes (as the state machine's reconcile shards)",
      )
        .argParser(shardArgument)
        .default(WHOLE, "0/1"),
    )
    .option(
      "--raw-dir <dir>",
      "raw layer folder (repair writes replayed windows there)",
      join(LOCAL_LAKE_DIR, "raw"),
    )
    .option("--json", "print the reports as JSON (findings included)", false)
    .action(
      async (opts: {
        mode: "auto" | "full" | "incremental";
        repair: boolean;
        collections?: string;
        shard: Shard;
        rawDir: string;
        json: boolean;
      }) => {
        const shard = opts.shard;
        const names = collectionsOption(opts.collections);
        const log = pino({ name: "reconcile", level: process.env.LOG_LEVEL ?? "warn" }, pino.destination(2));
        const started = performance.now();
        const reports = await localReconcile({
          mode: opts.mode,
          repair: opts.repair,
          collections: names,
          shard,
          rawDir: opts.rawDir,
          log,
        });
        const seconds = Math.round((performance.now() - started) / 100) / 10;
        const final = reports.at(-1) as ReconcileReport;
        if (opts.json) console.log(JSON.stringify({ seconds, reports }, null, 2));
        else for (const r of reports) console.log(`${formatReconcile(r)}\n`);
        if (final.differences) process.exitCode = 1;
      },
    );
}

/** `--shard i/N`, refused with commander's usage error when it is not a shard. */
function shardArgument(text: string): Shard {
  try {
    return parseShard(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export interface LocalReconcileOptions {
  readonly mode?: "auto" | "full" | "incremental";
  readonly repair?: boolean;
  readonly collections?: readonly string[];
  /** Which devices, with their own passes and watermarks (default: all, {@link WHOLE}). */
  readonly shard?: Shard;
  readonly log?: Logger;
  /** Raw layer folder (default: the local runs'). */
  readonly rawDir?: string;
  /** Secret names' prefix (tests use their own). */
  readonly secretPrefix?: string;
}

/**
 * Reconcile the local stack; with `repair`, also curate the replayed windows and reconcile
 * again. Returns each reconcile's report, the last one saying where the lake stands.
 */
export async function localReconcile(options: LocalReconcileOptions = {}): Promise<ReconcileReport[]> {
  const config = loadLocalConfig();
  const log = options.log ?? pino({ level: "warn" }, pino.destination(2));
  const functions = await localFunctions(config, {
    rawDir: options.rawDir ?? join(LOCAL_LAKE_DIR, "raw"),
    metricsFile: join(LOCAL_LAKE_DIR, "metrics.emf.jsonl"),
    log,
    secretPrefix: options.secretPrefix,
  });
  try {
    const deps = await reconcileDeps(functions.runtime, log);
    const run = (mode: "auto" | "full" | "incremental", repair: boolean) =>
      reconcile(deps, {
        runId: `local-reconcile-${Date.now()}`,
        mode,
        repair,
        collections: options.collections,
        shard: options.shard ?? WHOLE,
      });
    const first = await run(options.mode ?? "auto", options.repair ?? false);
    if (!first.windowsReplayed) return [first];
    // The replayed windows are raw objects with new ledger rows: curate merges them.
    await runSparkJob(
      localGlueJobs(config, {
        tablesFile: await writeJobTables(),
        rawDir: options.rawDir,
        secretPrefix: options.secretPrefix,
      }).curate,
    );
    return [first, await run("incremental", false)];
  } finally {
    await functions.close();
  }
}

const n = count;

/** The headline: `reconcile: 0 differences (...)`, the line `npm start` ends its summary with. */
export function reconcileLine(
  r: Pick<ReconcileReport, "differences" | "daysChecked" | "mode" | "quarantined" | "inFlight"> & {
    readonly shard?: Shard;
  },
): string {
  const shard = r.shard && r.shard.count > 1 ? ` shard ${formatShard(r.shard)}` : "";
  return (
    `reconcile${shard}: ${n(r.differences)} difference${r.differences === 1 ? "" : "s"} ` +
    `(${r.mode}, ${n(r.daysChecked)} device-days checked; accounted for: ${n(r.quarantined)} quarantined, ${n(r.inFlight)} in flight)`
  );
}

/** The state machine stage's output: the headline, and the differences by cause. */
export function formatReconcileOutput(r: ReconcileOutput): string {
  const out = [reconcileLine(r)];
  if (!r.complete) out.push("  the pass ran out of time: the next reconcile continues it");
  const causes = Object.entries(r.byCause).filter(([cause]) => !CAUSES[cause as Cause].accounted);
  if (causes.length)
    out.push(
      `  ${causes.map(([cause, count]) => `${cause} ×${count}`).join(", ")}: npm run reconcile lists them, --repair fixes what it can`,
    );
  return out.join("\n");
}

/** The headline, then each difference with its cause, and what `--repair` can do about them. */
export function formatReconcile(r: ReconcileReport): string {
  const out = [reconcileLine(r)];
  if (!r.complete) out.push("  the pass ran out of time: the next reconcile continues it");
  if (r.windowsReplayed || r.documentsQuarantinedByRepair)
    out.push(
      `  repair: ${n(r.windowsReplayed)} windows replayed, ${n(r.documentsQuarantinedByRepair)} documents quarantined`,
    );
  const differences = r.findings.filter(isDifference);
  if (!differences.length) return out.join("\n");
  const rows = differences
    .slice(0, SHOWN)
    .map((f: Finding) => [
      f.cause,
      f.collection,
      f.idDevice === null ? null : String(f.idDevice),
      f.day,
      f.count,
      `${n(f.source)}/${n(f.curated)}/${n(f.quarantined)}/${n(f.inFlight)}`,
      f.detail,
    ]);
  const head = [
    { header: "cause" },
    { header: "collection" },
    { header: "device", align: "right" as const },
    { header: "day" },
    { header: "count", align: "right" as const },
    { header: "source/curated/quarantined/in flight" },
    { header: "detail" },
  ];
  out.push(formatTable(head, rows));
  if (differences.length > SHOWN)
    out.push(
      `  … and ${n(differences.length - SHOWN)} more (reconcile_difference, reconcile_id ${r.reconcileId})`,
    );
  const fixable = differences.filter((f) => CAUSES[f.cause].repair !== null).length;
  if (fixable && !r.windowsReplayed)
    out.push(`  ${n(fixable)} of them can be repaired: npm run reconcile -- --repair`);
  return out.join("\n");
}
