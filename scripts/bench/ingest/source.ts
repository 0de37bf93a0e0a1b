/**
 * The snapshot's MongoDB database, and a double of it for `runWorker` that runs every query on
 * the real one but lets the benchmark decide what a scan hands the worker: nothing (the bare
 * cursor read) or documents fetched and decoded under a stopwatch (the stages run). So both
 * measure the worker's own reads (the first pass, the windows it cuts, its cursor options and
 * device concurrency) without restating them.
 *
 * It covers what the worker calls: `db.collection(name).find(filter, options)`, then `next()`
 * (the first pass's probes), iteration (window reads, the untimed scan) and `close()`. Anything
 * else is undefined and fails loudly.
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
import type { Context } from "./context.js";

export interface ReadHooks {
  /** A single read: `find(...).next()`, as the first pass probes a device's edges. */
  one(read: () => Promise<Document | null>): Promise<Document | null>;
  /**
   * What iterating `find(filter, options)` yields to the worker, run when the worker starts to
   * iterate; `coll` is the real collection, which it may read as it likes.
   */
  scan(coll: Collection, filter: Filter<Document>, options: FindOptions): Promise<readonly Document[]>;
}

/** The part of the driver's `FindCursor` the worker uses. */
interface WorkerCursor extends AsyncIterable<Document> {
  next(): Promise<Document | null>;
  close(): Promise<void>;
}

export function readThrough(db: Db, hooks: ReadHooks): Db {
  const collection = (name: string) => {
    const coll = db.collection(name);
    return {
      find(filter: Filter<Document>, options: FindOptions = {}): WorkerCursor {
        // The probes' cursor; a scan reads through cursors of its own, drained before it yields.
        let cursor: FindCursor | undefined;
        const probe = () => {
          cursor ??= coll.find(filter, options);
          return cursor;
        };
        return {
          next: () => hooks.one(() => probe().next()),
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
  return { collection } as unknown as Db;
}

/** The source database of the benchmark's snapshot, connected and answering. */
export async function openSource(ctx: Context): Promise<{ client: MongoClient; db: Db }> {
  const client = new MongoClient(ctx.mongodbUrl, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(ctx.mongodbDatabase);
  await db.command({ ping: 1 });
  return { client, db };
}
