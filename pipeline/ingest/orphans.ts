/**
 * Documents no single device's query selects: `idDevice` missing, null or not a number, a number
 * that is no `ddc` device (an unregistered id, a fraction, an int64 beyond 2^53), or an array.
 * Per-device windows never see most of them, so without this sweep they would be lost silently.
 * The summary step sweeps each collection of its plan once per execution.
 *
 * What the sweep costs on production MongoDB, with its `{idDevice, <ts>}` index: the filter is
 * `{idDevice: {$nin: <the ddc device ids>}}`, which the planner turns into index bounds, the
 * complement of the known ids: [MinKey, first id), (id, next id)..., (last id, MaxKey]. The scan
 * visits only the keys of documents of no known device (missing and null are indexed as null,
 * strings and other types sort outside the numbers), plus one seek per known id to skip its keys;
 * it never reads a known device's documents. About 9 bytes per id in the command: MongoDB's 16 MiB
 * limit allows over a million devices. Each run re-reads the orphans found before (their ids and
 * `idDevice` only, projected; their keys are checked against the support database and only new
 * ones are fetched whole), so the cost grows with the orphans, not with the collection. (The old
 * filter, `$not: {$type: "number"}`, cannot become index bounds: a negated `$type` is a full
 * collection scan on MongoDB.) FerretDB scans either way.
 *
 * An array `idDevice` with no known device in it is the sweep's (`$nin` matches a document only
 * when no element is a known id); one that names a known device is met by that device's windows,
 * and kept by the first to meet it (pipeline/ingest/quarantine.ts `QuarantineOnce`), under the
 * same key.
 */
import type { Db, Document, Filter } from "mongodb";
import type { Logger } from "pino";
import { documentIdOf } from "../errors.js";
import type { ObjectStore } from "../lake/object-store.js";
import { losslessJson } from "../schema/validate.js";
import { MAX_DEVICE_ID } from "./device-ids.js";
import type { OrphanRecords, QuarantineRecord } from "./ingest-state.js";
import { QuarantineOnce, type Refusal, SWEEP_BATCH } from "./quarantine.js";

/**
 * Without the known devices: documents whose `idDevice` is no number (missing and null included,
 * and NaN). Range comparisons are type-bracketed, so `$gte: -Infinity` matches every number but
 * NaN, and its negation is index bounds on MongoDB, unlike `$not: {$type: "number"}`.
 */
const NOT_A_NUMBER: Filter<Document> = { idDevice: { $not: { $gte: Number.NEGATIVE_INFINITY } } };

/**
 * The sweep's filter: documents of no device in `known` (the `ddc` device ids the plan accepts),
 * or, without them, of no number at all (see the module comment for its cost).
 */
export function orphanFilter(known?: readonly number[]): Filter<Document> {
  return known ? { idDevice: { $nin: [...known] } } : NOT_A_NUMBER;
}

/**
 * True when `idDevice` is an array: the query of each device in it selects the document, which
 * is no single device's, so it is kept as an orphan, once.
 */
export const namesSeveralDevices = (doc: Document): boolean => Array.isArray(doc.idDevice);

/** A document of no known device, and why: the value of its `idDevice`, said plainly. */
export function noDeviceReason(collection: string, doc: Document): string {
  const value = doc.idDevice;
  const what =
    value === undefined
      ? "idDevice is missing"
      : value === null
        ? "idDevice is null"
        : Array.isArray(value)
          ? `idDevice is an array (${losslessJson(value)}) of no ddc device`
          : typeof value === "number"
            ? Number.isInteger(value)
              ? `idDevice ${value} is not a ddc device`
              : `idDevice ${value} is not a whole number`
            : (value as { _bsontype?: unknown })._bsontype === "Long"
              ? longReason(String(value))
              : `idDevice is a ${typeName(value)} (${losslessJson(value)})`;
  return `${collection} document ${documentIdOf(doc) ?? "<no _id>"} names no device: ${what}`;
}

/** The driver hands over an int64 as a Long only beyond 2^53 (smaller ones are numbers). */
function longReason(digits: string): string {
  return BigInt(digits) > BigInt(MAX_DEVICE_ID)
    ? `idDevice ${digits} is beyond 2^53 - 1, the largest device id the pipeline carries exactly`
    : `idDevice ${digits} is not a ddc device`;
}

function typeName(value: unknown): string {
  const bson = (value as { _bsontype?: unknown } | null)?._bsontype;
  return typeof bson === "string" ? bson : typeof value;
}

/** The refusal of a document whose `idDevice` is an array, met by a device's query. */
export function severalDevicesRefusal(collection: string, doc: Document, ordinal: number): Refusal {
  return {
    collection,
    site: { orphan: true },
    reason:
      `${collection} document ${documentIdOf(doc) ?? "<no _id>"} names several devices: idDevice is an ` +
      `array (${losslessJson(doc.idDevice)}); a document names one device, so it is kept once, as an orphan`,
    ordinal,
  };
}

/**
 * Quarantines the collection's orphans that have no quarantine row yet, each under a key of its
 * own id, so a repeated sweep finds them known and neither fetches, copies nor counts them again.
 * @param known the `ddc` device ids the plan accepts; without them, only non-numbers are orphans.
 */
export async function sweepOrphans(
  source: Db,
  store: ObjectStore,
  collection: string,
  state: Pick<OrphanRecords, "quarantinedKeys">,
  known?: readonly number[],
): Promise<QuarantineRecord[]> {
  const coll = source.collection(collection);
  const once = new QuarantineOnce(store, (keys) => state.quarantinedKeys(keys));
  // In index order: a sort on `_id` could tempt the planner into the `_id` index (every document).
  const found = coll.find(orphanFilter(known), {
    projection: { _id: 1, idDevice: 1 },
    sort: { idDevice: 1 },
    batchSize: SWEEP_BATCH,
  });
  const { records } = await once.sweep(coll, found, (doc, ordinal) => ({
    collection,
    site: { orphan: true },
    reason: noDeviceReason(collection, doc),
    ordinal,
  }));
  return records;
}

export interface OrphanSweepDeps {
  readonly source: Db;
  readonly store: ObjectStore;
  readonly state: OrphanRecords;
  readonly log?: Logger;
}

export interface OrphanSweep {
  readonly runId: string;
  readonly planId: string | null;
  readonly collections: readonly string[];
  /**
   * The `ddc` device ids the plan accepts (pipeline/ingest/plan-pass.ts `readDevices`): documents
   * of any other number are orphans too. Without them only non-numbers are swept, as before
   * issue 13; the summary step passes them.
   */
  readonly devices?: readonly number[];
}

/**
 * The summary's sweep: per collection, the orphans not quarantined before are copied to the
 * store, then recorded and counted in the run's metric row in one commit. A document whose key
 * has a quarantine row already is skipped, so each orphan is quarantined once.
 * @returns the orphans quarantined now, by collection.
 */
export async function quarantineOrphans(
  deps: OrphanSweepDeps,
  run: OrphanSweep,
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const collection of run.collections) {
    const records = await sweepOrphans(deps.source, deps.store, collection, deps.state, run.devices);
    found.set(collection, records.length);
    if (!records.length) continue;
    await deps.state.commitOrphans({
      runId: run.runId,
      planId: run.planId,
      collection,
      quarantined: records,
    });
    deps.log?.warn({ collection, orphans: records.length }, "documents without a device quarantined");
  }
  return found;
}
