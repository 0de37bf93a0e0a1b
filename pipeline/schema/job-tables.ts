/**
 * The table list the Glue jobs receive (as a job argument in AWS, as a file locally): the one
 * place Python learns which tables exist, their columns and behaviour, and the other contracts
 * between the TypeScript side and the jobs (the raw object keys, the payload column, the ledger's
 * lag). Plain JSON, versioned; `glue/lakehouse_glue/job_tables.py` parses it strictly.
 */

import {
  PACK_ID_PATTERN,
  RAW_CURATED_TAG,
  RAW_OBJECT_KEY_TEMPLATE,
  RAW_PACK_KEY_TEMPLATE,
  RAW_PARTITION_KEY,
} from "../ingest/keys.js";
import { views } from "../reports/views.js";
import type { SUPPORT_STATEMENT_TIMEOUT_MS } from "../support/pool.js";
import { ICEBERG_TABLE_PROPERTIES, icebergPartitionOf, icebergSortOf } from "./iceberg.js";
import {
  type CollectionEntry,
  collections,
  lakeName,
  PAYLOAD_COLUMN,
  type TableEntry,
  tables,
} from "./registry.js";
import { REPORT_SPARK_TYPE, type ReportTable, reportTables } from "./reports.js";
import { SPARK_TYPE } from "./targets.js";

/**
 * 2: collections carry their Iceberg table properties.
 * 3: `reports`, the `analytics` tables the analytics job writes (reports.ts).
 * 4: `payloadColumn`, `rawObjects` (the raw key format), `ledger` (the curate job's lag and the
 *    worker's statement timeout it must exceed), and the postgres tables' `properties`.
 * 5: collections carry `cellColumns` and `updateMatched`, for the curated day counts reconcile
 *    compares with the source (docs/design.md §7).
 * 6: `views`, the analysts' views in Spark SQL (pipeline/reports/views.ts), which the local
 *    analytics job creates and the local dashboard reads.
 * 7: the report table `device_versions`, which the analytics job keeps as history (ADR 0018).
 * 8: `rawObjects.packTemplate` and `packIdPattern`: objects holding several devices' windows (ADR 0023).
 * 9: `rawObjects.curatedTag`: the S3 tag the curate job puts on the raw objects it has curated,
 *    which the raw bucket's lifecycle expires early (ADR 0024).
 */
export const JOB_TABLES_VERSION = 9;

/**
 * How long the curate job stays behind the newest ledger row by default. Ledger ids are taken at
 * insert, not at commit, so a reader must wait until every statement that could still commit a
 * lower id has ended: the worker's statement timeout bounds that, and this must exceed it.
 */
export const LEDGER_LAG_SECONDS = 120;

/**
 * The worker pool's `statement_timeout` (`SUPPORT_STATEMENT_TIMEOUT_MS` of
 * `pipeline/support/pool.ts`). Typed by that constant's literal type rather than imported, so the
 * registry stays free of the database client (infra imports it) while a change of the timeout
 * fails to compile here until the job tables say the same.
 */
const WRITER_STATEMENT_TIMEOUT_MS: typeof SUPPORT_STATEMENT_TIMEOUT_MS = 20_000;

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
  /**
   * Columns whose non-null values the curated day counts add up as cells: a pivoted
   * collection's variable columns, each cell one reading of a source slot (`variable_logs`);
   * empty for collections whose rows are documents.
   */
  readonly cellColumns: readonly string[];
  /**
   * Whether curate's merge replaces a curated row that differs from the newest extraction of its
   * key, rather than only inserting new keys. Documents that change at the source need it (alarm:
   * `updatedColumn`), and so do pivoted rows: a window extracted again (a replay, reconcile's
   * repair) may bring a late reading to an instant curated already holds.
   */
  readonly updateMatched: boolean;
}

