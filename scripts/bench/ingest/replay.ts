/**
 * The worker without the server: what MongoDB answered the worker's queries, recorded once, then
 * fed back from memory through the worker's own code (`runWorker` reads its source through the
 * `DocumentSource` seam, pipeline/ingest/source.ts). Everything after the read runs as deployed:
 * BSON decode (the driver's work, done here per document as the replay cursor yields it),
 * validation, the pivot, quarantine, the Parquet write and the object store.
 *
 * A recording maps each query (collection, filter, and the options that change its answer: sort,
 * limit, projection; not `batchSize`) to the raw BSON documents the server returned, in order.
 * On file: per query, one BSON header `{c, f, o, n}` (collection; filter and options as canonical
 * extended JSON) followed by its `n` documents as the server sent them (each BSON document starts
 * with its own length, so the file needs no other framing).
 *
 * A replay answers exactly the recorded queries, and fails loudly on any other: the replayed run
 * makes the same queries as the recorded one. One exception, for the scaling runs: with
 * `splitWindows`, a window query of a collection without `updatedField` that was not recorded is
 * answered from the recorded window of the same device that covers it (its documents whose
 * timestamp falls in the smaller window, in the recorded order), which is what the server would
 * return for it; so one recording at the longest window serves the shorter ones too.
 */
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Document, deserialize, EJSON, serialize } from "bson";
import type { Db, Filter, FindOptions } from "mongodb";
import { windowQuery } from "../../../pipeline/ingest/queries.js";
import type { DocumentSource, SourceCursor } from "../../../pipeline/ingest/source.js";
import type { CollectionEntry } from "../../../pipeline/schema/index.js";
import type { Context } from "./context.js";

/** Where a collection's recording is kept, in its scratch folder. */
export const recordingPath = (ctx: Context): string => join(ctx.dir, "replay.bson");

/** One query and what the server answered, raw. */
export interface RecordedQuery {
  readonly collection: string;
  /** The filter, canonical extended JSON. */
  readonly filter: string;
  /** The options that change the answer, canonical extended JSON. */
  readonly options: string;
  readonly documents: readonly Uint8Array[];
}

/** Options that do not change which documents a query returns, nor their order. */
const NOT_IN_KEY = new Set(["batchSize", "raw", "maxTimeMS", "comment"]);

const canonical = (value: unknown): string => EJSON.stringify(value as Document, { relaxed: false });

function answerOptions(options: FindOptions | undefined): string {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options ?? {})) if (!NOT_IN_KEY.has(name)) kept[name] = value;
  return canonical(kept);
}

const keyOf = (collection: string, filter: string, options: string) => `${collection}\n${filter}\n${options}`;

/** Recorded queries, looked up by collection, filter and answer options. */
export class Recording {
  readonly #answers = new Map<string, RecordedQuery>();

  constructor(queries: Iterable<RecordedQuery> = []) {
    for (const q of queries) this.add(q);
  }

  add(query: RecordedQuery): void {
    this.#answers.set(keyOf(query.collection, query.filter, query.options), query);
  }

  /** Keep what the server answered `collection.find(filter, options)`: its documents, raw. */
  record(
    collection: string,
    filter: Filter<Document>,
    options: FindOptions | undefined,
    documents: Uint8Array[],
  ): void {
    this.add({ collection, filter: canonical(filter), options: answerOptions(options), documents });
  }

  find(collection: string, filter: Filter<Document>, options?: FindOptions): RecordedQuery | undefined {
    return this.#answers.get(keyOf(collection, canonical(filter), answerOptions(options)));
  }

  queries(): IterableIterator<RecordedQuery> {
    return this.#answers.values();
  }

  get size(): number {
    return this.#answers.size;
  }

