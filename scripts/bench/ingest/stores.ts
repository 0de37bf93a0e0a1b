/** Object stores of the benchmark's doubles: around the folder store, or instead of it. */
import type { Readable } from "node:stream";
import type { ListedObject, ObjectInfo, ObjectStore } from "../../../pipeline/lake/object-store.js";

/**
 * Takes every write and keeps nothing: the encode without the write, and the store of the bare
 * cursor read (which writes nothing, as its source hands the worker no document).
 */
export class DiscardStore implements ObjectStore {
  readonly location = "memory://discard/";

  async put(_key: string, body: Readable): Promise<ObjectInfo> {
    let bytes = 0;
    for await (const chunk of body) bytes += (chunk as Buffer).byteLength;
    return { bytes };
  }

  async putBuffer(_key: string, body: Buffer): Promise<ObjectInfo> {
    return { bytes: body.byteLength };
  }

  get(key: string): Promise<Buffer> {
    return Promise.reject(new Error(`${this.location} keeps no object (${key})`));
  }

  getStream(key: string): Promise<Readable> {
    return Promise.reject(new Error(`${this.location} keeps no object (${key})`));
  }

  async head(): Promise<ObjectInfo | null> {
    return null;
  }

  async delete(): Promise<void> {}

  async deleteMany(): Promise<void> {}

  async *list(): AsyncIterable<ListedObject> {}

  async removePartial(): Promise<string[]> {
    return [];
  }
}

/**
 * The folder store with the encode and the write apart: a streamed object is taken whole into
 * memory first (as the encode's output), then written in one call; every write of an object
 * goes through `write`, which the caller times.
 */
export class StagedStore implements ObjectStore {
  readonly #folder: ObjectStore;
  readonly #write: <T>(fn: () => Promise<T>) => Promise<T>;

  constructor(folder: ObjectStore, write: <T>(fn: () => Promise<T>) => Promise<T>) {
    this.#folder = folder;
    this.#write = write;
  }

  get location(): string {
    return this.#folder.location;
  }

  async put(key: string, body: Readable): Promise<ObjectInfo> {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    const whole = Buffer.concat(chunks);
    return this.#write(() => this.#folder.putBuffer(key, whole));
  }

  putBuffer(key: string, body: Buffer): Promise<ObjectInfo> {
    return this.#write(() => this.#folder.putBuffer(key, body));
  }

  get(key: string): Promise<Buffer> {
    return this.#folder.get(key);
  }

  getStream(key: string): Promise<Readable> {
    return this.#folder.getStream(key);
  }

  head(key: string): Promise<ObjectInfo | null> {
    return this.#folder.head(key);
  }

  delete(key: string): Promise<void> {
    return this.#folder.delete(key);
  }

  deleteMany(keys: Iterable<string>): Promise<void> {
    return this.#folder.deleteMany(keys);
  }

  list(prefix: string): AsyncIterable<ListedObject> {
    return this.#folder.list(prefix);
  }

  removePartial(prefix: string, owned: (key: string) => boolean): Promise<string[]> {
    return this.#folder.removePartial(prefix, owned);
  }
}
