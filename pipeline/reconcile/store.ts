/**
 * Reconcile's reads and records on the support database, in SQL over node-postgres (like the
 * ingestion state, pipeline/support/ingest-state.ts): the curate job's day counts, bookmarks,
 * ledger windows and quarantine rows in; runs, findings and source watermarks out. Days travel
 * as `YYYY-MM-DD` text both ways (`date` read as a JS Date would shift with the time zone).
 * Passes and watermarks belong to a shard (shard.ts): a shard sees only its own.
 */
import { deviceIdOf } from "../ingest/device-ids.js";
import type { SqlRunner } from "../support/pool.js";
import type { Finding } from "./causes.js";
import type { Day } from "./days.js";
import type { Shard } from "./shard.js";
import type { LedgerWindow } from "./source.js";
import type { CuratedFigures } from "./tally.js";

export interface DayKey {
  readonly collection: string;
  readonly idDevice: number;
  readonly day: Day;
}

export interface RepairWindow extends LedgerWindow {
  readonly objectKey: string;
}

/** A pass: the run that started it, and when (the base of the next incremental pass). */
export interface ReconcilePass {
  readonly id: number;
  readonly startedAt: Date;
}

/** Where a pass that ran out of time stopped, for the next run to continue it. */
export interface ResumePoint {
  readonly collection: string;
  /** The last device checked in the collection. */
  readonly idDevice: number;
  /** The collection's source watermark as the pass took it (hex ObjectId), if any. */
  readonly mark: string | null;
}

export interface UnfinishedPass extends ReconcilePass {
  readonly mode: "full" | "incremental";
  readonly resume: ResumePoint;
}

type DeviceId = string | number | bigint;
const num = (v: string | number | bigint) => Number(v);

/** Finding rows per insert: 12 parameters each stay far below PostgreSQL's 65,535. */
const FINDINGS_PER_INSERT = 1000;

export interface ReconcileStore {
  /** The shard's last complete pass, the base of an incremental one. */
  lastComplete(shard: Shard): Promise<ReconcilePass | null>;
  /** The pass the shard's newest run left unfinished (it ran out of time), if any. */
  unfinished(shard: Shard): Promise<UnfinishedPass | null>;
  /** Records a run of the shard; it starts a pass, or continues `passId`. */
  start(run: {
    runId: string;
    mode: string;
    repair: boolean;
    passId?: number;
    shard: Shard;
  }): Promise<ReconcilePass>;
  finish(
    id: number,
    figures: {
      daysChecked: number;
      differences: number;
      windowsReplayed: number;
      resume: ResumePoint | null;
    },
  ): Promise<void>;
  /** Highest source `_id` (hex) the shard has seen per collection. */
  watermarks(shard: Shard): Promise<Map<string, string>>;
  saveWatermarks(shard: Shard, marks: ReadonlyMap<string, string>): Promise<void>;
  /** Days the curate job counted after `since` (it touched them). */
  curatedSince(since: Date): Promise<DayKey[]>;
  /** Days where curated holds open alarms (rows not reset) of these collections. */
  openDays(collections: readonly string[]): Promise<DayKey[]>;
  /** Days of a pass's findings other than quarantine: checked again until they agree. */
  findingDays(passId: number): Promise<DayKey[]>;
  /** Curated figures of the device's days (all its days when `days` is null). */
  curatedDays(
    collection: string,
    idDevice: number,
    days: readonly Day[] | null,
  ): Promise<Map<Day, CuratedFigures>>;
  /** `curated_count.position` per collection (0 when the curate job never counted one). */
  curatedPositions(): Promise<Map<string, number>>;
  /** The device's raw windows of the collection, in time order. */
  windows(collection: string, idDevice: number): Promise<RepairWindow[]>;
  /** Which of these document ids have a quarantine row for the collection. */
  quarantinedIds(collection: string, ids: readonly string[]): Promise<Set<string>>;
  record(reconcileId: number, findings: readonly Finding[]): Promise<void>;
}

