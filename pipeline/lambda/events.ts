/**
 * The events between the state machine and the functions, as zod schemas: each function checks
 * its input at the boundary, and the types below are what the steps see. Outputs stay small (a
 * Map's results share the 256 KiB state payload limit): device lists live in the stored plan.
 */
import { z } from "zod";
import { type Shard, ShardSchema, WHOLE } from "../reconcile/shard.js";
import { collections } from "../schema/registry.js";

const collectionName = z.enum(collections.map((c) => c.name) as [string, ...string[]], {
  error: "is not a collection of the registry",
});

export const PlanEventSchema = z
  .object({
    /** `auto`: bulk when no bookmark exists yet (the first load), else operations. */
    mode: z.enum(["auto", "bulk", "operations"]).default("auto"),
    /** Restrict the plan to these collections (default: every collection). */
    collections: z.array(collectionName).min(1).optional(),
  })
  .default({ mode: "auto" });
export type PlanEvent = z.infer<typeof PlanEventSchema>;

export const BatchRefSchema = z.object({
  planId: z.uuid(),
  collection: collectionName,
  batch: z.int().min(0),
});

export interface PlanOutput {
  readonly planId: string;
  readonly mode: "bulk" | "operations";
  readonly devices: number;
  readonly items: readonly z.infer<typeof BatchRefSchema>[];
}

export const WorkerEventSchema = BatchRefSchema;
export type WorkerEvent = z.infer<typeof WorkerEventSchema>;

export const WorkerOutputSchema = BatchRefSchema.extend({
  complete: z.boolean(),
  devicesToQuery: z.int(),
  devicesProcessed: z.int(),
  devicesPending: z.int(),
  windows: z.int(),
  documentsRead: z.int(),
  rowsWritten: z.int(),
  documentsQuarantined: z.int(),
  bytesUploaded: z.int(),
});
export type WorkerOutput = z.infer<typeof WorkerOutputSchema>;

/** A Map item whose worker failed after its retries: the Catch keeps the item and adds the error. */
export const FailedBatchSchema = BatchRefSchema.extend({
  error: z.object({ Error: z.string(), Cause: z.string().optional() }),
});
export type FailedBatch = z.infer<typeof FailedBatchSchema>;

export const SummarizeEventSchema = z.object({
  planId: z.uuid(),
  results: z.array(z.union([FailedBatchSchema, WorkerOutputSchema])),
});
export type SummarizeEvent = z.infer<typeof SummarizeEventSchema>;

export interface CollectionSummary {
  readonly collection: string;
  readonly batches: number;
  readonly failedBatches: number;
  readonly devicesPending: number;
  readonly documentsUploaded: number;
  readonly documentsQuarantined: number;
  /** Documents without a usable idDevice found by this summary's sweep (also in documentsQuarantined). */
  readonly orphansQuarantined: number;
  readonly bytesUploaded: number;
  readonly devicesDone: number;
  readonly devicesWithData: number;
  readonly documentsUploadedTotal: number;
  readonly sourceDocuments: number | null;
  /** Fields outside the schema folded into `payload` (all runs), most frequent first. */
  readonly topDrift: readonly { key: string; count: number }[];
}

export interface SummaryOutput {
  readonly planId: string;
  readonly status: "succeeded" | "failed";
  readonly failedBatches: number;
  /** Devices left by workers whose time budget ran out; the next execution continues them. */
  readonly devicesPending: number;
  readonly collections: readonly CollectionSummary[];
  /** First few failures, for the execution's history and the alarm's message. */
  readonly failures: readonly { collection: string; batch: number; error: string }[];
}

export const ReconcileEventSchema = z
  .object({
    /**
     * `auto`: `full` for the first reconcile (no watermark yet), else `incremental` (the days
     * touched since the last one). `full` checks every day of every device again.
     */
    mode: z.enum(["auto", "full", "incremental"]).default("auto"),
    /** Re-extract the windows of the differences a replay can fix (pipeline/reconcile/repair.ts). */
    repair: z.boolean().default(false),
    /**
     * The devices to check: id mod `count` = `index` (pipeline/reconcile/shard.ts). Each shard
     * has passes of its own; the state machine runs every shard of its count at once.
     */
    shard: ShardSchema.default(WHOLE),
  })
  .default({ mode: "auto", repair: false, shard: WHOLE });
export type ReconcileEvent = z.infer<typeof ReconcileEventSchema>;

export interface ReconcileOutput {
  readonly reconcileId: number;
  /** The pass this run belongs to: a pass out of time is continued by the next reconcile. */
  readonly passId: number;
  /** The devices it checked (pipeline/reconcile/shard.ts). */
  readonly shard: Shard;
  readonly mode: "full" | "incremental";
  /** False when the function's time ran out before every device was checked. */
  readonly complete: boolean;
  readonly daysChecked: number;
  /** Findings not accounted for by quarantine or work in flight: 0 when the lake is whole. */
  readonly differences: number;
  /** Documents accounted for, not differences: in quarantine with a reason; not yet in curated. */
  readonly quarantined: number;
  readonly inFlight: number;
  /** Differences by cause (pipeline/reconcile/causes.ts), each a count of findings. */
  readonly byCause: Readonly<Record<string, number>>;
  /** Windows `repair` re-extracted (their objects await the next curate). */
  readonly windowsReplayed: number;
}
