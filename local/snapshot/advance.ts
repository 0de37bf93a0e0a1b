/**
 * `snapshot advance`: move the snapshot clock forward. New documents for every reporting device
 * (from where its data stopped), `last_log_date` moved, open alarms cleared, devices changed,
 * recipes replaced under new ids, history rows appended. Deterministic given seed and clock.
 */

import type { AnyBulkWriteOperation, Db, Document, ObjectId } from "mongodb";
import pLimit from "p-limit";
import {
  type DeviceChange,
  ipHistoryFor,
  planDeviceChanges,
  planRecipeReplacements,
  planSettingsUpdates,
} from "./changes.js";
import { documentsOfDay, SOURCE_COLLECTIONS } from "./documents.js";
import { SnapshotStateError } from "./errors.js";
import { buildFleet, type DeviceProfile, dataHorizon, type Fleet, marksAt } from "./fleet.js";
import { DEFAULT_LOAD_CONCURRENCY } from "./load.js";
import { BatchWriter } from "./mongo.js";
import { deviceDocuments, type FirmwareTimeline } from "./plan.js";
import { GENERATOR_VERSION, insertRows, readState, writeState } from "./postgres.js";
import { daySchedule } from "./schedule.js";
import type { SnapshotTargets } from "./targets.js";
import { DAY_MS, dayOf } from "./time.js";
import type { DdcTables, ProgressLogger, SourceCollection } from "./types.js";

export interface AdvanceOptions {
  /** Whole days to move the clock by. */
  readonly days: number;
  readonly concurrency?: number;
  readonly log?: ProgressLogger;
}

export interface AdvanceReport {
  readonly from: Date;
  readonly to: Date;
  /** New documents per collection. */
  readonly documents: Record<SourceCollection, number>;
  /** Alarms that were open at `from` and got their `resetTS`. */
  readonly alarmsReset: number;
  readonly deviceChanges: readonly DeviceChange[];
  /** Devices whose `last_log_date` moved. */
  readonly marksMoved: number;
  /** `device_recipe` rows deleted and re-inserted under new ids. */
  readonly recipesReplaced: number;
  readonly settingsUpdated: number;
  /** Rows appended to the history tables. */
  readonly history: { readonly device_recipe_history: number; readonly device_ip_info_history: number };
  readonly durationMs: number;
}

/**
 * Advance the snapshot clock by `days`.
 * @throws {SnapshotStateError} when no snapshot (or one from another generator version) is loaded.
 */
