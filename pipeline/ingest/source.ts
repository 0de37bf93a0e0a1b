/**
 * What the worker reads from MongoDB, and nothing more: `find` on a collection, its cursor probed
 * with `next()` (the first pass), iterated (windows, the untimed sweep, quarantine fetches) and
 * closed. A driver `Db` is one, and is what every deployed caller passes; naming the part the
 * worker uses lets a benchmark feed the worker recorded answers from memory through the same code
 * (scripts/bench/ingest/replay.ts: the worker without the server), and a test check that the
 * worker reads nothing else.
 */
import type { Document, Filter, FindOptions } from "mongodb";

/** The part of the driver's `FindCursor` the worker uses. */
export interface SourceCursor extends AsyncIterable<Document> {
  next(): Promise<Document | null>;
  close(): Promise<void>;
}

/** The part of the driver's `Collection` the worker uses. */
export interface SourceCollection {
  find(filter: Filter<Document>, options?: FindOptions): SourceCursor;
}

/** The part of the driver's `Db` the worker uses. */
export interface DocumentSource {
  collection(name: string): SourceCollection;
}
