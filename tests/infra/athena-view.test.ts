/**
 * A view as Athena stores one in Glue (pipeline/reports/athena-view.ts): the encoded definition
 * decodes back to the view's Athena SQL and columns, with the fields Trino's view reader expects.
 */
import { describe, expect, it } from "vitest";
import {
  ATHENA_CATALOG,
  decodePrestoView,
  encodePrestoView,
  glueViewTable,
  PRESTO_TYPE,
  PRESTO_VIEW_EXPANDED_TEXT,
  prestoViewDefinition,
  VIEW_HIVE_TYPE,
  viewSources,
} from "../../pipeline/reports/athena-view.js";
import { type ViewDefinition, views } from "../../pipeline/reports/views.js";
import { reportTables } from "../../pipeline/schema/reports.js";
import { ACCOUNT_ID } from "./harness.js";

/** The Trino types Athena engine 3 writes in a view definition for the types the views use. */
const TRINO_TYPES = ["varchar", "bigint", "integer", "double", "boolean", "timestamp(6)", "date"];

describe.each(views.map((v) => [v.name, v] as const))("view %s as a Glue table", (_name, view) => {
  const table = glueViewTable(view, ACCOUNT_ID);

  it("decodes back to its Athena SQL and its columns, in Trino types", () => {
    const decoded = decodePrestoView(table.viewOriginalText);
    expect(decoded).toEqual({
      originalSql: view.sql("athena"),
      catalog: ATHENA_CATALOG,
      schema: "analytics",
      columns: view.columns.map((c) => ({ name: c.name, type: PRESTO_TYPE[c.type] })),
      owner: ACCOUNT_ID,
      runAsInvoker: false,
      properties: {},
    });
    expect(decoded.originalSql).not.toMatch(/timestampdiff|current_timestamp\(\)/); // Spark's spelling
    for (const c of decoded.columns) expect(TRINO_TYPES).toContain(c.type);
    // Trino refuses an owner on an invoker's view, and a definition without columns.
    expect(decoded.columns.length).toBeGreaterThan(0);
  });

  it("is a VIRTUAL_VIEW Athena reads as a Presto view, with its columns in Hive types", () => {
    expect(table).toMatchObject({
      name: view.name,
      tableType: "VIRTUAL_VIEW",
      viewExpandedText: PRESTO_VIEW_EXPANDED_TEXT,
      parameters: { presto_view: "true", comment: "Presto View" },
    });
    expect(table.viewOriginalText).toMatch(/^\/\* Presto View: [A-Za-z0-9+/]+=*\s\*\/$/);
    expect(table.storageDescriptor.columns).toEqual(
      view.columns.map((c) => ({ name: c.name, type: VIEW_HIVE_TYPE[c.type], comment: c.description })),
    );
    // Athena fails on a descriptor without SerDe info (terraform-provider-aws#28517).
    expect(table.storageDescriptor.serDeInfo.serializationLibrary).not.toBe("");
  });
});

describe("the Presto view encoding", () => {
  const view: ViewDefinition = {
    name: "quoted",
    database: "analytics",
    description: "a view with quotes and non-ASCII text",
    columns: [{ name: "label", type: "string", nullable: false, description: "a label" }],
    sql: () => "SELECT 'Größe ''42''' AS label FROM mongodb.alarm",
  };

  it("round-trips any SQL text, quotes and non-ASCII letters included", () => {
    const text = encodePrestoView(prestoViewDefinition(view, ACCOUNT_ID));
    expect(decodePrestoView(text).originalSql).toBe("SELECT 'Größe ''42''' AS label FROM mongodb.alarm");
  });

  it("refuses text that is not a Presto view", () => {
    expect(() => decodePrestoView("SELECT 1")).toThrow(/not a Presto view/);
    expect(() => decodePrestoView("/* Presto View: not base64! */")).toThrow(/not base64/);
  });

  it("declares every timestamp as the plain UTC timestamp(6) the Athena SQL casts instants to", () => {
    // A narrower declared type (timestamp(3)) would make Athena call the view stale; a zoned one
    // is what QuickSight cannot read.
    expect(PRESTO_TYPE.timestamp).toBe("timestamp(6)");
    const sql = view.sql("athena");
    for (const c of view.columns.filter((c) => c.type === "timestamp" && c.name !== "generated_at"))
      if (!sql.includes(`FROM ${"analytics."}`) || view.name === "alarms_enriched")
        expect(sql, c.name).toMatch(new RegExp(`AS timestamp\\(6\\)\\) AS ${c.name}\\b`));
    expect(VIEW_HIVE_TYPE).toMatchObject({ string: "string", int64: "bigint", int32: "int", date: "date" });
  });
});

describe("viewSources", () => {
  it("names the tables and views each view's SQL reads, once each", () => {
    expect(
      Object.fromEntries(views.map((v) => [v.name, viewSources(v).map((s) => `${s.database}.${s.table}`)])),
    ).toEqual({
      alarms_enriched: ["mongodb.alarm", "postgres.device", "postgres.company"],
      alarm_facts: ["analytics.alarms_enriched"],
      open_alarms: ["analytics.alarms_enriched"],
      variable_logs_hourly: ["mongodb.variable_logs"],
      device_history: ["analytics.device_versions", "postgres.company"],
    });
  });

  it("lists views after the views they read", () => {
    views.forEach((v, i) => {
      // What a view reads in analytics is a view before it or a report table.
      for (const s of viewSources(v).filter((x) => x.database === "analytics"))
        expect(
          [...views.slice(0, i).map((x) => x.name), ...reportTables.map((r) => r.name)],
          `${v.name} reads ${s.table}`,
        ).toContain(s.table);
    });
  });
});
