/** Deterministic lake rows for any registry entry: every type, nulls where a column allows them. */
import type { ColumnSpec, LakeRow, RegistryEntry } from "../../pipeline/schema/index.js";

function valueFor(col: ColumnSpec, i: number): unknown {
  if (col.nullable && i % 3 === 2) return null;
  switch (col.type) {
    case "string":
      return i === 1 ? `ünïcode ${col.name} 🔥` : `${col.name}-${i}`;
    case "json":
      return JSON.stringify({ row: i, tags: ["a", "b"], nested: { k: col.name } });
    case "int32":
      return i === 1 ? -(2 ** 31) : 1000 + i;
    case "int64":
      return i === 1 ? Number.MAX_SAFE_INTEGER : 5_000_000_000 + i;
    case "float64":
      return i === 1 ? -0.000123 : 21.5 * (i + 1);
    case "boolean":
      return i % 2 === 0;
    case "timestamp":
      return new Date(Date.UTC(2015, 9, 1) + i * 86_400_123);
  }
}

export function sampleRows(entry: RegistryEntry, count: number): LakeRow[] {
  return Array.from({ length: count }, (_, i) =>
    Object.fromEntries(entry.columns.map((col) => [col.name, valueFor(col, i)])),
  );
}
