/**
 * The local dashboard in a real browser (Debian's Chromium, driven by playwright-core): the page
 * rendered from the report definition opens offline, every visual shows data, choosing a company
 * and a period changes the figures to what an independent count says, and a screenshot is kept as
 * a test artifact (.local/reports/dashboard*.png).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Figure } from "../../local/dashboard/figures.js";
import { renderDashboard } from "../../local/dashboard/page.js";
import { alarmsReport } from "../../pipeline/reports/alarms-report.js";
import { dashboardData, factRows } from "../support/dashboard-data.js";

/** Flags that keep Chromium off the network this machine does not have (docs: env). */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const ARTIFACTS = resolve(".local/reports");

/**
 * The page's globals as the functions evaluated in it see them (this file is typed for Node; the
 * functions passed to `page.evaluate` run in the page, so they can use nothing from here).
 */
interface PageGlobals {
  document: { getElementById(id: string): unknown };
  lakehouseDashboard: { figures(): Record<string, Figure> };
}

let browser: Browser;
let page: Page;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "dashboard-"));
  const file = join(work, "alarms.html");
  await writeFile(file, await renderDashboard(alarmsReport, dashboardData(), { source: "test rows" }));
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  // Offline: the page must need nothing from the network.
  await page.route(/^https?:/, (route) => route.abort());
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const shown = () => page.evaluate(() => (globalThis as unknown as PageGlobals).lakehouseDashboard.figures());

/** What Plotly drew in a chart: its traces' y values, summed. */
const plotted = (id: string) =>
  page.evaluate((id) => {
    const el = (globalThis as unknown as PageGlobals).document.getElementById(id) as unknown as {
      data?: { y?: (number | null)[]; z?: (number | null)[][] }[];
    };
    return (el.data ?? []).reduce(
      (sum, trace) => sum + (trace.y ?? []).reduce<number>((a, y) => a + (typeof y === "number" ? y : 0), 0),
      0,
    );
  }, id);

describe("the local dashboard in Chromium", () => {
  it("shows every visual with data", async () => {
    for (const visual of alarmsReport.visuals) {
      const el = page.locator(`#${visual.id}`);
      await expect(el.count(), visual.id).resolves.toBe(1);
      if (visual.kind === "bar" || visual.kind === "line" || visual.kind === "heatmap") {
        const traces = await page.evaluate(
          (id) =>
            (
              (globalThis as unknown as PageGlobals).document.getElementById(id) as unknown as {
                data?: unknown[];
              }
            ).data?.length ?? 0,
          visual.id,
        );
        expect(traces, visual.id).toBeGreaterThan(0);
        await expect(page.locator(`#${visual.id} .main-svg`).first().isVisible(), visual.id).resolves.toBe(
          true,
        );
      } else if (visual.kind === "kpi") {
        await expect(el.textContent(), visual.id).resolves.toMatch(/: 2026-/);
      } else {
        expect(Number(await el.getAttribute("data-rows")), visual.id).toBeGreaterThan(0);
      }
    }
    expect(await plotted("alarms_per_day")).toBe(factRows().length);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });
  });

  it("narrows every figure when a company and a period are chosen", async () => {
    const before = await shown();
    await page.selectOption("#filter-company", ["Panadería Dos"]);
    await page.fill("#filter-period-from", "2026-02-09");
    await page.fill("#filter-period-to", "2026-02-15");
    await page.locator("#filter-period-to").dispatchEvent("change");
    const kept = factRows().filter(
      (r) => r.company_name === "Panadería Dos" && r.day >= "2026-02-09" && r.day <= "2026-02-15",
    );
    expect(kept.length).toBeGreaterThan(0);
    expect(await plotted("alarms_per_day")).toBe(kept.length);
    const after = await shown();
    expect(after.alarms_per_company).not.toEqual(before.alarms_per_company);
    const perCompany = after.alarms_per_company;
    expect(perCompany?.kind === "table" && perCompany.rows.map((r) => r[0])).toEqual(["Panadería Dos"]);
    const open = Number(await page.locator("#open_alarms").getAttribute("data-rows"));
    expect(open).toBe(kept.filter((r) => r.state === "open").length);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-filtered.png"), fullPage: true });
  });
});
