/**
 * The plan step's work: devices and their completeness marks from `ddc`, bookmarks from the
 * ledger, cut into batches and stored; the state machine gets only references to the batches.
 */
import type pg from "pg";
import type { Logger } from "pino";
import { collections } from "../schema/registry.js";
import type { IngestMode } from "./batches.js";
import { deviceIdProblem } from "./device-ids.js";
import type { PlanBookmarks } from "./ingest-state.js";
import { type DeviceRow, type PlannedBatch, planBatches } from "./plan.js";
import { type BatchRef, type PlanStore, refsOf } from "./plan-store.js";
import type { IngestSettings } from "./settings.js";

/** A `ddc` device the pipeline cannot carry, by its id as `ddc` wrote it, and why. */
export interface RefusedDevice {
  readonly id: string;
  readonly reason: string;
}

export interface DeviceList {
  /** The devices the pipeline carries, by id. */
  readonly devices: DeviceRow[];
  /** Devices whose id a JS number cannot hold exactly (pipeline/ingest/device-ids.ts). */
  readonly refused: RefusedDevice[];
}

/**
 * Devices and their completeness marks, as the planner reads them from `ddc` (`device.id` is
 * bigint, read as text): a device whose id the pipeline cannot carry is refused alone, with the
 * reason, and the others go on. Its documents are orphans to the summary's sweep, which
 * quarantines them with their id (orphans.ts).
 */
export async function readDeviceList(ddc: pg.ClientBase | pg.Pool): Promise<DeviceList> {
  // node-postgres reads bigint as text: every digit kept.
  const { rows } = await ddc.query<{ id: string; last_log_date: Date | null }>(
    "SELECT id, last_log_date FROM device ORDER BY id",
  );
  const devices: DeviceRow[] = [];
  const refused: RefusedDevice[] = [];
  for (const r of rows) {
    const problem = deviceIdProblem(BigInt(String(r.id)));
    if (problem) refused.push({ id: r.id, reason: `ddc device ${r.id} refused: ${problem}` });
    else devices.push({ idDevice: Number(r.id), lastLogDate: r.last_log_date });
  }
  return { devices, refused };
}

/** The devices the pipeline carries (see {@link readDeviceList}, which also names those it refuses). */
export async function readDevices(ddc: pg.ClientBase | pg.Pool): Promise<DeviceRow[]> {
  return (await readDeviceList(ddc)).devices;
}

export interface PlanPassDeps {
  readonly ddc: pg.ClientBase | pg.Pool;
  readonly state: PlanBookmarks;
  readonly plans: Pick<PlanStore, "save">;
  /** Where refused devices are reported (one warning each). */
  readonly log?: Logger;
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
  /** `ddc` devices left out of the plan, each with the reason (see {@link readDeviceList}). */
  readonly refused: readonly RefusedDevice[];
  readonly batches: readonly PlannedBatch[];
  /** One Map item per batch. */
  readonly items: readonly BatchRef[];
}

/** Devices from `ddc`, bookmarks from the ingestion state, cut into batches and stored. */
export async function planPass(deps: PlanPassDeps, options: PlanPassOptions): Promise<PassPlan> {
  const mode =
    options.mode === "auto" ? ((await deps.state.hasBookmarks()) ? "operations" : "bulk") : options.mode;
  const { devices, refused } = await readDeviceList(deps.ddc);
  for (const r of refused) {
    deps.log?.warn(
      { device: r.id, reason: r.reason },
      "ddc device left out of the plan; its documents go to the orphan sweep",
    );
  }
  const names = options.collections ?? collections.map((c) => c.name);
  const ids = devices.map((d) => d.idDevice);
  const bookmarks = new Map<string, Map<number, Date>>();
  for (const name of names) {
    bookmarks.set(name, await deps.state.bookmarks(name, ids));
  }
  const batches = planBatches({ mode, devices, bookmarks, workers: options.workers, collections: names });
  const planId = await deps.plans.save(mode, batches);
  return { planId, mode, devices, refused, batches, items: refsOf(planId, batches) };
}
