/**
 * Every input of the cost model other than prices, each with its value, unit and where it comes
 * from: the original system's thesis (production volumes; docs/design.md §3 repeats them), the stack file (what is deployed), the
 * infrastructure's code (what Pulumi creates), the benchmarks (measured throughput), or an
 * explicit assumption where nothing here measures it. The model (model.ts) reads only these.
 */
import { DEFAULT_PACK_LIMITS, DEFAULT_WORKERS, type PackLimits } from "../../pipeline/ingest/settings.js";
import { METRIC } from "../../pipeline/lambda/metrics.js";
import { alarmsReport } from "../../pipeline/reports/alarms-report.js";
import { collections, tables } from "../../pipeline/schema/index.js";
import { reportTables } from "../../pipeline/schema/reports.js";
import { SUPPORT_COMPONENTS } from "../../pipeline/support/users.js";
import { type BenchFigures, DEFAULT_BENCH_FILE, RECORDED_BENCH_FILE } from "./bench.js";
import { BILLING } from "./prices.js";
import { runsPerDay, type StackSettings, type SupportDatabaseSettings } from "./stack.js";

/** One input: its value, its unit, and where it comes from. */
export interface Assumption<T = number> {
  readonly value: T;
  readonly unit: string;
  readonly source: string;
}

/** The thesis describing the original system: not in this repository; docs/design.md §3 repeats its volumes. */
const SEED = "the original system's thesis";
const TABLE_3_2 = `${SEED}, Table 3.2 (documents, Size)`;

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

/** A MongoDB collection's production volume: documents and logical BSON size. */
export interface CollectionVolume {
  readonly documents: number;
  /** Table 3.2's "Size": the documents' BSON bytes (the wire and the worker see these). */
  readonly bytes: number;
}

/** Table 3.2, by registry collection name. */
export const PRODUCTION_VOLUMES: Readonly<Record<string, CollectionVolume>> = {
  alarm: { documents: 43e6, bytes: 3.7 * GiB },
  end_of_prog: { documents: 240e6, bytes: 60 * GiB },
  end_of_prog_aggregated: { documents: 29e6, bytes: 16.2 * GiB },
  events: { documents: 1500e6, bytes: 152.6 * GiB },
  evereo_sess: { documents: 215e3, bytes: 48.4 * MiB },
  request: { documents: 820e3, bytes: 60.7 * GiB },
  sd_events: { documents: 75e6, bytes: 11.2 * GiB },
  sd_haccp: { documents: 220e6, bytes: 90.3 * GiB },
  sd_messages: { documents: 220e6, bytes: 130 * GiB },
  sd_variables: { documents: 190e6, bytes: 505 * GiB },
  sdata: { documents: 170e3, bytes: 80.6 * MiB },
  variable_logs: { documents: 970e6, bytes: 7.3 * TiB },
  working_minutes_logs: { documents: 180e3, bytes: 29.3 * MiB },
};

/**
 * The worker's rates per collection shape when no bench file is read (`--no-bench`): an early
 * bench run's (reference machine, 2 cores, 40 devices × 20 days, end to end against the local
 * FerretDB before its patches: lower bounds for a real MongoDB), with the shapes' BSON bytes per document in the same synthetic snapshot (the bench's
 * detail lines, `B/doc`), which turn each rate into bytes per second. Only the dense shapes are
 * references: alarm (~15 documents a window) and request (~5) measure per-window work, which the
 * model counts on its own (`windowSeconds`).
 */
export const README_WORKER_RATES: Readonly<
  Record<string, { docsPerSecond: number; bytesPerDoc: number; dense: boolean }>
> = {
  events: { docsPerSecond: 6008, bytesPerDoc: 99, dense: true },
  variable_logs: { docsPerSecond: 189, bytesPerDoc: 4400, dense: true },
  request: { docsPerSecond: 362, bytesPerDoc: 6072, dense: false },
  alarm: { docsPerSecond: 909, bytesPerDoc: 128, dense: false },
};

/**
 * Raw Parquet bytes per source BSON byte, per shape: the ingest bench's detail lines
 * (`MiB of BSON` against `MiB of Parquet`) at 12 devices × 10 days on the reference machine
 * (events 0.2 → ~0.06 MiB as pyarrow writes it, variable_logs 3.4 → 0.99 MiB). Small windows
 * carry a Parquet footer each, so these lean high for dense production windows.
 */
export const RAW_OVER_SOURCE: Readonly<Record<string, number>> = {
  events: 0.3,
  request: 0.3,
  variable_logs: 0.29,
  alarm: 0.3,
};

/** A collection's worker rate in production, as the model uses it. */
export interface CollectionRate {
  readonly shape: string;
  readonly docsPerSecond: number;
  readonly rawOverSource: number;
  readonly how: string;
}

