/**
 * Glue (docs/design.md §4): the three PySpark jobs on Glue 5.0 with Iceberg, their scripts uploaded from
 * `glue/jobs/`, the shared package `glue/lakehouse_glue/` shipped as a zip (`--extra-py-files`),
 * and the registry's table list as `job-tables.json` (`--job_tables`; Glue argument names use underscores, as `getResolvedOptions` returns them), so the jobs learn every
 * table and column from the same zod registry as the catalog.
 *
 * Progress is kept with the data, not in Glue job bookmarks: postgres_extract's watermarks live
 * in its Iceberg tables, mongodb_curate follows the support database's file ledger. Bookmarks
 * would be a second, disagreeing record, so they are disabled.
 *
 * Each job has its own role with only its layers: postgres_extract writes `postgres`, curate reads
 * raw and writes curated, analytics reads both and writes `analytics`.
 */
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RAW_CURATED_TAG } from "../pipeline/ingest/keys.js";
import { collections, jobTables } from "../pipeline/schema/index.js";
import { type Catalog, type DATABASE, icebergWriter } from "./catalog.js";
import { PROJECT_ROOT } from "./paths.js";
import {
  allow,
  assumedBy,
  policyDocument,
  readSecrets,
  type Statement,
  s3Access,
  s3Read,
  s3ReadWrite,
  vpcNetworkInterfaces,
} from "./policies.js";
import { jdbcConnection } from "./sources.js";
import { type LakeBucket, PREFIX } from "./storage.js";

export const GLUE_VERSION = "5.0";

/**
 * Glue 5.0's log groups of a run: system and Spark logs in `error`, the script's stdout in
 * `output`, under the prefix the job names (`--custom-logGroup-prefix`; docs: "Logging for AWS
 * Glue jobs"). Declared here, so their retention applies.
 */
export const GLUE_LOG_STREAMS = ["error", "output"] as const;
export type GlueLogStream = (typeof GLUE_LOG_STREAMS)[number];
export const glueLogGroupPrefix = (environment: string) => `/oven-lakehouse/${environment}/glue`;

/** The jobs, by their script under `glue/jobs/` (the file name is the job's name in the repo). */
export const JOBS = {
  postgresExtract: "postgres_extract",
  curate: "mongodb_curate",
  analytics: "analytics",
} as const;
export type JobKey = keyof typeof JOBS;

/** Where the repository keeps the Glue code. */
export const GLUE_SOURCES = {
  scripts: "glue/jobs",
  package: "glue/lakehouse_glue",
} as const;

export const ASSET_KEYS = {
  script: (job: string) => `${PREFIX.glueScripts}${job}.py`,
  package: `${PREFIX.glueLibraries}lakehouse_glue.zip`,
  jobTables: `${PREFIX.glueConfig}job-tables.json`,
} as const;

/** The Iceberg catalog the jobs write through: Glue Data Catalog as `glue_catalog`. */
export function icebergSparkConf(warehouse: string): string {
  const conf = {
    "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
    "spark.sql.catalog.glue_catalog": "org.apache.iceberg.spark.SparkCatalog",
    "spark.sql.catalog.glue_catalog.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
    "spark.sql.catalog.glue_catalog.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
    "spark.sql.catalog.glue_catalog.warehouse": warehouse,
  };
  // Glue takes one `--conf` argument; further pairs ride in its value, each after ` --conf `.
  return Object.entries(conf)
    .map(([k, v]) => `${k}=${v}`)
    .join(" --conf ");
}

/** The `.py` files of the shared package, as archive paths (`lakehouse_glue/...`) → files. */
export function packageFiles(root: string = PROJECT_ROOT): Record<string, string> {
  const dir = join(root, GLUE_SOURCES.package);
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory() && e.name !== "__pycache__") walk(p);
      else if (e.isFile() && e.name.endsWith(".py")) files[join("lakehouse_glue", relative(dir, p))] = p;
    }
  };
  walk(dir);
  return files;
}

export interface GlueJobSize {
  readonly workerType: string;
  readonly workers: number;
  readonly timeoutMinutes: number;
  /** Glue auto scaling: `workers` is the maximum, and a run bills the workers it used. */
  readonly autoScaling: boolean;
  /** Glue job metrics (`--enable-metrics`): billed as custom metrics, sent through an endpoint. */
  readonly metrics: boolean;
}

