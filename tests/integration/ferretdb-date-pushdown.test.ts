/**
 * The local stack's FerretDB patch (tools/ferretdb/patches/pushdown.patch): a date bound
 * (`$gt`, `$gte`, `$lt`, `$lte`) goes down to PostgreSQL, so a window's query reads the window's
 * rows, not the device's whole history; so do its `$not` (the untimed query) and an ObjectId
 * bound (reconcile's documents inserted since its watermark), and a sort of ObjectIds (reconcile's
 * newest one). The pushed-down filter may only narrow what FerretDB then
 * filters itself, so every answer is compared with the same filter under a top-level `$and`, which
 * FerretDB 1.24 never pushes down. Real FerretDB, over the MongoDB protocol.
 */
import { randomUUID } from "node:crypto";
import { type Db, type Document, type Filter, Long, MongoClient, ObjectId, Timestamp } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalConfig } from "../../local/config.js";
import { newestObjectId } from "../../pipeline/reconcile/changes.js";

const config = loadLocalConfig();
const day = (d: number, hour = 0) => new Date(Date.UTC(2024, 4, d, hour));

/** Every kind of value a `ts` may hold; `label` names the document in the answers. */
const documents: Document[] = [
  { label: "before", ts: day(1) },
  { label: "at-from", ts: day(10) },
  { label: "inside", ts: day(10, 12) },
  { label: "at-to", ts: day(11) },
  { label: "after", ts: day(20) },
  { label: "array-one-inside", ts: [day(1), day(10, 6)] },
  { label: "array-outside", ts: [day(1), day(20)] },
  { label: "number-inside", ts: day(10, 12).getTime() },
  { label: "long-inside", ts: Long.fromNumber(day(10, 12).getTime()) },
  { label: "timestamp", ts: new Timestamp({ t: day(10, 12).getTime() / 1000, i: 1 }) },
  { label: "string", ts: "2024-05-10T12:00:00Z" },
  { label: "null", ts: null },
  { label: "missing" },
  { label: "object", ts: { at: day(10, 12) } },
  { label: "pre-epoch", ts: new Date(-86_400_000) },
];

