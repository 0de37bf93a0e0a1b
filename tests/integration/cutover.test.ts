/**
 * The cutover end to end on the local stack: two `ddc` and two MongoDB databases stand for the
 * snapshot and production (production advanced a day, with a device added, a device gone and a
 * device whose mark is behind its bookmark), the deployment's secrets, schedule and alarm in moto,
 * the bookmarks and the log in the support database, a first load by the real ingestion branch.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SchedulerClient } from "@aws-sdk/client-scheduler";
import {
  CreateStateMachineCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { MongoClient } from "mongodb";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localGlueJobs, writeJobTables } from "../../local/cli/glue-jobs.js";
import type { LocalConfig } from "../../local/config.js";
import { provisionLocalDeployment } from "../../local/orchestration/local-deployment.js";
import { runLocalIngestion } from "../../local/orchestration/local-run.js";
import { runSparkJob } from "../../local/orchestration/spark-job.js";
import { advanceSnapshot, loadSnapshot, openTargets } from "../../local/snapshot/index.js";
import { readBookmarks } from "../../pipeline/cutover/bookmarks.js";
import {
  applyCutover,
  type CutoverContext,
  CutoverError,
  CutoverStuckError,
  planCutover,
  problemsOf,
  STEPS,
  type StepName,
} from "../../pipeline/cutover/cutover.js";
import {
  type AwsClients,
  awsClients,
  awsDeployment,
  type Deployment,
} from "../../pipeline/cutover/deployment.js";
import { readLog } from "../../pipeline/cutover/log.js";
import type { CutoverTargets } from "../../pipeline/cutover/targets.js";
import { requiredIndexes } from "../../pipeline/ingest/indexes.js";
import { TASK } from "../../pipeline/orchestration/state-machine.js";
import { collection } from "../../pipeline/schema/index.js";
import { type Throwaway, throwawayDatabases } from "../support/throwaway.js";

const snapshot = throwawayDatabases("cut_s");
const production = throwawayDatabases("cut_p");
const prefix = `lakehouse/test/${snapshot.name}`;
const log = pino({ level: "silent" });
const config: LocalConfig = {
  ...snapshot.config,
  PRODUCTION_DDC_DATABASE_URL: production.config.DDC_DATABASE_URL,
  PRODUCTION_MONGODB_URL: production.config.MONGODB_URL,
  PRODUCTION_MONGODB_DATABASE: production.name,
};

let targets: CutoverTargets;
let support: pg.Pool;
let prodDdc: pg.Pool;
let mongo: MongoClient;
let work: string;
const executions: string[] = [];
/** Devices of the production differences. */
let behind: number;
let gone: number;
const added = 9001;
const HUGE_ID = "9007199254740993";
/** The bookmarks of `behind` before the cutover moved them: what a rollback puts back. */
let snapshotMarks: Awaited<ReturnType<typeof readBookmarks>> = [];

/** A context on fresh clients; `wrap` lets a test break one call of one client. */
function context(wrap?: (clients: AwsClients) => void): CutoverContext & { deployment: Deployment } {
  const clients = awsClients();
  wrap?.(clients);
  const deployment = awsDeployment(targets, clients, { runningExecutions: async () => executions });
  return { stack: "test", deployment, support, operator: "tester@test" };
}

async function load(dbs: Throwaway) {
  const open = await openTargets({
    ddcDatabaseUrl: dbs.config.DDC_DATABASE_URL,
    mongodbUrl: dbs.config.MONGODB_URL,
    mongodbDatabase: dbs.name,
  });
  try {
    await loadSnapshot(open, { seed: 23, devices: 6, days: 4, reset: true });
    if (dbs === production) await advanceSnapshot(open, { days: 1 });
  } finally {
    await open.close();
  }
}

