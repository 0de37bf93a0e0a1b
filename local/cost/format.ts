/**
 * The cost report as text (`npm run cost`) and as JSON (`--json`). The text's tables share one
 * small aligned-columns function; the JSON is the model's own objects, so a test can compare it
 * with the model run in-process.
 */
import { formatTable } from "../cli/table.js";
import { type Assumptions, assumptionList, bytesPerDocument } from "./assumptions.js";
import {
  type CostInputs,
  type CostLine,
  type CostReport,
  DAYS_PER_MONTH,
  GOALS_SOURCE,
  type Phase,
  type PhaseReport,
} from "./model.js";
import { PRICE_BASIS, PRICES_AS_OF, type Price } from "./prices.js";

const GiB = 1024 ** 3;

const num = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
/** Dollars: cents for most figures, more digits below a cent. */
export const usd = (n: number): string =>
  n !== 0 && Math.abs(n) < 0.01 ? `$${n.toPrecision(2)}` : `$${num(n, 2)}`;
const quantity = (n: number) => num(n, Math.abs(n) >= 100 ? 0 : 2);
/** A unit price as AWS writes it: no trailing zeros, up to ten decimals. */
const unitPrice = (n: number) => `$${n.toLocaleString("en-US", { maximumFractionDigits: 10 })}`;

/**
 * A table through the command line's one printer (local/cli/table.ts); `align` says per column
 * `l` (text) or `r` (numbers), e.g. `"llrr"`; `indent` in spaces.
 */
export function alignedTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  align: string,
  indent = 2,
): string[] {
  const columns = head.map((header, i) => ({
    header,
    align: align[i] === "r" ? ("right" as const) : ("left" as const),
  }));
  return formatTable(columns, rows, { indent }).split("\n");
}

const PHASE_TITLE: Readonly<Record<Phase, string>> = {
  initial: "Initial load",
  monthly: "One month of operation",
};

function phaseHeading(report: CostReport, phase: Phase, a: Assumptions): string {
  const d = report.derived;
  const docs = d.collections.reduce((s, c) => s + c.volume.documents, 0);
  const bytes = d.collections.reduce((s, c) => s + c.volume.bytes, 0);
  if (phase === "initial")
    return (
      `${PHASE_TITLE.initial}: ${num(docs / 1e9, 2)} billion documents, ${num(bytes / 1024 ** 4, 1)} TiB of BSON ` +
      `from ${a.historyStart.value} to ${a.snapshotDate.value}, and ddc's ${a.ddcBytes.value.tables} tables; ` +
      `${d.executions} executions back to back, about ${num(d.loadHours / 24, 1)} days`
    );
  return (
    `${PHASE_TITLE.monthly} (the first after cutover): ${num(d.runsPerMonth, 1)} executions of ~${num(d.runHours, 1)} h, ` +
    `${num((d.collections.reduce((s, c) => s + c.dailyDocs, 0) * DAYS_PER_MONTH) / 1e6)} million new documents ` +
    `(${num((d.collections.reduce((s, c) => s + c.dailyBytes, 0) * DAYS_PER_MONTH) / GiB)} GB of BSON) a month`
  );
}

function lineRows(p: PhaseReport): string[][] {
  return p.lines.map((l: CostLine) => [
    l.service,
    l.line,
    quantity(l.quantity),
    l.unit,
    unitPrice(l.unitPrice),
    usd(l.cost),
    p.total > 0 ? `${num((100 * l.cost) / p.total, 1)} %` : "-",
    l.note,
  ]);
}

function serviceRows(p: PhaseReport): string[][] {
  const by = new Map<string, number>();
  for (const l of p.lines) by.set(l.service, (by.get(l.service) ?? 0) + l.cost);
  return [...by.entries()]
    .sort((x, y) => y[1] - x[1])
    .map(([service, cost]) => [
      service,
      usd(cost),
      p.total > 0 ? `${num((100 * cost) / p.total, 1)} %` : "-",
    ]);
}

