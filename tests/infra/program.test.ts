/**
 * The whole program under Pulumi's mocks, for both stacks: every component and its wiring,
 * the security rules, the catalog against the registry, the state machine, and what differs
 * between dev and prod. Both stacks run once (beforeAll); the tests read the recordings.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ANALYST_ATHENA_ACTIONS, ANALYST_CATALOG_ACTIONS } from "../../infra/analytics.js";
import { DEFAULTS } from "../../infra/config.js";
import { COLLECTION_ALARMS, EXECUTION_ALARMS, RECONCILE_ALARM } from "../../infra/monitoring.js";
import { UNSCOPED_ACTIONS } from "../../infra/policies.js";
import { dashboardDefinition } from "../../infra/quicksight-dashboard.js";
import { topicDataSets } from "../../infra/quicksight-topic.js";
import { ALARMS_REPORT_SQL, questionQueryName } from "../../infra/reports.js";
import { CutoverTargetsSchema, SOURCES } from "../../pipeline/cutover/targets.js";
import { RAW_CURATED_TAG } from "../../pipeline/ingest/keys.js";
import { FunctionEnvSchema, WORKER_NODE_OPTIONS } from "../../pipeline/lambda/env.js";
import {
  buildStateMachine,
  RECONCILE_MAP,
  RECONCILE_SHARD_LIST,
  TASK,
  taskTimeouts,
} from "../../pipeline/orchestration/state-machine.js";
import { alarmsReport } from "../../pipeline/reports/alarms-report.js";
import { decodePrestoView, glueViewTable, viewSources } from "../../pipeline/reports/athena-view.js";
import { ANALYST_QUESTIONS } from "../../pipeline/reports/questions.js";
import { views } from "../../pipeline/reports/views.js";
import {
  collections,
  glueColumnsOf,
  ICEBERG_TABLE_PROPERTIES,
  icebergSchemaOf,
  jobTables,
  reportIcebergSchemaOf,
  reportTables,
  tables,
} from "../../pipeline/schema/index.js";
import { QUICKSIGHT_TYPE } from "../../pipeline/schema/reports.js";
import { supportUsersChecksum } from "../../pipeline/support/users.js";
import {
  ACCOUNT_ID,
  deployableConfig,
  FAKE_PRODUCTION_SECRETS,
  FAKE_SECRETS,
  named,
  ofType,
  REGION,
  type Recorded,
  ROOT,
  runStack,
  type StackRun,
  stackConfig,
} from "./harness.js";

const require = createRequire(import.meta.url);
const aslValidator = require("asl-validator") as (definition: unknown) => {
  isValid: boolean;
  errorsText(separator?: string): string;
};

const T = {
  bucket: "aws:s3/bucket:Bucket",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  object: "aws:s3/bucketObjectv2:BucketObjectv2",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  fn: "aws:lambda/function:Function",
  invocation: "aws:lambda/invocation:Invocation",
  job: "aws:glue/job:Job",
  connection: "aws:glue/connection:Connection",
  database: "aws:glue/catalogDatabase:CatalogDatabase",
  table: "aws:glue/catalogTable:CatalogTable",
  optimizer: "aws:glue/catalogTableOptimizer:CatalogTableOptimizer",
  stateMachine: "aws:sfn/stateMachine:StateMachine",
  schedule: "aws:scheduler/schedule:Schedule",
  rds: "aws:rds/instance:Instance",
  parameterGroup: "aws:rds/parameterGroup:ParameterGroup",
  cluster: "aws:rds/cluster:Cluster",
  clusterInstance: "aws:rds/clusterInstance:ClusterInstance",
  clusterParameterGroup: "aws:rds/clusterParameterGroup:ClusterParameterGroup",
  secret: "aws:secretsmanager/secret:Secret",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  workgroup: "aws:athena/workgroup:Workgroup",
  namedQuery: "aws:athena/namedQuery:NamedQuery",
  qsDataSource: "aws:quicksight/dataSource:DataSource",
  qsDataSet: "aws:quicksight/dataSet:DataSet",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  queue: "aws:sqs/queue:Queue",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  cloudcontrol: "aws:cloudcontrol/resource:Resource",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
} as const;

/** Pulumi's wire form of a secret value: the value beside a signature key. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
// biome-ignore lint/suspicious/noExplicitAny: recorded inputs.
const unwrap = (v: any): any => (v && typeof v === "object" && SECRET_SIG in v ? v.value : v);
const isSecret = (v: unknown) => Boolean(v && typeof v === "object" && SECRET_SIG in v);

interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}
const statementsOf = (r: Recorded): PolicyStatement[] => JSON.parse(unwrap(r.inputs.policy)).Statement;
const asList = <V>(v: V | V[]): V[] => (Array.isArray(v) ? v : [v]);

/** The role policy attached to the role whose ARN a resource names. */
function policyOfRole(run: StackRun, roleArn: string): PolicyStatement[] {
  const role = ofType(run, T.role).find((r) => roleArn.endsWith(`:${r.name}`));
  if (!role) throw new Error(`no role for ${roleArn}`);
  const policies = ofType(run, T.rolePolicy).filter((p) => p.inputs.role === role.id);
  expect(policies).toHaveLength(1);
  return statementsOf(policies[0] as Recorded);
}

const actionsOn = (statements: PolicyStatement[], action: string) =>
  statements.filter((s) => asList(s.Action).includes(action)).flatMap((s) => asList(s.Resource));

let dev: StackRun;
let prod: StackRun;

beforeAll(async () => {
  dev = await runStack("dev");
  prod = await runStack("prod");
}, 120_000);

