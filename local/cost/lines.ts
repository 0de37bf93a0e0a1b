/**
 * The cost lines (issue 17): one list for the initial load, one for a month of operation. Every
 * line's cost is `quantity × unitPrice`, the quantity in the price's unit. No free tiers are taken
 * off (they are small beside these volumes, and per account rather than per system).
 */
import type { Assumptions } from "./assumptions.js";
import {
  athenaBilledBytes,
  DAYS_PER_MONTH,
  HOURS_PER_MONTH,
  lambdaGbSeconds,
  putRequestsPerObject,
  transitionsPerExecution,
} from "./billing.js";
import { type Derived, derive, GLUE_JOB_NAMES, GLUE_JOBS } from "./derive.js";
import { BILLING, type Price, type PriceBook, type PriceKey, RDS_INSTANCE_PRICES } from "./prices.js";

export type Phase = "initial" | "monthly";
export const PHASES: readonly Phase[] = ["initial", "monthly"];

export interface CostLine {
  /** Stable id (`glue.curate`), what levers name. */
  readonly id: string;
  readonly phase: Phase;
  readonly service: string;
  readonly line: string;
  /** In the price's unit: cost = quantity × unitPrice. */
  readonly quantity: number;
  readonly unit: string;
  readonly unitPrice: number;
  readonly cost: number;
  /** The original system's figure for this line, where the original's thesis gives one (it gives totals only). */
  readonly original?: number;
  readonly price: PriceKey;
  readonly note: string;
}

export interface CostInputs {
  readonly prices: PriceBook;
  readonly assumptions: Assumptions;
}

const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

