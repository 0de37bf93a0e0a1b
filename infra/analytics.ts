/**
 * Analytics (docs/design.md §5): the Athena workgroup analysts and QuickSight query through (a
 * per-query bytes-scanned limit, results encrypted in their own bucket, settings enforced so a
 * client cannot turn them off), the saved queries (the Alarms report and one per analysts'
 * question), the analysts' IAM role, and the QuickSight side of the Alarms report: the data
 * source, one dataset per report dataset (a view of `analytics`), the dashboard rendered from the
 * report definition (pipeline/reports/alarms-report.ts) and, when the stack enables it, the Q topic.
 *
 * QuickSight reads through its own role (the data source's `roleArn`), which may query the
 * workgroup and read the catalog and layers the views read: no account-wide QuickSight S3 grant
 * is needed. Requires a QuickSight (Enterprise) subscription in the account and region.
 *
 * The buckets are encrypted with the AWS-managed `aws/s3` key (infra/storage.ts), whose key policy
 * lets every principal of the account use it through S3: the roles need no KMS statement.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { alarmsReport } from "../pipeline/reports/alarms-report.js";
import { ANALYST_QUESTIONS } from "../pipeline/reports/questions.js";
import { QUICKSIGHT_TYPE, REPORT_DATABASE } from "../pipeline/schema/reports.js";
import type { Catalog } from "./catalog.js";
import {
  allow,
  assumedBy,
  assumedByAccount,
  policyDocument,
  s3Access,
  s3Read,
  s3ReadWrite,
} from "./policies.js";
import { dashboardDefinition } from "./quicksight-dashboard.js";
import { topicDataSets } from "./quicksight-topic.js";
import { ALARMS_DAILY, ALARMS_REPORT_SQL, questionQueryName } from "./reports.js";
import type { LakeBucket } from "./storage.js";

export const ATHENA_ENGINE_VERSION = "Athena engine version 3";

/** What the owner of each QuickSight asset may do (the console's "owner" set). */
export const QUICKSIGHT_OWNER_ACTIONS = {
  dataSource: [
    "quicksight:DescribeDataSource",
    "quicksight:DescribeDataSourcePermissions",
    "quicksight:PassDataSource",
    "quicksight:UpdateDataSource",
    "quicksight:DeleteDataSource",
    "quicksight:UpdateDataSourcePermissions",
  ],
  dataSet: [
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:PassDataSet",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:UpdateDataSet",
    "quicksight:DeleteDataSet",
    "quicksight:CreateIngestion",
    "quicksight:CancelIngestion",
    "quicksight:UpdateDataSetPermissions",
  ],
  dashboard: [
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:UpdateDashboardPermissions",
    "quicksight:QueryDashboard",
    "quicksight:UpdateDashboard",
    "quicksight:DeleteDashboard",
    "quicksight:DescribeDashboardPermissions",
    "quicksight:UpdateDashboardPublishedVersion",
  ],
} as const;

/** The databases the views read, and so the roles that query the views must read too. */
export const VIEW_DATABASES = ["analytics", "mongodb", "postgres"] as const;

/** What analysts may do in the workgroup: run and read queries, read the saved ones. */
export const ANALYST_ATHENA_ACTIONS = [
  "athena:StartQueryExecution",
  "athena:GetQueryExecution",
  "athena:GetQueryResults",
  "athena:StopQueryExecution",
  "athena:GetWorkGroup",
  "athena:ListNamedQueries",
  "athena:GetNamedQuery",
  "athena:BatchGetNamedQuery",
] as const;

/**
 * Athena's own view of the Glue catalog, which its console's query editor lists tables with
 * (read-only; the data catalog `AwsDataCatalog` is the account's Glue Data Catalog).
 */
export const ANALYST_CATALOG_ACTIONS = [
  "athena:GetDataCatalog",
  "athena:ListDatabases",
  "athena:GetDatabase",
  "athena:ListTableMetadata",
  "athena:GetTableMetadata",
] as const;

/** Reading the Glue catalog: databases, tables (and views), partitions. */
export const GLUE_READ_ACTIONS = [
  "glue:GetDatabase",
  "glue:GetDatabases",
  "glue:GetTable",
  "glue:GetTables",
  "glue:GetPartitions",
] as const;

/** `alarm_facts` → `alarm-facts`: ids QuickSight restricts to letters, digits and hyphens. */
const hyphens = (id: string) => id.replaceAll("_", "-");

