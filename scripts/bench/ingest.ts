/**
 * Benchmark (not a test): the MongoDB → raw worker against a bare cursor read, and our Parquet
 * encode against DuckDB, measured in one run on one synthetic snapshot (DESIGN.md §8).
 *
 * The snapshot is loaded once into throwaway databases (MongoDB `bench_<id>`, PostgreSQL
 * `bench_<id>_ddc`, `bench_<id>_support` and `bench_<id>_stages`), dropped at the end unless
 * `--keep`. Per collection, each measurement runs in its own child process, so peak RSS is that
 * measurement's alone:
 *
 * - cursor:  the worker's queries (per device: the first pass's edge probes, and the untimed scan
 *            if an edge is untimed, then `windowQuery` over each window the worker cuts up to
 *            `last_log_date`), same batch size and device concurrency, decoded by the driver and
 *            nothing else done per document: the ceiling the worker is compared with.
 * - worker:  `runWorker` over the same devices into a LocalObjectStore, fresh support database (all
 *            devices due), default options, under the worker function's NODE_OPTIONS; the ledger
 *            is wrapped to time its commits.
 * - stages:  the worker's path again, one device at a time with each stage timed on its own:
 *            probes → fetch (raw cursor; gives the BSON bytes) → BSON decode → validate (zod) →
 *            pivot (`variable_logs`) → Parquet encode (into memory) → write (folder store) →
 *            commit (a second fresh support database). The rows are then dumped to NDJSON,
 *            outside the timing, as the input of the next two.
 * - encode:  our writer (`writeParquetObject`, folder store) on the NDJSON rows, one object.
 * - duckdb:  DuckDB `COPY (SELECT * FROM read_json(...)) TO ... (FORMAT parquet, COMPRESSION snappy)`
 *            on the same file, same row-group size, 1 thread and all threads; and from a table
 *            already in memory (encode only).
 *
 * Every child runs from one esbuild bundle of this file, built as the functions are
 * (infra/bundle.ts): the Lambda runs a bundle, not TypeScript through a loader.
 *
 * Server CPU (FerretDB process, PostgreSQL cluster) is read from /proc around each measurement:
 * it shows where the time goes outside Node. The cluster serves every client of the local stack,
 * so other work running at the same time shows up there (the load average is printed).
 *
 * Usage: npx tsx scripts/bench/ingest.ts                 (40 devices × 20 days, seed 42; 3-4 min on 2 cores)
 *        npx tsx scripts/bench/ingest.ts --devices 20 --days 10 --collections events,alarm --keep
 *        npx tsx scripts/bench/ingest.ts --max-old-space 96   (the worker child's V8 heap cap in MiB; 0: V8's
 *                                                               default; unset: the worker function's
 *                                                               NODE_OPTIONS, WORKER_NODE_OPTIONS)
 *        npx tsx scripts/bench/ingest.ts --profile .local/bench/prof   (a V8 CPU profile of each worker child)
 *        npx tsx scripts/bench/ingest.ts --from-source   (children run the TypeScript through tsx, not the bundle)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream, readdirSync, readFileSync, type WriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { PassThrough, type Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { deserialize } from "bson";
import { type Collection, type Document, MongoClient } from "mongodb";
import pLimit from "p-limit";
import pg from "pg";
import { loadLocalConfig } from "../../local/config.js";
import { DocumentValidationError } from "../../pipeline/errors.js";
import { CURSOR_BATCH } from "../../pipeline/ingest/extract.js";
import { probeFirstPass } from "../../pipeline/ingest/first-pass.js";
import type { IngestLedger } from "../../pipeline/ingest/ledger.js";
import { pivotSlots } from "../../pipeline/ingest/pivot.js";
import { untimedQuery, windowQuery } from "../../pipeline/ingest/queries.js";
import { DEFAULT_WINDOW_MS, nextWindow, type Window } from "../../pipeline/ingest/windows.js";
import { DEFAULT_DEVICE_CONCURRENCY, type DeviceTarget, runWorker } from "../../pipeline/ingest/worker.js";
import { LocalObjectStore } from "../../pipeline/lake/local-store.js";
import type { ListedObject, ObjectInfo, ObjectStore } from "../../pipeline/lake/object-store.js";
import { PARQUET_WRITER_OPTIONS } from "../../pipeline/lake/parquet-file.js";
import { writeParquetObject } from "../../pipeline/lake/parquet-object.js";
import { WORKER_NODE_OPTIONS } from "../../pipeline/lambda/env.js";
import { type VariableLogSlot, VariableLogSlotSchema } from "../../pipeline/schema/collections.js";
import type { ColumnType } from "../../pipeline/schema/columns.js";
import { type CollectionEntry, collection, type LakeRow, toLakeRow } from "../../pipeline/schema/index.js";
import { applyMigrations } from "../../pipeline/support/index.js";
import { sqlIngestLedger } from "../../pipeline/support/ingest-ledger.js";
import { createSupportPool } from "../../pipeline/support/pool.js";

/** The repository; the bundled children learn it from the parent (their file lives in `.local/build`). */
const ROOT = process.env.INGEST_BENCH_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The children run from one esbuild bundle, built as the Lambda functions are (infra/bundle.ts). */
const CHILD_BUNDLE = join(ROOT, ".local/build/bench/ingest.mjs");
const DEFAULT_COLLECTIONS = ["events", "request", "variable_logs", "alarm"];
const DEFAULTS = { devices: 40, days: 20, seed: 42 } as const;
const MiB = 1024 * 1024;
/** Row-group size of both writers, so DuckDB flushes as often as the worker does. */
const ROW_GROUP = PARQUET_WRITER_OPTIONS.rowGroupSize;
/** Targets of DESIGN §8 and the ingestion issue. */
const TARGET = { workerOverCursor: 0.8, peakRssMiB: 256 } as const;

// ---------------------------------------------------------------------------------------------
// What the parent hands a child, and what children report.

