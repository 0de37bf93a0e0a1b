/**
 * The contracts the job tables carry besides the tables (pipeline/schema/job-tables.ts): each is
 * checked here against the TypeScript code that defines it, and on the Python side by
 * glue/tests/test_contracts.py against the parser (glue/lakehouse_glue/job_tables.py), so a
 * change on one side fails a test on the other.
 */
import { describe, expect, it } from "vitest";
import { deviceOfRawKey, RAW_PARTITION_KEY, rawObjectKey } from "../../pipeline/ingest/keys.js";
import { pivotRows } from "../../pipeline/ingest/pivot.js";
import { OVEN_VARIABLES, type VariableLogSlot } from "../../pipeline/schema/collections.js";
import {
  collections,
  ICEBERG_TABLE_PROPERTIES,
  JOB_TABLES_VERSION,
  jobTables,
  LEDGER_LAG_SECONDS,
  PAYLOAD_COLUMN,
  tables,
} from "../../pipeline/schema/index.js";
import { createSupportPool, SUPPORT_STATEMENT_TIMEOUT_MS } from "../../pipeline/support/pool.js";

const list = jobTables();

/** What the curate job does with the template: fill each `{part}` in the literal text. */
function render(template: string, parts: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in parts)) throw new Error(`unknown part ${name}`);
    return String(parts[name]);
  });
}

describe("job tables contracts", () => {
  it("are version 9, plain JSON", () => {
    expect(list.version).toBe(JOB_TABLES_VERSION);
    expect(JOB_TABLES_VERSION).toBe(9);
    expect(JSON.parse(JSON.stringify(list))).toEqual(list);
  });

  it.each([
    ["alarm", 1042, Date.UTC(2024, 0, 1)],
    ["sd_variables", 0, 0],
    ["end_of_prog_aggregated", 2 ** 31 - 1, Date.UTC(2031, 11, 31, 23, 59, 59, 999)],
  ])(
    "carry the raw key format rawObjectKey writes: %s, device %d, from %d",
    (collection, idDevice, fromMs) => {
      const key = rawObjectKey(collection, idDevice, { from: new Date(fromMs), to: new Date(fromMs + 1) });
      const { keyTemplate, partitionColumn } = list.rawObjects;
      expect(render(keyTemplate, { collection, idDevice, windowFromMs: fromMs })).toBe(key);
      // Hive-style: the device's folder is `<partition column>=<id>`, which Spark reads as a column.
      expect(partitionColumn).toBe(RAW_PARTITION_KEY);
      expect(key.split("/")).toContain(`${partitionColumn}=${idDevice}`);
      expect(deviceOfRawKey(collection, key)).toBe(idDevice);
      expect(deviceOfRawKey(`${collection}x`, key)).toBeNull();
    },
  );

  it("keep a template the parser can read: each part once, nothing but plain literal text", () => {
    const { keyTemplate } = list.rawObjects;
    expect([...keyTemplate.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()).toEqual([
      "collection",
      "idDevice",
      "windowFromMs",
    ]);
    expect(keyTemplate.replace(/\{\w+\}/g, "")).toMatch(/^[A-Za-z0-9_=/.-]+$/);
  });

  it("refuse a window start the key format cannot hold", () => {
    expect(() => rawObjectKey("alarm", 1, { from: new Date(-1), to: new Date(0) })).toThrow(RangeError);
  });

  it("name the payload column, which every collection with a payload has, as JSON", () => {
    expect(list.payloadColumn).toBe(PAYLOAD_COLUMN);
    const withPayload = list.collections.filter((c) => c.payload);
    expect(withPayload.length).toBe(collections.filter((c) => c.payload).length);
    expect(withPayload.length).toBeGreaterThan(0);
    for (const c of withPayload) {
      expect(
        c.columns.find((col) => col.name === list.payloadColumn),
        c.name,
      ).toMatchObject({
        type: "json",
        sparkType: "string",
        nullable: true,
      });
    }
    for (const c of list.collections.filter((c) => !c.payload)) {
      expect(c.columns.map((col) => col.name)).not.toContain(list.payloadColumn);
    }
  });

  it("give the postgres tables the lake's Iceberg properties, as Pulumi declares them", () => {
    expect(list.tables).toHaveLength(tables.length);
    for (const t of list.tables) expect(t.properties, t.name).toEqual(ICEBERG_TABLE_PROPERTIES);
  });

  it("carry the ledger lag, above the worker's statement timeout the pool sets", async () => {
    expect(list.ledger).toEqual({
      lagSeconds: LEDGER_LAG_SECONDS,
      writerStatementTimeoutMs: SUPPORT_STATEMENT_TIMEOUT_MS,
    });
    expect(list.ledger.lagSeconds * 1000).toBeGreaterThan(list.ledger.writerStatementTimeoutMs);
    // The number is the one the worker's connections really get (no connection is opened).
    const pool = createSupportPool("postgres://u:p@127.0.0.1:1/support");
    try {
      expect((pool.options as { statement_timeout?: number }).statement_timeout).toBe(
        list.ledger.writerStatementTimeoutMs,
      );
    } finally {
      await pool.end();
    }
  });

  it("name as cell columns exactly the columns a pivot fills with readings", async () => {
    // One slot per variable, one reading each at the same instant: the row pivotRows makes holds
    // a cell in every column the curated day counts add up, and in no other column.
    const entry = collections.find((c) => c.name === "variable_logs");
    if (!entry) throw new Error("variable_logs is not in the registry");
    const day = new Date("2024-01-01T06:00:00Z");
    async function* slots(): AsyncGenerator<VariableLogSlot> {
      for (const [k, variable] of OVEN_VARIABLES.entries()) {
        const values = Array.from({ length: 120 }, (_, i) => (i === 0 ? k + 0.5 : null));
        yield { _id: variable, idDevice: 1, variable, day, samples: [{ hour: 0, values }] };
      }
    }
    const rows = [];
    for await (const row of pivotRows(entry, 1, slots())) rows.push(row);
    expect(rows).toHaveLength(1);
    const job = list.collections.find((c) => c.name === "variable_logs");
    const filled = Object.entries(rows[0] ?? {})
      .filter(([name, value]) => value !== null && name !== job?.timestampColumn && name !== "id_device")
      .map(([name]) => name);
    expect(job?.cellColumns).toHaveLength(OVEN_VARIABLES.length);
    expect([...(job?.cellColumns ?? [])].sort()).toEqual(filled.sort());
    expect(job?.cellColumns).not.toContain(list.payloadColumn);
    // Collections whose rows are documents have no cells: a row is one document.
    for (const c of list.collections.filter((c) => c.name !== "variable_logs")) {
      expect(c.cellColumns, c.name).toEqual([]);
    }
  });

  it("update matched rows where the source changes a document or a late reading can fill a row", () => {
    // alarm: its updated column (resetTS) changes at the source; variable_logs: a pivoted row.
    const updating = list.collections.filter((c) => c.updateMatched).map((c) => c.name);
    expect(updating.sort()).toEqual(["alarm", "variable_logs"]);
    for (const c of list.collections) {
      if (c.updatedColumn !== null || c.cellColumns.length > 0) expect(c.updateMatched, c.name).toBe(true);
    }
  });
});
