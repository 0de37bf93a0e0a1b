/**
 * The cutover's log in the support database (`cutover_log`): one row per step of a cutover or
 * rollback, with who ran it and the setting before and after. Callers pass descriptions (a
 * connection with its password masked, a secret's version id), never a secret's value.
 */
import type { SqlRunner } from "../support/pool.js";

export type CutoverAction = "execute" | "rollback";
export type LogOutcome = "applied" | "unchanged" | "undone" | "failed";

export interface LogEntry {
  readonly runId: string;
  readonly stack: string;
  readonly action: CutoverAction;
  readonly step: string;
  readonly outcome: LogOutcome;
  readonly operator: string;
  readonly principal: string | null;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly message?: string;
}

export interface LoggedStep extends LogEntry {
  readonly id: number;
  readonly at: Date;
}

export async function writeLog(db: SqlRunner, entry: LogEntry): Promise<void> {
  await db.query(
    `INSERT INTO cutover_log (run_id, stack, action, step, outcome, operator, principal, before, after, message)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      entry.runId,
      entry.stack,
      entry.action,
      entry.step,
      entry.outcome,
      entry.operator,
      entry.principal,
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
      entry.message ?? null,
    ],
  );
}

interface LogRow {
  id: number;
  run_id: string;
  stack: string;
  action: CutoverAction;
  step: string;
  outcome: LogOutcome;
  operator: string;
  principal: string | null;
  at: Date;
  before: unknown;
  after: unknown;
  message: string | null;
}

const entryOf = (r: LogRow): LoggedStep => ({
  id: r.id,
  runId: r.run_id,
  stack: r.stack,
  action: r.action,
  step: r.step,
  outcome: r.outcome,
  operator: r.operator,
  principal: r.principal,
  at: r.at,
  before: r.before,
  after: r.after,
  message: r.message ?? undefined,
});

/** The stack's log, oldest first. */
export async function readLog(db: SqlRunner, stack: string): Promise<LoggedStep[]> {
  const { rows } = await db.query<LogRow>("SELECT * FROM cutover_log WHERE stack = $1 ORDER BY id", [stack]);
  return rows.map(entryOf);
}

/** The step's last row with this outcome and action, if any (the index serves it). */
export async function lastLogged(
  db: SqlRunner,
  stack: string,
  step: string,
  action: CutoverAction,
  outcome: LogOutcome,
): Promise<LoggedStep | undefined> {
  const { rows } = await db.query<LogRow>(
    `SELECT * FROM cutover_log WHERE stack = $1 AND step = $2 AND action = $3 AND outcome = $4
     ORDER BY id DESC LIMIT 1`,
    [stack, step, action, outcome],
  );
  return rows[0] && entryOf(rows[0]);
}
