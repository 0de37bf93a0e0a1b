/**
 * The snapshot generator against the real local servers (PostgreSQL + FerretDB): a small
 * snapshot loaded into a PostgreSQL database and a MongoDB database created for this run, then
 * checked against the in-memory plan, advanced, and reloaded for determinism. Cleans up after.
 */
import { randomUUID } from "node:crypto";
import type { Document } from "mongodb";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AdvanceReport,
  advanceSnapshot,
  DDC_TABLES,
  dataHorizon,
  deviceDocuments,
  type LoadReport,
  loadSnapshot,
  type OpenTargets,
  openTargets,
  planSnapshot,
  readSnapshotConnections,
  SnapshotStateError,
  type SnapshotTargets,
  SOURCE_COLLECTIONS,
  SOURCE_TIMESTAMP_FIELD,
  type SourceCollection,
  snapshotChecksum,
} from "../../local/snapshot/index.js";
import { constantFirmware } from "../../local/snapshot/plan.js";
import { DAY_MS } from "../../local/snapshot/time.js";

const SMALL = { seed: 11, devices: 8, days: 7 } as const;
const connections = readSnapshotConnections();
const name = `snap_test_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
const admin = new pg.Client({ connectionString: connections.ddcDatabaseUrl });
let targets: OpenTargets;
let loaded: LoadReport;

beforeAll(async () => {
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(connections.ddcDatabaseUrl);
  url.pathname = `/${name}`;
  targets = await openTargets({
    ddcDatabaseUrl: url.toString(),
    mongodbUrl: connections.mongodbUrl,
    mongodbDatabase: name,
  });
  loaded = await loadSnapshot(targets, { ...SMALL, reset: true });
});

afterAll(async () => {
  await targets?.mongo.dropDatabase().catch(() => undefined);
  await targets?.close();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

/** `(idDevice, timestamp)` of every document of a collection. */
async function stamps(
  db: SnapshotTargets["mongo"],
  c: SourceCollection,
): Promise<{ idDevice: number; t: number }[]> {
  const field = SOURCE_TIMESTAMP_FIELD[c];
  const docs = await db
    .collection(c)
    .find({}, { projection: { _id: 0, idDevice: 1, [field]: 1 } })
    .toArray();
  return docs.map((d: Document) => ({ idDevice: d.idDevice as number, t: (d[field] as Date).getTime() }));
}

async function devices(): Promise<Map<number, Record<string, unknown>>> {
  const { rows } = await targets.pg.query("SELECT * FROM device ORDER BY id");
  return new Map(rows.map((r) => [r.id as number, r]));
}

describe("load", () => {
  it("writes every collection, with the counts the generator reports", async () => {
    expect(loaded.status).toBe("loaded");
    for (const c of SOURCE_COLLECTIONS) {
      const count = await targets.mongo.collection(c).countDocuments({});
      expect(loaded.documents?.[c], c).toBeGreaterThan(0);
      expect(count, c).toBe(loaded.documents?.[c]);
    }
    for (const t of DDC_TABLES) {
      const { rows } = await targets.pg.query(`SELECT count(*)::int AS n FROM ${t}`);
      expect(rows[0].n, t).toBe(loaded.rows?.[t]);
      expect(rows[0].n, t).toBeGreaterThan(0);
    }
  });

  it("has, for every device, all documents older than last_log_date, and a few newer ones", async () => {
    const plan = planSnapshot(SMALL);
    const marks = new Map(
      [...(await devices())].map(([id, r]) => [id, (r.last_log_date as Date | null)?.getTime()]),
    );
    const inFlight = new Set<number>();
    for (const c of SOURCE_COLLECTIONS) {
      const stored = await stamps(targets.mongo, c);
      for (const device of plan.fleet.devices) {
        const mark = marks.get(device.id);
        const mine = stored.filter((s) => s.idDevice === device.id);
        if (mark === undefined) {
          expect(mine, `${c}: device ${device.id} has no last_log_date but documents`).toHaveLength(0);
          continue;
        }
        const horizon = dataHorizon(device, plan.clock) ?? 0;
        const range = {
          seed: SMALL.seed,
          device,
          from: device.installAt ?? 0,
          to: horizon,
          firmwareAt: constantFirmware(device),
        };
        const planned = [...deviceDocuments(c, range)].map((d) =>
          (d as Document)[SOURCE_TIMESTAMP_FIELD[c]].getTime(),
        );
        const olderThanMark = (ts: number[]) => ts.filter((t) => t < mark).length;
        expect(olderThanMark(mine.map((s) => s.t)), `${c} device ${device.id}`).toBe(olderThanMark(planned));
        if (mine.some((s) => s.t >= mark)) inFlight.add(device.id);
      }
    }
    expect(inFlight.size).toBeGreaterThan(0);
  });

  it("keeps references intact across tables and between MongoDB and ddc", async () => {
    const checks = [
      "SELECT count(*)::int AS n FROM device d LEFT JOIN company c ON c.id = d.id_company WHERE c.id IS NULL",
      "SELECT count(*)::int AS n FROM device d LEFT JOIN device_group g ON g.id = d.id_device_group WHERE d.id_device_group IS NOT NULL AND g.id IS NULL",
      "SELECT count(*)::int AS n FROM device d JOIN device_group g ON g.id = d.id_device_group WHERE g.id_company <> d.id_company",
      "SELECT count(*)::int AS n FROM recipe_company r WHERE NOT EXISTS (SELECT 1 FROM community_recipe x WHERE r.recipe_kind = 'community' AND x.id = r.id_recipe) AND NOT EXISTS (SELECT 1 FROM chefunox_recipe x WHERE r.recipe_kind = 'chefunox' AND x.id = r.id_recipe)",
      "SELECT count(*)::int AS n FROM device_recipe r WHERE NOT EXISTS (SELECT 1 FROM device_recipe_history h WHERE h.id_device_recipe = r.id AND h.action = 'create')",
    ];
    for (const sql of checks) expect((await targets.pg.query(sql)).rows[0].n, sql).toBe(0);
    const { rows } = await targets.pg.query(
      "SELECT count(*)::int AS n FROM information_schema.table_constraints WHERE constraint_type = 'FOREIGN KEY' AND table_schema = 'public'",
    );
    expect(rows[0].n).toBeGreaterThanOrEqual(12);
    const known = [...(await devices())].filter(([, r]) => r.last_log_date !== null).map(([id]) => id);
    for (const c of SOURCE_COLLECTIONS) {
      expect(await targets.mongo.collection(c).countDocuments({ idDevice: { $nin: known } }), c).toBe(0);
    }
  });

  it("indexes every collection on idDevice and its timestamp", async () => {
    for (const c of SOURCE_COLLECTIONS) {
      const indexes = await targets.mongo.collection(c).indexes();
      expect(
        indexes.map((i) => i.key),
        c,
      ).toContainEqual({ idDevice: 1, [SOURCE_TIMESTAMP_FIELD[c]]: 1 });
    }
  });

  it("leaves a loaded snapshot alone, refuses another one without --reset", async () => {
    expect((await loadSnapshot(targets, SMALL)).status).toBe("unchanged");
    await expect(loadSnapshot(targets, { ...SMALL, seed: 12 })).rejects.toThrow(SnapshotStateError);
  });

  it("keeps the loaded snapshot, whatever its settings, when asked to (npm start)", async () => {
    const kept = await loadSnapshot(targets, { ...SMALL, seed: 12, devices: 3, keepLoaded: true });
    expect(kept.status).toBe("unchanged");
    // The loaded snapshot's settings, not the ones asked for.
    expect(kept.config).toMatchObject({ seed: SMALL.seed, devices: SMALL.devices });
  });
});

describe("advance", () => {
  let before: {
    open: Document[];
    devices: Map<number, Record<string, unknown>>;
    recipeIds: Set<number>;
    history: Record<string, number>;
    counts: Record<string, number>;
  };
  let report: AdvanceReport;

  beforeAll(async () => {
    const count = async (t: string) =>
      (await targets.pg.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n;
    before = {
      open: await targets.mongo
        .collection("alarm")
        .find({ resetTS: { $exists: false } })
        .toArray(),
      devices: await devices(),
      recipeIds: new Set((await targets.pg.query("SELECT id FROM device_recipe")).rows.map((r) => r.id)),
      history: {
        device_recipe_history: await count("device_recipe_history"),
        device_ip_info_history: await count("device_ip_info_history"),
      },
      counts: Object.fromEntries(
        await Promise.all(
          SOURCE_COLLECTIONS.map(async (c) => [c, await targets.mongo.collection(c).countDocuments({})]),
        ),
      ),
    };
    report = await advanceSnapshot(targets, { days: 3 });
  });

  it("moves the clock and adds documents after each device's previous data", async () => {
    expect(report.to.getTime() - report.from.getTime()).toBe(3 * DAY_MS);
    for (const c of SOURCE_COLLECTIONS) {
      const count = await targets.mongo.collection(c).countDocuments({});
      expect(count, c).toBe((before.counts[c] ?? 0) + report.documents[c]);
    }
    const added = Object.values(report.documents).reduce((a, b) => a + b, 0);
    expect(added).toBeGreaterThan(0);
    const events = await targets.mongo
      .collection("events")
      .countDocuments({ timestamp: { $gte: report.from, $lt: report.to } });
    expect(events).toBe(report.documents.events);
  });

  it("clears some alarms that were open", async () => {
    const ids = before.open.map((a) => a._id);
    expect(ids.length).toBeGreaterThan(0);
    const cleared = await targets.mongo
      .collection("alarm")
      .find({ _id: { $in: ids }, resetTS: { $exists: true } })
      .toArray();
    expect(cleared.length).toBeGreaterThan(0);
    expect(cleared.length).toBe(report.alarmsReset);
    for (const a of cleared) expect(a.resetTS.getTime()).toBeGreaterThanOrEqual(a.activeTS.getTime());
  });

  it("moves last_log_date forward and changes devices, to and from NULL, bumping updated_at", async () => {
    const after = await devices();
    let moved = 0;
    let toNull = 0;
    let fromNull = 0;
    for (const [id, row] of after) {
      const old = before.devices.get(id) as Record<string, unknown>;
      const mark = row.last_log_date as Date | null;
      const oldMark = old.last_log_date as Date | null;
      if (oldMark) expect(mark?.getTime(), `device ${id}`).toBeGreaterThanOrEqual(oldMark.getTime());
      if (mark && (!oldMark || mark > oldMark)) moved++;
      const changed = ["id_firmware", "last_ip", "city"].filter((k) => row[k] !== old[k]);
      for (const k of changed) {
        if (row[k] === null) toNull++;
        if (old[k] === null) fromNull++;
      }
      if (changed.length > 0) {
        expect((row.updated_at as Date).getTime()).toBeGreaterThan((old.updated_at as Date).getTime());
      }
    }
    expect(moved).toBeGreaterThan(0);
    expect(toNull).toBeGreaterThan(0);
    expect(fromNull).toBeGreaterThan(0);
  });

  it("appends history rows and replaces device recipes under new ids", async () => {
    const count = async (t: string) =>
      (await targets.pg.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n;
    expect(await count("device_recipe_history")).toBeGreaterThan(before.history.device_recipe_history ?? 0);
    expect(await count("device_ip_info_history")).toBeGreaterThanOrEqual(
      before.history.device_ip_info_history ?? 0,
    );
    const ids = new Set(
      (await targets.pg.query("SELECT id FROM device_recipe")).rows.map((r) => r.id as number),
    );
    const gone = [...before.recipeIds].filter((id) => !ids.has(id));
    const fresh = [...ids].filter((id) => !before.recipeIds.has(id));
    expect(gone.length).toBeGreaterThan(0);
    expect(fresh.length).toBe(gone.length);
    expect(Math.min(...fresh)).toBeGreaterThan(Math.max(...before.recipeIds));
    const { rows } = await targets.pg.query(
      "SELECT action, count(*)::int AS n FROM device_recipe_history WHERE id_device_recipe = ANY($1) GROUP BY action",
      [[...gone, ...fresh]],
    );
    expect(Object.fromEntries(rows.map((r) => [r.action, r.n]))).toMatchObject({ delete: gone.length });
    // History ids increase with time, as the lake's append watermark assumes.
    const order = await targets.pg.query(
      "SELECT count(*)::int AS n FROM (SELECT recorded_at < lag(recorded_at) OVER (ORDER BY id) AS back FROM device_recipe_history) x WHERE back",
    );
    expect(order.rows[0].n).toBe(0);
  });
});

describe("reload", () => {
  it("gives identical data for the same seed, before and after an advance (checksums)", async () => {
    const run = async () => {
      await loadSnapshot(targets, { ...SMALL, reset: true });
      const loadedSum = await snapshotChecksum(targets);
      await advanceSnapshot(targets, { days: 2 });
      return { loaded: loadedSum, advanced: await snapshotChecksum(targets) };
    };
    const first = await run();
    const second = await run();
    expect(second.loaded).toEqual(first.loaded);
    expect(second.advanced).toEqual(first.advanced);
    expect(second.advanced.total).not.toBe(second.loaded.total);
  });
});

describe("load --collections", () => {
  it("loads only the chosen collections, with the documents a full load writes, and advances only them", async () => {
    const count = (c: SourceCollection) => targets.mongo.collection(c).countDocuments({});
    await loadSnapshot(targets, { ...SMALL, reset: true });
    const full = await snapshotChecksum(targets);
    await advanceSnapshot(targets, { days: 2 });
    const fullAdvanced = await snapshotChecksum(targets);

    const partial = await loadSnapshot(targets, { ...SMALL, collections: ["alarm"], reset: true });
    expect(partial.config.collections).toEqual(["alarm"]);
    const loadedSum = await snapshotChecksum(targets);
    expect(loadedSum.collections.alarm).toBe(full.collections.alarm);
    expect(loadedSum.tables).toEqual(full.tables);
    for (const c of SOURCE_COLLECTIONS) if (c !== "alarm") expect(await count(c), c).toBe(0);

    // The selection is part of the loaded snapshot: the same one is a no-op, another is refused.
    expect((await loadSnapshot(targets, { ...SMALL, collections: ["alarm"] })).status).toBe("unchanged");
    await expect(loadSnapshot(targets, SMALL)).rejects.toThrow(/collections alarm,/);

    const advanced = await advanceSnapshot(targets, { days: 2 });
    expect(advanced.documents.alarm).toBeGreaterThan(0);
    expect(advanced.alarmsReset).toBeGreaterThan(0);
    const advancedSum = await snapshotChecksum(targets);
    expect(advancedSum.collections.alarm).toBe(fullAdvanced.collections.alarm);
    expect(advancedSum.tables).toEqual(fullAdvanced.tables);
    for (const c of SOURCE_COLLECTIONS) if (c !== "alarm") expect(await count(c), c).toBe(0);
  });

  it("names an unknown collection", async () => {
    await expect(loadSnapshot(targets, { ...SMALL, collections: ["alarms"], reset: true })).rejects.toThrow(
      /unknown collection alarms; known: alarm, /,
    );
  });
});
