/**
 * The local stand-ins for the deployed tasks (docs/design.md §7): the plan, worker, summarize and
 * reconcile steps behind the very handler wrapper Lambda uses, with connections read from the
 * local deployment's secrets in moto (local-deployment.ts); and the Glue jobs as local Spark runs. Hooks let the CLI draw progress.
 */
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import type { Logger } from "pino";
import type {
  PlanOutput,
  ReconcileOutput,
  SummaryOutput,
  WorkerEvent,
  WorkerOutput,
} from "../../pipeline/lambda/events.js";
import { defineHandler, type InvocationContext } from "../../pipeline/lambda/handler.js";
import { emfLines } from "../../pipeline/lambda/metrics.js";
import { openRuntime, type Runtime } from "../../pipeline/lambda/runtime.js";
import { planStep, reconcileStep, summarizeStep, workerStep } from "../../pipeline/lambda/steps.js";
import { TASK } from "../../pipeline/orchestration/state-machine.js";
import type { LocalConfig } from "../config.js";
import { localSecretNames, provisionLocalDeployment } from "./local-deployment.js";
import type { JSONValue, TaskBinding } from "./local-machine.js";

export interface LocalFunctionHooks {
  onPlan?(plan: PlanOutput): void;
  onWorkerDone?(event: WorkerEvent, output: WorkerOutput): void;
  onWorkerFailed?(event: WorkerEvent, error: Error): void;
  onSummary?(summary: SummaryOutput): void;
  onReconcile?(reconcile: ReconcileOutput): void;
}

export interface LocalFunctionOptions {
  readonly rawDir: string;
  /** EMF lines go here (stdout is the CLI's). */
  readonly metricsFile: string;
  /** A worker's time budget; unlimited when unset (a local run drains the backlog). */
  readonly budgetMs?: number;
  /** The summary's `estimatedDocumentCount`s (a scan per collection on FerretDB). */
  readonly sourceCounts?: boolean;
  readonly log: Logger;
  readonly hooks?: LocalFunctionHooks;
  /** Secret names' prefix; tests use their own so parallel runs do not share secrets. */
  readonly secretPrefix?: string;
  /** Extra function environment (INGEST_* settings, a safety margin for a budget test). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface LocalFunctions {
  readonly bindings: Record<string, TaskBinding>;
  readonly runtime: Runtime;
  close(): Promise<void>;
}

export async function localFunctions(
  config: LocalConfig,
  options: LocalFunctionOptions,
): Promise<LocalFunctions> {
  // The functions read the secrets the local deployment keeps: the snapshot's, or production's
  // after a cutover.
  await provisionLocalDeployment(config, options.secretPrefix);
  const secrets = localSecretNames(options.secretPrefix);
  await mkdir(dirname(options.metricsFile), { recursive: true });
  const metricsOut = createWriteStream(options.metricsFile, { flags: "a" });
  const runtime = openRuntime(
    {
      ...process.env,
      DDC_SECRET_ID: secrets.ddc,
      MONGODB_SECRET_ID: secrets.mongodb,
      SUPPORT_SECRET_ID: secrets.support,
      RAW_LAKE_URL: pathToFileURL(options.rawDir).href,
      SUMMARY_SOURCE_COUNTS: String(options.sourceCounts ?? true),
      ...(options.budgetMs === undefined ? { INGEST_SAFETY_MARGIN_SECONDS: "0" } : {}),
      ...options.env,
    },
    options.log,
  );
  const deps = {
    runtime: () => runtime,
    metrics: emfLines((line) => metricsOut.write(`${line}\n`)),
    log: options.log,
  };
  const plan = defineHandler(planStep, deps);
  const worker = defineHandler(workerStep, deps);
  const summarize = defineHandler(summarizeStep, deps);
  const reconcile = defineHandler(reconcileStep, deps);
  let invocations = 0;
  const context = (): InvocationContext => {
    const deadline =
      options.budgetMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.budgetMs;
    return {
      awsRequestId: `local-${Date.now()}-${++invocations}`,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
  };
  const hooks = options.hooks ?? {};

  const bindings: Record<string, TaskBinding> = {
    [TASK.plan]: async (input: JSONValue) => {
      const out = await plan(input, context());
      hooks.onPlan?.(out);
      return out;
    },
    [TASK.worker]: async (input: JSONValue) => {
      try {
        const out = await worker(input, context());
        hooks.onWorkerDone?.(input as WorkerEvent, out);
        return out;
      } catch (error) {
        hooks.onWorkerFailed?.(input as WorkerEvent, error as Error);
        throw error;
      }
    },
    [TASK.summarize]: async (input: JSONValue) => {
      const out = await summarize(input, context());
      hooks.onSummary?.(out);
      return out;
    },
    [TASK.reconcile]: async (input: JSONValue) => {
      const out = await reconcile(input, context());
      hooks.onReconcile?.(out);
      return out;
    },
  };
  return {
    bindings,
    runtime,
    async close() {
      await runtime.close();
      await new Promise((done) => metricsOut.end(done));
    },
  };
}
