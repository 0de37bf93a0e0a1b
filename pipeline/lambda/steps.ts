/**
 * The three ingestion steps the state machine calls: plan, worker (one per Map item) and
 * summarize. Each takes a {@link Runtime} and a validated event, so the same code runs in Lambda
 * and under the local runner; `handler.ts` adds the Lambda edge (validation, logs, metrics,
 * error names). A step wires the support database's adapters to the ingest code and reports what
 * it did; the work itself is in `pipeline/ingest`.
 */
import type { MetricsLogger } from "aws-embedded-metrics";
import type { Logger } from "pino";
import type { z } from "zod";
import type { Budget } from "../ingest/budget.js";
import { quarantineOrphans } from "../ingest/orphans.js";
import { planPass, readDevices } from "../ingest/plan-pass.js";
import { runWorker, WorkerDevicesFailedError, type WorkerResult } from "../ingest/worker.js";
import { isDifference } from "../reconcile/causes.js";
import { type ReconcileDeps, reconcile } from "../reconcile/reconcile.js";
import { postgresReconcileStore } from "../reconcile/store.js";
import { collection, collections } from "../schema/registry.js";
import { postgresIngestState } from "../support/ingest-state.js";
import { postgresPlanStore } from "../support/plan-store.js";
import { ingestionProgress } from "../support/progress.js";
import {
  type FailedBatch,
  PlanEventSchema,
  type PlanOutput,
  ReconcileEventSchema,
  type ReconcileOutput,
  SummarizeEventSchema,
  type SummaryOutput,
  WorkerEventSchema,
  type WorkerOutput,
} from "./events.js";
import { METRIC, Unit } from "./metrics.js";
import type { Runtime } from "./runtime.js";

export interface StepContext {
  readonly requestId: string;
  readonly budget: Budget;
  readonly log: Logger;
  readonly metrics: MetricsLogger;
}

export interface Step<S extends z.ZodType, O> {
  readonly name: "plan" | "worker" | "summarize" | "reconcile";
  readonly schema: S;
  run(rt: Runtime, event: z.infer<S>, ctx: StepContext): Promise<O>;
}

/** The ingestion state and the plan store on the support database's pool (ADR 0008). */
async function supportAdapters(rt: Runtime) {
  const pool = await rt.supportPool();
  return { state: postgresIngestState(pool), plans: postgresPlanStore(pool) };
}

export const planStep: Step<typeof PlanEventSchema, PlanOutput> = {
  name: "plan",
  schema: PlanEventSchema,
  async run(rt, event, { log, metrics }) {
    const { state, plans } = await supportAdapters(rt);
    const { planId, mode, devices, refused, batches, items } = await planPass(
      { ddc: await rt.ddc(), state, plans, log },
      { mode: event.mode, workers: rt.settings.workers, collections: event.collections },
    );
    const perCollection = new Map<string, number>();
    for (const b of batches) perCollection.set(b.collection, (perCollection.get(b.collection) ?? 0) + 1);
    metrics.setProperty("PlanId", planId);
    // One EMF record per collection: a record's metrics apply to all of its dimension sets.
    for (const [name, count] of perCollection) {
      metrics.setDimensions({ Collection: name });
      metrics.putMetric(METRIC.batchesPlanned, count, Unit.Count);
      await metrics.flush();
    }
    log.info(
      { planId, mode, devices: devices.length, refused: refused.length, batches: batches.length },
      "ingestion planned",
    );
    return { planId, mode, devices: devices.length, items };
  },
};

