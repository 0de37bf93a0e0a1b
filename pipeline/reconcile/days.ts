/**
 * The UTC days reconcile compares, as `YYYY-MM-DD` text (the support database's `date`), and the
 * contiguous ranges the source is read in: one index-bounded range query per device and range,
 * never per day.
 */
import { DAY_MS } from "../ingest/windows.js";

export type Day = string;

export const dayOf = (at: Date | number): Day => new Date(at).toISOString().slice(0, 10);

export const dayStart = (day: Day): Date => new Date(`${day}T00:00:00.000Z`);

export const dayEnd = (day: Day): Date => new Date(dayStart(day).getTime() + DAY_MS);

/** A half-open time range `[from, to)` covering whole days. */
export interface DayRange {
  readonly from: Date;
  readonly to: Date;
}

/** Days merged into contiguous ranges, in order. */
export function dayRanges(days: Iterable<Day>): DayRange[] {
  const sorted = [...new Set(days)].sort();
  const ranges: { from: Date; to: Date }[] = [];
  for (const day of sorted) {
    const last = ranges.at(-1);
    const from = dayStart(day);
    if (last && last.to.getTime() === from.getTime()) last.to = dayEnd(day);
    else ranges.push({ from, to: dayEnd(day) });
  }
  return ranges;
}
