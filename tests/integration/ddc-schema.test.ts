/**
 * The registry's table schemas agree with the source `ddc` schema as PostgreSQL reports it: every
 * lake column exists with a type that maps onto its column type, and NOT NULL exactly where the
 * zod field is not nullable. A drift on either side (a new nullable source column typed NOT NULL
 * in zod, a renamed column) fails here instead of inside the Glue job.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalConfig } from "../../local/config.js";
import { tables } from "../../pipeline/schema/index.js";
import { POSTGRES_SOURCE_TYPES } from "../../pipeline/schema/targets.js";

/** PostgreSQL `data_type` each lake column type may come from. */
const PG_TYPES = POSTGRES_SOURCE_TYPES;

const config = loadLocalConfig();
const database = `ddc_schema_${randomUUID().slice(0, 8)}`;
const admin = new pg.Client({ connectionString: config.DDC_DATABASE_URL });
let client: pg.Client;
let columns: Map<string, { data_type: string; is_nullable: string }>;

beforeAll(async () => {
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(config.DDC_DATABASE_URL);
  url.pathname = `/${database}`;
  client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(await readFile("local/snapshot/ddc.sql", "utf8"));
  const { rows } = await client.query(
    `SELECT table_name, column_name, data_type, is_nullable
       FROM information_schema.columns WHERE table_schema = 'public'`,
  );
  columns = new Map(rows.map((r) => [`${r.table_name}.${r.column_name}`, r]));
});

afterAll(async () => {
  await client?.end();
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  await admin.end();
});

describe.each(tables.map((t) => [t.name, t] as const))("ddc.%s", (name, entry) => {
  it("has every lake column with a compatible type and the same nullability", () => {
    for (const col of entry.columns) {
      const source = columns.get(`${name}.${col.source}`);
      expect(source, `${name}.${col.source} missing in ddc.sql`).toBeDefined();
      expect(PG_TYPES[col.type], `${name}.${col.source}`).toContain(source?.data_type);
      expect(source?.is_nullable === "YES", `${name}.${col.source} nullability`).toBe(col.nullable);
    }
  });
});

it("applies twice without error (idempotent DDL)", async () => {
  await expect(client.query(await readFile("local/snapshot/ddc.sql", "utf8"))).resolves.toBeDefined();
});
