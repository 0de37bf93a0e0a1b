/**
 * The snapshot generator in memory (no network): same seed, same data; another seed, other data;
 * every row and document satisfies its lake schema once the deliberate extra fields are removed;
 * the completeness marks agree with the documents.
 */
import { EJSON } from "bson";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { objectIdFor } from "../../local/snapshot/documents.js";
import {
  dataHorizon,
  deviceDocuments,
  EXTRA_FIELDS,
  loadRange,
  planDeviceChanges,
  planDocuments,
  planSnapshot,
  type SnapshotPlan,
  SOURCE_COLLECTIONS,
  SOURCE_TIMESTAMP_FIELD,
  type SourceCollection,
  type SourceDocuments,
} from "../../local/snapshot/index.js";
import { Rng } from "../../local/snapshot/random.js";
import { daySchedule } from "../../local/snapshot/schedule.js";
import { DAY_MS, dayOf, HOUR_MS, within } from "../../local/snapshot/time.js";
import { VariableLogSlotSchema } from "../../pipeline/schema/collections.js";
import { collections, tables } from "../../pipeline/schema/registry.js";

const SMALL = { seed: 7, devices: 12, days: 6 } as const;
const plan = planSnapshot(SMALL);
const cache = new WeakMap<SnapshotPlan, Map<SourceCollection, unknown[]>>();
/** A plan's documents of one collection, generated once per plan. */
function docsOf<K extends SourceCollection>(p: SnapshotPlan, c: K): SourceDocuments[K][] {
  const byCollection = cache.get(p) ?? new Map<SourceCollection, unknown[]>();
  cache.set(p, byCollection);
  if (!byCollection.has(c)) byCollection.set(c, [...planDocuments(p, c)]);
  return byCollection.get(c) as SourceDocuments[K][];
}
const digest = (value: unknown) => EJSON.stringify(value, { relaxed: false });
const timeOf = (c: SourceCollection, doc: object) =>
  ((doc as Record<string, unknown>)[SOURCE_TIMESTAMP_FIELD[c]] as Date).getTime();

/** The source schema of a collection: the registry's, or the slot schema for variable_logs. */
function sourceSchema(c: SourceCollection): z.ZodObject {
  if (c === "variable_logs") return VariableLogSlotSchema;
  const entry = collections.find((e) => e.name === c);
  if (!entry) throw new Error(`no registry entry for ${c}`);
  return entry.schema;
}

function withoutExtras(doc: object): Record<string, unknown> {
  const out = { ...(doc as Record<string, unknown>) };
  for (const key of EXTRA_FIELDS) delete out[key];
  return out;
}

/** Every key of a document, nested ones included. */
function keysOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) keysOf(v, out);
  else if (value && typeof value === "object" && !(value instanceof Date) && !("_bsontype" in value)) {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      keysOf(v, out);
    }
  }
  return out;
}

describe("determinism", () => {
  it("plans the same rows and documents for the same seed", () => {
    const again = planSnapshot(SMALL);
    expect(digest(again.rows)).toBe(digest(plan.rows));
    for (const c of SOURCE_COLLECTIONS) {
      expect(digest([...planDocuments(again, c)]), c).toBe(digest(docsOf(plan, c)));
    }
  });

  it("plans different data for another seed", () => {
    const other = planSnapshot({ ...SMALL, seed: 8 });
    expect(digest(other.rows.device)).not.toBe(digest(plan.rows.device));
    for (const c of ["events", "alarm", "variable_logs", "end_of_prog"] as const) {
      expect(digest(docsOf(other, c)), c).not.toBe(digest(docsOf(plan, c)));
    }
  });

  it("generates a day the same way whatever range it is part of (load vs advance)", () => {
    const device = plan.fleet.devices.find((d) => loadRange(plan, d) !== null);
    const range = device && loadRange(plan, device);
    if (!range) throw new Error("no reporting device");
    const whole = [...deviceDocuments("events", range)];
    const lastDay = Math.max(range.from, range.to - DAY_MS);
    const tail = [...deviceDocuments("events", { ...range, from: lastDay })];
    expect(digest(whole.filter((d) => d.timestamp.getTime() >= lastDay))).toBe(digest(tail));
  });
});

