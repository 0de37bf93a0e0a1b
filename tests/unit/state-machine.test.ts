/**
 * The state machine definition: valid ASL (asl-validator), and its routing executed by the
 * aws-local-stepfunctions interpreter with the Task states bound to small functions, so each
 * failure path is exercised: a failed batch, a retried batch, a failed Glue job, a failed plan, a
 * failed reconcile.
 */
import aslValidator from "asl-validator";
import { describe, expect, it } from "vitest";
import { executeLocally, type TaskBinding } from "../../local/orchestration/local-machine.js";
import {
  buildStateMachine,
  failedStages,
  ingestionBranch,
  RECONCILE_MAP,
  TASK,
  taskTimeouts,
} from "../../pipeline/orchestration/state-machine.js";

const targets = {
  planFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:plan",
  workerFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:worker",
  summarizeFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:summarize",
  reconcileFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:reconcile",
  postgresExtractJob: "postgres-extract",
  curateJob: "mongodb-curate",
  analyticsJob: "analytics",
};
const timeouts = taskTimeouts({
  functionSeconds: { plan: 300, worker: 900, summarize: 300, reconcile: 900 },
  glueJobMinutes: 240,
});
const EXECUTION_TIMEOUT = 20 * 3600;
const definition = buildStateMachine(targets, {
  maxConcurrency: 3,
  timeouts,
  executionTimeoutSeconds: EXECUTION_TIMEOUT,
});
const noWait = { [TASK.worker]: 0, [TASK.plan]: 0, [TASK.summarize]: 0, [TASK.reconcile]: 0 };

/** This execution, as the context object names it; the Guard lists it as running. */
const ME = {
  executionArn: "arn:aws:states:eu-west-1:123456789012:execution:pipeline:me",
  stateMachineArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:pipeline",
};
const OLDER = "arn:aws:states:eu-west-1:123456789012:execution:pipeline:older";
const NEWER = "arn:aws:states:eu-west-1:123456789012:execution:pipeline:newer";
/** ListExecutions' answer: newest first. */
const listing =
  (...arns: string[]) =>
  async () => ({ Executions: arns.map((ExecutionArn) => ({ ExecutionArn })) });

const named = (name: string, message = name) => Object.assign(new Error(message), { name });

/** What the reconcile step answers (pipeline/lambda/events.ts `ReconcileOutput`). */
const reconciled = {
  reconcileId: 7,
  mode: "incremental",
  daysChecked: 12,
  differences: 0,
  quarantined: 0,
  inFlight: 0,
  byCause: {},
  windowsReplayed: 0,
};

/** Bindings for a run where everything works; tests replace one to break it. */
function bindings(calls: string[]): Record<string, TaskBinding> {
  return {
    [TASK.guard]: listing(ME.executionArn),
    [TASK.postgresExtract]: async () => {
      calls.push("postgres");
      return { JobRunState: "SUCCEEDED", Id: "jr_pg" };
    },
    [TASK.plan]: async (input) => {
      calls.push(`plan:${input.mode ?? "none"}`);
      return {
        planId: "p1",
        mode: "operations",
        devices: 3,
        items: [0, 1, 2].map((batch) => ({ planId: "p1", collection: "events", batch })),
      };
    },
    [TASK.worker]: async (input) => {
      calls.push(`worker:${input.batch}`);
      return { ...input, complete: true };
    },
    [TASK.summarize]: async (input) => {
      calls.push("summarize");
      const failed = input.results.filter((r: { error?: unknown }) => r.error);
      return { planId: input.planId, failedBatches: failed.length, results: input.results };
    },
    [TASK.curate]: async () => {
      calls.push("curate");
      return { JobRunState: "SUCCEEDED", Id: "jr_cur" };
    },
    [TASK.analytics]: async () => {
      calls.push("analytics");
      return { JobRunState: "SUCCEEDED", Id: "jr_an" };
    },
    [TASK.reconcile]: async (input) => {
      calls.push(`reconcile:${JSON.stringify(input)}`);
      return reconciled;
    },
  };
}

