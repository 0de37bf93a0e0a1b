/**
 * The Alarms report, defined once (docs/design.md §5): its datasets (views of views.ts), its
 * filters and its visuals. Both dashboards are rendered from this: the QuickSight dashboard by the
 * deployment (infra/reports.ts) and the local HTML dashboard (local/dashboard/). Each measure says
 * how it aggregates the dataset's rows, never rows of another aggregate: percentiles are taken
 * over the alarms of the group the visual shows (QuickSight `percentileCont`, linear
 * interpolation; the local page the same), so they stay right under every filter.
 */
import type { ViewColumn, ViewDefinition } from "./views.js";
import { alarmFacts, openAlarms } from "./views.js";

export interface ReportDataset {
  /** The dataset's identifier in both dashboards. */
  readonly id: string;
  readonly view: ViewDefinition;
}

export type Aggregation =
  | { readonly kind: "count" }
  | { readonly kind: "percentile"; readonly percentile: number }
  | { readonly kind: "max" };

export interface Measure {
  readonly id: string;
  readonly label: string;
  /** Column of the visual's dataset (a count counts rows; its field is the row's id). */
  readonly field: string;
  readonly aggregation: Aggregation;
}

export interface Dimension {
  readonly field: string;
  readonly label: string;
  /** For a date: the period a point stands for. */
  readonly granularity?: "DAY" | "WEEK";
}

interface VisualBase {
  readonly id: string;
  readonly title: string;
  readonly dataset: ReportDataset;
}

/** Bars per `x`, stacked by `color`; the top `limit` of `x` by the first value, when set. */
export interface BarVisual extends VisualBase {
  readonly kind: "bar";
  readonly x: Dimension;
  readonly color?: Dimension;
  readonly value: Measure;
  readonly limit?: number;
}

/** One line per `color` over `x`. */
export interface LineVisual extends VisualBase {
  readonly kind: "line";
  readonly x: Dimension;
  readonly color?: Dimension;
  readonly value: Measure;
}

/** One row per group, with measures. */
export interface TableVisual extends VisualBase {
  readonly kind: "table";
  readonly groupBy: readonly Dimension[];
  readonly values: readonly Measure[];
  /** Sorted descending by this measure. */
  readonly sortBy: string;
}

/** The dataset's rows as they are (no aggregation), sorted descending by `sortBy`. */
export interface ListVisual extends VisualBase {
  readonly kind: "list";
  readonly columns: readonly Dimension[];
  readonly sortBy: string;
}

/** A measure per cell of `rows` × `columns`. */
export interface HeatmapVisual extends VisualBase {
  readonly kind: "heatmap";
  readonly rows: Dimension;
  readonly columns: Dimension;
  readonly value: Measure;
}

/** One figure. */
export interface KpiVisual extends VisualBase {
  readonly kind: "kpi";
  readonly value: Measure;
}

export type Visual = BarVisual | LineVisual | TableVisual | ListVisual | HeatmapVisual | KpiVisual;

export interface ReportFilter {
  readonly id: string;
  readonly label: string;
  readonly field: string;
  /** `dateRange`: from–to on a date; `multiSelect`: any of the values present. */
  readonly kind: "dateRange" | "multiSelect";
}

export interface ReportDefinition {
  readonly id: string;
  readonly title: string;
  readonly datasets: readonly ReportDataset[];
  /** Applied to every visual whose dataset has the field. */
  readonly filters: readonly ReportFilter[];
  readonly visuals: readonly Visual[];
}

export const facts: ReportDataset = { id: "alarm_facts", view: alarmFacts };
export const open: ReportDataset = { id: "open_alarms", view: openAlarms };

const alarms: Measure = { id: "alarms", label: "alarms", field: "alarm_id", aggregation: { kind: "count" } };
const ttr = (percentile: number): Measure => ({
  id: `ttr_p${percentile}_minutes`,
  label: `time to reset p${percentile} (min)`,
  field: "ttr_minutes",
  aggregation: { kind: "percentile", percentile },
});

const dim = (field: string, label: string, granularity?: Dimension["granularity"]): Dimension => ({
  field,
  label,
  ...(granularity && { granularity }),
});