export interface JobTable {
  readonly name: string;
  readonly columns: readonly JobColumn[];
  readonly behaviour: TableEntry["behaviour"];
  readonly naturalKey: readonly string[];
  readonly watermark: string | null;
  readonly tracked: readonly string[];
  /** What postgres_extract sets when it creates the table: the same as Pulumi declares. */
  readonly properties: Readonly<Record<string, string>>;
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

/** The raw layer's object keys, as the worker writes them (`pipeline/ingest/keys.ts`). */
export interface JobRawObjects {
  /** `{collection}`, `{idDevice}` and `{windowFromMs}` placeholders in literal text. */
  readonly keyTemplate: string;
  /** The Hive partition column the key's device folder makes (`idDevice=<id>`). */
  readonly partitionColumn: string;
  /** A pack's key (ADR 0023): `{collection}` and `{packId}` placeholders in literal text. */
  readonly packTemplate: string;
  /** What a `{packId}` is: a regular expression Python and Java read alike. */
  readonly packIdPattern: string;
  /** The tag curate puts on a raw object it has curated; the lifecycle rules filter on it. */
  readonly curatedTag: { readonly key: string; readonly value: string };
}

/** How the curate job reads the file ledger without skipping a row committed late. */
export interface JobLedger {
  /** Default lag behind the newest ledger row; above {@link writerStatementTimeoutMs}. */
  readonly lagSeconds: number;
  /** The longest a worker statement (one that inserts ledger rows) can run. */
  readonly writerStatementTimeoutMs: number;
}

export interface JobTables {
  readonly version: number;
  /** The JSON column of a collection with `payload`, holding the fields outside its schema. */
  readonly payloadColumn: string;
  readonly rawObjects: JobRawObjects;
  readonly ledger: JobLedger;
  readonly collections: readonly JobCollection[];
  readonly tables: readonly JobTable[];
  readonly reports: readonly JobReport[];
  /** The analysts' views (pipeline/reports/views.ts) in Spark SQL, in creation order. */
  readonly views: readonly JobView[];
}

/** A view as the local analytics job creates it: its Spark SQL and the columns it must return. */
export interface JobView {
  readonly name: string;
  readonly database: string;
  readonly sql: string;
  readonly columns: readonly { name: string; type: string; sparkType: string; nullable: boolean }[];
}

function jobColumns(entry: CollectionEntry | TableEntry): JobColumn[] {
  return entry.columns.map((col) => ({ ...col, sparkType: SPARK_TYPE[col.type] }));
}

/**
 * The columns a pivot fills from slot readings: every column but the row's device, its instant
 * (and a payload, which a pivoted collection never has), as `pivotRows` (pipeline/ingest/pivot.ts)
 * maps variables to columns.
 */
function cellColumnsOf(c: CollectionEntry): string[] {
  if (c.reshape?.kind !== "pivot") return [];
  const rowFields = new Set(["idDevice", c.timestampField as string, PAYLOAD_COLUMN]);
  return c.columns.filter((col) => !rowFields.has(col.source)).map((col) => col.name);
}

export function jobTables(): JobTables {
  return {
    version: JOB_TABLES_VERSION,
    payloadColumn: PAYLOAD_COLUMN,
    rawObjects: {
      keyTemplate: RAW_OBJECT_KEY_TEMPLATE,
      partitionColumn: RAW_PARTITION_KEY,
      packTemplate: RAW_PACK_KEY_TEMPLATE,
      packIdPattern: PACK_ID_PATTERN.source.replace(/^\^|\$$/g, ""),
      curatedTag: { ...RAW_CURATED_TAG },
    },
    ledger: { lagSeconds: LEDGER_LAG_SECONDS, writerStatementTimeoutMs: WRITER_STATEMENT_TIMEOUT_MS },
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
      cellColumns: cellColumnsOf(c),
      updateMatched: c.updatedField !== undefined || c.reshape?.kind === "pivot",
    })),
    tables: tables.map((t: TableEntry) => ({
      name: t.name,
      columns: jobColumns(t),
      behaviour: t.behaviour,
      naturalKey: t.naturalKey.map((k) => lakeName(t, k)),
      watermark: t.watermark ? lakeName(t, t.watermark) : null,
      tracked: (t.tracked ?? []).map((k) => lakeName(t, k)),
      properties: { ...ICEBERG_TABLE_PROPERTIES },
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
    views: views.map((v) => ({
      name: v.name,
      database: v.database,
      sql: v.sql("spark"),
      columns: v.columns.map((col) => ({
        name: col.name,
        type: col.type,
        sparkType: REPORT_SPARK_TYPE[col.type],
        nullable: col.nullable,
      })),
    })),
  };
}
