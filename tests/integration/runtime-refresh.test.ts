/**
 * A warm function container follows a cutover (pipeline/lambda/runtime.ts `refresh`): the cutover
 * writes a new version of a source's secret, and the next invocation closes the connection opened
 * from the old version, so the step after it reads the new database. On the real local PostgreSQL,
 * FerretDB and moto's Secrets Manager; the runtime's Secrets Manager client carries a middleware
 * that records the calls it sends (the server still answers them).
 */
import { randomUUID } from "node:crypto";
import {
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { type Db, MongoClient } from "mongodb";
import pg from "pg";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadLocalConfig } from "../../local/config.js";
import { putSecret } from "../../local/connections/local-secrets.js";
import { secretFromUrl } from "../../pipeline/connections/secret.js";
import { ConfigError } from "../../pipeline/errors.js";
import { defineHandler, type InvocationContext } from "../../pipeline/lambda/handler.js";
import { emfLines } from "../../pipeline/lambda/metrics.js";
import { openRuntime, type Runtime } from "../../pipeline/lambda/runtime.js";
import type { Step } from "../../pipeline/lambda/steps.js";
import { withDatabase } from "../support/throwaway.js";

const config = loadLocalConfig();
const run = `refresh_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
/** The two sides of the cutover: a PostgreSQL and a MongoDB database each. */
const DB = { a: `${run}_a`, b: `${run}_b` } as const;
type Side = keyof typeof DB;

const admin = new SecretsManagerClient({});
const written = new Set<string>();
const open: Runtime[] = [];

interface SecretIds {
  readonly ddc: string;
  readonly mongodb: string;
  readonly support: string;
}

/** Secrets of one test, so deleting or breaking one leaves the others alone. */
let tests = 0;
async function secretsOn(side: Side): Promise<SecretIds> {
  const prefix = `lakehouse/test/${run}/${++tests}`;
  const ids = { ddc: `${prefix}/ddc`, mongodb: `${prefix}/mongodb`, support: `${prefix}/support` };
  await pointAt(ids, side);
  // Any database serves as the support one here: only its secret's reads matter.
  await put(ids.support, withDatabase(config.DDC_DATABASE_URL, DB.a));
  return ids;
}

async function put(id: string, url: string, dbname?: string): Promise<void> {
  written.add(id);
  await putSecret(admin, id, secretFromUrl(url, dbname));
}

/** What the cutover does: a new version of each source's secret. */
async function pointAt(ids: SecretIds, side: Side): Promise<void> {
  await put(ids.ddc, withDatabase(config.DDC_DATABASE_URL, DB[side]));
  await put(ids.mongodb, config.MONGODB_URL, DB[side]);
}

async function versionOf(id: string): Promise<string | undefined> {
  return (await admin.send(new GetSecretValueCommand({ SecretId: id }))).VersionId;
}

async function deleteSecret(id: string): Promise<void> {
  await admin
    .send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }))
    .catch((error: unknown) => {
      if ((error as { name?: string }).name !== "ResourceNotFoundException") throw error;
    });
}

interface Call {
  readonly command: string;
  readonly secretId: unknown;
}

interface Watched {
  readonly runtime: Runtime;
  /** Secrets Manager calls the runtime sent, in order. */
  readonly calls: Call[];
  /** The runtime's log lines, parsed. */
  readonly logs: Record<string, unknown>[];
}

function watchedRuntime(ids: SecretIds): Watched {
  const calls: Call[] = [];
  const logs: Record<string, unknown>[] = [];
  const secrets = new SecretsManagerClient({});
  secrets.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push({
        command: String(context.commandName),
        secretId: (args.input as { SecretId?: unknown }).SecretId,
      });
      return next(args);
    },
    { step: "initialize", name: "recordSecretsCalls" },
  );
  const log = pino({ level: "debug" }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const runtime = openRuntime(
    {
      ...process.env,
      DDC_SECRET_ID: ids.ddc,
      MONGODB_SECRET_ID: ids.mongodb,
      SUPPORT_SECRET_ID: ids.support,
      RAW_LAKE_URL: "file:///nonexistent/raw",
    },
    log,
    secrets,
  );
  open.push(runtime);
  return { runtime, calls, logs };
}

async function ddcName(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ name: string }>("SELECT current_database() AS name");
  return rows[0]?.name ?? "";
}

/** The side a MongoDB database is, by the marker written into it (read from the server). */
async function mongoSide(db: Db): Promise<unknown> {
  return (await db.collection<{ _id: string; side: Side }>("marker").findOne({ _id: "side" }))?.side;
}

const messages = (logs: Record<string, unknown>[], level: number) =>
  logs.filter((l) => l.level === level).map((l) => l.msg);
const INFO = 30;
const WARN = 40;

beforeAll(async () => {
  const pgAdmin = new pg.Client({ connectionString: config.DDC_DATABASE_URL });
  await pgAdmin.connect();
  try {
    for (const name of Object.values(DB)) await pgAdmin.query(`CREATE DATABASE ${name}`);
  } finally {
    await pgAdmin.end();
  }
  const mongo = new MongoClient(config.MONGODB_URL);
  try {
    for (const [side, name] of Object.entries(DB))
      await mongo
        .db(name)
        .collection<{ _id: string; side: string }>("marker")
        .insertOne({ _id: "side", side });
  } finally {
    await mongo.close();
  }
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((rt) => rt.close()));
});

afterAll(async () => {
  await Promise.all([...written].map(deleteSecret));
  admin.destroy();
  const mongo = new MongoClient(config.MONGODB_URL);
  try {
    for (const name of Object.values(DB)) await mongo.db(name).dropDatabase();
  } finally {
    await mongo.close();
  }
  const pgAdmin = new pg.Client({ connectionString: config.DDC_DATABASE_URL });
  await pgAdmin.connect();
  try {
    for (const name of Object.values(DB)) await pgAdmin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await pgAdmin.end();
  }
});

describe("Runtime.refresh after a cutover", () => {
  it("ddc(): keeps its pool until refresh, then opens the database of the new secret version", async () => {
    const ids = await secretsOn("a");
    const { runtime, logs } = watchedRuntime(ids);
    const before = await runtime.ddc();
    expect(await ddcName(before)).toBe(DB.a);

    await runtime.refresh();
    expect(await runtime.ddc(), "an unchanged version keeps the pool").toBe(before);

    const oldVersion = await versionOf(ids.ddc);
    await pointAt(ids, "b");
    const newVersion = await versionOf(ids.ddc);
    expect(newVersion).not.toBe(oldVersion);
    expect(await runtime.ddc(), "no refresh: the same pool").toBe(before);
    expect(await ddcName(await runtime.ddc())).toBe(DB.a);

    await runtime.refresh();
    expect(before.ended, "the old pool is closed").toBe(true);
    const after = await runtime.ddc();
    expect(after).not.toBe(before);
    expect(await ddcName(after)).toBe(DB.b);

    const changed = logs.filter((l) => l.level === INFO && l.secret === ids.ddc);
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ fromVersion: oldVersion, toVersion: newVersion });
    // Version ids only: no connection settings in any line.
    expect(JSON.stringify(logs)).not.toMatch(/password|postgres:\/\/|127\.0\.0\.1/);
  });

  it("source(): keeps its client until refresh, then opens the MongoDB database the new version names", async () => {
    const ids = await secretsOn("a");
    const { runtime, logs } = watchedRuntime(ids);
    const before = await runtime.source();
    expect(before.databaseName).toBe(DB.a);
    expect(await mongoSide(before)).toBe("a");

    await pointAt(ids, "b");
    expect(await mongoSide(await runtime.source()), "no refresh: still the old database").toBe("a");

    await runtime.refresh();
    const after = await runtime.source();
    expect(after.databaseName).toBe(DB.b);
    expect(await mongoSide(after)).toBe("b");
    expect(logs.filter((l) => l.level === INFO && l.secret === ids.mongodb)).toHaveLength(1);
  });

  it("makes no Secrets Manager call when nothing is open", async () => {
    const ids = await secretsOn("a");
    const { runtime, calls, logs } = watchedRuntime(ids);
    await runtime.refresh();
    await pointAt(ids, "b");
    await runtime.refresh();
    expect(calls).toEqual([]);
    expect(messages(logs, WARN)).toEqual([]);
  });

  it("reads only the open sources' secrets, once each, and never the support database's", async () => {
    const ids = await secretsOn("a");
    const { runtime, calls } = watchedRuntime(ids);
    // A plan-only container: ddc and the support pool, never the worker's MongoDB source.
    await runtime.ddc();
    await runtime.supportPool();
    calls.length = 0;
    await runtime.refresh();
    expect(calls).toEqual([{ command: "GetSecretValueCommand", secretId: ids.ddc }]);

    await runtime.source();
    calls.length = 0;
    await runtime.refresh();
    expect(calls.map((c) => c.secretId).sort()).toEqual([ids.ddc, ids.mongodb].sort());
    expect(calls.every((c) => c.command === "GetSecretValueCommand")).toBe(true);
  });

  it("keeps the open connections when the secrets cannot be read, and switches once they can", async () => {
    const ids = await secretsOn("a");
    const { runtime, logs } = watchedRuntime(ids);
    const pool = await runtime.ddc();
    const db = await runtime.source();
    await deleteSecret(ids.ddc);
    await deleteSecret(ids.mongodb);

    await expect(runtime.refresh()).resolves.toBeUndefined();
    expect(await runtime.ddc()).toBe(pool);
    expect(await ddcName(pool)).toBe(DB.a);
    expect(await mongoSide(await runtime.source())).toBe("a");
    expect(await runtime.source()).toBe(db);
    const warned = logs.filter((l) => l.level === WARN).map((l) => l.secret);
    expect(warned.sort()).toEqual([ids.ddc, ids.mongodb].sort());

    // The secret is back (a new secret, so a new version): the next refresh follows it.
    await pointAt(ids, "b");
    await runtime.refresh();
    expect(await ddcName(await runtime.ddc())).toBe(DB.b);
    expect(await mongoSide(await runtime.source())).toBe("b");
  });

  it("drops the connection for a new version that does not parse: the next ddc() fails loudly, not on the old database", async () => {
    const ids = await secretsOn("a");
    const { runtime } = watchedRuntime(ids);
    const before = await runtime.ddc();
    await admin.send(new PutSecretValueCommand({ SecretId: ids.ddc, SecretString: '{"engine":"postgres"}' }));

    await runtime.refresh();
    expect(before.ended).toBe(true);
    await expect(runtime.ddc()).rejects.toThrow(ConfigError);
    await expect(runtime.ddc()).rejects.toThrow(ids.ddc);

    // The fixed secret is picked up by the next open: a failed open is not kept.
    await pointAt(ids, "b");
    expect(await ddcName(await runtime.ddc())).toBe(DB.b);
  });

  it("closes once when refreshes run side by side (a runtime shared by local runs)", async () => {
    const ids = await secretsOn("a");
    const { runtime, logs } = watchedRuntime(ids);
    const before = await runtime.ddc();
    await pointAt(ids, "b");
    await Promise.all([runtime.refresh(), runtime.refresh(), runtime.refresh()]);
    expect(before.ended).toBe(true);
    expect(logs.filter((l) => l.level === INFO && l.secret === ids.ddc)).toHaveLength(1);
    const after = await runtime.ddc();
    expect(await ddcName(after)).toBe(DB.b);
    await runtime.refresh();
    expect(await runtime.ddc()).toBe(after);
  });
});

describe("defineHandler", () => {
  const probe: Step<z.ZodObject, string> = {
    name: "plan",
    schema: z.object({}),
    run: async (rt) => ddcName(await rt.ddc()),
  };
  let invocation = 0;
  const context = (): InvocationContext => ({
    awsRequestId: `refresh-${++invocation}`,
    getRemainingTimeInMillis: () => Number.POSITIVE_INFINITY,
  });

  it("refreshes the runtime before each step: the invocation after a cutover reads the new database", async () => {
    const ids = await secretsOn("a");
    const { runtime } = watchedRuntime(ids);
    const handler = defineHandler(probe, {
      runtime: () => runtime,
      metrics: emfLines(() => {}),
      log: pino({ level: "silent" }),
    });
    expect(await handler({}, context())).toBe(DB.a);
    await pointAt(ids, "b");
    expect(await handler({}, context())).toBe(DB.b);
  });
});
