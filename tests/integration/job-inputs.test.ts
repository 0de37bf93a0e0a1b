/**
 * Skipping a local Glue job with nothing new (local/orchestration/job-inputs.ts, issue 16): the
 * fingerprint of a job's inputs stays the same while nothing changes, and moves with each kind of
 * input: a commit to one of its Iceberg tables, a table or output file gone, a file ledger row
 * (a throwaway database on the real PostgreSQL), the job tables, the job's arguments, its code.
 */
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalConfig } from "../../local/config.js";
import {
  type InputsContext,
  inputsFingerprint,
  type JobInputs,
  JobRecords,
} from "../../local/orchestration/job-inputs.js";
import type { SparkJob } from "../../local/orchestration/spark-job.js";

const config = loadLocalConfig();
const database = `job_inputs_${randomUUID().slice(0, 8)}`;
let dir: string;
let context: InputsContext;
let job: SparkJob;
const admin = () => new pg.Client({ connectionString: config.SUPPORT_DATABASE_URL });

async function sql(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: context.supportDatabaseUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function commit(table: string, version: number): Promise<void> {
  const [namespace, name] = table.split(".");
  const metadata = join(context.warehouse, namespace ?? "", name ?? "", "metadata");
  await mkdir(metadata, { recursive: true });
  await writeFile(join(metadata, "version-hint.text"), String(version));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "job-inputs-"));
  const client = admin();
  await client.connect();
  await client.query(`CREATE DATABASE ${database}`);
  await client.end();
  const url = new URL(config.SUPPORT_DATABASE_URL);
  url.pathname = `/${database}`;
  context = {
    warehouse: join(dir, "warehouse"),
    supportDatabaseUrl: url.toString(),
    codeDir: join(dir, "code"),
  };
  await sql("CREATE TABLE file_ledger (id bigserial PRIMARY KEY, key text NOT NULL)");
  await mkdir(join(dir, "code", "jobs"), { recursive: true });
  await writeFile(join(dir, "code", "jobs", "curate.py"), "print('v1')\n");
  await writeFile(join(dir, "tables.json"), '{"version": 7}\n');
  job = {
    name: "mongodb_curate",
    module: "lakehouse_glue",
    args: ["mongodb_curate", "--job-tables", join(dir, "tables.json")],
  };
  await commit("mongodb.alarm", 1);
  await commit("mongodb.events", 3);
});

afterAll(async () => {
  const client = admin();
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await client.end();
  await rm(dir, { recursive: true, force: true });
});

describe("inputsFingerprint", () => {
  const inputs = (): JobInputs => ({
    tables: ["mongodb.alarm", "mongodb.events"],
    ledger: true,
    outputs: [join(dir, "out.json")],
  });

  it("stays while nothing changes, and moves with every kind of input", async () => {
    await writeFile(join(dir, "out.json"), "{}");
    const seen = new Set<string>();
    const now = () => inputsFingerprint(job, inputs(), context);
    const expectNew = async (what: string) => {
      const fingerprint = await now();
      expect(seen.has(fingerprint), what).toBe(false);
      seen.add(fingerprint);
      expect(await now(), `${what}, read again`).toBe(fingerprint);
    };
    await expectNew("the start");
    await commit("mongodb.alarm", 2);
    await expectNew("a commit to a table");
    await rm(join(context.warehouse, "mongodb", "events"), { recursive: true });
    await expectNew("a table gone");
    await sql("INSERT INTO file_ledger (key) VALUES ('raw/alarm/1.parquet')");
    await expectNew("a ledger row added");
    await sql("DELETE FROM file_ledger");
    await sql("INSERT INTO file_ledger (key) VALUES ('raw/alarm/1b.parquet')");
    await expectNew("a ledger row replaced by another");
    await rm(join(dir, "out.json"));
    await expectNew("an output gone");
    await writeFile(join(dir, "tables.json"), '{"version": 9}\n');
    await expectNew("the job tables changed");
    await writeFile(join(dir, "code", "jobs", "curate.py"), "print('v2')\n");
    await expectNew("the code changed");
    job = { ...job, args: [...job.args, "--compact"] };
    await expectNew("other arguments");
  });

  it("does not read the ledger of a job that does not use it", async () => {
    const without = { tables: [], ledger: false, outputs: [] };
    const before = await inputsFingerprint(job, without, context);
    await sql("INSERT INTO file_ledger (key) VALUES ('raw/alarm/2.parquet')");
    expect(await inputsFingerprint(job, without, context)).toBe(before);
  });
});

describe("JobRecords", () => {
  it("keeps the last successful run, and reads an unreadable record as none", async () => {
    const records = new JobRecords(join(dir, "runs"));
    expect(await records.last("analytics")).toBeUndefined();
    const run = {
      JobRunState: "SUCCEEDED" as const,
      Id: "local-analytics-1",
      results: [{ ok: true }],
      seconds: 3.5,
    };
    await records.save("analytics", "abc", run);
    expect(await records.last("analytics")).toMatchObject({ fingerprint: "abc", run });
    await writeFile(join(dir, "runs", "analytics.json"), "{ not json");
    expect(await records.last("analytics")).toBeUndefined();
    await records.save("analytics", "def", run);
    await records.forget("analytics");
    expect(await records.last("analytics")).toBeUndefined();
  });
});
