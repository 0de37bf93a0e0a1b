/**
 * The local dashboard's figures: each visual of a report definition (pipeline/reports) computed
 * from its dataset's rows under the filters chosen. Pure functions, no DOM: the page's script runs
 * them in the browser on every filter change, and the tests run them too.
 *
 * Measures aggregate the rows of the group a visual shows, never other aggregates: a percentile is
 * taken over the group's values with linear interpolation between closest ranks (QuickSight's
 * `percentileCont`, Spark's `percentile`), so it stays right under any filter.
 */
import type {
  Aggregation,
  Dimension,
  Measure,
  ReportFilter,
  Visual,
} from "../../pipeline/reports/alarms-report.js";

export type Cell = string | number | boolean | null;
export type Row = Readonly<Record<string, Cell>>;

/** What the analytics job exports: every row of each dataset's view. */
export interface DashboardData {
  /** When the job read the views (ISO-8601, UTC). */
  readonly generatedAt: string;
  readonly datasets: Readonly<
    Record<
      string,
      { readonly columns: readonly { name: string; type: string }[]; readonly rows: readonly Cell[][] }
    >
  >;
}

/** The parts of a report definition the page needs (a definition serialized to JSON has these). */
export interface ReportSpec {
  readonly id: string;
  readonly title: string;
  readonly filters: readonly ReportFilter[];
  readonly visuals: readonly Visual[];
}

/** A filter's choice: a date range (inclusive, `YYYY-MM-DD`), or the values kept (none: all). */
export type FilterChoice =
  | { readonly from?: string; readonly to?: string }
  | { readonly values: readonly string[] };
export type FilterState = Readonly<Record<string, FilterChoice>>;

export type Figure =
  | {
      readonly kind: "series";
      readonly x: string[];
      readonly series: { name: string; y: (number | null)[] }[];
    }
  | { readonly kind: "table"; readonly columns: string[]; readonly rows: Cell[][] }
  | { readonly kind: "heatmap"; readonly x: string[]; readonly y: string[]; readonly z: (number | null)[][] }
  | { readonly kind: "kpi"; readonly value: Cell };

/** How a missing company or model (a device not in ddc) reads. */
export const UNKNOWN = "(unknown)";

export function rowsOf(data: DashboardData, dataset: string): Row[] {
  const found = data.datasets[dataset];
  if (!found) throw new Error(`the dashboard data has no dataset ${dataset}`);
  const names = found.columns.map((c) => c.name);
  return found.rows.map((values) => Object.fromEntries(names.map((n, i) => [n, values[i] ?? null])));
}

/** `YYYY-MM-DD` of a date or an ISO instant (UTC). */
const dayOf = (value: Cell): string => String(value).slice(0, 10);

/** Monday of the ISO week of a day, `YYYY-MM-DD`. */
export function weekOf(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  const back = (d.getUTCDay() + 6) % 7;
  return new Date(d.getTime() - back * 86_400_000).toISOString().slice(0, 10);
}

/** A dimension's value as the label a chart shows and a filter matches. */
export function keyOf(dimension: Dimension, value: Cell): string {
  if (value === null) return UNKNOWN;
  if (dimension.granularity === "DAY") return dayOf(value);
  if (dimension.granularity === "WEEK") return weekOf(dayOf(value));
  return String(value);
}

/** Linear interpolation between closest ranks; null for no values. */
export function percentileCont(values: readonly number[], percentile: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * (percentile / 100);
  const lower = Math.floor(pos);
  const upper = Math.ceil(pos);
  const lo = sorted[lower] as number;
  const hi = sorted[upper] as number;
  return lower === upper || lo === hi ? lo : (upper - pos) * lo + (pos - lower) * hi;
}

export function aggregate(rows: readonly Row[], measure: Measure): Cell {
  const values = rows
    .map((r) => r[measure.field] ?? null)
    .filter((v): v is Exclude<Cell, null> => v !== null);
  const how: Aggregation = measure.aggregation;
  switch (how.kind) {
    case "count":
      return values.length;
    case "percentile":
      return percentileCont(values.map(Number), how.percentile);
    case "max":
      // Instants and dates as ISO text order as they compare; numbers as numbers.
      return values.length ? values.reduce((a, b) => (compare(a, b) >= 0 ? a : b)) : null;
  }
}

function compare(a: Cell, b: Cell): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

/** Whether a dataset with these columns is narrowed by the filter. */
const applies = (filter: ReportFilter, columns: ReadonlySet<string>) => columns.has(filter.field);

export function applyFilters(
  rows: readonly Row[],
  columns: ReadonlySet<string>,
  filters: readonly ReportFilter[],
  state: FilterState,
): Row[] {
  const active = filters.filter((f) => applies(f, columns) && state[f.id] !== undefined);
  return rows.filter((row) =>
    active.every((f) => {
      const choice = state[f.id] as FilterChoice;
      const value = row[f.field] ?? null;
      if ("values" in choice)
        return choice.values.length === 0 || choice.values.includes(value === null ? UNKNOWN : String(value));
      if (value === null) return false;
      const day = dayOf(value);
      return (!choice.from || day >= choice.from) && (!choice.to || day <= choice.to);
    }),
  );
}

