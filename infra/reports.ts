/**
 * The saved Athena queries of the deployment (docs/design.md §4–5), pure data, no Pulumi: the
 * Alarms report over the table the `analytics` job writes, and one query per analysts' question
 * (pipeline/reports/questions.ts) over the views. The QuickSight dashboard and Q topic are
 * rendered from the report definition instead (infra/quicksight-dashboard.ts,
 * infra/quicksight-topic.ts).
 *
 * The Alarms report query reads `analytics.alarms_daily`, the registry's report table
 * `alarmsDaily` (pipeline/schema/reports.ts), which the analytics job writes: exact daily
 * percentiles per group, computed by Spark, and a small table to scan. A column named here that
 * the table does not declare fails to compile.
 */
import type { AnalystQuestion } from "../pipeline/reports/questions.js";
import {
  alarmsDaily,
  type QuickSightType,
  quickSightColumnsOf,
  type ReportColumnName,
} from "../pipeline/schema/index.js";

export const ALARMS_DAILY = { database: alarmsDaily.database, table: alarmsDaily.name } as const;

type DailyColumn = ReportColumnName<typeof alarmsDaily>;

/**
 * The table's columns as a QuickSight dataset would take them. No dataset reads the table any
 * more (the dashboard reads the views); kept for what checks the table against the registry.
 */
export const ALARMS_DAILY_COLUMNS: readonly { readonly name: DailyColumn; readonly type: QuickSightType }[] =
  quickSightColumnsOf(alarmsDaily);

/** A column of the table in SQL text, checked against the declaration at compile time. */
const c = (name: DailyColumn) => name;

/** The Alarms report of the last 90 days, saved as an Athena named query. */
export const ALARMS_REPORT_SQL = `-- Alarms report: alarms per company, device model, alarm code and day, with time to reset.
SELECT
  ${c("company_name")},
  ${c("device_model")},
  ${c("code")},
  ${c("day")},
  ${c("alarms")},
  ${c("alarms_reset")},
  ${c("alarms")} - ${c("alarms_reset")} AS still_open,
  ${c("ttr_p50_seconds")},
  ${c("ttr_p90_seconds")},
  ${c("excluded_reset_before_active")},
  ${c("excluded_reset_too_late")}
FROM ${ALARMS_DAILY.database}.${ALARMS_DAILY.table}
WHERE ${c("day")} >= current_date - INTERVAL '90' DAY
ORDER BY ${c("day")} DESC, ${c("alarms")} DESC, ${c("company_name")}, ${c("device_model")}, ${c("code")}`;

/** Athena limits a named query's name to 128 characters. */
export const NAMED_QUERY_NAME_MAX = 128;

/** A question's named query name: its id in words, `Open alarms by company`. */
export function questionQueryName(q: AnalystQuestion): string {
  const text = q.id.replaceAll("_", " ");
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`.slice(0, NAMED_QUERY_NAME_MAX);
}