interface Context {
  readonly mongodbUrl: string;
  readonly mongodbDatabase: string;
  readonly supportUrl: string;
  /** A second support database, for the stages run's commits. */
  readonly stagesSupportUrl: string;
  readonly collection: string;
  readonly devices: readonly { idDevice: number; lastLogDate: string }[];
  /** The collection's scratch folder: lake, NDJSON, Parquet outputs. */
  readonly dir: string;
}

type Mode = "cursor" | "worker" | "stages" | "encode" | "duckdb";

/** CPU milliseconds of the servers behind the MongoDB wire. */
interface ServerCpu {
  readonly ferretdbMs: number;
  readonly postgresMs: number;
}

interface Timed {
  readonly ms: number;
  /** User + system CPU of this process, every thread (GC, libuv pool) included. */
  readonly cpuMs: number;
  /** Share of the time the event loop (the one JS thread) was busy rather than waiting. */
  readonly elu: number;
  readonly server: ServerCpu | null;
}

interface CursorReport {
  readonly queries: number;
  readonly windows: number;
  readonly documents: number;
  readonly decoded: Timed;
  readonly peakRssMiB: number;
}

interface WorkerReport {
  readonly documents: number;
  readonly rows: number;
  readonly quarantined: number;
  readonly windows: number;
  readonly objectBytes: number;
  readonly complete: boolean;
  readonly run: Timed;
  /** Sum of the group commits' latencies (one in flight at a time). */
  readonly commitMs: number;
  /** Group commits: statements that committed the run's windows. */
  readonly commitGroups: number;
  readonly setupRssMiB: number;
  readonly peakRssMiB: number;
  /** `process.memoryUsage()` (MiB) of the sample with the highest RSS, taken every 50 ms. */
  readonly atPeak: {
    rss: number;
    heapTotal: number;
    heapUsed: number;
    external: number;
    arrayBuffers: number;
  };
  /** `--max-old-space-size` the child ran with, if any. */
  readonly maxOldSpaceMiB: number | null;
}

interface StagesReport {
  readonly documents: number;
  /** BSON bytes of the documents, as they came off the wire. */
  readonly bytes: number;
  readonly rows: number;
  readonly ms: {
    /** The first pass's untimed-document query and first-document probe, per device. */
    readonly probe: number;
    readonly fetch: number;
    readonly decode: number;
    readonly validate: number;
    readonly pivot: number;
    readonly encode: number;
    readonly write: number;
    /** The ledger's commit of each window (wall time; `commitCpu` is Node's CPU meanwhile). */
    readonly commit: number;
    readonly commitCpu: number;
  };
  readonly fetchServer: ServerCpu | null;
  readonly ndjsonBytes: number;
  readonly peakRssMiB: number;
}

interface EncodeReport {
  readonly rows: number;
  /** NDJSON read and parsed, nothing else. */
  readonly parse: Timed;
  /** NDJSON → rows → our writer → folder store. */
  readonly total: Timed;
  readonly fileBytes: number;
  readonly peakRssMiB: number;
}

interface DuckRun {
  readonly threads: number;
  readonly rows: number;
  readonly ms: number;
  readonly fileBytes: number;
}

interface DuckReport {
  readonly version: string;
  /** `COPY (SELECT * FROM read_json(...))`, one thread. */
  readonly json1: DuckRun;
  /** The same with every thread. */
  readonly jsonAll: DuckRun;
  /** `COPY table`, the rows already in memory, one thread: encode and write only. */
  readonly table1: DuckRun;
  readonly peakRssMiB: number;
}

// ---------------------------------------------------------------------------------------------
// Measuring.

/** `maxRSS` is in kibibytes on Linux and macOS. */
const peakRssMiB = () => (process.resourceUsage().maxRSS * 1024) / MiB;

function pidOf(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** utime, stime, cutime, cstime (clock ticks) and ppid of a process, from /proc/<pid>/stat. */
function procTimes(pid: number): { ticks: number; childTicks: number; ppid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const n = (i: number) => Number(f[i - 3]);
    return { ticks: n(14) + n(15), childTicks: n(16) + n(17), ppid: n(4) };
  } catch {
    return null;
  }
}

/** Linux USER_HZ: the unit of /proc times. */
const TICK_MS = 10;

/**
 * CPU used so far by FerretDB and by the whole PostgreSQL cluster (postmaster, its live children,
 * and the backends it already reaped). Null off Linux or when the local stack's pid files are absent.
 */
