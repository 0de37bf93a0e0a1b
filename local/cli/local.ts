/**
 * `local`: the main job on a machine without a cloud account (`npm start`). Loads the default
 * synthetic snapshot into the local stack (once; later runs keep what is there), then executes
 * the deployed state machine locally: `postgres_extract` on local Spark beside the MongoDB
 * ingestion (plan, workers, summary), with progress bars, and prints what each stage did.
 */
import { join, relative, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { describeConnection } from "../../pipeline/connections/secret.js";
import { TASK } from "../../pipeline/orchestration/state-machine.js";
import { MAX_SHARDS, ShardCountSchema } from "../../pipeline/reconcile/shard.js";
import { alarmsReport } from "../../pipeline/reports/index.js";
import { collections, tables } from "../../pipeline/schema/index.js";
import { loadLocalConfig } from "../config.js";
import { writeDashboard } from "../dashboard/page.js";
import {
  type InputsContext,
  inputsFingerprint,
  type JobInputs,
  JobRecords,
} from "../orchestration/job-inputs.js";
import { localSides, provisionLocalDeployment } from "../orchestration/local-deployment.js";
import type { TaskBinding } from "../orchestration/local-machine.js";
import { runLocalPipeline } from "../orchestration/local-run.js";
import { runSparkJob, type SparkJob, SparkJobError, sparkJobLog } from "../orchestration/spark-job.js";
import {
  formatSummary,
  loadSnapshot,
  openTargets,
  readSnapshotConnections,
  showSnapshot,
} from "../snapshot/index.js";
import { iso } from "../snapshot/time.js";
import { formatAlarmsReport } from "./alarms-report.js";
import {
  LOCAL_DASHBOARD,
  LOCAL_DASHBOARD_DATA,
  LOCAL_JOB_RECORDS,
  LOCAL_WAREHOUSE,
  localGlueJobs,
  localJobInputs,
  writeJobTables,
} from "./glue-jobs.js";
import { describeExecution, formatIngestSummary, LOCAL_LAKE_DIR } from "./ingest.js";
import { formatCurateResult, formatExtractResults } from "./job-results.js";
import { cliLogger } from "./log.js";
import { type IngestProgress, ingestProgress, type Stage } from "./progress.js";
import { formatReconcileOutput, reconcileLine } from "./reconcile.js";

export function localCommand(): Command {
  return new Command("local")
    .description("run the pipeline locally against the local stack (npm start)")
    .option("--rerun", "run every Glue job, even one whose inputs did not change since its last run")
    .option(
      "--no-source-counts",
      "count no source documents (FerretDB reads every document to count them: minutes on a large snapshot)",
    )
    .addOption(
      new Option(
        "--reconcile-shards <n>",
        "reconcile in n shards, one function each, as the stack's orchestration.reconcileShards (a new count starts full passes)",
      )
        .argParser((v) => {
          const count = ShardCountSchema.safeParse(Number(v));
          if (!count.success) throw new InvalidArgumentError(`a whole number from 1 to ${MAX_SHARDS}`);
          return count.data;
        })
        .default(1),
    )
    .action(async (options: { rerun?: boolean; sourceCounts: boolean; reconcileShards: number }) => {
      const config = loadLocalConfig();
      // Stage lines and live lines on stderr; log records there too, each one line printed above
      // the live lines, and whole in .local/log/local.log.
      const progress = ingestProgress();
      const { log, file: logFile } = cliLogger("local", {
        print: (line) => progress.note(line),
        // A failed task or batch has its stage line or batch line already (progress.ts).
        omit: (record) => typeof record.step === "string" && record.level >= 50,
      });
      // The sources the functions will read: the local deployment's secrets, which a cutover
      // (npm run cutover -- --stack local) switches to the production settings.
      const { reading } = await provisionLocalDeployment(config);
      const sides = localSides(config);
      const ddc = sides[reading.ddc].ddc;
      const mongodb = sides[reading.mongodb].mongodb;
      console.log(
        `sources: ddc ${ddc ? describeConnection(ddc) : "?"} (${reading.ddc}) · MongoDB ${mongodb ? `${describeConnection(mongodb)}${mongodb.dbname}` : "?"} (${reading.mongodb})`,
      );
      const targets = await openTargets(readSnapshotConnections());
      try {
        // Counting the snapshot's rows takes seconds on FerretDB: part of the stage, so its live
        // line shows them.
        const loading = progress.stage(
          "snapshot",
          "(loads the default synthetic snapshot if none is loaded, counts its rows)",
        );
        const { report, counts } = await staged(loading, async () => {
          const report = await loadSnapshot(targets, { log, keepLoaded: true });
          return { report, counts: await showSnapshot(targets, { countDocuments: options.sourceCounts }) };
        });
        const c = report.config;
        loading.succeeded(
          report.status === "loaded"
            ? `loaded seed ${c.seed}, ${c.devices} devices, ${c.days} days`
            : `already loaded (seed ${c.seed}, ${c.devices} devices, clock ${iso(report.clock.getTime())}); ` +
                "npm run snapshot -- load --reset reloads it, advance adds days",
        );
        console.log(`\n${formatSummary(counts)}`);
      } finally {
        await targets.close();
      }

      const tablesFile = await writeJobTables();
      console.log(
        `\nlake tables defined by the registry: ${collections.length} in mongodb, ${tables.length} in postgres; ` +
          `Glue job table list: ${tablesFile}`,
      );

      const jobResults = new Map<string, readonly unknown[]>();
      const failedJobs = new Set<string>();
      const glue = localGlueJobs(config, { tablesFile });
      const skipping: Skipping | undefined = options.rerun
        ? undefined
        : {
            inputs: localJobInputs(),
            context: { warehouse: LOCAL_WAREHOUSE, supportDatabaseUrl: config.SUPPORT_DATABASE_URL },
            records: new JobRecords(LOCAL_JOB_RECORDS),
            skipped: new Set(),
          };
      const jobs: Record<string, TaskBinding> = {
        [TASK.postgresExtract]: sparkBinding(
          glue.postgresExtract,
          progress,
          { results: jobResults, failed: failedJobs },
          skipping,
        ),
        [TASK.curate]: sparkBinding(
          glue.curate,
          progress,
          { results: jobResults, failed: failedJobs },
          skipping,
        ),
        [TASK.analytics]: sparkBinding(
          glue.analytics,
          progress,
          { results: jobResults, failed: failedJobs },
          skipping,
        ),
      };
      console.log(
        `\nexecuting the state machine locally: (PostgreSQL → Iceberg ∥ MongoDB → raw) → curated → analytics, in ${LOCAL_WAREHOUSE}`,
      );
      const started = performance.now();
      let run: Awaited<ReturnType<typeof runLocalPipeline>>;
      try {
        run = await runLocalPipeline(
          config,
          {
            rawDir: join(LOCAL_LAKE_DIR, "raw"),
            metricsFile: join(LOCAL_LAKE_DIR, "metrics.emf.jsonl"),
            log,
            hooks: progress,
            sourceCounts: options.sourceCounts,
            reconcileShards: options.reconcileShards,
          },
          jobs,
        );
      } finally {
        progress.stop();
      }
      if (run.summary) console.log(`\n${formatIngestSummary(run.summary)}`);
      const extract = jobResults.get("postgres_extract");
      if (extract) console.log(`\n${formatExtractResults(extract)}`);
      const curated = jobResults.get("mongodb_curate")?.at(-1);
      if (skipping?.skipped.has("mongodb_curate"))
        console.log(
          "\nmongodb_curate: skipped, nothing new in the file ledger or curated since its last run",
        );
      else if (curated) console.log(`\n${formatCurateResult(curated)}`);
      const report = jobResults.get("analytics")?.at(-1);
      // A failed analytics job wrote no report or dashboard data: the page stays as it was.
      if (report && !failedJobs.has("analytics")) {
        console.log(`\n${formatAlarmsReport(report)}`);
        // The dashboard: the report definition rendered over the rows the job read from its views.
        const rendering = progress.stage("dashboard");
        const page = await staged(rendering, () =>
          writeDashboard(alarmsReport, LOCAL_DASHBOARD_DATA, LOCAL_DASHBOARD, { source: LOCAL_WAREHOUSE }),
        );
        rendering.succeeded(
          `${alarmsReport.visuals.length} visuals, filters, opens offline: ${resolve(page)}`,
        );
      }
      // The proof that nothing was lost: the Reconcile stage's verdict (the findings are in the
      // support database; `npm run reconcile` prints them one by one).
      if (run.reconcile) console.log(`\n${formatReconcileOutput(run.reconcile)}`);
      if (run.reconcileShards.length > 1)
        for (const shard of [...run.reconcileShards].sort((a, b) => a.shard.index - b.shard.index))
          console.log(`  ${reconcileLine(shard)}`);
      console.log(`\n${describeExecution(run.execution, (performance.now() - started) / 1000)}`);
      // The Outcome state fails the execution when any stage (a caught Glue failure too) failed.
      if (run.execution.status !== "SUCCEEDED" || run.summary?.status === "failed") {
        console.log(`each failure in full, with its stack: ${logFile} (a Glue job's: .local/log/<job>.log)`);
        process.exitCode = 1;
      }
    });
}

/** Skipping a job whose inputs did not change since its last successful run (job-inputs.ts). */
interface Skipping {
  readonly inputs: Readonly<Record<string, JobInputs>>;
  readonly context: InputsContext;
  readonly records: JobRecords;
  /** The jobs this run skipped: their results are the last run's, not this one's. */
  readonly skipped: Set<string>;
}

/**
 * A Glue task bound to its job on local Spark. Its stage lines come from the state's events
 * (progress.ts); the job's output lines keep its live line moving, and a failed job's results
 * (postgres_extract's lines per table) are kept for the summary all the same. A job with inputs
 * declared is skipped when they are as its last successful run left them.
 */
function sparkBinding(
  job: SparkJob,
  progress: IngestProgress,
  { results, failed }: { results: Map<string, readonly unknown[]>; failed: Set<string> },
  skipping?: Skipping,
): TaskBinding {
  progress.describe(job.name, `on local Spark (log: ${relative(process.cwd(), sparkJobLog(job.name))})`);
  const inputs = skipping?.inputs[job.name];
  const fingerprint = () =>
    skipping && inputs ? inputsFingerprint(job, inputs, skipping.context) : undefined;
  return async () => {
    const last = inputs ? await skipping?.records.last(job.name) : undefined;
    if (last && last.fingerprint === (await fingerprint())) {
      skipping?.skipped.add(job.name);
      results.set(job.name, last.run.results);
      progress.outcome(job.name, `skipped: nothing new since its run at ${last.at} (--rerun runs it anyway)`);
      return last.run;
    }
    try {
      const run = await runSparkJob(job, { onLine: (line) => progress.output(job.name, line) });
      results.set(job.name, run.results);
      // What the inputs are now, the job's own commits included: the next run compares to it.
      const now = await fingerprint();
      if (now) await skipping?.records.save(job.name, now, run);
      return run;
    } catch (error) {
      await skipping?.records.forget(job.name);
      failed.add(job.name);
      if (error instanceof SparkJobError) results.set(job.name, error.results);
      throw error;
    }
  };
}

/** Runs `work` as `stage`: a failure ends the stage with the error's first line, and is rethrown. */
async function staged<T>(stage: Stage, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    stage.failed(String((error as Error).message ?? error).split("\n")[0] ?? "");
    throw error;
  }
}
