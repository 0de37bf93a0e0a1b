/**
 * The encoder bench's rows: the snapshot generator's documents (local/snapshot) turned into lake
 * rows by the worker's own code (`windowRows`: validation, payload folding, the variable_logs
 * pivot), device by device, one window per device as the worker's first run cuts it. No database:
 * what the encoders see is exactly what the worker hands `writeParquetObject`.
 */
import type { Document } from "mongodb";
import type { SourceCollection } from "../../../local/snapshot/index.js";
import { loadRange, planSnapshot } from "../../../local/snapshot/index.js";
import { deviceDocuments } from "../../../local/snapshot/plan.js";
import { type ExtractContext, newTally, windowRows } from "../../../pipeline/ingest/extract.js";
import { LocalObjectStore } from "../../../pipeline/lake/local-store.js";
import { collection, type LakeRow } from "../../../pipeline/schema/index.js";

export interface RowsSpec {
  readonly seed: number;
  readonly devices: number;
  readonly days: number;
}

/** One device's rows: the unit of one raw object (one window). */
export interface DeviceRows {
  readonly idDevice: number;
  readonly rows: LakeRow[];
}

async function* asAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield item;
}

/** Every device's rows of `name` in the snapshot `spec`, devices with no rows left out. */
export async function* snapshotRows(
  name: string,
  spec: RowsSpec,
  quarantine: string,
): AsyncGenerator<DeviceRows> {
  const entry = collection(name);
  const plan = planSnapshot({ seed: spec.seed, devices: spec.devices, days: spec.days });
  const store = new LocalObjectStore(quarantine);
  for (const device of plan.fleet.devices) {
    const range = loadRange(plan, device);
    if (!range) continue;
    const ctx: ExtractContext = {
      source: undefined as never,
      store,
      entry,
      idDevice: device.id,
      window: { from: new Date(range.from), to: new Date(range.to) },
    };
    const docs = deviceDocuments(name as SourceCollection, range) as Iterable<Document>;
    const rows: LakeRow[] = [];
    for await (const row of windowRows(ctx, asAsync(docs), newTally())) rows.push(row);
    if (rows.length > 0) yield { idDevice: device.id, rows };
  }
}
