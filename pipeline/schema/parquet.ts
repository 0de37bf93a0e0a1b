/**
 * Parquet schema of a registry entry, for the lake's writer (pipeline/lake/parquet/). Columns are
 * OPTIONAL when the source field is nullable and REQUIRED otherwise, so a reader's nullability
 * matches the catalog.
 */
import type { ColumnType } from "./columns.js";
import type { RegistryEntry } from "./registry.js";
import { PARQUET_TYPE, type ParquetType } from "./targets.js";

/** Per-column codec; SNAPPY is what Glue, Athena and Spark read fastest with a fair ratio. */
export const PARQUET_COMPRESSION = "SNAPPY" as const;

/**
 * Column types written without min/max statistics. The format stores a chunk's minimum and
 * maximum whole in the footer: three large request bodies (34 MB of text) once made a 286 MB
 * object with a 95 MB footer. Nothing prunes raw files by text ranges (curation reads raw objects
 * whole; analysts query the curated Iceberg tables, whose statistics Spark writes), so text and
 * JSON columns go without. Numbers and times keep theirs: small, and useful to a query of a raw
 * table by time.
 */
export const NO_STATISTICS: ReadonlySet<ColumnType> = new Set(["string", "json"]);

/** One flat column of a lake Parquet file: every registry column is a top-level primitive. */
export interface ParquetColumn extends ParquetType {
  readonly name: string;
  readonly type: ColumnType;
  readonly repetition: "REQUIRED" | "OPTIONAL";
  /** Min/max statistics (null counts are always written). */
  readonly statistics: boolean;
}

export function parquetSchemaOf(entry: RegistryEntry): readonly ParquetColumn[] {
  return entry.columns.map((col) => ({
    name: col.name,
    type: col.type,
    ...PARQUET_TYPE[col.type],
    repetition: col.nullable ? "OPTIONAL" : "REQUIRED",
    statistics: !NO_STATISTICS.has(col.type),
  }));
}
