/**
 * `cost`: the projected AWS cost of a stack's initial load and of a month of operation (issue 17),
 * from the stack file, the production volumes, the benchmarks' figures and AWS list prices
 * (local/cost/). Reads files only: no server, no AWS call.
 */
import { Command, Option } from "commander";
import { buildAssumptions } from "../cost/assumptions.js";
import { readBenchFigures } from "../cost/bench.js";
import { CostInputError } from "../cost/errors.js";
import { costReportJson, formatCostReport } from "../cost/format.js";
import { type CostInputs, costReport } from "../cost/model.js";
import { PRICED_REGION, pricesFor } from "../cost/prices.js";
import { readStackSettings, STACKS, type StackName } from "../cost/stack.js";

export interface CostOptions {
  readonly stack: StackName;
  /** A bench JSON file; undefined: `.local/bench/latest.json`, else `docs/benchmarks.json`; false: none. */
  readonly bench?: string | false;
  /** Project root (where the stack files are). */
  readonly root?: string;
}

/** The model's inputs for a stack, as the command builds them. */
export function costInputs(options: CostOptions): CostInputs {
  const root = options.root ?? process.cwd();
  const settings = readStackSettings(options.stack, root);
  const prices = pricesFor(settings.region);
  if (!prices)
    throw new CostInputError(
      `no prices for ${settings.region} (${settings.file} aws:region): local/cost/prices.ts has ${PRICED_REGION} only`,
    );
  const bench = options.bench === false ? undefined : readBenchFigures(options.bench, root);
  return { prices, assumptions: buildAssumptions(settings, bench) };
}

export function costCommand(): Command {
  return new Command("cost")
    .description("projected AWS cost of the initial load and of a month of operation (no server needed)")
    .addOption(
      new Option("--stack <stack>", "the stack file to read (Pulumi.<stack>.yaml)")
        .choices(STACKS)
        .default("prod"),
    )
    .option(
      "--bench <file>",
      "measured figures (default: .local/bench/latest.json, else the recorded run docs/benchmarks.json)",
    )
    .option("--no-bench", "ignore any bench file: the built-in early figures only")
    .option("--json", "print the report as JSON", false)
    .action((opts: { stack: StackName; bench?: string | boolean; json: boolean }) => {
      // commander: `--no-bench` sets false; `--bench <file>` a string; neither leaves true.
      const bench = opts.bench === false ? false : typeof opts.bench === "string" ? opts.bench : undefined;
      const inputs = costInputs({ stack: opts.stack, bench });
      const report = costReport(inputs);
      if (opts.json) process.stdout.write(`${JSON.stringify(costReportJson(report, inputs), null, 2)}\n`);
      else process.stdout.write(`${formatCostReport(report, inputs)}\n`);
    });
}
