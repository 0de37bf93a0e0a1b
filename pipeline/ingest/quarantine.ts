/**
 * Refused documents are kept, never dropped: each is copied whole to the raw layer under
 * `QUARANTINE_PREFIX` with the reason it was refused, and its {@link QuarantineRecord} becomes a
 * quarantine row in the commit that counts it (`pipeline/support/commit-statement.ts`). The
 * worker's invalid documents (inside a window), its untimed ones (the untimed sweep of a device),
 * documents naming several devices (any window that meets them) and the summary's orphans (no
 * device) are all kept by {@link quarantineDocument}.
 *
 * A key is the identity of a quarantined document (deterministic, injective in its `_id`: keys.ts),
 * and the support database holds one row per key. Where the same document is met again (every
 * run's untimed sweep and orphan sweep, the windows of each device an array names), a
 * {@link QuarantineOnce} skips the keys that have a row already, so a document is copied, recorded
 * and counted once.
 */
import type { Document } from "mongodb";
import { type DocumentIssue, documentIdOf } from "../errors.js";
import type { ObjectStore } from "../lake/object-store.js";
import { losslessEjson } from "../schema/validate.js";
import type { QuarantineRecord } from "./ingest-state.js";
import { documentPart, orphanQuarantineKey, quarantineKey, untimedQuarantineKey } from "./keys.js";
import type { SourceCollection } from "./source.js";
import type { Window } from "./windows.js";

/** Where the refused document was found, which decides its key and what its copy says. */
export type QuarantineSite =
  /** Read by a window's query and refused by the schema. */
  | { readonly idDevice: number; readonly window: Window }
  /** Found by the device's untimed sweep: no window can select it. */
  | { readonly idDevice: number; readonly untimed: true }
  /** Selected by no single device's query (`idDevice` missing, of no device, or naming several). */
  | { readonly orphan: true };

export interface Refusal {
  readonly collection: string;
  readonly site: QuarantineSite;
  readonly reason: string;
  readonly issues?: readonly DocumentIssue[];
  /**
   * Names the copy of a document without `_id` (`~none-<ordinal>`): its position among what the
   * caller read, so two such documents do not share a key.
   */
  readonly ordinal: number;
}

/** The document's `_id` as read (undefined when it has none). */
const idOf = (doc: unknown): unknown =>
  typeof doc === "object" && doc !== null ? (doc as { _id?: unknown })._id : undefined;

/** The key a refused document's copy is kept at (deterministic: see keys.ts). */
export function quarantineKeyOf(
  doc: unknown,
  refusal: Pick<Refusal, "collection" | "site" | "ordinal">,
): string {
  const { collection, site, ordinal } = refusal;
  const id = idOf(doc);
  if ("window" in site) return quarantineKey(collection, site.idDevice, site.window, id, ordinal);
  if ("untimed" in site) return untimedQuarantineKey(collection, site.idDevice, id, ordinal);
  return orphanQuarantineKey(collection, id, ordinal);
}

/**
 * Copies a refused document to its quarantine key, with the reason (and the failing fields), and
 * returns the record its commit writes. Keys are deterministic, so a repeated pass rewrites the
 * same copy instead of adding one. The copy is lossless extended JSON (int64 beyond 2^53 as
 * `{"$numberLong": ...}`: pipeline/schema/validate.ts).
 */
export async function quarantineDocument(
  store: ObjectStore,
  doc: unknown,
  refusal: Refusal,
): Promise<QuarantineRecord> {
  const documentId = documentIdOf(doc) ?? null;
  const objectKey = quarantineKeyOf(doc, refusal);
  const { site } = refusal;
  const body = {
    collection: refusal.collection,
    idDevice: "idDevice" in site ? site.idDevice : undefined,
    window: "window" in site ? { from: site.window.from, to: site.window.to } : undefined,
    reason: refusal.reason,
    issues: refusal.issues,
    document: losslessEjson(doc),
  };
  await store.putBuffer(objectKey, Buffer.from(JSON.stringify(body)));
  // A copy outside the device's folder names no device: its row has none either.
  return "orphan" in site
    ? { documentId, reason: refusal.reason, objectKey, idDevice: null }
    : { documentId, reason: refusal.reason, objectKey };
}