/**
 * What Pulumi creates that costs money, read off infra/ (which loads Pulumi, so it is not
 * imported here; tests/unit/cost-model.test.ts checks each against the code).
 */
export const INFRA = {
  /** infra/functions.ts `LAMBDA_ARCHITECTURE`. */
  lambdaArchitecture: "arm64" as "arm64" | "x86_64",
  /** infra/network.ts `interfaceEndpointsFor`: secretsmanager, glue, logs, and monitoring only
   * for Glue's job metrics. */
  interfaceEndpoints: { withGlueMetrics: 4, withoutGlueMetrics: 3 },
  /** infra/monitoring.ts: `EXECUTION_ALARMS`, the no-success alarm, the schedule's DLQ alarm,
   * the support database's storage and CPU alarms, and reconcile's. */
  fixedAlarms: 3 + 1 + 1 + 2 + 1,
  /** infra/monitoring.ts `COLLECTION_ALARMS`, one set per collection. */
  alarmsPerCollection: 3,
  /** infra/sources.ts: the active and the snapshot secret of each of the two sources. */
  sourceSecrets: 2 * 2,
  /** infra/support-database.ts `manageMasterUserPassword`: one RDS-managed secret. */
  rdsManagedSecrets: 1,
  /** infra/glue-jobs.ts `JOBS`. */
  glueJobs: 3,
  /** infra/storage.ts `CURATED_STORAGE_CLASS`: a lifecycle transition at day 0. */
  curatedStorageClass: "INTELLIGENT_TIERING" as "STANDARD" | "INTELLIGENT_TIERING",
} as const;

/** Everything the model takes besides prices. */
export interface Assumptions {
  readonly stack: Assumption<string>;
  readonly region: Assumption<string>;
  readonly bench: Assumption<string>;
  // --- production volumes
  readonly volumes: Assumption<Readonly<Record<string, CollectionVolume>>>;
  readonly ddcBytes: Assumption<{
    readonly appendHistories: number;
    readonly replaceTables: number;
    readonly tables: number;
  }>;
  readonly historyStart: Assumption<string>;
  readonly snapshotDate: Assumption<string>;
  readonly growthFactor: Assumption;
  readonly fleetDevices: Assumption;
  readonly activeDevicesPerDay: Assumption;
  // --- the worker
  readonly rates: Assumption<Readonly<Record<string, CollectionRate>>>;
  readonly lambdaArchitecture: Assumption<"arm64" | "x86_64">;
  readonly workerMemoryMb: Assumption;
  readonly workerUsableSeconds: Assumption;
  readonly workerStartSeconds: Assumption;
  readonly windowSeconds: Assumption;
  readonly windowDays: Assumption;
  /** What goes into a pack (ADR 0023): small windows of many devices share an object. */
  readonly packLimits: Assumption<PackLimits>;
  /** Row data as the writer estimates it (what pack limits count) per byte of raw Parquet. */
  readonly packRowBytesPerRawByte: Assumption;
  readonly bulkWorkers: Assumption<Readonly<Record<string, number>>>;
  readonly operationsWorkers: Assumption<Readonly<Record<string, number>>>;
  readonly mapConcurrency: Assumption;
  readonly runsPerDay: Assumption;
  // --- the other functions
  readonly plan: Assumption<{ readonly memoryMb: number; readonly seconds: number }>;
  readonly summarize: Assumption<{ readonly memoryMb: number; readonly seconds: number }>;
  readonly reconcile: Assumption<{
    readonly memoryMb: number;
    readonly timeoutSeconds: number;
    readonly shards: number;
  }>;
  readonly reconcileSecondsPerDeviceDay: Assumption;
  readonly reconcileIncrementDocsPerSecond: Assumption;
  readonly secretReadsPerInvocation: Assumption;
  // --- Glue
  readonly glueDpus: Assumption<{
    readonly postgresExtract: number;
    readonly curate: number;
    readonly analytics: number;
  }>;
  readonly glueFixedMinutes: Assumption<{
    readonly postgresExtract: number;
    readonly curate: number;
    readonly analytics: number;
  }>;
  readonly curateGbPerDpuHour: Assumption;
  readonly extractGbPerDpuHour: Assumption;
  readonly sparkCoreSecondsPerRawObject: Assumption;
  readonly glueFlexForInitialLoad: Assumption<boolean>;
  readonly glueAutoScaling: Assumption<boolean>;
  readonly glueAutoScalingFloorDpus: Assumption;
  readonly icebergTables: Assumption;
  readonly optimizerDpuHoursPerTableDay: Assumption;
  readonly compactionRewriteFactor: Assumption;
  readonly curatedBuckets: Assumption<Readonly<Record<string, { buckets: number; time?: "year" | "month" }>>>;
  // --- bytes
  readonly curatedOverRaw: Assumption;
  readonly postgresLakeOverSource: Assumption;
  readonly rawGetsPerObject: Assumption;
  readonly multipartPartBytes: Assumption;
  readonly rawRetentionDays: Assumption;
  readonly rawNoncurrentDays: Assumption;
  readonly rawTagsPerObject: Assumption;
  readonly curatedStorageClass: Assumption<"STANDARD" | "INTELLIGENT_TIERING">;
  readonly noncurrentDays: Assumption;
  readonly snapshotRetentionDays: Assumption;
  readonly monthsOfGrowth: Assumption;
  // --- Athena
  readonly alarmsReportQueriesPerMonth: Assumption;
  readonly dashboardViewsPerMonth: Assumption;
  readonly visualsPerView: Assumption;
  readonly viewColumnShare: Assumption;
  readonly adhocQueriesPerMonth: Assumption;
  readonly adhocBytesPerQuery: Assumption;
  readonly athenaBytesScannedLimit: Assumption;
  // --- support database
  readonly supportDatabase: Assumption<SupportDatabaseSettings>;
  readonly supportRowBytes: Assumption<{ readonly ledger: number; readonly curatedDay: number }>;
  /** Serverless: average capacity while a run or the load works it. */
  readonly supportDbAcu: Assumption<{ readonly run: number; readonly load: number }>;
  /** Serverless (Aurora Standard bills I/O): storage I/O requests per raw object committed. */
  readonly supportDbIosPerObject: Assumption;
  // --- network, secrets, keys, monitoring
  readonly subnets: Assumption;
  readonly endpointSubnets: Assumption;
  readonly interfaceEndpoints: Assumption;
  readonly secrets: Assumption;
  readonly s3KmsRequestShare: Assumption;
  readonly logBytes: Assumption<{
    readonly perLambdaInvocation: number;
    readonly perGlueRun: number;
    readonly rdsPerDay: number;
  }>;
  readonly logStorageRatio: Assumption;
  readonly logRetentionDays: Assumption;
  readonly customMetrics: Assumption;
  readonly glueMetricsPerJob: Assumption;
  readonly alarms: Assumption;
  // --- outside the totals
  readonly quicksightUsers: Assumption<{ readonly authors: number; readonly readers: number }>;
}

