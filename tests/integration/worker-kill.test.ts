/**
 * A worker process killed (SIGKILL) in the middle of a multipart upload to S3 (moto): nothing
 * is committed, no object appears, and the rerun removes the dead upload, writes the window
 * once and commits it once. Documents are large and random, so the window's object spans
 * several 8 MiB parts and the upload lasts long enough to be caught in flight.
 */
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { GetObjectCommand, ListMultipartUploadsCommand, type S3Client } from "@aws-sdk/client-s3";
import { ParquetReader } from "@dsnp/parquetjs";
import { type Db, MongoClient } from "mongodb";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadLocalConfig } from "../../local/config.js";
import { runWorker } from "../../pipeline/ingest/worker.js";
import { S3ObjectStore } from "../../pipeline/lake/s3-store.js";
import { collection } from "../../pipeline/schema/registry.js";
import { applyMigrations, createSupportClient, type SupportClient } from "../../pipeline/support/index.js";
import { postgresIngestState } from "../../pipeline/support/ingest-state.js";
import { createSupportPool } from "../../pipeline/support/pool.js";
import { createTestBucket, deleteTestBucket, motoClient, pendingUploads } from "../support/s3-bucket.js";
import type { WorkerChildSettings } from "../support/worker-child.js";

const config = loadLocalConfig();
const name = `kill_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
const supportUrl = (() => {
  const u = new URL(config.DDC_DATABASE_URL);
  u.pathname = `/${name}_support`;
  return u.toString();
})();
const admin = new pg.Client({ connectionString: config.DDC_DATABASE_URL });
const DOCUMENTS = 320;
const PAYLOAD_BYTES = 96 * 1024;
const ID_DEVICE = 7001;
const day = Date.UTC(2024, 4, 1);
let mongo: MongoClient;
let source: Db;
let support: SupportClient;
let pool: ReturnType<typeof createSupportPool>;
let client: S3Client;
let bucket: string;

beforeAll(async () => {
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}_support`);
  await applyMigrations(supportUrl);
  support = createSupportClient(supportUrl);
  pool = createSupportPool(supportUrl);
  mongo = new MongoClient(config.MONGODB_URL);
  source = mongo.db(name);
  // Random base64 does not compress: the object is about DOCUMENTS × PAYLOAD_BYTES.
  const docs = Array.from({ length: DOCUMENTS }, (_, i) => ({
    _id: `ev-${i}`,
    idDevice: ID_DEVICE,
    timestamp: new Date(day + i * 60_000),
    type: "door",
    source: "sensor",
    blob: randomBytes((PAYLOAD_BYTES * 3) / 4).toString("base64"),
  }));
  for (let i = 0; i < docs.length; i += 40)
    await source.collection<{ _id: string }>("events").insertMany(docs.slice(i, i + 40));
  client = motoClient();
  bucket = await createTestBucket(client, "kill");
}, 180_000);

afterAll(async () => {
  await support?.$disconnect();
  await pool?.end();
  await source?.dropDatabase().catch(() => undefined);
  await mongo?.close();
  await admin.query(`DROP DATABASE IF EXISTS ${name}_support WITH (FORCE)`);
  await admin.end();
  await deleteTestBucket(client, bucket).catch(() => undefined);
  client?.destroy();
});

const lastLogDate = new Date(day + 2 * 86_400_000);

it("a worker killed mid-upload leaves no object and no commit; the rerun cleans up and writes the window once", async () => {
  const settings: WorkerChildSettings = {
    mongodbUrl: config.MONGODB_URL,
    database: name,
    supportUrl,
    bucket,
    collection: "events",
    idDevice: ID_DEVICE,
    lastLogDate: lastLogDate.toISOString(),
    rowGroupSize: 16,
  };
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "tests/support/worker-child.ts", JSON.stringify(settings)],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: process.env,
    },
  );
  const exited = new Promise<NodeJS.Signals | null>((done) =>
    child.on("exit", (_code, signal) => done(signal)),
  );
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });

  // Wait until the upload is in flight (created, not completed), then kill without warning.
  let inFlight = false;
  for (let i = 0; i < 600 && child.exitCode === null; i++) {
    const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    if (out.Uploads?.length) {
      inFlight = true;
      child.kill("SIGKILL");
      break;
    }
    await sleep(25);
  }
  expect(inFlight, `upload never seen in flight; child said: ${stderr.slice(-2000)}`).toBe(true);
  expect(await exited).toBe("SIGKILL");

  // The dead upload is there (no process ran cleanup), but no object, bookmark or ledger row.
  expect(await pendingUploads(client, bucket)).toHaveLength(1);
  const store = new S3ObjectStore({ client, bucket });
  const objects: string[] = [];
  for await (const o of store.list("events/")) objects.push(o.key);
  expect(objects).toEqual([]);
  expect(await support.fileLedger.count()).toBe(0);
  expect(await support.lastts.count()).toBe(0);

  // The rerun removes the dead upload, then writes and commits the window exactly once.
  const result = await runWorker(
    {
      runId: "rerun",
      planId: null,
      entry: collection("events"),
      devices: [{ idDevice: ID_DEVICE, lastLogDate }],
    },
    { source, store, state: postgresIngestState(pool) },
    { rowGroupSize: 16 },
  );
  expect(result.complete).toBe(true);
  expect(await pendingUploads(client, bucket)).toEqual([]);
  const after: string[] = [];
  for await (const o of store.list("events/")) after.push(o.key);
  const ledger = await support.fileLedger.findMany();
  expect(after).toEqual(ledger.map((l) => l.objectKey));
  expect(ledger).toHaveLength(1);
  expect(ledger[0]?.rows).toBe(DOCUMENTS);
  expect(Number(ledger[0]?.bytes)).toBeGreaterThan(16 * 1024 * 1024);

  const body = await client.send(new GetObjectCommand({ Bucket: bucket, Key: ledger[0]?.objectKey }));
  const reader = await ParquetReader.openBuffer(Buffer.from((await body.Body?.transformToByteArray()) ?? []));
  const ids: string[] = [];
  const cursor = reader.getCursor([["id"]]);
  for (let row = await cursor.next(); row; row = await cursor.next())
    ids.push(String((row as { id: string }).id));
  await reader.close();
  expect(ids.sort()).toEqual(Array.from({ length: DOCUMENTS }, (_, i) => `ev-${i}`).sort());
}, 240_000);
