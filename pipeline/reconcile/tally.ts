/**
 * One device's source documents of one collection, tallied per UTC day as reconcile needs them,
 * and each day's comparison with curated (pure: the reads are in source.ts and store.ts).
 *
 * A document counts in `units` (one per document; variable_logs: one per non-null reading,
 * on the day of the reading's instant). What decides its fate:
 * - due: before its device's `last_log_date` (slots: before the mark floored to the slot grid)
 *   and below the device's bookmark (slots: starting below it): what the lake should hold now.
 *   Documents above the bookmark are the next run's and are not read (source.ts);
 * - pending: in a raw object whose ledger row the curate job has not counted yet (in flight);
 * - lost: pending, but its raw object is gone (expired or deleted before curate read it);
 * - late: its ObjectId says it was inserted after the window that covers it was extracted.
 */
import type { Cause, Finding } from "./causes.js";
import type { Day } from "./days.js";

/** A due document of a day, as far as the comparison needs it. */
export interface TalliedDocument {
  /** The document's `_id` as quarantine rows hold it (errors.ts `documentIdOf`). */
  readonly id: string | undefined;
  readonly units: number;
  readonly pending: boolean;
  /** Pending in a raw object that is gone: only a replay brings it (not counted as pending). */
  readonly lost?: boolean;
  readonly late: boolean;
  /** Alarm: `reset` below the bookmark (curated should show it), `inFlight` at or above it. */
  readonly reset: "none" | "reset" | "inFlight";
}

export interface DayTally {
  /** Units due. */
  due: number;
  readonly documents: TalliedDocument[];
}

export const emptyDay = (): DayTally => ({ due: 0, documents: [] });

/** What the curate job counted for the day (`curated_day`); zeros when it has no row. */
export interface CuratedFigures {
  readonly rows: number;
  readonly keys: number;
  readonly cells: number;
  readonly resets: number;
}

export const NOTHING_CURATED: CuratedFigures = { rows: 0, keys: 0, cells: 0, resets: 0 };

export interface DaySubject {
  readonly collection: string;
  readonly idDevice: number;
  readonly day: Day;
  /** Curated's unit: distinct keys (rows of documents) or cells (readings). */
  readonly unit: "keys" | "cells";
  /** Whether the collection's documents change at the source (alarm: resets are compared). */
  readonly resets: boolean;
}

const sum = (docs: readonly TalliedDocument[], pick: (d: TalliedDocument) => boolean) =>
  docs.reduce((n, d) => n + (pick(d) ? d.units : 0), 0);
const countOf = (docs: readonly TalliedDocument[], pick: (d: TalliedDocument) => boolean) =>
  docs.reduce((n, d) => n + (pick(d) ? 1 : 0), 0);

/**
 * Whether the day needs the quarantine rows of its documents to be explained: the counts alone
 * agree otherwise (the common case, which costs no support-database query).
 */
export function needsQuarantine(subject: DaySubject, tally: DayTally, curated: CuratedFigures): boolean {
  const held = subject.unit === "cells" ? curated.cells : curated.keys;
  if (tally.due !== held) return true;
  return subject.resets && countOf(tally.documents, (d) => d.reset === "reset") !== curated.resets;
}

/**
 * The findings of one day: what accounts for the source's units that curated lacks (quarantine,
 * in flight) and every difference, by cause. `quarantined` holds the ids of the day's documents
 * that have a quarantine row. Returns no finding for a day that agrees.
 */
export function compareDay(
  subject: DaySubject,
  tally: DayTally,
  curated: CuratedFigures,
  quarantined: ReadonlySet<string>,
): Finding[] {
  const docs = tally.documents.filter((d) => d.id === undefined || !quarantined.has(d.id));
  const inQuarantine = tally.due - sum(docs, () => true);
  const held = subject.unit === "cells" ? curated.cells : curated.keys;
  const figures = {
    source: tally.due,
    curated: held,
    quarantined: inQuarantine,
  };
  let inFlight = 0;
  const found: { cause: Cause; count: number; detail: string }[] = [];
  // Named whether or not curated holds them already (a replayed window's): the curate job stops
  // on the gone object until the window is extracted again.
  const lost = sum(docs, (d) => d.lost === true);
  if (lost)
    found.push({
      cause: "raw_lost",
      count: lost,
      detail: "their window's raw object is gone before the curate job read it",
    });
  let short = sum(docs, () => true) - held;
  if (short > 0) {
    const pending = Math.min(
      short,
      sum(docs, (d) => d.pending),
    );
    inFlight += pending;
    short -= pending;
    short -= Math.min(short, lost);
    const late = Math.min(
      short,
      sum(docs, (d) => d.late && !d.pending && !d.lost),
    );
    if (late)
      found.push({ cause: "late_arrival", count: late, detail: "inserted after their window was extracted" });
    if (short - late) found.push({ cause: "missing", count: short - late, detail: "below the bookmark" });
  } else if (short < 0) {
    found.push({ cause: "extra", count: -short, detail: `curated holds ${-short} more than the source` });
  }
  if (curated.rows > curated.keys)
    found.push({
      cause: "duplicated",
      count: curated.rows - curated.keys,
      detail: `${curated.rows} rows for ${curated.keys} keys`,
    });
  if (subject.resets) {
    // Resets of alarms curated already holds: a reset at or above the bookmark is in flight.
    // A lost alarm's reset is named with it (raw_lost), not again as a late reset.
    const expected = countOf(docs, (d) => d.reset === "reset" && !d.pending && !d.lost);
    const pendingResets = countOf(docs, (d) => d.reset === "reset" && d.pending);
    const upTo = expected + pendingResets + countOf(docs, (d) => d.reset === "inFlight");
    if (curated.resets < expected)
      found.push({
        cause: "late_reset",
        count: expected - curated.resets,
        detail: `${expected} reset in the source, ${curated.resets} in curated`,
      });
    else if (curated.resets > upTo) {
      // An alarm in a raw object not yet curated (a repair's replay) brings its state with it.
      const pendingAlarms = Math.min(
        curated.resets - upTo,
        countOf(docs, (d) => d.pending),
      );
      inFlight += pendingAlarms;
      if (curated.resets - upTo > pendingAlarms)
        found.push({
          cause: "reopened",
          count: curated.resets - upTo - pendingAlarms,
          detail: `${curated.resets} reset in curated, ${upTo} in the source`,
        });
    }
  }
  const base = {
    collection: subject.collection,
    idDevice: subject.idDevice,
    day: subject.day,
    ...figures,
    inFlight,
  };
  const out: Finding[] = found.map((f) => ({ ...base, ...f }));
  if (inQuarantine > 0)
    out.push({ ...base, cause: "quarantined", count: inQuarantine, detail: "refused with a reason" });
  if (inFlight > 0)
    out.push({ ...base, cause: "in_flight", count: inFlight, detail: "not yet extracted or curated" });
  return out;
}