function serverCpu(): ServerCpu | null {
  const ferret = pidOf(join(ROOT, ".local/run/ferretdb.pid"));
  const postmaster = pidOf(join(ROOT, ".local/data/pg/postmaster.pid"));
  if (!ferret || !postmaster) return null;
  const f = procTimes(ferret);
  const p = procTimes(postmaster);
  if (!f || !p) return null;
  let pgTicks = p.ticks + p.childTicks;
  for (const entry of readdirSafe("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const t = procTimes(Number(entry));
    if (t?.ppid === postmaster) pgTicks += t.ticks;
  }
  return { ferretdbMs: f.ticks * TICK_MS, postgresMs: pgTicks * TICK_MS };
}

function readdirSafe(path: string): string[] {
  try {
    // Synchronous on purpose: it runs between measurements, never inside one.
    return readdirSync(path);
  } catch {
    return [];
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; timing: Timed }> {
  const server0 = serverCpu();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const cpu = process.cpuUsage(cpu0);
  const server1 = serverCpu();
  return {
    value,
    timing: {
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      elu,
      server:
        server0 && server1
          ? {
              ferretdbMs: server1.ferretdbMs - server0.ferretdbMs,
              postgresMs: server1.postgresMs - server0.postgresMs,
            }
          : null,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The worker's queries, reproduced.

const batchSizeOf = (entry: CollectionEntry) =>
  entry.name === "variable_logs" ? CURSOR_BATCH.variable_logs : CURSOR_BATCH.default;

const targetsOf = (ctx: Context): DeviceTarget[] =>
  ctx.devices.map((d) => ({ idDevice: d.idDevice, lastLogDate: new Date(d.lastLogDate) }));

/**
 * What the worker reads first from a device without a bookmark (`probeFirstPass`: its two edge
 * probes, and the untimed scan if an edge is untimed), and the windows it then cuts up to
 * `last_log_date`.
 */
async function firstPassOf(
  coll: Collection,
  entry: CollectionEntry,
  target: DeviceTarget,
): Promise<{ untimed: number; queries: number; windows: Window[] }> {
  const probe = await probeFirstPass(coll, entry, target.idDevice);
  let untimed = 0;
  let queries = probe.queriesRun;
  if (probe.hasUntimed) {
    const q = untimedQuery(entry, target.idDevice);
    queries++;
    for await (const _ of coll.find(q.filter, { sort: q.sort })) untimed++;
  }
  const windows: Window[] = [];
  if (!probe.first) return { untimed, queries, windows };
  const alignMs = entry.alignMs;
  let start = alignMs ? new Date(Math.floor(probe.first.getTime() / alignMs) * alignMs) : probe.first;
  for (;;) {
    const w = nextWindow({ start, lastLogDate: target.lastLogDate, windowMs: DEFAULT_WINDOW_MS, alignMs });
    if (!w) return { untimed, queries, windows };
    windows.push(w);
    start = w.to;
  }
}

async function openSource(ctx: Context): Promise<{ client: MongoClient; coll: Collection }> {
  const client = new MongoClient(ctx.mongodbUrl, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(ctx.mongodbDatabase);
  await db.command({ ping: 1 });
  return { client, coll: db.collection(ctx.collection) };
}

// ---------------------------------------------------------------------------------------------
// Child: bare cursor.

async function cursorMode(ctx: Context): Promise<CursorReport> {
  const entry = collection(ctx.collection);
  const { client, coll } = await openSource(ctx);
  const targets = targetsOf(ctx);
  try {
    // Warm-up, untimed: open the pool's connections (and FerretDB's) with cheap queries.
    const limit = pLimit(DEFAULT_DEVICE_CONCURRENCY);
    await Promise.all(
      Array.from({ length: DEFAULT_DEVICE_CONCURRENCY }, () => coll.findOne({}, { projection: { _id: 1 } })),
    );
    const pass = async () => {
      let queries = 0;
      let windows = 0;
      let documents = 0;
      await Promise.all(
        targets.map((target) =>
          limit(async () => {
            // Not `documents += await ...`: that reads `documents` before the await and loses counts.
            const first = await firstPassOf(coll, entry, target);
            documents += first.untimed;
            queries += first.queries;
            for (const w of first.windows) {
              const q = windowQuery(entry, target.idDevice, w);
              queries++;
              windows++;
              for await (const _ of coll.find(q.filter, { sort: q.sort, batchSize: batchSizeOf(entry) })) {
                documents++;
              }
            }
          }),
        ),
      );
      return { queries, windows, documents };
    };
    const decoded = await timed(pass);
    return { ...decoded.value, decoded: decoded.timing, peakRssMiB: peakRssMiB() };
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Child: the worker end to end.

async function workerMode(ctx: Context): Promise<WorkerReport> {
  const entry = collection(ctx.collection);
  const { client, coll } = await openSource(ctx);
  const support = createSupportPool(ctx.supportUrl);
  try {
    await support.query("SELECT 1");
    const base = sqlIngestLedger(support);
    let commitMs = 0;
    let commitGroups = 0;
    const ledger: IngestLedger = {
      bookmarks: (name, devices) => base.bookmarks(name, devices),
      async commitWindows(commits) {
        const t0 = performance.now();
        commitGroups++;
        try {
          await base.commitWindows(commits);
        } finally {
          commitMs += performance.now() - t0;
        }
      },
      finishRun: (summary) => base.finishRun(summary),
    };
    const store = new LocalObjectStore(join(ctx.dir, "lake"));
    const setupRssMiB = process.memoryUsage().rss / MiB;
    let atPeak = process.memoryUsage();
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      if (m.rss > atPeak.rss) atPeak = m;
    }, 50);
    const { value: result, timing } = await timed(() =>
      runWorker(
        { runId: `bench-${randomUUID()}`, planId: null, entry, devices: targetsOf(ctx) },
        { source: coll.db, store, ledger },
      ),
    ).finally(() => clearInterval(sampler));
    const oldSpace = process.execArgv.find((a) => a.startsWith("--max-old-space-size="));
    return {
      documents: result.documentsRead,
      rows: result.rowsWritten,
      quarantined: result.documentsQuarantined,
      windows: result.windows,
      objectBytes: result.bytesUploaded,
      complete: result.complete,
      run: timing,
      commitMs,
      commitGroups,
      setupRssMiB,
      peakRssMiB: peakRssMiB(),
      atPeak: {
        rss: atPeak.rss / MiB,
        heapTotal: atPeak.heapTotal / MiB,
        heapUsed: atPeak.heapUsed / MiB,
        external: atPeak.external / MiB,
        arrayBuffers: atPeak.arrayBuffers / MiB,
      },
      maxOldSpaceMiB: oldSpace ? Number(oldSpace.split("=")[1]) : null,
    };
  } finally {
    await support.end();
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Child: the worker's path one stage at a time.

/** Holds each object in memory: the encode stage without the write. */
class MemoryStore implements ObjectStore {
  readonly location = "memory://bench/";
  readonly #objects = new Map<string, Buffer>();

  /** Writes here are never partial: the map holds whole buffers. */
  async removePartial(): Promise<string[]> {
    return [];
  }

  async put(key: string, body: Readable): Promise<ObjectInfo> {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    const buffer = Buffer.concat(chunks);
    this.#objects.set(key, buffer);
    return { bytes: buffer.byteLength };
  }

  async putBuffer(key: string, body: Buffer): Promise<ObjectInfo> {
    this.#objects.set(key, body);
    return { bytes: body.byteLength };
  }

  async get(key: string): Promise<Buffer> {
    const buffer = this.#objects.get(key);
    if (!buffer) throw new Error(`no object ${key}`);
    return buffer;
  }

  async getStream(key: string): Promise<Readable> {
    const stream = new PassThrough();
    stream.end(await this.get(key));
    return stream;
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const buffer = this.#objects.get(key);
    return buffer ? { bytes: buffer.byteLength } : null;
  }

  async delete(key: string): Promise<void> {
    this.#objects.delete(key);
  }

  async deleteMany(keys: Iterable<string>): Promise<void> {
    for (const key of keys) this.#objects.delete(key);
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    for (const [key, buffer] of [...this.#objects].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (key.startsWith(prefix)) yield { key, bytes: buffer.byteLength };
    }
  }
}

async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function writeAll(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((done) => out.once("drain", done));
}

/** Rows as `extractWindow` makes them (quarantine writes aside: the snapshot has few bad documents). */
async function rowsOf(
  entry: CollectionEntry,
  idDevice: number,
  docs: readonly Document[],
): Promise<{ rows: LakeRow[]; drift: Map<string, number>; validateMs: number; pivotMs: number }> {
  const drift = new Map<string, number>();
  const count = (keys: readonly string[]) => {
    for (const key of keys) drift.set(key, (drift.get(key) ?? 0) + 1);
  };
  let t0 = performance.now();
  if (entry.name !== "variable_logs") {
    const rows: LakeRow[] = [];
    for (const doc of docs) {
      try {
        const { row, extraKeys } = toLakeRow(entry, doc);
        count(extraKeys);
        rows.push(row);
      } catch (error) {
        if (!(error instanceof DocumentValidationError)) throw error;
      }
    }
    return { rows, drift, validateMs: performance.now() - t0, pivotMs: 0 };
  }
  const known = new Set(Object.keys(VariableLogSlotSchema.shape));
  const slots: VariableLogSlot[] = [];
  for (const doc of docs) {
    const parsed = VariableLogSlotSchema.safeParse(doc);
    if (!parsed.success) continue;
    count(Object.keys(doc).filter((k) => !known.has(k)));
    slots.push(parsed.data);
  }
  const validateMs = performance.now() - t0;
  t0 = performance.now();
  const rows: LakeRow[] = [];
  for await (const row of pivotSlots(idDevice, fromArray(slots))) rows.push(row);
  return { rows, drift, validateMs, pivotMs: performance.now() - t0 };
}

async function stagesMode(ctx: Context): Promise<StagesReport> {
  const entry = collection(ctx.collection);
  const { client, coll } = await openSource(ctx);
  const memory = new MemoryStore();
  const folder = new LocalObjectStore(join(ctx.dir, "stages"));
  const out = createWriteStream(join(ctx.dir, "rows.ndjson"));
  const ms = {
    probe: 0,
    fetch: 0,
    decode: 0,
    validate: 0,
    pivot: 0,
    encode: 0,
    write: 0,
    commit: 0,
    commitCpu: 0,
  };
  const support = createSupportPool(ctx.stagesSupportUrl);
  await support.query("SELECT 1");
  const ledger = sqlIngestLedger(support);
  const runId = `bench-stages-${randomUUID()}`;
  let documents = 0;
  let bytes = 0;
  let rowCount = 0;
  let fetchServer: ServerCpu | null = { ferretdbMs: 0, postgresMs: 0 };
  const addServer = (s: ServerCpu | null) => {
    fetchServer =
      fetchServer && s
        ? {
            ferretdbMs: fetchServer.ferretdbMs + s.ferretdbMs,
            postgresMs: fetchServer.postgresMs + s.postgresMs,
          }
        : null;
  };
  try {
    for (const target of targetsOf(ctx)) {
      const probe = await timed(() => firstPassOf(coll, entry, target));
      documents += probe.value.untimed;
      ms.probe += probe.timing.ms;
      addServer(probe.timing.server);
      for (const window of probe.value.windows) {
        const q = windowQuery(entry, target.idDevice, window);
        const fetched = await timed(async () => {
          const cursor = coll.find(q.filter, { sort: q.sort, batchSize: batchSizeOf(entry), raw: true });
          return (await cursor.toArray()) as unknown as Uint8Array[];
        });
        ms.fetch += fetched.timing.ms;
        addServer(fetched.timing.server);
        let t0 = performance.now();
        const docs = fetched.value.map((buffer) => deserialize(buffer));
        ms.decode += performance.now() - t0;
        documents += docs.length;
        for (const buffer of fetched.value) bytes += buffer.byteLength;

        const { rows, drift, validateMs, pivotMs } = await rowsOf(entry, target.idDevice, docs);
        ms.validate += validateMs;
        ms.pivot += pivotMs;
        rowCount += rows.length;

        // As the worker: an empty window writes no object but is committed all the same.
        let object: { key: string; rows: number; bytes: number } | null = null;
        if (rows.length) {
          const key = `${entry.name}/idDevice=${target.idDevice}/${window.from.getTime()}.parquet`;
          t0 = performance.now();
          await writeParquetObject(entry, fromArray(rows), memory, key);
          ms.encode += performance.now() - t0;
          const encoded = await memory.get(key);
          await memory.delete(key);
          t0 = performance.now();
          const { bytes: size } = await folder.putBuffer(key, encoded);
          ms.write += performance.now() - t0;
          object = { key, rows: rows.length, bytes: size };
        }

        const commit = await timed(() =>
          ledger.commitWindows([
            {
              runId,
              planId: null,
              collection: entry.name,
              idDevice: target.idDevice,
              window,
              lastts: window.to,
              object,
              quarantined: [],
              drift,
              counters: {
                documentsRead: docs.length,
                documentsUploaded: docs.length,
                documentsQuarantined: 0,
                bytesUploaded: object?.bytes ?? 0,
                queriesRun: 1,
                computationMs: 0,
              },
            },
          ]),
        );
        ms.commit += commit.timing.ms;
        ms.commitCpu += commit.timing.cpuMs;

        // Outside the timing: the rows, for the encode and DuckDB runs.
        let chunk = "";
        for (const row of rows) {
          chunk += `${JSON.stringify(row)}\n`;
          if (chunk.length > 1 << 20) {
            await writeAll(out, chunk);
            chunk = "";
          }
        }
        await writeAll(out, chunk);
      }
    }
  } finally {
    await new Promise<void>((done, fail) =>
      out.end((error?: Error | null) => (error ? fail(error) : done())),
    );
    await support.end();
    await client.close();
  }
  return {
    documents,
    bytes,
    rows: rowCount,
    ms,
    fetchServer,
    ndjsonBytes: (await stat(join(ctx.dir, "rows.ndjson"))).size,
    peakRssMiB: peakRssMiB(),
  };
}

// ---------------------------------------------------------------------------------------------
// Child: our writer on the NDJSON rows.

async function* ndjsonRows(path: string, entry: CollectionEntry): AsyncGenerator<LakeRow> {
  const times = entry.columns.filter((c) => c.type === "timestamp").map((c) => c.name);
  let rest = "";
  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 })) {
    const lines = (rest + (chunk as string)).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      if (!line) continue;
      const row = JSON.parse(line) as LakeRow;
      for (const name of times) {
        const v = row[name];
        if (typeof v === "string") row[name] = new Date(v);
      }
      yield row;
    }
  }
  if (rest) throw new Error(`${path}: last line has no newline`);
}

async function encodeMode(ctx: Context): Promise<EncodeReport> {
  const entry = collection(ctx.collection);
  const path = join(ctx.dir, "rows.ndjson");
  const parse = await timed(async () => {
    let n = 0;
    for await (const _ of ndjsonRows(path, entry)) n++;
    return n;
  });
  const store = new LocalObjectStore(join(ctx.dir, "ours"));
  const total = await timed(() =>
    writeParquetObject(entry, ndjsonRows(path, entry), store, `${entry.name}/all.parquet`),
  );
  return {
    rows: total.value?.rows ?? 0,
    parse: parse.timing,
    total: total.timing,
    fileBytes: total.value?.bytes ?? 0,
    peakRssMiB: peakRssMiB(),
  };
}

// ---------------------------------------------------------------------------------------------
// Child: DuckDB on the NDJSON rows.

/** DuckDB type of each lake column type (timestamps: the NDJSON holds ISO strings in UTC). */
const DUCK_TYPE: Record<ColumnType, string> = {
  string: "VARCHAR",
  json: "VARCHAR",
  int32: "INTEGER",
  int64: "BIGINT",
  float64: "DOUBLE",
  boolean: "BOOLEAN",
  timestamp: "TIMESTAMP",
};

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

async function duckdbMode(ctx: Context): Promise<DuckReport> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const entry = collection(ctx.collection);
  const columns = entry.columns
    .map((c) => `${sqlString(c.name)}: ${sqlString(DUCK_TYPE[c.type])}`)
    .join(", ");
  const source = `read_json(${sqlString(join(ctx.dir, "rows.ndjson"))}, format = 'newline_delimited', columns = {${columns}})`;
  const options = `(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${ROW_GROUP})`;
  let version = "";

  const run = async (threads: number, from: "json" | "table"): Promise<DuckRun> => {
    const instance = await DuckDBInstance.create(":memory:", { threads: String(threads) });
    const conn = await instance.connect();
    try {
      version = String((await conn.runAndReadAll("SELECT version() AS v")).getRowObjectsJS()[0]?.v);
      const out = join(ctx.dir, `duckdb-${from}-${threads}.parquet`);
      let query = `COPY (SELECT * FROM ${source}) TO ${sqlString(out)} ${options}`;
      if (from === "table") {
        await conn.run(`CREATE TABLE t AS SELECT * FROM ${source}`);
        query = `COPY t TO ${sqlString(out)} ${options}`;
      }
      const t0 = performance.now();
      const result = await conn.runAndReadAll(query);
      const ms = performance.now() - t0;
      const rows = Number(result.getRowsJS()[0]?.[0] ?? Number.NaN);
      return { threads, rows, ms, fileBytes: (await stat(out)).size };
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  };
  // The file is in the page cache already (the stages run just wrote it), so the order is fair.
  const json1 = await run(1, "json");
  const jsonAll = await run(availableParallelism(), "json");
  const table1 = await run(1, "table");
  return { version, json1, jsonAll, table1, peakRssMiB: peakRssMiB() };
}

// ---------------------------------------------------------------------------------------------
// Parent.

const CHILDREN = new Set<ChildProcess>();

/**
 * Bundle this script for the children, with the functions' esbuild options: the Lambda runs a
 * bundle, not TypeScript through a loader, and the loader's own work and memory would otherwise
 * count against the worker (and against the bare cursor read it is compared with).
 */
async function bundleChildren(): Promise<void> {
  const { buildSync } = await import("esbuild");
  const { BUNDLE_OPTIONS, OPTIONAL_EXTERNALS } = await import("../../infra/bundle.js");
  buildSync({
    ...BUNDLE_OPTIONS,
    entryPoints: [fileURLToPath(import.meta.url)],
    outfile: CHILD_BUNDLE,
    // DuckDB is a native add-on: loaded from node_modules, never bundled.
    external: [...OPTIONAL_EXTERNALS, "@duckdb/node-api"],
    metafile: false,
  });
}

/** How the children run: the bundle (default), or this file through the parent's loader (`--from-source`). */
let childEntry: { script: string; execArgv: readonly string[] } = { script: CHILD_BUNDLE, execArgv: [] };

function runChild<T>(mode: Mode, contextPath: string, nodeFlags: readonly string[] = []): Promise<T> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      [...nodeFlags, ...childEntry.execArgv, childEntry.script, "--child", mode, "--context", contextPath],
      {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, INGEST_BENCH_ROOT: ROOT },
      },
    );
    CHILDREN.add(child);
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
    });
    child.on("error", fail);
    child.on("close", (code, signal) => {
      CHILDREN.delete(child);
      if (code !== 0) {
        fail(new Error(`${mode} child exited with ${signal ?? `status ${code}`}`));
        return;
      }
      done(JSON.parse(stdout.trim().split("\n").at(-1) as string) as T);
    });
  });
}

