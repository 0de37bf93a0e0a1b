/**
 * What `npm start` prints of the Alarms report, from the analytics job's JSON result line.
 */
import { describe, expect, it } from "vitest";
import { formatAlarmsReport, formatDuration, PRINTED_TOP_ROWS } from "../../local/cli/alarms-report.js";

const row = (i: number) => ({
  company: i === 0 ? "(unknown)" : `Company ${i}`,
  device_model: i % 2 ? "EVEREO" : "BAKERTOP MIND.Maps",
  code: 100 + i,
  alarms: 1000 - i,
  alarms_reset: 900 - i,
  ttr_p50_seconds: 30 + i * 60,
  ttr_p90_seconds: i === 3 ? null : 5000 * (i + 1),
});

const result = {
  ok: true,
  tables: { alarms_daily: 1234, alarm_time_to_reset: 56 },
  seconds: 3.2,
  report: {
    first_day: "2024-05-11",
    last_day: "2024-05-31",
    alarms: 12345,
    alarms_reset: 12000,
    excluded_reset_before_active: 1,
    excluded_reset_too_late: 2,
    companies: 7,
    device_models: 3,
    codes: 9,
    top: Array.from({ length: 12 }, (_, i) => row(i)),
  },
};

describe("formatAlarmsReport", () => {
  const lines = formatAlarmsReport(result).split("\n");

  it("prints the totals and an aligned table of the top groups", () => {
    expect(lines[0]).toBe(
      "Alarms report (lake.analytics.*: alarms_daily 1,234 rows, alarm_time_to_reset 56 rows)",
    );
    expect(lines[1]).toBe(
      "  12,345 alarms (12,000 reset, 3 implausible excluded), 2024-05-11 to 2024-05-31: 7 companies, 3 device models, 9 codes",
    );
    const table = lines.slice(2);
    expect(table).toHaveLength(PRINTED_TOP_ROWS + 1);
    expect(table[0]).toMatch(/^ {2}company\s+model\s+code\s+alarms\s+reset\s+TTR p50\s+TTR p90$/);
    expect(table[1]).toMatch(/^ {2}\(unknown\)\s+BAKERTOP MIND\.Maps\s+100\s+1,000\s+900\s+30 s\s+1\.4 h$/);
    expect(table[4]).toMatch(/\s3\.5 min\s+-$/);
    // Numbers end in the same column as their heading.
    const end = (line: string | undefined, text: string) => (line ?? "").indexOf(text) + text.length;
    expect(end(table[1], "1,000")).toBe(end(table[0], "alarms"));
    expect(end(table[1], "900")).toBe(end(table[0], "reset"));
    expect(lines.length).toBeLessThanOrEqual(15);
  });

  it("says so when the job printed something else", () => {
    expect(formatAlarmsReport({ ok: true, tables: "?" })).toMatch(
      /^analytics printed an unexpected result: /,
    );
  });

  it("prints counts alone for a result without a report", () => {
    expect(formatAlarmsReport({ tables: { alarms_daily: 0 } })).toBe(
      "Alarms report (lake.analytics.*: alarms_daily 0 rows)",
    );
  });
});

describe("formatDuration", () => {
  it.each([
    [null, "-"],
    [42.4, "42 s"],
    [450, "7.5 min"],
    [3 * 3600 + 720, "3.2 h"],
    [181_440, "2.1 d"],
  ])("%s s → %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
