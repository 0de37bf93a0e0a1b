/**
 * The stack's configuration (`Pulumi.<stack>.yaml`), parsed once by zod at program start into a
 * frozen object. Every error names the key as it is written in the stack file
 * (`oven-lakehouse:vpcId is not set`), so a bad stack fails at `pulumi preview`, before any
 * resource is touched. dev and prod differ only in these values.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ConnectionSecretSchema } from "../pipeline/connections/secret.js";
import { MAX_SHARDS } from "../pipeline/reconcile/shard.js";

/** The project name in Pulumi.yaml: the namespace of every key below. */
export const NAMESPACE = "oven-lakehouse";

/** Retention values CloudWatch Logs accepts (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Athena refuses a per-query cutoff below 10 MB. */
export const ATHENA_MIN_BYTES_SCANNED = 10_485_760;

/** Defaults for the values a stack rarely changes; named so the stack files stay short. */
export const DEFAULTS = {
  scheduleTimezone: "UTC",
  supportDbEngineVersion: "16",
  /** Aurora PostgreSQL Serverless v2 (`supportDatabase.kind: serverless`): pauses when idle. */
  supportDbServerlessEngineVersion: "16.6",
  supportDbMinAcu: 0,
  supportDbMaxAcu: 4,
  supportDbSecondsUntilAutoPause: 300,
  supportDbIdleSessionTimeoutSeconds: 600,
  quarantineDays: 90,
  tempDays: 7,
  queryResultsDays: 30,
  snapshotRetentionDays: 7,
  snapshotsToRetain: 5,
  orphanFileRetentionDays: 3,
  /** Merge tables (ddc `device`) keep Iceberg snapshots this long: their history is time travel. */
  historyDays: 1825,
  /** Deleted or overwritten lake data stays recoverable this long (versioned buckets). */
  noncurrentDays: 30,
  glueTimeoutMinutes: 240,
  /** Below a daily schedule's period, so an execution ends before the next one is due. */
  executionTimeoutHours: 20,
  /** A daily pipeline with a couple of hours' slack. */
  maxHoursWithoutSuccess: 26,
  /** Free storage below this share of the allocated storage alarms. */
  supportDbFreeStoragePercent: 20,
  supportDbCpuPercent: 80,
  /** A serverless cluster at its maximum capacity this long is short of capacity. */
  supportDbCapacityPercent: 90,
  /**
   * The reconcile function (docs/design.md §7): counts per collection, device and day, and a
   * first full run over the whole history; Lambda's longest timeout.
   */
  reconcileMemoryMb: 1024,
  reconcileTimeoutSeconds: 900,
} as const;

// Pulumi hands every value over as a string: scalars as written, objects and lists as JSON.
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);
/** An RDS PostgreSQL instance, billed by the hour whether it works or not. */
const SupportInstanceSchema = z.object({
  kind: z.literal("instance"),
  instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS class such as db.t4g.micro"),
  allocatedStorageGb: int(20, 65_536),
  backupRetentionDays: int(1, 35),
  multiAz: flag,
  engineVersion: z.string().default(DEFAULTS.supportDbEngineVersion),
});

/** The first Aurora PostgreSQL minor version of each major that scales to 0 ACU (pauses). */
const AUTO_PAUSE_FROM: Readonly<Record<string, number>> = { 13: 15, 14: 12, 15: 7, 16: 3 };

function pausesAt(version: string): boolean {
  const [major = "", minor = ""] = version.split(".");
  const from = AUTO_PAUSE_FROM[major];
  return from !== undefined ? Number(minor) >= from : Number(major) > 16;
}

/** Aurora Serverless v2 capacity: 0 to 256 ACU in steps of 0.5 (RDS ServerlessV2ScalingConfiguration). */
const acu = z.coerce
  .number()
  .min(0)
  .max(256)
  .refine((v) => Number.isInteger(v * 2), "must be a multiple of 0.5 ACU");

/**
 * An Aurora PostgreSQL Serverless v2 cluster of one writer. With `minCapacity: 0` it pauses after
 * `secondsUntilAutoPause` without connections and resumes on the next connection (about 15 s,
 * longer after a day paused), so between daily runs only its storage bills. Sessions idle longer
 * than `idleSessionTimeoutSeconds` are closed by the server: a frozen Lambda container's pooled
 * connection would otherwise keep the cluster awake.
 */
