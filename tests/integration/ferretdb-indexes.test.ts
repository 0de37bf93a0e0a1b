/**
 * The local stack's GIN indexes (tools/ferretdb/indexes.sql): FerretDB pushes `{idDevice: n}` down
 * to PostgreSQL as JSONB containment, which its own B-tree indexes cannot serve. An index created
 * through the MongoDB protocol gets a GIN index on its leading field beside it, and the pushed-down
 * query uses it. Real FerretDB, real PostgreSQL (the `ferretdb` database FerretDB stores into).
 */
import { randomUUID } from "node:crypto";
import { type Db, MongoClient } from "mongodb";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalConfig } from "../../local/config.js";

const config = loadLocalConfig();

/** FerretDB's own database on the stack's cluster (scripts/stack.sh `ferretdb_cmd`). */
function ferretdbDatabaseUrl(): string {
  const url = new URL(config.SUPPORT_DATABASE_URL);
  url.pathname = "/ferretdb";
  return url.toString();
}

describe("FerretDB's tables get GIN indexes for its equality pushdown", () => {
  let client: MongoClient;
  let db: Db;
  let sql: pg.Client;
  const database = `gin_test_${randomUUID().slice(0, 8)}`;

  /** The PostgreSQL table behind a collection, from FerretDB's metadata table in the schema. */
  async function tableOf(collection: string): Promise<string> {
    const { rows } = await sql.query(
      `SELECT _jsonb->>'table' AS t FROM ${database}._ferretdb_database_metadata WHERE _jsonb->>'_id' = $1`,
      [collection],
    );
    expect(rows).toHaveLength(1);
    return `${database}.${rows[0].t}`;
  }

  async function indexes(table: string): Promise<{ name: string; method: string; def: string }[]> {
    const { rows } = await sql.query(
      `SELECT c.relname AS name, am.amname AS method, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = $1::regclass ORDER BY c.relname`,
      [table],
    );
    return rows;
  }

  beforeAll(async () => {
    client = new MongoClient(config.MONGODB_URL);
    await client.connect();
    db = client.db(database);
    sql = new pg.Client({ connectionString: ferretdbDatabaseUrl() });
    await sql.connect();
  });

  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
    await sql.end();
  });

  it("adds one GIN index per leading field, whatever index FerretDB builds on it", async () => {
    const alarms = db.collection("alarm");
    await alarms.insertMany(
      Array.from({ length: 50 }, (_, i) => ({
        idDevice: i % 5,
        activeTS: new Date(i * 60_000),
        resetTS: null,
      })),
    );
    await alarms.createIndex({ idDevice: 1, activeTS: 1 });
    await alarms.createIndex({ idDevice: 1, resetTS: 1 });
    await alarms.createIndex({ code: 1 });
    const gin = (await indexes(await tableOf("alarm"))).filter((i) => i.method === "gin");
    expect(gin.map((i) => i.def.replace(/^.* USING /, "")).sort()).toEqual([
      "gin (((_jsonb -> 'code'::text)) jsonb_path_ops)",
      "gin (((_jsonb -> 'idDevice'::text)) jsonb_path_ops)",
    ]);
  });

  it("adds none for a collection with only its _id index", async () => {
    await db.collection("plain").insertOne({ idDevice: 1 });
    const all = await indexes(await tableOf("plain"));
    expect(all.map((i) => i.method)).toEqual(["btree"]);
  });

  it("serves the query FerretDB sends for {idDevice: n}, and the query still answers right", async () => {
    const events = db.collection("events");
    await events.insertMany(
      Array.from({ length: 400 }, (_, i) => ({
        idDevice: i % 40,
        ts: new Date(Date.UTC(2024, 0, 1) + i * 1000),
      })),
    );
    await events.createIndex({ idDevice: 1, ts: 1 });
    const table = await tableOf("events");
    // The shape of FerretDB 1.24's pushdown (internal/backends/postgresql/query.go filterEqual).
    await sql.query("BEGIN");
    try {
      await sql.query("SET LOCAL enable_seqscan = off");
      const { rows } = await sql.query(`EXPLAIN SELECT _jsonb FROM ${table} WHERE _jsonb->'idDevice' @> '7'`);
      const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
      expect(plan).toMatch(/Bitmap Index Scan on \w+_gin_\w+/);
    } finally {
      await sql.query("ROLLBACK");
    }
    const found = await events
      .find({ idDevice: 7, ts: { $gte: new Date(Date.UTC(2024, 0, 1, 0, 1)) } })
      .sort({ ts: 1 })
      .toArray();
    expect(found.map((d) => d.ts.getTime())).toEqual(
      [87, 127, 167, 207, 247, 287, 327, 367].map((i) => Date.UTC(2024, 0, 1) + i * 1000),
    );
  });
});
