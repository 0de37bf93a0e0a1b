/**
 * How AWS bills, as small functions the cost model multiplies with (issue 17): Lambda's
 * GB-seconds, Glue's per-second billing with its 1-minute minimum, Athena's 10 MB minimum per
 * query, S3's requests per object written, and Step Functions' state transitions counted on the
 * deployed definition itself.
 */
import { buildStateMachine, RECONCILE_MAP } from "../../pipeline/orchestration/state-machine.js";
import { BILLING, type PriceBook } from "./prices.js";

/** Hours and days in AWS's month. */
export const HOURS_PER_MONTH = BILLING.hoursPerMonth.value;
export const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

/** Lambda: GB-seconds of `invocations` runs of `seconds` at `memoryMb`. */
export function lambdaGbSeconds(invocations: number, seconds: number, memoryMb: number): number {
  return invocations * seconds * (memoryMb / 1024);
}

/** Lambda's price for a set of runs: duration at the architecture's rate, and the requests. */
export function lambdaCost(
  runs: { readonly invocations: number; readonly seconds: number; readonly memoryMb: number },
  prices: PriceBook,
  architecture: "arm64" | "x86_64",
): number {
  const perGbSecond = prices[architecture === "arm64" ? "lambdaArmGbSecond" : "lambdaX86GbSecond"].usd;
  return (
    lambdaGbSeconds(runs.invocations, runs.seconds, runs.memoryMb) * perGbSecond +
    (runs.invocations / 1e6) * prices.lambdaRequests.usd
  );
}

/** Glue: DPU-hours a run bills, at least the minimum (1 minute) at its DPUs. */
export function glueRunDpuHours(dpus: number, seconds: number): number {
  return (dpus * Math.max(BILLING.glueMinimumSeconds.value, seconds)) / 3600;
}

/**
 * Glue with auto scaling: a run bills the DPU-seconds it used: its fixed minutes on the few
 * workers it keeps (`floorDpus`), its work on as many as the work spreads over; at least the
 * minimum (1 minute) on the floor.
 */
export function glueAutoScaledDpuHours(
  floorDpus: number,
  fixedMinutes: number,
  variableDpuHours: number,
): number {
  return Math.max(
    (floorDpus * BILLING.glueMinimumSeconds.value) / 3600,
    (floorDpus * fixedMinutes) / 60 + variableDpuHours,
  );
}

/** Glue: a run's seconds from its fixed minutes and its variable DPU-hours spread over its DPUs. */
export function glueRunSeconds(dpus: number, fixedMinutes: number, variableDpuHours: number): number {
  return fixedMinutes * 60 + (variableDpuHours * 3600) / dpus;
}

/** Athena: bytes a query bills, at least the minimum (10 MB). */
export function athenaBilledBytes(scannedBytes: number): number {
  return Math.max(BILLING.athenaMinimumBytes.value, scannedBytes);
}

/** S3 requests to write one object of `bytes`: one PUT, or a multipart upload (create, parts, complete). */
export function putRequestsPerObject(bytes: number, partBytes: number): number {
  return bytes <= partBytes ? 1 : 2 + Math.ceil(bytes / partBytes);
}

/**
 * State transitions of one execution on its success path, counted on the deployed definition
 * (pipeline/orchestration/state-machine.ts): every state entered, a Map's item states once per
 * item (the workers' Map: `items` batches; reconcile's: `shards`), each Parallel branch walked; a
 * Choice goes to its first target that is not a Fail state.
 */
export function transitionsPerExecution(items: number, shards = 1): number {
  const definition = buildStateMachine(
    {
      planFunctionArn: "plan",
      workerFunctionArn: "worker",
      summarizeFunctionArn: "summarize",
      reconcileFunctionArn: "reconcile",
      postgresExtractJob: "postgres_extract",
      curateJob: "mongodb_curate",
      analyticsJob: "analytics",
    },
    {
      maxConcurrency: 1,
      timeouts: {
        guard: 1,
        plan: 1,
        worker: 1,
        summarize: 1,
        reconcile: 1,
        postgresExtract: 1,
        curate: 1,
        analytics: 1,
      },
      executionTimeoutSeconds: 1,
      reconcileShards: shards,
    },
  ) as unknown as Machine;
  return walk(definition, (map) => (map === RECONCILE_MAP ? shards : items));
}

interface MachineState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Branches?: readonly Machine[];
  readonly ItemProcessor?: Machine;
}
interface Machine {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, MachineState>>;
}

function walk(machine: Machine, items: (map: string) => number): number {
  let transitions = 0;
  const seen = new Set<string>();
  for (let name: string | undefined = machine.StartAt; name !== undefined; ) {
    if (seen.has(name)) throw new Error(`state machine loops at ${name}`);
    seen.add(name);
    const state: MachineState | undefined = machine.States[name];
    if (!state) throw new Error(`state machine names a missing state ${name}`);
    transitions += 1;
    for (const branch of state.Branches ?? []) transitions += walk(branch, items);
    if (state.ItemProcessor) transitions += items(name) * walk(state.ItemProcessor, items);
    if (state.Type === "Choice")
      name = [...(state.Choices ?? []).map((c) => c.Next), state.Default].find(
        (n) => n !== undefined && machine.States[n]?.Type !== "Fail",
      );
    else name = state.End || state.Type === "Succeed" || state.Type === "Fail" ? undefined : state.Next;
  }
  return transitions;
}
