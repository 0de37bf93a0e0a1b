/**
 * One ingestion pass without Step Functions: plan from `ddc` and the bookmarks, then every batch
 * through the worker, in process. The local run uses it; in AWS the same plan and worker run as
 * Lambdas under the state machine's Map.
 */
import type { Db } from "mongodb";
import type pg from "pg";
import type { Logger } from "pino";
import type { ObjectStore } from "../lake/object-store.js";
import { collection, collections } from "../schema/registry.js";
import type { IngestMode } from "./batches.js";
import type { Budget } from "./budget.js";
import type { IngestLedger } from "./ledger.js";
import { type DeviceRow, type PlannedBatch, planBatches } from "./plan.js";
import type { IngestSettings } from "./settings.js";
import { runWorker, type WorkerResult } from "./worker.js";

export interface IngestPassDeps {
  readonly ddc: pg.ClientBase | pg.Pool;
  readonly source: Db;
  readonly store: ObjectStore;
  readonly ledger: IngestLedger;
  readonly log?: Logger;
}

export interface IngestPassOptions {
  readonly runId: string;
  readonly mode: IngestMode;
  readonly settings: IngestSettings;
  readonly collections?: readonly string[];
  readonly budget?: Budget;
  /** Called after each batch, for progress display. */
  readonly onBatch?: (
    result: WorkerResult | { collection: string; error: unknown },
    done: number,
    total: number,
  ) => void;
}

export interface IngestPassReport {
  readonly batches: number;
  readonly results: readonly WorkerResult[];
  readonly failures: readonly { collection: string; batch: number; error: unknown }[];
}

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
  deps: Pick<IngestPassDeps, "ddc" | "ledger">,
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

export async function runIngestPass(
  deps: IngestPassDeps,
  options: IngestPassOptions,
): Promise<IngestPassReport> {
  const { devices, batches } = await planPass(deps, {
    mode: options.mode,
    workers: options.settings.workers,
    collections: options.collections,
  });
  deps.log?.info({ batches: batches.length, devices: devices.length }, "ingestion planned");
  const results: WorkerResult[] = [];
  const failures: IngestPassReport["failures"][number][] = [];
  let done = 0;
  for (const b of batches) {
    try {
      const result = await runWorker(
        {
          runId: `${options.runId}-${b.collection}-${b.batch}`,
          planId: null,
          entry: collection(b.collection),
          devices: b.devices,
        },
        { source: deps.source, store: deps.store, ledger: deps.ledger, log: deps.log },
        {
          windowMs: options.settings.windowMs,
          concurrency: options.settings.deviceConcurrency,
          budget: options.budget,
        },
      );
      results.push(result);
      options.onBatch?.(result, ++done, batches.length);
    } catch (error) {
      failures.push({ collection: b.collection, batch: b.batch, error });
      options.onBatch?.({ collection: b.collection, error }, ++done, batches.length);
    }
  }
  return { batches: batches.length, results, failures };
}
