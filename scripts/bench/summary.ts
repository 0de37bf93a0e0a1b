/**
 * The last step of `npm run bench` (scripts/bench.sh): reads what each part left in the run's
 * folder (and `.local/bench/encoders.json` when the encoder bench has written one), prints ONE
 * table (figure, measured, target, verdict, what limits it) and writes every figure to
 * `.local/bench/latest.json`, the file `npm run cost` reads (summary/latest.ts).
 *
 * Usage: npx tsx scripts/bench/summary.ts --dir DIR [--out FILE] [--encoders FILE]
 *          [--command TEXT] [--quick] [--load-before "1.0 0.9 0.8"] [--started EPOCH_SECONDS]
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { formatTable } from "../../local/cli/table.js";
import { DEFAULT_BENCH_FILE } from "../../local/cost/bench.js";
import { buildLatest, type RunInfo } from "./summary/latest.js";
import { readParts } from "./summary/parts.js";

const ENCODERS_FILE = join(".local", "bench", "encoders.json");

function git(...args: string[]): string | null {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

const loads = (text: string | undefined): number[] =>
  (text ?? "")
    .trim()
    .split(/\s+/)
    .slice(0, 3)
    .map(Number)
    .filter((n) => Number.isFinite(n));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: "string" },
      out: { type: "string", default: DEFAULT_BENCH_FILE },
      encoders: { type: "string", default: ENCODERS_FILE },
      command: { type: "string", default: "npm run bench" },
      quick: { type: "boolean", default: false },
      "load-before": { type: "string" },
      started: { type: "string" },
    },
  });
  if (!values.dir) throw new Error("--dir: the run's folder, where the parts wrote their JSON");
  const dir = values.dir;
  const { parts, raw, problems } = readParts({
    ingest: join(dir, "ingest.json"),
    parquetMemory: join(dir, "parquet-memory.json"),
    postgresExtract: join(dir, "postgres-extract.json"),
    curate: join(dir, "curate.json"),
    // Another bench's file: read when there is one, never missed when there is none.
    ...(existsSync(values.encoders) ? { encoders: values.encoders } : {}),
  });
  const started = values.started ? Number(values.started) : null;
  const run: RunInfo = {
    date: new Date().toISOString(),
    commit: git("rev-parse", "HEAD"),
    dirty: (git("status", "--porcelain", "--untracked-files=no") ?? "") !== "",
    command: values.command,
    quick: values.quick,
    machine: {
      cores: availableParallelism(),
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
      loadBefore: loads(values["load-before"]),
      loadAfter: loadavg(),
    },
    wallSeconds: started ? Date.now() / 1000 - started : null,
  };
  const latest = buildLatest(parts, run, { raw, problems });
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(latest, null, 2)}\n`);

  const m = run.machine;
  const load = (l: readonly number[]) => (l.length ? l.map((x) => x.toFixed(2)).join(" ") : "-");
  console.log(
    `\n== Summary: ${run.command} at ${run.commit?.slice(0, 12) ?? "?"}${run.dirty ? " (uncommitted changes)" : ""}, ` +
      `${run.date}; ${m.cores} cores, load average ${load(m.loadBefore)} before, ${load(m.loadAfter)} after` +
      `${run.wallSeconds ? `; ${Math.round(run.wallSeconds / 60)} min` : ""}`,
  );
  console.log(
    formatTable(
      [
        { header: "figure", wrap: 44 },
        { header: "measured", wrap: 46 },
        { header: "target / reference", wrap: 28 },
        { header: "verdict" },
        { header: "what limits it, what would move it", wrap: 60 },
      ],
      latest.summary.map((r) => [r.figure, r.measured, r.target, r.verdict, r.limits ?? ""]),
    ),
  );
  if (latest.encode) console.log(`  encode figures: ${latest.encode.source}`);
  for (const p of problems) console.log(`  not in this summary: ${p}`);
  console.log(`  every figure: ${values.out}`);
}

await main();
