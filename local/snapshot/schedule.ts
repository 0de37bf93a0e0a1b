/**
 * When an oven is on: per device and UTC day, whether the kitchen works and the intervals the
 * oven runs. Documents are placed mostly inside these intervals, as real ovens report while in use.
 */
import type { DeviceProfile } from "./fleet.js";
import { Rng } from "./random.js";
import { DAY_MS, dayStart, HOUR_MS, type Interval, MINUTE_MS, totalLength, weekday } from "./time.js";

export interface DaySchedule {
  readonly day: number;
  readonly start: number;
  readonly end: number;
  /** Whether the kitchen works this day (closing day and random days off are not). */
  readonly working: boolean;
  /** Intervals the oven is on, in UTC, sorted and disjoint; empty on days off. */
  readonly on: readonly Interval[];
}

/**
 * The schedule of one device on one UTC day. Local working hours are shifted to UTC and cut at
 * the day's edges, so a Tokyo bakery's early shift lands on the previous UTC evening.
 */
export function daySchedule(seed: number, device: DeviceProfile, day: number): DaySchedule {
  const rng = Rng.stream(seed, "schedule", device.id, day);
  const start = dayStart(day);
  const end = start + DAY_MS;
  const working = weekday(day) !== device.closedWeekday && !rng.chance(0.04);
  if (!working) return { day, start, end, working, on: [] };

  const open = device.openHour + rng.between(0, 0.75);
  const close = device.closeHour - rng.between(0, 1);
  const local: [number, number][] = [];
  if (device.middayBreak && close - open > 8) {
    const pause = rng.between(14.5, 15.5);
    local.push([open, pause], [pause + rng.between(1.5, 2.5), close]);
  } else {
    local.push([open, close]);
  }
  const pieces: Interval[] = [];
  for (const [a, b] of local) {
    for (const shift of [-24, 0, 24]) {
      const from = Math.max(0, a - device.utcOffset + shift);
      const to = Math.min(24, b - device.utcOffset + shift);
      if (to > from) {
        pieces.push({
          start: start + Math.round((from * HOUR_MS) / MINUTE_MS) * MINUTE_MS,
          end: start + Math.round((to * HOUR_MS) / MINUTE_MS) * MINUTE_MS,
        });
      }
    }
  }
  pieces.sort((x, y) => x.start - y.start);
  return { day, start, end, working, on: pieces.filter((p) => p.end > p.start) };
}

/**
 * A random instant of the day: inside the on-intervals with probability `inside` (when there
 * are any), anywhere in the day otherwise.
 */
export function instantIn(rng: Rng, schedule: DaySchedule, inside = 0.95): number {
  const onTotal = totalLength(schedule.on);
  if (onTotal > 0 && rng.chance(inside)) {
    let x = Math.floor(rng.float() * onTotal);
    for (const p of schedule.on) {
      const len = p.end - p.start;
      if (x < len) return p.start + x;
      x -= len;
    }
  }
  return schedule.start + Math.floor(rng.float() * DAY_MS);
}
