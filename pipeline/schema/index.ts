export { COLUMN_TYPES, type ColumnSpec, type ColumnType, columnsOf, lakeColumnName } from "./columns.js";
export * as fields from "./fields.js";
export { type GlueColumn, glueColumnsOf } from "./glue.js";
export {
  ICEBERG_TABLE_PROPERTIES,
  type IcebergField,
  type IcebergPartitionField,
  type IcebergSchema,
  icebergPartitionOf,
  icebergSchemaOf,
  icebergSortOf,
} from "./iceberg.js";
export {
  JOB_TABLES_VERSION,
  type JobCollection,
  type JobLedger,
  type JobRawObjects,
  type JobReport,
  type JobTable,
  type JobTables,
  jobTables,
  LEDGER_LAG_SECONDS,
} from "./job-tables.js";
export { PARQUET_COMPRESSION, parquetSchemaOf } from "./parquet.js";
export {
  type CollectionEntry,
  type CollectionName,
  collection,
  collections,
  defineCollection,
  defineTable,
  lakeName,
  PAYLOAD_COLUMN,
  type PartitionSpec,
  type RegistryEntry,
  type TableBehaviour,
  type TableEntry,
  type TableName,
  table,
  tables,
} from "./registry.js";
export {
  alarmsDaily,
  alarmTimeToReset,
  DEVICE_HISTORY_IGNORED,
  defineReportTable,
  deviceVersions,
  QUICKSIGHT_TYPE,
  type QuickSightType,
  quickSightColumnsOf,
  REPORT_DATABASE,
  REPORT_ICEBERG_TYPE,
  REPORT_SPARK_TYPE,
  type ReportColumn,
  type ReportColumnName,
  type ReportColumnType,
  type ReportTable,
  type ReportTableName,
  reportIcebergSchemaOf,
  reportTable,
  reportTables,
} from "./reports.js";
export { GLUE_TYPE, ICEBERG_TYPE, PARQUET_TYPE, SPARK_TYPE } from "./targets.js";
export { type LakeRow, type LakeRowResult, MAX_PAYLOAD_BYTES, toLakeRow } from "./validate.js";
