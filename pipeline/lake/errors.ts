/**
 * Errors of the lake's object stores and writers. Callers decide to retry by `retryable`, and Step
 * Functions `Retry`/`Catch` match on the stable `name`:
 * - {@link ObjectStoreUnavailableError}: throttling, 5xx, network, transient file-system errors.
 * - {@link ObjectStoreAccessError}: access denied, no such bucket, read-only folder: terminal.
 * - {@link ObjectNotFoundError}, {@link InvalidObjectKeyError}, {@link ObjectStoreRequestError}:
 *   terminal, the same call fails the same way.
 * - {@link ObjectWriteAbortedError}: the caller aborted a write; running it again can succeed.
 * - {@link ParquetObjectWriteError}: producing the rows or encoding them failed.
 */
import { type ErrorContext, PipelineError } from "../errors.js";

/** Operations of an {@link ObjectStore}, named in errors. */
export type ObjectStoreOperation = "put" | "get" | "head" | "delete" | "list" | "removePartial";

/** Context of an object-store error: which object, where, during which operation. */
export interface ObjectStoreErrorContext extends ErrorContext {
  /** The key as the caller gave it (without the store's prefix). */
  readonly key?: string;
  /** Where the store keeps objects: `s3://bucket/prefix/` or `file:///root/`. */
  readonly location?: string;
  readonly operation?: ObjectStoreOperation;
}

/** Base of every error an object store or the Parquet object writer throws. */
export abstract class ObjectStoreError extends PipelineError {
  declare readonly context: ObjectStoreErrorContext;

  constructor(message: string, context: ObjectStoreErrorContext = {}, options?: { cause?: unknown }) {
    super(message, context, options);
  }
}

/** Throttled, a 5xx answer, or the network dropped: the same call can succeed later. */
export class ObjectStoreUnavailableError extends ObjectStoreError {
  readonly retryable = true;
}

/** Access denied, bad credentials, no such bucket, read-only folder: fix configuration first. */
export class ObjectStoreAccessError extends ObjectStoreError {
  readonly retryable = false;
}

/** `get` of a key that holds no object. */
export class ObjectNotFoundError extends ObjectStoreError {
  readonly retryable = false;
}

/** A key the lake refuses (leading `/`, empty or `.`/`..` segments, control characters). */
export class InvalidObjectKeyError extends ObjectStoreError {
  readonly retryable = false;
}

/**
 * Any other failure the store reports that a retry does not fix: a 4xx that is not about access
 * (a bug), a full or failing disk in local mode.
 */
export class ObjectStoreRequestError extends ObjectStoreError {
  readonly retryable = false;
}

/** The caller's AbortSignal stopped a write; nothing was left at the key. */
export class ObjectWriteAbortedError extends ObjectStoreError {
  readonly retryable = true;
}

/**
 * Producing or encoding the rows of a Parquet object failed (the row source threw, a row did not
 * fit the schema); nothing was left at the key. Retryable when its cause is.
 */
export class ParquetObjectWriteError extends ObjectStoreError {
  readonly retryable: boolean;

  constructor(message: string, context: ObjectStoreErrorContext, options?: { cause?: unknown }) {
    super(message, context, options);
    this.retryable = isTransient(options?.cause);
  }
}

/**
 * Node's error codes for a connection that failed or dropped, and for file-system conditions that
 * clear by themselves (too many open files, a busy resource).
 */
const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "EMFILE",
  "ENFILE",
  "EBUSY",
  "EAGAIN",
]);

/**
 * Error names of a request that timed out (AWS SDK, Node), and of the MongoDB driver's network
 * errors: the usual row source is a MongoDB cursor, whose connection can drop mid-window.
 */
const TRANSIENT_NAMES = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoServerSelectionError",
]);

/**
 * Whether running the same input again can succeed: a {@link PipelineError} says so itself,
 * otherwise network and timeout errors are transient and everything else is terminal (a bug or
 * bad data is not fixed by retrying).
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof PipelineError) return error.retryable;
  if (typeof error !== "object" || error === null) return false;
  const { code, name } = error as { code?: unknown; name?: unknown };
  if (typeof code === "string" && TRANSIENT_CODES.has(code)) return true;
  if (typeof name === "string" && TRANSIENT_NAMES.has(name)) return true;
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isTransient(cause);
}

/** Message of any thrown value, for error messages that wrap it. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
