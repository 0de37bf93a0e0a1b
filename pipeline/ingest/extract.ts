/**
 * One window of one device: cursor → validated rows → Parquet object, counting every document
 * read as either written or quarantined. Nothing is committed here; the worker commits after the
 * counts check out.
 */
import type { Db, Document } from "mongodb";
import { DocumentValidationError, documentIdOf, PipelineError } from "../errors.js";
import type { ObjectStore } from "../lake/object-store.js";
import { writeParquetObject } from "../lake/parquet-object.js";
import type { CollectionEntry, PivotReshape } from "../schema/registry.js";
import { type LakeRow, toLakeRow } from "../schema/validate.js";
import type { QuarantineRecord, WrittenObject } from "./ingest-state.js";
import { rawObjectKey } from "./keys.js";
import { type PivotSlot, pivotRows } from "./pivot.js";
import { quarantineDocument } from "./quarantine.js";
import { untimedQuery, windowQuery } from "./queries.js";
import type { Window } from "./windows.js";

/** Documents per cursor batch, unless the collection's entry sets `cursorBatch`. */
export const DEFAULT_CURSOR_BATCH = 2000;

/** Documents per cursor batch of a collection. */
export function cursorBatchOf(entry: CollectionEntry): number {
  return entry.cursorBatch ?? DEFAULT_CURSOR_BATCH;
}

/** The rows written differ from the documents accepted: never commit such a window. */
export class RowCountMismatchError extends PipelineError {
  readonly retryable = false;
}

export interface WindowExtract {
  readonly object: WrittenObject | null;
  readonly documentsRead: number;
  /** Documents (slots, for a pivoted collection) that made it into rows. */
  readonly documentsAccepted: number;
  readonly quarantined: readonly QuarantineRecord[];
  readonly drift: Map<string, number>;
}

/** What a window's documents became, counted as they stream through. */
export interface WindowTally {
  read: number;
  accepted: number;
  rows: number;
  readonly quarantined: QuarantineRecord[];
  readonly drift: Map<string, number>;
}

export const newTally = (): WindowTally => ({
  read: 0,
  accepted: 0,
  rows: 0,
  quarantined: [],
  drift: new Map(),
});

export interface ExtractContext {
  readonly source: Db;
  readonly store: ObjectStore;
  readonly entry: CollectionEntry;
  readonly idDevice: number;
  readonly window: Window;
  readonly rowGroupSize?: number;
}

/**
 * Quarantine the device's documents that no window can select (see `untimedQuery`). Their
 * objects are keyed by document id, so a repeated pass rewrites them.
 */
export async function quarantineUntimed(
  source: Db,
  store: ObjectStore,
  entry: CollectionEntry,
  idDevice: number,
): Promise<QuarantineRecord[]> {
  const query = untimedQuery(entry, idDevice);
  const field = entry.sourceTimestampField;
  const records: QuarantineRecord[] = [];
  for await (const doc of source.collection(entry.name).find(query.filter, { sort: query.sort })) {
    const value = doc[field];
    const reason =
      `${entry.name} document ${documentIdOf(doc) ?? "<no _id>"} cannot be windowed: ${field} ` +
      (value === undefined ? "is missing" : value === null ? "is null" : `is ${typeName(value)}, not a date`);
    records.push(
      await quarantineDocument(store, doc, {
        collection: entry.name,
        site: { idDevice, untimed: true },
        reason,
        ordinal: records.length,
      }),
    );
  }
  return records;
}

/** How a value's type reads in a reason: BSON wrappers by their BSON name (`a Timestamp`). */
function typeName(value: unknown): string {
  const bson = (value as { _bsontype?: unknown })._bsontype;
  if (typeof bson === "string") return `a ${bson}`;
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
}

async function quarantine(
  ctx: ExtractContext,
  tally: WindowTally,
  doc: unknown,
  error: DocumentValidationError,
): Promise<void> {
  tally.quarantined.push(
    await quarantineDocument(ctx.store, doc, {
      collection: ctx.entry.name,
      site: { idDevice: ctx.idDevice, window: ctx.window },
      reason: error.message,
      issues: error.issues,
      ordinal: tally.read,
    }),
  );
}

