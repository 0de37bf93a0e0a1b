/**
 * `cutover`: moves a deployment from the snapshot databases to production (docs/design.md §6,
 * ADR 0016). `--stack local` acts on the local deployment in moto; any other stack on AWS, with
 * the names its `cutover` stack output gives (read with the Pulumi CLI, which needs no engine
 * run for it). A dry run unless `--execute`; `--rollback` plans the way back.
 */
import { execFile } from "node:child_process";
import { hostname, userInfo } from "node:os";
import { promisify } from "node:util";
import { Command } from "commander";
import pg from "pg";
import { connectionUrl } from "../../pipeline/connections/secret.js";
import {
  applyCutover,
  type CutoverContext,
  CutoverError,
  type CutoverPlan,
  CutoverStuckError,
  type PlannedStep,
  planCutover,
  problemsOf,
} from "../../pipeline/cutover/cutover.js";
import { awsDeployment, type Deployment } from "../../pipeline/cutover/deployment.js";
import { CutoverTargetsSchema } from "../../pipeline/cutover/targets.js";
import { ConfigError, PipelineError } from "../../pipeline/errors.js";
import { loadLocalConfig } from "../config.js";
import { provisionLocalDeployment } from "../orchestration/local-deployment.js";
import { runningLocalExecutions } from "../orchestration/local-guard.js";
import { LOCAL_EXECUTIONS_DIR } from "../orchestration/local-run.js";

export const LOCAL_STACK = "local";

export interface CutoverCommandOptions {
  readonly stack: string;
  readonly execute?: boolean;
  readonly rollback?: boolean;
}

/** The deployment and support database of a stack. */
async function openStack(stack: string): Promise<{ ctx: CutoverContext; close(): Promise<void> }> {
  const operator = `${userInfo().username}@${hostname()}`;
  let deployment: Deployment;
  let supportUrl: string;
  if (stack === LOCAL_STACK) {
    const config = loadLocalConfig();
    const { targets } = await provisionLocalDeployment(config);
    deployment = awsDeployment(targets, undefined, {
      runningExecutions: async () => runningLocalExecutions(LOCAL_EXECUTIONS_DIR),
    });
    supportUrl = config.SUPPORT_DATABASE_URL;
  } else {
    deployment = awsDeployment(await stackTargets(stack));
    const { support } = deployment.targets;
    const secret = await deployment.readSecret(support.secret, {
      engine: "postgres",
      host: support.host,
      port: support.port,
      dbname: support.dbname,
    });
    supportUrl = connectionUrl(secret.value);
  }
  const pool = new pg.Pool({ connectionString: supportUrl, max: 3, connectionTimeoutMillis: 10_000 });
  return {
    ctx: { stack, deployment, support: pool, operator },
    async close() {
      deployment.close();
      await pool.end();
    },
  };
}

