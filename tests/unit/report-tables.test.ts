/**
 * The report tables of `analytics` (pipeline/schema/reports.ts): their type mappings, the checks
 * of their definition, and what reaches the Glue job, Iceberg and QuickSight from them.
 */
import { describe, expect, it } from "vitest";
import { ALARMS_DAILY_COLUMNS, ALARMS_REPORT_SQL } from "../../infra/reports.js";
import { RegistryError } from "../../pipeline/errors.js";
import {
  alarmsDaily,
  alarmTimeToReset,
  COLUMN_TYPES,
  DEVICE_HISTORY_IGNORED,
  defineReportTable,
  deviceVersions,
  ICEBERG_TABLE_PROPERTIES,
  ICEBERG_TYPE,
  JOB_TABLES_VERSION,
  jobTables,
  QUICKSIGHT_TYPE,
  quickSightColumnsOf,
  REPORT_ICEBERG_TYPE,
  REPORT_SPARK_TYPE,
  type ReportColumnType,
  reportIcebergSchemaOf,
  reportTable,
  reportTables,
  SPARK_TYPE,
  table,
} from "../../pipeline/schema/index.js";

const REPORT_COLUMN_TYPES: readonly ReportColumnType[] = [...COLUMN_TYPES, "date"];

describe("report column types", () => {
  it.each(COLUMN_TYPES)("%s maps as in the registry's own tables", (type) => {
    expect(REPORT_SPARK_TYPE[type]).toBe(SPARK_TYPE[type]);
    expect(REPORT_ICEBERG_TYPE[type]).toBe(ICEBERG_TYPE[type]);
  });

  it.each([
    ["string", "STRING"],
    ["json", "STRING"],
    ["int32", "INTEGER"],
    ["int64", "INTEGER"],
    ["float64", "DECIMAL"],
    ["boolean", "BOOLEAN"],
    ["timestamp", "DATETIME"],
    ["date", "DATETIME"],
  ] as const)("%s is a QuickSight %s", (type, quickSight) => {
    expect(QUICKSIGHT_TYPE[type]).toBe(quickSight);
  });

  it("knows date in every target: Spark, Iceberg, QuickSight", () => {
    expect([REPORT_SPARK_TYPE.date, REPORT_ICEBERG_TYPE.date, QUICKSIGHT_TYPE.date]).toEqual([
      "date",
      "date",
      "DATETIME",
    ]);
    for (const target of [REPORT_SPARK_TYPE, REPORT_ICEBERG_TYPE, QUICKSIGHT_TYPE]) {
      expect(Object.keys(target).sort()).toEqual([...REPORT_COLUMN_TYPES].sort());
    }
  });
});

describe("defineReportTable", () => {
  const column = { name: "day", type: "date", nullable: false } as const;

  it.each([
    ["a table name that is not snake_case", { name: "AlarmsDaily", columns: [column] }, /not a lowercase/],
    ["no columns", { name: "t", columns: [] }, /no columns/],
    [
      "a column name that is not snake_case",
      { name: "t", columns: [{ ...column, name: "Day" }] },
      /column Day is not a lowercase/,
    ],
    ["a column declared twice", { name: "t", columns: [column, column] }, /column day is declared twice/],
  ])("refuses %s", (_what, def, message) => {
    expect(() => defineReportTable({ description: "x", ...def })).toThrow(RegistryError);
    expect(() => defineReportTable({ description: "x", ...def })).toThrow(message);
  });

  it("puts every report table in the analytics database, frozen", () => {
    expect(reportTables.map((r) => `${r.database}.${r.name}`)).toEqual([
      "analytics.alarms_daily",
      "analytics.alarm_time_to_reset",
      "analytics.device_versions",
    ]);
    expect(Object.isFrozen(alarmsDaily)).toBe(true);
    expect(Object.isFrozen(alarmsDaily.columns)).toBe(true);
    expect(reportTable("alarm_time_to_reset")).toBe(alarmTimeToReset);
    expect(() => reportTable("nope")).toThrow(/unknown report table nope/);
  });
});

