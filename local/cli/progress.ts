/**
 * What a local run shows while it runs (`npm start`, `lakehouse ingest`): a line when each stage
 * starts and one when it ends, with its duration, written the moment it happens, in a terminal
 * and in a log alike. In a terminal the stages still running stay at the bottom as live lines (a
 * spinner, the seconds so far and the job's last log line), with one bar per collection under
 * the workers' line while the ingestion runs. Without one (CI, a pipe) output is plain lines, and
 * a stage that runs long says so every {@link HEARTBEAT_SECONDS}.
 *
 * Not cli-progress's MultiBar (issue 16): its `log()` buffers lines until the next redraw, which
 * runs only while a bar exists (a run with nothing new has no bars, so its stage lines never
 * appeared) and `stop()` drops what is still buffered; it redraws only the bars whose text
 * changed, so a logged line pushes unchanged bars off the screen; and it turns the terminal's
 * line wrapping off, cutting long lines. Here log-update keeps the live lines: each line printed
 * is persisted above them at once, and they are drawn again below it.
 */
import { stripVTControlCharacters } from "node:util";
import { createLogUpdate } from "log-update";
import type { PlanOutput, WorkerEvent, WorkerOutput } from "../../pipeline/lambda/events.js";
import { RECONCILE_MAP, TASK } from "../../pipeline/orchestration/state-machine.js";
import type { StateEvent } from "../orchestration/local-machine.js";
import type { LocalRunHooks } from "../orchestration/local-run.js";
import { firstLine } from "../orchestration/spark-job.js";
import { count, plural } from "./table.js";

/** The stage each task state is shown as; other states (Guard, Choice, Pass, ...) are not shown. */
export const STATE_STAGES: Readonly<Record<string, string>> = {
  [TASK.postgresExtract]: "postgres_extract",
  [TASK.plan]: "plan",
  [TASK.summarize]: "summary",
  [TASK.curate]: "mongodb_curate",
  [TASK.analytics]: "analytics",
  // Reconcile's task runs inside the Map of its shards, whose events are not forwarded.
  [RECONCILE_MAP]: "reconcile",
};
/** The stage the Map state of the workers is shown as. */
export const WORKERS_STAGE = "workers";
/** Seconds between the "still running" lines of a long stage, without a terminal. */
export const HEARTBEAT_SECONDS = 30;

const SPINNER = [..."⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"];
const FRAME_MS = 100;
const BAR_WIDTH = 40;
const NAME_WIDTH = 22;
/** A heartbeat line's share of the job's last log line, in characters. */
const HEARTBEAT_OUTPUT = 160;

/** A stage the caller runs itself (the snapshot load, the dashboard). */
export interface Stage {
  /** Prints `<name>: succeeded in 41.2 s[ — detail]`. */
  succeeded(detail?: string): void;
  /** Prints `<name>: FAILED in 41.2 s — reason`. */
  failed(reason: string): void;
}

export interface IngestProgress extends LocalRunHooks {
  /** A line, printed now (above the live lines, in a terminal). */
  note(line: string): void;
  /** Starts a stage outside the state machine: prints `<name>: started[ detail]`. */
  stage(name: string, detail?: string): Stage;
  /** What a state machine stage's start line adds (`on local Spark (log: ...)`). */
  describe(stage: string, detail: string): void;
  /** What a state machine stage's end line adds (`skipped: nothing new ...`). */
  outcome(stage: string, detail: string): void;
  /** A running stage's latest output line (a Spark job's log), by stage name. */
  output(stage: string, line: string): void;
  /** Ends what is still running (as failed: the run ended first) and clears the live lines. */
  stop(): void;
}

export interface ProgressOptions {
  /** Seconds between heartbeats without a terminal ({@link HEARTBEAT_SECONDS}). */
  readonly heartbeatSeconds?: number;
}

interface Running {
  readonly name: string;
  readonly started: number;
  /** Whether a state of the state machine runs it (ended by its events). */
  readonly state: boolean;
  /** When it last said it is alive (its start, or its last heartbeat). */
  beat: number;
  last?: string;
  /** A failure not resolved yet: the state may still be retried, or caught. */
  error?: string;
}

interface Tally {
  planned: number;
  done: number;
  documents: number;
  pending: string;
}

