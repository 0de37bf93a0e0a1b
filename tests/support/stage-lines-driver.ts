/**
 * Drives the real progress module (local/cli/progress.ts) through a local run's stages, for
 * tests/integration/stage-lines.test.ts, which runs it in a pseudo-terminal and through a pipe:
 * the deployed state machine executed by the local interpreter, its tasks bound to stand-ins
 * (two long stages are real child processes printing lines), the snapshot and dashboard stages
 * around it. Writes the progress to stderr, as `npm start` does, and to the file `STAGE_MARKS`
 * one JSON line `{mark, at}` when each stand-in starts and ends, so the test can tell whether
 * each stage line appeared when its stage did.
 *
 * With `STAGE_NOTHING_NEW=1` the plan has no batches, as a second `npm start` with nothing new
 * (issue 16: no bar was ever drawn, and cli-progress held back every line meant to go above one).
 *
 *   STAGE_MARKS=marks.jsonl tsx tests/support/stage-lines-driver.ts
 */
import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { ingestProgress } from "../../local/cli/progress.js";
import { executeLocally, type TaskBinding } from "../../local/orchestration/local-machine.js";
import { LOCAL_TARGETS, LOCAL_TASK_TIMEOUTS } from "../../local/orchestration/local-run.js";
import type { PlanOutput, WorkerEvent, WorkerOutput } from "../../pipeline/lambda/events.js";
import { buildStateMachine, TASK } from "../../pipeline/orchestration/state-machine.js";

const marks = process.env.STAGE_MARKS;
const mark = (name: string) => {
  if (marks) appendFileSync(marks, `${JSON.stringify({ mark: name, at: Date.now() })}\n`);
};

/** The note a worker prints while the bars are drawn (the test looks for it). */
const NOTE_DURING_BARS = "a note while the bars are drawn";

const progress = ingestProgress(process.stderr, { heartbeatSeconds: 1 });

/** A real child process, its lines shown as the stage's output, as a Spark job's are. */
async function child(stage: string, script: string): Promise<{ JobRunState: string; Id: string }> {
  const proc = spawn("sh", ["-c", script], { stdio: ["ignore", "pipe", "inherit"] });
  proc.stdout.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line) progress.output(stage, line);
  });
  const code = await new Promise<number | null>((done) => proc.on("close", done));
  if (code !== 0) throw new Error(`${stage} exited with ${code}`);
  return { JobRunState: "SUCCEEDED", Id: `local-${stage}` };
}

/** A stand-in task, marked when it starts and when it ends. */
const task =
  (stage: string, work: (input: never) => Promise<unknown>): TaskBinding =>
  async (input) => {
    mark(`${stage}:start`);
    const out = await work(input as never);
    mark(`${stage}:end`);
    return out;
  };

const context = {
  executionArn: "arn:aws:states:local:000000000000:execution:lakehouse-local:stage-lines",
  stateMachineArn: "arn:aws:states:local:000000000000:stateMachine:lakehouse-local",
};
const planId = "7f9d6c1e-4b1a-4e8e-9a51-1b7c2f0d9e11";
const plan: PlanOutput = {
  planId,
  mode: "bulk",
  devices: 4,
  items: process.env.STAGE_NOTHING_NEW
    ? []
    : ["devices", "events"].flatMap((collection) =>
        [0, 1, 2].map((batch) => ({ planId, collection, batch })),
      ),
};

const bindings: Record<string, TaskBinding> = {
  [TASK.guard]: async () => ({ Executions: [{ ExecutionArn: context.executionArn }] }),
  [TASK.postgresExtract]: task("postgres_extract", () =>
    child("postgres_extract", "echo reading table device; sleep 1; echo reading table recipe; sleep 1.5"),
  ),
  [TASK.plan]: task("plan", async () => {
    await sleep(200);
    progress.onPlan?.(plan);
    return plan;
  }),
  [TASK.worker]: async (input: WorkerEvent) => {
    await sleep(150);
    if (input.collection === "events" && input.batch === 1) progress.note(NOTE_DURING_BARS);
    const out: WorkerOutput = {
      ...input,
      complete: true,
      devicesToQuery: 2,
      devicesProcessed: 2,
      devicesPending: 0,
      windows: 2,
      documentsRead: 100,
      rowsWritten: 100,
      documentsQuarantined: 0,
      bytesUploaded: 4096,
    };
    progress.onWorkerDone?.(input, out);
    return out;
  },
  [TASK.summarize]: task("summary", async (input: { planId: string; results: unknown[] }) => {
    await sleep(100);
    return { planId: input.planId, status: "complete", failedBatches: 0, results: input.results };
  }),
  [TASK.curate]: task("mongodb_curate", async () => {
    await sleep(300);
    return { JobRunState: "SUCCEEDED", Id: "curate" };
  }),
  [TASK.analytics]: task("analytics", () =>
    child("analytics", "echo building alarms_daily; sleep 1; echo building alarm_time_to_reset; sleep 2"),
  ),
  [TASK.reconcile]: task("reconcile", async () => {
    await sleep(100);
    return { reconcileId: 1, mode: "incremental", daysChecked: 4, differences: 0, byCause: {} };
  }),
};

progress.describe("postgres_extract", "on a child process (sleep)");
mark("snapshot:start");
const snapshot = progress.stage("snapshot", "(the default synthetic snapshot, unless one is loaded)");
await sleep(400);
mark("snapshot:end");
snapshot.succeeded("loaded seed 1, 4 devices, 2 days");

const definition = buildStateMachine(LOCAL_TARGETS, {
  maxConcurrency: 2,
  timeouts: LOCAL_TASK_TIMEOUTS,
  executionTimeoutSeconds: 600,
});
const execution = await executeLocally(definition, {}, bindings, { [TASK.worker]: 0 }, context, (event) =>
  progress.onState?.(event),
);
progress.stop();

mark("dashboard:start");
const dashboard = progress.stage("dashboard");
await sleep(200);
mark("dashboard:end");
dashboard.succeeded("6 visuals, filters, opens offline");
progress.stop();
console.log(`execution ${execution.status}`);
mark("idle");
// Quiet for a while before exiting: a line held back until exit would arrive only now.
await sleep(1500);
mark("exit");