describe("state machine definition", () => {
  it("is valid Amazon States Language, alone and as the ingestion branch", () => {
    const full = aslValidator(definition);
    expect(full.errorsText()).toBe("");
    expect(full.isValid).toBe(true);
    const branch = aslValidator(ingestionBranch(targets, { maxConcurrency: 1, timeouts }));
    expect(branch.isValid).toBe(true);
  });

  it("gives every task state its own timeout: the function's or job's limit plus a margin", () => {
    const tasks: Record<string, number | undefined> = {};
    const visit = (states: Record<string, Record<string, unknown>>) => {
      for (const [name, state] of Object.entries(states)) {
        if (state.Type === "Task") tasks[name] = state.TimeoutSeconds as number | undefined;
        for (const branch of (state.Branches as { States: never }[] | undefined) ?? []) visit(branch.States);
        const processor = state.ItemProcessor as { States: never } | undefined;
        if (processor) visit(processor.States);
      }
    };
    visit(definition.States as never);
    expect(tasks).toEqual({
      [TASK.guard]: 60,
      [TASK.postgresExtract]: 240 * 60 + 900,
      [TASK.plan]: 360,
      [TASK.worker]: 960,
      [TASK.summarize]: 360,
      [TASK.curate]: 240 * 60 + 900,
      [TASK.analytics]: 240 * 60 + 900,
      [TASK.reconcile]: 960,
    });
  });

  it("names the declared functions and jobs as its task resources", () => {
    const text = JSON.stringify(definition);
    for (const arn of [
      targets.planFunctionArn,
      targets.workerFunctionArn,
      targets.summarizeFunctionArn,
      targets.reconcileFunctionArn,
    ])
      expect(text).toContain(`"Resource":"${arn}"`);
    for (const job of [targets.postgresExtractJob, targets.curateJob, targets.analyticsJob])
      expect(text).toContain(`"JobName":"${job}"`);
    expect(text).toContain('"MaxConcurrency":3');
  });
});

describe("one execution at a time", () => {
  it("gives the whole execution a deadline", () => {
    expect(definition.TimeoutSeconds).toBe(EXECUTION_TIMEOUT);
  });

  it.each([
    ["alone", [ME.executionArn]],
    ["with a newer execution started after it", [NEWER, ME.executionArn]],
  ])("runs every stage when it is the oldest running execution (%s)", async (_case, running) => {
    const calls: string[] = [];
    const b = { ...bindings(calls), [TASK.guard]: listing(...running) };
    const run = await executeLocally(definition, {}, b, noWait, ME);
    expect(run.status).toBe("SUCCEEDED");
    expect(calls).toContain("curate");
  });

  it.each([
    ["an older one", [ME.executionArn, OLDER]],
    ["an older and a newer one", [NEWER, ME.executionArn, OLDER]],
  ])("ends at once, touching nothing, when %s is running", async (_case, running) => {
    const calls: string[] = [];
    const b = { ...bindings(calls), [TASK.guard]: listing(...running) };
    const run = await executeLocally(definition, {}, b, noWait, ME);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.finalState?.guard).toEqual({ oldest: OLDER });
    expect(calls).toEqual([]);
  });

  it("asks Step Functions for this machine's running executions", () => {
    const guard = (definition.States as Record<string, Record<string, unknown>>)[TASK.guard];
    expect(guard?.Resource).toBe("arn:aws:states:::aws-sdk:sfn:listExecutions");
    expect(guard?.Parameters).toMatchObject({
      "StateMachineArn.$": "$$.StateMachine.Id",
      StatusFilter: "RUNNING",
    });
  });
});

