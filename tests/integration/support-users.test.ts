/**
 * The support database's per-component users (pipeline/support/users.ts, provision-users.ts, ADR
 * 0010) on the real local PostgreSQL and moto's Secrets Manager. Like RDS, the database belongs to
 * a non-superuser master with CREATEROLE (own role and database per file, dropped at the end), and
 * each component's secret exists without a value before the first provisioning, as the deployment
 * creates it. Then each user runs its component's real code: the plan, worker and summarize steps
 * behind the Lambda handler wrapper, reading their own secret, and the curate job on local Spark.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalConfig } from "../../local/config.js";
import { localSecretNames, provisionLocalDeployment } from "../../local/orchestration/local-deployment.js";
import { runSparkJob } from "../../local/orchestration/spark-job.js";
import { loadSnapshot, type OpenTargets, openTargets } from "../../local/snapshot/index.js";
import { type ConnectionSecret, connectionUrl, secretFromUrl } from "../../pipeline/connections/secret.js";
import { readConnectionSecret } from "../../pipeline/connections/secrets-manager.js";
import type { WindowCommit } from "../../pipeline/ingest/ingest-state.js";
import type { PlanOutput, SummaryOutput, WorkerOutput } from "../../pipeline/lambda/events.js";
import { defineHandler, type InvocationContext } from "../../pipeline/lambda/handler.js";
import { emfLines } from "../../pipeline/lambda/metrics.js";
import { openRuntime, type Runtime } from "../../pipeline/lambda/runtime.js";
import { planStep, reconcileStep, summarizeStep, workerStep } from "../../pipeline/lambda/steps.js";
import { WHOLE } from "../../pipeline/reconcile/shard.js";
import { postgresReconcileStore } from "../../pipeline/reconcile/store.js";
import { jobTables } from "../../pipeline/schema/index.js";
import { postgresIngestState } from "../../pipeline/support/ingest-state.js";
import { applyMigrations } from "../../pipeline/support/migrate.js";
import { postgresPlanStore } from "../../pipeline/support/plan-store.js";
import { createSupportPool } from "../../pipeline/support/pool.js";
import {
  provisionSupportUsers,
  SupportUserError,
  type SupportUserReport,
} from "../../pipeline/support/provision-users.js";
import { generatePassword } from "../../pipeline/support/scram.js";
import {
  SUPPORT_COMPONENTS,
  SUPPORT_TABLES,
  SUPPORT_USERS,
  type SupportComponent,
  type SupportTable,
  type SupportUsers,
  supportRoleName,
  type TablePrivilege,
} from "../../pipeline/support/users.js";
import { throwawayDatabases, withDatabase } from "../support/throwaway.js";

const dbs = throwawayDatabases("dbusers");
const { name, config } = dbs;
const log = pino({ level: "silent" });
/** The RDS master's stand-in: owns the database, may create roles, is no superuser. */
const OWNER = `${name}_owner`;
const OWNER_PASSWORD = generatePassword();
const DATABASE = `${name}_sdb`;
const ROLES = Object.fromEntries(SUPPORT_COMPONENTS.map((c) => [c, supportRoleName(DATABASE, c)])) as Record<
  SupportComponent,
  string
>;
const SECRET_IDS = Object.fromEntries(
  SUPPORT_COMPONENTS.map((c) => [c, `lakehouse/test/${name}/support-${c}`]),
) as Record<SupportComponent, string>;
const COLLECTIONS = ["events", "alarm"];
/** A collection the flow test leaves alone, so the plan probe always has devices to plan. */
const UNINGESTED = "request";

/** The stack's own user, on its own database (the throwaway ones are dropped under it). */
const superuser = new pg.Client({ connectionString: loadLocalConfig().SUPPORT_DATABASE_URL });
const secrets = new SecretsManagerClient({});
let master: ConnectionSecret;
let targets: OpenTargets;
let work: string;