/** Bytes per document of a collection in production. */
export function bytesPerDocument(v: CollectionVolume): number {
  return v.documents > 0 ? v.bytes / v.documents : 0;
}

/**
 * Each collection's rate: the measured shape nearest in bytes per document (log scale), at
 * most that shape's bytes per second divided by the collection's own bytes per document (a
 * document twice the size takes at least twice the bytes through the wire, the decoder and the
 * encoder).
 */
export function collectionRates(
  volumes: Readonly<Record<string, CollectionVolume>>,
  shapes: Readonly<Record<string, { docsPerSecond: number; bytesPerDoc: number; rawOverSource: number }>>,
): Record<string, CollectionRate> {
  const names = Object.keys(shapes);
  if (names.length === 0) throw new RangeError("no measured worker shapes");
  const out: Record<string, CollectionRate> = {};
  for (const [name, volume] of Object.entries(volumes)) {
    const own = bytesPerDocument(volume);
    const shapeName = names.includes(name)
      ? name
      : (names
          .map((s) => ({ s, d: Math.abs(Math.log(own / (shapes[s]?.bytesPerDoc ?? 1))) }))
          .sort((a, b) => a.d - b.d)[0]?.s as string);
    const shape = shapes[shapeName] as { docsPerSecond: number; bytesPerDoc: number; rawOverSource: number };
    const byBytes = (shape.docsPerSecond * shape.bytesPerDoc) / own;
    const docsPerSecond = Math.min(shape.docsPerSecond, byBytes);
    out[name] = {
      shape: shapeName,
      docsPerSecond,
      rawOverSource: shape.rawOverSource,
      how:
        docsPerSecond < shape.docsPerSecond
          ? `${shapeName} shape, bytes-bound: ${Math.round(shape.docsPerSecond)} docs/s × ${Math.round(shape.bytesPerDoc)} B ÷ ${Math.round(own)} B/doc`
          : `${shapeName} shape: ${Math.round(shape.docsPerSecond)} docs/s (${Math.round(own)} B/doc)`,
    };
  }
  return out;
}

