/**
 * The lake in S3. Writes go through `@aws-sdk/lib-storage`'s `Upload`: one PutObject for a body
 * smaller than a part, a multipart upload otherwise, with a bounded number of parts in memory.
 * A failed multipart upload is aborted (`leavePartsOnError: false`), so it leaves neither an
 * object nor parts that S3 would bill until a lifecycle rule removes them.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
 */
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
  type ServerSideEncryption,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
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
  normalisePrefix,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
} from "./object-store.js";

/** Part size of multipart uploads: above S3's 5 MiB minimum, small enough for a Lambda's memory. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** Parts uploaded at once; with the part being filled, memory is about (queueSize + 1) parts. */
export const DEFAULT_QUEUE_SIZE = 2;
/** S3 refuses smaller parts (except the last one). */
const MIN_PART_SIZE = 5 * 1024 * 1024;
/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;

export interface S3ObjectStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix inside the bucket (`raw/`); a trailing `/` is added when missing. */
  readonly prefix?: string;
  /** Server-side encryption requested on every write; the bucket default applies when unset. */
  readonly serverSideEncryption?: ServerSideEncryption;
  /** KMS key for `aws:kms` encryption; the AWS managed key when unset. */
  readonly kmsKeyId?: string;
  readonly partSize?: number;
  readonly queueSize?: number;
}

/** An {@link ObjectStore} over one bucket (and prefix) of S3, or of an S3-compatible server. */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #encryption: { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string };
  readonly #partSize: number;
  readonly #queueSize: number;

  constructor(options: S3ObjectStoreOptions) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = normalisePrefix(options.prefix);
    this.location = `s3://${options.bucket}/${this.#prefix}`;
    this.#partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.#queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    if (this.#partSize < MIN_PART_SIZE)
      throw new RangeError(`partSize must be at least ${MIN_PART_SIZE} bytes`);
    if (!Number.isInteger(this.#queueSize) || this.#queueSize < 1)
      throw new RangeError("queueSize must be >= 1");
    this.#encryption = {
      ...(options.serverSideEncryption && { ServerSideEncryption: options.serverSideEncryption }),
      ...(options.kmsKeyId && { SSEKMSKeyId: options.kmsKeyId }),
    };
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<ObjectInfo> {
    const { signal } = options;
    // A body destroyed with an error while nobody reads it would crash the process; the read loop
    // in countBytes still sees the error.
    body.on("error", noop);
    try {
      assertValidKey(key, this.location);
      signal?.throwIfAborted();
    } catch (error) {
      body.destroy();
      throw signal?.aborted ? this.#aborted(key, signal.reason) : error;
    }
    const tally: BodyTally = { bytes: 0 };
    // Destroying the body on abort makes the upload fail through its normal error path, which
    // awaits AbortMultipartUpload. `Upload.abort()` would instead reject `done()` at once, before
    // the parts are aborted, so a caller could still see a pending upload after the put rejected.
    const onAbort = () => body.destroy(Object.assign(new Error("put aborted"), { name: "AbortError" }));
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const upload = new Upload({
        client: this.#client,
        params: {
          Bucket: this.#bucket,
          Key: this.#prefix + key,
          // highWaterMark 1: a chunk may be a whole row group; read ahead one, not sixteen.
          Body: Readable.from(countBytes(body, tally), { highWaterMark: 1 }),
          ContentType: options.contentType,
          ...this.#encryption,
        },
        partSize: this.#partSize,
        queueSize: this.#queueSize,
        leavePartsOnError: false,
      });
      await upload.done();
      return { bytes: tally.bytes };
    } catch (error) {
      body.destroy();
      if (signal?.aborted) throw this.#aborted(key, signal.reason);
      if (tally.bodyError !== undefined) throw tally.bodyError;
      throw this.#error(error, key, "put");
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async putBuffer(key: string, body: Buffer, options: PutOptions = {}): Promise<ObjectInfo> {
    assertValidKey(key, this.location);
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#prefix + key,
          Body: body,
          ContentLength: body.byteLength,
          ContentType: options.contentType,
          ...this.#encryption,
        }),
        { abortSignal: options.signal },
      );
      return { bytes: body.byteLength };
    } catch (error) {
      if (options.signal?.aborted) throw this.#aborted(key, options.signal.reason);
      throw this.#error(error, key, "put");
    }
  }

  async get(key: string): Promise<Buffer> {
    const stream = await this.getStream(key);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } catch (error) {
      throw this.#error(error, key, "get");
    }
  }

  async getStream(key: string): Promise<Readable> {
    assertValidKey(key, this.location);
    try {
      const out = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
      );
      // In Node the SDK's body is an IncomingMessage with helper methods mixed in.
      return out.Body as Readable;
    } catch (error) {
      throw this.#error(error, key, "get");
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key, this.location);
    try {
      const out = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
      );
      return { bytes: out.ContentLength ?? 0 };
    } catch (error) {
      // HEAD answers carry no body, so a missing bucket is also a bare 404 "NotFound": it reads as a
      // missing object here, and the next put or list names the real problem.
      if (statusOf(error) === 404) return null;
      throw this.#error(error, key, "head");
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key, this.location);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }));
    } catch (error) {
      throw this.#error(error, key, "delete");
    }
  }

  async deleteMany(keys: Iterable<string>): Promise<void> {
    let batch: string[] = [];
    for (const key of keys) {
      assertValidKey(key, this.location);
      batch.push(key);
      if (batch.length === DELETE_BATCH) {
        await this.#deleteBatch(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.#deleteBatch(batch);
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    assertValidPrefix(prefix, this.location);
    const pages = paginateListObjectsV2(
      { client: this.#client },
      { Bucket: this.#bucket, Prefix: this.#prefix + prefix },
    );
    try {
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          yield { key: object.Key.slice(this.#prefix.length), bytes: object.Size ?? 0 };
        }
      }
    } catch (error) {
      throw this.#error(error, prefix, "list");
    }
  }

  async removePartial(prefix: string, owned: (key: string) => boolean): Promise<string[]> {
    assertValidPrefix(prefix, this.location);
    const removed: string[] = [];
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    try {
      for (;;) {
        const page = await this.#client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            KeyMarker,
            UploadIdMarker,
          }),
        );
        for (const upload of page.Uploads ?? []) {
          if (upload.Key === undefined || upload.UploadId === undefined) continue;
          const key = upload.Key.slice(this.#prefix.length);
          if (!owned(key)) continue;
          await this.#client.send(
            new AbortMultipartUploadCommand({
              Bucket: this.#bucket,
              Key: upload.Key,
              UploadId: upload.UploadId,
            }),
          );
          removed.push(key);
        }
        if (!page.IsTruncated) break;
        KeyMarker = page.NextKeyMarker;
        UploadIdMarker = page.NextUploadIdMarker;
      }
    } catch (error) {
      throw this.#error(error, prefix, "removePartial");
    }
    return removed;
  }

  async #deleteBatch(keys: readonly string[]): Promise<void> {
    let out: DeleteObjectsCommandOutput;
    try {
      out = await this.#client.send(
        new DeleteObjectsCommand({
          Bucket: this.#bucket,
          // Quiet: the answer lists only failures, so a 1000-key batch stays small.
          Delete: { Objects: keys.map((key) => ({ Key: this.#prefix + key })), Quiet: true },
        }),
      );
    } catch (error) {
      throw this.#error(error, keys[0] ?? "", "delete");
    }
    // DeleteObjects answers 200 even when some keys failed; each failure is reported in Errors.
    const failure = out.Errors?.[0];
    if (failure) {
      const key = (failure.Key ?? "").slice(this.#prefix.length);
      const named = Object.assign(new Error(failure.Message ?? failure.Code ?? "delete failed"), {
        name: failure.Code ?? "DeleteFailed",
      });
      throw this.#error(named, key, "delete", `${out.Errors?.length} of ${keys.length} deletes failed`);
    }
  }

  #aborted(key: string, reason: unknown): ObjectWriteAbortedError {
    return new ObjectWriteAbortedError(`put ${key} aborted`, this.#context(key, "put"), { cause: reason });
  }

  #context(key: string, operation: ObjectStoreOperation): ObjectStoreErrorContext {
    return { key, location: this.location, operation };
  }

  #error(error: unknown, key: string, operation: ObjectStoreOperation, detail?: string): ObjectStoreError {
    return s3ErrorOf(error, this.#context(key, operation), detail);
  }
}

/** S3 error codes that no retry fixes: credentials, permissions, a missing or misplaced bucket. */
const ACCESS_CODES = new Set([
  "AccessDenied",
  "AllAccessDisabled",
  "AccountProblem",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "NoSuchBucket",
  "InvalidBucketName",
  "PermanentRedirect",
  "AuthorizationHeaderMalformed",
  "CredentialsProviderError",
  "KMS.DisabledException",
  "KMS.NotFoundException",
]);

/** S3 error codes of throttling and of server-side trouble. */
const UNAVAILABLE_CODES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "ServiceUnavailable",
  "InternalError",
  "RequestTimeout",
  "KMS.ThrottlingException",
]);

