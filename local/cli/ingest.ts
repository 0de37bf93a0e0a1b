/**
 * `ingest`: MongoDB → raw once, as the deployed state machine's ingestion branch (plan, a Map of
 * workers, summary) executed locally, with progress bars. `npm start` runs the same branch inside
 * the whole pipeline; this command lets a test or a user run it alone, into any folder, with the
 * databases the environment names.
 */
import { join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { ConfigError } from "../../pipeline/errors.js";
import type { SummaryOutput } from "../../pipeline/lambda/events.js";
import { failedStages } from "../../pipeline/orchestration/state-machine.js";
import { collections } from "../../pipeline/schema/registry.js";
import { loadLocalConfig } from "../config.js";
import type { LocalExecution } from "../orchestration/local-machine.js";
import { LOCAL_MAP_CONCURRENCY, type LocalRunReport, runLocalIngestion } from "../orchestration/local-run.js";
import { cliLogger } from "./log.js";
import { ingestProgress } from "./progress.js";
import { count, formatTable, plural } from "./table.js";

/** Where local runs keep their lake artefacts (git-ignored). */
export const LOCAL_LAKE_DIR = ".local/lake";

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number ≥ 1");
  return n;
};

export function ingestCommand(): Command {
  return new Command("ingest")
    .description("ingest MongoDB → raw Parquet once (plan, workers, summary) into a local folder")
    .option("--raw-dir <dir>", "raw layer folder", join(LOCAL_LAKE_DIR, "raw"))
    .option("--collections <names>", "comma-separated collections (default: all)")
    .addOption(
      new Option("--mode <mode>", "batch sizing; auto = bulk on the first run")
        .choices(["auto", "bulk", "operations"])
        .default("auto"),
    )
    .option(
      "--concurrency <n>",
      "workers at once (the Map's MaxConcurrency)",
      positiveInt,
      LOCAL_MAP_CONCURRENCY,
    )
    .option("--budget-seconds <s>", "each worker's time budget, as a Lambda's (default: none)", positiveInt)
    .option("--no-source-counts", "skip estimatedDocumentCount in the summary (a scan on FerretDB)")
    .option("--json", "print the summary as JSON", false)
    .action(
      async (opts: {
        rawDir: string;
        collections?: string;
        mode: "auto" | "bulk" | "operations";
        concurrency: number;
        budgetSeconds?: number;
        sourceCounts: boolean;
        json: boolean;
      }) => {
        const names = collectionsOption(opts.collections);
        const report = await localIngest({
          rawDir: opts.rawDir,
          collections: names,
          mode: opts.mode,
          mapConcurrency: opts.concurrency,
          budgetMs: opts.budgetSeconds === undefined ? undefined : opts.budgetSeconds * 1000,
          sourceCounts: opts.sourceCounts,
          quiet: opts.json,
        });
        if (opts.json) console.log(JSON.stringify(report.summary, null, 2));
        if (!succeeded(report)) process.exitCode = 1;
      },
    );
}

/** `--collections a,b`: the names, each checked against the registry; undefined when not given. */
export function collectionsOption(text: string | undefined): string[] | undefined {
  const names = text?.split(",").map((s) => s.trim());
  const unknown = names?.filter((n) => !collections.some((c) => c.name === n)) ?? [];
  if (unknown.length) throw new ConfigError(`--collections: unknown collection(s) ${unknown.join(", ")}`);
  return names;
}

export interface LocalIngestOptions {
  readonly rawDir: string;
  readonly collections?: readonly string[];
  readonly mode?: "auto" | "bulk" | "operations";
  readonly mapConcurrency?: number;
  readonly budgetMs?: number;
  readonly sourceCounts?: boolean;
  readonly quiet?: boolean;
}

export async function localIngest(options: LocalIngestOptions): Promise<LocalRunReport> {
  const config = loadLocalConfig();
  const progress = ingestProgress();
  const { log, file } = cliLogger("ingest", {
    print: (line) => progress.note(line),
    // The progress prints each failed state and batch itself: the functions' `<step> failed`
    // records would say it again (they are in the log file, whole).
    omit: options.quiet ? undefined : (record) => typeof record.step === "string" && record.level >= 50,
  });
  const started = performance.now();
  if (!options.quiet) console.log(`ingesting MongoDB → raw into ${options.rawDir}`);
  let report: LocalRunReport;
  try {
    report = await runLocalIngestion(config, {
      ...options,
      metricsFile: join(LOCAL_LAKE_DIR, "metrics.emf.jsonl"),
      log,
      hooks: options.quiet ? {} : progress,
    });
  } finally {
    progress.stop();
  }
  if (!options.quiet) {
    if (report.summary) console.log(`\n${formatIngestSummary(report.summary)}`);
    console.log(describeExecution(report.execution, (performance.now() - started) / 1000));
    if (!succeeded(report)) console.log(`each failure in full, with its stack: ${file}`);
  }
  return report;
}

/** The execution ended well and no batch failed (failed batches do not fail the branch itself). */
export function succeeded(report: LocalRunReport): boolean {
  return report.execution.status === "SUCCEEDED" && report.summary?.status !== "failed";
}

/** One line per collection: this run's work, and how far the whole collection is. */
export function formatIngestSummary(s: SummaryOutput): string {
  if (!s.collections.length) return "nothing new since the last run";
  const head = [
    { header: "collection" },
    ...["batches", "failed", "uploaded", "quarantined", "MB", "devices done", "total / source"].map(
      (header) => ({ header, align: "right" as const }),
    ),
  ];
  const rows = s.collections.map((c) => [
    c.collection,
    c.batches,
    c.failedBatches,
    c.documentsUploaded,
    c.documentsQuarantined,
    (c.bytesUploaded / 1e6).toFixed(2),
    `${count(c.devicesDone)}/${count(c.devicesWithData)}`,
    `${count(c.documentsUploadedTotal)} / ${c.sourceDocuments === null || c.sourceDocuments === undefined ? "-" : count(c.sourceDocuments)}`,
  ]);
  const out = [formatTable(head, rows, { indent: 0 })];
  const drift = s.collections.filter((c) => c.topDrift.length);
  if (drift.length) {
    out.push("", "payload drift (fields outside the schema, folded into payload; all runs):");
    for (const c of drift)
      out.push(`  ${c.collection}: ${c.topDrift.map((d) => `${d.key} ×${count(d.count)}`).join(", ")}`);
  }
  if (s.devicesPending) out.push(`${plural(s.devicesPending, "device")} left for the next run (time budget)`);
  for (const f of s.failures) out.push(`FAILED ${f.collection} batch ${f.batch}: ${f.error}`);
  return out.join("\n");
}

export function describeExecution(e: LocalExecution, seconds: number): string {
  const retried = [...e.retries].map(([state, n]) => `${state} ×${n}`).join(", ");
  if (e.status === "SUCCEEDED")
    return `execution succeeded in ${seconds.toFixed(1)} s${retried ? ` (retries: ${retried})` : ""}`;
  // The stages that failed and why, as the console says it: not the Fail state's own Cause
  // (which names the state's fields), nor Step Functions' generic `States.TaskFailed`.
  const stages = failedStages(e.finalState).map(
    (f) => `\n  ${f.stage}: FAILED — ${f.error.replace(/^States\.TaskFailed: /, "")}`,
  );
  const why = stages.length ? "" : `: ${e.error}: ${e.cause}`;
  return `execution FAILED in ${seconds.toFixed(1)} s${why}${retried ? ` (retries: ${retried})` : ""}${stages.join("")}`;
}
