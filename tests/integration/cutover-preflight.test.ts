/**
 * The cutover's preflight against real servers: a "production" `ddc` and MongoDB made from the
 * snapshot's schema and indexes pass; each way production can differ (a column of another type,
 * a column that may be NULL, a table or a collection missing, an index missing or unusable) is
 * named, and all of them are named at once.
 */
import { MongoClient } from "mongodb";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ddcDdl } from "../../local/snapshot/index.js";
import { ensureIndexes } from "../../local/snapshot/mongo.js";
import { ddcProblems, mongodbProblems } from "../../pipeline/cutover/preflight.js";
import { requiredIndexes, serves } from "../../pipeline/ingest/indexes.js";
import { collection, collections } from "../../pipeline/schema/registry.js";
import { throwawayDatabases } from "../support/throwaway.js";

const dbs = throwawayDatabases("preflight");
let ddc: pg.Client;
let mongo: MongoClient;

beforeAll(async () => {
  await dbs.create();
  ddc = new pg.Client({ connectionString: dbs.config.DDC_DATABASE_URL });
  await ddc.connect();
  await ddc.query(ddcDdl());
  mongo = new MongoClient(dbs.config.MONGODB_URL);
  await mongo.connect();
  const db = mongo.db(dbs.name);
  for (const c of collections) await db.createCollection(c.name);
  await ensureIndexes(db);
}, 120_000);

afterAll(async () => {
  await ddc?.end();
  await mongo?.close();
  await dbs.drop();
});

describe("preflight", () => {
  it("passes production sources shaped like the snapshot", async () => {
    expect(await ddcProblems(ddc)).toEqual([]);
    expect(await mongodbProblems(mongo.db(dbs.name))).toEqual([]);
  });

  it("names every ddc difference at once: a type, a nullability, a table", async () => {
    await ddc.query("ALTER TABLE device ALTER COLUMN last_log_date TYPE text");
    await ddc.query("ALTER TABLE company ALTER COLUMN name DROP NOT NULL");
    await ddc.query("DROP TABLE recipe_device");
    const problems = await ddcProblems(ddc);
    expect(problems).toEqual([
      expect.objectContaining({ subject: "company.name", problem: expect.stringMatching(/may be NULL/) }),
      expect.objectContaining({
        subject: "device.last_log_date",
        problem: expect.stringMatching(/is text; the registry reads timestamp/),
      }),
      expect.objectContaining({ subject: "recipe_device", problem: "table missing" }),
    ]);
    expect(problems.every((p) => p.source === "ddc")).toBe(true);
  });

  it("names a missing collection and a missing or unusable index", async () => {
    const db = mongo.db(dbs.name);
    await db.collection("sdata").drop();
    const events = collection("events");
    const [eventsIndex] = requiredIndexes(events);
    await db.collection("events").dropIndex(eventsIndex?.name ?? "");
    // Fields in the other order: no range on the timestamp within one device.
    await db
      .collection("events")
      .createIndex({ [events.sourceTimestampField]: 1, idDevice: 1 }, { name: "reversed" });
    await db.collection("alarm").dropIndex("idDevice_1_resetTS_1");
    const problems = await mongodbProblems(db);
    expect(problems.map((p) => p.subject).sort()).toEqual(
      [
        'alarm {"idDevice":1,"resetTS":1}',
        `events {"idDevice":1,"${events.sourceTimestampField}":1}`,
        "sdata",
      ].sort(),
    );
    expect(problems.find((p) => p.subject === "sdata")?.problem).toBe("collection missing");
  });
});

describe("serves", () => {
  const want = requiredIndexes(collection("events"))[0] ?? { name: "", key: {} };
  const ts = collection("events").sourceTimestampField;

  it("takes an index that begins with the fields, either direction, longer or not", () => {
    expect(serves({ key: { idDevice: 1, [ts]: 1 } }, want)).toBe(true);
    expect(serves({ key: { idDevice: -1, [ts]: -1, type: 1 } }, want)).toBe(true);
  });

  it("refuses another order, a prefix, a text or hashed key, a sparse or partial index", () => {
    expect(serves({ key: { [ts]: 1, idDevice: 1 } }, want)).toBe(false);
    expect(serves({ key: { idDevice: 1 } }, want)).toBe(false);
    expect(serves({ key: { idDevice: "hashed", [ts]: 1 } }, want)).toBe(false);
    expect(serves({ key: { idDevice: 1, [ts]: 1 }, sparse: true }, want)).toBe(false);
    expect(serves({ key: { idDevice: 1, [ts]: 1 }, partialFilterExpression: {} }, want)).toBe(false);
  });
});