interface CollectionResult {
  readonly name: string;
  readonly cursor: CursorReport;
  readonly worker: WorkerReport;
  readonly stages: StagesReport;
  readonly encode: EncodeReport;
  readonly duck: DuckReport;
}

const rate = (n: number, ms: number) => (ms > 0 ? (n * 1000) / ms : Number.NaN);
const pct = (part: number, whole: number) => `${Math.round((100 * part) / whole)}%`;
const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "-";

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows
    .map((r) =>
      r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  "),
    )
    .join("\n");
}

function summary(results: readonly CollectionResult[]): string {
  const head = [
    "collection",
    "documents",
    "rows",
    "cursor docs/s",
    "worker docs/s",
    "worker/cursor",
    "worker peak RSS MiB",
    "our encode rows/s",
    "DuckDB rows/s",
    "ours/DuckDB",
  ];
  const body = results.map((r) => {
    const cursorRate = rate(r.cursor.documents, r.cursor.decoded.ms);
    const workerRate = rate(r.worker.documents, r.worker.run.ms);
    const ours = rate(r.encode.rows, r.encode.total.ms);
    const duck = rate(r.duck.json1.rows, r.duck.json1.ms);
    const ratio = workerRate / cursorRate;
    return [
      r.name,
      fmt(r.worker.documents),
      fmt(r.worker.rows),
      fmt(cursorRate),
      fmt(workerRate),
      `${fmt(ratio, 2)} ${ratio >= TARGET.workerOverCursor ? "ok" : "LOW"}`,
      `${fmt(r.worker.peakRssMiB, 1)} ${r.worker.peakRssMiB < TARGET.peakRssMiB ? "ok" : "HIGH"}`,
      fmt(ours),
      fmt(duck),
      fmt(ours / duck, 2),
    ];
  });
  return table([head, ...body]);
}

