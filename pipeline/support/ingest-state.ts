/**
 * The ingestion's state on the support database, in SQL over {@link SqlRunner} (a `pg.Pool`; see
 * pool.ts for why not the Prisma client): the one adapter of the ingest code's ports
 * ({@link IngestState}, {@link PlanBookmarks}, {@link OrphanRecords}). A group of window commits is
 * one statement (commit-statement.ts): bookmarks, ledger rows, quarantine rows, drift counts and
 * the run's metric counters commit together or not at all (docs/design.md §4 "Write").
 */
import pRetry, { AbortError } from "p-retry";
import { deviceIdOf } from "../ingest/device-ids.js";
import type {
  IngestState,
  OrphanCommit,
  OrphanRecords,
  PlanBookmarks,
  RunSummary,
  WindowCommit,
} from "../ingest/ingest-state.js";
import { commitStatement, orphanStatement, type Statement } from "./commit-statement.js";
import type { SqlRunner } from "./pool.js";

/**
 * Concurrent workers of one collection share drift rows, so a commit can lose a deadlock or
 * serialization conflict. The statement rolled back whole; running it again is safe.
 */
const COMMIT_RETRIES = { retries: 4, minTimeout: 50, maxTimeout: 1000, randomize: true } as const;

/** SQLSTATE of a serialization failure and of a deadlock; Prisma reports both as P2034. */
const CONFLICT_CODES = new Set(["40001", "40P01", "P2034"]);

function isConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const meta = (error as { meta?: { code?: unknown } } | null)?.meta?.code;
  return CONFLICT_CODES.has(String(code)) || CONFLICT_CODES.has(String(meta));
}

/** Runs a commit statement, again while it loses a conflict. */
async function commit(db: SqlRunner, { sql, values }: Statement): Promise<void> {
  await pRetry(async () => {
    try {
      return await db.query(sql, values);
    } catch (error) {
      throw isConflict(error) ? error : new AbortError(error as Error);
    }
  }, COMMIT_RETRIES);
}

const BOOKMARKS = `SELECT id_device, lastts FROM lastts WHERE collection = $1 AND id_device = ANY($2::bigint[])`;

const ANY_BOOKMARK = `SELECT EXISTS (SELECT 1 FROM lastts) AS found`;

/** One index lookup per key (`quarantine_object_key_key`, unique). */
const QUARANTINED_KEYS = `SELECT object_key FROM quarantine WHERE object_key = ANY($1::text[])`;

const INTEND_PACK = `INSERT INTO pack_upload (object_key, collection, run_id) VALUES ($1, $2, $3)`;

/**
 * Unsettled, recorded long enough ago that the writer is gone, and named by no ledger row (a pack
 * committed whose settling failed is named; one whose windows were all extracted again since
 * holds nothing the ledger wants). Index scans: `pack_upload`'s (collection, settled_at,
 * created_at), the ledger's object_key.
 */
const ABANDONED_PACKS = `SELECT p.object_key FROM pack_upload p
WHERE p.collection = $1 AND p.settled_at IS NULL AND p.created_at < $2
  AND NOT EXISTS (SELECT 1 FROM file_ledger l WHERE l.object_key = p.object_key)
ORDER BY p.object_key`;

const SETTLE_PACKS = `UPDATE pack_upload SET settled_at = now()
WHERE object_key = ANY($1::text[]) AND settled_at IS NULL`;

const FINISH_RUN = `
INSERT INTO metric (run_id, plan_id, collection, first_device, last_device, devices_to_query,
  devices_processed, errors, finished_at)
VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (run_id, collection) DO UPDATE SET
  first_device = EXCLUDED.first_device, last_device = EXCLUDED.last_device,
  devices_to_query = EXCLUDED.devices_to_query, devices_processed = EXCLUDED.devices_processed,
  errors = EXCLUDED.errors, finished_at = EXCLUDED.finished_at
`;

/** The ledger's ports on the support database. */
export function postgresIngestState(db: SqlRunner): IngestState & PlanBookmarks & OrphanRecords {
  return {
    async bookmarks(collection, devices) {
      // int8 comes back as text (node-postgres) or bigint (Prisma): checked back to numbers.
      const { rows } = await db.query<{ id_device: string | number | bigint; lastts: Date }>(BOOKMARKS, [
        collection,
        [...devices],
      ]);
      return new Map(rows.map((r) => [deviceIdOf(r.id_device), r.lastts]));
    },

    async hasBookmarks() {
      const { rows } = await db.query<{ found: boolean }>(ANY_BOOKMARK);
      return rows[0]?.found === true;
    },

    async commitWindows(commits: readonly WindowCommit[]) {
      if (!commits.length) return;
      await commit(db, commitStatement(commits, new Date()));
    },

    async finishRun(s: RunSummary) {
      const sorted = [...s.devices].sort((a, b) => a - b);
      await db.query(FINISH_RUN, [
        s.runId,
        s.planId,
        s.collection,
        sorted[0] ?? null,
        sorted.at(-1) ?? null,
        s.devices.length,
        s.devicesProcessed,
        s.errors,
        new Date(),
      ]);
    },

    async quarantinedKeys(keys) {
      if (!keys.length) return new Set<string>();
      const { rows } = await db.query<{ object_key: string }>(QUARANTINED_KEYS, [[...keys]]);
      return new Set(rows.map((r) => r.object_key));
    },

    async intendPack(upload) {
      await db.query(INTEND_PACK, [upload.key, upload.collection, upload.runId]);
    },

    async abandonedPacks(collection, before) {
      const { rows } = await db.query<{ object_key: string }>(ABANDONED_PACKS, [collection, before]);
      return rows.map((r) => r.object_key);
    },

    async settlePacks(keys) {
      if (!keys.length) return;
      await db.query(SETTLE_PACKS, [[...keys]]);
    },

    async commitOrphans(orphans: OrphanCommit) {
      if (!orphans.quarantined.length) return;
      await commit(db, orphanStatement(orphans));
    },
  };
}