describe("state machine routing (local interpreter)", () => {
  it("runs extraction in parallel, then curation, analytics and reconcile, and succeeds", async () => {
    const calls: string[] = [];
    const run = await executeLocally(definition, { mode: "bulk" }, bindings(calls), noWait, ME);
    expect(run.status).toBe("SUCCEEDED");
    expect(calls).toEqual(
      expect.arrayContaining(["postgres", "plan:bulk", "worker:0", "worker:1", "worker:2", "summarize"]),
    );
    expect(calls.indexOf("curate")).toBeGreaterThan(calls.indexOf("summarize"));
    expect(calls.indexOf("curate")).toBeGreaterThan(calls.indexOf("postgres"));
    expect(calls.indexOf("analytics")).toBeGreaterThan(calls.indexOf("curate"));
    // Last, and with its own event: the execution's `mode` is the plan's, never reconcile's.
    expect(calls.at(-1)).toBe('reconcile:{"mode":"auto","repair":false,"shard":{"index":0,"count":1}}');
    expect(run.finalState).toMatchObject({
      postgres: { state: "SUCCEEDED", jobRunId: "jr_pg" },
      ingestion: { failedBatches: 0 },
      curate: { state: "SUCCEEDED", jobRunId: "jr_cur" },
      analytics: { state: "SUCCEEDED", jobRunId: "jr_an" },
      reconcile: [reconciled],
    });
  });

  it("succeeds when reconcile finds differences: they raise an alarm, not a failed execution", async () => {
    const b = bindings([]);
    b[TASK.reconcile] = async () => ({ ...reconciled, differences: 3, byCause: { late_arrival: 3 } });
    const run = await executeLocally(definition, {}, b, noWait, ME);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.finalState.reconcile[0].differences).toBe(3);
  });

  const shardedMachine = (reconcileShards: number, maxConcurrency: number) =>
    buildStateMachine(targets, {
      maxConcurrency,
      timeouts,
      executionTimeoutSeconds: EXECUTION_TIMEOUT,
      reconcileShards,
    });

  it("reconciles every shard at once, each with its own event, up to the workers' concurrency", async () => {
    const sharded = shardedMachine(5, 3);
    expect(aslValidator(sharded).isValid).toBe(true);
    const map = (sharded.States as Record<string, Record<string, unknown>>)[RECONCILE_MAP];
    expect(map?.MaxConcurrency).toBe(3);
    const calls: string[] = [];
    const b = bindings(calls);
    let running = 0;
    let most = 0;
    b[TASK.reconcile] = async (input) => {
      running++;
      most = Math.max(most, running);
      await new Promise((done) => setTimeout(done, 20));
      running--;
      calls.push(`reconcile:${input.shard.index}/${input.shard.count}`);
      return { ...reconciled, shard: input.shard, differences: input.shard.index === 4 ? 2 : 0 };
    };
    const run = await executeLocally(sharded, {}, b, noWait, ME);
    expect(run.status).toBe("SUCCEEDED");
    expect(calls.filter((c) => c.startsWith("reconcile:")).sort()).toEqual([
      "reconcile:0/5",
      "reconcile:1/5",
      "reconcile:2/5",
      "reconcile:3/5",
      "reconcile:4/5",
    ]);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(3);
    expect(run.finalState.reconcile.map((r: { differences: number }) => r.differences)).toEqual([
      0, 0, 0, 0, 2,
    ]);
  });

  it("fails the reconcile stage when one shard fails, and names it", async () => {
    const sharded = shardedMachine(3, 2);
    const b = bindings([]);
    b[TASK.reconcile] = async (input) => {
      if (input.shard.index === 1) throw named("TerminalError", "shard 1: source unreachable");
      return { ...reconciled, shard: input.shard };
    };
    const run = await executeLocally(sharded, {}, b, noWait, ME);
    expect(run.status).toBe("FAILED");
    expect(failedStages(run.finalState)).toEqual([
      { stage: "reconcile", error: "TerminalError: shard 1: source unreachable" },
    ]);
  });

  it("keeps the other batches when one fails, still curates, and fails the execution", async () => {
    const calls: string[] = [];
    const b = bindings(calls);
    b[TASK.worker] = async (input) => {
      calls.push(`worker:${input.batch}`);
      if (input.batch === 1) throw named("TerminalError", "DocumentStoreError: disk full");
      return { ...input, complete: true };
    };
    const run = await executeLocally(definition, {}, b, noWait, ME);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("PipelineFailed");
    // A terminal error is not retried: one call per batch.
    expect(calls.filter((c) => c.startsWith("worker:"))).toHaveLength(3);
    expect(calls).toContain("curate");
    const results = run.finalState.ingestion.results;
    expect(results.filter((r: { complete?: boolean }) => r.complete)).toHaveLength(2);
    expect(results.find((r: { batch: number }) => r.batch === 1)).toMatchObject({
      planId: "p1",
      collection: "events",
      batch: 1,
      error: { Error: "TerminalError" },
    });
  });

  it("retries a retryable worker failure and succeeds", async () => {
    const calls: string[] = [];
    const b = bindings(calls);
    let failures = 0;
    b[TASK.worker] = async (input) => {
      if (input.batch === 2 && failures++ < 2) throw named("RetryableError", "MongoNetworkError: reset");
      return { ...input, complete: true };
    };
    const run = await executeLocally(definition, {}, b, noWait, ME);
    expect(run.status).toBe("SUCCEEDED");
    expect(failures).toBe(3);
    expect(run.retries.get(TASK.worker)).toBe(2);
  });

  it("gives up after the retries and records the batch as failed", async () => {
    const b = bindings([]);
    let attempts = 0;
    b[TASK.worker] = async (input) => {
      if (input.batch === 0) {
        attempts++;
        throw named("RetryableError", "still down");
      }
      return { ...input, complete: true };
    };
    const run = await executeLocally(definition, {}, b, noWait, ME);
    expect(attempts).toBe(3);
    expect(run.status).toBe("FAILED");
    expect(run.finalState.ingestion.failedBatches).toBe(1);
    expect(failedStages(run.finalState).map((f) => f.stage)).toEqual(["ingestion"]);
  });

  it("catches a failed Glue job into the state and fails the execution at the end", async () => {
    const calls: string[] = [];
    const b = bindings(calls);
    b[TASK.postgresExtract] = async () => {
      throw named("States.TaskFailed", "postgres_extract: table device missing");
    };
    const run = await executeLocally(definition, {}, b, noWait, ME);
    expect(run.status).toBe("FAILED");
    expect(calls).toContain("curate");
    expect(run.finalState.postgres.error).toMatchObject({ Error: "States.TaskFailed" });
    expect(failedStages(run.finalState)).toEqual([
      { stage: "postgres_extract", error: "States.TaskFailed: postgres_extract: table device missing" },
    ]);
  });

  it("still curates when the plan itself fails, and says so", async () => {
    const calls: string[] = [];
    const b = bindings(calls);
    b[TASK.plan] = async () => {
      throw named("TerminalError", "ConfigError: secret missing");
    };
    const run = await executeLocally(definition, {}, b, noWait, ME);
    expect(run.status).toBe("FAILED");
    expect(calls).toContain("curate");
    expect(run.finalState.extractError).toMatchObject({ Error: "TerminalError" });
    expect(failedStages(run.finalState)).toEqual([
      { stage: "extract", error: "TerminalError: ConfigError: secret missing" },
    ]);
  });

  it("fails a task that outlives its timeout, and names it", async () => {
    const quick = buildStateMachine(targets, {
      maxConcurrency: 3,
      timeouts: { ...timeouts, curate: 1 },
      executionTimeoutSeconds: EXECUTION_TIMEOUT,
    });
    const b = bindings([]);
    b[TASK.curate] = () =>
      new Promise((done) => setTimeout(() => done({ JobRunState: "SUCCEEDED", Id: "late" }), 1500));
    const run = await executeLocally(quick, {}, b, noWait, ME);
    expect(run.status).toBe("FAILED");
    expect(failedStages(run.finalState)).toEqual([
      { stage: "mongodb_curate", error: expect.stringMatching(/^States.Timeout/) },
    ]);
  });

  it("fails on an analytics failure after everything else succeeded", async () => {
    const b = bindings([]);
    b[TASK.analytics] = async () => {
      throw named("States.TaskFailed", "analytics failed");
    };
    const run = await executeLocally(definition, {}, b, noWait, ME);
    expect(run.status).toBe("FAILED");
    expect(run.finalState.analyticsError).toMatchObject({ Error: "States.TaskFailed" });
    expect(failedStages(run.finalState)).toEqual([
      { stage: "analytics", error: "States.TaskFailed: analytics failed" },
    ]);
  });

  it("fails on a reconcile failure after everything else succeeded, and names it", async () => {
    const b = bindings([]);
    b[TASK.reconcile] = async () => {
      throw named("TerminalError", "ConfigError: SUPPORT_SECRET_ID is not set");
    };
    const run = await executeLocally(definition, {}, b, noWait, ME);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("PipelineFailed");
    expect(run.finalState.reconcileError).toMatchObject({ Error: "TerminalError" });
    expect(failedStages(run.finalState)).toEqual([
      { stage: "reconcile", error: "TerminalError: ConfigError: SUPPORT_SECRET_ID is not set" },
    ]);
  });

  it("retries a retryable reconcile failure and succeeds", async () => {
    const b = bindings([]);
    let failures = 0;
    b[TASK.reconcile] = async () => {
      if (failures++ < 1) throw named("RetryableError", "MongoNetworkError: reset");
      return reconciled;
    };
    const run = await executeLocally(definition, {}, b, noWait, ME);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.retries.get(TASK.reconcile)).toBe(1);
  });

  it("still reconciles after a failed curate, reporting what landed, and fails for the curate", async () => {
    const calls: string[] = [];
    const b = bindings(calls);
    b[TASK.curate] = async () => {
      throw named("States.TaskFailed", "mongodb_curate: ledger locked");
    };
    const run = await executeLocally(definition, {}, b, noWait, ME);
    expect(run.status).toBe("FAILED");
    expect(calls.indexOf("analytics")).toBeGreaterThan(-1);
    expect(calls.findIndex((c) => c.startsWith("reconcile:"))).toBeGreaterThan(calls.indexOf("analytics"));
    expect(run.finalState.reconcile).toEqual([reconciled]);
    expect(failedStages(run.finalState)).toEqual([
      { stage: "mongodb_curate", error: "States.TaskFailed: mongodb_curate: ledger locked" },
    ]);
  });

  it("names every stage that failed, reconcile with the others", async () => {
    const b = bindings([]);
    b[TASK.analytics] = async () => {
      throw named("States.TaskFailed", "analytics failed");
    };
    b[TASK.reconcile] = async () => {
      throw named("States.Timeout", "");
    };
    const run = await executeLocally(definition, {}, b, noWait, ME);
    expect(run.status).toBe("FAILED");
    expect(failedStages(run.finalState).map((f) => f.stage)).toEqual(["analytics", "reconcile"]);
  });
});
