/**
 * The analysts' views (docs/design.md §5): SQL over the curated and postgres tables, declared once
 * here and rendered for each engine that runs them: Athena (Trino SQL; Pulumi declares each as a
 * Glue view in the `analytics` database) and Spark SQL (the local lake, where the analytics job
 * creates them). Tables are named `database.table`: Athena resolves them in its default catalog,
 * the local job in the lake's catalog (its current catalog). The few functions the two engines
 * spell differently go through {@link SqlDialect}; everything else is the SQL both accept.
 *
 * Each view lists its columns with registry types: the Glue view's schema, the QuickSight
 * dataset's input columns and the local dashboard's fields come from them, and the tests check the
 * engines return exactly these.
 */
import { collection, lakeName } from "../schema/registry.js";
import { deviceVersions, REPORT_DATABASE, type ReportColumn } from "../schema/reports.js";
import { ALARM_CODE_NAMES } from "./alarm-codes.js";

export const DIALECTS = ["athena", "spark"] as const;
export type Dialect = (typeof DIALECTS)[number];

/** What Trino (Athena engine 3) and Spark 3.5 spell differently. */
export interface SqlDialect {
  /** Whole milliseconds from `from` to `to` (negative when `to` is earlier), as a bigint. */
  millisBetween(from: string, to: string): string;
  /** The current instant, as a timestamp without time zone in UTC (both engines' sessions run in UTC). */
  readonly now: string;
  /** `value` as text. */
  text(value: string): string;
  /**
   * How a view names another view: Athena `analytics.<name>`; locally a session view of the
   * analytics job (the local Iceberg catalog keeps tables, not views), unqualified.
   */
  view(name: string): string;
  /**
   * An instant column as the view returns it: Athena reads the lake's Iceberg `timestamptz` as a
   * zoned timestamp, which QuickSight does not take, so it becomes a plain UTC `timestamp(6)`;
   * Spark's timestamps carry no zone already.
   */
  instant(column: string): string;
}

export const SQL_DIALECTS: Record<Dialect, SqlDialect> = {
  athena: {
    millisBetween: (from, to) => `date_diff('millisecond', ${from}, ${to})`,
    // Trino's current_timestamp carries a zone; the tables' timestamps do not.
    now: "CAST(current_timestamp AT TIME ZONE 'UTC' AS timestamp)",
    text: (value) => `CAST(${value} AS varchar)`,
    view: (name) => `${REPORT_DATABASE}.${name}`,
    instant: (column) => `CAST(${column} AT TIME ZONE 'UTC' AS timestamp(6))`,
  },
  spark: {
    millisBetween: (from, to) => `timestampdiff(MILLISECOND, ${from}, ${to})`,
    now: "current_timestamp()",
    text: (value) => `CAST(${value} AS string)`,
    view: (name) => name,
    instant: (column) => column,
  },
};

export interface ViewColumn extends ReportColumn {
  /** What the column holds, for the catalog, QuickSight and the analysts' README. */
  readonly description: string;
}

export interface ViewDefinition {
  readonly name: string;
  readonly database: typeof REPORT_DATABASE;
  readonly description: string;
  readonly columns: readonly ViewColumn[];
  /** The SELECT the view stands for, in `dialect`. */
  sql(dialect: Dialect): string;
}

/**
 * The longest time to reset a figure believes: a year (ADR 0013). Longer ones (a `resetTS` in year
 * 9999) and resets before the activation are implausible: `alarms_enriched` names why, and
 * `alarm_facts`, which every figure of the Alarms report counts, leaves them out.
 */
export const MAX_PLAUSIBLE_TTR_MINUTES = 365 * 24 * 60;
export const EXCLUSIONS = ["reset_before_active", "reset_too_late"] as const;

const col = (name: string, type: ViewColumn["type"], nullable: boolean, description: string): ViewColumn => ({
  name,
  type,
  nullable,
  description,
});

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** `101 door open during cooking` for a known code, the number for another: one CASE both engines read. */
function codeLabelSql(code: string, dialect: SqlDialect): string {
  const whens = ALARM_CODE_NAMES.map((c) => `WHEN ${c.code} THEN ${quote(`${c.code} ${c.name}`)}`).join(" ");
  return `CASE ${code} ${whens} ELSE ${dialect.text(code)} END`;
}

