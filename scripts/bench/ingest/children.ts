/**
 * The parent's side of the child processes: one per measurement, so peak RSS is that
 * measurement's alone. By default they run from one esbuild bundle of the entry, built with the
 * functions' options (infra/bundle.ts): the Lambda runs a bundle, not TypeScript through a loader,
 * and the loader's own work and memory would otherwise count against the worker (and against the
 * bare cursor read it is compared with).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { type Mode, ROOT } from "./context.js";

const CHILD_BUNDLE = join(ROOT, ".local/build/bench/ingest.mjs");

const running = new Set<ChildProcess>();

/** How the children run: the bundle (default), or the entry through the parent's loader. */
let childEntry: { script: string; execArgv: readonly string[] } = { script: CHILD_BUNDLE, execArgv: [] };

/** Bundle `entry` (the benchmark's entry file) for the children, as the functions are bundled. */
export async function bundleChildren(entry: string): Promise<void> {
  const { buildSync } = await import("esbuild");
  const { BUNDLE_OPTIONS, OPTIONAL_EXTERNALS } = await import("../../../infra/bundle.js");
  buildSync({
    ...BUNDLE_OPTIONS,
    entryPoints: [entry],
    outfile: CHILD_BUNDLE,
    // DuckDB is a native add-on: loaded from node_modules, never bundled.
    external: [...OPTIONAL_EXTERNALS, "@duckdb/node-api"],
    metafile: false,
  });
}

/** `--from-source`: children run `entry` through this process's loader (tsx), not the bundle. */
export function runChildrenFromSource(entry: string): void {
  childEntry = { script: entry, execArgv: process.execArgv };
}

/** Run one measurement in a child; its report is the last line it prints. */
export function runChild<T>(mode: Mode, contextPath: string, nodeFlags: readonly string[] = []): Promise<T> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      [...nodeFlags, ...childEntry.execArgv, childEntry.script, "--child", mode, "--context", contextPath],
      {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, INGEST_BENCH_ROOT: ROOT },
      },
    );
    running.add(child);
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
    });
    child.on("error", fail);
    child.on("close", (code, signal) => {
      running.delete(child);
      if (code !== 0) {
        fail(new Error(`${mode} child exited with ${signal ?? `status ${code}`}`));
        return;
      }
      done(JSON.parse(stdout.trim().split("\n").at(-1) as string) as T);
    });
  });
}

/** Stop the children still running (the parent was interrupted). */
export function killChildren(): void {
  for (const child of running) child.kill("SIGTERM");
}