/** The model's inputs for a stack, with the bench's figures where it measured them. */
export function buildAssumptions(settings: StackSettings, bench?: BenchFigures): Assumptions {
  const f = settings.functions;
  const stackKey = (key: string) => `${settings.file} oven-lakehouse:${key}`;
  const shapes = Object.fromEntries(
    Object.entries(README_WORKER_RATES)
      .filter(([, r]) => r.dense)
      .map(([shape, r]) => {
        const measured = bench?.shapes[shape];
        return [
          shape,
          {
            docsPerSecond: measured?.docsPerSecond ?? r.docsPerSecond,
            bytesPerDoc: measured?.bytesPerDoc ?? r.bytesPerDoc,
            rawOverSource: measured?.rawOverSource ?? RAW_OVER_SOURCE[shape] ?? 0.3,
          },
        ];
      }),
  );
  const measuredKinds = [...new Set(Object.values(bench?.shapes ?? {}).map((s) => s.rateKind))];
  const rateSource = bench
    ? `${bench.file} (${measuredKinds.join(" and ") || "no"} rates) where it measured a shape, else the built-in early figures; the dense shape nearest in bytes per document, capped by its bytes per second`
    : "built-in early figures (worker docs/s end to end against the local FerretDB, lower bounds for production MongoDB; a bench file's `worker without the server` figure replaces them); the dense shape (events, variable_logs) nearest in bytes per document, capped by its bytes per second; per-window work is counted apart (windowSeconds)";
  const dpu = BILLING.dpuPerWorker.value[settings.glue.workerType] ?? 1;
  const glueKey = stackKey("glue");
  const bulk = { ...DEFAULT_WORKERS.bulk, ...f.workers.bulk };
  const operations = { ...DEFAULT_WORKERS.operations, ...f.workers.operations };
  const workerKeysSource = "pipeline/ingest/settings.ts DEFAULT_WORKERS merged with";
  return {
    stack: { value: settings.stack, unit: "stack", source: settings.file },
    region: { value: settings.region, unit: "AWS region", source: `${settings.file} aws:region` },
    bench: {
      value: bench ? bench.file : "none",
      unit: "file",
      source: bench
        ? `measured figures read: ${Object.keys(bench.shapes).join(", ") || "none"}${bench.curateGbPerDpuHour ? ", curate GB/DPU-hour" : ""}${bench.extractGbPerDpuHour ? ", extract GB/DPU-hour" : ""}${bench.skipped.length ? `; skipped: ${bench.skipped.join("; ")}` : ""}`
        : `no bench file (npm run bench writes ${DEFAULT_BENCH_FILE}, the recorded run is ${RECORDED_BENCH_FILE}; --bench <file> names another): the built-in early figures`,
    },
    volumes: {
      value: PRODUCTION_VOLUMES,
      unit: "documents, BSON bytes",
      source: `${TABLE_3_2}: 13 collections, 3.5 billion documents and 8.3 TiB as listed (the issue rounds to ~4 billion, ~9 TiB)`,
    },
    ddcBytes: {
      value: { appendHistories: (22 + 5) * GiB, replaceTables: 1 * GiB + 300 * MiB, tables: 72 },
      unit: "bytes, tables",
      source: `${SEED} §3.2.1/§3.3.1: device_recipe_history 22 GB, device_ip_info_history 5 GB (append); device_recipe ~1 GB and the other snapshot tables < 300 MB (replaced every run); 72 tables`,
    },
    historyStart: {
      value: "2015-10-01",
      unit: "date",
      source: `${SEED} §3.3.2: MongoDB data starts October 2015`,
    },
    snapshotDate: {
      value: "2024-09-02",
      unit: "date",
      source: `${SEED} §1.5: the initial load used a snapshot up to 2 September 2024`,
    },
    growthFactor: {
      value: 2,
      unit: "× the history's average daily volume",
      source:
        "assumed: the fleet (and its data) grew about linearly since 2015, so today's daily volume is twice the history's average (the average of a line from zero is half its end)",
    },
    fleetDevices: {
      value: 50_000,
      unit: "devices with data",
      source:
        "assumed (the thesis gives no device count): its device table is about 70 MB (§3.3.1), ~1.4 KB a row; bounds the raw objects of the initial load",
    },
    activeDevicesPerDay: {
      value: 30_000,
      unit: "devices a day",
      source:
        "assumed: 60 % of the fleet reports on a given day; bounds the windows a day (one per device and collection, small ones packed into shared objects)",
    },
    rates: {
      value: collectionRates(PRODUCTION_VOLUMES, shapes),
      unit: "documents/s per worker",
      source: rateSource,
    },
    lambdaArchitecture: {
      value: INFRA.lambdaArchitecture,
      unit: "architecture",
      source: "infra/functions.ts LAMBDA_ARCHITECTURE",
    },
    workerMemoryMb: { value: f.worker.memoryMb, unit: "MB", source: stackKey("functions.worker.memoryMb") },
    workerUsableSeconds: {
      value: f.worker.timeoutSeconds - f.safetyMarginSeconds,
      unit: "s of work per invocation",
      source: `${stackKey("functions.worker.timeoutSeconds")} − functions.safetyMarginSeconds (the worker stops that long before its timeout)`,
    },
    workerStartSeconds: {
      value: 3,
      unit: "s per invocation",
      source:
        "assumed: cold start, connection secrets, the batch's device list and the last group commit (not measured in AWS)",
    },
    windowSeconds: {
      value: 0.015,
      unit: "s per window",
      source:
        'README "Benchmarks": each window cost the worker 13–16 ms of Node CPU (Parquet footer, object write, share of a group commit) whatever its documents, measured before packs; kept per window (a packed window skips the footer and the object), an upper bound',
    },
    windowDays: { value: f.windowDays, unit: "days per window", source: stackKey("functions.windowDays") },
    packLimits: {
      // No packs is a window bound no window is under: each window its own object.
      value:
        f.packs === false
          ? { ...DEFAULT_PACK_LIMITS, windowBytes: 0 }
          : { ...DEFAULT_PACK_LIMITS, ...f.packs },
      unit: "estimated bytes, windows",
      source:
        f.packs === undefined
          ? "pipeline/ingest/settings.ts DEFAULT_PACK_LIMITS: a window of up to windowBytes of row data joins a pack; a pack is written at bytes of row data or windows windows"
          : f.packs === false
            ? `${stackKey("functions.packs")} false: every window its own object`
            : `${stackKey("functions.packs")} over pipeline/ingest/settings.ts DEFAULT_PACK_LIMITS`,
    },
    packRowBytesPerRawByte: {
      value: 2,
      unit: "estimated row bytes per raw Parquet byte",
      source:
        "measured on the local raw layer (200 objects a collection, estimatedRowBytes ÷ object size): events 2.0, variable_logs 3.3, request 3.7; below 1 only for objects of a few rows, whose footer dominates; the lower the figure, the more packs",
    },
    bulkWorkers: {
      value: bulk,
      unit: "workers per collection",
      source: `${workerKeysSource} ${stackKey("functions.workers.bulk")}`,
    },
    operationsWorkers: {
      value: operations,
      unit: "workers per collection",
      source: `${workerKeysSource} ${stackKey("functions.workers.operations")}`,
    },
    mapConcurrency: {
      value: settings.mapConcurrency,
      unit: "workers at once",
      source: stackKey("orchestration.mapConcurrency"),
    },
    runsPerDay: {
      value: runsPerDay(settings.scheduleExpression),
      unit: "executions a day",
      source: `${stackKey("orchestration.scheduleExpression")} (${settings.scheduleExpression})`,
    },
    plan: {
      value: { memoryMb: f.plan.memoryMb, seconds: 30 },
      unit: "MB, s per execution",
      source: `${stackKey("functions.plan.memoryMb")}; 30 s assumed (devices from ddc, bookmarks per collection, the stored plan)`,
    },
    summarize: {
      value: { memoryMb: f.summarize.memoryMb, seconds: 60 },
      unit: "MB, s per execution",
      source: `${stackKey("functions.summarize.memoryMb")}; 60 s assumed (per-collection counts, the no-device sweep)`,
    },
    reconcile: {
      value: {
        memoryMb: f.reconcile.memoryMb,
        timeoutSeconds: f.reconcile.timeoutSeconds,
        shards: settings.reconcileShards,
      },
      unit: "MB, s, shards",
      source: `${stackKey("functions.reconcile")} (default infra/config.ts DEFAULTS): a run stops at its time budget and the next continues; ${stackKey("orchestration.reconcileShards")}: that many runs at once an execution, each over its share of the devices`,
    },
    reconcileSecondsPerDeviceDay: {
      value: 0.002,
      unit: "s per collection, device and day",
      source:
        "assumed for MongoDB's index-bounded range queries; on the local FerretDB the scale run (docs/scale-run.md) measured 3.8 ms a device-day for the full pass and 6–9 ms for a day's incremental one (its fixed part), upper bounds",
    },
    reconcileIncrementDocsPerSecond: {
      value: 20_000,
      unit: "documents/s a shard reads",
      source:
        "assumed for MongoDB: an incremental reconcile finds the touched days by reading _id, idDevice and timestamp of the documents inserted since its watermark, shard 0 all of them and the other shards their devices' (ADR 0025); the local FerretDB, which reads whole documents to project them, gave 13,100 a second on events and 760 on variable_logs (a read of the local stack's collections, an upper bound on time)",
    },
    secretReadsPerInvocation: {
      value: 2,
      unit: "GetSecretValue per cold start",
      source:
        "pipeline/lambda: a function reads its source's secret and its support database user's at cold start",
    },
    glueDpus: {
      value: {
        postgresExtract: settings.glue.postgresExtractWorkers * dpu,
        curate: settings.glue.curateWorkers * dpu,
        analytics: settings.glue.analyticsWorkers * dpu,
      },
      unit: "DPU per run",
      source: `${glueKey} workers × ${settings.glue.workerType} (${dpu} DPU each; no auto scaling: infra/glue-jobs.ts sets numberOfWorkers)`,
    },
    glueFixedMinutes: {
      value: { postgresExtract: 5, curate: 5, analytics: 3 },
      unit: "minutes per run",
      source:
        "assumed: Spark session, Iceberg planning and one commit per table (72 ddc tables, 13 collections, the report tables); not measured on Glue",
    },
    curateGbPerDpuHour: {
      value: bench?.curateGbPerDpuHour ?? 20,
      unit: "GB of raw Parquet per DPU-hour",
      source: bench?.curateGbPerDpuHour
        ? `${bench.file} glue.curateGbPerDpuHour`
        : "assumed (~5.7 MB/s per DPU: read, dedup and MERGE into Iceberg); scripts/bench/curate_analytics.py times curate on local[2] but records no rate yet",
    },
    extractGbPerDpuHour: {
      value: bench?.extractGbPerDpuHour ?? 10,
      unit: "GB of ddc rows per DPU-hour",
      source: bench?.extractGbPerDpuHour
        ? `${bench.file} glue.extractGbPerDpuHour`
        : "assumed (JDBC reads bound by the source); scripts/bench/postgres_extract.py prints rows/s on local Spark, no figure recorded yet",
    },
    sparkCoreSecondsPerRawObject: {
      value: 0.03,
      unit: "core-seconds per raw object",
      source: "assumed: opening one small Parquet object from S3 (GETs, footer, task) in Spark",
    },
    glueFlexForInitialLoad: {
      value: false,
      unit: "flag",
      source: "infra/glue-jobs.ts declares no executionClass (standard)",
    },
    glueAutoScaling: {
      value: settings.glue.autoScaling,
      unit: "flag",
      source: `${glueKey}.autoScaling (infra/glue-jobs.ts --enable-auto-scaling): the workers are each job's maximum; a run bills the DPU-seconds it used`,
    },
    glueAutoScalingFloorDpus: {
      value: 2 * dpu,
      unit: "DPU",
      source: `assumed: with auto scaling, a run's fixed minutes (session, planning, commits) keep the driver and one executor: 2 × ${settings.glue.workerType}`,
    },
    icebergTables: {
      value: collections.length + tables.length + reportTables.length,
      unit: "tables with optimizers",
      source:
        "pipeline/schema registry: curated collections, ddc tables and report tables (infra/catalog.ts adds optimizers to each)",
    },
    optimizerDpuHoursPerTableDay: {
      value: 0.02,
      unit: "DPU-hours per table a day",
      source:
        "assumed: Glue's snapshot-retention and orphan-file runs on a table a day, together about a DPU-minute",
    },
    compactionRewriteFactor: {
      value: 1,
      unit: "× the day's curated bytes rewritten",
      source:
        "assumed: Glue's compaction rewrites each day's small files once into 128 MiB files (pipeline/schema/iceberg.ts target)",
    },
    curatedBuckets: {
      value: Object.fromEntries(collections.map((c) => [c.name, { ...c.partition }])),
      unit: "bucket(N, id_device) × time partitions",
      source: "pipeline/schema/registry.ts partition specs",
    },
    curatedOverRaw: {
      value: 0.6,
      unit: "curated bytes per raw byte",
      source:
        "assumed: zstd (pipeline/schema/iceberg.ts: 'about a third smaller than snappy') and rows sorted by device and time; the curate bench's 17.4 MB → 3.0 MB is dominated by tiny raw files",
    },
    postgresLakeOverSource: {
      value: 0.3,
      unit: "lake bytes per ddc byte",
      source: "assumed: PostgreSQL heap and index bytes against zstd Parquet",
    },
    rawGetsPerObject: {
      value: 3,
      unit: "GET requests per raw object read",
      source: "assumed: Spark reads a footer and one or two column-chunk ranges of a small object",
    },
    multipartPartBytes: {
      value: 8 * MiB,
      unit: "bytes",
      source:
        "pipeline/lake/s3-store.ts DEFAULT_PART_SIZE: smaller objects are one PUT, larger ones 2 + parts",
    },
    rawRetentionDays: {
      value: settings.rawCuratedDays ?? settings.rawDays ?? Number.POSITIVE_INFINITY,
      unit: "days",
      source:
        settings.rawCuratedDays !== undefined
          ? `${stackKey("retention")}.rawCuratedDays: the curate job tags every object it reads within a day of its writing, so the shorter rule applies to all (rawDays ${settings.rawDays ?? "unset"} is the backstop for objects never curated; infra/storage.ts)`
          : settings.rawDays === undefined
            ? `${stackKey("retention")}.rawDays unset: the raw bucket expires only \`_quarantine/\`; raw objects are kept`
            : `${stackKey("retention")}.rawDays (infra/storage.ts: a lifecycle rule per collection)`,
    },
    rawTagsPerObject: {
      value: settings.rawCuratedDays === undefined ? 0 : 1,
      unit: "PutObjectTagging requests per raw object",
      source:
        settings.rawCuratedDays === undefined
          ? `${stackKey("retention")}.rawCuratedDays unset: the curate job tags nothing the lifecycle reads`
          : "glue/lakehouse_glue/curate/raw_marks.py: the curate job tags each object it has curated, once",
    },
    rawNoncurrentDays: {
      value: settings.rawNoncurrentDays ?? settings.noncurrentDays,
      unit: "days",
      source:
        settings.rawNoncurrentDays === undefined
          ? `${stackKey("retention.noncurrentDays")}: ${stackKey("retention")}.rawNoncurrentDays unset, raw keeps an expired or replaced object as long as the other layers`
          : `${stackKey("retention")}.rawNoncurrentDays (infra/storage.ts: the collections' lifecycle rules; shorter than the bucket-wide rule, which S3 then ignores there)`,
    },
    curatedStorageClass: {
      value: INFRA.curatedStorageClass,
      unit: "S3 storage class",
      source: "infra/storage.ts CURATED_STORAGE_CLASS: a lifecycle rule moves curated files to it at day 0",
    },
    noncurrentDays: {
      value: settings.noncurrentDays,
      unit: "days",
      source: `${stackKey("retention.noncurrentDays")} (default infra/config.ts DEFAULTS): versioned layers keep a replaced file this long`,
    },
    snapshotRetentionDays: {
      value: settings.snapshotRetentionDays,
      unit: "days",
      source: `${stackKey("retention.snapshotRetentionDays")} (default infra/config.ts DEFAULTS)`,
    },
    monthsOfGrowth: {
      value: 0.5,
      unit: "months of new data on top of the load",
      source:
        "the month modelled is the first after cutover (its mean storage); each later month adds the growth line's note",
    },
    alarmsReportQueriesPerMonth: {
      value: 200,
      unit: "queries a month",
      source:
        "assumed: 10 analysts × 20 runs of the saved Alarms report query over analytics.* (infra/reports.ts)",
    },
    dashboardViewsPerMonth: {
      value: 300,
      unit: "dashboard loads a month",
      source:
        "assumed: the Alarms dashboard opened 10 times a working day (DIRECT_QUERY datasets, infra/analytics.ts)",
    },
    visualsPerView: {
      value: alarmsReport.visuals.length,
      unit: "Athena queries per dashboard load",
      source: "pipeline/reports/alarms-report.ts visuals (one query each over alarm_facts / open_alarms)",
    },
    viewColumnShare: {
      value: 0.5,
      unit: "share of curated alarm bytes a visual scans",
      source: "assumed: the views read about half of curated alarm's columns (pipeline/reports/views.ts)",
    },
    adhocQueriesPerMonth: {
      value: 100,
      unit: "queries a month",
      source: "assumed: analysts' own queries on the views (pipeline/reports/questions.ts examples)",
    },
    adhocBytesPerQuery: {
      value: 2 * GiB,
      unit: "bytes",
      source: "assumed: partition-pruned reads of curated tables; capped by the workgroup's limit",
    },
    athenaBytesScannedLimit: {
      value: settings.athenaBytesScannedLimit,
      unit: "bytes per query",
      source: stackKey("athenaBytesScannedLimit"),
    },
    supportDatabase: supportDatabaseAssumption(settings, stackKey("supportDatabase")),
    supportDbAcu: {
      value:
        settings.supportDatabase.kind === "serverless"
          ? serverlessAcu(settings.supportDatabase.maxCapacity)
          : { run: 0, load: 0 },
      unit: "ACU (average while working)",
      source:
        "assumed: a daily run's ledger and bookmark commits on about a db.t4g.medium's 2 ACU (2 vCPU, 4 GiB); the load's 50 workers at once at the cluster's maxCapacity throughout",
    },
    supportDbIosPerObject: {
      value: settings.supportDatabase.kind === "serverless" ? SERVERLESS_IOS_PER_OBJECT : 0,
      unit: "I/O requests per window committed (a ledger row)",
      source:
        "assumed, twice what the rows need: a window's commit (ledger row, its two indexes, the bookmark: ~1 KB of log, which Aurora bills in 4 KB write I/Os, batched by group commit) is at most one write I/O, and curate and reconcile read it back from storage after a pause emptied the cache (8 KB pages of ~25 ledger rows)",
    },
    supportRowBytes: {
      value: { ledger: 300, curatedDay: 150 },
      unit: "bytes per row with indexes",
      source:
        "assumed: a ledger row per window (a pack holds many), a curated_day row per collection, device and day (ADR 0015)",
    },
    subnets: {
      value: settings.subnets,
      unit: "subnets (AZs)",
      source: `${stackKey("subnetIds")}: the functions' and Glue's subnets`,
    },
    endpointSubnets: {
      value: settings.endpointSubnets,
      unit: "subnets",
      source: `${stackKey("endpointSubnetIds")} (default ${stackKey("subnetIds")}): an interface endpoint has a network interface in each`,
    },
    interfaceEndpoints: {
      value: settings.glue.metrics
        ? INFRA.interfaceEndpoints.withGlueMetrics
        : INFRA.interfaceEndpoints.withoutGlueMetrics,
      unit: "interface endpoints",
      source: `infra/network.ts interfaceEndpointsFor(${glueKey}.metrics = ${settings.glue.metrics}) (the S3 gateway endpoint is free); no NAT gateway is created`,
    },
    secrets: {
      value:
        INFRA.sourceSecrets +
        settings.productionSecrets +
        SUPPORT_COMPONENTS.length +
        INFRA.rdsManagedSecrets,
      unit: "secrets",
      source: `infra/sources.ts (active + snapshot per source, + ${settings.productionSecrets} production side(s) set in ${settings.file}), infra/migrations.ts (one per support database user: ${SUPPORT_COMPONENTS.join(", ")}), the RDS-managed master secret`,
    },
    s3KmsRequestShare: {
      value: 0.01,
      unit: "KMS requests per S3 request",
      source:
        "infra/storage.ts: SSE-KMS with the AWS-managed aws/s3 key and S3 Bucket Keys (AWS: 'up to 99 %' fewer KMS requests); no customer managed key anywhere",
    },
    logBytes: {
      value: { perLambdaInvocation: 2 * KiB, perGlueRun: 20 * MiB, rdsPerDay: 10 * MiB },
      unit: "bytes",
      source:
        "assumed: START/END/REPORT, a few pino lines and one EMF line per invocation; Spark driver and executor logs per Glue run; PostgreSQL's exported log (infra/support-database.ts)",
    },
    logStorageRatio: {
      value: 0.15,
      unit: "stored GB per ingested GB",
      source: "assumed: CloudWatch Logs bills archived (compressed) bytes",
    },
    logRetentionDays: {
      value: settings.logRetentionDays,
      unit: "days",
      source: stackKey("logRetentionDays"),
    },
    customMetrics: {
      value: Object.keys(METRIC).length * collections.length + 1,
      unit: "metrics (name × Collection)",
      source: "pipeline/lambda/metrics.ts METRIC per registry collection, and reconcile's run-wide record",
    },
    glueMetricsPerJob: {
      value: settings.glue.metrics ? 30 : 0,
      unit: "metrics per job (--enable-metrics)",
      source: settings.glue.metrics
        ? `${glueKey}.metrics; assumed: Glue's job metrics (driver, executors, ALL) billed as custom metrics while the job runs`
        : `${glueKey}.metrics is false: the jobs publish none`,
    },
    alarms: {
      value: INFRA.fixedAlarms + INFRA.alarmsPerCollection * collections.length,
      unit: "alarms",
      source:
        "infra/monitoring.ts: execution, staleness, schedule, support database and reconcile alarms, and 3 per collection",
    },
    quicksightUsers: {
      value: { authors: 2, readers: 20 },
      unit: "users",
      source: "assumed: QuickSight is deployed (infra/analytics.ts) and priced per user, not per data",
    },
  };
}

