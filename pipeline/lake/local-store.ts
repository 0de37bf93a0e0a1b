/**
 * The lake as a folder, for local mode: the object at key `a/b/c.parquet` is the file
 * `<root>/a/b/c.parquet`, so a `file://` lake has the same layout as the S3 one and the Spark jobs
 * read either by changing the URI scheme.
 *
 * Writes go to a hidden temp file next to the target and are renamed over it only once complete
 * (rename is atomic within one file system, POSIX rename(2)), so a reader never sees a partial
 * object; a failed write removes its temp file.
 * Differences from S3 that the lake's keys never meet: a key cannot be both an object and a
 * "folder" (`a` and `a/b`), and empty folders stay behind after a delete.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, type Dirent, type WriteStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import {
  isTransient,
  messageOf,
  ObjectNotFoundError,
  ObjectStoreAccessError,
  type ObjectStoreError,
  type ObjectStoreErrorContext,
  type ObjectStoreOperation,
  ObjectStoreRequestError,
  ObjectStoreUnavailableError,
  ObjectWriteAbortedError,
} from "./errors.js";
import {
  assertValidKey,
  assertValidPrefix,
  type BodyTally,
  countBytes,
  type ListedObject,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
} from "./object-store.js";

/** Temp files are `.<name>.<uuid>.tmp` beside their target; `list` never shows them. */
const TEMP_FILE = /^\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** An {@link ObjectStore} over a folder of the local file system. */
export class LocalObjectStore implements ObjectStore {
  readonly location: string;
  readonly #root: string;

