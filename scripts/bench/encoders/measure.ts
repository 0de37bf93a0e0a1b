/**
 * One encoder measured in one child process (peak RSS is per process), in one of two modes:
 *
 * - `memory`: rows already in memory (read from the NDJSON before the clock starts), written
 *   twice: as one object (every row of the shape, the lake's row groups) and as one object per
 *   device (the worker's unit: a window), each timed in wall and CPU time.
 * - `stream`: rows parsed from the NDJSON as the writer pulls them, one object, nothing held:
 *   the peak RSS of the writer as the worker runs it (bounded by the row group, not the rows).
 *
 * DuckDB is the reference: its rows are in a DuckDB table before the clock starts (`memory`) or
 * read by `read_json` as it writes (`stream`); `COPY ... TO ... (FORMAT parquet)` on one thread,
 * same compression and row-group size.
 */
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { LocalObjectStore } from "../../../pipeline/lake/local-store.js";
import type { ObjectStore } from "../../../pipeline/lake/object-store.js";
import { PARQUET_WRITER_OPTIONS } from "../../../pipeline/lake/parquet-file.js";
import { writeParquetObject } from "../../../pipeline/lake/parquet-object.js";
import {
  type CollectionEntry,
  collection,
  type LakeRow,
  type RegistryEntry,
} from "../../../pipeline/schema/index.js";
import { DUCK_TYPE, sqlString as sql } from "../ingest/duckdb.js";
import { fromArray, ndjsonRows } from "../ingest/rows.js";
import type { Phases } from "./wasm-writer.js";

/** The worker's own writer (pipeline/lake/parquet/), named so in the JSON file (`ours`). */
export const OURS = "lake";

export const ENCODERS = [OURS, "parquet-wasm", "parquet-wasm-plain", "duckdb", "duckdb-appender"] as const;
export type Encoder = (typeof ENCODERS)[number];
export type Mode = "memory" | "stream";

export interface Timing {
  readonly ms: number;
  /** CPU time of the whole process (every thread: GC, the file writes, DuckDB's). */
  readonly cpuMs: number;
  readonly bytes: number;
  readonly objects: number;
}

export interface ChildReport {
  readonly encoder: Encoder;
  readonly mode: Mode;
  readonly rows: number;
  /** One object of every row (memory and stream modes). */
  readonly one: Timing;
  /** One object per device (memory mode only). */
  readonly perDevice: Timing | null;
  /** RSS once the rows were loaded, before writing (memory mode), in MiB. */
  readonly loadedRssMiB: number;
  readonly peakRssMiB: number;
  readonly version: string;
  /** parquet-wasm, one object from memory: milliseconds in each step (wasm-writer.ts). */
  readonly phases?: Record<string, number>;
}

export interface ChildArgs {
  readonly encoder: Encoder;
  readonly mode: Mode;
  readonly shape: string;
  readonly rowsFile: string;
  readonly dir: string;
}

const MiB = 1024 * 1024;
/** Rows of each untimed write before the timed ones (memory mode). */
const WARM_UP_ROWS = 2_000;
/**
 * Untimed writes before the timed ones, at least this many and for at least WARM_UP_MS: a
 * worker writes window after window for minutes, so the timed writes should run on the code V8
 * has optimised by then. One write of 2,000 rows leaves a JavaScript encoder half way through
 * its tiers (a 5,486-row alarm object took 59 ms after it, 5 ms after 15 writes).
 */
const WARM_UP_WRITES = 8;
const WARM_UP_MS = 300;

/** Run `write` (an untimed warm-up write) until both warm-up floors are passed. */
async function warmUp(write: (i: number) => Promise<unknown>): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < WARM_UP_WRITES || performance.now() - start < WARM_UP_MS; i++) await write(i);
}
const peakRssMiB = () => (process.resourceUsage().maxRSS * 1024) / MiB;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** A stream run's report: one object from rows written as they are read, none held in memory. */
function streamReport(args: ChildArgs, rows: number, one: Timing, version: string): ChildReport {
  return {
    encoder: args.encoder,
    mode: args.mode,
    rows,
    one,
    perDevice: null,
    loadedRssMiB: 0,
    peakRssMiB: peakRssMiB(),
    version,
  };
}

async function timed(run: () => Promise<{ bytes: number; objects: number }>): Promise<Timing> {
  const c0 = cpuMs();
  const t0 = performance.now();
  const { bytes, objects } = await run();
  return { ms: performance.now() - t0, cpuMs: cpuMs() - c0, bytes, objects };
}

/** Rows of one device after another, as the NDJSON holds them. */
function byDevice(rows: readonly LakeRow[]): LakeRow[][] {
  const groups: LakeRow[][] = [];
  let last: unknown;
  for (const row of rows) {
    if (row.id_device !== last || groups.length === 0) groups.push([]);
    (groups.at(-1) as LakeRow[]).push(row);
    last = row.id_device;
  }
  return groups;
}