export interface GlueJobsArgs {
  readonly region: string;
  readonly accountId: pulumi.Input<string>;
  readonly environment: string;
  readonly buckets: {
    readonly glueAssets: LakeBucket;
    readonly postgres: LakeBucket;
    readonly mongodbRaw: LakeBucket;
    readonly mongodbCurated: LakeBucket;
    readonly analytics: LakeBucket;
  };
  readonly catalog: Catalog;
  /** The ddc Glue connection and the active ddc secret (what the cutover switches). */
  readonly ddc: { readonly connection: aws.glue.Connection; readonly secretArn: pulumi.Input<string> };
  readonly support: {
    readonly address: pulumi.Input<string>;
    readonly port: pulumi.Input<number>;
    readonly dbName: pulumi.Input<string>;
    readonly secretArn: pulumi.Input<string>;
  };
  readonly subnetId: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupId: pulumi.Input<string>;
  readonly sizes: Record<JobKey, GlueJobSize>;
  readonly logRetentionDays: number;
  /** Project root, where `glue/` lives (tests point it elsewhere). */
  readonly root?: string;
}

export class GlueJobs extends pulumi.ComponentResource {
  readonly jobs: Record<JobKey, aws.glue.Job>;
  readonly roles: Record<JobKey, aws.iam.Role>;
  readonly supportConnection: aws.glue.Connection;
  /** Glue 5.0 writes every run's logs to `<prefix>/error` and `<prefix>/output`. */
  readonly logGroups: Record<GlueLogStream, aws.cloudwatch.LogGroup>;
  readonly jobTablesUrl: pulumi.Output<string>;