function verdict(p: PhaseReport): string {
  const gap = p.total - p.goal;
  return p.meetsGoal
    ? `meets the goal (≤ ${usd(p.goal)})`
    : `over the goal (≤ ${usd(p.goal)}) by ${usd(gap)}`;
}

function phaseText(report: CostReport, phase: Phase, a: Assumptions): string[] {
  const p = report.phases[phase];
  const out = [phaseHeading(report, phase, a), ""];
  out.push(
    ...alignedTable(
      ["service", "line", "quantity", "unit", "unit price", "cost", "share", "how"],
      lineRows(p),
      "llrlrrrl",
    ),
  );
  out.push(
    "",
    `  total ${usd(p.total)}: ${verdict(p)}; original system ${usd(p.original.total)} (${p.original.note})`,
    `  with every lever of the model at once: ${usd(p.withEveryLever)} (each alone: ${p.levers.map((l) => `${l.id} −${usd(l.saving)}`).join(", ") || "none"})`,
    ...(p.later
      ? [
          `  month ${p.later.month} after cutover (the load's raw objects expired if the stack expires raw, its curated files in the tiers their age reaches): ${usd(p.later.total)}; with every lever ${usd(p.later.withEveryLever)}`,
        ]
      : []),
    ...(phase === "initial"
      ? [
          `  Lambda + Glue: ${usd(p.lines.filter((l) => l.service === "Lambda" || l.service === "Glue").reduce((s, l) => s + l.cost, 0))} (the original's load cost "primarily" Lambda and Glue: most of its ${usd(p.original.total)})`,
        ]
      : []),
    "",
    "  by service (the original's thesis gives only totals, so there are no per-service figures to set beside these):",
    ...alignedTable(["service", "cost", "share"], serviceRows(p), "lrr", 4),
    "",
    `  dominant lines, and what would lower them (the model run again with one change; saving on the ${phase === "initial" ? "load" : "month"}):`,
  );
  p.dominant.forEach((dl, i) => {
    out.push(
      `    ${i + 1}. ${dl.line.service} ${dl.line.line}: ${usd(dl.line.cost)} (${num(100 * dl.share)} %)`,
    );
    if (dl.levers.length === 0) out.push("       no lever in the model lowers it further");
    for (const l of dl.levers.slice(0, 3)) out.push(`       → ${l.what}: saves ${usd(l.saving)}`);
  });
  return out;
}

function collectionRows(report: CostReport, a: Assumptions): string[][] {
  return report.derived.collections.map((c) => {
    const rate = a.rates.value[c.name];
    return [
      c.name,
      num(c.volume.documents),
      num(c.volume.bytes / GiB, 1),
      num(bytesPerDocument(c.volume)),
      num(c.docsPerSecond),
      rate?.shape ?? "-",
      num(c.rawBytes / GiB),
      num(c.initialWindows),
      num(c.initialObjects),
      String(c.bulkWorkers),
      String(c.executions),
      num(c.dailyDocs),
      num(c.dailyWindows),
      num(c.dailyObjects),
    ];
  });
}

