/**
 * The snapshot's MongoDB database, and a double of it for `runWorker` that runs every query on
 * the real one but lets the benchmark decide what a scan hands the worker: nothing (the bare
 * cursor read) or documents fetched and decoded under a stopwatch (the stages run). So both
 * measure the worker's own reads (the first pass, the windows it cuts, its cursor options and
 * device concurrency) without restating them.
 *
 * It is a `DocumentSource` (pipeline/ingest/source.ts), the part of the driver the worker uses:
 * `collection(name).find(filter, options)`, then `next()` (the first pass's probes), iteration
 * (window reads, the untimed scan) and `close()`.
 */
import {
  type Collection,
  type Db,
  type Document,
  type Filter,
  type FindCursor,
  type FindOptions,
  MongoClient,
} from "mongodb";
import type { DocumentSource, SourceCollection, SourceCursor } from "../../../pipeline/ingest/source.js";
import type { Context } from "./context.js";

export interface ReadHooks {
  /** A single read: `find(filter, options).next()`, as the first pass probes a device's edges. */
  one(
    read: () => Promise<Document | null>,
    coll: Collection,
    filter: Filter<Document>,
    options: FindOptions,
  ): Promise<Document | null>;
  /**
   * What iterating `find(filter, options)` yields to the worker, run when the worker starts to
   * iterate; `coll` is the real collection, which it may read as it likes.
   */
  scan(coll: Collection, filter: Filter<Document>, options: FindOptions): Promise<readonly Document[]>;
}

export function readThrough(db: Db, hooks: ReadHooks): DocumentSource {
  const collection = (name: string): SourceCollection => {
    const coll = db.collection(name);
    return {
      find(filter: Filter<Document>, options: FindOptions = {}): SourceCursor {
        // The probes' cursor; a scan reads through cursors of its own, drained before it yields.
        let cursor: FindCursor | undefined;
        const probe = () => {
          cursor ??= coll.find(filter, options);
          return cursor;
        };
        return {
          next: () => hooks.one(() => probe().next(), coll, filter, options),
          async *[Symbol.asyncIterator]() {
            yield* await hooks.scan(coll, filter, options);
          },
          close: async () => {
            await cursor?.close();
          },
        };
      },
    };
  };
  return { collection };
}

/** The source database of the benchmark's snapshot, connected and answering. */
export async function openSource(ctx: Context): Promise<{ client: MongoClient; db: Db }> {
  const client = new MongoClient(ctx.mongodbUrl, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(ctx.mongodbDatabase);
  await db.command({ ping: 1 });
  return { client, db };
}
