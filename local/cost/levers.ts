/**
 * What would lower the cost, and how much the cost depends on what is not measured: each lever and
 * each sensitivity is the model run again with some assumptions changed, so every saving is
 * computed from the same lines, never asserted.
 */
import {
  type Assumption,
  type Assumptions,
  INFRA,
  SERVERLESS_IOS_PER_OBJECT,
  serverlessAcu,
} from "./assumptions.js";
import { derive, GLUE_JOBS } from "./derive.js";
import { type CostInputs, costLines, type Phase, total } from "./lines.js";
import { INFRA_DEFAULTS } from "./stack.js";

/** A change that would lower the cost: the model run again with some assumptions changed. */
export interface Lever {
  readonly id: string;
  /** Line ids it acts on. */
  readonly lines: readonly string[];
  readonly what: string;
  /** The changed inputs, or undefined when the lever does not apply (already done). */
  readonly apply: (inputs: CostInputs) => CostInputs | undefined;
}

const withValue = <T>(x: Assumption<T>, value: T): Assumption<T> => ({
  ...x,
  value,
  source: `lever: ${x.source}`,
});
const changed = (inputs: CostInputs, patch: Partial<Assumptions>): CostInputs => ({
  prices: inputs.prices,
  assumptions: { ...inputs.assumptions, ...patch },
});

/** The levers the report weighs, each tied to the lines it lowers. */
/**
 * Raw as staging (ADR 0024; Pulumi.prod.yaml sets these): what the curate job has read expires a
 * week after its writing, and a deleted object stays 3 days as a version (a weekend to restore
 * what a failing curate names; anything later is re-extracted from the source).
 */
export const RAW_STAGING_DAYS = { objects: 7, versions: 3 } as const;

