/**
 * `lakehouse extract | curate | analytics`: one Glue job of the pipeline on local Spark, exactly
 * as `npm start` runs it as a state of the state machine: to rerun a stage that failed, or one
 * stage after a change, without the rest. Arguments after `--` go to the job itself (its options:
 * `.local/venv/bin/python -m lakehouse_glue <job> --help`), e.g. `npm run extract -- --tables
 * device` or `-- --allow-shrink device`.
 */
import { relative, resolve } from "node:path";
import { Command } from "commander";
import { alarmsReport } from "../../pipeline/reports/index.js";
import { loadLocalConfig } from "../config.js";
import { writeDashboard } from "../dashboard/page.js";
import { provisionLocalDeployment } from "../orchestration/local-deployment.js";
import { runSparkJob, type SparkJob, SparkJobError, sparkJobLog } from "../orchestration/spark-job.js";
import { formatAlarmsReport } from "./alarms-report.js";
import {
  LOCAL_DASHBOARD,
  LOCAL_DASHBOARD_DATA,
  LOCAL_WAREHOUSE,
  localGlueJobs,
  writeJobTables,
} from "./glue-jobs.js";
import { formatCurateResult, formatExtractResults } from "./job-results.js";
import { ingestProgress } from "./progress.js";

type GlueJobs = ReturnType<typeof localGlueJobs>;

interface JobCommand {
  readonly command: string;
  readonly job: keyof GlueJobs;
  readonly description: string;
  readonly aliases?: readonly string[];
  /** What to print from the job's JSON lines once it ended (also after a failure: `ok` false). */
  readonly print: (results: readonly unknown[], ok: boolean) => Promise<string | undefined>;
}

export const JOB_COMMANDS: readonly JobCommand[] = [
  {
    command: "extract",
    job: "postgresExtract",
    description: "postgres_extract alone: the ddc tables into Iceberg (lake.postgres.*)",
    print: async (results) => (results.length ? formatExtractResults(results) : undefined),
  },
  {
    command: "curate",
    job: "curate",
    description: "mongodb_curate alone: the raw objects the file ledger lists into curated Iceberg",
    print: async (results) => {
      const last = results.at(-1);
      return last === undefined ? undefined : formatCurateResult(last);
    },
  },
  {
    command: "analytics",
    job: "analytics",
    aliases: ["report"],
    description:
      "analytics alone: the Alarms report tables, the device history and the dashboard, from curated",
    print: async (results, ok) => {
      const last = results.at(-1);
      // A failed run wrote no dashboard data of its own: the page stays as the last run left it.
      if (last === undefined || !ok) return undefined;
      const page = await writeDashboard(alarmsReport, LOCAL_DASHBOARD_DATA, LOCAL_DASHBOARD, {
        source: LOCAL_WAREHOUSE,
      });
      return `${formatAlarmsReport(last)}\n  dashboard: ${resolve(page)}`;
    },
  },
];

export function jobCommands(): Command[] {
  return JOB_COMMANDS.map((spec) =>
    new Command(spec.command)
      .description(`${spec.description}; arguments after -- go to the job`)
      .aliases([...(spec.aliases ?? [])])
      .argument("[job-arguments...]", "passed to the job (python -m lakehouse_glue <job> --help lists them)")
      // The job's own options (`--tables device`) are the job's to check, not this command's.
      .allowUnknownOption()
      .action(async (jobArguments: string[]) => {
        process.exitCode = await runJob(spec, jobArguments);
      }),
  );
}

async function runJob(spec: JobCommand, jobArguments: readonly string[]): Promise<number> {
  const config = loadLocalConfig();
  // The secrets postgres_extract reads its login from, as npm start provisions them.
  await provisionLocalDeployment(config);
  const base = localGlueJobs(config, { tablesFile: await writeJobTables() })[spec.job];
  const job: SparkJob = { ...base, args: [...base.args, ...jobArguments] };
  const progress = ingestProgress();
  const stage = progress.stage(
    job.name,
    `on local Spark (log: ${relative(process.cwd(), sparkJobLog(job.name))})`,
  );
  let results: readonly unknown[] = [];
  let failure: string | undefined;
  try {
    const run = await runSparkJob(job, { onLine: (line) => progress.output(job.name, line) });
    results = run.results;
    stage.succeeded();
  } catch (error) {
    if (!(error instanceof SparkJobError)) {
      progress.stop();
      throw error;
    }
    results = error.results;
    failure = error.reason;
    stage.failed(`${error.reason} (log: ${relative(process.cwd(), error.logFile)})`);
  } finally {
    progress.stop();
  }
  const printed = await spec.print(results, failure === undefined);
  if (printed) console.log(`\n${printed}`);
  return failure === undefined ? 0 : 1;
}
