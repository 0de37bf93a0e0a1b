/**
 * The behaviour every ObjectStore promises (pipeline/lake/object-store.ts), as one suite that each
 * implementation's test file runs against its own store.
 */
import { randomUUID } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  InvalidObjectKeyError,
  ObjectNotFoundError,
  ObjectWriteAbortedError,
} from "../../pipeline/lake/errors.js";
import type { ObjectStore } from "../../pipeline/lake/object-store.js";

export interface StoreUnderTest {
  readonly store: ObjectStore;
  /** What a failed write could leave behind: temp files, pending multipart uploads. Empty if clean. */
  leftovers(): Promise<string[]>;
  /** Leave at `key` exactly what a writer killed mid-way would (a process kill runs no cleanup). */
  leaveBehind(key: string): Promise<void>;
}

/** A body that arrives in several chunks, as a Parquet writer produces it. */
export function chunked(...parts: (string | Buffer)[]): Readable {
  return Readable.from(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p)));
}

/** A body that sends `bytes` bytes, then fails with `error`. */
export function failingBody(bytes: number, error: Error): Readable {
  return Readable.from(
    (async function* () {
      const chunk = 64 * 1024;
      for (let sent = 0; sent < bytes; sent += chunk) yield Buffer.alloc(Math.min(chunk, bytes - sent), 7);
      throw error;
    })(),
  );
}

async function keysOf(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys;
}

