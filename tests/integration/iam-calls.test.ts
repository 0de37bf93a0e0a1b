/**
 * Each function's role covers every AWS call its code makes. The functions' own bundles
 * (infra/bundle.ts: what is deployed) run in child processes, as Lambda loads them, against the
 * local servers: the lake in a moto bucket, secrets in moto's Secrets Manager. The data takes
 * every AWS path of the code: raw objects small and multipart, the worker's quarantines (a bad
 * field, an untimed document), the summary's orphans (no usable idDevice), the worker's cleanup of
 * a killed run's upload, reconcile as scheduled and then with `repair`, told that the curate job
 * counted every raw object and curated nothing, so it finds every day missing and replays them. moto's recorder keeps every request it serves; each function signs with
 * an access key of its own, which tells its requests from those of the test files running beside.
 *
 * Each request is mapped to its IAM action and resource (tests/support/aws-actions.ts), its local
 * names translated back to the program's by the table that bound the run's environment, and decided
 * against the role's inline policies and the bucket's policy as the program declares them under
 * Pulumi's mocks (tests/support/iam-eval.ts).
 *
 * Not seen here: calls the Lambda service makes with the role (logs, network interfaces), calls on
 * error paths the data does not take, and the KMS calls S3 and Secrets Manager make on the
 * caller's behalf (the last test pins the premise that those need no grant).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import {
  CreateMultipartUploadCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import type { Document } from "mongodb";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bundles, bundleFunctions, type FunctionName } from "../../infra/bundle.js";
import { TLS_ENVIRONMENT } from "../../infra/functions.js";
import { loadLocalConfig } from "../../local/config.js";
import { putSecret } from "../../local/connections/local-secrets.js";
import { loadSnapshot, type OpenTargets, openTargets } from "../../local/snapshot/index.js";
import { type ConnectionSecret, secretFromUrl } from "../../pipeline/connections/secret.js";
import type { PlanOutput, ReconcileOutput, WorkerOutput } from "../../pipeline/lambda/events.js";
import { runStack, type StackName, type StackRun } from "../infra/harness.js";
import {
  type IamCall,
  iamCallsOf,
  type RecordedRequest,
  s3Arn,
  secretArn,
  signerOf,
} from "../support/aws-actions.js";
import {
  bucketPolicies,
  evaluate,
  type FunctionAccess,
  functionAccess,
  type Policy,
  withoutStatements,
} from "../support/iam-eval.js";
import { motoRecorder } from "../support/moto-recorder.js";
import { createTestBucket, deleteTestBucket, motoClient, pendingUploads } from "../support/s3-bucket.js";
import { throwawayDatabases } from "../support/throwaway.js";

/** The functions, by their resource names in the program (infra/index.ts), in deployment order. */
const RESOURCE_NAMES: Record<FunctionName, string> = {
  migrate: "support-migrate",
  plan: "ingest-plan",
  worker: "ingest-worker",
  summarize: "ingest-summarize",
  reconcile: "ingest-reconcile",
};
const FUNCTIONS = Object.keys(RESOURCE_NAMES) as FunctionName[];
const STACKS: readonly StackName[] = ["dev", "prod"];
const COLLECTION = "events";

/** Request context IAM sees from a function: the SDK calls AWS over TLS. */
const CONTEXT = { "aws:SecureTransport": "true" } as const;

/** Random payloads that do not compress: the big device's raw object passes one 8 MiB part. */
const BIG_DOCUMENTS = 110;
const BIG_PAYLOAD_BYTES = 96 * 1024;

const dbs = throwawayDatabases("iam");
const { name, config } = dbs;
const region = process.env.AWS_REGION ?? "eu-west-1";
const endpoint = process.env.AWS_ENDPOINT_URL ?? "";

/**
 * The local contents of the connection secrets, by the variable that names them. Any other secret
 * a function names (a support user's, which migrate fills) is created without a value, as the
 * deployment creates it.
 */