type Write = (
  entry: RegistryEntry,
  rows: AsyncIterable<LakeRow>,
  store: ObjectStore,
  key: string,
  phases?: Record<string, number>,
) => Promise<{ rows: number; bytes: number } | null>;

async function writerOf(encoder: Encoder): Promise<{ write: Write; version: string }> {
  switch (encoder) {
    case OURS:
      return { write: (e, r, s, k) => writeParquetObject(e, r, s, k), version: "pipeline/lake/parquet" };
    case "parquet-wasm":
    case "parquet-wasm-plain": {
      const { writeWithParquetWasm } = await import("./wasm-writer.js");
      const dictionary = encoder === "parquet-wasm";
      return {
        write: (e, r, s, k, phases) =>
          writeWithParquetWasm(e, r, s, k, { dictionary, phases: phases as Phases | undefined }),
        version: "parquet-wasm + apache-arrow",
      };
    }
    default:
      throw new Error(`${encoder} is not a Node writer`);
  }
}

async function nodeEncoder(args: ChildArgs): Promise<ChildReport> {
  const entry = collection(args.shape);
  const { write, version } = await writerOf(args.encoder);
  const store = new LocalObjectStore(join(args.dir, args.encoder));
  if (args.mode === "stream") {
    const one = await timed(async () => {
      const w = await write(entry, ndjsonRows(args.rowsFile, entry), store, `${entry.name}/stream.parquet`);
      return { bytes: w?.bytes ?? 0, objects: 1 };
    });
    const rows = await countRows(args.rowsFile, entry);
    return streamReport(args, rows, one, version);
  }
  const rows: LakeRow[] = [];
  for await (const row of ndjsonRows(args.rowsFile, entry)) rows.push(row);
  const devices = byDevice(rows);
  (globalThis as { gc?: () => void }).gc?.();
  const loadedRssMiB = process.memoryUsage().rss / MiB;
  // Warm-up, untimed: the worker writes many objects per invocation, so the timed write runs
  // on optimised code, as DuckDB's does.
  await warmUp((i) =>
    write(entry, fromArray(rows.slice(0, WARM_UP_ROWS)), store, `${entry.name}/warm-up-${i}.parquet`),
  );
  const phases = args.encoder.startsWith("parquet-wasm") ? { arrow: 0, ipc: 0, wasm: 0 } : undefined;
  const one = await timed(async () => {
    const w = await write(entry, fromArray(rows), store, `${entry.name}/all.parquet`, phases);
    return { bytes: w?.bytes ?? 0, objects: 1 };
  });
  const perDevice = await timed(async () => {
    let bytes = 0;
    for (const [i, part] of devices.entries()) {
      const w = await write(entry, fromArray(part), store, `${entry.name}/idDevice=${i}/0.parquet`);
      bytes += w?.bytes ?? 0;
    }
    return { bytes, objects: devices.length };
  });
  return {
    encoder: args.encoder,
    mode: args.mode,
    rows: rows.length,
    one,
    perDevice,
    loadedRssMiB,
    peakRssMiB: peakRssMiB(),
    version,
    ...(phases && { phases }),
  };
}

async function countRows(path: string, entry: CollectionEntry): Promise<number> {
  let n = 0;
  for await (const _ of ndjsonRows(path, entry)) n++;
  return n;
}