beforeAll(async () => {
  await dbs.create();
  targets = await openTargets({
    ddcDatabaseUrl: config.DDC_DATABASE_URL,
    mongodbUrl: config.MONGODB_URL,
    mongodbDatabase: name,
  });
  await loadSnapshot(targets, { seed: 7, devices: 3, days: 3, reset: true });
  await superuser.connect();
  await superuser.query(
    `CREATE ROLE ${OWNER} LOGIN CREATEROLE PASSWORD ${superuser.escapeLiteral(OWNER_PASSWORD)}`,
  );
  await superuser.query(`CREATE DATABASE ${DATABASE} OWNER ${OWNER}`);
  const url = new URL(withDatabase(config.SUPPORT_DATABASE_URL, DATABASE));
  url.username = OWNER;
  url.password = OWNER_PASSWORD;
  master = secretFromUrl(url.toString());
  await applyMigrations(connectionUrl(master));
  // As the deployment leaves them: created, no value yet.
  for (const id of Object.values(SECRET_IDS)) await secrets.send(new CreateSecretCommand({ Name: id }));
  work = await mkdtemp(join(tmpdir(), "support-users-"));
  await provisionLocalDeployment(config, `lakehouse/test/${name}`);
}, 180_000);

afterAll(async () => {
  await targets?.close();
  await dbs.drop();
  await superuser.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  for (const role of [...Object.values(ROLES), OWNER]) await superuser.query(`DROP ROLE IF EXISTS ${role}`);
  await superuser.end();
  const shared = Object.values(localSecretNames(`lakehouse/test/${name}`));
  for (const id of [...Object.values(SECRET_IDS), ...shared])
    await secrets
      .send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }))
      .catch(() => undefined);
  secrets.destroy();
  if (work) await rm(work, { recursive: true, force: true });
});

function provision(users?: SupportUsers): Promise<SupportUserReport[]> {
  return provisionSupportUsers({ connection: master, secretIds: SECRET_IDS, secrets, users, log });
}

/** A statement run as a component's user, with the credentials its secret holds. */
async function asUser<R extends pg.QueryResultRow>(component: SupportComponent, sql: string): Promise<R[]> {
  const secret = await readConnectionSecret(secrets, SECRET_IDS[component]);
  const client = new pg.Client({ connectionString: connectionUrl(secret) });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function asMaster(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: connectionUrl(master) });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** What each role can do on every table and sequence, as PostgreSQL decides (PUBLIC included). */
async function effectivePrivileges(role: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: connectionUrl(master) });
  await client.connect();
  try {
    const { rows } = await client.query<{ p: string }>(
      `SELECT p || ' ON ' || c.relname AS p
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
         unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
       WHERE n.nspname = 'public' AND c.relkind = 'r' AND has_table_privilege($1, c.oid, p)
       UNION ALL
       SELECT p || ' ON SEQUENCE ' || c.relname
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) p
       WHERE n.nspname = 'public' AND c.relkind = 'S' AND has_sequence_privilege($1, c.oid, p)
       UNION ALL
       SELECT 'CREATE ON SCHEMA public' WHERE has_schema_privilege($1, 'public', 'CREATE')
       UNION ALL
       SELECT 'CREATE ON DATABASE' WHERE has_database_privilege($1, current_database(), 'CREATE')
       ORDER BY 1`,
      [role],
    );
    return rows.map((r) => r.p);
  } finally {
    await client.end();
  }
}

/** The definition's table privileges, plus the serial sequences INSERT needs, spelled out. */
const EXPECTED: Record<SupportComponent, string[]> = {
  plan: ["INSERT ON plan", "INSERT ON plan_batch", "SELECT ON lastts", "SELECT ON plan"],
  worker: [
    "INSERT ON drift_count",
    "INSERT ON file_ledger",
    "INSERT ON lastts",
    "INSERT ON metric",
    "INSERT ON pack_upload",
    "INSERT ON quarantine",
    "SELECT ON drift_count",
    "SELECT ON file_ledger",
    "SELECT ON lastts",
    "SELECT ON metric",
    "SELECT ON pack_upload",
    "SELECT ON plan_batch",
    "SELECT ON quarantine",
    "UPDATE ON drift_count",
    "UPDATE ON file_ledger",
    "UPDATE ON lastts",
    "UPDATE ON metric",
    "UPDATE ON pack_upload",
    "USAGE ON SEQUENCE file_ledger_id_seq",
    "USAGE ON SEQUENCE metric_id_seq",
    "USAGE ON SEQUENCE quarantine_id_seq",
  ],
  summarize: [
    "INSERT ON metric",
    "INSERT ON quarantine",
    "SELECT ON drift_count",
    "SELECT ON lastts",
    "SELECT ON metric",
    "SELECT ON plan",
    "SELECT ON quarantine",
    "UPDATE ON metric",
    "UPDATE ON plan",
    "USAGE ON SEQUENCE metric_id_seq",
    "USAGE ON SEQUENCE quarantine_id_seq",
  ],
  curate: [
    "INSERT ON curated_count",
    "INSERT ON curated_day",
    "SELECT ON curated_count",
    "SELECT ON curated_day",
    "SELECT ON file_ledger",
    "UPDATE ON curated_count",
    "UPDATE ON curated_day",
  ],
  reconcile: [
    "INSERT ON drift_count",
    "INSERT ON file_ledger",
    "INSERT ON lastts",
    "INSERT ON metric",
    "INSERT ON quarantine",
    "INSERT ON reconcile_difference",
    "INSERT ON reconcile_run",
    "INSERT ON reconcile_watermark",
    "SELECT ON curated_count",
    "SELECT ON curated_day",
    "SELECT ON drift_count",
    "SELECT ON file_ledger",
    "SELECT ON lastts",
    "SELECT ON metric",
    "SELECT ON quarantine",
    "SELECT ON reconcile_difference",
    "SELECT ON reconcile_run",
    "SELECT ON reconcile_watermark",
    "UPDATE ON drift_count",
    "UPDATE ON file_ledger",
    "UPDATE ON lastts",
    "UPDATE ON metric",
    "UPDATE ON reconcile_run",
    "UPDATE ON reconcile_watermark",
    "USAGE ON SEQUENCE file_ledger_id_seq",
    "USAGE ON SEQUENCE metric_id_seq",
    "USAGE ON SEQUENCE quarantine_id_seq",
    "USAGE ON SEQUENCE reconcile_difference_id_seq",
    "USAGE ON SEQUENCE reconcile_run_id_seq",
  ],
};

