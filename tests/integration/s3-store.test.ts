/**
 * The S3 store against a real S3 API (moto on the local stack): the ObjectStore contract, the
 * multipart path with bodies of several parts, and that a failed or aborted multipart upload
 * leaves neither an object nor a pending upload.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ObjectNotFoundError,
  ObjectStoreAccessError,
  ObjectStoreRequestError,
  ObjectStoreUnavailableError,
  ObjectWriteAbortedError,
} from "../../pipeline/lake/errors.js";
import { DEFAULT_PART_SIZE, S3ObjectStore, s3ErrorOf } from "../../pipeline/lake/s3-store.js";
import { chunked, failingBody, objectStoreContract } from "../support/object-store-contract.js";
import { createTestBucket, deleteTestBucket, motoClient, pendingUploads } from "../support/s3-bucket.js";

const MiB = 1024 * 1024;

let client: S3Client;
let bucket: string;
let store: S3ObjectStore;
/** Names of the commands the client sent, to show which upload path a put took. */
const sent: string[] = [];

beforeAll(async () => {
  client = motoClient();
  client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName ?? "?");
      return next(args);
    },
    { step: "initialize" },
  );
  bucket = await createTestBucket(client, "s3-store");
  store = new S3ObjectStore({ client, bucket, prefix: "raw" });
});

afterAll(async () => {
  await deleteTestBucket(client, bucket);
  client.destroy();
});

objectStoreContract("S3ObjectStore", () => ({
  store,
  leftovers: () => pendingUploads(client, bucket),
  // A killed multipart upload: started, one part sent, never completed nor aborted.
  leaveBehind: async (key) => {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: `raw/${key}` }),
    );
    await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: `raw/${key}`,
        UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(1024, 1),
      }),
    );
  },
}));

/** `bytes` of deterministic pseudo-random data in 1 MiB chunks, generated lazily, with its MD5. */
function generated(bytes: number): { body: Readable; md5: () => string } {
  const hash = createHash("md5");
  const body = Readable.from(
    (function* () {
      for (let i = 0; i * MiB < bytes; i++) {
        const chunk = Buffer.alloc(Math.min(MiB, bytes - i * MiB));
        for (let j = 0; j < chunk.length; j += 4) chunk.writeUInt32LE((i * 2654435761 + j) >>> 0, j);
        hash.update(chunk);
        yield chunk;
      }
    })(),
  );
  return { body, md5: () => hash.digest("hex") };
}