async function duckdbEncoder(args: ChildArgs): Promise<ChildReport> {
  // A native add-on, loaded from node_modules (never bundled), and only by this child.
  const { DuckDBInstance, DuckDBTimestampValue } = await import("@duckdb/node-api");
  const entry = collection(args.shape);
  const columns = entry.columns.map((c) => `${sql(c.name)}: ${sql(DUCK_TYPE[c.type])}`).join(", ");
  const source = `read_json(${sql(args.rowsFile)}, format = 'newline_delimited', columns = {${columns}})`;
  const options = `(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${PARQUET_WRITER_OPTIONS.rowGroupSize})`;
  const out = join(args.dir, args.encoder);
  await mkdir(out, { recursive: true });
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const conn = await instance.connect();
  try {
    const version = String((await conn.runAndReadAll("SELECT version() AS v")).getRowObjectsJS()[0]?.v);
    const copy = async (from: string, path: string) => {
      await conn.run(`COPY ${from} TO ${sql(path)} ${options}`);
      return (await stat(path)).size;
    };
    if (args.mode === "stream" && args.encoder === "duckdb") {
      const one = await timed(async () => ({
        bytes: await copy(`(SELECT * FROM ${source})`, join(out, "stream.parquet")),
        objects: 1,
      }));
      const rows = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${source}`)).getRowsJS()[0]?.[0]);
      return streamReport(args, rows, one, version);
    }
    let rows: number;
    if (args.encoder === "duckdb") {
      await conn.run(`CREATE TABLE t AS SELECT * FROM ${source}`);
      rows = Number((await conn.runAndReadAll("SELECT count(*) FROM t")).getRowsJS()[0]?.[0]);
      const devices = (await conn.runAndReadAll("SELECT DISTINCT id_device FROM t ORDER BY 1"))
        .getRowsJS()
        .map((r) => Number(r[0]));
      const loadedRssMiB = process.memoryUsage().rss / MiB;
      await warmUp((i) => copy(`(SELECT * FROM t LIMIT ${WARM_UP_ROWS})`, join(out, `warm-up-${i}.parquet`)));
      const one = await timed(async () => ({ bytes: await copy("t", join(out, "all.parquet")), objects: 1 }));
      const perDevice = await timed(async () => {
        let bytes = 0;
        for (const d of devices)
          bytes += await copy(`(SELECT * FROM t WHERE id_device = ${d})`, join(out, `d${d}.parquet`));
        return { bytes, objects: devices.length };
      });
      return {
        encoder: args.encoder,
        mode: args.mode,
        rows,
        one,
        perDevice,
        loadedRssMiB,
        peakRssMiB: peakRssMiB(),
        version,
      };
    }
    // duckdb-appender: JS rows → DuckDB's appender → a table (the whole object: a Parquet file
    // cannot grow by one COPY per row group) → COPY to a file → the store.
    const store = new LocalObjectStore(join(out, "store"));
    const { createReadStream } = await import("node:fs");
    const ddl = entry.columns.map((c) => `"${c.name}" ${DUCK_TYPE[c.type]}`).join(", ");
    let n = 0;
    const writeOne = async (part: AsyncIterable<LakeRow>, key: string) => {
      const table = `a${n++}`;
      await conn.run(`CREATE TABLE ${table} (${ddl})`);
      const appender = await conn.createAppender(table);
      for await (const row of part) {
        for (const c of entry.columns) {
          const v = row[c.name];
          if (v === null || v === undefined) appender.appendNull();
          else if (c.type === "string" || c.type === "json") appender.appendVarchar(v as string);
          else if (c.type === "int32") appender.appendInteger(v as number);
          else if (c.type === "int64") appender.appendBigInt(BigInt(v as number));
          else if (c.type === "float64") appender.appendDouble(v as number);
          else if (c.type === "boolean") appender.appendBoolean(v as boolean);
          else appender.appendTimestamp(new DuckDBTimestampValue(BigInt((v as Date).getTime()) * 1000n));
        }
        appender.endRow();
      }
      appender.closeSync();
      const path = join(out, `${table}.parquet`);
      await copy(table, path);
      await conn.run(`DROP TABLE ${table}`);
      const info = await store.put(key, createReadStream(path));
      await rm(path);
      return info.bytes;
    };
    if (args.mode === "stream") {
      const one = await timed(async () => ({
        bytes: await writeOne(ndjsonRows(args.rowsFile, entry), `${entry.name}/stream.parquet`),
        objects: 1,
      }));
      const rows = await countRows(args.rowsFile, entry);
      return streamReport(args, rows, one, version);
    }
    const all: LakeRow[] = [];
    for await (const row of ndjsonRows(args.rowsFile, entry)) all.push(row);
    const groups = byDevice(all);
    rows = all.length;
    (globalThis as { gc?: () => void }).gc?.();
    const loadedRssMiB = process.memoryUsage().rss / MiB;
    await warmUp((i) =>
      writeOne(fromArray(all.slice(0, WARM_UP_ROWS)), `${entry.name}/warm-up-${i}.parquet`),
    );
    const one = await timed(async () => ({
      bytes: await writeOne(fromArray(all), `${entry.name}/all.parquet`),
      objects: 1,
    }));
    const perDevice = await timed(async () => {
      let bytes = 0;
      for (const [i, part] of groups.entries())
        bytes += await writeOne(fromArray(part), `${entry.name}/idDevice=${i}/0.parquet`);
      return { bytes, objects: groups.length };
    });
    return {
      encoder: args.encoder,
      mode: args.mode,
      rows,
      one,
      perDevice,
      loadedRssMiB,
      peakRssMiB: peakRssMiB(),
      version,
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export async function measure(args: ChildArgs): Promise<ChildReport> {
  try {
    return await (args.encoder === "duckdb" || args.encoder === "duckdb-appender"
      ? duckdbEncoder(args)
      : nodeEncoder(args));
  } finally {
    // The machine's disk is shared: leave nothing behind between children.
    await rm(join(args.dir, args.encoder), { recursive: true, force: true });
  }
}
