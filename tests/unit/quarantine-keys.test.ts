/**
 * Issue 13, item 5: quarantine object keys are injective in the document id (two documents never
 * share a copy), deterministic (a repeated pass rewrites its own copy), and safe as key segments.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Binary, Long, ObjectId } from "bson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orphanQuarantineKey, quarantineKey, untimedQuarantineKey } from "../../pipeline/ingest/keys.js";
import { quarantineDocument } from "../../pipeline/ingest/quarantine.js";
import { LocalObjectStore } from "../../pipeline/lake/local-store.js";

const w = { from: new Date(Date.UTC(2024, 0, 1)), to: new Date(Date.UTC(2024, 0, 2)) };
const keyOf = (id: unknown) => quarantineKey("alarm", 1042, w, id);
/** The document's part of a key: after the window folder, before `.json`. */
const segment = (key: string) =>
  key.slice("_quarantine/alarm/idDevice=1042/1704067200000/".length, -".json".length);

let dir: string;
let store: LocalObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "qkeys-"));
  store = new LocalObjectStore(dir);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe("quarantine keys", () => {
  it.each([
    ["café", "cafè"],
    ["Überhitzung", "überhitzung"],
    ["温度", "湿度"],
    ["a b", "a_b"],
    ["a/b", "a_b"],
    ["a.b", "a_b"],
    [`${"x".repeat(200)}a`, `${"x".repeat(200)}b`],
    ["%41", "A"],
    ["~", "%7E"],
  ])("gives %j and %j different keys", (a, b) => {
    expect(keyOf(a)).not.toBe(keyOf(b));
    expect(untimedQuarantineKey("alarm", 1, a)).not.toBe(untimedQuarantineKey("alarm", 1, b));
    expect(orphanQuarantineKey("alarm", a)).not.toBe(orphanQuarantineKey("alarm", b));
  });

  it("tells ids of different types apart: an ObjectId, its hex as a string, a number and its text", () => {
    const oid = new ObjectId("65f0c0ffee0123456789abcd");
    const keys = [
      oid,
      "65f0c0ffee0123456789abcd",
      5,
      "5",
      Long.fromNumber(5),
      5.5,
      "5.5",
      null,
      true,
      "true",
    ].map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
    // An ObjectId keeps the key it always had: its hex.
    expect(segment(keyOf(oid))).toBe("65f0c0ffee0123456789abcd");
  });

  it("keeps RFC 3986 unreserved characters, percent-encodes the rest, and stays short", () => {
    expect(segment(keyOf("../../x y"))).toBe("..%2F..%2Fx%20y");
    expect(segment(keyOf("café"))).toBe("caf%C3%A9");
    for (const id of ["é".repeat(500), "x".repeat(5000), new Binary(Buffer.alloc(300, 7))]) {
      const seg = segment(keyOf(id));
      expect(seg.length).toBeLessThanOrEqual(160);
      expect(seg).toMatch(/^[A-Za-z0-9._~%-]+$/);
      expect(keyOf(id)).toBe(keyOf(id));
    }
  });

  it("is injective over many random ids, and deterministic", () => {
    const alphabet = ["a", "b", "_", "-", ".", "~", "%", "/", " ", "é", "è", "ü", "温", "🔥", "\u0000", "+"];
    let seed = 42;
    const next = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed >>> 8;
    };
    const ids = new Set<string>();
    while (ids.size < 5000) {
      const length = 1 + (next() % 150);
      ids.add(Array.from({ length }, () => alphabet[next() % alphabet.length]).join(""));
    }
    const keys = new Map<string, string>();
    for (const id of ids) {
      const key = keyOf(id);
      expect(keys.get(key) ?? id).toBe(id);
      keys.set(key, id);
      expect(keyOf(id)).toBe(key);
    }
    expect(keys.size).toBe(ids.size);
  });

  it("keeps two documents whose ids differ only in non-ASCII characters as two copies", async () => {
    const site = { idDevice: 1042, window: w };
    const a = { _id: "Überhitzung", idDevice: 1042, code: "x" };
    const b = { _id: "überhitzung", idDevice: 1042, code: "y" };
    const ra = await quarantineDocument(store, a, { collection: "alarm", site, reason: "a", ordinal: 0 });
    const rb = await quarantineDocument(store, b, { collection: "alarm", site, reason: "b", ordinal: 1 });
    expect(ra.objectKey).not.toBe(rb.objectKey);
    expect(JSON.parse((await store.get(ra.objectKey)).toString()).document).toEqual(a);
    expect(JSON.parse((await store.get(rb.objectKey)).toString()).document).toEqual(b);
  });
});
