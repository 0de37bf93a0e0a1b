/**
 * Local executions of the deployed state machine: the ingestion branch alone (`lakehouse ingest`)
 * or the whole pipeline (`npm start`), with the tasks bound to local functions and jobs.
 */
import type { Logger } from "pino";
import type { ReconcileOutput, SummaryOutput } from "../../pipeline/lambda/events.js";
import {
  buildStateMachine,
  ingestionBranch,
  type StateMachineTargets,
  TASK,
  type TaskTimeouts,
} from "../../pipeline/orchestration/state-machine.js";
import { WHOLE } from "../../pipeline/reconcile/shard.js";
import type { LocalConfig } from "../config.js";
import { type LocalFunctionHooks, localFunctions } from "./local-functions.js";
import { registerLocalExecution } from "./local-guard.js";
import {
  executeLocally,
  type LocalContext,
  type LocalExecution,
  type StateEvent,
  type TaskBinding,
} from "./local-machine.js";

/** Stand-in ARNs and names: locally the Task states are bound by state name, never by ARN. */
export const LOCAL_TARGETS: StateMachineTargets = {
  planFunctionArn: "arn:aws:lambda:eu-west-1:000000000000:function:lakehouse-local-plan",
  workerFunctionArn: "arn:aws:lambda:eu-west-1:000000000000:function:lakehouse-local-worker",
  summarizeFunctionArn: "arn:aws:lambda:eu-west-1:000000000000:function:lakehouse-local-summarize",
  reconcileFunctionArn: "arn:aws:lambda:eu-west-1:000000000000:function:lakehouse-local-reconcile",
  postgresExtractJob: "lakehouse-local-postgres-extract",
  curateJob: "lakehouse-local-mongodb-curate",
  analyticsJob: "lakehouse-local-analytics",
};

/** A whole local execution's deadline: every stage's hour, one after the other. */
export const LOCAL_EXECUTION_TIMEOUT_SECONDS = 6 * 3600;

/** Where running local executions register (the Guard state's ListExecutions). */
export const LOCAL_EXECUTIONS_DIR = ".local/run/executions";

/** Workers at once: two cores here, and the workers share one event loop. */
export const LOCAL_MAP_CONCURRENCY = 2;

/**
 * A local worker has no time budget (it drains the backlog) and a Spark job may wait for the
 * machine's cores: an hour each, so only a hung task times out.
 */
export const LOCAL_TASK_TIMEOUTS: TaskTimeouts = {
  guard: 60,
  plan: 3600,
  worker: 3600,
  summarize: 3600,
  reconcile: 3600,
  postgresExtract: 3600,
  curate: 3600,
  analytics: 3600,
};

/** The functions' hooks, and each state's progress (to print every stage as it starts and ends). */
export interface LocalRunHooks extends LocalFunctionHooks {
  onState?(event: StateEvent): void;
}

export interface LocalIngestionOptions {
  readonly rawDir: string;
  readonly metricsFile: string;
  readonly mode?: "auto" | "bulk" | "operations";
  readonly collections?: readonly string[];
  readonly mapConcurrency?: number;
  readonly budgetMs?: number;
  readonly sourceCounts?: boolean;
  readonly env?: Readonly<Record<string, string>>;
  readonly secretPrefix?: string;
  /** Milliseconds between retries by state name, instead of the definition's backoff. */
  readonly retryIntervals?: Readonly<Record<string, number>>;
  /** Reconcile's shards, checked one function each (pipeline/reconcile/shard.ts; default 1). */
  readonly reconcileShards?: number;
  readonly hooks?: LocalRunHooks;
  readonly log: Logger;
}

export interface LocalRunReport {
  readonly execution: LocalExecution;
  /** The ingestion summary, when the summarize step ran. */
  readonly summary: SummaryOutput | null;
  /**
   * What reconcile found, when it ran (the whole pipeline's last stage, docs/design.md §7): its
   * shards' outputs added up ({@link totalOfShards}).
   */
  readonly reconcile: ReconcileOutput | null;
  /** Each shard's output, in the order they finished. */
  readonly reconcileShards: readonly ReconcileOutput[];
}

