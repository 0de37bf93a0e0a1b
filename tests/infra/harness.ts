/**
 * Runs the Pulumi program (infra/index.ts) under Pulumi's mocks for a stack of this repository:
 * the stack's real `Pulumi.<stack>.yaml` becomes the config, every resource registration is
 * recorded as `{ type, name, inputs }`, and any provider function call (invoke) that is not
 * mocked here fails the run. The program modules are loaded afresh per run (`vi.resetModules`),
 * as a Pulumi program is one module graph per stack.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";
import { parse } from "yaml";

export const ROOT = join(import.meta.dirname, "..", "..");
export const PROJECT = "oven-lakehouse";
export const ACCOUNT_ID = "481516234200";
export const REGION = "eu-west-1";

export type StackName = "dev" | "prod";

export interface Recorded {
  readonly type: string;
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are untyped JSON from the engine.
  readonly inputs: any;
  readonly id: string;
  /**
   * Resource options as the engine receives them (what the mocks' arguments leave out); always
   * set by {@link runStack}, optional for resources other tests write by hand.
   */
  readonly options?: RecordedOptions;
}

export interface RecordedOptions {
  /** Property paths whose changes `pulumi up` ignores once the resource exists. */
  readonly ignoreChanges: readonly string[];
  /**
   * The names of the resources this one waits for: its `dependsOn` and the resources its inputs
   * come from (the engine receives both as one list of URNs).
   */
  readonly dependsOn: readonly string[];
}

/** The part of a RegisterResourceRequest (Pulumi's protobuf) the harness reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
}

interface MonitorLike {
  registerResource(req: RegisterRequest, callback: (...args: unknown[]) => void): Promise<void>;
}

/** Fake source connections, as the CLI would pass them after decrypting the stack's secrets. */
export const FAKE_SECRETS = {
  "oven-lakehouse:ddcConnection": JSON.stringify({
    engine: "postgres",
    host: "ddc.example.internal",
    port: 5432,
    dbname: "ddc",
    username: "lakehouse_reader",
    password: "ddc-password-never-in-env",
    options: { sslmode: "require" },
  }),
  "oven-lakehouse:mongodbConnection": JSON.stringify({
    engine: "mongodb",
    host: "mongo.example.internal",
    port: 27017,
    dbname: "iot",
    username: "lakehouse_reader",
    password: "mongo-password-never-in-env",
    options: { tls: true, authSource: "admin" },
  }),
} as const;

/**
 * Fake production connections (optional keys, the side a cutover switches to): other hosts and
 * passwords than the snapshot's, and a ddc port of its own.
 */
export const FAKE_PRODUCTION_SECRETS = {
  "oven-lakehouse:productionDdcConnection": JSON.stringify({
    engine: "postgres",
    host: "ddc-live.example.internal",
    port: 6432,
    dbname: "ddc",
    username: "lakehouse_reader",
    password: "ddc-live-password-never-in-env",
    options: { sslmode: "verify-full" },
  }),
  "oven-lakehouse:productionMongodbConnection": JSON.stringify({
    engine: "mongodb+srv",
    host: "live.mongo.example.internal",
    dbname: "iot",
    username: "lakehouse_reader",
    password: "mongo-live-password-never-in-env",
    options: { authSource: "admin" },
  }),
} as const;

/**
 * What a user sets before deploying: the stack files ship placeholder ids, which the program
 * refuses; these stand for a real account's (random-looking, never deployed).
 */
export const DEPLOY_VALUES: Record<StackName, Record<string, string>> = {
  dev: {
    "oven-lakehouse:vpcId": "vpc-0a7c3e91f25b4d618",
    "oven-lakehouse:subnetIds": JSON.stringify(["subnet-04d2b7e9a1c3f5860", "subnet-0e91c4a7d3b2f6058"]),
    "oven-lakehouse:routeTableIds": JSON.stringify(["rtb-0b5e2d8c1f7a93046"]),
    "oven-lakehouse:quicksightPrincipalArn": `arn:aws:quicksight:${REGION}:${ACCOUNT_ID}:group/default/lakehouse-dev`,
  },
  prod: {
    "oven-lakehouse:vpcId": "vpc-0c4f81a2d97e3b506",
    "oven-lakehouse:subnetIds": JSON.stringify([
      "subnet-0d3a6c9e2f41b7085",
      "subnet-07b2e5d8a1c4f9036",
      "subnet-0f6a1d4c8e2b5f793",
    ]),
    // As many as Pulumi.prod.yaml names: one.
    "oven-lakehouse:endpointSubnetIds": JSON.stringify(["subnet-0d3a6c9e2f41b7085"]),
    "oven-lakehouse:routeTableIds": JSON.stringify(["rtb-06c9f2a5d8e1b4073", "rtb-0a2d5f8b1e4c7a906"]),
    "oven-lakehouse:quicksightPrincipalArn": `arn:aws:quicksight:${REGION}:${ACCOUNT_ID}:group/default/lakehouse-analysts`,
    "oven-lakehouse:alarmEmail": "lakehouse-oncall@ovens-fleet.eu",
  },
};

