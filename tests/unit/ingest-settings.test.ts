import { describe, expect, it } from "vitest";
import { ConfigError } from "../../pipeline/errors.js";
import { planBatches } from "../../pipeline/ingest/plan.js";
import { DEFAULT_PACK_LIMITS, DEFAULT_WORKERS, loadIngestSettings } from "../../pipeline/ingest/settings.js";
import { collections } from "../../pipeline/schema/index.js";

describe("ingestion settings", () => {
  it("defaults to 60-day windows, 5 devices at once, and workers for every collection and mode", () => {
    const s = loadIngestSettings({});
    expect(s.windowMs).toBe(60 * 86_400_000);
    expect(s.deviceConcurrency).toBe(5);
    for (const c of collections) {
      expect(s.workers.bulk[c.name]).toBeGreaterThan(0);
      expect(s.workers.operations[c.name]).toBeGreaterThan(0);
    }
  });

  it("merges overrides from INGEST_WORKERS over the defaults", () => {
    const s = loadIngestSettings({
      INGEST_WORKERS: '{"bulk":{"variable_logs":7}}',
      INGEST_WINDOW_DAYS: "30",
    });
    expect(s.workers.bulk.variable_logs).toBe(7);
    expect(s.workers.bulk.events).toBe(DEFAULT_WORKERS.bulk.events);
    expect(s.windowMs).toBe(30 * 86_400_000);
  });

  it("packs small windows within the code's limits unless INGEST_PACKS overrides them or turns packs off", () => {
    expect(loadIngestSettings({}).pack).toEqual(DEFAULT_PACK_LIMITS);
    expect(loadIngestSettings({ INGEST_PACKS: "" }).pack).toEqual(DEFAULT_PACK_LIMITS);
    expect(loadIngestSettings({ INGEST_PACKS: '{"bytes":16777216,"windows":50}' }).pack).toEqual({
      windowBytes: DEFAULT_PACK_LIMITS.windowBytes,
      bytes: 16_777_216,
      windows: 50,
    });
    expect(loadIngestSettings({ INGEST_PACKS: "false" }).pack).toBe(false);
  });

  it.each([
    [
      { INGEST_PACKS: '{"windowBytes":1048576,"bytes":524288}' },
      /INGEST_PACKS windowBytes must be at most bytes/,
    ],
    [{ INGEST_PACKS: '{"windowBytes":8388608}' }, /INGEST_PACKS/],
    [{ INGEST_PACKS: '{"windows":0}' }, /INGEST_PACKS/],
    [{ INGEST_PACKS: '{"rows":10}' }, /INGEST_PACKS/],
    [{ INGEST_PACKS: "true" }, /INGEST_PACKS/],
    [{ INGEST_PACKS: "{" }, /INGEST_PACKS must be JSON/],
    [{ INGEST_WORKERS: "{nope" }, /INGEST_WORKERS must be JSON/],
    [{ INGEST_WORKERS: '{"bulk":{"nope":3}}' }, /unknown collection name/],
    [{ INGEST_WORKERS: '{"bulk":{"alarm":0}}' }, /INGEST_WORKERS/],
    [{ INGEST_WINDOW_DAYS: "0" }, /INGEST_WINDOW_DAYS/],
  ])("refuses %j naming the key", (env, message) => {
    expect(() => loadIngestSettings(env)).toThrow(ConfigError);
    expect(() => loadIngestSettings(env)).toThrow(message);
  });
});

describe("planBatches", () => {
  const t = (d: string) => new Date(`2024-01-${d}T00:00:00Z`);
  const devices = [
    { idDevice: 1, lastLogDate: t("10") },
    { idDevice: 2, lastLogDate: t("10") },
    { idDevice: 3, lastLogDate: null },
    { idDevice: 4, lastLogDate: t("05") },
  ];

  it("plans the due devices per collection into the configured number of batches", () => {
    const batches = planBatches({
      mode: "operations",
      devices,
      bookmarks: new Map([["alarm", new Map([[4, t("05")]])]]),
      workers: { bulk: {}, operations: { alarm: 2, events: 1 } },
      collections: ["alarm", "events"],
    });
    expect(batches.map((b) => [b.collection, b.batch, b.devices.map((d) => d.idDevice)])).toEqual([
      ["alarm", 0, [1]],
      ["alarm", 1, [2]],
      ["events", 0, [1, 2, 4]],
    ]);
    expect(batches[0]?.devices[0]?.lastLogDate).toEqual(t("10"));
  });

  it("plans nothing when every device is caught up", () => {
    const all = new Map([
      [1, t("10")],
      [2, t("10")],
      [4, t("05")],
    ]);
    expect(
      planBatches({
        mode: "bulk",
        devices,
        bookmarks: new Map([["sdata", all]]),
        workers: DEFAULT_WORKERS,
        collections: ["sdata"],
      }),
    ).toEqual([]);
  });
});
