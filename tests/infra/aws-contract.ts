/**
 * What the mocks cannot see, checked against AWS's own API models: every resource the program
 * declares is rendered as the request its provider sends (the Create/Put call of the service) and
 * validated against the operation's input shape from botocore's service models (shipped in the
 * Python venv): enum values, required members, list lengths and number ranges, and members the
 * API takes as JSON (documents, policies, definitions) must parse as JSON.
 *
 * The provider's field names are the API's in camelCase almost everywhere, so members are matched
 * by name, ignoring case and underscores; where the provider reshapes a request (a map the API
 * takes as a list, a block the API nests), the resource's contract below says how.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { ROOT } from "./harness.js";

interface ShapeRef {
  readonly shape: string;
}

interface Shape {
  readonly type: string;
  readonly members?: Record<string, ShapeRef>;
  readonly required?: readonly string[];
  readonly member?: ShapeRef;
  readonly key?: ShapeRef;
  readonly value?: ShapeRef;
  readonly enum?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly document?: boolean;
}

interface ServiceModel {
  readonly operations: Record<string, { readonly input?: ShapeRef }>;
  readonly shapes: Record<string, Shape>;
}

/** botocore's data folder in the project's venv (scripts/install-python.sh installs boto3). */
export function botocoreData(root: string = ROOT): string {
  const lib = join(root, ".local", "venv", "lib");
  const python = readdirSync(lib).find((d) => d.startsWith("python"));
  if (!python) throw new Error(`no Python in ${lib}: run scripts/install-python.sh`);
  return join(lib, python, "site-packages", "botocore", "data");
}

const models = new Map<string, ServiceModel>();

/** A service's newest API model (`<service>/<api-version>/service-2.json.gz`). */
export function serviceModel(service: string): ServiceModel {
  const cached = models.get(service);
  if (cached) return cached;
  const dir = join(botocoreData(), service);
  const version = readdirSync(dir).sort().at(-1);
  if (!version) throw new Error(`botocore has no model of ${service}`);
  const file = join(dir, version, "service-2.json.gz");
  const model = JSON.parse(gunzipSync(readFileSync(file)).toString("utf8")) as ServiceModel;
  models.set(service, model);
  return model;
}

/** An API input: the operation whose request a resource becomes. */
export interface ApiCall {
  readonly service: string;
  readonly operation: string;
  readonly request: unknown;
  /** Top-level members the provider fills in itself (generated names, uploaded code). */
  readonly provided?: readonly string[];
  /** Top-level members that are JSON text in the API (policies, definitions, payloads). */
  readonly json?: readonly string[];
  /** Report members the shape does not know (requests built from JSON the API takes as is). */
  readonly strict?: boolean;
  /**
   * Check strings against the model's patterns (ids, names); on by default for strict calls.
   * Off for requests carrying values the mocks make up (ARNs, security group ids).
   */
  readonly patterns?: boolean;
}

const norm = (name: string) => name.toLowerCase().replaceAll("_", "");

// biome-ignore lint/suspicious/noExplicitAny: resource inputs are untyped JSON.
type Json = any;

/** Problems of `request` against the input shape of `service`'s `operation`. */
export function validateCall(call: ApiCall): string[] {
  const model = serviceModel(call.service);
  const input = model.operations[call.operation]?.input;
  if (!input) throw new Error(`${call.service} has no operation ${call.operation}`);
  const problems: string[] = [];
  const at = `${call.service}:${call.operation}`;
  const request = call.request as Record<string, Json>;
  for (const member of call.json ?? []) {
    const value = findMember(request, member);
    if (typeof value !== "string") problems.push(`${at} ${member} must be JSON text`);
    else if (!parsesAsJson(value)) problems.push(`${at} ${member} is not valid JSON`);
  }
  walk(model, input.shape, request, at, problems, {
    provided: new Set(call.provided ?? []),
    strict: call.strict ?? false,
    patterns: call.patterns ?? call.strict ?? false,
    top: true,
  });
  return problems;
}