  constructor(name: string, args: GlueJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:glue:GlueJobs", name, {}, opts);
    const parent = { parent: this };
    const root = args.root ?? PROJECT_ROOT;
    const assets = args.buckets.glueAssets;
    const object = (key: string, source: Omit<aws.s3.BucketObjectv2Args, "bucket" | "key">) =>
      new aws.s3.BucketObjectv2(
        `${name}-${key.replaceAll("/", "-")}`,
        { bucket: assets.name, key, ...source },
        parent,
      );

    const scripts = {} as Record<JobKey, aws.s3.BucketObjectv2>;
    for (const [k, job] of Object.entries(JOBS) as [JobKey, string][]) {
      scripts[k] = object(ASSET_KEYS.script(job), {
        source: new pulumi.asset.FileAsset(join(root, GLUE_SOURCES.scripts, `${job}.py`)),
        contentType: "text/x-python",
      });
    }
    const pkg = object(ASSET_KEYS.package, {
      source: new pulumi.asset.AssetArchive(
        Object.fromEntries(
          Object.entries(packageFiles(root)).map(([k, p]) => [k, new pulumi.asset.FileAsset(p)]),
        ),
      ),
      contentType: "application/zip",
    });
    const tablesObject = object(ASSET_KEYS.jobTables, {
      content: JSON.stringify(jobTables()),
      contentType: "application/json",
    });
    const s3url = (o: aws.s3.BucketObjectv2) => pulumi.interpolate`s3://${o.bucket}/${o.key}`;
    this.jobTablesUrl = s3url(tablesObject);

    this.supportConnection = jdbcConnection(
      `${name}-support`,
      {
        description: "support database (the file ledger), as the curate job's own user",
        jdbcUrl: pulumi.interpolate`jdbc:postgresql://${args.support.address}:${args.support.port}/${args.support.dbName}`,
        secretId: args.support.secretArn,
        enforceSsl: true,
        subnetId: args.subnetId,
        securityGroupId: args.securityGroupId,
      },
      parent,
    );

    const logPrefix = glueLogGroupPrefix(args.environment);
    this.logGroups = {} as Record<GlueLogStream, aws.cloudwatch.LogGroup>;
    for (const stream of GLUE_LOG_STREAMS) {
      this.logGroups[stream] = new aws.cloudwatch.LogGroup(
        `${name}-logs-${stream}`,
        { name: `${logPrefix}/${stream}`, retentionInDays: args.logRetentionDays },
        parent,
      );
    }

    const b = args.buckets;
    const c = args.catalog;
    const connectionArn = (conn: aws.glue.Connection) =>
      pulumi.interpolate`arn:aws:glue:${args.region}:${args.accountId}:connection/${conn.name}`;
    const catalogRead = (sid: string, dbs: (keyof typeof DATABASE)[]) =>
      allow(
        sid,
        ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartitions"],
        [c.arns.catalog, ...dbs.flatMap((db) => [c.arns.database(db), c.arns.tables(db)])],
      );
    const catalogWrite = (sid: string, db: keyof typeof DATABASE) =>
      allow(
        sid,
        ["glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"],
        [c.arns.catalog, c.arns.database(db), c.arns.tables(db)],
      );
    const connectionAccess = (
      sid: string,
      conn: aws.glue.Connection,
      secretArn: pulumi.Input<string>,
    ): Statement[] => [
      allow(`${sid}Connection`, ["glue:GetConnection"], [c.arns.catalog, connectionArn(conn)]),
      readSecrets(`${sid}Secret`, [secretArn]),
    ];

    const perJob: Record<
      JobKey,
      {
        statements: Statement[];
        connections: aws.glue.Connection[];
        args: Record<string, pulumi.Input<string>>;
      }
    > = {
      postgresExtract: {
        connections: [args.ddc.connection],
        statements: [
          ...s3Access("PostgresLayer", b.postgres.arn, icebergWriter("postgres")),
          catalogRead("CatalogRead", ["postgres"]),
          catalogWrite("CatalogWrite", "postgres"),
          ...connectionAccess("Ddc", args.ddc.connection, args.ddc.secretArn),
        ],
        args: {
          "--connection_name": args.ddc.connection.name,
          // The source's active secret, the functions' too: the job reads url, user and password
          // from it at each run, so a cutover's secret update switches the job without a redeploy
          // (the connection then only places the job in the VPC; its URL goes unused).
          "--secret_id": args.ddc.secretArn,
        },
      },
      curate: {
        connections: [this.supportConnection],
        statements: [
          ...s3Read("RawLayer", b.mongodbRaw.arn),
          // The tag on what it has curated (the raw bucket's lifecycle expires those early): that
          // tag alone, on the collections' objects, not on `_quarantine/`.
          allow(
            "RawLayerCuratedTag",
            ["s3:PutObjectTagging"],
            collections.map((c) => pulumi.interpolate`${b.mongodbRaw.arn}/${c.name}/*`),
            {
              StringEquals: { [`s3:RequestObjectTag/${RAW_CURATED_TAG.key}`]: RAW_CURATED_TAG.value },
              "ForAllValues:StringEquals": { "s3:RequestObjectTagKeys": [RAW_CURATED_TAG.key] },
            },
          ),
          ...s3Access("CuratedLayer", b.mongodbCurated.arn, icebergWriter("mongodb")),
          catalogRead("CatalogRead", ["mongodb"]),
          catalogWrite("CatalogWrite", "mongodb"),
          ...connectionAccess("Support", this.supportConnection, args.support.secretArn),
        ],
        args: {
          "--raw_location": b.mongodbRaw.url,
          "--connection_name": this.supportConnection.name,
        },
      },
      analytics: {
        connections: [],
        statements: [
          ...s3Read("CuratedLayer", b.mongodbCurated.arn),
          ...s3Read("PostgresLayer", b.postgres.arn),
          ...s3Access("AnalyticsLayer", b.analytics.arn, icebergWriter("analytics")),
          catalogRead("CatalogRead", ["mongodb", "postgres", "analytics"]),
          // Pulumi declares the report tables (catalog.ts): the job only commits to them, and
          // Iceberg's GlueCatalog commits by GetTable + UpdateTable (a version-checked swap of
          // the metadata location). No CreateTable or DeleteTable on analytics.
          allow(
            "CatalogWrite",
            ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"],
            [c.arns.catalog, c.arns.database("analytics"), c.arns.tables("analytics")],
          ),
        ],
        args: {},
      },
    };

    const jobs = {} as Record<JobKey, aws.glue.Job>;
    const roles = {} as Record<JobKey, aws.iam.Role>;
    for (const [k, job] of Object.entries(JOBS) as [JobKey, string][]) {
      const spec = perJob[k];
      const role = new aws.iam.Role(
        `${name}-${job}`,
        { assumeRolePolicy: assumedBy("glue.amazonaws.com") },
        parent,
      );
      const inVpc = spec.connections.length > 0;
      new aws.iam.RolePolicy(
        `${name}-${job}`,
        {
          role: role.id,
          policy: policyDocument([
            ...s3Read("JobCode", assets.arn, PREFIX.glueScripts),
            ...s3Read("JobLibraries", assets.arn, PREFIX.glueLibraries),
            ...s3Read("JobConfig", assets.arn, PREFIX.glueConfig),
            ...s3ReadWrite("JobTemp", assets.arn, PREFIX.glueTemp),
            ...s3ReadWrite("SparkEvents", assets.arn, PREFIX.sparkEvents),
            ...spec.statements,
            allow(
              "JobLogs",
              ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
              [
                ...GLUE_LOG_STREAMS.map((st) => pulumi.interpolate`${this.logGroups[st].arn}:*`),
                pulumi.interpolate`arn:aws:logs:${args.region}:${args.accountId}:log-group:/aws-glue/jobs/*`,
              ],
            ),
            allow("JobMetrics", ["cloudwatch:PutMetricData"], "*", {
              StringEquals: { "cloudwatch:namespace": "Glue" },
            }),
            ...(inVpc
              ? vpcNetworkInterfaces(
                  {
                    region: args.region,
                    accountId: args.accountId,
                    subnetIds: args.subnetIds,
                    securityGroupIds: [args.securityGroupId],
                  },
                  [
                    "ec2:DescribeVpcEndpoints",
                    "ec2:DescribeRouteTables",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeVpcAttribute",
                  ],
                )
              : []),
          ]),
        },
        { parent: role },
      );
      roles[k] = role;
      const size = args.sizes[k];
      jobs[k] = new aws.glue.Job(
        `${name}-${job}`,
        {
          description: `oven lakehouse ${job} (glue/jobs/${job}.py)`,
          roleArn: role.arn,
          glueVersion: GLUE_VERSION,
          command: { name: "glueetl", pythonVersion: "3", scriptLocation: s3url(scripts[k]) },
          workerType: size.workerType,
          numberOfWorkers: size.workers,
          timeout: size.timeoutMinutes,
          // The state machine owns retries; a second run at once would race on the same tables.
          maxRetries: 0,
          executionProperty: { maxConcurrentRuns: 1 },
          connections: spec.connections.map((conn) => conn.name),
          defaultArguments: {
            "--job-language": "python",
            "--job_tables": this.jobTablesUrl,
            "--extra-py-files": s3url(pkg),
            "--datalake-formats": "iceberg",
            "--conf": b.mongodbCurated.url.apply(icebergSparkConf),
            "--job-bookmark-option": "job-bookmark-disable",
            "--TempDir": pulumi.interpolate`s3://${assets.name}/${PREFIX.glueTemp}${job}/`,
            ...(size.metrics ? { "--enable-metrics": "true" } : {}),
            "--enable-job-insights": "true",
            // A daily run's increment keeps few executors busy; the fixed part (session,
            // planning, commits) then bills a few workers, not the maximum.
            ...(size.autoScaling ? { "--enable-auto-scaling": "true" } : {}),
            // Glue 5.0 logs every run in real time; continuous logging was Glue 4.0's switch.
            "--custom-logGroup-prefix": logPrefix,
            "--enable-spark-ui": "true",
            "--spark-event-logs-path": pulumi.interpolate`s3://${assets.name}/${PREFIX.sparkEvents}${job}/`,
            ...spec.args,
          },
        },
        parent,
      );
    }
    this.jobs = jobs;
    this.roles = roles;
    this.registerOutputs({
      jobNames: Object.fromEntries(Object.entries(jobs).map(([k, j]) => [k, j.name])),
      jobTablesUrl: this.jobTablesUrl,
    });
  }
}
