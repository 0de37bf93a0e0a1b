/**
 * The pipeline's one state machine (docs/design.md §6), as Amazon States Language. The deployment
 * (`infra/`) renders it with the real function ARNs and job names; the local runner executes the
 * very same definition with aws-local-stepfunctions, binding each Task state by name to a local
 * handler. So the state names below are a contract: {@link TASK} lists them.
 *
 *   Guard → OldestRunning? ── no ──→ AnotherExecutionRunning (Succeed)
 *     yes ↓
 *   Extract (Parallel) ─┬─ PostgresExtract (Glue job)
 *                       └─ Plan → Ingest (Map over batches: Worker) → Summarize
 *   → Curate (Glue job) → Analytics (Glue job) → ReconcileShards → Reconciles (Map over the
 *     shards: Reconcile) → Outcome (Choice) → Done | Failed
 *
 * Executions never overlap: `Guard` lists the machine's running executions and only the oldest
 * goes on; a later one (a schedule firing while a long run is still busy, a manual start) ends at
 * once, without touching the sources. Two started together both see both, and the older one runs.
 * The whole execution has a deadline (`TimeoutSeconds`), so a hung stage cannot hold the lock
 * for ever.
 *
 * Every stage catches its own failure into the state (`$.<stage>Error`), so the stages after it
 * still run on what did land (curation is exactly-once through the ledger; analytics works on the
 * last good tables; reconcile reports what landed, which matters most after a failure); the final
 * Choice then fails the execution, naming the stages that failed. Nothing is swallowed: the
 * execution's status says it failed and the history says why.
 *
 * `Reconcile` (docs/design.md §7) compares the source with curated per collection, device and day
 * and names every difference. The schedule's run only reports (`repair: false`): its differences
 * raise an alarm, and bringing them in is an operator's call (`{"repair": true}` on the function).
 * A difference does not fail the execution; only the step failing does. The devices are checked
 * in shards at once (pipeline/reconcile/shard.ts, ADR 0025), one function each; `$.reconcile` is
 * the list of their outputs, in shard order.
 */
import { RETRYABLE_ERROR } from "../lambda/errors.js";
import { shardsOf } from "../reconcile/shard.js";

export interface StateMachineTargets {
  readonly planFunctionArn: string;
  readonly workerFunctionArn: string;
  readonly summarizeFunctionArn: string;
  readonly reconcileFunctionArn: string;
  readonly postgresExtractJob: string;
  readonly curateJob: string;
  readonly analyticsJob: string;
}

export interface StateMachineOptions {
  /** Workers running at once (the Map's MaxConcurrency). */
  readonly maxConcurrency: number;
  /** Worker attempts after a retryable failure, with exponential backoff. */
  readonly workerRetries?: number;
  /** Seconds each task may take before it fails with `States.Timeout` ({@link taskTimeouts}). */
  readonly timeouts: TaskTimeouts;
  /**
   * Reconcile's shards (default 1): run at once up to `maxConcurrency`, the load on the source
   * its operator sized for the workers.
   */
  readonly reconcileShards?: number;
}

/** The whole pipeline's options: the stages' and the execution's own deadline. */
export interface PipelineOptions extends StateMachineOptions {
  /** Seconds the whole execution may take. */
  readonly executionTimeoutSeconds: number;
}

/**
 * Every task state carries its own `TimeoutSeconds`. Without one, AWS waits as long as the
 * service call does (a hung Glue run holds the execution until the job's own timeout), and the
 * local runner gives up after 60 s, which a Spark job on a loaded two-core machine exceeds.
 */
export type TaskTimeouts = Readonly<Record<keyof typeof TASK, number>>;

/** What the tasks may take when deployed: each function's or job's own limit, plus a margin. */
export function taskTimeouts(limits: {
  readonly functionSeconds: Readonly<Record<"plan" | "worker" | "summarize" | "reconcile", number>>;
  readonly glueJobMinutes: number;
}): TaskTimeouts {
  // Lambda reports its own timeout as an error within seconds of the limit; Glue may spend
  // minutes starting workers before its job timeout starts counting.
  const fn = (seconds: number) => seconds + 60;
  const glue = limits.glueJobMinutes * 60 + 900;
  return {
    guard: GUARD_TIMEOUT_SECONDS,
    plan: fn(limits.functionSeconds.plan),
    worker: fn(limits.functionSeconds.worker),
    summarize: fn(limits.functionSeconds.summarize),
    reconcile: fn(limits.functionSeconds.reconcile),
    postgresExtract: glue,
    curate: glue,
    analytics: glue,
  };
}

