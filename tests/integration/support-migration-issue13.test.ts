/**
 * Issue 13's support database migration on a database that already holds rows of the schema
 * before it: device ids become bigint with their values kept, quarantine rows that share an
 * object key keep their row (the older ones marked), and the key is unique from then on.
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalConfig } from "../../local/config.js";
import { applyMigrations, DEFAULT_MIGRATIONS_DIR, readMigrations } from "../../pipeline/support/index.js";
import { type Throwaway, throwawayDatabases } from "../support/throwaway.js";

const MIGRATION = "20261130121439_device_ids_bigint_quarantine_keys";
let dbs: Throwaway;
let dir: string;
let client: pg.Client;

beforeAll(async () => {
  dbs = throwawayDatabases("mig13");
  const admin = new pg.Client({ connectionString: loadLocalConfig().DDC_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbs.name}_support`);
  await admin.end();
  // The migrations before this one only.
  dir = await mkdtemp(join(tmpdir(), "mig13-"));
  const before = (await readMigrations()).filter((m) => m.name < MIGRATION);
  for (const m of before) {
    await cp(join(DEFAULT_MIGRATIONS_DIR, m.name), join(dir, m.name), { recursive: true });
  }
  await cp(join(DEFAULT_MIGRATIONS_DIR, "migration_lock.toml"), join(dir, "migration_lock.toml"));
  await applyMigrations(dbs.config.SUPPORT_DATABASE_URL, { dir });
  client = new pg.Client({ connectionString: dbs.config.SUPPORT_DATABASE_URL });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await dbs?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const columnType = async (table: string, column: string) =>
  (
    await client.query<{ type: string }>(
      `SELECT format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attname = $2`,
      [table, column],
    )
  ).rows[0]?.type;

describe(`migration ${MIGRATION}`, () => {
  it("turns device ids into bigint, keeps every row, and makes quarantine keys unique", async () => {
    expect(await columnType("lastts", "id_device")).toBe("integer");
    await client.query(
      "INSERT INTO lastts (id_device, collection, lastts) VALUES (2147483647, 'events', now())",
    );
    await client.query(
      `INSERT INTO plan (id, mode) VALUES ('00000000-0000-4000-8000-000000000001', 'bulk');
       INSERT INTO plan_batch (plan_id, collection, batch_index, devices, last_log_dates)
       VALUES ('00000000-0000-4000-8000-000000000001', 'events', 0, '{1,2147483647}', '{now(),now()}')`,
    );
    // Two rows of one key (the old key format made "café" and "cafè" one), and a lone one.
    await client.query(
      `INSERT INTO quarantine (run_id, collection, id_device, document_id, reason, object_key) VALUES
       ('r1', 'events', 7, 'café', 'first', '_quarantine/events/no-device/caf_.json'),
       ('r2', 'events', 7, 'cafè', 'second', '_quarantine/events/no-device/caf_.json'),
       ('r2', 'events', NULL, 'x', 'lone', '_quarantine/events/no-device/x.json')`,
    );

    await cp(join(DEFAULT_MIGRATIONS_DIR, MIGRATION), join(dir, MIGRATION), { recursive: true });
    const applied = await applyMigrations(dbs.config.SUPPORT_DATABASE_URL, { dir });
    expect(applied.map((m) => m.name)).toEqual([MIGRATION]);

    for (const [table, column] of [
      ["lastts", "id_device"],
      ["file_ledger", "id_device"],
      ["quarantine", "id_device"],
      ["metric", "first_device"],
      ["metric", "last_device"],
    ]) {
      expect(await columnType(table as string, column as string)).toBe("bigint");
    }
    expect(await columnType("plan_batch", "devices")).toBe("bigint[]");
    expect((await client.query("SELECT id_device::text FROM lastts")).rows).toEqual([
      { id_device: "2147483647" },
    ]);
    expect((await client.query("SELECT devices::text FROM plan_batch")).rows).toEqual([
      { devices: "{1,2147483647}" },
    ]);
    await client.query(
      "INSERT INTO lastts (id_device, collection, lastts) VALUES (3000000000, 'events', now())",
    );

    const rows = await client.query<{ id: number; reason: string; object_key: string }>(
      "SELECT id, reason, object_key FROM quarantine ORDER BY id",
    );
    const [first, second, lone] = rows.rows;
    expect(rows.rows).toHaveLength(3);
    expect(first?.object_key).toBe(`_quarantine/events/no-device/caf_.json#${first?.id}`);
    expect(second?.object_key).toBe("_quarantine/events/no-device/caf_.json");
    expect(lone?.object_key).toBe("_quarantine/events/no-device/x.json");
    await expect(
      client.query(
        `INSERT INTO quarantine (run_id, collection, reason, object_key)
         VALUES ('r3', 'events', 'again', '_quarantine/events/no-device/x.json')`,
      ),
    ).rejects.toThrow(/quarantine_object_key_key/);
  });
});