describe.each(["dev", "prod"] as const)("stack %s", (stack) => {
  const run = () => (stack === "dev" ? dev : prod);

  it("calls no provider function it did not declare", () => {
    expect(run().unmockedCalls).toEqual([]);
  });

  it("declares one component per concern", () => {
    const components = run()
      .resources.filter((r) => r.type.startsWith("lakehouse:"))
      .map((r) => r.type)
      .sort();
    expect(components).toEqual(
      [
        "lakehouse:analytics:Analytics",
        "lakehouse:catalog:Catalog",
        "lakehouse:database:SupportDatabase",
        "lakehouse:database:SupportMigrations",
        "lakehouse:functions:IngestionFunctions",
        "lakehouse:glue:GlueJobs",
        "lakehouse:monitoring:Monitoring",
        "lakehouse:network:Network",
        "lakehouse:orchestration:Orchestration",
        "lakehouse:sources:SourceConnections",
        "lakehouse:storage:LakeStorage",
      ].sort(),
    );
  });

  describe("network", () => {
    it("has an S3 gateway endpoint on the configured route tables and the interface endpoints", () => {
      const endpoints = ofType(run(), T.endpoint);
      const gateway = endpoints.filter((e) => e.inputs.vpcEndpointType === "Gateway");
      expect(gateway.map((e) => e.inputs.serviceName)).toEqual([`com.amazonaws.${REGION}.s3`]);
      const config = deployableConfig(stack);
      expect(gateway[0]?.inputs.routeTableIds).toEqual(
        JSON.parse(config["oven-lakehouse:routeTableIds"] ?? "[]"),
      );
      const services = endpoints
        .filter((e) => e.inputs.vpcEndpointType === "Interface")
        .map((e) => e.inputs.serviceName.split(".").at(-1))
        .sort();
      // monitoring serves only Glue's job metrics, which prod turns off (glue.metrics).
      expect(services).toEqual(
        stack === "prod"
          ? ["glue", "logs", "secretsmanager"]
          : ["glue", "logs", "monitoring", "secretsmanager"],
      );
      for (const e of endpoints) expect(e.inputs.vpcId).toBe(config["oven-lakehouse:vpcId"]);
    });
  });

  describe("storage", () => {
    it("has one bucket per layer, none public, all encrypted, TLS only, with lifecycle rules", () => {
      const buckets = ofType(run(), T.bucket);
      expect(buckets.map((b) => b.name).sort()).toEqual(
        ["analytics", "athena-results", "glue-assets", "mongodb-curated", "mongodb-raw", "postgres"]
          .map((s) => `lake-${s}`)
          .sort(),
      );
      for (const b of buckets) {
        const pab = named(run(), T.publicAccessBlock, b.name).inputs;
        expect(pab).toMatchObject({
          bucket: b.id,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        });
        const sse = named(run(), T.encryption, b.name).inputs;
        expect(sse.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("aws:kms");
        const policy = named(run(), T.bucketPolicy, b.name);
        expect(policy.inputs.bucket).toBe(b.id);
        const deny = statementsOf(policy).find((s) => s.Effect === "Deny");
        expect(deny).toMatchObject({ Condition: { Bool: { "aws:SecureTransport": "false" } } });
        expect(deny?.Resource).toEqual([
          `arn:aws:s3:::${b.name}-0a1b2c3`,
          `arn:aws:s3:::${b.name}-0a1b2c3/*`,
        ]);
        expect(statementsOf(policy).filter((s) => s.Effect === "Allow")).toEqual([]);
        const rules = named(run(), T.lifecycle, b.name).inputs.rules;
        expect(rules[0]).toMatchObject({ id: "abort-incomplete-uploads", status: "Enabled" });
      }
      const expiring = (bucket: string) =>
        named(run(), T.lifecycle, `lake-${bucket}`)
          .inputs.rules.filter((r: { expiration?: { days?: number } }) => r.expiration?.days)
          .map(
            (r: { filter: { prefix?: string; and?: { prefix: string } } }) =>
              r.filter.prefix ?? r.filter.and?.prefix,
          );
      // Raw objects themselves expire only where the stack sets retention.rawDays (prod).
      expect(
        expiring("mongodb-raw").filter((p: string) => !collections.some((c) => p === `${c.name}/`)),
      ).toEqual(["_quarantine/"]);
      expect(expiring("glue-assets")).toEqual(["temp/", "spark-events/"]);
      expect(expiring("athena-results")).toEqual([""]);
      expect(expiring("mongodb-curated")).toEqual([]);
    });

    it("versions the data layers, so a delete can be undone, and expires old versions", () => {
      const versioned = ofType(run(), T.versioning);
      expect(versioned.map((v) => v.name).sort()).toEqual(
        ["analytics", "mongodb-curated", "mongodb-raw", "postgres"].map((s) => `lake-${s}`).sort(),
      );
      for (const v of versioned) {
        expect(v.inputs.versioningConfiguration.status).toBe("Enabled");
        // The bucket-wide rule; raw's collection prefixes may add a shorter one (retention).
        const rule = named(run(), T.lifecycle, v.name).inputs.rules.find(
          (r: { id: string }) => r.id === "expire-noncurrent-versions",
        );
        expect(rule.noncurrentVersionExpiration.noncurrentDays).toBe(30);
        expect(rule.filter.prefix).toBe("");
      }
      for (const temporary of ["lake-athena-results", "lake-glue-assets"]) {
        const rules = named(run(), T.lifecycle, temporary).inputs.rules;
        expect(rules.some((r: object) => "noncurrentVersionExpiration" in r)).toBe(false);
      }
    });
  });

  describe("support database", () => {
    it("is a serverless cluster that pauses: encrypted, private, TLS only, RDS-managed password, backups", () => {
      const file = JSON.parse(stackConfig(stack)["oven-lakehouse:supportDatabase"] ?? "{}");
      expect(ofType(run(), T.rds)).toHaveLength(0);
      const clusters = ofType(run(), T.cluster);
      expect(clusters).toHaveLength(1);
      const c = clusters[0]?.inputs;
      expect(c).toMatchObject({
        engine: "aurora-postgresql",
        engineMode: "provisioned",
        engineVersion: DEFAULTS.supportDbServerlessEngineVersion,
        storageEncrypted: true,
        manageMasterUserPassword: true,
        databaseName: "support",
        deletionProtection: stack === "prod",
        skipFinalSnapshot: stack !== "prod",
        backupRetentionPeriod: file.backupRetentionDays,
        serverlessv2ScalingConfiguration: {
          minCapacity: 0,
          maxCapacity: file.maxCapacity,
          secondsUntilAutoPause: DEFAULTS.supportDbSecondsUntilAutoPause,
        },
      });
      expect(c.masterPassword).toBeUndefined();
      const writers = ofType(run(), T.clusterInstance);
      expect(writers).toHaveLength(1);
      expect(writers[0]?.inputs).toMatchObject({
        instanceClass: "db.serverless",
        engine: "aurora-postgresql",
        publiclyAccessible: false,
        clusterIdentifier: clusters[0]?.id,
      });
      const params = ofType(run(), T.clusterParameterGroup)[0]?.inputs;
      expect(params.family).toBe("aurora-postgresql16");
      expect(params.parameters).toContainEqual({ name: "rds.force_ssl", value: "1" });
      expect(params.parameters).toContainEqual({
        name: "idle_session_timeout",
        value: String(DEFAULTS.supportDbIdleSessionTimeoutSeconds * 1000),
      });
      expect(c.dbClusterParameterGroupName).toBe(
        `${ofType(run(), T.clusterParameterGroup)[0]?.name}-0a1b2c3`,
      );
      // Everything connects to the cluster's writer endpoint, with the cluster's managed secret.
      const o = run().outputs;
      expect(o.supportDatabase.address).toMatch(/^support-0a1b2c3\.cluster-/);
      expect(o.supportDatabase.secretArn).toMatch(/:secret:rds!cluster-support$/);
      // The migrations wait for the writer: a cluster without an instance accepts no connection.
      expect(ofType(run(), T.invocation)[0]?.options?.dependsOn).toContain("support-writer");
    });

    it("applies the migrations through the migrate function, keyed on their checksum", () => {
      const invocation = ofType(run(), T.invocation);
      expect(invocation).toHaveLength(1);
      const migrate = named(run(), T.fn, "support-migrate");
      expect(invocation[0]?.inputs.functionName).toBe(`${migrate.name}-0a1b2c3`);
      expect(invocation[0]?.inputs.triggers.migrations).toMatch(/^[0-9a-f]{64}$/);
      expect(invocation[0]?.inputs.triggers.migrations).toBe(run().outputs.migrationsChecksum);
      const statements = policyOfRole(run(), migrate.inputs.role);
      const users = run().outputs.supportDatabase.userSecretArns as Record<string, string>;
      expect(actionsOn(statements, "secretsmanager:GetSecretValue").sort()).toEqual(
        [run().outputs.supportDatabase.secretArn, ...Object.values(users)].sort(),
      );
      // It writes each component's credentials; nothing else may.
      expect(actionsOn(statements, "secretsmanager:PutSecretValue").sort()).toEqual(
        Object.values(users).sort(),
      );
      for (const p of ofType(run(), T.rolePolicy).filter((x) => x.name !== "support-migrate"))
        expect(actionsOn(statementsOf(p), "secretsmanager:PutSecretValue"), p.name).toEqual([]);
      const env = migrate.inputs.environment.variables;
      expect(JSON.parse(env.SUPPORT_USER_SECRETS)).toEqual(users);
      // Re-applied when a user's grants change, not only a migration.
      expect(invocation[0]?.inputs.triggers.users).toBe(supportUsersChecksum());
    });

    it("declares each component's user secret without a value: passwords never pass through Pulumi", () => {
      const users = ofType(run(), T.secret).filter((s) => s.name.startsWith("support-user-"));
      expect(users.map((s) => s.name).sort()).toEqual(
        ["curate", "plan", "reconcile", "summarize", "worker"].map((c) => `support-user-${c}`),
      );
      const versions = ofType(run(), T.secretVersion).map((v) => v.name);
      for (const u of users) expect(versions).not.toContain(u.name);
    });
  });

  describe("source connections", () => {
    it("keeps an active and a snapshot secret per source, written from secret config, and the Glue connection references the active one", () => {
      const secrets = ofType(run(), T.secret).filter((s) => s.name.startsWith("sources-"));
      // No production side: neither stack file names one.
      expect(secrets.map((s) => s.name).sort()).toEqual([
        "sources-ddc",
        "sources-ddc-snapshot",
        "sources-mongodb",
        "sources-mongodb-snapshot",
      ]);
      for (const [source, key] of [
        ["ddc", "oven-lakehouse:ddcConnection"],
        ["mongodb", "oven-lakehouse:mongodbConnection"],
      ] as const) {
        // The active secret starts from the snapshot settings, as the snapshot side's does.
        for (const name of [`sources-${source}`, `sources-${source}-snapshot`]) {
          const version = named(run(), T.secretVersion, name).inputs;
          expect(isSecret(version.secretString)).toBe(true);
          expect(JSON.parse(unwrap(version.secretString))).toMatchObject(
            JSON.parse(FAKE_SECRETS[key]) as Record<string, unknown>,
          );
          expect(version.secretId).toBe(named(run(), T.secret, name).id);
        }
      }
      const ddc = named(run(), T.connection, "sources-ddc").inputs;
      const props = unwrap(ddc.connectionProperties);
      expect(props.SECRET_ID).toBe("sources-ddc-0a1b2c3");
      expect(unwrap(props.JDBC_CONNECTION_URL)).toBe(
        "jdbc:postgresql://ddc.example.internal:5432/ddc?sslmode=require",
      );
      expect(props.JDBC_ENFORCE_SSL).toBe("true");
      expect(JSON.stringify(ddc)).not.toMatch(/PASSWORD|USERNAME|password-never/);
      const support = named(run(), T.connection, "glue-support").inputs;
      expect(unwrap(support.connectionProperties)).toMatchObject({
        SECRET_ID: run().outputs.supportDatabase.userSecretArns.curate,
        JDBC_ENFORCE_SSL: "true",
      });
      expect(support.physicalConnectionRequirements.availabilityZone).toBe(`${REGION}a`);
    });

    it("leaves what the cutover switches to the cutover script once created (ignoreChanges)", () => {
      const ignored = (type: string, name: string) => named(run(), type, name).options?.ignoreChanges;
      for (const source of SOURCES) {
        expect(ignored(T.secretVersion, `sources-${source}`)).toEqual(["secretString"]);
        // The sides stay Pulumi's: `pulumi up` writes them from the stack config.
        expect(ignored(T.secretVersion, `sources-${source}-snapshot`)).toEqual([]);
        expect(ignored(T.secret, `sources-${source}`)).toEqual([]);
      }
      // The job reads the active secret; the connection's URL is unused, so stays Pulumi's.
      expect(ignored(T.connection, "sources-ddc")).toEqual([]);
      // The other two settings a cutover switches (docs/adr/0016).
      expect(ofType(run(), T.schedule)[0]?.options?.ignoreChanges).toEqual(["state"]);
      expect(ignored(T.alarm, "monitoring-no-successful-run")).toEqual(["actionsEnabled"]);
      // Nothing else ignores a change, but the catalog's Iceberg tables (their metadata is Glue's).
      const others = run()
        .resources.filter((r) => (r.options?.ignoreChanges.length ?? 0) > 0)
        .filter((r) => r.type !== T.table)
        .map((r) => `${r.type} ${r.name}`)
        .sort();
      expect(others).toEqual(
        [
          `${T.secretVersion} sources-ddc`,
          `${T.secretVersion} sources-mongodb`,
          `${T.schedule} pipeline-schedule`,
          `${T.alarm} monitoring-no-successful-run`,
        ].sort(),
      );
    });

    it("exports the cutover targets: CutoverTargetsSchema parses them, naming what the pipeline reads", () => {
      const o = run().outputs;
      const targets = CutoverTargetsSchema.parse(o.cutover);
      // The active secrets are the ones the functions read...
      for (const step of ["plan", "worker", "summarize", "reconcile"]) {
        const env = named(run(), T.fn, `ingest-${step}`).inputs.environment.variables;
        expect(env.DDC_SECRET_ID, step).toBe(targets.secrets.ddc.active);
        expect(env.MONGODB_SECRET_ID, step).toBe(targets.secrets.mongodb.active);
      }
      // ...postgres_extract reads at each run...
      const extract = named(run(), T.job, "glue-postgres_extract").inputs;
      expect(extract.defaultArguments["--secret_id"]).toBe(targets.secrets.ddc.active);
      // ...and the Glue connection names (by name; a secret's ARN is `...:secret:<name>-<6 chars>`).
      const glue = named(run(), T.connection, "sources-ddc");
      const secretId = unwrap(glue.inputs.connectionProperties).SECRET_ID;
      expect(targets.secrets.ddc.active).toMatch(
        new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${secretId}-[A-Za-z0-9]{6}$`),
      );
      const arnOf = (name: string) =>
        `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${name}-0a1b2c3-AbCdEf`;
      expect(targets.secrets).toEqual({
        ddc: { active: arnOf("sources-ddc"), snapshot: arnOf("sources-ddc-snapshot") },
        mongodb: { active: arnOf("sources-mongodb"), snapshot: arnOf("sources-mongodb-snapshot") },
      });
      const schedule = ofType(run(), T.schedule)[0] as Recorded;
      expect(schedule.inputs.groupName).toBeUndefined();
      expect(targets.schedule).toEqual({ name: o.scheduleName, group: "default" });
      expect(targets.noSuccessAlarm).toBe(o.noSuccessAlarmName);
      expect(targets.stateMachineArn).toBe(o.stateMachineArn);
      expect(targets.support).toEqual({
        secret: o.supportDatabase.secretArn,
        host: o.supportDatabase.address,
        port: 5432,
        dbname: "support",
      });
      // Exactly the contract's keys, and readable: `pulumi stack output --json` prints a secret
      // output as "[secret]".
      expect(targets).toEqual(o.cutover);
      expect(run().secretOutputs).not.toContain("cutover");
      const text = JSON.stringify(o.cutover);
      for (const value of Object.values(FAKE_SECRETS))
        expect(text).not.toContain((JSON.parse(value) as { password: string }).password);
    });

    it("lets no function or job read the snapshot or production secrets: only the cutover does", () => {
      const sides = ofType(run(), T.secret)
        .filter((s) => /^sources-\w+-(snapshot|production)$/.test(s.name))
        .map((s) => `secret:${s.name}-`);
      expect(sides).toHaveLength(2);
      for (const p of ofType(run(), T.rolePolicy))
        for (const s of statementsOf(p))
          for (const resource of asList(s.Resource)) {
            for (const side of sides) expect(resource, `${p.name} ${s.Sid}`).not.toContain(side);
            if (resource.includes(":secretsmanager:"))
              expect(resource, `${p.name} ${s.Sid}`).not.toContain("*");
          }
    });
  });

  describe("catalog", () => {
    it("declares the three databases", () => {
      expect(
        ofType(run(), T.database)
          .map((d) => d.inputs.name)
          .sort(),
      ).toEqual(["analytics", "mongodb", "postgres"]);
    });

    it.each(collections.map((c) => [c.name, c] as const))("raw %s columns equal the registry", (name, c) => {
      const t = named(run(), T.table, `catalog-raw_${name}`).inputs;
      expect(t.databaseName).toBe("mongodb");
      expect(t.storageDescriptor.columns).toEqual(glueColumnsOf(c));
      expect(t.storageDescriptor.location).toBe(`s3://lake-mongodb-raw-0a1b2c3/${name}/`);
    });

    it.each([
      ...collections.map((c) => ["mongodb", c.name, c] as const),
      ...tables.map((t) => ["postgres", t.name, t] as const),
    ])("%s.%s is an Iceberg table with the registry's schema and three optimizers", (db, _name, entry) => {
      const t = named(run(), T.table, `catalog-${db}-${entry.name}`);
      const input = t.inputs.openTableFormatInput.icebergInput.icebergTableInput;
      expect(t.inputs.databaseName).toBe(db);
      expect(input.schema.fields).toEqual(
        icebergSchemaOf(entry).fields.map((f) => ({ ...f, type: JSON.stringify(f.type) })),
      );
      const optimizers = ofType(run(), T.optimizer).filter(
        (o) => o.inputs.tableName === entry.name && o.inputs.databaseName === db,
      );
      expect(optimizers.map((o) => o.inputs.type).sort()).toEqual([
        "compaction",
        "orphan_file_deletion",
        "retention",
      ]);
      for (const o of optimizers) expect(o.inputs.configuration.enabled).toBe(true);
    });

    it("partitions curated collections by device bucket and time, sorted by device and time", () => {
      const alarm = named(run(), T.table, "catalog-mongodb-alarm").inputs.openTableFormatInput.icebergInput
        .icebergTableInput;
      expect(alarm.partitionSpec.fields).toEqual([
        { fieldId: 1000, name: "id_device_bucket", sourceId: expect.any(Number), transform: "bucket[16]" },
        { fieldId: 1001, name: "active_ts_year", sourceId: expect.any(Number), transform: "year" },
      ]);
      expect(alarm.sortOrder.fields).toHaveLength(2);
    });

    it("declares each curated table with the properties the curate job sets when it creates one", () => {
      for (const c of jobTables().collections) {
        const input = named(run(), T.table, `catalog-mongodb-${c.name}`).inputs.openTableFormatInput
          .icebergInput.icebergTableInput;
        expect(input.properties).toEqual(c.properties);
      }
      // The crash workaround must reach Glue's own sessions too (pipeline/schema/iceberg.ts).
      expect(ICEBERG_TABLE_PROPERTIES["read.parquet.vectorization.enabled"]).toBe("false");
    });

    it.each(reportTables.map((r) => [r.name, r] as const))(
      "analytics.%s is declared from its report definition, with three optimizers",
      (_name, report) => {
        const t = named(run(), T.table, `catalog-analytics-${report.name}`);
        const input = t.inputs.openTableFormatInput.icebergInput.icebergTableInput;
        expect(t.inputs).toMatchObject({ databaseName: "analytics", name: report.name });
        expect(input.location).toBe(`s3://lake-analytics-0a1b2c3/${report.name}`);
        expect(input.schema.fields).toEqual(
          reportIcebergSchemaOf(report).fields.map((f) => ({ ...f, type: JSON.stringify(f.type) })),
        );
        // What the analytics job would create locally, from the same job tables entry.
        const job = jobTables().reports.find((r) => r.name === report.name);
        expect(input.properties).toEqual(job?.properties);
        expect(input.partitionSpec).toBeUndefined();
        const optimizers = ofType(run(), T.optimizer).filter(
          (o) => o.inputs.tableName === report.name && o.inputs.databaseName === "analytics",
        );
        expect(optimizers.map((o) => o.inputs.type).sort()).toEqual([
          "compaction",
          "orphan_file_deletion",
          "retention",
        ]);
        const optimizerRole = named(run(), T.role, "catalog-optimizer");
        for (const o of optimizers) {
          expect(o.inputs.configuration.enabled).toBe(true);
          expect(o.inputs.configuration.roleArn.endsWith(`:${optimizerRole.name}`)).toBe(true);
        }
      },
    );

    it("declares each analysts' view as a Glue view of analytics, after what it reads, in order", () => {
      const declared = ofType(run(), T.table).filter((t) => t.inputs.tableType === "VIRTUAL_VIEW");
      expect(declared.map((t) => t.inputs.name)).toEqual(views.map((v) => v.name));
      expect(run().outputs.viewNames).toEqual(views.map((v) => v.name));
      views.forEach((view, i) => {
        const t = named(run(), T.table, `catalog-view-${view.name}`);
        const expected = glueViewTable(view, ACCOUNT_ID);
        expect(t.inputs).toMatchObject({
          databaseName: "analytics",
          name: view.name,
          tableType: "VIRTUAL_VIEW",
          viewOriginalText: expected.viewOriginalText,
          viewExpandedText: "/* Presto View */",
          parameters: { presto_view: "true", comment: "Presto View" },
          storageDescriptor: {
            columns: expected.storageDescriptor.columns,
            serDeInfo: expected.storageDescriptor.serDeInfo,
          },
        });
        const decoded = decodePrestoView(t.inputs.viewOriginalText);
        expect(decoded.originalSql).toBe(view.sql("athena"));
        expect(decoded.columns.map((c) => c.name)).toEqual(view.columns.map((c) => c.name));
        // After every table and view its SQL reads, and after the view before it.
        const sources = viewSources(view).map((src) =>
          views.some((v) => v.name === src.table)
            ? `catalog-view-${src.table}`
            : `catalog-${src.database}-${src.table}`,
        );
        const previous = i > 0 ? [`catalog-view-${views[i - 1]?.name}`] : [];
        for (const dependency of [...sources, ...previous])
          expect(t.options?.dependsOn, `${view.name} after ${dependency}`).toContain(dependency);
        for (const dependency of sources) named(run(), T.table, dependency);
      });
    });

    it("lets the optimizers' role rewrite and expire files of every table it optimizes, and no other", () => {
      const statements = policyOfRole(run(), ofType(run(), T.optimizer)[0]?.inputs.configuration.roleArn);
      const bucket = { postgres: "postgres", mongodb: "mongodb-curated", analytics: "analytics" } as const;
      const deletable = actionsOn(statements, "s3:DeleteObject");
      const tablesOptimized = new Set(
        ofType(run(), T.optimizer).map((o) => `${o.inputs.databaseName}/${o.inputs.tableName}`),
      );
      expect(new Set(deletable.map((a) => a.replace(/^arn:aws:s3:::lake-|-0a1b2c3|\/\*$/g, "")))).toEqual(
        new Set(
          [...tablesOptimized].map((t) => {
            const [db, table] = t.split("/") as [keyof typeof bucket, string];
            return `${bucket[db]}/${table}`;
          }),
        ),
      );
      for (const db of Object.keys(bucket))
        expect(actionsOn(statements, "glue:UpdateTable")).toContain(
          `arn:aws:glue:${REGION}:${ACCOUNT_ID}:table/${db}/*`,
        );
    });

    it("leaves the analytics tables to Pulumi: the analytics job commits to them, never creates or drops one", () => {
      const statements = policyOfRole(run(), named(run(), T.job, "glue-analytics").inputs.roleArn);
      const analyticsTables = `arn:aws:glue:${REGION}:${ACCOUNT_ID}:table/analytics/*`;
      for (const action of ["glue:GetTable", "glue:UpdateTable"]) {
        expect(actionsOn(statements, action)).toContain(analyticsTables);
      }
      for (const action of ["glue:CreateTable", "glue:DeleteTable"]) {
        expect(actionsOn(statements, action)).toEqual([]);
      }
    });
  });

  describe("glue jobs", () => {
    const jobs = {
      postgres_extract: "postgresExtract",
      mongodb_curate: "curate",
      analytics: "analytics",
    } as const;

    it.each(Object.keys(jobs))(
      "%s runs its uploaded script on Glue 5.0 with Iceberg and the registry's table list",
      async (job) => {
        const j = named(run(), T.job, `glue-${job}`).inputs;
        const assets = "lake-glue-assets-0a1b2c3";
        expect(j.glueVersion).toBe("5.0");
        expect(j.command.scriptLocation).toBe(`s3://${assets}/scripts/${job}.py`);
        const script = ofType(run(), T.object).find((o) => o.inputs.key === `scripts/${job}.py`);
        expect(await script?.inputs.source.path).toBe(join(ROOT, "glue", "jobs", `${job}.py`));
        const args = j.defaultArguments;
        expect(args["--datalake-formats"]).toBe("iceberg");
        expect(args["--job_tables"]).toBe(`s3://${assets}/config/job-tables.json`);
        expect(args["--extra-py-files"]).toBe(`s3://${assets}/lib/lakehouse_glue.zip`);
        expect(args["--conf"]).toContain(
          "spark.sql.catalog.glue_catalog.warehouse=s3://lake-mongodb-curated-0a1b2c3/",
        );
        expect(args["--conf"]).toContain("org.apache.iceberg.aws.glue.GlueCatalog");
        expect(args["--job-bookmark-option"]).toBe("job-bookmark-disable");
        expect(j.executionProperty.maxConcurrentRuns).toBe(1);
        // Glue 5.0 logs in real time to `<prefix>/error` and `<prefix>/output`, both declared
        // with a retention; Glue 4.0's continuous-logging switches would be ignored.
        expect(Object.keys(args).filter((k) => k.includes("continuous"))).toEqual([]);
        const prefix = args["--custom-logGroup-prefix"];
        expect(prefix).toBe(`/oven-lakehouse/${stack}/glue`);
        const groups = ofType(run(), T.logGroup).map((g) => g.inputs.name);
        expect(groups).toEqual(expect.arrayContaining([`${prefix}/error`, `${prefix}/output`]));
      },
    );

    it("passes the connections each job needs", () => {
      const args = (job: string) => named(run(), T.job, `glue-${job}`).inputs;
      expect(args("postgres_extract").connections).toEqual(["sources-ddc-0a1b2c3"]);
      expect(args("postgres_extract").defaultArguments["--connection_name"]).toBe("sources-ddc-0a1b2c3");
      // The database's settings come from the active secret, which a cutover switches.
      expect(args("postgres_extract").defaultArguments["--secret_id"]).toBe(
        run().outputs.sourceSecretArns.ddc,
      );
      expect(args("mongodb_curate").defaultArguments).not.toHaveProperty("--secret_id");
      expect(args("mongodb_curate").connections).toEqual(["glue-support-0a1b2c3"]);
      expect(args("mongodb_curate").defaultArguments).toMatchObject({
        "--connection_name": "glue-support-0a1b2c3",
        "--raw_location": "s3://lake-mongodb-raw-0a1b2c3/",
      });
      expect(args("analytics").connections).toEqual([]);
    });

    it("uploads the registry's job tables and the shared package", async () => {
      const tablesObject = ofType(run(), T.object).find((o) => o.inputs.key === "config/job-tables.json");
      expect(JSON.parse(tablesObject?.inputs.content)).toEqual(jobTables());
      const zip = ofType(run(), T.object).find((o) => o.inputs.key === "lib/lakehouse_glue.zip");
      const files = Object.keys(await zip?.inputs.source.assets);
      expect(files).toContain("lakehouse_glue/__init__.py");
      expect(files.every((k) => k.startsWith("lakehouse_glue/") && k.endsWith(".py"))).toBe(true);
    });

    it("gives each job only its layers", () => {
      const resources = (job: string, action: string) =>
        actionsOn(policyOfRole(run(), named(run(), T.job, `glue-${job}`).inputs.roleArn), action);
      // Iceberg writers write and delete inside their tables' folders only.
      const inLayers = (job: string, action: string) =>
        resources(job, action).filter((r) => !r.includes("lake-glue-assets"));
      for (const action of ["s3:PutObject", "s3:DeleteObject"]) {
        expect(inLayers("postgres_extract", action).sort()).toEqual(
          tables.map((t) => `arn:aws:s3:::lake-postgres-0a1b2c3/${t.name}/*`).sort(),
        );
        expect(inLayers("mongodb_curate", action).sort()).toEqual(
          collections.map((c) => `arn:aws:s3:::lake-mongodb-curated-0a1b2c3/${c.name}/*`).sort(),
        );
      }
      expect(resources("mongodb_curate", "s3:DeleteObject").join()).not.toMatch(/mongodb-raw/);
      expect(resources("postgres_extract", "s3:PutObject").join()).not.toMatch(/mongodb/);
      expect(resources("mongodb_curate", "s3:PutObject").join()).not.toMatch(/mongodb-raw|postgres/);
      expect(resources("mongodb_curate", "s3:GetObject")).toContain(
        "arn:aws:s3:::lake-mongodb-raw-0a1b2c3/*",
      );
      expect(resources("analytics", "s3:PutObject").join()).not.toMatch(/mongodb|postgres/);
      expect(resources("postgres_extract", "secretsmanager:GetSecretValue")).toEqual([
        run().outputs.sourceSecretArns.ddc,
      ]);
    });
  });

  describe("functions", () => {
    it.each(["plan", "worker", "summarize", "reconcile"])(
      "%s is the bundled handler in the VPC, configured from the stack",
      async (step) => {
        const fn = named(run(), T.fn, `ingest-${step}`).inputs;
        expect(fn).toMatchObject({ runtime: "nodejs24.x", handler: "index.handler" });
        expect(await fn.code.path).toBe(join(ROOT, ".local", "build", "functions", step));
        expect(fn.vpcConfig.securityGroupIds).toEqual(["sg-lakehouse-functions"]);
        const env = fn.environment.variables;
        expect(FunctionEnvSchema.safeParse(env).success).toBe(true);
        expect(env).toMatchObject({
          DDC_SECRET_ID: run().outputs.sourceSecretArns.ddc,
          MONGODB_SECRET_ID: run().outputs.sourceSecretArns.mongodb,
          SUPPORT_SECRET_ID: run().outputs.supportDatabase.userSecretArns[step],
          SUPPORT_DB_HOST: run().outputs.supportDatabase.address,
          RAW_LAKE_URL: "s3://lake-mongodb-raw-0a1b2c3/",
        });
        // Only the worker runs with the benchmarked heap cap.
        expect(env.NODE_OPTIONS).toBe(step === "worker" ? WORKER_NODE_OPTIONS : undefined);
      },
    );

    it("gives each function only the secrets and buckets its step uses", () => {
      const statements = (step: string) =>
        policyOfRole(run(), named(run(), T.fn, `ingest-${step}`).inputs.role);
      const secrets = (step: string) => actionsOn(statements(step), "secretsmanager:GetSecretValue").sort();
      const o = run().outputs;
      const users = o.supportDatabase.userSecretArns;
      expect(secrets("plan")).toEqual([o.sourceSecretArns.ddc, users.plan].sort());
      expect(secrets("worker")).toEqual([o.sourceSecretArns.mongodb, users.worker].sort());
      expect(secrets("summarize")).toEqual(
        [o.sourceSecretArns.ddc, o.sourceSecretArns.mongodb, users.summarize].sort(),
      );
      expect(secrets("reconcile")).toEqual(
        [o.sourceSecretArns.ddc, o.sourceSecretArns.mongodb, users.reconcile].sort(),
      );
      const raw = (prefix: string) => `arn:aws:s3:::lake-mongodb-raw-0a1b2c3/${prefix}*`;
      const folders = collections.map((c) => raw(`${c.name}/`));
      expect(actionsOn(statements("worker"), "s3:PutObject")).toEqual([...folders, raw("_quarantine/")]);
      // The worker removes only a raw object of its own that failed its row-count check; it never
      // deletes a quarantined copy, and the other functions delete nothing.
      expect(actionsOn(statements("worker"), "s3:DeleteObject")).toEqual(folders);
      for (const step of ["plan", "summarize"])
        expect(actionsOn(statements(step), "s3:DeleteObject"), step).toEqual([]);
      expect(actionsOn(statements("plan"), "s3:PutObject")).toEqual([]);
      // The orphan sweep writes quarantine copies, nothing else.
      expect(actionsOn(statements("summarize"), "s3:PutObject")).toEqual([
        "arn:aws:s3:::lake-mongodb-raw-0a1b2c3/_quarantine/*",
      ]);
      // Reconcile's repair re-extracts windows with the worker's code: the worker's raw access,
      // statement for statement, and nothing more.
      const s3Statements = (step: string) =>
        statements(step).filter((s) => asList(s.Action).some((a) => a.startsWith("s3:")));
      expect(s3Statements("reconcile")).toEqual(s3Statements("worker"));
    });

    it("lets reconcile write raw objects but never read the lake: it compares counts", () => {
      const statements = policyOfRole(run(), named(run(), T.fn, "ingest-reconcile").inputs.role);
      const raw = "arn:aws:s3:::lake-mongodb-raw-0a1b2c3";
      expect(actionsOn(statements, "s3:PutObject")).toContain(`${raw}/events/*`);
      expect(actionsOn(statements, "s3:PutObject")).toContain(`${raw}/_quarantine/*`);
      // Not even raw: it lists only the folders it may delete in (the worker's own cleanup).
      expect(actionsOn(statements, "s3:GetObject")).toEqual([]);
      const resources = statements.flatMap((s) => asList(s.Resource)).join(" ");
      expect(resources).not.toMatch(/lake-mongodb-curated|lake-postgres|lake-analytics/);
      // No Glue or Athena either: curated's counts come from the support database.
      const actions = statements.flatMap((s) => asList(s.Action));
      expect(actions.filter((a) => /^(glue|athena|lakeformation):/.test(a))).toEqual([]);
    });

    it("sizes reconcile from the stack, logs to its own group, and names it for an operator", () => {
      const fn = named(run(), T.fn, "ingest-reconcile").inputs;
      const size = JSON.parse(stackConfig(stack)["oven-lakehouse:functions"] ?? "{}").reconcile;
      expect({ memoryMb: fn.memorySize, timeoutSeconds: fn.timeout }).toEqual(size);
      const group = named(run(), T.logGroup, "ingest-reconcile").inputs;
      expect(group.name).toBe(`/oven-lakehouse/${stack}/lambda/reconcile`);
      expect(group.retentionInDays).toBe(Number(stackConfig(stack)["oven-lakehouse:logRetentionDays"]));
      expect(fn.loggingConfig.logGroup).toBe(group.name);
      expect(run().outputs.reconcileFunctionName).toBe("ingest-reconcile-0a1b2c3");
      expect(run().outputs.functionNames.reconcile).toBe(run().outputs.reconcileFunctionName);
    });
  });

  describe("orchestration", () => {
    it("lets one execution run at a time, within a deadline", () => {
      const sm = ofType(run(), T.stateMachine)[0] as Recorded;
      const definition = JSON.parse(sm.inputs.definition);
      const hours = JSON.parse(
        stackConfig(stack)["oven-lakehouse:orchestration"] ?? "{}",
      ).executionTimeoutHours;
      expect(definition.TimeoutSeconds).toBe((hours ?? 20) * 3600);
      expect(definition.StartAt).toBe(TASK.guard);
      expect(sm.inputs.name).toBe(`oven-lakehouse-${stack}-pipeline`);
      // The Guard lists the machine's own executions, with the machine's own role.
      expect(actionsOn(policyOfRole(run(), sm.inputs.roleArn), "states:ListExecutions")).toEqual([
        run().outputs.stateMachineArn,
      ]);
    });

    it("sends a start the scheduler could not deliver to a dead-letter queue, and alarms on it", () => {
      const schedule = ofType(run(), T.schedule)[0]?.inputs;
      const queue = ofType(run(), T.queue);
      expect(queue).toHaveLength(1);
      expect(schedule.target.deadLetterConfig.arn).toBe(
        `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${queue[0]?.name}-0a1b2c3`,
      );
      expect(actionsOn(policyOfRole(run(), schedule.target.roleArn), "sqs:SendMessage")).toEqual([
        schedule.target.deadLetterConfig.arn,
      ]);
      const alarm = ofType(run(), T.alarm).find((a) => a.inputs.namespace === "AWS/SQS")?.inputs;
      expect(alarm?.dimensions.QueueName).toBe(`${queue[0]?.name}-0a1b2c3`);
    });

    it("deploys the pipeline's own state machine definition, and it passes asl-validator", () => {
      const sm = ofType(run(), T.stateMachine);
      expect(sm).toHaveLength(1);
      const definition = JSON.parse(sm[0]?.inputs.definition);
      const fnArn = (step: string) =>
        `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:ingest-${step}-0a1b2c3`;
      const job = (name: string) => `glue-${name}-0a1b2c3`;
      const config = JSON.parse(stackConfig(stack)["oven-lakehouse:orchestration"] ?? "{}");
      const functions = JSON.parse(stackConfig(stack)["oven-lakehouse:functions"] ?? "{}");
      const glue = JSON.parse(stackConfig(stack)["oven-lakehouse:glue"] ?? "{}");
      expect(definition).toEqual(
        buildStateMachine(
          {
            planFunctionArn: fnArn("plan"),
            workerFunctionArn: fnArn("worker"),
            summarizeFunctionArn: fnArn("summarize"),
            reconcileFunctionArn: fnArn("reconcile"),
            postgresExtractJob: job("postgres_extract"),
            curateJob: job("mongodb_curate"),
            analyticsJob: job("analytics"),
          },
          {
            maxConcurrency: config.mapConcurrency,
            workerRetries: config.workerRetries,
            reconcileShards: config.reconcileShards ?? 1,
            timeouts: taskTimeouts({
              functionSeconds: {
                plan: functions.plan.timeoutSeconds,
                worker: functions.worker.timeoutSeconds,
                summarize: functions.summarize.timeoutSeconds,
                reconcile: functions.reconcile.timeoutSeconds,
              },
              glueJobMinutes: glue.timeoutMinutes ?? 240,
            }),
            executionTimeoutSeconds: (config.executionTimeoutHours ?? 20) * 3600,
          },
        ),
      );
      const result = aslValidator(definition);
      expect(result.errorsText()).toBe("");
      expect(result.isValid).toBe(true);
      const ingest = definition.States.Extract.Branches[1].States;
      expect(ingest[TASK.plan].Resource).toBe(fnArn("plan"));
      expect(ingest.Ingest.ItemProcessor.States[TASK.worker].Resource).toBe(fnArn("worker"));
      // Reconcile last, reporting only (repair is an operator's call), one function a shard.
      expect(definition.States[TASK.analytics].Next).toBe(RECONCILE_SHARD_LIST);
      const shards = config.reconcileShards ?? 1;
      expect(definition.States[RECONCILE_SHARD_LIST].Result).toEqual(
        Array.from({ length: shards }, (_, index) => ({ index, count: shards })),
      );
      expect(definition.States[RECONCILE_MAP]).toMatchObject({
        MaxConcurrency: Math.min(shards, config.mapConcurrency),
        ItemSelector: { mode: "auto", repair: false, "shard.$": "$$.Map.Item.Value" },
        Next: "Outcome",
      });
      expect(definition.States[RECONCILE_MAP].ItemProcessor.States[TASK.reconcile]).toMatchObject({
        Resource: fnArn("reconcile"),
        TimeoutSeconds: functions.reconcile.timeoutSeconds + 60,
      });
    });

    it("lets the state machine invoke exactly its four functions and run exactly its three jobs", () => {
      const sm = ofType(run(), T.stateMachine)[0] as Recorded;
      const statements = policyOfRole(run(), sm.inputs.roleArn);
      expect(actionsOn(statements, "lambda:InvokeFunction").sort()).toEqual(
        ["plan", "worker", "summarize", "reconcile"]
          .map((s) => `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:ingest-${s}-0a1b2c3`)
          .sort(),
      );
      for (const action of [
        "glue:StartJobRun",
        "glue:GetJobRun",
        "glue:GetJobRuns",
        "glue:BatchStopJobRun",
      ]) {
        expect(actionsOn(statements, action).sort()).toEqual(
          ["analytics", "mongodb_curate", "postgres_extract"].map(
            (j) => `arn:aws:glue:${REGION}:${ACCOUNT_ID}:job/glue-${j}-0a1b2c3`,
          ),
        );
      }
    });

    it("creates the schedule disabled, starting the state machine with its own role", () => {
      const schedule = ofType(run(), T.schedule)[0]?.inputs;
      expect(schedule.state).toBe("DISABLED");
      expect(schedule.target.arn).toBe(run().outputs.stateMachineArn);
      const statements = policyOfRole(run(), schedule.target.roleArn);
      expect(actionsOn(statements, "states:StartExecution")).toEqual([run().outputs.stateMachineArn]);
    });
  });

  describe("analytics", () => {
    it("limits bytes scanned, encrypts and enforces results, and saves the Alarms report", () => {
      const wg = ofType(run(), T.workgroup)[0]?.inputs.configuration;
      expect(wg.enforceWorkgroupConfiguration).toBe(true);
      expect(wg.bytesScannedCutoffPerQuery).toBeGreaterThanOrEqual(10_485_760);
      expect(wg.resultConfiguration.encryptionConfiguration.encryptionOption).toBe("SSE_S3");
      expect(wg.resultConfiguration.outputLocation).toBe("s3://lake-athena-results-0a1b2c3/");
      const report = named(run(), T.namedQuery, "analytics-alarms-report").inputs;
      expect(report).toMatchObject({ database: "analytics", query: ALARMS_REPORT_SQL });
    });

    it("saves one query per analysts' question, in the workgroup, on analytics", () => {
      const queries = ofType(run(), T.namedQuery).filter((q) => q.name !== "analytics-alarms-report");
      expect(queries.map((q) => q.inputs)).toEqual(
        ANALYST_QUESTIONS.map((q) => ({
          name: questionQueryName(q),
          description: q.question,
          database: "analytics",
          workgroup: run().outputs.athenaWorkgroup,
          query: q.sql,
        })),
      );
      expect(new Set(queries.map((q) => q.inputs.name)).size).toBe(ANALYST_QUESTIONS.length);
    });

    it("gives QuickSight one dataset per report dataset, reading its view with the view's columns", () => {
      const ds = ofType(run(), T.qsDataSource)[0]?.inputs;
      expect(ds.type).toBe("ATHENA");
      expect(ds.parameters.athena.workGroup).toBe(run().outputs.athenaWorkgroup);
      const sets = ofType(run(), T.qsDataSet);
      expect(sets.map((s) => s.name).sort()).toEqual(["analytics-alarm-facts", "analytics-open-alarms"]);
      for (const d of alarmsReport.datasets) {
        const set = named(run(), T.qsDataSet, `analytics-${d.id.replaceAll("_", "-")}`);
        expect(set.inputs.importMode).toBe("DIRECT_QUERY");
        expect(set.inputs.physicalTableMaps).toHaveLength(1);
        expect(set.inputs.physicalTableMaps[0].relationalTable).toEqual({
          dataSourceArn: expect.stringContaining(":analytics-athena"),
          catalog: "AwsDataCatalog",
          schema: "analytics",
          name: d.view.name,
          inputColumns: d.view.columns.map((c) => ({ name: c.name, type: QUICKSIGHT_TYPE[c.type] })),
        });
        // Declared once the views exist.
        for (const v of views) expect(set.options?.dependsOn).toContain(`catalog-view-${v.name}`);
        expect(run().outputs.quicksightDataSetIds[d.id]).toBe(set.inputs.dataSetId);
      }
    });

    it("renders the dashboard from the report definition and shares every asset with the principal", () => {
      const ds = ofType(run(), T.qsDataSource)[0]?.inputs;
      const sets = ofType(run(), T.qsDataSet);
      const dashboards = ofType(run(), T.cloudcontrol).filter(
        (r) => r.inputs.typeName === "AWS::QuickSight::Dashboard",
      );
      expect(dashboards.map((d) => d.name)).toEqual(["analytics-alarms-dashboard"]);
      const dashboard = JSON.parse(dashboards[0]?.inputs.desiredState);
      const principals = [ds, ...sets.map((s) => s.inputs)].map((r) => r.permissions[0].principal);
      expect(new Set([...principals, dashboard.Permissions[0].Principal]).size).toBe(1);
      const arns = Object.fromEntries(
        alarmsReport.datasets.map((d) => [
          d.id,
          `arn:aws:quicksight:${REGION}:${ACCOUNT_ID}:analytics-${d.id.replaceAll("_", "-")}`,
        ]),
      );
      expect(dashboard.Definition).toEqual(dashboardDefinition(alarmsReport, arns));
      expect(dashboard).toMatchObject({
        AwsAccountId: ACCOUNT_ID,
        DashboardId: `oven-lakehouse-${stack}-alarms`,
      });
      // The old dataset on the pre-aggregated table is gone, and no topic without the flag.
      expect(JSON.stringify(sets.map((s) => s.inputs))).not.toContain("alarms_daily");
      expect(ofType(run(), T.cloudcontrol).map((r) => r.inputs.typeName)).toEqual([
        "AWS::QuickSight::Dashboard",
      ]);
    });

    it("lets QuickSight read what the views read: the three databases and their layers", () => {
      const source = ofType(run(), T.qsDataSource)[0]?.inputs;
      const statements = policyOfRole(run(), source.parameters.athena.roleArn);
      for (const db of ["analytics", "mongodb", "postgres"])
        expect(actionsOn(statements, "glue:GetTable")).toContain(
          `arn:aws:glue:${REGION}:${ACCOUNT_ID}:table/${db}/*`,
        );
      const readable = actionsOn(statements, "s3:GetObject").join(" ");
      for (const bucket of ["analytics", "mongodb-curated", "postgres"])
        expect(readable).toContain(`arn:aws:s3:::lake-${bucket}-0a1b2c3/*`);
      expect(readable).not.toContain("lake-mongodb-raw");
      expect(actionsOn(statements, "s3:PutObject").join(" ")).not.toMatch(
        /lake-(analytics|mongodb|postgres)/,
      );
    });

    it("gives analysts a role of the account: read-only queries in the workgroup, reads of the lake", () => {
      const role = named(run(), T.role, "analytics-analyst");
      expect(run().outputs.analystRoleArn).toBe(`arn:aws:iam:${REGION}:${ACCOUNT_ID}:analytics-analyst`);
      const trust = JSON.parse(role.inputs.assumeRolePolicy).Statement;
      expect(trust).toEqual([
        { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: "sts:AssumeRole" },
      ]);
      const statements = policyOfRole(run(), run().outputs.analystRoleArn);
      const workgroup = `arn:aws:athena:${REGION}:${ACCOUNT_ID}:workgroup/${run().outputs.athenaWorkgroup}`;
      const athena = statements.flatMap((s) => asList(s.Action)).filter((a) => a.startsWith("athena:"));
      expect(athena.sort()).toEqual([...ANALYST_ATHENA_ACTIONS, ...ANALYST_CATALOG_ACTIONS].sort());
      for (const a of ANALYST_ATHENA_ACTIONS) expect(actionsOn(statements, a)).toEqual([workgroup]);
      for (const a of ANALYST_CATALOG_ACTIONS)
        expect(actionsOn(statements, a)).toEqual([
          `arn:aws:athena:${REGION}:${ACCOUNT_ID}:datacatalog/AwsDataCatalog`,
        ]);
      // Read-only: nothing that creates, changes or deletes in Athena.
      for (const a of athena)
        expect(a).toMatch(/^athena:(Get|List|BatchGet|StartQueryExecution|StopQueryExecution)/);
      const glue = statements.flatMap((s) => asList(s.Action)).filter((a) => a.startsWith("glue:"));
      for (const a of glue) expect(a).toMatch(/^glue:Get/);
      for (const db of ["analytics", "mongodb", "postgres"])
        expect(actionsOn(statements, "glue:GetTables")).toContain(
          `arn:aws:glue:${REGION}:${ACCOUNT_ID}:database/${db}`,
        );
      const readable = actionsOn(statements, "s3:GetObject").join(" ");
      for (const bucket of ["analytics", "mongodb-curated", "postgres", "athena-results"])
        expect(readable).toContain(`arn:aws:s3:::lake-${bucket}-0a1b2c3/*`);
      expect(readable).not.toMatch(/lake-(mongodb-raw|glue-assets)/);
      // Writes only query results; deletes nothing.
      expect(actionsOn(statements, "s3:PutObject")).toEqual(["arn:aws:s3:::lake-athena-results-0a1b2c3/*"]);
      expect(actionsOn(statements, "s3:DeleteObject")).toEqual([]);
      for (const s of statements)
        for (const a of asList(s.Action))
          expect(a).not.toMatch(/^(iam|kms|quicksight|glue:(Create|Update|Delete))/);
    });
  });

  describe("monitoring", () => {
    it("alarms on failed executions and on every collection's worker errors, failed batches and quarantine", () => {
      const alarms = ofType(run(), T.alarm).map((a) => a.inputs);
      const failed = alarms.find((a) => a.metricName === "ExecutionsFailed");
      expect(failed?.dimensions.StateMachineArn).toBe(run().outputs.stateMachineArn);
      for (const metric of ["WorkerErrors", "FailedBatches", "DocumentsQuarantined"]) {
        const perCollection = alarms.filter(
          (a) => a.metricName === metric && a.namespace === "OvenLakehouse",
        );
        expect(perCollection.map((a) => a.dimensions.Collection).sort()).toEqual(
          collections.map((c) => c.name).sort(),
        );
      }
      for (const a of alarms) expect(a.alarmActions).toEqual([run().outputs.alarmTopicArn]);
    });

    it("alarms on aborted executions, a support database running short, and no success for a day", () => {
      const alarms = ofType(run(), T.alarm);
      const metrics = alarms.map((a) => `${a.inputs.namespace} ${a.inputs.metricName}`);
      for (const m of [
        "AWS/States ExecutionsAborted",
        "AWS/States ExecutionsTimedOut",
        "AWS/RDS ACUUtilization",
        "AWS/RDS CPUUtilization",
      ])
        expect(metrics).toContain(m);
      // Aurora's storage grows by itself: no free-storage alarm; a cluster at its maximum alarms.
      expect(metrics).not.toContain("AWS/RDS FreeStorageSpace");
      const capacity = named(run(), T.alarm, "monitoring-support-db-capacity").inputs;
      expect(capacity).toMatchObject({
        threshold: DEFAULTS.supportDbCapacityPercent,
        comparisonOperator: "GreaterThanThreshold",
        dimensions: { DBInstanceIdentifier: "support-writer-0a1b2c3" },
      });
      const stale = named(run(), T.alarm, "monitoring-no-successful-run").inputs;
      expect(stale).toMatchObject({
        metricName: "ExecutionsSucceeded",
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "breaching",
        evaluationPeriods: 26,
        // Armed by the cutover, with the schedule: no page before the pipeline is meant to run.
        actionsEnabled: false,
      });
      expect(run().outputs.noSuccessAlarmName).toBe(
        `${stale.name ?? "monitoring-no-successful-run-0a1b2c3"}`,
      );
    });

    it("alarms when reconcile finds any difference, once for the whole run", () => {
      const alarm = named(run(), T.alarm, "monitoring-reconcile-differences").inputs;
      expect(alarm).toMatchObject({
        namespace: "OvenLakehouse",
        metricName: "ReconcileDifferences",
        statistic: "Maximum",
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
        alarmActions: [run().outputs.alarmTopicArn],
        okActions: [run().outputs.alarmTopicArn],
      });
      // The step's whole-run record has no dimensions; one with any would never match it.
      expect(alarm.dimensions).toBeUndefined();
      expect(alarm.alarmDescription).toContain('{"repair": true, "shard": {"index": i, "count": N}}');
      expect(alarm.alarmDescription).toContain("orchestration.reconcileShards");
      expect((alarm.alarmDescription as string).length).toBeLessThanOrEqual(1024);
      expect(alarm.alarmDescription).toContain("reconcileFunctionName");
    });

    it("declares exactly the alarms it means to, and no more", () => {
      const names = ofType(run(), T.alarm)
        .map((a) => a.name)
        .sort();
      const connections = JSON.parse(
        stackConfig(stack)["oven-lakehouse:monitoring"] ?? "{}",
      ).supportDbConnections;
      expect(names).toEqual(
        [
          ...EXECUTION_ALARMS.map((a) => `monitoring-${a.key}`),
          "monitoring-no-successful-run",
          "monitoring-schedule-undelivered",
          "monitoring-support-db-capacity",
          "monitoring-support-db-cpu",
          ...(connections === undefined ? [] : ["monitoring-support-db-connections"]),
          `monitoring-${RECONCILE_ALARM.key}`,
          ...collections.flatMap((c) => COLLECTION_ALARMS.map((a) => `monitoring-${a.key}-${c.name}`)),
        ].sort(),
      );
    });

    it("sets a retention on every log group", () => {
      for (const g of ofType(run(), T.logGroup)) expect(g.inputs.retentionInDays).toBeGreaterThan(0);
    });
  });

  describe("security", () => {
    it("grants no wildcard action and no '*' resource on data", () => {
      const policies = ofType(run(), T.rolePolicy);
      expect(policies.length).toBeGreaterThanOrEqual(10);
      for (const p of policies) {
        for (const s of statementsOf(p)) {
          expect(s.Effect).toBe("Allow");
          for (const a of asList(s.Action)) expect(a, `${p.name} ${s.Sid}`).not.toContain("*");
          if (asList(s.Resource).includes("*"))
            for (const a of asList(s.Action))
              expect(UNSCOPED_ACTIONS.has(a), `${p.name} ${a} on *`).toBe(true);
        }
      }
    });

    it("lets each role be assumed by one service only, with conditions that service sends", () => {
      // The analysts' role is the one role for people (checked in "analytics").
      const roles = ofType(run(), T.role).filter((r) => r.name !== "analytics-analyst");
      expect(roles.length).toBe(ofType(run(), T.role).length - 1);
      for (const r of roles) {
        const trust = JSON.parse(r.inputs.assumeRolePolicy).Statement;
        expect(trust).toHaveLength(1);
        expect(Object.keys(trust[0].Principal)).toEqual(["Service"]);
        const service = trust[0].Principal.Service;
        if (["states.amazonaws.com", "scheduler.amazonaws.com"].includes(service))
          expect(trust[0].Condition).toEqual({ StringEquals: { "aws:SourceAccount": ACCOUNT_ID } });
        else expect(trust[0].Condition, `${r.name} (${service})`).toBeUndefined();
      }
    });

    it("puts s3:prefix only on ListBucket, where the key exists", () => {
      for (const p of ofType(run(), T.rolePolicy))
        for (const s of statementsOf(p))
          if (JSON.stringify(s.Condition ?? {}).includes("s3:prefix"))
            expect(asList(s.Action), `${p.name} ${s.Sid}`).toEqual(["s3:ListBucket"]);
    });

    it("sends database traffic only to the sources' networks and the support database", () => {
      const networks = JSON.parse(deployableConfig(stack)["oven-lakehouse:sourceNetworks"] ?? "{}");
      const cidrs = ofType(run(), T.egress)
        .map((e) => e.inputs.cidrIpv4)
        .filter(Boolean);
      expect(cidrs).not.toContain("0.0.0.0/0");
      expect(new Set(cidrs)).toEqual(new Set([...networks.ddc.cidrs, ...networks.mongodb.cidrs]));
      const toDatabase = ofType(run(), T.egress).filter((e) => e.inputs.fromPort === 5432);
      // ddc's CIDR from both groups, and the support database's group from both.
      expect(toDatabase.filter((e) => e.inputs.referencedSecurityGroupId === "sg-support-db")).toHaveLength(
        2,
      );
    });

    it("never puts a secret in an environment variable or in plain config", () => {
      const passwords = Object.values(FAKE_SECRETS).map(
        (s) => (JSON.parse(s) as { password: string }).password,
      );
      for (const fn of ofType(run(), T.fn)) {
        const env = fn.inputs.environment.variables as Record<string, string>;
        for (const [k, v] of Object.entries(env)) {
          expect(k).not.toMatch(/PASSWORD|CONNECTION/);
          for (const p of passwords) expect(v, `${fn.name} ${k}`).not.toContain(p);
        }
      }
      // Only the secret versions carry the values, and only as Pulumi secrets.
      for (const r of run().resources.filter((x) => x.type !== T.secretVersion)) {
        const text = JSON.stringify(r.inputs);
        for (const p of passwords) expect(text, `${r.type} ${r.name}`).not.toContain(p);
      }
      const file = readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
      for (const key of [
        "ddcConnection",
        "mongodbConnection",
        "productionDdcConnection",
        "productionMongodbConnection",
      ]) {
        const line = file.split("\n").find((l) => l.trim().startsWith(`oven-lakehouse:${key}:`));
        // Absent (set per deployment with --secret) or an encrypted `secure:` value.
        if (line) expect(file).toMatch(new RegExp(`oven-lakehouse:${key}:\\s*\\n\\s+secure:`));
      }
      expect(file).not.toMatch(/password/i);
    });
  });
});

describe("dev and prod", () => {
  /** Flattened inputs of every resource, as `type name path` → value. */
  function flatten(run: StackRun): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (prefix: string, v: unknown) => {
      v = unwrap(v);
      if (Array.isArray(v)) {
        for (const [i, x] of v.entries()) walk(`${prefix}[${i}]`, x);
      } else if (
        v &&
        typeof v === "object" &&
        !(v instanceof Promise) &&
        !("path" in v) &&
        !("assets" in v)
      ) {
        for (const [k, x] of Object.entries(v)) walk(`${prefix}.${k}`, x);
      } else if (typeof v === "string" && v.startsWith("{")) {
        try {
          walk(prefix, JSON.parse(v));
        } catch {
          out.set(prefix, v);
        }
      } else out.set(prefix, JSON.stringify(v));
    };
    for (const r of run.resources) walk(`${r.type} ${r.name}`, r.inputs);
    return out;
  }

  /**
   * Every input that may differ, by the config key it comes from: matched on the input's path
   * (list indexes dropped) or on the values (ids that move when a list grows).
   */
  const FROM_CONFIG: Record<string, { path?: RegExp; value?: RegExp }> = {
    "oven-lakehouse:environment": {
      value: /\/oven-lakehouse\/(dev|prod)\/|oven-lakehouse-(dev|prod)|\((dev|prod)\)/,
    },
    "oven-lakehouse:vpcId": { path: /\.vpcId$/ },
    // Before subnetIds, whose values it shares: the first match explains a difference.
    "oven-lakehouse:endpointSubnetIds": {
      path: /^aws:ec2\/vpcEndpoint:VpcEndpoint lakehouse-\w+\.subnetIds$/,
    },
    "oven-lakehouse:subnetIds": { value: /subnet-0|security-group\/sg-lakehouse/ },
    "oven-lakehouse:routeTableIds": { value: /rtb-0/ },
    "oven-lakehouse:supportDatabase": {
      path: /^aws:rds\/cluster:Cluster support\.(serverlessv2ScalingConfiguration\.maxCapacity|backupRetentionPeriod)$/,
    },
    "oven-lakehouse:sourceNetworks": { path: /\.cidrIpv4$/ },
    "oven-lakehouse:deletionProtection": {
      path: /\.(deletionProtection|skipFinalSnapshot|finalSnapshotIdentifier|forceDestroy|recoveryWindowInDays)$/,
    },
    "oven-lakehouse:functions": {
      path: /\.(memorySize|timeout|LOG_LEVEL|INGEST_WORKERS(\.\w+)*|(Plan|Worker|Summarize|Reconcile)\.TimeoutSeconds)$/,
    },
    "oven-lakehouse:orchestration": {
      path: /(\.scheduleExpression|\.MaxConcurrency|\.ReconcileShards\.Result\.(index|count))$/,
    },
    "oven-lakehouse:glue": {
      path: /^aws:glue\/job:Job .*\.(workerType|numberOfWorkers|timeout|defaultArguments\.--enable-metrics)$|\.(PostgresExtract|Curate|Analytics)\.TimeoutSeconds$|^aws:ec2\/vpcEndpoint:VpcEndpoint lakehouse-monitoring\./,
    },
    "oven-lakehouse:alarmEmail": { path: /^aws:sns\/topicSubscription:TopicSubscription / },
    "oven-lakehouse:quicksightPrincipalArn": { path: /\.(principal|Principal)$/ },
    "oven-lakehouse:logRetentionDays": { path: /\.retentionInDays$/ },
    "oven-lakehouse:retention": {
      path: /^aws:s3\/bucketLifecycleConfiguration:BucketLifecycleConfiguration lake-mongodb-raw\.rules\./,
    },
    "oven-lakehouse:athenaBytesScannedLimit": { path: /\.bytesScannedCutoffPerQuery$/ },
  };

  it("differ exactly where their config does", () => {
    const a = flatten(dev);
    const b = flatten(prod);
    const unexplained: string[] = [];
    const explainedBy = new Set<string>();
    for (const k of new Set([...a.keys(), ...b.keys()])) {
      if (a.get(k) === b.get(k)) continue;
      const path = k.replace(/\[\d+\]/g, "");
      const values = `${a.get(k)} ${b.get(k)}`;
      const hit = Object.entries(FROM_CONFIG).find(
        ([, m]) => (m.path?.test(path) ?? false) || (m.value?.test(values) ?? false),
      );
      if (hit) explainedBy.add(hit[0]);
      else unexplained.push(`${k}: ${a.get(k)} → ${b.get(k)}`.slice(0, 300));
    }
    expect(unexplained).toEqual([]);
    // Each key whose value differs between the stack files shows in the deployments.
    const devFile = deployableConfig("dev");
    const prodFile = deployableConfig("prod");
    const differing = Object.keys({ ...devFile, ...prodFile }).filter(
      (k) => devFile[k] !== prodFile[k] && !k.startsWith("aws:"),
    );
    expect([...explainedBy].sort()).toEqual(differing.sort());
    expect(ofType(dev, T.subscription)).toHaveLength(0);
    expect(ofType(prod, T.subscription)).toHaveLength(1);
    expect(ofType(dev, T.endpoint).filter((e) => e.name === "lakehouse-monitoring")).toHaveLength(1);
    expect(ofType(prod, T.endpoint).filter((e) => e.name === "lakehouse-monitoring")).toHaveLength(0);
  });

  it("declare the same resources", () => {
    const ids = (run: StackRun) =>
      run.resources
        // The alarm email's subscription, and the endpoint of Glue's job metrics (glue.metrics).
        .filter(
          (r) => r.type !== T.subscription && !(r.type === T.endpoint && r.name === "lakehouse-monitoring"),
        )
        .map((r) => `${r.type} ${r.name}`)
        .sort();
    expect(ids(prod)).toEqual(ids(dev));
  });
});

describe("what the stack sets to lower its cost", () => {
  const endpointSubnets = (run: StackRun) =>
    ofType(run, T.endpoint).filter((e) => e.inputs.vpcEndpointType === "Interface");
  const rawRules = (run: StackRun) =>
    named(run, T.lifecycle, "lake-mongodb-raw").inputs.rules as {
      id: string;
      filter: { prefix?: string; and?: { prefix: string; tags: Record<string, string> } };
      expiration?: { days: number };
      noncurrentVersionExpiration?: { noncurrentDays: number };
    }[];
  const prodRetention = JSON.parse(deployableConfig("prod")["oven-lakehouse:retention"] as string) as {
    rawDays: number;
    rawCuratedDays: number;
    rawNoncurrentDays: number;
  };

  it("places the interface endpoints in endpointSubnetIds, else in every subnet", () => {
    const prodSubnets = JSON.parse(deployableConfig("prod")["oven-lakehouse:endpointSubnetIds"] as string);
    expect(prodSubnets).toHaveLength(1);
    expect(endpointSubnets(prod)).toHaveLength(3);
    for (const e of endpointSubnets(prod)) expect(e.inputs.subnetIds).toEqual(prodSubnets);
    const devSubnets = JSON.parse(deployableConfig("dev")["oven-lakehouse:subnetIds"] as string);
    for (const e of endpointSubnets(dev)) expect(e.inputs.subnetIds).toEqual(devSubnets);
  });

  it("expires raw objects per collection after retention.rawDays, and leaves _quarantine/ its own rule", () => {
    const rules = rawRules(prod);
    const raw = rules.filter((r) => r.id.startsWith("expire-raw-"));
    expect(raw.map((r) => r.filter.prefix).sort()).toEqual(collections.map((c) => `${c.name}/`).sort());
    expect(prodRetention.rawDays).toBeGreaterThan(prodRetention.rawCuratedDays);
    for (const r of raw) expect(r.expiration?.days).toBe(prodRetention.rawDays);
    expect(rules.find((r) => r.id === "expire-quarantine")).toMatchObject({
      filter: { prefix: "_quarantine/" },
      expiration: { days: 90 },
    });
    // No rule reaches every key: quarantined documents must keep their review time.
    expect(rules.filter((r) => r.expiration?.days && r.filter.prefix === "")).toEqual([]);
    expect(rawRules(dev).filter((r) => r.id.startsWith("expire-raw-"))).toEqual([]);
  });

  it("keeps raw versions retention.rawNoncurrentDays under the collections, the other layers' elsewhere", () => {
    const rules = rawRules(prod);
    expect(prodRetention.rawNoncurrentDays).toBeLessThan(30);
    for (const r of rules.filter((x) => x.id.startsWith("expire-raw-")))
      expect(r.noncurrentVersionExpiration).toEqual({ noncurrentDays: prodRetention.rawNoncurrentDays });
    // `_quarantine/` keeps the bucket-wide rule's 30 days (S3 honours the shorter where both apply).
    const wide = rules.filter((r) => r.noncurrentVersionExpiration && !r.id.startsWith("expire-raw-"));
    expect(wide).toEqual([
      expect.objectContaining({ id: "expire-noncurrent-versions", filter: { prefix: "" } }),
    ]);
    expect(wide[0]?.noncurrentVersionExpiration).toEqual({ noncurrentDays: 30 });
    expect(rules.find((r) => r.id === "expire-quarantine")?.noncurrentVersionExpiration).toBeUndefined();
  });

  it("expires what the curate job has tagged after retention.rawCuratedDays, per collection", () => {
    const tagged = rawRules(prod).filter((r) => r.id.startsWith("expire-curated-raw-"));
    expect(tagged.map((r) => r.filter.and?.prefix).sort()).toEqual(
      collections.map((c) => `${c.name}/`).sort(),
    );
    for (const r of tagged) {
      // Exactly the tag the curate job puts (the job tables carry the same constant to Python).
      expect(r.filter).toEqual({
        and: { prefix: r.filter.and?.prefix, tags: { [RAW_CURATED_TAG.key]: RAW_CURATED_TAG.value } },
      });
      expect(r.expiration).toEqual({ days: prodRetention.rawCuratedDays });
      expect(r.noncurrentVersionExpiration).toBeUndefined();
    }
    expect(jobTables().rawObjects.curatedTag).toEqual(RAW_CURATED_TAG);
    expect(rawRules(dev).filter((r) => r.id.startsWith("expire-curated-raw-"))).toEqual([]);
  });

  it("lets the curate job put that tag alone, on the collections' raw objects only", () => {
    const curate = named(prod, T.job, "glue-mongodb_curate").inputs.roleArn;
    const tagging = policyOfRole(prod, curate).filter((s) =>
      asList(s.Action).includes("s3:PutObjectTagging"),
    );
    expect(tagging).toHaveLength(1);
    const [statement] = tagging as [PolicyStatement];
    expect(asList(statement.Action)).toEqual(["s3:PutObjectTagging"]);
    expect(asList(statement.Resource).sort()).toEqual(
      collections.map((c) => `arn:aws:s3:::lake-mongodb-raw-0a1b2c3/${c.name}/*`).sort(),
    );
    expect(statement.Condition).toEqual({
      StringEquals: { [`s3:RequestObjectTag/${RAW_CURATED_TAG.key}`]: RAW_CURATED_TAG.value },
      "ForAllValues:StringEquals": { "s3:RequestObjectTagKeys": [RAW_CURATED_TAG.key] },
    });
    // No other role may tag objects (the lifecycle would expire what curate never read).
    const curateRole = ofType(prod, T.role).find((r) => curate.endsWith(`:${r.name}`));
    const others = ofType(prod, T.rolePolicy).filter((p) => p.inputs.role !== curateRole?.id);
    expect(others.length).toBeGreaterThan(5);
    for (const p of others)
      expect(statementsOf(p).flatMap((s) => asList(s.Action))).not.toContain("s3:PutObjectTagging");
  });

  it("sets only a version life on raw when the stack shortens raw's versions but keeps its objects", async () => {
    const retention = JSON.parse(deployableConfig("dev")["oven-lakehouse:retention"] ?? "{}");
    const run = await runStack("dev", {
      "oven-lakehouse:retention": JSON.stringify({ ...retention, rawNoncurrentDays: 2 }),
    });
    const raw = rawRules(run).filter((r) => r.id.startsWith("expire-raw-"));
    expect(raw).toHaveLength(collections.length);
    for (const r of raw) {
      expect(r.expiration).toBeUndefined();
      expect(r.noncurrentVersionExpiration).toEqual({ noncurrentDays: 2 });
    }
  });

  it("moves curated files to Intelligent-Tiering when written, and no other layer's", () => {
    for (const run of [dev, prod]) {
      const transitions = (bucket: string) =>
        (named(run, T.lifecycle, `lake-${bucket}`).inputs.rules as { transitions?: unknown[] }[]).flatMap(
          (r) => r.transitions ?? [],
        );
      expect(transitions("mongodb-curated")).toEqual([{ days: 0, storageClass: "INTELLIGENT_TIERING" }]);
      for (const bucket of ["mongodb-raw", "postgres", "analytics", "athena-results", "glue-assets"])
        expect(transitions(bucket)).toEqual([]);
    }
  });

  it("publishes Glue job metrics by default (dev); without them (prod), no monitoring endpoint", () => {
    const monitoringEndpoints = (run: StackRun) =>
      endpointSubnets(run).filter((e) => e.inputs.serviceName.endsWith(".monitoring"));
    for (const j of ofType(dev, T.job)) expect(j.inputs.defaultArguments["--enable-metrics"]).toBe("true");
    expect(monitoringEndpoints(dev)).toHaveLength(1);
    const prodJobs = ofType(prod, T.job);
    expect(prodJobs.length).toBeGreaterThan(0);
    for (const j of prodJobs) expect(j.inputs.defaultArguments).not.toHaveProperty("--enable-metrics");
    expect(monitoringEndpoints(prod)).toEqual([]);
  });

  it("turns Glue auto scaling on by default, and off when glue.autoScaling is false", async () => {
    for (const j of ofType(prod, T.job))
      expect(j.inputs.defaultArguments["--enable-auto-scaling"]).toBe("true");
    const glue = JSON.parse(deployableConfig("dev")["oven-lakehouse:glue"] as string);
    const fixed = await runStack("dev", {
      "oven-lakehouse:glue": JSON.stringify({ ...glue, autoScaling: false }),
    });
    const jobs = ofType(fixed, T.job);
    expect(jobs.length).toBeGreaterThan(0);
    for (const j of jobs) expect(j.inputs.defaultArguments).not.toHaveProperty("--enable-auto-scaling");
  });
});

describe("a stack with production connections configured", () => {
  let live: StackRun;
  let ddcOnly: StackRun;

  beforeAll(async () => {
    live = await runStack("dev", {}, { ...FAKE_SECRETS, ...FAKE_PRODUCTION_SECRETS });
    ddcOnly = await runStack(
      "dev",
      {},
      {
        ...FAKE_SECRETS,
        "oven-lakehouse:productionDdcConnection":
          FAKE_PRODUCTION_SECRETS["oven-lakehouse:productionDdcConnection"],
      },
    );
  }, 120_000);

  it("adds a production secret per configured source, Pulumi's, holding exactly the config's value", () => {
    for (const [source, key] of [
      ["ddc", "oven-lakehouse:productionDdcConnection"],
      ["mongodb", "oven-lakehouse:productionMongodbConnection"],
    ] as const) {
      const secret = named(live, T.secret, `sources-${source}-production`);
      const version = named(live, T.secretVersion, `sources-${source}-production`);
      expect(version.inputs.secretId).toBe(secret.id);
      expect(isSecret(version.inputs.secretString)).toBe(true);
      expect(JSON.parse(unwrap(version.inputs.secretString))).toEqual(
        JSON.parse(FAKE_PRODUCTION_SECRETS[key]),
      );
      expect(version.options?.ignoreChanges).toEqual([]);
      expect(secret.inputs.recoveryWindowInDays).toBe(7);
    }
    const targets = CutoverTargetsSchema.parse(live.outputs.cutover);
    expect(targets.secrets.ddc.production).toBe(
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:sources-ddc-production-0a1b2c3-AbCdEf`,
    );
    expect(targets.secrets.mongodb.production).toBe(
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:sources-mongodb-production-0a1b2c3-AbCdEf`,
    );
  });

  it("declares production only where it is configured", () => {
    const names = (run: StackRun) =>
      ofType(run, T.secret)
        .map((s) => s.name)
        .filter((n) => n.endsWith("-production"));
    expect(names(live).sort()).toEqual(["sources-ddc-production", "sources-mongodb-production"]);
    expect(names(ddcOnly)).toEqual(["sources-ddc-production"]);
    expect(names(dev)).toEqual([]);
    const targets = CutoverTargetsSchema.parse(ddcOnly.outputs.cutover);
    expect(targets.secrets.ddc.production).toBeDefined();
    expect(targets.secrets.mongodb).not.toHaveProperty("production");
    expect(CutoverTargetsSchema.parse(dev.outputs.cutover).secrets.ddc).not.toHaveProperty("production");
  });

  it("still points the pipeline at the snapshot until the cutover switches it", () => {
    for (const source of SOURCES) {
      const active = named(live, T.secretVersion, `sources-${source}`).inputs.secretString;
      const snapshot = named(live, T.secretVersion, `sources-${source}-snapshot`).inputs.secretString;
      expect(unwrap(active)).toBe(unwrap(snapshot));
    }
    const props = unwrap(named(live, T.connection, "sources-ddc").inputs.connectionProperties);
    expect(unwrap(props.JDBC_CONNECTION_URL)).toBe(
      "jdbc:postgresql://ddc.example.internal:5432/ddc?sslmode=require",
    );
    // The rest of the graph is the same as without production connections.
    const ids = (run: StackRun) =>
      run.resources
        .filter((r) => !r.name.endsWith("-production") && !/-to-ddc-6432-/.test(r.name))
        .map((r) => `${r.type} ${r.name}`)
        .sort();
    expect(ids(live)).toEqual(ids(dev));
  });

  it("opens the production side's database port to the sources' networks when it differs", () => {
    const networks = JSON.parse(deployableConfig("dev")["oven-lakehouse:sourceNetworks"] ?? "{}");
    const to = (run: StackRun, port: number) =>
      ofType(run, T.egress)
        .filter((e) => e.inputs.fromPort === port && e.inputs.cidrIpv4)
        .map((e) => e.inputs.cidrIpv4);
    // ddc production listens on 6432 (from both security groups); mongodb+srv names no port.
    expect(to(live, 6432).sort()).toEqual([...networks.ddc.cidrs, ...networks.ddc.cidrs].sort());
    expect(to(dev, 6432)).toEqual([]);
    expect(to(live, 27017).sort()).toEqual(to(dev, 27017).sort());
  });

  it("writes the production passwords only into the production secret versions, as Pulumi secrets", () => {
    const passwords = Object.values(FAKE_PRODUCTION_SECRETS).map(
      (s) => (JSON.parse(s) as { password: string }).password,
    );
    for (const r of live.resources) {
      const text = JSON.stringify(r.inputs);
      const holder = r.type === T.secretVersion && r.name.endsWith("-production");
      if (!holder) for (const p of passwords) expect(text, `${r.type} ${r.name}`).not.toContain(p);
    }
    for (const fn of ofType(live, T.fn)) {
      const env = JSON.stringify(fn.inputs.environment.variables);
      expect(env).not.toMatch(/-production|-snapshot/);
    }
    expect(JSON.stringify(live.outputs)).not.toMatch(/live-password/);
  });

  it("lets no function or job read the production secrets", () => {
    const sides = ofType(live, T.secret)
      .filter((s) => /-(snapshot|production)$/.test(s.name))
      .map((s) => `secret:${s.name}-`);
    expect(sides).toHaveLength(4);
    const resources = ofType(live, T.rolePolicy).flatMap((p) =>
      statementsOf(p).flatMap((s) => asList(s.Resource)),
    );
    for (const side of sides) expect(resources.filter((r) => r.includes(side))).toEqual([]);
  });
});

describe("a stack with the QuickSight Q topic enabled", () => {
  let withTopic: StackRun;

  beforeAll(async () => {
    withTopic = await runStack("dev", { "oven-lakehouse:quicksightQTopic": "true" });
  }, 120_000);

  it("adds the topic over the report's datasets, and nothing else", () => {
    const topic = named(withTopic, T.cloudcontrol, "analytics-alarms-topic");
    expect(topic.inputs.typeName).toBe("AWS::QuickSight::Topic");
    const state = JSON.parse(topic.inputs.desiredState);
    const arns = Object.fromEntries(
      alarmsReport.datasets.map((d) => [
        d.id,
        `arn:aws:quicksight:${REGION}:${ACCOUNT_ID}:analytics-${d.id.replaceAll("_", "-")}`,
      ]),
    );
    expect(state).toMatchObject({
      AwsAccountId: ACCOUNT_ID,
      TopicId: "oven-lakehouse-dev-alarms",
      Name: "Alarms (dev)",
    });
    expect(state.DataSets).toEqual(topicDataSets(alarmsReport, arns));
    expect(withTopic.outputs.alarmsTopicId).toBe(topic.id);
    expect(dev.outputs.alarmsTopicId).toBeUndefined();
    const ids = (run: StackRun) =>
      run.resources
        .filter((r) => r.name !== "analytics-alarms-topic")
        .map((r) => `${r.type} ${r.name}`)
        .sort();
    expect(ids(withTopic)).toEqual(ids(dev));
  });
});

describe("a stack whose support database is an RDS instance", () => {
  let onInstance: StackRun;
  const instance = {
    kind: "instance",
    instanceClass: "db.t4g.small",
    allocatedStorageGb: 50,
    backupRetentionDays: 3,
    multiAz: true,
  };

  beforeAll(async () => {
    onInstance = await runStack("dev", { "oven-lakehouse:supportDatabase": JSON.stringify(instance) });
  });

  it("declares an encrypted, private, TLS-only instance with an RDS-managed password, and no cluster", () => {
    expect(ofType(onInstance, T.cluster)).toHaveLength(0);
    expect(ofType(onInstance, T.clusterInstance)).toHaveLength(0);
    const db = ofType(onInstance, T.rds);
    expect(db).toHaveLength(1);
    const i = db[0]?.inputs;
    expect(i).toMatchObject({
      engine: "postgres",
      instanceClass: "db.t4g.small",
      allocatedStorage: 50,
      storageType: "gp3",
      multiAz: true,
      storageEncrypted: true,
      publiclyAccessible: false,
      manageMasterUserPassword: true,
      backupRetentionPeriod: 3,
    });
    expect(i.password).toBeUndefined();
    const params = ofType(onInstance, T.parameterGroup)[0]?.inputs;
    expect(params.family).toBe(`postgres${DEFAULTS.supportDbEngineVersion}`);
    expect(params.parameters).toEqual([{ name: "rds.force_ssl", value: "1" }]);
    expect(onInstance.outputs.supportDatabase.address).toMatch(/^support\.abcdefghij\./);
    expect(ofType(onInstance, T.invocation)[0]?.options?.dependsOn).toContain("support");
  });

  it("alarms on its free storage instead of on capacity", () => {
    const storage = named(onInstance, T.alarm, "monitoring-support-db-storage").inputs;
    expect(storage).toMatchObject({
      metricName: "FreeStorageSpace",
      comparisonOperator: "LessThanThreshold",
      threshold: Math.floor(50 * 1024 ** 3 * (DEFAULTS.supportDbFreeStoragePercent / 100)),
      dimensions: { DBInstanceIdentifier: "support-0a1b2c3" },
    });
    const names = ofType(onInstance, T.alarm).map((a) => a.name);
    expect(names).not.toContain("monitoring-support-db-capacity");
    expect(names).toContain("monitoring-support-db-cpu");
  });

  it("declares the same resources as the serverless stack but for the database's own", () => {
    const own = new Set<string>([
      T.rds,
      T.parameterGroup,
      T.cluster,
      T.clusterInstance,
      T.clusterParameterGroup,
    ]);
    const ids = (run: StackRun) =>
      run.resources
        .filter((r) => !own.has(r.type) && !r.name.startsWith("monitoring-support-db-"))
        .map((r) => `${r.type} ${r.name}`)
        .sort();
    return runStack("dev").then((serverless) => expect(ids(onInstance)).toEqual(ids(serverless)));
  });
});
