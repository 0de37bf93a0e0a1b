/**
 * The local stack's FerretDB patch (tools/ferretdb/patches/pushdown.patch): `$nin` of numbers,
 * the orphan sweep's filter (pipeline/ingest/orphans.ts), goes down to PostgreSQL, so the sweep
 * no longer has FerretDB decode every document of a collection. The pushed-down filter may only
 * narrow what FerretDB then filters itself, so every answer is compared with the same filter under
 * a top-level `$and`, which FerretDB 1.24 never pushes down. Real FerretDB, over the MongoDB protocol.
 */
import { randomUUID } from "node:crypto";
import { type Db, type Document, Double, type Filter, Long, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalConfig } from "../../local/config.js";
import { orphanFilter } from "../../pipeline/ingest/orphans.js";

const config = loadLocalConfig();

/** Every kind of `idDevice` a document may carry; `label` names it in the answers. */
const documents: Document[] = [
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
  let client: MongoClient;
  let db: Db;
  const database = `nin_pushdown_${randomUUID().slice(0, 8)}`;

  const labels = async (filter: Filter<Document>) =>
    (await db.collection("logs").find(filter).toArray()).map((d) => d.label as string).sort();

  /** PostgreSQL's plan for a find, from FerretDB's explain. */
  async function plan(filter: Filter<Document>): Promise<string> {
    const explained = await db.command({ explain: { find: "logs", filter } });
    return JSON.stringify(explained.queryPlanner);
  }

  beforeAll(async () => {
    client = new MongoClient(config.MONGODB_URL);
    await client.connect();
    db = client.db(database);
    await db.collection("logs").insertMany(documents.map((d) => ({ ...d })));
  });

  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
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