/** Documents per round trip of a sweep: their keys are checked against the support database together. */
export const SWEEP_BATCH = 500;

/** Which quarantine keys have a row already: the ingestion state's answer (ingest-state.ts). */
export type QuarantinedKeys = (keys: readonly string[]) => Promise<Set<string>>;

/**
 * Quarantines documents that may be met more than once, each once: a key with a row already, or
 * claimed by this object earlier (another device of the same run met the document first), is
 * skipped. One per run; keys claimed stay claimed for the run, even when their commit fails (the
 * next run finds them without a row and quarantines them then).
 */
export class QuarantineOnce {
  private readonly claimed = new Set<string>();

  constructor(
    readonly store: ObjectStore,
    private readonly known: QuarantinedKeys,
  ) {}

  /**
   * Of `candidates` (each with the key it would be kept at), those not quarantined before and not
   * claimed in this run; they are claimed now.
   */
  async claim<T extends { readonly key: string }>(candidates: readonly T[]): Promise<T[]> {
    const open = candidates.filter((c) => !this.claimed.has(c.key));
    if (!open.length) return [];
    const known = await this.known([...new Set(open.map((c) => c.key))]);
    const mine: T[] = [];
    for (const c of open) {
      if (known.has(c.key) || this.claimed.has(c.key)) continue;
      this.claimed.add(c.key);
      mine.push(c);
    }
    return mine;
  }

  /** Quarantines `doc` unless its key was quarantined or claimed before; null when skipped. */
  async keep(doc: unknown, refusal: Refusal): Promise<QuarantineRecord | null> {
    const [mine] = await this.claim([{ key: quarantineKeyOf(doc, refusal) }]);
    return mine ? quarantineDocument(this.store, doc, refusal) : null;
  }

  /**
   * Quarantines what a sweep finds, each document once. `found` yields documents read with a
   * projection (enough for their key and reason: `_id`, `idDevice`, a timestamp); in batches of
   * {@link SWEEP_BATCH}, the keys are checked against the support database, and only documents
   * without a quarantine row are fetched whole (by `_id`) and kept. A sweep that finds only known
   * documents thus reads no whole document and writes nothing.
   */
  async sweep(
    coll: SourceCollection,
    found: AsyncIterable<Document>,
    refusalOf: (doc: Document, ordinal: number) => Refusal,
  ): Promise<{ records: QuarantineRecord[]; queriesRun: number }> {
    const records: QuarantineRecord[] = [];
    let queriesRun = 0;
    let seen = 0;
    let batch: { key: string; doc: Document; refusal: Refusal }[] = [];
    const flush = async () => {
      const mine = await this.claim(batch);
      batch = [];
      if (!mine.length) return;
      const whole = new Map<string, Document>();
      const ids = mine.map((m) => m.doc._id).filter((id) => id !== undefined);
      if (ids.length) {
        queriesRun++;
        for await (const doc of coll.find({ _id: { $in: ids } })) whole.set(documentPart(doc._id, 0), doc);
      }
      for (const m of mine) {
        const doc = m.doc._id === undefined ? m.doc : whole.get(documentPart(m.doc._id, 0));
        // Gone since the sweep read it: nothing left to keep.
        if (doc) records.push(await quarantineDocument(this.store, doc, m.refusal));
      }
    };
    for await (const doc of found) {
      const refusal = refusalOf(doc, seen++);
      batch.push({ key: quarantineKeyOf(doc, refusal), doc, refusal });
      if (batch.length >= SWEEP_BATCH) await flush();
    }
    await flush();
    return { records, queriesRun };
  }
}
