/**
 * Lookup tables from the neutral column model to each target's types. One table per target, so
 * a new column type fails to compile until every target knows it.
 */
import type { ColumnType } from "./columns.js";

/** A Parquet column's physical type and, where it has one, its converted (logical) type. */
export interface ParquetType {
  readonly physical: "BOOLEAN" | "INT32" | "INT64" | "DOUBLE" | "BYTE_ARRAY";
  readonly converted?: "UTF8" | "TIMESTAMP_MILLIS";
}

/** Parquet type. JSON travels as UTF8 text: every reader (Spark, Athena, pyarrow) reads it so. */
export const PARQUET_TYPE = {
  string: { physical: "BYTE_ARRAY", converted: "UTF8" },
  json: { physical: "BYTE_ARRAY", converted: "UTF8" },
  int32: { physical: "INT32" },
  int64: { physical: "INT64" },
  float64: { physical: "DOUBLE" },
  boolean: { physical: "BOOLEAN" },
  timestamp: { physical: "INT64", converted: "TIMESTAMP_MILLIS" },
} as const satisfies Record<ColumnType, ParquetType>;

/** Glue Data Catalog (Hive) column type, as Athena reads it. */
export const GLUE_TYPE = {
  string: "string",
  json: "string",
  int32: "int",
  int64: "bigint",
  float64: "double",
  boolean: "boolean",
  timestamp: "timestamp",
} as const satisfies Record<ColumnType, string>;

/**
 * Iceberg primitive type. Source instants are UTC, so `timestamptz`: Spark's TimestampType
 * maps to it, and Athena reads it as `timestamp(6) with time zone`.
 */
export const ICEBERG_TYPE = {
  string: "string",
  json: "string",
  int32: "int",
  int64: "long",
  float64: "double",
  boolean: "boolean",
  timestamp: "timestamptz",
} as const satisfies Record<ColumnType, string>;

/**
 * Spark SQL type, used by the Glue jobs to cast JDBC reads and to create curated tables. Spark
 * spells these types as Hive does, so it is the Glue table; kept as its own name so a future
 * divergence (e.g. `timestamp_ntz`) is a one-line change here.
 */
export const SPARK_TYPE: Readonly<Record<ColumnType, string>> = GLUE_TYPE;

/**
 * PostgreSQL `information_schema.columns.data_type` a `ddc` column may have for each lake column
 * type: what postgres_extract reads into that type without loss. The snapshot's schema is held to
 * it (tests/integration/ddc-schema.test.ts), and so is production's before a cutover
 * (pipeline/cutover/preflight.ts).
 */
export const POSTGRES_SOURCE_TYPES = {
  string: ["text", "character varying"],
  json: ["jsonb", "json"],
  int32: ["integer", "smallint"],
  int64: ["bigint"],
  float64: ["double precision", "real"],
  boolean: ["boolean"],
  timestamp: ["timestamp with time zone"],
} as const satisfies Record<ColumnType, readonly string[]>;