const CONNECTIONS: Readonly<Record<string, () => ConnectionSecret>> = {
  DDC_SECRET_ID: () => secretFromUrl(config.DDC_DATABASE_URL),
  MONGODB_SECRET_ID: () => secretFromUrl(config.MONGODB_URL, name),
  SUPPORT_SECRET_ID: () => secretFromUrl(config.SUPPORT_DATABASE_URL),
};

let work: string;
let bundles: Bundles;
let targets: OpenTargets;
let s3: S3Client;
let secrets: SecretsManagerClient;
const stacks = {} as Record<StackName, StackRun>;

/** What one function did: the requests signed with its key, as IAM calls with local names. */
interface FunctionRun {
  readonly requests: readonly RecordedRequest[];
  readonly calls: readonly IamCall[];
  /** Invocations that failed (the calls made before failing are still checked). */
  readonly errors: readonly string[];
}
const runs = {} as Record<FunctionName, FunctionRun>;
const planted = {
  /** Packs a killed worker left (ADR 0023): stored whole, and an upload killed mid-way. */
  abandonedPack: "",
  abandonedPackUpload: "",
  badDevice: 0,
  bigDevice: 0,
  killedUploadKey: "",
  pendingAfterWorker: [] as string[],
  /** The collection's packs after the workers: the ones they wrote, not the killed worker's. */
  packsAfterWorker: [] as string[],
  reconciled: [] as ReconcileOutput[],
};

// --- binding the program's resources to local ones -----------------------------------------------

/** An AWS resource named in a function's environment, and where: `VAR` or `VAR.field` in JSON. */
interface Reference {
  readonly path: string;
  readonly kind: "secret" | "lake";
  readonly value: string;
}

function environmentOf(fn: FunctionAccess): Record<string, string> {
  return (fn.function.inputs.environment?.variables ?? {}) as Record<string, string>;
}

/** A value as the function reads it: JSON objects and lists walked to their strings. */
function mapLeaves(value: string, map: (leaf: string, path: string) => string, path: string): string {
  if (!/^\s*[[{]/.test(value)) return map(value, path);
  const walk = (v: unknown, p: string): unknown =>
    typeof v === "string"
      ? map(v, p)
      : Array.isArray(v)
        ? v.map((x, i) => walk(x, `${p}[${i}]`))
        : typeof v === "object" && v !== null
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, `${p}.${k}`)]))
          : v;
  return JSON.stringify(walk(JSON.parse(value), path));
}

/**
 * Secret ARNs and `s3://` URLs in the environment, plain or inside JSON.
 * @throws for any other AWS resource: the run would call the real one, or nothing would bind it.
 */
