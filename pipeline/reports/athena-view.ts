/**
 * A view of views.ts as Athena stores one in the Glue Data Catalog, so the deployment can declare
 * it as a Glue table instead of running `CREATE VIEW` (no Pulumi here: plain data, decoded back by
 * the tests). Athena has no API for views; its `CREATE VIEW` writes a Glue table that Trino's Hive
 * connector reads as a "Presto view", and a table written the same way is one:
 *
 * - `TableType: "VIRTUAL_VIEW"`, parameters `presto_view: "true"` and `comment: "Presto View"`
 *   (Trino recognises a view by both: `HiveMetadata.PRESTO_VIEW_COMMENT`, `isPrestoView`);
 * - `ViewExpandedText: "/* Presto View *\/"` (Trino's `PRESTO_VIEW_EXPANDED_TEXT_MARKER`);
 * - `ViewOriginalText: "/* Presto View: <base64 of JSON> *\/"`, the JSON being Trino's
 *   `ConnectorViewDefinition`: `originalSql`, `catalog`, `schema`, `columns` (`name`, Trino
 *   `type`), optional `comment` and `owner`, and `runAsInvoker` (an owner with `runAsInvoker:
 *   true` is refused; with `false`, Trino's Glue reader takes the owner from the table's `Owner`
 *   when set, else from the JSON). Athena writes `catalog: "awsdatacatalog"`, the owner,
 *   `runAsInvoker: false` and an empty `properties`;
 * - a storage descriptor with the columns in Hive types and a SerDe info: Athena fails on a view
 *   whose descriptor has none (`HIVE_METASTORE_ERROR: Table storage descriptor is missing SerDe
 *   info`); public workarounds set `"-"` for its name and library.
 *
 * Sources: trinodb/trino core/trino-spi/src/main/java/io/trino/spi/connector/
 * ConnectorViewDefinition.java, plugin/trino-hive HiveMetadata.java (the markers) and
 * plugin/trino-iceberg .../glue/TrinoGlueCatalog.java (the owner); github.com/iconara/
 * terraform-aws-athena-view main.tf and the CDK `AthenaView` constructs public code holds (the
 * JSON Athena writes, `properties` and `owner` included); hashicorp/terraform-provider-aws issues
 * #17363 (Athena views as `aws_glue_catalog_table`) and #28517 (the missing SerDe info).
 *
 * The column types in the JSON must be ones the query's own types coerce to implicitly: Trino
 * calls a view "stale" and refuses to read it otherwise (`StatementAnalyzer.isViewStale`). The
 * lake's instants are Iceberg `timestamptz` (pipeline/schema/targets.ts), which Athena reads as
 * `timestamp(6) with time zone` (AWS docs, "Supported data types for Iceberg tables in Athena");
 * QuickSight does not take zoned timestamps from Athena, so the Athena views cast every instant
 * they return to a plain UTC `timestamp(6)` (views.ts, `SqlDialect.instant`), and Trino widens
 * the views' `generated_at` (a `timestamp(3)`) to it. So every timestamp column of a view is
 * declared `timestamp(6)`.
 */
import type { ReportColumnType } from "../schema/reports.js";
import { GLUE_TYPE } from "../schema/targets.js";
import type { ViewDefinition } from "./views.js";

/** The catalog Athena names the Glue Data Catalog by, in a view's JSON. */
export const ATHENA_CATALOG = "awsdatacatalog";

export const PRESTO_VIEW_PREFIX = "/* Presto View: ";
export const PRESTO_VIEW_SUFFIX = " */";
/** What Athena (and Trino) put in `ViewExpandedText` of a view. */
export const PRESTO_VIEW_EXPANDED_TEXT = "/* Presto View */";
/** The table parameters that make a `VIRTUAL_VIEW` a Presto view for Athena. */
export const PRESTO_VIEW_PARAMETERS = { presto_view: "true", comment: "Presto View" } as const;

/** Trino (Athena engine 3) type of a view column, as the view's JSON declares it. */
export const PRESTO_TYPE = {
  string: "varchar",
  json: "varchar",
  int32: "integer",
  int64: "bigint",
  float64: "double",
  boolean: "boolean",
  timestamp: "timestamp(6)",
  date: "date",
} as const satisfies Record<ReportColumnType, string>;

