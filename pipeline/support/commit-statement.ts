/**
 * One SQL statement that commits a group of windows: data-modifying CTEs fed by `unnest` over
 * parameter arrays, so the statement has the same shape (and the same 25 parameters) for any
 * group size. A single statement is atomic without an explicit transaction.
 *
 * - Bookmarks: the last commit of a device wins (a group holds at most one window per device,
 *   since a device waits for its commit before its next window; the dedup keeps the statement
 *   valid anyway: ON CONFLICT may touch a row only once per statement).
 * - Ledger: a replayed window rewrote the same object key (an operator moved the bookmark back).
 *   Its row takes the new values and a **new id** (`EXCLUDED.id` is the proposed row's fresh
 *   serial), so it lands past the curate job's position and the object is curated again.
 * - Drift and metric counters are summed per key in the client and added on conflict; drift
 *   rows are inserted in key order, so two workers of one collection lock them in one order.
 */
import type { WindowCommit } from "../ingest/ledger.js";

export interface Statement {
  readonly sql: string;
  readonly values: readonly unknown[];
}

/** Quarantine reasons are capped: the object in the store holds the whole story. */
const REASON_MAX = 4000;

const SQL = `
WITH bookmark AS (
  INSERT INTO lastts (id_device, collection, lastts)
  SELECT * FROM unnest($1::int[], $2::text[], $3::timestamptz[])
  ON CONFLICT (id_device, collection) DO UPDATE SET lastts = EXCLUDED.lastts
), ledger AS (
  INSERT INTO file_ledger (object_key, collection, id_device, window_from, window_to, rows, bytes, run_id)
  SELECT * FROM unnest($4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::timestamptz[], $9::int[], $10::bigint[], $11::text[])
  ON CONFLICT (object_key) DO UPDATE SET
    id = EXCLUDED.id, collection = EXCLUDED.collection, id_device = EXCLUDED.id_device,
    window_from = EXCLUDED.window_from, window_to = EXCLUDED.window_to, rows = EXCLUDED.rows,
    bytes = EXCLUDED.bytes, run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at
), quarantined AS (
  INSERT INTO quarantine (run_id, collection, id_device, document_id, reason, object_key)
  SELECT * FROM unnest($12::text[], $13::text[], $14::int[], $15::text[], $16::text[], $17::text[])
), drift AS (
  INSERT INTO drift_count (collection, key, count, first_seen, last_seen)
  SELECT c, k, n, $21::timestamptz, $21::timestamptz
  FROM unnest($18::text[], $19::text[], $20::bigint[]) AS d(c, k, n)
  ORDER BY c, k
  ON CONFLICT (collection, key) DO UPDATE SET
    count = drift_count.count + EXCLUDED.count, last_seen = EXCLUDED.last_seen
)
INSERT INTO metric (run_id, plan_id, collection, documents_read, documents_uploaded,
  documents_quarantined, bytes_uploaded, queries_run, computation_ms)
SELECT * FROM unnest($22::text[], $23::uuid[], $24::text[], $25::int[], $26::int[], $27::int[],
  $28::bigint[], $29::int[], $30::int[])
ON CONFLICT (run_id, collection) DO UPDATE SET
  documents_read = metric.documents_read + EXCLUDED.documents_read,
  documents_uploaded = metric.documents_uploaded + EXCLUDED.documents_uploaded,
  documents_quarantined = metric.documents_quarantined + EXCLUDED.documents_quarantined,
  bytes_uploaded = metric.bytes_uploaded + EXCLUDED.bytes_uploaded,
  queries_run = metric.queries_run + EXCLUDED.queries_run,
  computation_ms = metric.computation_ms + EXCLUDED.computation_ms
`;

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

/** The statement and its 30 parameters for a group of window commits. */
export function commitStatement(commits: readonly WindowCommit[], now: Date): Statement {
  const bookmarks = new Map<string, { idDevice: number; collection: string; lastts: Date }>();
  const drift = new Map<string, { collection: string; key: string; count: number }>();
  const metrics = new Map<string, MetricSums>();
  const ledger: WindowCommit[] = [];
  const quarantine: { c: WindowCommit; q: WindowCommit["quarantined"][number] }[] = [];
  for (const c of commits) {
    bookmarks.set(`${c.collection}\u0000${c.idDevice}`, {
      idDevice: c.idDevice,
      collection: c.collection,
      lastts: c.lastts,
    });
    if (c.object && c.window) ledger.push(c);
    for (const q of c.quarantined) quarantine.push({ c, q });
    for (const [key, count] of c.drift) {
      const id = `${c.collection}\u0000${key}`;
      const d = drift.get(id) ?? { collection: c.collection, key, count: 0 };
      d.count += count;
      drift.set(id, d);
    }
    const id = `${c.runId}\u0000${c.collection}`;
    const m = metrics.get(id) ?? {
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
    m.documentsRead += c.counters.documentsRead;
    m.documentsUploaded += c.counters.documentsUploaded;
    m.documentsQuarantined += c.counters.documentsQuarantined;
    m.bytesUploaded += c.counters.bytesUploaded;
    m.queriesRun += c.counters.queriesRun;
    m.computationMs += c.counters.computationMs;
    metrics.set(id, m);
  }
  const b = [...bookmarks.values()];
  const d = [...drift.values()];
  const m = [...metrics.values()];
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
    quarantine.map(({ c }) => c.runId),
    quarantine.map(({ c }) => c.collection),
    quarantine.map(({ c }) => c.idDevice),
    quarantine.map(({ q }) => q.documentId),
    quarantine.map(({ q }) => q.reason.slice(0, REASON_MAX)),
    quarantine.map(({ q }) => q.objectKey),
    d.map((x) => x.collection),
    d.map((x) => x.key),
    d.map((x) => x.count),
    now,
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
  return { sql: SQL, values };
}