function referencesOf(fn: FunctionAccess): Reference[] {
  const refs: Reference[] = [];
  for (const [key, value] of Object.entries(environmentOf(fn))) {
    mapLeaves(
      value,
      (leaf, path) => {
        if (leaf.startsWith("arn:aws:secretsmanager:")) refs.push({ path, kind: "secret", value: leaf });
        else if (leaf.startsWith("s3://")) refs.push({ path, kind: "lake", value: leaf });
        else if (/arn:aws[\w-]*:|s3:\/\//.test(leaf))
          throw new Error(`${fn.function.name}: ${path} names ${leaf}, which this test does not bind`);
        return leaf;
      },
      key,
    );
  }
  return refs;
}

const bucketOf = (url: string) => new URL(url).hostname;

/** The dev graph's resources → this run's: one local secret or bucket per resource. */
const local = { secrets: new Map<string, string>(), buckets: new Map<string, string>() };

/** The sentinel's bucket (the recorder needs one): the first lake bucket. */
const firstBucket = () => [...local.buckets.values()][0] ?? "";

/** Create a local secret or bucket for each resource the functions name in the dev graph. */
async function bindResources(): Promise<void> {
  const content = new Map<string, string>();
  for (const fn of FUNCTIONS) {
    const access = functionAccess(stacks.dev.resources, RESOURCE_NAMES[fn]);
    for (const ref of referencesOf(access)) {
      if (ref.kind === "lake" && !local.buckets.has(bucketOf(ref.value)))
        local.buckets.set(bucketOf(ref.value), await createTestBucket(s3, "iam"));
      if (ref.kind === "secret") {
        if (!local.secrets.has(ref.value))
          local.secrets.set(ref.value, `lakehouse/test/${name}/${local.secrets.size}`);
        if (ref.path in CONNECTIONS) {
          if ((content.get(ref.value) ?? ref.path) !== ref.path)
            throw new Error(`${ref.value} is both ${content.get(ref.value)} and ${ref.path}`);
          content.set(ref.value, ref.path);
        }
      }
    }
  }
  for (const [arn, id] of local.secrets) {
    const variable = content.get(arn);
    if (variable) await putSecret(secrets, id, (CONNECTIONS[variable] as () => ConnectionSecret)());
    else await secrets.send(new CreateSecretCommand({ Name: id }));
  }
}

/**
 * The function's dev environment with every reference bound to its local resource (an `s3://`
 * URL keeps its key prefix, so keys are the program's), minus the TLS settings (the local servers
 * speak plain TCP).
 */
function localEnvironment(fn: FunctionAccess): Record<string, string> {
  referencesOf(fn); // refuses references it cannot bind
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(environmentOf(fn))) {
    if (key in TLS_ENVIRONMENT) continue;
    env[key] = mapLeaves(
      value,
      (leaf) => {
        if (local.secrets.has(leaf)) return local.secrets.get(leaf) as string;
        if (leaf.startsWith("s3://")) {
          const u = new URL(leaf);
          return `s3://${local.buckets.get(u.hostname)}${u.pathname}`;
        }
        return leaf;
      },
      key,
    );
  }
  return env;
}

/**
 * Local ARN → the program's in `run`, through the function's references: a local resource stands
 * for a dev resource, which stands at the same place of the environment as `run`'s.
 * @throws for a call on a resource the function's environment does not name.
 */
function translator(fn: FunctionName, run: StackRun): (call: IamCall) => IamCall {
  const there = new Map(
    referencesOf(functionAccess(run.resources, RESOURCE_NAMES[fn])).map((r) => [r.path, r]),
  );
  const pairs: { local: string; graph: string; objects: boolean }[] = [];
  for (const ref of referencesOf(functionAccess(stacks.dev.resources, RESOURCE_NAMES[fn]))) {
    const other = there.get(ref.path);
    if (!other || other.kind !== ref.kind)
      throw new Error(`${RESOURCE_NAMES[fn]}: ${ref.path} is not a ${ref.kind} in ${run.stack}`);
    if (ref.kind === "secret")
      pairs.push({
        local: secretArn(local.secrets.get(ref.value) ?? "", region),
        graph: other.value,
        objects: false,
      });
    else {
      if (new URL(ref.value).pathname !== new URL(other.value).pathname)
        throw new Error(`${RESOURCE_NAMES[fn]}: ${ref.path} has another key prefix in ${run.stack}`);
      pairs.push({
        local: s3Arn(local.buckets.get(bucketOf(ref.value)) ?? ""),
        graph: s3Arn(bucketOf(other.value)),
        objects: true,
      });
    }
  }
  return (call) => {
    if (call.resource === "*") return call;
    for (const p of pairs) {
      if (call.resource === p.local) return { ...call, resource: p.graph };
      if (p.objects && call.resource.startsWith(`${p.local}/`))
        return { ...call, resource: p.graph + call.resource.slice(p.local.length) };
    }
    throw new Error(
      `${RESOURCE_NAMES[fn]}: ${call.action} on ${call.resource}, which its environment does not name`,
    );
  };
}

// --- running a function's bundle ----------------------------------------------------------------

const CHILD = `
  import { readFileSync, writeFileSync } from "node:fs";
  const job = JSON.parse(readFileSync(process.argv[1], "utf8"));
  const { handler } = await import(job.bundle);
  const outputs = [];
  for (const event of job.events) {
    const deadline = Date.now() + job.timeoutMs;
    const context = { awsRequestId: crypto.randomUUID(), getRemainingTimeInMillis: () => deadline - Date.now() };
    try {
      outputs.push({ output: await handler(event, context) });
    } catch (error) {
      outputs.push({ error: error.name + ": " + error.message });
    }
  }
  writeFileSync(job.out, JSON.stringify(outputs));
  // Like a frozen Lambda container, the runtime keeps its connections: leave without closing them.
  process.exit(0);`;

