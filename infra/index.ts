/**
 * The Pulumi program: the whole AWS deployment of one stack (docs/design.md §4–7), one ComponentResource
 * per concern, composed here. Everything it knows about tables, functions and the state machine
 * comes from the pipeline library; everything it knows about the stack comes from
 * `Pulumi.<stack>.yaml`, parsed once (infra/config.ts). The program holds no business logic.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ConnectionSecret } from "../pipeline/connections/secret.js";
import type { CutoverTargets } from "../pipeline/cutover/targets.js";
import { taskTimeouts } from "../pipeline/orchestration/state-machine.js";
import { Analytics } from "./analytics.js";
import { bundleFunctions } from "./bundle.js";
import { Catalog } from "./catalog.js";
import { parseStackConfig } from "./config.js";
import { checkFunctionSettings, IngestionFunctions } from "./functions.js";
import { GlueJobs } from "./glue-jobs.js";
import { SupportMigrations } from "./migrations.js";
import { Monitoring } from "./monitoring.js";
import { Network, type SourceEndpoint } from "./network.js";
import { Orchestration } from "./orchestration.js";
import { SourceConnections, type SourceSecrets } from "./sources.js";
import { LakeStorage } from "./storage.js";
import { SupportDatabase } from "./support-database.js";

/** Default ports when a source secret names none (mongodb+srv never does). */
const DEFAULT_PORT = { postgres: 5432, mongodb: 27017 } as const;

const config = parseStackConfig();
checkFunctionSettings(config);

const region = config.region;
const accountId = aws.getCallerIdentityOutput().accountId;
const [firstSubnet] = config.subnetIds as [string, ...string[]];

/**
 * Each source's database port, snapshot side first; the production side's too when it differs,
 * so the pipeline still reaches the source after a cutover (both sides' hosts must lie in
 * `sourceNetworks`).
 */
const sourceEndpoints = (
  source: "ddc" | "mongodb",
  sides: readonly (ConnectionSecret | undefined)[],
  defaultPort: number,
): SourceEndpoint[] => {
  const ports = [...new Set(sides.filter((c) => c !== undefined).map((c) => c.port ?? defaultPort))];
  return ports.map((port, i) => ({
    name: i === 0 ? source : `${source}-${port}`,
    port,
    ...config.sourceNetworks[source],
  }));
};

const network = new Network("lakehouse", {
  region,
  vpcId: config.vpcId,
  subnetIds: config.subnetIds,
  endpointSubnetIds: config.endpointSubnetIds,
  glueMetrics: config.glue.metrics,
  routeTableIds: config.routeTableIds,
  sources: [
    ...sourceEndpoints("ddc", [config.ddcConnection, config.productionDdcConnection], DEFAULT_PORT.postgres),
    ...sourceEndpoints(
      "mongodb",
      [config.mongodbConnection, config.productionMongodbConnection],
      DEFAULT_PORT.mongodb,
    ),
  ],
});

const storage = new LakeStorage("lake", {
  quarantineDays: config.retention.quarantineDays,
  tempDays: config.retention.tempDays,
  queryResultsDays: config.retention.queryResultsDays,
  noncurrentDays: config.retention.noncurrentDays,
  rawDays: config.retention.rawDays,
  rawCuratedDays: config.retention.rawCuratedDays,
  rawNoncurrentDays: config.retention.rawNoncurrentDays,
  retainOnDelete: config.deletionProtection,
});
const buckets = storage.buckets;

const database = new SupportDatabase("support", {
  vpcId: config.vpcId,
  subnetIds: config.subnetIds,
  clientSecurityGroupIds: [network.functionsSecurityGroupId, network.glueSecurityGroupId],
  config: config.supportDatabase,
  deletionProtection: config.deletionProtection,
});

const sources = new SourceConnections("sources", {
  ddc: { snapshot: config.ddcConnection, production: config.productionDdcConnection },
  mongodb: { snapshot: config.mongodbConnection, production: config.productionMongodbConnection },
  subnetId: firstSubnet,
  glueSecurityGroupId: network.glueSecurityGroupId,
  retain: config.deletionProtection,
});

const catalog = new Catalog("catalog", {
  accountId,
  region,
  buckets,
  optimizers: {
    snapshotRetentionDays: config.retention.snapshotRetentionDays,
    snapshotsToRetain: config.retention.snapshotsToRetain,
    orphanFileRetentionDays: config.retention.orphanFileRetentionDays,
    historyRetentionDays: config.retention.historyDays,
  },
});

