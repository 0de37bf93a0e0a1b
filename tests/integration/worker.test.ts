/**
 * The MongoDB → raw worker end to end on the real local servers: a small synthetic snapshot in
 * FerretDB and PostgreSQL (own databases), the support database migrated fresh, the lake in a
 * temp folder. Asserts exactly-once raw data, incremental runs, crash recovery and time budgets.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Db, Document } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { advanceSnapshot, loadSnapshot, type OpenTargets, openTargets } from "../../local/snapshot/index.js";
import type { Budget } from "../../pipeline/ingest/budget.js";
import type { IngestState } from "../../pipeline/ingest/ingest-state.js";
import { planBatches } from "../../pipeline/ingest/plan.js";
import { DEFAULT_WORKERS } from "../../pipeline/ingest/settings.js";
import {
  PACK_ABANDONED_AFTER_MS,
  removeAbandonedPacks,
  runWorker,
  type WorkerResult,
} from "../../pipeline/ingest/worker.js";
import { LocalObjectStore } from "../../pipeline/lake/local-store.js";
import { collection, collections, lakeName, toLakeRow } from "../../pipeline/schema/index.js";
import { createSupportClient, type SupportClient } from "../../pipeline/support/index.js";
import { postgresIngestState } from "../../pipeline/support/ingest-state.js";
import { createSupportPool } from "../../pipeline/support/pool.js";
import { ledgerRows } from "../support/ledger-rows.js";
import { throwawayDatabases } from "../support/throwaway.js";

const dbs = throwawayDatabases("worker");
const { name, config } = dbs;

let targets: OpenTargets;
let support: SupportClient;
let state: IngestState;
let pool: ReturnType<typeof createSupportPool>;
let store: LocalObjectStore;
let lakeDir: string;
let source: Db;
let run = 0;
/** An alarm made open before the first run and reset after it: the one update IoT data has. */
let reopened: Document;

beforeAll(async () => {
  await dbs.create();
  targets = await openTargets({
    ddcDatabaseUrl: config.DDC_DATABASE_URL,
    mongodbUrl: config.MONGODB_URL,
    mongodbDatabase: name,
  });
  source = targets.mongo;
  await loadSnapshot(targets, { seed: 5, devices: 6, days: 6, reset: true });
  // A device marked complete up to the clock, and one of its alarms made open at extraction time.
  const { rows } = await targets.pg.query(
    "SELECT id, last_log_date FROM device WHERE last_log_date IS NOT NULL ORDER BY last_log_date DESC, id LIMIT 1",
  );
  const device = rows[0];
  reopened = (await source
    .collection("alarm")
    .findOne(
      { idDevice: Number(device.id), activeTS: { $lt: device.last_log_date } },
      { sort: { activeTS: -1 } },
    )) as Document;
  await source.collection("alarm").updateOne({ _id: reopened._id }, { $unset: { resetTS: "" } });
  support = createSupportClient(config.SUPPORT_DATABASE_URL);
  pool = createSupportPool(config.SUPPORT_DATABASE_URL);
  state = postgresIngestState(pool);
  lakeDir = await mkdtemp(join(tmpdir(), "lake-worker-"));
  store = new LocalObjectStore(lakeDir);
}, 180_000);

afterAll(async () => {
  await support?.$disconnect();
  await pool?.end();
  await targets?.close();
  await dbs.drop();
  await rm(lakeDir, { recursive: true, force: true });
});

async function devices() {
  const { rows } = await targets.pg.query("SELECT id, last_log_date FROM device ORDER BY id");
  return rows.map((r) => ({ idDevice: Number(r.id), lastLogDate: r.last_log_date as Date | null }));
}

async function bookmarkMap() {
  const rows = await support.lastts.findMany();
  const map = new Map<string, Map<number, Date>>();
  for (const r of rows) {
    const m = map.get(r.collection) ?? new Map<number, Date>();
    m.set(Number(r.idDevice), r.lastts);
    map.set(r.collection, m);
  }
  return map;
}

/** Plan and run every batch of every collection, as the state machine would. */
async function runAll(opts: { state?: IngestState; budget?: Budget; names?: string[] } = {}) {
  run++;
  const batches = planBatches({
    mode: "operations",
    devices: await devices(),
    bookmarks: await bookmarkMap(),
    workers: DEFAULT_WORKERS,
    collections: opts.names,
  });
  const results: WorkerResult[] = [];
  const failures: unknown[] = [];
  for (const b of batches) {
    try {
      results.push(
        await runWorker(
          {
            runId: `run-${run}-${b.collection}-${b.batch}`,
            planId: null,
            entry: collection(b.collection),
            devices: b.devices,
          },
          { source, store, state: opts.state ?? state },
          { budget: opts.budget, safetyMarginMs: 1000 },
        ),
      );
    } catch (error) {
      failures.push(error);
    }
  }
  return { results, failures, batches };
}

/** Every lake row of a collection, from the ledger (never from listings). */
async function lakeRows(name: string) {
  const entries = await support.fileLedger.findMany({ where: { collection: name }, orderBy: { id: "asc" } });
  return ledgerRows(store, entries);
}

