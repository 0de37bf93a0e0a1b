/**
 * Device ids. `ddc` declares `device.id bigint`, and so does the support database (every
 * `id_device` column is int8). The TypeScript side carries them as `number`: exact for every
 * integer up to `Number.MAX_SAFE_INTEGER` (2^53 - 1, nine thousand trillion, beyond any id a
 * serial column will reach), and a `number` goes into MongoDB filters, raw object keys, JSON
 * events and logs as it is, where a `bigint` would need converting at each (JSON.stringify refuses
 * it). An id beyond that range is the one thing a number would get wrong (rounded to a neighbour,
 * silently another device), so the plan refuses such a device, alone and by name, and every id
 * read back from a database goes through {@link deviceIdOf}.
 */
import { PipelineError } from "../errors.js";

/** The largest device id the pipeline carries: every integer up to it is exact as a JS number. */
export const MAX_DEVICE_ID = Number.MAX_SAFE_INTEGER;

/** An id that is no usable device id (beyond 2^53 - 1, negative, not an integer). */
export class DeviceIdError extends PipelineError {
  readonly retryable = false;
}

/**
 * Why a `ddc` device id cannot be carried, or null when it can. Negative ids are refused too: a
 * raw object key's `idDevice=` segment holds digits only (keys.ts).
 */
export function deviceIdProblem(id: bigint): string | null {
  if (id > BigInt(MAX_DEVICE_ID)) {
    return `device id ${id} is beyond 2^53 - 1 (${MAX_DEVICE_ID}), the largest id a JS number holds exactly`;
  }
  if (id < 0n) return `device id ${id} is negative`;
  return null;
}

/**
 * A device id as a database returns it (node-postgres reads int8 as a string, Prisma as a
 * bigint) or as a number, checked.
 * @throws DeviceIdError when it is not an integer in [0, 2^53 - 1].
 */
export function deviceIdOf(value: string | number | bigint): number {
  let id: bigint;
  try {
    id = typeof value === "bigint" ? value : BigInt(value);
  } catch {
    throw new DeviceIdError(`device id ${String(value)} is not an integer`);
  }
  const problem = deviceIdProblem(id);
  if (problem) throw new DeviceIdError(problem);
  return Number(id);
}