describe("S3ObjectStore specifics", () => {
  it("keeps keys under its prefix and names the location", async () => {
    await store.putBuffer("alarm/idDevice=1/0.parquet", Buffer.from("PAR1"));
    const head = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: "raw/alarm/idDevice=1/0.parquet" }),
    );
    expect(head.ContentLength).toBe(4);
    expect(store.location).toBe(`s3://${bucket}/raw/`);
    const listed: string[] = [];
    for await (const o of store.list("alarm/")) listed.push(o.key);
    expect(listed).toContain("alarm/idDevice=1/0.parquet");
  });

  it("uploads a 17 MiB stream in 3 parts of 8 MiB and reads the same bytes back", async () => {
    const size = 17 * MiB;
    const { body, md5 } = generated(size);
    sent.length = 0;
    expect(await store.put("big/17mib.bin", body)).toEqual({ bytes: size });
    expect(sent).toEqual([
      "CreateMultipartUploadCommand",
      "UploadPartCommand",
      "UploadPartCommand",
      "UploadPartCommand",
      "CompleteMultipartUploadCommand",
    ]);
    const expected = md5();
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "raw/big/17mib.bin" }));
    expect(head.ContentLength).toBe(size);
    // A multipart ETag is "<md5 of the part md5s>-<part count>".
    expect(head.ETag).toMatch(/-3"$/);
    expect(Math.ceil(size / DEFAULT_PART_SIZE)).toBe(3);
    const back = createHash("md5");
    for await (const chunk of await store.getStream("big/17mib.bin")) back.update(chunk as Buffer);
    expect(back.digest("hex")).toBe(expected);
  });

  it("records the requested server-side encryption and content type", async () => {
    const encrypted = new S3ObjectStore({ client, bucket, prefix: "sse/", serverSideEncryption: "AES256" });
    await encrypted.put("a.parquet", chunked("PAR1"), { contentType: "application/vnd.apache.parquet" });
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "sse/a.parquet" }));
    expect(head.ServerSideEncryption).toBe("AES256");
    expect(head.ContentType).toBe("application/vnd.apache.parquet");
  });

  it("aborts the multipart upload when the body fails after two parts went up", async () => {
    const broken = new Error("cursor died after 17 MiB");
    sent.length = 0;
    await expect(store.put("big/failing.bin", failingBody(17 * MiB, broken))).rejects.toBe(broken);
    expect(sent).toEqual([
      "CreateMultipartUploadCommand",
      "UploadPartCommand",
      "UploadPartCommand",
      "AbortMultipartUploadCommand",
    ]);
    expect(await store.head("big/failing.bin")).toBeNull();
    expect(await pendingUploads(client, bucket)).toEqual([]);
  });

  it("aborts the multipart upload on the caller's signal, before the put rejects", async () => {
    const controller = new AbortController();
    let read = 0;
    const body = Readable.from(
      (function* () {
        for (; read < 64 * MiB; read += MiB) {
          // Two parts are up or on their way when the caller gives up.
          if (read === 20 * MiB) controller.abort(new Error("time budget spent"));
          yield Buffer.alloc(MiB, read / MiB);
        }
      })(),
    );
    sent.length = 0;
    const error = await store
      .put("big/aborted.bin", body, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectWriteAbortedError);
    expect(sent).toContain("UploadPartCommand");
    expect(sent.at(-1)).toBe("AbortMultipartUploadCommand");
    expect(read).toBeGreaterThanOrEqual(20 * MiB);
    expect(read).toBeLessThan(64 * MiB);
    expect(await store.head("big/aborted.bin")).toBeNull();
    expect(await pendingUploads(client, bucket)).toEqual([]);
  });

  it("reports a missing bucket as a terminal access error", async () => {
    const missing = new S3ObjectStore({ client, bucket: `${bucket}-missing` });
    const error = await missing.put("a/b.parquet", chunked("PAR1")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectStoreAccessError);
    expect(error).toMatchObject({
      retryable: false,
      name: "ObjectStoreAccessError",
      context: { key: "a/b.parquet", operation: "put", location: `s3://${bucket}-missing/` },
    });
    await expect(missing.get("a/b.parquet")).rejects.toBeInstanceOf(ObjectStoreAccessError);
  });

  it("reports an unreachable endpoint as retryable", async () => {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const offline = motoClient({ endpoint: "http://127.0.0.1:9", maxAttempts: 1 });
    const error = await new S3ObjectStore({ client: offline, bucket }).get("a").catch((e: unknown) => e);
    offline.destroy();
    expect(error).toBeInstanceOf(ObjectStoreUnavailableError);
    expect(error).toMatchObject({ retryable: true });
  });

  it("sees an upload left open (control: an empty pending list above means something)", async () => {
    const open = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: "control/open.bin" }),
    );
    expect(await pendingUploads(client, bucket)).toEqual([`control/open.bin (${open.UploadId})`]);
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: "control/open.bin", UploadId: open.UploadId }),
    );
    expect(await pendingUploads(client, bucket)).toEqual([]);
  });

  it("refuses a part size S3 would reject", () => {
    expect(() => new S3ObjectStore({ client, bucket, partSize: MiB })).toThrow(RangeError);
  });
});

describe("s3ErrorOf", () => {
  const serviceError = (name: string, status: number, extra: object = {}) =>
    Object.assign(
      new Error(`${name} from S3`),
      { name, $fault: "client", $metadata: { httpStatusCode: status } },
      extra,
    );

  it.each([
    ["SlowDown", 503, ObjectStoreUnavailableError],
    ["ThrottlingException", 400, ObjectStoreUnavailableError],
    ["InternalError", 500, ObjectStoreUnavailableError],
    ["TooManyRequests", 429, ObjectStoreUnavailableError],
    ["AccessDenied", 403, ObjectStoreAccessError],
    ["InvalidAccessKeyId", 403, ObjectStoreAccessError],
    ["NoSuchBucket", 404, ObjectStoreAccessError],
    ["PermanentRedirect", 301, ObjectStoreAccessError],
    ["NoSuchKey", 404, ObjectNotFoundError],
    ["EntityTooSmall", 400, ObjectStoreRequestError],
    ["InvalidPart", 400, ObjectStoreRequestError],
  ])("%s (HTTP %i) becomes %O", (name, status, type) => {
    const cause = serviceError(name, status);
    const error = s3ErrorOf(cause, { key: "k", operation: "put" });
    expect(error).toBeInstanceOf(type);
    expect(error.cause).toBe(cause);
    expect(error.retryable).toBe(type === ObjectStoreUnavailableError);
  });

  it.each([
    ["ECONNRESET", { code: "ECONNRESET" }],
    ["ETIMEDOUT", { code: "ETIMEDOUT" }],
    ["a timeout", { name: "TimeoutError" }],
    ["an SDK-retryable error", { name: "Weird", $retryable: { throttling: false }, $metadata: {} }],
  ])("%s is retryable", (_label, fields) => {
    expect(s3ErrorOf(Object.assign(new Error("x"), fields), {}).retryable).toBe(true);
  });

  it("a bug in our own request is terminal", () => {
    expect(s3ErrorOf(new TypeError("Body Data is unsupported format"), {})).toBeInstanceOf(
      ObjectStoreRequestError,
    );
  });
});
