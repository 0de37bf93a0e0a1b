/**
 * Issue 13, item 7: a document whose `idDevice` is an array matches the window of every device
 * it names; it is quarantined once, whichever device's window (or run) meets it first, and the
 * summary's sweep does not take it again.
 */
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quarantineOrphans } from "../../pipeline/ingest/orphans.js";
import { DAY_MS } from "../../pipeline/ingest/windows.js";
import { type IngestWorld, openIngestWorld } from "../support/ingest-world.js";

const t0 = new Date(Date.UTC(2024, 0, 1));
const at = (days: number, ms = 0) => new Date(t0.getTime() + days * DAY_MS + ms);
let world: IngestWorld;

beforeAll(async () => {
  world = await openIngestWorld("arrdev");
});

afterAll(async () => {
  await world?.close();
});

const event = (idDevice: unknown, ms: number) => ({
  _id: new ObjectId(),
  idDevice,
  timestamp: at(0, ms),
  type: "door",
  source: "hmi",
});

async function rowsOf(documentId: string) {
  return world.sql<{ run_id: string; id_device: string | null; reason: string; object_key: string }>(
    "SELECT run_id, id_device, reason, object_key FROM quarantine WHERE document_id = $1",
    [documentId],
  );
}

describe("a document naming several devices", () => {
  it("is quarantined once when the devices run together in one batch", async () => {
    const both = event([61, 62], 1000);
    const withUnknown = event([99_999, 63], 2000);
    await world.source
      .collection("events")
      .insertMany([event(61, 500), event(62, 600), event(63, 700), both, withUnknown]);
    const devices = [61, 62, 63].map((idDevice) => ({ idDevice, lastLogDate: at(1) }));
    const result = await world.work("events", devices, "arr-1", { windowMs: DAY_MS });
    expect(result).toMatchObject({
      rowsWritten: 3,
      documentsQuarantined: 2,
      documentsRead: 5,
      complete: true,
    });

    for (const doc of [both, withUnknown]) {
      const rows = await rowsOf(doc._id.toHexString());
      expect(rows).toHaveLength(1);
      expect(rows[0]?.id_device).toBeNull();
      expect(rows[0]?.reason).toMatch(/names several devices: idDevice is an array/);
      const copy = JSON.parse((await world.store.get(rows[0]?.object_key ?? "")).toString());
      expect(copy.document.idDevice).toEqual(doc.idDevice);
    }
    expect(await world.rawRows("events")).toHaveLength(3);

    // The summary's sweep (devices 61 to 63 known) does not take them again.
    const swept = await quarantineOrphans(
      { source: world.source, store: world.store, state: world.state },
      { runId: "arr-sweep", planId: null, collections: ["events"], devices: [61, 62, 63] },
    );
    expect(Object.fromEntries(swept)).toEqual({ events: 0 });
  });

  it("is quarantined once when the devices run apart, in separate runs", async () => {
    const shared = event([71, 72], 1000);
    await world.source.collection("events").insertMany([shared, event(71, 10), event(72, 20)]);
    const first = await world.work("events", [{ idDevice: 71, lastLogDate: at(1) }], "arr-71", {
      windowMs: DAY_MS,
    });
    const second = await world.work("events", [{ idDevice: 72, lastLogDate: at(1) }], "arr-72", {
      windowMs: DAY_MS,
    });
    expect([first.documentsQuarantined, second.documentsQuarantined]).toEqual([1, 0]);
    // Not this device's to count: the second run neither reads nor quarantines it.
    expect(second).toMatchObject({ documentsRead: 1, rowsWritten: 1 });
    expect((await rowsOf(shared._id.toHexString())).map((r) => r.run_id)).toEqual(["arr-71"]);
  });
});
