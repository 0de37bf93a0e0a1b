/**
 * Stage lines from the state machine's events (local/cli/progress.ts) and the one-line error of a
 * failed Glue job (local/orchestration/spark-job.ts `failureReason`), without a terminal: what a
 * CI log shows of each stage, a retried one, a failed one and one that failed uncaught, and that
 * the console names a failed stage's own error, never the state machine's field names
 * (issue 16). tests/integration/stage-lines.test.ts times the lines in a pseudo-terminal.
 */
import { describe, expect, it } from "vitest";
import { describeExecution } from "../../local/cli/ingest.js";
import { describeFailure, ingestProgress } from "../../local/cli/progress.js";
import { executeLocally, type TaskBinding } from "../../local/orchestration/local-machine.js";
import { LOCAL_TARGETS, LOCAL_TASK_TIMEOUTS } from "../../local/orchestration/local-run.js";
import { failureReason } from "../../local/orchestration/spark-job.js";
import { RETRYABLE_ERROR } from "../../pipeline/lambda/errors.js";
import { buildStateMachine, TASK } from "../../pipeline/orchestration/state-machine.js";

const definition = buildStateMachine(LOCAL_TARGETS, {
  maxConcurrency: 2,
  timeouts: LOCAL_TASK_TIMEOUTS,
  executionTimeoutSeconds: 600,
});
const ME = {
  executionArn: "arn:aws:states:local:000000000000:execution:lakehouse-local:me",
  stateMachineArn: "arn:aws:states:local:000000000000:stateMachine:lakehouse-local",
};
const noWait = { [TASK.worker]: 0, [TASK.plan]: 0, [TASK.summarize]: 0, [TASK.reconcile]: 0 };
const named = (name: string, message: string) => Object.assign(new Error(message), { name });
const planId = "0b0f7a4e-2f4d-4c61-9d55-6f1f6d3c2a10";

/** A stream that is not a terminal, keeping what is written. */
function logStream() {
  const stream = {
    isTTY: false,
    text: "",
    write(s: string) {
      stream.text += s;
      return true;
    },
  };
  return stream;
}

function bindings(progress: ReturnType<typeof ingestProgress>): Record<string, TaskBinding> {
  const glue = async () => ({ JobRunState: "SUCCEEDED", Id: "jr" });
  return {
    [TASK.guard]: async () => ({ Executions: [{ ExecutionArn: ME.executionArn }] }),
    [TASK.postgresExtract]: glue,
    [TASK.plan]: async () => {
      const plan = {
        planId,
        mode: "operations" as const,
        devices: 2,
        items: [0, 1].map((batch) => ({ planId, collection: "events", batch })),
      };
      progress.onPlan?.(plan);
      return plan;
    },
    [TASK.worker]: async (input) => {
      const out = { ...input, complete: true, documentsRead: 5, devicesPending: 0 };
      progress.onWorkerDone?.(input, out);
      return out;
    },
    [TASK.summarize]: async (input) => ({ planId: input.planId, failedBatches: 0 }),
    [TASK.curate]: glue,
    [TASK.analytics]: glue,
    [TASK.reconcile]: async () => ({ differences: 0 }),
  };
}

async function run(change: (b: Record<string, TaskBinding>) => void = () => {}) {
  const stream = logStream();
  const progress = ingestProgress(stream as unknown as NodeJS.WriteStream);
  const b = bindings(progress);
  change(b);
  const execution = await executeLocally(definition, {}, b, noWait, ME, (e) => progress.onState?.(e));
  progress.stop();
  return { execution, lines: stream.text.split("\n").filter(Boolean) };
}

/** The lines with their durations as `N.N`. */
const shape = (lines: readonly string[]) => lines.map((l) => l.replace(/\d+\.\d s/, "N.N s"));

