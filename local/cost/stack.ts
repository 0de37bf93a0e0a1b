/**
 * The deployment's settings the cost model needs, read from `Pulumi.<stack>.yaml` with the `yaml`
 * package and checked by zod. infra/config.ts is not imported: it loads `@pulumi/pulumi`, and its
 * parser refuses the shipped placeholders (ids, the QuickSight principal) and needs the secret
 * connections, none of which change a price. So this is a subset of `StackConfigSchema`, reading
 * only what costs money; tests/unit/cost-model.test.ts checks it against infra/config.ts
 * (the worker types it knows, and the defaults it repeats: {@link INFRA_DEFAULTS}).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { CostInputError } from "./errors.js";

export const STACKS = ["dev", "prod"] as const;
export type StackName = (typeof STACKS)[number];

/**
 * infra/config.ts `DEFAULTS` the model needs when a stack file leaves them out; repeated here
 * because that module loads Pulumi (the cost test compares the two).
 */
export const INFRA_DEFAULTS = {
  reconcileMemoryMb: 1024,
  reconcileTimeoutSeconds: 900,
  glueTimeoutMinutes: 240,
  noncurrentDays: 30,
  snapshotRetentionDays: 7,
  queryResultsDays: 30,
  supportDbMinAcu: 0,
  supportDbMaxAcu: 4,
  supportDbSecondsUntilAutoPause: 300,
  supportDbIdleSessionTimeoutSeconds: 600,
} as const;

const count = (min: number) => z.coerce.number().int().min(min);
const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);
const Size = z.object({ memoryMb: count(128), timeoutSeconds: count(1) });
const Workers = z.record(z.string(), count(1));

/** The support database as it bills: an RDS instance by the hour, or Aurora Serverless v2 by use. */
export type SupportDatabaseSettings =
  | {
      readonly kind: "instance";
      readonly instanceClass: string;
      readonly allocatedStorageGb: number;
      readonly multiAz: boolean;
    }
  | {
      readonly kind: "serverless";
      readonly minCapacity: number;
      readonly maxCapacity: number;
      readonly secondsUntilAutoPause: number;
      readonly idleSessionTimeoutSeconds: number;
    };

/** The part of a stack file that costs money, keyed as the file writes it. */
export const CostStackSchema = z.object({
  "aws:region": z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as eu-west-1"),
  "oven-lakehouse:environment": z.enum(STACKS),
  "oven-lakehouse:subnetIds": z.array(z.string()).min(2),
  "oven-lakehouse:endpointSubnetIds": z.array(z.string()).min(1).optional(),
  "oven-lakehouse:supportDatabase": z.preprocess(
    (v) => (v && typeof v === "object" && !("kind" in v) ? { ...v, kind: "instance" } : v),
    z.discriminatedUnion("kind", [
      z.object({
        kind: z.literal("instance"),
        instanceClass: z.string(),
        allocatedStorageGb: count(20),
        backupRetentionDays: count(0),
        multiAz: flag,
      }),
      z.object({
        kind: z.literal("serverless"),
        minCapacity: z.coerce.number().min(0).default(INFRA_DEFAULTS.supportDbMinAcu),
        maxCapacity: z.coerce.number().min(1).default(INFRA_DEFAULTS.supportDbMaxAcu),
        secondsUntilAutoPause: count(300).default(INFRA_DEFAULTS.supportDbSecondsUntilAutoPause),
        idleSessionTimeoutSeconds: count(60).default(INFRA_DEFAULTS.supportDbIdleSessionTimeoutSeconds),
        backupRetentionDays: count(0),
      }),
    ]),
  ),
  "oven-lakehouse:functions": z.object({
    plan: Size,
    worker: Size,
    summarize: Size,
    reconcile: Size.default({
      memoryMb: INFRA_DEFAULTS.reconcileMemoryMb,
      timeoutSeconds: INFRA_DEFAULTS.reconcileTimeoutSeconds,
    }),
    windowDays: count(1),
    safetyMarginSeconds: count(0),
    workers: z.object({ bulk: Workers.optional(), operations: Workers.optional() }).default({}),
    packs: z
      .union([
        z.literal(false),
        z.object({ windowBytes: count(0), bytes: count(1), windows: count(1) }).partial(),
      ])
      .optional(),
  }),
  "oven-lakehouse:orchestration": z.object({
    mapConcurrency: count(1),
    reconcileShards: count(1).default(1),
    scheduleExpression: z.string(),
  }),
  "oven-lakehouse:glue": z.object({
    workerType: z.enum(["G.1X", "G.2X", "G.4X", "G.8X"]),
    postgresExtractWorkers: count(2),
    curateWorkers: count(2),
    analyticsWorkers: count(2),
    timeoutMinutes: count(1).default(INFRA_DEFAULTS.glueTimeoutMinutes),
    autoScaling: flag.default(true),
    metrics: flag.default(true),
  }),
  "oven-lakehouse:logRetentionDays": count(1),
  "oven-lakehouse:athenaBytesScannedLimit": count(10_485_760),
  "oven-lakehouse:quicksightQTopic": flag.default(false),
  "oven-lakehouse:retention": z
    .object({
      noncurrentDays: count(1).default(INFRA_DEFAULTS.noncurrentDays),
      snapshotRetentionDays: count(1).default(INFRA_DEFAULTS.snapshotRetentionDays),
      queryResultsDays: count(1).default(INFRA_DEFAULTS.queryResultsDays),
      rawDays: count(1).optional(),
      rawCuratedDays: count(1).optional(),
      rawNoncurrentDays: count(1).optional(),
    })
    .default({
      noncurrentDays: INFRA_DEFAULTS.noncurrentDays,
      snapshotRetentionDays: INFRA_DEFAULTS.snapshotRetentionDays,
      queryResultsDays: INFRA_DEFAULTS.queryResultsDays,
    }),
  /** Secrets (`pulumi config set --secret`): only whether they are set matters here. */
  "oven-lakehouse:productionDdcConnection": z.unknown().optional(),
  "oven-lakehouse:productionMongodbConnection": z.unknown().optional(),
});