describe("schemas", () => {
  it("lists the registry's collections and their timestamp fields", () => {
    expect([...SOURCE_COLLECTIONS].sort()).toEqual(collections.map((c) => c.name).sort());
    for (const entry of collections) {
      const expected = entry.name === "variable_logs" ? "day" : entry.timestampField;
      expect(SOURCE_TIMESTAMP_FIELD[entry.name as SourceCollection], entry.name).toBe(expected);
    }
  });

  it.each(tables.map((t) => [t.name, t] as const))(
    "every %s row parses with its strict table schema",
    (name, entry) => {
      const rows = plan.rows[name as keyof typeof plan.rows];
      expect(rows.length, name).toBeGreaterThan(0);
      const strict = z.strictObject(entry.schema.shape);
      for (const row of rows) {
        const result = strict.safeParse(row);
        expect(result.success, `${name} ${JSON.stringify(row)}: ${result.error?.message}`).toBe(true);
      }
    },
  );

  it.each([...SOURCE_COLLECTIONS])(
    "every %s document parses with its strict schema once extras are removed",
    (c) => {
      const docs = docsOf(plan, c);
      expect(docs.length, c).toBeGreaterThan(0);
      const strict = z.strictObject(sourceSchema(c).shape);
      for (const doc of docs) {
        const result = strict.safeParse(withoutExtras(doc));
        expect(result.success, `${c} ${doc._id.toHexString()}: ${result.error?.message}`).toBe(true);
      }
    },
  );

  it("adds extra fields to about 2 % of documents, with keys FerretDB accepts", () => {
    let total = 0;
    let extra = 0;
    for (const c of SOURCE_COLLECTIONS) {
      for (const doc of docsOf(plan, c)) {
        total++;
        if (EXTRA_FIELDS.some((k) => k in doc)) extra++;
        for (const key of keysOf(doc)) expect(key.includes(".") || key.startsWith("$"), key).toBe(false);
      }
    }
    expect(extra / total).toBeGreaterThan(0.01);
    expect(extra / total).toBeLessThan(0.03);
  });

  it("gives every document a unique ObjectId carrying its timestamp", () => {
    const ids = new Set<string>();
    for (const c of SOURCE_COLLECTIONS) {
      for (const doc of docsOf(plan, c)) {
        ids.add(doc._id.toHexString());
        expect(doc._id.getTimestamp().getTime()).toBe(Math.floor(timeOf(c, doc) / 1000) * 1000);
      }
    }
    const total = SOURCE_COLLECTIONS.reduce((n, c) => n + docsOf(plan, c).length, 0);
    expect(ids.size).toBe(total);
    expect(() => objectIdFor(0, 0x1000000, 0, 0, Rng.stream(1))).toThrow(RangeError);
  });
});

