/**
 * Parquet schema of a registry entry, for the worker's writer. Columns are OPTIONAL when the
 * source field is nullable and REQUIRED otherwise, so a reader's nullability matches the catalog.
 */
import { ParquetSchema } from "@dsnp/parquetjs";
import type { SchemaDefinition } from "@dsnp/parquetjs/dist/lib/declare.js";
import type { ColumnType } from "./columns.js";
import type { RegistryEntry } from "./registry.js";
import { PARQUET_TYPE } from "./targets.js";

/** Per-column codec; SNAPPY is what Glue, Athena and Spark read fastest with a fair ratio. */
export const PARQUET_COMPRESSION = "SNAPPY" as const;

/**
 * Column types written without min/max statistics. The writer (parquetjs) stores a text column's
 * full minimum and maximum values in every page header and in the footer, untruncated: three
 * large request bodies (34 MB of text) made one 286 MB object with a 95 MB footer. The format
 * allows truncated statistics, but the writer cannot truncate; and nothing prunes raw files by
 * text ranges (curation reads raw objects whole; analysts query the curated Iceberg tables,
 * whose statistics Spark writes), so text and JSON columns go without. Numbers and times keep
 * theirs: small, and useful to a query of a raw table by time.
 */
export const NO_STATISTICS: ReadonlySet<ColumnType> = new Set(["string", "json"]);

export function parquetSchemaOf(entry: RegistryEntry): ParquetSchema {
  const fields: SchemaDefinition = {};
  for (const col of entry.columns) {
    fields[col.name] = {
      type: PARQUET_TYPE[col.type],
      optional: col.nullable,
      compression: PARQUET_COMPRESSION,
      ...(NO_STATISTICS.has(col.type) && { statistics: false }),
    };
  }
  return new ParquetSchema(fields);
}