function countDrift(tally: WindowTally, keys: readonly string[]): void {
  for (const key of keys) tally.drift.set(key, (tally.drift.get(key) ?? 0) + 1);
}

/** Validated rows of a flat collection; bad documents go to quarantine, never stop the window. */
async function* flatRows(
  ctx: ExtractContext,
  docs: AsyncIterable<Document>,
  tally: WindowTally,
): AsyncGenerator<LakeRow> {
  for await (const doc of docs) {
    tally.read++;
    try {
      const { row, extraKeys } = toLakeRow(ctx.entry, doc);
      countDrift(tally, extraKeys);
      tally.accepted++;
      tally.rows++;
      yield row;
    } catch (error) {
      if (!(error instanceof DocumentValidationError)) throw error;
      await quarantine(ctx, tally, doc, error);
    }
  }
}

/** Validated slots of a pivoted collection; a slot the schema refuses goes to quarantine. */
async function* slots(
  ctx: ExtractContext,
  reshape: PivotReshape,
  docs: AsyncIterable<Document>,
  tally: WindowTally,
): AsyncGenerator<PivotSlot> {
  const known = new Set(Object.keys(reshape.slot.shape));
  for await (const doc of docs) {
    tally.read++;
    const parsed = reshape.slot.safeParse(doc);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({
        field: i.path.join(".") || "<document>",
        reason: i.message,
      }));
      await quarantine(
        ctx,
        tally,
        doc,
        new DocumentValidationError({ collection: ctx.entry.name, documentId: documentIdOf(doc) }, issues),
      );
      continue;
    }
    countDrift(
      tally,
      Object.keys(doc).filter((k) => !known.has(k)),
    );
    tally.accepted++;
    yield parsed.data as PivotSlot;
  }
}

async function* counted(rows: AsyncIterable<LakeRow>, tally: WindowTally): AsyncGenerator<LakeRow> {
  for await (const row of rows) {
    tally.rows++;
    yield row;
  }
}

/**
 * The window's rows, as the entry's reshape says: one per document, or pivoted from slots. Every
 * document read is counted in `tally` as accepted or quarantined.
 */
export function windowRows(
  ctx: ExtractContext,
  docs: AsyncIterable<Document>,
  tally: WindowTally,
): AsyncIterable<LakeRow> {
  const { reshape } = ctx.entry;
  switch (reshape?.kind) {
    case undefined:
      return flatRows(ctx, docs, tally);
    case "pivot":
      return counted(pivotRows(ctx.entry, ctx.idDevice, slots(ctx, reshape, docs, tally)), tally);
  }
}

/**
 * Extract one window to its raw object. A window without rows writes no object.
 * @throws RowCountMismatchError if the file holds a different number of rows than were produced.
 */
export async function extractWindow(ctx: ExtractContext): Promise<WindowExtract> {
  const { entry, idDevice, window } = ctx;
  const query = windowQuery(entry, idDevice, window);
  const cursor = ctx.source.collection(entry.name).find(query.filter, {
    sort: query.sort,
    batchSize: cursorBatchOf(entry),
  });
  const tally = newTally();
  const rows = windowRows(ctx, cursor, tally);
  const key = rawObjectKey(entry.name, idDevice, window);
  let written: Awaited<ReturnType<typeof writeParquetObject>>;
  try {
    written = await writeParquetObject(entry, rows, ctx.store, key, { rowGroupSize: ctx.rowGroupSize });
  } finally {
    await cursor.close();
  }
  const writtenRows = written?.rows ?? 0;
  if (writtenRows !== tally.rows || tally.read !== tally.accepted + tally.quarantined.length) {
    if (written) await ctx.store.delete(key);
    throw new RowCountMismatchError(
      `${key}: ${tally.read} documents read, ${tally.accepted} accepted, ${tally.quarantined.length} quarantined, ` +
        `${tally.rows} rows produced, ${writtenRows} written`,
      { collection: entry.name, idDevice },
    );
  }
  return {
    object: written ? { key, rows: written.rows, bytes: written.bytes } : null,
    documentsRead: tally.read,
    documentsAccepted: tally.accepted,
    quarantined: tally.quarantined,
    drift: tally.drift,
  };
}