  constructor(rootDir: string) {
    this.#root = resolve(rootDir);
    this.location = pathToFileURL(this.#root + sep).href;
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<ObjectInfo> {
    const { signal } = options;
    // A body destroyed with an error while nobody reads it would crash the process; the read loop
    // in countBytes still sees the error.
    body.on("error", noop);
    let path: string;
    try {
      path = this.#path(key);
      signal?.throwIfAborted();
    } catch (error) {
      body.destroy();
      throw signal?.aborted ? this.#aborted(key, signal.reason) : error;
    }
    const temp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
    const tally: BodyTally = { bytes: 0 };
    // Abort by failing the body rather than through pipeline's own signal: a pipeline aborted while
    // its source waits for the body's next chunk waits for that chunk forever.
    const onAbort = () => body.destroy(Object.assign(new Error("put aborted"), { name: "AbortError" }));
    signal?.addEventListener("abort", onAbort, { once: true });
    let out: WriteStream | undefined;
    try {
      await mkdir(dirname(path), { recursive: true });
      // `wx`: never write through someone else's file; `flush`: fsync before close, so the
      // renamed file has its bytes on disk even if the machine stops right after.
      out = createWriteStream(temp, { flags: "wx", flush: true });
      await pipeline(countBytes(body, tally), out);
      signal?.throwIfAborted();
      await rename(temp, path);
      return { bytes: tally.bytes };
    } catch (error) {
      body.destroy();
      // A write stream destroyed while its file is still being opened creates the file after the
      // failure: wait until it has closed, or the removal below can run first and miss it.
      if (out && !out.closed) {
        out.destroy();
        await once(out, "close").catch(noop);
      }
      await rm(temp, { force: true });
      if (signal?.aborted) throw this.#aborted(key, signal.reason);
      if (tally.bodyError !== undefined) throw tally.bodyError;
      throw this.#error(error, key, "put");
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** As `put`, without a stream: one write of the whole body (small objects, quarantine records). */
  async putBuffer(key: string, body: Buffer, options: PutOptions = {}): Promise<ObjectInfo> {
    const { signal } = options;
    const path = this.#path(key);
    if (signal?.aborted) throw this.#aborted(key, signal.reason);
    const temp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
    try {
      await mkdir(dirname(path), { recursive: true });
      const handle = await open(temp, "wx");
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      signal?.throwIfAborted();
      await rename(temp, path);
      return { bytes: body.byteLength };
    } catch (error) {
      await rm(temp, { force: true });
      if (signal?.aborted) throw this.#aborted(key, signal.reason);
      throw this.#error(error, key, "put");
    }
  }

  async get(key: string): Promise<Buffer> {
    const path = this.#path(key);
    try {
      return await readFile(path);
    } catch (error) {
      throw this.#error(error, key, "get");
    }
  }

  async getStream(key: string): Promise<Readable> {
    const path = this.#path(key);
    try {
      // Opened first so a missing object fails here, not on the first read.
      const handle = await open(path, "r");
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        throw Object.assign(new Error(`${path} is not a file`), { code: "EISDIR" });
      }
      return handle.createReadStream();
    } catch (error) {
      throw this.#error(error, key, "get");
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const path = this.#path(key);
    try {
      const info = await stat(path);
      return info.isFile() ? { bytes: info.size } : null;
    } catch (error) {
      if (isMissing(error)) return null;
      throw this.#error(error, key, "head");
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.#path(key);
    try {
      await unlink(path);
    } catch (error) {
      // As in S3, deleting what is not there succeeds; a folder is not an object either (unlink
      // of a folder fails with EISDIR on Linux, EPERM elsewhere).
      if (isMissing(error)) return;
      if ((codeOf(error) === "EISDIR" || codeOf(error) === "EPERM") && !(await isFile(path))) return;
      throw this.#error(error, key, "delete");
    }
  }

  async deleteMany(keys: Iterable<string>): Promise<void> {
    for (const key of keys) await this.delete(key);
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    assertValidPrefix(prefix, this.location);
    const found: ListedObject[] = [];
    try {
      for (const { key, name } of await this.#files(prefix)) {
        if (!key.startsWith(prefix) || TEMP_FILE.test(name)) continue;
        const info = await stat(join(this.#root, ...key.split("/"))).catch((error: unknown) => {
          if (isMissing(error)) return null; // deleted while we listed
          throw error;
        });
        if (info) found.push({ key, bytes: info.size });
      }
    } catch (error) {
      throw this.#error(error, prefix, "list");
    }
    // S3 lists in UTF-8 byte order of whole keys; a depth-first walk would put `a/b` before `a.b`.
    found.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
    yield* found;
  }

  async removePartial(prefix: string, owned: (key: string) => boolean): Promise<string[]> {
    assertValidPrefix(prefix, this.location);
    const removed: string[] = [];
    try {
      for (const { key: temp, name } of await this.#files(prefix)) {
        if (!TEMP_FILE.test(name)) continue;
        // `.<name>.<uuid>.tmp` belongs to the key `<folder>/<name>`.
        const key =
          temp.slice(0, temp.length - name.length) + name.slice(1).replace(/\.[0-9a-f-]{36}\.tmp$/, "");
        if (!key.startsWith(prefix) || !owned(key)) continue;
        await rm(join(this.#root, ...temp.split("/")), { force: true });
        removed.push(key);
      }
    } catch (error) {
      throw this.#error(error, prefix, "removePartial");
    }
    return removed;
  }

  /**
   * Every file (temp files included) in the folders a prefix can reach. A prefix may stop inside
   * a name (`alarm/idDevice=1`): the walk starts from its last complete folder.
   */
  async #files(prefix: string): Promise<{ key: string; name: string }[]> {
    const files: { key: string; name: string }[] = [];
    const walk = async (folderKey: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(join(this.#root, ...folderKey.split("/")), { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return;
        throw error;
      }
      for (const entry of entries) {
        const key = folderKey + entry.name;
        if (entry.isDirectory()) {
          const sub = `${key}/`;
          if (sub.startsWith(prefix) || prefix.startsWith(sub)) await walk(sub);
        } else if (entry.isFile()) {
          files.push({ key, name: entry.name });
        }
      }
    };
    await walk(prefix.slice(0, prefix.lastIndexOf("/") + 1));
    return files;
  }

  #path(key: string): string {
    assertValidKey(key, this.location);
    return join(this.#root, ...key.split("/"));
  }

  #aborted(key: string, reason: unknown): ObjectWriteAbortedError {
    return new ObjectWriteAbortedError(`put ${key} aborted`, this.#context(key, "put"), { cause: reason });
  }

  #context(key: string, operation: ObjectStoreOperation): ObjectStoreErrorContext {
    return { key, location: this.location, operation };
  }

  #error(error: unknown, key: string, operation: ObjectStoreOperation): ObjectStoreError {
    return fsErrorOf(error, this.#context(key, operation));
  }
}

/** File-system codes that no retry fixes: permissions and read-only mounts. */
const ACCESS_CODES = new Set(["EACCES", "EPERM", "EROFS"]);

/**
 * Classify a file-system error: a missing file is not found, permissions terminal, running out of
 * descriptors or a busy file retryable, anything else (a full disk, I/O errors) terminal.
 */
export function fsErrorOf(error: unknown, context: ObjectStoreErrorContext): ObjectStoreError {
  const message = `${context.operation ?? "access"} ${context.key ?? ""} in ${context.location ?? "folder"}: ${messageOf(error)}`;
  const options = { cause: error };
  if (isMissing(error) || codeOf(error) === "EISDIR")
    return new ObjectNotFoundError(message, context, options);
  if (ACCESS_CODES.has(codeOf(error) ?? "")) return new ObjectStoreAccessError(message, context, options);
  if (isTransient(error)) return new ObjectStoreUnavailableError(message, context, options);
  return new ObjectStoreRequestError(message, context, options);
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function isMissing(error: unknown): boolean {
  return codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR";
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

function noop(): void {}
