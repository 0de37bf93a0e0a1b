/**
 * Rows streamed into Parquet objects, in both stores: an independent reader (pyarrow) sees every
 * row, value and row group; and when the rows, the encoding, the upload or the caller fail part
 * way, nothing is left at the key (no object, no temp file, no pending multipart upload).
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { ListPartsCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ObjectStoreUnavailableError,
  ObjectWriteAbortedError,
  ParquetObjectWriteError,
} from "../../pipeline/lake/errors.js";
import { LocalObjectStore } from "../../pipeline/lake/local-store.js";
import type { ObjectStore } from "../../pipeline/lake/object-store.js";
import { writeParquetObject } from "../../pipeline/lake/parquet-object.js";
import { S3ObjectStore } from "../../pipeline/lake/s3-store.js";
import { collection, type LakeRow, type RegistryEntry, table } from "../../pipeline/schema/index.js";
import { createTestBucket, deleteTestBucket, motoClient, pendingUploads } from "../support/s3-bucket.js";
import { sampleRows } from "../support/sample-rows.js";

const run = promisify(execFile);
const PYTHON = join(process.cwd(), ".local/venv/bin/python");
const TOOL = join(process.cwd(), "glue/tools/parquet_schema.py");

interface ArrowReport {
  num_rows: number;
  num_row_groups: number;
  compression: string;
  data_page_versions: string[];
  columns: { name: string }[];
  rows: Record<string, unknown>[];
}

let dir: string;
let client: S3Client;
let bucket: string;
const stores: Record<"local" | "s3", { store: ObjectStore; leftovers: () => Promise<string[]> }> =
  {} as never;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "parquet-object-"));
  client = motoClient();
  bucket = await createTestBucket(client, "parquet-object");
  const lake = join(dir, "lake");
  stores.local = {
    store: new LocalObjectStore(lake),
    leftovers: async () =>
      (await readdir(lake, { recursive: true }).catch(() => [] as string[])).filter((f) =>
        f.endsWith(".tmp"),
      ),
  };
  stores.s3 = {
    store: new S3ObjectStore({ client, bucket, prefix: "raw/" }),
    leftovers: () => pendingUploads(client, bucket),
  };
});

afterAll(async () => {
  await deleteTestBucket(client, bucket);
  client.destroy();
  await rm(dir, { recursive: true, force: true });
});

/** `count` sample rows, produced lazily; `state.closed` tells whether the consumer closed us. */
function rowSource(entry: RegistryEntry, count: number, failAfter?: number) {
  const state = { produced: 0, closed: false };
  const rows = sampleRows(entry, count);
  async function* generate(): AsyncGenerator<LakeRow> {
    try {
      for (const row of rows) {
        if (state.produced === failAfter) throw new Error(`source failed after ${failAfter} rows`);
        state.produced++;
        yield row;
      }
    } finally {
      state.closed = true;
    }
  }
  return { rows: generate(), state };
}

/** Download the object and describe it with pyarrow. */
async function arrowReport(store: ObjectStore, key: string): Promise<ArrowReport> {
  const path = join(dir, `${key.replaceAll("/", "_")}`);
  await writeFile(path, await store.get(key));
  const { stdout } = await run(PYTHON, [TOOL, "--all-rows", path], { maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(stdout) as ArrowReport;
}

/** A sample row as pyarrow's JSON shows it: timestamps as ISO-8601 UTC strings. */
function asArrowJson(row: LakeRow): LakeRow {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]),
  );
}

const cases = [
  { entry: collection("alarm"), rows: 25, rowGroupSize: 10 },
  { entry: collection("variable_logs"), rows: 2_500, rowGroupSize: 1_000 },
  { entry: table("device"), rows: 7, rowGroupSize: 3 },
  { entry: collection("alarm"), rows: 1, rowGroupSize: 10_000 },
];

