/**
 * The local stack's FerretDB patch (tools/ferretdb/patches/pushdown.patch), over the MongoDB
 * protocol against the real FerretDB: date bounds (`$gt`, `$gte`, `$lt`, `$lte`) and their `$not`
 * (a window's query, the untimed query), ObjectId bounds (reconcile's documents inserted since its
 * watermark), `$nin` of numbers (the orphan sweep) and a sort of ObjectIds (reconcile's newest one)
 * go down to PostgreSQL. A pushed-down filter may only narrow what FerretDB then filters itself,
 * so every answer is compared with the same filter under a top-level `$and`, which FerretDB 1.24
 * never pushes down, and each pushdown is checked in PostgreSQL's plan (FerretDB's explain).
 */
import { randomUUID } from "node:crypto";
import { type Db, type Document, Double, type Filter, Long, MongoClient, ObjectId, Timestamp } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalConfig } from "../../local/config.js";
import { orphanFilter } from "../../pipeline/ingest/orphans.js";
import { newestObjectId } from "../../pipeline/reconcile/changes.js";

const config = loadLocalConfig();

/**
 * A database of its own for a describe block, dropped after it: `db()` once its hooks ran,
 * `labels(filter)` the sorted labels a find on `collection` answers, `plan(filter)` PostgreSQL's
 * plan for it.
 */
function scratchDatabase(prefix: string, collection: string) {
  let client: MongoClient;
  let database: Db;
  beforeAll(async () => {
    client = new MongoClient(config.MONGODB_URL);
    await client.connect();
    database = client.db(`${prefix}_${randomUUID().slice(0, 8)}`);
  });
  afterAll(async () => {
    await database.dropDatabase();
    await client.close();
  });
  const db = () => database;
  return {
    db,
    labels: async (filter: Filter<Document>) =>
      (await db().collection(collection).find(filter).toArray()).map((d) => d.label as string).sort(),
    plan: async (filter: Filter<Document>) =>
      JSON.stringify((await db().command({ explain: { find: collection, filter } })).queryPlanner),
  };
}

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
  const { db, labels, plan: pushedDown } = scratchDatabase("date_pushdown", "logs");

  beforeAll(async () => {
    await db()
      .collection("logs")
      .insertMany(documents.flatMap((d) => [1, 2].map((idDevice) => ({ ...d, idDevice }))));
    await db().collection("logs").createIndex({ idDevice: 1, ts: 1 });
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
    const ids = db().collection("ids");
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
      (await db().command({ explain: { find: "ids", filter: { _id: { $gte: late } } } })).queryPlanner,
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
  const { db, plan } = scratchDatabase("oid_sort", "events");

  it("finds the newest ObjectId among strings, numbers and documents that sort after it as text", async () => {
    const coll = db().collection("events");
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
    expect(await newestObjectId(db(), entry)).toBe(newest.toHexString());
    const oldest = await coll
      .find({ _id: { $type: "objectId" } }, { projection: { _id: 1 }, sort: { _id: 1 }, limit: 2 })
      .toArray();
    expect(oldest.map((d) => (d._id as ObjectId).getTimestamp().getTime() / 1000)).toEqual([
      1_600_000_000, 1_700_000_000,
    ]);
    // The type goes down by the schema FerretDB stores beside each document.
    expect(await plan({ _id: { $type: "objectId" } })).toMatch(
      /->> 't'::text\) = ANY \('\{objectId,array\}'/,
    );
  });
});

/** Every kind of `idDevice` a document may carry; `label` names it in the answers. */
const idDevices: Document[] = [
  { label: "known", idDevice: 1001 },
  { label: "known-double", idDevice: new Double(1002) },
  { label: "known-long", idDevice: Long.fromNumber(1001) },
  { label: "unknown", idDevice: 4242 },
  { label: "fraction", idDevice: 1001.5 },
  { label: "beyond-2^53", idDevice: Long.fromString("9007199254740993") },
  { label: "missing" },
  { label: "null", idDevice: null },
  { label: "string", idDevice: "1001" },
  { label: "array-known", idDevice: [1001] },
  { label: "array-unknown", idDevice: [4242] },
  { label: "array-mixed", idDevice: [4242, 1002] },
  { label: "object", idDevice: { id: 1001 } },
];

describe("FerretDB pushes $nin of numbers down to PostgreSQL", () => {
  const { db, labels, plan } = scratchDatabase("nin_pushdown", "logs");

  beforeAll(async () => {
    await db()
      .collection("logs")
      .insertMany(idDevices.map((d) => ({ ...d })));
  });

  it("answers the orphan sweep's filter as MongoDB does, for every kind of value", async () => {
    const filter = orphanFilter([1001, 1002, 1003]);
    const expected = [
      "array-unknown",
      "beyond-2^53",
      "fraction",
      "missing",
      "null",
      "object",
      "string",
      "unknown",
    ];
    expect(await labels(filter)).toEqual(expected);
    expect(await labels({ $and: [filter] })).toEqual(expected);
    expect(await plan(filter)).toContain("NOT (hashed SubPlan");
  });

  it("treats a long list as a hash lookup, not a scan of the list per row", async () => {
    const known = Array.from({ length: 5000 }, (_, i) => 1001 + i * 2);
    expect(await labels(orphanFilter(known))).toEqual(await labels({ $and: [orphanFilter(known)] }));
    expect(await plan(orphanFilter(known))).toContain("hashed SubPlan");
  });

  it("pushes down nothing for a list that holds more than numbers, and still answers right", async () => {
    const filter = { idDevice: { $nin: [1001, null] } };
    expect(await plan(filter)).not.toContain("SubPlan");
    expect(await labels(filter)).toEqual([
      "array-mixed",
      "array-unknown",
      "beyond-2^53",
      "fraction",
      "known-double",
      "object",
      "string",
      "unknown",
    ]);
  });
});
