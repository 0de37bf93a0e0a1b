/**
 * A Glue job run on local Spark: the job's plain-PySpark entry (`python -m ...`) in the project's
 * venv, its stdout's JSON summary returned the way `startJobRun.sync` returns a job run, and a
 * failure raised as the error Step Functions raises for a failed job (`States.TaskFailed`).
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";

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

export const PYTHON = resolve(".local/venv/bin/python");
const GLUE_DIR = resolve("glue");
const LOG_DIR = resolve(".local/log");
/** Lines of the job's stderr carried in the failure's Cause. */
const CAUSE_LINES = 15;

export async function runSparkJob(job: SparkJob): Promise<SparkJobRun> {
  await mkdir(LOG_DIR, { recursive: true });
  const id = `local-${job.name}-${Date.now()}`;
  const logFile = join(LOG_DIR, `${job.name}.log`);
  const log = createWriteStream(logFile, { flags: "a" });
  const started = performance.now();
  const child = spawn(PYTHON, ["-m", job.module, ...job.args], {
    cwd: GLUE_DIR,
    env: { ...process.env, ...job.env, PYTHONPATH: GLUE_DIR, PYTHONUNBUFFERED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  const tail: string[] = [];
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    log.write(chunk);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    log.write(chunk);
    tail.push(...chunk.toString().split("\n").filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - CAUSE_LINES));
  });
  const code = await new Promise<number | null>((done, fail) => {
    child.on("error", fail);
    child.on("close", done);
  });
  await new Promise((done) => log.end(done));
  if (code !== 0) {
    const error = new Error(`${job.name} exited with ${code} (log: ${logFile})\n${tail.join("\n")}`);
    error.name = "States.TaskFailed";
    throw error;
  }
  return {
    JobRunState: "SUCCEEDED",
    Id: id,
    results: jsonLines(stdout),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

function jsonLines(text: string): unknown[] {
  const out: unknown[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a log line that happens to start with a brace
    }
  }
  return out;
}
