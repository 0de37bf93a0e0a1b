/**
 * The cutover (docs/design.md §6, ADR 0016): moves a deployment from the snapshot databases to
 * production (`execute`) or back (`rollback`), as a plan of steps that each know what is there,
 * what should be, and how to put it back.
 *
 * - Preflight first, read only: the support database, the target side's settings, both of its
 *   databases (reachable, schemas and indexes the pipeline needs), no running execution. Any
 *   problem stops the cutover before it changes anything.
 * - Steps to production: bookmarks, `ddc` secret, MongoDB secret, alarm actions, schedule; a
 *   rollback runs them in reverse order (the schedule stops first, so no execution starts while
 *   the sources change). A step already where it should be changes nothing (idempotent).
 * - Atomic in effect: when a step fails, the steps this run applied are undone, newest first, so
 *   the deployment is where it was. Only if an undo fails too is it left between sides; the error
 *   says so and which step, and a rerun of either direction completes from there.
 * - Logged: each step's outcome in `cutover_log`, with the operator and AWS principal.
 */
import { randomUUID } from "node:crypto";
import { MongoClient } from "mongodb";
import pg from "pg";
import { type ConnectionSecret, connectionUrl, describeConnection } from "../connections/secret.js";
import { PipelineError } from "../errors.js";
import { readDeviceList } from "../ingest/plan-pass.js";
import type { SqlRunner } from "../support/pool.js";
import { readBookmarks, reviewBookmarks, setBookmarks } from "./bookmarks.js";
import type { Deployment, SecretValue } from "./deployment.js";
import { type CutoverAction, type LogEntry, lastLogged, writeLog } from "./log.js";
import { ddcProblems, mongodbProblems } from "./preflight.js";
import { type Side, SOURCES, type Source } from "./targets.js";

/** A cutover that may not start (preflight problems, another cutover running) or whose step failed. */
export class CutoverError extends PipelineError {
  readonly retryable = false;
}

/** A failed step whose undo failed too: the deployment is between sides until a rerun. */
export class CutoverStuckError extends PipelineError {
  readonly retryable = false;
}

export const STEPS = ["bookmarks", "ddc secret", "mongodb secret", "alarm", "schedule"] as const;
export type StepName = (typeof STEPS)[number];

export interface CutoverContext {
  readonly stack: string;
  readonly deployment: Deployment;
  /** The support database as its owner: bookmarks and the log. */
  readonly support: pg.Pool;
  /** Who runs the script: `user@host`. */
  readonly operator: string;
}

export interface Check {
  readonly name: string;
  readonly detail: string;
  readonly problems: readonly string[];
}

/** Logs the applied change; `db` is the transaction it commits with, when there is one. */
type Record_ = (after: unknown, db?: SqlRunner) => Promise<void>;
type Undo = () => Promise<void>;

export interface PlannedStep {
  readonly name: StepName;
  /** Already where the target side wants it. */
  readonly done: boolean;
  readonly now: string;
  readonly want: string;
  /** Extra lines for the operator (bookmarks moved, devices reported). */
  readonly detail: readonly string[];
  /** For the log: the setting now (no secret values). */
  readonly before: unknown;
  /**
   * Makes the change and logs it through `record`, on the runner the change commits with (the
   * bookmarks' transaction); returns how to put back what was there.
   */
  apply(record: Record_): Promise<Undo>;
}

export type Where = Side | "between" | "unknown";

export interface CutoverPlan {
  readonly stack: string;
  readonly action: CutoverAction;
  readonly to: Side;
  /** Which side the deployment's settings are on now (secrets, alarm, schedule). */
  readonly where: Where;
  readonly checks: readonly Check[];
  /** Empty when a check found a problem: nothing may change. */
  readonly steps: readonly PlannedStep[];
}

export const problemsOf = (plan: CutoverPlan) =>
  plan.checks.flatMap((c) => c.problems.map((p) => `${c.name}: ${p}`));

