/**
 * One window of one device: cursor → validated rows → Parquet object, counting every document
 * read as either written or quarantined. Nothing is committed here; the worker commits after the
 * counts check out.
 */
import type { Document } from "mongodb";
import { DocumentValidationError, documentIdOf, PipelineError } from "../errors.js";
import type { ObjectStore } from "../lake/object-store.js";
import { estimatedRowBytes, writeParquetObject } from "../lake/parquet-object.js";
import type { CollectionEntry, PivotReshape } from "../schema/registry.js";
import { type LakeRow, toLakeRow } from "../schema/validate.js";
import type { QuarantineRecord, WrittenObject } from "./ingest-state.js";
import { rawObjectKey } from "./keys.js";
import { namesSeveralDevices, severalDevicesRefusal } from "./orphans.js";
import { type PivotSlot, pivotRows } from "./pivot.js";
import { type QuarantineOnce, quarantineDocument } from "./quarantine.js";
import { windowQuery } from "./queries.js";
import type { DocumentSource } from "./source.js";
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
  /**
   * The rows, written nowhere yet, when the caller asked for small windows back
   * ({@link ExtractContext.packBelowBytes}) and this one was: the worker packs them (pack.ts).
   */
  readonly rows?: readonly LakeRow[];
  /** Those rows' estimated bytes (what a pack counts toward its limit). */
  readonly rowBytes?: number;
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
  readonly source: DocumentSource;
  readonly store: ObjectStore;
  readonly entry: CollectionEntry;
  readonly idDevice: number;
  readonly window: Window;
  readonly rowGroupSize?: number;
  /**
   * Keeps a document whose `idDevice` is an array once, for the run and across runs (the worker's):
   * the window of each device it names meets it. Without it, such a document is refused by the
   * schema and quarantined in each of those windows.
   */
  readonly once?: QuarantineOnce;
  /**
   * Return a window whose rows add up to at most this many estimated bytes as rows instead of
   * writing it (ADR 0023); a larger one is written to its own object as usual. Unset: always write.
   */
  readonly packBelowBytes?: number;
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

/**
 * A document naming several devices (array `idDevice`), kept once by the first window to meet
 * it: counted here when this window keeps it, skipped (not this device's) when another did.
 * @returns false for any other document.
 */
async function keptOnce(ctx: ExtractContext, tally: WindowTally, doc: Document): Promise<boolean> {
  if (!ctx.once || !namesSeveralDevices(doc)) return false;
  const record = await ctx.once.keep(doc, severalDevicesRefusal(ctx.entry.name, doc, tally.read));
  if (record) {
    tally.read++;
    tally.quarantined.push(record);
  }
  return true;
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
    if (await keptOnce(ctx, tally, doc)) continue;
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

/**
 * Validated slots of a pivoted collection; a slot the schema refuses goes to quarantine. Each
 * slot's source document is noted in `sources`, for the pivot's refusals.
 */
async function* slots(
  ctx: ExtractContext,
  reshape: PivotReshape,
  docs: AsyncIterable<Document>,
  tally: WindowTally,
  sources: WeakMap<PivotSlot, Document>,
): AsyncGenerator<PivotSlot> {
  const known = new Set(Object.keys(reshape.slot.shape));
  for await (const doc of docs) {
    if (await keptOnce(ctx, tally, doc)) continue;
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
    const slot = parsed.data as PivotSlot;
    sources.set(slot, doc);
    yield slot;
  }
}

/**
 * The window's slots pivoted to rows. A slot the pivot cannot merge without losing a reading
 * (pivot.ts) leaves the accepted documents for quarantine, with the pivot's reason on its start.
 */
function pivotedRows(
  ctx: ExtractContext,
  reshape: PivotReshape,
  docs: AsyncIterable<Document>,
  tally: WindowTally,
): AsyncIterable<LakeRow> {
  const sources = new WeakMap<PivotSlot, Document>();
  const refuse = async (slot: PivotSlot, reason: string) => {
    tally.accepted--;
    const doc = sources.get(slot) ?? slot;
    const field = ctx.entry.sourceTimestampField;
    await quarantine(
      ctx,
      tally,
      doc,
      new DocumentValidationError({ collection: ctx.entry.name, documentId: documentIdOf(doc) }, [
        { field, reason },
      ]),
    );
  };
  const slotStream = slots(ctx, reshape, docs, tally, sources);
  return counted(pivotRows(ctx.entry, ctx.idDevice, slotStream, { window: ctx.window, refuse }), tally);
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
      return pivotedRows(ctx, reshape, docs, tally);
  }
}

/**
 * The window's first rows, up to `limit` estimated bytes, and whether they are all of them.
 * Reading stops at the first row past the limit, which is kept in `head`.
 */
async function headOf(
  rows: AsyncIterator<LakeRow>,
  limit: number,
): Promise<{ head: LakeRow[]; bytes: number; complete: boolean }> {
  const head: LakeRow[] = [];
  let bytes = 0;
  for (;;) {
    const next = await rows.next();
    if (next.done) return { head, bytes, complete: true };
    head.push(next.value);
    bytes += estimatedRowBytes(next.value);
    if (bytes > limit) return { head, bytes, complete: false };
  }
}

/** `head`, then what is left of `rest`; stopping early closes `rest`. */
async function* joined(head: readonly LakeRow[], rest: AsyncIterator<LakeRow>): AsyncGenerator<LakeRow> {
  yield* head;
  yield* { [Symbol.asyncIterator]: () => rest };
}

/**
 * Extract one window to its raw object, or return its rows when it is small enough to pack
 * ({@link ExtractContext.packBelowBytes}). A window without rows writes no object.
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
  const key = rawObjectKey(entry.name, idDevice, window);
  const counts = (rows: number) =>
    `${tally.read} documents read, ${tally.accepted} accepted, ${tally.quarantined.length} quarantined, ` +
    `${tally.rows} rows produced, ${rows}`;
  let written: Awaited<ReturnType<typeof writeParquetObject>>;
  try {
    let rows: AsyncIterable<LakeRow> = windowRows(ctx, cursor, tally);
    if (ctx.packBelowBytes !== undefined) {
      const iterator = rows[Symbol.asyncIterator]();
      const { head, bytes, complete } = await headOf(iterator, ctx.packBelowBytes);
      if (complete) {
        if (head.length !== tally.rows || tally.read !== tally.accepted + tally.quarantined.length) {
          throw new RowCountMismatchError(`${key}: ${counts(head.length)} kept to pack`, {
            collection: entry.name,
            idDevice,
          });
        }
        return {
          object: null,
          rows: head,
          rowBytes: bytes,
          documentsRead: tally.read,
          documentsAccepted: tally.accepted,
          quarantined: tally.quarantined,
          drift: tally.drift,
        };
      }
      rows = joined(head, iterator);
    }
    written = await writeParquetObject(entry, rows, ctx.store, key, { rowGroupSize: ctx.rowGroupSize });
  } finally {
    await cursor.close();
  }
  const writtenRows = written?.rows ?? 0;
  if (writtenRows !== tally.rows || tally.read !== tally.accepted + tally.quarantined.length) {
    if (written) await ctx.store.delete(key);
    throw new RowCountMismatchError(`${key}: ${counts(writtenRows)} written`, {
      collection: entry.name,
      idDevice,
    });
  }
  return {
    object: written ? { key, rows: written.rows, bytes: written.bytes } : null,
    documentsRead: tally.read,
    documentsAccepted: tally.accepted,
    quarantined: tally.quarantined,
    drift: tally.drift,
  };
}
