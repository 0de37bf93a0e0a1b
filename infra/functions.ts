/**
 * Functions (docs/design.md §4, §7): the plan, worker, summarize and reconcile Lambdas, bundled
 * from pipeline/lambda (infra/bundle.ts), in the VPC's private subnets, configured from stack
 * config. Their environment is validated with the pipeline's own schemas (`FunctionEnvSchema`,
 * `IngestSettingsSchema`) here, so a bad setting fails `pulumi preview`, naming its config key,
 * instead of failing a cold start. Secrets never enter the environment: only secret ARNs.
 *
 * Each function has its own role and its own support database user (its secret is written by the
 * migrate function, infra/migrations.ts): plan reads `ddc` and the support database, the worker
 * reads MongoDB and writes the raw bucket, summarize reads all three sources' counts and writes
 * the quarantine prefix, reconcile reads all three sources and, to repair, writes raw as the
 * worker does.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { QUARANTINE_PREFIX } from "../pipeline/ingest/keys.js";
import { IngestSettingsSchema } from "../pipeline/ingest/settings.js";
import { FunctionEnvSchema, WORKER_NODE_OPTIONS } from "../pipeline/lambda/env.js";
import { collections } from "../pipeline/schema/index.js";
import { HANDLER } from "./bundle.js";
import { NAMESPACE, type StackConfig } from "./config.js";
import {
  assumedBy,
  type NetworkScope,
  policyDocument,
  readSecrets,
  type S3Grant,
  type Statement,
  s3Access,
  vpcNetworkInterfaces,
  writeLogs,
} from "./policies.js";

/**
 * Node 24 (ADR 0009): Lambda supports it until 2028-04-30, and the project's own tests run on the
 * same major. Node 20 reached end of life on 2026-04-30.
 */
export const LAMBDA_RUNTIME = "nodejs24.x";
/** Graviton: cheaper per GB-second; the bundles are plain JavaScript and WebAssembly. */
export const LAMBDA_ARCHITECTURE = "arm64";

/**
 * TLS to PostgreSQL. node-postgres reads PGSSLMODE when the URL has no `sslmode` (the support
 * database's secret has none; RDS enforces TLS); Node 20 and later runtimes load the Amazon RDS CA
 * bundle only when NODE_EXTRA_CA_CERTS names it (Lambda docs, "Node.js runtime: certificates").
 * A source secret may still choose its own `sslmode` in its `options`.
 */
export const TLS_ENVIRONMENT = {
  PGSSLMODE: "verify-full",
  NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem",
} as const;

/** The raw layer's folders, one per collection (`<collection>/idDevice=<id>/...`). */
const RAW_FOLDERS = collections.map((c) => `${c.name}/`);

/**
 * What the worker's code does in the raw bucket: raw objects and quarantined copies. It deletes
 * only an object of its own that failed its row-count check and the packs a killed worker left
 * uncommitted (ADR 0023; a killed upload is aborted), and never reads.
 */
const RAW_WRITER: S3Grant = { write: [...RAW_FOLDERS, QUARANTINE_PREFIX], delete: RAW_FOLDERS };

/** Stack config key behind each configured environment variable, for error messages. */
export const ENV_CONFIG_KEYS = {
  INGEST_SAFETY_MARGIN_SECONDS: "functions.safetyMarginSeconds",
  SUMMARY_SOURCE_COUNTS: "functions.summarySourceCounts",
  LOG_LEVEL: "functions.logLevel",
  INGEST_WINDOW_DAYS: "functions.windowDays",
  INGEST_DEVICE_CONCURRENCY: "functions.deviceConcurrency",
  INGEST_WORKERS: "functions.workers",
  INGEST_PACKS: "functions.packs",
} as const;

/** What the deployment supplies: resource ids, never secret values. */
export type FunctionRefs<T = pulumi.Input<string>> = {
  readonly ddcSecretArn: T;
  readonly mongodbSecretArn: T;
  readonly supportSecretArn: T;
  readonly supportDbHost: T;
  readonly supportDbPort: T;
  readonly supportDbName: T;
  readonly rawLakeUrl: T;
};