beforeAll(async () => {
  await Promise.all([snapshot.create(), production.create()]);
  await Promise.all([load(snapshot), load(production)]);
  support = new pg.Pool({ connectionString: config.SUPPORT_DATABASE_URL, max: 4 });
  prodDdc = new pg.Pool({ connectionString: production.config.DDC_DATABASE_URL, max: 2 });
  mongo = new MongoClient(config.MONGODB_URL);
  await mongo.connect();
  work = await mkdtemp(join(tmpdir(), "cutover-"));

  targets = (await provisionLocalDeployment(config, prefix)).targets;
  // The first, bulk load from the snapshot: real bookmarks.
  const first = await ingest("raw-snapshot");
  expect(first.execution.status).toBe("SUCCEEDED");

  // Production's differences from the snapshot.
  const devices = (
    await prodDdc.query<{ id: string }>("SELECT id FROM device WHERE last_log_date IS NOT NULL ORDER BY id")
  ).rows.map((r) => Number(r.id));
  [behind, gone] = [devices[0] as number, devices[1] as number];
  const withDevice = await prodDdc.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'id_device'",
  );
  for (const { table_name } of withDevice.rows)
    await prodDdc.query(`DELETE FROM ${table_name} WHERE id_device = $1`, [gone]);
  await prodDdc.query("DELETE FROM device WHERE id = $1", [gone]);
  // Two new devices for one gone: production's device table has one row more than the snapshot's.
  await prodDdc.query(
    `INSERT INTO device (id, id_company, serial, model, mirror, last_log_date, created_at, updated_at)
     SELECT n, id_company, 'NEW-' || n::text, model, mirror, last_log_date, created_at, updated_at
     FROM device, unnest(ARRAY[$1::bigint, $1::bigint + 1]) AS n
     WHERE device.id = (SELECT min(id) FROM device WHERE last_log_date IS NOT NULL)`,
    [added],
  );
  // And one whose id the pipeline cannot carry exactly (past 2^53): named, never dropped silently.
  await prodDdc.query(
    `INSERT INTO device (id, id_company, serial, model, mirror, last_log_date, created_at, updated_at)
     SELECT $1::bigint, id_company, 'HUGE', model, mirror, last_log_date, created_at, updated_at
     FROM device WHERE last_log_date IS NOT NULL ORDER BY id LIMIT 1`,
    [HUGE_ID],
  );
  // Production's mark of one device before every bookmark of it: the snapshot ran ahead there.
  const { rows } = await support.query<{ first: Date }>(
    "SELECT min(lastts) AS first FROM lastts WHERE id_device = $1",
    [behind],
  );
  await prodDdc.query(
    "UPDATE device SET last_log_date = $2::timestamptz - interval '90 minutes' WHERE id = $1",
    [behind, rows[0]?.first],
  );
}, 300_000);

