/**
 * Rows → one Parquet object in the lake, streamed: parquetjs encodes a row group at a time into a
 * pipe that the object store uploads from, so memory is bounded by the row group (and the store's
 * part buffers), never by the number of rows. An object that stays under SMALL_OBJECT_BYTES is
 * held and stored whole in one request instead.
 *
 * All or nothing: when the rows, the encoding, the upload or the caller's signal fail, the store
 * removes what it had (S3 aborts the multipart upload, the folder store its temp file) before the
 * error reaches the caller, so a retry starts from a clean key.
 */
import { PassThrough } from "node:stream";
import { ParquetWriter } from "@dsnp/parquetjs";
import type { WriteStreamMinimal } from "@dsnp/parquetjs/dist/lib/util.js";
import { parquetSchemaOf } from "../schema/parquet.js";
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
// parquet-file.ts also installs the flat-row shred (flat-shred.ts) before any writer opens.
import { PARQUET_WRITER_OPTIONS } from "./parquet-file.js";

/** IANA media type of Parquet (registered 2024), recorded on S3 objects. */
export const PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet";

/**
 * Estimated bytes of row data per row group at most. Rows differ by three orders of magnitude
 * (a 100-byte event, a 6 KB request, a document with a huge payload): a row count alone would let
 * a row group of wide rows hold tens of megabytes, times the worker's concurrent devices.
 */
export const ROW_GROUP_BYTES = 4 * 1024 * 1024;

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
  // The writer first: its constructor writes the 4-byte header without awaiting it, so the header
  // must go into the sink before anything (a failing upload) can fail it.
  const sink = new UploadSink(startUpload, options.smallObjectBytes ?? SMALL_OBJECT_BYTES);
  let writer: ParquetWriter;
  try {
    writer = await ParquetWriter.openStream(parquetSchemaOf(entry), sink as unknown as WriteStreamMinimal, {
      ...PARQUET_WRITER_OPTIONS,
      rowGroupSize,
    });
  } catch (error) {
    await closeQuietly(source);
    throw failureOf(error, context, 0, signal);
  }

  let written = 0;
  let groupRows = 0;
  let groupBytes = 0;
  try {
    const envelope = writer.envelopeWriter;
    while (!next.done) {
      if (sink.failure) throw sink.failure;
      signal?.throwIfAborted();
      groupRows++;
      groupBytes += estimatedRowBytes(next.value);
      const full = groupRows >= rowGroupSize || groupBytes >= rowGroupBytes;
      // parquetjs ends a row group when it holds `rowGroupSize` rows: lower it for this row.
      if (full) writer.setRowGroupSize(groupRows);
      // Resolves at once for most rows; at a row-group boundary it waits until the encoded group
      // is accepted by the pipe, which waits for the store: backpressure reaches the row source.
      await writer.appendRow(next.value);
      if (full) {
        writer.setRowGroupSize(rowGroupSize);
        groupRows = 0;
        groupBytes = 0;
      }
      written++;
      next = await source.next();
    }
    await writer.close(); // last row group and footer, then ends the pipe
    const small = sink.whole();
    let bytes: number;
    if (small) {
      signal?.throwIfAborted();
      ({ bytes } = await store.putBuffer(key, small, { signal, contentType: PARQUET_CONTENT_TYPE }));
      stored = true;
    } else {
      ({ bytes } = await (upload as Promise<ObjectInfo>));
    }
    const inFooter = Number(envelope?.rowCount.valueOf() ?? -1);
    if (inFooter !== written) {
      throw new ParquetObjectWriteError(
        `${key}: footer says ${inFooter} rows, ${written} were appended`,
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
 * The stream parquetjs writes into (`write`/`end` with callbacks, which it awaits). It holds the
 * first `holdBytes` of the object; past that it starts the upload with what it held and feeds it
 * from then on, so memory stays bounded by a row group while small objects (most windows of an
 * operations run) skip the streaming machinery.
 *
 * Why not hand parquetjs a PassThrough itself: once the readable side is full, a write's callback
 * waits for the consumer, and if the upload fails then, destroying the PassThrough never calls
 * that callback (Node 20), so the writer would wait forever. This sink calls every pending callback
 * with the failure.
 */
class UploadSink {
  readonly #start: (body: PassThrough) => void;
  readonly #holdBytes: number;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #readable: PassThrough | undefined;
  #failure: Error | undefined;
  readonly #pending = new Set<(error?: Error | null) => void>();

  constructor(start: (body: PassThrough) => void, holdBytes: number) {
    this.#start = start;
    this.#holdBytes = holdBytes;
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  /** The whole object, when it never outgrew what the sink holds (after `end`); else null. */
  whole(): Buffer | null {
    return this.#readable ? null : Buffer.concat(this.#held, this.#heldBytes);
  }

  write(chunk: Buffer, callback: (error?: Error | null) => void): boolean {
    if (this.#failure) {
      process.nextTick(callback, this.#failure);
      return false;
    }
    if (!this.#readable) {
      this.#held.push(chunk);
      this.#heldBytes += chunk.byteLength;
      if (this.#heldBytes < this.#holdBytes) {
        process.nextTick(callback);
        return true;
      }
      // Outgrown: upload what was held, this chunk last, then stream.
      const readable = new PassThrough();
      this.#readable = readable;
      const held = this.#held;
      this.#held = [];
      this.#heldBytes = 0;
      this.#start(readable);
      for (const part of held.slice(0, -1)) readable.write(part);
      return readable.write(held.at(-1) as Buffer, this.#track(callback));
    }
    return this.#readable.write(chunk, this.#track(callback));
  }

  end(callback: (error?: Error | null) => void): void {
    if (this.#failure) {
      process.nextTick(callback, this.#failure);
      return;
    }
    if (!this.#readable) {
      process.nextTick(callback);
      return;
    }
    this.#readable.end(this.#track(callback));
  }

  /** Destroy the pipe with `error` (the store then discards the object) and release waiters. */
  fail(error: unknown): void {
    if (this.#failure) return;
    const failure = error instanceof Error ? error : new Error(String(error));
    this.#failure = failure;
    this.#held = [];
    this.#readable?.destroy(failure);
    // Writes that went through have their success callbacks queued already (process.nextTick) and
    // must get them: parquetjs never awaits its header write, so failing that one would be an
    // unhandled rejection. What is still pending after them is stuck behind the failed consumer.
    setImmediate(() => {
      for (const callback of [...this.#pending]) callback(failure);
    });
  }

  #track(callback: (error?: Error | null) => void): (error?: Error | null) => void {
    let settled = false;
    const once = (error?: Error | null) => {
      if (settled) return;
      settled = true;
      this.#pending.delete(once);
      callback(error);
    };
    this.#pending.add(once);
    return once;
  }
}

function noop(): void {}
