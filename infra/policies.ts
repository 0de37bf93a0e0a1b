/**
 * Small typed helpers for least-privilege IAM documents. Every statement names its actions one by
 * one (a `*` in an action is refused here, so `s3:*` cannot slip in) and its resources by ARN;
 * `Resource: "*"` is allowed only for the few actions AWS cannot scope to a resource
 * ({@link UNSCOPED_ACTIONS}).
 */
import * as pulumi from "@pulumi/pulumi";

export interface Statement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: Record<string, pulumi.Input<string> | pulumi.Input<string>[]> | "*";
  readonly Action: readonly string[];
  readonly Resource: "*" | readonly pulumi.Input<string>[];
  readonly Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;
}

/**
 * CloudWatch Logs vended delivery, for Step Functions execution logs (docs: "Logging Step
 * Functions using CloudWatch Logs"): account-level APIs, so unscoped.
 */
export const LOG_DELIVERY_ACTIONS = [
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  "logs:DescribeLogGroups",
] as const;

/**
 * Actions that support no resource-level permissions, so their statement must say `"*"`
 * (Service Authorization Reference): describing network interfaces for Lambda and Glue in a VPC,
 * CloudWatch metrics (limited by namespace through a condition instead) and log delivery setup.
 * None of them reads or writes lake data.
 */
export const UNSCOPED_ACTIONS: ReadonlySet<string> = new Set([
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DescribeSecurityGroups",
  "ec2:DescribeVpcs",
  "ec2:DescribeVpcEndpoints",
  "ec2:DescribeRouteTables",
  "ec2:DescribeVpcAttribute",
  "cloudwatch:PutMetricData",
  ...LOG_DELIVERY_ACTIONS,
]);

export class PolicyError extends Error {
  override readonly name = "PolicyError";
}

/** An Allow statement; refuses wildcard actions and `"*"` resources for scoped actions. */
export function allow(
  sid: string,
  actions: readonly string[],
  resources: "*" | readonly pulumi.Input<string>[],
  condition?: Statement["Condition"],
): Statement {
  for (const a of actions) {
    if (a.includes("*")) throw new PolicyError(`${sid}: wildcard action ${a}`);
    if (resources === "*" && !UNSCOPED_ACTIONS.has(a))
      throw new PolicyError(`${sid}: ${a} must name its resources, not "*"`);
  }
  if (resources !== "*" && resources.length === 0) throw new PolicyError(`${sid}: no resources`);
  return {
    Sid: sid,
    Effect: "Allow",
    Action: actions,
    Resource: resources,
    ...(condition ? { Condition: condition } : {}),
  };
}

/** A policy document as the JSON string IAM takes. */
export function policyDocument(statements: readonly Statement[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

/**
 * Services whose requests to assume a role carry `aws:SourceAccount`, so a trust policy may
 * require it against the confused deputy (each service's docs, "Cross-service confused deputy
 * prevention"). Others (Lambda, Glue jobs and optimizers, QuickSight) do not document sending it:
 * a condition on it there would make the role unusable.
 */
export const SOURCE_ACCOUNT_SERVICES: ReadonlySet<string> = new Set([
  "states.amazonaws.com",
  "scheduler.amazonaws.com",
]);

/**
 * Trust policy: only `service` may assume the role; for services that send `aws:SourceAccount`,
 * only on behalf of `account`.
 */
export function assumedBy(service: string, account?: pulumi.Input<string>): pulumi.Output<string> {
  if (account !== undefined && !SOURCE_ACCOUNT_SERVICES.has(service))
    throw new PolicyError(`${service} does not document aws:SourceAccount; trust it without the condition`);
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        ...(account ? { Condition: { StringEquals: { "aws:SourceAccount": account } } } : {}),
      },
    ],
  });
}

/**
 * Trust policy of a role for people: any principal of `account` whose own IAM policy allows
 * `sts:AssumeRole` on it. Naming the account root delegates the decision to IAM in that account
 * (IAM User Guide, "Roles terms and concepts": a trust policy naming the account lets its
 * administrators grant the role), so nobody outside the account, and nobody inside it without a
 * grant, can assume the role.
 */
export function assumedByAccount(account: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { AWS: pulumi.interpolate`arn:aws:iam::${account}:root` },
        Action: "sts:AssumeRole",
      },
    ],
  });
}

const objects = (bucketArn: pulumi.Input<string>, prefix = "") => pulumi.interpolate`${bucketArn}/${prefix}*`;

/** What a role may do with the objects of one bucket, each under its own prefixes. */
export interface S3Grant {
  /** Read (GetObject) and list (ListBucket, limited to these prefixes). */
  readonly read?: readonly string[];
  /** Write (PutObject, multipart uploads included, and aborting them). */
  readonly write?: readonly string[];
  /** Delete (DeleteObject): only where the code deletes, e.g. Iceberg tables' folders. */
  readonly delete?: readonly string[];
}