/** What the cost model reads of a stack, with the file it came from. */
export interface StackSettings {
  readonly stack: StackName;
  readonly file: string;
  readonly region: string;
  /** Private subnets (AZs): where the functions and the sources' traffic are. */
  readonly subnets: number;
  /** Subnets of the interface endpoints: each endpoint has one network interface in each. */
  readonly endpointSubnets: number;
  readonly supportDatabase: SupportDatabaseSettings & { readonly backupRetentionDays: number };
  readonly functions: {
    readonly plan: { readonly memoryMb: number; readonly timeoutSeconds: number };
    readonly worker: { readonly memoryMb: number; readonly timeoutSeconds: number };
    readonly summarize: { readonly memoryMb: number; readonly timeoutSeconds: number };
    readonly reconcile: { readonly memoryMb: number; readonly timeoutSeconds: number };
    readonly windowDays: number;
    readonly safetyMarginSeconds: number;
    readonly workers: {
      readonly bulk?: Readonly<Record<string, number>>;
      readonly operations?: Readonly<Record<string, number>>;
    };
    /** functions.packs: overrides of the pack limits, or false (no packs); unset: the code's. */
    readonly packs?:
      | false
      | { readonly windowBytes?: number; readonly bytes?: number; readonly windows?: number };
  };
  readonly mapConcurrency: number;
  /** Reconcile's shards: functions at once in each execution's Reconcile stage. */
  readonly reconcileShards: number;
  readonly scheduleExpression: string;
  readonly glue: {
    readonly workerType: "G.1X" | "G.2X" | "G.4X" | "G.8X";
    readonly postgresExtractWorkers: number;
    readonly curateWorkers: number;
    readonly analyticsWorkers: number;
    /** Glue auto scaling: the workers are each job's maximum. */
    readonly autoScaling: boolean;
    /** Glue job metrics: custom metrics, and the monitoring endpoint they need. */
    readonly metrics: boolean;
  };
  readonly logRetentionDays: number;
  readonly athenaBytesScannedLimit: number;
  readonly quicksightQTopic: boolean;
  readonly noncurrentDays: number;
  readonly snapshotRetentionDays: number;
  readonly queryResultsDays: number;
  /** Days raw objects live; undefined: kept. */
  readonly rawDays: number | undefined;
  /** Days raw objects the curate job has tagged live; undefined: `rawDays`. */
  readonly rawCuratedDays: number | undefined;
  /** Days an expired or replaced raw object stays as a version; undefined: `noncurrentDays`. */
  readonly rawNoncurrentDays: number | undefined;
  /** Production connections set: each adds a secret per source. */
  readonly productionSecrets: number;
}