function findMember(value: Record<string, Json>, member: string): Json {
  const key = Object.keys(value).find((k) => norm(k) === norm(member));
  return key === undefined ? undefined : value[key];
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

interface WalkOptions {
  readonly provided: ReadonlySet<string>;
  readonly strict: boolean;
  readonly patterns: boolean;
  readonly top: boolean;
}

/** Pulumi's wire form of a secret: the value beside a signature key. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function walk(
  model: ServiceModel,
  shapeName: string,
  raw: Json,
  path: string,
  problems: string[],
  o: WalkOptions,
): void {
  const value = raw && typeof raw === "object" && SECRET_SIG in raw ? raw.value : raw;
  if (value === undefined || value === null) return;
  const shape = model.shapes[shapeName];
  if (!shape) throw new Error(`no shape ${shapeName}`);
  const inner = { ...o, top: false };
  if (shape.document) {
    // A document member: the provider takes it as JSON text (or a structure already).
    if (typeof value === "string" && !parsesAsJson(value))
      problems.push(`${path} must be JSON (the API takes a document): ${JSON.stringify(value).slice(0, 60)}`);
    return;
  }
  switch (shape.type) {
    case "structure": {
      if (typeof value !== "object" || Array.isArray(value)) {
        problems.push(`${path} must be an object`);
        return;
      }
      const members = shape.members ?? {};
      const byNorm = new Map(Object.keys(members).map((m) => [norm(m), m]));
      for (const required of shape.required ?? []) {
        if (o.top && o.provided.has(required)) continue;
        if (findMember(value, required) === undefined) problems.push(`${path}.${required} is required`);
      }
      for (const [key, v] of Object.entries(value)) {
        const member = byNorm.get(norm(key));
        if (!member) {
          if (o.strict) problems.push(`${path}.${key} is not a member of ${shapeName}`);
          continue;
        }
        walk(model, (members[member] as ShapeRef).shape, v, `${path}.${member}`, problems, inner);
      }
      return;
    }
    case "list": {
      if (!Array.isArray(value)) {
        problems.push(`${path} must be a list`);
        return;
      }
      length(shape, value.length, path, problems);
      value.forEach((v, i) => {
        walk(model, (shape.member as ShapeRef).shape, v, `${path}[${i}]`, problems, inner);
      });
      return;
    }
    case "map": {
      if (typeof value !== "object" || Array.isArray(value)) {
        problems.push(`${path} must be a map`);
        return;
      }
      length(shape, Object.keys(value).length, path, problems);
      for (const [k, v] of Object.entries(value)) {
        walk(model, (shape.key as ShapeRef).shape, k, `${path} key`, problems, inner);
        walk(model, (shape.value as ShapeRef).shape, v, `${path}.${k}`, problems, inner);
      }
      return;
    }
    case "string": {
      if (typeof value !== "string") {
        problems.push(`${path} must be a string, not ${JSON.stringify(value)}`);
        return;
      }
      if (shape.enum && !shape.enum.includes(value))
        problems.push(`${path} ${JSON.stringify(value)} is not one of ${shape.enum.join(", ")}`);
      length(shape, value.length, path, problems);
      if (o.patterns && shape.pattern && !matchesPattern(shape.pattern, value))
        problems.push(`${path} ${JSON.stringify(value).slice(0, 60)} does not match ${shape.pattern}`);
      return;
    }
    case "integer":
    case "long":
    case "double":
    case "float": {
      const n = typeof value === "string" ? Number(value) : value;
      if (typeof n !== "number" || Number.isNaN(n)) {
        problems.push(`${path} must be a number, not ${JSON.stringify(value)}`);
        return;
      }
      if (shape.min !== undefined && n < shape.min) problems.push(`${path} ${n} is below ${shape.min}`);
      if (shape.max !== undefined && n > shape.max) problems.push(`${path} ${n} is above ${shape.max}`);
      return;
    }
    case "boolean":
      if (typeof value !== "boolean" && value !== "true" && value !== "false")
        problems.push(`${path} must be a boolean`);
      return;
    default:
      return; // timestamps and blobs: not declared here
  }
}

/**
 * Whether `value` matches a model's pattern as the API applies it: to the whole value (AWS
 * answers "Member must satisfy regular expression pattern" for an id with one character outside
 * `[0-9a-zA-Z-]*`). The patterns are Java regular expressions; one JavaScript cannot compile is
 * not checked.
 */
export function matchesPattern(pattern: string, value: string): boolean {
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${pattern})$`, "u");
  } catch {
    try {
      re = new RegExp(`^(?:${pattern})$`);
    } catch {
      return true;
    }
  }
  return re.test(value);
}

function length(shape: Shape, n: number, path: string, problems: string[]): void {
  if (shape.min !== undefined && n < shape.min)
    problems.push(`${path} has ${n} items, fewer than ${shape.min}`);
  if (shape.max !== undefined && n > shape.max)
    problems.push(`${path} has ${n} items, more than ${shape.max}`);
}

/**
 * Lambda runtimes and the day Lambda deprecates each (docs: "Lambda runtimes", runtime
 * deprecation policy). botocore's enum still lists deprecated runtimes, so the enum alone cannot
 * say a runtime is going away. A runtime must have at least {@link RUNTIME_MIN_DAYS_LEFT} days
 * left on the day the check runs: the check is meant to start failing before the deadline.
 */
export const LAMBDA_RUNTIME_DEPRECATION: Readonly<Record<string, string>> = {
  "nodejs18.x": "2025-09-01",
  "nodejs20.x": "2026-04-30",
  "nodejs22.x": "2027-04-30",
  "nodejs24.x": "2028-04-30",
};
export const RUNTIME_MIN_DAYS_LEFT = 90;

export function runtimeProblems(runtime: string, today: Date = new Date()): string[] {
  const deprecation = LAMBDA_RUNTIME_DEPRECATION[runtime];
  if (!deprecation) return [`lambda runtime ${runtime} has no known deprecation date: add it`];
  const daysLeft = (Date.parse(deprecation) - today.getTime()) / 86_400_000;
  if (daysLeft < RUNTIME_MIN_DAYS_LEFT)
    return [
      `lambda runtime ${runtime} is deprecated by Lambda on ${deprecation} (${Math.floor(daysLeft)} days from ${today.toISOString().slice(0, 10)})`,
    ];
  return [];
}

/** `{a: "1"}` → `[{Name: "a", Value: "1"}]`, as CloudWatch takes dimensions. */
const nameValues = (m: Record<string, Json> | undefined) =>
  Object.entries(m ?? {}).map(([Name, Value]) => ({ Name, Value }));

/** A security group rule as the EC2 API's IpPermissions. */
function ipPermissions(i: Json) {
  return [
    {
      IpProtocol: i.ipProtocol,
      FromPort: i.fromPort,
      ToPort: i.toPort,
      ...(i.cidrIpv4 ? { IpRanges: [{ CidrIp: i.cidrIpv4, Description: i.description }] } : {}),
      ...(i.prefixListId
        ? { PrefixListIds: [{ PrefixListId: i.prefixListId, Description: i.description }] }
        : {}),
      ...(i.referencedSecurityGroupId
        ? { UserIdGroupPairs: [{ GroupId: i.referencedSecurityGroupId, Description: i.description }] }
        : {}),
    },
  ];
}

/**
 * Each AWS resource type of the program, as the API calls its provider makes. A resource type
 * missing here fails the contract test: a new kind of resource must say what it is checked
 * against.
 */
/** An RDS parameter group (`DB`) or cluster parameter group (`DBCluster`): created, then its parameters set. */
function parameterGroupCalls(kind: "DB" | "DBCluster", i: Json): ApiCall[] {
  const provided = [`${kind}ParameterGroupName`];
  return [
    {
      service: "rds",
      operation: `Create${kind}ParameterGroup`,
      provided,
      request: { DBParameterGroupFamily: i.family, Description: i.description },
    },
    {
      service: "rds",
      operation: `Modify${kind}ParameterGroup`,
      provided,
      request: {
        Parameters: (i.parameters ?? []).map((p: Json) => ({
          ParameterName: p.name,
          ParameterValue: p.value,
          ...(p.applyMethod && { ApplyMethod: p.applyMethod }),
        })),
      },
    },
  ];
}

export const CONTRACTS: Readonly<Record<string, (i: Json) => ApiCall[]>> = {
  "aws:sns/topic:Topic": (i) => [
    {
      service: "sns",
      operation: "CreateTopic",
      provided: ["Name"],
      request: { Attributes: i.displayName ? { DisplayName: i.displayName } : {} },
    },
  ],
  "aws:sns/topicSubscription:TopicSubscription": (i) => [
    {
      service: "sns",
      operation: "Subscribe",
      request: { TopicArn: i.topic, Protocol: i.protocol, Endpoint: i.endpoint },
    },
  ],
  "aws:sqs/queue:Queue": (i) => [
    {
      service: "sqs",
      operation: "CreateQueue",
      provided: ["QueueName"],
      request: {
        Attributes: {
          ...(i.sqsManagedSseEnabled !== undefined && {
            SqsManagedSseEnabled: String(i.sqsManagedSseEnabled),
          }),
          ...(i.messageRetentionSeconds !== undefined && {
            MessageRetentionPeriod: String(i.messageRetentionSeconds),
          }),
        },
      },
    },
  ],
  "aws:ec2/securityGroup:SecurityGroup": (i) => [
    { service: "ec2", operation: "CreateSecurityGroup", provided: ["GroupName"], request: i },
  ],
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (i) => [
    {
      service: "ec2",
      operation: "AuthorizeSecurityGroupEgress",
      request: { GroupId: i.securityGroupId, IpPermissions: ipPermissions(i) },
    },
  ],
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (i) => [
    {
      service: "ec2",
      operation: "AuthorizeSecurityGroupIngress",
      request: { GroupId: i.securityGroupId, IpPermissions: ipPermissions(i) },
    },
  ],
  "aws:ec2/vpcEndpoint:VpcEndpoint": (i) => [{ service: "ec2", operation: "CreateVpcEndpoint", request: i }],
  "aws:rds/subnetGroup:SubnetGroup": (i) => [
    {
      service: "rds",
      operation: "CreateDBSubnetGroup",
      // The provider names the group and describes it ("Managed by Pulumi").
      provided: ["DBSubnetGroupName", "DBSubnetGroupDescription"],
      request: i,
    },
  ],
  "aws:rds/parameterGroup:ParameterGroup": (i) => parameterGroupCalls("DB", i),
  "aws:rds/clusterParameterGroup:ClusterParameterGroup": (i) => parameterGroupCalls("DBCluster", i),
  "aws:rds/cluster:Cluster": (i) => [
    {
      service: "rds",
      operation: "CreateDBCluster",
      provided: ["DBClusterIdentifier"],
      request: {
        ...i,
        EnableCloudwatchLogsExports: i.enabledCloudwatchLogsExports,
        ServerlessV2ScalingConfiguration: i.serverlessv2ScalingConfiguration,
        serverlessv2ScalingConfiguration: undefined,
      },
    },
  ],
  "aws:rds/clusterInstance:ClusterInstance": (i) => [
    {
      service: "rds",
      operation: "CreateDBInstance",
      // The cluster's id is a mock value here; AWS checks the real one at create.
      provided: ["DBInstanceIdentifier"],
      request: { ...i, DBClusterIdentifier: i.clusterIdentifier, DBInstanceClass: i.instanceClass },
    },
  ],
  "aws:rds/instance:Instance": (i) => [
    {
      service: "rds",
      operation: "CreateDBInstance",
      provided: ["DBInstanceIdentifier"],
      request: {
        ...i,
        DBInstanceClass: i.instanceClass,
        DBParameterGroupName: i.parameterGroupName,
        MasterUsername: i.username,
        EnableCloudwatchLogsExports: i.enabledCloudwatchLogsExports,
        instanceClass: undefined,
        parameterGroupName: undefined,
        username: undefined,
      },
    },
  ],
  "aws:secretsmanager/secret:Secret": (i) => [
    { service: "secretsmanager", operation: "CreateSecret", provided: ["Name"], request: i },
  ],
  "aws:secretsmanager/secretVersion:SecretVersion": (i) => [
    { service: "secretsmanager", operation: "PutSecretValue", request: i },
  ],
  "aws:cloudwatch/logGroup:LogGroup": (i) => [
    { service: "logs", operation: "CreateLogGroup", request: { logGroupName: i.name } },
    {
      service: "logs",
      operation: "PutRetentionPolicy",
      request: { logGroupName: i.name, retentionInDays: i.retentionInDays },
    },
  ],
  "aws:cloudwatch/metricAlarm:MetricAlarm": (i) => [
    {
      service: "cloudwatch",
      operation: "PutMetricAlarm",
      provided: ["AlarmName"],
      request: { ...i, Dimensions: nameValues(i.dimensions), dimensions: undefined },
    },
  ],
  "aws:iam/role:Role": (i) => [
    {
      service: "iam",
      operation: "CreateRole",
      provided: ["RoleName"],
      json: ["AssumeRolePolicyDocument"],
      request: { AssumeRolePolicyDocument: i.assumeRolePolicy },
    },
  ],
  "aws:iam/rolePolicy:RolePolicy": (i) => [
    {
      service: "iam",
      operation: "PutRolePolicy",
      provided: ["PolicyName"],
      json: ["PolicyDocument"],
      request: { RoleName: i.role, PolicyDocument: i.policy },
    },
  ],
  "aws:s3/bucket:Bucket": () => [
    { service: "s3", operation: "CreateBucket", provided: ["Bucket"], request: {} },
  ],
  "aws:s3/bucketPolicy:BucketPolicy": (i) => [
    {
      service: "s3",
      operation: "PutBucketPolicy",
      json: ["Policy"],
      request: { Bucket: i.bucket, Policy: i.policy },
    },
  ],
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (i) => [
    {
      service: "s3",
      operation: "PutPublicAccessBlock",
      request: { Bucket: i.bucket, PublicAccessBlockConfiguration: { ...i, bucket: undefined } },
    },
  ],
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (i) => [
    {
      service: "s3",
      operation: "PutBucketOwnershipControls",
      request: { Bucket: i.bucket, OwnershipControls: { Rules: [i.rule] } },
    },
  ],
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (i) => [
    {
      service: "s3",
      operation: "PutBucketEncryption",
      request: { Bucket: i.bucket, ServerSideEncryptionConfiguration: { Rules: i.rules } },
    },
  ],
  "aws:s3/bucketVersioning:BucketVersioning": (i) => [
    { service: "s3", operation: "PutBucketVersioning", request: i },
  ],
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (i) => [
    {
      service: "s3",
      operation: "PutBucketLifecycleConfiguration",
      request: {
        Bucket: i.bucket,
        LifecycleConfiguration: {
          // The provider takes a filter's `and.tags` as a map; the API as a list of Key/Value.
          Rules: i.rules.map((rule: { filter?: { and?: { tags?: Record<string, string> } } }) =>
            rule.filter?.and?.tags === undefined
              ? rule
              : {
                  ...rule,
                  filter: {
                    ...rule.filter,
                    and: {
                      ...rule.filter.and,
                      tags: Object.entries(rule.filter.and.tags).map(([Key, Value]) => ({ Key, Value })),
                    },
                  },
                },
          ),
        },
      },
    },
  ],
  "aws:s3/bucketObjectv2:BucketObjectv2": (i) => [
    {
      service: "s3",
      operation: "PutObject",
      request: { Bucket: i.bucket, Key: i.key, ContentType: i.contentType },
    },
  ],
  "aws:glue/catalogDatabase:CatalogDatabase": (i) => [
    { service: "glue", operation: "CreateDatabase", request: { DatabaseInput: i } },
  ],
  "aws:glue/catalogTable:CatalogTable": (i) => {
    const iceberg = i.openTableFormatInput?.icebergInput;
    const table = iceberg?.icebergTableInput;
    return [
      {
        service: "glue",
        operation: "CreateTable",
        request: {
          DatabaseName: i.databaseName,
          TableInput: { ...i, databaseName: undefined, openTableFormatInput: undefined },
          ...(iceberg && {
            OpenTableFormatInput: {
              IcebergInput: {
                MetadataOperation: iceberg.metadataOperation,
                Version: iceberg.version,
                CreateIcebergTableInput: table && {
                  ...table,
                  // The provider's `sortOrder` is the API's write order.
                  WriteOrder: table.sortOrder,
                  sortOrder: undefined,
                },
              },
            },
          }),
        },
      },
    ];
  },
  "aws:glue/catalogTableOptimizer:CatalogTableOptimizer": (i) => [
    {
      service: "glue",
      operation: "CreateTableOptimizer",
      request: { ...i, TableOptimizerConfiguration: i.configuration, configuration: undefined },
    },
  ],
  "aws:glue/connection:Connection": (i) => [
    {
      service: "glue",
      operation: "CreateConnection",
      request: {
        ConnectionInput: {
          Name: i.name ?? "provider-generated",
          Description: i.description,
          ConnectionType: i.connectionType,
          ConnectionProperties: i.connectionProperties,
          PhysicalConnectionRequirements: i.physicalConnectionRequirements && {
            SubnetId: i.physicalConnectionRequirements.subnetId,
            SecurityGroupIdList: i.physicalConnectionRequirements.securityGroupIdLists,
            AvailabilityZone: i.physicalConnectionRequirements.availabilityZone,
          },
        },
      },
    },
  ],
  "aws:glue/job:Job": (i) => [
    {
      service: "glue",
      operation: "CreateJob",
      provided: ["Name"],
      request: {
        ...i,
        Role: i.roleArn,
        Connections: { Connections: i.connections },
        roleArn: undefined,
        connections: undefined,
      },
    },
  ],
  "aws:lambda/function:Function": (i) => [
    {
      service: "lambda",
      operation: "CreateFunction",
      provided: ["FunctionName", "Code"],
      request: { ...i, code: undefined },
    },
  ],
  "aws:lambda/invocation:Invocation": (i) => [
    {
      service: "lambda",
      operation: "Invoke",
      json: ["Payload"],
      request: { FunctionName: i.functionName, Payload: i.input },
    },
  ],
  "aws:sfn/stateMachine:StateMachine": (i) => [
    {
      service: "stepfunctions",
      operation: "CreateStateMachine",
      json: ["definition"],
      request: {
        ...i,
        loggingConfiguration: i.loggingConfiguration && {
          level: i.loggingConfiguration.level,
          includeExecutionData: i.loggingConfiguration.includeExecutionData,
          destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: i.loggingConfiguration.logDestination } }],
        },
      },
    },
  ],
  "aws:scheduler/schedule:Schedule": (i) => [
    {
      service: "scheduler",
      operation: "CreateSchedule",
      provided: ["Name"],
      request: i,
    },
    // The state machine's execution input: JSON text.
    {
      service: "stepfunctions",
      operation: "StartExecution",
      json: ["input"],
      request: { stateMachineArn: i.target?.arn, input: i.target?.input },
    },
  ],
  "aws:athena/workgroup:Workgroup": (i) => [{ service: "athena", operation: "CreateWorkGroup", request: i }],
  "aws:athena/namedQuery:NamedQuery": (i) => [
    {
      service: "athena",
      operation: "CreateNamedQuery",
      request: {
        Name: i.name,
        Description: i.description,
        Database: i.database,
        QueryString: i.query,
        WorkGroup: i.workgroup,
      },
    },
  ],
  "aws:quicksight/dataSource:DataSource": (i) => [
    {
      service: "quicksight",
      operation: "CreateDataSource",
      provided: ["AwsAccountId"],
      request: {
        ...i,
        parameters: undefined,
        DataSourceParameters: i.parameters?.athena && { AthenaParameters: i.parameters.athena },
      },
    },
  ],
  "aws:quicksight/dataSet:DataSet": (i) => [
    {
      service: "quicksight",
      operation: "CreateDataSet",
      provided: ["AwsAccountId"],
      // Ids and names the program writes (the physical table id allows no underscore).
      patterns: true,
      request: {
        ...i,
        physicalTableMaps: undefined,
        PhysicalTableMap: Object.fromEntries(
          (i.physicalTableMaps ?? []).map((m: Json) => [
            m.physicalTableMapId,
            { ...m, physicalTableMapId: undefined },
          ]),
        ),
      },
    },
  ],
  "aws:cloudcontrol/resource:Resource": (i) => {
    // Cloud Control takes the CloudFormation shape, which for QuickSight is the API's.
    const state = JSON.parse(i.desiredState);
    switch (i.typeName) {
      case "AWS::QuickSight::Dashboard":
        return [{ service: "quicksight", operation: "CreateDashboard", strict: true, request: state }];
      case "AWS::QuickSight::Topic": {
        // CloudFormation flattens the API's `Topic` (TopicDetails) into the resource's properties.
        const { AwsAccountId, TopicId, Tags, FolderArns, CustomInstructions, ...topic } = state;
        return [
          {
            service: "quicksight",
            operation: "CreateTopic",
            strict: true,
            request: {
              AwsAccountId,
              TopicId,
              Topic: topic,
              ...(Tags ? { Tags } : {}),
              ...(FolderArns ? { FolderArns } : {}),
              ...(CustomInstructions ? { CustomInstructions } : {}),
            },
          },
        ];
      }
      default:
        throw new Error(`no contract for Cloud Control type ${i.typeName}`);
    }
  },
};

/** Every problem of one recorded resource; resources of a type without a contract are refused. */
export function resourceProblems(type: string, inputs: Json, today?: Date): string[] {
  if (type.startsWith("lakehouse:")) return []; // our components: no API call of their own
  const contract = CONTRACTS[type];
  if (!contract) return [`${type} has no AWS contract (tests/infra/aws-contract.ts)`];
  const problems = contract(inputs).flatMap(validateCall);
  if (type === "aws:lambda/function:Function") problems.push(...runtimeProblems(inputs.runtime, today));
  return problems;
}
