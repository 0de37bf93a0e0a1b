/**
 * Rows → one Parquet object in the lake, streamed: the lake's encoder (parquet/writer.ts) yields
 * a row group at a time into a pipe that the object store uploads from, so memory is bounded by
 * the row group (and the store's part buffers), never by the number of rows. An object that
 * stays under SMALL_OBJECT_BYTES is held and stored whole in one request instead.
 *
 * All or nothing: when the rows, the encoding, the upload or the caller's signal fail, the store
 * removes what it had (S3 aborts the multipart upload, the folder store its temp file) before the
 * error reaches the caller, so a retry starts from a clean key.
 */
import { PassThrough } from "node:stream";
import type { RegistryEntry } from "../schema/registry.js";
import type { LakeRow } from "../schema/validate.js";
import {
  messageOf,
  ObjectStoreError,
  type ObjectStoreErrorContext,
  ObjectWriteAbortedError,
  ParquetObjectWriteError,
} from "./errors.js";
import { assertValidKey, type ObjectInfo, type ObjectStore } from "./object-store.js";
import { ParquetEncoder } from "./parquet/writer.js";
import { PARQUET_WRITER_OPTIONS, ROW_GROUP_BYTES } from "./parquet-file.js";

/** IANA media type of Parquet (registered 2024), recorded on S3 objects. */
export const PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet";

/**
 * Objects up to this size are stored whole in one request (S3: one PUT) once complete; larger
 * ones stream as they are encoded (S3: a multipart upload, whose parts are at least 5 MiB).
 */
export const SMALL_OBJECT_BYTES = 1024 * 1024;

export interface WriteParquetObjectOptions {
  /** Rows per row group; {@link PARQUET_WRITER_OPTIONS} when unset. Bounds the writer's memory. */
  readonly rowGroupSize?: number;
  /** A row group also ends once its rows' estimated size reaches this; {@link ROW_GROUP_BYTES}. */
  readonly rowGroupBytes?: number;
  /** Objects up to this size are stored whole; {@link SMALL_OBJECT_BYTES}. 0: always stream. */
  readonly smallObjectBytes?: number;
  /** Stops the write: nothing is left at the key and `ObjectWriteAbortedError` is thrown. */
  readonly signal?: AbortSignal;
}

/** What was stored: the worker checks `rows` against the documents it read before committing. */
export interface WrittenParquetObject {
  readonly key: string;
  /** Rows in the file, as its footer records them. */
  readonly rows: number;
  readonly bytes: number;
}

/**
 * Write `rows` as one Parquet object at `key` of `store`, with the lake's writer settings.
 *
 * Zero rows write nothing and return null: an empty window has no object, so the curate job never
 * reads empty files and the ledger records only windows that hold data. Any object already at
 * `key` is then left as it was.
 *
 * @throws InvalidObjectKeyError before reading any row.
 * @throws ObjectWriteAbortedError when `signal` aborts.
 * @throws ObjectStoreError from the store (retryable or terminal), as the store threw it.
 * @throws ParquetObjectWriteError when the rows' iterable throws or a row does not fit the schema;
 *   its `cause` is the original error, its `retryable` follows the cause.
 * In every failure nothing is left at `key` and the row iterable has been closed.
 */
export async function writeParquetObject(
  entry: RegistryEntry,
  rows: AsyncIterable<LakeRow>,
  store: ObjectStore,
  key: string,
  options: WriteParquetObjectOptions = {},
): Promise<WrittenParquetObject | null> {
  const { signal } = options;
  const rowGroupSize = options.rowGroupSize ?? PARQUET_WRITER_OPTIONS.rowGroupSize;
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) {
    throw new RangeError(`rowGroupSize must be a positive integer, got ${rowGroupSize}`);
  }
  const rowGroupBytes = options.rowGroupBytes ?? ROW_GROUP_BYTES;
  if (!(rowGroupBytes > 0)) throw new RangeError(`rowGroupBytes must be positive, got ${rowGroupBytes}`);
  assertValidKey(key, store.location);
  const context: ObjectStoreErrorContext = {
    key,
    location: store.location,
    operation: "put",
    ...(entry.kind === "collection" ? { collection: entry.name } : { table: entry.name }),
  };

  const source = rows[Symbol.asyncIterator]();
  let next: IteratorResult<LakeRow>;
  try {
    signal?.throwIfAborted();
    // Peek one row: an empty source must not open an upload (see "Zero rows" above).
    next = await source.next();
  } catch (error) {
    await closeQuietly(source);
    throw failureOf(error, context, 0, signal);
  }
  if (next.done) return null;

  // The upload starts once the object outgrows SMALL_OBJECT_BYTES; a smaller one is stored
  // whole after the footer (below), in one request instead of a streamed multipart upload.
  let stored = false;
  let upload: Promise<ObjectInfo> | undefined;
  const startUpload = (body: PassThrough) => {
    upload = store.put(key, body, { signal, contentType: PARQUET_CONTENT_TYPE }).then(
      (info) => {
        stored = true;
        return info;
      },
      (error: unknown) => {
        // Release the writer if it is waiting on backpressure from an upload that is gone.
        sink.fail(error);
        throw error;
      },
    );
    upload.catch(noop); // awaited below; this only keeps a rejection during the row loop handled
  };
  const sink = new UploadSink(startUpload, options.smallObjectBytes ?? SMALL_OBJECT_BYTES);
  const encoder = new ParquetEncoder(entry, { rowGroupSize, rowGroupBytes });
  let written = 0;
  try {
    await sink.put(encoder.start());
    while (!next.done) {
      if (sink.failure) throw sink.failure;
      signal?.throwIfAborted();
      const group = encoder.append(next.value);
      // At a row-group boundary wait until the pipe accepts the group, which waits for the
      // store: backpressure reaches the row source.
      if (group) await sink.put(group);
      written++;
      next = await source.next();
    }
    for (const part of encoder.finish()) await sink.put(part);
    await sink.close();
    const small = sink.whole();
    let bytes: number;
    if (small) {
      signal?.throwIfAborted();
      ({ bytes } = await store.putBuffer(key, small, { signal, contentType: PARQUET_CONTENT_TYPE }));
      stored = true;
    } else {
      ({ bytes } = await (upload as Promise<ObjectInfo>));
    }
    if (encoder.rows !== written) {
      throw new ParquetObjectWriteError(
        `${key}: encoded ${encoder.rows} rows, ${written} were appended`,
        context,
      );
    }
    return { key, rows: written, bytes };
  } catch (error) {
    sink.fail(error);
    await upload?.catch(noop); // the store has cleaned up once its put settles
    if (stored) await store.delete(key);
    await closeQuietly(source);
    throw failureOf(error, context, written, signal);
  }
}

