/**
 * What the parent hands each child process of the ingestion benchmark (a JSON file), and what
 * every child opens from it.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { DeviceTarget } from "../../../pipeline/ingest/worker.js";

/**
 * The repository. The bundled children learn it from the parent (`INGEST_BENCH_ROOT`): in the
 * bundle, `import.meta.url` is the bundle's file in `.local/build`.
 */
export const ROOT =
  process.env.INGEST_BENCH_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export const MiB = 1024 * 1024;

/** One measurement, one child process: peak RSS is per process. */
export type Mode = "cursor" | "worker" | "stages" | "record" | "replay" | "encode" | "duckdb";

export const MODES: readonly Mode[] = ["cursor", "worker", "stages", "record", "replay", "encode", "duckdb"];

export interface Context {
  readonly mongodbUrl: string;
  readonly mongodbDatabase: string;
  readonly supportUrl: string;
  /** A second support database, for the stages run's commits. */
  readonly stagesSupportUrl: string;
  readonly collection: string;
  /** The worker's batch: what the plan hands one worker on a fresh support database. */
  readonly devices: readonly { idDevice: number; lastLogDate: string }[];
  /** The collection's scratch folder: lake, NDJSON, Parquet outputs. */
  readonly dir: string;
  /** The window of the record and replay children (the scaling runs); unset: the worker's default. */
  readonly windowMs?: number;
}

export async function readContext(path: string): Promise<Context> {
  return JSON.parse(await readFile(path, "utf8")) as Context;
}

export const targetsOf = (ctx: Context): DeviceTarget[] =>
  ctx.devices.map((d) => ({ idDevice: d.idDevice, lastLogDate: new Date(d.lastLogDate) }));
