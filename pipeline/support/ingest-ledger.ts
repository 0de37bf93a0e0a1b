/**
 * The worker's {@link IngestLedger} on the support database, in SQL over {@link SqlRunner} (see
 * pool.ts for why not the Prisma client). A group of window commits is one statement
 * (commit-statement.ts): bookmarks, ledger rows, quarantine rows, drift counts and the run's
 * metric counters commit together or not at all (DESIGN §4 "Write").
 */
import pRetry, { AbortError } from "p-retry";
import type { IngestLedger, RunSummary, WindowCommit } from "../ingest/ledger.js";
import { commitStatement } from "./commit-statement.js";
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

function retryOnConflict<T>(commit: () => Promise<T>): Promise<T> {
  return pRetry(async () => {
    try {
      return await commit();
    } catch (error) {
      throw isConflict(error) ? error : new AbortError(error as Error);
    }
  }, COMMIT_RETRIES);
}

const BOOKMARKS = `SELECT id_device, lastts FROM lastts WHERE collection = $1 AND id_device = ANY($2::int[])`;

const FINISH_RUN = `
INSERT INTO metric (run_id, plan_id, collection, first_device, last_device, devices_to_query,
  devices_processed, errors, finished_at)
VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (run_id, collection) DO UPDATE SET
  first_device = EXCLUDED.first_device, last_device = EXCLUDED.last_device,
  devices_to_query = EXCLUDED.devices_to_query, devices_processed = EXCLUDED.devices_processed,
  errors = EXCLUDED.errors, finished_at = EXCLUDED.finished_at
`;

export function sqlIngestLedger(db: SqlRunner): IngestLedger {
  return {
    async bookmarks(collection, devices) {
      const { rows } = await db.query<{ id_device: number; lastts: Date }>(BOOKMARKS, [
        collection,
        [...devices],
      ]);
      return new Map(rows.map((r) => [r.id_device, r.lastts]));
    },

    async commitWindows(commits: readonly WindowCommit[]) {
      if (!commits.length) return;
      const { sql, values } = commitStatement(commits, new Date());
      await retryOnConflict(() => db.query(sql, values));
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
  };
}
