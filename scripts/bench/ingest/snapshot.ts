/**
 * The benchmark's data: a synthetic snapshot loaded once into throwaway databases (MongoDB
 * `bench_<id>`, PostgreSQL `bench_<id>_ddc`, `bench_<id>_support` and `bench_<id>_stages`) and a
 * scratch folder, all dropped at the end unless kept; and each collection's worker batch, as the
 * plan cuts it from `ddc` on a fresh support database.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import pg from "pg";
import { loadLocalConfig } from "../../../local/config.js";
import { type DeviceRow, planBatches } from "../../../pipeline/ingest/plan.js";
import { readDevices } from "../../../pipeline/ingest/plan-pass.js";
import { applyMigrations } from "../../../pipeline/support/index.js";
import type { Context } from "./context.js";

export interface SnapshotSize {
  readonly seed: number;
  readonly devices: number;
  readonly days: number;
  /** The collections loaded into MongoDB (default: every one). */
  readonly collections?: readonly string[];
}

export interface LoadedSnapshot {
  /** Documents written per collection. */
  readonly documents: Readonly<Record<string, number>>;
  readonly durationMs: number;
  /** `ddc.device` as the plan reads it. */
  readonly devices: readonly DeviceRow[];
}

export interface Scratch {
  /** The MongoDB database, and the prefix of the PostgreSQL ones. */
  readonly name: string;
  readonly dir: string;
  readonly mongodbUrl: string;
  readonly supportUrl: string;
  readonly stagesSupportUrl: string;
  /** Create the databases, load the snapshot, migrate both support databases. */
  load(size: SnapshotSize): Promise<LoadedSnapshot>;
  /** Drop everything (or, with `keep`, print what was kept); safe after a partial `load`. */
  dispose(keep: boolean): Promise<void>;
}

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function openScratch(): Promise<Scratch> {
  const config = loadLocalConfig();
  const name = `bench_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const ddcDb = `${name}_ddc`;
  const supportDb = `${name}_support`;
  const stagesDb = `${name}_stages`;
  const dir = await mkdtemp(join(tmpdir(), "ingest-bench-"));
  const admin = new pg.Client({ connectionString: config.DDC_DATABASE_URL });
  await admin.connect();
  const supportUrl = withDb(config.DDC_DATABASE_URL, supportDb);
  const stagesSupportUrl = withDb(config.DDC_DATABASE_URL, stagesDb);
  // The snapshot generator is the parent's alone: loaded here, it stays out of the children.
  const snapshot = await import("../../../local/snapshot/index.js");
  let targets: Awaited<ReturnType<typeof snapshot.openTargets>> | undefined;
  let disposed = false;

  return {
    name,
    dir,
    mongodbUrl: config.MONGODB_URL,
    supportUrl,
    stagesSupportUrl,
    async load(size) {
      for (const db of [ddcDb, supportDb, stagesDb]) await admin.query(`CREATE DATABASE ${db}`);
      targets = await snapshot.openTargets({
        ddcDatabaseUrl: withDb(config.DDC_DATABASE_URL, ddcDb),
        mongodbUrl: config.MONGODB_URL,
        mongodbDatabase: name,
      });
      const loaded = await snapshot.loadSnapshot(targets, { ...size, reset: true });
      const devices = await readDevices(targets.pg);
      await applyMigrations(supportUrl);
      await applyMigrations(stagesSupportUrl);
      return { documents: loaded.documents ?? {}, durationMs: loaded.durationMs, devices };
    },
    async dispose(keep) {
      if (disposed) return;
      disposed = true;
      if (keep) {
        console.log(
          `kept: MongoDB database ${name}, PostgreSQL databases ${ddcDb}, ${supportDb} and ${stagesDb}, folder ${dir}`,
        );
      } else {
        await targets?.mongo.dropDatabase().catch(() => undefined);
      }
      await targets?.close();
      if (!keep) {
        for (const db of [ddcDb, supportDb, stagesDb]) {
          await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
        }
        await rm(dir, { recursive: true, force: true });
      }
      await admin.end();
    },
  };
}

/**
 * The devices one worker gets for `collection` from the plan (`planBatches`, one worker) on a
 * fresh support database: every device with a `last_log_date`.
 */
export function workerBatch(devices: readonly DeviceRow[], collection: string): Context["devices"] {
  const batches = planBatches({
    mode: "bulk",
    devices,
    bookmarks: new Map(),
    workers: { bulk: { [collection]: 1 }, operations: {} },
    collections: [collection],
  });
  return batches.flatMap((b) =>
    b.devices.map((d) => ({ idDevice: d.idDevice, lastLogDate: d.lastLogDate.toISOString() })),
  );
}

/**
 * The `n` devices of `batch` with the most documents in `collection`: the devices whose data spans
 * most of the snapshot (installs are spread over it), for the scaling runs' long windows.
 */
export async function busiestDevices(
  scratch: Pick<Scratch, "mongodbUrl" | "name">,
  collection: string,
  batch: Context["devices"],
  n: number,
): Promise<Context["devices"]> {
  const client = new MongoClient(scratch.mongodbUrl, { serverSelectionTimeoutMS: 5000 });
  try {
    const coll = client.db(scratch.name).collection(collection);
    const counted = [];
    for (const d of batch) counted.push({ d, count: await coll.countDocuments({ idDevice: d.idDevice }) });
    return counted
      .sort((a, b) => b.count - a.count)
      .slice(0, n)
      .map((c) => c.d);
  } finally {
    await client.close();
  }
}
