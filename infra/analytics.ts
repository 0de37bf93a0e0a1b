/**
 * Analytics (docs/design.md §5): the Athena workgroup analysts and QuickSight query through (a per-query
 * bytes-scanned limit, results encrypted in their own bucket, settings enforced so a client cannot
 * turn them off), the Alarms report as a named query, and the QuickSight data source, dataset and
 * dashboard of that report, shared with the principal named in config.
 *
 * QuickSight reads through its own role (the data source's `roleArn`), which may query the
 * workgroup and read the `analytics` layer only: no account-wide QuickSight S3 grant is needed.
 * Requires a QuickSight (Enterprise) subscription in the account and region.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Catalog } from "./catalog.js";
import { allow, assumedBy, policyDocument, s3Read, s3ReadWrite } from "./policies.js";
import {
  ALARMS_DAILY,
  ALARMS_DAILY_COLUMNS,
  ALARMS_REPORT_SQL,
  alarmsDashboardDefinition,
} from "./reports.js";
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

export interface AnalyticsArgs {
  readonly region: string;
  readonly accountId: pulumi.Input<string>;
  readonly environment: string;
  readonly bytesScannedLimit: number;
  readonly buckets: { readonly athenaResults: LakeBucket; readonly analytics: LakeBucket };
  readonly catalog: Catalog;
  readonly quicksightPrincipalArn: string;
}

export class Analytics extends pulumi.ComponentResource {
  readonly workgroup: aws.athena.Workgroup;
  readonly alarmsReport: aws.athena.NamedQuery;
  readonly dataSource: aws.quicksight.DataSource;
  readonly dataSet: aws.quicksight.DataSet;
  readonly dashboard: aws.cloudcontrol.Resource;

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

    const role = new aws.iam.Role(
      `${name}-quicksight`,
      { assumeRolePolicy: assumedBy("quicksight.amazonaws.com") },
      parent,
    );
    const c = args.catalog;
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
          allow(
            "ReadAnalyticsCatalog",
            [
              "glue:GetDatabase",
              "glue:GetDatabases",
              "glue:GetTable",
              "glue:GetTables",
              "glue:GetPartitions",
            ],
            [c.arns.catalog, c.arns.database("analytics"), c.arns.tables("analytics")],
          ),
          ...s3Read("AnalyticsLayer", args.buckets.analytics.arn),
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

    this.dataSet = new aws.quicksight.DataSet(
      `${name}-alarms-daily`,
      {
        dataSetId: `${prefix}-alarms-daily`,
        name: `Alarms per day (${args.environment})`,
        // Direct query: the analytics table is small and pre-aggregated; no SPICE refresh to run.
        importMode: "DIRECT_QUERY",
        physicalTableMaps: [
          {
            physicalTableMapId: ALARMS_DAILY.table,
            relationalTable: {
              dataSourceArn: this.dataSource.arn,
              catalog: "AwsDataCatalog",
              schema: ALARMS_DAILY.database,
              name: ALARMS_DAILY.table,
              inputColumns: ALARMS_DAILY_COLUMNS.map((col) => ({ name: col.name, type: col.type })),
            },
          },
        ],
        permissions: owner(QUICKSIGHT_OWNER_ACTIONS.dataSet),
      },
      parent,
    );

    this.dashboard = new aws.cloudcontrol.Resource(
      `${name}-alarms-dashboard`,
      {
        typeName: "AWS::QuickSight::Dashboard",
        desiredState: pulumi.all([args.accountId, this.dataSet.arn]).apply(([accountId, dataSetArn]) =>
          JSON.stringify({
            AwsAccountId: accountId,
            DashboardId: `${prefix}-alarms`,
            Name: `Alarms report (${args.environment})`,
            VersionDescription: "declared by the oven lakehouse Pulumi program",
            Permissions: [
              { Principal: args.quicksightPrincipalArn, Actions: [...QUICKSIGHT_OWNER_ACTIONS.dashboard] },
            ],
            Definition: alarmsDashboardDefinition(dataSetArn),
          }),
        ),
      },
      parent,
    );

    this.registerOutputs({
      workgroup: this.workgroup.name,
      dataSetArn: this.dataSet.arn,
      dashboardId: this.dashboard.id,
    });
  }
}