  /** BSON bytes of every recorded document. */
  get bytes(): number {
    let n = 0;
    for (const q of this.#answers.values()) for (const d of q.documents) n += d.byteLength;
    return n;
  }

  /** The recording on file: per query a BSON header, then its documents as they came. */
  async write(path: string): Promise<void> {
    const out = createWriteStream(path);
    const put = (chunk: Uint8Array) =>
      out.write(chunk) ? Promise.resolve() : new Promise<void>((done) => out.once("drain", done));
    for (const q of this.#answers.values()) {
      await put(serialize({ c: q.collection, f: q.filter, o: q.options, n: q.documents.length }));
      for (const d of q.documents) await put(d);
    }
    await new Promise<void>((done, fail) =>
      out.end((error?: Error | null) => (error ? fail(error) : done())),
    );
  }

  /** A recording written by {@link Recording.write}; its documents are views of one buffer. */
  static async read(path: string): Promise<Recording> {
    const file = await readFile(path);
    const recording = new Recording();
    let at = 0;
    const next = () => {
      const length = file.readInt32LE(at);
      const view = file.subarray(at, at + length);
      at += length;
      return view;
    };
    while (at < file.length) {
      const header = deserialize(next()) as { c: string; f: string; o: string; n: number };
      const documents = Array.from({ length: header.n }, next);
      recording.add({ collection: header.c, filter: header.f, options: header.o, documents });
    }
    return recording;
  }
}

/** A cursor over documents already in memory, each decoded as it is read (as the driver does). */
function memoryCursor(documents: readonly Uint8Array[]): SourceCursor {
  let i = 0;
  return {
    next: async () => (i < documents.length ? deserialize(documents[i++] as Uint8Array) : null),
    async *[Symbol.asyncIterator]() {
      while (i < documents.length) yield deserialize(documents[i++] as Uint8Array);
    },
    close: async () => {
      i = documents.length;
    },
  };
}

/**
 * The real database, with every query's answer recorded: each `find` is read whole as raw BSON
 * (`raw: true`, the same filter and options), kept, then decoded for the worker.
 */
export function recordingSource(db: Db, recording: Recording): DocumentSource {
  return {
    collection(name) {
      const coll = db.collection(name);
      return {
        find(filter, options) {
          let answer: Promise<SourceCursor> | undefined;
          const read = () => {
            answer ??= (async () => {
              const documents = (await coll
                .find(filter, { ...options, raw: true })
                .toArray()) as unknown as Uint8Array[];
              recording.record(name, filter, options, documents);
              return memoryCursor(documents);
            })();
            return answer;
          };
          return {
            next: async () => (await read()).next(),
            async *[Symbol.asyncIterator]() {
              yield* await read();
            },
            close: async () => {
              await (await answer)?.close();
            },
          };
        },
      };
    },
  };
}

/** A recorded window query of one device, with each document's timestamp (ms). */
interface RecordedWindow {
  readonly from: number;
  readonly to: number;
  readonly documents: readonly Uint8Array[];
  readonly times: readonly number[];
}

/** `[from, to)` of `filter` when it is exactly the worker's window query of `entry` for a device. */
function windowOf(
  entry: CollectionEntry,
  filter: Filter<Document>,
  options: string,
): { idDevice: number; from: Date; to: Date } | null {
  const idDevice = filter.idDevice;
  const range = filter[entry.sourceTimestampField] as { $gte?: unknown; $lt?: unknown } | undefined;
  if (typeof idDevice !== "number" || !(range?.$gte instanceof Date) || !(range.$lt instanceof Date)) {
    return null;
  }
  const window = { from: range.$gte, to: range.$lt };
  const query = windowQuery(entry, idDevice, window);
  const same = canonical(query.filter) === canonical(filter) && canonical({ sort: query.sort }) === options;
  return same ? { idDevice, ...window } : null;
}

export interface ReplayStats {
  /** Queries answered as recorded. */
  recorded: number;
  /** Window queries answered from a longer recorded window (`splitWindows`). */
  split: number;
}

export interface ReplayOptions {
  /** Answer window queries of `entry` from the recorded window that covers them. */
  readonly splitWindows?: CollectionEntry;
}

/**
 * A `DocumentSource` that answers from `recording` only.
 * @throws Error from `find` on a query the recording cannot answer.
 */
export function replaySource(
  recording: Recording,
  options: ReplayOptions = {},
): DocumentSource & { readonly stats: ReplayStats } {
  const stats: ReplayStats = { recorded: 0, split: 0 };
  const entry = options.splitWindows;
  if (entry?.updatedField) {
    throw new Error(
      `${entry.name}: a window also selects by ${entry.updatedField}, so a shorter window is not a slice of a longer one`,
    );
  }
  const windows = new Map<number, RecordedWindow[]>();
  if (entry) {
    for (const q of recording.queries()) {
      if (q.collection !== entry.name) continue;
      // Relaxed: numbers come back as numbers, dates as dates, as the worker built them.
      const w = windowOf(entry, EJSON.parse(q.filter) as Filter<Document>, q.options);
      if (!w) continue;
      const times = q.documents.map((d) => (deserialize(d)[entry.sourceTimestampField] as Date).getTime());
      const list = windows.get(w.idDevice) ?? [];
      list.push({ from: w.from.getTime(), to: w.to.getTime(), documents: q.documents, times });
      windows.set(w.idDevice, list);
    }
  }

  const split = (name: string, filter: Filter<Document>, findOptions?: FindOptions): Uint8Array[] | null => {
    if (!entry || name !== entry.name) return null;
    const w = windowOf(entry, filter, answerOptions(findOptions));
    if (!w) return null;
    const from = w.from.getTime();
    const to = w.to.getTime();
    const covering = windows.get(w.idDevice)?.find((r) => r.from <= from && to <= r.to);
    if (!covering) return null;
    return covering.documents.filter((_, i) => {
      const t = covering.times[i] as number;
      return from <= t && t < to;
    });
  };

  return {
    stats,
    collection(name) {
      return {
        find(filter, findOptions) {
          const recorded = recording.find(name, filter, findOptions);
          if (recorded) {
            stats.recorded++;
            return memoryCursor(recorded.documents);
          }
          const slice = split(name, filter, findOptions);
          if (slice) {
            stats.split++;
            return memoryCursor(slice);
          }
          throw new Error(
            `replay: no recorded answer for ${name}.find(${canonical(filter)}, ${answerOptions(findOptions)})`,
          );
        },
      };
    },
  };
}
