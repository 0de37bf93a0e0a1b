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
import { type ErrorContext, isTransient, PipelineError } from "../errors.js";

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
 * The lake's stores and writers judge library errors by the pipeline's one rule (re-exported here
 * for them).
 */
export { isTransient, messageOf } from "../errors.js";