async function secretVersion(component: SupportComponent): Promise<string | undefined> {
  return (await secrets.send(new GetSecretValueCommand({ SecretId: SECRET_IDS[component] }))).VersionId;
}

/** Every role's verifier, one query at a time (the superuser client is one connection). */
async function storedVerifiers(): Promise<string[]> {
  const out: string[] = [];
  for (const c of SUPPORT_COMPONENTS) out.push(await storedVerifier(ROLES[c]));
  return out;
}

async function storedVerifier(role: string): Promise<string> {
  const { rows } = await superuser.query<{ rolpassword: string }>(
    "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
    [role],
  );
  return rows[0]?.rolpassword ?? "";
}

/** The lake folder the steps write to and the curate job reads. */
const rawDir = () => join(work, "raw");
/** The flow test's plan, which the probes of "every grant is needed" reuse. */
let plan: PlanOutput;

/**
 * A function runtime as the deployment configures a component's function: the sources' secrets,
 * and the support database through the component's own secret only.
 */
function componentRuntime(component: SupportComponent): Runtime {
  const shared = localSecretNames(`lakehouse/test/${name}`);
  return openRuntime(
    {
      ...process.env,
      DDC_SECRET_ID: shared.ddc,
      MONGODB_SECRET_ID: shared.mongodb,
      SUPPORT_SECRET_ID: SECRET_IDS[component],
      RAW_LAKE_URL: pathToFileURL(rawDir()).href,
      SUMMARY_SOURCE_COUNTS: "false",
      INGEST_SAFETY_MARGIN_SECONDS: "0",
    },
    log,
  );
}

function handlerDeps(rt: Runtime) {
  return { runtime: () => rt, metrics: emfLines(() => {}), log };
}

let invocation = 0;
function context(): InvocationContext {
  return {
    awsRequestId: `users-${++invocation}-${randomUUID()}`,
    getRemainingTimeInMillis: () => Number.POSITIVE_INFINITY,
  };
}