describe("stage lines without a terminal", () => {
  it("prints every stage's start and end with its duration, the plan's and workers' figures", async () => {
    const { execution, lines } = await run();
    expect(execution.status).toBe("SUCCEEDED");
    const ends = shape(lines.filter((l) => / (succeeded|FAILED) in /.test(l)));
    expect(ends).toEqual(
      expect.arrayContaining([
        "plan: succeeded in N.N s — 2 batches over 2 devices (operations)",
        "workers: succeeded in N.N s — 2 batches, 10 documents read",
        "summary: succeeded in N.N s",
        "postgres_extract: succeeded in N.N s",
        "mongodb_curate: succeeded in N.N s",
        "analytics: succeeded in N.N s",
        "reconcile: succeeded in N.N s",
      ]),
    );
    expect(ends).toHaveLength(7);
    for (const stage of ["plan", "workers", "summary", "postgres_extract", "mongodb_curate", "analytics"])
      expect(lines.indexOf(`${stage}: started`)).toBeLessThan(
        lines.findIndex((l) => l.startsWith(`${stage}: succeeded`)),
      );
    // Stages run one after the other after the extraction: curate ends before analytics starts.
    expect(lines.findIndex((l) => l.startsWith("mongodb_curate: succeeded"))).toBeLessThan(
      lines.indexOf("analytics: started"),
    );
    expect(lines).toContain("  events: 2 batches, 10 documents read");
  });

  it("says a stage is retried, and then that it succeeded", async () => {
    let attempts = 0;
    const { lines } = await run((b) => {
      const plan = b[TASK.plan] as TaskBinding;
      b[TASK.plan] = async (input) => {
        if (++attempts === 1) throw named(RETRYABLE_ERROR, "MongoServerSelectionError: connect ECONNREFUSED");
        return plan(input);
      };
    });
    expect(shape(lines.filter((l) => l.startsWith("plan: ")))).toEqual([
      "plan: started",
      `plan: failed, retrying — ${RETRYABLE_ERROR}: MongoServerSelectionError: connect ECONNREFUSED`,
      "plan: succeeded in N.N s — 2 batches over 2 devices (operations)",
    ]);
  });

  it("prints a failed job's own first line, and the execution's summary names it, not the state's fields", async () => {
    const reason =
      "table device: SchemaMismatchError: column serial_number changed [table=device] (terminal)";
    const { execution, lines } = await run((b) => {
      b[TASK.analytics] = async () => {
        throw named(
          "States.TaskFailed",
          `${reason} (log: .local/log/analytics.log)\nanalytics exited with 1`,
        );
      };
    });
    expect(shape(lines.filter((l) => l.startsWith("analytics: ")))).toEqual([
      "analytics: started",
      `analytics: FAILED in N.N s — ${reason} (log: .local/log/analytics.log)`,
    ]);
    // The stages after it still run (the state machine catches the failure).
    expect(lines.some((l) => l.startsWith("reconcile: succeeded"))).toBe(true);
    const summary = describeExecution(execution, 12.3);
    expect(summary).toBe(
      `execution FAILED in 12.3 s\n  analytics: FAILED — ${reason} (log: .local/log/analytics.log)`,
    );
    expect(execution.cause).toMatch(/analyticsError/); // the Fail state's own Cause is kept as is
  });

  it("ends a stage that failed uncaught when its branch fails, with its error", async () => {
    const { execution, lines } = await run((b) => {
      b[TASK.summarize] = async () => {
        throw named("TerminalError", "ConfigError: SUPPORT_SECRET_ID is not set");
      };
    });
    expect(execution.status).toBe("FAILED");
    expect(shape(lines.filter((l) => l.startsWith("summary: ")))).toEqual([
      "summary: started",
      "summary: FAILED in N.N s — TerminalError: ConfigError: SUPPORT_SECRET_ID is not set",
    ]);
    expect(describeExecution(execution, 1)).toBe(
      "execution FAILED in 1.0 s\n  extract: FAILED — TerminalError: ConfigError: SUPPORT_SECRET_ID is not set",
    );
  });
});

describe("a failure's line", () => {
  it.each([
    [
      "a task's failure",
      "States.TaskFailed",
      "table device: boom (log: x.log)\nexit 1",
      "table device: boom (log: x.log)",
    ],
    [
      "a function's error",
      "TerminalError",
      "ConfigError: missing\n  at stack",
      "TerminalError: ConfigError: missing",
    ],
    [
      "a cause that names its error",
      "States.Timeout",
      "States.Timeout: Task timed out",
      "States.Timeout: Task timed out",
    ],
    ["no cause", "States.Timeout", "", "States.Timeout"],
  ])("%s", (_case, error, cause, line) => {
    expect(describeFailure(error, cause)).toBe(line);
  });
});

describe("a failed Glue job's own error", () => {
  const table = (name: string, status: string, error?: string) =>
    JSON.stringify({ table: name, behaviour: "replace", status, rows_written: 0, error: error ?? null });
  const spark = ["26/11/30 17:21:03 WARN Utils: Your hostname resolves to a loopback address"];
  it.each([
    [
      "a failed table's result line (postgres_extract)",
      [
        table("company", "ok"),
        table(
          "device",
          "failed",
          "SchemaMismatchError: column serial_number changed [table=device] (terminal)",
        ),
        table(
          "recipe",
          "failed",
          "SourceTableMissingError: relation recipe does not exist [table=recipe] (terminal)",
        ),
        '{"ok": false, "job": "postgres_extract", "error": "TablesFailedError", "message": "TablesFailedError: 2 table(s) failed"}',
      ],
      ["2026-11-30 18:51:22,697 ERROR lakehouse_glue.postgres_extract SchemaMismatchError: ...", ...spark],
      "table device: SchemaMismatchError: column serial_number changed [table=device] (terminal) (also failed: recipe)",
    ],
    [
      "the run's failure line (curate, analytics)",
      [
        '{"ok": false, "job": "analytics", "error": "ViewSchemaError", "message": "ViewSchemaError: view alarm_facts: column code differs [table=alarm_facts] (terminal)"}',
      ],
      ["analytics: ViewSchemaError: view alarm_facts: column code differs [table=alarm_facts] (terminal)"],
      "ViewSchemaError: view alarm_facts: column code differs [table=alarm_facts] (terminal)",
    ],
    [
      "a configuration error on stderr",
      [],
      [...spark, "analytics: JobConfigError: --dashboard-data and --dashboard-views go together (terminal)"],
      "JobConfigError: --dashboard-data and --dashboard-views go together (terminal)",
    ],
    [
      "an ERROR log line, Spark's lines after it",
      [],
      [
        "2026-11-30 18:51:22,697 ERROR lakehouse_glue.curate.curate RawObjectMissingError: raw/x.parquet is gone",
        ...spark,
      ],
      "RawObjectMissingError: raw/x.parquet is gone",
    ],
    [
      "the end of a Python traceback",
      [],
      [
        "Traceback (most recent call last):",
        '  File "/work/glue/lakehouse_glue/job_tables.py", line 402, in parse_job_tables',
        "lakehouse_glue.errors.JobTablesError: JobTablesError: job tables version 6 is not supported (terminal)",
      ],
      "lakehouse_glue.errors.JobTablesError: JobTablesError: job tables version 6 is not supported (terminal)",
    ],
    ["Spark's last line, when that is all", [], spark, spark[0]],
    ["nothing at all", [], [], "analytics exited with 1 without a word on stdout or stderr"],
  ])("%s", (_case, stdout, stderr, line) => {
    expect(failureReason("analytics", stdout, stderr, "exited with 1")).toBe(line);
  });
});
