/**
 * The local dashboard's figures against an independent computation from the same rows: counts per
 * day and class, top codes, percentiles per code and per company (taken over the group's alarms,
 * never over other aggregates), open alarms, the heat map, the freshness figures, under filters.
 */
import { describe, expect, it } from "vitest";
import { type Figure, figures, percentileCont, UNKNOWN, weekOf } from "../../local/dashboard/figures.js";
import { alarmsReport, checkReport, fieldsOf } from "../../pipeline/reports/alarms-report.js";
import { dashboardData, type FactRow, factRows, GENERATED_AT } from "../support/dashboard-data.js";

/** The textbook median/percentile: rank p·(n−1) between the two closest values. */
function expectedPercentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = values.slice().sort((a, b) => a - b);
  const rank = (p / 100) * (s.length - 1);
  const i = Math.floor(rank);
  const frac = rank - i;
  return i + 1 < s.length
    ? (s[i] as number) + frac * ((s[i + 1] as number) - (s[i] as number))
    : (s[i] as number);
}

const series = (f: Figure | undefined) => {
  if (f?.kind !== "series") throw new Error("not a series");
  return f;
};
const table = (f: Figure | undefined) => {
  if (f?.kind !== "table") throw new Error("not a table");
  return f;
};

describe("the Alarms report definition", () => {
  it("names only columns its views have", () => {
    expect(checkReport(alarmsReport)).toEqual([]);
    expect(alarmsReport.visuals.flatMap(fieldsOf).length).toBeGreaterThan(10);
  });
});