/** Every assumption as a list: key, value as text, unit, source. */
export function assumptionList(
  a: Assumptions,
): { key: string; value: string; unit: string; source: string }[] {
  return Object.entries(a).map(([key, v]) => {
    const { value, unit, source } = v as Assumption<unknown>;
    return { key, value: describeValue(value), unit, source };
  });
}

function describeValue(value: unknown): string {
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "never";
  if (typeof value === "string" || typeof value === "boolean") return String(value);
  return JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? "never" : v));
}

/** A serverless support database's average capacity while working (assumed; see `supportDbAcu`). */
export function serverlessAcu(maxCapacity: number): { readonly run: number; readonly load: number } {
  return { run: Math.min(2, maxCapacity), load: maxCapacity };
}

/** Aurora I/O requests a committed raw object costs the support database (assumed; see its source). */
export const SERVERLESS_IOS_PER_OBJECT = 4;

/** The support database as the stack file sets it, without what does not bill (backups within their free share). */
function supportDatabaseAssumption(
  settings: StackSettings,
  key: string,
): Assumption<SupportDatabaseSettings> {
  const db = settings.supportDatabase;
  const source = `${key} (infra/support-database.ts); backups within the free 100 % of storage`;
  if (db.kind === "instance")
    return {
      value: {
        kind: db.kind,
        instanceClass: db.instanceClass,
        allocatedStorageGb: db.allocatedStorageGb,
        multiAz: db.multiAz,
      },
      unit: "RDS instance: class, gp3 GB, Multi-AZ",
      source,
    };
  return {
    value: {
      kind: db.kind,
      minCapacity: db.minCapacity,
      maxCapacity: db.maxCapacity,
      secondsUntilAutoPause: db.secondsUntilAutoPause,
      idleSessionTimeoutSeconds: db.idleSessionTimeoutSeconds,
    },
    unit: "Aurora Serverless v2: ACU, s",
    source,
  };
}
