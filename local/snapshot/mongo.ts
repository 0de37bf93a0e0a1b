/**
 * MongoDB side of the snapshot: batched inserts and indexes. Only operations FerretDB 1.24
 * implements are used (insertMany, find, countDocuments, createIndexes, updateOne/updateMany,
 * drop): no transactions, no aggregation beyond `$count`/`$sum`.
 */
import { type Db, type Document, MongoBulkWriteError } from "mongodb";
import { requiredIndexes } from "../../pipeline/ingest/indexes.js";
import { collection } from "../../pipeline/schema/registry.js";
import { SOURCE_COLLECTIONS } from "./documents.js";
import type { SourceCollection } from "./types.js";

/** Duplicate key: the document is already there (a retried `advance`). */
const DUPLICATE_KEY = 11000;

/**
 * Documents per `insertMany`. Measured on FerretDB 1.24.2 (PostgreSQL backend, loopback):
 * small documents go from ~19 K/s in batches of 500 to ~29 K/s in batches of 10 000, while
 * 10 KB `variable_logs` slots stay near 600/s whatever the batch; big batches of big documents
 * only cost memory. `request` bodies are several KB too.
 */
export const BATCH_SIZE: Readonly<Record<SourceCollection, number>> = Object.fromEntries(
  SOURCE_COLLECTIONS.map((c) => [c, c === "variable_logs" || c === "request" ? 500 : 5000]),
) as Record<SourceCollection, number>;

/**
 * Insert documents unordered. With `ignoreDuplicates`, documents whose `_id` already exists are
 * skipped, which makes a retried `advance` safe: its `_id`s are deterministic.
 * @returns the number of documents inserted.
 */
export async function insertDocuments(
  db: Db,
  collection: SourceCollection,
  docs: readonly Document[],
  ignoreDuplicates = false,
): Promise<number> {
  if (docs.length === 0) return 0;
  try {
    const result = await db.collection(collection).insertMany(docs as Document[], { ordered: false });
    return result.insertedCount;
  } catch (error) {
    if (ignoreDuplicates && error instanceof MongoBulkWriteError) {
      const errors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
      if (errors.every((e) => e.code === DUPLICATE_KEY)) return error.result.insertedCount;
    }
    throw error;
  }
}

/** The indexes the worker's queries need (pipeline/ingest/indexes.ts), on every collection. */
export async function ensureIndexes(db: Db): Promise<void> {
  for (const c of SOURCE_COLLECTIONS) {
    const specs = requiredIndexes(collection(c)).map((i) => ({ key: { ...i.key }, name: i.name }));
    await db.collection(c).createIndexes(specs);
  }
}

/** Drop the snapshot collections (only those; the database may hold others). */
export async function dropCollections(db: Db): Promise<void> {
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const c of SOURCE_COLLECTIONS) if (existing.has(c)) await db.collection(c).drop();
}

/** Document count of every snapshot collection. */
export async function countDocuments(db: Db): Promise<Record<SourceCollection, number>> {
  const out = {} as Record<SourceCollection, number>;
  for (const c of SOURCE_COLLECTIONS) out[c] = await db.collection(c).countDocuments({});
  return out;
}

/**
 * Accumulates one collection's documents and writes them in batches of
 * {@link BATCH_SIZE}, so generation never holds more than one batch in memory.
 */
export class BatchWriter {
  private buffer: Document[] = [];
  /** Documents written so far. */
  written = 0;

  constructor(
    private readonly db: Db,
    private readonly collection: SourceCollection,
    private readonly ignoreDuplicates = false,
  ) {}

  async add(doc: Document): Promise<void> {
    this.buffer.push(doc);
    if (this.buffer.length >= BATCH_SIZE[this.collection]) await this.flush();
  }

  async flush(): Promise<void> {
    const docs = this.buffer;
    this.buffer = [];
    this.written += await insertDocuments(this.db, this.collection, docs, this.ignoreDuplicates);
  }
}
