/**
 * The candidate: `writeParquetObject`'s job done with apache-arrow + parquet-wasm (arrow-rs's
 * Parquet writer compiled to WebAssembly). Same row groups (10,000 rows or ~4 MiB of row data),
 * same SNAPPY, data page V1, statistics on numbers and times only, same store calls (an object
 * under 1 MiB in one `putBuffer`, a larger one streamed through `put` as it is encoded); rows →
 * one Arrow batch per row group → Arrow IPC → parquet-wasm `writeParquet` (one small file per
 * row group) → stitched into one file (stitch.ts). Dictionary encoding is arrow-rs's default
 * (on, falling back to plain past 1 MiB of dictionary per column chunk), as pyarrow's.
 *
 * Bench code: error paths are not the production writer's (no cleanup guarantees).
 */
import { performance } from "node:perf_hooks";
import { PassThrough } from "node:stream";
import { Table as ArrowTable, tableToIPC } from "apache-arrow";
import {
  Compression,
  EnabledStatistics,
  Table as WasmTable,
  WriterPropertiesBuilder,
  WriterVersion,
  writeParquet,
} from "parquet-wasm";
import type { ObjectInfo, ObjectStore } from "../../../pipeline/lake/object-store.js";
import { PARQUET_WRITER_OPTIONS, ROW_GROUP_BYTES } from "../../../pipeline/lake/parquet-file.js";
import { PARQUET_CONTENT_TYPE, SMALL_OBJECT_BYTES } from "../../../pipeline/lake/parquet-object.js";
import type { LakeRow, RegistryEntry } from "../../../pipeline/schema/index.js";
import { NO_STATISTICS } from "../../../pipeline/schema/parquet.js";
import { arrowSchemaOf, recordBatchOf } from "./arrow-rows.js";
import { ParquetStitcher } from "./stitch.js";

export interface WasmWriteOptions {
  readonly rowGroupSize?: number;
  readonly rowGroupBytes?: number;
  /** false: plain encoding everywhere (faster to write, larger files). */
  readonly dictionary?: boolean;
  /** Adds the milliseconds spent in each step, when given. */
  readonly phases?: Phases;
}

/** Where the time of a write goes: rows → Arrow, Arrow → IPC, IPC → Parquet in wasm, the rest. */
export interface Phases {
  arrow: number;
  ipc: number;
  wasm: number;
}

function propertiesOf(entry: RegistryEntry, rows: number, dictionary: boolean) {
  let b = new WriterPropertiesBuilder()
    .setCompression(Compression.SNAPPY)
    .setWriterVersion(WriterVersion.V1)
    .setMaxRowGroupSize(Math.max(rows, 1))
    .setDictionaryEnabled(dictionary)
    .setStatisticsEnabled(EnabledStatistics.Chunk);
  for (const c of entry.columns) {
    if (NO_STATISTICS.has(c.type)) b = b.setColumnStatisticsEnabled(c.name, EnabledStatistics.None);
  }
  return b.build();
}

function estimatedBytes(row: LakeRow): number {
  let bytes = 0;
  for (const value of Object.values(row)) {
    if (typeof value === "string") bytes += value.length;
    else if (value instanceof Uint8Array) bytes += value.byteLength;
    else if (value !== null && value !== undefined) bytes += 8;
  }
  return bytes;
}

/** Holds the first bytes; past `holdBytes` starts a streamed `put` and feeds it with backpressure. */
class Sink {
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  #body: PassThrough | undefined;
  #upload: Promise<ObjectInfo> | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly key: string,
    private readonly holdBytes: number,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    if (!this.#body) {
      this.#held.push(chunk.slice()); // a view of a whole small file: keep only its own bytes
      this.#heldBytes += chunk.length;
      if (this.#heldBytes < this.holdBytes) return;
      this.#body = new PassThrough();
      this.#upload = this.store.put(this.key, this.#body, { contentType: PARQUET_CONTENT_TYPE });
      const held = this.#held;
      this.#held = [];
      for (const part of held) await this.#push(part);
      return;
    }
    await this.#push(chunk);
  }

  async #push(chunk: Uint8Array): Promise<void> {
    const body = this.#body as PassThrough;
    if (!body.write(chunk)) await new Promise<void>((done) => body.once("drain", done));
  }

  async end(): Promise<ObjectInfo> {
    if (!this.#body) {
      return this.store.putBuffer(this.key, Buffer.concat(this.#held, this.#heldBytes), {
        contentType: PARQUET_CONTENT_TYPE,
      });
    }
    this.#body.end();
    return this.#upload as Promise<ObjectInfo>;
  }
}

export async function writeWithParquetWasm(
  entry: RegistryEntry,
  rows: AsyncIterable<LakeRow>,
  store: ObjectStore,
  key: string,
  options: WasmWriteOptions = {},
): Promise<{ rows: number; bytes: number } | null> {
  const rowGroupSize = options.rowGroupSize ?? PARQUET_WRITER_OPTIONS.rowGroupSize;
  const rowGroupBytes = options.rowGroupBytes ?? ROW_GROUP_BYTES;
  const dictionary = options.dictionary ?? true;
  const schema = arrowSchemaOf(entry);
  const stitcher = new ParquetStitcher();
  const sink = new Sink(store, key, SMALL_OBJECT_BYTES);
  let group: LakeRow[] = [];
  let groupBytes = 0;
  let written = 0;

  const phases = options.phases;
  const flush = async () => {
    const t0 = performance.now();
    const batch = recordBatchOf(entry, schema, group);
    const t1 = performance.now();
    const ipc = tableToIPC(new ArrowTable([batch]), "stream");
    const t2 = performance.now();
    const file = writeParquet(WasmTable.fromIPCStream(ipc), propertiesOf(entry, group.length, dictionary));
    if (phases) {
      phases.arrow += t1 - t0;
      phases.ipc += t2 - t1;
      phases.wasm += performance.now() - t2;
    }
    if (written === group.length) await sink.write(stitcher.header());
    await sink.write(stitcher.add(file));
    group = [];
    groupBytes = 0;
  };

  for await (const row of rows) {
    group.push(row);
    groupBytes += estimatedBytes(row);
    written++;
    if (group.length >= rowGroupSize || groupBytes >= rowGroupBytes) await flush();
  }
  if (written === 0) return null;
  if (group.length > 0) await flush();
  await sink.write(stitcher.footer());
  const { bytes } = await sink.end();
  if (stitcher.rows !== written)
    throw new Error(`${key}: footer says ${stitcher.rows} rows, ${written} were appended`);
  return { rows: written, bytes };
}