export interface AnalyticsArgs {
  readonly region: string;
  readonly accountId: pulumi.Input<string>;
  readonly environment: string;
  readonly bytesScannedLimit: number;
  readonly buckets: {
    readonly athenaResults: LakeBucket;
    readonly analytics: LakeBucket;
    readonly mongodbCurated: LakeBucket;
    readonly postgres: LakeBucket;
  };
  readonly catalog: Catalog;
  readonly quicksightPrincipalArn: string;
  /** Declare the Q topic (a paid QuickSight feature): `quicksightQTopic` in the stack config. */
  readonly qTopic: boolean;
}

export class Analytics extends pulumi.ComponentResource {
  readonly workgroup: aws.athena.Workgroup;
  readonly alarmsReport: aws.athena.NamedQuery;
  /** One saved query per analysts' question, by question id. */
  readonly questions: Readonly<Record<string, aws.athena.NamedQuery>>;
  /** The role analysts assume to query the lake (granted to people by the account's admins). */
  readonly analystRole: aws.iam.Role;
  readonly dataSource: aws.quicksight.DataSource;
  /** One dataset per dataset of the Alarms report, by report dataset id. */
  readonly dataSets: Readonly<Record<string, aws.quicksight.DataSet>>;
  readonly dashboard: aws.cloudcontrol.Resource;
  /** The Q topic, when the stack enables it. */
  readonly topic?: aws.cloudcontrol.Resource;