export const LEVERS: readonly Lever[] = [
  {
    id: "glue-flex-initial",
    lines: ["glue.postgresExtract", "glue.curate", "glue.analytics"],
    what: "run the initial load's Glue jobs with the Flex execution class (executionClass FLEX: spare capacity, no start-time guarantee, fine for a one-off load)",
    apply: (i) =>
      i.assumptions.glueFlexForInitialLoad.value
        ? undefined
        : changed(i, { glueFlexForInitialLoad: withValue(i.assumptions.glueFlexForInitialLoad, true) }),
  },
  {
    id: "fewer-executions",
    lines: ["glue.postgresExtract", "glue.curate", "glue.analytics", "lambda.steps", "sfn.transitions"],
    what: "give the slowest collection more bulk workers (functions.workers.bulk) so the load takes half the executions: every execution pays each Glue job's fixed minutes",
    apply: (i) => {
      const d = derive(i.assumptions);
      const slow = [...d.collections].sort((x, y) => y.executions - x.executions)[0];
      if (!slow || d.executions <= 1) return undefined;
      const bulk = { ...i.assumptions.bulkWorkers.value };
      for (const c of d.collections)
        if (c.executions > Math.ceil(d.executions / 2)) bulk[c.name] = Math.min(1000, c.bulkWorkers * 2);
      return changed(i, { bulkWorkers: withValue(i.assumptions.bulkWorkers, bulk) });
    },
  },
  {
    id: "worker-memory",
    lines: ["lambda.worker", "lambda.worker-overhead"],
    what: "halve the worker's memory (its heap is capped at 128 MiB and it waits on MongoDB; the same docs/s assumed: measure it)",
    apply: (i) => {
      const mb = i.assumptions.workerMemoryMb.value;
      return mb <= 1024
        ? undefined
        : changed(i, { workerMemoryMb: withValue(i.assumptions.workerMemoryMb, mb / 2) });
    },
  },
  {
    id: "arm64",
    lines: ["lambda.worker", "lambda.worker-overhead", "lambda.steps"],
    what: "run the functions on arm64 (Graviton: 20 % less per GB-second)",
    apply: (i) =>
      i.assumptions.lambdaArchitecture.value === "arm64"
        ? undefined
        : changed(i, { lambdaArchitecture: withValue(i.assumptions.lambdaArchitecture, "arm64" as const) }),
  },
  {
    id: "glue-small",
    lines: ["glue.postgresExtract", "glue.curate", "glue.analytics"],
    what: "size the Glue jobs for their work: 2 G.1X workers (or Glue auto scaling); every run's fixed minutes are billed on every DPU, and a run's increment is small",
    apply: (i) => {
      const dpus = i.assumptions.glueDpus.value;
      const small = { postgresExtract: 2, curate: 2, analytics: 2 };
      if (GLUE_JOBS.every((j) => dpus[j] <= small[j])) return undefined;
      return changed(i, {
        glueDpus: withValue(i.assumptions.glueDpus, {
          postgresExtract: Math.min(dpus.postgresExtract, 2),
          curate: Math.min(dpus.curate, 2),
          analytics: Math.min(dpus.analytics, 2),
        }),
      });
    },
  },
  {
    id: "rds-smaller",
    lines: ["rds.instance", "rds.storage"],
    what: "make the support database Single-AZ db.t4g.medium (it holds bookmarks and the ledger; a restore from its daily backup loses at most a run, which the next run redoes)",
    apply: (i) => {
      const db = i.assumptions.supportDatabase.value;
      if (db.kind !== "instance") return undefined;
      if (!db.multiAz && ["db.t4g.micro", "db.t4g.small", "db.t4g.medium"].includes(db.instanceClass))
        return undefined;
      return changed(i, {
        supportDatabase: withValue(i.assumptions.supportDatabase, {
          ...db,
          instanceClass: "db.t4g.medium",
          multiAz: false,
        }),
      });
    },
  },
  {
    id: "support-db-serverless",
    lines: ["rds.instance", "rds.storage"],
    what: "make the support database Aurora Serverless v2 that pauses between runs (supportDatabase.kind: serverless, ADR 0021): between runs only its storage bills",
    apply: (i) => {
      if (i.assumptions.supportDatabase.value.kind === "serverless") return undefined;
      const serverless = {
        kind: "serverless" as const,
        minCapacity: INFRA_DEFAULTS.supportDbMinAcu,
        maxCapacity: INFRA_DEFAULTS.supportDbMaxAcu,
        secondsUntilAutoPause: INFRA_DEFAULTS.supportDbSecondsUntilAutoPause,
        idleSessionTimeoutSeconds: INFRA_DEFAULTS.supportDbIdleSessionTimeoutSeconds,
      };
      return changed(i, {
        supportDatabase: withValue(i.assumptions.supportDatabase, serverless),
        supportDbAcu: withValue(i.assumptions.supportDbAcu, serverlessAcu(serverless.maxCapacity)),
        supportDbIosPerObject: withValue(i.assumptions.supportDbIosPerObject, SERVERLESS_IOS_PER_OBJECT),
      });
    },
  },
  {
    id: "fewer-endpoints",
    lines: ["vpc.endpoints", "cloudwatch.metrics"],
    what: "turn off Glue's job metrics (glue.metrics: false): the monitoring interface endpoint serves only them and is not created (the jobs' logs and the pipeline's alarms stay)",
    apply: (i) =>
      i.assumptions.glueMetricsPerJob.value === 0
        ? undefined
        : changed(i, {
            glueMetricsPerJob: withValue(i.assumptions.glueMetricsPerJob, 0),
            interfaceEndpoints: withValue(
              i.assumptions.interfaceEndpoints,
              INFRA.interfaceEndpoints.withoutGlueMetrics,
            ),
          }),
  },
  {
    id: "curated-intelligent-tiering",
    lines: ["s3.curated-storage"],
    what: "store curated in S3 Intelligent-Tiering: its files are ~128 MiB (a negligible monitoring fee) and old partitions are rarely read",
    apply: (i) =>
      i.assumptions.curatedStorageClass.value === "INTELLIGENT_TIERING"
        ? undefined
        : changed(i, {
            curatedStorageClass: withValue(i.assumptions.curatedStorageClass, "INTELLIGENT_TIERING" as const),
          }),
  },
  {
    id: "endpoints-two-azs",
    lines: ["vpc.endpoints"],
    what: "place the interface endpoints in two subnets instead of every subnet (they stay reachable from all AZs through private DNS)",
    apply: (i) =>
      i.assumptions.endpointSubnets.value <= 2
        ? undefined
        : changed(i, { endpointSubnets: withValue(i.assumptions.endpointSubnets, 2) }),
  },
  {
    id: "raw-expiry",
    lines: ["s3.raw-storage"],
    what: `expire the raw objects the curate job has read ${RAW_STAGING_DAYS.objects} days after they are written and keep them ${RAW_STAGING_DAYS.versions} more as versions (retention.rawCuratedDays, rawNoncurrentDays): curated is the record, and reconcile's repair re-extracts from the source`,
    apply: (i) => {
      const { rawRetentionDays: days, rawNoncurrentDays: versions } = i.assumptions;
      return days.value <= RAW_STAGING_DAYS.objects && versions.value <= RAW_STAGING_DAYS.versions
        ? undefined
        : changed(i, {
            rawRetentionDays: withValue(days, Math.min(days.value, RAW_STAGING_DAYS.objects)),
            rawNoncurrentDays: withValue(versions, Math.min(versions.value, RAW_STAGING_DAYS.versions)),
          });
    },
  },
  {
    id: "every-other-day",
    lines: [
      "s3.raw-put",
      "s3.raw-get",
      "glue.postgresExtract",
      "glue.curate",
      "glue.analytics",
      "lambda.worker-overhead",
    ],
    what: "run the pipeline every other day: one window per device and collection covers two days, and each Glue job's fixed minutes are paid half as often (data a day older)",
    apply: (i) =>
      i.assumptions.runsPerDay.value <= 0.5
        ? undefined
        : changed(i, { runsPerDay: withValue(i.assumptions.runsPerDay, i.assumptions.runsPerDay.value / 2) }),
  },
];

export interface LeverResult {
  readonly id: string;
  readonly what: string;
  /** Phase total before minus after. */
  readonly saving: number;
}

