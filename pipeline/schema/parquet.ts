/**
 * Parquet schema of a registry entry, for the worker's writer. Columns are OPTIONAL when the
 * source field is nullable and REQUIRED otherwise, so a reader's nullability matches the catalog.
 */
import { ParquetSchema } from "@dsnp/parquetjs";
import type { SchemaDefinition } from "@dsnp/parquetjs/dist/lib/declare.js";
import type { RegistryEntry } from "./registry.js";
import { PARQUET_TYPE } from "./targets.js";

/** Per-column codec; SNAPPY is what Glue, Athena and Spark read fastest with a fair ratio. */
export const PARQUET_COMPRESSION = "SNAPPY" as const;

export function parquetSchemaOf(entry: RegistryEntry): ParquetSchema {
  const fields: SchemaDefinition = {};
  for (const col of entry.columns) {
    fields[col.name] = {
      type: PARQUET_TYPE[col.type],
      optional: col.nullable,
      compression: PARQUET_COMPRESSION,
    };
  }
  return new ParquetSchema(fields);
}