describe("provisioning the support users", () => {
  it("lists every table of the migrated schema in SUPPORT_TABLES", async () => {
    const client = new pg.Client({ connectionString: connectionUrl(master) });
    await client.connect();
    const { rows } = await client
      .query<{ name: string }>(
        "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'",
      )
      .finally(() => client.end());
    expect(rows.map((r) => r.name).sort()).toEqual([...SUPPORT_TABLES].sort());
  });

  it("creates each component's login role with a new password in its secret, and exactly its grants", async () => {
    const reports = await provision();
    expect(reports.map((r) => [r.component, r.role, r.created, r.newPassword, r.secretWritten])).toEqual(
      SUPPORT_COMPONENTS.map((c) => [c, ROLES[c], true, "role created", true]),
    );
    for (const c of SUPPORT_COMPONENTS) {
      const secret = JSON.parse(
        (await secrets.send(new GetSecretValueCommand({ SecretId: SECRET_IDS[c] }))).SecretString ?? "",
      );
      expect(Object.keys(secret).sort()).toEqual([
        "dbname",
        "engine",
        "host",
        "password",
        "port",
        "username",
      ]);
      expect(secret).toMatchObject({
        engine: "postgres",
        host: master.host,
        port: master.port,
        dbname: DATABASE,
        username: ROLES[c],
      });
      expect(secret.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await asUser<{ u: string }>(c, "SELECT current_user AS u")).toEqual([{ u: ROLES[c] }]);
      // Stored as a SCRAM verifier: the statement never carried the password itself.
      expect(await storedVerifier(ROLES[c])).toMatch(/^SCRAM-SHA-256\$4096:/);
      expect(await effectivePrivileges(ROLES[c]), c).toEqual([...EXPECTED[c]].sort());
    }
    const { rows } = await superuser.query(
      `SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin
       FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname`,
      [Object.values(ROLES)],
    );
    for (const r of rows) {
      expect(r, r.rolname).toMatchObject({
        rolsuper: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolreplication: false,
        rolbypassrls: false,
        rolcanlogin: true,
      });
    }
  });

  it("lets each user run its component's real code: plan, worker, summarize steps, the curate job and reconcile", async () => {
    const runtimes = new Map<SupportComponent, Runtime>();
    const deps = (c: SupportComponent) => {
      const rt = runtimes.get(c) ?? componentRuntime(c);
      runtimes.set(c, rt);
      return handlerDeps(rt);
    };
    try {
      plan = await defineHandler(planStep, deps("plan"))(
        { mode: "auto", collections: COLLECTIONS },
        context(),
      );
      expect(plan.mode).toBe("bulk");
      expect(plan.items.length).toBeGreaterThan(0);

      const worker = defineHandler(workerStep, deps("worker"));
      const results: WorkerOutput[] = [];
      for (const item of plan.items) results.push(await worker(item, context()));
      expect(results.every((r) => r.complete)).toBe(true);
      expect(results.reduce((a, r) => a + r.windows, 0)).toBeGreaterThan(0);

      // A document without a device: the summary quarantines it (its insert and metric upsert).
      await targets.mongo
        .collection<{ _id: string } & Record<string, unknown>>("events")
        .insertOne({ _id: `${name}-orphan`, timestamp: new Date(), type: "door", source: "s" });
      const summary: SummaryOutput = await defineHandler(summarizeStep, deps("summarize"))(
        { planId: plan.planId, results },
        context(),
      );
      expect(summary.status).toBe("succeeded");
      expect(summary.collections.find((c) => c.collection === "events")?.orphansQuarantined).toBe(1);
      for (const c of summary.collections) expect(c.devicesDone, c.collection).toBe(c.devicesWithData);
    } finally {
      await Promise.all([...runtimes.values()].map((rt) => rt.close()));
    }

    // The curate job as Glue runs it, with the curate user's credentials from its secret.
    const curate = await readConnectionSecret(secrets, SECRET_IDS.curate);
    const tablesFile = join(work, "job-tables.json");
    await writeFile(tablesFile, JSON.stringify(jobTables()));
    const run = await runSparkJob({
      name: "support-users-curate",
      module: "lakehouse_glue",
      args: [
        "mongodb_curate",
        "--job-tables",
        tablesFile,
        "--warehouse",
        join(work, "warehouse"),
        "--raw-location",
        rawDir(),
        "--jdbc-url",
        `jdbc:postgresql://${curate.host}:${curate.port}/${curate.dbname}`,
        "--user",
        curate.username ?? "",
        "--password-env",
        "SUPPORT_DB_PASSWORD",
        "--collections",
        COLLECTIONS.join(","),
        "--lag-seconds",
        "0",
      ],
      env: { SUPPORT_DB_PASSWORD: curate.password ?? "" },
    });
    const result = run.results.at(-1) as {
      ok: boolean;
      collections: { collection: string; ledger_rows: number; position_after: number }[];
    };
    expect(result.collections.map((c) => c.collection).sort()).toEqual([...COLLECTIONS].sort());
    expect(result.ok).toBe(true);
    expect(result.collections.every((c) => c.ledger_rows > 0 && c.position_after > 0)).toBe(true);

    // Reconcile as its own user, on the day counts the curate user wrote: nothing lost.
    const rt = componentRuntime("reconcile");
    try {
      const reconciled = await defineHandler(reconcileStep, handlerDeps(rt))({ mode: "full" }, context());
      expect(reconciled.mode).toBe("full");
      expect(reconciled.differences).toBe(0);
      expect(reconciled.daysChecked).toBeGreaterThan(0);
    } finally {
      await rt.close();
    }
  }, 600_000);

  const EVERYONE = SUPPORT_COMPONENTS.flatMap((c) => [
    [c, "CREATE TABLE intruder (i int)", /permission denied for schema public/],
    [c, "DROP TABLE lastts", /must be owner of table lastts/],
    [c, "ALTER TABLE plan ADD COLUMN intruder int", /must be owner of table plan/],
    [c, "TRUNCATE metric", /permission denied for table metric/],
    [c, "SELECT count(*) FROM _prisma_migrations", /permission denied for table _prisma_migrations/],
    [c, "CREATE SCHEMA intruder", /permission denied for database/],
    [c, "CREATE ROLE intruder", /permission denied to create role/],
  ]) as [SupportComponent, string, RegExp][];

  it.each<[SupportComponent, string, RegExp]>([
    ["worker", "DELETE FROM lastts", /permission denied for table lastts/],
    ["worker", "DELETE FROM file_ledger", /permission denied for table file_ledger/],
    ["worker", "DELETE FROM quarantine", /permission denied for table quarantine/],
    ["worker", "SELECT count(*) FROM plan", /permission denied for table plan/],
    ["worker", "UPDATE plan_batch SET devices = '{}'", /permission denied for table plan_batch/],
    ["plan", "DELETE FROM plan", /permission denied for table plan/],
    ["plan", "UPDATE plan SET status = 'failed'", /permission denied for table plan/],
    ["plan", "SELECT count(*) FROM file_ledger", /permission denied for table file_ledger/],
    ["summarize", "INSERT INTO lastts VALUES (1, 'events', now())", /permission denied for table lastts/],
    ["summarize", "DELETE FROM quarantine", /permission denied for table quarantine/],
    ["summarize", "SELECT count(*) FROM file_ledger", /permission denied for table file_ledger/],
    ["curate", "UPDATE file_ledger SET rows = 0", /permission denied for table file_ledger/],
    ["curate", "DELETE FROM file_ledger", /permission denied for table file_ledger/],
    ["curate", "SELECT count(*) FROM lastts", /permission denied for table lastts/],
    ...EVERYONE,
  ])("%s is refused: %s", async (component, sql, message) => {
    await expect(asUser(component, sql)).rejects.toMatchObject({
      code: "42501",
      message: expect.stringMatching(message),
    });
  });

  it("changes nothing on a second run, and keeps every password", async () => {
    const versions = await Promise.all(SUPPORT_COMPONENTS.map(secretVersion));
    const verifiers = await storedVerifiers();
    const reports = await provision();
    for (const r of reports) {
      expect(r, r.component).toMatchObject({
        created: false,
        granted: [],
        revoked: [],
        newPassword: null,
        secretWritten: false,
        changed: false,
      });
    }
    expect(await Promise.all(SUPPORT_COMPONENTS.map(secretVersion))).toEqual(versions);
    expect(await storedVerifiers()).toEqual(verifiers);
  });

  it("revokes a grant removed from the definition, and one made by hand, on the next run", async () => {
    await asMaster(`GRANT DELETE ON lastts TO ${ROLES.worker}`);
    const narrowed: SupportUsers = {
      ...SUPPORT_USERS,
      summarize: {
        ...SUPPORT_USERS.summarize,
        tables: { ...SUPPORT_USERS.summarize.tables, quarantine: ["SELECT"] },
      },
    };
    const reports = await provision(narrowed);
    const by = new Map(reports.map((r) => [r.component, r]));
    expect(by.get("summarize")?.revoked).toEqual([
      "INSERT ON TABLE quarantine",
      "USAGE ON SEQUENCE quarantine_id_seq",
    ]);
    expect(by.get("worker")?.revoked).toEqual(["DELETE ON TABLE lastts"]);
    expect(reports.filter((r) => r.changed).map((r) => r.component)).toEqual(["worker", "summarize"]);
    await expect(
      asUser(
        "summarize",
        "INSERT INTO quarantine (run_id, collection, reason, object_key) VALUES ('r', 'c', 'x', 'k')",
      ),
    ).rejects.toMatchObject({ code: "42501" });

    const restored = await provision();
    expect(restored.find((r) => r.component === "summarize")?.granted).toEqual([
      "INSERT ON TABLE quarantine",
      "USAGE ON SEQUENCE quarantine_id_seq",
    ]);
    expect(restored.every((r) => r.newPassword === null)).toBe(true);
    expect(await effectivePrivileges(ROLES.summarize)).toEqual([...EXPECTED.summarize].sort());
    expect(await effectivePrivileges(ROLES.worker)).toEqual([...EXPECTED.worker].sort());
  });

  it("sets a new password when the secret is unusable or refused, and rewrites stale fields keeping it", async () => {
    const summarize = await readConnectionSecret(secrets, SECRET_IDS.summarize);
    const put = (c: SupportComponent, value: string) =>
      secrets.send(new PutSecretValueCommand({ SecretId: SECRET_IDS[c], SecretString: value }));
    await put("worker", JSON.stringify({ username: ROLES.worker, password: "not-the-password" }));
    await put("plan", "{not json");
    await put("curate", JSON.stringify({ username: "someone_else", password: "x" }));
    await put("summarize", JSON.stringify({ ...summarize, host: "old-host.example" }));

    const reports = await provision();
    const by = new Map(reports.map((r) => [r.component, r]));
    expect(by.get("worker")).toMatchObject({ newPassword: "login refused", secretWritten: true });
    expect(by.get("plan")).toMatchObject({ newPassword: "secret unusable", secretProblem: "not JSON" });
    expect(by.get("curate")).toMatchObject({
      newPassword: "secret unusable",
      secretProblem: `username is not ${ROLES.curate}`,
    });
    expect(by.get("summarize")).toMatchObject({ newPassword: null, secretWritten: true, changed: true });
    expect((await readConnectionSecret(secrets, SECRET_IDS.summarize)).password).toBe(summarize.password);
    for (const c of SUPPORT_COMPONENTS)
      expect(await asUser<{ u: string }>(c, "SELECT current_user AS u")).toEqual([{ u: ROLES[c] }]);
  });

  it("runs one provisioning at a time: two at once leave every secret working", async () => {
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: SECRET_IDS.worker,
        SecretString: JSON.stringify({ username: "x" }),
      }),
    );
    const [a, b] = await Promise.all([provision(), provision()]);
    const rotated = [...(a ?? []), ...(b ?? [])].filter((r) => r.component === "worker" && r.newPassword);
    expect(rotated).toHaveLength(1);
    for (const c of SUPPORT_COMPONENTS)
      expect(await asUser<{ u: string }>(c, "SELECT current_user AS u")).toEqual([{ u: ROLES[c] }]);
  });

  it("refuses privileges it cannot take away (PUBLIC's) and a role with more power than a login", async () => {
    await asMaster("GRANT SELECT ON lastts TO PUBLIC");
    await expect(provision()).rejects.toThrow(
      new RegExp(`support user ${ROLES.curate}: after granting, the role still has SELECT ON TABLE lastts`),
    );
    await asMaster("REVOKE SELECT ON lastts FROM PUBLIC");

    await superuser.query(`ALTER ROLE ${ROLES.curate} CREATEDB`);
    try {
      await expect(provision()).rejects.toThrow(SupportUserError);
      await expect(provision()).rejects.toThrow(/exists with rolcreatedb/);
    } finally {
      await superuser.query(`ALTER ROLE ${ROLES.curate} NOCREATEDB`);
    }
    expect((await provision()).every((r) => !r.changed)).toBe(true);
  });
});

