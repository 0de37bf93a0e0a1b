/**
 * The cost model (issue 17): its arithmetic, not its prices. Billing rules (Lambda, Glue's
 * 1-minute minimum, Athena's 10 MB minimum, multipart PUTs, state transitions), lines that scale
 * with their drivers, totals and dominant lines, levers whose savings are recomputed, every price
 * and assumption with its provenance, the figures repeated from infra/ against infra/, and the
 * CLI's `--json` against the model run in-process.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { costInputs } from "../../local/cli/cost.js";
import {
  type Assumptions,
  assumptionList,
  buildAssumptions,
  bytesPerDocument,
  type CollectionVolume,
  INFRA,
  PRODUCTION_VOLUMES,
} from "../../local/cost/assumptions.js";
import {
  DEFAULT_BENCH_FILE,
  parseBenchFigures,
  RECORDED_BENCH_FILE,
  readBenchFigures,
} from "../../local/cost/bench.js";
import { CostInputError } from "../../local/cost/errors.js";
import {
  athenaBilledBytes,
  type CostInputs,
  costLines,
  costReport,
  DAYS_PER_MONTH,
  dominantLines,
  glueAutoScaledDpuHours,
  glueRunDpuHours,
  inMonth,
  LEVERS,
  lambdaCost,
  lambdaGbSeconds,
  leverSavings,
  loadRawShare,
  PHASES,
  putRequestsPerObject,
  RAW_STAGING_DAYS,
  rawObjects,
  SENSITIVITIES,
  total,
  transitionsPerExecution,
  withEveryLever,
} from "../../local/cost/model.js";
import { BILLING, PRICED_REGION, pricesFor } from "../../local/cost/prices.js";
import {
  INFRA_DEFAULTS,
  parseStackSettings,
  readStackSettings,
  runsPerDay,
  STACKS,
} from "../../local/cost/stack.js";
import { DEFAULT_PACK_LIMITS } from "../../pipeline/ingest/settings.js";
import { METRIC } from "../../pipeline/lambda/metrics.js";
import { collections } from "../../pipeline/schema/index.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const prices = pricesFor(PRICED_REGION) as NonNullable<ReturnType<typeof pricesFor>>;
const inputsFor = (stack: (typeof STACKS)[number]): CostInputs =>
  costInputs({ stack, bench: false, root: ROOT });
const prod = inputsFor("prod");

const patch = (inputs: CostInputs, p: Partial<Assumptions>): CostInputs => ({
  prices: inputs.prices,
  assumptions: { ...inputs.assumptions, ...p },
});
const lineOf = (inputs: CostInputs, phase: "initial" | "monthly", id: string) => {
  const line = costLines(inputs, phase).find((l) => l.id === id);
  if (!line) throw new Error(`no line ${id}`);
  return line;
};

describe("billing rules", () => {
  it("Lambda: invocations × duration × memory GB × price per GB-s + requests × price", () => {
    const runs = { invocations: 1000, seconds: 120, memoryMb: 2048 };
    const expected = 1000 * 120 * 2 * prices.lambdaArmGbSecond.usd + (1000 / 1e6) * prices.lambdaRequests.usd;
    expect(lambdaCost(runs, prices, "arm64")).toBeCloseTo(expected, 12);
    expect(lambdaGbSeconds(1000, 120, 2048)).toBe(240_000);
    // x86 bills its own rate per GB-second, the same per request.
    expect(lambdaCost(runs, prices, "x86_64") - lambdaCost(runs, prices, "arm64")).toBeCloseTo(
      240_000 * (prices.lambdaX86GbSecond.usd - prices.lambdaArmGbSecond.usd),
      12,
    );
  });

  it.each([
    [10, 10, (10 * 60) / 3600],
    [10, 59, (10 * 60) / 3600],
    [10, 60, (10 * 60) / 3600],
    [10, 600, (10 * 600) / 3600],
    [2, 7200, 4],
  ])("Glue: %d DPU for %d s bill %f DPU-hours (1-minute minimum)", (dpus, seconds, expected) => {
    expect(BILLING.glueMinimumSeconds.value).toBe(60);
    expect(glueRunDpuHours(dpus, seconds)).toBeCloseTo(expected, 12);
  });

  it.each([
    [0, 10_000_000],
    [1_000_000, 10_000_000],
    [9_999_999, 10_000_000],
    [10_000_001, 10_000_001],
    [5e12, 5e12],
  ])("Athena: a query scanning %d bytes bills %d (10 MB minimum)", (scanned, billed) => {
    expect(athenaBilledBytes(scanned)).toBe(billed);
  });

  it("the Alarms report line bills the 10 MB minimum for every query over the tiny served tables", () => {
    const line = lineOf(prod, "monthly", "athena.report");
    const queries = prod.assumptions.alarmsReportQueriesPerMonth.value;
    expect(line.quantity).toBeCloseTo((queries * 10_000_000) / 1024 ** 4, 15);
    const twice = patch(prod, {
      alarmsReportQueriesPerMonth: { ...prod.assumptions.alarmsReportQueriesPerMonth, value: 2 * queries },
    });
    expect(lineOf(twice, "monthly", "athena.report").cost).toBeCloseTo(2 * line.cost, 12);
  });

  it.each([
    [1, 1],
    [8 * 1024 ** 2, 1],
    [8 * 1024 ** 2 + 1, 4],
    [24 * 1024 ** 2, 5],
  ])(
    "S3: an object of %d bytes takes %d write requests (one PUT, or create + parts + complete)",
    (bytes, n) => {
      expect(putRequestsPerObject(bytes, 8 * 1024 ** 2)).toBe(n);
    },
  );

  it("Step Functions: transitions are the deployed definition's success path, plus one per worker", () => {
    const fixed = transitionsPerExecution(0);
    // Guard, OldestRunning, Extract, PostgresExtract, Plan, Ingest, Summarize, Curate, Analytics,
    // ReconcileShards, Reconciles, Reconcile (its one shard), Outcome, Done.
    expect(fixed).toBe(14);
    expect(transitionsPerExecution(1)).toBe(fixed + 1);
    expect(transitionsPerExecution(250)).toBe(fixed + 250);
    // One more Reconcile task per shard.
    expect(transitionsPerExecution(250, 50)).toBe(fixed + 250 + 49);
  });
});

describe("reconcile's shards", () => {
  const withShards = (shards: number) =>
    patch(prod, {
      reconcile: { ...prod.assumptions.reconcile, value: { ...prod.assumptions.reconcile.value, shards } },
    });
  /** The shards as if the increment took no time to read. */
  const noIncrement = (shards: number) =>
    patch(withShards(shards), {
      reconcileIncrementDocsPerSecond: { ...prod.assumptions.reconcileIncrementDocsPerSecond, value: 1e15 },
    });
  const timeout = prod.assumptions.reconcile.value.timeoutSeconds;

  it("do the first full pass's work side by side: the same function seconds, fewer runs behind", () => {
    const one = costReport(withShards(1)).derived;
    const E = one.executions;
    expect(one.reconcile.initialSecondsPerRun).toBe(timeout);
    expect(one.reconcile.passBehindRuns).toBeGreaterThan(0);
    for (const shards of [1, 4, 20]) {
      const d = costReport(withShards(shards)).derived;
      expect(d.executions).toBe(E);
      expect(d.reconcile.passSeconds).toBe(one.reconcile.passSeconds);
      expect(d.reconcile.initialSecondsPerRun).toBeCloseTo(
        Math.min(shards * timeout, d.reconcile.passSeconds / E),
        6,
      );
      const behind = d.reconcile.passSeconds - d.reconcile.initialSecondsPerRun * E;
      expect(d.reconcile.passBehindRuns).toBe(Math.ceil(behind / (shards * timeout)));
    }
    // Enough shards: the pass ends with the load, each shard within its budget.
    const many = costReport(withShards(500)).derived;
    expect(many.reconcile.passBehindRuns).toBe(0);
    expect(many.reconcile.initialSecondsPerRun).toBeLessThan(500 * timeout);
  });

  it("bill each shard's run as a Lambda run and a state transition", () => {
    const one = lineOf(withShards(1), "monthly", "sfn.transitions");
    const eight = lineOf(withShards(8), "monthly", "sfn.transitions");
    const runs = costReport(prod).derived.runsPerMonth;
    expect((eight.quantity - one.quantity) * 1000).toBeCloseTo(runs * 7, 6);
    // Without the increment to read, a day's reconcile work is the same split eight ways.
    expect(lineOf(noIncrement(8), "monthly", "lambda.steps").quantity).toBeCloseTo(
      lineOf(noIncrement(1), "monthly", "lambda.steps").quantity,
      6,
    );
  });

  it("read the increment once in shard 0 and once more split among the others (2 − 1/N)", () => {
    const perRun = (inputs: typeof prod) => costReport(inputs).derived.reconcile.perRunSeconds;
    const once = perRun(withShards(1)) - perRun(noIncrement(1));
    expect(once).toBeGreaterThan(0);
    for (const shards of [2, 8, 50]) {
      const increment = perRun(withShards(shards)) - perRun(noIncrement(shards));
      expect(increment).toBeCloseTo(once * (2 - 1 / shards), 6);
    }
  });
});

