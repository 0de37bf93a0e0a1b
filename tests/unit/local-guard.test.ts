/**
 * The local stand-in for the Guard state's ListExecutions: running local executions, newest
 * first; a registration whose process is gone is stale and dropped; the whole state machine lets
 * only the oldest run.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { registerLocalExecution } from "../../local/orchestration/local-guard.js";
import { executeLocally } from "../../local/orchestration/local-machine.js";
import { buildStateMachine, TASK, taskTimeouts } from "../../pipeline/orchestration/state-machine.js";

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "local-guard-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("local execution registry", () => {
  it("lists the running executions newest first, and forgets a released one", async () => {
    const dir = scratch();
    let clock = 1_000;
    const first = registerLocalExecution(dir, () => clock);
    clock = 2_000;
    const second = registerLocalExecution(dir, () => clock);
    const listed = (await first.guard({})).Executions.map((e: { ExecutionArn: string }) => e.ExecutionArn);
    expect(listed).toEqual([second.context.executionArn, first.context.executionArn]);
    second.release();
    expect((await first.guard({})).Executions).toEqual([{ ExecutionArn: first.context.executionArn }]);
    first.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("drops the registration of a process that is gone (killed, crashed)", async () => {
    const dir = scratch();
    // A pid no process has: beyond the kernel's pid_max.
    writeFileSync(
      join(dir, "1-99999999-x.json"),
      JSON.stringify({ executionArn: "arn:dead", pid: 99_999_999, startedAt: 1 }),
    );
    const me = registerLocalExecution(dir);
    expect((await me.guard({})).Executions).toEqual([{ ExecutionArn: me.context.executionArn }]);
    expect(readdirSync(dir)).toHaveLength(1);
    me.release();
  });

  it("lets only the older of two local executions run the pipeline", async () => {
    const dir = scratch();
    const definition = buildStateMachine(
      {
        planFunctionArn: "arn:aws:lambda:eu-west-1:481516234200:function:plan",
        workerFunctionArn: "arn:aws:lambda:eu-west-1:481516234200:function:worker",
        summarizeFunctionArn: "arn:aws:lambda:eu-west-1:481516234200:function:summarize",
        reconcileFunctionArn: "arn:aws:lambda:eu-west-1:481516234200:function:reconcile",
        postgresExtractJob: "pg",
        curateJob: "curate",
        analyticsJob: "analytics",
      },
      {
        maxConcurrency: 1,
        timeouts: taskTimeouts({
          functionSeconds: { plan: 60, worker: 60, summarize: 60, reconcile: 60 },
          glueJobMinutes: 1,
        }),
        executionTimeoutSeconds: 600,
      },
    );
    const older = registerLocalExecution(dir, () => 1);
    const newer = registerLocalExecution(dir, () => 2);
    const runs: string[] = [];
    const bindings = (who: string, guard: (input: unknown) => Promise<unknown>) => ({
      [TASK.guard]: guard,
      [TASK.postgresExtract]: async () => ({ JobRunState: "SUCCEEDED", Id: "pg" }),
      [TASK.plan]: async () => {
        runs.push(who);
        return { planId: "p", mode: "operations", devices: 0, items: [] };
      },
      [TASK.summarize]: async () => ({ failedBatches: 0 }),
      [TASK.curate]: async () => ({ JobRunState: "SUCCEEDED", Id: "c" }),
      [TASK.analytics]: async () => ({ JobRunState: "SUCCEEDED", Id: "a" }),
      [TASK.reconcile]: async () => ({ differences: 0 }),
    });
    const [a, b] = await Promise.all([
      executeLocally(definition, {}, bindings("newer", newer.guard), undefined, newer.context),
      executeLocally(definition, {}, bindings("older", older.guard), undefined, older.context),
    ]);
    expect([a.status, b.status]).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    expect(runs).toEqual(["older"]);
    older.release();
    newer.release();
  });
});
