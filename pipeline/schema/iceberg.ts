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

/**
 * The Iceberg schema of a column list: field ids from 1 in column order, `required` for the
 * non-nullable columns. One numbering for every table the lake declares (registry entries and
 * report tables), so the ids Pulumi declares are the ones the jobs' tables get.
 */
export function icebergSchemaFrom<C extends { readonly name: string; readonly nullable: boolean }>(
  columns: readonly C[],
  typeOf: (column: C) => string,
): IcebergSchema {
  return {
    type: "struct",
    "schema-id": 0,
    fields: columns.map((col, i) => ({
      id: i + 1,
      name: col.name,
      required: !col.nullable,
      type: typeOf(col),
    })),
  };
}

export function icebergSchemaOf(entry: RegistryEntry): IcebergSchema {
  return icebergSchemaFrom(entry.columns, (col) => ICEBERG_TYPE[col.type]);
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

/**
 * Table properties of every Iceberg table of the lake, whoever creates it: Pulumi declares the
 * tables in Glue (infra/catalog.ts) and the Glue jobs create them when missing (local runs, a new
 * collection), both from this one list, which reaches Python through the job tables.
 */
export const ICEBERG_TABLE_PROPERTIES: Readonly<Record<string, string>> = {
  // v2 for row-level deletes: alarm updates write position deletes instead of rewriting every
  // data file that holds a matched alarm.
  "format-version": "2",
  // About a third smaller than snappy on these rows at similar read speed; Athena, Glue and Spark
  // all read it.
  "write.parquet.compression-codec": "zstd",
  // 128 MiB: Iceberg's default target, and the Glue optimizer's and Athena's sweet spot.
  "write.target-file-size-bytes": String(128 * 1024 * 1024),
  // Readers of a merge table see deletes applied on read; compaction folds them in later.
  "write.delete.mode": "merge-on-read",
  "write.update.mode": "merge-on-read",
  "write.merge.mode": "merge-on-read",
  // One metadata.json per commit otherwise piles up forever on a job that commits hourly.
  "write.metadata.delete-after-commit.enabled": "true",
  "write.metadata.previous-versions-max": "50",
  // Row-based reads for every Spark session that opens the table (Glue's included): Iceberg
  // 1.7.1's vectorized reader corrupts native memory on Spark 3.5.4 (apache/iceberg#11802,
  // fixed in 1.7.2; glue/lakehouse_glue/spark.py). Drop it with Iceberg >= 1.7.2.
  "read.parquet.vectorization.enabled": "false",
};