function makeLine(
  phase: Phase,
  id: string,
  service: string,
  line: string,
  quantity: number,
  price: Price,
  note: string,
): CostLine {
  return {
    id,
    phase,
    service,
    line,
    quantity,
    unit: price.unit,
    unitPrice: price.usd,
    cost: quantity * price.usd,
    price: price.key,
    note,
  };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const gb = (bytes: number) => bytes / GiB;

/** A Glue job's size as a line says it: its DPUs, or its ceiling and floor with auto scaling. */
const glueSize = (a: Assumptions, job: (typeof GLUE_JOBS)[number]) =>
  a.glueAutoScaling.value
    ? `up to ${a.glueDpus.value[job]} DPU (auto scaling; fixed part on ${Math.min(a.glueAutoScalingFloorDpus.value, a.glueDpus.value[job])})`
    : `${a.glueDpus.value[job]} DPU`;

/** The price of the support database's instance class. */
function rdsInstancePrice(prices: PriceBook, instanceClass: string): Price {
  const key = RDS_INSTANCE_PRICES[instanceClass];
  if (!key) throw new RangeError(`no price for RDS class ${instanceClass}: add it to local/cost/prices.ts`);
  return prices[key];
}

/** What the support database does in a phase: how long it works, on what, and what it holds. */
interface SupportDatabaseUse {
  /** Hours it is up: all of them for an instance; awake hours for a serverless cluster. */
  readonly hours: number;
  /** Serverless: average capacity while awake. */
  readonly acu: number;
  /** Months the phase lasts (storage). */
  readonly months: number;
  /** GB its tables hold on average over the phase. */
  readonly usedGb: number;
  /** Windows committed in the phase (a ledger row and a bookmark each). */
  readonly windows: number;
  /** Suffix of the lines' names (" while loading"). */
  readonly what: string;
  readonly hoursNote: string;
}

/**
 * The support database's lines: an RDS instance bills its class by the hour and its allocated
 * gp3 storage; Aurora Serverless v2 bills capacity while awake (at least 0.5 ACU, its floor when
 * it does not pause), the storage its tables use, and I/O requests (Aurora Standard).
 */
function supportDatabaseLines(
  L: LineMaker,
  p: PriceBook,
  a: Assumptions,
  use: SupportDatabaseUse,
): CostLine[] {
  const db = a.supportDatabase.value;
  if (db.kind === "instance") {
    const az = db.multiAz ? BILLING.rdsMultiAzFactor.value : 1;
    return [
      L(
        "rds.instance",
        "RDS",
        `support database ${db.instanceClass}${db.multiAz ? " Multi-AZ" : ""}${use.what}`,
        use.hours * az,
        rdsInstancePrice(p, db.instanceClass),
        `${db.multiAz ? "primary and standby" : "Single-AZ"}, ${use.hoursNote}`,
      ),
      L(
        "rds.storage",
        "RDS",
        `support database storage${use.what}`,
        db.allocatedStorageGb * az * use.months,
        p.rdsGp3GbMonth,
        `${db.allocatedStorageGb} GB gp3 allocated${db.multiAz ? " × 2 (Multi-AZ)" : ""}, ~${fmt(use.usedGb)} GB used (ledger, curated_day)${use.usedGb > db.allocatedStorageGb * 0.8 ? ": raise allocatedStorageGb" : ""}`,
      ),
    ];
  }
  const acu = Math.min(db.maxCapacity, Math.max(use.acu, db.minCapacity, AURORA_MIN_AWAKE_ACU));
  const idleAcuHours =
    db.minCapacity > 0 ? db.minCapacity * Math.max(0, HOURS_PER_MONTH * use.months - use.hours) : 0;
  return [
    L(
      "rds.instance",
      "RDS",
      `support database Aurora Serverless v2 capacity${use.what}`,
      use.hours * acu + idleAcuHours,
      p.auroraServerlessAcuHour,
      `${fmt(acu, 1)} ACU on average while awake (${db.minCapacity}–${db.maxCapacity}); ${use.hoursNote}`,
    ),
    L(
      "rds.storage",
      "RDS",
      `support database storage${use.what}`,
      use.usedGb * use.months,
      p.auroraStorageGbMonth,
      `~${fmt(use.usedGb)} GB used (ledger, curated_day): Aurora bills what its volume holds`,
    ),
    L(
      "rds.io",
      "RDS",
      `support database I/O requests${use.what}`,
      (use.windows * a.supportDbIosPerObject.value) / 1e6,
      p.auroraIoRequests,
      `${fmt(use.windows)} windows committed × ${a.supportDbIosPerObject.value}`,
    ),
  ];
}

/** Aurora Serverless v2's smallest capacity while it is not paused. */
const AURORA_MIN_AWAKE_ACU = 0.5;

/** The cost lines of a phase. */
export function costLines(
  inputs: CostInputs,
  phase: Phase,
  derived: Derived = derive(inputs.assumptions),
): CostLine[] {
  return phase === "initial" ? initialLines(inputs, derived) : monthlyLines(inputs, derived);
}

function initialLines({ prices: p, assumptions: a }: CostInputs, d: Derived): CostLine[] {
  const L = (id: string, service: string, line: string, q: number, price: Price, note: string) =>
    makeLine("initial", id, service, line, q, price, note);
  const arch = a.lambdaArchitecture.value;
  const gbSecond = p[arch === "arm64" ? "lambdaArmGbSecond" : "lambdaX86GbSecond"];
  const workerGb = a.workerMemoryMb.value / 1024;
  const docSeconds = d.collections.reduce((s, c) => s + c.initialDocSeconds, 0);
  const top = [...d.collections].sort((x, y) => y.initialDocSeconds - x.initialDocSeconds)[0];
  const overheadSeconds =
    d.initialInvocations * a.workerStartSeconds.value + d.initialWindows * a.windowSeconds.value;
  const plan = a.plan.value;
  const sum = a.summarize.value;
  const rec = a.reconcile.value;
  const E = d.executions;
  const otherGbSeconds =
    lambdaGbSeconds(E, plan.seconds, plan.memoryMb) +
    lambdaGbSeconds(E, sum.seconds, sum.memoryMb) +
    lambdaGbSeconds(E, d.reconcile.initialSecondsPerRun, rec.memoryMb);
  const requests = d.initialInvocations + 3 * E;
  const flex = a.glueFlexForInitialLoad.value;
  const gluePrice = p[flex ? "glueFlexDpuHour" : "glueDpuHour"];
  const loadDays = d.loadHours / 24;
  const loadMonths = loadDays / DAYS_PER_MONTH;
  const lakeBytes = d.rawBytes + d.curatedBytes + d.postgresLakeBytes;
  const part = a.multipartPartBytes.value;
  const rawPuts =
    d.collections.reduce(
      (s, c) =>
        s +
        c.initialObjects * putRequestsPerObject(c.initialObjects ? c.rawBytes / c.initialObjects : 0, part),
      0,
    ) + d.initialInvocations; // + one ListMultipartUploads per worker run (removePartial)
  const rawGets = d.initialObjects * a.rawGetsPerObject.value;
  const buckets = a.curatedBuckets.value;
  const years = Math.ceil(d.historyDays / 365);
  const curatedFilesPerRun = Object.values(buckets).reduce(
    (s, b) => s + b.buckets * (b.time === "month" ? years * 12 : b.time === "year" ? years : 1) + 4,
    0,
  );
  const curatedPuts = E * curatedFilesPerRun + d.curatedBytes / (128 * 1024 ** 2);
  const glueRuns = GLUE_JOBS.reduce((s, j) => s + d.glue.initial[j].runs, 0);
  const secretCalls = requests * a.secretReadsPerInvocation.value + glueRuns * 2;
  const logs = a.logBytes.value;
  const logsGb = gb(
    requests * logs.perLambdaInvocation + glueRuns * logs.perGlueRun + loadDays * logs.rdsPerDay,
  );
  const glueHours = GLUE_JOBS.reduce((s, j) => s + d.glue.initial[j].seconds, 0) / 3600;
  const lines: CostLine[] = [
    L(
      "lambda.worker",
      "Lambda",
      "worker duration (documents)",
      lambdaGbSeconds(1, docSeconds, a.workerMemoryMb.value),
      gbSecond,
      `${fmt(docSeconds / 3600)} worker-hours at ${a.workerMemoryMb.value} MB ${arch}${arch === "arm64" ? ` (x86: +${fmt((p.lambdaX86GbSecond.usd / p.lambdaArmGbSecond.usd - 1) * 100)} %)` : ""}; ${top?.name} ${fmt((100 * (top?.initialDocSeconds ?? 0)) / docSeconds)} % (${fmt(top?.docsPerSecond ?? 0)} docs/s)`,
    ),
    L(
      "lambda.worker-overhead",
      "Lambda",
      "worker start-up and per-window overhead",
      overheadSeconds * workerGb,
      gbSecond,
      `${fmt(d.initialInvocations)} invocations × ${a.workerStartSeconds.value} s + ${fmt(d.initialWindows)} windows × ${a.windowSeconds.value * 1000} ms`,
    ),
    L(
      "lambda.steps",
      "Lambda",
      "plan, summarize, reconcile",
      otherGbSeconds,
      gbSecond,
      `${E} executions; reconcile ${fmt(d.reconcile.initialSecondsPerRun)} s a run${rec.shards > 1 ? ` in ${rec.shards} shards` : ""}${d.reconcile.passBehindRuns ? `, its first full pass needs ${d.reconcile.passBehindRuns} more run${d.reconcile.passBehindRuns === 1 ? "" : "s"}` : ""}`,
    ),
    L(
      "lambda.requests",
      "Lambda",
      "requests",
      requests / 1e6,
      p.lambdaRequests,
      `${fmt(requests)} invocations`,
    ),
    L(
      "sfn.transitions",
      "Step Functions",
      "state transitions",
      d.initialTransitions / 1000,
      p.stepFunctionsTransitions,
      `${E} executions × ${transitionsPerExecution(0, a.reconcile.value.shards)} states + 1 per worker; ~${fmt(loadDays, 1)} days back to back`,
    ),
    ...GLUE_JOBS.map((job) => {
      const g = d.glue.initial[job];
      return L(
        `glue.${job}`,
        "Glue",
        `${GLUE_JOB_NAMES[job]} (${g.runs} runs)`,
        g.dpuHours,
        gluePrice,
        `${glueSize(a, job)} × ${fmt(g.seconds / g.runs / 60, 1)} min a run${flex ? ", Flex" : ""}; ${a.glueFixedMinutes.value[job]} min fixed per run`,
      );
    }),
    L(
      "glue.optimizers",
      "Glue",
      "table optimizers (compaction of the load)",
      gb(d.curatedBytes) / a.curateGbPerDpuHour.value +
        a.icebergTables.value * loadDays * a.optimizerDpuHoursPerTableDay.value,
      p.glueOptimizerDpuHour,
      `rewrites ${fmt(gb(d.curatedBytes))} GB of curated once into 128 MiB files; retention and orphan runs`,
    ),
    L(
      "s3.raw-put",
      "S3",
      "raw: PUT and LIST requests",
      rawPuts / 1000,
      p.s3PutRequests,
      `${fmt(d.initialObjects)} objects for ${fmt(d.initialWindows)} ${a.windowDays.value}-day windows with data (small ones packed: ADR 0023)`,
    ),
    L(
      "s3.raw-get",
      "S3",
      "raw: GET requests (curate)",
      rawGets / 1000,
      p.s3GetRequests,
      `${a.rawGetsPerObject.value} per object read by mongodb_curate (the ledger replaces LIST)`,
    ),
    ...rawTagLines(L, p, a, d.initialObjects),
    L(
      "s3.curated-put",
      "S3",
      "curated: PUT requests",
      curatedPuts / 1000,
      p.s3PutRequests,
      `${fmt(curatedFilesPerRun)} files and metadata a curate run over every partition, and compaction's output`,
    ),
    L(
      "s3.storage",
      "S3",
      "storage while loading (all layers)",
      (gb(lakeBytes) / 2) * loadMonths,
      p.s3StandardGbMonth,
      `grows to ${fmt(gb(d.rawBytes))} GB raw, ${fmt(gb(d.curatedBytes))} GB curated, ${fmt(gb(d.postgresLakeBytes))} GB postgres`,
    ),
    ...supportDatabaseLines(L, p, a, {
      hours: d.loadHours,
      acu: a.supportDbAcu.value.load,
      months: loadMonths,
      // The ledger and the counts grow through the load: half their size on average.
      usedGb: d.supportDbUsedGb / 2,
      windows: d.initialWindows,
      what: " while loading",
      hoursNote: `${fmt(d.loadHours)} hours`,
    }),
    L(
      "vpc.endpoints",
      "VPC",
      "interface endpoints while loading",
      a.interfaceEndpoints.value * a.endpointSubnets.value * d.loadHours,
      p.vpcInterfaceEndpointHour,
      `${a.interfaceEndpoints.value} endpoints × ${a.endpointSubnets.value} AZs`,
    ),
    L(
      "secrets.storage",
      "Secrets Manager",
      "secrets while loading",
      a.secrets.value * loadMonths,
      p.secretsManagerSecretMonth,
      `${a.secrets.value} secrets`,
    ),
    L(
      "secrets.calls",
      "Secrets Manager",
      "API calls",
      secretCalls / 10_000,
      p.secretsManagerApiCalls,
      `${a.secretReadsPerInvocation.value} per function invocation, 2 per Glue run`,
    ),
    L(
      "kms.requests",
      "KMS",
      "requests (S3 bucket keys, secrets)",
      ((rawPuts + rawGets + curatedPuts) * a.s3KmsRequestShare.value + secretCalls) / 10_000,
      p.kmsRequests,
      "AWS managed keys only: no key-month charge",
    ),
    L(
      "cloudwatch.logs",
      "CloudWatch",
      "logs ingested",
      logsGb,
      p.cloudwatchLogsIngestGb,
      `${fmt(requests)} invocations, ${glueRuns} Glue runs, the support database's log`,
    ),
    L(
      "cloudwatch.metrics",
      "CloudWatch",
      "custom metrics (EMF, Glue job metrics) while loading",
      (a.customMetrics.value * d.loadHours + a.glueMetricsPerJob.value * glueHours) /
        BILLING.metricHoursPerMonth.value,
      p.cloudwatchMetricMonth,
      `${a.customMetrics.value} EMF metrics through the load; prorated by the hour`,
    ),
    L(
      "cloudwatch.alarms",
      "CloudWatch",
      "alarms while loading",
      a.alarms.value * loadMonths,
      p.cloudwatchAlarmMonth,
      `${a.alarms.value} alarms`,
    ),
  ];
  return lines;
}

/**
 * The share of a month the initial load's raw objects are still stored, as current objects or
 * versions, for `keptDays` after their writing: the month spans ages `midAge ± monthDays / 2` of
 * those objects (taken as written at cutover, so the share leans high by up to the load's days).
 */
export function loadRawShare(keptDays: number, midAge: number, monthDays: number): number {
  const start = Math.max(0, midAge - monthDays / 2);
  return Math.min(1, Math.max(0, (keptDays - start) / monthDays));
}

/** The curate job's tag on each raw object it read, when the lifecycle expires by it. */
function rawTagLines(L: LineMaker, p: PriceBook, a: Assumptions, objects: number): CostLine[] {
  const tags = objects * a.rawTagsPerObject.value;
  return tags === 0
    ? []
    : [
        L(
          "s3.raw-tag",
          "S3",
          "raw: tagging requests (curate)",
          tags / 1000,
          p.s3PutRequests,
          `${a.rawTagsPerObject.value} per object read: the tag the lifecycle expires by (retention.rawCuratedDays)`,
        ),
      ];
}

function monthlyLines({ prices: p, assumptions: a }: CostInputs, d: Derived): CostLine[] {
  const L = (id: string, service: string, line: string, q: number, price: Price, note: string) =>
    makeLine("monthly", id, service, line, q, price, note);
  const arch = a.lambdaArchitecture.value;
  const gbSecond = p[arch === "arm64" ? "lambdaArmGbSecond" : "lambdaX86GbSecond"];
  const days = DAYS_PER_MONTH;
  const runs = d.runsPerMonth;
  const docSeconds = d.collections.reduce((s, c) => s + c.dailyDocs / c.docsPerSecond, 0) * days;
  const invocations = d.invocationsPerRun * runs;
  const overheadSeconds =
    invocations * a.workerStartSeconds.value + d.dailyWindows * days * a.windowSeconds.value;
  const plan = a.plan.value;
  const sum = a.summarize.value;
  const rec = a.reconcile.value;
  const requests = invocations + 3 * runs;
  const db = a.supportDatabase.value;
  const growth = a.monthsOfGrowth.value * days;
  const rawRetention = a.rawRetentionDays.value;
  // An expired raw object stays `rawNoncurrentDays` more as a version (the bucket is versioned).
  const rawKept = rawRetention + a.rawNoncurrentDays.value;
  const loadShare = loadRawShare(rawKept, growth, days);
  const rawStored = Number.isFinite(rawRetention)
    ? d.rawBytes * loadShare + d.dailyRawBytes * Math.min(growth, rawKept)
    : d.rawBytes + d.dailyRawBytes * growth;
  const curatedStored = d.curatedBytes + d.dailyCuratedBytes * growth;
  const ddc = a.ddcBytes.value;
  const replacedPerDay = ddc.replaceTables * a.postgresLakeOverSource.value * a.runsPerDay.value;
  const keepDays = a.snapshotRetentionDays.value + a.noncurrentDays.value;
  const noncurrent = (d.dailyCuratedBytes * a.compactionRewriteFactor.value + replacedPerDay) * keepDays;
  const part = a.multipartPartBytes.value;
  const rawPuts =
    d.collections.reduce(
      (s, c) =>
        s +
        c.dailyObjects *
          days *
          putRequestsPerObject(
            c.dailyObjects ? (c.dailyBytes * (c.rawBytes / c.volume.bytes)) / c.dailyObjects : 0,
            part,
          ),
      0,
    ) + invocations;
  const rawGets = d.dailyObjects * days * a.rawGetsPerObject.value;
  const buckets = a.curatedBuckets.value;
  const curatedFilesPerRun = Object.values(buckets).reduce((s, b) => s + b.buckets + 4, 0);
  const compactedFiles = (d.dailyCuratedBytes * a.compactionRewriteFactor.value * days) / (128 * 1024 ** 2);
  const curatedPuts = runs * curatedFilesPerRun + compactedFiles;
  const alarm = d.collections.find((c) => c.name === "alarm");
  const alarmCurated =
    (alarm?.curatedBytes ?? 0) +
    (alarm ? alarm.dailyBytes * (alarm.rawBytes / alarm.volume.bytes) * a.curatedOverRaw.value * growth : 0);
  const deviceLakeBytes = 70 * 1024 ** 2 * a.postgresLakeOverSource.value;
  const visualQueries = a.dashboardViewsPerMonth.value * a.visualsPerView.value;
  const visualBytes = athenaBilledBytes(alarmCurated * a.viewColumnShare.value + deviceLakeBytes);
  const alarmFiles = Math.max(1, alarmCurated / (128 * 1024 ** 2));
  const curatedGets = runs * curatedFilesPerRun * 2 + visualQueries * alarmFiles + compactedFiles;
  const adhocBytes = athenaBilledBytes(Math.min(a.athenaBytesScannedLimit.value, a.adhocBytesPerQuery.value));
  const glueRuns = GLUE_JOBS.length * runs;
  const secretCalls = requests * a.secretReadsPerInvocation.value + glueRuns * 2;
  const logs = a.logBytes.value;
  const logsBytes = requests * logs.perLambdaInvocation + glueRuns * logs.perGlueRun + days * logs.rdsPerDay;
  const runHours = Math.max(1, Math.ceil(d.runHours));
  const glueJobHours = GLUE_JOBS.reduce(
    (s, j) => s + Math.max(1, Math.ceil(d.glue.perRun[j].seconds / 3600)),
    0,
  );
  const optimizerDpuHours =
    (gb(d.dailyCuratedBytes) * a.compactionRewriteFactor.value * days) / a.curateGbPerDpuHour.value +
    a.icebergTables.value * days * a.optimizerDpuHoursPerTableDay.value;
  const behind = d.operationsWorkerSeconds.seconds > a.workerUsableSeconds.value;
  // A serverless cluster is awake from a run's first connection until it pauses: the server
  // closes the sessions frozen Lambda containers leave open, then waits for the pause.
  const supportHours =
    db.kind === "serverless" && db.minCapacity === 0
      ? Math.min(
          HOURS_PER_MONTH,
          runs * (d.runHours + (db.idleSessionTimeoutSeconds + db.secondsUntilAutoPause) / 3600),
        )
      : HOURS_PER_MONTH;
  return [
    L(
      "lambda.worker",
      "Lambda",
      "worker duration (documents)",
      lambdaGbSeconds(1, docSeconds, a.workerMemoryMb.value),
      gbSecond,
      `${fmt(docSeconds / 3600)} worker-hours at ${a.workerMemoryMb.value} MB ${arch}; busiest: ${d.operationsWorkerSeconds.collection} ${fmt(d.operationsWorkerSeconds.seconds)} s per worker a run${behind ? " (over the budget: raise its operations workers)" : ""}`,
    ),
    L(
      "lambda.worker-overhead",
      "Lambda",
      "worker start-up and per-window overhead",
      overheadSeconds * (a.workerMemoryMb.value / 1024),
      gbSecond,
      `${fmt(invocations)} invocations, ${fmt(d.dailyWindows * days)} windows`,
    ),
    L(
      "lambda.steps",
      "Lambda",
      "plan, summarize, reconcile",
      lambdaGbSeconds(runs, plan.seconds, plan.memoryMb) +
        lambdaGbSeconds(runs, sum.seconds, sum.memoryMb) +
        lambdaGbSeconds(runs, d.reconcile.perRunSeconds, rec.memoryMb),
      gbSecond,
      `${fmt(runs, 1)} executions; reconcile ${fmt(d.reconcile.perRunSeconds)} s a run${rec.shards > 1 ? ` in ${rec.shards} shards` : ""}`,
    ),
    L(
      "lambda.requests",
      "Lambda",
      "requests",
      requests / 1e6,
      p.lambdaRequests,
      `${fmt(requests)} invocations`,
    ),
    L(
      "sfn.transitions",
      "Step Functions",
      "state transitions",
      (runs * transitionsPerExecution(d.invocationsPerRun, a.reconcile.value.shards)) / 1000,
      p.stepFunctionsTransitions,
      `${fmt(runs, 1)} executions × ${transitionsPerExecution(d.invocationsPerRun, a.reconcile.value.shards)} transitions (${d.invocationsPerRun} workers)`,
    ),
    ...GLUE_JOBS.map((job) => {
      const g = d.glue.perRun[job];
      return L(
        `glue.${job}`,
        "Glue",
        GLUE_JOB_NAMES[job],
        g.dpuHours * runs,
        p.glueDpuHour,
        `${fmt(runs, 1)} runs × ${glueSize(a, job)} × ${fmt(g.seconds / 60, 1)} min (${a.glueFixedMinutes.value[job]} min fixed)`,
      );
    }),
    L(
      "glue.optimizers",
      "Glue",
      "table optimizers",
      optimizerDpuHours,
      p.glueOptimizerDpuHour,
      `compaction of ${fmt(gb(d.dailyCuratedBytes), 1)} GB a day; retention and orphan runs on ${a.icebergTables.value} tables`,
    ),
    L(
      "s3.raw-storage",
      "S3",
      "raw layer storage",
      gb(rawStored),
      p.s3StandardGbMonth,
      Number.isFinite(rawRetention)
        ? `expire after ${rawRetention} days, versions ${a.rawNoncurrentDays.value} more; the load's objects ${loadShare >= 1 ? "all month" : loadShare > 0 ? `${fmt(loadShare * 100)} % of the month` : "gone"}`
        : `kept for ever; + ${fmt(gb(d.dailyRawBytes * days))} GB a month`,
    ),
    ...curatedStorageLines(L, p, a, d, curatedStored),
    L(
      "s3.other-storage",
      "S3",
      "postgres and analytics layers, noncurrent versions",
      gb(d.postgresLakeBytes + noncurrent),
      p.s3StandardGbMonth,
      `${fmt(gb(noncurrent))} GB of replaced files kept ${keepDays} days (snapshot retention + noncurrent versions)`,
    ),
    L(
      "s3.raw-put",
      "S3",
      "raw: PUT and LIST requests",
      rawPuts / 1000,
      p.s3PutRequests,
      `${fmt(d.dailyObjects)} objects a day for ${fmt(d.dailyWindows)} windows (a device's day per collection; small ones packed: ADR 0023)`,
    ),
    L(
      "s3.raw-get",
      "S3",
      "raw: GET requests (curate)",
      rawGets / 1000,
      p.s3GetRequests,
      `${a.rawGetsPerObject.value} per object`,
    ),
    ...rawTagLines(L, p, a, d.dailyObjects * days),
    L(
      "s3.curated-put",
      "S3",
      "curated: PUT requests",
      curatedPuts / 1000,
      p.s3PutRequests,
      `${fmt(curatedFilesPerRun)} files a run, compaction's output`,
    ),
    L(
      "s3.curated-get",
      "S3",
      "curated: GET requests (jobs, Athena)",
      curatedGets / 1000,
      p.s3GetRequests,
      "metadata and data files read by the jobs, compaction and the dashboard",
    ),
    L(
      "athena.report",
      "Athena",
      "Alarms report (analytics.*)",
      (a.alarmsReportQueriesPerMonth.value * athenaBilledBytes(0)) / TiB,
      p.athenaTbScanned,
      `${a.alarmsReportQueriesPerMonth.value} queries × the 10 MB minimum (the served tables are tiny)`,
    ),
    L(
      "athena.views",
      "Athena",
      "dashboard on the views (alarm_facts, open_alarms)",
      (visualQueries * visualBytes) / TiB,
      p.athenaTbScanned,
      `${fmt(visualQueries)} visual queries × ${fmt(visualBytes / 1024 ** 2)} MB (half of curated alarm)`,
    ),
    L(
      "athena.adhoc",
      "Athena",
      "analysts' own queries",
      (a.adhocQueriesPerMonth.value * adhocBytes) / TiB,
      p.athenaTbScanned,
      `${a.adhocQueriesPerMonth.value} × ${fmt(gb(adhocBytes), 1)} GB`,
    ),
    ...supportDatabaseLines(L, p, a, {
      hours: supportHours,
      acu: a.supportDbAcu.value.run,
      months: 1,
      usedGb: d.supportDbUsedGb,
      windows: d.dailyWindows * days,
      what: "",
      hoursNote:
        db.kind === "serverless"
          ? db.minCapacity > 0
            ? `never pauses (minCapacity ${db.minCapacity} ACU)`
            : `awake ${fmt(supportHours)} h: each run's ${fmt(d.runHours * 60)} min, then idle sessions closed and a pause (${fmt((db.idleSessionTimeoutSeconds + db.secondsUntilAutoPause) / 60)} min)`
          : "always on",
    }),
    L(
      "vpc.endpoints",
      "VPC",
      "interface endpoints",
      a.interfaceEndpoints.value * a.endpointSubnets.value * HOURS_PER_MONTH,
      p.vpcInterfaceEndpointHour,
      `${a.interfaceEndpoints.value} endpoints × ${a.endpointSubnets.value} AZs × ${HOURS_PER_MONTH} h`,
    ),
    L(
      "vpc.endpoint-data",
      "VPC",
      "interface endpoint data",
      gb(logsBytes) * 1.1,
      p.vpcInterfaceEndpointGb,
      "logs, metrics and secrets through the endpoints (S3 goes through the free gateway)",
    ),
    L(
      "secrets.storage",
      "Secrets Manager",
      "secrets",
      a.secrets.value,
      p.secretsManagerSecretMonth,
      `${a.secrets.value} secrets`,
    ),
    L(
      "secrets.calls",
      "Secrets Manager",
      "API calls",
      secretCalls / 10_000,
      p.secretsManagerApiCalls,
      `${fmt(secretCalls)} calls`,
    ),
    L(
      "kms.keys",
      "KMS",
      "customer managed keys",
      0,
      p.kmsKeyMonth,
      "none: S3, RDS and Secrets Manager use AWS managed keys",
    ),
    L(
      "kms.requests",
      "KMS",
      "requests (S3 bucket keys, secrets)",
      ((rawPuts + rawGets + curatedPuts + curatedGets) * a.s3KmsRequestShare.value + secretCalls) / 10_000,
      p.kmsRequests,
      `${a.s3KmsRequestShare.value * 100} % of S3 requests reach KMS with bucket keys`,
    ),
    L(
      "cloudwatch.logs",
      "CloudWatch",
      "logs ingested",
      gb(logsBytes),
      p.cloudwatchLogsIngestGb,
      `${fmt(requests)} invocations, ${fmt(glueRuns)} Glue runs, the support database's log`,
    ),
    L(
      "cloudwatch.log-storage",
      "CloudWatch",
      "logs stored",
      gb(logsBytes) * a.logStorageRatio.value * (a.logRetentionDays.value / days),
      p.cloudwatchLogsStorageGbMonth,
      `${a.logRetentionDays.value} days kept, compressed`,
    ),
    L(
      "cloudwatch.metrics",
      "CloudWatch",
      "custom metrics (EMF, Glue job metrics)",
      (a.customMetrics.value * runHours * runs + a.glueMetricsPerJob.value * glueJobHours * runs) /
        BILLING.metricHoursPerMonth.value,
      p.cloudwatchMetricMonth,
      `${a.customMetrics.value} EMF metrics for ${runHours} h a run; prorated by the hour`,
    ),
    L(
      "cloudwatch.alarms",
      "CloudWatch",
      "alarms",
      a.alarms.value,
      p.cloudwatchAlarmMonth,
      `${a.alarms.value} alarms`,
    ),
  ];
}

type LineMaker = (
  id: string,
  service: string,
  line: string,
  q: number,
  price: Price,
  note: string,
) => CostLine;

/**
 * Curated storage: S3 Standard, or Intelligent-Tiering by age (a month's new data frequent, the
 * two months before infrequent, the rest archive-instant; curated alarm stays frequent because the
 * dashboard reads it all), plus Intelligent-Tiering's per-object monitoring.
 */
function curatedStorageLines(
  L: LineMaker,
  p: PriceBook,
  a: Assumptions,
  d: Derived,
  stored: number,
): CostLine[] {
  const growth = `+ ${fmt(gb(d.dailyCuratedBytes * DAYS_PER_MONTH))} GB a month`;
  if (a.curatedStorageClass.value === "STANDARD")
    return [L("s3.curated-storage", "S3", "curated layer storage", gb(stored), p.s3StandardGbMonth, growth)];
  // Tiers by age: Intelligent-Tiering moves an object after 30 days unread, again after 90. The
  // load's files are all as old as the month modelled is late (`age`, days at mid-month);
  // curated alarm stays frequent (the dashboard reads it), so do the newest days.
  const alarm = d.collections.find((c) => c.name === "alarm")?.curatedBytes ?? 0;
  const age = a.monthsOfGrowth.value * DAYS_PER_MONTH;
  const load = Math.max(0, stored - d.dailyCuratedBytes * age - alarm);
  const newer = (from: number, to: number) => d.dailyCuratedBytes * Math.max(0, Math.min(age, to) - from);
  const frequent = alarm + (age < 30 ? load : 0) + newer(0, 30);
  const infrequent = (age >= 30 && age < 90 ? load : 0) + newer(30, 90);
  const archive = Math.max(0, stored - frequent - infrequent);
  const files = stored / (128 * 1024 ** 2);
  return [
    L(
      "s3.curated-storage",
      "S3",
      "curated layer storage (frequent tier)",
      gb(frequent),
      p.s3StandardGbMonth,
      growth,
    ),
    L(
      "s3.curated-storage-ia",
      "S3",
      "curated layer storage (infrequent tier)",
      gb(infrequent),
      p.s3IntelligentInfrequentGbMonth,
      "Intelligent-Tiering: not read for 30 days",
    ),
    L(
      "s3.curated-storage-archive",
      "S3",
      "curated layer storage (archive instant tier)",
      gb(archive),
      p.s3IntelligentArchiveInstantGbMonth,
      "Intelligent-Tiering: not read for 90 days",
    ),
    L(
      "s3.curated-monitoring",
      "S3",
      "Intelligent-Tiering monitoring",
      files / 1000,
      p.s3IntelligentMonitoring,
      `${fmt(files)} files of ~128 MiB`,
    ),
  ];
}

/** A phase total: the sum of its lines. */
export function total(lines: readonly CostLine[]): number {
  return lines.reduce((s, l) => s + l.cost, 0);
}