const CORES = availableParallelism();

/** CPU of Node, FerretDB and PostgreSQL together, as a share of every core of the machine. */
const boxShare = (t: Timed) =>
  t.server ? (t.cpuMs + t.server.ferretdbMs + t.server.postgresMs) / (CORES * t.ms) : Number.NaN;

function cpuLine(t: Timed): string {
  const server = t.server
    ? `FerretDB ${pct(t.server.ferretdbMs, t.ms)}, PostgreSQL ${pct(t.server.postgresMs, t.ms)} of a core, ` +
      `all three ${pct(boxShare(t), 1)} of ${CORES} cores`
    : "server CPU n/a";
  return `event loop ${pct(t.elu, 1)} busy, Node CPU ${pct(t.cpuMs, t.ms)}, ${server}`;
}

function details(r: CollectionResult): string {
  const c = r.cursor;
  const w = r.worker;
  const s = r.stages;
  const e = r.encode;
  const d = r.duck;
  const mb = (ms: number) => fmt(rate(s.bytes / 1e6, ms), 2);
  const pureOurs = rate(s.rows, s.ms.encode);
  const pureDuck = rate(d.table1.rows, d.table1.ms);
  return [
    `${r.name}: ${fmt(w.documents)} documents, ${fmt(s.bytes / MiB, 1)} MiB of BSON (${fmt(s.bytes / w.documents)} B/doc), ` +
      `${w.windows} windows, ${c.queries} queries; ${fmt(w.rows)} rows, ${fmt(w.objectBytes / MiB, 1)} MiB of Parquet`,
    `  cursor   ${fmt(rate(c.documents, c.decoded.ms))} docs/s, ${mb(c.decoded.ms)} MB/s, ${fmt(c.decoded.ms / 1000, 1)} s; ${cpuLine(c.decoded)}`,
    `  worker   ${fmt(rate(w.documents, w.run.ms))} docs/s, ${fmt(rate(w.rows, w.run.ms))} rows/s, ${mb(w.run.ms)} MB/s, ${fmt(w.run.ms / 1000, 1)} s; ${cpuLine(w.run)}`,
    `           RSS ${fmt(w.setupRssMiB)} MiB after setup, ${fmt(w.peakRssMiB, 1)} MiB peak` +
      `${w.maxOldSpaceMiB ? ` (--max-old-space-size=${w.maxOldSpaceMiB})` : ""}; at the peak sample (${fmt(w.atPeak.rss)} MiB): V8 heap ` +
      `${fmt(w.atPeak.heapTotal)} MiB (${fmt(w.atPeak.heapUsed)} used), external ${fmt(w.atPeak.external)} ` +
      `(ArrayBuffers ${fmt(w.atPeak.arrayBuffers)}); ${w.windows} windows committed in ${w.commitGroups} groups, ` +
      `${fmt(w.commitMs / Math.max(1, w.commitGroups), 1)} ms each; JS-thread capacity ${fmt(rate(w.documents, w.run.ms * w.run.elu))} docs/s` +
      `${w.quarantined ? `; ${w.quarantined} quarantined` : ""}${w.complete ? "" : "; INCOMPLETE"}`,
    `  stages   one device at a time: probes ${fmt(s.ms.probe)} ms, fetch ${fmt(s.ms.fetch)} (raw cursor${
      s.fetchServer
        ? `; FerretDB ${pct(s.fetchServer.ferretdbMs, s.ms.probe + s.ms.fetch)} of a core during both`
        : ""
    }), BSON decode ${fmt(s.ms.decode)}, validate ${fmt(s.ms.validate)}, pivot ${fmt(s.ms.pivot)}, ` +
      `encode ${fmt(s.ms.encode)}, write ${fmt(s.ms.write)}, commit ${fmt(s.ms.commit)} ` +
      `(${fmt(s.ms.commit / Math.max(1, r.worker.windows), 1)} ms each, Node CPU ${pct(s.ms.commitCpu, s.ms.commit)} of it)`,
    `  encode   ours: NDJSON → writeParquetObject ${fmt(rate(e.rows, e.total.ms))} rows/s (NDJSON parse alone ${fmt(rate(e.rows, e.parse.ms))} rows/s; ` +
      `${fmt(e.fileBytes / MiB, 1)} MiB; peak RSS ${fmt(e.peakRssMiB, 1)} MiB), rows in memory → one object per window ${fmt(pureOurs)} rows/s`,
    `  DuckDB   ${d.version}: read_json → Parquet ${fmt(rate(d.json1.rows, d.json1.ms))} rows/s on 1 thread, ` +
      `${fmt(rate(d.jsonAll.rows, d.jsonAll.ms))} on ${d.jsonAll.threads}; table → Parquet ${fmt(pureDuck)} rows/s on 1 thread ` +
      `(ours in memory / DuckDB table: ${fmt(pureOurs / pureDuck, 3)}); ${fmt(d.json1.fileBytes / MiB, 1)} MiB`,
  ].join("\n");
}

