/**
 * What the cost lines multiply, derived from the assumptions alone: per collection the worker's
 * seconds, raw bytes, objects and executions of the initial load and a day's new data; the load's
 * executions and wall-clock hours; each Glue job's runs and DPU-hours; reconcile's runs.
 */
import type { PackLimits } from "../../pipeline/ingest/settings.js";
import type { Assumption, Assumptions, CollectionVolume } from "./assumptions.js";
import {
  DAYS_PER_MONTH,
  glueAutoScaledDpuHours,
  glueRunDpuHours,
  glueRunSeconds,
  transitionsPerExecution,
} from "./billing.js";
import { BILLING } from "./prices.js";

const GiB = 1024 ** 3;
const DAY_MS = 86_400_000;

export interface CollectionPlan {
  readonly name: string;
  readonly volume: CollectionVolume;
  readonly docsPerSecond: number;
  readonly rawBytes: number;
  readonly curatedBytes: number;
  /** Windows with data the initial load commits (a ledger row each). */
  readonly initialWindows: number;
  /** Raw objects it writes: a window of its own, or a pack of many small ones (ADR 0023). */
  readonly initialObjects: number;
  /** Seconds of worker time the initial load spends on documents (not per-window overhead). */
  readonly initialDocSeconds: number;
  /** Executions the collection needs at its bulk workers. */
  readonly executions: number;
  readonly bulkWorkers: number;
  readonly dailyDocs: number;
  readonly dailyBytes: number;
  /** Windows with data a day: a device's day of the collection. */
  readonly dailyWindows: number;
  readonly dailyObjects: number;
  readonly operationsWorkers: number;
}

export interface Derived {
  readonly historyDays: number;
  readonly collections: readonly CollectionPlan[];
  /** Executions of the state machine the initial load takes (the slowest collection's). */
  readonly executions: number;
  readonly initialInvocations: number;
  readonly initialTransitions: number;
  /** Wall-clock hours of the initial load, executions back to back. */
  readonly loadHours: number;
  readonly runsPerMonth: number;
  readonly invocationsPerRun: number;
  readonly rawBytes: number;
  readonly curatedBytes: number;
  readonly postgresLakeBytes: number;
  readonly dailyRawBytes: number;
  readonly dailyCuratedBytes: number;
  readonly dailyWindows: number;
  readonly dailyObjects: number;
  readonly initialWindows: number;
  readonly initialObjects: number;
  readonly glue: {
    readonly initial: Readonly<Record<GlueJob, { runs: number; dpuHours: number; seconds: number }>>;
    readonly perRun: Readonly<Record<GlueJob, { dpuHours: number; seconds: number }>>;
  };
  readonly reconcile: {
    /** Function seconds of an execution's Reconcile stage during the load, all shards. */
    readonly initialSecondsPerRun: number;
    /** The same, of a scheduled execution. */
    readonly perRunSeconds: number;
    /** Function seconds of reconcile's first full pass over the history, all shards. */
    readonly passSeconds: number;
    /** Runs the first full pass still needs after the load (its budget ran out each run). */
    readonly passBehindRuns: number;
  };
  /** Wall-clock hours of one scheduled execution (operations mode). */
  readonly runHours: number;
  /** Seconds of work per operations worker in the busiest collection (must fit the budget). */
  readonly operationsWorkerSeconds: { readonly collection: string; readonly seconds: number };
  readonly supportDbUsedGb: number;
}

export type GlueJob = "postgresExtract" | "curate" | "analytics";
export const GLUE_JOBS: readonly GlueJob[] = ["postgresExtract", "curate", "analytics"];
export const GLUE_JOB_NAMES: Readonly<Record<GlueJob, string>> = {
  postgresExtract: "postgres_extract",
  curate: "mongodb_curate",
  analytics: "analytics",
};

/** Everything the lines multiply, from the assumptions alone. */
/**
 * Raw objects for `windows` windows of `rawBytes` spread over `workers` invocations: one each
 * when a window's rows pass the pack limit, else packs of the workers' windows (each writes at
 * least one), full by row data or by count, whichever comes first.
 */