/** The environment variables of every function, from config and deployment references. */
export function functionEnvironment<T>(
  settings: StackConfig["functions"],
  refs: FunctionRefs<T>,
): Record<string, T | string> {
  return {
    DDC_SECRET_ID: refs.ddcSecretArn,
    MONGODB_SECRET_ID: refs.mongodbSecretArn,
    SUPPORT_SECRET_ID: refs.supportSecretArn,
    SUPPORT_DB_HOST: refs.supportDbHost,
    SUPPORT_DB_PORT: refs.supportDbPort,
    SUPPORT_DB_NAME: refs.supportDbName,
    RAW_LAKE_URL: refs.rawLakeUrl,
    INGEST_SAFETY_MARGIN_SECONDS: String(settings.safetyMarginSeconds),
    SUMMARY_SOURCE_COUNTS: String(settings.summarySourceCounts),
    LOG_LEVEL: settings.logLevel,
    INGEST_WINDOW_DAYS: String(settings.windowDays),
    INGEST_DEVICE_CONCURRENCY: String(settings.deviceConcurrency),
    INGEST_WORKERS: JSON.stringify(settings.workers),
    ...(settings.packs === undefined ? {} : { INGEST_PACKS: JSON.stringify(settings.packs) }),
    ...TLS_ENVIRONMENT,
  };
}

export class FunctionConfigError extends Error {
  override readonly name = "FunctionConfigError";
}

function issuesOf(result: z.ZodSafeParseResult<unknown>): string[] {
  if (result.success) return [];
  return result.error.issues.map((i) => {
    const env = String(i.path[0]);
    const key = ENV_CONFIG_KEYS[env as keyof typeof ENV_CONFIG_KEYS];
    return `${key ? `${NAMESPACE}:${key}` : env} ${i.message}`;
  });
}

/**
 * Validate an environment with the functions' own schemas.
 * @throws FunctionConfigError naming the config key (or the variable) of each problem.
 */
export function validateFunctionEnvironment(env: Record<string, string>): void {
  const problems = [
    ...issuesOf(FunctionEnvSchema.safeParse(env)),
    ...issuesOf(IngestSettingsSchema.safeParse(env)),
  ];
  if (problems.length > 0) throw new FunctionConfigError(`function environment: ${problems.join("; ")}`);
}

/**
 * The configured part, checked at program start (during preview the deployment's references are
 * not known yet, so they are stood in for by well-formed placeholders; the real values are checked
 * again once known).
 */
export function checkFunctionSettings(config: StackConfig): void {
  const placeholder = "placeholder";
  validateFunctionEnvironment(
    functionEnvironment(config.functions, {
      ddcSecretArn: placeholder,
      mongodbSecretArn: placeholder,
      supportSecretArn: placeholder,
      supportDbHost: placeholder,
      supportDbPort: "5432",
      supportDbName: placeholder,
      rawLakeUrl: "s3://placeholder/",
    }),
  );
  const margin = config.functions.safetyMarginSeconds;
  const timeout = config.functions.worker.timeoutSeconds;
  if (margin >= timeout)
    throw new FunctionConfigError(
      `${NAMESPACE}:functions.safetyMarginSeconds (${margin}) must be below ${NAMESPACE}:functions.worker.timeoutSeconds (${timeout})`,
    );
}

export interface LakeFunctionArgs {
  readonly description: string;
  readonly codeDir: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** What the function may do beyond logging and its network interfaces. */
  readonly statements: readonly Statement[];
  readonly network: NetworkScope;
  readonly logRetentionDays: number;
  readonly logGroupName: string;
}

/** A bundled function in the VPC with its own log group (retention) and role. */
export function lakeFunction(
  name: string,
  args: LakeFunctionArgs,
  parent: pulumi.Resource,
): aws.lambda.Function {
  const logGroup = new aws.cloudwatch.LogGroup(
    name,
    { name: args.logGroupName, retentionInDays: args.logRetentionDays },
    { parent },
  );
  const role = new aws.iam.Role(name, { assumeRolePolicy: assumedBy("lambda.amazonaws.com") }, { parent });
  const policy = new aws.iam.RolePolicy(
    name,
    {
      role: role.id,
      policy: policyDocument([
        writeLogs("Logs", logGroup.arn),
        ...vpcNetworkInterfaces(args.network, ["ec2:DescribeSubnets"]),
        ...args.statements,
      ]),
    },
    { parent: role },
  );
  return new aws.lambda.Function(
    name,
    {
      description: args.description,
      runtime: LAMBDA_RUNTIME,
      architectures: [LAMBDA_ARCHITECTURE],
      handler: HANDLER,
      code: new pulumi.asset.FileArchive(args.codeDir),
      memorySize: args.memoryMb,
      timeout: args.timeoutSeconds,
      role: role.arn,
      environment: { variables: args.environment },
      vpcConfig: {
        subnetIds: [...args.network.subnetIds],
        securityGroupIds: [...args.network.securityGroupIds],
      },
      // pino and EMF print JSON lines themselves; Text keeps them verbatim for CloudWatch.
      loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
    },
    // The role must be able to create the ENIs before Lambda tries.
    { parent, dependsOn: [policy] },
  );
}

