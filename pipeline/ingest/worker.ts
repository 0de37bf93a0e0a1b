/**
 * The MongoDB → raw worker: for each device of its batch (a few at a time), first the sweep of
 * its documents no window can select (timestamp missing, null or not a date: quarantined once,
 * whenever they arrive), then windows from the bookmark up to `last_log_date`; each window is
 * extracted, then committed (bookmark, ledger, quarantine, drift, metrics) atomically. A small
 * window (most of a daily run's) joins a pack, one object with other devices' small windows,
 * committed together (pack.ts, ADR 0023); a large one gets its own object, committed grouped with
 * the windows of other devices that finish meanwhile. A crash anywhere leaves the bookmark where it
 * was: the rerun rewrites a large window's object at the same key, and a pack that never committed
 * is removed by a later run (its record in `pack_upload`). No loss, no duplicate.
 */
import pLimit from "p-limit";
import type { Logger } from "pino";
import { type ErrorContext, messageOf, PipelineError } from "../errors.js";
import type { ObjectStore } from "../lake/object-store.js";
import type { CollectionEntry } from "../schema/registry.js";
import { type Budget, DEFAULT_SAFETY_MARGIN_MS, UNLIMITED } from "./budget.js";
import { extractWindow } from "./extract.js";
import { firstDated, sweepUntimed } from "./first-pass.js";
import { groupCommits } from "./group-commit.js";
import type { IngestState, QuarantineRecord } from "./ingest-state.js";
import { deviceOfRawKey, rawPackPrefix } from "./keys.js";
import { DEFAULT_PACK_LIMITS, Packer, type PackLimits } from "./pack.js";
import { QuarantineOnce } from "./quarantine.js";
import { DEFAULT_DEVICE_CONCURRENCY } from "./settings.js";
import type { DocumentSource } from "./source.js";
import { completeUntil, DEFAULT_WINDOW_MS, nextWindow, type Window } from "./windows.js";

/** The worker's default concurrency, kept with the other sizing defaults (settings.ts). */
export { DEFAULT_DEVICE_CONCURRENCY };

export interface DeviceTarget {
  readonly idDevice: number;
  /** `ddc.device.last_log_date` as the plan saw it. */
  readonly lastLogDate: Date;
}

export interface WorkerInput {
  readonly runId: string;
  readonly planId: string | null;
  readonly entry: CollectionEntry;
  readonly devices: readonly DeviceTarget[];
}

export interface WorkerDeps {
  /** MongoDB: a driver `Db` in every deployed caller (source.ts). */
  readonly source: DocumentSource;
  readonly store: ObjectStore;
  readonly state: IngestState;
  readonly log?: Logger;
}

export interface WorkerOptions {
  readonly windowMs?: number;
  readonly concurrency?: number;
  readonly budget?: Budget;
  readonly safetyMarginMs?: number;
  readonly rowGroupSize?: number;
  /** Small windows go to packs within these limits ({@link DEFAULT_PACK_LIMITS}); false: never. */
  readonly pack?: PackLimits | false;
}

/**
 * A pack recorded this long ago and named by no ledger row was abandoned: Lambda's longest run,
 * so its writer is gone; a worker spends seconds between recording a pack and committing it (an
 * upload and one statement under a 20 s timeout).
 */
export const PACK_ABANDONED_AFTER_MS = 15 * 60_000;

export interface WorkerResult {
  readonly collection: string;
  readonly devicesToQuery: number;
  /** Devices whose bookmark reached `last_log_date`. */
  readonly devicesProcessed: number;
  /** Devices left for the next run because the time budget ran out. */
  readonly devicesPending: number;
  readonly windows: number;
  readonly documentsRead: number;
  readonly rowsWritten: number;
  readonly documentsQuarantined: number;
  readonly bytesUploaded: number;
  readonly queriesRun: number;
  readonly errors: readonly { idDevice: number; error: string }[];
  /** True when every device caught up and none failed. */
  readonly complete: boolean;
}

/** Some devices failed; what was committed stays, and a rerun resumes at the bookmarks. */
export class WorkerDevicesFailedError extends PipelineError {
  readonly retryable = true;
  /** What the run did before failing: counters of the devices that succeeded, and the errors. */
  readonly result: WorkerResult;

