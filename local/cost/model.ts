/**
 * The cost model (issue 17): pure functions from (prices, assumptions) to cost lines, one list for
 * the initial load and one for a month of operation (lines.ts), their totals beside the goals and
 * the original system's figures, the lines that dominate, what would lower them and how much the
 * totals depend on what is not measured (levers.ts). This module assembles the report and is the
 * model's public face.
 */
import { DAYS_PER_MONTH } from "./billing.js";
import { type Derived, derive } from "./derive.js";
import {
  type LeverResult,
  leverSavings,
  type SensitivityRow,
  sensitivities,
  withEveryLever,
} from "./levers.js";
import { type CostInputs, type CostLine, costLines, type Phase, total } from "./lines.js";

export * from "./billing.js";
export * from "./derive.js";
export * from "./levers.js";
export * from "./lines.js";

const GiB = 1024 ** 3;

/** The goals and the original system's figures, per phase. */
export const GOALS: Readonly<Record<Phase, number>> = { initial: 1000, monthly: 150 };
export const ORIGINAL: Readonly<Record<Phase, { readonly total: number; readonly note: string }>> = {
  initial: {
    total: 3000,
    note: "the original's thesis §1.5, docs/design.md §8: about $3000 to load the history since 2015, mostly Lambda and Glue; no breakdown",
  },
  monthly: {
    total: 400,
    note: "the original's thesis §1.5, docs/design.md §8: about $400 a month, varying with use; no breakdown",
  },
};
export const GOALS_SOURCE = "issue 17: initial ≤ $1000, monthly ≤ $150";

/** The `n` costliest lines, costliest first. */
export function dominantLines(lines: readonly CostLine[], n = 3): CostLine[] {
  return [...lines].sort((x, y) => y.cost - x.cost).slice(0, n);
}

export interface DominantLine {
  readonly line: CostLine;
  /** Share of the phase total. */
  readonly share: number;
  readonly levers: readonly LeverResult[];
}

export interface PhaseReport {
  readonly phase: Phase;
  readonly lines: readonly CostLine[];
  readonly total: number;
  readonly goal: number;
  readonly meetsGoal: boolean;
  readonly original: { readonly total: number; readonly note: string };
  readonly dominant: readonly DominantLine[];
  /** Every lever that lowers this phase, largest saving first (each alone). */
  readonly levers: readonly LeverResult[];
  /** The phase total with every applicable lever. */
  readonly withEveryLever: number;
  /**
   * Monthly only: a later month, once what the load wrote has aged (raw objects expired, curated
   * files in the tiers their age reaches), with the growth until then.
   */
  readonly later?: { readonly month: number; readonly total: number; readonly withEveryLever: number };
}

/** The later month {@link PhaseReport.later} models: the fourth after cutover. */
export const LATER_MONTH = 4;

/** The same inputs for month `month` after cutover (its mean storage: `month − 0.5` of growth). */
export function inMonth(inputs: CostInputs, month: number): CostInputs {
  const growth = inputs.assumptions.monthsOfGrowth;
  return {
    prices: inputs.prices,
    assumptions: {
      ...inputs.assumptions,
      monthsOfGrowth: {
        ...growth,
        value: month - 0.5,
        source: `month ${month} after cutover: ${growth.source}`,
      },
    },
  };
}

export interface ExcludedLine {
  readonly service: string;
  readonly line: string;
  readonly why: string;
  /** A figure for scale, when the model can give one, per phase. */
  readonly estimate?: Partial<Record<Phase, number>>;
}

/** What the totals leave out, and why. */
export function excludedLines(inputs: CostInputs, d: Derived = derive(inputs.assumptions)): ExcludedLine[] {
  const { prices: p, assumptions: a } = inputs;
  const sourceGb = d.collections.reduce((s, c) => s + c.volume.bytes, 0) / GiB;
  const dailyGb = d.collections.reduce((s, c) => s + c.dailyBytes, 0) / GiB;
  const crossAz = (a.subnets.value - 1) / a.subnets.value;
  const users = a.quicksightUsers.value;
  return [
    {
      service: "QuickSight",
      line: `${users.authors} authors, ${users.readers} readers`,
      why: "deployed (infra/analytics.ts), but priced per user, not per data: outside the issue's list",
      estimate: {
        monthly: users.authors * p.quicksightAuthorMonth.usd + users.readers * p.quicksightReaderMonth.usd,
      },
    },
    {
      service: "VPC / EC2",
      line: "reading MongoDB across Availability Zones",
      why: `the sources' network is not this program's (infra/network.ts); with MongoDB in one of ${a.subnets.value} AZs, ~${Math.round(crossAz * 100)} % of its bytes cross an AZ boundary (charged both ways)`,
      estimate: {
        initial: sourceGb * crossAz * 2 * p.interAzTransferGb.usd,
        monthly: dailyGb * DAYS_PER_MONTH * crossAz * 2 * p.interAzTransferGb.usd,
      },
    },
    {
      service: "VPC",
      line: "reading MongoDB through a NAT gateway",
      why: "only if the VPC reaches the sources through NAT (this program creates none): its per-GB processing applies to every source byte",
      estimate: {
        initial: sourceGb * p.natGatewayGb.usd,
        monthly: dailyGb * DAYS_PER_MONTH * p.natGatewayGb.usd,
      },
    },
    {
      service: "Glue Data Catalog",
      line: "tables, views, requests",
      why: "well under the free million objects and million requests a month",
    },
    {
      service: "EventBridge Scheduler, SNS, SQS",
      line: "one schedule, the alarm topic, the dead-letter queue",
      why: "within their free tiers at a few runs a day",
    },
    {
      service: "MongoDB and PostgreSQL sources",
      line: "the production databases",
      why: "exist without the lake (the original's EC2 c5.4xlarge and RDS db.t3.xlarge)",
    },
  ];
}

/** The whole report of a stack: both phases, their dominant lines and levers, the exclusions. */
export interface CostReport {
  readonly derived: Derived;
  readonly phases: Readonly<Record<Phase, PhaseReport>>;
  readonly excluded: readonly ExcludedLine[];
  readonly sensitivities: readonly SensitivityRow[];
}

export function costReport(inputs: CostInputs, dominantCount = 3): CostReport {
  const derived = derive(inputs.assumptions);
  const phase = (ph: Phase): PhaseReport => {
    const every = withEveryLever(inputs, ph);
    const lines = costLines(inputs, ph, derived);
    const t = total(lines);
    return {
      phase: ph,
      lines,
      total: t,
      goal: GOALS[ph],
      meetsGoal: t <= GOALS[ph],
      original: ORIGINAL[ph],
      dominant: dominantLines(lines, dominantCount).map((line) => ({
        line,
        share: t > 0 ? line.cost / t : 0,
        levers: leverSavings(inputs, ph, line.id),
      })),
      levers: leverSavings(inputs, ph),
      withEveryLever: total(costLines(every, ph)),
      ...(ph === "monthly"
        ? {
            later: {
              month: LATER_MONTH,
              total: total(costLines(inMonth(inputs, LATER_MONTH), ph)),
              withEveryLever: total(costLines(inMonth(every, LATER_MONTH), ph)),
            },
          }
        : {}),
    };
  };
  return {
    derived,
    phases: { initial: phase("initial"), monthly: phase("monthly") },
    excluded: excludedLines(inputs, derived),
    sensitivities: sensitivities(inputs),
  };
}
