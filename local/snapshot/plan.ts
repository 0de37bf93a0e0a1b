/**
 * The snapshot as data: fleet, `ddc` rows and, lazily, every MongoDB document. `load` writes a
 * plan; tests read the same plan in memory to know what the databases must hold.
 */

import { buildDdcRows } from "./ddc-rows.js";
import { type DayContext, documentsOfDay } from "./documents.js";
import { buildFleet, type DeviceProfile, dataHorizon, type Fleet } from "./fleet.js";
import { resolveSnapshotConfig, type SnapshotOptions } from "./scales.js";
import { daySchedule } from "./schedule.js";
import { dayOf } from "./time.js";
import type { DdcRows, SnapshotConfig, SourceCollection, SourceDocuments } from "./types.js";

export interface SnapshotPlan {
  readonly config: SnapshotConfig;
  readonly fleet: Fleet;
  /** Every `ddc` row at the load clock. */
  readonly rows: DdcRows;
  /** The snapshot clock right after `load` (= `config.end`). */
  readonly clock: number;
}

/** Plan a snapshot from options (defaults filled in) or a resolved config. */
export function planSnapshot(options: SnapshotOptions | SnapshotConfig = {}): SnapshotPlan {
  const config = resolveSnapshotConfig(options);
  const fleet = buildFleet(config);
  return { config, fleet, rows: buildDdcRows(config, fleet), clock: config.end };
}

/** A device's firmware over time: the initial id, then each change from its instant on. */
export type FirmwareTimeline = (ms: number) => number | null;

export function constantFirmware(device: DeviceProfile): FirmwareTimeline {
  const id = device.initial.id_firmware ?? null;
  return () => id;
}

/** Arguments of {@link deviceDocuments}. */
export interface DeviceRange {
  readonly seed: number;
  readonly device: DeviceProfile;
  /** Generate days from this instant (inclusive, UTC midnight)... */
  readonly from: number;
  /** ...up to this one (exclusive): the device's data horizon at the clock. */
  readonly to: number;
  readonly firmwareAt: FirmwareTimeline;
}

/** A device's documents of one collection over a range of days, in timestamp order. */
export function* deviceDocuments<K extends SourceCollection>(
  collection: K,
  range: DeviceRange,
): Generator<SourceDocuments[K]> {
  const { seed, device, from, to, firmwareAt } = range;
  for (let day = dayOf(from); day < dayOf(to); day++) {
    const ctx: DayContext = {
      seed,
      device,
      schedule: daySchedule(seed, device, day),
      horizon: to,
      firmwareAt,
    };
    yield* documentsOfDay(collection, ctx);
  }
}

/** The range of days a device has data for at the plan's clock, or null if it has none. */
export function loadRange(plan: SnapshotPlan, device: DeviceProfile): DeviceRange | null {
  const horizon = dataHorizon(device, plan.clock);
  if (horizon === null || device.installAt === null) return null;
  return {
    seed: plan.config.seed,
    device,
    from: device.installAt,
    to: horizon,
    firmwareAt: constantFirmware(device),
  };
}

/** Every document of a collection in the plan, device by device. */
export function* planDocuments<K extends SourceCollection>(
  plan: SnapshotPlan,
  collection: K,
): Generator<SourceDocuments[K]> {
  for (const device of plan.fleet.devices) {
    const range = loadRange(plan, device);
    if (range) yield* deviceDocuments(collection, range);
  }
}