export function rawObjects(
  windows: number,
  rawBytes: number,
  workers: number,
  limits: PackLimits,
  rowBytesPerRawByte: number,
): number {
  if (!(windows > 0)) return 0;
  const rowBytes = (rawBytes / windows) * rowBytesPerRawByte;
  if (rowBytes > limits.windowBytes) return windows;
  const perWorker = windows / workers;
  const packs = Math.max(
    1,
    Math.ceil((perWorker * rowBytes) / limits.bytes),
    Math.ceil(perWorker / limits.windows),
  );
  return Math.min(windows, workers * packs);
}

export function derive(a: Assumptions): Derived {
  const v = <T>(x: Assumption<T>) => x.value;
  const historyDays = (Date.parse(v(a.snapshotDate)) - Date.parse(v(a.historyStart))) / DAY_MS;
  if (!(historyDays > 0)) throw new RangeError("snapshotDate must be after historyStart");
  const growth = v(a.growthFactor);
  const lifetimeDays = historyDays / 2;
  const windowsPerDevice = Math.ceil(lifetimeDays / v(a.windowDays));
  const usable = v(a.workerUsableSeconds);
  const runsPerDay = v(a.runsPerDay);
  const active = v(a.activeDevicesPerDay);

  const collections: CollectionPlan[] = Object.entries(v(a.volumes)).map(([name, volume]) => {
    const rate = v(a.rates)[name];
    if (!rate) throw new RangeError(`no worker rate for ${name}`);
    const bulkWorkers = v(a.bulkWorkers)[name] ?? 1;
    const rawBytes = volume.bytes * rate.rawOverSource;
    const initialWindows = Math.min(volume.documents, v(a.fleetDevices) * windowsPerDevice);
    const initialDocSeconds = volume.documents / rate.docsPerSecond;
    const work = initialDocSeconds + initialWindows * v(a.windowSeconds);
    const executions = Math.max(1, Math.ceil(work / (bulkWorkers * usable)));
    const dailyDocs = (volume.documents / historyDays) * growth;
    const dailyBytes = (volume.bytes / historyDays) * growth;
    const operationsWorkers = v(a.operationsWorkers)[name] ?? 1;
    const windowsPerRun = Math.min(dailyDocs / runsPerDay, active);
    const packs = (windows: number, bytes: number, workers: number) =>
      rawObjects(windows, bytes, workers, v(a.packLimits), v(a.packRowBytesPerRawByte));
    return {
      name,
      volume,
      docsPerSecond: rate.docsPerSecond,
      rawBytes,
      curatedBytes: rawBytes * v(a.curatedOverRaw),
      initialWindows,
      initialObjects: packs(initialWindows, rawBytes, bulkWorkers * executions),
      initialDocSeconds,
      executions,
      bulkWorkers,
      dailyDocs,
      dailyBytes,
      dailyWindows: runsPerDay * windowsPerRun,
      dailyObjects:
        runsPerDay * packs(windowsPerRun, (dailyBytes * rate.rawOverSource) / runsPerDay, operationsWorkers),
      operationsWorkers,
    };
  });
  const executions = Math.max(...collections.map((c) => c.executions));
  const sum = (f: (c: CollectionPlan) => number) => collections.reduce((s, c) => s + f(c), 0);
  const initialInvocations = sum((c) => c.bulkWorkers * c.executions);
  const invocationsPerRun = sum((c) => c.operationsWorkers);
  const rawBytes = sum((c) => c.rawBytes);
  const curatedBytes = sum((c) => c.curatedBytes);
  const ddc = v(a.ddcBytes);
  const postgresLakeBytes = (ddc.appendHistories + ddc.replaceTables) * v(a.postgresLakeOverSource);
  const dailyRawBytes = sum((c) => (c.dailyBytes * c.rawBytes) / c.volume.bytes);
  const dailyCuratedBytes = dailyRawBytes * v(a.curatedOverRaw);
  const dailyWindows = sum((c) => c.dailyWindows);
  const dailyObjects = sum((c) => c.dailyObjects);
  const initialWindows = sum((c) => c.initialWindows);
  const initialObjects = sum((c) => c.initialObjects);

  // Glue: fixed minutes per run, plus bytes and objects spread over the run's DPUs.
  const dpus = v(a.glueDpus);
  const fixed = v(a.glueFixedMinutes);
  const coreHoursPerObject = v(a.sparkCoreSecondsPerRawObject) / 3600 / BILLING.vcpusPerDpu.value;
  const curateVariable = (bytes: number, objects: number) =>
    bytes / GiB / v(a.curateGbPerDpuHour) + objects * coreHoursPerObject;
  const alarmCurated = collections.find((c) => c.name === "alarm")?.curatedBytes ?? 0;
  const run = (job: GlueJob, variableDpuHours: number) => {
    const seconds = glueRunSeconds(dpus[job], fixed[job], variableDpuHours);
    const floor = Math.min(v(a.glueAutoScalingFloorDpus), dpus[job]);
    const dpuHours = v(a.glueAutoScaling)
      ? glueAutoScaledDpuHours(floor, fixed[job], variableDpuHours)
      : glueRunDpuHours(dpus[job], seconds);
    return { seconds, dpuHours };
  };
  const initialRuns = (job: GlueJob, perRun: readonly number[]) => {
    const runs = perRun.map((variable) => run(job, variable));
    return {
      runs: runs.length,
      dpuHours: runs.reduce((s, r) => s + r.dpuHours, 0),
      seconds: runs.reduce((s, r) => s + r.seconds, 0),
    };
  };
  const replaceDpuHours = ddc.replaceTables / GiB / v(a.extractGbPerDpuHour);
  const runsOf = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
  const glueInitial = {
    // The first run copies the histories whole; every run replaces the snapshot tables.
    postgresExtract: initialRuns(
      "postgresExtract",
      runsOf(
        executions,
        (i) => replaceDpuHours + (i === 0 ? ddc.appendHistories / GiB / v(a.extractGbPerDpuHour) : 0),
      ),
    ),
    curate: initialRuns(
      "curate",
      runsOf(executions, () => curateVariable(rawBytes / executions, initialObjects / executions)),
    ),
    // The report is recomputed from curated alarm as it grows.
    analytics: initialRuns(
      "analytics",
      runsOf(
        executions,
        (i) => ((alarmCurated * (i + 1)) / executions / GiB) * (1 / v(a.curateGbPerDpuHour)),
      ),
    ),
  };
  const historiesPerDay = (ddc.appendHistories / historyDays) * growth;
  const gluePerRun = {
    postgresExtract: run(
      "postgresExtract",
      replaceDpuHours + historiesPerDay / runsPerDay / GiB / v(a.extractGbPerDpuHour),
    ),
    curate: run("curate", curateVariable(dailyRawBytes / runsPerDay, dailyObjects / runsPerDay)),
    analytics: run("analytics", alarmCurated / GiB / v(a.curateGbPerDpuHour)),
  };

  // Reconcile: a run works until its budget; the first full pass may outlast the load. Each
  // execution runs one function a shard, the shards side by side (up to mapConcurrency at once).
  const rec = v(a.reconcile);
  const shards = Math.max(1, rec.shards);
  const perDeviceDay = v(a.reconcileSecondsPerDeviceDay);
  // A fleet grown linearly to `active` devices a day has been active `active × history / 2` days.
  const fleetDeviceDays = active * lifetimeDays;
  const initialDeviceDays = sum((c) => Math.min(c.volume.documents, fleetDeviceDays));
  const initialReconcileWork = initialDeviceDays * perDeviceDay;
  const initialShardSeconds = Math.min(rec.timeoutSeconds, initialReconcileWork / executions / shards);
  const initialSecondsPerRun = initialShardSeconds * shards;
  const dailyDeviceDays = sum((c) => Math.min(c.dailyDocs, active));
  // The increment (documents inserted since the last run) is read to find the touched days:
  // shard 0 reads all of it, each other shard its devices' share (ADR 0025), 2 − 1/N in all.
  const incrementSeconds =
    ((sum((c) => c.dailyDocs) / runsPerDay) * (2 - 1 / shards)) / v(a.reconcileIncrementDocsPerSecond);
  const perRunShardSeconds = Math.min(
    rec.timeoutSeconds,
    ((dailyDeviceDays / runsPerDay) * perDeviceDay + incrementSeconds) / shards,
  );
  const perRunReconcile = perRunShardSeconds * shards;
  const behind = Math.max(0, initialReconcileWork - initialSecondsPerRun * executions);
  const reconcileWaves = Math.ceil(shards / v(a.mapConcurrency));

  // Wall clock of the load: waves of workers, then the Glue jobs and the other steps in turn.
  const mapConcurrency = v(a.mapConcurrency);
  let loadSeconds = 0;
  for (let e = 1; e <= executions; e += 1) {
    const items = collections.filter((c) => c.executions >= e).reduce((s, c) => s + c.bulkWorkers, 0);
    loadSeconds +=
      Math.ceil(items / mapConcurrency) * (usable + v(a.workerStartSeconds)) +
      v(a.plan).seconds +
      v(a.summarize).seconds +
      reconcileWaves * initialShardSeconds;
  }
  loadSeconds += glueInitial.curate.seconds + glueInitial.analytics.seconds;

  const busiest = collections
    .map((c) => ({
      collection: c.name,
      seconds:
        (c.dailyDocs / runsPerDay / c.docsPerSecond + (c.dailyWindows / runsPerDay) * v(a.windowSeconds)) /
        c.operationsWorkers,
    }))
    .sort((x, y) => y.seconds - x.seconds)[0] ?? { collection: "-", seconds: 0 };

  // One scheduled run: waves of operations workers beside postgres_extract, then the Glue jobs.
  const slowestWorker = Math.min(busiest.seconds, usable) + v(a.workerStartSeconds);
  const ingestSeconds =
    v(a.plan).seconds +
    Math.ceil(invocationsPerRun / mapConcurrency) * slowestWorker +
    v(a.summarize).seconds;
  const runSeconds =
    Math.max(ingestSeconds, gluePerRun.postgresExtract.seconds) +
    gluePerRun.curate.seconds +
    gluePerRun.analytics.seconds +
    reconcileWaves * perRunShardSeconds;

  const rows = v(a.supportRowBytes);
  const monthsAfter = v(a.monthsOfGrowth);
  const supportDbUsedGb =
    ((initialWindows + dailyWindows * DAYS_PER_MONTH * monthsAfter) * rows.ledger +
      (initialDeviceDays + dailyDeviceDays * DAYS_PER_MONTH * monthsAfter) * rows.curatedDay) /
    GiB;

  return {
    historyDays,
    collections,
    executions,
    initialInvocations,
    initialTransitions:
      initialInvocations * (transitionsPerExecution(1, shards) - transitionsPerExecution(0, shards)) +
      executions * transitionsPerExecution(0, shards),
    loadHours: loadSeconds / 3600,
    runsPerMonth: runsPerDay * DAYS_PER_MONTH,
    invocationsPerRun,
    rawBytes,
    curatedBytes,
    postgresLakeBytes,
    dailyRawBytes,
    dailyCuratedBytes,
    dailyWindows,
    dailyObjects,
    initialWindows,
    initialObjects,
    glue: { initial: glueInitial, perRun: gluePerRun },
    reconcile: {
      initialSecondsPerRun,
      perRunSeconds: perRunReconcile,
      passSeconds: initialReconcileWork,
      passBehindRuns: rec.timeoutSeconds > 0 ? Math.ceil(behind / (rec.timeoutSeconds * shards)) : 0,
    },
    runHours: runSeconds / 3600,
    operationsWorkerSeconds: busiest,
    supportDbUsedGb,
  };
}
