/**
 * What a function invocation works with: the support database, `ddc`, the MongoDB source and the
 * raw object store, opened from Secrets Manager at first use and kept for the container's later
 * invocations (a cold start pays once). Each is opened only when a step asks for it: the worker
 * never connects to `ddc`; the steps' ledger and plan store run on `supportPool`, and only the
 * summary's progress report loads the Prisma client (`support`).
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type Db, MongoClient } from "mongodb";
import pg from "pg";
import type { Logger } from "pino";
import { connectionUrl } from "../connections/secret.js";
import { readConnectionSecret } from "../connections/secrets-manager.js";
import { type IngestSettings, loadIngestSettings } from "../ingest/settings.js";
import type { ObjectStore } from "../lake/object-store.js";
import { openObjectStore } from "../lake/open-store.js";
import { createSupportClient, type SupportClient } from "../support/client.js";
import { createSupportPool } from "../support/pool.js";
import { type FunctionConfig, loadFunctionConfig } from "./env.js";

export interface Runtime {
  readonly config: FunctionConfig;
  readonly settings: IngestSettings;
  /** The support database's Prisma client: the summary's progress report (support/progress.ts). */
  support(): Promise<SupportClient>;
  /** The support database on plain node-postgres: the ingestion state and the plan store (support/pool.ts). */
  supportPool(): Promise<pg.Pool>;
  ddc(): Promise<pg.Pool>;
  source(): Promise<Db>;
  store(): ObjectStore;
  close(): Promise<void>;
}

/** One connection each: a container serves one invocation at a time. */
const DDC_POOL = { max: 2, idleTimeoutMillis: 10_000, connectionTimeoutMillis: 10_000 } as const;
const MONGO_OPTIONS = { serverSelectionTimeoutMS: 10_000, maxPoolSize: 10 } as const;

/** Memoise an async open; a failed open is forgotten so the next invocation tries again. */
function lazy<T>(open: () => Promise<T>): { get(): Promise<T>; peek(): Promise<T> | undefined } {
  let value: Promise<T> | undefined;
  return {
    get() {
      value ??= open().catch((error: unknown) => {
        value = undefined;
        throw error;
      });
      return value;
    },
    peek: () => value,
  };
}

export function openRuntime(env: NodeJS.ProcessEnv = process.env, log?: Logger): Runtime {
  const config = loadFunctionConfig(env);
  const settings = loadIngestSettings(env);
  const secrets = new SecretsManagerClient({});
  const supportUrl = lazy(async () => {
    const secret = await readConnectionSecret(secrets, config.SUPPORT_SECRET_ID, {
      engine: "postgres",
      host: config.SUPPORT_DB_HOST,
      port: config.SUPPORT_DB_PORT,
      dbname: config.SUPPORT_DB_NAME,
    });
    log?.debug({ secret: config.SUPPORT_SECRET_ID }, "support database connection read");
    return connectionUrl(secret);
  });
  const support = lazy(async () => createSupportClient(await supportUrl.get()));
  const supportPool = lazy(async () => {
    const pool = createSupportPool(await supportUrl.get());
    pool.on("error", (error) => log?.warn({ err: error }, "support idle connection error"));
    return pool;
  });
  const ddc = lazy(async () => {
    const secret = await readConnectionSecret(secrets, config.DDC_SECRET_ID, { engine: "postgres" });
    const pool = new pg.Pool({ connectionString: connectionUrl(secret), ...DDC_POOL });
    // An idle connection dropped by the server must not crash a frozen-then-thawed container.
    pool.on("error", (error) => log?.warn({ err: error }, "ddc idle connection error"));
    return pool;
  });
  let mongoClient: MongoClient | undefined;
  const source = lazy(async () => {
    const secret = await readConnectionSecret(secrets, config.MONGODB_SECRET_ID, { engine: "mongodb" });
    mongoClient = new MongoClient(connectionUrl(secret), MONGO_OPTIONS);
    await mongoClient.connect();
    return mongoClient.db(secret.dbname);
  });
  let store: ObjectStore | undefined;
  return {
    config,
    settings,
    support: support.get,
    supportPool: supportPool.get,
    ddc: ddc.get,
    source: source.get,
    store: () => {
      store ??= openObjectStore(config.RAW_LAKE_URL);
      return store;
    },
    async close() {
      await Promise.allSettled([
        support.peek()?.then((c) => c.$disconnect()),
        supportPool.peek()?.then((p) => p.end()),
        ddc.peek()?.then((p) => p.end()),
        mongoClient?.close(),
      ]);
      secrets.destroy();
    },
  };
}
