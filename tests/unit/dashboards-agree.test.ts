/**
 * The two renderings of the Alarms report agree: the local HTML page (local/dashboard) and the
 * QuickSight dashboard definition (infra/quicksight-dashboard.ts) show the same visuals in the same
 * order, each reading the same dataset columns, with the same filters and controls. Both are read
 * back from what they render (the page's HTML and embedded definition, the QuickSight JSON), not
 * from the definition they share.
 */
import { describe, expect, it } from "vitest";
import { calculatedFields, dashboardDefinition } from "../../infra/quicksight-dashboard.js";
import { renderDashboard } from "../../local/dashboard/page.js";
import { alarmsReport, fieldsOf, type ReportDefinition } from "../../pipeline/reports/alarms-report.js";
import { dashboardData } from "../support/dashboard-data.js";

type Json = Record<string, unknown>;

const arns = Object.fromEntries(
  alarmsReport.datasets.map((d) => [d.id, `arn:aws:quicksight:eu-west-1:123456789012:dataset/${d.id}`]),
);
const quicksight = dashboardDefinition(alarmsReport, arns) as unknown as Json & {
  Sheets: { Visuals: Json[]; FilterControls: Json[] }[];
  FilterGroups: { Filters: Json[]; CrossDataset: string }[];
};
const expressions = new Map(calculatedFields(alarmsReport).map((c) => [c.Name, c.Expression]));

/** Every dataset column a QuickSight JSON node reads, calculated fields resolved to their columns. */
function columnsRead(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const n of node) columnsRead(n, out);
  else if (node && typeof node === "object") {
    const column = (node as { Column?: { ColumnName?: string } }).Column?.ColumnName;
    if (column) {
      const expression = expressions.get(column);
      for (const name of expression
        ? [...expression.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string)
        : [column])
        out.add(name);
    }
    for (const [key, value] of Object.entries(node)) if (key !== "Column") columnsRead(value, out);
  }
  return out;
}

const visualId = (visual: Json) => (Object.values(visual)[0] as { VisualId: string }).VisualId;

describe("the local page and the QuickSight dashboard", async () => {
  const html = await renderDashboard(alarmsReport, dashboardData(), { source: "test", now: new Date(0) });
  const embedded = JSON.parse(
    (
      html.match(/<script id="report-definition" type="application\/json">(.*?)<\/script>/s)?.[1] ?? "null"
    ).replaceAll("\\u003c", "<"),
  ) as ReportDefinition;
  const pageIds = [...html.matchAll(/<div id="([a-z_]+)"[^>]* data-kind="([a-z]+)"/g)].map((m) => m[1]);
  const qsVisuals = quicksight.Sheets[0]?.Visuals ?? [];

  it("show the same visuals in the same order", () => {
    expect(embedded.visuals.map((v) => v.id)).toEqual(qsVisuals.map(visualId));
    // The page has a place for each (KPIs first, in the header).
    expect([...pageIds].sort()).toEqual(qsVisuals.map(visualId).sort());
  });

  it.each(alarmsReport.visuals.map((v) => [v.id] as const))("%s reads the same columns in both", (id) => {
    const local = embedded.visuals.find((v) => v.id === id);
    const remote = qsVisuals.find((v) => visualId(v) === id);
    expect(local && remote).toBeTruthy();
    expect(new Set(fieldsOf(local as ReportDefinition["visuals"][number]))).toEqual(columnsRead(remote));
    // Same dataset: QuickSight names it by identifier.
    const datasets = new Set(
      [...JSON.stringify(remote).matchAll(/"DataSetIdentifier":"([a-z_]+)"/g)].map((m) => m[1]),
    );
    expect([...datasets]).toEqual([local?.dataset.id]);
  });

  it("offer the same filters, one control each", () => {
    const controls = quicksight.Sheets[0]?.FilterControls ?? [];
    expect(controls).toHaveLength(embedded.filters.length);
    const columns = quicksight.FilterGroups.map((g) => [...columnsRead(g.Filters)]);
    expect(columns).toEqual(embedded.filters.map((f) => [f.field]));
    const kinds = controls.map((c) => Object.keys(c)[0]);
    expect(kinds).toEqual(
      embedded.filters.map((f) => (f.kind === "dateRange" ? "DateTimePicker" : "Dropdown")),
    );
    expect(controls.map((c) => (Object.values(c)[0] as { Title: string }).Title)).toEqual(
      embedded.filters.map((f) => f.label),
    );
  });
});
