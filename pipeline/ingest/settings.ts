/**
 * Fan-out sizing per mode and collection: how many workers share a collection's devices. Bulk
 * loads move years of history, so the heavy collections get many workers; operations move a day
 * at a time. Validated once by zod; any entry can be overridden from config.
 */
import { z } from "zod";
import { parseEnv } from "../config.js";
import { collections } from "../schema/registry.js";
import type { IngestMode } from "./batches.js";
import { DAY_MS, DEFAULT_WINDOW_MS } from "./windows.js";

const names = collections.map((c) => c.name);
const MiB = 1024 * 1024;

/** What goes into a pack (pack.ts, ADR 0023); sizes are row data as the Parquet writer estimates it. */
export interface PackLimits {
  /** A window whose rows come to at most this many estimated bytes joins a pack. */
  readonly windowBytes: number;
  /** A pack is written once its rows reach this many estimated bytes, */
  readonly bytes: number;
  /** or once it holds this many device windows (ledger rows of one statement). */
  readonly windows: number;
}

/**
 * A window of up to 256 KiB of row data is packed (a device's day in every collection, most
 * variable_logs days included); a pack is closed at 8 MiB of row data (a few MiB of Parquet: a
 * handful of objects a day per worker) or 1,000 windows. A window is held in memory until it is
 * known to be small, then streams into the pack's object: a larger bound kept whole windows of
 * tens of thousands of rows alive long enough for the garbage collector to copy them (1 MiB:
 * variable_logs at 609 instead of 1,650 documents per CPU second in the bench).
 */
export const DEFAULT_PACK_LIMITS: PackLimits = { windowBytes: MiB / 4, bytes: 8 * MiB, windows: 1000 };

/** Devices extracted at once by one worker: the seed's async queue of 5. */
export const DEFAULT_DEVICE_CONCURRENCY = 5;

/** Production-sized defaults (docs/design.md §3 volumes): workers per collection and mode. */
export const DEFAULT_WORKERS: Readonly<Record<IngestMode, Readonly<Record<string, number>>>> = {
  bulk: {
    alarm: 5,
    end_of_prog: 20,
    end_of_prog_aggregated: 10,
    events: 40,
    evereo_sess: 1,
    request: 20,
    sd_events: 5,
    sd_haccp: 20,
    sd_messages: 20,
    sd_variables: 40,
    sdata: 1,
    variable_logs: 100,
    working_minutes_logs: 1,
  },
  operations: Object.fromEntries(names.map((n) => [n, n === "variable_logs" ? 10 : n === "events" ? 4 : 1])),
};

/** JSON text in an environment variable, parsed; unset or empty: `empty`. */
const jsonText = (empty: unknown) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return empty;
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be JSON" });
        return z.NEVER;
      }
    });

/**
 * Pack limits over {@link DEFAULT_PACK_LIMITS}, or `false`: every window in an object of its own.
 * Bounded where a larger value costs memory the worker does not have (a window is held until it is
 * known to be small; a pack's members until it commits) or a statement the database would balk at.
 */
const PackLimitsSchema = z.union([
  z.literal(false),
  z
    .object({
      windowBytes: z
        .int()
        .min(1024)
        .max(4 * MiB)
        .optional(),
      bytes: z
        .int()
        .min(64 * 1024)
        .max(256 * MiB)
        .optional(),
      windows: z.int().min(1).max(10_000).optional(),
    })
    .strict()
    .transform((patch): PackLimits => ({ ...DEFAULT_PACK_LIMITS, ...patch }))
    .refine((l) => l.windowBytes <= l.bytes, { message: "windowBytes must be at most bytes" }),
]);

const WorkersSchema = z
  .record(z.string(), z.int().min(1).max(1000))
  .refine((r) => Object.keys(r).every((k) => names.includes(k)), { message: "unknown collection name" });

export const IngestSettingsSchema = z.object({
  INGEST_WINDOW_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(DEFAULT_WINDOW_MS / DAY_MS),
  INGEST_DEVICE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(DEFAULT_DEVICE_CONCURRENCY),
  /** JSON, e.g. {"bulk":{"variable_logs":200}}: merged over {@link DEFAULT_WORKERS}. */
  INGEST_WORKERS: jsonText({}).pipe(
    z.object({ bulk: WorkersSchema.optional(), operations: WorkersSchema.optional() }),
  ),
  /** JSON, e.g. {"bytes":16777216} merged over {@link DEFAULT_PACK_LIMITS}, or `false`: no packs. */
  INGEST_PACKS: jsonText({}).pipe(PackLimitsSchema),
});

export interface IngestSettings {
  readonly windowMs: number;
  readonly deviceConcurrency: number;
  readonly workers: Readonly<Record<IngestMode, Readonly<Record<string, number>>>>;
  /** Small windows go to packs within these limits; false: each window its own object. */
  readonly pack: PackLimits | false;
}

export function loadIngestSettings(env: NodeJS.ProcessEnv = process.env): IngestSettings {
  const s = parseEnv(IngestSettingsSchema, "ingestion settings", env);
  return Object.freeze({
    windowMs: s.INGEST_WINDOW_DAYS * DAY_MS,
    deviceConcurrency: s.INGEST_DEVICE_CONCURRENCY,
    workers: {
      bulk: { ...DEFAULT_WORKERS.bulk, ...s.INGEST_WORKERS.bulk },
      operations: { ...DEFAULT_WORKERS.operations, ...s.INGEST_WORKERS.operations },
    },
    pack: s.INGEST_PACKS,
  });
}
