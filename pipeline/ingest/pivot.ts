/**
 * `variable_logs` slot documents → wide lake rows. A slot holds one variable of one device for
 * 6 hours (6 hourly samples × 120 readings, one per 30 s); a row holds every variable of one
 * device at one instant. Only one slot time's documents are held at once, so memory does not
 * grow with the window.
 */
import { RegistryError } from "../errors.js";
import { OVEN_VARIABLES, VARIABLE_LOG_SHAPE, type VariableLogSlot } from "../schema/collections.js";
import { collection, lakeName } from "../schema/registry.js";
import type { LakeRow } from "../schema/validate.js";

const HOUR_MS = 3_600_000;
const STEP_MS = VARIABLE_LOG_SHAPE.stepSeconds * 1000;
/** Slot length; windows of `variable_logs` are aligned to it so no slot is split. */
export const SLOT_MS = VARIABLE_LOG_SHAPE.hoursPerSlot * HOUR_MS;

const entry = collection("variable_logs");
const DEVICE = lakeName(entry, "idDevice");
const TIME = lakeName(entry, "time");
const COLUMN = Object.fromEntries(OVEN_VARIABLES.map((v) => [v, lakeName(entry, v)]));

/** Rows of one slot time (one device), in time order; instants with no reading are skipped. */
function rowsOfSlot(idDevice: number, day: Date, slots: readonly VariableLogSlot[]): LakeRow[] {
  const perInstant = VARIABLE_LOG_SHAPE.hoursPerSlot * VARIABLE_LOG_SHAPE.samplesPerHour;
  const rows: (LakeRow | undefined)[] = new Array(perInstant);
  for (const slot of slots) {
    const column = COLUMN[slot.variable] as string;
    for (const sample of slot.samples) {
      for (const [i, value] of sample.values.entries()) {
        if (value === null) continue;
        const at = sample.hour * VARIABLE_LOG_SHAPE.samplesPerHour + i;
        let row = rows[at];
        if (!row) {
          row = { [DEVICE]: idDevice, [TIME]: new Date(day.getTime() + sample.hour * HOUR_MS + i * STEP_MS) };
          for (const c of Object.values(COLUMN)) row[c] = null;
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
 * Pivot validated slots of one device, sorted by slot time (the window query's sort), into rows.
 * @throws RegistryError when slots arrive out of order or from another device: a query bug.
 */
export async function* pivotSlots(
  idDevice: number,
  slots: AsyncIterable<VariableLogSlot>,
): AsyncGenerator<LakeRow> {
  let day: Date | undefined;
  let group: VariableLogSlot[] = [];
  for await (const slot of slots) {
    if (slot.idDevice !== idDevice) {
      throw new RegistryError(`variable_logs slot of device ${slot.idDevice} in the stream of ${idDevice}`);
    }
    if (day && slot.day.getTime() < day.getTime()) {
      throw new RegistryError(`variable_logs slots out of order for device ${idDevice}: sort by day`);
    }
    if (day && slot.day.getTime() !== day.getTime()) {
      yield* rowsOfSlot(idDevice, day, group);
      group = [];
    }
    day = slot.day;
    group.push(slot);
  }
  if (day) yield* rowsOfSlot(idDevice, day, group);
}