/** The whole report as text. */
export function formatCostReport(report: CostReport, inputs: CostInputs): string {
  const a = inputs.assumptions;
  const prices = Object.values(inputs.prices) as Price[];
  const out: string[] = [
    `Projected AWS cost of stack ${a.stack.value} (${a.region.value}): USD, on-demand list prices as of ${PRICES_AS_OF}, no free tiers.`,
    `Goals (${GOALS_SOURCE}); original system: ${usd(report.phases.initial.original.total)} initial, ${usd(report.phases.monthly.original.total)} a month (the original's thesis §1.5, docs/design.md §8).`,
    `Measured figures: ${a.bench.value === "none" ? a.bench.source : `${a.bench.value}: ${a.bench.source}`}.`,
    "",
  ];
  for (const phase of ["initial", "monthly"] as const) out.push(...phaseText(report, phase, a), "");
  out.push("Left out of the totals:");
  for (const e of report.excluded) {
    const est = Object.entries(e.estimate ?? {})
      .map(([ph, v]) => `${usd(v as number)} ${ph === "initial" ? "for the load" : "a month"}`)
      .join(", ");
    out.push(`  ${e.service}, ${e.line}${est ? `: ${est}` : ""}: ${e.why}`);
  }
  out.push(
    "",
    `How much the totals depend on what is not measured at production scale (initial ${usd(report.phases.initial.total)}, monthly ${usd(report.phases.monthly.total)}):`,
    ...alignedTable(
      ["input", "initial ×0.5", "initial ×2", "monthly ×0.5", "monthly ×2"],
      report.sensitivities.map((s) => [
        s.what,
        usd(s.half.initial),
        usd(s.double.initial),
        usd(s.half.monthly),
        usd(s.double.monthly),
      ]),
      "lrrrr",
    ),
  );
  const r = report.derived;
  const notes: string[] = [];
  if (r.reconcile.passBehindRuns > 0)
    notes.push(
      `reconcile's first full pass outlasts the load by ${num(r.reconcile.passBehindRuns)} scheduled run${r.reconcile.passBehindRuns === 1 ? "" : "s"} at its budget, ${num(a.reconcile.value.shards)} shard${a.reconcile.value.shards === 1 ? "" : "s"} a run (${num(a.reconcileSecondsPerDeviceDay.value * 1000, 1)} ms per device-day assumed; more shards, orchestration.reconcileShards, end it sooner)`,
    );
  if (r.operationsWorkerSeconds.seconds > a.workerUsableSeconds.value)
    notes.push(
      `${r.operationsWorkerSeconds.collection}: a day's work per operations worker (${num(r.operationsWorkerSeconds.seconds)} s) exceeds its budget (${a.workerUsableSeconds.value} s): raise functions.workers.operations`,
    );
  const db = a.supportDatabase.value;
  if (db.kind === "instance" && r.supportDbUsedGb > db.allocatedStorageGb * 0.8)
    notes.push(
      `the support database would hold ~${num(r.supportDbUsedGb)} GB (ledger, curated_day) of ${db.allocatedStorageGb} GB allocated`,
    );
  if (notes.length) out.push("", "Found on the way (not costs):", ...notes.map((n) => `  ${n}`));
  out.push(
    "",
    "Per collection (Table 3.2 volumes; the worker's rate; raw bytes; the load's objects and executions; a day's new data):",
    ...alignedTable(
      [
        "collection",
        "documents",
        "GiB",
        "B/doc",
        "docs/s",
        "rate from",
        "raw GB",
        "load windows",
        "load objects",
        "bulk workers",
        "executions",
        "docs a day",
        "windows a day",
        "objects a day",
      ],
      collectionRows(report, a),
      "lrrrrlrrrrrrrr",
    ),
    "",
    "Assumptions (every input besides prices):",
    ...alignedTable(
      ["key", "value", "unit", "source"],
      assumptionList(a).map((x) => [
        x.key,
        x.value.length > 60 ? "(see the table above / --json)" : x.value,
        x.unit,
        x.source,
      ]),
      "llll",
    ),
    "",
    `Prices (${prices[0]?.region ?? "-"}, as of ${PRICES_AS_OF}; ${PRICE_BASIS}):`,
    ...alignedTable(
      ["key", "price", "unit", "what", "source"],
      prices.map((p) => [p.key, unitPrice(p.usd), p.unit, `${p.service}: ${p.what}`, p.source]),
      "lrlll",
    ),
  );
  return out.join("\n");
}

/** The machine-readable report: the model's objects, plus the prices and assumptions it used. */
export function costReportJson(report: CostReport, inputs: CostInputs): unknown {
  return {
    stack: inputs.assumptions.stack.value,
    region: inputs.assumptions.region.value,
    pricesAsOf: PRICES_AS_OF,
    goals: GOALS_SOURCE,
    phases: report.phases,
    excluded: report.excluded,
    sensitivities: report.sensitivities,
    derived: report.derived,
    prices: Object.values(inputs.prices),
    assumptions: assumptionList(inputs.assumptions),
  };
}
