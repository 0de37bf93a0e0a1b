/**
 * A failed Glue job names its own error on the console (issue 16): the real local runner
 * (`runSparkJob`) runs a real Python job in the project's venv that fails the way postgres_extract
 * does when a source table's columns changed (glue/tests/failing_extract.py: the job's own run and
 * failure report, the table reads replaced). Its one line, the failed table and the error, is the
 * failure's first line, the stage's FAILED line and the execution's summary; the state machine's
 * field names (`see extractError, postgres.error`) are not. The Cause Step Functions would carry
 * keeps the exit status and the end of the job's stderr.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeJobTables } from "../../local/cli/glue-jobs.js";
import { describeExecution } from "../../local/cli/ingest.js";
import { ingestProgress } from "../../local/cli/progress.js";
import { executeLocally, type TaskBinding } from "../../local/orchestration/local-machine.js";
import { LOCAL_TARGETS, LOCAL_TASK_TIMEOUTS } from "../../local/orchestration/local-run.js";
import {
  runSparkJob,
  type SparkJob,
  SparkJobError,
  sparkJobLog,
} from "../../local/orchestration/spark-job.js";
import { buildStateMachine, TASK } from "../../pipeline/orchestration/state-machine.js";

/** What the job says of its failed table (glue/tests/failing_extract.py), as the job prints it. */
const REASON =
  "table device: SchemaMismatchError: column serial_number: the registry declares string, " +
  "the source has integer [table=device] (terminal)";
/** Its own log, apart from the real jobs' (.local/log/<name>.log). */
const NAME = "failing_extract";
const LOG = relative(process.cwd(), sparkJobLog(NAME));

let work: string;
let job: SparkJob;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "spark-failure-"));
  job = {
    name: NAME,
    module: "tests.failing_extract",
    args: [await writeJobTables(join(work, "tables.json"))],
  };
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("a failed Glue job on local Spark", () => {
  it("fails with the job's own line first: the table, its error and the log", async () => {
    const error = await runSparkJob(job).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SparkJobError);
    const failed = error as SparkJobError;
    expect(failed.name).toBe("States.TaskFailed");
    expect(failed.reason).toBe(REASON);
    const [first, status, ...tail] = failed.message.split("\n");
    expect(first).toBe(`${REASON} (log: ${LOG})`);
    expect(status).toBe(`${NAME} exited with 1`);
    // The end of stderr stays in the Cause, as before: the job's own failure line last.
    expect(tail.at(-1)).toMatch(/^postgres_extract: TablesFailedError: 1 table\(s\) failed \(device\)/);
    // Every table's result is kept, for the summary the console prints after the run.
    expect(failed.results).toContainEqual(
      expect.objectContaining({ table: "device", status: "failed", error_type: "SchemaMismatchError" }),
    );
    expect(failed.results).toContainEqual(expect.objectContaining({ table: "company", status: "ok" }));
    expect(await readFile(sparkJobLog(NAME), "utf8")).toContain(
      "ERROR lakehouse_glue.postgres_extract SchemaMismatchError: column serial_number",
    );
  });

  it("as the PostgresExtract stage: its FAILED line and the execution's summary say that line", async () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (s: string) => written.push(s) > 0 };
    const progress = ingestProgress(stream as unknown as NodeJS.WriteStream);
    const context = {
      executionArn: "arn:aws:states:local:000000000000:execution:lakehouse-local:spark-failure",
      stateMachineArn: "arn:aws:states:local:000000000000:stateMachine:lakehouse-local",
    };
    const glue = async () => ({ JobRunState: "SUCCEEDED", Id: "jr" });
    const planId = "5d2b8f0e-3c9a-4d7b-8e1f-2a6c4b9d0e37";
    const bindings: Record<string, TaskBinding> = {
      [TASK.guard]: async () => ({ Executions: [{ ExecutionArn: context.executionArn }] }),
      [TASK.postgresExtract]: () => runSparkJob(job, { onLine: (line) => progress.output(NAME, line) }),
      [TASK.plan]: async () => ({ planId, mode: "operations", devices: 0, items: [] }),
      [TASK.worker]: glue,
      [TASK.summarize]: async () => ({ planId, failedBatches: 0 }),
      [TASK.curate]: glue,
      [TASK.analytics]: glue,
      [TASK.reconcile]: async () => ({ differences: 0 }),
    };
    const definition = buildStateMachine(LOCAL_TARGETS, {
      maxConcurrency: 2,
      timeouts: LOCAL_TASK_TIMEOUTS,
      executionTimeoutSeconds: 600,
    });
    const execution = await executeLocally(definition, {}, bindings, {}, context, (e) =>
      progress.onState?.(e),
    );
    progress.stop();

    expect(execution.status).toBe("FAILED");
    const lines = written.join("").split("\n");
    expect(lines.filter((l) => l.startsWith("postgres_extract: FAILED"))).toEqual([
      expect.stringMatching(/^postgres_extract: FAILED in \d+\.\d s — /),
    ]);
    expect(lines).toContainEqual(expect.stringContaining(`— ${REASON} (log: ${LOG})`));

    const summary = describeExecution(execution, 3.2);
    expect(summary).toBe(`execution FAILED in 3.2 s\n  postgres_extract: FAILED — ${REASON} (log: ${LOG})`);
    for (const internal of ["extractError", "postgres.error", "PipelineFailed", "States.TaskFailed"])
      expect(summary).not.toContain(internal);
    // What Step Functions carries is unchanged: the caught error, its whole Cause.
    expect(execution.finalState.postgres.error).toMatchObject({ Error: "States.TaskFailed" });
    expect(execution.finalState.postgres.error.Cause).toContain(`${NAME} exited with 1`);
  });
});
