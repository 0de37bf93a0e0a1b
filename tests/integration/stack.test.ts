/**
 * The local stack's servers answer the operations the pipeline relies on, over real connections:
 * PostgreSQL (ddc + support), FerretDB (the MongoDB operations the worker may use, and the
 * limits we design around), moto (S3 as the lake's object store).
 */
import { randomUUID } from "node:crypto";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { type Db, MongoClient, ObjectId } from "mongodb";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalConfig } from "../../local/config.js";

const config = loadLocalConfig();

describe("PostgreSQL", () => {
  it.each([
    ["ddc", config.DDC_DATABASE_URL],
    ["support", config.SUPPORT_DATABASE_URL],
  ])("serves the %s database on loopback with password auth", async (name, url) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(
        "SELECT current_database() AS db, host(inet_server_addr()) AS addr, current_setting('server_version_num')::int AS v",
      );
      expect(rows[0]).toMatchObject({ db: name, addr: "127.0.0.1" });
      expect(rows[0].v).toBeGreaterThanOrEqual(150000);
    } finally {
      await client.end();
    }
  });

  it("refuses a wrong password", async () => {
    const url = new URL(config.DDC_DATABASE_URL);
    url.password = "wrong";
    const client = new pg.Client({ connectionString: url.toString() });
    await expect(client.connect()).rejects.toThrow(/password authentication failed/);
  });
});

describe("FerretDB", () => {
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    client = new MongoClient(config.MONGODB_URL);
    await client.connect();
    db = client.db(`stack_test_${randomUUID().slice(0, 8)}`);
  });

  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  it("runs the worker's query shape: filter on device and time window, sort, projection, count", async () => {
    const coll = db.collection("alarm");
    await coll.createIndex({ idDevice: 1, activeTS: 1 });
    const t0 = Date.UTC(2024, 0, 1);
    await coll.insertMany(
      Array.from({ length: 50 }, (_, i) => ({
        _id: new ObjectId(),
        idDevice: i % 2,
        code: i,
        activeTS: new Date(t0 + i * 60_000),
        ...(i % 5 === 0 ? { resetTS: new Date(t0 + i * 60_000 + 30_000) } : {}),
      })),
    );
    const from = new Date(t0 + 10 * 60_000);
    const to = new Date(t0 + 20 * 60_000);
    // alarm: active in the window, or reset in the window (docs/design.md §4).
    const filter = {
      idDevice: 0,
      $or: [{ activeTS: { $gte: from, $lt: to } }, { resetTS: { $gte: from, $lt: to } }],
    };
    const docs = await coll
      .find(filter, { projection: { code: 1, activeTS: 1 }, sort: { activeTS: 1 } })
      .toArray();
    expect(docs.map((d) => d.code)).toEqual([10, 12, 14, 16, 18]);
    expect(Object.keys(docs[0] ?? {}).sort()).toEqual(["_id", "activeTS", "code"]);
    expect(await coll.countDocuments(filter)).toBe(5);
    expect(await coll.estimatedDocumentCount()).toBe(50);
    const first = await coll.find({ idDevice: 1 }).sort({ activeTS: 1 }).limit(1).next();
    expect(first?.code).toBe(1);
  });

  it("sets a field later with updateOne (how an alarm reset arrives)", async () => {
    const coll = db.collection("alarm_update");
    const { insertedId } = await coll.insertOne({ idDevice: 3, activeTS: new Date(0) });
    await coll.updateOne({ _id: insertedId }, { $set: { resetTS: new Date(1000) } });
    expect((await coll.findOne({ _id: insertedId }))?.resetTS).toEqual(new Date(1000));
  });

  it("stores variable_logs samples as an array of sub-documents", async () => {
    const coll = db.collection("variable_logs");
    const values = Array.from({ length: 120 }, (_, i) => (i % 7 === 0 ? null : i / 2));
    await coll.insertOne({
      idDevice: 1,
      variable: "temp_chamber",
      day: new Date(0),
      samples: [{ hour: 0, values }],
    });
    const back = await coll.findOne({ idDevice: 1 });
    expect(back?.samples[0].values).toEqual(values);
  });

  // The limits of FerretDB 1.24 that shape the design (docs/design.md §7). If an upgrade lifts one, this
  // fails and tells us the constraint can go.
  it("refuses arrays directly inside arrays", async () => {
    await expect(db.collection("nested").insertOne({ a: [[1, 2]] })).rejects.toThrow(/nested array|array/i);
  });

  it("refuses keys that start with $", async () => {
    await expect(db.collection("keys").insertOne({ $bad: 1 })).rejects.toThrow();
  });
});

describe("moto S3", () => {
  const s3 = new S3Client({
    endpoint: config.AWS_ENDPOINT_URL,
    region: config.AWS_REGION,
    forcePathStyle: true,
  });
  const bucket = `stack-test-${randomUUID().slice(0, 8)}`;

  afterAll(() => s3.destroy());

  it("puts, lists, gets and deletes objects under a partition-style key", async () => {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: config.AWS_REGION as "eu-west-1" },
      }),
    );
    const key = "alarm/idDevice=42/1704067200000.parquet";
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from("PAR1 test") }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "alarm/idDevice=42/" }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([key]);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await got.Body?.transformToString()).toBe("PAR1 test");
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).rejects.toThrow(
      /NoSuchBucket|does not exist/,
    );
  });
});
