/**
 * `snapshot load`: write a planned snapshot to PostgreSQL (`ddc`) and MongoDB.
 */

import { availableParallelism } from "node:os";
import type { Db } from "mongodb";
import pLimit from "p-limit";
import { SOURCE_COLLECTIONS } from "./documents.js";
import { SnapshotStateError } from "./errors.js";
import type { DeviceProfile } from "./fleet.js";
import { BatchWriter, dropCollections, ensureIndexes } from "./mongo.js";
import { deviceDocuments, loadRange, planSnapshot, type SnapshotPlan } from "./plan.js";
import {
  applyDdl,
  DDC_TABLES,
  GENERATOR_VERSION,
  insertRows,
  readState,
  syncIdentity,
  truncateAll,
  writeState,
} from "./postgres.js";
import { resolveSnapshotConfig, type SnapshotOptions } from "./scales.js";
import type { SnapshotTargets } from "./targets.js";
import type { DdcTableName, ProgressLogger, SnapshotConfig, SourceCollection } from "./types.js";

/**
 * MongoDB writers at once. FerretDB spends CPU converting each document, so writers beyond the
 * cores only queue (measured: 2, 4 and 8 writers on 2 cores load the default scale alike).
 */
export const DEFAULT_LOAD_CONCURRENCY = Math.min(4, Math.max(2, availableParallelism()));

export interface LoadOptions extends SnapshotOptions {
  /** Drop and recreate tables and collections first. */
  readonly reset?: boolean;
  /** Collections written at the same time (default {@link DEFAULT_LOAD_CONCURRENCY}). */
  readonly concurrency?: number;
  readonly log?: ProgressLogger;
  /**
   * Keep whatever snapshot of this generator is loaded, whatever its settings (`npm start`: a
   * snapshot loaded at another scale is the one to run on); load the requested one only when
   * none is.
   */
  readonly keepLoaded?: boolean;
}

export interface LoadReport {
  /** `unchanged` when the same snapshot was already loaded (nothing was written). */
  readonly status: "loaded" | "unchanged";
  readonly config: SnapshotConfig;
  /** Snapshot clock after the command. */
  readonly clock: Date;
  /**
   * Documents written per collection; null when unchanged (counting is a full scan on FerretDB,
   * seconds for `variable_logs`: `snapshot show` counts on request).
   */
  readonly documents: Record<SourceCollection, number> | null;
  /** Rows written per `ddc` table; null when unchanged. */
  readonly rows: Record<DdcTableName, number> | null;
  readonly durationMs: number;
}

/** One writer's share: a collection, or a slice of its devices for the heavy collection. */
export interface WriteTask {
  readonly collection: SourceCollection;
  readonly devices: readonly DeviceProfile[];
}

/**
 * Writer tasks of the chosen collections, longest first. `variable_logs` (~10 KB documents, most
 * of the bytes) is split by device into `concurrency` slices: FerretDB converts each document on
 * one connection at a time, so parallel connections are what shortens a load. So is a lone
 * collection (`load --collections alarm`), which would otherwise write on one connection.
 */
export function writeTasks(
  devices: readonly DeviceProfile[],
  concurrency: number,
  collections: readonly SourceCollection[] = SOURCE_COLLECTIONS,
): WriteTask[] {
  const slices = Math.max(1, concurrency);
  const split = (collection: SourceCollection): WriteTask[] =>
    Array.from({ length: slices }, (_, k) => ({
      collection,
      devices: devices.filter((_, i) => i % slices === k),
    }));
  const chosen = SOURCE_COLLECTIONS.filter((c) => collections.includes(c));
  if (chosen.length === 1) return split(chosen[0] as SourceCollection);
  const heavy = chosen.includes("variable_logs") ? split("variable_logs") : [];
  const rest = chosen.filter((c) => c !== "variable_logs").map((collection) => ({ collection, devices }));
  return [...heavy, ...rest];
}

