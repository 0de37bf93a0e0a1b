/**
 * Raw packs (ADR 0023) on the local stack: small windows of many devices share an object, one
 * ledger row each; a device's windows commit in order, never past one that failed; large windows
 * keep objects of their own; and whatever fails, a rerun leaves every document in raw once.
 */
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IngestState } from "../../pipeline/ingest/ingest-state.js";
import { DEFAULT_PACK_LIMITS } from "../../pipeline/ingest/pack.js";
import { DAY_MS } from "../../pipeline/ingest/windows.js";
import { WorkerDevicesFailedError } from "../../pipeline/ingest/worker.js";
import { type IngestWorld, openIngestWorld } from "../support/ingest-world.js";
import { objectRows } from "../support/ledger-rows.js";

const t0 = new Date(Date.UTC(2024, 2, 1));
const at = (days: number, ms = 0) => new Date(t0.getTime() + days * DAY_MS + ms);
let world: IngestWorld;

beforeAll(async () => {
  world = await openIngestWorld("packs");
});

afterAll(async () => {
  await world?.close();
});

/** `perDay` events a day of each device over `days` days; a 2 KB note makes rows weigh. */
async function plant(devices: readonly number[], days: number, perDay: number, note = "") {
  const docs = devices.flatMap((idDevice) =>
    Array.from({ length: days * perDay }, (_, i) => ({
      _id: new ObjectId(),
      idDevice,
      timestamp: at(Math.floor(i / perDay), (i % perDay) * 60_000),
      type: "door",
      source: note || "hmi",
    })),
  );
  await world.source.collection("events").insertMany(docs);
  return docs.length;
}

type LedgerRow = { object_key: string; id_device: string; window_from: Date; window_to: Date; rows: number };

async function ledger(devices: readonly number[]): Promise<LedgerRow[]> {
  return world.sql<LedgerRow>(
    `SELECT object_key, id_device, window_from, window_to, rows FROM file_ledger
     WHERE collection = 'events' AND id_device = ANY($1::bigint[]) ORDER BY id_device, window_from`,
    [[...devices]],
  );
}

const bookmarks = async (devices: readonly number[]) =>
  new Map(
    (
      await world.sql<{ id_device: string; lastts: Date }>(
        "SELECT id_device, lastts FROM lastts WHERE collection = 'events' AND id_device = ANY($1::bigint[])",
        [[...devices]],
      )
    ).map((r) => [Number(r.id_device), r.lastts.getTime()]),
  );

async function rawIdsOf(devices: readonly number[]) {
  const mine = new Set(devices);
  return (await world.rawRows("events"))
    .filter((r) => mine.has(Number(r.id_device)))
    .map((r) => String(r.id));
}

