/**
 * Issue 13, item 2: the summary's orphan sweep catches documents whose `idDevice` is a number
 * but no `ddc` device (an unregistered id, a fraction, an int64 beyond 2^53), besides those
 * without a usable one, each once. Real FerretDB and support database.
 */
import { Long } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quarantineOrphans } from "../../pipeline/ingest/orphans.js";
import { type IngestWorld, openIngestWorld } from "../support/ingest-world.js";

let world: IngestWorld;

beforeAll(async () => {
  world = await openIngestWorld("orphnum");
});

afterAll(async () => {
  await world?.close();
});

const at = new Date(Date.UTC(2024, 0, 1));
const doc = (id: string, idDevice?: unknown) => ({
  _id: id,
  ...(idDevice === undefined ? {} : { idDevice }),
  timestamp: at,
  type: "door",
  source: "hmi",
});

describe("quarantineOrphans with the ddc devices", () => {
  it("quarantines every document of no known device, numbers included, once", async () => {
    await world.source
      .collection<{ _id: string }>("events")
      .insertMany([
        doc("known", 5),
        doc("known-long", Long.fromNumber(5)),
        doc("unregistered", 99_999),
        doc("fraction", 2.5),
        doc("beyond-2-53", Long.fromString("9007199254740993")),
        doc("negative", -5),
        doc("string", "5"),
        doc("null", null),
        doc("missing"),
        doc("array-of-unknown", [77, 78]),
        doc("array-with-known", [5, 77]),
      ]);
    const sweep = (runId: string) =>
      quarantineOrphans(
        { source: world.source, store: world.store, state: world.state },
        { runId, planId: null, collections: ["events"], devices: [5, 6] },
      );
    const found = await sweep("orphans-1");
    expect(Object.fromEntries(found)).toEqual({ events: 8 });

    const rows = await world.sql<{
      document_id: string;
      reason: string;
      object_key: string;
      id_device: null;
    }>(
      "SELECT document_id, reason, object_key, id_device FROM quarantine WHERE run_id = 'orphans-1' ORDER BY document_id",
    );
    const reasons = Object.fromEntries(rows.map((r) => [r.document_id, r.reason]));
    expect(Object.keys(reasons)).toEqual([
      "array-of-unknown",
      "beyond-2-53",
      "fraction",
      "missing",
      "negative",
      "null",
      "string",
      "unregistered",
    ]);
    expect(rows).toHaveLength(8);
    expect(rows.every((r) => r.id_device === null)).toBe(true);
    expect(reasons.unregistered).toBe(
      "events document unregistered names no device: idDevice 99999 is not a ddc device",
    );
    expect(reasons.fraction).toMatch(/idDevice 2\.5 is not a whole number/);
    expect(reasons["beyond-2-53"]).toMatch(/idDevice 9007199254740993 is beyond 2\^53/);
    expect(reasons.negative).toMatch(/idDevice -5 is not a ddc device/);
    expect(reasons.string).toBe('events document string names no device: idDevice is a string ("5")');
    expect(reasons.missing).toBe("events document missing names no device: idDevice is missing");
    expect(reasons["array-of-unknown"]).toMatch(/idDevice is an array \(\[77,78\]\)/);

    // The copy keeps the int64 whole (item 6).
    const big = rows.find((r) => r.document_id === "beyond-2-53");
    const copy = JSON.parse((await world.store.get(big?.object_key ?? "")).toString());
    expect(copy.document.idDevice).toEqual({ $numberLong: "9007199254740993" });

    const [metric] = await world.sql<{ documents_read: number; documents_quarantined: number }>(
      "SELECT documents_read, documents_quarantined FROM metric WHERE run_id = 'orphans-1'",
    );
    expect(metric).toEqual({ documents_read: 8, documents_quarantined: 8 });

    // Swept again: nothing new, nothing counted.
    expect(Object.fromEntries(await sweep("orphans-2"))).toEqual({ events: 0 });
    const [{ n }] = (await world.sql<{ n: string }>("SELECT count(*) AS n FROM quarantine")) as [
      { n: string },
    ];
    expect(Number(n)).toBe(8);
  });
});
