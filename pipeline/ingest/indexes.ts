/**
 * The MongoDB indexes the worker's queries need (queries.ts): `{idDevice, <timestamp>}` serves
 * the windows, the first-document seek and the untimed sweep; alarm also needs `{idDevice,
 * resetTS}`, since its windows match alarms reset in them. Without them one worker query scans a
 * collection of a billion documents. The snapshot creates them; the cutover checks production
 * has them.
 */
import type { CollectionEntry } from "../schema/registry.js";

export interface IndexKey {
  /** MongoDB's default name for the key (`idDevice_1_ts_1`). */
  readonly name: string;
  readonly key: Readonly<Record<string, 1>>;
}

const named = (fields: readonly string[]): IndexKey => ({
  name: fields.map((f) => `${f}_1`).join("_"),
  key: Object.fromEntries(fields.map((f) => [f, 1 as const])),
});

export function requiredIndexes(entry: CollectionEntry): IndexKey[] {
  const keys = [named(["idDevice", entry.sourceTimestampField])];
  if (entry.updatedField) keys.push(named(["idDevice", entry.updatedField]));
  return keys;
}

/**
 * Whether an index with key `have` serves `want`: it begins with `want`'s fields in order, each
 * ascending or descending (a B-tree is walked either way), and is not partial or sparse (either
 * would leave documents out of the queries it serves).
 */
export function serves(
  have: {
    readonly key: Readonly<Record<string, unknown>>;
    readonly partialFilterExpression?: unknown;
    readonly sparse?: unknown;
  },
  want: IndexKey,
): boolean {
  if (have.partialFilterExpression !== undefined || have.sparse === true) return false;
  const fields = Object.entries(have.key);
  return Object.keys(want.key).every((f, i) => {
    const [name, direction] = fields[i] ?? [];
    return name === f && (direction === 1 || direction === -1);
  });
}