describe("packs", () => {
  it("put the small windows of many devices in one object, a ledger row each, bytes shared", async () => {
    const devices = Array.from({ length: 12 }, (_, i) => 1000 + i);
    const docs = await plant(devices, 1, 4);
    const result = await world.work(
      "events",
      devices.map((idDevice) => ({ idDevice, lastLogDate: at(1) })),
      "packs-1",
      { windowMs: DAY_MS, concurrency: 3 },
    );
    expect(result).toMatchObject({ complete: true, windows: 12, rowsWritten: docs, devicesProcessed: 12 });
    const rows = await ledger(devices);
    expect(rows).toHaveLength(12);
    const keys = new Set(rows.map((r) => r.object_key));
    // Three devices extracted at once, yet one object: a device's slot frees once its last
    // window is in the pack.
    expect([...keys]).toEqual([expect.stringMatching(/^events\/packs\/\d{8}T\d{9}Z-[0-9a-f]{12}\.parquet$/)]);
    const [key] = keys;
    const stored = await world.store.head(key ?? "");
    expect(result.bytesUploaded).toBe(stored?.bytes);
    // The object holds exactly the listed windows' rows.
    expect(await objectRows(world.store, key ?? "")).toHaveLength(docs);
    expect((await rawIdsOf(devices)).sort()).toHaveLength(docs);
    // Every pack's record settled by its commit.
    expect(await world.sql("SELECT 1 FROM pack_upload WHERE settled_at IS NULL")).toEqual([]);
  });

  it("merge a device's consecutive windows in one pack into one ledger window", async () => {
    const devices = [2001, 2002];
    const docs = await plant(devices, 5, 3);
    await world.work(
      "events",
      devices.map((idDevice) => ({ idDevice, lastLogDate: at(5) })),
      "packs-merge",
      { windowMs: DAY_MS },
    );
    const rows = await ledger(devices);
    expect(
      rows.map((r) => [Number(r.id_device), r.window_from.getTime(), r.window_to.getTime(), r.rows]),
    ).toEqual([
      [2001, at(0).getTime(), at(5).getTime(), 15],
      [2002, at(0).getTime(), at(5).getTime(), 15],
    ]);
    expect(await rawIdsOf(devices)).toHaveLength(docs);
    expect(await bookmarks(devices)).toEqual(new Map(devices.map((d) => [d, at(5).getTime()])));
  });

  it("write a pack at its window count, and give a window past the size limit an object of its own", async () => {
    const devices = Array.from({ length: 7 }, (_, i) => 3000 + i);
    const small = await plant(devices, 1, 2);
    // Device 3100: about 2 KB a row × 60 rows, past a 64 KiB window limit.
    const big = await plant([3100], 1, 60, "x".repeat(2000));
    const result = await world.work(
      "events",
      [...devices, 3100].map((idDevice) => ({ idDevice, lastLogDate: at(1) })),
      "packs-limits",
      { windowMs: DAY_MS, pack: { ...DEFAULT_PACK_LIMITS, windows: 3, windowBytes: 64 * 1024 } },
    );
    expect(result.complete).toBe(true);
    const rows = await ledger([...devices, 3100]);
    const packs = new Map<string, number>();
    for (const r of rows.filter((x) => x.object_key.includes("/packs/")))
      packs.set(r.object_key, (packs.get(r.object_key) ?? 0) + 1);
    expect([...packs.values()].sort()).toEqual([1, 3, 3]);
    const own = rows.filter((r) => Number(r.id_device) === 3100);
    expect(own.map((r) => r.object_key)).toEqual([`events/idDevice=3100/${at(0).getTime()}.parquet`]);
    expect(await rawIdsOf([...devices, 3100])).toHaveLength(small + big);
  });

  it("commit a device's large window only after its packed ones", async () => {
    // Day 0 small (packed), day 1 large (its own object): the large window's commit waits.
    const device = 4001;
    await world.source.collection("events").insertMany([
      { _id: new ObjectId(), idDevice: device, timestamp: at(0, 1000), type: "door", source: "hmi" },
      ...Array.from({ length: 40 }, (_, i) => ({
        _id: new ObjectId(),
        idDevice: device,
        timestamp: at(1, i * 1000),
        type: "door",
        source: "y".repeat(3000),
      })),
    ]);
    const order: string[] = [];
    const watching: IngestState = {
      ...world.state,
      async commitWindows(commits) {
        await world.state.commitWindows(commits);
        for (const c of commits) if (c.idDevice === device) order.push(c.object?.key ?? "-");
      },
    };
    const result = await world.work("events", [{ idDevice: device, lastLogDate: at(2) }], "packs-order", {
      windowMs: DAY_MS,
      pack: { ...DEFAULT_PACK_LIMITS, windowBytes: 32 * 1024 },
      state: watching,
    });
    expect(result.complete).toBe(true);
    expect(order).toEqual([
      expect.stringMatching(/^events\/packs\//),
      // Windows start at the device's first document: day 0 + 1 s.
      `events/idDevice=${device}/${at(1, 1000).getTime()}.parquet`,
    ]);
  });

  it("never commit a device past a pack that failed; the rerun brings every document in once", async () => {
    const devices = Array.from({ length: 6 }, (_, i) => 5000 + i);
    const docs = await plant(devices, 4, 2);
    let packs = 0;
    const flaky: IngestState = {
      ...world.state,
      async commitWindows(commits) {
        // The second pack's commit is lost.
        if (commits.some((c) => c.object?.key.includes("/packs/")) && ++packs === 2)
          throw new Error("injected: connection lost before commit");
        return world.state.commitWindows(commits);
      },
    };
    const failed = world.work(
      "events",
      devices.map((idDevice) => ({ idDevice, lastLogDate: at(4) })),
      "packs-fail",
      // Two windows a pack, one day a window: each device's four days cross several packs.
      { windowMs: DAY_MS, concurrency: 2, pack: { ...DEFAULT_PACK_LIMITS, windows: 2 }, state: flaky },
    );
    await expect(failed).rejects.toBeInstanceOf(WorkerDevicesFailedError);
    const lost = (await failed.catch((e: WorkerDevicesFailedError) => e)) as WorkerDevicesFailedError;
    const failedDevices = new Set(lost.result.errors.map((e) => e.idDevice));
    expect(failedDevices.size).toBeGreaterThan(0);
    // A failed device's bookmark stops before its lost window; its ledger ends there too.
    const marks = await bookmarks(devices);
    for (const d of failedDevices) {
      const rows = await ledger([d]);
      const end = rows.at(-1)?.window_to.getTime() ?? null;
      expect(marks.get(d) ?? null).toBe(end);
      expect(end ?? 0).toBeLessThan(at(4).getTime());
    }
    const rerun = await world.work(
      "events",
      devices.map((idDevice) => ({ idDevice, lastLogDate: at(4) })),
      "packs-fail-rerun",
      { windowMs: DAY_MS, concurrency: 2, pack: { ...DEFAULT_PACK_LIMITS, windows: 2 } },
    );
    expect(rerun.complete).toBe(true);
    const ids = await rawIdsOf(devices);
    expect(ids).toHaveLength(docs);
    expect(new Set(ids).size).toBe(docs);
    expect(await bookmarks(devices)).toEqual(new Map(devices.map((d) => [d, at(4).getTime()])));
  });
});
