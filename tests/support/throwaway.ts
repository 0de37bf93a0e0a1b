/**
 * Databases of one test file on the local stack: its own `ddc` and support databases in
 * PostgreSQL and its own MongoDB database, so files run in parallel without sharing state.
 */
import { randomUUID } from "node:crypto";
import { MongoClient } from "mongodb";
import pg from "pg";
import { type LocalConfig, loadLocalConfig } from "../../local/config.js";
import { applyMigrations } from "../../pipeline/support/index.js";

export interface Throwaway {
  /** Unique name: the MongoDB database, and the prefix of the PostgreSQL ones. */
  readonly name: string;
  /** The local configuration pointed at this file's databases. */
  readonly config: LocalConfig;
  /** Creates the databases and migrates the support one. */
  create(): Promise<void>;
  /** Drops all three, even when connections are still open. */
  drop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function throwawayDatabases(label: string): Throwaway {
  const base = loadLocalConfig();
  const name = `${label}_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const config: LocalConfig = {
    ...base,
    DDC_DATABASE_URL: withDatabase(base.DDC_DATABASE_URL, `${name}_ddc`),
    SUPPORT_DATABASE_URL: withDatabase(base.DDC_DATABASE_URL, `${name}_support`),
    MONGODB_DATABASE: name,
  };
  const admin = () => new pg.Client({ connectionString: base.DDC_DATABASE_URL });
  return {
    name,
    config,
    async create() {
      const client = admin();
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}_ddc`);
        await client.query(`CREATE DATABASE ${name}_support`);
      } finally {
        await client.end();
      }
      await applyMigrations(config.SUPPORT_DATABASE_URL);
    },
    async drop() {
      const mongo = new MongoClient(base.MONGODB_URL);
      await mongo
        .db(name)
        .dropDatabase()
        .catch(() => undefined)
        .finally(() => mongo.close());
      const client = admin();
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name}_ddc WITH (FORCE)`);
        await client.query(`DROP DATABASE IF EXISTS ${name}_support WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