const sideOf = (action: CutoverAction): Side => (action === "execute" ? "production" : "snapshot");
const otherSide = (side: Side): Side => (side === "production" ? "snapshot" : "production");
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The same settings, whatever the key order or aliases of the JSON they were read from. */
export function sameSettings(a: ConnectionSecret, b: ConnectionSecret): boolean {
  const canonical = (c: ConnectionSecret) =>
    JSON.stringify(c, (_k, v: unknown) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)))
        : v,
    );
  return canonical(a) === canonical(b);
}

/** The settings with the password masked; MongoDB's database is not in its URL, so it is named. */
const describeSettings = (c: ConnectionSecret) =>
  c.engine === "postgres" ? describeConnection(c) : `${describeConnection(c)} database ${c.dbname}`;

const describeSecret = (s: SecretValue) => ({
  secret: s.id,
  version: s.versionId,
  settings: describeSettings(s.value),
});

/** Reads a secret for the plan; a failure is a problem of the check, not an exception. */
async function tryRead(deployment: Deployment, id: string): Promise<SecretValue | string> {
  try {
    return await deployment.readSecret(id);
  } catch (error) {
    return `secret ${id} cannot be read: ${messageOf(error)}`;
  }
}

const CONNECT_TIMEOUT_MS = 10_000;

