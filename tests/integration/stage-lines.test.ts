/**
 * Every stage's start and end line appears when it happens (issue 16), in a pseudo-terminal and
 * through a pipe. The real progress module (local/cli/progress.ts) is driven by
 * tests/support/stage-lines-driver.ts: the deployed state machine on the local interpreter, its
 * tasks stand-ins, two long stages real child processes. The output is read as it arrives, each
 * piece timed, and compared with when the driver says each stage started and ended.
 *
 * The pseudo-terminal is util-linux `script` (node-pty needs a native build, and npm install
 * scripts are disabled here); cli-progress's MultiBar, used before, held a run's stage lines back
 * until a bar was redrawn, and dropped them when no bar ever was.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainText, terminalScreen } from "../support/terminal-screen.js";

const DRIVER = "tests/support/stage-lines-driver.ts";
/** The line the driver's worker prints while the bars are drawn. */
const NOTE_DURING_BARS = "a note while the bars are drawn";
const TSX = resolve("node_modules/.bin/tsx");
const COLUMNS = 120;
/** Every stage the driver runs, in the order they end. */
const STAGES = [
  "snapshot",
  "plan",
  "workers",
  "summary",
  "postgres_extract",
  "mongodb_curate",
  "analytics",
  "reconcile",
  "dashboard",
];
/** The stages a stand-in marks (the workers' Map has no task of its own). */
const MARKED = STAGES.filter((s) => s !== "workers");
/** Stages long enough that their start line must show before they end. */
const LONG = ["snapshot", "postgres_extract", "analytics"];

interface DriverRun {
  readonly output: string;
  readonly code: number | null;
  readonly marks: ReadonlyMap<string, number>;
  /** When `text` had first arrived (escapes stripped), in the driver's clock (the same machine's). */
  seen(text: string): number | undefined;
}

