/**
 * The report tables of the `analytics` database: what the analytics Glue job writes and Athena,
 * QuickSight and the catalog read. Declared once here, beside the registry: Pulumi declares them
 * in Glue as Iceberg tables (infra/catalog.ts), the job receives them through the job tables
 * (job-tables.ts) and creates a missing one locally, and the report's QuickSight dataset takes its
 * columns from them (infra/reports.ts).
 *
 * No zod schema: no row of a report is ever parsed in TypeScript; Spark computes them. Columns are
 * declared directly in the registry's column types, plus `date`.
 */
import { RegistryError } from "../errors.js";
import type { ColumnType } from "./columns.js";
import { type IcebergSchema, icebergSchemaFrom } from "./iceberg.js";
import { table } from "./registry.js";
import { ICEBERG_TYPE, SPARK_TYPE } from "./targets.js";

/** Glue database (Spark namespace) of every report table. */
export const REPORT_DATABASE = "analytics";

/**
 * The registry's column types plus `date`, a UTC calendar day. Sources only ever carry instants,
 * so `date` stays out of {@link ColumnType}: the source-side targets (Parquet, the zod field
 * builders, the `ddc` DDL check) never meet it. A report groups by day, and Athena's
 * `day >= current_date - INTERVAL '90' DAY` wants a date, not a timestamp.
 */
export type ReportColumnType = ColumnType | "date";

/** Spark SQL type of a report column: the registry's, and `date`. */
export const REPORT_SPARK_TYPE = { ...SPARK_TYPE, date: "date" } as const satisfies Record<
  ReportColumnType,
  string
>;

/** Iceberg primitive type of a report column: the registry's, and `date`. */
export const REPORT_ICEBERG_TYPE = { ...ICEBERG_TYPE, date: "date" } as const satisfies Record<
  ReportColumnType,
  string
>;

/**
 * QuickSight input column types (`InputColumn.Type` of a dataset's physical table).
 * https://docs.aws.amazon.com/quicksight/latest/APIReference/API_InputColumn.html
 */
export type QuickSightType = "STRING" | "INTEGER" | "DECIMAL" | "DATETIME" | "BOOLEAN";

/**
 * QuickSight type of a report column. Doubles are DECIMAL (QuickSight has no float type); JSON
 * text stays STRING; a date is a DATETIME at midnight, which the dashboard truncates to the day.
 */
export const QUICKSIGHT_TYPE = {
  string: "STRING",
  json: "STRING",
  int32: "INTEGER",
  int64: "INTEGER",
  float64: "DECIMAL",
  boolean: "BOOLEAN",
  timestamp: "DATETIME",
  date: "DATETIME",
} as const satisfies Record<ReportColumnType, QuickSightType>;

export interface ReportColumn {
  /** Lake column name: lowercase snake_case, as every lake column (columns.ts). */
  readonly name: string;
  readonly type: ReportColumnType;
  readonly nullable: boolean;
}

export interface ReportTable<
  N extends string = string,
  C extends readonly ReportColumn[] = readonly ReportColumn[],
> {
  readonly kind: "report";
  readonly name: N;
  readonly database: typeof REPORT_DATABASE;
  readonly description: string;
  /**
   * In the order Spark, Athena and QuickSight show them. No partitioning: a report is small (one
   * row per group) and recomputed whole each run, so partitions would only multiply small files.
   */
  readonly columns: C;
}

/** The column names of a report table, as a type: a renamed column fails to compile where used. */
export type ReportColumnName<T extends ReportTable> = T["columns"][number]["name"];

const LAKE_NAME = /^[a-z_][a-z0-9_]*$/;

export function defineReportTable<const N extends string, const C extends readonly ReportColumn[]>(def: {
  readonly name: N;
  readonly description: string;
  readonly columns: C;
}): ReportTable<N, C> {
  const where = `${REPORT_DATABASE}.${def.name}`;
  if (!LAKE_NAME.test(def.name)) {
    throw new RegistryError(`${where}: not a lowercase snake_case name`, { table: def.name });
  }
  if (def.columns.length === 0) throw new RegistryError(`${where}: no columns`, { table: def.name });
  const names = def.columns.map((c) => c.name);
  const bad = names.find((n) => !LAKE_NAME.test(n));
  if (bad !== undefined) {
    throw new RegistryError(`${where}: column ${bad} is not a lowercase snake_case name`, {
      table: def.name,
      field: bad,
    });
  }
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) {
    throw new RegistryError(`${where}: column ${dup} is declared twice`, { table: def.name, field: dup });
  }
  return Object.freeze({
    kind: "report",
    name: def.name,
    database: REPORT_DATABASE,
    description: def.description,
    columns: Object.freeze([...def.columns]) as unknown as C,
  });
}

/** The grouping of both Alarms report tables: company, device model and alarm code. */
const alarmGroup = [
  // NULL for alarms of devices missing from `ddc` (left joins): they still count.
  { name: "id_company", type: "int64", nullable: true },
  { name: "company_name", type: "string", nullable: true },
  { name: "device_model", type: "string", nullable: true },
  { name: "code", type: "int32", nullable: false },
] as const satisfies readonly ReportColumn[];