describe("dashboard figures", () => {
  const data = dashboardData();
  const facts = factRows();

  it("percentileCont interpolates between closest ranks", () => {
    expect(percentileCont([], 50)).toBeNull();
    expect(percentileCont([7], 90)).toBe(7);
    expect(percentileCont([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentileCont([10, 0, 20, 30, 40], 90)).toBeCloseTo(36);
    expect(weekOf("2026-02-08")).toBe("2026-02-02");
    expect(weekOf("2026-02-09")).toBe("2026-02-09");
  });

  it("counts alarms per day and class, and takes each code's percentiles over its own alarms", () => {
    const shown = figures(alarmsReport, data, {});
    const perDay = series(shown.alarms_per_day);
    for (const [i, day] of perDay.x.entries())
      for (const s of perDay.series) {
        const n = facts.filter((r) => r.day === day && r.alarm_class === s.name).length;
        expect(s.y[i], `${day} ${s.name}`).toBe(n === 0 ? null : n);
      }
    expect(perDay.series.reduce((a, s) => a + s.y.reduce<number>((b, y) => b + (y ?? 0), 0), 0)).toBe(
      facts.length,
    );

    const perCode = table(shown.time_to_reset_per_code);
    expect(perCode.rows).toHaveLength(new Set(facts.map((r) => r.code_label)).size);
    for (const row of perCode.rows) {
      const group = facts.filter((r) => r.code_label === row[0]);
      const ttrs = group.flatMap((r) => (r.ttr_minutes === null ? [] : [r.ttr_minutes]));
      expect(row[2]).toBe(group.length);
      expect(row[3]).toBeCloseTo(expectedPercentile(ttrs, 50) as number, 9);
      expect(row[4]).toBeCloseTo(expectedPercentile(ttrs, 90) as number, 9);
    }
    // Sorted by alarms, most first.
    const counts = perCode.rows.map((r) => Number(r[2]));
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it("does not average daily percentiles: a company's p50 is over its alarms", () => {
    const perCompany = table(figures(alarmsReport, data, {}).alarms_per_company);
    for (const row of perCompany.rows) {
      const group = facts.filter(
        (r) => (r.company_name ?? UNKNOWN) === row[0] && (r.device_model ?? UNKNOWN) === row[1],
      );
      const ttrs = group.flatMap((r) => (r.ttr_minutes === null ? [] : [r.ttr_minutes]));
      expect(row[3]).toBeCloseTo(expectedPercentile(ttrs, 50) as number, 9);
      // The mean of the group's daily medians differs from it in this data: the trap avoided.
      const days = [...new Set(group.map((r) => r.day))];
      const dailyMedians = days
        .map((d) =>
          expectedPercentile(
            group.filter((r) => r.day === d && r.ttr_minutes !== null).map((r) => r.ttr_minutes as number),
            50,
          ),
        )
        .filter((m): m is number => m !== null);
      const averaged = dailyMedians.reduce((a, b) => a + b, 0) / dailyMedians.length;
      if (row[0] === "Bistro Uno" && row[1] === "CHEFTOP")
        expect(Math.abs(averaged - Number(row[3]))).toBeGreaterThan(0.5);
    }
    expect(perCompany.rows.some((r) => r[0] === UNKNOWN)).toBe(true);
  });

  it("ranks the top codes by alarms and splits them into reset and open", () => {
    const top = series(figures(alarmsReport, data, {}).top_codes);
    expect(top.series.map((s) => s.name)).toEqual(["open", "reset"]);
    const total = (label: string) => facts.filter((r) => r.code_label === label).length;
    expect(top.x.map(total)).toEqual([...top.x.map(total)].sort((a, b) => b - a));
    for (const [i, label] of top.x.entries()) {
      const open = facts.filter((r) => r.code_label === label && r.state === "open").length;
      expect(top.series[0]?.y[i]).toBe(open === 0 ? null : open);
    }
  });

  it("lists open alarms longest first, and the freshness figures", () => {
    const shown = figures(alarmsReport, data, {});
    const list = table(shown.open_alarms);
    expect(list.rows).toHaveLength(facts.filter((r) => r.state === "open").length);
    const hours = list.rows.map((r) => Number(r[6]));
    expect(hours).toEqual([...hours].sort((a, b) => b - a));
    expect(shown.generated_at).toEqual({ kind: "kpi", value: GENERATED_AT });
    expect(shown.data_up_to).toEqual({
      kind: "kpi",
      value: facts
        .map((r) => r.active_ts)
        .sort()
        .at(-1),
    });
  });

  it("filters by company, class and period, everywhere the field exists", () => {
    const state = {
      company: { values: ["Bistro Uno"] },
      class: { values: ["warning", "error"] },
      period: { from: "2026-02-09", to: "2026-02-15" },
    };
    const shown = figures(alarmsReport, data, state);
    const kept = (r: FactRow) =>
      r.company_name === "Bistro Uno" &&
      ["warning", "error"].includes(r.alarm_class) &&
      r.day >= "2026-02-09" &&
      r.day <= "2026-02-15";
    const perDay = series(shown.alarms_per_day);
    const total = perDay.series.reduce((a, s) => a + s.y.reduce<number>((b, y) => b + (y ?? 0), 0), 0);
    expect(total).toBe(facts.filter(kept).length);
    expect(perDay.x.every((d) => d >= "2026-02-09" && d <= "2026-02-15")).toBe(true);
    // The open alarms' view has the day of activation too: every filter narrows it.
    const open = table(shown.open_alarms);
    expect(open.rows.length).toBeGreaterThan(0);
    expect(open.rows).toHaveLength(facts.filter((r) => r.state === "open" && kept(r)).length);
    const heat = shown.alarms_per_device_day;
    expect(heat?.kind === "heatmap" && heat.y).toEqual(
      [...new Set(facts.filter(kept).map((r) => r.device_serial))].sort(),
    );
    // The unknown company is a choice of its own.
    const unknown = series(figures(alarmsReport, data, { company: { values: [UNKNOWN] } }).alarms_per_day);
    expect(unknown.series.reduce((a, s) => a + s.y.reduce<number>((b, y) => b + (y ?? 0), 0), 0)).toBe(
      facts.filter((r) => r.company_name === null).length,
    );
  });

  it("trends the weekly median per class over the week's alarms", () => {
    const trend = series(figures(alarmsReport, data, {}).time_to_reset_trend);
    expect(trend.x).toEqual(["2026-02-02", "2026-02-09", "2026-02-16"]);
    for (const s of trend.series)
      for (const [i, week] of trend.x.entries()) {
        const ttrs = facts
          .filter((r) => r.alarm_class === s.name && weekOf(r.day) === week && r.ttr_minutes !== null)
          .map((r) => r.ttr_minutes as number);
        const group = facts.filter((r) => r.alarm_class === s.name && weekOf(r.day) === week);
        if (group.length === 0 || ttrs.length === 0) expect(s.y[i]).toBeNull();
        else expect(s.y[i]).toBeCloseTo(expectedPercentile(ttrs, 50) as number, 9);
      }
  });
});