/**
 * Invoke `fn`'s bundle once per event, in one child process (a warm container), with the dev
 * graph's environment bound locally and an access key of its own. Records the requests signed
 * with that key in `runs[fn]`; returns the outputs of the invocations that succeeded.
 */
async function invoke(fn: FunctionName, events: readonly unknown[]): Promise<unknown[]> {
  const access = functionAccess(stacks.dev.resources, RESOURCE_NAMES[fn]);
  const accessKeyId = `AKIA${randomBytes(8).toString("hex").toUpperCase()}`;
  const job = join(work, `${fn}.job.json`);
  const out = join(work, `${fn}.out.json`);
  await writeFile(
    job,
    JSON.stringify({
      bundle: pathToFileURL(join(bundles.dirs[fn], "index.mjs")).href,
      events,
      out,
      timeoutMs: Number(access.function.inputs.timeout) * 1000,
    }),
  );
  const env = {
    PATH: process.env.PATH ?? "",
    ...localEnvironment(access),
    // Quieter than the stack's debug; logging makes no AWS call.
    LOG_LEVEL: "warn",
    // Set by Lambda: the metrics library then prints EMF to stdout instead of probing for an agent.
    AWS_LAMBDA_FUNCTION_NAME: RESOURCE_NAMES[fn],
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: "iam-calls",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  const recorder = motoRecorder({ endpoint, region, bucket: firstBucket() });
  const errors: string[] = [];
  let outputs: { output?: unknown; error?: string }[] = [];
  try {
    const { requests } = await recorder.record(async () => {
      try {
        await promisify(execFile)(process.execPath, ["--input-type=module", "-e", CHILD, job], {
          cwd: bundles.dirs[fn],
          env,
          maxBuffer: 64 * 1024 * 1024,
          timeout: 240_000,
        });
        outputs = JSON.parse(await readFile(out, "utf8"));
      } catch (error) {
        const e = error as { stderr?: string; stdout?: string; message: string };
        errors.push(
          `the bundle's process failed: ${e.message}\n${`${e.stderr ?? ""}${e.stdout ?? ""}`.slice(-3000)}`,
        );
      }
    });
    errors.push(...outputs.flatMap((o) => (o.error ? [o.error] : [])));
    const mine = requests.filter((r) => signerOf(r)?.accessKeyId === accessKeyId);
    runs[fn] = { requests: mine, calls: mine.flatMap((r) => iamCallsOf(r)), errors };
  } finally {
    recorder.close();
  }
  return outputs.flatMap((o) => (o.error ? [] : [o.output]));
}

// --- data -----------------------------------------------------------------------------------------

/** Two devices with events before their last_log_date: one gets bad documents, one big ones. */
async function pickDevices(): Promise<[Document, Document]> {
  const { rows } = await targets.pg.query(
    "SELECT id, last_log_date FROM device WHERE last_log_date IS NOT NULL ORDER BY id",
  );
  const found: Document[] = [];
  for (const row of rows) {
    const first = await targets.mongo
      .collection(COLLECTION)
      .findOne(
        { idDevice: Number(row.id), timestamp: { $lt: row.last_log_date } },
        { sort: { timestamp: 1 } },
      );
    if (first) found.push(first);
    if (found.length === 2) break;
  }
  const [a, b] = found;
  if (!a || !b) throw new Error(`the snapshot has fewer than two devices with ${COLLECTION}`);
  return [a, b];
}

async function plantData(): Promise<void> {
  const [bad, big] = await pickDevices();
  planted.badDevice = bad.idDevice as number;
  planted.bigDevice = big.idDevice as number;
  const events = targets.mongo.collection<Document>(COLLECTION);
  const base = { type: "door", source: "sensor" };
  await events.insertMany([
    // The summary's sweep: no usable idDevice.
    { _id: "orphan-missing" as never, timestamp: bad.timestamp, ...base },
    { _id: "orphan-string" as never, idDevice: String(bad.idDevice), timestamp: bad.timestamp, ...base },
    // The worker's untimed sweep: a timestamp no window can select.
    { _id: "untimed-1" as never, idDevice: bad.idDevice, timestamp: "not a date", ...base },
    // The worker's window: a field of the wrong type.
    {
      _id: "invalid-1" as never,
      idDevice: bad.idDevice,
      timestamp: bad.timestamp,
      type: 42,
      source: "sensor",
    },
  ]);
  const start = (big.timestamp as Date).getTime();
  const docs = Array.from({ length: BIG_DOCUMENTS }, (_, i) => ({
    _id: `big-${i}` as never,
    idDevice: big.idDevice,
    timestamp: new Date(start + i),
    ...base,
    blob: randomBytes((BIG_PAYLOAD_BYTES * 3) / 4).toString("base64"),
  }));
  for (let i = 0; i < docs.length; i += 20) await events.insertMany(docs.slice(i, i + 20));
  // A killed worker's upload under the bad device's keys: the next worker run must abort it.
  planted.killedUploadKey = `${COLLECTION}/idDevice=${planted.badDevice}/0.parquet`;
  await s3.send(new CreateMultipartUploadCommand({ Bucket: firstBucket(), Key: planted.killedUploadKey }));
}

/**
 * Packs a killed worker recorded an hour ago and never committed, after the migrations made their
 * table: one stored whole, one whose multipart upload was cut. The next worker removes both.
 */
async function plantAbandonedPacks(): Promise<void> {
  planted.abandonedPack = `${COLLECTION}/packs/20240101T000000000Z-0123456789ab.parquet`;
  planted.abandonedPackUpload = `${COLLECTION}/packs/20240101T000000001Z-0123456789ab.parquet`;
  await s3.send(new PutObjectCommand({ Bucket: firstBucket(), Key: planted.abandonedPack, Body: "PAR1" }));
  await s3.send(
    new CreateMultipartUploadCommand({ Bucket: firstBucket(), Key: planted.abandonedPackUpload }),
  );
  const support = new pg.Client({ connectionString: config.SUPPORT_DATABASE_URL });
  await support.connect();
  try {
    await support.query(
      `INSERT INTO pack_upload (object_key, collection, run_id, created_at)
       SELECT unnest($1::text[]), $2, 'killed', now() - interval '1 hour'`,
      [[planted.abandonedPack, planted.abandonedPackUpload], COLLECTION],
    );
  } finally {
    await support.end();
  }
}

/**
 * The curate job's day counts without Spark: every ledger row of the collection but the newest
 * counted, no day curated. Reconcile then finds each day missing, but the newest window's, in
 * flight once it has looked its object up.
 */
async function curatedNothing(): Promise<void> {
  const support = new pg.Client({ connectionString: config.SUPPORT_DATABASE_URL });
  await support.connect();
  try {
    await support.query(
      `INSERT INTO curated_count (collection, position, counted_at)
       SELECT collection, max(id) - 1, now() FROM file_ledger WHERE collection = $1 GROUP BY collection`,
      [COLLECTION],
    );
  } finally {
    await support.end();
  }
}

beforeAll(async () => {
  for (const stack of STACKS) stacks[stack] = await runStack(stack);
  work = await mkdtemp(join(tmpdir(), "iam-calls-"));
  bundles = bundleFunctions(join(work, "functions"));
  await dbs.create();
  targets = await openTargets({
    ddcDatabaseUrl: config.DDC_DATABASE_URL,
    mongodbUrl: config.MONGODB_URL,
    mongodbDatabase: name,
  });
  await loadSnapshot(targets, { seed: 23, devices: 3, days: 3, collections: [COLLECTION], reset: true });
  s3 = motoClient();
  secrets = new SecretsManagerClient({});
  await bindResources();
  await plantData();

  // One function at a time: the migrations as a deployment runs them, then the ingestion as the
  // state machine does. A failed step still leaves its calls to check; the first test names it.
  await invoke("migrate", [{}]);
  await plantAbandonedPacks();
  const [plan] = (await invoke("plan", [{ mode: "bulk", collections: [COLLECTION] }])) as PlanOutput[];
  const results = plan ? ((await invoke("worker", plan.items)) as WorkerOutput[]) : [];
  planted.pendingAfterWorker = await pendingUploads(s3, firstBucket());
  const packs = await s3.send(
    new ListObjectsV2Command({ Bucket: firstBucket(), Prefix: `${COLLECTION}/packs/` }),
  );
  planted.packsAfterWorker = (packs.Contents ?? []).map((o) => o.Key ?? "");
  if (plan) await invoke("summarize", [{ planId: plan.planId, results }]);
  // Last, as the state machine runs it, then as an operator repairs.
  await curatedNothing();
  planted.reconciled = (await invoke("reconcile", [
    { mode: "auto", repair: false },
    { repair: true },
  ])) as ReconcileOutput[];
}, 600_000);

afterAll(async () => {
  // Each step on its own: one failing must not leave the others' resources behind.
  const steps: (() => Promise<unknown>)[] = [
    async () => targets?.close(),
    () => dbs.drop(),
    dropRoles,
    ...[...local.buckets.values()].map((bucket) => () => deleteTestBucket(s3, bucket)),
    ...[...local.secrets.values()].map(
      (id) => () => secrets.send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true })),
    ),
    async () => work && rm(work, { recursive: true, force: true }),
  ];
  const failed: unknown[] = [];
  for (const step of steps) await step().catch((error: unknown) => failed.push(error));
  s3?.destroy();
  secrets?.destroy();
  if (failed.length) throw new AggregateError(failed, "cleanup failed");
});

