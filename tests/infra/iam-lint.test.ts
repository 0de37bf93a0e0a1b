/**
 * Every IAM permissions document of both stacks (role policies, bucket policies) linted by
 * parliament (glue/tools/iam_lint.py, in the project's venv): unknown actions, condition keys that
 * do not apply to an action (a statement that silently grants nothing), malformed ARNs, resource
 * types an action cannot take. A finding fails the test unless the reviewed allow-list below
 * explains it. Trust policies are not parliament's kind of document (no resource, by design);
 * tests/infra/program.test.ts checks them: one service each, with only conditions it sends.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, runStack, type StackRun } from "./harness.js";

const PYTHON = join(ROOT, ".local", "venv", "bin", "python");
const LINT = join(ROOT, "glue", "tools", "iam_lint.py");

interface Finding {
  readonly name: string;
  readonly issue: string;
  readonly severity: string;
  readonly title: string;
  readonly detail: unknown;
}

/**
 * Findings reviewed and accepted, each with why. A finding matches when its issue is the same and
 * its detail contains `detail` (as JSON text); keep entries as narrow as the finding allows.
 */
const ALLOWED: readonly { issue: string; detail: string; why: string }[] = [
  {
    issue: "RESOURCE_STAR",
    detail: "ec2:Describe",
    why: "EC2 Describe* calls support no resource-level permissions (Service Authorization Reference)",
  },
  {
    issue: "RESOURCE_STAR",
    detail: "cloudwatch:PutMetricData",
    why: "PutMetricData takes no resource; the statement limits it by cloudwatch:namespace instead",
  },
  {
    issue: "RESOURCE_MISMATCH",
    detail: '{"action":"states:ListExecutions","required_format":"arn:*:states:*:*:mapRun:*/*:*"}',
    why: "parliament 1.6.4's action data lists only mapRun for ListExecutions; the Service Authorization Reference lists stateMachine as well",
  },
  {
    issue: "RESOURCE_STAR",
    detail: "logs:CreateLogDelivery",
    why: "CloudWatch Logs vended delivery (Step Functions execution logs) is account-level",
  },
];

/** The policy documents a stack declares, named by resource and kind. */
function documents(run: StackRun): { name: string; document: string }[] {
  const out: { name: string; document: string }[] = [];
  for (const r of run.resources) {
    if (r.type === "aws:iam/rolePolicy:RolePolicy")
      out.push({ name: `${r.name} (policy)`, document: r.inputs.policy });
    if (r.type === "aws:s3/bucketPolicy:BucketPolicy")
      out.push({ name: `${r.name} (bucket policy)`, document: r.inputs.policy });
  }
  return out;
}

function lint(policies: { name: string; document: string }[]): Finding[] {
  const out = execFileSync(PYTHON, [LINT], { input: JSON.stringify(policies), encoding: "utf8" });
  return JSON.parse(out) as Finding[];
}

const allowed = (f: Finding) =>
  ALLOWED.some((a) => a.issue === f.issue && JSON.stringify(f.detail).includes(a.detail));

const runs: Partial<Record<"dev" | "prod", StackRun>> = {};

beforeAll(async () => {
  runs.dev = await runStack("dev");
  runs.prod = await runStack("prod");
}, 120_000);

describe.each(["dev", "prod"] as const)("IAM documents of stack %s", (stack) => {
  it("pass parliament, but for the reviewed exceptions", () => {
    const docs = documents(runs[stack] as StackRun);
    expect(docs.length).toBeGreaterThan(15);
    const findings = lint(docs).filter((f) => !allowed(f));
    expect(findings.map((f) => `${f.name}: ${f.issue} ${JSON.stringify(f.detail)}`)).toEqual([]);
  });
});

describe("the analysts' and QuickSight's roles", () => {
  it("are linted like every role, and need no exception", () => {
    const docs = documents(runs.dev as StackRun).filter((d) =>
      ["analytics-analyst (policy)", "analytics-quicksight (policy)"].includes(d.name),
    );
    expect(docs.map((d) => d.name).sort()).toEqual([
      "analytics-analyst (policy)",
      "analytics-quicksight (policy)",
    ]);
    expect(lint(docs).map((f) => `${f.name}: ${f.issue} ${JSON.stringify(f.detail)}`)).toEqual([]);
  });
});

describe("the IAM linter", () => {
  it("finds a condition key that does not apply to an action, an unknown action and a bad ARN", () => {
    const document = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["s3:ListBucket", "s3:GetBucketLocation"],
          Resource: ["arn:aws:s3:::lake"],
          Condition: { StringLike: { "s3:prefix": ["raw/*"] } },
        },
        { Effect: "Allow", Action: ["s3:GetObjects"], Resource: ["arn:aws:s3:::lake/*"] },
        { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: ["arn:aws:s3:::lake/*"] },
      ],
    });
    const issues = lint([{ name: "bad", document }]).map((f) => f.issue);
    expect(issues).toEqual(
      expect.arrayContaining(["UNKNOWN_CONDITION_FOR_ACTION", "UNKNOWN_ACTION", "RESOURCE_MISMATCH"]),
    );
  });

  it("does not allow-list more than it says", () => {
    const f = (issue: string, detail: unknown): Finding => ({
      name: "x",
      issue,
      severity: "",
      title: "",
      detail,
    });
    expect(allowed(f("RESOURCE_STAR", ["ec2:DescribeNetworkInterfaces"]))).toBe(true);
    expect(allowed(f("RESOURCE_STAR", ["s3:GetObject"]))).toBe(false);
    expect(allowed(f("UNKNOWN_CONDITION_FOR_ACTION", "ec2:Describe"))).toBe(false);
  });
});
