/**
 * The Alarms report as `npm start` prints it, from the JSON line of the local `analytics` job
 * (`python -m lakehouse_glue analytics ...`): totals and the groups with most alarms as an
 * aligned table. The HTML dashboard is rendered after it (local/dashboard/page.ts).
 */
import { z } from "zod";
import {
  type alarmTimeToReset,
  REPORT_DATABASE,
  type ReportColumnName,
} from "../../pipeline/schema/index.js";
import { count, formatTable, plural } from "./table.js";

/** The local catalog the job writes to (`lakehouse_glue.spark.DEFAULT_CATALOG`). */
const LOCAL_CATALOG = "lake";

/**
 * A row of `alarm_time_to_reset` as the job's result line carries it: its columns by their table
 * names (checked against the report table's declaration), the company by its display name.
 */
const TopRowSchema = z.object({
  company: z.string(),
  ...({
    device_model: z.string(),
    code: z.number(),
    alarms: z.number(),
    alarms_reset: z.number(),
    ttr_p50_seconds: z.number().nullable(),
    ttr_p90_seconds: z.number().nullable(),
  } satisfies Partial<Record<ReportColumnName<typeof alarmTimeToReset>, z.ZodType>>),
});

/** What the job's result line says about the report (other keys are ignored). */
export const AnalyticsResultSchema = z.object({
  tables: z.record(z.string(), z.number()),
  report: z
    .object({
      first_day: z.string().nullable(),
      last_day: z.string().nullable(),
      alarms: z.number(),
      alarms_reset: z.number(),
      excluded_reset_before_active: z.number(),
      excluded_reset_too_late: z.number(),
      companies: z.number(),
      device_models: z.number(),
      codes: z.number(),
      top: z.array(TopRowSchema),
    })
    .optional(),
});
export type AnalyticsResult = z.infer<typeof AnalyticsResultSchema>;

/** Rows of the printed table: the job sends a few more for the dashboard's table. */
export const PRINTED_TOP_ROWS = 8;

/** A time to reset read at a glance (same units as the dashboard): 42 s, 7.5 min, 3.2 h, 2.1 d. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "-";
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["min", 60],
  ] as const) {
    if (seconds >= size) return `${(seconds / size).toFixed(1)} ${unit}`;
  }
  return `${seconds.toFixed(0)} s`;
}

/**
 * The report in at most 12 lines; a result line in an unexpected shape is said so, not hidden.
 */
export function formatAlarmsReport(
  result: unknown,
  namespace = `${LOCAL_CATALOG}.${REPORT_DATABASE}`,
): string {
  const parsed = AnalyticsResultSchema.safeParse(result);
  if (!parsed.success) return `analytics printed an unexpected result: ${JSON.stringify(result)}`;
  const { tables, report } = parsed.data;
  const counts = Object.entries(tables)
    .map(([t, rows]) => `${t} ${plural(rows, "row")}`)
    .join(", ");
  const lines = [`Alarms report (${namespace}.*: ${counts})`];
  if (report) {
    const period = report.first_day ? `, ${report.first_day} to ${report.last_day}` : "";
    const excluded = report.excluded_reset_before_active + report.excluded_reset_too_late;
    lines.push(
      `  ${plural(report.alarms, "alarm")} (${count(report.alarms_reset)} reset, ${count(excluded)} implausible excluded)${period}: ` +
        `${plural(report.companies, "company", "companies")}, ${plural(report.device_models, "device model")}, ${plural(report.codes, "code")}`,
    );
    const top = report.top.slice(0, PRINTED_TOP_ROWS);
    if (top.length) {
      const rows = top.map((r) => [
        r.company,
        r.device_model,
        String(r.code),
        r.alarms,
        r.alarms_reset,
        formatDuration(r.ttr_p50_seconds),
        formatDuration(r.ttr_p90_seconds),
      ]);
      const right = (header: string) => ({ header, align: "right" as const });
      const head = [
        { header: "company" },
        { header: "model" },
        ...["code", "alarms", "reset", "TTR p50", "TTR p90"].map(right),
      ];
      lines.push(formatTable(head, rows));
    }
  }
  return lines.join("\n");
}
