/**
 * The contracts the job tables carry besides the tables (pipeline/schema/job-tables.ts): each is
 * checked here against the TypeScript code that defines it, and on the Python side by
 * glue/tests/test_contracts.py against the parser (glue/lakehouse_glue/job_tables.py), so a
 * change on one side fails a test on the other.
 */
import { describe, expect, it } from "vitest";
import { deviceOfRawKey, RAW_PARTITION_KEY, rawObjectKey } from "../../pipeline/ingest/keys.js";
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
  it("are version 4, plain JSON", () => {
    expect(list.version).toBe(JOB_TABLES_VERSION);
    expect(JOB_TABLES_VERSION).toBe(4);
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
});