function groupBy(rows: readonly Row[], key: (row: Row) => string): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

const ascending = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A visual's figure from its dataset's (filtered) rows. */
export function figureOf(visual: Visual, rows: readonly Row[]): Figure {
  switch (visual.kind) {
    case "bar":
    case "line": {
      const byX = groupBy(rows, (r) => keyOf(visual.x, r[visual.x.field] ?? null));
      let xs = [...byX.keys()].sort(ascending);
      if (visual.kind === "bar" && visual.limit !== undefined) {
        const total = (x: string) => Number(aggregate(byX.get(x) ?? [], visual.value) ?? 0);
        xs = [...xs].sort((a, b) => total(b) - total(a) || ascending(a, b)).slice(0, visual.limit);
      }
      const color = visual.color;
      const names = color
        ? [...new Set(rows.map((r) => keyOf(color, r[color.field] ?? null)))].sort(ascending)
        : [visual.value.label];
      const series = names.map((name) => ({
        name,
        y: xs.map((x) => {
          const group = (byX.get(x) ?? []).filter(
            (r) => !color || keyOf(color, r[color.field] ?? null) === name,
          );
          const value = aggregate(group, visual.value);
          return group.length === 0 || value === null ? null : Number(value);
        }),
      }));
      return { kind: "series", x: xs, series };
    }
    case "table": {
      const key = (r: Row) => JSON.stringify(visual.groupBy.map((d) => keyOf(d, r[d.field] ?? null)));
      const groups = [...groupBy(rows, key).entries()].map(([k, group]) => [
        ...(JSON.parse(k) as string[]),
        ...visual.values.map((m) => aggregate(group, m)),
      ]);
      const sortAt = visual.groupBy.length + visual.values.findIndex((m) => m.id === visual.sortBy);
      groups.sort(
        (a, b) =>
          Number(b[sortAt] ?? Number.NEGATIVE_INFINITY) - Number(a[sortAt] ?? Number.NEGATIVE_INFINITY) ||
          ascending(
            JSON.stringify(a.slice(0, visual.groupBy.length)),
            JSON.stringify(b.slice(0, visual.groupBy.length)),
          ),
      );
      return {
        kind: "table",
        columns: [...visual.groupBy.map((d) => d.label), ...visual.values.map((m) => m.label)],
        rows: groups,
      };
    }
    case "list": {
      const sorted = [...rows].sort(
        (a, b) =>
          Number(b[visual.sortBy] ?? 0) - Number(a[visual.sortBy] ?? 0) ||
          ascending(String(a.alarm_id), String(b.alarm_id)),
      );
      return {
        kind: "table",
        columns: visual.columns.map((d) => d.label),
        rows: sorted.map((r) => visual.columns.map((d) => r[d.field] ?? null)),
      };
    }
    case "heatmap": {
      const ys = [...new Set(rows.map((r) => keyOf(visual.rows, r[visual.rows.field] ?? null)))].sort(
        ascending,
      );
      const xs = [...new Set(rows.map((r) => keyOf(visual.columns, r[visual.columns.field] ?? null)))].sort(
        ascending,
      );
      const cells = groupBy(rows, (r) =>
        JSON.stringify([
          keyOf(visual.rows, r[visual.rows.field] ?? null),
          keyOf(visual.columns, r[visual.columns.field] ?? null),
        ]),
      );
      return {
        kind: "heatmap",
        x: xs,
        y: ys,
        z: ys.map((y) =>
          xs.map((x) => {
            const group = cells.get(JSON.stringify([y, x]));
            const value = group ? aggregate(group, visual.value) : null;
            return value === null ? null : Number(value);
          }),
        ),
      };
    }
    case "kpi":
      return { kind: "kpi", value: aggregate(rows, visual.value) };
  }
}

/** Every visual's figure under `state`. */
export function figures(report: ReportSpec, data: DashboardData, state: FilterState): Record<string, Figure> {
  const out: Record<string, Figure> = {};
  for (const visual of report.visuals) {
    // The job exports each dataset under its view's name.
    const name = visual.dataset.view.name;
    const columns = new Set((data.datasets[name]?.columns ?? []).map((c) => c.name));
    const rows = applyFilters(rowsOf(data, name), columns, report.filters, state);
    out[visual.id] = figureOf(visual, rows);
  }
  return out;
}

/** The values a multi-select filter offers: every value of its field in the datasets that have it. */
export function filterOptions(filter: ReportFilter, data: DashboardData): string[] {
  const values = new Set<string>();
  for (const name of Object.keys(data.datasets))
    for (const row of rowsOf(data, name))
      if (filter.field in row) {
        const v = row[filter.field] ?? null;
        values.add(v === null ? UNKNOWN : String(v));
      }
  return [...values].sort(ascending);
}