  constructor(message: string, context: ErrorContext, result: WorkerResult) {
    super(message, context);
    this.result = result;
  }
}

interface Totals {
  windows: number;
  documentsRead: number;
  rowsWritten: number;
  documentsQuarantined: number;
  bytesUploaded: number;
  queriesRun: number;
}

/**
 * A worker killed mid-upload (Lambda timeout, out of memory) leaves an incomplete multipart
 * upload (or a temp file) no object shows. The plan gives each device to one batch, so this run
 * owns its devices' keys and may remove those; the bucket's lifecycle rule catches the rest.
 */
async function removeKilledUploads(deps: WorkerDeps, collection: string, devices: readonly number[]) {
  const mine = new Set(devices);
  try {
    const removed = await deps.store.removePartial(`${collection}/`, (key) => {
      const id = deviceOfRawKey(collection, key);
      return id !== null && mine.has(id);
    });
    if (removed.length) deps.log?.warn({ collection, removed }, "removed uploads left by a killed run");
  } catch (error) {
    // Not data: the rerun rewrites those keys anyway. Say so and go on.
    deps.log?.warn({ collection, err: error }, "could not remove uploads left by a killed run");
  }
}

/**
 * Packs a killed worker uploaded and never committed: removed (the object, or what an upload
 * killed mid-way left), then their records settled. Any worker of the collection may do it: the
 * records are old enough that their writers are gone.
 * @returns the abandoned packs' keys.
 */
export async function removeAbandonedPacks(
  deps: Pick<WorkerDeps, "state" | "store" | "log">,
  collection: string,
  now: Date = new Date(),
): Promise<Set<string>> {
  const before = new Date(now.getTime() - PACK_ABANDONED_AFTER_MS);
  try {
    const keys = await deps.state.abandonedPacks(collection, before);
    const abandoned = new Set(keys);
    if (keys.length) {
      await deps.store.removePartial(rawPackPrefix(collection), (key) => abandoned.has(key));
      await deps.store.deleteMany(keys);
      deps.log?.warn(
        { collection, removed: keys },
        "removed packs a killed run uploaded and never committed",
      );
    }
    await deps.state.settlePacks(keys);
    return abandoned;
  } catch (error) {
    // Not data (no ledger row names them): the next run tries again.
    deps.log?.warn({ collection, err: error }, "could not remove abandoned packs");
    return new Set();
  }
}