/** A stack file as a user deploys it: the committed file with {@link DEPLOY_VALUES} set. */
export function deployableConfig(stack: StackName): Record<string, string> {
  return { ...stackConfig(stack), ...DEPLOY_VALUES[stack] };
}

/** Config as the Pulumi engine hands it to a program: every value a string, objects as JSON. */
export function stackConfig(stack: StackName): Record<string, string> {
  const file = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(file.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** Provider calls the program may make, with deterministic answers. */
const CALLS: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>> = {
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    accountId: ACCOUNT_ID,
    arn: `arn:aws:iam::${ACCOUNT_ID}:user/deployer`,
    userId: "AIDAEXAMPLE",
    id: ACCOUNT_ID,
  }),
  "aws:ec2/getSubnet:getSubnet": (inputs) => ({
    id: inputs.id,
    availabilityZone: `${REGION}a`,
    vpcId: DEPLOY_VALUES.dev["oven-lakehouse:vpcId"],
  }),
};

/** The secret RDS creates for a managed master password (`rds!db-…` for an instance, `rds!cluster-…`). */
function managedMasterSecret(id: string): Record<string, string>[] {
  return [
    {
      secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:rds!${id}`,
      kmsKeyId: "alias/aws/secretsmanager",
      secretStatus: "active",
    },
  ];
}

/** Outputs a real provider would compute, per resource type. */
function fakeState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const service = type.split(":")[1]?.split("/")[0] ?? "x";
  const state: Record<string, unknown> = {
    arn: `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${name}`,
    name: inputs.name ?? `${name}-0a1b2c3`,
    ...inputs,
  };
  // ARNs in the shape AWS gives them, so policies that name them can be linted like real ones.
  switch (type) {
    case "aws:secretsmanager/secret:Secret":
      state.arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${state.name}-AbCdEf`;
      break;
    case "aws:cloudwatch/logGroup:LogGroup":
      state.arn = `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:${state.name}`;
      break;
    case "aws:athena/workgroup:Workgroup":
      state.arn = `arn:aws:athena:${REGION}:${ACCOUNT_ID}:workgroup/${state.name}`;
      break;
    case "aws:sqs/queue:Queue":
      state.arn = `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${state.name}`;
      state.url = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/${state.name}`;
      break;
    case "aws:s3/bucket:Bucket":
      state.bucket = inputs.bucket ?? `${name}-0a1b2c3`;
      state.arn = `arn:aws:s3:::${state.bucket}`;
      break;
    case "aws:rds/instance:Instance":
      state.identifier = `${name}-0a1b2c3`;
      state.address = `${name}.abcdefghij.${REGION}.rds.amazonaws.com`;
      state.port = inputs.port ?? 5432;
      state.masterUserSecrets = managedMasterSecret(`db-${name}`);
      break;
    case "aws:rds/cluster:Cluster":
      state.clusterIdentifier = `${name}-0a1b2c3`;
      state.endpoint = `${name}-0a1b2c3.cluster-abcdefghij.${REGION}.rds.amazonaws.com`;
      state.port = inputs.port ?? 5432;
      state.masterUserSecrets = managedMasterSecret(`cluster-${name}`);
      break;
    case "aws:rds/clusterInstance:ClusterInstance":
      state.identifier = `${name}-0a1b2c3`;
      break;
    case "aws:ec2/vpcEndpoint:VpcEndpoint":
      state.prefixListId = "pl-6da54004";
      break;
    case "aws:ec2/securityGroup:SecurityGroup":
      state.id = `sg-${name}`;
      break;
    case "aws:lambda/function:Function":
      state.arn = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${state.name}`;
      break;
    case "aws:glue/job:Job":
      state.arn = `arn:aws:glue:${REGION}:${ACCOUNT_ID}:job/${state.name}`;
      break;
    case "aws:sfn/stateMachine:StateMachine":
      state.arn = `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:${state.name}`;
      break;
  }
  return state;
}

export interface StackRun {
  readonly stack: StackName;
  readonly resources: readonly Recorded[];
  // biome-ignore lint/suspicious/noExplicitAny: stack outputs, resolved.
  readonly outputs: Record<string, any>;
  /** Outputs Pulumi marks secret: `pulumi stack output` prints them as `[secret]`. */
  readonly secretOutputs: readonly string[];
  readonly unmockedCalls: readonly string[];
}

/**
 * Run the program for `stack` with its config file, `overrides` on top (undefined removes a key).
 * @throws whatever the program throws (config errors), or when outputs do not resolve.
 */
export async function runStack(
  stack: StackName,
  overrides: Record<string, string | undefined> = {},
  secrets: Record<string, string> = FAKE_SECRETS,
): Promise<StackRun> {
  const config: Record<string, string> = { ...deployableConfig(stack), ...secrets };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete config[k];
    else config[k] = v;
  }
  pulumi.runtime.setAllConfig(config, Object.keys(secrets));

  const resources: Recorded[] = [];
  const unmockedCalls: string[] = [];
  // Options per registration, taken by the mock below for the same type and name.
  const pendingOptions: { key: string; options: RecordedOptions }[] = [];
  const takeOptions = (type: string, name: string): RecordedOptions => {
    const i = pendingOptions.findIndex((p) => p.key === `${type} ${name}`);
    if (i < 0) throw new Error(`no registration recorded for ${type} ${name}`);
    return (pendingOptions.splice(i, 1)[0] as { options: RecordedOptions }).options;
  };
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs }) => {
        const state = fakeState(type, name, inputs);
        const id = String(state.id ?? `${name}-id`);
        resources.push({ type, name, inputs, id, options: takeOptions(type, name) });
        return { id, state };
      },
      call: ({ token, inputs }) => {
        const mock = CALLS[token];
        if (!mock) {
          unmockedCalls.push(token);
          throw new Error(`unmocked provider call ${token}`);
        }
        return mock(inputs);
      },
    },
    PROJECT,
    stack,
    false,
  );
  // The mocks see a registration's inputs only; its options travel in the same request.
  const monitor = pulumi.runtime.getMonitor() as unknown as MonitorLike;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    pendingOptions.push({
      key: `${req.getType()} ${req.getName()}`,
      options: {
        ignoreChanges: [...req.getIgnorechangesList()],
        // A URN ends in `::<name>`.
        dependsOn: req.getDependenciesList().map((urn) => urn.slice(urn.lastIndexOf("::") + 2)),
      },
    });
    return register(req, callback);
  };

  vi.resetModules();
  const program = (await import("../../infra/index.js")) as Record<string, unknown>;
  const outputs = await new Promise<Record<string, unknown>>((resolve) =>
    pulumi
      .all(program as Record<string, pulumi.Input<unknown>>)
      .apply((o) => resolve(o as Record<string, unknown>)),
  );
  const secretOutputs: string[] = [];
  for (const [key, value] of Object.entries(program))
    if (pulumi.Output.isInstance(value) && (await pulumi.isSecret(value))) secretOutputs.push(key);
  await settle(resources);
  return { stack, resources, outputs, secretOutputs, unmockedCalls };
}

/** Wait until no resource registration is in flight (some are declared inside `apply`). */
async function settle(resources: readonly Recorded[]): Promise<void> {
  const wait = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  let last = -1;
  for (let i = 0; i < 100 && last !== resources.length; i++) {
    last = resources.length;
    await wait?.();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The recorded resources of one type. */
export function ofType(run: StackRun, type: string): Recorded[] {
  return run.resources.filter((r) => r.type === type);
}

/** The one recorded resource of `type` named `name`. */
export function named(run: StackRun, type: string, name: string): Recorded {
  const found = run.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return found[0] as Recorded;
}
