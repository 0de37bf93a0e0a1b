/**
 * One window of one device: cursor → validated rows → Parquet object, counting every document
 * read as either written or quarantined. Nothing is committed here; the worker commits after the
 * counts check out.
 */
import { EJSON } from "bson";
import type { Db, Document } from "mongodb";
import { DocumentValidationError, PipelineError } from "../errors.js";
import type { ObjectStore } from "../lake/object-store.js";
import { writeParquetObject } from "../lake/parquet-object.js";
import { VariableLogSlotSchema } from "../schema/collections.js";
import type { CollectionEntry } from "../schema/registry.js";
import { type LakeRow, toLakeRow } from "../schema/validate.js";
import { quarantineKey, rawObjectKey, untimedQuarantineKey } from "./keys.js";
import type { QuarantineRecord, WrittenObject } from "./ledger.js";
import { pivotSlots } from "./pivot.js";
import { untimedQuery, windowQuery } from "./queries.js";
import type { Window } from "./windows.js";

/** Documents per cursor batch; `variable_logs` slots are ~10 KB each, so fewer of them. */
export const CURSOR_BATCH = { default: 2000, variable_logs: 200 } as const;

/** The rows written differ from the documents accepted: never commit such a window. */
export class RowCountMismatchError extends PipelineError {
  readonly retryable = false;
}

export interface WindowExtract {
  readonly object: WrittenObject | null;
  readonly documentsRead: number;
  /** Documents (slots for `variable_logs`) that made it into rows. */
  readonly documentsAccepted: number;
  readonly quarantined: readonly QuarantineRecord[];
  readonly drift: Map<string, number>;
}

interface Tally {
  read: number;
  accepted: number;
  rows: number;
  readonly quarantined: QuarantineRecord[];
  readonly drift: Map<string, number>;
}

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
    const documentId = idOf(doc);
    const value = doc[field];
    const reason =
      `${entry.name} document ${documentId ?? "<no _id>"} cannot be windowed: ${field} ` +
      (value === undefined ? "is missing" : value === null ? "is null" : `is ${typeName(value)}, not a date`);
    const objectKey = untimedQuarantineKey(entry.name, idDevice, documentId ?? `no-id-${records.length}`);
    const body = JSON.stringify({
      collection: entry.name,
      idDevice,
      reason,
      document: EJSON.serialize(doc, { relaxed: true }),
    });
    await store.putBuffer(objectKey, Buffer.from(body));
    records.push({ documentId, reason, objectKey });
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

function idOf(doc: Document): string | null {
  const id = doc._id;
  if (id === undefined || id === null) return null;
  return typeof id === "object" && "toHexString" in id ? id.toHexString() : String(id);
}

async function quarantine(ctx: ExtractContext, tally: Tally, doc: unknown, error: DocumentValidationError) {
  const documentId = typeof doc === "object" && doc !== null ? idOf(doc as Document) : null;
  const objectKey = quarantineKey(
    ctx.entry.name,
    ctx.idDevice,
    ctx.window,
    documentId ?? `no-id-${tally.read}`,
  );
  const body = JSON.stringify({
    collection: ctx.entry.name,
    idDevice: ctx.idDevice,
    window: { from: ctx.window.from, to: ctx.window.to },
    reason: error.message,
    issues: error.issues,
    document: EJSON.serialize(doc as Document, { relaxed: true }),
  });
  await ctx.store.putBuffer(objectKey, Buffer.from(body));
  tally.quarantined.push({ documentId, reason: error.message, objectKey });
}

function countDrift(tally: Tally, keys: readonly string[]): void {
  for (const key of keys) tally.drift.set(key, (tally.drift.get(key) ?? 0) + 1);
}

/** Validated rows of a flat collection; bad documents go to quarantine, never stop the window. */
async function* flatRows(
  ctx: ExtractContext,
  docs: AsyncIterable<Document>,
  tally: Tally,
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

/** Validated `variable_logs` slots; a slot's extra keys are drift (rows carry no payload). */
async function* slots(ctx: ExtractContext, docs: AsyncIterable<Document>, tally: Tally) {
  const known = new Set(Object.keys(VariableLogSlotSchema.shape));
  for await (const doc of docs) {
    tally.read++;
    const parsed = VariableLogSlotSchema.safeParse(doc);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({
        field: i.path.join(".") || "<document>",
        reason: i.message,
      }));
      await quarantine(
        ctx,
        tally,
        doc,
        new DocumentValidationError(
          { collection: ctx.entry.name, documentId: idOf(doc) ?? undefined },
          issues,
        ),
      );
      continue;
    }
    countDrift(
      tally,
      Object.keys(doc).filter((k) => !known.has(k)),
    );
    tally.accepted++;
    yield parsed.data;
  }
}

async function* counted(rows: AsyncIterable<LakeRow>, tally: Tally): AsyncGenerator<LakeRow> {
  for await (const row of rows) {
    tally.rows++;
    yield row;
  }
}

/**
 * Extract one window to its raw object. A window without rows writes no object.
 * @throws RowCountMismatchError if the file holds a different number of rows than were produced.
 */
export async function extractWindow(ctx: ExtractContext): Promise<WindowExtract> {
  const { entry, idDevice, window } = ctx;
  const query = windowQuery(entry, idDevice, window);
  const pivot = entry.name === "variable_logs";
  const cursor = ctx.source.collection(entry.name).find(query.filter, {
    sort: query.sort,
    batchSize: pivot ? CURSOR_BATCH.variable_logs : CURSOR_BATCH.default,
  });
  const tally: Tally = { read: 0, accepted: 0, rows: 0, quarantined: [], drift: new Map() };
  const rows = pivot
    ? counted(pivotSlots(idDevice, slots(ctx, cursor, tally)), tally)
    : flatRows(ctx, cursor, tally);
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