/** What each applicable lever saves on a phase's total, largest saving first. */
export function leverSavings(inputs: CostInputs, phase: Phase, lineId?: string): LeverResult[] {
  const before = total(costLines(inputs, phase));
  return LEVERS.filter((l) => lineId === undefined || l.lines.includes(lineId))
    .map((l) => {
      const after = l.apply(inputs);
      return after ? { id: l.id, what: l.what, saving: before - total(costLines(after, phase)) } : undefined;
    })
    .filter((r): r is LeverResult => r !== undefined && r.saving > 0.005)
    .sort((x, y) => y.saving - x.saving);
}

/**
 * Inputs with every lever applied, in order, that lowers the phase's total on top of those before
 * it: a lever for the month (small Glue jobs) can lengthen the load, which a support database
 * billed by the hour pays for.
 */
export function withEveryLever(inputs: CostInputs, phase: Phase): CostInputs {
  return LEVERS.reduce((i, l) => {
    const after = l.apply(i);
    return after && total(costLines(after, phase)) < total(costLines(i, phase)) ? after : i;
  }, inputs);
}

/** An uncertain input, scaled to see how much the totals depend on it. */
export interface Sensitivity {
  readonly id: string;
  readonly what: string;
  readonly scale: (inputs: CostInputs, factor: number) => CostInputs;
}

const scaled = (x: Assumption, f: number): Assumption => ({ ...x, value: x.value * f });

/** The inputs nothing here measures at production scale. */
export const SENSITIVITIES: readonly Sensitivity[] = [
  {
    id: "worker-rate",
    what: "the worker's documents/s against production MongoDB",
    scale: (i, f) =>
      changed(i, {
        rates: {
          ...i.assumptions.rates,
          value: Object.fromEntries(
            Object.entries(i.assumptions.rates.value).map(([n, r]) => [
              n,
              { ...r, docsPerSecond: r.docsPerSecond * f },
            ]),
          ),
        },
      }),
  },
  {
    id: "glue-fixed",
    what: "the Glue jobs' fixed minutes per run",
    scale: (i, f) =>
      changed(i, {
        glueFixedMinutes: {
          ...i.assumptions.glueFixedMinutes,
          value: Object.fromEntries(
            Object.entries(i.assumptions.glueFixedMinutes.value).map(([k, v]) => [k, v * f]),
          ) as Assumptions["glueFixedMinutes"]["value"],
        },
      }),
  },
  {
    id: "glue-throughput",
    what: "the Glue jobs' GB per DPU-hour",
    scale: (i, f) =>
      changed(i, {
        curateGbPerDpuHour: scaled(i.assumptions.curateGbPerDpuHour, f),
        extractGbPerDpuHour: scaled(i.assumptions.extractGbPerDpuHour, f),
      }),
  },
  {
    id: "devices",
    what: "the fleet and its devices reporting a day",
    scale: (i, f) =>
      changed(i, {
        fleetDevices: scaled(i.assumptions.fleetDevices, f),
        activeDevicesPerDay: scaled(i.assumptions.activeDevicesPerDay, f),
      }),
  },
  {
    id: "raw-bytes",
    what: "raw Parquet bytes per source byte",
    scale: (i, f) =>
      changed(i, {
        rates: {
          ...i.assumptions.rates,
          value: Object.fromEntries(
            Object.entries(i.assumptions.rates.value).map(([n, r]) => [
              n,
              { ...r, rawOverSource: r.rawOverSource * f },
            ]),
          ),
        },
      }),
  },
  {
    id: "daily-volume",
    what: "today's daily volume (the growth factor)",
    scale: (i, f) => changed(i, { growthFactor: scaled(i.assumptions.growthFactor, f) }),
  },
  {
    id: "reconcile-rates",
    what: "reconcile's seconds per device-day and increment read rate",
    scale: (i, f) =>
      changed(i, {
        reconcileSecondsPerDeviceDay: scaled(i.assumptions.reconcileSecondsPerDeviceDay, f),
        reconcileIncrementDocsPerSecond: scaled(i.assumptions.reconcileIncrementDocsPerSecond, 1 / f),
      }),
  },
  {
    id: "window-overhead",
    what: "the worker's seconds per window",
    scale: (i, f) => changed(i, { windowSeconds: scaled(i.assumptions.windowSeconds, f) }),
  },
];

export interface SensitivityRow {
  readonly id: string;
  readonly what: string;
  /** Phase totals with the input halved and doubled. */
  readonly half: Readonly<Record<Phase, number>>;
  readonly double: Readonly<Record<Phase, number>>;
}

/** Each uncertain input halved and doubled, the rest unchanged. */
export function sensitivities(inputs: CostInputs): SensitivityRow[] {
  const totals = (i: CostInputs) => ({
    initial: total(costLines(i, "initial")),
    monthly: total(costLines(i, "monthly")),
  });
  return SENSITIVITIES.map((s) => ({
    id: s.id,
    what: s.what,
    half: totals(s.scale(inputs, 0.5)),
    double: totals(s.scale(inputs, 2)),
  }));
}
