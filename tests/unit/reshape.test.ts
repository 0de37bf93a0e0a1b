/**
 * A pivoted collection is a registry entry: a second one, defined here only, is windowed on its
 * slots, pivoted into its own columns and extracted by the worker's code without a line of it
 * naming the collection.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ParquetReader } from "@dsnp/parquetjs";
import type { Db, Document } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { RegistryError } from "../../pipeline/errors.js";
import { cursorBatchOf, DEFAULT_CURSOR_BATCH, extractWindow } from "../../pipeline/ingest/extract.js";
import { pivotRows } from "../../pipeline/ingest/pivot.js";
import { windowQuery } from "../../pipeline/ingest/queries.js";
import { nextWindow } from "../../pipeline/ingest/windows.js";
import { LocalObjectStore } from "../../pipeline/lake/local-store.js";
import { fields } from "../../pipeline/schema/index.js";
import { collection, defineCollection, type PivotReshape } from "../../pipeline/schema/registry.js";

const HOUR = 3_600_000;

/** One sensor of one device over 2 hours: a reading every 15 minutes, hourly sub-documents. */
const SensorSlotSchema = z.object({
  _id: fields.text(),
  idDevice: fields.int64(),
  sensor: z.enum(["heat", "flow"]),
  start: fields.timestamp(),
  samples: z
    .array(z.object({ hour: z.int().min(0).max(1), values: z.array(z.number().nullable()).length(4) }))
    .max(2),
});

const SensorLogsSchema = z.object({
  idDevice: fields.int64(),
  at: fields.timestamp(),
  heat: fields.float64().nullish(),
  flow: fields.float64().nullish(),
});

const pivot: PivotReshape = {
  kind: "pivot",
  slot: SensorSlotSchema,
  variableField: "sensor",
  grid: { stepSeconds: 900, samplesPerHour: 4, hoursPerSlot: 2 },
};

const definition = {
  name: "sensor_logs",
  schema: SensorLogsSchema,
  timestampField: "at",
  sourceTimestampField: "start",
  naturalKey: ["idDevice", "at"],
  payload: false,
  reshape: pivot,
  partition: { buckets: 1 },
} as const;

const sensorLogs = defineCollection(definition);

const start = new Date("2024-03-01T00:00:00Z");
const slot = (sensor: "heat" | "flow", at: Date, samples: { hour: number; values: (number | null)[] }[]) => ({
  _id: `${sensor}-${at.getTime()}`,
  idDevice: 7,
  sensor,
  start: at,
  samples,
});
const slots = [
  slot("heat", start, [{ hour: 0, values: [20, null, 22, null] }]),
  slot("flow", start, [
    { hour: 0, values: [1, 2, null, null] },
    { hour: 1, values: [null, null, null, 5] },
  ]),
  slot("heat", new Date(start.getTime() + 2 * HOUR), [{ hour: 1, values: [null, 30, null, null] }]),
];

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

/** Rows as [instant, heat, flow]. */
const cells = (rows: Record<string, unknown>[]) =>
  rows.map((r) => [(r.at as Date).toISOString(), r.heat ?? null, r.flow ?? null]);

const EXPECTED = [
  ["2024-03-01T00:00:00.000Z", 20, 1],
  ["2024-03-01T00:15:00.000Z", null, 2],
  ["2024-03-01T00:30:00.000Z", 22, null],
  ["2024-03-01T01:45:00.000Z", null, 5],
  ["2024-03-01T03:15:00.000Z", 30, null],
];