export async function advanceSnapshot(
  targets: SnapshotTargets,
  options: AdvanceOptions,
): Promise<AdvanceReport> {
  const started = performance.now();
  if (!Number.isInteger(options.days) || options.days < 1) {
    throw new RangeError(`advance needs a whole number of days >= 1, got ${options.days}`);
  }
  const { pg, mongo } = targets;
  const state = await readState(pg);
  if (!state) throw new SnapshotStateError("no snapshot is loaded; run `snapshot load` first");
  if (state.version !== GENERATOR_VERSION) {
    throw new SnapshotStateError(
      `the snapshot was made by generator v${state.version}, this is v${GENERATOR_VERSION}; load with --reset`,
    );
  }
  const { seed } = state.config;
  const from = state.clock;
  const to = from + options.days * DAY_MS;
  const fleet = buildFleet(state.config);

  const devices = new Map(
    (await pg.query<DdcTables["device"]>("SELECT * FROM device ORDER BY id")).rows.map((r) => [r.id, r]),
  );
  const changes = planDeviceChanges(seed, fleet, devices, from, to);
  const firmware = firmwareTimelines(fleet, devices, changes);

  // MongoDB first: documents past a device's mark are normal ("in flight"), so a crash here
  // leaves a valid snapshot, and a rerun skips the documents already inserted (same `_id`s).
  const loaded = state.config.collections;
  const documents = await writeNewDocuments(mongo, fleet, seed, from, to, firmware, options, loaded);
  const alarmsReset = loaded.includes("alarm") ? await resetAlarms(mongo, fleet, seed, to, firmware) : 0;

  const recipes = (await pg.query<DdcTables["device_recipe"]>("SELECT * FROM device_recipe ORDER BY id"))
    .rows;
  const settings = (await pg.query<DdcTables["device_settings"]>("SELECT * FROM device_settings ORDER BY id"))
    .rows;
  const replacements = planRecipeReplacements(seed, fleet, recipes.map(withJsonText), from, to);
  const settingsUpdates = planSettingsUpdates(seed, fleet, settings.map(withJsonText), from, to);
  const marks = marksAt(seed, fleet.devices, to);

  let marksMoved = 0;
  const recipeHistory: Omit<DdcTables["device_recipe_history"], "id">[] = [];
  await pg.query("BEGIN");
  try {
    for (const c of changes) {
      const columns = Object.keys(c.set) as (keyof DeviceChange["set"])[];
      const assignments = columns.map((col, i) => `${col} = $${i + 3}`).join(", ");
      await pg.query(`UPDATE device SET updated_at = $2, ${assignments} WHERE id = $1`, [
        c.id,
        c.at,
        ...columns.map((col) => c.set[col] ?? null),
      ]);
    }
    for (const [id, mark] of marks) {
      const before = devices.get(id)?.last_log_date ?? null;
      if (mark && (!before || mark.getTime() !== before.getTime())) {
        // The uploader moves the mark without touching updated_at: it is not a user edit.
        await pg.query("UPDATE device SET last_log_date = $2 WHERE id = $1", [id, mark]);
        marksMoved++;
      }
    }
    for (const r of replacements) {
      await pg.query("DELETE FROM device_recipe WHERE id = $1", [r.old.id]);
      const inserted = await pg.query<{ id: number }>(
        `INSERT INTO device_recipe (id_device, name, category, steps, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [r.next.id_device, r.next.name, r.next.category, r.next.steps, r.next.created_at, r.next.updated_at],
      );
      const newId = inserted.rows[0]?.id as number;
      const at = r.next.created_at;
      recipeHistory.push(
        {
          id_device: r.old.id_device,
          id_device_recipe: r.old.id,
          action: "delete",
          name: r.old.name,
          recorded_at: at,
        },
        {
          id_device: r.next.id_device,
          id_device_recipe: newId,
          action: "create",
          name: r.next.name,
          recorded_at: at,
        },
      );
    }
    for (const s of settingsUpdates) {
      await pg.query("UPDATE device_settings SET settings = $2, updated_at = $3 WHERE id = $1", [
        s.id,
        s.settings,
        s.updated_at,
      ]);
    }
    // History ids come from identities and must increase with time: insert in time order.
    // (Sorting is stable, so a delete stays before the create at the same instant.)
    const byTime = <T extends { recorded_at: Date }>(rows: T[]) =>
      rows.sort((a, b) => a.recorded_at.getTime() - b.recorded_at.getTime());
    const ipHistory = byTime(ipHistoryFor(fleet, devices, changes, seed));
    await insertRows(
      pg,
      "device_recipe_history",
      byTime(recipeHistory) as DdcTables["device_recipe_history"][],
    );
    await insertRows(pg, "device_ip_info_history", ipHistory as DdcTables["device_ip_info_history"][]);
    await writeState(pg, { ...state, clock: to });
    await pg.query("COMMIT");

    const report: AdvanceReport = {
      from: new Date(from),
      to: new Date(to),
      documents,
      alarmsReset,
      deviceChanges: changes,
      marksMoved,
      recipesReplaced: replacements.length,
      settingsUpdated: settingsUpdates.length,
      history: { device_recipe_history: recipeHistory.length, device_ip_info_history: ipHistory.length },
      durationMs: Math.round(performance.now() - started),
    };
    options.log?.info({ ...report, deviceChanges: changes.length }, "snapshot advanced");
    return report;
  } catch (error) {
    await pg.query("ROLLBACK");
    throw error;
  }
}

/** pg returns jsonb as parsed values; the generator's rows carry JSON text (the lake contract). */
function withJsonText<T extends { steps?: unknown; settings?: unknown }>(
  row: T,
): T & { steps: string; settings: string } {
  const out = { ...row } as Record<string, unknown>;
  for (const key of ["steps", "settings"]) {
    if (key in out && typeof out[key] !== "string") out[key] = JSON.stringify(out[key]);
  }
  return out as T & { steps: string; settings: string };
}

/** Firmware of each device over the new window: the current id, then the planned change. */
function firmwareTimelines(
  fleet: Fleet,
  devices: ReadonlyMap<number, DdcTables["device"]>,
  changes: readonly DeviceChange[],
): Map<number, FirmwareTimeline> {
  const byId = new Map(changes.map((c) => [c.id, c]));
  return new Map(
    fleet.devices.map((d) => {
      const before = devices.get(d.id)?.id_firmware ?? null;
      const change = byId.get(d.id);
      if (!change || !("id_firmware" in change.set)) return [d.id, () => before];
      const at = change.at.getTime();
      const after = change.set.id_firmware ?? null;
      return [d.id, (ms: number) => (ms >= at ? after : before)];
    }),
  );
}

async function writeNewDocuments(
  mongo: Db,
  fleet: Fleet,
  seed: number,
  from: number,
  to: number,
  firmware: ReadonlyMap<number, FirmwareTimeline>,
  options: AdvanceOptions,
  loaded: readonly SourceCollection[],
): Promise<Record<SourceCollection, number>> {
  const documents = Object.fromEntries(SOURCE_COLLECTIONS.map((c) => [c, 0])) as Record<
    SourceCollection,
    number
  >;
  const limit = pLimit(options.concurrency ?? DEFAULT_LOAD_CONCURRENCY);
  // Only the collections the snapshot was loaded with: the others stay empty.
  const tasks = loaded.map((collection) => async () => {
    const writer = new BatchWriter(mongo, collection, true);
    for (const device of fleet.devices) {
      const horizon = dataHorizon(device, to);
      if (horizon === null || device.installAt === null) continue;
      // Each device continues where its data stopped (its install day if that is later).
      const start = Math.max(device.installAt, from);
      if (start >= horizon) continue;
      const range = {
        seed,
        device,
        from: start,
        to: horizon,
        firmwareAt: firmware.get(device.id) ?? (() => null),
      };
      for (const doc of deviceDocuments(collection, range)) await writer.add(doc);
    }
    await writer.flush();
    documents[collection] = writer.written;
  });
  await Promise.all(tasks.map((task) => limit(task)));
  return Object.fromEntries(SOURCE_COLLECTIONS.map((c) => [c, documents[c]])) as Record<
    SourceCollection,
    number
  >;
}

/**
 * Updates per `bulkWrite` of {@link resetAlarms}. FerretDB 1.24 (PostgreSQL backend) hung on one
 * unordered bulkWrite of ~1,000 `updateOne`s (3,000 devices, alarm only): all 50 pooled
 * PostgreSQL connections idle, no reply, for good. Small batches never got near it.
 */
const RESET_BATCH = 25;

/**
 * Set `resetTS` on the open alarms whose planned reset is now before their device's horizon.
 * The plan is recovered by regenerating the alarm's day: `_id`s are deterministic.
 */
async function resetAlarms(
  mongo: Db,
  fleet: Fleet,
  seed: number,
  to: number,
  firmware: ReadonlyMap<number, FirmwareTimeline>,
): Promise<number> {
  const byId = new Map<number, DeviceProfile>(fleet.devices.map((d) => [d.id, d]));
  const open = await mongo
    .collection("alarm")
    .find({ resetTS: { $exists: false } }, { projection: { _id: 1, idDevice: 1, activeTS: 1 } })
    .toArray();
  const updates: AnyBulkWriteOperation<Document>[] = [];
  const days = new Map<string, Map<string, Document>>();
  for (const alarm of open) {
    const device = byId.get(alarm.idDevice as number);
    const horizon = device ? dataHorizon(device, to) : null;
    if (!device || horizon === null) continue;
    const day = dayOf((alarm.activeTS as Date).getTime());
    const key = `${device.id}:${day}`;
    let planned = days.get(key);
    if (!planned) {
      const ctx = {
        seed,
        device,
        schedule: daySchedule(seed, device, day),
        horizon: Number.POSITIVE_INFINITY,
        firmwareAt: firmware.get(device.id) ?? (() => null),
      };
      planned = new Map(documentsOfDay("alarm", ctx).map((d) => [d._id.toHexString(), d as Document]));
      days.set(key, planned);
    }
    const doc = planned.get((alarm._id as ObjectId).toHexString());
    const resetTS = doc?.resetTS as Date | undefined;
    if (resetTS && resetTS.getTime() < horizon) {
      updates.push({
        updateOne: { filter: { _id: alarm._id }, update: { $set: { resetTS, resetMail: doc?.resetMail } } },
      });
    }
  }
  let modified = 0;
  for (let i = 0; i < updates.length; i += RESET_BATCH) {
    const batch = updates.slice(i, i + RESET_BATCH);
    modified += (await mongo.collection("alarm").bulkWrite(batch, { ordered: false })).modifiedCount;
  }
  return modified;
}
