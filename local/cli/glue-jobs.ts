/**
 * The Glue jobs of local runs, as local Spark runs (local/orchestration/spark-job.ts) with the
 * local stack's settings: the state machine's Glue tasks in `npm start`, and the curate run that
 * `reconcile --repair` needs to bring replayed windows into curated.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { viewSources } from "../../pipeline/reports/athena-view.js";
import { alarmsReport } from "../../pipeline/reports/index.js";
import { views } from "../../pipeline/reports/views.js";
import { collections, jobTables, reportTables } from "../../pipeline/schema/index.js";
import type { LocalConfig } from "../config.js";
import type { JobInputs } from "../orchestration/job-inputs.js";
import { localSecretNames } from "../orchestration/local-deployment.js";
import type { SparkJob } from "../orchestration/spark-job.js";
import { LOCAL_LAKE_DIR } from "./ingest.js";

/** The Iceberg warehouse of local runs (the Hadoop catalog `lake`). */
export const LOCAL_WAREHOUSE = join(LOCAL_LAKE_DIR, "warehouse");
/** The Alarms report as an HTML dashboard with charts (locally; in AWS, QuickSight). */
export const LOCAL_DASHBOARD = join(LOCAL_LAKE_DIR, "reports", "alarms.html");
/**
 * The rows of the report's datasets (views) the analytics job writes for the HTML dashboard
 * (`lakehouse_glue.analytics.dashboard_data`), which the dashboard is rendered from.
 */
export const LOCAL_DASHBOARD_DATA = join(LOCAL_LAKE_DIR, "reports", "alarms-data.json");
/** The views whose rows the dashboard data holds: the Alarms report's datasets. */
const DASHBOARD_VIEWS = alarmsReport.datasets.map((d) => d.view.name);
/** The last successful run of each local job, with its inputs' fingerprint (job-inputs.ts). */
export const LOCAL_JOB_RECORDS = join(LOCAL_LAKE_DIR, "job-runs");
/** The job table list the jobs read (in AWS: the object Pulumi uploads). */
export const LOCAL_JOB_TABLES = join(LOCAL_LAKE_DIR, "job-tables.json");

/** Writes the registry's job table list where the local jobs read it. */
export async function writeJobTables(file = LOCAL_JOB_TABLES): Promise<string> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(jobTables(), null, 2)}\n`);
  return file;
}

/** `postgres://user:pass@host:port/db` → `jdbc:postgresql://host:port/db` (credentials apart). */
function jdbcUrl(url: string): string {
  const u = new URL(url);
  return `jdbc:postgresql://${u.hostname}:${u.port || 5432}${u.pathname}`;
}

/** Where the local jobs read and write; tests point them at their own folders. */
export interface LocalLakeDirs {
  readonly tablesFile: string;
  readonly warehouse: string;
  readonly rawDir: string;
  /** The HTML dashboard (rendered from `dashboardData`). */
  readonly dashboard: string;
  /** The dashboard's data: the rows of the report's views, written by the analytics job. */
  readonly dashboardData: string;
}

export const LOCAL_LAKE_DIRS: LocalLakeDirs = {
  tablesFile: LOCAL_JOB_TABLES,
  warehouse: LOCAL_WAREHOUSE,
  rawDir: join(LOCAL_LAKE_DIR, "raw"),
  dashboard: LOCAL_DASHBOARD,
  dashboardData: LOCAL_DASHBOARD_DATA,
};

export function localGlueJobs(
  config: LocalConfig,
  dirs: Partial<LocalLakeDirs> & { readonly secretPrefix?: string } = {},
) {
  const tablesFile = dirs.tablesFile ?? LOCAL_LAKE_DIRS.tablesFile;
  const warehouse = dirs.warehouse ?? LOCAL_LAKE_DIRS.warehouse;
  const rawDir = dirs.rawDir ?? LOCAL_LAKE_DIRS.rawDir;
  // Beside a dashboard the caller placed elsewhere (a test's folder), never over the local lake's.
  const dashboardData =
    dirs.dashboardData ??
    (dirs.dashboard
      ? join(dirname(dirs.dashboard), basename(LOCAL_DASHBOARD_DATA))
      : LOCAL_LAKE_DIRS.dashboardData);
  const support = new URL(config.SUPPORT_DATABASE_URL);
  return {
    postgresExtract: {
      name: "postgres_extract",
      module: "lakehouse_glue",
      args: [
        "postgres_extract",
        "--job-tables",
        resolve(tablesFile),
        "--warehouse",
        resolve(warehouse),
        // The secret the functions read, as in Glue: after a cutover it names production.
        "--secret-id",
        localSecretNames(dirs.secretPrefix).ddc,
      ],
    },
    curate: {
      name: "mongodb_curate",
      module: "lakehouse_glue",
      args: [
        "mongodb_curate",
        "--job-tables",
        resolve(tablesFile),
        "--warehouse",
        resolve(warehouse),
        "--raw-location",
        resolve(rawDir),
        "--jdbc-url",
        jdbcUrl(config.SUPPORT_DATABASE_URL),
        "--user",
        decodeURIComponent(support.username),
        "--password-env",
        "SUPPORT_DB_PASSWORD",
        // The ledger lag guards against workers still committing; locally the jobs run after
        // every worker has finished, and nothing else writes.
        "--lag-seconds",
        "0",
      ],
      env: { SUPPORT_DB_PASSWORD: decodeURIComponent(support.password) },
    },
    analytics: {
      name: "analytics",
      module: "lakehouse_glue",
      args: [
        "analytics",
        "--warehouse",
        resolve(warehouse),
        "--job-tables",
        resolve(tablesFile),
        "--dashboard-data",
        resolve(dashboardData),
        "--dashboard-views",
        DASHBOARD_VIEWS.join(","),
      ],
    },
  } as const satisfies Record<string, SparkJob>;
}

/**
 * What each local job reads and leaves, for skipping it when nothing changed
 * (local/orchestration/job-inputs.ts). postgres_extract has none here: its input is ddc, which
 * only the job itself reads whole; it always runs, and commits nothing when nothing changed.
 */
export function localJobInputs(dirs: Partial<LocalLakeDirs> = {}): Readonly<Record<string, JobInputs>> {
  const viewNames = new Set(views.map((v) => v.name));
  const viewTables = views.flatMap((v) =>
    viewSources(v)
      .filter((s) => !viewNames.has(s.table))
      .map((s) => `${s.database}.${s.table}`),
  );
  return {
    mongodb_curate: {
      tables: collections.map((c) => `mongodb.${c.name}`),
      ledger: true,
      outputs: [],
    },
    analytics: {
      // The report's sources, what the views read, and the tables the job writes.
      tables: [
        ...new Set([
          "mongodb.alarm",
          "postgres.device",
          "postgres.company",
          ...viewTables,
          ...reportTables.map((r) => `analytics.${r.name}`),
        ]),
      ],
      ledger: false,
      outputs: [resolve(dirs.dashboardData ?? LOCAL_LAKE_DIRS.dashboardData)],
    },
  };
}