const sameConfig = (a: SnapshotConfig, b: SnapshotConfig) =>
  a.seed === b.seed &&
  a.scale === b.scale &&
  a.devices === b.devices &&
  a.days === b.days &&
  a.end === b.end &&
  a.collections.join() === b.collections.join();

/**
 * Load a snapshot. Without `reset`, a snapshot already loaded with the same settings is left as
 * it is (it may have been advanced since), and one with other settings is an error; a load that
 * never finished (no state row) is cleared and redone.
 * @throws {SnapshotStateError} when another snapshot is loaded and `reset` is not set.
 */
export async function loadSnapshot(targets: SnapshotTargets, options: LoadOptions = {}): Promise<LoadReport> {
  const started = performance.now();
  const config = resolveSnapshotConfig(options);
  const { pg, mongo } = targets;
  const log = options.log;

  await applyDdl(pg, options.reset ?? false);
  if (options.reset) await dropCollections(mongo);
  const state = await readState(pg);
  if (state) {
    const keep = options.keepLoaded && !options.reset;
    if (state.version === GENERATOR_VERSION && (keep || sameConfig(state.config, config))) {
      log?.info({ clock: new Date(state.clock) }, "snapshot already loaded; nothing to do");
      return {
        status: "unchanged",
        config: state.config,
        clock: new Date(state.clock),
        documents: null,
        rows: null,
        durationMs: Math.round(performance.now() - started),
      };
    }
    throw new SnapshotStateError(
      `a different snapshot is loaded (seed ${state.config.seed}, ${state.config.devices} devices, ` +
        `${state.config.days} days, collections ${state.config.collections.join(",")}, ` +
        `generator v${state.version}); load with --reset to replace it`,
    );
  }
  // No state row: nothing, or the remains of a load that did not finish.
  await truncateAll(pg);
  await dropCollections(mongo);

  const plan = planSnapshot(config);
  log?.info({ config, devices: plan.fleet.devices.length }, "snapshot planned");

  await pg.query("BEGIN");
  try {
    for (const name of DDC_TABLES) await insertRows(pg, name, plan.rows[name]);
    await syncIdentity(pg, "device_recipe");
    await pg.query("COMMIT");
  } catch (error) {
    await pg.query("ROLLBACK");
    throw error;
  }
  const rows = Object.fromEntries(DDC_TABLES.map((t) => [t, plan.rows[t].length])) as Record<
    DdcTableName,
    number
  >;
  log?.info({ rows }, "ddc rows written");

  const documents = await writeCollections(mongo, plan, options.concurrency ?? DEFAULT_LOAD_CONCURRENCY, log);
  await ensureIndexes(mongo);
  // The state row goes last: its presence says the load finished.
  await writeState(pg, { config, version: GENERATOR_VERSION, clock: plan.clock });
  const durationMs = Math.round(performance.now() - started);
  log?.info({ documents, durationMs }, "snapshot loaded");
  return { status: "loaded", config, clock: new Date(plan.clock), documents, rows, durationMs };
}

async function writeCollections(
  mongo: Db,
  plan: SnapshotPlan,
  concurrency: number,
  log: ProgressLogger | undefined,
): Promise<Record<SourceCollection, number>> {
  const documents = Object.fromEntries(SOURCE_COLLECTIONS.map((c) => [c, 0])) as Record<
    SourceCollection,
    number
  >;
  const limit = pLimit(concurrency);
  const tasks = writeTasks(plan.fleet.devices, concurrency, plan.config.collections).map(
    ({ collection, devices }) =>
      async () => {
        const t0 = performance.now();
        const writer = new BatchWriter(mongo, collection);
        for (const device of devices) {
          const range = loadRange(plan, device);
          if (!range) continue;
          for (const doc of deviceDocuments(collection, range)) await writer.add(doc);
        }
        await writer.flush();
        documents[collection] += writer.written;
        log?.info(
          { collection, documents: writer.written, ms: Math.round(performance.now() - t0) },
          "documents written",
        );
      },
  );
  await Promise.all(tasks.map((task) => limit(task)));
  return documents;
}