/** Task state names, for local bindings and tests. */
export const TASK = {
  guard: "Guard",
  postgresExtract: "PostgresExtract",
  plan: "Plan",
  worker: "Worker",
  summarize: "Summarize",
  curate: "Curate",
  analytics: "Analytics",
  reconcile: "Reconcile",
} as const;

/**
 * The scheduled reconcile's event (pipeline/lambda/events.ts `ReconcileEventSchema`): incremental
 * after the first run, and reporting only.
 */
export const SCHEDULED_RECONCILE = { mode: "auto", repair: false } as const;

/** The Map of reconcile's shards, and the Pass state that lists them. */
export const RECONCILE_MAP = "Reconciles";
export const RECONCILE_SHARD_LIST = "ReconcileShards";

/** One ListExecutions call. */
export const GUARD_TIMEOUT_SECONDS = 60;

/**
 * The guard's service call: the machine's running executions, newest first (the API's order),
 * at most a page of them; more than a page running at once would already be an incident.
 */
export const GUARD_RESOURCE = "arn:aws:states:::aws-sdk:sfn:listExecutions";
export const GUARD_PAGE = 100;

/** Lambda's own transient failures, retried on every function task. */
const LAMBDA_TRANSIENT = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
];

type State = Record<string, unknown>;

const lambdaRetry = (maxAttempts: number) => [
  {
    ErrorEquals: [RETRYABLE_ERROR, ...LAMBDA_TRANSIENT],
    IntervalSeconds: 2,
    MaxAttempts: maxAttempts,
    BackoffRate: 2,
    JitterStrategy: "FULL",
  },
];

/**
 * A Glue job run to completion. Its run id and final state land in `$.<slot>`; a failure is
 * caught into `$.<slot>Error` (a sibling, since a path into a missing object cannot be written).
 */
function glueJob(jobName: string, slot: string, next: string, timeoutSeconds: number): State {
  return {
    Type: "Task",
    Resource: "arn:aws:states:::glue:startJobRun.sync",
    Parameters: { JobName: jobName },
    TimeoutSeconds: timeoutSeconds,
    ResultSelector: { "state.$": "$.JobRunState", "jobRunId.$": "$.Id" },
    ResultPath: `$.${slot}`,
    Retry: GLUE_RETRY,
    Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: `$.${slot}Error`, Next: next }],
    Next: next,
  };
}

/** Glue refuses a run while another of the same job is running or the account is throttled. */
const GLUE_RETRY = [
  {
    ErrorEquals: ["Glue.ConcurrentRunsExceededException", "Glue.ThrottlingException"],
    IntervalSeconds: 30,
    MaxAttempts: 3,
    BackoffRate: 2,
  },
];

/**
 * MongoDB → raw on its own: plan, the Map of workers, the summary. A branch of the full machine,
 * and a machine by itself for the local `ingest` command.
 */