const bundles = bundleFunctions();
const functionNetwork = {
  region,
  accountId,
  subnetIds: config.subnetIds,
  securityGroupIds: [network.functionsSecurityGroupId],
};

const migrations = new SupportMigrations("support", {
  environment: config.environment,
  codeDir: bundles.dirs.migrate,
  database: {
    ready: database.ready,
    address: database.address,
    port: database.port,
    dbName: database.dbName,
    secretArn: database.secretArn,
  },
  network: functionNetwork,
  logRetentionDays: config.logRetentionDays,
  retain: config.deletionProtection,
});

const glueSize = (workers: number) => ({
  workerType: config.glue.workerType,
  workers,
  timeoutMinutes: config.glue.timeoutMinutes,
  autoScaling: config.glue.autoScaling,
  metrics: config.glue.metrics,
});
const glue = new GlueJobs("glue", {
  region,
  accountId,
  environment: config.environment,
  buckets,
  catalog,
  ddc: { connection: sources.ddcConnection, secretArn: sources.ddcSecret.arn },
  support: {
    address: database.address,
    port: database.port,
    dbName: database.dbName,
    // The curate job's own database user (the master stays with the migrate function).
    secretArn: migrations.userSecrets.curate.arn,
  },
  subnetId: firstSubnet,
  subnetIds: config.subnetIds,
  securityGroupId: network.glueSecurityGroupId,
  sizes: {
    postgresExtract: glueSize(config.glue.postgresExtractWorkers),
    curate: glueSize(config.glue.curateWorkers),
    analytics: glueSize(config.glue.analyticsWorkers),
  },
  logRetentionDays: config.logRetentionDays,
});

const functions = new IngestionFunctions("ingest", {
  environment: config.environment,
  settings: config.functions,
  codeDirs: bundles.dirs,
  refs: {
    ddcSecretArn: sources.ddcSecret.arn,
    mongodbSecretArn: sources.mongodbSecret.arn,
    supportDbHost: database.address,
    supportDbPort: database.port.apply(String),
    supportDbName: database.dbName,
    rawLakeUrl: buckets.mongodbRaw.url,
  },
  supportUserSecretArns: {
    plan: migrations.userSecrets.plan.arn,
    worker: migrations.userSecrets.worker.arn,
    summarize: migrations.userSecrets.summarize.arn,
    reconcile: migrations.userSecrets.reconcile.arn,
  },
  rawBucketArn: buckets.mongodbRaw.arn,
  network: functionNetwork,
  logRetentionDays: config.logRetentionDays,
});

const orchestration = new Orchestration("pipeline", {
  region,
  accountId,
  environment: config.environment,
  functions: functions.functions,
  jobs: glue.jobs,
  maxConcurrency: config.orchestration.mapConcurrency,
  workerRetries: config.orchestration.workerRetries,
  reconcileShards: config.orchestration.reconcileShards,
  timeouts: taskTimeouts({
    functionSeconds: {
      plan: config.functions.plan.timeoutSeconds,
      worker: config.functions.worker.timeoutSeconds,
      summarize: config.functions.summarize.timeoutSeconds,
      reconcile: config.functions.reconcile.timeoutSeconds,
    },
    glueJobMinutes: config.glue.timeoutMinutes,
  }),
  executionTimeoutSeconds: config.orchestration.executionTimeoutHours * 3600,
  scheduleExpression: config.orchestration.scheduleExpression,
  scheduleTimezone: config.orchestration.scheduleTimezone,
  logRetentionDays: config.logRetentionDays,
  readyAfter: [migrations.invocation],
});

const analytics = new Analytics("analytics", {
  region,
  accountId,
  environment: config.environment,
  bytesScannedLimit: config.athenaBytesScannedLimit,
  buckets,
  catalog,
  quicksightPrincipalArn: config.quicksightPrincipalArn,
  qTopic: config.quicksightQTopic,
});

const monitoring = new Monitoring("monitoring", {
  stateMachineArn: orchestration.stateMachine.arn,
  deadLetterQueueName: orchestration.deadLetters.name,
  supportDatabase: {
    instanceId: database.instanceId,
    ...(config.supportDatabase.kind === "instance"
      ? {
          storage: {
            allocatedStorageGb: config.supportDatabase.allocatedStorageGb,
            freeStoragePercent: config.monitoring.supportDbFreeStoragePercent,
          },
        }
      : { capacityPercent: config.monitoring.supportDbCapacityPercent }),
    cpuPercent: config.monitoring.supportDbCpuPercent,
    connections: config.monitoring.supportDbConnections,
  },
  maxHoursWithoutSuccess: config.monitoring.maxHoursWithoutSuccess,
  alarmEmail: config.alarmEmail,
});

