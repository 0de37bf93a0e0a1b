/**
 * Issue 13, item 3: a `variable_logs` slot whose `day` is off the 6-hour grid is aligned to the
 * lake's 30 s instants and merged with the other slots' readings of the same instants, so no
 * reading is lost and no instant has two rows; a slot that cannot be merged without losing a
 * reading (off the 30 s grid, readings past the window, a different value at a filled instant)
 * is quarantined whole, with a reason naming its day.
 */
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VariableLogSlot } from "../../pipeline/schema/collections.js";
import { type IngestWorld, openIngestWorld } from "../support/ingest-world.js";

const HOUR = 3_600_000;
const STEP = 30_000;
const DAY = 24 * HOUR;
const t0 = Date.UTC(2024, 0, 1);
let world: IngestWorld;

beforeAll(async () => {
  world = await openIngestWorld("slotgrid");
});

afterAll(async () => {
  await world?.close();
});

type Variable = VariableLogSlot["variable"];
const values = (f: (i: number) => number | null) => Array.from({ length: 120 }, (_, i) => f(i));
const slot = (
  idDevice: number,
  variable: Variable,
  dayMs: number,
  samples: { hour: number; values: (number | null)[] }[],
) => ({
  _id: new ObjectId(),
  idDevice,
  variable,
  day: new Date(t0 + dayMs),
  samples,
});
const hours = (list: number[], f: (hour: number, i: number) => number | null) =>
  list.map((hour) => ({ hour, values: values((i) => f(hour, i)) }));

describe("variable_logs slots off the 6-hour grid", () => {
  it("are merged into the grid's rows: one row per instant, every reading at its instant", async () => {
    const all = [0, 1, 2, 3, 4, 5];
    const merged = [
      slot(
        51,
        "temp_chamber",
        0,
        hours(all, (h, i) => 100 + h + i / 1000),
      ),
      // Off the grid by 3 h: its first three hours share instants with the slot above, its last
      // three with the next one.
      slot(
        51,
        "humidity",
        3 * HOUR,
        hours(all, (h, i) => (i % 2 ? null : 50 + h + i / 1000)),
      ),
      slot(
        51,
        "temp_chamber",
        6 * HOUR,
        hours(all, (h, i) => 200 + h + i / 1000),
      ),
      // The same variable and slot again, with the same readings: nothing to lose.
      slot(
        51,
        "temp_chamber",
        0,
        hours([0], (h, i) => 100 + h + i / 1000),
      ),
      slot(
        51,
        "humidity_set",
        12 * HOUR,
        hours([1], () => 60),
      ),
      // Off the grid by 30 min, ending before the window does.
      slot(
        51,
        "fan_speed",
        18 * HOUR + 30 * 60_000,
        hours([0, 4], (h, i) => h * 1000 + i),
      ),
    ];
    await world.source.collection("variable_logs").insertMany(merged);
    const result = await world.work(
      "variable_logs",
      [{ idDevice: 51, lastLogDate: new Date(t0 + DAY) }],
      "grid-1",
      {
        windowMs: DAY,
      },
    );
    expect(result).toMatchObject({ documentsRead: merged.length, documentsQuarantined: 0, complete: true });

    const rows = (await world.rawRows("variable_logs")).filter((r) => Number(r.id_device) === 51);
    const times = rows.map((r) => (r.time as Date).getTime());
    expect(new Set(times).size).toBe(times.length);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(Math.max(...times)).toBeLessThan(t0 + DAY);

    const byTime = new Map(rows.map((r) => [(r.time as Date).getTime(), r]));
    const readings = new Set<string>();
    for (const s of merged) {
      for (const sample of s.samples) {
        sample.values.forEach((v, i) => {
          if (v === null) return;
          const at = s.day.getTime() + sample.hour * HOUR + i * STEP;
          readings.add(`${s.variable}@${at}`);
          expect(byTime.get(at)?.[s.variable]).toBe(v);
        });
      }
    }
    const cells = rows.flatMap((r) =>
      Object.keys(r)
        .filter((k) => k !== "id_device" && k !== "time" && r[k] !== null)
        .map((k) => `${k}@${(r.time as Date).getTime()}`),
    );
    expect(cells.sort()).toEqual([...readings].sort());
  });

  it("are quarantined whole, with a reason naming the day, when merging would lose a reading", async () => {
    const ok = slot(
      52,
      "temp_chamber",
      0,
      hours([0], (_, i) => 100 + i),
    );
    const refused = [
      {
        doc: slot(
          52,
          "fan_speed",
          HOUR + 15_000,
          hours([0], () => 1),
        ),
        day: "2024-01-01T01:00:15.000Z",
      },
      {
        doc: slot(
          52,
          "temp_set",
          21 * HOUR,
          hours([3], () => 180),
        ),
        day: "2024-01-01T21:00:00.000Z",
      },
      {
        doc: slot(
          52,
          "temp_chamber",
          0,
          hours([0], (_, i) => (i === 0 ? 999 : null)),
        ),
        day: "2024-01-01T00:00:00.000Z",
      },
    ];
    await world.source.collection("variable_logs").insertMany([ok, ...refused.map((r) => r.doc)]);
    const result = await world.work(
      "variable_logs",
      [{ idDevice: 52, lastLogDate: new Date(t0 + DAY) }],
      "grid-2",
      {
        windowMs: DAY,
      },
    );
    expect(result).toMatchObject({ documentsRead: 4, documentsQuarantined: 3, complete: true });
    const rows = (await world.rawRows("variable_logs")).filter((r) => Number(r.id_device) === 52);
    // The accepted slot's readings, each once and as sent: the refused ones left no trace.
    expect(
      rows.map((r) => [(r.time as Date).getTime() - t0, r.temp_chamber, r.fan_speed, r.temp_set]),
    ).toEqual(Array.from({ length: 120 }, (_, i) => [i * STEP, 100 + i, null, null]));

    const quarantine = await world.sql<{ document_id: string; reason: string; object_key: string }>(
      "SELECT document_id, reason, object_key FROM quarantine WHERE run_id = 'grid-2'",
    );
    const reasons = new Map(quarantine.map((q) => [q.document_id, q.reason]));
    expect(reasons.size).toBe(refused.length);
    for (const { doc, day } of refused) {
      expect(reasons.get(doc._id.toHexString())).toContain(`day: slot ${day}`);
    }
    expect(reasons.get(refused[0]?.doc._id.toHexString() ?? "")).toMatch(/not on the 30 s grid/);
    expect(reasons.get(refused[1]?.doc._id.toHexString() ?? "")).toMatch(/past the window end/);
    expect(reasons.get(refused[2]?.doc._id.toHexString() ?? "")).toMatch(
      /temp_chamber at 2024-01-01T00:00:00\.000Z is 999 here and 100 in another slot/,
    );
    for (const q of quarantine) {
      const copy = JSON.parse((await world.store.get(q.object_key)).toString());
      expect(copy.document._id).toEqual({ $oid: q.document_id });
    }
  });
});
