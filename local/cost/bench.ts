/**
 * Measured figures the cost model takes from `npm run bench` when its JSON is there
 * (`.local/bench/latest.json` by default): per collection shape, the worker's documents per
 * second (the "without the server" figure when present, else the worker's end-to-end rate against
 * the local FerretDB) and raw Parquet bytes per source BSON byte; optionally the Glue jobs'
 * throughput. The file's other contents are ignored, so the bench may grow freely; what is read:
 *
 * ```
 * { "ingest": { "collections": [ {            // or "collections" at the top level
 *     "name": "events",                        // or "collection"
 *     "workerWithoutServerDocsPerSecond": 9000, // optional; also "workerAloneDocsPerSecond",
 *                                               // or "withoutServer": { "docsPerSecond": 9000 }
 *     "worker": { "documents": 21567, "objectBytes": 123, "run": { "ms": 3590 } },
 *     "stages": { "bytes": 2135000 }           // source BSON bytes, for raw/source
 *   } ] },
 *   "glue": { "curateGbPerDpuHour": 20, "extractGbPerDpuHour": 10 }   // optional
 * }
 * ```
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { CostInputError } from "./errors.js";

/** Where `npm run bench` leaves its figures (git-ignored `.local/`). */
export const DEFAULT_BENCH_FILE = join(".local", "bench", "latest.json");

/**
 * The run the README's and docs/benchmarks.md's tables show, committed with them, so a clone that
 * never ran the bench projects from the same figures the documents quote.
 */
export const RECORDED_BENCH_FILE = join("docs", "benchmarks.json");

const positive = z.number().positive();

const CollectionFigures = z
  .object({
    name: z.string().optional(),
    collection: z.string().optional(),
    workerWithoutServerDocsPerSecond: positive.optional(),
    workerAloneDocsPerSecond: positive.optional(),
    withoutServer: z.object({ docsPerSecond: positive }).optional(),
    worker: z
      .object({
        documents: z.number().nonnegative(),
        objectBytes: z.number().nonnegative().optional(),
        run: z.object({ ms: positive }),
      })
      .optional(),
    stages: z.object({ bytes: z.number().nonnegative() }).optional(),
  })
  .refine((c) => c.name ?? c.collection, "names no collection (`name` or `collection`)");

const GlueFigures = z.object({
  curateGbPerDpuHour: positive.optional(),
  extractGbPerDpuHour: positive.optional(),
});

/** One collection shape's measured figures. */
export interface ShapeFigures {
  readonly docsPerSecond: number;
  /** `without-server`: the worker's own rate; `worker`: end to end against the local server. */
  readonly rateKind: "without-server" | "worker";
  /** Raw Parquet bytes per source BSON byte, when the bench measured both. */
  readonly rawOverSource?: number;
  /** Source BSON bytes per document in the bench's snapshot, when measured. */
  readonly bytesPerDoc?: number;
}

export interface BenchFigures {
  readonly file: string;
  /** What the file held that the model could not read (it is skipped, not fatal: the bench grows). */
  readonly skipped: readonly string[];
  readonly shapes: Readonly<Record<string, ShapeFigures>>;
  readonly curateGbPerDpuHour?: number;
  readonly extractGbPerDpuHour?: number;
}

/**
 * Read a bench file's figures. Parts in another shape are skipped and named in `skipped`, so a
 * bench that changes its output never stops `npm run cost`.
 * @throws CostInputError when the file is not JSON.
 */
export function parseBenchFigures(text: string, file: string): BenchFigures {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CostInputError(`${file} is not JSON: ${(error as Error).message}`, {}, { cause: error });
  }
  const top = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
  const ingest = (typeof top.ingest === "object" && top.ingest !== null ? top.ingest : {}) as Record<
    string,
    unknown
  >;
  const entries = [ingest.collections, top.collections].filter(Array.isArray).flat() as unknown[];
  const skipped: string[] = [];
  if (entries.length === 0) skipped.push("no ingest.collections or collections list");
  const shapes: Record<string, ShapeFigures> = {};
  for (const [i, entry] of entries.entries()) {
    const parsed = CollectionFigures.safeParse(entry);
    if (!parsed.success) {
      skipped.push(
        `collection entry ${i}: ${parsed.error.issues.map((x) => `${x.path.join(".")} ${x.message}`).join("; ")}`,
      );
      continue;
    }
    const c = parsed.data;
    const name = (c.name ?? c.collection) as string;
    const alone =
      c.workerWithoutServerDocsPerSecond ?? c.workerAloneDocsPerSecond ?? c.withoutServer?.docsPerSecond;
    const measured =
      c.worker && c.worker.documents > 0 ? (c.worker.documents * 1000) / c.worker.run.ms : undefined;
    const docsPerSecond = alone ?? measured;
    if (docsPerSecond === undefined) {
      skipped.push(`${name}: no documents-per-second figure`);
      continue;
    }
    const rawOverSource =
      c.worker?.objectBytes !== undefined && c.stages && c.stages.bytes > 0
        ? c.worker.objectBytes / c.stages.bytes
        : undefined;
    const bytesPerDoc =
      c.stages && c.stages.bytes > 0 && c.worker && c.worker.documents > 0
        ? c.stages.bytes / c.worker.documents
        : undefined;
    shapes[name] = {
      docsPerSecond,
      rateKind: alone === undefined ? "worker" : "without-server",
      ...(rawOverSource === undefined ? {} : { rawOverSource }),
      ...(bytesPerDoc === undefined ? {} : { bytesPerDoc }),
    };
  }
  const glue = top.glue === undefined ? undefined : GlueFigures.safeParse(top.glue);
  if (glue && !glue.success) skipped.push("glue: not { curateGbPerDpuHour?, extractGbPerDpuHour? }");
  const g = glue?.success ? glue.data : {};
  return Object.freeze({
    file,
    skipped,
    shapes,
    ...(g.curateGbPerDpuHour === undefined ? {} : { curateGbPerDpuHour: g.curateGbPerDpuHour }),
    ...(g.extractGbPerDpuHour === undefined ? {} : { extractGbPerDpuHour: g.extractGbPerDpuHour }),
  });
}

/**
 * The figures of `file`; else of this machine's last bench run; else of the recorded run; undefined
 * when there are none.
 * @throws CostInputError when a named file is missing or any file is malformed.
 */
export function readBenchFigures(
  file: string | undefined,
  root: string = process.cwd(),
): BenchFigures | undefined {
  if (file !== undefined) {
    if (!existsSync(file))
      throw new CostInputError(
        `bench file ${file} does not exist (npm run bench writes ${DEFAULT_BENCH_FILE})`,
      );
    return parseBenchFigures(readFileSync(file, "utf8"), file);
  }
  const found = [DEFAULT_BENCH_FILE, RECORDED_BENCH_FILE].find((f) => existsSync(join(root, f)));
  return found === undefined ? undefined : parseBenchFigures(readFileSync(join(root, found), "utf8"), found);
}