export const environment = config.environment;
export const bucketNames = Object.fromEntries(Object.entries(buckets).map(([k, b]) => [k, b.name]));
export const rawLakeUrl = buckets.mongodbRaw.url;
export const supportDatabase = {
  address: database.address,
  port: database.port,
  /** The master user's: migrations and provisioning only. */
  secretArn: database.secretArn,
  /** Each component's own user, written by the migrate function. */
  userSecretArns: Object.fromEntries(Object.entries(migrations.userSecrets).map(([k, s]) => [k, s.arn])),
};
export const sourceSecretArns = { ddc: sources.ddcSecret.arn, mongodb: sources.mongodbSecret.arn };
export const functionNames = {
  plan: functions.functions.plan.name,
  worker: functions.functions.worker.name,
  summarize: functions.functions.summarize.name,
  reconcile: functions.functions.reconcile.name,
  migrate: migrations.function.name,
};
/**
 * The scheduled run only reports; an operator repairs (docs/design.md §7) with `aws lambda invoke
 * --function-name <this> --cli-binary-format raw-in-base64-out --payload '{"repair": true, "shard":
 * {"index": i, "count": N}}' out.json`, one shard of orchestration.reconcileShards at a time.
 */
export const reconcileFunctionName = functions.functions.reconcile.name;
export const glueJobNames = {
  postgresExtract: glue.jobs.postgresExtract.name,
  curate: glue.jobs.curate.name,
  analytics: glue.jobs.analytics.name,
};
export const jobTablesUrl = glue.jobTablesUrl;
export const stateMachineArn = orchestration.stateMachine.arn;
/** The cutover script enables this schedule (created disabled). */
export const scheduleName = orchestration.schedule.name;
export const athenaWorkgroup = analytics.workgroup.name;
export const alarmsDashboardId = analytics.dashboard.id;
/** The role analysts assume (an admin grants `sts:AssumeRole` on it to people or groups). */
export const analystRoleArn = analytics.analystRole.arn;
/** The analysts' views of `analytics`, in the order they are declared. */
export const viewNames = catalog.views.map((v) => v.name);
/** The QuickSight dataset of each dataset of the Alarms report. */
export const quicksightDataSetIds = Object.fromEntries(
  Object.entries(analytics.dataSets).map(([id, set]) => [id, set.dataSetId]),
);
/** The QuickSight Q topic's id, when the stack declares it (`quicksightQTopic`). */
export const alarmsTopicId = analytics.topic?.id;
export const alarmTopicArn = monitoring.topic.arn;
/** The cutover arms this alarm (actions on) when it enables the schedule. */
export const noSuccessAlarmName = monitoring.noSuccessAlarm.name;
export const scheduleDeadLetterQueueUrl = orchestration.deadLetters.url;
export const migrationsChecksum = migrations.checksum;

/** A source's secrets as the cutover names them: ARNs (Secrets Manager takes them as `SecretId`). */
const cutoverSecrets = (s: SourceSecrets) => ({
  active: s.active.arn,
  snapshot: s.snapshot.arn,
  ...(s.production ? { production: s.production.arn } : {}),
});

/**
 * What a cutover acts on (docs/adr/0016), in the shape of `CutoverTargetsSchema`
 * (pipeline/cutover/targets.ts): the cutover script reads it (`npm run cutover -- --stack <stack>`
 * reads `pulumi stack output --json cutover`) and never Pulumi's state. Only names and ARNs: the
 * values it switches live in the resources.
 */
export const cutover: pulumi.Output<CutoverTargets> = pulumi.output({
  secrets: { ddc: cutoverSecrets(sources.secrets.ddc), mongodb: cutoverSecrets(sources.secrets.mongodb) },
  schedule: {
    name: orchestration.schedule.name,
    // The schedule names no group: Scheduler puts it in `default`.
    group: orchestration.schedule.groupName.apply((g) => g || "default"),
  },
  noSuccessAlarm: monitoring.noSuccessAlarm.name,
  stateMachineArn: orchestration.stateMachine.arn,
  support: {
    secret: database.secretArn,
    host: database.address,
    port: database.port,
    dbname: database.dbName,
  },
});