/** One line on what bounds the worker, read off the measurements. */
function limits(r: CollectionResult): string {
  const s = r.stages;
  const w = r.worker.run;
  const parts: [string, number][] = [
    ["first-pass probes (edges of the device; untimed scan if one is untimed)", s.ms.probe],
    ["window fetch (FerretDB + wire)", s.ms.fetch],
    ["BSON decode", s.ms.decode],
    ["zod validate", s.ms.validate],
    ["pivot", s.ms.pivot],
    ["parquetjs encode", s.ms.encode],
    ["file write", s.ms.write],
    ["ledger commits", s.ms.commit],
  ];
  const serial = parts.reduce((sum, [, ms]) => sum + ms, 0);
  const split = parts
    .filter(([, ms]) => ms >= 0.01 * serial)
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => `${name} ${pct(ms, serial)}`)
    .join(", ");
  const box = boxShare(w);
  const cpu = (ms: number | undefined) => pct(ms ?? 0, w.ms);
  const verdict =
    w.elu >= 0.85
      ? `Node's one JS thread is saturated (event loop ${pct(w.elu, 1)} busy; Node CPU ${cpu(w.cpuMs)}, ` +
        `FerretDB ${cpu(w.server?.ferretdbMs)} of a core)`
      : box >= 0.85
        ? `the ${CORES} cores are saturated (${pct(box, 1)}: Node ${cpu(w.cpuMs)}, FerretDB ${cpu(w.server?.ferretdbMs)}, ` +
          `PostgreSQL ${cpu(w.server?.postgresMs)} of a core; event loop ${pct(w.elu, 1)} busy), so the worker's CPU comes out of FerretDB's`
        : `neither the cores (${Number.isFinite(box) ? pct(box, 1) : "n/a"}) nor the JS thread (event loop ${pct(w.elu, 1)}) ` +
          "is saturated: latency bound (round trips, per-window commits)";
  return `${r.name}: ${verdict}; serial split ${split}; worker wall = ${fmt(w.ms / serial, 2)} × the serial sum`;
}

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function parent(values: {
  devices: number;
  days: number;
  seed: number;
  keep: boolean;
  collections: string[];
  maxOldSpaceMiB: number | null;
  profileDir: string | null;
  fromSource: boolean;
}): Promise<void> {
  const started = performance.now();
  if (values.fromSource) childEntry = { script: fileURLToPath(import.meta.url), execArgv: process.execArgv };
  else await bundleChildren();
  for (const name of values.collections) collection(name); // fail early on a typo
  // The snapshot generator only here, so the children's RSS does not carry it.
  const { loadSnapshot, openTargets } = await import("../../local/snapshot/index.js");
  const config = loadLocalConfig();
  const id = randomUUID().replaceAll("-", "").slice(0, 10);
  const name = `bench_${id}`;
  const ddcDb = `${name}_ddc`;
  const supportDb = `${name}_support`;
  const stagesDb = `${name}_stages`;
  const dir = await mkdtemp(join(tmpdir(), "ingest-bench-"));
  const admin = new pg.Client({ connectionString: config.DDC_DATABASE_URL });
  await admin.connect();
  let targets: Awaited<ReturnType<typeof openTargets>> | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const child of CHILDREN) child.kill("SIGTERM");
    if (values.keep) {
      console.log(
        `kept: MongoDB database ${name}, PostgreSQL databases ${ddcDb}, ${supportDb} and ${stagesDb}, folder ${dir}`,
      );
      await targets?.close();
      await admin.end();
      return;
    }
    await targets?.mongo.dropDatabase().catch(() => undefined);
    await targets?.close();
    await admin.query(`DROP DATABASE IF EXISTS ${ddcDb} WITH (FORCE)`).catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${supportDb} WITH (FORCE)`).catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${stagesDb} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    const load0 = loadavg();
    console.log(
      `node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} cores, ` +
        `load average ${load0.map((l) => l.toFixed(2)).join(" ")}; one child process per measurement, ${values.fromSource ? "TypeScript through tsx" : "from an esbuild bundle as the Lambda runs"}`,
    );
    await admin.query(`CREATE DATABASE ${ddcDb}`);
    await admin.query(`CREATE DATABASE ${supportDb}`);
    await admin.query(`CREATE DATABASE ${stagesDb}`);
    targets = await openTargets({
      ddcDatabaseUrl: withDb(config.DDC_DATABASE_URL, ddcDb),
      mongodbUrl: config.MONGODB_URL,
      mongodbDatabase: name,
    });
    const loaded = await loadSnapshot(targets, {
      seed: values.seed,
      devices: values.devices,
      days: values.days,
      reset: true,
    });
    const { rows } = await targets.pg.query(
      "SELECT id, last_log_date FROM device WHERE last_log_date IS NOT NULL ORDER BY id",
    );
    const devices = rows.map((r: { id: string; last_log_date: Date }) => ({
      idDevice: Number(r.id),
      lastLogDate: (r.last_log_date as Date).toISOString(),
    }));
    const supportUrl = withDb(config.DDC_DATABASE_URL, supportDb);
    const stagesSupportUrl = withDb(config.DDC_DATABASE_URL, stagesDb);
    await applyMigrations(supportUrl);
    await applyMigrations(stagesSupportUrl);
    const counts = values.collections.map((c) => `${c} ${fmt(loaded.documents?.[c as never] ?? Number.NaN)}`);
    console.log(
      `snapshot seed ${values.seed}, ${values.devices} devices × ${values.days} days loaded in ` +
        `${fmt(loaded.durationMs / 1000, 1)} s into ${name}: ${counts.join(", ")}; ${devices.length} devices with last_log_date`,
    );

    const results: CollectionResult[] = [];
    for (const coll of values.collections) {
      const collDir = join(dir, coll);
      await mkdir(collDir, { recursive: true });
      const ctx: Context = {
        mongodbUrl: config.MONGODB_URL,
        mongodbDatabase: name,
        supportUrl,
        stagesSupportUrl,
        collection: coll,
        devices,
        dir: collDir,
      };
      const contextPath = join(collDir, "context.json");
      await writeFile(contextPath, JSON.stringify(ctx));
      const t0 = performance.now();
      const cursor = await runChild<CursorReport>("cursor", contextPath);
      const worker = await runChild<WorkerReport>("worker", contextPath, [
        // As deployed: the worker function's NODE_OPTIONS, unless --max-old-space says otherwise.
        ...(values.maxOldSpaceMiB === null
          ? WORKER_NODE_OPTIONS.split(" ")
          : values.maxOldSpaceMiB > 0
            ? [`--max-old-space-size=${values.maxOldSpaceMiB}`]
            : []),
        ...(values.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${resolve(values.profileDir, coll)}`] : []),
      ]);
      const stages = await runChild<StagesReport>("stages", contextPath);
      const encode = await runChild<EncodeReport>("encode", contextPath);
      const duck = await runChild<DuckReport>("duckdb", contextPath);
      const checks = [
        ["cursor documents", cursor.documents, worker.documents],
        ["stages documents", stages.documents, worker.documents],
        ["stages rows", stages.rows, worker.rows],
        ["our encode rows", encode.rows, worker.rows],
        ["DuckDB rows", duck.json1.rows, worker.rows],
      ] as const;
      for (const [what, got, want] of checks) {
        if (got !== want)
          throw new Error(`${coll}: ${what} ${got}, worker ${want}: the runs did not see the same data`);
      }
      const result = { name: coll, cursor, worker, stages, encode, duck };
      results.push(result);
      console.error(`[bench] ${coll} measured in ${fmt((performance.now() - t0) / 1000, 1)} s`);
      if (!values.keep) await rm(collDir, { recursive: true, force: true });
    }

    console.log("");
    console.log(summary(results));
    console.log(
      `targets: worker/cursor ≥ ${TARGET.workerOverCursor}, worker peak RSS < ${TARGET.peakRssMiB} MiB. ` +
        "cursor = the worker's queries with nothing done per document; DuckDB = read_json → Parquet " +
        `(snappy, ${fmt(ROW_GROUP)}-row groups) on 1 thread, ours = the same NDJSON through writeParquetObject`,
    );
    console.log("");
    for (const r of results) console.log(details(r));
    console.log("");
    console.log("what limits it:");
    for (const r of results) console.log(`  ${limits(r)}`);
    const load1 = loadavg();
    console.log(
      `\nwall time ${fmt((performance.now() - started) / 1000, 1)} s (snapshot load ${fmt(loaded.durationMs / 1000, 1)} s); ` +
        `load average at the end ${load1.map((l) => l.toFixed(2)).join(" ")}`,
    );
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await cleanup();
  }
}

