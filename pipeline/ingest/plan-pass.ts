/**
 * The plan step's reads: devices and their completeness marks from `ddc`, bookmarks from the
 * ledger, cut into batches. The plan Lambda (and the local runner, through it) stores the result.
 */
import type pg from "pg";
import { collections } from "../schema/registry.js";
import type { IngestMode } from "./batches.js";
import type { IngestLedger } from "./ledger.js";
import { type DeviceRow, type PlannedBatch, planBatches } from "./plan.js";
import type { IngestSettings } from "./settings.js";

/** Devices and their completeness marks, as the planner reads them from `ddc`. */
export async function readDevices(ddc: pg.ClientBase | pg.Pool): Promise<DeviceRow[]> {
  const { rows } = await ddc.query<{ id: string; last_log_date: Date | null }>(
    "SELECT id, last_log_date FROM device ORDER BY id",
  );
  return rows.map((r) => ({ idDevice: Number(r.id), lastLogDate: r.last_log_date }));
}

export interface PassPlan {
  readonly devices: readonly DeviceRow[];
  readonly batches: readonly PlannedBatch[];
}

/** Devices from `ddc`, bookmarks from the ledger, cut into batches: the plan step's work. */
export async function planPass(
  deps: { readonly ddc: pg.ClientBase | pg.Pool; readonly ledger: Pick<IngestLedger, "bookmarks"> },
  options: { mode: IngestMode; workers: IngestSettings["workers"]; collections?: readonly string[] },
): Promise<PassPlan> {
  const devices = await readDevices(deps.ddc);
  const names = options.collections ?? collections.map((c) => c.name);
  const ids = devices.map((d) => d.idDevice);
  const bookmarks = new Map<string, Map<number, Date>>();
  for (const name of names) {
    bookmarks.set(name, await deps.ledger.bookmarks(name, ids));
  }
  const batches = planBatches({
    mode: options.mode,
    devices,
    bookmarks,
    workers: options.workers,
    collections: names,
  });
  return { devices, batches };
}
