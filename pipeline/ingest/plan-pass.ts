/**
 * The plan step's work: devices and their completeness marks from `ddc`, bookmarks from the
 * ledger, cut into batches and stored; the state machine gets only references to the batches.
 */
import type pg from "pg";
import { collections } from "../schema/registry.js";
import type { IngestMode } from "./batches.js";
import type { PlanBookmarks } from "./ingest-state.js";
import { type DeviceRow, type PlannedBatch, planBatches } from "./plan.js";
import { type BatchRef, type PlanStore, refsOf } from "./plan-store.js";
import type { IngestSettings } from "./settings.js";

/** Devices and their completeness marks, as the planner reads them from `ddc`. */
export async function readDevices(ddc: pg.ClientBase | pg.Pool): Promise<DeviceRow[]> {
  const { rows } = await ddc.query<{ id: string; last_log_date: Date | null }>(
    "SELECT id, last_log_date FROM device ORDER BY id",
  );
  return rows.map((r) => ({ idDevice: Number(r.id), lastLogDate: r.last_log_date }));
}

export interface PlanPassDeps {
  readonly ddc: pg.ClientBase | pg.Pool;
  readonly state: PlanBookmarks;
  readonly plans: Pick<PlanStore, "save">;
}

export interface PlanPassOptions {
  /** `auto`: `bulk` while no device has a bookmark yet (the first load), else `operations`. */
  readonly mode: IngestMode | "auto";
  readonly workers: IngestSettings["workers"];
  /** Restrict to these collections (default: all of the registry). */
  readonly collections?: readonly string[];
}

/** A stored plan, and what the step reports of it. */
export interface PassPlan {
  readonly planId: string;
  readonly mode: IngestMode;
  readonly devices: readonly DeviceRow[];
  readonly batches: readonly PlannedBatch[];
  /** One Map item per batch. */
  readonly items: readonly BatchRef[];
}

/** Devices from `ddc`, bookmarks from the ingestion state, cut into batches and stored. */
export async function planPass(deps: PlanPassDeps, options: PlanPassOptions): Promise<PassPlan> {
  const mode =
    options.mode === "auto" ? ((await deps.state.hasBookmarks()) ? "operations" : "bulk") : options.mode;
  const devices = await readDevices(deps.ddc);
  const names = options.collections ?? collections.map((c) => c.name);
  const ids = devices.map((d) => d.idDevice);
  const bookmarks = new Map<string, Map<number, Date>>();
  for (const name of names) {
    bookmarks.set(name, await deps.state.bookmarks(name, ids));
  }
  const batches = planBatches({ mode, devices, bookmarks, workers: options.workers, collections: names });
  const planId = await deps.plans.save(mode, batches);
  return { planId, mode, devices, batches, items: refsOf(planId, batches) };
}
