/**
 * The AWS contract of both stacks: every resource of the mocked graph, rendered as the API call
 * its provider makes, against botocore's service models (tests/infra/aws-contract.ts). And the
 * checker itself, on requests AWS refuses, so a green run means something.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  CONTRACTS,
  matchesPattern,
  resourceProblems,
  runtimeProblems,
  validateCall,
} from "./aws-contract.js";
import { FAKE_PRODUCTION_SECRETS, FAKE_SECRETS, runStack, type StackRun } from "./harness.js";

type RunName = "dev" | "prod" | "dev with production connections" | "dev with the Q topic";
const runs: Partial<Record<RunName, StackRun>> = {};

beforeAll(async () => {
  runs.dev = await runStack("dev");
  runs.prod = await runStack("prod");
  // The optional keys add the production side's secrets (and a port of its own).
  runs["dev with production connections"] = await runStack(
    "dev",
    {},
    { ...FAKE_SECRETS, ...FAKE_PRODUCTION_SECRETS },
  );
  // The optional QuickSight Q topic (a Cloud Control resource of its own type).
  runs["dev with the Q topic"] = await runStack("dev", { "oven-lakehouse:quicksightQTopic": "true" });
}, 120_000);

describe.each(["dev", "prod", "dev with production connections", "dev with the Q topic"] as const)(
  "stack %s against the AWS API models",
  (stack) => {
    it("has a contract for every AWS resource type it declares", () => {
      const types = new Set((runs[stack] as StackRun).resources.map((r) => r.type));
      const missing = [...types].filter((t) => !t.startsWith("lakehouse:") && !(t in CONTRACTS));
      expect(missing).toEqual([]);
    });

    it("declares only what AWS accepts: enums, required members, ranges, JSON documents", () => {
      const problems = (runs[stack] as StackRun).resources.flatMap((r) =>
        resourceProblems(r.type, r.inputs).map((p) => `${r.type} ${r.name}: ${p}`),
      );
      expect(problems).toEqual([]);
    });
  },
);

describe("the contract checker", () => {
  const optimizer = (type: string) => ({
    service: "glue",
    operation: "CreateTableOptimizer",
    request: {
      CatalogId: "481516234200",
      DatabaseName: "mongodb",
      TableName: "alarm",
      Type: type,
      TableOptimizerConfiguration: { roleArn: "arn:aws:iam::481516234200:role/x", enabled: true },
    },
  });

  it("refuses an enum value the API does not know (the optimizer type of a camelCase spelling)", () => {
    expect(validateCall(optimizer("orphan_file_deletion"))).toEqual([]);
    expect(validateCall(optimizer("orphanFileDeletion"))).toEqual([
      expect.stringContaining(
        'Type "orphanFileDeletion" is not one of compaction, retention, orphan_file_deletion',
      ),
    ]);
  });

  it("refuses a document member that is not JSON (an Iceberg field type as a bare word)", () => {
    const table = (type: string) =>
      resourceProblems("aws:glue/catalogTable:CatalogTable", {
        databaseName: "mongodb",
        name: "alarm",
        openTableFormatInput: {
          icebergInput: {
            metadataOperation: "CREATE",
            version: "2",
            icebergTableInput: {
              location: "s3://curated/alarm",
              schema: {
                schemaId: 0,
                type: "struct",
                fields: [{ id: 1, name: "code", required: false, type }],
              },
            },
          },
        },
      });
    expect(table('"long"')).toEqual([]);
    expect(table("long")).toEqual([expect.stringContaining("Type must be JSON")]);
  });

  it("refuses a missing required member, and a policy that is not JSON", () => {
    expect(resourceProblems("aws:iam/rolePolicy:RolePolicy", { role: "r", policy: "{not json" })).toEqual([
      expect.stringContaining("PolicyDocument is not valid JSON"),
    ]);
    expect(
      validateCall({ service: "scheduler", operation: "CreateSchedule", provided: ["Name"], request: {} }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringContaining("ScheduleExpression is required"),
        expect.stringContaining("Target is required"),
      ]),
    );
  });

  it("refuses a number outside the API's range", () => {
    expect(
      validateCall({
        service: "athena",
        operation: "CreateWorkGroup",
        request: { Name: "wg", Configuration: { BytesScannedCutoffPerQuery: 1000 } },
      }),
    ).toEqual([expect.stringContaining("BytesScannedCutoffPerQuery 1000 is below")]);
  });

  it("refuses a Lambda runtime Lambda deprecates, though botocore's enum still lists it", () => {
    const today = new Date("2026-11-30T00:00:00Z");
    expect(runtimeProblems("nodejs20.x", today)).toEqual([
      expect.stringContaining("nodejs20.x is deprecated by Lambda on 2026-04-30"),
    ]);
    expect(runtimeProblems("nodejs22.x", new Date("2027-03-01T00:00:00Z"))).toHaveLength(1);
    expect(runtimeProblems("nodejs24.x", today)).toEqual([]);
    expect(runtimeProblems("nodejs99.x", today)).toEqual([
      expect.stringContaining("no known deprecation date"),
    ]);
  });

  it("checks QuickSight definitions strictly: an unknown member is an error", () => {
    const problems = resourceProblems("aws:cloudcontrol/resource:Resource", {
      typeName: "AWS::QuickSight::Dashboard",
      desiredState: JSON.stringify({
        AwsAccountId: "481516234200",
        DashboardId: "d",
        Name: "n",
        Colour: "red",
      }),
    });
    expect(problems).toEqual([expect.stringContaining("Colour is not a member")]);
  });

  it("checks the Q topic as CreateTopic, its details unflattened from the CloudFormation shape", () => {
    const topic = (dataSets: unknown) =>
      resourceProblems("aws:cloudcontrol/resource:Resource", {
        typeName: "AWS::QuickSight::Topic",
        desiredState: JSON.stringify({
          AwsAccountId: "481516234200",
          TopicId: "t",
          Name: "n",
          DataSets: dataSets,
        }),
      });
    expect(topic([{ DatasetArn: "arn:aws:quicksight:eu-west-1:481516234200:dataset/d" }])).toEqual([]);
    expect(topic([{ DatasetArn: "a", Columns: [{ ColumnName: "c", ColumnDataRole: "KEY" }] }])).toEqual([
      expect.stringContaining('ColumnDataRole "KEY" is not one of DIMENSION, MEASURE'),
    ]);
  });

  it("holds QuickSight ids to the API's patterns, over the whole value", () => {
    expect(matchesPattern("[0-9a-zA-Z-]*", "alarm-facts")).toBe(true);
    expect(matchesPattern("[0-9a-zA-Z-]*", "alarm_facts")).toBe(false);
    const dataSet = (id: string) =>
      resourceProblems("aws:quicksight/dataSet:DataSet", {
        dataSetId: "d",
        name: "n",
        importMode: "DIRECT_QUERY",
        physicalTableMaps: [
          {
            physicalTableMapId: id,
            relationalTable: {
              dataSourceArn: "arn",
              name: "t",
              inputColumns: [{ name: "c", type: "STRING" }],
            },
          },
        ],
      });
    expect(dataSet("alarm-facts")).toEqual([]);
    expect(dataSet("alarm_facts")).toEqual([expect.stringContaining("does not match [0-9a-zA-Z-]*")]);
  });

  it("refuses a resource type without a contract", () => {
    expect(resourceProblems("aws:ec2/instance:Instance", {})).toEqual([
      expect.stringContaining("has no AWS contract"),
    ]);
  });
});
