/** The {@link PlanStore} on the support database's `plan` and `plan_batch` tables. */
import type { IngestMode } from "../ingest/batches.js";
import type { PlannedBatch } from "../ingest/plan.js";
import {
  type BatchRef,
  PlanBatchNotFoundError,
  type PlanOutcome,
  type PlanStore,
} from "../ingest/plan-store.js";
import type { DeviceTarget } from "../ingest/worker.js";
import type { SupportClient } from "./client.js";
import { prismaRunner, type SqlRunner } from "./pool.js";

/** Rows per INSERT: a bulk plan has a few hundred batches, each a few hundred devices. */
const INSERT_CHUNK = 200;

export function prismaPlanStore(db: SupportClient): PlanStore {
  return {
    async save(mode: IngestMode, batches: readonly PlannedBatch[]) {
      return db.$transaction(async (tx) => {
        const plan = await tx.plan.create({ data: { mode }, select: { id: true } });
        for (let i = 0; i < batches.length; i += INSERT_CHUNK) {
          await tx.planBatch.createMany({
            data: batches.slice(i, i + INSERT_CHUNK).map((b) => ({
              planId: plan.id,
              collection: b.collection,
              batchIndex: b.batch,
              devices: b.devices.map((d) => d.idDevice),
              lastLogDates: b.devices.map((d) => d.lastLogDate),
            })),
          });
        }
        return plan.id;
      });
    },

    load: (ref: BatchRef) => loadPlanBatch(prismaRunner(db), ref),

    async setStatus(planId: string, status: PlanOutcome) {
      await db.plan.update({ where: { id: planId }, data: { status } });
    },
  };
}

const PLAN_BATCH = `
SELECT devices, last_log_dates FROM plan_batch
WHERE plan_id = $1::uuid AND collection = $2 AND batch_index = $3
`;

/**
 * The devices of one stored batch, in the planner's order. In SQL so the worker, which opens no
 * Prisma client (pool.ts), loads its batch on the same pool as its commits.
 * @throws PlanBatchNotFoundError when the plan has no such batch.
 */
export async function loadPlanBatch(db: SqlRunner, ref: BatchRef): Promise<DeviceTarget[]> {
  const { rows } = await db.query<{ devices: number[] | null; last_log_dates: Date[] | null }>(PLAN_BATCH, [
    ref.planId,
    ref.collection,
    ref.batch,
  ]);
  const row = rows[0];
  if (!row) {
    throw new PlanBatchNotFoundError(`plan ${ref.planId} has no batch ${ref.batch} for ${ref.collection}`, {
      collection: ref.collection,
    });
  }
  const dates = row.last_log_dates ?? [];
  return (row.devices ?? []).map((idDevice, i) => ({ idDevice, lastLogDate: dates[i] as Date }));
}
