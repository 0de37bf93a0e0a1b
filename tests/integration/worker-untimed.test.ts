/**
 * Issue 13, item 1: documents whose timestamp is missing, null, a string or a number are
 * quarantined whenever they arrive, not only on a device's first pass, and each only once.
 */
import { Long, ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS } from "../../pipeline/ingest/windows.js";
import { type IngestWorld, openIngestWorld } from "../support/ingest-world.js";

const t0 = new Date(Date.UTC(2024, 0, 1));
const at = (days: number, ms = 0) => new Date(t0.getTime() + days * DAY_MS + ms);
let world: IngestWorld;

beforeAll(async () => {
  world = await openIngestWorld("untimed");
});

afterAll(async () => {
  await world?.close();
});

const event = (idDevice: number, timestamp: unknown) => ({
  _id: new ObjectId(),
  idDevice,
  ...(timestamp === undefined ? {} : { timestamp }),
  type: "door",
  source: "hmi",
});

async function quarantined(runId: string) {
  return world.sql<{ document_id: string; reason: string; object_key: string; id_device: string }>(
    "SELECT document_id, reason, object_key, id_device FROM quarantine WHERE run_id = $1 ORDER BY document_id",
    [runId],
  );
}

describe("untimed documents arriving after a device's first pass", () => {
  it("are quarantined by the next run, with their reason, and never counted again", async () => {
    const events = world.source.collection("events");
    const device = (lastLogDate: Date) => [{ idDevice: 31, lastLogDate }];
    await events.insertOne(event(31, at(0, 1000)));
    const first = await world.work("events", device(at(1)), "late-1", { windowMs: DAY_MS });
    expect(first).toMatchObject({ documentsRead: 1, documentsQuarantined: 0, complete: true });

    // After the first pass: a dated document, and four no window can select.
    const late = [
      event(31, undefined),
      event(31, null),
      event(31, "2024-01-02T10:00:00Z"),
      event(31, 1_704_189_600_000),
    ];
    await events.insertMany([event(31, at(1, 5000)), ...late]);
    const second = await world.work("events", device(at(2)), "late-2", { windowMs: DAY_MS });
    expect(second).toMatchObject({
      documentsRead: 5,
      rowsWritten: 1,
      documentsQuarantined: 4,
      complete: true,
    });
    const rows = await quarantined("late-2");
    expect(rows.map((r) => r.document_id)).toEqual(late.map((d) => d._id.toHexString()).sort());
    expect(rows.map((r) => r.reason.replace(/document \w+ /, "")).sort()).toEqual([
      "events cannot be windowed: timestamp is a number, not a date",
      "events cannot be windowed: timestamp is a string, not a date",
      "events cannot be windowed: timestamp is missing",
      "events cannot be windowed: timestamp is null",
    ]);
    for (const r of rows) {
      expect(Number(r.id_device)).toBe(31);
      const copy = JSON.parse((await world.store.get(r.object_key)).toString());
      expect(copy).toMatchObject({ collection: "events", idDevice: 31, reason: r.reason });
      expect(copy.document._id).toEqual({ $oid: r.document_id });
    }
    const [metric] = await world.sql<{ documents_read: number; documents_quarantined: number }>(
      "SELECT documents_read, documents_quarantined FROM metric WHERE run_id = 'late-2'",
    );
    expect(metric).toEqual({ documents_read: 5, documents_quarantined: 4 });

    // The next run sees the same four again: they are not copied, recorded or counted twice;
    // only a new one is.
    const newer = event(31, Long.fromNumber(7));
    await events.insertMany([event(31, at(2, 5000)), newer]);
    const third = await world.work("events", device(at(3)), "late-3", { windowMs: DAY_MS });
    expect(third).toMatchObject({ documentsRead: 2, rowsWritten: 1, documentsQuarantined: 1 });
    expect((await quarantined("late-3")).map((r) => r.document_id)).toEqual([newer._id.toHexString()]);
    const [{ n }] = (await world.sql<{ n: string }>(
      "SELECT count(*) AS n FROM quarantine WHERE collection = 'events' AND id_device = 31",
    )) as [{ n: string }];
    expect(Number(n)).toBe(5);
  });

  it("are found for a collection with another timestamp field (alarm's activeTS)", async () => {
    const alarms = world.source.collection("alarm");
    const ok = { _id: new ObjectId(), idDevice: 32, code: 1, class: "error", activeTS: at(0, 1000) };
    await alarms.insertOne(ok);
    await world.work("alarm", [{ idDevice: 32, lastLogDate: at(1) }], "alarm-1", { windowMs: DAY_MS });
    const bad = { ...ok, _id: new ObjectId(), activeTS: "yesterday" };
    await alarms.insertOne(bad);
    const next = await world.work("alarm", [{ idDevice: 32, lastLogDate: at(2) }], "alarm-2", {
      windowMs: DAY_MS,
    });
    expect(next).toMatchObject({ documentsRead: 1, documentsQuarantined: 1 });
    expect((await quarantined("alarm-2")).map((r) => r.reason)).toEqual([
      `alarm document ${bad._id.toHexString()} cannot be windowed: activeTS is a string, not a date`,
    ]);
  });
});