/**
 * A row's size as encoded, roughly: what its values add to a row group. The worker's packs
 * (ingest/pack.ts) measure windows with it too, so both bound memory by the same figure.
 */
export function estimatedRowBytes(row: LakeRow): number {
  let bytes = 0;
  for (const value of Object.values(row)) {
    if (typeof value === "string") bytes += value.length;
    else if (value instanceof Uint8Array) bytes += value.byteLength;
    else if (value !== null && value !== undefined) bytes += 8;
  }
  return bytes;
}

/** The error to report: the store's as it is, an abort as such, anything else wrapped with the key. */
function failureOf(
  error: unknown,
  context: ObjectStoreErrorContext,
  written: number,
  signal: AbortSignal | undefined,
): ObjectStoreError {
  if (signal?.aborted) {
    return error instanceof ObjectWriteAbortedError
      ? error
      : new ObjectWriteAbortedError(`${context.key}: write aborted after ${written} rows`, context, {
          cause: signal.reason,
        });
  }
  if (error instanceof ObjectStoreError) return error;
  return new ParquetObjectWriteError(
    `${context.key}: write failed after ${written} rows: ${messageOf(error)}`,
    context,
    { cause: error },
  );
}

async function closeQuietly(source: AsyncIterator<unknown>): Promise<void> {
  // A finished or failed generator ignores return(); a suspended one runs its `finally` blocks,
  // which is where a row source closes its cursor.
  await source.return?.().catch(noop);
}

/**
 * Where the encoder's bytes go. It holds the first `holdBytes` of the object; past that it starts
 * the upload with what it held and feeds it from then on, so memory stays bounded by a row group
 * while small objects (most windows of an operations run) skip the streaming machinery.
 *
 * Why not await a PassThrough's own callbacks: once its readable side is full, a write waits for
 * the consumer, and if the upload fails then, destroying the PassThrough never calls back (Node
 * 20), so the write would wait forever. Every wait here is also released by `fail`.
 */
class UploadSink {
  readonly #start: (body: PassThrough) => void;
  readonly #holdBytes: number;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #readable: PassThrough | undefined;
  #failure: Error | undefined;
  readonly #waiting = new Set<(error?: Error) => void>();

  constructor(start: (body: PassThrough) => void, holdBytes: number) {
    this.#start = start;
    this.#holdBytes = holdBytes;
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  /** The whole object, when it never outgrew what the sink holds (after `close`); else null. */
  whole(): Buffer | null {
    return this.#readable ? null : Buffer.concat(this.#held, this.#heldBytes);
  }

  /** Add bytes; resolves once the pipe has room again (at once while the object is held). */
  async put(chunk: Buffer): Promise<void> {
    if (this.#failure) throw this.#failure;
    let readable = this.#readable;
    if (!readable) {
      this.#held.push(chunk);
      this.#heldBytes += chunk.byteLength;
      if (this.#heldBytes < this.#holdBytes) return;
      // Outgrown: upload what was held, then stream.
      readable = new PassThrough();
      this.#readable = readable;
      const held = this.#held;
      this.#held = [];
      this.#heldBytes = 0;
      this.#start(readable);
      let room = true;
      for (const part of held) room = readable.write(part);
      if (!room) await this.#wait((done) => readable?.once("drain", () => done()));
      return;
    }
    if (!readable.write(chunk)) await this.#wait((done) => readable.once("drain", () => done()));
  }

  /** No more bytes: resolves when the upload has taken them all. */
  async close(): Promise<void> {
    if (this.#failure) throw this.#failure;
    const readable = this.#readable;
    if (!readable) return;
    await this.#wait((done) => readable.end(() => done()));
  }

  /** Destroy the pipe with `error` (the store then discards the object) and release waiters. */
  fail(error: unknown): void {
    if (this.#failure) return;
    const failure = error instanceof Error ? error : new Error(String(error));
    this.#failure = failure;
    this.#held = [];
    this.#readable?.destroy(failure);
    for (const release of [...this.#waiting]) release(failure);
  }

  #wait(start: (done: () => void) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const release = (error?: Error) => {
        if (settled) return;
        settled = true;
        this.#waiting.delete(release);
        if (error) reject(error);
        else resolve();
      };
      this.#waiting.add(release);
      start(() => release(this.#failure));
    });
  }
}

function noop(): void {}