describe.each(["local", "s3"] as const)("%s store", (which) => {
  it.each(cases.map((c) => [`${c.entry.kind} ${c.entry.name}`, c.rows, c] as const))(
    "%s: %i rows read back by pyarrow with every value and row group",
    async (_label, count, { entry, rowGroupSize }) => {
      const { store } = stores[which];
      const key = `${entry.name}/idDevice=${count}/1443657600000.parquet`;
      const { rows, state } = rowSource(entry, count);
      const written = await writeParquetObject(entry, rows, store, key, { rowGroupSize });
      expect(written).toMatchObject({ key, rows: count });
      expect(written?.bytes).toBe((await store.head(key))?.bytes);
      expect(state.closed).toBe(true);

      const report = await arrowReport(store, key);
      expect(report.num_rows).toBe(count);
      expect(report.num_row_groups).toBe(Math.ceil(count / rowGroupSize));
      expect(report.compression).toBe("SNAPPY");
      expect(report.data_page_versions).toEqual(["1.0"]);
      expect(report.columns.map((c) => c.name)).toEqual(entry.columns.map((c) => c.name));
      expect(report.rows).toEqual(sampleRows(entry, count).map(asArrowJson));
    },
  );

  it("ends a row group early when its rows' size reaches rowGroupBytes: wide rows stay bounded", async () => {
    const { store } = stores[which];
    const entry = collection("request");
    const key = `${entry.name}/idDevice=77/1443657600000.parquet`;
    // 40 rows of about 10 KB each: by count one group of 1,000; by size 32 KB a group, 4 rows.
    const wide = sampleRows(entry, 40).map((row, i) => ({
      ...row,
      payload: JSON.stringify({ i, blob: "x".repeat(10_000) }),
    }));
    const written = await writeParquetObject(
      entry,
      (async function* () {
        yield* wide;
      })(),
      store,
      key,
      {
        rowGroupSize: 1_000,
        rowGroupBytes: 32 * 1024,
      },
    );
    expect(written?.rows).toBe(40);
    const report = await arrowReport(store, key);
    expect(report.num_rows).toBe(40);
    expect(report.num_row_groups).toBe(10);
    expect(report.rows.map((r) => JSON.parse(r.payload as string).i)).toEqual(wide.map((_, i) => i));
  });

  it("stores an object under smallObjectBytes in one request, and streams a larger one", async () => {
    const { store } = stores[which];
    const calls: string[] = [];
    const spy: ObjectStore = {
      location: store.location,
      put: (key, body, options) => {
        calls.push("put");
        return store.put(key, body, options);
      },
      putBuffer: (key, body, options) => {
        calls.push("putBuffer");
        return store.putBuffer(key, body, options);
      },
      get: (key) => store.get(key),
      getStream: (key) => store.getStream(key),
      head: (key) => store.head(key),
      delete: (key) => store.delete(key),
      deleteMany: (keys) => store.deleteMany(keys),
      list: (prefix) => store.list(prefix),
      removePartial: (prefix, owned) => store.removePartial(prefix, owned),
    };
    const entry = collection("alarm");
    const small = await writeParquetObject(
      entry,
      rowSource(entry, 50).rows,
      spy,
      "alarm/idDevice=1/1.parquet",
    );
    expect(calls).toEqual(["putBuffer"]);
    expect(small?.bytes).toBe((await store.head("alarm/idDevice=1/1.parquet"))?.bytes);
    calls.length = 0;
    const large = await writeParquetObject(
      entry,
      rowSource(entry, 3_000).rows,
      spy,
      "alarm/idDevice=1/2.parquet",
      {
        rowGroupSize: 500,
        smallObjectBytes: 4096,
      },
    );
    expect(calls).toEqual(["put"]);
    expect(large?.rows).toBe(3_000);
    expect((await arrowReport(store, "alarm/idDevice=1/2.parquet")).num_rows).toBe(3_000);
  });

  it("writes no object for zero rows and returns null", async () => {
    const { store } = stores[which];
    const key = "alarm/idDevice=0/0.parquet";
    const { rows, state } = rowSource(collection("alarm"), 0);
    expect(await writeParquetObject(collection("alarm"), rows, store, key)).toBeNull();
    expect(state.closed).toBe(true);
    expect(await store.head(key)).toBeNull();
  });

  it.each([
    [1, 10],
    [25, 10],
    [1_234, 500],
  ])("leaves nothing when the rows fail after %i (row group %i)", async (failAfter, rowGroupSize) => {
    const { store, leftovers } = stores[which];
    const entry = collection("alarm");
    const key = `alarm/idDevice=9/${failAfter}.parquet`;
    const { rows, state } = rowSource(entry, failAfter + 100, failAfter);
    const error = await writeParquetObject(entry, rows, store, key, { rowGroupSize }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ParquetObjectWriteError);
    expect(error).toMatchObject({
      retryable: false,
      message: expect.stringContaining(`after ${failAfter} rows`),
      context: { key, collection: "alarm", operation: "put" },
      cause: expect.objectContaining({ message: `source failed after ${failAfter} rows` }),
    });
    expect(state.produced).toBe(failAfter);
    expect(await store.head(key)).toBeNull();
    expect(await leftovers()).toEqual([]);
  });

  it("leaves nothing when a row does not fit the schema, and closes the row source", async () => {
    const { store, leftovers } = stores[which];
    const entry = collection("alarm");
    const key = "alarm/idDevice=8/bad-row.parquet";
    const good = sampleRows(entry, 50);
    const state = { closed: false };
    async function* rows(): AsyncGenerator<LakeRow> {
      try {
        yield* good;
        yield { ...good[0], code: null }; // `code` is REQUIRED
        yield* good;
      } finally {
        state.closed = true;
      }
    }
    const error = await writeParquetObject(entry, rows(), store, key, { rowGroupSize: 20 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ParquetObjectWriteError);
    expect(error).toMatchObject({ retryable: false, message: expect.stringContaining("after 50 rows") });
    expect(state.closed).toBe(true);
    expect(await store.head(key)).toBeNull();
    expect(await leftovers()).toEqual([]);
  });

  it("stops on the caller's signal with ObjectWriteAbortedError and leaves nothing", async () => {
    const { store, leftovers } = stores[which];
    const entry = collection("alarm");
    const key = "alarm/idDevice=7/aborted.parquet";
    const controller = new AbortController();
    const rows = (async function* () {
      for (const [i, row] of sampleRows(entry, 5_000).entries()) {
        if (i === 2_500) controller.abort(new Error("time budget spent"));
        yield row;
      }
    })();
    const error = await writeParquetObject(entry, rows, store, key, {
      rowGroupSize: 1_000,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectWriteAbortedError);
    expect(error).toMatchObject({ retryable: true, context: { key } });
    expect(await store.head(key)).toBeNull();
    expect(await leftovers()).toEqual([]);
  });

  it("refuses a bad key before reading any row", async () => {
    const { rows, state } = rowSource(collection("alarm"), 10);
    await expect(
      writeParquetObject(collection("alarm"), rows, stores[which].store, "/alarm/x.parquet"),
    ).rejects.toThrow(/starts with '\/'/);
    expect(state.produced).toBe(0);
  });
});

describe("S3 multipart", () => {
  it("aborts the multipart upload when the rows fail after a part was uploaded", async () => {
    const { store } = stores.s3;
    const entry = collection("variable_logs");
    const key = "variable_logs/idDevice=1/multipart.parquet";
    const template = sampleRows(entry, 3);
    let produced = 0;
    let partsSeen = 0;
    async function* rows(): AsyncGenerator<LakeRow> {
      for (;;) {
        // Fail only once S3 holds a part of this object, so the abort has something to remove.
        if (produced % 20_000 === 0 && produced > 0) {
          const [upload] = await pendingUploads(client, bucket);
          const uploadId = upload?.match(/\((.*)\)$/)?.[1];
          if (uploadId) {
            const parts = await client.send(
              new ListPartsCommand({ Bucket: bucket, Key: `raw/${key}`, UploadId: uploadId }),
            );
            partsSeen = parts.Parts?.length ?? 0;
            if (partsSeen > 0) throw new Error(`cursor died after ${produced} rows`);
          }
        }
        const row = template[produced % 3] as LakeRow;
        produced++;
        yield {
          ...row,
          time: new Date(Date.UTC(2015, 9, 1) + produced * 1000),
          temp_chamber: produced * 0.37,
        };
      }
    }
    const error = await writeParquetObject(entry, rows(), store, key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParquetObjectWriteError);
    expect(partsSeen).toBeGreaterThan(0);
    expect(await store.head(key)).toBeNull();
    expect(await pendingUploads(client, bucket)).toEqual([]);
  });
});

describe("a store that fails while the writer waits on backpressure", () => {
  it("rejects with the store's error instead of hanging, and closes the row source", async () => {
    const failure = new ObjectStoreUnavailableError("SlowDown", { key: "k" });
    // Never reads the body, so the writer's first row group fills the pipe and waits.
    const stalled: ObjectStore = {
      location: "test://stalled/",
      put: async (_key: string, body: Readable) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        body.destroy();
        throw failure;
      },
      putBuffer: async () => ({ bytes: 0 }),
      get: async () => Buffer.alloc(0),
      getStream: async () => {
        throw failure;
      },
      head: async () => null,
      delete: async () => {},
      deleteMany: async () => {},
      list: async function* () {},
      removePartial: async () => [],
    };
    const entry = collection("alarm");
    const { rows, state } = rowSource(entry, 20_000);
    const error = await writeParquetObject(entry, rows, stalled, "alarm/x.parquet", {
      rowGroupSize: 1_000,
      smallObjectBytes: 0,
    }).catch((e: unknown) => e);
    expect(error).toBe(failure);
    expect(state.produced).toBeLessThan(20_000);
    expect(state.closed).toBe(true);
  });
});
