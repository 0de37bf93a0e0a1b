/** The {@link PlanStore} on the support database's `plan` and `plan_batch` tables. */
import type { IngestMode } from "../ingest/batches.js";
import type { PlannedBatch } from "../ingest/plan.js";
import {
  type BatchRef,
  PlanBatchNotFoundError,
  type PlanOutcome,
  type PlanStore,
} from "../ingest/plan-store.js";
import type { SupportClient } from "./client.js";

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

    async load(ref: BatchRef) {
      const row = await db.planBatch.findUnique({
        where: {
          planId_collection_batchIndex: {
            planId: ref.planId,
            collection: ref.collection,
            batchIndex: ref.batch,
          },
        },
      });
      if (!row) {
        throw new PlanBatchNotFoundError(
          `plan ${ref.planId} has no batch ${ref.batch} for ${ref.collection}`,
          { collection: ref.collection },
        );
      }
      return row.devices.map((idDevice, i) => ({ idDevice, lastLogDate: row.lastLogDates[i] as Date }));
    },

    async setStatus(planId: string, status: PlanOutcome) {
      await db.plan.update({ where: { id: planId }, data: { status } });
    },
  };
}