export function ingestionBranch(
  t: Pick<StateMachineTargets, "planFunctionArn" | "workerFunctionArn" | "summarizeFunctionArn">,
  o: StateMachineOptions,
): Record<string, unknown> {
  return {
    StartAt: TASK.plan,
    States: {
      [TASK.plan]: {
        Type: "Task",
        // The execution input: `{}` from the schedule (mode auto), or e.g. {"mode": "bulk"}.
        Resource: t.planFunctionArn,
        TimeoutSeconds: o.timeouts.plan,
        Retry: lambdaRetry(3),
        Next: "Ingest",
      },
      Ingest: {
        Type: "Map",
        ItemsPath: "$.items",
        MaxConcurrency: o.maxConcurrency,
        ItemProcessor: {
          ProcessorConfig: { Mode: "INLINE" },
          StartAt: TASK.worker,
          States: {
            [TASK.worker]: {
              Type: "Task",
              Resource: t.workerFunctionArn,
              TimeoutSeconds: o.timeouts.worker,
              Retry: lambdaRetry(o.workerRetries ?? 2),
              // One failed batch never fails the others: the item keeps its ref and its error.
              Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "BatchFailed" }],
              End: true,
            },
            BatchFailed: { Type: "Pass", End: true },
          },
        },
        ResultSelector: { "results.$": "$" },
        ResultPath: "$.ingest",
        Next: TASK.summarize,
      },
      [TASK.summarize]: {
        Type: "Task",
        Resource: t.summarizeFunctionArn,
        TimeoutSeconds: o.timeouts.summarize,
        Parameters: { "planId.$": "$.planId", "results.$": "$.ingest.results" },
        Retry: lambdaRetry(3),
        End: true,
      },
    },
  };
}

/** The Extract stage: PostgreSQL extraction beside MongoDB ingestion. */
function extractState(t: StateMachineTargets, o: StateMachineOptions): State {
  const postgresBranch = {
    StartAt: TASK.postgresExtract,
    States: {
      [TASK.postgresExtract]: {
        Type: "Task",
        Resource: "arn:aws:states:::glue:startJobRun.sync",
        Parameters: { JobName: t.postgresExtractJob },
        TimeoutSeconds: o.timeouts.postgresExtract,
        ResultSelector: { "state.$": "$.JobRunState", "jobRunId.$": "$.Id" },
        Retry: GLUE_RETRY,
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "PostgresFailed" }],
        End: true,
      },
      PostgresFailed: { Type: "Pass", Parameters: { "error.$": "$.error" }, End: true },
    },
  };
  return {
    Type: "Parallel",
    Branches: [postgresBranch, ingestionBranch(t, o)],
    ResultSelector: { "postgres.$": "$[0]", "ingestion.$": "$[1]" },
  };
}

/** A stage the `Outcome` state found failed, with what its error said. */
export interface FailedStage {
  readonly stage: string;
  readonly error: string;
}

/** Step Functions' caught-error shape: `{Error, Cause}`, the cause often JSON or a long trace. */
function describeCaught(value: unknown): string {
  const e = value as { Error?: unknown; Cause?: unknown } | null;
  const cause = typeof e?.Cause === "string" ? e.Cause.split("\n")[0]?.slice(0, 500) : "";
  return `${String(e?.Error ?? "error")}${cause ? `: ${cause}` : ""}`;
}

/**
 * The stages `Outcome` fails an execution for, read from the state it saw (the `Failed` state's
 * input): the same fields, so a person sees which stage failed and why, not just that one did.
 */
export function failedStages(state: unknown): FailedStage[] {
  const s = (state ?? {}) as Record<string, unknown>;
  const out: FailedStage[] = [];
  if (s.extractError) out.push({ stage: "extract", error: describeCaught(s.extractError) });
  const postgres = s.postgres as { error?: unknown } | undefined;
  if (postgres?.error) out.push({ stage: "postgres_extract", error: describeCaught(postgres.error) });
  const ingestion = s.ingestion as
    | { failedBatches?: number; failures?: { collection?: string; batch?: number; error?: unknown }[] }
    | undefined;
  if ((ingestion?.failedBatches ?? 0) > 0) {
    const first = ingestion?.failures?.[0];
    const example = first ? ` (first: ${first.collection} batch ${first.batch}: ${String(first.error)})` : "";
    out.push({ stage: "ingestion", error: `${ingestion?.failedBatches} failed batches${example}` });
  }
  if (s.curateError) out.push({ stage: "mongodb_curate", error: describeCaught(s.curateError) });
  if (s.analyticsError) out.push({ stage: "analytics", error: describeCaught(s.analyticsError) });
  if (s.reconcileError) out.push({ stage: "reconcile", error: describeCaught(s.reconcileError) });
  return out;
}

