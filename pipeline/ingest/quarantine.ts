/**
 * Refused documents are kept, never dropped: each is copied whole to the raw layer under
 * `QUARANTINE_PREFIX` with the reason it was refused, and its {@link QuarantineRecord} becomes a
 * quarantine row in the commit that counts it (`pipeline/support/commit-statement.ts`). The
 * worker's invalid documents (inside a window), its untimed ones (first pass over a device) and
 * the summary's orphans (no device) are all kept by {@link quarantineDocument}.
 */
import { EJSON } from "bson";
import type { Document } from "mongodb";
import { type DocumentIssue, documentIdOf } from "../errors.js";
import type { ObjectStore } from "../lake/object-store.js";
import type { QuarantineRecord } from "./ingest-state.js";
import { orphanQuarantineKey, quarantineKey, untimedQuarantineKey } from "./keys.js";
import type { Window } from "./windows.js";

/** Where the refused document was found, which decides its key and what its copy says. */
export type QuarantineSite =
  /** Read by a window's query and refused by the schema. */
  | { readonly idDevice: number; readonly window: Window }
  /** Found by the device's first pass: no window can select it. */
  | { readonly idDevice: number; readonly untimed: true }
  /** Selected by no device's query (`idDevice` missing or not a number). */
  | { readonly orphan: true };

export interface Refusal {
  readonly collection: string;
  readonly site: QuarantineSite;
  readonly reason: string;
  readonly issues?: readonly DocumentIssue[];
  /**
   * Names the copy of a document without `_id` (`no-id-<ordinal>`): its position among what the
   * caller read, so two such documents do not share a key.
   */
  readonly ordinal: number;
}

function keyOf(refusal: Refusal, documentId: string): string {
  const { collection, site } = refusal;
  if ("window" in site) return quarantineKey(collection, site.idDevice, site.window, documentId);
  if ("untimed" in site) return untimedQuarantineKey(collection, site.idDevice, documentId);
  return orphanQuarantineKey(collection, documentId);
}

/**
 * Copies a refused document to its quarantine key, with the reason (and the failing fields), and
 * returns the record its commit writes. Keys are deterministic, so a repeated pass rewrites the
 * same copy instead of adding one.
 */
export async function quarantineDocument(
  store: ObjectStore,
  doc: unknown,
  refusal: Refusal,
): Promise<QuarantineRecord> {
  const documentId = documentIdOf(doc) ?? null;
  const objectKey = keyOf(refusal, documentId ?? `no-id-${refusal.ordinal}`);
  const { site } = refusal;
  const body = {
    collection: refusal.collection,
    idDevice: "idDevice" in site ? site.idDevice : undefined,
    window: "window" in site ? { from: site.window.from, to: site.window.to } : undefined,
    reason: refusal.reason,
    issues: refusal.issues,
    document: EJSON.serialize(doc as Document, { relaxed: true }),
  };
  await store.putBuffer(objectKey, Buffer.from(JSON.stringify(body)));
  return { documentId, reason: refusal.reason, objectKey };
}