const SupportServerlessSchema = z
  .object({
    kind: z.literal("serverless"),
    minCapacity: acu.default(DEFAULTS.supportDbMinAcu),
    maxCapacity: acu.default(DEFAULTS.supportDbMaxAcu),
    secondsUntilAutoPause: int(300, 86_400).default(DEFAULTS.supportDbSecondsUntilAutoPause),
    idleSessionTimeoutSeconds: int(60, 86_400).default(DEFAULTS.supportDbIdleSessionTimeoutSeconds),
    backupRetentionDays: int(1, 35),
    engineVersion: z
      .string()
      .regex(/^\d+\.\d+$/, "must be an Aurora PostgreSQL version such as 16.6")
      .default(DEFAULTS.supportDbServerlessEngineVersion),
  })
  .refine((db) => db.maxCapacity >= Math.max(db.minCapacity, 1), {
    message: "must be at least minCapacity and at least 1 ACU",
    path: ["maxCapacity"],
  })
  .refine((db) => db.minCapacity > 0 || pausesAt(db.engineVersion), {
    message: `is too old to pause (minCapacity 0): auto-pause needs Aurora PostgreSQL ${Object.entries(
      AUTO_PAUSE_FROM,
    )
      .map(([major, minor]) => `${major}.${minor}`)
      .join(", ")} or later in its major version`,
    path: ["engineVersion"],
  });

export type SupportDatabaseConfig =
  | z.infer<typeof SupportInstanceSchema>
  | z.infer<typeof SupportServerlessSchema>;

/**
 * Example values that are well-formed but cannot be real: the stack files ship with them, and
 * `pulumi up` must refuse them rather than fail at the first AWS call (or, worse, succeed
 * against someone else's resources).
 */
export function isPlaceholderId(hex: string): boolean {
  return (
    /0123456789abcdef|fedcba9876543210|0123456789|9876543210/.test(hex) ||
    /^(.)\1+$/.test(hex) ||
    /^0+[0-9a-f]?$/.test(hex)
  );
}

/** AWS's documentation account ids, and digit runs like them. */
export const PLACEHOLDER_ACCOUNTS: ReadonlySet<string> = new Set([
  "123456789012",
  "210987654321",
  "111111111111",
  "000000000000",
  "999999999999",
]);

/** Domains reserved for examples (RFC 2606): an alarm sent there reaches nobody. */
const EXAMPLE_DOMAIN = /@(.+\.)?example\.(com|org|net)$/i;

const id = (prefix: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), `must look like ${prefix}-0a1b2c3d4e5f67890`)
    .refine((v) => !isPlaceholderId(v.slice(prefix.length + 1)), {
      message: `is a placeholder: set the real id with \`pulumi config set\``,
    });

/** An IPv4 CIDR block of a source's network (never the whole internet). */
const cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|3[0-2])$/, "must be an IPv4 CIDR block such as 10.20.0.0/16")
  .refine(
    (v) =>
      v
        .split("/")[0]
        ?.split(".")
        .every((o) => Number(o) <= 255),
    "has an octet above 255",
  )
  .refine((v) => !v.endsWith("/0"), "must name the source's network, not every address");

/** Where a source database is: CIDR blocks or managed prefix lists (`pl-...`). */
const SourceNetwork = z
  .object({
    cidrs: z.array(cidr).default([]),
    prefixListIds: z.array(z.string().regex(/^pl-[0-9a-f]{8,17}$/, "must look like pl-0a1b2c3d")).default([]),
  })
  .refine((n) => n.cidrs.length + n.prefixListIds.length > 0, "needs at least one CIDR block or prefix list");

const FunctionSize = z.object({
  memoryMb: int(128, 10_240),
  timeoutSeconds: int(1, 900),
});

const Workers = z.record(z.string(), z.int().min(1).max(1000));