export async function runWorker(
  input: WorkerInput,
  deps: WorkerDeps,
  options: WorkerOptions = {},
): Promise<WorkerResult> {
  const { entry, runId, planId } = input;
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const budget = options.budget ?? UNLIMITED;
  const margin = options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
  // Slot documents cover 6 hours: windows on their start time must not split one.
  const alignMs = entry.alignMs;
  const ids = input.devices.map((d) => d.idDevice);
  const bookmarks = await deps.state.bookmarks(entry.name, ids);
  const commitWindow = groupCommits(deps.state);
  await removeAbandonedPacks(deps, entry.name);
  await removeKilledUploads(deps, entry.name, ids);
  const limits = options.pack === undefined ? DEFAULT_PACK_LIMITS : options.pack;
  const packer = limits
    ? new Packer(
        {
          entry,
          store: deps.store,
          state: deps.state,
          runId,
          planId,
          rowGroupSize: options.rowGroupSize,
          log: deps.log,
        },
        limits,
      )
    : null;
  /** Devices whose last windows wait in packs: counted once those commit (see `device`). */
  const settling: Promise<void>[] = [];
  const totals: Totals = {
    windows: 0,
    documentsRead: 0,
    rowsWritten: 0,
    documentsQuarantined: 0,
    bytesUploaded: 0,
    queriesRun: 0,
  };
  const errors: { idDevice: number; error: string }[] = [];
  let processed = 0;
  let pending = 0;

  /**
   * Documents met more than once (the untimed sweep of every run, an array `idDevice` in the
   * windows of each device it names) are kept once: keys with a quarantine row, or claimed by
   * another device of this run, are skipped.
   */
  const once = new QuarantineOnce(deps.store, (keys) => deps.state.quarantinedKeys(keys));
  /** Untimed documents found by a device's sweep, committed with its first commit of the run. */
  const untimed = new Map<number, QuarantineRecord[]>();
  const takeUntimed = (idDevice: number) => {
    const records = untimed.get(idDevice) ?? [];
    untimed.delete(idDevice);
    return records;
  };

  const commitBookmarkOnly = async (idDevice: number, lastts: Date, queriesRun: number) => {
    // After the device's packed windows: a bookmark must not pass a window not yet committed.
    await packer?.settle(idDevice);
    const quarantined = takeUntimed(idDevice);
    return commitWindow({
      runId,
      planId,
      collection: entry.name,
      idDevice,
      window: null,
      lastts,
      object: null,
      quarantined,
      drift: new Map(),
      counters: {
        documentsRead: quarantined.length,
        documentsUploaded: 0,
        documentsQuarantined: quarantined.length,
        bytesUploaded: 0,
        queriesRun,
        computationMs: 0,
      },
    });
  };

  /**
   * Documents of the device that no window can select (timestamp missing, null or not a date)
   * and not quarantined before: swept on every run, since they may arrive any time. An index
   * seek that finds nothing on nearly every device (queries.ts `untimedQuery`).
   */
  async function sweep(target: DeviceTarget): Promise<void> {
    const found = await sweepUntimed(deps.source, entry, target.idDevice, once);
    totals.queriesRun += found.queriesRun;
    if (!found.records.length) return;
    untimed.set(target.idDevice, found.records);
    totals.documentsRead += found.records.length;
    totals.documentsQuarantined += found.records.length;
  }

  async function startOf(target: DeviceTarget): Promise<Date | null> {
    const bookmark = bookmarks.get(target.idDevice);
    if (bookmark) return bookmark;
    const ts = await firstDated(deps.source.collection(entry.name), entry, target.idDevice);
    totals.queriesRun++;
    if (!(ts instanceof Date)) {
      // Nothing before last_log_date (complete by definition): mark it so the device is not due
      // again. Floored to whole units: a 6-hour slot that starts before the mark may still appear.
      await commitBookmarkOnly(target.idDevice, completeUntil(target.lastLogDate, alignMs), 1);
      return null;
    }
    return alignMs ? new Date(Math.floor(ts.getTime() / alignMs) * alignMs) : ts;
  }

  /** True, and the device left for the next run, when the time budget is spent. */
  function budgetSpent(target: DeviceTarget, resumeAt: Date | null): boolean {
    if (budget.remainingMs() >= margin) return false;
    pending++;
    deps.log?.info(
      { collection: entry.name, idDevice: target.idDevice, resumeAt },
      "time budget spent; device left for the next run",
    );
    return true;
  }

  async function device(target: DeviceTarget): Promise<void> {
    if (budgetSpent(target, bookmarks.get(target.idDevice) ?? null)) return;
    await sweep(target);
    const start = await startOf(target);
    if (!start) {
      processed++;
      return;
    }
    const reached = await windowsOf(target, start);
    // Untimed documents no window commit took (no window was due, or the budget ran out first):
    // committed with the bookmark where it stands.
    if (untimed.has(target.idDevice)) await commitBookmarkOnly(target.idDevice, reached.at, 0);
    if (!packer) {
      if (reached.done) processed++;
      return;
    }
    // The device's last windows may wait in a pack: its slot goes to the next device now, and the
    // device counts once they commit (a pack fills with the small windows of many devices).
    settling.push(
      packer.committed(target.idDevice).then(
        () => {
          if (reached.done) processed++;
        },
        (error: unknown) => failed(target.idDevice, error),
      ),
    );
  }

  function failed(idDevice: number, error: unknown): void {
    errors.push({ idDevice, error: messageOf(error) });
    deps.log?.error({ collection: entry.name, idDevice, err: error }, "device failed");
  }

  /**
   * The device's windows from `start`, each extracted and committed.
   * @returns where its bookmark stands now, and false for `done` when the budget ran out first.
   */
  async function windowsOf(target: DeviceTarget, from: Date): Promise<{ at: Date; done: boolean }> {
    let start = from;
    let committed = 0;
    for (;;) {
      const window: Window | null = nextWindow({ start, lastLogDate: target.lastLogDate, windowMs, alignMs });
      if (!window) {
        // A new device whose first unit is not complete yet: nothing exists before `start`, so
        // bookmark it there rather than probing its first document on every run.
        if (!bookmarks.has(target.idDevice) && committed === 0) {
          await commitBookmarkOnly(target.idDevice, start, 1);
        }
        return { at: start, done: true };
      }
      if (budgetSpent(target, start)) return { at: start, done: false };
      const t0 = performance.now();
      const extract = await extractWindow({
        source: deps.source,
        store: deps.store,
        entry,
        idDevice: target.idDevice,
        window,
        rowGroupSize: options.rowGroupSize,
        once,
        packBelowBytes: limits ? limits.windowBytes : undefined,
      });
      const computationMs = Math.round(performance.now() - t0);
      const early = takeUntimed(target.idDevice);
      const counted = (bytes: number) => {
        totals.windows++;
        totals.queriesRun++;
        totals.documentsRead += extract.documentsRead;
        totals.rowsWritten += extract.rows?.length ?? extract.object?.rows ?? 0;
        totals.documentsQuarantined += extract.quarantined.length;
        totals.bytesUploaded += bytes;
      };
      const counters = {
        documentsRead: extract.documentsRead + early.length,
        documentsUploaded: extract.documentsAccepted,
        documentsQuarantined: extract.quarantined.length + early.length,
        queriesRun: 1,
        computationMs,
      };
      if (packer && extract.rows) {
        await packer.add(
          {
            idDevice: target.idDevice,
            window,
            rows: extract.rows,
            rowBytes: extract.rowBytes ?? 0,
            quarantined: [...early, ...extract.quarantined],
            drift: extract.drift,
            counters,
          },
          counted,
        );
      } else {
        // A window of its own commits after the device's packed ones, never before.
        await packer?.settle(target.idDevice);
        await commitWindow({
          runId,
          planId,
          collection: entry.name,
          idDevice: target.idDevice,
          window,
          lastts: window.to,
          object: extract.object,
          quarantined: [...early, ...extract.quarantined],
          drift: extract.drift,
          counters: { ...counters, bytesUploaded: extract.object?.bytes ?? 0 },
        });
        counted(extract.object?.bytes ?? 0);
      }
      committed++;
      deps.log?.debug(
        {
          collection: entry.name,
          idDevice: target.idDevice,
          from: window.from,
          to: window.to,
          rows: extract.rows?.length ?? extract.object?.rows ?? 0,
          packed: extract.rows !== undefined,
          ms: computationMs,
        },
        extract.rows ? "window packed" : "window committed",
      );
      start = window.to;
    }
  }

  const limit = pLimit(options.concurrency ?? DEFAULT_DEVICE_CONCURRENCY);
  await Promise.all(
    input.devices.map((target) =>
      limit(async () => {
        try {
          await device(target);
        } catch (error) {
          // One device failing must not stop the others; the run reports it and fails at the end.
          failed(target.idDevice, error);
        }
      }),
    ),
  );
  await packer?.close();
  await Promise.all(settling);

  await deps.state.finishRun({
    runId,
    planId,
    collection: entry.name,
    devices: ids,
    devicesProcessed: processed,
    errors: errors.length,
  });
  const result: WorkerResult = {
    collection: entry.name,
    devicesToQuery: input.devices.length,
    devicesProcessed: processed,
    devicesPending: pending,
    ...totals,
    errors,
    complete: errors.length === 0 && pending === 0,
  };
  if (errors.length) {
    throw new WorkerDevicesFailedError(
      `${entry.name}: ${errors.length} of ${input.devices.length} devices failed (${errors
        .slice(0, 3)
        .map((e) => `${e.idDevice}: ${e.error}`)
        .join("; ")})`,
      { collection: entry.name, runId },
      result,
    );
  }
  return result;
}
