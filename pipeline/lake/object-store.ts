/**
 * The lake's object store: what the ingestion worker needs from S3, and what a folder offers in
 * local mode ({@link S3ObjectStore}, {@link LocalObjectStore}). Keys are the same in both, so a
 * key written by the worker means the same object wherever the lake lives.
 *
 * Contract every implementation keeps (tests/support/object-store-contract.ts checks it):
 * - `put` streams: memory stays bounded by a part or a buffer, whatever the body's size.
 * - `put` is all or nothing: a reader sees the whole new object or the previous state, never a
 *   partial one; on any failure nothing is left at the key and no upload is left pending.
 * - `put` owns its body: on failure it destroys the body, so a producer blocked on backpressure is
 *   released instead of waiting forever.
 * - Errors are {@link ObjectStoreError}s (retryable or terminal), except that a body's own error is
 *   rethrown as is: it is the producer's, not the store's.
 *
 * @see {@link ./s3-store.ts} {@link ./local-store.ts}
 */
import type { Readable } from "node:stream";
import { InvalidObjectKeyError } from "./errors.js";

export interface PutOptions {
  /** Stops the write; the put rejects with `ObjectWriteAbortedError` and leaves nothing behind. */
  readonly signal?: AbortSignal;
  /** MIME type recorded with the object where the store keeps one (S3). */
  readonly contentType?: string;
}

/** Size of a stored object. */
export interface ObjectInfo {
  readonly bytes: number;
}

/** One object met by {@link ObjectStore.list}. */
export interface ListedObject extends ObjectInfo {
  readonly key: string;
}

export interface ObjectStore {
  /** Where the objects live, for logs and error context: `s3://bucket/prefix/`, `file:///dir/`. */
  readonly location: string;

  /**
   * Store `body` at `key`, streaming; replaces an existing object atomically.
   * @returns the number of bytes stored.
   * @throws InvalidObjectKeyError, ObjectWriteAbortedError, another ObjectStoreError, or the
   *   body's own error; in every case nothing is left at `key` and `body` is destroyed.
   */
  put(key: string, body: Readable, options?: PutOptions): Promise<ObjectInfo>;

  /** {@link put} for a small body already in memory (quarantine records, markers). */
  putBuffer(key: string, body: Buffer, options?: PutOptions): Promise<ObjectInfo>;

  /**
   * Whole object in memory: for small objects only.
   * @throws ObjectNotFoundError when no object is at `key`.
   */
  get(key: string): Promise<Buffer>;

  /**
   * The object as a stream, for large ones.
   * @throws ObjectNotFoundError when no object is at `key` (before any byte is read).
   */
  getStream(key: string): Promise<Readable>;

  /** Size of the object at `key`, or null when there is none. */
  head(key: string): Promise<ObjectInfo | null>;

  /** Remove the object at `key`; removing a missing object is not an error (as in S3). */
  delete(key: string): Promise<void>;

  /** Remove many objects, in as few requests as the store allows; missing ones are ignored. */
  deleteMany(keys: Iterable<string>): Promise<void>;

  /**
   * Every object whose key starts with `prefix` (a plain string prefix, as in S3, not a folder),
   * in ascending UTF-8 byte order of keys, listed page by page.
   */
  list(prefix: string): AsyncIterable<ListedObject>;

  /**
   * Remove what writes killed mid-way left under `prefix` (S3's incomplete multipart uploads, a
   * folder's temp files), for the keys `owned` accepts. A write that fails cleans up after
   * itself; only a killed process leaves these, and only their owner may remove them, since a
   * live writer's upload looks the same.
   * @returns the keys whose leftovers were removed.
   */
  removePartial(prefix: string, owned: (key: string) => boolean): Promise<string[]>;
}

/**
 * Refuse keys that would mean different objects in S3 and in a folder, or escape the folder: a
 * leading `/` (S3 would keep it, a path join would drop it), empty, `.` or `..` segments,
 * backslashes and control characters. Lake keys are `<collection>/idDevice=<id>/<ms>.parquet`.
 * @throws InvalidObjectKeyError naming the key and the reason.
 */
export function assertValidKey(key: string, location?: string): void {
  const reason = keyProblem(key, false);
  if (reason)
    throw new InvalidObjectKeyError(`invalid object key ${JSON.stringify(key)}: ${reason}`, {
      key,
      location,
    });
}

/**
 * {@link assertValidKey} for a list prefix: may be empty and may end with `/` (a "folder"), or
 * stop inside a segment (`alarm/idDevice=1`), as S3 prefixes do.
 */
export function assertValidPrefix(prefix: string, location?: string): void {
  if (prefix === "") return;
  const reason = keyProblem(prefix, true);
  if (reason) {
    throw new InvalidObjectKeyError(`invalid key prefix ${JSON.stringify(prefix)}: ${reason}`, {
      key: prefix,
      location,
    });
  }
}

function keyProblem(key: string, isPrefix: boolean): string | null {
  if (key.length === 0) return "empty";
  if (Buffer.byteLength(key, "utf8") > 1024) return "longer than S3's 1024 bytes";
  if (key.startsWith("/")) return "starts with '/'";
  if (key.includes("\\")) return "contains '\\'";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\u0000-\u001f\u007f]/.test(key)) return "contains a control character";
  const segments = key.split("/");
  // A prefix may end with "/", leaving one empty last segment.
  if (isPrefix && segments.at(-1) === "") segments.pop();
  for (const segment of segments) {
    if (segment === "") return "has an empty segment ('//' or a trailing '/')";
    if (segment === "." || segment === "..") return `has a '${segment}' segment`;
  }
  return null;
}

/**
 * A store's key prefix as `""` or `segment/.../`: a trailing `/` is optional in configuration, a
 * leading one is refused like in keys.
 * @throws InvalidObjectKeyError
 */
export function normalisePrefix(prefix: string | undefined): string {
  if (!prefix) return "";
  const trimmed = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  assertValidKey(trimmed);
  return `${trimmed}/`;
}

/**
 * What a store learns while reading a body: its size, and whether reading it failed. A failure of
 * the body is the producer's and is rethrown as is; anything else is the store's to classify.
 * @internal shared by the store implementations.
 */
export interface BodyTally {
  bytes: number;
  bodyError?: unknown;
}

/**
 * The body's chunks as Buffers, counted into `tally`. Stopping early (the store failed) stops and
 * destroys the body, through its iterator's `return`.
 * @internal shared by the store implementations.
 */
export async function* countBytes(body: Readable, tally: BodyTally): AsyncGenerator<Buffer> {
  const chunks = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await chunks.next();
      } catch (error) {
        tally.bodyError = error;
        throw error;
      }
      if (next.done) return;
      const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
      tally.bytes += chunk.byteLength;
      yield chunk;
    }
  } finally {
    await chunks.return?.();
  }
}
