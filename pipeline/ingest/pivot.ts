/**
 * Slot documents → wide lake rows, for a collection whose registry entry has a `pivot` reshape
 * (`variable_logs`). A slot holds one variable of one device over a few hours (`variable_logs`:
 * 6 hourly samples × 120 readings, one per 30 s); a row holds every variable of one device at one
 * instant.
 *
 * Rows are keyed by instant, not by slot: slots whose readings land on the same instant fill the
 * same row, whichever slot start they came with. So a slot whose start is off the slot grid (a
 * `variable_logs` `day` at 03:00) is aligned for free: its readings are merged with those of the
 * two grid slots it overlaps, and no instant gets two rows (the curate job keeps one row per
 * device and instant, which would drop the other row's readings). A slot is refused whole, for
 * the caller to quarantine, when merging it would lose or misplace a reading:
 * - its start is off the reading grid (not a multiple of the step: its readings fall between
 *   the lake's instants);
 * - a reading lands at or after the end of the window it was read in (the next window's object
 *   has that instant, and the two rows would meet in curate);
 * - a reading lands on an instant where another slot already gave the same variable a different
 *   value (equal values merge: a slot sent twice loses nothing).
 *
 * Slots arrive sorted by start, and a slot's readings are never before its start, so every row
 * before the current slot's start is final and leaves at once: at most two slots' rows are held,
 * and memory does not grow with the window.
 */
import { RegistryError } from "../errors.js";
import { type CollectionEntry, lakeName, type PivotReshape } from "../schema/registry.js";
import type { LakeRow } from "../schema/validate.js";
import type { Window } from "./windows.js";

const HOUR_MS = 3_600_000;

/** A validated slot document, as the pivot reads it (the other fields are named by the entry). */
export interface PivotSlot {
  readonly idDevice: number;
  readonly samples: readonly { readonly hour: number; readonly values: readonly (number | null)[] }[];
  readonly [field: string]: unknown;
}

/** What the pivot of one entry needs, resolved once from its registry entry. */
interface Pivot {
  readonly name: string;
  readonly stepMs: number;
  /** Slot fields: when the slot starts, which variable it holds. */
  readonly slotStart: string;
  readonly variableField: string;
  /** Row columns: the device, the instant, and each variable's column by variable name. */
  readonly device: string;
  readonly time: string;
  readonly columns: ReadonlyMap<string, string>;
}

const pivots = new WeakMap<CollectionEntry, Pivot>();

function pivotOf(entry: CollectionEntry): Pivot {
  const known = pivots.get(entry);
  if (known) return known;
  const reshape: PivotReshape | undefined = entry.reshape;
  if (reshape?.kind !== "pivot") throw new RegistryError(`${entry.name} is not a pivoted collection`);
  const keys = new Set(["idDevice", entry.timestampField as string]);
  const pivot: Pivot = {
    name: entry.name,
    stepMs: reshape.grid.stepSeconds * 1000,
    slotStart: entry.sourceTimestampField,
    variableField: reshape.variableField,
    device: lakeName(entry, "idDevice"),
    time: lakeName(entry, entry.timestampField),
    columns: new Map(entry.columns.filter((c) => !keys.has(c.source)).map((c) => [c.source, c.name])),
  };
  pivots.set(entry, pivot);
  return pivot;
}

export interface PivotOptions {
  /** The window the slots were read from: a reading at or after its end refuses its slot. */
  readonly window?: Window;
  /**
   * Takes a slot that cannot be merged without losing a reading, with the reason (naming the
   * slot's start); none of its readings reach the rows. Without it, such a slot throws.
   */
  readonly refuse?: (slot: PivotSlot, reason: string) => Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The rows under construction, by instant (ms), and the device they belong to. */
class Rows {
  private readonly byInstant = new Map<number, LakeRow>();

  constructor(
    private readonly p: Pivot,
    private readonly idDevice: number,
  ) {}