const alarmColumns = [
  col("alarm_id", "string", false, "the alarm document's id"),
  col("id_device", "int64", false, "the device that raised it"),
  col("device_serial", "string", true, "the device's serial number (NULL: device not in ddc)"),
  col("device_model", "string", true, "the device's model"),
  col("id_company", "int64", true, "the company that owns the device"),
  col("company_name", "string", true, "the company's name"),
  col("code", "int32", false, "the alarm code"),
  col(
    "code_label",
    "string",
    false,
    "the code with its name where known, e.g. '101 door open during cooking'",
  ),
  col("alarm_class", "string", false, "info, warning, error or service"),
  col("active_ts", "timestamp", false, "when the alarm became active (UTC)"),
  col("reset_ts", "timestamp", true, "when it was reset (UTC); NULL while open"),
  col("day", "date", false, "UTC day of activation"),
  col("state", "string", false, "'open' or 'reset'"),
  col("ttr_minutes", "float64", true, "time to reset in minutes; NULL while open"),
] as const satisfies readonly ViewColumn[];

/** Every curated alarm with its device, company and code name; implausible ones marked. */
export const alarmsEnriched: ViewDefinition = {
  name: "alarms_enriched",
  database: REPORT_DATABASE,
  description: "every alarm with its device, company, code name, state and time to reset",
  columns: [
    ...alarmColumns,
    col(
      "exclusion",
      "string",
      true,
      `why the figures leave it out: ${EXCLUSIONS.join(" or ")}; NULL when counted`,
    ),
  ],
  sql(dialect) {
    const d = SQL_DIALECTS[dialect];
    const minutes = `CAST(${d.millisBetween("a.active_ts", "a.reset_ts")} AS double) / 60000.0`;
    return `SELECT
  a.id AS alarm_id,
  a.id_device,
  d.serial AS device_serial,
  d.model AS device_model,
  d.id_company,
  c.name AS company_name,
  a.code,
  ${codeLabelSql("a.code", d)} AS code_label,
  a.class AS alarm_class,
  ${d.instant("a.active_ts")} AS active_ts,
  ${d.instant("a.reset_ts")} AS reset_ts,
  CAST(a.active_ts AS date) AS day,
  CASE WHEN a.reset_ts IS NULL THEN 'open' ELSE 'reset' END AS state,
  ${minutes} AS ttr_minutes,
  CASE WHEN ${minutes} < 0 THEN 'reset_before_active'
       WHEN ${minutes} > ${MAX_PLAUSIBLE_TTR_MINUTES} THEN 'reset_too_late' END AS exclusion
FROM mongodb.alarm a
LEFT JOIN postgres.device d ON d.id = a.id_device
LEFT JOIN postgres.company c ON c.id = d.id_company`;
  },
};

/** What every figure of the Alarms report counts: the plausible alarms, stamped with the query time. */
export const alarmFacts: ViewDefinition = {
  name: "alarm_facts",
  database: REPORT_DATABASE,
  description: "the alarms every figure of the Alarms report counts: plausible ones, one row each",
  columns: [...alarmColumns, col("generated_at", "timestamp", false, "when these rows were read (UTC)")],
  sql(dialect) {
    const names = alarmColumns.map((c) => c.name).join(", ");
    return `SELECT ${names}, ${SQL_DIALECTS[dialect].now} AS generated_at
FROM ${SQL_DIALECTS[dialect].view(alarmsEnriched.name)}
WHERE exclusion IS NULL`;
  },
};

/** The alarms open now, oldest first in any sensible sort. */
export const openAlarms: ViewDefinition = {
  name: "open_alarms",
  database: REPORT_DATABASE,
  description: "alarms not reset yet: which device, which company, open since when",
  columns: [
    ...alarmColumns.filter((c) => !["reset_ts", "state", "ttr_minutes"].includes(c.name)),
    col("open_hours", "float64", false, "hours since activation, at query time"),
  ],
  sql(dialect) {
    const d = SQL_DIALECTS[dialect];
    const names = this.columns
      .map((c) => c.name)
      .filter((n) => n !== "open_hours")
      .join(", ");
    return `SELECT ${names}, CAST(${d.millisBetween("active_ts", d.now)} AS double) / 3600000.0 AS open_hours
FROM ${d.view(alarmsEnriched.name)}
WHERE reset_ts IS NULL`;
  },
};

