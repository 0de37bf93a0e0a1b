/**
 * The source side of reconcile: a device's documents of one collection in given time ranges,
 * tallied per UTC day (tally.ts). One index-bounded range query per range on `{idDevice, <ts>}`,
 * the index the worker's windows use, reading only what the tally needs (`_id`, the timestamp,
 * the reset; variable_logs: the samples). Plain `find`: what both MongoDB and FerretDB run.
 */
import type { Db, Document, ObjectId } from "mongodb";
import { documentIdOf } from "../errors.js";
import { EARLIEST_DATE } from "../ingest/queries.js";
import { completeUntil } from "../ingest/windows.js";
import type { CollectionEntry } from "../schema/registry.js";
import { type Day, type DayRange, dayOf } from "./days.js";
import { type DayTally, emptyDay } from "./tally.js";

/** A raw object of the device, as its ledger row says (store.ts). */
export interface LedgerWindow {
  readonly id: number;
  readonly from: Date;
  readonly to: Date;
  /** When the window was committed: a document inserted after it is a late arrival. */
  readonly createdAt: Date;
  /** Its raw object is gone (looked up only while curate has not read it). */
  readonly gone?: boolean;
}

export interface DeviceSource {
  readonly idDevice: number;
  readonly lastLogDate: Date;
  /** The device's bookmark for the collection; null when nothing was extracted yet (nothing is read). */
  readonly bookmark: Date | null;
  /** The device's raw windows of the collection, in time order. */
  readonly windows: readonly LedgerWindow[];
  /** Ledger ids above this are not counted in curated yet (`curated_count.position`). */
  readonly curatedPosition: number;
}

const HOUR_MS = 3_600_000;

/** When an ObjectId was made (its first four bytes), or null for any other `_id`. */
function insertedAt(doc: Document): number | null {
  const id = doc._id as ObjectId | undefined;
  return id && (id as { _bsontype?: string })._bsontype === "ObjectId" ? id.getTimestamp().getTime() : null;
}

/** The window holding instant `at` (binary search over contiguous, ordered windows). */
function windowAt(windows: readonly LedgerWindow[], at: number): LedgerWindow | undefined {
  let lo = 0;
  let hi = windows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const w = windows[mid] as LedgerWindow;
    if (at < w.from.getTime()) hi = mid - 1;
    else if (at >= w.to.getTime()) lo = mid + 1;
    else return w;
  }
  return undefined;
}

/** Readings of a slot document per UTC day of their instants (pipeline/ingest/pivot.ts's layout). */
function readingsPerDay(doc: Document, start: number, stepMs: number): Map<Day, number> {
  const perDay = new Map<Day, number>();
  const samples = Array.isArray(doc.samples) ? (doc.samples as Document[]) : [];
  for (const sample of samples) {
    const values = Array.isArray(sample?.values) ? (sample.values as unknown[]) : [];
    const hour = typeof sample?.hour === "number" ? sample.hour : 0;
    values.forEach((value, i) => {
      if (value === null || value === undefined) return;
      const day = dayOf(start + hour * HOUR_MS + i * stepMs);
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    });
  }
  return perDay;
}

/**
 * How far before a range a document may start and still reach into it: a slot's readings run
 * for its length after its start.
 */
export function lookBehindMs(entry: CollectionEntry): number {
  return entry.reshape?.kind === "pivot" ? (entry.alignMs ?? 6 * HOUR_MS) : 0;
}

/** Every dated document of the device: a full reconcile's one range. */
const ALL: DayRange = { from: EARLIEST_DATE, to: new Date(8_640_000_000_000_000) };

/**
 * Tallies the device's documents whose day (variable_logs: whose readings' days) fall in
 * `ranges` (null: every day), adding to `tallies` (day → tally).
 */
export async function tallyDevice(
  db: Db,
  entry: CollectionEntry,
  device: DeviceSource,
  only: readonly DayRange[] | null,
  tallies: Map<Day, DayTally>,
): Promise<{ queriesRun: number }> {
  const ranges = only ?? [ALL];
  const ts = entry.sourceTimestampField;
  const pivot = entry.reshape?.kind === "pivot" ? entry.reshape : undefined;
  // Due: below the completeness mark and below the bookmark (what the next run reads is not the
  // lake's yet, and a full pass in the middle of a bulk load would read it all for nothing).
  const bookmark = device.bookmark?.getTime();
  if (bookmark === undefined) return { queriesRun: 0 };
  const dueBefore = Math.min(completeUntil(device.lastLogDate, entry.alignMs).getTime(), bookmark);
  const projection: Document = { _id: 1, [ts]: 1 };
  if (entry.updatedField) projection[entry.updatedField] = 1;
  if (pivot) projection.samples = 1;
  const inRanges = (day: Day) => only === null || only.some((r) => day >= dayOf(r.from) && day < dayOf(r.to));
  const behind = lookBehindMs(entry);
  let queriesRun = 0;
  for (const range of ranges) {
    if (range.from.getTime() - behind >= dueBefore) continue;
    queriesRun++;
    const cursor = db.collection(entry.name).find(
      {
        idDevice: device.idDevice,
        [ts]: {
          $gte: new Date(Math.max(range.from.getTime() - behind, EARLIEST_DATE.getTime())),
          $lt: new Date(Math.min(range.to.getTime(), dueBefore)),
        },
      },
      { projection, sort: { [ts]: 1 }, batchSize: 5000 },
    );
    for await (const doc of cursor) {
      const at = (doc[ts] as Date).getTime();
      const window = windowAt(device.windows, at);
      const uncurated = window !== undefined && window.id > device.curatedPosition;
      const lost = uncurated && window.gone === true;
      const pending = uncurated && !lost;
      const inserted = insertedAt(doc);
      // Below the first window too: a document older than the device's first one, inserted later.
      const extractedAt = window?.createdAt ?? device.windows[0]?.createdAt;
      const late = inserted !== null && extractedAt !== undefined && inserted > extractedAt.getTime();
      const resetAt = entry.updatedField ? doc[entry.updatedField] : undefined;
      const reset =
        resetAt instanceof Date ? (resetAt.getTime() < bookmark ? "reset" : "inFlight") : ("none" as const);
      const unitsPerDay = pivot
        ? readingsPerDay(doc, at, pivot.grid.stepSeconds * 1000)
        : new Map([[dayOf(at), 1]]);
      for (const [day, units] of unitsPerDay) {
        // Ranges are read a slot early (look-behind); keep only the days asked for.
        if (!inRanges(day)) continue;
        let tally = tallies.get(day);
        if (!tally) {
          tally = emptyDay();
          tallies.set(day, tally);
        }
        tally.due += units;
        tally.documents.push({ id: documentIdOf(doc), units, pending, lost, late, reset });
      }
    }
  }
  return { queriesRun };
}