describe("lines", () => {
  it.each(PHASES)("%s: every line costs quantity × unit price, in its price's unit", (phase) => {
    for (const line of costLines(prod, phase)) {
      expect(line.cost, line.id).toBeCloseTo(line.quantity * line.unitPrice, 9);
      expect(line.unitPrice, line.id).toBe(prices[line.price].usd);
      expect(line.unit, line.id).toBe(prices[line.price].unit);
      expect(Number.isFinite(line.cost) && line.cost >= 0, line.id).toBe(true);
      expect(line.note.length, line.id).toBeGreaterThan(0);
    }
    const ids = costLines(prod, phase).map((l) => l.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(PHASES)("%s: doubling the documents (same bytes per document) doubles the worker line", (phase) => {
    const doubled = Object.fromEntries(
      Object.entries(PRODUCTION_VOLUMES).map(([n, v]) => [
        n,
        { documents: 2 * v.documents, bytes: 2 * v.bytes },
      ]),
    );
    const twice = patch(prod, { volumes: { ...prod.assumptions.volumes, value: doubled } });
    const before = lineOf(prod, phase, "lambda.worker");
    const after = lineOf(twice, phase, "lambda.worker");
    expect(after.quantity / before.quantity).toBeCloseTo(2, 9);
    expect(after.cost / before.cost).toBeCloseTo(2, 9);
  });

  it("raw objects: a window of its own past the pack limit, else packs per worker by row data or count", () => {
    const MiB = 1024 * 1024;
    const limits = { windowBytes: MiB, bytes: 8 * MiB, windows: 100 };
    // 1,000 windows of 2 MiB of rows (1 MiB raw × 2): each its own object.
    expect(rawObjects(1000, 1000 * MiB, 4, limits, 2)).toBe(1000);
    // 1,000 windows of 20 KiB of rows over 4 workers: 250 each, 5 MiB of rows, but 100 at most a pack.
    expect(rawObjects(1000, 1000 * 10 * 1024, 4, limits, 2)).toBe(4 * 3);
    // 1,000 windows of 512 KiB of rows over 2 workers: 250 MiB each, in 8 MiB packs.
    expect(rawObjects(1000, 1000 * 256 * 1024, 2, limits, 2)).toBe(2 * 32);
    // Each worker writes one pack at least, and never more objects than windows.
    expect(rawObjects(3, 300, 10, limits, 2)).toBe(3);
    expect(rawObjects(30, 300, 10, limits, 2)).toBe(10);
    expect(rawObjects(0, 0, 10, limits, 2)).toBe(0);
  });

  it("the pack limits are the worker's, and a month's ledger rows and window overhead count windows, not objects", () => {
    const a = prod.assumptions;
    expect(a.packLimits.value).toEqual(DEFAULT_PACK_LIMITS);
    const d = costReport(prod).derived;
    expect(d.dailyObjects).toBeLessThan(d.dailyWindows);
    const month = costLines(prod, "monthly");
    const put = month.find((l) => l.id === "s3.raw-put");
    // PUTs follow the objects: without packs (a limit no window passes) every window is one.
    const unpacked = patch(prod, {
      packLimits: { ...a.packLimits, value: { ...DEFAULT_PACK_LIMITS, windowBytes: 0 } },
    });
    const d1 = costReport(unpacked).derived;
    expect(d1.dailyObjects).toBeCloseTo(d1.dailyWindows, 6);
    expect(lineOf(unpacked, "monthly", "s3.raw-put").quantity).toBeGreaterThan(
      10 * (put?.quantity ?? Number.NaN),
    );
    // Windows, not objects: the per-window overhead is the same either way.
    expect(lineOf(unpacked, "monthly", "lambda.worker-overhead").quantity).toBeCloseTo(
      lineOf(prod, "monthly", "lambda.worker-overhead").quantity,
      6,
    );
  });

  it("the worker line is documents ÷ rate × memory, at the architecture's price", () => {
    const a = prod.assumptions;
    const seconds = Object.entries(a.volumes.value).reduce(
      (s, [name, v]) => s + v.documents / (a.rates.value[name]?.docsPerSecond ?? Number.NaN),
      0,
    );
    const line = lineOf(prod, "initial", "lambda.worker");
    expect(line.quantity).toBeCloseTo(seconds * (a.workerMemoryMb.value / 1024), 3);
    const x86 = patch(prod, { lambdaArchitecture: { ...a.lambdaArchitecture, value: "x86_64" } });
    expect(lineOf(x86, "initial", "lambda.worker").unitPrice).toBe(prices.lambdaX86GbSecond.usd);
  });

  it("Glue's job metrics bring the monitoring endpoint and their custom metrics; off, neither", () => {
    const dev = inputsFor("dev");
    expect(readStackSettings("dev", ROOT).glue.metrics).toBe(true);
    expect(dev.assumptions.interfaceEndpoints.value).toBe(INFRA.interfaceEndpoints.withGlueMetrics);
    expect(dev.assumptions.glueMetricsPerJob.value).toBeGreaterThan(0);
    expect(readStackSettings("prod", ROOT).glue.metrics).toBe(false);
    expect(prod.assumptions.interfaceEndpoints.value).toBe(INFRA.interfaceEndpoints.withoutGlueMetrics);
    expect(prod.assumptions.glueMetricsPerJob.value).toBe(0);
    // The lever that turns them off has nothing left to do on prod.
    const on = patch(prod, {
      glueMetricsPerJob: { ...prod.assumptions.glueMetricsPerJob, value: 30 },
      interfaceEndpoints: {
        ...prod.assumptions.interfaceEndpoints,
        value: INFRA.interfaceEndpoints.withGlueMetrics,
      },
    });
    const endpointsOn = lineOf(on, "monthly", "vpc.endpoints").cost;
    const endpointsOff = lineOf(prod, "monthly", "vpc.endpoints").cost;
    expect(endpointsOn - endpointsOff).toBeCloseTo(
      prices.vpcInterfaceEndpointHour.usd * prod.assumptions.endpointSubnets.value * 730,
      6,
    );
    expect(lineOf(on, "monthly", "cloudwatch.metrics").cost).toBeGreaterThan(
      lineOf(prod, "monthly", "cloudwatch.metrics").cost,
    );
  });

  const onInstance = (multiAz: boolean) =>
    patch(prod, {
      supportDatabase: {
        ...prod.assumptions.supportDatabase,
        value: { kind: "instance", instanceClass: "db.t4g.medium", allocatedStorageGb: 100, multiAz },
      },
    });

  it("Multi-AZ bills the support database's instance and storage twice", () => {
    const single = onInstance(false);
    const multi = onInstance(true);
    for (const id of ["rds.instance", "rds.storage"])
      expect(lineOf(multi, "monthly", id).cost).toBeCloseTo(2 * lineOf(single, "monthly", id).cost, 9);
    expect(lineOf(single, "monthly", "rds.instance").quantity).toBe(730);
    expect(lineOf(single, "monthly", "rds.storage").quantity).toBe(100);
    // An instance bills no I/O requests.
    expect(costLines(single, "monthly").find((l) => l.id === "rds.io")).toBeUndefined();
  });

  it("serverless bills capacity while awake, the storage its tables use, and I/O per committed object", () => {
    const db = prod.assumptions.supportDatabase.value;
    if (db.kind !== "serverless") throw new Error("prod's support database is serverless");
    expect(db.minCapacity).toBe(0);
    const d = costReport(prod).derived;
    const awake =
      d.runsPerMonth * (d.runHours + (db.idleSessionTimeoutSeconds + db.secondsUntilAutoPause) / 3600);
    const acu = prod.assumptions.supportDbAcu.value;
    expect(lineOf(prod, "monthly", "rds.instance").quantity).toBeCloseTo(awake * acu.run, 9);
    expect(lineOf(prod, "monthly", "rds.instance").price).toBe("auroraServerlessAcuHour");
    expect(lineOf(prod, "monthly", "rds.storage").quantity).toBeCloseTo(d.supportDbUsedGb, 9);
    expect(lineOf(prod, "monthly", "rds.io").quantity).toBeCloseTo(
      (d.dailyWindows * DAYS_PER_MONTH * prod.assumptions.supportDbIosPerObject.value) / 1e6,
      9,
    );
    // The load keeps it awake throughout, at its assumed load capacity.
    expect(lineOf(prod, "initial", "rds.instance").quantity).toBeCloseTo(d.loadHours * acu.load, 9);
    // Awake time grows with the pause delay; a floor above 0 never pauses and bills every hour.
    const later = patch(prod, {
      supportDatabase: { ...prod.assumptions.supportDatabase, value: { ...db, secondsUntilAutoPause: 3900 } },
    });
    expect(
      lineOf(later, "monthly", "rds.instance").quantity - lineOf(prod, "monthly", "rds.instance").quantity,
    ).toBeCloseTo(d.runsPerMonth * 1 * acu.run, 6);
    const floor = patch(prod, {
      supportDatabase: { ...prod.assumptions.supportDatabase, value: { ...db, minCapacity: 1 } },
    });
    expect(lineOf(floor, "monthly", "rds.instance").quantity).toBeCloseTo(730 * acu.run, 6);
    const halfFloor = patch(prod, {
      supportDatabase: { ...prod.assumptions.supportDatabase, value: { ...db, minCapacity: 0.5 } },
      supportDbAcu: { ...prod.assumptions.supportDbAcu, value: { run: 1, load: 8 } },
    });
    expect(lineOf(halfFloor, "monthly", "rds.instance").quantity).toBeCloseTo(730 * 1, 6);
  });

  it("the serverless lever applies to an instance and its saving is the model's own", () => {
    const lever = LEVERS.find((l) => l.id === "support-db-serverless");
    expect(lever?.apply(prod)).toBeUndefined();
    const instance = onInstance(false);
    const after = lever?.apply(instance);
    if (!after) throw new Error("the lever applies to an instance");
    expect(after.assumptions.supportDatabase.value.kind).toBe("serverless");
    expect(total(costLines(after, "monthly"))).toBeLessThan(total(costLines(instance, "monthly")));
    // Both instance levers stand down on a serverless cluster.
    expect(LEVERS.find((l) => l.id === "rds-smaller")?.apply(prod)).toBeUndefined();
  });

  it("interface endpoints bill every endpoint in each of its subnets, all month", () => {
    const line = lineOf(prod, "monthly", "vpc.endpoints");
    expect(line.quantity).toBe(
      prod.assumptions.interfaceEndpoints.value * prod.assumptions.endpointSubnets.value * 730,
    );
    // prod places them in one of its three subnets; dev in every subnet.
    expect(prod.assumptions.endpointSubnets.value).toBe(1);
    expect(prod.assumptions.subnets.value).toBe(3);
    const dev = inputsFor("dev");
    expect(dev.assumptions.endpointSubnets.value).toBe(dev.assumptions.subnets.value);
  });

  it("auto scaling bills the fixed minutes on the floor and the work on what it needs", () => {
    expect(glueAutoScaledDpuHours(4, 5, 3)).toBeCloseTo((4 * 5) / 60 + 3, 12);
    // The 1-minute minimum, on the floor's DPUs.
    expect(glueAutoScaledDpuHours(4, 0, 0)).toBeCloseTo((4 * BILLING.glueMinimumSeconds.value) / 3600, 12);
    const on = prod.assumptions.glueAutoScaling;
    const off = patch(prod, { glueAutoScaling: { ...on, value: false } });
    const a = off.assumptions;
    // Without it, every DPU bills the whole run: the same run costs more, by the fixed minutes
    // on the DPUs above the floor (and the work's share of them while it waits on nothing).
    for (const id of ["glue.postgresExtract", "glue.curate", "glue.analytics"]) {
      expect(lineOf(off, "monthly", id).cost).toBeGreaterThan(lineOf(prod, "monthly", id).cost);
    }
    const job = "analytics" as const;
    const fixed = a.glueFixedMinutes.value[job];
    const gap =
      lineOf(off, "monthly", `glue.${job}`).quantity - lineOf(prod, "monthly", `glue.${job}`).quantity;
    const perRun = ((a.glueDpus.value[job] - a.glueAutoScalingFloorDpus.value) * fixed) / 60;
    expect(gap).toBeGreaterThanOrEqual(perRun * a.runsPerDay.value * DAYS_PER_MONTH * 0.999);
    expect(on.value).toBe(true);
  });

  it("raw expiry: the load's objects stay through their retention and versions, then only recent days", () => {
    const a = prod.assumptions;
    // prod: the curated objects' 7 days (every object is curated within a day), versions 3.
    expect(a.rawRetentionDays.value).toBe(RAW_STAGING_DAYS.objects);
    expect(a.rawNoncurrentDays.value).toBe(RAW_STAGING_DAYS.versions);
    expect(a.rawTagsPerObject.value).toBe(1);
    const d = costReport(prod).derived;
    const stored = (inputs: CostInputs) => lineOf(inputs, "monthly", "s3.raw-storage").quantity * 1024 ** 3;
    const retained = (days: number, versions: number) =>
      patch(prod, {
        rawRetentionDays: { ...a.rawRetentionDays, value: days },
        rawNoncurrentDays: { ...a.rawNoncurrentDays, value: versions },
      });
    // Month 1: the load's objects for the share of the month they live, and the new ones so far.
    const age1 = a.monthsOfGrowth.value * DAYS_PER_MONTH;
    for (const [days, versions] of [
      [30, 30],
      [30, 7],
      [7, 3],
      [10, 1],
    ] as const) {
      const kept = days + versions;
      const share = Math.min(1, kept / DAYS_PER_MONTH);
      expect(stored(retained(days, versions))).toBeCloseTo(
        d.rawBytes * share + d.dailyRawBytes * Math.min(age1, kept),
        -3,
      );
      // Month 4: the load's objects are gone; `kept` days of new ones remain.
      expect(stored(inMonth(retained(days, versions), 4))).toBeCloseTo(d.dailyRawBytes * kept, -3);
    }
    // Month 2 still pays the load's objects kept past day 30 (30 + 30: half of month 2).
    expect(stored(inMonth(retained(30, 30), 2))).toBeCloseTo(
      d.rawBytes * ((60 - DAYS_PER_MONTH) / DAYS_PER_MONTH) + d.dailyRawBytes * 1.5 * DAYS_PER_MONTH,
      -3,
    );
    // Shorter versions on raw alone leave the other layers' noncurrent bytes as they were.
    expect(lineOf(retained(7, 1), "monthly", "s3.other-storage").quantity).toBe(
      lineOf(retained(7, 7), "monthly", "s3.other-storage").quantity,
    );
    // Kept for ever: month 4 holds the load and every day since.
    const forever = patch(prod, {
      rawRetentionDays: { ...a.rawRetentionDays, value: Number.POSITIVE_INFINITY },
    });
    expect(stored(inMonth(forever, 4))).toBeCloseTo(d.rawBytes + d.dailyRawBytes * 3.5 * DAYS_PER_MONTH, -3);
  });

  it("the load's raw share of a month: whole while its objects live, then in proportion, then none", () => {
    expect(loadRawShare(60, 15.2, 30.4)).toBe(1);
    expect(loadRawShare(30.4, 15.2, 30.4)).toBe(1);
    expect(loadRawShare(14, 15.2, 30.4)).toBeCloseTo(14 / 30.4, 12);
    expect(loadRawShare(0, 15.2, 30.4)).toBe(0);
    // Month 2 spans ages 30.4–60.8: 60 days kept reach all but 0.8 of it.
    expect(loadRawShare(60, 45.6, 30.4)).toBeCloseTo(29.6 / 30.4, 12);
    expect(loadRawShare(30, 45.6, 30.4)).toBe(0);
    expect(loadRawShare(Number.POSITIVE_INFINITY, 106.4, 30.4)).toBe(1);
  });

  it("Intelligent-Tiering moves the load's curated files by their age, not in the first month", () => {
    const a = prod.assumptions;
    const tiered = patch(prod, {
      curatedStorageClass: { ...a.curatedStorageClass, value: "INTELLIGENT_TIERING" },
    });
    const quantity = (inputs: CostInputs, id: string) =>
      costLines(inputs, "monthly").find((l) => l.id === id)?.quantity ?? 0;
    expect(quantity(tiered, "s3.curated-storage-ia")).toBe(0);
    expect(quantity(tiered, "s3.curated-storage-archive")).toBe(0);
    const month3 = inMonth(tiered, 3);
    expect(quantity(month3, "s3.curated-storage-ia")).toBeGreaterThan(
      quantity(month3, "s3.curated-storage-archive"),
    );
    const month5 = inMonth(tiered, 5);
    expect(quantity(month5, "s3.curated-storage-archive")).toBeGreaterThan(
      quantity(month5, "s3.curated-storage-ia"),
    );
    // Whatever the tiers, the bytes are the curated layer's.
    const all = (inputs: CostInputs) =>
      ["s3.curated-storage", "s3.curated-storage-ia", "s3.curated-storage-archive"].reduce(
        (s, id) => s + quantity(inputs, id),
        0,
      );
    const standard = patch(prod, { curatedStorageClass: { ...a.curatedStorageClass, value: "STANDARD" } });
    expect(all(month5)).toBeCloseTo(
      lineOf(inMonth(standard, 5), "monthly", "s3.curated-storage").quantity,
      6,
    );
    // prod moves its curated files to Intelligent-Tiering (infra/storage.ts).
    expect(a.curatedStorageClass.value).toBe("INTELLIGENT_TIERING");
  });
});

describe("totals, dominant lines, levers", () => {
  const report = costReport(prod);

  it.each(PHASES)("%s: the total is the sum of the lines, beside the goal and the original", (phase) => {
    const p = report.phases[phase];
    expect(p.total).toBeCloseTo(
      p.lines.reduce((s, l) => s + l.cost, 0),
      9,
    );
    expect(p.total).toBe(total(p.lines));
    expect(p.goal).toBe(phase === "initial" ? 1000 : 150);
    expect(p.original.total).toBe(phase === "initial" ? 3000 : 400);
    expect(p.meetsGoal).toBe(p.total <= p.goal);
  });

  it.each(PHASES)("%s: the dominant lines are the costliest, sorted, with their shares", (phase) => {
    const p = report.phases[phase];
    const costs = p.dominant.map((d) => d.line.cost);
    expect(costs).toHaveLength(3);
    expect([...costs].sort((x, y) => y - x)).toEqual(costs);
    const others = p.lines.filter((l) => !p.dominant.some((d) => d.line.id === l.id));
    for (const l of others) expect(l.cost).toBeLessThanOrEqual(Math.min(...costs));
    for (const d of p.dominant) expect(d.share).toBeCloseTo(d.line.cost / p.total, 12);
    expect(dominantLines(p.lines, 1)[0]?.id).toBe(p.dominant[0]?.line.id);
  });

  it.each(PHASES)("%s: a lever's saving is the total before minus the total after it", (phase) => {
    for (const lever of LEVERS) {
      const after = lever.apply(prod);
      const found = leverSavings(prod, phase).find((r) => r.id === lever.id);
      if (!after) {
        expect(found, lever.id).toBeUndefined();
        continue;
      }
      const saving = total(costLines(prod, phase)) - total(costLines(after, phase));
      if (found) expect(found.saving, lever.id).toBeCloseTo(saving, 9);
      else expect(saving, lever.id).toBeLessThanOrEqual(0.005);
    }
    const savings = leverSavings(prod, phase).map((r) => r.saving);
    expect([...savings].sort((x, y) => y - x)).toEqual(savings);
    expect(report.phases[phase].withEveryLever).toBeCloseTo(
      total(costLines(withEveryLever(prod, phase), phase)),
      9,
    );
    expect(report.phases[phase].withEveryLever).toBeLessThanOrEqual(report.phases[phase].total);
  });

  it("every lever names lines the model has", () => {
    const ids = new Set(PHASES.flatMap((phase) => costLines(prod, phase).map((l) => l.id)));
    for (const lever of LEVERS)
      for (const id of lever.lines) expect(ids.has(id), `${lever.id}: ${id}`).toBe(true);
  });

  it("sensitivities: an input scaled by 1 leaves the totals, halved and doubled it moves them", () => {
    for (const s of SENSITIVITIES) {
      const same = s.scale(prod, 1);
      for (const phase of PHASES)
        expect(total(costLines(same, phase)), s.id).toBeCloseTo(total(costLines(prod, phase)), 9);
    }
    const rows = report.sensitivities;
    expect(rows.map((r) => r.id)).toEqual(SENSITIVITIES.map((s) => s.id));
    const rate = rows.find((r) => r.id === "worker-rate");
    // A slower worker costs more Lambda and more executions.
    expect(rate?.half.initial).toBeGreaterThan(report.phases.initial.total);
    expect(rate?.double.initial).toBeLessThan(report.phases.initial.total);
  });

  it("fewer executions for the initial load need more bulk workers and cost less Glue", () => {
    const lever = LEVERS.find((l) => l.id === "fewer-executions");
    const after = lever?.apply(prod);
    expect(after).toBeDefined();
    const before = costReport(prod).derived;
    const then = costReport(after as CostInputs).derived;
    expect(then.executions).toBeLessThan(before.executions);
    expect(lineOf(after as CostInputs, "initial", "glue.curate").cost).toBeLessThan(
      lineOf(prod, "initial", "glue.curate").cost,
    );
  });
});

describe("provenance", () => {
  it("every price has its region, date, unit, source page and basis", () => {
    for (const p of Object.values(prices)) {
      expect(p.region, p.key).toBe(PRICED_REGION);
      expect(p.asOf, p.key).toMatch(/^\d{4}-\d{2}(-\d{2})?$/);
      expect(p.unit.length, p.key).toBeGreaterThan(0);
      expect(p.source, p.key).toMatch(/^https:\/\/aws\.amazon\.com\//);
      expect(p.basis.length, p.key).toBeGreaterThan(0);
      expect(p.usd, p.key).toBeGreaterThan(0);
    }
    expect(pricesFor("us-east-1")).toBeUndefined();
  });

  it.each(STACKS)("%s: every assumption has a value, a unit and a source", (stack) => {
    const list = assumptionList(inputsFor(stack).assumptions);
    expect(list.length).toBeGreaterThan(40);
    for (const a of list) {
      expect(a.value.length, a.key).toBeGreaterThan(0);
      expect(a.unit.length, a.key).toBeGreaterThan(0);
      expect(a.source.length, a.key).toBeGreaterThan(10);
    }
  });

  it("the production volumes and rates cover exactly the registry's collections", () => {
    const names = collections.map((c) => c.name).sort();
    expect(Object.keys(PRODUCTION_VOLUMES).sort()).toEqual(names);
    expect(Object.keys(prod.assumptions.rates.value).sort()).toEqual(names);
    expect(prod.assumptions.customMetrics.value).toBe(Object.keys(METRIC).length * names.length + 1);
  });

  it("the stack files are read as infra/config.ts reads them", async () => {
    const { DEFAULTS, StackConfigSchema } = await import("../../infra/config.js");
    expect(Object.keys(BILLING.dpuPerWorker.value).sort()).toEqual(
      [...StackConfigSchema.shape.glue.shape.workerType.options].sort(),
    );
    for (const [key, value] of Object.entries(INFRA_DEFAULTS))
      expect(DEFAULTS[key as keyof typeof DEFAULTS], key).toBe(value);
    const s = readStackSettings("prod", ROOT);
    expect(s.region).toBe(PRICED_REGION);
    expect(s.glue.workerType).toBe("G.2X");
  });

  it("the figures repeated from infra/ are infra's", async () => {
    const [
      { LAMBDA_ARCHITECTURE },
      { interfaceEndpointsFor },
      monitoring,
      { JOBS },
      { CURATED_STORAGE_CLASS },
    ] = await Promise.all([
      import("../../infra/functions.js"),
      import("../../infra/network.js"),
      import("../../infra/monitoring.js"),
      import("../../infra/glue-jobs.js"),
      import("../../infra/storage.js"),
    ]);
    expect(INFRA.curatedStorageClass).toBe(CURATED_STORAGE_CLASS);
    expect(INFRA.lambdaArchitecture).toBe(LAMBDA_ARCHITECTURE);
    expect(INFRA.interfaceEndpoints).toEqual({
      withGlueMetrics: interfaceEndpointsFor(true).length,
      withoutGlueMetrics: interfaceEndpointsFor(false).length,
    });
    expect(INFRA.alarmsPerCollection).toBe(monitoring.COLLECTION_ALARMS.length);
    // Execution alarms, no success, schedule undelivered, support db storage and CPU, reconcile.
    expect(INFRA.fixedAlarms).toBe(monitoring.EXECUTION_ALARMS.length + 1 + 1 + 2 + 1);
    expect(INFRA.glueJobs).toBe(Object.keys(JOBS).length);
  }, 60_000);
});

describe("inputs", () => {
  const prodYaml = `config:
  aws:region: eu-west-1
  oven-lakehouse:environment: prod
  oven-lakehouse:subnetIds: [subnet-a, subnet-b]
  oven-lakehouse:supportDatabase: {instanceClass: db.t4g.micro, allocatedStorageGb: 20, backupRetentionDays: 1, multiAz: "false"}
  oven-lakehouse:functions:
    plan: {memoryMb: 512, timeoutSeconds: 300}
    worker: {memoryMb: 1024, timeoutSeconds: 900}
    summarize: {memoryMb: 512, timeoutSeconds: 300}
    windowDays: 60
    safetyMarginSeconds: 300
  oven-lakehouse:orchestration: {mapConcurrency: 10, scheduleExpression: "rate(12 hours)"}
  oven-lakehouse:glue: {workerType: G.1X, postgresExtractWorkers: 2, curateWorkers: 2, analyticsWorkers: 2}
  oven-lakehouse:logRetentionDays: 14
  oven-lakehouse:athenaBytesScannedLimit: 10737418240
`;

  it("a stack file's defaults are infra's, its strings are parsed as infra parses them", () => {
    const s = parseStackSettings("prod", prodYaml);
    expect(s.supportDatabase).toEqual({
      kind: "instance",
      instanceClass: "db.t4g.micro",
      allocatedStorageGb: 20,
      backupRetentionDays: 1,
      multiAz: false,
    });
    const serverless = parseStackSettings(
      "prod",
      prodYaml.replace(/\{instanceClass[^}]*\}/, "{kind: serverless, backupRetentionDays: 7}"),
    );
    expect(serverless.supportDatabase).toEqual({
      kind: "serverless",
      minCapacity: INFRA_DEFAULTS.supportDbMinAcu,
      maxCapacity: INFRA_DEFAULTS.supportDbMaxAcu,
      secondsUntilAutoPause: INFRA_DEFAULTS.supportDbSecondsUntilAutoPause,
      idleSessionTimeoutSeconds: INFRA_DEFAULTS.supportDbIdleSessionTimeoutSeconds,
      backupRetentionDays: 7,
    });
    expect(s.functions.reconcile).toEqual({
      memoryMb: INFRA_DEFAULTS.reconcileMemoryMb,
      timeoutSeconds: INFRA_DEFAULTS.reconcileTimeoutSeconds,
    });
    expect(s.noncurrentDays).toBe(INFRA_DEFAULTS.noncurrentDays);
    expect(buildAssumptions(s).runsPerDay.value).toBe(2);
  });

  it("reads the stack's functions.packs: limits over the worker's, or false for an object a window", () => {
    const withPacks = (packs: string) =>
      buildAssumptions(
        parseStackSettings(
          "prod",
          prodYaml.replace("safetyMarginSeconds: 300", `safetyMarginSeconds: 300\n    packs: ${packs}`),
        ),
      ).packLimits;
    expect(buildAssumptions(parseStackSettings("prod", prodYaml)).packLimits.value).toEqual(
      DEFAULT_PACK_LIMITS,
    );
    const larger = withPacks("{bytes: 33554432}");
    expect(larger.value).toEqual({ ...DEFAULT_PACK_LIMITS, bytes: 33_554_432 });
    expect(larger.source).toContain("functions.packs");
    const off = withPacks("false");
    // No window is under a bound of 0 bytes: rawObjects gives one object a window.
    expect(off.value.windowBytes).toBe(0);
    expect(rawObjects(100, 1_000, 2, off.value, 2)).toBe(100);
  });

  it("a bad stack file names the key", () => {
    const bad = prodYaml.replace("workerType: G.1X", "workerType: G.3X");
    expect(() => parseStackSettings("prod", bad)).toThrow(CostInputError);
    expect(() => parseStackSettings("prod", bad)).toThrow(/oven-lakehouse:glue\.workerType/);
    expect(() => parseStackSettings("prod", "config: [")).toThrow(/not YAML/);
  });

  it.each([
    ["cron(0 2 * * ? *)", 1],
    ["cron(0 2,14 * * ? *)", 2],
    ["cron(0,30 * * * ? *)", 48],
    ["rate(6 hours)", 4],
    ["rate(1 day)", 1],
    ["rate(30 minutes)", 48],
  ])("%s runs %d times a day", (expression, n) => {
    expect(runsPerDay(expression)).toBe(n);
  });

  it("bench figures: the worker's own rate first, else its end-to-end rate; bytes measured when given", () => {
    const figures = parseBenchFigures(
      JSON.stringify({
        ingest: {
          collections: [
            {
              name: "events",
              note: "fields the model does not read are ignored",
              worker: { documents: 10_000, objectBytes: 300, run: { ms: 2_000 } },
              stages: { bytes: 1_000_000 },
            },
            {
              collection: "variable_logs",
              workerWithoutServerDocsPerSecond: 400,
              worker: { documents: 1, run: { ms: 1 } },
            },
          ],
        },
        glue: { curateGbPerDpuHour: 35 },
        collections: [{ worker: { documents: 5, run: { ms: 1 } } }, { name: "alarm" }],
        other: "ignored",
      }),
      "bench.json",
    );
    expect(figures.shapes.events).toEqual({
      docsPerSecond: 5_000,
      rateKind: "worker",
      rawOverSource: 0.0003,
      bytesPerDoc: 100,
    });
    expect(figures.shapes.variable_logs?.docsPerSecond).toBe(400);
    expect(figures.shapes.variable_logs?.rateKind).toBe("without-server");
    // An entry in another shape is skipped and named, never fatal: the bench's output may grow.
    expect(figures.skipped).toHaveLength(2);
    expect(Object.keys(figures.shapes).sort()).toEqual(["events", "variable_logs"]);
    expect(parseBenchFigures(JSON.stringify({ ingest: { results: [] } }), "b.json").skipped).toEqual([
      "no ingest.collections or collections list",
    ]);
    const a = buildAssumptions(readStackSettings("prod", ROOT), figures);
    expect(a.curateGbPerDpuHour.value).toBe(35);
    // The measured 100 B/doc against production's: the rate is capped by the bench's bytes per second.
    const own = bytesPerDocument(PRODUCTION_VOLUMES.events as CollectionVolume);
    expect(a.rates.value.events?.docsPerSecond).toBeCloseTo(Math.min(5_000, (5_000 * 100) / own), 9);
    expect(a.rates.source).toContain("bench.json");
    expect(() => parseBenchFigures("{", "x.json")).toThrow(CostInputError);
  });

  it("bench file: the one named, else this machine's last run, else the recorded run, else none", () => {
    const root = mkdtempSync(join(tmpdir(), "cost-bench-"));
    try {
      const write = (file: string, docsPerSecond: number) => {
        mkdirSync(dirname(join(root, file)), { recursive: true });
        writeFileSync(
          join(root, file),
          JSON.stringify({
            collections: [{ name: "events", workerWithoutServerDocsPerSecond: docsPerSecond }],
          }),
        );
      };
      expect(readBenchFigures(undefined, root)).toBeUndefined();
      write(RECORDED_BENCH_FILE, 111);
      expect(readBenchFigures(undefined, root)?.file).toBe(RECORDED_BENCH_FILE);
      expect(readBenchFigures(undefined, root)?.shapes.events?.docsPerSecond).toBe(111);
      write(DEFAULT_BENCH_FILE, 222);
      expect(readBenchFigures(undefined, root)?.shapes.events?.docsPerSecond).toBe(222);
      write("mine.json", 333);
      expect(readBenchFigures(join(root, "mine.json"), root)?.shapes.events?.docsPerSecond).toBe(333);
      expect(() => readBenchFigures(join(root, "absent.json"), root)).toThrow(/does not exist/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("the recorded run in the repository is one the model reads whole", () => {
    const figures = readBenchFigures(join(ROOT, RECORDED_BENCH_FILE), ROOT);
    expect(figures?.skipped).toEqual([]);
    for (const shape of ["events", "variable_logs", "alarm", "request"])
      expect(figures?.shapes[shape]?.rateKind).toBe("without-server");
  });
});

describe("npm run cost", () => {
  it("--json parses and matches the model run in-process", async () => {
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((done, fail) => {
      const child = spawn(
        "bash",
        ["scripts/lakehouse.sh", "cost", "--json", "--stack", "prod", "--no-bench"],
        {
          cwd: ROOT,
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let out = "";
      let err = "";
      child.stdout.on("data", (c) => {
        out += c;
      });
      child.stderr.on("data", (c) => {
        err += c;
      });
      child.on("error", fail);
      child.on("close", (c) => done({ code: c, stdout: out, stderr: err }));
    });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const json = JSON.parse(stdout) as {
      stack: string;
      region: string;
      phases: Record<string, { total: number; lines: { id: string; cost: number; quantity: number }[] }>;
      prices: unknown[];
      assumptions: { key: string; source: string }[];
    };
    const report = costReport(prod);
    expect(json.stack).toBe("prod");
    expect(json.region).toBe(PRICED_REGION);
    for (const phase of PHASES) {
      const mine = report.phases[phase];
      const theirs = json.phases[phase];
      expect(theirs?.total).toBeCloseTo(mine.total, 6);
      expect(theirs?.lines.map((l) => [l.id, l.cost, l.quantity])).toEqual(
        mine.lines.map((l) => [l.id, l.cost, l.quantity]),
      );
    }
    expect(json.prices).toHaveLength(Object.keys(prices).length);
    expect(json.assumptions.map((a) => a.key)).toEqual(assumptionList(prod.assumptions).map((a) => a.key));
  }, 60_000);
});