export const workerStep: Step<typeof WorkerEventSchema, WorkerOutput> = {
  name: "worker",
  schema: WorkerEventSchema,
  async run(rt, event, { requestId, budget, log, metrics }) {
    const { state, plans } = await supportAdapters(rt);
    const devices = await plans.load(event);
    const source = await rt.source();
    const publish = (r: WorkerResult) => {
      metrics.setDimensions({ Collection: event.collection });
      metrics.putMetric(METRIC.documentsRead, r.documentsRead, Unit.Count);
      metrics.putMetric(METRIC.documentsUploaded, r.documentsRead - r.documentsQuarantined, Unit.Count);
      metrics.putMetric(METRIC.documentsQuarantined, r.documentsQuarantined, Unit.Count);
      metrics.putMetric(METRIC.bytesUploaded, r.bytesUploaded, Unit.Bytes);
      metrics.putMetric(METRIC.windows, r.windows, Unit.Count);
      metrics.putMetric(METRIC.devicesPending, r.devicesPending, Unit.Count);
      metrics.putMetric(METRIC.workerErrors, r.errors.length, Unit.Count);
      metrics.setProperty("PlanId", event.planId);
      metrics.setProperty("Batch", event.batch);
    };
    let result: WorkerResult;
    try {
      result = await runWorker(
        { runId: requestId, planId: event.planId, entry: collection(event.collection), devices },
        { source, store: rt.store(), state, log },
        {
          windowMs: rt.settings.windowMs,
          concurrency: rt.settings.deviceConcurrency,
          pack: rt.settings.pack,
          budget,
          safetyMarginMs: rt.config.INGEST_SAFETY_MARGIN_SECONDS * 1000,
        },
      );
    } catch (error) {
      if (error instanceof WorkerDevicesFailedError) publish(error.result);
      throw error;
    }
    publish(result);
    log.info({ ...event, ...countersOf(result) }, "batch done");
    return { ...event, ...countersOf(result) };
  },
};

function countersOf(r: WorkerResult) {
  return {
    complete: r.complete,
    devicesToQuery: r.devicesToQuery,
    devicesProcessed: r.devicesProcessed,
    devicesPending: r.devicesPending,
    windows: r.windows,
    documentsRead: r.documentsRead,
    rowsWritten: r.rowsWritten,
    documentsQuarantined: r.documentsQuarantined,
    bytesUploaded: r.bytesUploaded,
  };
}

/** Failures named in the summary's output; the rest are counted (the history keeps them all). */
const FAILURES_SHOWN = 10;

export const summarizeStep: Step<typeof SummarizeEventSchema, SummaryOutput> = {
  name: "summarize",
  schema: SummarizeEventSchema,
  async run(rt, event, { requestId, log, metrics }) {
    const { state, plans } = await supportAdapters(rt);
    const ddc = await rt.ddc();
    const failed = event.results.filter((r): r is FailedBatch => "error" in r);
    const done = event.results.filter((r): r is WorkerOutput => !("error" in r));
    const order = collections.map((c) => c.name);
    const names = order.filter((n) => event.results.some((r) => r.collection === n));
    // Read once: the sweep takes every number that is not a ddc device for an orphan.
    const ddcDevices = await readDevices(ddc);
    const orphans = await quarantineOrphans(
      { source: await rt.source(), store: rt.store(), state, log },
      {
        runId: requestId,
        planId: event.planId,
        collections: names,
        devices: ddcDevices.map((d) => d.idDevice),
      },
    );
    const sourceCounts = rt.config.SUMMARY_SOURCE_COUNTS ? await countSources(rt, names) : undefined;
    // A report of sums and groupings: the Prisma client's simplest use (ADR 0008).
    const progress = await ingestionProgress(await rt.support(), {
      planId: event.planId,
      collections: names,
      devices: ddcDevices,
      sourceCounts,
    });
    const status = failed.length ? "failed" : "succeeded";
    await plans.setStatus(event.planId, status);

    const summary: SummaryOutput = {
      planId: event.planId,
      status,
      failedBatches: failed.length,
      devicesPending: done.reduce((a, r) => a + r.devicesPending, 0),
      collections: progress.map((p) => {
        const mine = event.results.filter((r) => r.collection === p.collection);
        return {
          collection: p.collection,
          batches: mine.length,
          failedBatches: mine.filter((r) => "error" in r).length,
          devicesPending: done
            .filter((r) => r.collection === p.collection)
            .reduce((a, r) => a + r.devicesPending, 0),
          documentsUploaded: p.run.documentsUploaded,
          documentsQuarantined: p.run.documentsQuarantined,
          orphansQuarantined: orphans.get(p.collection) ?? 0,
          bytesUploaded: p.run.bytesUploaded,
          devicesDone: p.devicesDone,
          devicesWithData: p.devicesWithData,
          documentsUploadedTotal: p.documentsUploadedTotal,
          sourceDocuments: p.sourceDocuments,
          topDrift: p.topDrift,
        };
      }),
      failures: failed.slice(0, FAILURES_SHOWN).map((f) => ({
        collection: f.collection,
        batch: f.batch,
        error: `${f.error.Error}: ${(f.error.Cause ?? "").slice(0, 500)}`,
      })),
    };
    metrics.setProperty("PlanId", event.planId);
    for (const c of summary.collections) {
      metrics.setDimensions({ Collection: c.collection });
      metrics.putMetric(METRIC.failedBatches, c.failedBatches, Unit.Count);
      if (c.devicesWithData)
        metrics.putMetric(METRIC.devicesDoneRatio, c.devicesDone / c.devicesWithData, Unit.None);
      await metrics.flush();
    }
    log.info({ planId: event.planId, status, failedBatches: failed.length }, "ingestion summarized");
    return summary;
  },
};

