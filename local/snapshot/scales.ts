/**
 * Named snapshot sizes and the resolution of user options into a {@link SnapshotConfig}.
 */
import { z } from "zod";
import { collections } from "../../pipeline/schema/registry.js";
import { DAY_MS, DEFAULT_END } from "./time.js";
import type { ScaleName, SnapshotConfig, SourceCollection } from "./types.js";

/** Every source collection, in registry order (the default of {@link SnapshotOptions.collections}). */
const ALL_COLLECTIONS = collections.map((c) => c.name) as readonly SourceCollection[];

/** Seed used when none is given. */
export const DEFAULT_SEED = 42;

/**
 * `default` is what `npm start` loads: small enough to load into FerretDB in seconds.
 * `bench` is for benchmarks: enough devices and days for throughput to dominate set-up costs.
 */
export const SCALES: Readonly<Record<ScaleName, { readonly devices: number; readonly days: number }>> = {
  default: { devices: 20, days: 21 },
  bench: { devices: 200, days: 60 },
};

/** Options a caller may set; anything left out comes from the scale. */
export interface SnapshotOptions {
  readonly seed?: number;
  readonly scale?: ScaleName;
  readonly devices?: number;
  readonly days?: number;
  /** End of the initial timeline; rounded down to UTC midnight. */
  readonly end?: number;
  /**
   * Load only these collections (e.g. `["alarm"]` for a large alarm history that loads in
   * minutes); the others stay empty, in `load` and in every later `advance`.
   */
  readonly collections?: readonly string[];
}

const OptionsSchema = z.object({
  seed: z
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(DEFAULT_SEED),
  scale: z.enum(["default", "bench"]).default("default"),
  // Device ids are packed into 3 bytes of generated ObjectIds, hence the upper bound.
  devices: z.int().min(1).max(100_000).optional(),
  days: z.int().min(1).max(3660).optional(),
  end: z.number().optional(),
  collections: z
    .array(
      z.enum(ALL_COLLECTIONS as [SourceCollection, ...SourceCollection[]], {
        error: (issue) => `unknown collection ${String(issue.input)}; known: ${ALL_COLLECTIONS.join(", ")}`,
      }),
    )
    .min(1, "name at least one collection")
    .optional(),
});

/** Fill in defaults and validate; throws a zod error naming the bad option. */
export function resolveSnapshotConfig(options: SnapshotOptions = {}): SnapshotConfig {
  const o = OptionsSchema.parse(options);
  const scale = SCALES[o.scale];
  const end = Math.floor((o.end ?? DEFAULT_END) / DAY_MS) * DAY_MS;
  return Object.freeze({
    seed: o.seed,
    scale: o.scale,
    devices: o.devices ?? scale.devices,
    days: o.days ?? scale.days,
    end,
    // Registry order and no duplicates, so equal selections compare equal.
    collections: Object.freeze(ALL_COLLECTIONS.filter((c) => !o.collections || o.collections.includes(c))),
  });
}