export function buildStateMachine(t: StateMachineTargets, o: PipelineOptions): Record<string, unknown> {
  return {
    Comment:
      "oven lakehouse: PostgreSQL and MongoDB into the lake, then curated and analytics layers, then reconciled with the source",
    StartAt: TASK.guard,
    TimeoutSeconds: o.executionTimeoutSeconds,
    States: {
      [TASK.guard]: {
        Type: "Task",
        Resource: GUARD_RESOURCE,
        Parameters: {
          "StateMachineArn.$": "$$.StateMachine.Id",
          StatusFilter: "RUNNING",
          MaxResults: GUARD_PAGE,
        },
        TimeoutSeconds: o.timeouts.guard,
        // Newest first, so the last one listed is the oldest running execution.
        ResultSelector: {
          "oldest.$":
            "States.ArrayGetItem($.Executions[*].ExecutionArn, States.MathAdd(States.ArrayLength($.Executions), -1))",
        },
        ResultPath: "$.guard",
        Retry: [
          {
            ErrorEquals: ["Sfn.SfnException", "Sfn.ThrottlingException", "States.TaskFailed"],
            IntervalSeconds: 2,
            MaxAttempts: 3,
            BackoffRate: 2,
          },
        ],
        Next: "OldestRunning",
      },
      OldestRunning: {
        Type: "Choice",
        Choices: [{ Variable: "$.guard.oldest", StringEqualsPath: "$$.Execution.Id", Next: "Extract" }],
        Default: "AnotherExecutionRunning",
      },
      AnotherExecutionRunning: {
        Type: "Succeed",
        Comment: "an older execution is still running: this one leaves the sources alone",
      },
      Extract: {
        ...extractState(t, o),
        // A failure the branches did not catch themselves (the plan or the summary failing):
        // curation still runs on what the ledger holds.
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.extractError", Next: TASK.curate }],
        Next: TASK.curate,
      },
      [TASK.curate]: glueJob(t.curateJob, "curate", TASK.analytics, o.timeouts.curate),
      [TASK.analytics]: glueJob(t.analyticsJob, "analytics", RECONCILE_SHARD_LIST, o.timeouts.analytics),
      [RECONCILE_SHARD_LIST]: {
        Type: "Pass",
        Result: shardsOf(o.reconcileShards ?? 1),
        ResultPath: "$.reconcileShards",
        Next: RECONCILE_MAP,
      },
      [RECONCILE_MAP]: {
        Type: "Map",
        ItemsPath: "$.reconcileShards",
        MaxConcurrency: Math.min(o.reconcileShards ?? 1, o.maxConcurrency),
        // Its own event, not the execution's state: the execution input's `mode` is the plan's.
        ItemSelector: { ...SCHEDULED_RECONCILE, "shard.$": "$$.Map.Item.Value" },
        ItemProcessor: {
          ProcessorConfig: { Mode: "INLINE" },
          StartAt: TASK.reconcile,
          States: {
            [TASK.reconcile]: {
              Type: "Task",
              Resource: t.reconcileFunctionArn,
              TimeoutSeconds: o.timeouts.reconcile,
              Retry: lambdaRetry(3),
              End: true,
            },
          },
        },
        ResultPath: "$.reconcile",
        // A shard that fails fails the stage; the other shards' runs are in the support database.
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.reconcileError", Next: "Outcome" }],
        Next: "Outcome",
      },
      Outcome: {
        Type: "Choice",
        // In order: after an uncaught Extract failure `$.ingestion` does not exist.
        Choices: [
          { Variable: "$.extractError", IsPresent: true, Next: "Failed" },
          { Variable: "$.postgres.error", IsPresent: true, Next: "Failed" },
          { Variable: "$.ingestion.failedBatches", NumericGreaterThan: 0, Next: "Failed" },
          { Variable: "$.curateError", IsPresent: true, Next: "Failed" },
          { Variable: "$.analyticsError", IsPresent: true, Next: "Failed" },
          { Variable: "$.reconcileError", IsPresent: true, Next: "Failed" },
        ],
        Default: "Done",
      },
      Done: { Type: "Succeed" },
      Failed: {
        Type: "Fail",
        Error: "PipelineFailed",
        Cause:
          "a stage failed: see extractError, postgres.error, ingestion.failedBatches, curateError, analyticsError and reconcileError",
      },
    },
  };
}