/**
 * Exact percentiles of the time to reset (seconds), of plausible alarms only; NULL for a group
 * with no such reset alarm.
 */
const timeToReset = [
  { name: "ttr_p50_seconds", type: "float64", nullable: true },
  { name: "ttr_p90_seconds", type: "float64", nullable: true },
] as const satisfies readonly ReportColumn[];

/**
 * Implausible alarms, counted per reason and left out of every other figure of the row (ADR 0013,
 * `MAX_PLAUSIBLE_TTR_SECONDS` in glue/lakehouse_glue/analytics/alarms_report.py): a reset before
 * the activation, a reset more than a year after it (a `resetTS` in year 9999). So `alarms` plus
 * these is every curated alarm of the group. Last in each table, so the Iceberg field ids of the
 * columns before them stay as deployed.
 */
const excluded = [
  { name: "excluded_reset_before_active", type: "int64", nullable: false },
  { name: "excluded_reset_too_late", type: "int64", nullable: false },
] as const satisfies readonly ReportColumn[];

/** The Alarms report per UTC day of activation: what the QuickSight dashboard and Athena read. */
export const alarmsDaily = defineReportTable({
  name: "alarms_daily",
  description: "alarms per company, device model, alarm code and UTC day, with time to reset",
  columns: [
    ...alarmGroup,
    { name: "day", type: "date", nullable: false },
    { name: "alarms", type: "int64", nullable: false },
    { name: "alarms_reset", type: "int64", nullable: false },
    ...timeToReset,
    ...excluded,
  ],
});

/** Time to reset over the whole history: percentiles of days cannot be combined into these. */
export const alarmTimeToReset = defineReportTable({
  name: "alarm_time_to_reset",
  description: "time to reset per company, device model and alarm code, over the whole history",
  columns: [
    ...alarmGroup,
    { name: "alarms", type: "int64", nullable: false },
    { name: "alarms_reset", type: "int64", nullable: false },
    { name: "ttr_max_seconds", type: "float64", nullable: true },
    { name: "first_day", type: "date", nullable: false },
    { name: "last_day", type: "date", nullable: false },
    ...timeToReset,
    ...excluded,
  ],
});

/**
 * Device columns a version does not follow: `last_log_date` is a completeness mark the uploader
 * moves every day, `last_ip` and `city` follow the device's connection (`device_ip_info_history`
 * keeps them), and the audit columns say when, which the version's validity already does.
 */
export const DEVICE_HISTORY_IGNORED = [
  "last_log_date",
  "last_ip",
  "city",
  "created_at",
  "updated_at",
] as const;

/** The device attributes a version holds, with the registry's types: every column but the ignored. */
const deviceAttributes: readonly ReportColumn[] = table("device")
  .columns.filter((c) => c.name !== "id" && !(DEVICE_HISTORY_IGNORED as readonly string[]).includes(c.name))
  .map((c) => ({ name: c.name, type: c.type, nullable: c.nullable }));

/**
 * Every version of each device's attributes, with the interval it held (ADR 0018): the time
 * travel analysts query with a column predicate, and which outlives the Iceberg snapshots of
 * `postgres.device`. The analytics job adds a version when an attribute changes and closes the
 * previous one, in one commit; the table is never recomputed, so it is the one report table whose
 * rows are history rather than a function of the current lake.
 */
export const deviceVersions = defineReportTable({
  name: "device_versions",
  description: "every version of each device's attributes and when it held (UTC)",
  columns: [
    { name: "id_device", type: "int64", nullable: false },
    ...deviceAttributes,
    // From the source's updated_at when it is plausible, else when the lake saw it; a device's
    // first version from its created_at (ADR 0018).
    { name: "valid_from", type: "timestamp", nullable: false },
    { name: "valid_to", type: "timestamp", nullable: true },
    // The commit time of the postgres.device snapshot the version was read from.
    { name: "recorded_at", type: "timestamp", nullable: false },
  ],
});

export const reportTables = [alarmsDaily, alarmTimeToReset, deviceVersions] as const;
export type ReportTableName = (typeof reportTables)[number]["name"];

export function reportTable(name: string): ReportTable {
  const found = reportTables.find((t) => t.name === name);
  if (!found) throw new RegistryError(`unknown report table ${name}`, { table: name });
  return found;
}

/**
 * Iceberg schema of a report table, numbered as a registry entry's (`icebergSchemaFrom`).
 */
export function reportIcebergSchemaOf(table: ReportTable): IcebergSchema {
  return icebergSchemaFrom(table.columns, (col) => REPORT_ICEBERG_TYPE[col.type]);
}

/** The input columns of a QuickSight dataset that reads the table directly. */
export function quickSightColumnsOf<T extends ReportTable>(
  table: T,
): { name: ReportColumnName<T>; type: QuickSightType }[] {
  return table.columns.map((col) => ({
    name: col.name as ReportColumnName<T>,
    type: QUICKSIGHT_TYPE[col.type],
  }));
}