async function countSources(rt: Runtime, names: readonly string[]): Promise<Map<string, number>> {
  const db = await rt.source();
  const counts = new Map<string, number>();
  // One at a time: on FerretDB each count is a scan, and they would only contend.
  for (const name of names) counts.set(name, await db.collection(name).estimatedDocumentCount());
  return counts;
}

/** What reconcile works with, from a runtime's connections (the function's, or a local run's). */
export async function reconcileDeps(rt: Runtime, log: Logger): Promise<ReconcileDeps> {
  const pool = await rt.supportPool();
  return {
    source: await rt.source(),
    ddc: await rt.ddc(),
    store: postgresReconcileStore(pool),
    state: postgresIngestState(pool),
    objects: rt.store(),
    log,
  };
}

/**
 * The last stage: reconcile the source with curated and quarantine (pipeline/reconcile). Findings
 * go to the support database (`reconcile_difference`); the output and the metrics carry the
 * counts. Differences do not fail the step (the data that landed is good): they raise the
 * `ReconcileDifferences` alarm, whose description says what to do.
 */
export const reconcileStep: Step<typeof ReconcileEventSchema, ReconcileOutput> = {
  name: "reconcile",
  schema: ReconcileEventSchema,
  async run(rt, event, { requestId, budget, log, metrics }) {
    const report = await reconcile(await reconcileDeps(rt, log), {
      runId: requestId,
      mode: event.mode,
      repair: event.repair,
      shard: event.shard,
      budget,
    });
    metrics.setProperty("ReconcileId", report.reconcileId);
    const perCollection = new Map<string, number>();
    for (const f of report.findings)
      if (isDifference(f)) perCollection.set(f.collection, (perCollection.get(f.collection) ?? 0) + 1);
    for (const [name, count] of perCollection) {
      metrics.setDimensions({ Collection: name });
      metrics.putMetric(METRIC.reconcileDifferences, count, Unit.Count);
      await metrics.flush();
    }
    // The alarm's record: the whole run, no dimension (0 included, so the alarm sees a clean run).
    metrics.setDimensions({});
    metrics.putMetric(METRIC.reconcileDifferences, report.differences, Unit.Count);
    metrics.putMetric(METRIC.reconcileDaysChecked, report.daysChecked, Unit.Count);
    const { findings, documentsQuarantinedByRepair, queriesRun, ...output } = report;
    log[report.differences ? "warn" : "info"](
      {
        ...output,
        documentsQuarantinedByRepair,
        queriesRun,
        // The first differences, for the log reader; all of them are in the support database.
        first: findings.filter(isDifference).slice(0, FAILURES_SHOWN),
      },
      "reconciled",
    );
    return output;
  },
};
