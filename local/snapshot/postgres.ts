/**
 * PostgreSQL side of the snapshot: the `ddc` DDL, batched inserts and the generator's state row.
 */
import { readFileSync } from "node:fs";
import pg from "pg";
import { table } from "../../pipeline/schema/registry.js";
import { resolveSnapshotConfig } from "./scales.js";
import type { DdcRows, DdcTableName, SnapshotConfig } from "./types.js";

/** Bumped when a change to the generator changes its output for the same config. */
export const GENERATOR_VERSION = 1;

/** `ddc` tables in foreign-key order: parents first. */
export const DDC_TABLES = [
  "company",
  "device_group",
  "device",
  "device_recipe",
  "community_recipe",
  "chefunox_recipe",
  "recipe_company",
  "recipe_device_group",
  "recipe_device",
  "device_recipe_history",
  "device_ip_info_history",
  "company_parameter",
  "device_profile",
  "device_settings",
] as const satisfies readonly DdcTableName[];

/**
 * Tables whose ids come from a `GENERATED ALWAYS` identity: inserts leave `id` out and the
 * database numbers rows in insert order, which on fresh tables equals the plan's ids.
 */
export const IDENTITY_ALWAYS: ReadonlySet<DdcTableName> = new Set([
  "device_recipe_history",
  "device_ip_info_history",
]);

/** PostgreSQL caps bind parameters at 65535 per statement; stay well below. */
const MAX_PARAMS = 30_000;

/** Text of `ddc.sql`, next to this module. */
export function ddcDdl(): string {
  return readFileSync(new URL("./ddc.sql", import.meta.url), "utf8");
}

/**
 * A pg client whose `bigint` columns come back as numbers (ids and counts here stay far below
 * 2^53). Set per client, not through pg's global type registry, which other modules share.
 */
export function newPgClient(connectionString: string): pg.Client {
  return new pg.Client({
    connectionString,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === pg.types.builtins.INT8
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
    },
  });
}

/**
 * Create the schema if absent; with `reset`, drop the snapshot tables and the generator's
 * state first. Only the tables this generator owns are dropped, never the whole schema.
 */
export async function applyDdl(client: pg.ClientBase, reset: boolean): Promise<void> {
  if (reset) {
    const names = [...DDC_TABLES].reverse().join(", ");
    await client.query(`DROP TABLE IF EXISTS ${names} CASCADE`);
    await client.query("DROP SCHEMA IF EXISTS synthetic CASCADE");
  }
  await client.query(ddcDdl());
}

/** Empty every snapshot table and restart identities (a half-finished load leaves rows behind). */
export async function truncateAll(client: pg.ClientBase): Promise<void> {
  await client.query(`TRUNCATE ${DDC_TABLES.join(", ")} RESTART IDENTITY CASCADE`);
  await client.query("TRUNCATE synthetic.state");
}

/** Column names of a table, in schema order, from the registry (the contract). */
export function columnsOf(name: DdcTableName): string[] {
  return Object.keys(table(name).schema.shape);
}

/**
 * Insert rows with multi-row `INSERT ... VALUES` statements, batched under the bind-parameter
 * limit. Identity-always tables get their `id` from the database (see {@link IDENTITY_ALWAYS}).
 */
export async function insertRows<K extends DdcTableName>(
  client: pg.ClientBase,
  name: K,
  rows: readonly DdcRows[K][number][],
): Promise<void> {
  const columns = columnsOf(name).filter((c) => !(c === "id" && IDENTITY_ALWAYS.has(name)));
  const perBatch = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  for (let i = 0; i < rows.length; i += perBatch) {
    const batch = rows.slice(i, i + perBatch);
    const params: unknown[] = [];
    const tuples = batch.map((row) => {
      const record = row as unknown as Record<string, unknown>;
      const slots = columns.map((c) => {
        params.push(record[c] ?? null);
        return `$${params.length}`;
      });
      return `(${slots.join(", ")})`;
    });
    await client.query(`INSERT INTO ${name} (${columns.join(", ")}) VALUES ${tuples.join(", ")}`, params);
  }
}

/**
 * After explicit ids were inserted into `device_recipe`, move its identity past them so the rows
 * `advance` re-inserts get fresh ids.
 */
export async function syncIdentity(client: pg.ClientBase, name: DdcTableName): Promise<void> {
  await client.query(
    `SELECT setval(pg_get_serial_sequence($1, 'id'), GREATEST((SELECT max(id) FROM ${name}), 1), (SELECT count(*) > 0 FROM ${name}))`,
    [name],
  );
}

/** The generator's bookkeeping row. */
export interface SnapshotState {
  readonly config: SnapshotConfig;
  readonly version: number;
  /** Current snapshot clock (epoch ms): `config.end` after load, later after each advance. */
  readonly clock: number;
}

export async function readState(client: pg.ClientBase): Promise<SnapshotState | null> {
  const exists = await client.query("SELECT to_regclass('synthetic.state') IS NOT NULL AS ok");
  if (!exists.rows[0]?.ok) return null;
  const { rows } = await client.query(
    "SELECT generator_version, seed, scale, devices, days, loaded_end, clock, collections FROM synthetic.state",
  );
  const r = rows[0];
  if (!r) return null;
  return {
    version: r.generator_version,
    clock: (r.clock as Date).getTime(),
    config: {
      seed: r.seed,
      scale: r.scale,
      devices: r.devices,
      days: r.days,
      end: (r.loaded_end as Date).getTime(),
      // NULL: a snapshot loaded before collections could be chosen, i.e. all of them.
      collections: resolveSnapshotConfig({ collections: r.collections ?? undefined }).collections,
    },
  };
}

export async function writeState(client: pg.ClientBase, state: SnapshotState): Promise<void> {
  const { config } = state;
  await client.query(
    `INSERT INTO synthetic.state (generator_version, seed, scale, devices, days, loaded_end, clock, collections)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (singleton) DO UPDATE SET generator_version = EXCLUDED.generator_version,
       seed = EXCLUDED.seed, scale = EXCLUDED.scale, devices = EXCLUDED.devices, days = EXCLUDED.days,
       loaded_end = EXCLUDED.loaded_end, clock = EXCLUDED.clock, collections = EXCLUDED.collections`,
    [
      state.version,
      config.seed,
      config.scale,
      config.devices,
      config.days,
      new Date(config.end),
      new Date(state.clock),
      [...config.collections],
    ],
  );
}

/** Row count of every snapshot table. */
export async function countRows(client: pg.ClientBase): Promise<Record<DdcTableName, number>> {
  const sql = DDC_TABLES.map((t) => `SELECT '${t}' AS name, count(*) AS n FROM ${t}`).join(" UNION ALL ");
  const { rows } = await client.query<{ name: DdcTableName; n: number }>(sql);
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)])) as Record<DdcTableName, number>;
}