describe("shapes", () => {
  it("writes variable_logs slots aligned to 6 hours with hourly samples of 120 readings", () => {
    const slots = docsOf(plan, "variable_logs");
    for (const slot of slots) {
      expect(slot.day.getTime() % (6 * HOUR_MS)).toBe(0);
      const hours = slot.samples.map((s) => s.hour);
      expect(hours).toEqual([...new Set(hours)].sort((a, b) => a - b));
      for (const s of slot.samples) expect(s.values.some((v) => v !== null)).toBe(true);
      const device = plan.fleet.devices.find((d) => d.id === slot.idDevice);
      expect(device?.variables).toContain(slot.variable);
    }
    // Slots only while the oven was on: some nulls, never a whole day of slots for every device.
    const values = slots.flatMap((s) => s.samples.flatMap((x) => x.values));
    expect(values.filter((v) => v === null).length).toBeGreaterThan(0);
  });

  it("keeps alarms consistent: resetTS after activeTS, some still open", () => {
    const alarms = docsOf(plan, "alarm");
    const open = alarms.filter((a) => !("resetTS" in a));
    expect(open.length).toBeGreaterThan(0);
    for (const a of alarms)
      if (a.resetTS) expect(a.resetTS.getTime()).toBeGreaterThanOrEqual(a.activeTS.getTime());
    for (const a of open) expect("resetMail" in a).toBe(false);
  });

  it("places most documents in working hours", () => {
    const byId = new Map(plan.fleet.devices.map((d) => [d.id, d]));
    const events = docsOf(plan, "events");
    const inside = events.filter((e) => {
      const device = byId.get(e.idDevice);
      if (!device) return false;
      const t = e.timestamp.getTime();
      return within(daySchedule(SMALL.seed, device, dayOf(t)).on, t);
    }).length;
    expect(inside / events.length).toBeGreaterThan(0.85);
  });

  it("installs devices on different days, each starting on its install day", () => {
    const installs = new Set(plan.fleet.devices.map((d) => d.installAt).filter((x) => x !== null));
    expect(installs.size).toBeGreaterThan(1);
    for (const d of plan.fleet.devices) {
      const first = Math.min(
        ...docsOf(plan, "events")
          .filter((e) => e.idDevice === d.id)
          .map((e) => e.timestamp.getTime()),
      );
      if (d.installAt !== null) expect(dayOf(first)).toBe(dayOf(d.installAt));
    }
  });
});

describe("last_log_date", () => {
  const marks = new Map(plan.rows.device.map((r) => [r.id, r.last_log_date ?? null]));

  it("is null exactly for devices without documents", () => {
    expect([...marks.values()].some((m) => m === null)).toBe(true);
    for (const d of plan.fleet.devices) {
      const has = SOURCE_COLLECTIONS.some((c) => docsOf(plan, c).some((doc) => doc.idDevice === d.id));
      expect(marks.get(d.id) === null, `device ${d.id}`).toBe(!has);
    }
  });

  it("never precedes the device's install nor passes its data horizon", () => {
    for (const d of plan.fleet.devices) {
      const mark = marks.get(d.id);
      if (!mark) continue;
      expect(mark.getTime()).toBeGreaterThan(d.installAt ?? Number.POSITIVE_INFINITY);
      expect(mark.getTime()).toBeLessThanOrEqual(dataHorizon(d, plan.clock) ?? 0);
    }
  });

  it("leaves documents after the mark for a few in-flight devices", () => {
    const after = new Set<number>();
    for (const c of SOURCE_COLLECTIONS) {
      for (const doc of docsOf(plan, c)) {
        const mark = marks.get(doc.idDevice);
        if (mark && timeOf(c, doc) >= mark.getTime()) after.add(doc.idDevice);
      }
    }
    expect(after.size).toBeGreaterThan(0);
    expect(after.size).toBeLessThan(plan.fleet.devices.length / 2);
  });
});

describe("advance planning", () => {
  it("changes devices deterministically, including a change to NULL and one from NULL", () => {
    const current = new Map(plan.rows.device.map((r) => [r.id, r]));
    const from = plan.clock;
    const to = from + 3 * DAY_MS;
    const changes = planDeviceChanges(SMALL.seed, plan.fleet, current, from, to);
    expect(digest(planDeviceChanges(SMALL.seed, plan.fleet, current, from, to))).toBe(digest(changes));
    const toNull = changes.find((c) => c.nullCase === "to-null");
    const fromNull = changes.find((c) => c.nullCase === "from-null");
    expect(toNull && Object.values(toNull.set)).toContain(null);
    expect(fromNull && Object.values(fromNull.set).some((v) => v !== null)).toBe(true);
    for (const c of changes) {
      expect(c.at.getTime()).toBeGreaterThan(from);
      expect(c.at.getTime()).toBeLessThan(to);
    }
  });
});
