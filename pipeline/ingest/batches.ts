/**
 * Fan-out plan: the devices to query per collection, cut into worker batches. A batch is a
 * contiguous slice of the device list (sorted by id), so `{planId, collection, batch}` is all a
 * Map item carries and the worker loads its slice from the stored plan.
 */
import { completeUntil } from "./windows.js";

export type IngestMode = "bulk" | "operations";

export type BatchSplit = { readonly workers: number } | { readonly devicesPerWorker: number };

/** Slices of near-equal size (they differ by at most one device), in device order. */
export function batchDevices(devices: readonly number[], split: BatchSplit): number[][] {
  if (devices.length === 0) return [];
  const count =
    "workers" in split
      ? Math.min(devices.length, Math.max(1, Math.floor(split.workers)))
      : Math.ceil(devices.length / Math.max(1, Math.floor(split.devicesPerWorker)));
  const sorted = [...devices].sort((a, b) => a - b);
  const base = Math.floor(sorted.length / count);
  const extra = sorted.length % count;
  const batches: number[][] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const size = base + (i < extra ? 1 : 0);
    batches.push(sorted.slice(at, at + size));
    at += size;
  }
  return batches;
}

export interface DeviceMarks {
  readonly idDevice: number;
  /** `ddc.device.last_log_date`; null for a device that never sent data. */
  readonly lastLogDate: Date | null;
  /** Bookmark for this collection; null when never extracted. */
  readonly lastts: Date | null;
}

/**
 * The seed's rule, kept: a device is due when it has complete data newer than its bookmark (or
 * has no bookmark). With `alignMs`, only whole source units count, so a device whose newest unit
 * is still open is not planned again and again for an empty window.
 */
export function devicesDue(marks: Iterable<DeviceMarks>, alignMs?: number): number[] {
  const due: number[] = [];
  for (const m of marks) {
    if (!m.lastLogDate) continue;
    if (!m.lastts || completeUntil(m.lastLogDate, alignMs).getTime() > m.lastts.getTime())
      due.push(m.idDevice);
  }
  return due;
}
