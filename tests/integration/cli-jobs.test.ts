/**
 * One Glue job from the main CLI (`lakehouse extract | curate | analytics`, issue 16): the job's
 * own arguments reach it, and what it refuses ends the command with the stage's FAILED line and
 * the job's one-line error, exit status 1. Cheap on purpose: the jobs refuse these arguments
 * before any Spark work, so the local lake is left as it is.
 */
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadLocalConfig } from "../../local/config.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
loadLocalConfig();

function lakehouse(...args: string[]) {
  const run = spawnSync(join(ROOT, "node_modules/.bin/tsx"), ["local/cli/main.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: run.status, out: `${run.stdout}${run.stderr}` };
}

describe("lakehouse extract | curate | analytics", () => {
  it("passes the job's own options to it, and prints the job's refusal as the stage's cause", () => {
    const run = lakehouse("extract", "--tables", "device,not_a_table");
    expect(run.code).toBe(1);
    expect(run.out).toMatch(
      /postgres_extract: started on local Spark \(log: \.local\/log\/postgres_extract\.log\)/,
    );
    expect(run.out).toMatch(/postgres_extract: FAILED in [\d.]+ s — .*not_a_table/);
    expect(run.out).not.toMatch(/^\s+at /m);
  });

  it.each([
    ["curate", "mongodb_curate"],
    ["analytics", "analytics"],
    ["report", "analytics"],
  ])("%s runs %s and names an option it does not know", (command, job) => {
    const run = lakehouse(command, "--no-such-option");
    expect(run.code).toBe(1);
    expect(run.out).toContain(`${job}: FAILED`);
    expect(run.out).toContain("--no-such-option");
  });
});
