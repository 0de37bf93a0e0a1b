/**
 * The plan step's work on in-memory ports: the ledger's bookmarks decide the mode and the devices
 * due, the plan store keeps the batches, and each Map item loads its batch back as planned.
 */
import type pg from "pg";
import { describe, expect, it } from "vitest";
import type { IngestMode } from "../../pipeline/ingest/batches.js";
import type { PlanBookmarks } from "../../pipeline/ingest/ingest-state.js";
import type { PlannedBatch } from "../../pipeline/ingest/plan.js";
import { planPass } from "../../pipeline/ingest/plan-pass.js";
import {
  type BatchRef,
  PlanBatchNotFoundError,
  type PlanOutcome,
  type PlanStore,
} from "../../pipeline/ingest/plan-store.js";

const lastLog = new Date("2024-05-01T00:00:00Z");

/** `ddc.device` as the planner reads it: four devices with data, one without. */
const ddc = {
  async query() {
    return {
      rows: [
        { id: "1", last_log_date: lastLog },
        { id: "2", last_log_date: lastLog },
        { id: "3", last_log_date: lastLog },
        { id: "4", last_log_date: lastLog },
        { id: "5", last_log_date: null },
      ],
    };
  },
} as unknown as pg.Pool;

function memoryLedger(marks: Record<string, Record<number, Date>> = {}) {
  const asked = { hasBookmarks: 0 };
  const ledger: PlanBookmarks = {
    async bookmarks(collection, devices) {
      const mine = marks[collection] ?? {};
      return new Map(devices.filter((d) => mine[d]).map((d) => [d, mine[d] as Date]));
    },
    async hasBookmarks() {
      asked.hasBookmarks++;
      return Object.values(marks).some((m) => Object.keys(m).length > 0);
    },
  };
  return { ledger, asked };
}

function memoryPlanStore() {
  const plans = new Map<
    string,
    { mode: IngestMode; status: PlanOutcome | "planned"; batches: PlannedBatch[] }
  >();
  const store: PlanStore = {
    async save(mode, batches) {
      const id = `plan-${plans.size + 1}`;
      plans.set(id, { mode, status: "planned", batches: [...batches] });
      return id;
    },
    async load(ref: BatchRef) {
      const batch = plans
        .get(ref.planId)
        ?.batches.find((b) => b.collection === ref.collection && b.batch === ref.batch);
      if (!batch) throw new PlanBatchNotFoundError(`no batch ${ref.batch}`);
      return batch.devices;
    },
    async setStatus(planId, status) {
      const plan = plans.get(planId);
      if (plan) plan.status = status;
    },
  };
  return { store, plans };
}

const workers = { bulk: { events: 2, alarm: 3 }, operations: { events: 1, alarm: 1 } };

describe("planPass", () => {
  it("plans bulk while no device has a bookmark, operations once one has, and a given mode as is", async () => {
    const empty = memoryLedger();
    const { store } = memoryPlanStore();
    const first = await planPass(
      { ddc, state: empty.ledger, plans: store },
      { mode: "auto", workers, collections: ["events"] },
    );
    expect(first.mode).toBe("bulk");
    expect(first.items).toHaveLength(2);

    const later = memoryLedger({ alarm: { 1: lastLog } });
    const next = await planPass(
      { ddc, state: later.ledger, plans: store },
      { mode: "auto", workers, collections: ["events"] },
    );
    expect(next.mode).toBe("operations");
    expect(next.items).toHaveLength(1);

    const given = await planPass(
      { ddc, state: later.ledger, plans: store },
      { mode: "bulk", workers, collections: ["events"] },
    );
    expect(given.mode).toBe("bulk");
    expect(later.asked.hasBookmarks).toBe(1);
  });

  it("stores every due device once, and each item loads its batch back in the planner's order", async () => {
    // events: device 2 is up to date, the others are due; alarm: every device with data is due.
    const { ledger } = memoryLedger({ events: { 2: lastLog, 3: new Date("2024-04-01T00:00:00Z") } });
    const { store, plans } = memoryPlanStore();
    const plan = await planPass(
      { ddc, state: ledger, plans: store },
      { mode: "bulk", workers, collections: ["events", "alarm"] },
    );
    expect(plans.get(plan.planId)?.mode).toBe("bulk");
    expect(plan.devices).toHaveLength(5);
    expect(plan.items.every((i) => i.planId === plan.planId)).toBe(true);
    const loaded = new Map<string, number[]>();
    for (const item of plan.items) {
      const devices = await store.load(item);
      const batch = plan.batches.find((b) => b.collection === item.collection && b.batch === item.batch);
      expect(devices).toEqual(batch?.devices);
      loaded.set(item.collection, [
        ...(loaded.get(item.collection) ?? []),
        ...devices.map((d) => d.idDevice),
      ]);
    }
    expect(Object.fromEntries(loaded)).toEqual({ events: [1, 3, 4], alarm: [1, 2, 3, 4] });
    expect(plan.items.filter((i) => i.collection === "alarm")).toHaveLength(3);
    await expect(store.load({ planId: plan.planId, collection: "events", batch: 9 })).rejects.toThrow(
      PlanBatchNotFoundError,
    );
  });
});
