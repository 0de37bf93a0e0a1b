/**
 * The GitHub workflows: linted by actionlint (built by scripts/install-actionlint.sh, which
 * scripts/test.sh runs before the tests), and shaped as the delivery asks: CI runs the README's test command, pull
 * requests from this repository's branches get a `pulumi preview --diff` comment per stack, each
 * stack with its own GitHub environment and AWS role, forks get CI only, every action is pinned
 * by commit SHA, and the workflows start on the Node the project pins (docs/adr/0009).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { LAMBDA_RUNTIME } from "../../infra/functions.js";
import { ROOT } from "./harness.js";

const WORKFLOWS = join(ROOT, ".github", "workflows");
const ACTIONLINT = join(ROOT, ".local", "bin", "actionlint");
const FILES = readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml"));

// biome-ignore lint/suspicious/noExplicitAny: workflow YAML.
const workflow = (name: string): any => parse(readFileSync(join(WORKFLOWS, name), "utf8"));

interface Step {
  readonly id?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}

// biome-ignore lint/suspicious/noExplicitAny: workflow YAML.
const jobsOf = (name: string): [string, any][] => Object.entries(workflow(name).jobs);

const stepsOf = (name: string): Step[] => jobsOf(name).flatMap(([, job]) => job.steps ?? []);

/** The release scripts/bootstrap.sh installs and every script runs on (scripts/node.env). */
const NODE_VERSION = /^LAKEHOUSE_NODE_VERSION=(\S+)$/m.exec(
  readFileSync(join(ROOT, "scripts", "node.env"), "utf8"),
)?.[1];

/** Only pull requests from this repository's own branches may reach AWS and the secrets. */
const SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository";

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
    // The token's rights are the job's, not the workflow's.
    expect(wf.permissions).toEqual({});
    const job = wf.jobs.preview;
    expect(job.permissions).toEqual({
      contents: "read",
      "id-token": "write",
      "pull-requests": "write",
    });
    expect(job.strategy.matrix.stack).toEqual(["dev", "prod"]);
    const steps = job.steps as Step[];
    const aws = steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    expect(aws?.with).toHaveProperty("role-to-assume");
    const pulumi = steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
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

  it("give each stack its own GitHub environment, AWS role and region", () => {
    const job = workflow("preview.yml").jobs.preview;
    const stacks = job.strategy.matrix.stack as string[];
    expect(job.strategy.matrix.include ?? []).toEqual([]);
    // The environment is the matrix entry's stack: `dev` runs in `dev`, `prod` in `prod`.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a template.
    const matrixStack = "${{ matrix.stack }}";
    expect(job.environment).toBe(matrixStack);
    const environments = stacks.map((stack) => String(job.environment).replace(matrixStack, stack));
    expect(environments).toEqual(stacks);
    expect(new Set(environments).size).toBe(stacks.length);

    const steps = job.steps as Step[];
    const aws = steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    // A variable, not a secret: an environment's variable wins over the repository's, so each
    // environment names its own role.
    expect(aws?.with).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a template.
      "role-to-assume": "${{ vars.AWS_PREVIEW_ROLE_ARN }}",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a template.
      "aws-region": "${{ steps.stack.outputs.region }}",
    });
    const regionStep = steps.find((s) => s.id === "stack");
    expect(steps.indexOf(regionStep as Step)).toBeLessThan(steps.indexOf(aws as Step));
    // The step itself, run here for each stack, answers the stack file's aws:region.
    for (const stack of stacks) {
      const expected = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config["aws:region"];
      expect(expected).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
      const dir = mkdtempSync(join(tmpdir(), "region-"));
      try {
        const output = join(dir, "output");
        execFileSync("bash", ["-c", regionStep?.run ?? "exit 1"], {
          cwd: ROOT,
          env: { ...process.env, ...regionStep?.env, STACK: stack, GITHUB_OUTPUT: output },
        });
        expect(readFileSync(output, "utf8")).toBe(`region=${expected}\n`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it("never hand AWS credentials or secrets to a pull request from a fork", () => {
    for (const file of FILES) {
      const wf = workflow(file);
      // Both run on the base repository's rights with code a fork can influence.
      expect(Object.keys(wf.on)).not.toContain("pull_request_target");
      expect(Object.keys(wf.on)).not.toContain("workflow_run");
      expect(wf.permissions?.["id-token"]).toBeUndefined();
      for (const [name, job] of jobsOf(file)) {
        const text = JSON.stringify(job);
        const privileged =
          job.permissions?.["id-token"] === "write" ||
          job.environment !== undefined ||
          /secrets\.(?!GITHUB_TOKEN\b)/.test(text);
        if (privileged && Object.keys(wf.on).includes("pull_request"))
          expect(job.if, `${file}: job ${name}`).toBe(SAME_REPOSITORY);
      }
    }
    // CI holds nothing to leak: it is what a fork's pull request gets.
    expect(workflow("ci.yml").permissions).toEqual({ contents: "read" });
    expect(JSON.stringify(workflow("ci.yml"))).not.toMatch(/secrets\.|vars\./);
  });

  it("pin every action by full commit SHA, with its release as a comment", () => {
    const pins = new Map<string, string>();
    for (const file of FILES) {
      const text = readFileSync(join(WORKFLOWS, file), "utf8");
      const lines = [...text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(?:\s+#\s*(.*))?$/gm)];
      // Every `uses:` the YAML holds is one of these lines (none quoted or written otherwise).
      expect(lines.map((m) => m[1])).toEqual(stepsOf(file).flatMap((s) => s.uses ?? []));
      expect(lines.length).toBeGreaterThan(0);
      for (const [, uses = "", comment] of lines) {
        expect(uses, `${file}: ${uses}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
        expect(comment, `${file}: ${uses}`).toMatch(/^v\d+\.\d+\.\d+$/);
        // One action, one pin, in every workflow.
        const action = uses.slice(0, uses.indexOf("@"));
        const pin = `${uses} # ${comment}`;
        expect(pins.get(action) ?? pin, `${file}: ${action}`).toBe(pin);
        pins.set(action, pin);
      }
    }
  });
});

describe("the project's Node", () => {
  const major = NODE_VERSION?.split(".")[0];

  it("is the Lambda runtime's major, and the one these tests run on", () => {
    expect(NODE_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(LAMBDA_RUNTIME).toBe(`nodejs${major}.x`);
    // scripts/stack.env puts it first on PATH; scripts/test.sh refuses any other.
    expect(process.versions.node.split(".")[0], "run through npm test or scripts/stack.env").toBe(major);
  });

  it("is the one both workflows start on", () => {
    for (const file of FILES) {
      const setups = stepsOf(file).filter((s) => s.uses?.startsWith("actions/setup-node@"));
      expect(setups.length, file).toBe(1);
      expect(String(setups[0]?.with?.["node-version"]), file).toBe(NODE_VERSION);
    }
  });
});
