/**
 * The functions' configuration: environment variables set by the deployment, validated once
 * per cold start. Connection settings are never here, only the ids of the secrets that hold them
 * (docs/design.md §6); the support database's host, port and name sit beside its RDS-managed secret,
 * which holds just the credentials.
 */
import { z } from "zod";
import { parseEnv } from "../config.js";
import { DEFAULT_SAFETY_MARGIN_MS } from "../ingest/budget.js";

const flag = z.enum(["true", "false"]).transform((v) => v === "true");

export const FunctionEnvSchema = z.object({
  DDC_SECRET_ID: z.string({ error: "is not set" }).min(1),
  MONGODB_SECRET_ID: z.string({ error: "is not set" }).min(1),
  SUPPORT_SECRET_ID: z.string({ error: "is not set" }).min(1),
  SUPPORT_DB_HOST: z.string().optional(),
  SUPPORT_DB_PORT: z.string().optional(),
  SUPPORT_DB_NAME: z.string().optional(),
  /** Where raw objects go: `s3://bucket/prefix` (or `file:///path` in local runs). */
  RAW_LAKE_URL: z.string({ error: "is not set" }).regex(/^(s3|file):\/\//, "must be an s3:// or file:// URL"),
  /** No window starts with less than this left of the Lambda's time. */
  INGEST_SAFETY_MARGIN_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(900)
    .default(DEFAULT_SAFETY_MARGIN_MS / 1000),
  /** `estimatedDocumentCount` per collection in the summary: metadata on MongoDB, a scan on FerretDB. */
  SUMMARY_SOURCE_COUNTS: flag.default(true),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
});

export type FunctionConfig = Readonly<z.infer<typeof FunctionEnvSchema>>;

/** Batch sizing and windows (`INGEST_*`) are parsed by `loadIngestSettings` from the same env. */
export function loadFunctionConfig(env: NodeJS.ProcessEnv = process.env): FunctionConfig {
  return parseEnv(
    FunctionEnvSchema,
    "function configuration",
    env,
    "set by the deployment (infra/functions.ts)",
  );
}

/**
 * Node flags of the worker function (its `NODE_OPTIONS`). Without a cap V8 sizes the old space
 * from the machine and lets garbage pile up long before collecting it: the worker's live set is
 * bounded by row groups, yet its RSS grew to 335 MiB on `variable_logs` under the default heap.
 * With this cap at the same speed, `npm run bench` (which runs its worker child with these
 * flags) measured peaks of about 195 MiB on events and 290 MiB on `variable_logs`. A smaller
 * young generation lowers the latter further but costs CPU, which the function bills, while
 * RSS under the configured memory costs nothing: `--max-semi-space-size=8` gave 199 MiB at
 * 22 % fewer documents per CPU second, 4 gave 193 MiB at 35 % fewer (docs/benchmarks.md).
 */
export const WORKER_NODE_OPTIONS = "--max-old-space-size=128";