/**
 * The other half of "exactly": take one privilege away and the component's code fails. The plan
 * and summarize steps run whole; the worker's probe is its SQL layer (plan batch, bookmarks, one
 * group commit, the run's close), which a step that finds no new data would not reach. The curate
 * job's one grant is its read of the ledger.
 */
describe("every grant is needed", () => {
  async function planProbe(): Promise<void> {
    const rt = componentRuntime("plan");
    try {
      // A collection nobody ingests here: every device with data gets a batch, every time.
      const out = await defineHandler(planStep, handlerDeps(rt))(
        { mode: "auto", collections: [UNINGESTED] },
        context(),
      );
      if (out.items.length === 0) throw new Error("the plan probe planned no batch");
    } finally {
      await rt.close();
    }
  }

  /** The support database as a component's code opens it: through the component's own secret. */
  async function componentPool(component: SupportComponent): Promise<pg.Pool> {
    return createSupportPool(connectionUrl(await readConnectionSecret(secrets, SECRET_IDS[component])));
  }

  /** One window of one document and one quarantined copy, as the worker commits it. */
  function probeWindow(runId: string, planId: string | null, idDevice: number): WindowCommit {
    const from = new Date(Date.UTC(2024, 0, 1));
    const to = new Date(Date.UTC(2024, 0, 2));
    return {
      runId,
      planId,
      collection: "events",
      idDevice,
      window: { from, to },
      lastts: to,
      object: { key: `events/idDevice=${idDevice}/${from.getTime()}.parquet`, rows: 1, bytes: 10 },
      quarantined: [{ documentId: runId, reason: "probe", objectKey: `quarantine/${runId}.json` }],
      drift: new Map([["probe_key", 1]]),
      counters: {
        documentsRead: 2,
        documentsUploaded: 1,
        documentsQuarantined: 1,
        bytesUploaded: 10,
        queriesRun: 1,
        computationMs: 1,
      },
    };
  }

  async function workerProbe(): Promise<void> {
    const pool = await componentPool("worker");
    const runId = `probe-${randomUUID()}`;
    const idDevice = 900_000 + invocation++;
    try {
      const state = postgresIngestState(pool);
      const item = plan.items[0];
      if (!item) throw new Error("the flow test stored no plan");
      await postgresPlanStore(pool).load(item);
      await state.bookmarks("events", [idDevice]);
      await state.quarantinedKeys([`quarantine/${runId}.json`]);
      // A pack's record, the lookup of abandoned ones and the settling (ADR 0023).
      const pack = `events/packs/20240101T000000000Z-${randomUUID().slice(-12)}.parquet`;
      await state.intendPack({ collection: "events", key: pack, runId });
      await state.abandonedPacks("events", new Date());
      await state.commitWindows([probeWindow(runId, plan.planId, idDevice)]);
      await state.settlePacks([pack]);
      await state.finishRun({
        runId,
        planId: plan.planId,
        collection: "events",
        devices: [idDevice],
        devicesProcessed: 1,
        errors: 0,
      });
    } finally {
      await pool.end();
    }
  }

  async function summarizeProbe(): Promise<void> {
    // A new orphan each time, so the sweep inserts a quarantine row and upserts its metric row.
    await targets.mongo
      .collection<{ _id: string } & Record<string, unknown>>("events")
      .insertOne({ _id: `${name}-orphan-${randomUUID()}`, timestamp: new Date(), type: "door", source: "s" });
    const rt = componentRuntime("summarize");
    const done = {
      planId: plan.planId,
      collection: "events",
      batch: 0,
      complete: true,
      devicesToQuery: 0,
      devicesProcessed: 0,
      devicesPending: 0,
      windows: 0,
      documentsRead: 0,
      rowsWritten: 0,
      documentsQuarantined: 0,
      bytesUploaded: 0,
    };
    try {
      const summary = await defineHandler(summarizeStep, handlerDeps(rt))(
        { planId: plan.planId, results: [done] },
        context(),
      );
      if (summary.collections[0]?.orphansQuarantined !== 1)
        throw new Error("the summarize probe quarantined no orphan");
    } finally {
      await rt.close();
    }
  }

  async function curateProbe(): Promise<void> {
    // ledger_bounds' and pending_entries' statements (glue/lakehouse_glue/curate/file_ledger.py).
    await asUser(
      "curate",
      "SELECT COALESCE(MAX(id) FILTER (WHERE created_at <= now() - interval '0 seconds'), 0) AS safe, " +
        "COALESCE(MAX(id), 0) AS highest FROM file_ledger",
    );
    await asUser(
      "curate",
      "SELECT id, object_key, collection, id_device, window_from, window_to, rows, bytes " +
        "FROM file_ledger WHERE collection = 'events' AND id > 0 AND id <= 1000",
    );
    // day_counts.py: the counted position, the days held, and both upserts (twice: the
    // conflict path too).
    await asUser("curate", "SELECT position FROM curated_count WHERE collection = 'events'");
    await asUser("curate", "SELECT id_device, day FROM curated_day WHERE collection = 'events'");
    for (let i = 0; i < 2; i++) {
      await asUser(
        "curate",
        `INSERT INTO curated_day (collection, id_device, day, "rows", "keys", cells, resets, counted_at)
         SELECT 'probe', d.id_device, d.day, d.n_rows, d.n_keys, d.cells, d.resets, now()
         FROM unnest('{1}'::bigint[], '{2024-01-01}'::date[], '{1}'::bigint[], '{1}'::bigint[], '{0}'::bigint[],
           '{0}'::bigint[]) AS d(id_device, day, n_rows, n_keys, cells, resets)
         ON CONFLICT (collection, id_device, day) DO UPDATE SET "rows" = EXCLUDED."rows", counted_at = EXCLUDED.counted_at`,
      );
      await asUser(
        "curate",
        `INSERT INTO curated_count (collection, position, counted_at) VALUES ('probe', 1, now())
         ON CONFLICT (collection) DO UPDATE SET position = EXCLUDED.position, counted_at = EXCLUDED.counted_at`,
      );
    }
  }

  /**
   * Reconcile's SQL layer: every read of its store, its own records, and a replayed window
   * committed as `repair` commits it (the worker's statement, bookmark unchanged), twice, so the
   * ledger row's conflict path runs.
   */
  async function reconcileProbe(): Promise<void> {
    const pool = await componentPool("reconcile");
    const runId = `probe-${randomUUID()}`;
    const idDevice = 950_000 + invocation++;
    try {
      const store = postgresReconcileStore(pool);
      const state = postgresIngestState(pool);
      const last = await store.lastComplete(WHOLE);
      await store.unfinished(WHOLE);
      const run = await store.start({
        runId,
        mode: "incremental",
        repair: true,
        passId: last?.id,
        shard: WHOLE,
      });
      await store.watermarks(WHOLE);
      await store.curatedSince(new Date(0));
      await store.openDays(["alarm"]);
      await store.findingDays(last?.id ?? run.id);
      await store.curatedDays("events", idDevice, null);
      await store.curatedPositions();
      await store.windows("events", idDevice);
      await store.quarantinedIds("events", [runId]);
      await state.bookmarks("events", [idDevice]);
      await state.quarantinedKeys([`quarantine/${runId}.json`]);
      for (let i = 0; i < 2; i++) await state.commitWindows([probeWindow(runId, null, idDevice)]);
      await store.record(run.id, [
        {
          collection: "events",
          idDevice,
          day: "2024-01-01",
          cause: "late_arrival",
          count: 1,
          source: 2,
          curated: 1,
          quarantined: 0,
          inFlight: 0,
          detail: "probe",
        },
      ]);
      await store.finish(run.id, { daysChecked: 1, differences: 1, windowsReplayed: 1, resume: null });
      await store.saveWatermarks(WHOLE, new Map([["events", "0123456789abcdef01234567"]]));
    } finally {
      await pool.end();
    }
  }

  const probes: Record<SupportComponent, () => Promise<void>> = {
    plan: planProbe,
    worker: workerProbe,
    summarize: summarizeProbe,
    curate: curateProbe,
    reconcile: reconcileProbe,
  };

  it.each(SUPPORT_COMPONENTS)("%s's probe succeeds with the whole definition", async (component) => {
    expect((await provision()).every((r) => r.newPassword === null)).toBe(true);
    await probes[component]();
  });

  type Case = [SupportComponent, string, SupportTable, TablePrivilege];
  const cases = SUPPORT_COMPONENTS.flatMap((component) =>
    (Object.entries(SUPPORT_USERS[component].tables) as [SupportTable, readonly TablePrivilege[]][]).flatMap(
      ([table, privileges]) =>
        privileges.map((privilege): Case => [component, `${privilege} ON ${table}`, table, privilege]),
    ),
  );

  it.each(cases)("%s fails without %s", async (component, _what, table, privilege) => {
    const users: SupportUsers = SUPPORT_USERS;
    const user = users[component];
    const narrowed: SupportUsers = {
      ...users,
      [component]: {
        ...user,
        tables: { ...user.tables, [table]: user.tables[table]?.filter((p) => p !== privilege) },
      },
    };
    const reports = await provision(narrowed);
    expect(reports.find((r) => r.component === component)?.revoked).toContain(
      `${privilege} ON TABLE ${table}`,
    );
    try {
      await expect(probes[component]()).rejects.toThrow(/permission denied/);
    } finally {
      await provision();
    }
  });

  it("worker fails without USAGE on a serial sequence of a table it inserts into", async () => {
    await asMaster(`REVOKE USAGE ON SEQUENCE quarantine_id_seq FROM ${ROLES.worker}`);
    await expect(workerProbe()).rejects.toThrow(/permission denied for sequence quarantine_id_seq/);
    const reports = await provision();
    expect(reports.find((r) => r.component === "worker")?.granted).toEqual([
      "USAGE ON SEQUENCE quarantine_id_seq",
    ]);
    await workerProbe();
  });
});