/** Hive type of a view column, as the Glue storage descriptor lists it. */
export const VIEW_HIVE_TYPE = { ...GLUE_TYPE, date: "date" } as const satisfies Record<
  ReportColumnType,
  string
>;

/** Trino's `ConnectorViewDefinition`, with the `properties` Athena adds. */
export interface PrestoViewDefinition {
  readonly originalSql: string;
  readonly catalog: string;
  readonly schema: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly owner: string;
  readonly runAsInvoker: false;
  readonly properties: Readonly<Record<string, string>>;
}

/** The JSON a view's `ViewOriginalText` carries; `owner` is the AWS account id. */
export function prestoViewDefinition(view: ViewDefinition, owner: string): PrestoViewDefinition {
  return {
    originalSql: view.sql("athena"),
    catalog: ATHENA_CATALOG,
    schema: view.database,
    columns: view.columns.map((c) => ({ name: c.name, type: PRESTO_TYPE[c.type] })),
    owner,
    runAsInvoker: false,
    properties: {},
  };
}

/** `/* Presto View: <base64 of the JSON> *\/` */
export function encodePrestoView(definition: PrestoViewDefinition): string {
  const json = JSON.stringify(definition);
  return `${PRESTO_VIEW_PREFIX}${Buffer.from(json, "utf8").toString("base64")}${PRESTO_VIEW_SUFFIX}`;
}

/** The JSON back from a `ViewOriginalText`; throws on anything else. */
export function decodePrestoView(text: string): PrestoViewDefinition {
  if (!text.startsWith(PRESTO_VIEW_PREFIX) || !text.endsWith(PRESTO_VIEW_SUFFIX))
    throw new Error("not a Presto view: no /* Presto View: ... */ envelope");
  const base64 = text.slice(PRESTO_VIEW_PREFIX.length, text.length - PRESTO_VIEW_SUFFIX.length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new Error("not a Presto view: not base64");
  return JSON.parse(Buffer.from(base64, "base64").toString("utf8")) as PrestoViewDefinition;
}

/** What a Glue `TableInput` of a view holds (Pulumi's `aws.glue.CatalogTable` names, camelCase). */
export interface GlueViewTable {
  readonly name: string;
  readonly description: string;
  readonly tableType: "VIRTUAL_VIEW";
  readonly viewOriginalText: string;
  readonly viewExpandedText: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly storageDescriptor: {
    readonly columns: readonly { readonly name: string; readonly type: string; readonly comment: string }[];
    readonly serDeInfo: { readonly name: string; readonly serializationLibrary: string };
  };
}

/** Glue column comments are at most 255 characters. */
const GLUE_COMMENT_MAX = 255;

/** The Glue table Athena reads as `view`; `owner` is the AWS account id. */
export function glueViewTable(view: ViewDefinition, owner: string): GlueViewTable {
  return {
    name: view.name,
    description: view.description,
    tableType: "VIRTUAL_VIEW",
    viewOriginalText: encodePrestoView(prestoViewDefinition(view, owner)),
    viewExpandedText: PRESTO_VIEW_EXPANDED_TEXT,
    parameters: { ...PRESTO_VIEW_PARAMETERS },
    storageDescriptor: {
      columns: view.columns.map((c) => ({
        name: c.name,
        type: VIEW_HIVE_TYPE[c.type],
        comment: c.description.slice(0, GLUE_COMMENT_MAX),
      })),
      serDeInfo: { name: "-", serializationLibrary: "-" },
    },
  };
}

/** The databases a view may read from. */
export const VIEW_SOURCE_DATABASES = ["mongodb", "postgres", "analytics"] as const;
export type ViewSourceDatabase = (typeof VIEW_SOURCE_DATABASES)[number];

/**
 * The tables and views a view's Athena SQL names (`database.table`), in order of first mention:
 * the catalog objects that must exist before it.
 */
export function viewSources(view: ViewDefinition): { database: ViewSourceDatabase; table: string }[] {
  const pattern = new RegExp(`\\b(${VIEW_SOURCE_DATABASES.join("|")})\\.([a-z_][a-z0-9_]*)\\b`, "g");
  const seen = new Set<string>();
  const out: { database: ViewSourceDatabase; table: string }[] = [];
  for (const m of view.sql("athena").matchAll(pattern)) {
    const key = `${m[1]}.${m[2]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ database: m[1] as ViewSourceDatabase, table: m[2] as string });
  }
  return out;
}
