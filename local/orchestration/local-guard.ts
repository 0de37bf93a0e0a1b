/**
 * The local stand-in for the Guard state's `ListExecutions` call: each local execution of the full
 * state machine registers itself as a file in one folder while it runs, so a second `npm start`
 * started meanwhile finds the first and leaves the servers alone, as a second execution does in
 * AWS. A registration whose process is gone (killed, crashed) is stale and removed.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LocalContext, TaskBinding } from "./local-machine.js";
import { LOCAL_STATE_MACHINE_ARN } from "./local-machine.js";

interface Registration {
  readonly executionArn: string;
  readonly pid: number;
  readonly startedAt: number;
}

export interface LocalExecutionSlot {
  readonly context: LocalContext;
  /** The Guard state's binding: the running executions, newest first, as ListExecutions lists them. */
  readonly guard: TaskBinding;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function running(dir: string): Registration[] {
  const found: Registration[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".json")) continue;
    const file = join(dir, name);
    let r: Registration;
    try {
      r = JSON.parse(readFileSync(file, "utf8")) as Registration;
    } catch {
      continue; // removed by its owner since the listing
    }
    if (alive(r.pid)) found.push(r);
    else rmSync(file, { force: true });
  }
  return found.sort((a, b) => b.startedAt - a.startedAt || b.executionArn.localeCompare(a.executionArn));
}

/** ARNs of the local executions running now (the cutover's preflight asks). */
export function runningLocalExecutions(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return running(dir).map((r) => r.executionArn);
}

/** Register a local execution in `dir` (created if missing) until `release()`. */
export function registerLocalExecution(dir: string, now: () => number = Date.now): LocalExecutionSlot {
  mkdirSync(dir, { recursive: true });
  const startedAt = now();
  const executionArn = `${LOCAL_STATE_MACHINE_ARN.replace(":stateMachine:", ":execution:")}:${startedAt}-${randomUUID()}`;
  const file = join(dir, `${startedAt}-${process.pid}-${randomUUID()}.json`);
  const registration: Registration = { executionArn, pid: process.pid, startedAt };
  // Renamed into place, so a reader never sees half a file under a listed name.
  writeFileSync(`${file}.tmp`, JSON.stringify(registration));
  renameSync(`${file}.tmp`, file);
  return {
    context: { executionArn, stateMachineArn: LOCAL_STATE_MACHINE_ARN },
    guard: async () => ({ Executions: running(dir).map((r) => ({ ExecutionArn: r.executionArn })) }),
    release: () => rmSync(file, { force: true }),
  };
}
