/**
 * The worker on hand-made source documents (own FerretDB database, own support database, lake in
 * a temp folder): equal timestamps at window boundaries, and documents that cannot be coerced.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ParquetReader } from "@dsnp/parquetjs";
import { type Db, MongoClient, ObjectId, Timestamp } from "mongodb";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalConfig } from "../../local/config.js";
import { DAY_MS } from "../../pipeline/ingest/windows.js";
import { runWorker } from "../../pipeline/ingest/worker.js";
import { LocalObjectStore } from "../../pipeline/lake/local-store.js";
import { collection } from "../../pipeline/schema/index.js";
import { applyMigrations, createSupportClient, type SupportClient } from "../../pipeline/support/index.js";
import { postgresIngestState } from "../../pipeline/support/ingest-state.js";
import { createSupportPool } from "../../pipeline/support/pool.js";

const config = loadLocalConfig();
const name = `edges_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
const admin = new pg.Client({ connectionString: config.SUPPORT_DATABASE_URL });
const mongo = new MongoClient(config.MONGODB_URL);
const t0 = new Date(Date.UTC(2024, 0, 1));
const at = (days: number, ms = 0) => new Date(t0.getTime() + days * DAY_MS + ms);

let source: Db;
let support: SupportClient;
let pool: ReturnType<typeof createSupportPool>;
let store: LocalObjectStore;
let lakeDir: string;

beforeAll(async () => {
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(config.SUPPORT_DATABASE_URL);
  url.pathname = `/${name}`;
  await applyMigrations(url.toString());
  support = createSupportClient(url.toString());
  pool = createSupportPool(url.toString());
  await mongo.connect();
  source = mongo.db(name);
  lakeDir = await mkdtemp(join(tmpdir(), "lake-edges-"));
  store = new LocalObjectStore(lakeDir);
});

afterAll(async () => {
  await support?.$disconnect();
  await pool?.end();
  await source?.dropDatabase().catch(() => undefined);
  await mongo.close();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  await rm(lakeDir, { recursive: true, force: true });
});

async function rowsOf(collectionName: string) {
  const entries = await support.fileLedger.findMany({
    where: { collection: collectionName },
    orderBy: { id: "asc" },
  });
  const rows: Record<string, unknown>[] = [];
  for (const e of entries) {
    const reader = await ParquetReader.openBuffer(await store.get(e.objectKey));
    const cursor = reader.getCursor();
    for (let r = await cursor.next(); r; r = await cursor.next()) rows.push(r as Record<string, unknown>);
    await reader.close();
  }
  return rows;
}

const work = (collectionName: string, idDevice: number, lastLogDate: Date, runId: string) =>
  runWorker(
    { runId, planId: null, entry: collection(collectionName), devices: [{ idDevice, lastLogDate }] },
    { source, store, state: postgresIngestState(pool) },
    { windowMs: DAY_MS },
  );

describe("window boundaries", () => {
  it("reads documents stamped exactly on a boundary once, and those at last_log_date only later", async () => {
    const docs = [0, 1, 1, 2, 3, 3, 3, 4].map((d, i) => ({
      _id: new ObjectId(),
      idDevice: 7,
      time: at(d),
      event: `e${i}`,
    }));
    // Two more at the first window's last millisecond, and one at last_log_date itself.
    docs.push(
      { _id: new ObjectId(), idDevice: 7, time: at(1, -1), event: "edge-" },
      { _id: new ObjectId(), idDevice: 7, time: at(4), event: "late" },
    );
    await source.collection("sd_events").insertMany(docs);

    const first = await work("sd_events", 7, at(4), "b1");
    expect(first.windows).toBe(4);
    let rows = await rowsOf("sd_events");
    const before = docs.filter((d) => d.time < at(4)).map((d) => d._id.toHexString());
    expect(rows.map((r) => r.id).sort()).toEqual(before.sort());

    const second = await work("sd_events", 7, at(5), "b2");
    expect(second.documentsRead).toBe(2);
    rows = await rowsOf("sd_events");
    expect(rows.map((r) => r.id).sort()).toEqual(docs.map((d) => d._id.toHexString()).sort());
  });
});

describe("bad documents", () => {
  const good = (i: number, extra: Record<string, unknown> = {}) => ({
    _id: new ObjectId(),
    idDevice: 9,
    code: 100 + i,
    class: "error",
    activeTS: at(0, i * 60_000),
    ...extra,
  });

  it("quarantines what cannot be coerced, with reasons and metrics, and loads the rest", async () => {
    const docs = [
      good(0),
      good(1, { code: "abc" }),
      good(2, { class: { nested: true } }),
      good(3, { code: 2 ** 40 }),
      good(4, { class: "Überhitzung 🔥 温度" }),
      good(5, { resetTS: "2024-01-01T05:00:00Z" }),
      good(6, { resetTS: "yesterday" }),
      good(7, { dump: "x".repeat(5 * 1024 * 1024) }),
      good(8, { fwBuild: "4.2.1", tags: ["a", "b"] }),
    ];
    await source.collection("alarm").insertMany(docs);
    const result = await work("alarm", 9, at(1), "q1");
    expect(result).toMatchObject({
      documentsRead: 9,
      documentsQuarantined: 5,
      rowsWritten: 4,
      complete: true,
    });

    const quarantined = await support.quarantine.findMany({
      where: { runId: "q1" },
      orderBy: { documentId: "asc" },
    });
    const reasons = new Map(quarantined.map((q) => [q.documentId, q.reason]));
    expect(reasons.get(docs[1]?._id.toHexString() ?? "")).toMatch(/code:/);
    expect(reasons.get(docs[2]?._id.toHexString() ?? "")).toMatch(/class: .*expected string/);
    expect(reasons.get(docs[3]?._id.toHexString() ?? "")).toMatch(/code: Too big/);
    expect(reasons.get(docs[6]?._id.toHexString() ?? "")).toMatch(/resetTS:/);
    expect(reasons.get(docs[7]?._id.toHexString() ?? "")).toMatch(/payload: .*above the 4194304 limit/);
    for (const q of quarantined) {
      const record = JSON.parse((await store.get(q.objectKey)).toString());
      expect(record).toMatchObject({ collection: "alarm", idDevice: 9, reason: q.reason });
      expect(record.document._id).toEqual({ $oid: q.documentId });
    }

    const rows = await rowsOf("alarm");
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(docs[4]?._id.toHexString())?.class).toBe("Überhitzung 🔥 温度");
    expect((byId.get(docs[5]?._id.toHexString())?.reset_ts as Date | undefined)?.toISOString()).toBe(
      "2024-01-01T05:00:00.000Z",
    );
    expect(JSON.parse(byId.get(docs[8]?._id.toHexString())?.payload as string)).toEqual({
      fwBuild: "4.2.1",
      tags: ["a", "b"],
    });

    const metric = await support.metric.findUniqueOrThrow({
      where: { runId_collection: { runId: "q1", collection: "alarm" } },
    });
    expect(metric).toMatchObject({
      documentsRead: 9,
      documentsUploaded: 4,
      documentsQuarantined: 5,
      errors: 0,
    });
    const drift = await support.driftCount.findMany({
      where: { collection: "alarm" },
      orderBy: { key: "asc" },
    });
    expect(drift.map((d) => [d.key, Number(d.count)])).toEqual([
      ["fwBuild", 1],
      ["tags", 1],
    ]);
  });
});

describe("documents no window can select", () => {
  it("quarantines a device's documents with a missing, null or string timestamp on its first pass", async () => {
    const ok = { _id: new ObjectId(), idDevice: 11, timestamp: at(0, 1000), type: "door", source: "hmi" };
    const untimed = [
      { _id: new ObjectId(), idDevice: 11, type: "door", source: "hmi" },
      { _id: new ObjectId(), idDevice: 11, timestamp: null, type: "door", source: "hmi" },
      { _id: new ObjectId(), idDevice: 11, timestamp: "2024-01-01T10:00:00Z", type: "door", source: "hmi" },
    ];
    await source.collection("events").insertMany([ok, ...untimed]);
    const result = await work("events", 11, at(1), "u1");
    expect(result).toMatchObject({
      documentsRead: 4,
      rowsWritten: 1,
      documentsQuarantined: 3,
      complete: true,
    });
    const records = await support.quarantine.findMany({ where: { runId: "u1" } });
    expect(records.map((q) => q.documentId).sort()).toEqual(untimed.map((d) => d._id.toHexString()).sort());
    expect(records.map((q) => q.reason.replace(/document \w+ /, "")).sort()).toEqual([
      "events cannot be windowed: timestamp is a string, not a date",
      "events cannot be windowed: timestamp is missing",
      "events cannot be windowed: timestamp is null",
    ]);
    for (const q of records)
      expect(JSON.parse((await store.get(q.objectKey)).toString()).reason).toBe(q.reason);
    const metric = await support.metric.findUniqueOrThrow({
      where: { runId_collection: { runId: "u1", collection: "events" } },
    });
    expect(metric).toMatchObject({ documentsRead: 4, documentsUploaded: 1, documentsQuarantined: 3 });
    // A later run over the same device does not quarantine them again.
    await source.collection("events").insertOne({ ...ok, _id: new ObjectId(), timestamp: at(1, 5) });
    const next = await work("events", 11, at(2), "u2");
    expect(next).toMatchObject({ documentsRead: 1, documentsQuarantined: 0 });
  });
});

describe("first-pass probes", () => {
  it("finds an untimed document that sorts after dates (a BSON Timestamp) and quarantines it", async () => {
    const ok = { _id: new ObjectId(), idDevice: 12, timestamp: at(0, 1000), type: "door", source: "hmi" };
    const late = {
      _id: new ObjectId(),
      idDevice: 12,
      timestamp: new Timestamp({ t: 1_704_103_200, i: 1 }),
      type: "door",
      source: "hmi",
    };
    await source.collection("events").insertMany([ok, late]);
    const result = await work("events", 12, at(1), "p1");
    expect(result).toMatchObject({
      documentsRead: 2,
      rowsWritten: 1,
      documentsQuarantined: 1,
      complete: true,
    });
    const records = await support.quarantine.findMany({ where: { runId: "p1" } });
    expect(records.map((q) => q.documentId)).toEqual([late._id.toHexString()]);
    expect(records[0]?.reason).toMatch(/timestamp is a Timestamp, not a date/);
  });

  it("a device whose documents are all dated costs two index-sized probes, not a scan for untimed ones", async () => {
    const docs = [0, 1].map((h) => ({
      _id: new ObjectId(),
      idDevice: 13,
      timestamp: at(0, h * 3_600_000),
      type: "door",
      source: "hmi",
    }));
    await source.collection("events").insertMany(docs);
    const result = await work("events", 13, at(1), "p2");
    // The untimed sweep and the first-document seek (both bounded by the index), one window query.
    expect(result).toMatchObject({ documentsRead: 2, rowsWritten: 2, queriesRun: 3, complete: true });
  });
});

describe("devices without documents", () => {
  it("bookmarks last_log_date, floored to a whole slot for variable_logs, so a late slot is not skipped", async () => {
    const lld = at(0, 12 * 3_600_000 + 59 * 60_000);
    await work("variable_logs", 21, lld, "n1");
    await work("events", 21, lld, "n1");
    const marks = await support.lastts.findMany({ where: { idDevice: 21 }, orderBy: { collection: "asc" } });
    expect(marks.map((m) => [m.collection, m.lastts.toISOString()])).toEqual([
      ["events", "2024-01-01T12:59:00.000Z"],
      ["variable_logs", "2024-01-01T12:00:00.000Z"],
    ]);
  });
});