const variableLogs = collection("variable_logs");
const variableLogsTime = lakeName(variableLogs, variableLogs.timestampField);
/** The readings of variable_logs: every column but the device and the instant. */
const readings = variableLogs.columns.filter((c) => c.name !== "id_device" && c.name !== variableLogsTime);

/** variable_logs per device and hour: samples and each reading's mean, minimum and maximum. */
export const variableLogsHourly: ViewDefinition = {
  name: "variable_logs_hourly",
  database: REPORT_DATABASE,
  description: "oven readings per device and UTC hour: samples, and each reading's mean, minimum and maximum",
  columns: [
    col("id_device", "int64", false, "the device"),
    col("hour", "timestamp", false, "the UTC hour the readings fall in"),
    col("samples", "int64", false, "readings rows in the hour"),
    ...readings.flatMap((r) =>
      (["avg", "min", "max"] as const).map((f) =>
        col(
          `${r.name}_${f}`,
          "float64",
          true,
          `${r.name}: ${{ avg: "mean", min: "minimum", max: "maximum" }[f]} in the hour`,
        ),
      ),
    ),
  ],
  sql(dialect) {
    const time = variableLogsTime;
    const aggregates = readings.flatMap((r) =>
      (["avg", "min", "max"] as const).map((f) => `${f}(${r.name}) AS ${r.name}_${f}`),
    );
    const hour = SQL_DIALECTS[dialect].instant(`date_trunc('hour', ${time})`);
    return `SELECT id_device, ${hour} AS hour, count(*) AS samples,
  ${aggregates.join(",\n  ")}
FROM mongodb.${variableLogs.name}
GROUP BY id_device, date_trunc('hour', ${time})`;
  },
};

const VERSION_COLUMN_DESCRIPTIONS: Readonly<Record<string, string>> = {
  id_device: "the device",
  id_company: "the company that owned it in this version",
  valid_from: "when this version began (UTC): the source's updated_at, or when the lake saw it",
  valid_to: "when the next version began or the device left ddc (UTC); NULL for the current one",
  recorded_at: "when the lake read this version from ddc (UTC)",
};

/**
 * The device history: every version of a device's attributes with the interval it held, and the
 * owning company's name. Time travel as of any instant is a predicate on the interval:
 * `valid_from <= t AND (valid_to IS NULL OR valid_to > t)`. The company's name is today's (ddc
 * keeps no history of names).
 */
export const deviceHistory: ViewDefinition = {
  name: "device_history",
  database: REPORT_DATABASE,
  description:
    "every version of each device (model, company, firmware, ...) and when it held: time travel by date",
  columns: [
    ...deviceVersions.columns.flatMap((c) => {
      const column = col(
        c.name,
        c.type,
        c.nullable,
        VERSION_COLUMN_DESCRIPTIONS[c.name] ?? `the device's ${c.name.replaceAll("_", " ")} in this version`,
      );
      return c.name === "id_company"
        ? [column, col("company_name", "string", true, "the company's name (today's)")]
        : [column];
    }),
    col("is_current", "boolean", false, "whether this is the device's version now"),
  ],
  sql(dialect) {
    const d = SQL_DIALECTS[dialect];
    const instants = new Set(["valid_from", "valid_to", "recorded_at"]);
    const select = this.columns.map((c) => {
      if (c.name === "company_name") return "c.name AS company_name";
      if (c.name === "is_current") return "v.valid_to IS NULL AS is_current";
      return instants.has(c.name) ? `${d.instant(`v.${c.name}`)} AS ${c.name}` : `v.${c.name}`;
    });
    return `SELECT
  ${select.join(",\n  ")}
FROM ${REPORT_DATABASE}.${deviceVersions.name} v
LEFT JOIN postgres.company c ON c.id = v.id_company`;
  },
};

/** Every view, in the order they must be created (a view after the views it reads). */
export const views: readonly ViewDefinition[] = [
  alarmsEnriched,
  alarmFacts,
  openAlarms,
  variableLogsHourly,
  deviceHistory,
];

export function view(name: string): ViewDefinition {
  const found = views.find((v) => v.name === name);
  if (!found) throw new Error(`unknown view ${name}`);
  return found;
}