  /** The value a column holds at an instant so far (null when none). */
  valueAt(at: number, column: string): unknown {
    return this.byInstant.get(at)?.[column] ?? null;
  }

  set(at: number, column: string, value: number): void {
    let row = this.byInstant.get(at);
    if (!row) {
      row = { [this.p.device]: this.idDevice, [this.p.time]: new Date(at) };
      for (const c of this.p.columns.values()) row[c] = null;
      this.byInstant.set(at, row);
    }
    row[column] = value;
  }

  /** Rows before `until` (all when omitted), in time order, forgotten here. */
  *take(until = Number.POSITIVE_INFINITY): Generator<LakeRow> {
    const due = [...this.byInstant.keys()].filter((at) => at < until).sort((a, b) => a - b);
    for (const at of due) {
      const row = this.byInstant.get(at) as LakeRow;
      this.byInstant.delete(at);
      yield row;
    }
  }
}

/**
 * Why a slot cannot be merged without losing a reading, or null with its readings (instant →
 * value) when it can.
 */
function readingsOf(
  p: Pivot,
  slot: PivotSlot,
  column: string,
  rows: Rows,
  window: Window | undefined,
): { problem: string } | { readings: Map<number, number> } {
  const start = (slot[p.slotStart] as Date).getTime();
  const at = `slot ${iso(start)}`;
  if (start % p.stepMs !== 0) {
    return { problem: `${at} is not on the ${p.stepMs / 1000} s grid of the rows' instants` };
  }
  const readings = new Map<number, number>();
  const variable = String(slot[p.variableField]);
  for (const sample of slot.samples) {
    for (const [i, value] of sample.values.entries()) {
      if (value === null) continue;
      const instant = start + sample.hour * HOUR_MS + i * p.stepMs;
      if (window && instant >= window.to.getTime()) {
        return {
          problem: `${at} has readings at ${iso(instant)}, past the window end ${window.to.toISOString()}`,
        };
      }
      const before = readings.get(instant) ?? rows.valueAt(instant, column);
      if (before !== null && before !== value) {
        return {
          problem: `${at} does not merge: ${variable} at ${iso(instant)} is ${value} here and ${before} in another slot`,
        };
      }
      readings.set(instant, value);
    }
  }
  return { readings };
}

/**
 * Pivot validated slots of one device, sorted by slot start (the window query's sort), into the
 * rows of `entry`, a collection with a `pivot` reshape: one row per instant with a reading, in
 * time order.
 * @throws RegistryError when slots arrive out of order or from another device (a query bug), or
 * when a slot cannot be merged and no `refuse` was given.
 */
export async function* pivotRows(
  entry: CollectionEntry,
  idDevice: number,
  slots: AsyncIterable<PivotSlot>,
  options: PivotOptions = {},
): AsyncGenerator<LakeRow> {
  const p = pivotOf(entry);
  const rows = new Rows(p, idDevice);
  let previous: number | undefined;
  for await (const slot of slots) {
    if (slot.idDevice !== idDevice) {
      throw new RegistryError(`${p.name} slot of device ${slot.idDevice} in the stream of ${idDevice}`);
    }
    const start = (slot[p.slotStart] as Date).getTime();
    if (previous !== undefined && start < previous) {
      throw new RegistryError(`${p.name} slots out of order for device ${idDevice}: sort by ${p.slotStart}`);
    }
    // No later slot reaches an instant before this one's start.
    if (start !== previous) yield* rows.take(start);
    previous = start;
    const variable = String(slot[p.variableField]);
    const column = p.columns.get(variable);
    if (column === undefined) throw new RegistryError(`${p.name} slot of an unknown variable ${variable}`);
    const merge = readingsOf(p, slot, column, rows, options.window);
    if ("problem" in merge) {
      if (!options.refuse) throw new RegistryError(`${p.name} device ${idDevice}: ${merge.problem}`);
      await options.refuse(slot, merge.problem);
      continue;
    }
    for (const [instant, value] of merge.readings) rows.set(instant, column, value);
  }
  yield* rows.take();
}
