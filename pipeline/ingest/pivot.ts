/**
 * Slot documents → wide lake rows, for a collection whose registry entry has a `pivot` reshape
 * (`variable_logs`). A slot holds one variable of one device over a few hours (`variable_logs`:
 * 6 hourly samples × 120 readings, one per 30 s); a row holds every variable of one device at one
 * instant. Only one slot time's documents are held at once, so memory does not grow with the
 * window.
 */
import { RegistryError } from "../errors.js";
import { type CollectionEntry, lakeName, type PivotReshape } from "../schema/registry.js";
import type { LakeRow } from "../schema/validate.js";

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
  readonly grid: PivotReshape["grid"];
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
  const reshape = entry.reshape;
  if (reshape?.kind !== "pivot") throw new RegistryError(`${entry.name} is not a pivoted collection`);
  const keys = new Set(["idDevice", entry.timestampField as string]);
  const pivot: Pivot = {
    name: entry.name,
    grid: reshape.grid,
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

/** Rows of one slot time (one device), in time order; instants with no reading are skipped. */
function rowsOfSlot(p: Pivot, idDevice: number, start: Date, slots: readonly PivotSlot[]): LakeRow[] {
  const perSlot = p.grid.hoursPerSlot * p.grid.samplesPerHour;
  const rows: (LakeRow | undefined)[] = new Array(perSlot);
  for (const slot of slots) {
    const variable = String(slot[p.variableField]);
    const column = p.columns.get(variable);
    if (column === undefined) throw new RegistryError(`${p.name} slot of an unknown variable ${variable}`);
    for (const sample of slot.samples) {
      for (const [i, value] of sample.values.entries()) {
        if (value === null) continue;
        const at = sample.hour * p.grid.samplesPerHour + i;
        let row = rows[at];
        if (!row) {
          row = {
            [p.device]: idDevice,
            [p.time]: new Date(start.getTime() + sample.hour * HOUR_MS + i * p.stepMs),
          };
          for (const c of p.columns.values()) row[c] = null;
          rows[at] = row;
        }
        // A variable sent twice for one slot keeps its first reading: the source is append-only.
        row[column] ??= value;
      }
    }
  }
  return rows.filter((r): r is LakeRow => r !== undefined);
}

/**
 * Pivot validated slots of one device, sorted by slot start (the window query's sort), into the
 * rows of `entry`, a collection with a `pivot` reshape.
 * @throws RegistryError when slots arrive out of order or from another device: a query bug.
 */
export async function* pivotRows(
  entry: CollectionEntry,
  idDevice: number,
  slots: AsyncIterable<PivotSlot>,
): AsyncGenerator<LakeRow> {
  const p = pivotOf(entry);
  let start: Date | undefined;
  let group: PivotSlot[] = [];
  for await (const slot of slots) {
    if (slot.idDevice !== idDevice) {
      throw new RegistryError(`${p.name} slot of device ${slot.idDevice} in the stream of ${idDevice}`);
    }
    const at = slot[p.slotStart] as Date;
    if (start && at.getTime() < start.getTime()) {
      throw new RegistryError(`${p.name} slots out of order for device ${idDevice}: sort by ${p.slotStart}`);
    }
    if (start && at.getTime() !== start.getTime()) {
      yield* rowsOfSlot(p, idDevice, start, group);
      group = [];
    }
    start = at;
    group.push(slot);
  }
  if (start) yield* rowsOfSlot(p, idDevice, start, group);
}