  constructor(name: string, args: AnalyticsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:analytics:Analytics", name, {}, opts);
    const parent = { parent: this };
    const prefix = `oven-lakehouse-${args.environment}`;

    this.workgroup = new aws.athena.Workgroup(
      `${name}-workgroup`,
      {
        name: prefix,
        description: "oven lakehouse: analysts and QuickSight",
        forceDestroy: true,
        configuration: {
          enforceWorkgroupConfiguration: true,
          publishCloudwatchMetricsEnabled: true,
          bytesScannedCutoffPerQuery: args.bytesScannedLimit,
          engineVersion: { selectedEngineVersion: ATHENA_ENGINE_VERSION },
          resultConfiguration: {
            outputLocation: args.buckets.athenaResults.url,
            // SSE_KMS would need a customer key's ARN; results expire after a few days anyway.
            encryptionConfiguration: { encryptionOption: "SSE_S3" },
          },
        },
      },
      parent,
    );

    this.alarmsReport = new aws.athena.NamedQuery(
      `${name}-alarms-report`,
      {
        name: "Alarms report",
        description: "alarms per company, device model, code and day, with time to reset (last 90 days)",
        workgroup: this.workgroup.name,
        database: ALARMS_DAILY.database,
        query: ALARMS_REPORT_SQL,
      },
      parent,
    );

    this.questions = Object.fromEntries(
      ANALYST_QUESTIONS.map((q) => [
        q.id,
        new aws.athena.NamedQuery(
          `${name}-question-${hyphens(q.id)}`,
          {
            name: questionQueryName(q),
            description: q.question,
            workgroup: this.workgroup.name,
            database: REPORT_DATABASE,
            query: q.sql,
          },
          parent,
        ),
      ]),
    );

    const c = args.catalog;
    const catalogRead = allow(
      "ReadCatalog",
      [...GLUE_READ_ACTIONS],
      [c.arns.catalog, ...VIEW_DATABASES.flatMap((db) => [c.arns.database(db), c.arns.tables(db)])],
    );
    // The layers behind the views' tables: analytics, curated MongoDB and ddc.
    const layersRead = [
      ...s3Read("AnalyticsLayer", args.buckets.analytics.arn),
      ...s3Read("CuratedLayer", args.buckets.mongodbCurated.arn),
      ...s3Read("PostgresLayer", args.buckets.postgres.arn),
    ];

    this.analystRole = new aws.iam.Role(
      `${name}-analyst`,
      {
        description: "analysts: query the lake through the Athena workgroup, read-only",
        assumeRolePolicy: assumedByAccount(args.accountId),
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-analyst`,
      {
        role: this.analystRole.id,
        policy: policyDocument([
          allow("QueryWorkgroup", [...ANALYST_ATHENA_ACTIONS], [this.workgroup.arn]),
          allow(
            "BrowseCatalog",
            [...ANALYST_CATALOG_ACTIONS],
            [pulumi.interpolate`arn:aws:athena:${args.region}:${args.accountId}:datacatalog/AwsDataCatalog`],
          ),
          catalogRead,
          ...layersRead,
          // Athena writes each query's results where the workgroup says (the bucket's root), as
          // the caller; the caller reads them back. No delete: the bucket's lifecycle expires them.
          ...s3Access("QueryResults", args.buckets.athenaResults.arn, { read: [""], write: [""] }),
        ]),
      },
      { parent: this.analystRole },
    );

    const role = new aws.iam.Role(
      `${name}-quicksight`,
      { assumeRolePolicy: assumedBy("quicksight.amazonaws.com") },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-quicksight`,
      {
        role: role.id,
        policy: policyDocument([
          allow(
            "QueryWorkgroup",
            [
              "athena:StartQueryExecution",
              "athena:GetQueryExecution",
              "athena:GetQueryResults",
              "athena:StopQueryExecution",
              "athena:GetWorkGroup",
            ],
            [this.workgroup.arn],
          ),
          catalogRead,
          ...layersRead,
          ...s3ReadWrite("QueryResults", args.buckets.athenaResults.arn),
        ]),
      },
      { parent: role },
    );

    const owner = (actions: readonly string[]) => [
      { principal: args.quicksightPrincipalArn, actions: [...actions] },
    ];
    this.dataSource = new aws.quicksight.DataSource(
      `${name}-athena`,
      {
        dataSourceId: `${prefix}-athena`,
        name: `Oven lakehouse (${args.environment})`,
        type: "ATHENA",
        parameters: { athena: { workGroup: this.workgroup.name, roleArn: role.arn } },
        permissions: owner(QUICKSIGHT_OWNER_ACTIONS.dataSource),
      },
      parent,
    );

    // One dataset per report dataset: the view as it is, queried live (the views are cheap to
    // scan and `generated_at` says when the figures were read).
    this.dataSets = Object.fromEntries(
      alarmsReport.datasets.map((d) => [
        d.id,
        new aws.quicksight.DataSet(
          `${name}-${hyphens(d.id)}`,
          {
            dataSetId: `${prefix}-${hyphens(d.id)}`,
            name: `${d.view.name.charAt(0).toUpperCase()}${d.view.name.slice(1).replaceAll("_", " ")} (${args.environment})`,
            importMode: "DIRECT_QUERY",
            physicalTableMaps: [
              {
                physicalTableMapId: hyphens(d.id),
                relationalTable: {
                  dataSourceArn: this.dataSource.arn,
                  catalog: "AwsDataCatalog",
                  schema: d.view.database,
                  name: d.view.name,
                  inputColumns: d.view.columns.map((col) => ({
                    name: col.name,
                    type: QUICKSIGHT_TYPE[col.type],
                  })),
                },
              },
            ],
            permissions: owner(QUICKSIGHT_OWNER_ACTIONS.dataSet),
          },
          { parent: this, dependsOn: [...args.catalog.views] },
        ),
      ]),
    );
    const dataSetArns = pulumi.all(
      Object.fromEntries(Object.entries(this.dataSets).map(([id, set]) => [id, set.arn])),
    );

    this.dashboard = new aws.cloudcontrol.Resource(
      `${name}-alarms-dashboard`,
      {
        typeName: "AWS::QuickSight::Dashboard",
        desiredState: pulumi.all([args.accountId, dataSetArns]).apply(([accountId, arns]) =>
          JSON.stringify({
            AwsAccountId: accountId,
            DashboardId: `${prefix}-alarms`,
            Name: `${alarmsReport.title} (${args.environment})`,
            VersionDescription: "declared by the oven lakehouse Pulumi program",
            Permissions: [
              { Principal: args.quicksightPrincipalArn, Actions: [...QUICKSIGHT_OWNER_ACTIONS.dashboard] },
            ],
            Definition: dashboardDefinition(alarmsReport, arns),
          }),
        ),
      },
      parent,
    );

    if (args.qTopic)
      this.topic = new aws.cloudcontrol.Resource(
        `${name}-alarms-topic`,
        {
          typeName: "AWS::QuickSight::Topic",
          desiredState: pulumi.all([args.accountId, dataSetArns]).apply(([accountId, arns]) =>
            JSON.stringify({
              AwsAccountId: accountId,
              TopicId: `${prefix}-alarms`,
              Name: `Alarms (${args.environment})`,
              Description: "oven alarms: which device, company and code, when, and how long to reset",
              UserExperienceVersion: "NEW_READER_EXPERIENCE",
              DataSets: topicDataSets(alarmsReport, arns),
            }),
          ),
        },
        parent,
      );

    this.registerOutputs({
      workgroup: this.workgroup.name,
      analystRoleArn: this.analystRole.arn,
      dataSetIds: Object.fromEntries(Object.entries(this.dataSets).map(([id, set]) => [id, set.dataSetId])),
      dashboardId: this.dashboard.id,
      ...(this.topic ? { topicId: this.topic.id } : {}),
    });
  }
}