const dayKeys = (rows: { collection: string; id_device: DeviceId; day: string }[]): DayKey[] =>
  rows.map((r) => ({ collection: r.collection, idDevice: deviceIdOf(r.id_device), day: r.day }));

export function postgresReconcileStore(db: SqlRunner): ReconcileStore {
  return {
    async lastComplete(shard) {
      const { rows } = await db.query<{ id: number; started_at: Date }>(
        `SELECT p.id, p.started_at FROM reconcile_run r
         JOIN reconcile_run p ON p.id = COALESCE(r.pass_id, r.id)
         WHERE r.complete AND r.shard_count = $1 AND r.shard_index = $2 ORDER BY r.id DESC LIMIT 1`,
        [shard.count, shard.index],
      );
      const row = rows[0];
      return row ? { id: row.id, startedAt: row.started_at } : null;
    },

    async unfinished(shard) {
      const { rows } = await db.query<{
        id: number;
        started_at: Date;
        mode: "full" | "incremental";
        resume_collection: string;
        resume_device: DeviceId;
        resume_mark: string | null;
      }>(
        `SELECT p.id, p.started_at, p.mode, r.resume_collection, r.resume_device, r.resume_mark
         FROM (SELECT * FROM reconcile_run
               WHERE finished_at IS NOT NULL AND shard_count = $1 AND shard_index = $2
               ORDER BY id DESC LIMIT 1) r
         JOIN reconcile_run p ON p.id = COALESCE(r.pass_id, r.id)
         WHERE NOT r.complete AND r.resume_collection IS NOT NULL`,
        [shard.count, shard.index],
      );
      const row = rows[0];
      return row
        ? {
            id: row.id,
            startedAt: row.started_at,
            mode: row.mode,
            resume: {
              collection: row.resume_collection,
              idDevice: deviceIdOf(row.resume_device),
              mark: row.resume_mark,
            },
          }
        : null;
    },

    async start({ runId, mode, repair, passId, shard }) {
      const { rows } = await db.query<{ id: number; started_at: Date }>(
        `INSERT INTO reconcile_run (run_id, mode, repair, pass_id, shard_index, shard_count)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, started_at`,
        [runId, mode, repair, passId ?? null, shard.index, shard.count],
      );
      const row = rows[0] as { id: number; started_at: Date };
      return { id: row.id, startedAt: row.started_at };
    },

    async finish(id, f) {
      await db.query(
        `UPDATE reconcile_run SET finished_at = now(), days_checked = $2, differences = $3, windows_replayed = $4,
           complete = $5, resume_collection = $6, resume_device = $7, resume_mark = $8
         WHERE id = $1`,
        [
          id,
          f.daysChecked,
          f.differences,
          f.windowsReplayed,
          f.resume === null,
          f.resume?.collection ?? null,
          f.resume?.idDevice ?? null,
          f.resume?.mark ?? null,
        ],
      );
    },

    async watermarks(shard) {
      const { rows } = await db.query<{ collection: string; object_id: string }>(
        "SELECT collection, object_id FROM reconcile_watermark WHERE shard_count = $1 AND shard_index = $2",
        [shard.count, shard.index],
      );
      return new Map(rows.map((r) => [r.collection, r.object_id]));
    },

    async saveWatermarks(shard, marks) {
      if (!marks.size) return;
      await db.query(
        `INSERT INTO reconcile_watermark (collection, shard_count, shard_index, object_id, updated_at)
         SELECT c, $3, $4, o, now() FROM unnest($1::text[], $2::text[]) AS m(c, o)
         ON CONFLICT (collection, shard_count, shard_index)
         DO UPDATE SET object_id = EXCLUDED.object_id, updated_at = EXCLUDED.updated_at`,
        [[...marks.keys()], [...marks.values()], shard.count, shard.index],
      );
    },

    async curatedSince(since) {
      const { rows } = await db.query<{ collection: string; id_device: DeviceId; day: string }>(
        "SELECT collection, id_device, day::text AS day FROM curated_day WHERE counted_at > $1",
        [since],
      );
      return dayKeys(rows);
    },

    async openDays(collections) {
      if (!collections.length) return [];
      const { rows } = await db.query<{ collection: string; id_device: DeviceId; day: string }>(
        "SELECT collection, id_device, day::text AS day FROM curated_day WHERE collection = ANY($1) AND resets < rows",
        [[...collections]],
      );
      return dayKeys(rows);
    },

    async findingDays(passId) {
      const { rows } = await db.query<{ collection: string; id_device: DeviceId; day: string }>(
        `SELECT DISTINCT collection, id_device, day::text AS day FROM reconcile_difference
         WHERE reconcile_id IN (SELECT id FROM reconcile_run WHERE id = $1 OR pass_id = $1)
           AND cause <> 'quarantined' AND id_device IS NOT NULL AND day IS NOT NULL`,
        [passId],
      );
      return dayKeys(rows);
    },

    async curatedDays(collection, idDevice, days) {
      const { rows } = await db.query<{
        day: string;
        rows: string;
        keys: string;
        cells: string;
        resets: string;
      }>(
        `SELECT day::text AS day, rows, keys, cells, resets FROM curated_day
         WHERE collection = $1 AND id_device = $2 AND ($3::date[] IS NULL OR day = ANY($3::date[]))`,
        [collection, idDevice, days ? [...days] : null],
      );
      return new Map(
        rows.map((r) => [
          r.day,
          { rows: num(r.rows), keys: num(r.keys), cells: num(r.cells), resets: num(r.resets) },
        ]),
      );
    },

    async curatedPositions() {
      const { rows } = await db.query<{ collection: string; position: string }>(
        "SELECT collection, position FROM curated_count",
      );
      return new Map(rows.map((r) => [r.collection, num(r.position)]));
    },

    async windows(collection, idDevice) {
      const { rows } = await db.query<{
        id: number;
        object_key: string;
        window_from: Date;
        window_to: Date;
        created_at: Date;
      }>(
        `SELECT id, object_key, window_from, window_to, created_at FROM file_ledger
         WHERE collection = $1 AND id_device = $2 ORDER BY window_from`,
        [collection, idDevice],
      );
      return rows.map((r) => ({
        id: r.id,
        objectKey: r.object_key,
        from: r.window_from,
        to: r.window_to,
        createdAt: r.created_at,
      }));
    },

    async quarantinedIds(collection, ids) {
      if (!ids.length) return new Set();
      const { rows } = await db.query<{ document_id: string }>(
        "SELECT document_id FROM quarantine WHERE collection = $1 AND document_id = ANY($2::text[])",
        [collection, [...new Set(ids)]],
      );
      return new Set(rows.map((r) => r.document_id));
    },

    async record(reconcileId, findings) {
      for (let i = 0; i < findings.length; i += FINDINGS_PER_INSERT) {
        const part = findings.slice(i, i + FINDINGS_PER_INSERT);
        await db.query(
          `INSERT INTO reconcile_difference
             (reconcile_id, collection, id_device, day, cause, count, source, curated, quarantined, in_flight, detail)
           SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::date[], $5::text[], $6::bigint[], $7::bigint[],
             $8::bigint[], $9::bigint[], $10::bigint[], $11::text[])`,
          [
            reconcileId,
            part.map((f) => f.collection),
            part.map((f) => f.idDevice),
            part.map((f) => f.day),
            part.map((f) => f.cause),
            part.map((f) => f.count),
            part.map((f) => f.source),
            part.map((f) => f.curated),
            part.map((f) => f.quarantined),
            part.map((f) => f.inFlight),
            part.map((f) => f.detail),
          ],
        );
      }
    },
  };
}
