/**
 * One SQL statement that commits a group of windows: data-modifying CTEs fed by `unnest` over
 * parameter arrays, so the statement has the same shape (and the same 30 parameters) for any
 * group size. A single statement is atomic without an explicit transaction. The summary's orphans
 * commit through {@link orphanStatement}, made of the same quarantine and metric parts, so every
 * quarantine row and run counter of the support database is written here.
 *
 * - Bookmarks: the last commit of a device wins (a group holds at most one window per device,
 *   since a device waits for its commit before its next window; the dedup keeps the statement
 *   valid anyway: ON CONFLICT may touch a row only once per statement).
 * - Ledger: one row per device window (in its own object, or in a pack of many devices' windows:
 *   ADR 0023). A window extracted again (a repair's replay, an operator who moved the bookmark
 *   back) replaces its row, whichever object now holds it: the row takes the new values and a
 *   **new id** (`EXCLUDED.id` is the proposed row's fresh serial), so it lands past the curate
 *   job's position and the window is curated again.
 * - Drift and metric counters are summed per key in the client and added on conflict; drift
 *   rows are inserted in key order, so two workers of one collection lock them in one order.
 */
import type { OrphanCommit, QuarantineRecord, WindowCommit, WindowCounters } from "../ingest/ingest-state.js";

export interface Statement {
  readonly sql: string;
  readonly values: readonly unknown[];
}

/** Quarantine reasons are capped: the object in the store holds the whole story. */
const REASON_MAX = 4000;

/**
 * The quarantine rows' insert, over six parameter arrays from `$first` (see
 * {@link quarantineValues}): every quarantine row is written by this statement part. One row per
 * object key: a key that has one already (a replayed window; a document two workers of one plan
 * met at the same moment, both before either committed) adds none. The callers skip known keys
 * before copying (quarantine.ts `QuarantineOnce`), so this only settles such races: the losing
 * run's metric row still counts the document it read and refused.
 */
function insertQuarantine(first: number): string {
  const $ = (i: number) => `$${first + i}`;
  return `INSERT INTO quarantine (run_id, collection, id_device, document_id, reason, object_key)
  SELECT * FROM unnest(${$(0)}::text[], ${$(1)}::text[], ${$(2)}::bigint[], ${$(3)}::text[], ${$(4)}::text[], ${$(5)}::text[])
  ON CONFLICT (object_key) DO NOTHING`;
}

/** The run's metric rows, counters added on conflict, over nine parameter arrays from `$first`. */
function upsertMetric(first: number): string {
  const $ = (i: number) => `$${first + i}`;
  return `INSERT INTO metric (run_id, plan_id, collection, documents_read, documents_uploaded,
  documents_quarantined, bytes_uploaded, queries_run, computation_ms)
SELECT * FROM unnest(${$(0)}::text[], ${$(1)}::uuid[], ${$(2)}::text[], ${$(3)}::int[], ${$(4)}::int[], ${$(5)}::int[],
  ${$(6)}::bigint[], ${$(7)}::int[], ${$(8)}::int[])
ON CONFLICT (run_id, collection) DO UPDATE SET
  documents_read = metric.documents_read + EXCLUDED.documents_read,
  documents_uploaded = metric.documents_uploaded + EXCLUDED.documents_uploaded,
  documents_quarantined = metric.documents_quarantined + EXCLUDED.documents_quarantined,
  bytes_uploaded = metric.bytes_uploaded + EXCLUDED.bytes_uploaded,
  queries_run = metric.queries_run + EXCLUDED.queries_run,
  computation_ms = metric.computation_ms + EXCLUDED.computation_ms`;
}

const COMMIT_SQL = `
WITH bookmark AS (
  INSERT INTO lastts (id_device, collection, lastts)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[])
  ON CONFLICT (id_device, collection) DO UPDATE SET lastts = EXCLUDED.lastts
), ledger AS (
  INSERT INTO file_ledger (object_key, collection, id_device, window_from, window_to, rows, bytes, run_id)
  SELECT * FROM unnest($4::text[], $5::text[], $6::bigint[], $7::timestamptz[], $8::timestamptz[], $9::int[], $10::bigint[], $11::text[])
  ON CONFLICT (collection, id_device, window_from) DO UPDATE SET
    id = EXCLUDED.id, object_key = EXCLUDED.object_key, window_to = EXCLUDED.window_to, rows = EXCLUDED.rows,
    bytes = EXCLUDED.bytes, run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at
), quarantined AS (
  ${insertQuarantine(12)}
), drift AS (
  INSERT INTO drift_count (collection, key, count, first_seen, last_seen)
  SELECT c, k, n, $21::timestamptz, $21::timestamptz
  FROM unnest($18::text[], $19::text[], $20::bigint[]) AS d(c, k, n)
  ORDER BY c, k
  ON CONFLICT (collection, key) DO UPDATE SET
    count = drift_count.count + EXCLUDED.count, last_seen = EXCLUDED.last_seen
)
${upsertMetric(22)}
`;

/**
 * Orphans touch only quarantine and metric rows: the summary's database user may write nothing
 * else (pipeline/support/users.ts), and PostgreSQL checks a statement's privileges on every table
 * it names, even where it inserts no row.
 */
