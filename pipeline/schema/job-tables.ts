/**
 * The table list the Glue jobs receive (as a job argument in AWS, as a file locally): the one
 * place Python learns which tables exist, their columns and behaviour. Plain JSON, versioned.
 */
import { ICEBERG_TABLE_PROPERTIES, icebergPartitionOf, icebergSortOf } from "./iceberg.js";
import { type CollectionEntry, collections, lakeName, type TableEntry, tables } from "./registry.js";
import { REPORT_SPARK_TYPE, type ReportTable, reportTables } from "./reports.js";
import { SPARK_TYPE } from "./targets.js";

/**
 * 2: collections carry their Iceberg table properties.
 * 3: `reports`, the `analytics` tables the analytics job writes (reports.ts).
 */
export const JOB_TABLES_VERSION = 3;

export interface JobColumn {
  readonly name: string;
  readonly source: string;
  readonly type: string;
  readonly sparkType: string;
  readonly nullable: boolean;
}

export interface JobCollection {
  readonly name: string;
  readonly columns: readonly JobColumn[];
  readonly timestampColumn: string;
  readonly updatedColumn: string | null;
  readonly naturalKey: readonly string[];
  readonly partition: readonly string[];
  readonly sortOrder: readonly string[];
  readonly payload: boolean;
  /** What the curate job sets when it creates the table: the same as Pulumi declares. */
  readonly properties: Readonly<Record<string, string>>;
}

export interface JobTable {
  readonly name: string;
  readonly columns: readonly JobColumn[];
  readonly behaviour: TableEntry["behaviour"];
  readonly naturalKey: readonly string[];
  readonly watermark: string | null;
  readonly tracked: readonly string[];
}

/** A report table: the analytics job creates it when missing (locally) and checks it otherwise. */
export interface JobReport {
  readonly name: string;
  readonly database: string;
  /** Computed columns: `source` is the column's own name. */
  readonly columns: readonly JobColumn[];
  /** What the analytics job sets when it creates the table: the same as Pulumi declares. */
  readonly properties: Readonly<Record<string, string>>;
}

export interface JobTables {
  readonly version: number;
  readonly collections: readonly JobCollection[];
  readonly tables: readonly JobTable[];
  readonly reports: readonly JobReport[];
}

function jobColumns(entry: CollectionEntry | TableEntry): JobColumn[] {
  return entry.columns.map((col) => ({ ...col, sparkType: SPARK_TYPE[col.type] }));
}

export function jobTables(): JobTables {
  return {
    version: JOB_TABLES_VERSION,
    collections: collections.map((c: CollectionEntry) => ({
      name: c.name,
      columns: jobColumns(c),
      timestampColumn: lakeName(c, c.timestampField),
      updatedColumn: c.updatedField ? lakeName(c, c.updatedField) : null,
      naturalKey: c.naturalKey.map((k) => lakeName(c, k)),
      partition: icebergPartitionOf(c).map((p) => p.sql),
      sortOrder: icebergSortOf(c),
      payload: c.payload,
      properties: { ...ICEBERG_TABLE_PROPERTIES },
    })),
    tables: tables.map((t: TableEntry) => ({
      name: t.name,
      columns: jobColumns(t),
      behaviour: t.behaviour,
      naturalKey: t.naturalKey.map((k) => lakeName(t, k)),
      watermark: t.watermark ? lakeName(t, t.watermark) : null,
      tracked: (t.tracked ?? []).map((k) => lakeName(t, k)),
    })),
    reports: reportTables.map((r: ReportTable) => ({
      name: r.name,
      database: r.database,
      columns: r.columns.map((col) => ({
        name: col.name,
        source: col.name,
        type: col.type,
        sparkType: REPORT_SPARK_TYPE[col.type],
        nullable: col.nullable,
      })),
      properties: { ...ICEBERG_TABLE_PROPERTIES },
    })),
  };
}
