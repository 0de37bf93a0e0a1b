/**
 * The {@link PlanStore} on the support database's `plan` and `plan_batch` tables, in SQL over
 * {@link SqlRunner} (a `pg.Pool`): the worker, which opens no Prisma client (pool.ts), loads its
 * batch on the same pool as its commits, and the plan and summary steps use the same adapter.
 */
import type { IngestMode } from "../ingest/batches.js";
import { deviceIdOf } from "../ingest/device-ids.js";
import type { PlannedBatch } from "../ingest/plan.js";
import {
  type BatchRef,
  PlanBatchNotFoundError,
  PlanNotFoundError,
  type PlanOutcome,
  type PlanStore,
} from "../ingest/plan-store.js";
import type { DeviceTarget } from "../ingest/worker.js";
import type { SqlRunner } from "./pool.js";

/**
 * A plan and all its batches in one statement, so it is stored whole or not at all. The batches
 * travel as one JSON parameter: a bulk plan has a few hundred batches of a few hundred devices,
 * and PostgreSQL reads JSON arrays into the `bigint[]` and `timestamptz[]` columns (device ids
 * are JSON numbers, exact up to 2^53 - 1: pipeline/ingest/device-ids.ts). The final SELECT
 * reads the new id from the CTE, not from `plan_batch`, which the plan's user may not read.
 */
const SAVE = `
WITH new_plan AS (
  INSERT INTO plan (mode) VALUES ($1::plan_mode) RETURNING id
), batches AS (
  INSERT INTO plan_batch (plan_id, collection, batch_index, devices, last_log_dates)
  SELECT new_plan.id, b.collection, b.batch_index, b.devices, b.last_log_dates
  FROM new_plan, jsonb_to_recordset($2::jsonb)
    AS b(collection text, batch_index int, devices bigint[], last_log_dates timestamptz[])
)
SELECT id FROM new_plan
`;

const LOAD = `
SELECT devices, last_log_dates FROM plan_batch
WHERE plan_id = $1::uuid AND collection = $2 AND batch_index = $3
`;

const SET_STATUS = `UPDATE plan SET status = $2::plan_status WHERE id = $1::uuid RETURNING id`;

export function postgresPlanStore(db: SqlRunner): PlanStore {
  return {
    async save(mode: IngestMode, batches: readonly PlannedBatch[]) {
      const rows = batches.map((b) => ({
        collection: b.collection,
        batch_index: b.batch,
        devices: b.devices.map((d) => d.idDevice),
        last_log_dates: b.devices.map((d) => d.lastLogDate),
      }));
      const { rows: saved } = await db.query<{ id: string }>(SAVE, [mode, JSON.stringify(rows)]);
      return saved[0]?.id as string;
    },

    /** @throws PlanBatchNotFoundError when the plan has no such batch. */
    async load(ref: BatchRef): Promise<DeviceTarget[]> {
      // bigint[] comes back as text (node-postgres) or bigint (Prisma): checked back to numbers.
      const { rows } = await db.query<{
        devices: (string | number | bigint)[] | null;
        last_log_dates: Date[] | null;
      }>(LOAD, [ref.planId, ref.collection, ref.batch]);
      const row = rows[0];
      if (!row) {
        throw new PlanBatchNotFoundError(
          `plan ${ref.planId} has no batch ${ref.batch} for ${ref.collection}`,
          { collection: ref.collection },
        );
      }
      const dates = row.last_log_dates ?? [];
      return (row.devices ?? []).map((id, i) => ({
        idDevice: deviceIdOf(id),
        lastLogDate: dates[i] as Date,
      }));
    },

    /** @throws PlanNotFoundError when no plan has this id. */
    async setStatus(planId: string, status: PlanOutcome) {
      const { rows } = await db.query(SET_STATUS, [planId, status]);
      if (!rows.length) throw new PlanNotFoundError(`no plan ${planId} to mark ${status}`);
    },
  };
}