async function withDdc<T>(settings: ConnectionSecret, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: connectionUrl(settings),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withMongo<T>(
  settings: ConnectionSecret,
  use: (db: ReturnType<MongoClient["db"]>) => Promise<T>,
): Promise<T> {
  const client = new MongoClient(connectionUrl(settings), { serverSelectionTimeoutMS: CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
    return await use(client.db(settings.dbname));
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function supportCheck(support: pg.Pool): Promise<Check> {
  const name = "support database";
  try {
    const { rows } = await support.query<{ log: string | null; bookmarks: string }>(
      "SELECT to_regclass('public.cutover_log')::text AS log, (SELECT count(*) FROM lastts)::text AS bookmarks",
    );
    const row = rows[0];
    if (!row?.log)
      return {
        name,
        detail: "reachable",
        problems: ["its migrations are behind (no cutover_log): run the migrations first"],
      };
    return { name, detail: `reachable, migrations current, ${row.bookmarks} bookmarks`, problems: [] };
  } catch (error) {
    return { name, detail: "unreachable", problems: [messageOf(error)] };
  }
}

async function sourceCheck(source: Source, side: Side, settings: ConnectionSecret): Promise<Check> {
  const name = `${source} ${side}`;
  const where = describeSettings(settings);
  try {
    const problems =
      source === "ddc"
        ? await withDdc(settings, (client) => ddcProblems(client))
        : await withMongo(settings, (db) => mongodbProblems(db));
    return {
      name,
      detail: problems.length
        ? where
        : `${where}: ${source === "ddc" ? "every table and column the registry reads" : "every collection, with the worker's indexes"}`,
      problems: problems.map((p) => `${p.subject}: ${p.problem}`),
    };
  } catch (error) {
    return { name, detail: where, problems: [`cannot connect: ${messageOf(error)}`] };
  }
}

async function executionsCheck(deployment: Deployment): Promise<Check> {
  const name = "executions";
  try {
    const running = await deployment.runningExecutions();
    return running.length
      ? {
          name,
          detail: `${running.length} running`,
          problems: running.map((arn) => `${arn} is running: wait for it (or stop it) before a cutover`),
        }
      : { name, detail: "none running", problems: [] };
  } catch (error) {
    return { name, detail: "cannot list", problems: [messageOf(error)] };
  }
}

interface SideSecrets {
  readonly active: SecretValue;
  readonly sides: Partial<Record<Side, SecretValue>>;
}

/**
 * The plan of a cutover (`execute`) or rollback: the checks, then each step as it stands. Reads
 * only; `applyCutover` makes the changes.
 */
export async function planCutover(ctx: CutoverContext, action: CutoverAction): Promise<CutoverPlan> {
  const to = sideOf(action);
  const { deployment } = ctx;
  const checks: Check[] = [await supportCheck(ctx.support)];

  // Each source's three secrets: the one the pipeline reads and the two sides.
  const secrets: Partial<Record<Source, SideSecrets>> = {};
  const settingsProblems: string[] = [];
  for (const source of SOURCES) {
    const ids = deployment.targets.secrets[source];
    const active = await tryRead(deployment, ids.active);
    if (typeof active === "string") settingsProblems.push(active);
    const sides: Partial<Record<Side, SecretValue>> = {};
    for (const side of ["snapshot", "production"] as const) {
      const id = ids[side];
      if (!id) {
        if (side === to) settingsProblems.push(`no ${side} settings for ${source}: ${NO_PRODUCTION_HINT}`);
        continue;
      }
      const read = await tryRead(deployment, id);
      if (typeof read === "string") {
        if (side === to) settingsProblems.push(read);
      } else sides[side] = read;
    }
    if (typeof active !== "string") secrets[source] = { active, sides };
  }
  checks.push({
    name: "settings",
    detail: settingsProblems.length ? "" : `${to} settings of ddc and mongodb read`,
    problems: settingsProblems,
  });

  for (const source of SOURCES) {
    const target = secrets[source]?.sides[to];
    if (target) checks.push(await sourceCheck(source, to, target.value));
  }
  checks.push(await executionsCheck(deployment));

  let scheduleEnabled: boolean | undefined;
  let alarmOn: boolean | undefined;
  const controls: string[] = [];
  try {
    scheduleEnabled = (await deployment.scheduleState()) === "ENABLED";
  } catch (error) {
    controls.push(`schedule ${deployment.targets.schedule.name}: ${messageOf(error)}`);
  }
  try {
    alarmOn = await deployment.alarmActionsEnabled();
  } catch (error) {
    controls.push(`alarm ${deployment.targets.noSuccessAlarm}: ${messageOf(error)}`);
  }
  checks.push({ name: "schedule and alarm", detail: controls.length ? "" : "found", problems: controls });

  const where = whereIs(secrets, scheduleEnabled, alarmOn);
  const base = { stack: ctx.stack, action, to, where, checks };
  if (checks.some((c) => c.problems.length)) return { ...base, steps: [] };

  const byName: Record<StepName, () => Promise<PlannedStep>> = {
    bookmarks: () =>
      action === "execute"
        ? bookmarksToProduction(ctx, (secrets.ddc as SideSecrets).sides.production as SecretValue)
        : bookmarksBack(ctx),
    "ddc secret": async () => secretStep(ctx, "ddc", to, secrets.ddc as SideSecrets),
    "mongodb secret": async () => secretStep(ctx, "mongodb", to, secrets.mongodb as SideSecrets),
    alarm: async () => switchStep("alarm", alarmOn === true, to === "production", deployment),
    schedule: async () => switchStep("schedule", scheduleEnabled === true, to === "production", deployment),
  };
  const order = action === "execute" ? STEPS : [...STEPS].reverse();
  const steps: PlannedStep[] = [];
  for (const name of order) steps.push(await byName[name]());
  return { ...base, steps };
}

export const NO_PRODUCTION_HINT =
  "set the stack's productionDdcConnection and productionMongodbConnection (pulumi config set --secret) and run pulumi up";

function whereIs(
  secrets: Partial<Record<Source, SideSecrets>>,
  scheduleEnabled: boolean | undefined,
  alarmOn: boolean | undefined,
): Where {
  const marks: Where[] = [];
  for (const source of SOURCES) {
    const s = secrets[source];
    if (!s) return "unknown";
    const on = (["snapshot", "production"] as const).filter((side) => {
      const v = s.sides[side];
      return v !== undefined && sameSettings(v.value, s.active.value);
    });
    // Equal sides (a stack whose production is its snapshot) decide nothing.
    marks.push(on.length === 1 ? (on[0] as Side) : on.length === 2 ? "unknown" : "between");
  }
  if (scheduleEnabled === undefined || alarmOn === undefined) return "unknown";
  marks.push(scheduleEnabled ? "production" : "snapshot", alarmOn ? "production" : "snapshot");
  const known = marks.filter((m) => m !== "unknown");
  if (known.includes("between")) return "between";
  if (known.every((m) => m === "production")) return "production";
  if (known.every((m) => m === "snapshot")) return "snapshot";
  return "between";
}

function secretStep(ctx: CutoverContext, source: Source, to: Side, secrets: SideSecrets): PlannedStep {
  const { active } = secrets;
  const target = secrets.sides[to] as SecretValue;
  const done = sameSettings(active.value, target.value);
  const now = describeSettings(active.value);
  const want = describeSettings(target.value);
  return {
    name: `${source} secret`,
    done,
    // Same description, other settings: the credentials differ (passwords are never shown).
    now: !done && now === want ? `${now} (other credentials)` : now,
    want: `${want} (the ${to} settings, ${target.id})`,
    detail: [],
    before: describeSecret(active),
    async apply(record) {
      const version = await ctx.deployment.writeSecret(active.id, target.raw);
      await record({ secret: active.id, version, from: target.id, settings: want });
      return async () => {
        await ctx.deployment.writeSecret(active.id, active.raw);
      };
    },
  };
}

function switchStep(
  name: "alarm" | "schedule",
  on: boolean,
  want: boolean,
  deployment: Deployment,
): PlannedStep {
  const words =
    name === "schedule"
      ? (v: boolean) => `${deployment.targets.schedule.name} ${v ? "enabled" : "disabled"}`
      : (v: boolean) => `${deployment.targets.noSuccessAlarm} actions ${v ? "on" : "off"}`;
  const set = (v: boolean) =>
    name === "schedule"
      ? deployment.setScheduleState(v ? "ENABLED" : "DISABLED")
      : deployment.setAlarmActions(v);
  return {
    name,
    done: on === want,
    now: words(on),
    want: words(want),
    detail: [],
    before: { [name]: words(on) },
    async apply(record) {
      await set(want);
      await record({ [name]: words(want) });
      return () => set(on);
    },
  };
}

interface BookmarkMove {
  readonly idDevice: number;
  readonly collection: string;
  readonly from: string;
  readonly to: string;
}

const MOVES_SHOWN = 10;

function moveLines(moves: readonly BookmarkMove[]): string[] {
  const lines = moves
    .slice(0, MOVES_SHOWN)
    .map((m) => `${m.collection} device ${m.idDevice}: ${m.from} → ${m.to}`);
  if (moves.length > MOVES_SHOWN) lines.push(`... and ${moves.length - MOVES_SHOWN} more (all in the log)`);
  return lines;
}

/** One transaction: the bookmarks move and the log row says so, or neither. */
async function moveBookmarks(
  support: pg.Pool,
  moves: readonly BookmarkMove[],
  record: (db: SqlRunner) => Promise<void>,
): Promise<void> {
  const client = await support.connect();
  try {
    await client.query("BEGIN");
    await setBookmarks(
      client,
      moves.map((m) => ({
        idDevice: m.idDevice,
        collection: m.collection,
        from: new Date(m.from),
        to: new Date(m.to),
      })),
    );
    await record(client);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const reversed = (moves: readonly BookmarkMove[]) => moves.map((m) => ({ ...m, from: m.to, to: m.from }));

async function bookmarksToProduction(ctx: CutoverContext, production: SecretValue): Promise<PlannedStep> {
  const bookmarks = await readBookmarks(ctx.support);
  const { devices, refused } = await withDdc(production.value, (client) => readDeviceList(client));
  const review = reviewBookmarks(bookmarks, devices);
  const moves: BookmarkMove[] = review.moved.map((m) => ({
    idDevice: m.idDevice,
    collection: m.collection,
    from: m.lastts.toISOString(),
    to: m.to.toISOString(),
  }));
  const reported = { unknown: review.unknown, added: review.added, withoutMark: review.withoutMark };
  const detail = [
    ...moveLines(moves),
    ...(review.unknown.length
      ? [
          `${review.unknown.length} device(s) unknown to production keep their bookmarks (not planned): ${ids(review.unknown)}`,
        ]
      : []),
    ...(review.added.length
      ? [
          `${review.added.length} device(s) without a bookmark (new in production, or never loaded), loaded from their first document: ${ids(review.added)}`,
        ]
      : []),
    // Ids the pipeline cannot carry (past 2^53): left out of every plan, their documents quarantined.
    ...refused.map((r) => r.reason),
    ...(review.withoutMark.length
      ? [
          `${review.withoutMark.length} device(s) without last_log_date in production, not planned until set: ${ids(review.withoutMark)}`,
        ]
      : []),
  ];
  return {
    name: "bookmarks",
    done: moves.length === 0,
    now: `${bookmarks.length} bookmarks, ${moves.length} ahead of production's last_log_date`,
    want: moves.length ? `${moves.length} moved back to production's last_log_date` : "none ahead",
    detail,
    before: { bookmarks: bookmarks.length, ...reported },
    async apply(record) {
      await moveBookmarks(ctx.support, moves, (db) => record({ moved: moves, ...reported }, db));
      return () => moveBookmarks(ctx.support, reversed(moves), async () => undefined);
    },
  };
}

/** The rollback puts back the bookmarks the last cutover moved, where nothing has moved them since. */
async function bookmarksBack(ctx: CutoverContext): Promise<PlannedStep> {
  const last = await lastLogged(ctx.support, ctx.stack, "bookmarks", "execute", "applied");
  const moved = ((last?.after as { moved?: BookmarkMove[] } | undefined)?.moved ?? []).map((m) => ({
    ...m,
    from: new Date(m.from).toISOString(),
    to: new Date(m.to).toISOString(),
  }));
  const current = new Map(
    (await readBookmarks(ctx.support)).map((b) => [`${b.collection}/${b.idDevice}`, b.lastts.toISOString()]),
  );
  const back = moved.filter((m) => current.get(`${m.collection}/${m.idDevice}`) === m.to);
  const since = moved.length - back.length;
  const moves = reversed(back);
  return {
    name: "bookmarks",
    done: moves.length === 0,
    now: last
      ? `${back.length} of the ${moved.length} moved by the cutover of ${last.at.toISOString()} still there`
      : "no cutover moved bookmarks",
    want: moves.length ? `${moves.length} put back` : "nothing to put back",
    detail: [
      ...moveLines(moves),
      ...(since && last ? [`${since} moved on by ingestion since the cutover: kept`] : []),
    ],
    before: { moved: back },
    async apply(record) {
      await moveBookmarks(ctx.support, moves, (db) => record({ restored: moves }, db));
      return () => moveBookmarks(ctx.support, reversed(moves), async () => undefined);
    },
  };
}

const ids = (list: readonly number[]) =>
  list.slice(0, MOVES_SHOWN).join(", ") + (list.length > MOVES_SHOWN ? ", ..." : "");

export interface StepOutcome {
  readonly name: StepName;
  readonly outcome: "applied" | "unchanged";
}

export interface ApplyHooks {
  /** Called before a step changes anything; the CLI prints, a test may throw to fail the step. */
  beforeApply?(step: PlannedStep): void | Promise<void>;
  afterStep?(step: PlannedStep, outcome: StepOutcome["outcome"]): void;
}

/** Two cutovers of one support database never run at once. */
const LOCK_KEY = 0x63757476; // "cutv"

/**
 * Applies a plan made just before. Refuses one with problems. When a step fails, undoes the
 * steps applied before it and throws {@link CutoverError}; if an undo fails too, throws
 * {@link CutoverStuckError} naming what is left on which side.
 */
export async function applyCutover(
  ctx: CutoverContext,
  plan: CutoverPlan,
  hooks: ApplyHooks = {},
): Promise<StepOutcome[]> {
  const problems = problemsOf(plan);
  if (problems.length)
    throw new CutoverError(`preflight found ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  const lock = await ctx.support.connect();
  try {
    const { rows } = await lock.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [LOCK_KEY]);
    if (!rows[0]?.ok)
      throw new CutoverError("another cutover or rollback is running on this support database");
    return await applySteps(ctx, plan, hooks);
  } finally {
    await lock.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => undefined);
    lock.release();
  }
}

async function applySteps(ctx: CutoverContext, plan: CutoverPlan, hooks: ApplyHooks): Promise<StepOutcome[]> {
  const runId = randomUUID();
  const principal = await ctx.deployment.principal().catch(() => null);
  const entry = (
    step: PlannedStep,
    outcome: LogEntry["outcome"],
    extra: Partial<LogEntry> = {},
  ): LogEntry => ({
    runId,
    stack: ctx.stack,
    action: plan.action,
    step: step.name,
    outcome,
    operator: ctx.operator,
    principal,
    before: step.before,
    ...extra,
  });
  const outcomes: StepOutcome[] = [];
  const applied: { step: PlannedStep; undo: Undo }[] = [];
  for (const step of plan.steps) {
    if (step.done) {
      await writeLog(ctx.support, entry(step, "unchanged", { after: step.before }));
      outcomes.push({ name: step.name, outcome: "unchanged" });
      hooks.afterStep?.(step, "unchanged");
      continue;
    }
    try {
      await hooks.beforeApply?.(step);
      const undo = await step.apply((after, db) =>
        writeLog(db ?? ctx.support, entry(step, "applied", { after })),
      );
      applied.push({ step, undo });
      outcomes.push({ name: step.name, outcome: "applied" });
      hooks.afterStep?.(step, "applied");
    } catch (error) {
      await writeLog(ctx.support, entry(step, "failed", { message: messageOf(error) })).catch(
        () => undefined,
      );
      await undoApplied(ctx, plan, applied, entry, step, error);
    }
  }
  return outcomes;
}

async function undoApplied(
  ctx: CutoverContext,
  plan: CutoverPlan,
  applied: readonly { step: PlannedStep; undo: Undo }[],
  entry: (step: PlannedStep, outcome: LogEntry["outcome"], extra?: Partial<LogEntry>) => LogEntry,
  failed: PlannedStep,
  cause: unknown,
): Promise<never> {
  const stuck: string[] = [];
  for (const { step, undo } of [...applied].reverse()) {
    try {
      await undo();
      await writeLog(ctx.support, entry(step, "undone", { message: `${failed.name} failed` })).catch(
        () => undefined,
      );
    } catch (error) {
      stuck.push(`${step.name} (${messageOf(error)})`);
    }
  }
  const from = otherSide(plan.to);
  const head = `${failed.name} failed: ${messageOf(cause)}`;
  if (stuck.length)
    throw new CutoverStuckError(
      `${head}\nand these steps could not be undone, so they stay on the ${plan.to}: ${stuck.join("; ")}.\n` +
        `Run the same command again to complete the ${plan.action}, or the other direction to go back.`,
      {},
      { cause },
    );
  throw new CutoverError(
    `${head}\n${applied.length ? `the ${applied.length} step(s) applied before it were undone: ` : "nothing was changed: "}` +
      `the stack is on the ${from} as before. Fix the cause and run it again.`,
    {},
    { cause },
  );
}
