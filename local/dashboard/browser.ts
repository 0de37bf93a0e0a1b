/**
 * The local dashboard's script, bundled into the page (page.ts): reads the report definition and
 * the data the page embeds, draws the filter controls and every visual, and draws them again on
 * each filter change. Plotly draws the charts (inlined in the page: it opens offline); tables are
 * plain HTML. `window.lakehouseDashboard` exposes the figures shown, for the browser test.
 */
import {
  type DashboardData,
  type Figure,
  type FilterState,
  figures,
  filterOptions,
  type ReportSpec,
} from "./figures.js";

interface PlotlyLike {
  react(
    element: HTMLElement,
    data: unknown[],
    layout: Record<string, unknown>,
    config?: Record<string, unknown>,
  ): void;
}

declare global {
  interface Window {
    Plotly: PlotlyLike;
    lakehouseDashboard: { figures(): Record<string, Figure>; state(): FilterState };
  }
}

const embedded = <T>(id: string): T => JSON.parse(document.getElementById(id)?.textContent ?? "null") as T;
const report = embedded<ReportSpec>("report-definition");
const data = embedded<DashboardData>("report-data");

let state: FilterState = {};
let shown: Record<string, Figure> = {};

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function format(value: unknown): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number")
    return Number.isInteger(value) ? value.toLocaleString("en") : value.toFixed(1);
  return String(value);
}

function drawControls(): void {
  const bar = document.getElementById("filters") as HTMLElement;
  for (const filter of report.filters) {
    const label = element("label", { class: "filter" }, `${filter.label} `);
    if (filter.kind === "dateRange") {
      const days = filterOptions(filter, data)
        .filter((d) => d !== "(unknown)")
        .map((d) => d.slice(0, 10));
      for (const end of ["from", "to"] as const) {
        const input = element("input", {
          type: "date",
          id: `filter-${filter.id}-${end}`,
          ...(days.length && { min: days[0] as string, max: days[days.length - 1] as string }),
        });
        input.addEventListener("change", () => {
          const current = (state[filter.id] ?? {}) as { from?: string; to?: string };
          state = { ...state, [filter.id]: { ...current, [end]: input.value || undefined } };
          draw();
        });
        label.append(input);
      }
    } else {
      const select = element("select", { multiple: "", id: `filter-${filter.id}`, size: "4" });
      for (const value of filterOptions(filter, data)) select.append(element("option", { value }, value));
      select.addEventListener("change", () => {
        state = { ...state, [filter.id]: { values: [...select.selectedOptions].map((o) => o.value) } };
        draw();
      });
      label.append(select);
    }
    bar.append(label);
  }
}

function drawTable(target: HTMLElement, figure: Extract<Figure, { kind: "table" }>): void {
  const table = element("table");
  const head = element("tr");
  for (const c of figure.columns) head.append(element("th", {}, c));
  table.append(element("thead"), element("tbody"));
  table.tHead?.append(head);
  for (const row of figure.rows) {
    const tr = element("tr");
    for (const cell of row) tr.append(element("td", {}, format(cell)));
    table.tBodies[0]?.append(tr);
  }
  target.replaceChildren(table);
  target.dataset.rows = String(figure.rows.length);
}

/** One color per class and state wherever they appear, so "error" is the same red in every chart. */
const COLORS: Readonly<Record<string, string>> = {
  error: "#d62728",
  warning: "#ff7f0e",
  info: "#1f77b4",
  service: "#2ca02c",
  open: "#d62728",
  reset: "#9e9e9e",
};
const colored = (name: string) =>
  COLORS[name] ? { marker: { color: COLORS[name] }, line: { color: COLORS[name] } } : {};

function draw(): void {
  shown = figures(report, data, state);
  for (const visual of report.visuals) {
    const target = document.getElementById(visual.id) as HTMLElement;
    const figure = shown[visual.id] as Figure;
    const layout = { title: { text: visual.title }, margin: { t: 48, l: 56, r: 16, b: 72 }, height: 380 };
    switch (figure.kind) {
      case "series":
        window.Plotly.react(
          target,
          figure.series.map((s) =>
            visual.kind === "line"
              ? {
                  type: "scatter",
                  mode: "lines+markers",
                  name: s.name,
                  x: figure.x,
                  y: s.y,
                  ...colored(s.name),
                }
              : { type: "bar", name: s.name, x: figure.x, y: s.y, ...colored(s.name) },
          ),
          { ...layout, barmode: "stack", xaxis: { type: "category" } },
          { displaylogo: false, responsive: true },
        );
        break;
      case "heatmap":
        window.Plotly.react(
          target,
          [{ type: "heatmap", x: figure.x, y: figure.y, z: figure.z, colorscale: "Reds" }],
          { ...layout, xaxis: { type: "category" }, yaxis: { type: "category" } },
          { displaylogo: false, responsive: true },
        );
        break;
      case "table":
        drawTable(target, figure);
        break;
      case "kpi":
        target.textContent = `${visual.title}: ${format(figure.value)}`;
        break;
    }
  }
}

drawControls();
draw();
window.lakehouseDashboard = { figures: () => shown, state: () => state };
document.body.dataset.ready = "true";
