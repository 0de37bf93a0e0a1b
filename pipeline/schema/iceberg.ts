/**
 * Iceberg schema and partition spec of a registry entry, in the JSON shapes of the Iceberg table
 * spec (https://iceberg.apache.org/spec/#schemas-and-data-types), for curated tables.
 */
import type { CollectionEntry, RegistryEntry } from "./registry.js";
import { lakeName } from "./registry.js";
import { ICEBERG_TYPE } from "./targets.js";

export interface IcebergField {
  readonly id: number;
  readonly name: string;
  readonly required: boolean;
  readonly type: string;
}

export interface IcebergSchema {
  readonly type: "struct";
  readonly "schema-id": number;
  readonly fields: readonly IcebergField[];
}

export function icebergSchemaOf(entry: RegistryEntry): IcebergSchema {
  return {
    type: "struct",
    "schema-id": 0,
    fields: entry.columns.map((col, i) => ({
      id: i + 1,
      name: col.name,
      required: !col.nullable,
      type: ICEBERG_TYPE[col.type],
    })),
  };
}

export interface IcebergPartitionField {
  readonly column: string;
  /** Iceberg transform as Spark DDL spells it: `bucket(16, id_device)`, `years(ts)`. */
  readonly sql: string;
  /** Transform as the Iceberg spec spells it: `bucket[16]`, `year`. */
  readonly transform: string;
}

/**
 * Hidden partitioning: a fixed number of device buckets plus a time transform, so the partition
 * count grows with years, not with devices (the original's one-partition-per-device exploded).
 */
export function icebergPartitionOf(entry: CollectionEntry): IcebergPartitionField[] {
  const device = lakeName(entry, "idDevice");
  const fields: IcebergPartitionField[] = [
    {
      column: device,
      sql: `bucket(${entry.partition.buckets}, ${device})`,
      transform: `bucket[${entry.partition.buckets}]`,
    },
  ];
  if (entry.partition.time) {
    const ts = lakeName(entry, entry.timestampField);
    fields.push({ column: ts, sql: `${entry.partition.time}s(${ts})`, transform: entry.partition.time });
  }
  return fields;
}

/** Sort order inside data files: device then time, the shape of nearly every query. */
export function icebergSortOf(entry: CollectionEntry): string[] {
  return [lakeName(entry, "idDevice"), lakeName(entry, entry.timestampField)];
}