export interface IngestionFunctionsArgs {
  readonly environment: string;
  readonly settings: StackConfig["functions"];
  readonly codeDirs: Readonly<Record<StepName, string>>;
  /** `supportSecretArn` is overridden per function by its own user's secret. */
  readonly refs: Omit<FunctionRefs<pulumi.Output<string>>, "supportSecretArn">;
  /** Each function's own support database user (infra/migrations.ts). */
  readonly supportUserSecretArns: Record<StepName, pulumi.Output<string>>;
  readonly rawBucketArn: pulumi.Input<string>;
  readonly network: NetworkScope;
  readonly logRetentionDays: number;
}

export const STEPS = ["plan", "worker", "summarize", "reconcile"] as const;
export type StepName = (typeof STEPS)[number];

export class IngestionFunctions extends pulumi.ComponentResource {
  readonly functions: Record<StepName, aws.lambda.Function>;

  constructor(name: string, args: IngestionFunctionsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:functions:IngestionFunctions", name, {}, opts);
    const r = args.refs;
    // Checked again with the real references once they are known (pulumi up).
    const environmentOf = (step: StepName) =>
      pulumi.all({ ...r, supportSecretArn: args.supportUserSecretArns[step] }).apply((refs) => {
        const env: Record<string, string> = functionEnvironment(args.settings, refs as FunctionRefs<string>);
        validateFunctionEnvironment(env);
        return env;
      });
    const secrets = {
      ddc: r.ddcSecretArn,
      mongodb: r.mongodbSecretArn,
      support: args.supportUserSecretArns,
    };
    const access: Record<StepName, { description: string; statements: Statement[] }> = {
      plan: {
        description: "plan: devices behind their bookmarks, cut into stored batches",
        statements: [readSecrets("SourceSecrets", [secrets.ddc, secrets.support.plan])],
      },
      worker: {
        description: "worker: one batch of devices from MongoDB into raw Parquet",
        statements: [
          readSecrets("SourceSecrets", [secrets.mongodb, secrets.support.worker]),
          ...s3Access("RawLayer", args.rawBucketArn, RAW_WRITER),
        ],
      },
      summarize: {
        description: "summarize: a plan's outcome, progress and failed batches",
        statements: [
          readSecrets("SourceSecrets", [secrets.ddc, secrets.mongodb, secrets.support.summarize]),
          // The orphan sweep keeps a copy of each document no device can claim.
          ...s3Access("Quarantine", args.rawBucketArn, { write: [QUARANTINE_PREFIX] }),
        ],
      },
      reconcile: {
        description: "reconcile: the source against curated per collection, device and day",
        statements: [
          // Devices from ddc (an unknown device is a cause), counts from MongoDB, curated counts
          // and the ledger from the support database: curated itself is never read.
          readSecrets("SourceSecrets", [secrets.ddc, secrets.mongodb, secrets.support.reconcile]),
          // `repair` re-extracts windows with the worker's code (docs/design.md §7), so exactly
          // the worker's raw access; the scheduled run writes nothing there.
          ...s3Access("RawLayer", args.rawBucketArn, RAW_WRITER),
        ],
      },
    };
    const functions = {} as Record<StepName, aws.lambda.Function>;
    for (const step of STEPS) {
      const size = args.settings[step];
      functions[step] = lakeFunction(
        `${name}-${step}`,
        {
          description: access[step].description,
          codeDir: args.codeDirs[step],
          memoryMb: size.memoryMb,
          timeoutSeconds: size.timeoutSeconds,
          // The worker's heap cap (pipeline/lambda/env.ts) keeps its memory at what it uses.
          environment:
            step === "worker"
              ? environmentOf(step).apply((env) => ({ ...env, NODE_OPTIONS: WORKER_NODE_OPTIONS }))
              : environmentOf(step),
          statements: access[step].statements,
          network: args.network,
          logRetentionDays: args.logRetentionDays,
          logGroupName: `/oven-lakehouse/${args.environment}/lambda/${step}`,
        },
        this,
      );
    }
    this.functions = functions;
    this.registerOutputs(Object.fromEntries(Object.entries(functions).map(([k, f]) => [k, f.arn])));
  }
}