export const alarmsReport: ReportDefinition = {
  id: "alarms",
  title: "Alarms report",
  datasets: [facts, open],
  filters: [
    { id: "period", label: "Period", field: "day", kind: "dateRange" },
    { id: "company", label: "Company", field: "company_name", kind: "multiSelect" },
    { id: "model", label: "Device model", field: "device_model", kind: "multiSelect" },
    { id: "class", label: "Alarm class", field: "alarm_class", kind: "multiSelect" },
  ],
  visuals: [
    {
      kind: "kpi",
      id: "data_up_to",
      title: "Data up to (latest alarm, UTC)",
      dataset: facts,
      value: { id: "data_up_to", label: "latest alarm", field: "active_ts", aggregation: { kind: "max" } },
    },
    {
      kind: "kpi",
      id: "generated_at",
      title: "Figures computed at (UTC)",
      dataset: facts,
      value: {
        id: "generated_at",
        label: "computed at",
        field: "generated_at",
        aggregation: { kind: "max" },
      },
    },
    {
      kind: "bar",
      id: "alarms_per_day",
      title: "Alarms per day, by class",
      dataset: facts,
      x: dim("day", "day", "DAY"),
      color: dim("alarm_class", "class"),
      value: alarms,
    },
    {
      kind: "bar",
      id: "top_codes",
      title: "Top alarm codes: reset and still open",
      dataset: facts,
      x: dim("code_label", "code"),
      color: dim("state", "state"),
      value: alarms,
      limit: 15,
    },
    {
      kind: "list",
      id: "open_alarms",
      title: "Open alarms now, longest open first",
      dataset: open,
      columns: [
        dim("company_name", "company"),
        dim("device_serial", "device"),
        dim("device_model", "model"),
        dim("code_label", "code"),
        dim("alarm_class", "class"),
        dim("active_ts", "open since (UTC)"),
        dim("open_hours", "open for (h)"),
      ],
      sortBy: "open_hours",
    },
    {
      kind: "table",
      id: "time_to_reset_per_code",
      title: "Time to reset per code",
      dataset: facts,
      groupBy: [dim("code_label", "code"), dim("alarm_class", "class")],
      values: [alarms, ttr(50), ttr(90)],
      sortBy: "alarms",
    },
    {
      kind: "line",
      id: "time_to_reset_trend",
      title: "Time to reset per week (median, minutes), by class",
      dataset: facts,
      x: dim("day", "week", "WEEK"),
      color: dim("alarm_class", "class"),
      value: ttr(50),
    },
    {
      kind: "table",
      id: "alarms_per_company",
      title: "Alarms per company and device model",
      dataset: facts,
      groupBy: [dim("company_name", "company"), dim("device_model", "model")],
      values: [alarms, ttr(50), ttr(90)],
      sortBy: "alarms",
    },
    {
      kind: "heatmap",
      id: "alarms_per_device_day",
      title: "Alarms per device and day (choose a company)",
      dataset: facts,
      rows: dim("device_serial", "device"),
      columns: dim("day", "day", "DAY"),
      value: alarms,
    },
  ],
};

/** The columns a visual reads from its dataset: what both renderers must find there. */
export function fieldsOf(visual: Visual): string[] {
  switch (visual.kind) {
    case "bar":
    case "line":
      return [visual.x.field, ...(visual.color ? [visual.color.field] : []), visual.value.field];
    case "table":
      return [...visual.groupBy.map((d) => d.field), ...visual.values.map((m) => m.field)];
    case "list":
      return visual.columns.map((d) => d.field);
    case "heatmap":
      return [visual.rows.field, visual.columns.field, visual.value.field];
    case "kpi":
      return [visual.value.field];
  }
}

/** The measures a visual shows (a list shows none: its rows as they are). */
export function measuresOf(visual: Visual): Measure[] {
  switch (visual.kind) {
    case "bar":
    case "line":
    case "heatmap":
    case "kpi":
      return [visual.value];
    case "table":
      return [...visual.values];
    case "list":
      return [];
  }
}

/** Checks a definition against its views: every field a visual or filter names exists. */
export function checkReport(report: ReportDefinition): string[] {
  const problems: string[] = [];
  const has = (view: ViewDefinition, field: string) => view.columns.some((c: ViewColumn) => c.name === field);
  for (const visual of report.visuals)
    for (const field of fieldsOf(visual))
      if (!has(visual.dataset.view, field))
        problems.push(`${visual.id}: ${field} is not a column of ${visual.dataset.view.name}`);
  for (const filter of report.filters)
    if (!report.datasets.some((d) => has(d.view, filter.field)))
      problems.push(`filter ${filter.id}: no dataset has ${filter.field}`);
  return problems;
}