let work: string;
let runs = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "stage-lines-"));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Runs the driver, timing each piece of output as it arrives; `watch` lists the texts to time. */
async function runDriver(
  command: string,
  args: readonly string[],
  watch: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<DriverRun> {
  const marksFile = join(work, `marks-${++runs}.jsonl`);
  const child = spawn(command, args, {
    env: { ...process.env, ...env, STAGE_MARKS: marksFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const first = new Map<string, number>();
  const arrived = (chunk: Buffer) => {
    const now = Date.now();
    output += chunk.toString();
    const plain = plainText(output);
    for (const text of watch) if (!first.has(text) && plain.includes(text)) first.set(text, now);
  };
  child.stdout.on("data", arrived);
  child.stderr.on("data", arrived);
  const code = await new Promise<number | null>((done) => child.on("close", done));
  const marks = new Map<string, number>();
  for (const line of (await readFile(marksFile, "utf8")).split("\n").filter(Boolean)) {
    const { mark, at } = JSON.parse(line) as { mark: string; at: number };
    marks.set(mark, at);
  }
  return { output, code, marks, seen: (text) => first.get(text) };
}

const startLine = (stage: string) => `${stage}: started`;
const endLine = (stage: string) => `${stage}: succeeded in`;
const stageLines = STAGES.flatMap((s) => [startLine(s), endLine(s)]);

/** `script` runs the driver in a pseudo-terminal of COLUMNS columns and prints what it shows. */
function inTerminal(watch: readonly string[], env: Readonly<Record<string, string>> = {}) {
  const command = `stty cols ${COLUMNS} rows 40 && exec '${TSX}' '${DRIVER}'`;
  return runDriver("script", ["-qfec", command, "/dev/null"], watch, env);
}

function mark(run: DriverRun, name: string): number {
  const at = run.marks.get(name);
  if (at === undefined) throw new Error(`the driver did not mark ${name}`);
  return at;
}

/** Each stage's lines arrived while it ran and as it ended, none held back until the exit. */
function expectTimely(run: DriverRun) {
  expect(run.code).toBe(0);
  for (const line of stageLines) expect(run.seen(line), line).toBeDefined();
  for (const stage of MARKED) {
    const ended = mark(run, `${stage}:end`);
    const shown = run.seen(endLine(stage)) ?? Number.NaN;
    expect(shown, `${stage}'s end line, after it ended`).toBeGreaterThanOrEqual(ended);
    expect(shown - ended, `${stage}'s end line, ms after it ended`).toBeLessThan(1000);
  }
  for (const stage of LONG)
    expect(run.seen(startLine(stage)), `${stage}'s start line, before it ended`).toBeLessThan(
      mark(run, `${stage}:end`),
    );
  // The driver is idle for 1.5 s before it exits: every line came before that, none at the exit.
  const idle = mark(run, "idle");
  for (const line of stageLines) expect(run.seen(line), line).toBeLessThan(idle + 500);
  expect(mark(run, "exit") - idle).toBeGreaterThanOrEqual(1400);
}

describe("stage lines in a terminal", () => {
  beforeAll(() => {
    // util-linux's `script`: the pseudo-terminal. Missing, this suite cannot say anything.
    expect(
      () => execFileSync("sh", ["-c", "command -v script"]),
      "script (util-linux) is needed",
    ).not.toThrow();
  });

  it("shows each stage's start and end as it happens, the long ones alive, bars that swallow nothing", async () => {
    const alive = "analytics: running, 1 s · building alarm";
    const run = await inTerminal([...stageLines, NOTE_DURING_BARS, alive, "execution SUCCEEDED"]);
    expectTimely(run);
    // The live line of a long stage: its seconds and its job's last line, while it runs.
    expect(run.seen(alive)).toBeLessThan(mark(run, "analytics:end"));
    // A note printed while the bars are drawn shows then, above them.
    const note = run.seen(NOTE_DURING_BARS) ?? Number.NaN;
    expect(note).toBeGreaterThanOrEqual(run.seen(startLine("workers")) ?? Number.NaN);
    expect(note).toBeLessThanOrEqual(run.seen(endLine("workers")) ?? Number.NaN);
    expect(run.output).toContain("|████");

    // What the terminal shows at the end: every line once, the live lines and bars gone.
    const screen = terminalScreen(run.output, COLUMNS);
    for (const line of [...stageLines, NOTE_DURING_BARS])
      expect(
        screen.filter((row) => row.startsWith(line)),
        line,
      ).toHaveLength(1);
    expect(screen.filter((row) => row.includes("running,") || row.includes("░"))).toEqual([]);
    const order = STAGES.map((s) => screen.findIndex((row) => row.startsWith(endLine(s))));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(screen.find((row) => row.startsWith(endLine("plan")))).toMatch(
      / — 6 batches over 4 devices \(bulk\)$/,
    );
  });

  it("shows them with nothing new to ingest: no bar is ever drawn", async () => {
    const run = await inTerminal(stageLines, { STAGE_NOTHING_NEW: "1" });
    expectTimely(run);
    const screen = terminalScreen(run.output, COLUMNS);
    expect(screen.find((row) => row.startsWith(endLine("plan")))).toMatch(/— 0 batches over 4 devices/);
    expect(screen.find((row) => row.startsWith(endLine("workers")))).toMatch(/— 0 batches, 0 documents read/);
  });
});

describe("stage lines without a terminal", () => {
  it("prints the same lines, plain, and a heartbeat while a long stage runs", async () => {
    // Every second here (heartbeatSeconds: 1), with the job's last line.
    const beat = "analytics: still running, ";
    const run = await runDriver(TSX, [DRIVER], [...stageLines, beat]);
    expectTimely(run);
    expect(run.output).not.toContain("\x1b");
    const lines = run.output.split("\n");
    for (const line of stageLines)
      expect(
        lines.filter((l) => l.startsWith(line)),
        line,
      ).toHaveLength(1);
    expect(run.seen(beat)).toBeLessThan(mark(run, "analytics:end"));
    expect(lines.filter((l) => l.startsWith(beat))).toContainEqual(
      expect.stringMatching(/^analytics: still running, [12] s · building alarm/),
    );
    expect(lines.some((l) => l.startsWith("postgres_extract: still running, "))).toBe(true);
    expect(lines).toContain(NOTE_DURING_BARS);
  });
});