export function ingestProgress(
  stream: NodeJS.WriteStream = process.stderr,
  options: ProgressOptions = {},
): IngestProgress {
  const tty = Boolean(stream.isTTY);
  const heartbeatMs = (options.heartbeatSeconds ?? HEARTBEAT_SECONDS) * 1000;
  const running = new Map<string, Running>();
  const startDetails = new Map<string, string>();
  const endDetails = new Map<string, string>();
  const tallies = new Map<string, Tally>();
  /** Batches whose last attempt failed, by `collection batch n`: their error. */
  const unfinished = new Map<string, string>();
  // The cursor stays visible: a run that is killed must not leave the terminal without one.
  const frame = tty ? createLogUpdate(stream, { showCursor: true }) : undefined;
  let timer: NodeJS.Timeout | undefined;

  const liveLines = (): string[] => {
    const now = Date.now();
    const spinner = SPINNER[Math.floor(now / FRAME_MS) % SPINNER.length];
    const lines: string[] = [];
    for (const r of running.values()) {
      lines.push(`${spinner} ${r.name}: running, ${whole(now - r.started)} s${r.last ? ` · ${r.last}` : ""}`);
      if (r.name === WORKERS_STAGE) for (const [collection, t] of tallies) lines.push(bar(collection, t));
    }
    const width = Math.max(20, (stream.columns || 80) - 1);
    const height = Math.max(2, (stream.rows || 24) - 2);
    const fitted = lines.map((line) => clip(line, width));
    if (fitted.length <= height) return fitted;
    return [...fitted.slice(0, height - 1), `… ${fitted.length - height + 1} more`];
  };

  /** Prints `lines`; in a terminal, above the live lines, which are drawn again below them. */
  const print = (lines: readonly string[]) => {
    if (!frame) {
      if (lines.length) stream.write(lines.map((line) => `${line}\n`).join(""));
      return;
    }
    if (lines.length) frame.persist(lines.join("\n"));
    const live = liveLines();
    if (live.length) frame(live.join("\n"));
    else frame.clear();
  };

  const tick = () => {
    if (tty) return print([]);
    const now = Date.now();
    const beats: string[] = [];
    for (const r of running.values()) {
      if (now - r.beat < heartbeatMs) continue;
      r.beat = now;
      const last = r.last ? ` · ${clip(r.last, HEARTBEAT_OUTPUT)}` : "";
      beats.push(`${r.name}: still running, ${whole(now - r.started)} s${last}`);
    }
    print(beats);
  };

  /** The timer runs while a stage does: the spinner's frames, or the heartbeats. */
  const schedule = () => {
    if (running.size && !timer) {
      timer = setInterval(tick, tty ? FRAME_MS : Math.min(1000, heartbeatMs / 4));
      timer.unref();
    } else if (!running.size && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const begin = (name: string, at: number, state: boolean, detail?: string): Running => {
    const r: Running = { name, started: at, state, beat: at };
    running.set(name, r);
    print([`${name}: started${detail ? ` ${detail}` : ""}`]);
    schedule();
    return r;
  };

  const end = (r: Running, at: number, failure: string | undefined, detail?: string) => {
    if (running.get(r.name) !== r) return;
    running.delete(r.name);
    const took = `in ${tenths(at - r.started)} s`;
    print([
      failure
        ? `${r.name}: FAILED ${took} — ${failure}`
        : `${r.name}: succeeded ${took}${detail ? ` — ${detail}` : ""}`,
    ]);
    schedule();
  };

  /** The workers' end: a line per collection not done yet, then the stage's own line. */
  const endWorkers = (r: Running, at: number) => {
    let planned = 0;
    let done = 0;
    let documents = 0;
    const lines: string[] = [];
    for (const [collection, t] of tallies) {
      planned += t.planned;
      done += t.done;
      documents += t.documents;
      if (t.done < t.planned)
        lines.push(
          `  ${collection}: ${count(t.done)} of ${plural(t.planned, "batch", "batches")}, ${plural(t.documents, "document")} read`,
        );
    }
    print(lines);
    const [first] = unfinished;
    const failure = first
      ? `${count(unfinished.size)} of ${plural(planned, "batch", "batches")} failed (first: ${first[0]}: ${first[1]})`
      : undefined;
    end(r, at, failure, `${plural(done, "batch", "batches")}, ${plural(documents, "document")} read`);
    tallies.clear();
    unfinished.clear();
  };

  return {
    note(line: string) {
      print(line.split("\n"));
    },

    stage(name: string, detail?: string): Stage {
      const r = begin(name, Date.now(), false, detail);
      return {
        succeeded: (detail) => end(r, Date.now(), undefined, detail),
        failed: (reason) => end(r, Date.now(), reason),
      };
    },

    describe(stage: string, detail: string) {
      if (!Object.values(STATE_STAGES).includes(stage) && stage !== WORKERS_STAGE)
        throw new Error(`no stage ${stage} in the state machine (stages: ${Object.values(STATE_STAGES)})`);
      startDetails.set(stage, detail);
    },

    outcome(stage: string, detail: string) {
      endDetails.set(stage, detail);
    },

    output(stage: string, line: string) {
      const r = running.get(stage);
      if (r) r.last = clean(line);
    },

    onState(event: StateEvent) {
      const name = STATE_STAGES[event.state] ?? (event.stateType === "Map" ? WORKERS_STAGE : undefined);
      if (!name) {
        // An enclosing state failed (a Parallel whose branch failed uncaught): what ran in it is
        // over, failed if it had failed. The interpreter forwards a branch's events a few
        // microtasks after its own, so the branch's failure is read once they have arrived.
        if (event.type === "failed") {
          const inside = [...running.values()].filter((r) => r.state);
          setImmediate(() => {
            for (const r of inside) end(r, event.at, r.error ?? `stopped waiting: ${event.state} failed`);
          });
        }
        return;
      }
      const r = running.get(name);
      switch (event.type) {
        case "entered":
          begin(name, event.at, true, startDetails.get(name));
          break;
        case "failed":
          if (r) r.error = describeFailure(event.error, event.cause);
          break;
        case "retried":
          if (!r) break;
          print([`${name}: failed, retrying — ${r.error ?? "?"}`]);
          r.error = undefined;
          break;
        case "caught":
          break;
        case "exited":
          if (r && name === WORKERS_STAGE) endWorkers(r, event.at);
          else if (r) end(r, event.at, r.error, endDetails.get(name));
          endDetails.delete(name);
          break;
      }
    },

    onPlan(plan: PlanOutput) {
      tallies.clear();
      unfinished.clear();
      for (const item of plan.items) {
        const t = tallies.get(item.collection) ?? { planned: 0, done: 0, documents: 0, pending: "" };
        t.planned++;
        tallies.set(item.collection, t);
      }
      endDetails.set(
        STATE_STAGES[TASK.plan] ?? "plan",
        `${plural(plan.items.length, "batch", "batches")} over ${plural(plan.devices, "device")} (${plan.mode})`,
      );
    },

    onWorkerDone(event: WorkerEvent, out: WorkerOutput) {
      unfinished.delete(`${event.collection} batch ${event.batch}`);
      const t = tallies.get(event.collection);
      if (!t) return;
      t.done++;
      t.documents += out.documentsRead;
      t.pending = out.devicesPending ? `${plural(out.devicesPending, "device")} left for the next run` : "";
      if (t.done === t.planned)
        print([
          `  ${event.collection}: ${plural(t.done, "batch", "batches")}, ${plural(t.documents, "document")} read`,
        ]);
    },

    onWorkerFailed(event: WorkerEvent, error: Error) {
      const message = firstLine(error.message);
      unfinished.set(`${event.collection} batch ${event.batch}`, message);
      print([`  ${event.collection} batch ${event.batch}: ${message}`]);
    },

    stop() {
      for (const r of [...running.values()])
        end(r, Date.now(), r.error ?? "the run ended before this stage did");
      if (timer) clearInterval(timer);
      timer = undefined;
      frame?.clear();
      frame?.done();
    },
  };
}

/**
 * A failure as a person reads it: the cause's first line, led by the error's name unless that is
 * Step Functions' generic `States.TaskFailed` (the stage line says it failed already).
 */
export function describeFailure(error = "Error", cause = ""): string {
  const line = firstLine(cause);
  if (!line) return error;
  if (error === "States.TaskFailed" || line.startsWith(`${error}:`)) return line;
  return `${error}: ${line}`;
}

/** A job's log line for a live line: no escapes or control characters, no timestamp. */
function clean(line: string): string {
  const plain = [...stripVTControlCharacters(line)].map((c) => (c < " " || c === "\x7f" ? " " : c)).join("");
  return plain
    .replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[,.]\d+ /, "") // Python's logging (lakehouse_glue)
    .replace(/^\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d /, "") // Spark's log4j
    .trim();
}

/** At most `width` characters (code points), the last one an ellipsis when cut. */
function clip(line: string, width: number): string {
  const chars = [...line];
  return chars.length <= width ? line : `${chars.slice(0, width - 1).join("")}…`;
}

function bar(collection: string, t: Tally): string {
  const filled = t.planned ? Math.round((t.done / t.planned) * BAR_WIDTH) : BAR_WIDTH;
  const pending = t.pending ? ` · ${t.pending}` : "";
  return ` ${collection.padEnd(NAME_WIDTH)} |${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}| ${count(t.done)}/${plural(t.planned, "batch", "batches")} · ${plural(t.documents, "document")}${pending}`;
}

const whole = (ms: number) => Math.floor(ms / 1000);
const tenths = (ms: number) => (ms / 1000).toFixed(1);