/**
 * The shards of one reconcile stage as one output: counts added, `complete` when every shard's
 * pass is, `full` when any shard's is; the shard is the whole fleet (together they cover every
 * device), the ids are the first shard's.
 */
export function totalOfShards(outputs: readonly ReconcileOutput[]): ReconcileOutput | null {
  const [first] = [...outputs].sort((a, b) => a.shard.index - b.shard.index);
  if (!first) return null;
  const sum = (pick: (o: ReconcileOutput) => number) => outputs.reduce((n, o) => n + pick(o), 0);
  const byCause: Record<string, number> = {};
  for (const o of outputs)
    for (const [cause, n] of Object.entries(o.byCause)) byCause[cause] = (byCause[cause] ?? 0) + n;
  return {
    ...first,
    shard: WHOLE,
    mode: outputs.some((o) => o.mode === "full") ? "full" : "incremental",
    complete: outputs.every((o) => o.complete),
    daysChecked: sum((o) => o.daysChecked),
    differences: sum((o) => o.differences),
    quarantined: sum((o) => o.quarantined),
    inFlight: sum((o) => o.inFlight),
    byCause,
    windowsReplayed: sum((o) => o.windowsReplayed),
  };
}

async function run(
  config: LocalConfig,
  options: LocalIngestionOptions,
  definition: Record<string, unknown>,
  extra: Readonly<Record<string, TaskBinding>>,
  context?: LocalContext,
): Promise<LocalRunReport> {
  let summary: SummaryOutput | null = null;
  const reconciles: ReconcileOutput[] = [];
  const functions = await localFunctions(config, {
    rawDir: options.rawDir,
    metricsFile: options.metricsFile,
    budgetMs: options.budgetMs,
    sourceCounts: options.sourceCounts,
    env: options.env,
    secretPrefix: options.secretPrefix,
    log: options.log,
    hooks: {
      ...options.hooks,
      onSummary: (s) => {
        summary = s;
        options.hooks?.onSummary?.(s);
      },
      onReconcile: (r) => {
        reconciles.push(r);
        options.hooks?.onReconcile?.(r);
      },
    },
  });
  try {
    const input = {
      mode: options.mode ?? "auto",
      ...(options.collections && { collections: options.collections }),
    };
    const execution = await executeLocally(
      definition,
      input,
      { ...functions.bindings, ...extra },
      options.retryIntervals,
      context,
      options.hooks?.onState?.bind(options.hooks),
    );
    return { execution, summary, reconcile: totalOfShards(reconciles), reconcileShards: reconciles };
  } finally {
    await functions.close();
  }
}

export function runLocalIngestion(
  config: LocalConfig,
  options: LocalIngestionOptions,
): Promise<LocalRunReport> {
  const definition = ingestionBranch(LOCAL_TARGETS, {
    maxConcurrency: options.mapConcurrency ?? LOCAL_MAP_CONCURRENCY,
    timeouts: LOCAL_TASK_TIMEOUTS,
  });
  return run(config, options, definition, {});
}

/**
 * The whole state machine; `jobs` binds the Glue task states (PostgresExtract, Curate, Analytics),
 * the local functions the others (Reconcile last).
 * The execution registers in `executionsDir` for its duration, so a concurrent one skips.
 */
export async function runLocalPipeline(
  config: LocalConfig,
  options: LocalIngestionOptions,
  jobs: Readonly<Record<string, TaskBinding>>,
  executionsDir: string = LOCAL_EXECUTIONS_DIR,
): Promise<LocalRunReport> {
  const definition = buildStateMachine(LOCAL_TARGETS, {
    maxConcurrency: options.mapConcurrency ?? LOCAL_MAP_CONCURRENCY,
    timeouts: LOCAL_TASK_TIMEOUTS,
    executionTimeoutSeconds: LOCAL_EXECUTION_TIMEOUT_SECONDS,
    reconcileShards: options.reconcileShards,
  });
  const slot = registerLocalExecution(executionsDir);
  try {
    return await run(config, options, definition, { ...jobs, [TASK.guard]: slot.guard }, slot.context);
  } finally {
    slot.release();
  }
}
