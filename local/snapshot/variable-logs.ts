/**
 * `variable_logs` slot documents: per device, variable and 6-hour slot, hourly sub-documents of
 * 120 readings (one per 30 s), null where nothing was measured. Readings follow a simple
 * physical story (the chamber heats towards the set point of the running program, the core probe
 * lags behind), so charts of the lake look like ovens rather than noise.
 */
import { type OvenVariable, VARIABLE_LOG_SHAPE } from "../../pipeline/schema/collections.js";
import type { DayContext } from "./documents.js";
import { Rng, round } from "./random.js";
import { HOUR_MS, type Interval, MINUTE_MS, SECOND_MS, within } from "./time.js";
import type { Draft } from "./types.js";

const { stepSeconds, samplesPerHour, hoursPerSlot } = VARIABLE_LOG_SHAPE;
const SLOT_MS = hoursPerSlot * HOUR_MS;
const STEP_MS = stepSeconds * SECOND_MS;

/** One program the oven runs: from `start`, heading for its set points. */
interface Segment {
  readonly start: number;
  readonly end: number;
  readonly tempSet: number;
  readonly humiditySet: number;
  readonly fanLevel: number;
  readonly microwave: number;
  /** Whether a core probe is inserted (otherwise `temp_core_probe` is null). */
  readonly probe: boolean;
  /** Set point of the previous segment: where the chamber starts from. */
  readonly fromTemp: number;
}

/** Programs back to back over the on-intervals of the day. */
function timeline(rng: Rng, on: readonly Interval[], water: boolean, microwave: boolean): Segment[] {
  const out: Segment[] = [];
  for (const period of on) {
    let t = period.start;
    let previous = 25;
    while (t < period.end) {
      const end = Math.min(period.end, t + rng.int(15, 90) * MINUTE_MS);
      const tempSet = rng.pick([60, 80, 120, 160, 180, 200, 220, 250]);
      out.push({
        start: t,
        end,
        tempSet,
        humiditySet: water ? rng.pick([0, 0, 20, 40, 60, 100]) : 0,
        fanLevel: rng.int(1, 5),
        microwave: microwave && rng.chance(0.6) ? rng.int(2, 10) * 100 : 0,
        probe: rng.chance(0.6),
        fromTemp: previous,
      });
      previous = tempSet;
      t = end;
    }
  }
  return out;
}

/** The reading of a variable at `t` during `seg`, or null when it measured nothing. */
function reading(variable: OvenVariable, seg: Segment, t: number, onSince: number, rng: Rng): number | null {
  const minutes = (t - seg.start) / MINUTE_MS;
  const approach = (from: number, to: number, tau: number) => to + (from - to) * Math.exp(-minutes / tau);
  const chamber = approach(seg.fromTemp, seg.tempSet, 4);
  switch (variable) {
    case "temp_chamber":
      return round(chamber + rng.normal(0, 1.2));
    case "temp_set":
      return seg.tempSet;
    case "temp_core_probe":
      return seg.probe ? round(approach(18, Math.min(95, seg.tempSet - 20), 25) + rng.normal(0, 0.3)) : null;
    case "humidity":
      return round(Math.min(100, Math.max(0, approach(10, seg.humiditySet, 2) + rng.normal(0, 1.5))));
    case "humidity_set":
      return seg.humiditySet;
    case "fan_speed":
      return Math.round(seg.fanLevel * 600 + rng.normal(0, 15));
    case "microwave_power":
      return seg.microwave;
    case "motor_current":
      return round(0.6 + seg.fanLevel * 0.45 + seg.microwave / 800 + rng.normal(0, 0.05), 2);
    case "supply_voltage":
      return round(230 + rng.normal(0, 2.5));
    case "steam_valve":
      return approach(10, seg.humiditySet, 2) < seg.humiditySet - 5 ? 1 : 0;
    case "temp_board":
      return round(35 + 15 * (1 - Math.exp(-(t - onSince) / (60 * MINUTE_MS))) + rng.normal(0, 0.3));
    case "temp_power_board":
      return round(40 + 25 * (1 - Math.exp(-(t - onSince) / (45 * MINUTE_MS))) + rng.normal(0, 0.4));
  }
}

/** Slot documents of one device-day, before `_id`s (see `documentsOfDay`). */
export function variableLogDrafts(ctx: DayContext): Draft<"variable_logs">[] {
  const { seed, device, schedule } = ctx;
  if (schedule.on.length === 0) return [];
  const segments = timeline(
    Rng.stream(seed, "variable_logs", device.id, schedule.day, "timeline"),
    schedule.on,
    device.model.water,
    device.variables.includes("microwave_power"),
  );
  const out: Draft<"variable_logs">[] = [];
  for (let slot = schedule.start; slot < schedule.end; slot += SLOT_MS) {
    if (!schedule.on.some((p) => p.start < slot + SLOT_MS && p.end > slot)) continue;
    for (const variable of device.variables) {
      const rng = Rng.stream(seed, "variable_logs", device.id, slot, variable);
      const samples: Draft<"variable_logs">["samples"] = [];
      for (let hour = 0; hour < hoursPerSlot; hour++) {
        const from = slot + hour * HOUR_MS;
        if (!schedule.on.some((p) => p.start < from + HOUR_MS && p.end > from)) continue;
        // Now and then the connection drops for a few minutes: a run of nulls.
        const gapStart = rng.chance(0.05) ? rng.int(0, samplesPerHour - 1) : -1;
        const gapEnd = gapStart + rng.int(4, 20);
        let any = false;
        const values: (number | null)[] = [];
        for (let i = 0; i < samplesPerHour; i++) {
          const t = from + i * STEP_MS;
          const seg = segments.find((s) => t >= s.start && t < s.end);
          const dropped = (i >= gapStart && i < gapEnd) || rng.chance(0.01);
          const onSince = schedule.on.find((p) => t >= p.start && t < p.end)?.start ?? t;
          const value =
            seg && !dropped && within(schedule.on, t) ? reading(variable, seg, t, onSince, rng) : null;
          if (value !== null) any = true;
          values.push(value);
        }
        if (any) samples.push({ hour, values });
      }
      if (samples.length > 0) {
        out.push({ idDevice: device.id, variable, day: new Date(slot), samples });
      }
    }
  }
  return out;
}