export function objectStoreContract(name: string, open: () => StoreUnderTest): void {
  describe(`${name}: ObjectStore contract`, () => {
    // Each test writes under its own prefix, so tests never see each other's objects.
    const base = () => `contract-${randomUUID().slice(0, 8)}`;

    it("removePartial removes what killed writers left, only for the keys the caller owns", async () => {
      const { store, leftovers, leaveBehind } = open();
      const prefix = `${base()}/events/`;
      const mine = `${prefix}idDevice=1/1443657600000.parquet`;
      const theirs = `${prefix}idDevice=2/1443657600000.parquet`;
      await leaveBehind(mine);
      await leaveBehind(theirs);
      const before = (await leftovers()).length;
      expect(await keysOf(store, prefix)).toEqual([]);

      expect(await store.removePartial(prefix, (key) => key.includes("idDevice=1/"))).toEqual([mine]);
      expect((await leftovers()).length).toBe(before - 1);
      // Nothing of another prefix is touched, and a second sweep finds nothing of its own.
      expect(await store.removePartial(`${base()}/`, () => true)).toEqual([]);
      expect(await store.removePartial(prefix, (key) => key.includes("idDevice=1/"))).toEqual([]);
      expect(await store.removePartial(prefix, () => true)).toEqual([theirs]);
      expect((await leftovers()).length).toBe(before - 2);
    });

    it("puts a streamed body and reads it back with get, getStream and head", async () => {
      const { store } = open();
      const key = `${base()}/alarm/idDevice=7/1443657600000.parquet`;
      const info = await store.put(key, chunked("PAR1", "-body-", "PAR1"));
      expect(info).toEqual({ bytes: 14 });
      expect((await store.get(key)).toString()).toBe("PAR1-body-PAR1");
      const chunks: Buffer[] = [];
      for await (const chunk of await store.getStream(key)) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe("PAR1-body-PAR1");
      expect(await store.head(key)).toEqual({ bytes: 14 });
    });

    it("stores binary bodies byte for byte, and putBuffer like put", async () => {
      const { store } = open();
      const key = `${base()}/bin`;
      const body = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      expect(await store.putBuffer(key, body)).toEqual({ bytes: 256 });
      expect(await store.get(key)).toEqual(body);
    });

    it("replaces an existing object", async () => {
      const { store } = open();
      const key = `${base()}/replace.txt`;
      await store.put(key, chunked("first version, longer"));
      await store.put(key, chunked("second"));
      expect((await store.get(key)).toString()).toBe("second");
      expect(await store.head(key)).toEqual({ bytes: 6 });
    });

    it("reports a missing object: head null, get ObjectNotFoundError (terminal)", async () => {
      const { store } = open();
      const key = `${base()}/missing.parquet`;
      expect(await store.head(key)).toBeNull();
      const error = await store.get(key).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ObjectNotFoundError);
      expect(error).toMatchObject({ retryable: false, context: { key, operation: "get" } });
      await expect(store.getStream(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it("lists by plain string prefix, in key order, with sizes", async () => {
      const { store } = open();
      const root = base();
      const keys = [
        `${root}/alarm/idDevice=1/2.parquet`,
        `${root}/alarm/idDevice=1/10.parquet`,
        `${root}/alarm/idDevice=10/1.parquet`,
        `${root}/alarm/idDevice=2/1.parquet`,
        `${root}/alarm.json`,
        `${root}/haccp/idDevice=1/1.parquet`,
      ];
      for (const [i, key] of keys.entries()) await store.putBuffer(key, Buffer.alloc(i + 1));
      const listed: { key: string; bytes: number }[] = [];
      for await (const object of store.list(`${root}/`)) listed.push(object);
      // UTF-8 byte order of whole keys, as S3 lists: "alarm.json" < "alarm/..." ('.' < '/').
      expect(listed).toEqual(
        [...keys]
          .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
          .map((key) => ({ key, bytes: keys.indexOf(key) + 1 })),
      );
      // A prefix may stop inside a segment: idDevice=1 also matches idDevice=10, as in S3.
      expect(await keysOf(store, `${root}/alarm/idDevice=1`)).toEqual([
        `${root}/alarm/idDevice=1/10.parquet`,
        `${root}/alarm/idDevice=1/2.parquet`,
        `${root}/alarm/idDevice=10/1.parquet`,
      ]);
      expect(await keysOf(store, `${root}/alarm/idDevice=1/`)).toHaveLength(2);
      expect(await keysOf(store, `${root}/nothing/`)).toEqual([]);
    });

    it("deletes one or many objects; deleting a missing object is not an error", async () => {
      const { store } = open();
      const root = base();
      const keys = ["a/1", "a/2", "b/1", "b/2"].map((k) => `${root}/${k}`);
      for (const key of keys) await store.putBuffer(key, Buffer.from(key));
      await store.delete(`${root}/a/1`);
      await store.delete(`${root}/a/1`);
      await store.delete(`${root}/never-written`);
      expect(await store.head(`${root}/a/1`)).toBeNull();
      await store.deleteMany([`${root}/a/2`, `${root}/b/1`, `${root}/never-written`]);
      expect(await keysOf(store, `${root}/`)).toEqual([`${root}/b/2`]);
      await store.deleteMany([]);
    });

    it("refuses keys that would escape or differ between S3 and a folder", async () => {
      const { store } = open();
      for (const key of [
        "/abs/key",
        "a/../../etc/passwd",
        "..",
        "a/./b",
        "a//b",
        "a/",
        "",
        "a\\b",
        "a\u0000b",
      ]) {
        const body = chunked("x");
        const error = await store.put(key, body).catch((e: unknown) => e);
        expect(error, JSON.stringify(key)).toBeInstanceOf(InvalidObjectKeyError);
        expect(error).toMatchObject({ retryable: false });
        expect(body.destroyed, "put owns its body, also when refusing it").toBe(true);
        await expect(store.get(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
        await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      }
      await expect(keysOf(store, "/abs")).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(keysOf(store, "../")).rejects.toBeInstanceOf(InvalidObjectKeyError);
    });

    it("shows no object while a put is still streaming", async () => {
      const { store } = open();
      const key = `${base()}/slow.parquet`;
      const body = new PassThrough();
      const put = store.put(key, body);
      body.write(Buffer.alloc(1024, 1));
      await sleep(100);
      expect(await store.head(key)).toBeNull();
      expect(await keysOf(store, key)).toEqual([]);
      body.end(Buffer.alloc(1024, 2));
      expect(await put).toEqual({ bytes: 2048 });
      expect(await store.head(key)).toEqual({ bytes: 2048 });
    });

    it("leaves nothing when the body fails, and keeps the previous object", async () => {
      const { store, leftovers } = open();
      const key = `${base()}/failing.parquet`;
      await store.putBuffer(key, Buffer.from("previous"));
      const broken = new Error("source cursor died");
      // The body's own error comes back as is: it is the producer's, not the store's.
      await expect(store.put(key, failingBody(200 * 1024, broken))).rejects.toBe(broken);
      expect((await store.get(key)).toString()).toBe("previous");
      const fresh = `${base()}/never.parquet`;
      await expect(store.put(fresh, failingBody(10, broken))).rejects.toBe(broken);
      expect(await store.head(fresh)).toBeNull();
      expect(await leftovers()).toEqual([]);
    });

    it("aborts on the caller's signal with ObjectWriteAbortedError and leaves nothing", async () => {
      const { store, leftovers } = open();
      const key = `${base()}/aborted.parquet`;
      const body = new PassThrough();
      const controller = new AbortController();
      const put = store.put(key, body, { signal: controller.signal });
      body.write(Buffer.alloc(4096));
      await sleep(50);
      controller.abort(new Error("time budget spent"));
      const error = await put.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ObjectWriteAbortedError);
      expect(error).toMatchObject({ retryable: true, context: { key, operation: "put" } });
      expect(body.destroyed).toBe(true);
      expect(await store.head(key)).toBeNull();
      expect(await leftovers()).toEqual([]);
      // Already aborted: refused before any byte is read.
      await expect(store.put(key, chunked("x"), { signal: controller.signal })).rejects.toBeInstanceOf(
        ObjectWriteAbortedError,
      );
    });
  });
}
