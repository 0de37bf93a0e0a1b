/**
 * What a function invocation works with: the support database, `ddc`, the MongoDB source and the
 * raw object store, opened from Secrets Manager at first use and kept for the container's later
 * invocations (a cold start pays once). Each is opened only when a step asks for it: the worker
 * never connects to `ddc`; the steps' ledger and plan store run on `supportPool`, and only the
 * summary's progress report loads the Prisma client (`support`).
 *
 * The sources are switched by writing a new version of their secrets (the cutover), so a warm
 * container must not read on from the old ones: `refresh`, at the start of each invocation,
 * drops a source whose secret's version changed since it was opened.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type Db, MongoClient } from "mongodb";
import pg from "pg";
import type { Logger } from "pino";
import { connectionUrl } from "../connections/secret.js";
import {
  readConnectionSecret,
  readConnectionSecretVersion,
  readSecretVersionId,
} from "../connections/secrets-manager.js";
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
  /**
   * Closes and forgets each open source (`ddc`, MongoDB) whose secret has a new version since it
   * was opened, so the next `ddc()`/`source()` opens from the new value. Never rejects: when the
   * secret cannot be read, the open connection is kept (and a warning logged). Sources not open
   * are not looked up, and the support database is not switched by a cutover: not looked up either.
   */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/** One connection each: a container serves one invocation at a time. */
const DDC_POOL = { max: 2, idleTimeoutMillis: 10_000, connectionTimeoutMillis: 10_000 } as const;
const MONGO_OPTIONS = { serverSelectionTimeoutMS: 10_000, maxPoolSize: 10 } as const;

interface Lazy<T> {
  get(): Promise<T>;
  peek(): Promise<T> | undefined;
  /** Drops `value` if it is still the memoised one, so the next `get` opens anew. */
  forget(value: Promise<T>): void;
}

/** Memoise an async open; a failed open is forgotten so the next invocation tries again. */
function lazy<T>(open: () => Promise<T>): Lazy<T> {
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
    forget(old) {
      if (value === old) value = undefined;
    },
  };
}

/** A connection and the version of the secret it was opened from. */
interface Opened<T> {
  readonly handle: T;
  readonly versionId: string | undefined;
}

/** A source opened from a secret the cutover may switch: see {@link Runtime.refresh}. */
interface Switchable<T> {
  get(): Promise<T>;
  refresh(): Promise<void>;
  close(): Promise<void>;
}

function switchable<T>(options: {
  readonly name: string;
  readonly secretId: string;
  readonly open: () => Promise<Opened<T>>;
  readonly close: (handle: T) => Promise<void>;
  readonly secrets: SecretsManagerClient;
  readonly log: Logger | undefined;
}): Switchable<T> {
  const { name, secretId, log } = options;
  const opened = lazy(options.open);
  return {
    get: async () => (await opened.get()).handle,
    async refresh() {
      const pending = opened.peek();
      if (pending === undefined) return;
      // An open still failing is forgotten by `lazy` itself; nothing to compare it with.
      const was = await pending.catch(() => undefined);
      if (was === undefined) return;
      let now: string | undefined;
      try {
        now = await readSecretVersionId(options.secrets, secretId);
      } catch (error) {
        // Better the source this container has than none: the cutover is seen next invocation.
        log?.warn({ err: error, secret: secretId }, `${name} secret not read: keeping the open connection`);
        return;
      }
      if (now === was.versionId) return;
      // Another refresh running beside this one (a runtime shared by local runs) may have dropped it.
      if (opened.peek() !== pending) return;
      opened.forget(pending);
      log?.info(
        { secret: secretId, fromVersion: was.versionId, toVersion: now },
        `${name} secret changed: closing the connection, the next use opens the new one`,
      );
      await options
        .close(was.handle)
        .catch((error: unknown) => log?.warn({ err: error }, `${name} not closed`));
    },
    async close() {
      const was = await opened.peek()?.catch(() => undefined);
      if (was !== undefined) await options.close(was.handle);
    },
  };
}

/**
 * `secrets` is the runtime's from then on: `close` destroys it. Tests pass one to watch its calls.
 */
export function openRuntime(
  env: NodeJS.ProcessEnv = process.env,
  log?: Logger,
  secrets: SecretsManagerClient = new SecretsManagerClient({}),
): Runtime {
  const config = loadFunctionConfig(env);
  const settings = loadIngestSettings(env);
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
  const ddc = switchable<pg.Pool>({
    name: "ddc",
    secretId: config.DDC_SECRET_ID,
    secrets,
    log,
    async open() {
      const { secret, versionId } = await readConnectionSecretVersion(secrets, config.DDC_SECRET_ID, {
        engine: "postgres",
      });
      const pool = new pg.Pool({ connectionString: connectionUrl(secret), ...DDC_POOL });
      // An idle connection dropped by the server must not crash a frozen-then-thawed container.
      pool.on("error", (error) => log?.warn({ err: error }, "ddc idle connection error"));
      return { handle: pool, versionId };
    },
    close: (pool) => pool.end(),
  });
  const source = switchable<{ client: MongoClient; db: Db }>({
    name: "mongodb",
    secretId: config.MONGODB_SECRET_ID,
    secrets,
    log,
    async open() {
      const { secret, versionId } = await readConnectionSecretVersion(secrets, config.MONGODB_SECRET_ID, {
        engine: "mongodb",
      });
      const client = new MongoClient(connectionUrl(secret), MONGO_OPTIONS);
      // A failed open is retried with a new client: this one must not linger.
      await client.connect().catch(async (error: unknown) => {
        await client.close().catch(() => undefined);
        throw error;
      });
      return { handle: { client, db: client.db(secret.dbname) }, versionId };
    },
    close: ({ client }) => client.close(),
  });
  let store: ObjectStore | undefined;
  return {
    config,
    settings,
    support: support.get,
    supportPool: supportPool.get,
    ddc: ddc.get,
    source: async () => (await source.get()).db,
    store: () => {
      store ??= openObjectStore(config.RAW_LAKE_URL);
      return store;
    },
    async refresh() {
      await Promise.all([ddc.refresh(), source.refresh()]);
    },
    async close() {
      await Promise.allSettled([
        support.peek()?.then((c) => c.$disconnect()),
        supportPool.peek()?.then((p) => p.end()),
        ddc.close(),
        source.close(),
      ]);
      secrets.destroy();
    },
  };
}
