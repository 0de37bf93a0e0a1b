/**
 * The folder store keeps the ObjectStore contract, and its file-system specifics: the S3 key
 * layout on disk, atomic writes through a hidden temp file, and no way out of the root folder.
 */

import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  InvalidObjectKeyError,
  ObjectNotFoundError,
  ObjectStoreAccessError,
  ObjectStoreRequestError,
  ObjectStoreUnavailableError,
} from "../../pipeline/lake/errors.js";
import { fsErrorOf, LocalObjectStore } from "../../pipeline/lake/local-store.js";
import { chunked, failingBody, objectStoreContract } from "../support/object-store-contract.js";

let parent: string;
let root: string;
let store: LocalObjectStore;

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), "local-store-"));
  root = join(parent, "lake");
  store = new LocalObjectStore(root);
});

afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

/** Every file under `dir`, relative, temp files included. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

objectStoreContract("LocalObjectStore", () => ({
  store,
  leftovers: async () => (await filesUnder(root)).filter((f) => f.endsWith(".tmp")),
  // A killed write: its temp file, named as put names it, never renamed nor removed.
  leaveBehind: async (key) => {
    const path = join(root, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`), "PAR1 partial");
  },
}));

describe("LocalObjectStore on disk", () => {
  it("lays objects out like S3 keys under the root folder", async () => {
    await store.put("layout/alarm/idDevice=3/1443657600000.parquet", chunked("PAR1"));
    expect(await readFile(join(root, "layout/alarm/idDevice=3/1443657600000.parquet"), "utf8")).toBe("PAR1");
    expect(store.location).toBe(`file://${root}/`);
  });

  it("writes through a hidden temp file in the same folder, renamed when complete", async () => {
    const body = new PassThrough();
    const put = store.put("atomic/idDevice=1/1.parquet", body);
    body.write("half a row group");
    await sleep(50);
    const during = await readdir(join(root, "atomic/idDevice=1"));
    expect(during).toHaveLength(1);
    expect(during[0]).toMatch(/^\.1\.parquet\.[0-9a-f-]{36}\.tmp$/);
    body.end(", the rest");
    await put;
    expect(await readdir(join(root, "atomic/idDevice=1"))).toEqual(["1.parquet"]);
  });

  it("removes the temp file when the body fails half way", async () => {
    const broken = new Error("cursor closed");
    await expect(store.put("failing/idDevice=1/1.parquet", failingBody(1024 * 1024, broken))).rejects.toBe(
      broken,
    );
    expect(await filesUnder(join(root, "failing"))).toEqual([]);
  });

  it("never lists a temp file left by a crashed process", async () => {
    await mkdir(join(root, "crashed"), { recursive: true });
    await writeFile(join(root, "crashed/.1.parquet.0b6c3a52-8a4e-4f4e-9c43-4d2b6f0c1d2e.tmp"), "partial");
    await store.putBuffer("crashed/2.parquet", Buffer.from("whole"));
    const listed: string[] = [];
    for await (const o of store.list("crashed/")) listed.push(o.key);
    expect(listed).toEqual(["crashed/2.parquet"]);
  });

  it("refuses '..' keys before touching the disk, so nothing is written outside the root", async () => {
    for (const key of ["../outside.parquet", "a/../../outside.parquet", "a/b/../../../outside.parquet"]) {
      await expect(store.put(key, chunked("x"))).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.head(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
    }
    expect(await readdir(parent)).toEqual(["lake"]);
  });

  it.each([
    ["ENOENT", ObjectNotFoundError, false],
    ["EACCES", ObjectStoreAccessError, false],
    ["EPERM", ObjectStoreAccessError, false],
    ["EROFS", ObjectStoreAccessError, false],
    ["EMFILE", ObjectStoreUnavailableError, true],
    ["EBUSY", ObjectStoreUnavailableError, true],
    ["ENOSPC", ObjectStoreRequestError, false],
    ["EIO", ObjectStoreRequestError, false],
  ] as const)("classifies %s as %O (retryable %s)", (code, type, retryable) => {
    const cause = Object.assign(new Error(`${code}: failed`), { code });
    const error = fsErrorOf(cause, { key: "k", operation: "put", location: store.location });
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ retryable, cause, context: { key: "k", operation: "put" } });
  });
});
