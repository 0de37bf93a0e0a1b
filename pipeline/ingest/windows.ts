/**
 * Extraction windows of one device and collection. Windows are half-open, `[from, to)`: a
 * document stamped exactly at `to` belongs to the next window, so equal timestamps at a boundary
 * are read once, never twice or zero times. `to` never passes the device's `last_log_date`, the
 * mark before which MongoDB is known to be complete.
 */

export const DAY_MS = 86_400_000;
/** Default window length: the original system's 60 days. */
export const DEFAULT_WINDOW_MS = 60 * DAY_MS;

export interface Window {
  /** Inclusive lower bound. */
  readonly from: Date;
  /** Exclusive upper bound; becomes the device's new `lastts` once the window is committed. */
  readonly to: Date;
}

export interface WindowSpec {
  /** Where extraction resumes: `lastts`, or the device's first document for a new device. */
  readonly start: Date;
  /** The device's `last_log_date`. */
  readonly lastLogDate: Date;
  readonly windowMs: number;
  /**
   * Source units that must not be split (`variable_logs` slots of 6 h): `to` is floored to a
   * multiple, so a slot whose end may pass `last_log_date` waits for the next run.
   */
  readonly alignMs?: number;
}

function floorTo(ms: number, alignMs: number | undefined): number {
  return alignMs ? Math.floor(ms / alignMs) * alignMs : ms;
}

/** How far a collection can be extracted for a device: `last_log_date`, floored to whole units. */
export function completeUntil(lastLogDate: Date, alignMs?: number): Date {
  return new Date(floorTo(lastLogDate.getTime(), alignMs));
}

/** The first window from `start`, or null when nothing is complete beyond `start` yet. */
export function nextWindow(spec: WindowSpec): Window | null {
  if (!(spec.windowMs > 0)) throw new RangeError(`window length must be positive, got ${spec.windowMs}`);
  const from = spec.start.getTime();
  const to = floorTo(Math.min(from + spec.windowMs, spec.lastLogDate.getTime()), spec.alignMs);
  return to > from ? { from: new Date(from), to: new Date(to) } : null;
}

/** All windows from `start` up to `last_log_date`, contiguous and non-overlapping. */
export function* windows(spec: WindowSpec): Generator<Window> {
  let start = spec.start;
  for (let w = nextWindow(spec); w; w = nextWindow({ ...spec, start })) {
    yield w;
    start = w.to;
  }
}