describe("a second pivoted collection, defined in the registry only", () => {
  it("windows on its slot field, aligned to its slots, with the default cursor batch", () => {
    expect(sensorLogs.alignMs).toBe(2 * HOUR);
    expect(collection("variable_logs").alignMs).toBe(6 * HOUR);
    const w = nextWindow({
      start,
      lastLogDate: new Date(start.getTime() + 5 * HOUR),
      windowMs: 30 * 24 * HOUR,
      alignMs: sensorLogs.alignMs,
    });
    expect(w?.to.toISOString()).toBe("2024-03-01T04:00:00.000Z");
    expect(windowQuery(sensorLogs, 7, w ?? { from: start, to: start }).sort).toEqual({ start: 1 });
    expect(cursorBatchOf(sensorLogs)).toBe(DEFAULT_CURSOR_BATCH);
    expect(cursorBatchOf(collection("variable_logs"))).toBe(200);
  });

  it("pivots its slots into its own columns, one row per instant with a reading", async () => {
    const rows: Record<string, unknown>[] = [];
    for await (const row of pivotRows(sensorLogs, 7, from(slots))) rows.push(row);
    expect(cells(rows)).toEqual(EXPECTED);
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual(["at", "flow", "heat", "id_device"]);
    expect(rows.every((r) => r.id_device === 7)).toBe(true);
  });

  it.each([
    ["rows with a payload", { payload: true }, /carry no payload/],
    [
      "a variable without a column",
      { reshape: { ...pivot, slot: SensorSlotSchema.extend({ sensor: z.enum(["heat", "steam"]) }) } },
      /variables steam have no column/,
    ],
    [
      "a slot without samples",
      { reshape: { ...pivot, slot: SensorSlotSchema.omit({ samples: true }) } },
      /slot has no field samples/,
    ],
    [
      "a grid that does not fill an hour",
      { reshape: { ...pivot, grid: { ...pivot.grid, samplesPerHour: 3 } } },
      /does not fill an hour/,
    ],
    ["windows not aligned to its slots", { alignMs: HOUR }, /is not the slot length/],
  ])("refuses a pivot with %s", (_what, change, message) => {
    expect(() => defineCollection({ ...definition, ...change })).toThrow(RegistryError);
    expect(() => defineCollection({ ...definition, ...change })).toThrow(message);
  });

  describe("extracted by the worker's window code", () => {
    let dir: string;
    let store: LocalObjectStore;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "reshape-"));
      store = new LocalObjectStore(dir);
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    /** The window query's documents, in its order: what a MongoDB cursor would return. */
    const source = (docs: readonly Document[]) =>
      ({
        collection: () => ({ find: () => Object.assign(from(docs), { close: async () => {} }) }),
      }) as unknown as Db;

    it("writes the pivoted rows, quarantines a bad slot and counts its extra keys as drift", async () => {
      const bad = { ...slot("flow", start, [{ hour: 0, values: [1] }]), _id: "bad" };
      const docs = [{ ...slots[0], firmware: "2.1" }, bad, ...slots.slice(1)];
      const window = { from: start, to: new Date(start.getTime() + 4 * HOUR) };
      const extract = await extractWindow({
        source: source(docs),
        store,
        entry: sensorLogs,
        idDevice: 7,
        window,
      });
      expect(extract).toMatchObject({ documentsRead: 4, documentsAccepted: 3 });
      expect(extract.object).toMatchObject({
        key: `sensor_logs/idDevice=7/${start.getTime()}.parquet`,
        rows: 5,
      });
      expect([...extract.drift]).toEqual([["firmware", 1]]);
      expect(extract.quarantined.map((q) => [q.documentId, q.objectKey])).toEqual([
        ["bad", `_quarantine/sensor_logs/idDevice=7/${start.getTime()}/bad.json`],
      ]);
      const copy = JSON.parse((await store.get(extract.quarantined[0]?.objectKey ?? "")).toString());
      expect(copy).toMatchObject({ collection: "sensor_logs", idDevice: 7, document: { _id: "bad" } });
      expect(copy.issues.map((i: { field: string }) => i.field)).toEqual(["samples.0.values"]);

      const reader = await ParquetReader.openBuffer(await store.get(extract.object?.key ?? ""));
      const rows: Record<string, unknown>[] = [];
      const cursor = reader.getCursor();
      for (let r = await cursor.next(); r; r = await cursor.next()) rows.push(r as Record<string, unknown>);
      await reader.close();
      expect(cells(rows)).toEqual(EXPECTED);
    });
  });
});
