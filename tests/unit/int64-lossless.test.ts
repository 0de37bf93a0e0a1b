/**
 * Issue 13, item 6: int64 values beyond 2^53 keep every digit in the `payload` JSON and in
 * quarantine copies: written as canonical extended JSON (`{"$numberLong": "..."}`); every other
 * value is written as before (relaxed extended JSON: plain numbers where they are exact).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Decimal128, EJSON, Long, ObjectId } from "bson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DocumentValidationError } from "../../pipeline/errors.js";
import { quarantineDocument } from "../../pipeline/ingest/quarantine.js";
import { LocalObjectStore } from "../../pipeline/lake/local-store.js";
import { collection, toLakeRow } from "../../pipeline/schema/index.js";

const BEYOND = "9007199254740993"; // 2^53 + 1: a double would make it ...992
const event = (extra: Record<string, unknown>) => ({
  _id: new ObjectId(),
  idDevice: 1,
  timestamp: new Date(Date.UTC(2024, 0, 1)),
  type: "door",
  source: "hmi",
  ...extra,
});

let dir: string;
let store: LocalObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "int64-"));
  store = new LocalObjectStore(dir);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe("payload JSON", () => {
  it("keeps an int64 beyond 2^53 whole, at any depth; exact numbers stay plain", () => {
    const { row } = toLakeRow(
      collection("events"),
      event({
        counter: Long.fromString(BEYOND),
        nested: { list: [Long.fromString(`-${BEYOND}`), Long.fromNumber(42)] },
        small: Long.fromNumber(7),
        max: Long.MAX_VALUE,
        safe: Long.fromNumber(Number.MAX_SAFE_INTEGER),
        price: Decimal128.fromString("12345678901234567890.5"),
      }),
    );
    const payload = row.payload as string;
    expect(JSON.parse(payload)).toEqual({
      counter: { $numberLong: BEYOND },
      nested: { list: [{ $numberLong: `-${BEYOND}` }, 42] },
      small: 7,
      max: { $numberLong: "9223372036854775807" },
      safe: Number.MAX_SAFE_INTEGER,
      price: { $numberDecimal: "12345678901234567890.5" },
    });
    // Read back as extended JSON, the values are the source's.
    const back = EJSON.parse(payload, { relaxed: false }) as { counter: Long };
    expect(back.counter.toString()).toBe(BEYOND);
  });

  it("keeps int64 beyond 2^53 whole in a quarantine copy", async () => {
    const doc = event({ counter: Long.fromString(BEYOND), idDevice: Long.fromString(BEYOND) });
    // The id column refuses the device id: it must not be rounded into a valid one.
    expect(() => toLakeRow(collection("events"), doc)).toThrow(DocumentValidationError);
    const record = await quarantineDocument(store, doc, {
      collection: "events",
      site: { orphan: true },
      reason: "test",
      ordinal: 0,
    });
    const text = (await store.get(record.objectKey)).toString();
    expect(JSON.parse(text).document).toMatchObject({
      counter: { $numberLong: BEYOND },
      idDevice: { $numberLong: BEYOND },
    });
    expect(text).not.toContain("9007199254740992");
  });
});
