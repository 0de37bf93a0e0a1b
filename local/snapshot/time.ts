/**
 * Time arithmetic of the generator, in epoch milliseconds (UTC). Days are UTC days numbered
 * from the epoch, so a day's random stream does not depend on where a load window starts.
 */

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/**
 * Default end of the snapshot timeline. A fixed instant, never the wall clock, so two loads with
 * the same seed are identical whenever they run.
 */
export const DEFAULT_END = Date.UTC(2024, 5, 1);

/** UTC day number of an instant. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** First instant of a UTC day number. */
export function dayStart(day: number): number {
  return day * DAY_MS;
}

/** Day of week of a UTC day number, 0 = Sunday (1970-01-01 was a Thursday). */
export function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

/** A half-open interval `[start, end)` in epoch milliseconds. */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

/** Total length of disjoint intervals. */
export function totalLength(intervals: readonly Interval[]): number {
  return intervals.reduce((sum, i) => sum + (i.end - i.start), 0);
}

/** Whether `ms` falls in one of the intervals. */
export function within(intervals: readonly Interval[], ms: number): boolean {
  return intervals.some((i) => ms >= i.start && ms < i.end);
}

/** ISO-8601 text of an instant, for logs and reports. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Parse an ISO date or date-time (UTC when no offset is given) into epoch milliseconds. */
export function parseInstant(text: string): number {
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/.test(text) || /^\d{4}-\d{2}-\d{2}$/.test(text) ? text : `${text}Z`;
  const ms = Date.parse(withZone);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO date: ${text}`);
  return ms;
}