/** The stack file of a stack, at the project root. */
export function stackFile(stack: StackName, root: string = process.cwd()): string {
  return join(root, `Pulumi.${stack}.yaml`);
}

/** Parse a stack file's text. @throws CostInputError naming each bad key. */
export function parseStackSettings(
  stack: StackName,
  text: string,
  file = `Pulumi.${stack}.yaml`,
): StackSettings {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new CostInputError(`${file} is not YAML: ${(error as Error).message}`, {}, { cause: error });
  }
  const config = z.object({ config: z.record(z.string(), z.unknown()) }).safeParse(doc);
  if (!config.success) throw new CostInputError(`${file} has no \`config:\` mapping`);
  const parsed = CostStackSchema.safeParse(config.data.config, {
    error: (issue) => (issue.input === undefined ? "is not set" : undefined),
  });
  if (!parsed.success)
    throw new CostInputError(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
    );
  const c = parsed.data;
  const retention = c["oven-lakehouse:retention"];
  const glue = c["oven-lakehouse:glue"];
  const orchestration = c["oven-lakehouse:orchestration"];
  return Object.freeze({
    stack,
    file,
    region: c["aws:region"],
    subnets: c["oven-lakehouse:subnetIds"].length,
    endpointSubnets: (c["oven-lakehouse:endpointSubnetIds"] ?? c["oven-lakehouse:subnetIds"]).length,
    supportDatabase: c["oven-lakehouse:supportDatabase"],
    functions: c["oven-lakehouse:functions"],
    mapConcurrency: orchestration.mapConcurrency,
    reconcileShards: orchestration.reconcileShards,
    scheduleExpression: orchestration.scheduleExpression,
    glue: {
      workerType: glue.workerType,
      postgresExtractWorkers: glue.postgresExtractWorkers,
      curateWorkers: glue.curateWorkers,
      analyticsWorkers: glue.analyticsWorkers,
      autoScaling: glue.autoScaling,
      metrics: glue.metrics,
    },
    logRetentionDays: c["oven-lakehouse:logRetentionDays"],
    athenaBytesScannedLimit: c["oven-lakehouse:athenaBytesScannedLimit"],
    quicksightQTopic: c["oven-lakehouse:quicksightQTopic"],
    noncurrentDays: retention.noncurrentDays,
    snapshotRetentionDays: retention.snapshotRetentionDays,
    queryResultsDays: retention.queryResultsDays,
    rawDays: retention.rawDays,
    rawCuratedDays: retention.rawCuratedDays,
    rawNoncurrentDays: retention.rawNoncurrentDays,
    productionSecrets:
      (c["oven-lakehouse:productionDdcConnection"] === undefined ? 0 : 1) +
      (c["oven-lakehouse:productionMongodbConnection"] === undefined ? 0 : 1),
  });
}

/** Read and parse `Pulumi.<stack>.yaml`. @throws CostInputError when it is missing or bad. */
export function readStackSettings(stack: StackName, root: string = process.cwd()): StackSettings {
  const file = stackFile(stack, root);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CostInputError(`cannot read ${file}: ${(error as Error).message}`, {}, { cause: error });
  }
  return parseStackSettings(stack, text, `Pulumi.${stack}.yaml`);
}

/**
 * Executions a day of an EventBridge Scheduler expression: `rate(N unit)`, or `cron(...)` whose
 * minute and hour fields are numbers or comma lists (`*` counts every minute or hour). One-time
 * `at(...)` schedules and day-of-month/week restrictions are not modelled: they count as daily.
 */
export function runsPerDay(expression: string): number {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2] ?? "day";
    const perDay = unit.startsWith("minute") ? 1440 : unit.startsWith("hour") ? 24 : 1;
    return perDay / n;
  }
  const cron = /^cron\((\S+)\s+(\S+)\s/.exec(expression.trim());
  if (cron) {
    const values = (field: string, all: number) => (field === "*" ? all : field.split(",").length);
    return values(cron[1] ?? "0", 60) * values(cron[2] ?? "0", 24);
  }
  return 1;
}
