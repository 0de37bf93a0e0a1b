/**
 * Lake schemas of the 13 MongoDB collections (docs/design.md §3). Keys are the source field names; the
 * lake column names derive from them (`columns.ts`). Fields a document carries beyond these fold
 * into the `payload` column, so a schema lists what analysts query, not every key ever seen.
 */
import { z } from "zod";
import { boolean, float64, int32, int64, text, timestamp } from "./fields.js";

/** Every collection: document id and the device that produced it. */
const base = { _id: text(), idDevice: int64() };

export const AlarmSchema = z.object({
  ...base,
  code: int32(),
  class: text(),
  activeTS: timestamp(),
  /** Unset while the alarm is active; set when it clears (the one update in the IoT data). */
  resetTS: timestamp().nullish(),
  activationMail: boolean().nullish(),
  resetMail: boolean().nullish(),
});

export const EndOfProgSchema = z.object({
  ...base,
  ts: timestamp(),
  programName: text(),
  recipeId: text().nullish(),
  programKind: text(),
  durationSec: int32(),
  outcome: text(),
  cavityTempMax: float64().nullish(),
  energyKwh: float64().nullish(),
  waterLiters: float64().nullish(),
  steps: int32().nullish(),
});

export const EndOfProgAggregatedSchema = z.object({
  ...base,
  day: timestamp(),
  programs: int32(),
  completed: int32(),
  aborted: int32(),
  totalDurationSec: int64(),
  energyKwh: float64().nullish(),
  waterLiters: float64().nullish(),
});

export const EventsSchema = z.object({
  ...base,
  timestamp: timestamp(),
  type: text(),
  source: text(),
  value: text().nullish(),
  severity: int32().nullish(),
});

export const EvereoSessSchema = z.object({
  ...base,
  startTS: timestamp(),
  endTS: timestamp().nullish(),
  mode: text(),
  trays: int32().nullish(),
  targetTemp: float64().nullish(),
});

export const RequestSchema = z.object({
  ...base,
  requestTS: timestamp(),
  method: text(),
  path: text(),
  status: int32(),
  latencyMs: int32().nullish(),
  /** Large request bodies (61 GiB over 820 K documents in production) stay opaque text. */
  body: text().nullish(),
});

export const SdEventsSchema = z.object({
  ...base,
  time: timestamp(),
  event: text(),
  code: int32().nullish(),
  detail: text().nullish(),
});

export const SdHaccpSchema = z.object({
  ...base,
  time: timestamp(),
  phase: text(),
  probeTemp: float64().nullish(),
  chamberTemp: float64().nullish(),
  recipeId: text().nullish(),
  passed: boolean().nullish(),
});

export const SdMessagesSchema = z.object({
  ...base,
  sentAt: timestamp(),
  channel: text(),
  level: text(),
  message: text(),
});

export const SdVariablesSchema = z.object({
  ...base,
  time: timestamp(),
  name: text(),
  value: float64().nullish(),
  unit: text().nullish(),
});

export const SdataSchema = z.object({
  ...base,
  ts: timestamp(),
  firmware: text(),
  serial: text(),
  model: text(),
  options: text().nullish(),
});

export const WorkingMinutesLogsSchema = z.object({
  ...base,
  date: timestamp(),
  workingMinutes: int32(),
  idleMinutes: int32().nullish(),
  cookingMinutes: int32().nullish(),
});

/**
 * Oven sensor variables sampled every 30 s. The names are the `variable` values in source
 * documents and the column names of the pivoted `variable_logs` rows.
 */
export const OVEN_VARIABLES = [
  "temp_chamber",
  "temp_core_probe",
  "temp_set",
  "temp_board",
  "temp_power_board",
  "humidity",
  "humidity_set",
  "fan_speed",
  "microwave_power",
  "motor_current",
  "supply_voltage",
  "steam_valve",
] as const;
export type OvenVariable = (typeof OVEN_VARIABLES)[number];

/** Seconds between two samples, samples per hour, hours per slot document. */
export const VARIABLE_LOG_SHAPE = { stepSeconds: 30, samplesPerHour: 120, hoursPerSlot: 6 } as const;

/**
 * `variable_logs` as stored in MongoDB: one document per device, variable and 6-hour slot,
 * `samples[h].values[i]` measured at `day + h hours + i × 30 s`, null where nothing was measured.
 * Samples are sub-documents because FerretDB (and so our local stack) refuses arrays nested
 * directly in arrays.
 */
export const VariableLogSlotSchema = z.object({
  ...base,
  variable: z.enum(OVEN_VARIABLES),
  day: timestamp(),
  samples: z
    .array(
      z.object({
        hour: z
          .int()
          .min(0)
          .max(VARIABLE_LOG_SHAPE.hoursPerSlot - 1),
        values: z.array(z.number().nullable()).length(VARIABLE_LOG_SHAPE.samplesPerHour),
      }),
    )
    .max(VARIABLE_LOG_SHAPE.hoursPerSlot),
});
export type VariableLogSlot = z.infer<typeof VariableLogSlotSchema>;

const measurement = () => float64().nullish();

/** `variable_logs` in the lake: one row per device and sample time, one column per variable. */
export const VariableLogsSchema = z.object({
  idDevice: int64(),
  time: timestamp(),
  ...(Object.fromEntries(OVEN_VARIABLES.map((v) => [v, measurement()])) as Record<
    OvenVariable,
    ReturnType<typeof measurement>
  >),
});