describe("FerretDB pushes date bounds down to PostgreSQL", () => {
  let client: MongoClient;
  let db: Db;
  const database = `date_pushdown_${randomUUID().slice(0, 8)}`;

  const labels = async (filter: Filter<Document>) =>
    (await db.collection("logs").find(filter).toArray()).map((d) => d.label as string).sort();

  /** The filter FerretDB ran in PostgreSQL for a find, from its explain (PostgreSQL's plan). */
  async function pushedDown(filter: Filter<Document>): Promise<string> {
    const explained = await db.command({ explain: { find: "logs", filter } });
    return JSON.stringify(explained.queryPlanner);
  }

  beforeAll(async () => {
    client = new MongoClient(config.MONGODB_URL);
    await client.connect();
    db = client.db(database);
    await db
      .collection("logs")
      .insertMany(documents.flatMap((d) => [1, 2].map((idDevice) => ({ ...d, idDevice }))));
    await db.collection("logs").createIndex({ idDevice: 1, ts: 1 });
  });

  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  it.each([
    // An array matches when some element meets each bound, not necessarily the same one.
    [
      "$gte and $lt",
      { $gte: day(10), $lt: day(11) },
      ["array-one-inside", "array-outside", "at-from", "inside"],
    ],
    [
      "$gt and $lte",
      { $gt: day(10), $lte: day(11) },
      ["array-one-inside", "array-outside", "at-to", "inside"],
    ],
    ["$gte only", { $gte: day(11) }, ["after", "array-outside", "at-to"]],
    ["$lt only", { $lt: day(2) }, ["array-one-inside", "array-outside", "before", "pre-epoch"]],
    ["before the epoch", { $lt: new Date(0) }, ["pre-epoch"]],
  ])("answers %s as MongoDB does, for every kind of value", async (_name, range, expected) => {
    const filter = { idDevice: 2, ts: range };
    expect(await labels(filter)).toEqual(expected);
    expect(await labels({ $and: [filter] })).toEqual(expected);
  });

  it("sends both bounds to PostgreSQL beside the device's equality", async () => {
    const plan = await pushedDown({ idDevice: 1, ts: { $gte: day(10), $lt: day(11) } });
    expect(plan).toContain(`'ts'::text) >= '${day(10).getTime()}'::jsonb`);
    expect(plan).toContain(`'ts'::text) < '${day(11).getTime()}'::jsonb`);
    expect(plan).toContain("'idDevice'::text) @> '1'::jsonb");
  });

  it("answers $not of a date range as MongoDB does, and sends it to PostgreSQL", async () => {
    const filter = { idDevice: 2, ts: { $not: { $gte: day(2) } } };
    const expected = [
      "before",
      "long-inside",
      "missing",
      "null",
      "number-inside",
      "object",
      "pre-epoch",
      "string",
      "timestamp",
    ];
    expect(await labels(filter)).toEqual(expected);
    expect(await labels({ $and: [filter] })).toEqual(expected);
    // PostgreSQL shows the negation distributed: not a date, or before the bound.
    expect(await pushedDown(filter)).toContain(`'ts'::text) < '${day(2).getTime()}'::jsonb`);
    const window = { idDevice: 2, ts: { $not: { $gte: day(10), $lt: day(11) } } };
    expect(await labels(window)).toEqual(await labels({ $and: [window] }));
    expect(await labels(window)).not.toContain("inside");
    expect(await labels(window)).toContain("after");
  });

  it("answers an ObjectId bound as MongoDB does, whatever the _id, and sends it to PostgreSQL", async () => {
    const ids = db.collection("ids");
    const early = ObjectId.createFromTime(1_700_000_000);
    const late = ObjectId.createFromTime(1_800_000_000);
    await ids.insertMany([
      { _id: early, label: "early" },
      { _id: late, label: "late" },
      { _id: ObjectId.createFromHexString(`${late.toHexString().slice(0, 23)}f`), label: "late-f" },
      { _id: "zzz" as unknown as ObjectId, label: "string" },
      { _id: 7 as unknown as ObjectId, label: "number" },
    ]);
    const since = (filter: Filter<Document>) =>
      ids
        .find(filter)
        .toArray()
        .then((docs) => docs.map((d) => d.label as string).sort());
    for (const [filter, expected] of [
      [{ _id: { $gte: late } }, ["late", "late-f"]],
      [{ _id: { $gt: late } }, ["late-f"]],
      [{ _id: { $lt: late } }, ["early"]],
    ] as const) {
      expect(await since(filter)).toEqual(expected);
      expect(await since({ $and: [filter] })).toEqual(expected);
    }
    const plan = JSON.stringify(
      (await db.command({ explain: { find: "ids", filter: { _id: { $gte: late } } } })).queryPlanner,
    );
    expect(plan).toContain(`>= '${late.toHexString()}'::text`);
  });

  it("pushes down nothing for bounds that are not dates, and still answers right", async () => {
    const filter = { idDevice: 1, ts: { $gte: day(10).getTime(), $lt: day(11).getTime() } };
    expect(await pushedDown(filter)).not.toContain(">=");
    expect(await labels(filter)).toEqual(["long-inside", "number-inside"]);
  });
});

describe("FerretDB sorts ObjectIds in PostgreSQL for reconcile's newest ObjectId", () => {
  let client: MongoClient;
  let db: Db;
  const database = `oid_sort_${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    client = new MongoClient(config.MONGODB_URL);
    await client.connect();
    db = client.db(database);
  });

  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  it("finds the newest ObjectId among strings, numbers and documents that sort after it as text", async () => {
    const coll = db.collection("events");
    const newest = ObjectId.createFromTime(1_800_000_000);
    await coll.insertMany([
      { _id: ObjectId.createFromTime(1_600_000_000) },
      { _id: newest },
      { _id: ObjectId.createFromTime(1_700_000_000) },
      // Strings whose text sorts after every ObjectId's hex digits, and other types.
      { _id: "ffffffffffffffffffffffff" as unknown as ObjectId },
      { _id: "zz" as unknown as ObjectId },
      { _id: 99 as unknown as ObjectId },
      { _id: { a: 1 } as unknown as ObjectId },
    ]);
    const entry = { name: "events" } as Parameters<typeof newestObjectId>[1];
    expect(await newestObjectId(db, entry)).toBe(newest.toHexString());
    const oldest = await coll
      .find({ _id: { $type: "objectId" } }, { projection: { _id: 1 }, sort: { _id: 1 }, limit: 2 })
      .toArray();
    expect(oldest.map((d) => (d._id as ObjectId).getTimestamp().getTime() / 1000)).toEqual([
      1_600_000_000, 1_700_000_000,
    ]);
    // The type goes down by the schema FerretDB stores beside each document.
    const explained = await db.command({
      explain: { find: "events", filter: { _id: { $type: "objectId" } } },
    });
    expect(JSON.stringify(explained.queryPlanner)).toMatch(/->> 't'::text\) = ANY \('\{objectId,array\}'/);
  });
});
