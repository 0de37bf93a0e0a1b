/**
 * A small world for one ingestion test file on the local stack: throwaway `ddc`, support and
 * MongoDB databases (tests/support/throwaway.ts), a lake in a temp folder, and the worker, the
 * ingestion state and the raw rows wired to them. Hand-made documents go straight into `source`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Db, MongoClient } from "mongodb";
import pg from "pg";
import type { IngestState } from "../../pipeline/ingest/ingest-state.js";
import { runWorker, type WorkerOptions, type WorkerResult } from "../../pipeline/ingest/worker.js";
import { LocalObjectStore } from "../../pipeline/lake/local-store.js";
import { collection } from "../../pipeline/schema/index.js";
import { postgresIngestState } from "../../pipeline/support/ingest-state.js";
import { createSupportPool } from "../../pipeline/support/pool.js";
import { ledgerRows } from "./ledger-rows.js";
import { type Throwaway, throwawayDatabases } from "./throwaway.js";

export interface IngestWorld {
  readonly dbs: Throwaway;
  readonly source: Db;
  readonly store: LocalObjectStore;
  /** The support database's pool, as the worker uses it. */
  readonly pool: pg.Pool;
  /** The `ddc` database's pool. */
  readonly ddc: pg.Pool;
  readonly state: ReturnType<typeof postgresIngestState>;
  /**
   * Runs the worker over `devices` (id and last_log_date) of one collection, one run id; `state`
   * stands in for the ingestion state (a wrapper that fails or watches commits).
   */
  work(
    collectionName: string,
    devices: readonly { idDevice: number; lastLogDate: Date }[],
    runId: string,
    options?: WorkerOptions & { readonly state?: IngestState },
  ): Promise<WorkerResult>;
  /** Rows of a query on the support database. */
  sql<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  /** Every raw row of a collection, from the objects its ledger rows name. */
  rawRows(collectionName: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function openIngestWorld(label: string): Promise<IngestWorld> {
  const dbs = throwawayDatabases(label);
  await dbs.create();
  const mongo = new MongoClient(dbs.config.MONGODB_URL);
  await mongo.connect();
  const source = mongo.db(dbs.config.MONGODB_DATABASE);
  const lakeDir = await mkdtemp(join(tmpdir(), `lake-${label}-`));
  const store = new LocalObjectStore(lakeDir);
  const pool = createSupportPool(dbs.config.SUPPORT_DATABASE_URL);
  const ddc = new pg.Pool({ connectionString: dbs.config.DDC_DATABASE_URL, max: 2 });
  const state = postgresIngestState(pool);
  const sql = async <R extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
    (await pool.query<R>(text, values)).rows;
  return {
    dbs,
    source,
    store,
    pool,
    ddc,
    state,
    work: (collectionName, devices, runId, { state: wrapped, ...options } = {}) =>
      runWorker(
        { runId, planId: null, entry: collection(collectionName), devices },
        { source, store, state: wrapped ?? state },
        options,
      ),
    sql,
    async rawRows(collectionName) {
      const ledger = await sql<{ object_key: string; id_device: string }>(
        "SELECT object_key, id_device FROM file_ledger WHERE collection = $1 ORDER BY id",
        [collectionName],
      );
      return ledgerRows(
        store,
        ledger.map((r) => ({ objectKey: r.object_key, idDevice: r.id_device })),
      );
    },
    async close() {
      await pool.end();
      await ddc.end();
      await mongo.close();
      await dbs.drop();
      await rm(lakeDir, { recursive: true, force: true });
    },
  };
}