async function child(mode: Mode, contextPath: string): Promise<void> {
  const ctx = JSON.parse(await readFile(contextPath, "utf8")) as Context;
  const run: Record<Mode, (c: Context) => Promise<unknown>> = {
    cursor: cursorMode,
    worker: workerMode,
    stages: stagesMode,
    encode: encodeMode,
    duckdb: duckdbMode,
  };
  const report = await run[mode](ctx);
  console.log(JSON.stringify(report));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: "string", default: String(DEFAULTS.devices) },
      days: { type: "string", default: String(DEFAULTS.days) },
      seed: { type: "string", default: String(DEFAULTS.seed) },
      collections: { type: "string", default: DEFAULT_COLLECTIONS.join(",") },
      keep: { type: "boolean", default: false },
      "max-old-space": { type: "string" },
      profile: { type: "string" },
      "from-source": { type: "boolean", default: false },
      child: { type: "string" },
      context: { type: "string" },
    },
  });
  if (values.child) {
    await child(values.child as Mode, values.context as string);
    return;
  }
  const int = (flag: string, s: string) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`--${flag} must be a whole number, got ${s}`);
    return n;
  };
  await parent({
    devices: int("devices", values.devices),
    days: int("days", values.days),
    seed: int("seed", values.seed),
    keep: values.keep,
    maxOldSpaceMiB:
      values["max-old-space"] !== undefined ? int("max-old-space", values["max-old-space"]) : null,
    profileDir: values.profile ?? null,
    fromSource: values["from-source"],
    collections: values.collections
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  });
}

await main();