afterAll(async () => {
  await support?.end();
  await prodDdc?.end();
  await mongo?.close();
  await Promise.all([snapshot.drop(), production.drop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

function ingest(rawDir: string) {
  return runLocalIngestion(config, {
    rawDir: join(work, rawDir),
    metricsFile: join(work, "metrics.emf.jsonl"),
    log,
    secretPrefix: prefix,
    sourceCounts: false,
    retryIntervals: { [TASK.worker]: 0 },
  });
}

/** Everything a cutover may change, secrets by value and version. */
async function state() {
  const ctx = context();
  try {
    const secret = async (id: string) => {
      const s = await ctx.deployment.readSecret(id);
      return { version: s.versionId, value: s.value };
    };
    return {
      ddc: await secret(targets.secrets.ddc.active),
      mongodb: await secret(targets.secrets.mongodb.active),
      schedule: await ctx.deployment.scheduleState(),
      alarm: await ctx.deployment.alarmActionsEnabled(),
      bookmarks: await readBookmarks(support),
    };
  } finally {
    ctx.deployment.close();
  }
}

type State = Awaited<ReturnType<typeof state>>;

/** The side a state is on, by the secrets' values (versions change with every write). */
async function sideValues(side: "snapshot" | "production") {
  const ctx = context();
  try {
    return {
      ddc: (await ctx.deployment.readSecret(targets.secrets.ddc[side] as string)).value,
      mongodb: (await ctx.deployment.readSecret(targets.secrets.mongodb[side] as string)).value,
    };
  } finally {
    ctx.deployment.close();
  }
}

function expectOn(s: State, values: Awaited<ReturnType<typeof sideValues>>, side: "snapshot" | "production") {
  expect(s.ddc.value).toEqual(values.ddc);
  expect(s.mongodb.value).toEqual(values.mongodb);
  expect(s.schedule).toBe(side === "production" ? "ENABLED" : "DISABLED");
  expect(s.alarm).toBe(side === "production");
}

async function plan(action: "execute" | "rollback", ctx = context()) {
  try {
    return { ctx, plan: await planCutover(ctx, action) };
  } catch (error) {
    ctx.deployment.close();
    throw error;
  }
}

async function run(action: "execute" | "rollback", failAt?: StepName, wrap?: (c: AwsClients) => void) {
  const { ctx, plan: p } = await plan(action, context(wrap));
  try {
    return await applyCutover(ctx, p, {
      beforeApply: (step) => {
        if (step.name === failAt) throw new Error(`injected failure at ${step.name}`);
      },
    });
  } finally {
    ctx.deployment.close();
  }
}

describe("cutover", () => {
  it("plans without changing anything: the differences named, the side it is on", async () => {
    const before = await state();
    const logged = (await readLog(support, "test")).length;
    const { ctx, plan: p } = await plan("execute");
    ctx.deployment.close();
    expect(problemsOf(p)).toEqual([]);
    expect(p.where).toBe("snapshot");
    expect(p.steps.map((s) => s.name)).toEqual([...STEPS]);
    expect(p.steps.every((s) => !s.done)).toBe(true);
    const marks = p.steps[0];
    expect(marks?.now).toMatch(/bookmarks, [1-9]\d* ahead of production's last_log_date/);
    const detail = marks?.detail.join("\n") ?? "";
    expect(detail).toContain(`device ${behind}:`);
    expect(detail).toMatch(
      new RegExp(`unknown to production keep their bookmarks \\(not planned\\): ${gone}\\b`),
    );
    expect(detail).toMatch(
      new RegExp(
        `without a bookmark \\(new in production, or never loaded\\), loaded from their first document: .*\\b${added}\\b`,
      ),
    );
    expect(detail).toContain(`ddc device ${HUGE_ID} refused`);
    expect(p.steps[1]?.want).toContain(`${production.name}_ddc`);
    expect(await state()).toEqual(before);
    expect((await readLog(support, "test")).length).toBe(logged);
  });

  it("stops on a missing index or an incompatible column, naming it, and changes nothing", async () => {
    const before = await state();
    const alarm = collection("alarm");
    const index = requiredIndexes(alarm)[1];
    const db = mongo.db(production.name);
    const indexes = await db.collection("alarm").listIndexes().toArray();
    const dropped = indexes.filter((i) => JSON.stringify(i.key) === JSON.stringify(index?.key));
    expect(dropped.length).toBeGreaterThan(0);
    for (const i of dropped) await db.collection("alarm").dropIndex(i.name as string);
    await prodDdc.query("ALTER TABLE device ALTER COLUMN last_log_date TYPE text USING last_log_date::text");
    try {
      const { ctx, plan: p } = await plan("execute");
      ctx.deployment.close();
      expect(p.steps).toEqual([]);
      const problems = problemsOf(p);
      expect(problems).toContain(
        `mongodb production: alarm ${JSON.stringify(index?.key)}: index missing: the worker's range query would scan the collection`,
      );
      expect(
        problems.find((x) => x.startsWith("ddc production: device.last_log_date: is text")),
      ).toBeDefined();
      const refused = context();
      await expect(applyCutover(refused, p)).rejects.toThrow(/preflight found 2 problem/);
      refused.deployment.close();
      expect(await state()).toEqual(before);
    } finally {
      await prodDdc.query(
        "ALTER TABLE device ALTER COLUMN last_log_date TYPE timestamptz USING last_log_date::timestamptz",
      );
      for (const i of dropped) await db.collection("alarm").createIndex(i.key, { name: i.name as string });
    }
  });

  it("stops while an execution of the state machine runs (Step Functions' list)", async () => {
    const sfn = new SFNClient({});
    try {
      const { stateMachineArn } = await sfn.send(
        new CreateStateMachineCommand({
          name: `cutover-${snapshot.name}`,
          definition: JSON.stringify({
            StartAt: "Wait",
            States: { Wait: { Type: "Wait", Seconds: 600, End: true } },
          }),
          roleArn: "arn:aws:iam::123456789012:role/test",
        }),
      );
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
      const ctx: CutoverContext = {
        stack: "test",
        deployment: awsDeployment({ ...targets, stateMachineArn: stateMachineArn as string }),
        support,
        operator: "tester@test",
      };
      try {
        const p = await planCutover(ctx, "execute");
        expect(problemsOf(p)).toEqual([
          `executions: ${executionArn} is running: wait for it (or stop it) before a cutover`,
        ]);
        await sfn.send(new StopExecutionCommand({ executionArn }));
        expect(problemsOf(await planCutover(ctx, "execute"))).toEqual([]);
      } finally {
        ctx.deployment.close();
      }
    } finally {
      sfn.destroy();
    }
  });

  it("a failure at any step leaves everything on the snapshot, logged; a rerun completes", async () => {
    const before = await state();
    const snapshotValues = await sideValues("snapshot");
    expectOn(before, snapshotValues, "snapshot");
    for (const step of STEPS) {
      await expect(run("execute", step), step).rejects.toThrow(CutoverError);
      const after = await state();
      expectOn(after, snapshotValues, "snapshot");
      expect(after.bookmarks, step).toEqual(before.bookmarks);
    }
    // A real failure of the last call: the scheduler refuses UpdateSchedule.
    await expect(
      run("execute", undefined, (c) => refuse(c.scheduler, "UpdateScheduleCommand")),
    ).rejects.toThrow(
      /schedule failed: .*refused by the test.*undone: the stack is on the snapshot as before/s,
    );
    expectOn(await state(), snapshotValues, "snapshot");
    expect((await state()).bookmarks).toEqual(before.bookmarks);
    const logged = await readLog(support, "test");
    expect(logged.filter((l) => l.outcome === "failed").map((l) => l.step)).toEqual([...STEPS, "schedule"]);
    // Every applied step was undone.
    const applied = logged.filter((l) => l.outcome === "applied").length;
    expect(logged.filter((l) => l.outcome === "undone").length).toBe(applied);
  });

  it("executes: production settings, bookmarks moved back, schedule and alarm on; logged without secrets", async () => {
    const before = await state();
    snapshotMarks = before.bookmarks.filter((b) => b.idDevice === behind);
    const outcomes = await run("execute");
    expect(outcomes.map((o) => o.outcome)).toEqual(["applied", "applied", "applied", "applied", "applied"]);
    const after = await state();
    expectOn(after, await sideValues("production"), "production");
    const { rows } = await prodDdc.query<{ mark: Date }>(
      "SELECT last_log_date AS mark FROM device WHERE id = $1",
      [behind],
    );
    const mark = rows[0]?.mark.getTime() ?? 0;
    for (const b of after.bookmarks.filter((x) => x.idDevice === behind))
      expect(b.lastts.getTime(), b.collection).toBeLessThanOrEqual(mark);
    // Only that device's bookmarks moved; the gone device keeps its own.
    const changed = after.bookmarks.filter(
      (b, i) => b.lastts.getTime() !== before.bookmarks[i]?.lastts.getTime(),
    );
    expect(new Set(changed.map((b) => b.idDevice))).toEqual(new Set([behind]));
    expect(after.bookmarks.some((b) => b.idDevice === gone)).toBe(true);

    const logged = (await readLog(support, "test")).filter((l) => l.outcome === "applied").slice(-5);
    expect(logged.map((l) => l.step)).toEqual([...STEPS]);
    for (const l of logged) {
      expect(l.operator).toBe("tester@test");
      expect(l.principal).toMatch(/^arn:aws:/);
      const text = JSON.stringify([l.before, l.after]);
      expect(text).not.toMatch(/"password"/);
      expect(text).not.toContain(`:${encodeURIComponent("lakehouse")}@`);
    }
    expect(JSON.stringify(logged[1]?.after)).toContain("***");
  });

  it("a second execute changes nothing and says so", async () => {
    const before = await state();
    const { ctx, plan: p } = await plan("execute");
    ctx.deployment.close();
    expect(p.where).toBe("production");
    expect(p.steps.every((s) => s.done)).toBe(true);
    expect((await run("execute")).map((o) => o.outcome)).toEqual(Array(5).fill("unchanged"));
    expect(await state()).toEqual(before);
  });

  it("the pipeline reads production after the cutover: its devices, its day past the snapshot", async () => {
    const report = await ingest("raw-production");
    expect(report.execution.status).toBe("SUCCEEDED");
    expect(report.summary?.status).toBe("succeeded");
    // The plan came from production's ddc: the new device in, the gone one out.
    const { rows: planned } = await support.query<{ id: string }>(
      `SELECT DISTINCT unnest(devices)::text AS id FROM plan_batch
       WHERE plan_id = (SELECT id FROM plan ORDER BY created_at DESC LIMIT 1)`,
    );
    const ids = planned.map((r) => Number(r.id));
    expect(ids).toContain(added);
    expect(ids).not.toContain(gone);
    // The documents came from production's MongoDB: windows past the snapshot's last mark.
    const marks = new pg.Client({ connectionString: snapshot.config.DDC_DATABASE_URL });
    await marks.connect();
    try {
      const { rows } = await marks.query<{ mark: Date }>("SELECT max(last_log_date) AS mark FROM device");
      const { rows: past } = await support.query<{ n: string }>(
        "SELECT count(*)::text AS n FROM file_ledger WHERE window_to > $1",
        [rows[0]?.mark],
      );
      expect(Number(past[0]?.n)).toBeGreaterThan(0);
    } finally {
      await marks.end();
    }
  });

  it("postgres_extract reads production after the cutover: the job's login comes from the switched secret", async () => {
    const dirs = {
      tablesFile: await writeJobTables(join(work, "job-tables.json")),
      warehouse: join(work, "warehouse"),
      secretPrefix: prefix,
    };
    const run = await runSparkJob(localGlueJobs(config, dirs).postgresExtract);
    const device = run.results.find((r) => (r as { table?: string }).table === "device") as
      | { status: string; rows_read: number }
      | undefined;
    expect(device?.status).toBe("ok");
    const count = async (url: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return Number(
          (await client.query<{ n: string }>("SELECT count(*)::text AS n FROM device")).rows[0]?.n,
        );
      } finally {
        await client.end();
      }
    };
    const [inProduction, inSnapshot] = [
      await count(production.config.DDC_DATABASE_URL),
      await count(snapshot.config.DDC_DATABASE_URL),
    ];
    expect(inProduction).not.toBe(inSnapshot);
    expect(device?.rows_read).toBe(inProduction);
    // The job says where it logged in (never with the password).
    const jobLog = await readFile(join(".local", "log", "postgres_extract.log"), "utf8");
    expect(jobLog).toMatch(
      new RegExp(
        `database login from secret ${prefix}/ddc: jdbc:postgresql://[^ ]+/${production.name}_ddc as`,
      ),
    );
  }, 300_000);

  it("rolls back: snapshot settings, the moved bookmarks put back, schedule off; a failure undoes", async () => {
    const productionState = await state();
    const productionValues = await sideValues("production");
    for (const step of [...STEPS].reverse()) {
      await expect(run("rollback", step), step).rejects.toThrow(CutoverError);
      expectOn(await state(), productionValues, "production");
      expect((await state()).bookmarks).toEqual(productionState.bookmarks);
    }
    await run("rollback");
    const after = await state();
    expectOn(after, await sideValues("snapshot"), "snapshot");
    expect(snapshotMarks.length).toBeGreaterThan(0);
    expect(after.bookmarks.filter((b) => b.idDevice === behind)).toEqual(snapshotMarks);
    expect((await run("rollback")).every((o) => o.outcome === "unchanged")).toBe(true);
  });

  it("an undo that fails too leaves it between sides, said so; a rerun completes", async () => {
    let writes = 0;
    // The secrets switch, the schedule fails, and the secrets' undo is refused.
    const broken = (c: AwsClients) => {
      refuse(c.scheduler, "UpdateScheduleCommand");
      c.secrets.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === "PutSecretValueCommand" && ++writes > 2)
            throw new Error("refused by the test");
          return next(args);
        },
        { step: "initialize", name: "refuseUndo" },
      );
    };
    await expect(run("execute", undefined, broken)).rejects.toThrow(CutoverStuckError);
    const { ctx, plan: p } = await plan("execute");
    ctx.deployment.close();
    expect(p.where).toBe("between");
    await run("execute");
    expectOn(await state(), await sideValues("production"), "production");
    await run("rollback");
    expectOn(await state(), await sideValues("snapshot"), "snapshot");
  });
});

function refuse(client: SchedulerClient, command: string) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command) throw new Error("refused by the test");
      return next(args);
    },
    { step: "initialize", name: `refuse${command}` },
  );
}