const ORPHANS_SQL = `
WITH quarantined AS (
  ${insertQuarantine(1)}
)
${upsertMetric(7)}
`;

interface QuarantineRow {
  readonly runId: string;
  readonly collection: string;
  readonly idDevice: number | null;
  readonly record: QuarantineRecord;
}

/** The six arrays {@link insertQuarantine} reads. */
function quarantineValues(rows: readonly QuarantineRow[]): unknown[] {
  return [
    rows.map((r) => r.runId),
    rows.map((r) => r.collection),
    rows.map((r) => r.idDevice),
    rows.map((r) => r.record.documentId),
    rows.map((r) => r.record.reason.slice(0, REASON_MAX)),
    rows.map((r) => r.record.objectKey),
  ];
}

interface MetricSums {
  readonly runId: string;
  readonly planId: string | null;
  readonly collection: string;
  documentsRead: number;
  documentsUploaded: number;
  documentsQuarantined: number;
  bytesUploaded: number;
  queriesRun: number;
  computationMs: number;
}

/** Adds a commit's counters to its run's sums (one metric row per run and collection). */
function addCounters(
  sums: Map<string, MetricSums>,
  c: { readonly runId: string; readonly planId: string | null; readonly collection: string },
  counters: WindowCounters,
): void {
  const id = `${c.runId}\u0000${c.collection}`;
  const m = sums.get(id) ?? {
    runId: c.runId,
    planId: c.planId,
    collection: c.collection,
    documentsRead: 0,
    documentsUploaded: 0,
    documentsQuarantined: 0,
    bytesUploaded: 0,
    queriesRun: 0,
    computationMs: 0,
  };
  m.documentsRead += counters.documentsRead;
  m.documentsUploaded += counters.documentsUploaded;
  m.documentsQuarantined += counters.documentsQuarantined;
  m.bytesUploaded += counters.bytesUploaded;
  m.queriesRun += counters.queriesRun;
  m.computationMs += counters.computationMs;
  sums.set(id, m);
}

/** The nine arrays {@link upsertMetric} reads. */
function metricValues(sums: ReadonlyMap<string, MetricSums>): unknown[] {
  const m = [...sums.values()];
  return [
    m.map((x) => x.runId),
    m.map((x) => x.planId),
    m.map((x) => x.collection),
    m.map((x) => x.documentsRead),
    m.map((x) => x.documentsUploaded),
    m.map((x) => x.documentsQuarantined),
    m.map((x) => x.bytesUploaded),
    m.map((x) => x.queriesRun),
    m.map((x) => x.computationMs),
  ];
}

/** The statement and its 30 parameters for a group of window commits. */
export function commitStatement(commits: readonly WindowCommit[], now: Date): Statement {
  const bookmarks = new Map<string, { idDevice: number; collection: string; lastts: Date }>();
  const drift = new Map<string, { collection: string; key: string; count: number }>();
  const metrics = new Map<string, MetricSums>();
  const ledger: WindowCommit[] = [];
  const quarantine: QuarantineRow[] = [];
  for (const c of commits) {
    bookmarks.set(`${c.collection}\u0000${c.idDevice}`, {
      idDevice: c.idDevice,
      collection: c.collection,
      lastts: c.lastts,
    });
    if (c.object && c.window) ledger.push(c);
    for (const record of c.quarantined) {
      const idDevice = record.idDevice === null ? null : c.idDevice;
      quarantine.push({ runId: c.runId, collection: c.collection, idDevice, record });
    }
    for (const [key, count] of c.drift) {
      const id = `${c.collection}\u0000${key}`;
      const d = drift.get(id) ?? { collection: c.collection, key, count: 0 };
      d.count += count;
      drift.set(id, d);
    }
    addCounters(metrics, c, c.counters);
  }
  const b = [...bookmarks.values()];
  const d = [...drift.values()];
  const values = [
    b.map((x) => x.idDevice),
    b.map((x) => x.collection),
    b.map((x) => x.lastts),
    ledger.map((c) => c.object?.key),
    ledger.map((c) => c.collection),
    ledger.map((c) => c.idDevice),
    ledger.map((c) => c.window?.from),
    ledger.map((c) => c.window?.to),
    ledger.map((c) => c.object?.rows),
    ledger.map((c) => c.object?.bytes),
    ledger.map((c) => c.runId),
    ...quarantineValues(quarantine),
    d.map((x) => x.collection),
    d.map((x) => x.key),
    d.map((x) => x.count),
    now,
    ...metricValues(metrics),
  ];
  return { sql: COMMIT_SQL, values };
}

/**
 * The statement and its 15 parameters for one sweep's orphans: their quarantine rows (no
 * device) and the run's metric row, counting each as read and quarantined.
 */
export function orphanStatement(commit: OrphanCommit): Statement {
  const n = commit.quarantined.length;
  const metrics = new Map<string, MetricSums>();
  addCounters(metrics, commit, {
    documentsRead: n,
    documentsUploaded: 0,
    documentsQuarantined: n,
    bytesUploaded: 0,
    queriesRun: 0,
    computationMs: 0,
  });
  const rows = commit.quarantined.map((record) => ({
    runId: commit.runId,
    collection: commit.collection,
    idDevice: null,
    record,
  }));
  return { sql: ORPHANS_SQL, values: [...quarantineValues(rows), ...metricValues(metrics)] };
}