/**
 * PostgreSQL roles are the cluster's, not a database's: the ones migrate provisions for this
 * file's support database (named after it, pipeline/support/users.ts) outlive `dbs.drop()`.
 */
async function dropRoles(): Promise<void> {
  // The stack's own database: this file's are gone by now.
  const admin = new pg.Client({ connectionString: loadLocalConfig().DDC_DATABASE_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ rolname: string }>(
      "SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)",
      [`${name}_`],
    );
    for (const { rolname } of rows) await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(rolname)}`);
  } finally {
    await admin.end();
  }
}

// --- checks -------------------------------------------------------------------------------------

/** A call with local names as `Operation action target`: a key, `<lake>`, or the secret's variable. */
function describeLocal(fn: FunctionName, call: IamCall): string {
  let target = call.resource;
  for (const bucket of local.buckets.values()) {
    if (target === s3Arn(bucket)) target = "<lake>";
    else if (target.startsWith(`${s3Arn(bucket)}/`)) target = target.slice(s3Arn(bucket).length + 1);
  }
  const refs = referencesOf(functionAccess(stacks.dev.resources, RESOURCE_NAMES[fn]));
  for (const ref of refs)
    if (ref.kind === "secret" && target === secretArn(local.secrets.get(ref.value) ?? "", region))
      target = ref.path;
  return `${call.operation} ${call.action} ${target}`;
}

const unique = (lines: readonly string[]) => [...new Set(lines)].sort();

/** `function: action resource` of each call its role does not allow in `run`. */
function deniedCalls(
  run: StackRun,
  functions: readonly FunctionName[],
  policies: (access: FunctionAccess) => readonly Policy[] = (a) => a.policies,
): string[] {
  const denied: string[] = [];
  for (const fn of functions) {
    const access = functionAccess(run.resources, RESOURCE_NAMES[fn]);
    const translate = translator(fn, run);
    for (const call of (runs[fn]?.calls ?? []).map(translate)) {
      const bucket = /^arn:aws:s3:::([^/]+)/.exec(call.resource)?.[1];
      const decision = evaluate(
        { action: call.action, resource: call.resource, context: { ...CONTEXT, ...call.context } },
        policies(access),
        bucket ? bucketPolicies(run.resources, bucket) : [],
      );
      if (decision.effect !== "allow") denied.push(`${RESOURCE_NAMES[fn]}: ${call.action} ${call.resource}`);
    }
  }
  return unique(denied);
}

describe("each function's role covers the AWS calls its code makes", () => {
  it("every function ran without error", () => {
    const errors = Object.fromEntries(FUNCTIONS.map((fn) => [fn, runs[fn]?.errors ?? ["did not run"]]));
    expect(errors).toEqual(Object.fromEntries(FUNCTIONS.map((fn) => [fn, []])));
  });

  const calls = (fn: FunctionName) => unique((runs[fn]?.calls ?? []).map((c) => describeLocal(fn, c)));
  const get = "GetSecretValue secretsmanager:GetSecretValue";

  it("plan reads its two connections", () => {
    expect(calls("plan")).toEqual([`${get} DDC_SECRET_ID`, `${get} SUPPORT_SECRET_ID`]);
  });

  it("migrate reads the support database's secret", () => {
    expect(calls("migrate")).toEqual(expect.arrayContaining([`${get} SUPPORT_SECRET_ID`]));
  });

  it("the worker takes every AWS path of its code", () => {
    const worker = calls("worker");
    const quarantine = `_quarantine/${COLLECTION}/idDevice=${planted.badDevice}`;
    expect(worker).toEqual(
      expect.arrayContaining([
        `${get} MONGODB_SECRET_ID`,
        `${get} SUPPORT_SECRET_ID`,
        // removePartial lists the killed run's upload and aborts it.
        "ListMultipartUploads s3:ListBucketMultipartUploads <lake>",
        `AbortMultipartUpload s3:AbortMultipartUpload ${planted.killedUploadKey}`,
        `PutObject s3:PutObject ${quarantine}/untimed/untimed-1.json`,
        // A killed worker's packs: the stored one deleted, the cut upload aborted (ADR 0023).
        "ListMultipartUploads s3:ListBucketMultipartUploads <lake>",
        `AbortMultipartUpload s3:AbortMultipartUpload ${planted.abandonedPackUpload}`,
        `DeleteObjects s3:DeleteObject ${planted.abandonedPack}`,
        `DeleteObjects s3:DeleteObject ${planted.abandonedPackUpload}`,
      ]),
    );
    expect(planted.pendingAfterWorker).toEqual([]);
    expect(planted.packsAfterWorker.length).toBeGreaterThan(0);
    expect(planted.packsAfterWorker).not.toContain(planted.abandonedPack);
    const has = (pattern: RegExp) => worker.some((c) => pattern.test(c));
    // A field of the wrong type, quarantined inside its window.
    expect(has(new RegExp(`^PutObject s3:PutObject ${quarantine}/\\d+/invalid-1\\.json$`))).toBe(true);
    // Small windows packed into one object in one request, the big device's window in parts.
    expect(has(new RegExp(`^PutObject s3:PutObject ${COLLECTION}/packs/[0-9TZ]+-[0-9a-f]+\\.parquet$`))).toBe(
      true,
    );
    for (const op of ["CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"])
      expect(has(new RegExp(`^${op} s3:PutObject ${COLLECTION}/idDevice=${planted.bigDevice}/`)), op).toBe(
        true,
      );
    // Nothing else: a new kind of call gets a line above on purpose.
    const known =
      /^(GetSecretValue|ListMultipartUploads|AbortMultipartUpload|PutObject|CreateMultipartUpload|UploadPart|CompleteMultipartUpload|DeleteObjects) /;
    expect(worker.filter((c) => !known.test(c))).toEqual([]);
  });

  it("summarize reads its three connections and quarantines both orphans", () => {
    expect(calls("summarize")).toEqual(
      unique([
        `${get} DDC_SECRET_ID`,
        `${get} MONGODB_SECRET_ID`,
        `${get} SUPPORT_SECRET_ID`,
        `PutObject s3:PutObject _quarantine/${COLLECTION}/no-device/orphan-missing.json`,
        `PutObject s3:PutObject _quarantine/${COLLECTION}/no-device/orphan-string.json`,
      ]),
    );
  });

  it("reconcile reads its connections and writes raw only as the worker does", () => {
    const [scheduled, repaired] = planted.reconciled;
    expect(scheduled?.differences).toBeGreaterThan(0);
    expect(scheduled?.windowsReplayed).toBe(0);
    expect(repaired?.windowsReplayed).toBeGreaterThan(0);
    const reconcile = calls("reconcile");
    expect(reconcile).toEqual(
      expect.arrayContaining([`${get} MONGODB_SECRET_ID`, `${get} SUPPORT_SECRET_ID`]),
    );
    // The window curate has not counted: its object looked up by listing its key, not read.
    expect(scheduled?.inFlight).toBeGreaterThan(0);
    expect(reconcile.some((c) => c.startsWith("ListObjectsV2 s3:ListBucket <lake>"))).toBe(true);
    // The replayed windows, small ones in one request and the big device's in parts.
    for (const op of ["PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"])
      expect(
        reconcile.some((c) => c.startsWith(`${op} s3:PutObject ${COLLECTION}/idDevice=`)),
        op,
      ).toBe(true);
    // Nothing but the worker's calls, on the worker's keys.
    const known = new RegExp(
      `^(${get} (DDC|MONGODB|SUPPORT)_SECRET_ID|ListMultipartUploads s3:ListBucketMultipartUploads <lake>|ListObjectsV2 s3:ListBucket <lake>.*|` +
        `(PutObject|CreateMultipartUpload|UploadPart|CompleteMultipartUpload|AbortMultipartUpload|DeleteObject) s3:\\w+ (${COLLECTION}|_quarantine)/.+)$`,
    );
    expect(reconcile.filter((c) => !known.test(c))).toEqual([]);
  });

  it.each(STACKS)("%s: every recorded call is allowed by its function's role", (stack) => {
    const denied = deniedCalls(stacks[stack], FUNCTIONS);
    expect(denied, `denied calls:\n${denied.join("\n")}`).toEqual([]);
  });

  it("reports summarize's quarantine writes as denied once the statements granting them are removed", () => {
    const run = stacks.dev;
    const access = functionAccess(run.resources, RESOURCE_NAMES.summarize);
    const writes = (runs.summarize?.calls ?? [])
      .filter((c) => c.action === "s3:PutObject")
      .map(translator("summarize", run));
    expect(writes.length).toBeGreaterThan(0);
    // Whatever grants them now (nothing, when the grant is missing): without those statements the
    // evaluator must deny exactly these writes, and still allow the function's other calls.
    const granting = new Set(
      writes.flatMap((w) =>
        evaluate({ ...w, context: { ...CONTEXT, ...w.context } }, access.policies).statements.map(
          (s) => s.id,
        ),
      ),
    );
    const without = access.policies.map((p) => withoutStatements(p, (s) => granting.has(s.id)));
    expect(deniedCalls(run, ["summarize"], () => without)).toEqual(
      unique(writes.map((w) => `${RESOURCE_NAMES.summarize}: ${w.action} ${w.resource}`)),
    );
  });

  it.each(STACKS)(
    "%s: no call needs a KMS grant the recording cannot show (AWS managed keys only)",
    (stack) => {
      // S3 and Secrets Manager call KMS on the caller's behalf; with a customer managed key the role
      // would need kms:GenerateDataKey / kms:Decrypt, which this test neither records nor checks.
      const inputs = (type: string) =>
        stacks[stack].resources.filter((r) => r.type === type).map((r) => r.inputs);
      const customerKeys = [
        ...inputs(
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        ).flatMap((i) =>
          (i.rules ?? []).map(
            (rule: { applyServerSideEncryptionByDefault?: { kmsMasterKeyId?: string } }) =>
              rule.applyServerSideEncryptionByDefault?.kmsMasterKeyId,
          ),
        ),
        ...inputs("aws:secretsmanager/secret:Secret").map((i) => i.kmsKeyId),
        ...inputs("aws:rds/instance:Instance").map((i) => i.masterUserSecretKmsKeyId),
      ].filter(Boolean);
      expect(customerKeys).toEqual([]);
    },
  );
});