/** The stack's `cutover` output, through the Pulumi CLI (its state backend, not the engine). */
async function stackTargets(stack: string) {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)("pulumi", [
      "stack",
      "output",
      "cutover",
      "--json",
      "--stack",
      stack,
    ]));
  } catch (error) {
    throw new ConfigError(
      `cannot read the stack output "cutover" of ${stack} with the Pulumi CLI (is it installed and logged in to the stack's backend, and was the stack deployed with this version?): ${(error as Error).message.split("\n")[0]}`,
    );
  }
  const parsed = CutoverTargetsSchema.safeParse(JSON.parse(stdout));
  if (!parsed.success)
    throw new ConfigError(
      `stack ${stack}'s "cutover" output: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

const SIDE_WORD = {
  snapshot: "the snapshot",
  production: "production",
  between: "between the two",
  unknown: "unknown",
};

export function formatPlan(plan: CutoverPlan): string {
  const from = plan.to === "production" ? "snapshot" : "production";
  const lines = [
    `${plan.action === "execute" ? "cutover" : "rollback"} of stack ${plan.stack}: ${from} → ${plan.to}`,
    `now: ${SIDE_WORD[plan.where]}`,
    "preflight",
  ];
  const width = Math.max(...plan.checks.map((c) => c.name.length));
  for (const check of plan.checks) {
    lines.push(
      `  ${check.problems.length ? "✗" : "✓"} ${check.name.padEnd(width)}  ${check.detail}`.trimEnd(),
    );
    for (const problem of check.problems) lines.push(`      ${problem}`);
  }
  if (!plan.steps.length) return lines.join("\n");
  lines.push("steps");
  for (const [i, step] of plan.steps.entries()) lines.push(...formatStep(step, i + 1));
  return lines.join("\n");
}

function formatStep(step: PlannedStep, n: number): string[] {
  const head = `  ${n}. ${step.name.padEnd(15)}`;
  const lines = step.done
    ? [`${head} unchanged: ${step.now}`]
    : [`${head} ${step.now}`, `${" ".repeat(head.length)} → ${step.want}`];
  return [...lines, ...step.detail.map((d) => `       ${d}`)];
}

export async function runCutover(
  options: CutoverCommandOptions,
  print: (line: string) => void,
): Promise<number> {
  const action = options.rollback ? "rollback" : "execute";
  let opened: Awaited<ReturnType<typeof openStack>>;
  try {
    opened = await openStack(options.stack);
  } catch (error) {
    if (error instanceof PipelineError) throw error;
    const hint = options.stack === LOCAL_STACK ? " (is the local stack up? npm run stack start)" : "";
    throw new CutoverError(
      `cannot open stack ${options.stack}${hint}: ${(error as Error).message}`,
      {},
      { cause: error },
    );
  }
  const { ctx, close } = opened;
  try {
    const plan = await planCutover(ctx, action);
    print(formatPlan(plan));
    const problems = problemsOf(plan);
    if (problems.length) {
      print(`\nstopped: ${problems.length} problem(s) above; nothing was changed.`);
      return 1;
    }
    const pending = plan.steps.filter((s) => !s.done);
    const where = plan.to === "production" ? "production" : "the snapshot";
    if (!options.execute) {
      print(
        pending.length
          ? `\ndry run: nothing changed. Run again with --execute to apply the ${pending.length} change(s).`
          : `\nnothing to change: stack ${plan.stack} is on ${where}.`,
      );
      return 0;
    }
    if (!pending.length) {
      // Still logged as unchanged: who looked, and when.
      await applyCutover(ctx, plan);
      print(`\nnothing to change: stack ${plan.stack} is on ${where} already.`);
      return 0;
    }
    print("\napplying");
    await applyCutover(ctx, plan, {
      afterStep: (step, outcome) => print(`  ${outcome === "applied" ? "✓" : "="} ${step.name}: ${outcome}`),
    });
    print(
      `\nstack ${plan.stack} is on ${where}` +
        (plan.to === "production"
          ? ": the next execution reads the production databases; the schedule starts it."
          : ": the schedule is disabled; executions started by hand read the snapshot databases."),
    );
    return 0;
  } catch (error) {
    if (error instanceof CutoverStuckError) {
      print(`\nSTUCK: ${error.message}`);
      return 2;
    }
    if (error instanceof CutoverError) {
      print(`\nfailed: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await close();
  }
}

export function cutoverCommand(): Command {
  return new Command("cutover")
    .description("switch a deployment from the snapshot databases to production (a dry run unless --execute)")
    .requiredOption(
      "--stack <stack>",
      `the Pulumi stack (dev, prod, ...), or ${LOCAL_STACK} for the local deployment`,
    )
    .option("--execute", "apply the plan")
    .option(
      "--rollback",
      "plan the way back to the snapshot (with --execute: go back): schedule off, snapshot settings, bookmarks",
    )
    .action(async (options: CutoverCommandOptions) => {
      process.exitCode = await runCutover(options, (line) => console.log(line));
    });
}