/** The whole bucket, as a prefix list. */
export const WHOLE_BUCKET: readonly string[] = [""];

/**
 * Statements for one bucket. `s3:prefix` applies to ListBucket only, so bucket-level actions
 * without that key (GetBucketLocation, ListBucketMultipartUploads) get their own statement: with
 * the condition they would silently grant nothing.
 */
export function s3Access(sid: string, bucketArn: pulumi.Input<string>, grant: S3Grant): Statement[] {
  const read = grant.read ?? [];
  const write = grant.write ?? [];
  const del = grant.delete ?? [];
  const statements: Statement[] = [];
  if (read.length > 0)
    statements.push(
      allow(
        `${sid}Read`,
        ["s3:GetObject"],
        read.map((p) => objects(bucketArn, p)),
      ),
    );
  if (write.length > 0)
    statements.push(
      allow(
        `${sid}Write`,
        ["s3:PutObject", "s3:AbortMultipartUpload"],
        write.map((p) => objects(bucketArn, p)),
      ),
    );
  if (del.length > 0)
    statements.push(
      allow(
        `${sid}Delete`,
        ["s3:DeleteObject"],
        del.map((p) => objects(bucketArn, p)),
      ),
    );
  const listed = [...new Set([...read, ...del])];
  if (listed.length > 0)
    statements.push(
      allow(
        `${sid}List`,
        ["s3:ListBucket"],
        [bucketArn],
        listed.includes("") ? undefined : { StringLike: { "s3:prefix": listed.map((p) => `${p}*`) } },
      ),
    );
  statements.push(
    allow(
      `${sid}Bucket`,
      write.length > 0 ? ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"] : ["s3:GetBucketLocation"],
      [bucketArn],
    ),
  );
  return statements;
}

/** Read objects under `prefix` of a bucket and list that prefix. */
export function s3Read(sid: string, bucketArn: pulumi.Input<string>, prefix = ""): Statement[] {
  return s3Access(sid, bucketArn, { read: [prefix] });
}

/** Read, write and delete objects under `prefix`: a folder the role owns (temp files, Iceberg). */
export function s3ReadWrite(sid: string, bucketArn: pulumi.Input<string>, prefix = ""): Statement[] {
  return s3Access(sid, bucketArn, { read: [prefix], write: [prefix], delete: [prefix] });
}

/** Bucket policy statement refusing any request not made over TLS (aws:SecureTransport). */
export function denyInsecureTransport(bucketArn: pulumi.Input<string>): Statement {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: ["s3:*"],
    Resource: [bucketArn, objects(bucketArn)],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/** Reading secrets' current values (all the functions and Glue connections do with them). */
export function readSecrets(sid: string, secretArns: readonly pulumi.Input<string>[]): Statement {
  return allow(sid, ["secretsmanager:GetSecretValue"], secretArns);
}

/** Where a service may place its network interfaces: these subnets and security groups. */
export interface NetworkScope {
  readonly region: pulumi.Input<string>;
  readonly accountId: pulumi.Input<string>;
  readonly subnetIds: readonly pulumi.Input<string>[];
  readonly securityGroupIds: readonly pulumi.Input<string>[];
}

/**
 * The network-interface actions a Lambda function or a Glue job in a VPC needs (what
 * AWSLambdaVPCAccessExecutionRole and AWSGlueServiceRole grant on `*`), with the create scoped
 * to our subnets and security groups. `extraDescribe` adds Glue's look-ups of the VPC.
 */
export function vpcNetworkInterfaces(
  scope: NetworkScope,
  extraDescribe: readonly string[] = [],
): Statement[] {
  const arn = (what: pulumi.Input<string>) =>
    pulumi.interpolate`arn:aws:ec2:${scope.region}:${scope.accountId}:${what}`;
  const eni = arn("network-interface/*");
  return [
    allow("EniDescribe", ["ec2:DescribeNetworkInterfaces", ...extraDescribe], "*"),
    allow(
      "EniCreate",
      ["ec2:CreateNetworkInterface"],
      [
        eni,
        ...scope.subnetIds.map((s) => arn(pulumi.interpolate`subnet/${s}`)),
        ...scope.securityGroupIds.map((g) => arn(pulumi.interpolate`security-group/${g}`)),
      ],
    ),
    allow(
      "EniManage",
      [
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        "ec2:CreateTags",
      ],
      [eni],
    ),
  ];
}

/** Writing a function's own log group (created by the deployment, so no CreateLogGroup). */
export function writeLogs(sid: string, logGroupArn: pulumi.Input<string>): Statement {
  return allow(sid, ["logs:CreateLogStream", "logs:PutLogEvents"], [pulumi.interpolate`${logGroupArn}:*`]);
}
