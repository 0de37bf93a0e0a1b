/**
 * The GitHub workflows: linted by actionlint (built by scripts/install-actionlint.sh, which
 * bootstrap runs), and shaped as the delivery asks: CI runs the README's test command, pull
 * requests get a `pulumi preview --diff` comment per stack.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "./harness.js";

const WORKFLOWS = join(ROOT, ".github", "workflows");
const ACTIONLINT = join(ROOT, ".local", "bin", "actionlint");

// biome-ignore lint/suspicious/noExplicitAny: workflow YAML.
const workflow = (name: string): any => parse(readFileSync(join(WORKFLOWS, name), "utf8"));

beforeAll(() => {
  // Idempotent: a stamp makes this a no-op once built (bootstrap builds it first).
  if (!existsSync(ACTIONLINT))
    execFileSync("bash", [join(ROOT, "scripts", "install-actionlint.sh")], { stdio: "inherit" });
}, 300_000);

describe("workflows", () => {
  it("pass actionlint", () => {
    const files = readdirSync(WORKFLOWS)
      .filter((f) => f.endsWith(".yml"))
      .map((f) => join(WORKFLOWS, f));
    expect(files.length).toBe(2);
    const result = spawnSync(ACTIONLINT, ["-no-color", ...files], { encoding: "utf8" });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("run the README's test command in CI", () => {
    const steps = workflow("ci.yml").jobs.test.steps as { run?: string }[];
    expect(steps.map((s) => s.run).filter(Boolean)).toEqual(["bash .ci/run"]);
    expect(readFileSync(join(ROOT, ".ci", "run"), "utf8")).toMatch(/^npm test$/m);
  });

  it("post `pulumi preview --diff` for every stack on pull requests, with OIDC credentials", () => {
    const wf = workflow("preview.yml");
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions).toMatchObject({ "id-token": "write", "pull-requests": "write" });
    const job = wf.jobs.preview;
    expect(job.strategy.matrix.stack).toEqual(["dev", "prod"]);
    const steps = job.steps as {
      uses?: string;
      with?: Record<string, unknown>;
      env?: Record<string, string>;
    }[];
    const aws = steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    expect(aws?.with).toHaveProperty("role-to-assume");
    const pulumi = steps.find((s) => s.uses === "pulumi/actions@v6");
    expect(pulumi?.with).toMatchObject({
      command: "preview",
      diff: true,
      "comment-on-pr": true,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a template.
      "stack-name": "${{ matrix.stack }}",
    });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a template.
    expect(pulumi?.env?.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
    for (const stack of job.strategy.matrix.stack)
      expect(existsSync(join(ROOT, `Pulumi.${stack}.yaml`))).toBe(true);
  });
});