export const StackConfigSchema = z.object({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as eu-west-1"),
  environment: z.enum(["dev", "prod"]),
  vpcId: id("vpc"),
  /** Private subnets for the functions, the Glue connections and RDS (two AZs at least). */
  subnetIds: z.array(id("subnet")).min(2, "needs at least two subnets (RDS spans two AZs)"),
  /**
   * Subnets of the interface endpoints (Secrets Manager, CloudWatch Logs and monitoring, Glue):
   * some of `subnetIds`, default all. Each endpoint bills an hour per subnet; functions in the
   * other subnets reach it across AZs through its private DNS name.
   */
  endpointSubnetIds: z.array(id("subnet")).min(1).optional(),
  /** Route tables of those subnets: the S3 gateway endpoint adds its route to them. */
  routeTableIds: z.array(id("rtb")).min(1),
  /**
   * The support database: an RDS PostgreSQL instance (`kind: instance`, the default) or an Aurora
   * PostgreSQL Serverless v2 cluster that pauses when idle (`kind: serverless`; ADR 0021).
   */
  supportDatabase: z.preprocess(
    (v) => (v && typeof v === "object" && !("kind" in v) ? { ...v, kind: "instance" } : v),
    z.discriminatedUnion("kind", [SupportInstanceSchema, SupportServerlessSchema]),
  ),
  /** RDS deletion protection and final snapshot; also keeps buckets from being force-destroyed. */
  deletionProtection: flag,
  functions: z.object({
    plan: FunctionSize,
    worker: FunctionSize,
    summarize: FunctionSize,
    reconcile: FunctionSize.default({
      memoryMb: DEFAULTS.reconcileMemoryMb,
      timeoutSeconds: DEFAULTS.reconcileTimeoutSeconds,
    }),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]),
    windowDays: int(1, 3650),
    deviceConcurrency: int(1, 64),
    safetyMarginSeconds: int(0, 900),
    summarySourceCounts: flag,
    /** Overrides of the workers per collection and mode (pipeline/ingest/settings.ts). */
    workers: z.object({ bulk: Workers.optional(), operations: Workers.optional() }).default({}),
    /**
     * Overrides of the raw pack limits (ADR 0023; pipeline/ingest/settings.ts checks them, naming
     * this key), or `false` for one object per window. Unset: the code's defaults.
     */
    packs: z
      .union([
        z.literal(false),
        z.object({ windowBytes: z.number(), bytes: z.number(), windows: z.number() }).partial(),
      ])
      .optional(),
  }),
  orchestration: z.object({
    /** Workers running at once: bounded by the support database's connection slots. */
    mapConcurrency: int(1, 1000),
    workerRetries: int(0, 10),
    /**
     * Reconcile's shards (pipeline/reconcile/shard.ts, ADR 0025): functions checking the devices
     * at once, up to `mapConcurrency`. Changing it starts every shard's passes anew (full).
     */
    reconcileShards: int(1, MAX_SHARDS).default(1),
    scheduleExpression: z
      .string()
      .regex(
        /^(rate|cron|at)\(.+\)$/,
        "must be an EventBridge Scheduler expression: rate(...), cron(...) or at(...)",
      ),
    scheduleTimezone: z.string().default(DEFAULTS.scheduleTimezone),
    /** An execution still running after this is stopped (States.Timeout) and alarmed. */
    executionTimeoutHours: int(1, 8760).default(DEFAULTS.executionTimeoutHours),
  }),
  monitoring: z
    .object({
      /** Alarm when no execution succeeded for this long (armed by the cutover). */
      maxHoursWithoutSuccess: int(2, 168).default(DEFAULTS.maxHoursWithoutSuccess),
      supportDbFreeStoragePercent: int(1, 90).default(DEFAULTS.supportDbFreeStoragePercent),
      supportDbCpuPercent: int(10, 100).default(DEFAULTS.supportDbCpuPercent),
      /** Serverless: capacity above this share of `maxCapacity` for 15 minutes alarms. */
      supportDbCapacityPercent: int(10, 100).default(DEFAULTS.supportDbCapacityPercent),
      /** Connections that mean the workers are about to exhaust the database's slots. */
      supportDbConnections: int(1, 100_000).optional(),
    })
    .default({
      maxHoursWithoutSuccess: DEFAULTS.maxHoursWithoutSuccess,
      supportDbFreeStoragePercent: DEFAULTS.supportDbFreeStoragePercent,
      supportDbCpuPercent: DEFAULTS.supportDbCpuPercent,
      supportDbCapacityPercent: DEFAULTS.supportDbCapacityPercent,
    }),
  glue: z.object({
    workerType: z.enum(["G.1X", "G.2X", "G.4X", "G.8X"]),
    postgresExtractWorkers: int(2, 299),
    curateWorkers: int(2, 299),
    analyticsWorkers: int(2, 299),
    timeoutMinutes: int(1, 2880).default(DEFAULTS.glueTimeoutMinutes),
    /**
     * Glue auto scaling (`--enable-auto-scaling`): the workers above become each job's maximum,
     * and a run bills the workers it used, not all of them for its whole length.
     */
    autoScaling: flag.default(true),
    /**
     * Glue job metrics (`--enable-metrics`: driver and executor memory, CPU, shuffle), for tuning
     * the jobs. Off, the jobs publish none and the VPC's monitoring endpoint, which only they
     * use, is not created; the jobs' logs, Spark UI event logs and the pipeline's alarms remain.
     */
    metrics: flag.default(true),
  }),
  /** The sources' networks: the only destinations of the security groups' database egress. */
  sourceNetworks: z.object({ ddc: SourceNetwork, mongodb: SourceNetwork }),
  alarmEmail: z
    .email()
    .refine((v) => !EXAMPLE_DOMAIN.test(v), "is an example address: set a mailbox someone reads")
    .optional(),
  quicksightPrincipalArn: z
    .string()
    .regex(
      /^arn:aws:quicksight:[a-z0-9-]+:\d{12}:(user|group)\/.+$/,
      "must be a QuickSight user or group ARN",
    )
    .refine((v) => !PLACEHOLDER_ACCOUNTS.has(v.split(":")[4] ?? ""), {
      message: "names a placeholder account: set the real QuickSight user or group",
    }),
  /**
   * Declare the QuickSight Q topic of the Alarms report (infra/quicksight-topic.ts). Off by
   * default: Q is a paid part of QuickSight (Author Pro / Reader Pro users, formerly the Q
   * add-on), and a topic is of no use, and may be refused, in an account without it.
   */
  quicksightQTopic: flag.default(false),
  logRetentionDays: z.coerce.number().refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
    message: `must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
  }),
  athenaBytesScannedLimit: z.coerce.number().int().min(ATHENA_MIN_BYTES_SCANNED),
  retention: z
    .object({
      quarantineDays: int(1, 3650).default(DEFAULTS.quarantineDays),
      tempDays: int(1, 365).default(DEFAULTS.tempDays),
      queryResultsDays: int(1, 365).default(DEFAULTS.queryResultsDays),
      snapshotRetentionDays: int(1, 365).default(DEFAULTS.snapshotRetentionDays),
      snapshotsToRetain: int(1, 1000).default(DEFAULTS.snapshotsToRetain),
      orphanFileRetentionDays: int(1, 365).default(DEFAULTS.orphanFileRetentionDays),
      historyDays: int(1, 3650).default(DEFAULTS.historyDays),
      noncurrentDays: int(1, 3650).default(DEFAULTS.noncurrentDays),
      /**
       * Every raw Parquet object, curated or not, expires this long after it was written; unset,
       * they are kept. Curated is the record: curate reads an object within a run of its writing,
       * and repair re-extracts from the source. `_quarantine/` keeps its own rule (`quarantineDays`).
       */
      rawDays: int(7, 3650).optional(),
      /**
       * Raw objects the curate job has read (it tags them, ADR 0024) expire this long after
       * they were written; the others wait for `rawDays`. So a curate failing for days loses
       * nothing, and raw costs a week of storage, not a month.
       */
      rawCuratedDays: int(1, 3650).optional(),
      /**
       * Days a raw object that expired or was replaced stays recoverable as a version; unset,
       * `noncurrentDays`. Raw is staging (curated is the record; repair re-extracts from the
       * source), so its safety net may be shorter than the other layers'; never longer, since
       * S3 honours the shorter of two overlapping expirations (the bucket-wide rule).
       */
      rawNoncurrentDays: int(1, 3650).optional(),
    })
    .refine((r) => r.rawNoncurrentDays === undefined || r.rawNoncurrentDays <= r.noncurrentDays, {
      message: "must be at most noncurrentDays (S3 keeps the shorter of the two)",
      path: ["rawNoncurrentDays"],
    })
    .refine(
      (r) => r.rawCuratedDays === undefined || r.rawDays === undefined || r.rawCuratedDays < r.rawDays,
      {
        message: "must be less than rawDays (S3 keeps the shorter of the two)",
        path: ["rawCuratedDays"],
      },
    )
    .default({
      quarantineDays: DEFAULTS.quarantineDays,
      tempDays: DEFAULTS.tempDays,
      queryResultsDays: DEFAULTS.queryResultsDays,
      snapshotRetentionDays: DEFAULTS.snapshotRetentionDays,
      snapshotsToRetain: DEFAULTS.snapshotsToRetain,
      orphanFileRetentionDays: DEFAULTS.orphanFileRetentionDays,
      historyDays: DEFAULTS.historyDays,
      noncurrentDays: DEFAULTS.noncurrentDays,
    }),
  /**
   * Connection settings of the sources (pipeline/connections/secret.ts format), set with
   * `pulumi config set --secret`: stored encrypted in the stack file, written by Pulumi into
   * Secrets Manager, never into an environment variable (infra/sources.ts).
   *
   * These are the SNAPSHOT settings: the databases the first bulk load reads. The first
   * deployment also writes them into the active secret the pipeline reads; after that the
   * cutover script owns the active secret (docs/adr/0016), and changing them updates only the
   * snapshot side's secret.
   */
  ddcConnection: ConnectionSecretSchema,
  mongodbConnection: ConnectionSecretSchema,
  /**
   * The live production databases, the side the cutover switches to (`npm run cutover`); same
   * format, also set with `--secret`. Optional: unset, the stack has no production side yet.
   */
  productionDdcConnection: ConnectionSecretSchema.optional(),
  productionMongodbConnection: ConnectionSecretSchema.optional(),
});

export type StackConfig = Readonly<z.infer<typeof StackConfigSchema>>;

/** Keys holding JSON (objects, lists) rather than scalars: Pulumi passes those as JSON text. */
const JSON_KEYS: ReadonlySet<string> = new Set([
  "subnetIds",
  "endpointSubnetIds",
  "routeTableIds",
  "supportDatabase",
  "functions",
  "orchestration",
  "glue",
  "retention",
  "sourceNetworks",
  "monitoring",
  "ddcConnection",
  "mongodbConnection",
  "productionDdcConnection",
  "productionMongodbConnection",
]);

/** Thrown at program start; the message names every bad key, never a secret's value. */
export class StackConfigError extends Error {
  override readonly name = "StackConfigError";
}

/** Raw config lookup: `oven-lakehouse:vpcId` → its string, as the Pulumi engine passes it. */
export type RawConfig = (fullKey: string) => string | undefined;

const pulumiRaw: RawConfig = (k) => pulumi.runtime.getConfig(k);

/**
 * Parse the stack configuration.
 * @throws StackConfigError naming each key: `oven-lakehouse:vpcId is not set`.
 */
export function parseStackConfig(raw: RawConfig = pulumiRaw): StackConfig {
  const input: Record<string, unknown> = {};
  const jsonErrors: string[] = [];
  for (const key of Object.keys(StackConfigSchema.shape)) {
    const full = key === "region" ? "aws:region" : `${NAMESPACE}:${key}`;
    const value = raw(full);
    if (value === undefined) continue;
    if (JSON_KEYS.has(key)) {
      try {
        input[key] = JSON.parse(value);
      } catch {
        // Never echo the value: it may be a secret.
        jsonErrors.push(`${full} must be JSON (an object or a list)`);
      }
    } else input[key] = value;
  }
  const parsed = StackConfigSchema.safeParse(input, {
    error: (issue) => (issue.input === undefined ? "is not set" : undefined),
  });
  const issues = parsed.success ? crossChecks(parsed.data) : parsed.error.issues.map(describeIssue);
  if (jsonErrors.length > 0 || issues.length > 0)
    throw new StackConfigError(`stack configuration: ${[...jsonErrors, ...issues].join("; ")}`);
  return deepFreeze(parsed.data as StackConfig);
}

/** Rules between keys, which their own schemas cannot see. */
function crossChecks(config: z.infer<typeof StackConfigSchema>): string[] {
  const outside = (config.endpointSubnetIds ?? []).filter((s) => !config.subnetIds.includes(s));
  return outside.length > 0
    ? [`${NAMESPACE}:endpointSubnetIds names ${outside.join(", ")}, not in ${NAMESPACE}:subnetIds`]
    : [];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const [key, ...rest] = issue.path.map(String);
  const full = key === "region" ? "aws:region" : `${NAMESPACE}:${key}`;
  return `${[full, ...rest].join(".")} ${issue.message}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
