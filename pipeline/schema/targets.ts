/**
 * Lookup tables from the neutral column model to each target's types. One table per target, so
 * a new column type fails to compile until every target knows it.
 */
import type { ColumnType } from "./columns.js";

/** @dsnp/parquetjs field type. JSON travels as UTF8: every reader (Spark, Athena, pyarrow) reads it as text. */
export const PARQUET_TYPE = {
  string: "UTF8",
  json: "UTF8",
  int32: "INT32",
  int64: "INT64",
  float64: "DOUBLE",
  boolean: "BOOLEAN",
  timestamp: "TIMESTAMP_MILLIS",
} as const satisfies Record<ColumnType, string>;

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
