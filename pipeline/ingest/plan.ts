/**
 * The plan (the seed's master): per collection, the devices with data newer than their bookmark,
 * cut into worker batches. Pure: the handler reads devices and bookmarks, stores the result, and
 * hands Step Functions only `{planId, collection, batch}` items (the state payload stays tiny).
 */
import { collections, collection as entryOf } from "../schema/registry.js";
import { batchDevices, devicesDue, type IngestMode } from "./batches.js";
import type { DeviceTarget } from "./worker.js";

export interface DeviceRow {
  readonly idDevice: number;
  readonly lastLogDate: Date | null;
}

export interface PlannedBatch {
  readonly collection: string;
  readonly batch: number;
  readonly devices: readonly DeviceTarget[];
}

export interface PlanInput {
  readonly mode: IngestMode;
  readonly devices: readonly DeviceRow[];
  /** Bookmarks per collection: idDevice → lastts. */
  readonly bookmarks: ReadonlyMap<string, ReadonlyMap<number, Date>>;
  readonly workers: Readonly<Record<IngestMode, Readonly<Record<string, number>>>>;
  /** Restrict to these collections (default: all of the registry). */
  readonly collections?: readonly string[];
}

export function planBatches(input: PlanInput): PlannedBatch[] {
  const lastLog = new Map(input.devices.map((d) => [d.idDevice, d.lastLogDate]));
  const names = input.collections ?? collections.map((c) => c.name);
  const batches: PlannedBatch[] = [];
  for (const collection of names) {
    const marks = input.bookmarks.get(collection) ?? new Map();
    const due = devicesDue(
      input.devices.map((d) => ({
        idDevice: d.idDevice,
        lastLogDate: d.lastLogDate,
        lastts: marks.get(d.idDevice) ?? null,
      })),
      entryOf(collection).alignMs,
    );
    const workers = input.workers[input.mode][collection] ?? 1;
    batchDevices(due, { workers }).forEach((ids, batch) => {
      batches.push({
        collection,
        batch,
        devices: ids.map((idDevice) => ({ idDevice, lastLogDate: lastLog.get(idDevice) as Date })),
      });
    });
  }
  return batches;
}