const NOT_FOUND_CODES = new Set(["NoSuchKey", "NotFound"]);

/**
 * Classify an error from the S3 client: access problems and missing buckets are terminal,
 * throttling, 5xx and network errors retryable, other refusals terminal request errors.
 */
export function s3ErrorOf(
  error: unknown,
  context: ObjectStoreErrorContext,
  detail?: string,
): ObjectStoreError {
  const code = error instanceof Error ? error.name : "";
  const status = statusOf(error);
  const where = `${context.operation ?? "request"} ${context.key ?? ""} in ${context.location ?? "S3"}`;
  const message = `${where}: ${detail ? `${detail}; ` : ""}${messageOf(error)}`;
  const options = { cause: error };
  if (NOT_FOUND_CODES.has(code) || (status === 404 && !ACCESS_CODES.has(code))) {
    return new ObjectNotFoundError(message, context, options);
  }
  if (ACCESS_CODES.has(code) || status === 401 || status === 403 || status === 301) {
    return new ObjectStoreAccessError(message, context, options);
  }
  const throttled = (error as { $retryable?: unknown } | null)?.$retryable !== undefined;
  if (
    UNAVAILABLE_CODES.has(code) ||
    throttled ||
    status === 429 ||
    (status ?? 0) >= 500 ||
    isTransient(error)
  ) {
    return new ObjectStoreUnavailableError(message, context, options);
  }
  return new ObjectStoreRequestError(message, context, options);
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function noop(): void {}
