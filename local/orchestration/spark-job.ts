/**
 * A Glue job run on local Spark: the job's plain-PySpark entry (`python -m ...`) in the project's
 * venv, its stdout's JSON summary returned the way `startJobRun.sync` returns a job run, and a
 * failure raised as the error Step Functions raises for a failed job (`States.TaskFailed`), its
 * message led by the job's own one-line error ({@link failureReason}).
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, relative, resolve } from "node:path";

export interface SparkJob {
  /** Glue job name, for logs and run ids. */
  readonly name: string;
  /** Python module run with `-m`, and its arguments. */
  readonly module: string;
  readonly args: readonly string[];
  /** Extra environment (passwords go here, never on the command line). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface SparkJobRun {
  readonly JobRunState: "SUCCEEDED";
  readonly Id: string;
  /** The JSON lines the job printed on stdout (its per-table or per-collection results). */
  readonly results: readonly unknown[];
  readonly seconds: number;
}

export interface SparkJobOptions {
  /** Each line the job prints (stdout and stderr), as it prints it: to show the job is alive. */
  readonly onLine?: (line: string) => void;
}

export const PYTHON = resolve(".local/venv/bin/python");
const GLUE_DIR = resolve("glue");
const LOG_DIR = resolve(".local/log");
/** Lines of the job's stderr carried in the failure's Cause, after its one-line reason. */
const CAUSE_LINES = 15;

/** Where a job's output is appended, run after run. */
export function sparkJobLog(name: string): string {
  return join(LOG_DIR, `${name}.log`);
}

/**
 * A failed job run, as Step Functions names it. The message's first line is the job's own error
 * and the log's path (what the console prints, and `failedStages` reads); then its exit status
 * and the last lines of its stderr.
 */
export class SparkJobError extends Error {
  override readonly name = "States.TaskFailed";
  constructor(
    readonly job: string,
    /** The job's one-line error ({@link failureReason}). */
    readonly reason: string,
    readonly logFile: string,
    exit: string,
    tail: readonly string[],
    /** The JSON lines it printed before failing (postgres_extract: every table's result). */
    readonly results: readonly unknown[] = [],
  ) {
    super([`${reason} (log: ${relative(process.cwd(), logFile)})`, `${job} ${exit}`, ...tail].join("\n"));
  }
}

export async function runSparkJob(job: SparkJob, options: SparkJobOptions = {}): Promise<SparkJobRun> {
  await mkdir(LOG_DIR, { recursive: true });
  const id = `local-${job.name}-${Date.now()}`;
  const logFile = sparkJobLog(job.name);
  const log = createWriteStream(logFile, { flags: "a" });
  const started = performance.now();
  const child = spawn(PYTHON, ["-m", job.module, ...job.args], {
    cwd: GLUE_DIR,
    env: { ...process.env, ...job.env, PYTHONPATH: GLUE_DIR, PYTHONUNBUFFERED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const tail: string[] = [];
  const lines = (into: (line: string) => void) => {
    let partial = "";
    return {
      data(chunk: Buffer) {
        log.write(chunk);
        const parts = (partial + chunk.toString()).split("\n");
        partial = parts.pop() ?? "";
        for (const line of parts) into(line);
      },
      end() {
        if (partial) into(partial);
        partial = "";
      },
    };
  };
  const out = lines((line) => {
    stdout.push(line);
    if (line.trim()) options.onLine?.(line);
  });
  const err = lines((line) => {
    if (!line.trim()) return;
    // Every line is kept to find the job's error in (a few thousand at most, Spark set to WARN).
    stderr.push(line);
    tail.push(line);
    tail.splice(0, Math.max(0, tail.length - CAUSE_LINES));
    options.onLine?.(line);
  });
  child.stdout.on("data", out.data);
  child.stderr.on("data", err.data);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done, fail) => {
    child.on("error", fail);
    child.on("close", (code, signal) => done({ code, signal }));
  });
  out.end();
  err.end();
  await new Promise((done) => log.end(done));
  if (exit.code !== 0) {
    const status = exit.signal ? `was killed by ${exit.signal}` : `exited with ${exit.code}`;
    const reason = failureReason(job.name, stdout, stderr, status);
    throw new SparkJobError(job.name, reason, logFile, status, tail, jsonLines(stdout));
  }
  return {
    JobRunState: "SUCCEEDED",
    Id: id,
    results: jsonLines(stdout),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

/** A Python logger line of the jobs (`lakehouse_glue.entry.run`): `<date> <time> ERROR <logger> <message>`. */
const PYTHON_ERROR = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[,.]\d+ ERROR \S+ (.+)$/;
/** The last line of a Python traceback: `SomeError: message` (or a dotted name). */
const TRACEBACK_END = /^[A-Za-z_][\w.]*(Error|Exception)(: .*)?$/;

/**
 * The job's own one-line error, from what it printed (glue/lakehouse_glue/entry/run.py): the
 * result lines of the tables or collections that failed (`status: failed`, `error`), else its
 * final `ok: false` line, else the `<job>: <error>` line of a configuration error on stderr,
 * else its last `ERROR` log line, else the end of a Python traceback, else its last stderr line.
 * Spark's own log lines are never taken for it, unless nothing else was printed.
 */
export function failureReason(
  job: string,
  stdout: readonly string[],
  stderr: readonly string[],
  status: string,
): string {
  return firstLine(reason(job, stdout, stderr)) || `${job} ${status} without a word on stdout or stderr`;
}

function reason(job: string, stdout: readonly string[], stderr: readonly string[]): string {
  const results = jsonLines(stdout).filter(
    (r): r is Record<string, unknown> => typeof r === "object" && r !== null && !Array.isArray(r),
  );
  const failed = results.filter((r) => r.status === "failed" && r.error !== undefined);
  const first = failed[0];
  if (first) {
    const name = (r: Record<string, unknown>) =>
      "table" in r
        ? `table ${String(r.table)}`
        : "collection" in r
          ? `collection ${String(r.collection)}`
          : "";
    const more = failed.slice(1).map((r) => String(r.table ?? r.collection ?? "?"));
    const label = name(first);
    return `${label ? `${label}: ` : ""}${String(first.error)}${more.length ? ` (also failed: ${more.join(", ")})` : ""}`;
  }
  const final = results.findLast((r) => r.ok === false);
  if (final) {
    const message = String(final.message ?? "");
    const error = String(final.error ?? "");
    return message.startsWith(error) ? message : `${error}: ${message}`;
  }
  const own = stderr.findLast((line) => line.startsWith(`${job}: `));
  if (own) return own.slice(job.length + 2);
  const logged = stderr.findLast((line) => PYTHON_ERROR.test(line));
  if (logged) return logged.replace(PYTHON_ERROR, "$1");
  const traceback = stderr.findLast((line) => TRACEBACK_END.test(line));
  if (traceback) return traceback;
  return stderr.at(-1) ?? "";
}

/** An error's first line with text on it (a Java exception's message may start with a blank one). */
export function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((line) => line.trim())
      .find(Boolean) ?? ""
  );
}

function jsonLines(lines: readonly string[]): unknown[] {
  const out: unknown[] = [];
  for (const line of lines) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a log line that happens to start with a brace
    }
  }
  return out;
}