/** Source documents that the bookmarks say are extracted: timestamp before the device's lastts. */
async function expectedDocs(name: string): Promise<Document[]> {
  const entry = collection(name);
  const marks = (await bookmarkMap()).get(name) ?? new Map();
  const docs: Document[] = [];
  for (const [idDevice, lastts] of marks) {
    const before = { $lt: lastts };
    const filter = entry.updatedField
      ? { idDevice, $or: [{ [entry.sourceTimestampField]: before }, { [entry.updatedField]: before }] }
      : { idDevice, [entry.sourceTimestampField]: before };
    docs.push(...(await source.collection(name).find(filter).toArray()));
  }
  return docs;
}

function normalise(row: Record<string, unknown>, columns: readonly { name: string }[]) {
  return Object.fromEntries(columns.map((c) => [c.name, row[c.name] ?? null]));
}

const flat = collections.filter((c) => c.name !== "variable_logs").map((c) => c.name);

describe("first run over the snapshot", () => {
  let first: Awaited<ReturnType<typeof runAll>>;
  beforeAll(async () => {
    first = await runAll();
  }, 180_000);

  it("completes every batch without failures", () => {
    expect(first.failures).toEqual([]);
    expect(first.results.every((r) => r.complete)).toBe(true);
  });

  it.each(flat)(
    "%s: every source document before the bookmark is in raw exactly once, values intact",
    async (name) => {
      const entry = collection(name);
      const rows = await lakeRows(name);
      const ids = rows.map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      const docs = await expectedDocs(name);
      expect(docs.length).toBeGreaterThan(0);
      const byId = new Map(rows.map((r) => [r.id, normalise(r, entry.columns)]));
      expect([...byId.keys()].sort()).toEqual(docs.map((d) => d._id.toHexString()).sort());
      for (const doc of docs) {
        expect(byId.get(doc._id.toHexString())).toEqual(toLakeRow(entry, doc).row);
      }
    },
  );

  it("variable_logs: every reading of every complete slot is in exactly one row, at its instant", async () => {
    const entry = collection("variable_logs");
    const rows = await lakeRows("variable_logs");
    const keyOf = (id: unknown, t: unknown) => `${id}@${(t as Date).getTime()}`;
    const byKey = new Map(rows.map((r) => [keyOf(r[lakeName(entry, "idDevice")], r.time), r]));
    expect(byKey.size).toBe(rows.length);
    const slots = await expectedDocs("variable_logs");
    let readings = 0;
    for (const slot of slots) {
      for (const sample of slot.samples) {
        sample.values.forEach((v: number | null, i: number) => {
          if (v === null) return;
          readings++;
          const at = new Date(slot.day.getTime() + sample.hour * 3_600_000 + i * 30_000);
          expect(byKey.get(keyOf(slot.idDevice, at))?.[slot.variable]).toBe(v);
        });
      }
    }
    const cells = rows.flatMap((r) =>
      Object.keys(r).filter((k) => k !== "id_device" && k !== "time" && r[k] !== null),
    ).length;
    expect(cells).toBe(readings);
  });

  it("names every object in the ledger and leaves no object outside it", async () => {
    const ledgerKeys = [...new Set((await support.fileLedger.findMany()).map((e) => e.objectKey))].sort();
    const stored: string[] = [];
    for await (const o of store.list("")) if (!o.key.startsWith("_quarantine/")) stored.push(o.key);
    expect(stored.sort()).toEqual(ledgerKeys);
  });

  it("packs small windows of many devices into shared objects, one ledger row per device window", async () => {
    const ledger = await support.fileLedger.findMany();
    const packs = ledger.filter((e) => /^[a-z_]+\/packs\//.test(e.objectKey));
    expect(packs.length).toBeGreaterThan(0);
    const devicesPerPack = new Map<string, number[]>();
    for (const e of packs)
      devicesPerPack.set(e.objectKey, [...(devicesPerPack.get(e.objectKey) ?? []), Number(e.idDevice)]);
    // Shared: fewer objects than windows, and a device at most once in a pack.
    expect(devicesPerPack.size).toBeLessThan(packs.length);
    for (const devices of devicesPerPack.values()) expect(new Set(devices).size).toBe(devices.length);
    // A window's bytes are its share of the pack: together they are the object's size.
    for (const [key] of devicesPerPack) {
      const shares = packs.filter((e) => e.objectKey === key).reduce((n, e) => n + Number(e.bytes), 0);
      expect(shares).toBe((await store.head(key))?.bytes);
    }
    // Windows past the pack's limit of row data have objects of their own, named by the window.
    for (const e of ledger.filter((x) => !packs.includes(x))) {
      expect(e.objectKey).toBe(`${e.collection}/idDevice=${e.idDevice}/${e.windowFrom.getTime()}.parquet`);
    }
  });

  it("writes a metric row per run with the counters of its windows", async () => {
    const metrics = await support.metric.findMany({ where: { runId: { startsWith: "run-1-" } } });
    const read = metrics.reduce((a, m) => a + m.documentsRead, 0);
    expect(read).toBe(first.results.reduce((a, r) => a + r.documentsRead, 0));
    expect(metrics.every((m) => m.finishedAt !== null)).toBe(true);
  });

  it("plans nothing on a rerun without new data, and reads nothing", async () => {
    const again = await runAll();
    expect(again.batches).toEqual([]);
  });
});

describe("after advance", () => {
  let before: Map<string, Map<number, Date>>;
  let second: Awaited<ReturnType<typeof runAll>>;
  let resetAt: Date;
  beforeAll(async () => {
    before = await bookmarkMap();
    await advanceSnapshot(targets, { days: 2 });
    // Cleared after the first run's bookmark, before the device's new last_log_date.
    const bookmark = before.get("alarm")?.get(reopened.idDevice);
    if (!bookmark) throw new Error("the reopened alarm's device has no alarm bookmark after the first run");
    resetAt = new Date(bookmark.getTime() + 60_000);
    await source.collection("alarm").updateOne({ _id: reopened._id }, { $set: { resetTS: resetAt } });
    second = await runAll();
  }, 180_000);

  it("reads only the documents past the previous bookmarks", async () => {
    expect(second.failures).toEqual([]);
    for (const name of ["events", "sd_haccp"]) {
      const entry = collection(name);
      const after = (await bookmarkMap()).get(name) ?? new Map();
      let expected = 0;
      for (const [idDevice, to] of after) {
        const from = before.get(name)?.get(idDevice);
        expected += await source.collection(name).countDocuments({
          idDevice,
          [entry.sourceTimestampField]: { ...(from ? { $gte: from } : {}), $lt: to },
        });
      }
      const read = second.results
        .filter((r) => r.collection === name)
        .reduce((a, r) => a + r.documentsRead, 0);
      expect(read).toBe(expected);
      expect(expected).toBeGreaterThan(0);
    }
  });

  it("extracts an alarm again when it is reset after extraction; both versions are in raw", async () => {
    const versions = (await lakeRows("alarm")).filter((r) => r.id === reopened._id.toHexString());
    expect(versions.map((r) => (r.reset_ts as Date | null)?.getTime() ?? null)).toEqual([
      null,
      resetAt.getTime(),
    ]);
  });
});

describe("failures", () => {
  it("a crash between upload and commit loses nothing and duplicates nothing on rerun", async () => {
    await advanceSnapshot(targets, { days: 1 });
    let commits = 0;
    const flaky: IngestState = {
      ...state,
      async commitWindows(group) {
        if (group.some((c) => c.object) && ++commits % 2 === 0)
          throw new Error("injected: connection lost before commit");
        return state.commitWindows(group);
      },
    };
    const crashed = await runAll({ state: flaky, names: ["events", "alarm"] });
    expect(crashed.failures.length).toBeGreaterThan(0);
    const rerun = await runAll({ names: ["events", "alarm"] });
    expect(rerun.failures).toEqual([]);
    for (const name of ["events"]) {
      const rows = await lakeRows(name);
      const ids = rows.map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe((await expectedDocs(name)).length);
    }
    // The failed commits' packs are recorded, named by no ledger row: a run after the time a
    // worker may live removes them, and nothing the ledger names.
    const ledgerKeys = new Set((await support.fileLedger.findMany()).map((e) => e.objectKey));
    const abandoned = (await support.packUpload.findMany({ where: { collection: "events" } }))
      .map((u) => u.objectKey)
      .filter((key) => !ledgerKeys.has(key));
    expect(abandoned.length).toBeGreaterThan(0);
    const now = new Date(Date.now() + PACK_ABANDONED_AFTER_MS + 1000);
    expect([...(await removeAbandonedPacks({ state, store }, "events", now))].sort()).toEqual(
      abandoned.sort(),
    );
    for await (const o of store.list("events/")) expect(ledgerKeys.has(o.key)).toBe(true);
    // Every record settled: the committed packs by their commit, the abandoned by their removal.
    expect(await support.packUpload.count({ where: { collection: "events", settledAt: null } })).toBe(0);
    expect(await lakeRows("events")).toHaveLength((await expectedDocs("events")).length);
  }, 180_000);

  it("a worker out of time stops between windows; the next run finishes the work", async () => {
    await advanceSnapshot(targets, { days: 2 });
    let windows = 0;
    // Two windows' worth of budget, then below the safety margin.
    const budget: Budget = { remainingMs: () => (windows++ < 2 ? 60_000 : 0) };
    const partial = await runAll({ budget, names: ["sd_messages"] });
    expect(partial.failures).toEqual([]);
    expect(partial.results.some((r) => r.devicesPending > 0 && !r.complete)).toBe(true);
    const rest = await runAll({ names: ["sd_messages"] });
    expect(rest.results.every((r) => r.complete)).toBe(true);
    const rows = await lakeRows("sd_messages");
    expect(rows.length).toBe((await expectedDocs("sd_messages")).length);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
  }, 180_000);
});
