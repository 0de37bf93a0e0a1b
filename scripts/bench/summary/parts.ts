/**
 * What each part of `npm run bench` leaves in the run's folder, read back for the summary. The
 * TypeScript parts share their types with this module; the Python parts (postgres_extract.py,
 * curate_analytics.py) and the encoder bench's `.local/bench/encoders.json` are parsed by zod, on
 * the fields the summary reads only, so a part that changes shape is named as unreadable rather
 * than misread.
 */
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import type { IngestBenchJson } from "../ingest/reports.js";
import type { RunResult } from "../parquet-memory.js";

const num = z.number();

/** One pass of postgres_extract.py (`_figures`). */
const ExtractPass = z.object({
  rows: num,
  seconds: num,
  rowsPerSecond: num.nullable(),
  appendRowsPerSecond: num.nullable(),
});

export const PostgresExtractPart = z.object({
  scale: z.string(),
  full: ExtractPass,
  increment: ExtractPass,
  bulk: z
    .object({
      rows: num,
      device_recipe_history: ExtractPass.optional(),
      device_recipe: ExtractPass.optional(),
    })
    .optional(),
});
export type PostgresExtractPart = z.infer<typeof PostgresExtractPart>;

const Reconcile = z.object({
  mode: z.string(),
  seconds: num,
  deviceDays: num,
  queries: num,
  differences: num,
});

const Curate = z.object({
  seconds: num,
  commits: num,
  rows: num,
  objects: num,
  rawFiles: num,
  rawBytes: num,
});

const Way = z.object({ label: z.string(), seconds: num, sparkJobs: num.nullable() });

const CurateRun = z.object({
  devices: num,
  days: num,
  collections: z.array(z.string()).nullable(),
  curate: Curate,
  reconcile: z.object({ full: Reconcile, auto: z.array(Reconcile) }),
});

/** curate_analytics.py `--json`. */
export const CuratePart = CurateRun.extend({
  scaling: z.object({ factor: num, small: CurateRun }).optional(),
  alarms: z
    .object({
      alarms: num,
      resets: num,
      dailyRows: num,
      runs: num,
      agree: z.boolean(),
      loadAverage: num,
      ways: z.object({ curated: Way, raw: Way, oldWay: Way, served: Way }),
    })
    .optional(),
});
export type CuratePart = z.infer<typeof CuratePart>;

/**
 * `.local/bench/encoders.json` (scripts/bench/encoders.ts): one summary row per shape and
 * encoder; DuckDB's rows are the reference. `ours`, when the file names it, is the encoder the
 * worker uses; a file without it predates ADR 0026 and its worker wrote with parquetjs.
 */
export const EncodersPart = z.object({
  finished: z.string().optional(),
  ours: z.string().optional(),
  summary: z.array(
    z.object({
      shape: z.string(),
      encoder: z.string(),
      rows: num,
      rowsPerS: num,
      rowsPerCpuS: num.optional(),
      streamPeakRssMiB: num.nullable().optional(),
      memoryPeakRssMiB: num.optional(),
      vsDuckdbWall: num.nullable().optional(),
      vsDuckdbCpu: num.nullable().optional(),
    }),
  ),
});
export type EncodersPart = z.infer<typeof EncodersPart>;

/** The parquet-memory bench's `--out`. */
export interface ParquetMemoryPart {
  readonly runs: readonly RunResult[];
}

/** Everything a run produced; a part that did not run (or failed) is absent. */
export interface BenchParts {
  readonly ingest?: IngestBenchJson;
  readonly parquetMemory?: ParquetMemoryPart;
  readonly postgresExtract?: PostgresExtractPart;
  readonly curate?: CuratePart;
  readonly encoders?: EncodersPart;
}

export interface ReadParts {
  readonly parts: BenchParts;
  /** The raw JSON of each part read, kept whole in the run's JSON. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** Parts that are missing or unreadable, and why. */
  readonly problems: readonly string[];
}

/** Files of a run, by part. */
export interface PartFiles {
  readonly ingest?: string;
  readonly parquetMemory?: string;
  readonly postgresExtract?: string;
  readonly curate?: string;
  readonly encoders?: string;
}

/** Read the parts' files; missing or malformed ones are reported in `problems`, never thrown. */
export function readParts(files: PartFiles): ReadParts {
  const parts: Record<string, unknown> = {};
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  const schemas: Record<keyof PartFiles, z.ZodType | null> = {
    ingest: null,
    parquetMemory: null,
    postgresExtract: PostgresExtractPart,
    curate: CuratePart,
    encoders: EncodersPart,
  };
  for (const [name, schema] of Object.entries(schemas) as [keyof PartFiles, z.ZodType | null][]) {
    const file = files[name];
    if (!file) continue;
    if (!existsSync(file)) {
      problems.push(`${name}: no ${file} (the part did not run or failed)`);
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      problems.push(`${name}: ${file} is not JSON (${(error as Error).message})`);
      continue;
    }
    raw[name] = json;
    if (!schema) {
      parts[name] = json;
      continue;
    }
    const parsed = schema.safeParse(json);
    if (parsed.success) parts[name] = parsed.data;
    else {
      const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".")}: ${i.message}`);
      problems.push(`${name}: ${file} in another shape (${issues.join("; ")})`);
    }
  }
  return { parts: parts as BenchParts, raw, problems };
}