describe("device_versions", () => {
  it("holds the registry's device attributes but the volatile ones, then the interval", () => {
    const device = table("device").columns;
    const names = deviceVersions.columns.map((c) => c.name);
    expect(names[0]).toBe("id_device");
    expect(names.slice(-3)).toEqual(["valid_from", "valid_to", "recorded_at"]);
    const attributes = deviceVersions.columns.slice(1, -3);
    expect(attributes.map((c) => c.name)).toEqual(
      device
        .map((c) => c.name)
        .filter((n) => n !== "id" && !(DEVICE_HISTORY_IGNORED as readonly string[]).includes(n)),
    );
    // Each with the registry's type and nullability.
    for (const a of attributes) {
      const source = device.find((c) => c.name === a.name);
      expect({ type: a.type, nullable: a.nullable }).toEqual({
        type: source?.type,
        nullable: source?.nullable,
      });
    }
    expect(names).toContain("model");
    expect(names).not.toContain("last_log_date");
    expect(deviceVersions.columns.find((c) => c.name === "valid_to")?.nullable).toBe(true);
  });
});

describe("the Alarms report tables", () => {
  it("derive their Iceberg schema: ids in column order, required where not nullable, date", () => {
    const fields = reportIcebergSchemaOf(alarmsDaily).fields;
    expect(fields.map((f) => f.id)).toEqual(alarmsDaily.columns.map((_, i) => i + 1));
    expect(fields.find((f) => f.name === "day")).toEqual({
      id: 5,
      name: "day",
      required: true,
      type: "date",
    });
    expect(fields.find((f) => f.name === "id_company")).toEqual({
      id: 1,
      name: "id_company",
      required: false,
      type: "long",
    });
  });

  // ADR 0013: the implausible alarms' counts came after the first deployment; appended, so the
  // columns deployed before them keep their Iceberg field ids (ttr_p90_seconds was the last).
  it.each([
    { table: alarmsDaily, deployed: 9 },
    { table: alarmTimeToReset, deployed: 11 },
  ])("$table.name counts the implausible alarms in its last two columns", ({ table, deployed }) => {
    const fields = reportIcebergSchemaOf(table).fields;
    expect(fields.find((f) => f.name === "ttr_p90_seconds")?.id).toBe(deployed);
    expect(fields.slice(deployed)).toEqual([
      { id: deployed + 1, name: "excluded_reset_before_active", required: true, type: "long" },
      { id: deployed + 2, name: "excluded_reset_too_late", required: true, type: "long" },
    ]);
  });

  it("give QuickSight the columns it had when they were written by hand, then the exclusions", () => {
    expect(quickSightColumnsOf(alarmsDaily)).toEqual([
      { name: "id_company", type: "INTEGER" },
      { name: "company_name", type: "STRING" },
      { name: "device_model", type: "STRING" },
      { name: "code", type: "INTEGER" },
      { name: "day", type: "DATETIME" },
      { name: "alarms", type: "INTEGER" },
      { name: "alarms_reset", type: "INTEGER" },
      { name: "ttr_p50_seconds", type: "DECIMAL" },
      { name: "ttr_p90_seconds", type: "DECIMAL" },
      { name: "excluded_reset_before_active", type: "INTEGER" },
      { name: "excluded_reset_too_late", type: "INTEGER" },
    ]);
    expect(ALARMS_DAILY_COLUMNS).toEqual(quickSightColumnsOf(alarmsDaily));
    expect(ALARMS_REPORT_SQL).toContain("FROM analytics.alarms_daily\n");
  });

  it("reach the Glue job through the job tables, with the lake's Iceberg properties", () => {
    const list = jobTables();
    expect(JOB_TABLES_VERSION).toBe(9);
    expect(list.version).toBe(JOB_TABLES_VERSION);
    expect(list.reports.map((r) => r.name)).toEqual([
      "alarms_daily",
      "alarm_time_to_reset",
      "device_versions",
    ]);
    for (const [report, job] of reportTables.map((r, i) => [r, list.reports[i]] as const)) {
      expect(job).toEqual({
        name: report.name,
        database: "analytics",
        columns: report.columns.map((c) => ({
          name: c.name,
          source: c.name,
          type: c.type,
          sparkType: REPORT_SPARK_TYPE[c.type],
          nullable: c.nullable,
        })),
        properties: ICEBERG_TABLE_PROPERTIES,
      });
    }
    expect(list.reports[0]?.columns.find((c) => c.name === "day")).toMatchObject({ sparkType: "date" });
    expect(JSON.parse(JSON.stringify(list))).toEqual(list);
  });
});
