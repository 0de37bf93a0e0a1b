/**
 * The local dashboard (docs/design.md §7): one HTML file, rendered from the report definition
 * (pipeline/reports/alarms-report.ts) and the rows the analytics job exported from its views.
 * It opens offline: plotly.js and the page's script (browser.ts, bundled by esbuild) are inlined,
 * and so are the definition and the data. In AWS the QuickSight dashboard is rendered from the
 * same definition (infra/reports.ts).
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { ReportDefinition } from "../../pipeline/reports/alarms-report.js";
import type { DashboardData } from "./figures.js";

const here = dirname(fileURLToPath(import.meta.url));

/** The page's script, bundled for the browser. */
async function bundle(): Promise<string> {
  const out = await build({
    entryPoints: [join(here, "browser.ts")],
    bundle: true,
    write: false,
    format: "iife",
    target: "es2022",
    minify: true,
    logLevel: "silent",
  });
  return out.outputFiles[0]?.text ?? "";
}

/** JSON safe inside a `<script>`: no `</script>` can close it early. */
const embed = (value: unknown) => JSON.stringify(value).replaceAll("<", "\\u003c");

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
header p { margin: .2rem 0; color: #444; }
#filters { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; align-items: flex-start; }
.filter { display: flex; gap: .4rem; align-items: flex-start; font-weight: 600; }
.filter select { min-width: 12rem; font-weight: normal; }
section { margin: 1.2rem 0; }
.kpis section { display: inline-block; margin-right: 2rem; font-size: 1.05rem; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { padding: .2rem .6rem; border-bottom: 1px solid #ddd; text-align: left; }
.table-visual { max-height: 28rem; overflow: auto; }
`;

export interface RenderOptions {
  /** Where the data came from, for the header. */
  readonly source: string;
  /** When the page was made (tests fix it). */
  readonly now?: Date;
}

export async function renderDashboard(
  report: ReportDefinition,
  data: DashboardData,
  options: RenderOptions,
): Promise<string> {
  const plotly = await readFile(createRequire(import.meta.url).resolve("plotly.js-dist-min"), "utf8");
  const script = await bundle();
  const sections = report.visuals
    .filter((v) => v.kind !== "kpi")
    .map((v) => {
      const cls = v.kind === "table" || v.kind === "list" ? "table-visual" : "chart";
      const heading = cls === "table-visual" ? `<h2>${escapeHtml(v.title)}</h2>` : "";
      return `<section>${heading}<div id="${v.id}" class="${cls}" data-kind="${v.kind}"></div></section>`;
    })
    .join("\n");
  const kpis = report.visuals
    .filter((v) => v.kind === "kpi")
    .map((v) => `<section><div id="${v.id}" data-kind="kpi"></div></section>`)
    .join("");
  const made = (options.now ?? new Date()).toISOString();
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(report.title)}</title><style>${STYLE}</style></head>
<body>
<header><h1>${escapeHtml(report.title)}</h1>
<div class="kpis">${kpis}</div>
<p id="freshness">rows read from the views at ${escapeHtml(data.generatedAt)}; page made at ${escapeHtml(made)}; from ${escapeHtml(options.source)}</p>
</header>
<div id="filters"></div>
${sections}
<script id="report-definition" type="application/json">${embed(report)}</script>
<script id="report-data" type="application/json">${embed(data)}</script>
<script>${plotly}</script>
<script>${script}</script>
</body></html>
`;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** Renders `dataFile` (the analytics job's export) into `htmlFile`, atomically. */
export async function writeDashboard(
  report: ReportDefinition,
  dataFile: string,
  htmlFile: string,
  options: RenderOptions,
): Promise<string> {
  const data = JSON.parse(await readFile(dataFile, "utf8")) as DashboardData;
  const html = await renderDashboard(report, data, options);
  await mkdir(dirname(htmlFile), { recursive: true });
  const partial = join(dirname(htmlFile), `.${Date.now()}.partial.html`);
  await writeFile(partial, html);
  await rename(partial, htmlFile);
  return htmlFile;
}
