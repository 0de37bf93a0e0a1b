/**
 * Where plans are kept between the plan step and the workers (a port): Step Functions' Map items
 * carry only {@link BatchRef}s, because a bulk plan's device lists exceed the 256 KiB state limit.
 * Implemented in SQL over node-postgres by `pipeline/support/plan-store.ts`.
 */
import { PipelineError } from "../errors.js";
import type { IngestMode } from "./batches.js";
import type { PlannedBatch } from "./plan.js";
import type { DeviceTarget } from "./worker.js";

/** One Map item: all a worker is told. */
export interface BatchRef {
  readonly planId: string;
  readonly collection: string;
  readonly batch: number;
}

export type PlanOutcome = "running" | "succeeded" | "failed";

export interface PlanStore {
  /** Stores the batches under a new plan id; returns the id. */
  save(mode: IngestMode, batches: readonly PlannedBatch[]): Promise<string>;
  /** The devices of one batch, in the order the planner gave them. */
  load(ref: BatchRef): Promise<readonly DeviceTarget[]>;
  setStatus(planId: string, status: PlanOutcome): Promise<void>;
}

/** A Map item that names no stored batch: a bug or a plan deleted under a running execution. */
export class PlanBatchNotFoundError extends PipelineError {
  readonly retryable = false;
}

/** A plan id that names no stored plan (its status cannot be set): as above. */
export class PlanNotFoundError extends PipelineError {
  readonly retryable = false;
}

export function refsOf(planId: string, batches: readonly PlannedBatch[]): BatchRef[] {
  return batches.map((b) => ({ planId, collection: b.collection, batch: b.batch }));
}
