/**
 * Catalog (docs/design.md §5): the Glue databases `postgres`, `mongodb` and `analytics`, and every table
 * declared from the zod registry instead of crawled: the raw Parquet tables of the MongoDB
 * collections (`mongodb.raw_<collection>`), their curated Iceberg tables (`mongodb.<collection>`,
 * with the registry's hidden partitioning and sort order) and the Iceberg tables of `ddc`
 * (`postgres.<table>`). Every Iceberg table gets Glue's table optimizers: compaction, snapshot
 * retention and orphan-file deletion. The report tables of `analytics` (pipeline/schema/reports.ts)
 * are declared here too, so they exist before the analytics job's first run, which only writes them.
 * So are the analysts' views (pipeline/reports/views.ts): Glue tables of `analytics` that Athena
 * reads as views (pipeline/reports/athena-view.ts), each declared after the tables and views its
 * SQL reads, in the order `views` lists them.
 *
 * Database names are fixed (the jobs and the reports use them), so each stack needs its own
 * AWS account (or region): Glue database names are unique per account and region.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { glueViewTable, viewSources } from "../pipeline/reports/athena-view.js";
import { views } from "../pipeline/reports/views.js";
import {
  type CollectionEntry,
  collections,
  glueColumnsOf,
  ICEBERG_TABLE_PROPERTIES,
  icebergPartitionOf,
  icebergSchemaOf,
  icebergSortOf,
  PARQUET_COMPRESSION,
  type RegistryEntry,
  type ReportTable,
  reportIcebergSchemaOf,
  reportTables,
  type TableEntry,
  tables,
} from "../pipeline/schema/index.js";
import { allow, assumedBy, policyDocument, type S3Grant, s3Access } from "./policies.js";
import type { LakeBucket } from "./storage.js";

export const DATABASE = { postgres: "postgres", mongodb: "mongodb", analytics: "analytics" } as const;

/** Raw tables sit beside the curated ones in `mongodb`, prefixed so analysts pick curated by default. */
export const RAW_TABLE_PREFIX = "raw_";

export const rawTableName = (c: CollectionEntry) => `${RAW_TABLE_PREFIX}${c.name}`;

/** The folder of each Iceberg table of a database in its bucket: `<table>/` (data and metadata). */
export function icebergFolders(db: keyof typeof DATABASE): string[] {
  const entries: readonly { readonly name: string }[] =
    db === "postgres" ? tables : db === "mongodb" ? collections : reportTables;
  return entries.map((e) => `${e.name}/`);
}

/**
 * What a writer of a database's Iceberg tables may do in their bucket: read and list the bucket
 * (Iceberg resolves paths across the warehouse), write and delete only inside the tables'
 * folders (commits, compaction and snapshot expiry rewrite and remove files there).
 */
export function icebergWriter(db: keyof typeof DATABASE): S3Grant {
  const folders = icebergFolders(db);
  return { read: [""], write: folders, delete: folders };
}

const PARQUET_HIVE = {
  inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
  outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
  serdeInfo: { serializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe" },
} as const;

/** Iceberg's default name of a partition field: `<column>_<transform>` (`id_device_bucket`). */
function partitionFieldName(column: string, transform: string): string {
  return `${column}_${transform.replace(/\[.*$/, "")}`;
}

/**
 * The Glue `icebergTableInput` of a registry entry or report table: schema, and for a collection
 * its partition spec and sort order.
 */
export function icebergTableInput(entry: RegistryEntry | ReportTable, location: pulumi.Input<string>) {
  const schema = entry.kind === "report" ? reportIcebergSchemaOf(entry) : icebergSchemaOf(entry);
  const fieldId = (column: string) => {
    const f = schema.fields.find((x) => x.name === column);
    if (!f) throw new Error(`${entry.name}: no column ${column} in the Iceberg schema`);
    return f.id;
  };
  const collection = entry.kind === "collection" ? entry : undefined;
  return {
    location,
    properties: { ...ICEBERG_TABLE_PROPERTIES },
    schema: {
      schemaId: schema["schema-id"],
      type: schema.type,
      // The provider takes each field's type as JSON (a primitive is a JSON string, `"long"`),
      // as nested types (struct, list, map) are JSON objects in the Iceberg spec.
      fields: schema.fields.map((f) => ({
        id: f.id,
        name: f.name,
        required: f.required,
        type: JSON.stringify(f.type),
      })),
    },
    ...(collection
      ? {
          partitionSpec: {
            specId: 0,
            fields: icebergPartitionOf(collection).map((p, i) => ({
              // Iceberg numbers partition fields from 1000.
              fieldId: 1000 + i,
              name: partitionFieldName(p.column, p.transform),
              sourceId: fieldId(p.column),
              transform: p.transform,
            })),
          },
          sortOrder: {
            orderId: 1,
            fields: icebergSortOf(collection).map((column) => ({
              sourceId: fieldId(column),
              transform: "identity",
              direction: "asc",
              nullOrder: "nulls-first",
            })),
          },
        }
      : {}),
  };
}

/** Storage descriptor of a raw collection: Parquet under `<collection>/` (any `idDevice=` folder). */
export function rawStorageDescriptor(c: CollectionEntry, rawBucketUrl: pulumi.Input<string>) {
  return {
    location: pulumi.interpolate`${rawBucketUrl}${c.name}/`,
    ...PARQUET_HIVE,
    compressed: true,
    columns: glueColumnsOf(c).map((col) => ({ ...col })),
  };
}

export interface OptimizerSettings {
  readonly snapshotRetentionDays: number;
  readonly snapshotsToRetain: number;
  readonly orphanFileRetentionDays: number;
  /** Merge tables keep their history (time travel) this long. */
  readonly historyRetentionDays: number;
}

export interface CatalogArgs {
  readonly accountId: pulumi.Input<string>;
  readonly region: string;
  readonly buckets: {
    readonly postgres: LakeBucket;
    readonly mongodbRaw: LakeBucket;
    readonly mongodbCurated: LakeBucket;
    readonly analytics: LakeBucket;
  };
  readonly optimizers: OptimizerSettings;
}

/** The Iceberg table optimizer types the Glue API accepts (CreateTableOptimizer `Type`). */
export const OPTIMIZER_TYPES = ["compaction", "retention", "orphan_file_deletion"] as const;

export class Catalog extends pulumi.ComponentResource {
  readonly databases: Record<keyof typeof DATABASE, aws.glue.CatalogDatabase>;
  /** ARNs a job role may need: catalog, databases and their tables. */
  readonly arns: {
    readonly catalog: pulumi.Output<string>;
    database(db: keyof typeof DATABASE): pulumi.Output<string>;
    tables(db: keyof typeof DATABASE): pulumi.Output<string>;
  };
  readonly optimizerRole: aws.iam.Role;
  /** The analysts' views, in `views` order. */
  readonly views: readonly aws.glue.CatalogTable[];

  constructor(name: string, args: CatalogArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:catalog:Catalog", name, {}, opts);
    const parent = { parent: this };
    const arn = (what: string) => pulumi.interpolate`arn:aws:glue:${args.region}:${args.accountId}:${what}`;
    this.arns = {
      catalog: arn("catalog"),
      database: (db) => arn(`database/${DATABASE[db]}`),
      tables: (db) => arn(`table/${DATABASE[db]}/*`),
    };

    const location: Record<keyof typeof DATABASE, pulumi.Output<string>> = {
      postgres: args.buckets.postgres.url,
      mongodb: args.buckets.mongodbCurated.url,
      analytics: args.buckets.analytics.url,
    };
    const descriptions = {
      postgres: "ddc PostgreSQL tables (Iceberg), from the postgres_extract job",
      mongodb: "MongoDB collections: raw_<collection> (Parquet) and curated <collection> (Iceberg)",
      analytics: "pre-aggregated report tables (Iceberg), from the analytics job",
    };
    const databases = {} as Record<keyof typeof DATABASE, aws.glue.CatalogDatabase>;
    for (const key of Object.keys(DATABASE) as (keyof typeof DATABASE)[]) {
      databases[key] = new aws.glue.CatalogDatabase(
        `${name}-${key}`,
        { name: DATABASE[key], description: descriptions[key], locationUri: location[key] },
        parent,
      );
    }
    this.databases = databases;

    // The role Glue assumes to run the optimizers (docs: "Table optimization prerequisites").
    this.optimizerRole = new aws.iam.Role(
      `${name}-optimizer`,
      { assumeRolePolicy: assumedBy("glue.amazonaws.com") },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-optimizer`,
      {
        role: this.optimizerRole.id,
        policy: policyDocument([
          ...s3Access("Postgres", args.buckets.postgres.arn, icebergWriter("postgres")),
          ...s3Access("Curated", args.buckets.mongodbCurated.arn, icebergWriter("mongodb")),
          ...s3Access("Analytics", args.buckets.analytics.arn, icebergWriter("analytics")),
          allow(
            "IcebergTables",
            ["glue:GetTable", "glue:UpdateTable"],
            [
              this.arns.catalog,
              ...(["postgres", "mongodb", "analytics"] as const).flatMap((db) => [
                this.arns.database(db),
                this.arns.tables(db),
              ]),
            ],
          ),
          allow(
            "OptimizerLogs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            ["iceberg-compaction", "iceberg-retention", "iceberg-orphan-file-deletion"].map(
              (g) =>
                pulumi.interpolate`arn:aws:logs:${args.region}:${args.accountId}:log-group:/aws-glue/${g}/logs:*`,
            ),
          ),
        ]),
      },
      { parent: this.optimizerRole },
    );

    // Every table and view, by `database.name`: what a view waits for.
    const declared = new Map<string, aws.glue.CatalogTable>();
    for (const c of collections) {
      const raw = new aws.glue.CatalogTable(
        `${name}-${rawTableName(c)}`,
        {
          databaseName: databases.mongodb.name,
          name: rawTableName(c),
          description: `raw ${c.name} documents (Parquet: a large window of a device per object, small windows of many devices packed)`,
          tableType: "EXTERNAL_TABLE",
          parameters: { classification: "parquet", "parquet.compression": PARQUET_COMPRESSION },
          storageDescriptor: rawStorageDescriptor(c, args.buckets.mongodbRaw.url),
        },
        parent,
      );
      declared.set(`mongodb.${rawTableName(c)}`, raw);
      declared.set(
        `mongodb.${c.name}`,
        this.icebergTable(name, "mongodb", c, pulumi.interpolate`${location.mongodb}${c.name}`, args),
      );
    }
    for (const t of tables) {
      declared.set(
        `postgres.${t.name}`,
        this.icebergTable(name, "postgres", t, pulumi.interpolate`${location.postgres}${t.name}`, args),
      );
    }
    for (const r of reportTables) {
      declared.set(
        `analytics.${r.name}`,
        this.icebergTable(name, "analytics", r, pulumi.interpolate`${location.analytics}${r.name}`, args),
      );
    }

    // The views, in order: each after what its SQL reads, and after the view before it.
    const declaredViews: aws.glue.CatalogTable[] = [];
    const owner = pulumi.output(args.accountId);
    for (const view of views) {
      const sources = viewSources(view).map(({ database, table }) => {
        const source = declared.get(`${database}.${table}`);
        if (!source) throw new Error(`view ${view.name} reads ${database}.${table}, which is not declared`);
        return source;
      });
      const previous = declaredViews.at(-1);
      const input = owner.apply((account) => glueViewTable(view, account));
      const table = new aws.glue.CatalogTable(
        `${name}-view-${view.name}`,
        {
          databaseName: databases.analytics.name,
          name: view.name,
          description: view.description,
          tableType: "VIRTUAL_VIEW",
          viewOriginalText: input.viewOriginalText,
          viewExpandedText: input.viewExpandedText,
          parameters: input.parameters,
          storageDescriptor: input.storageDescriptor.apply((sd) => ({
            columns: sd.columns.map((c) => ({ ...c })),
            serDeInfo: { ...sd.serDeInfo },
          })),
        },
        { parent: this, dependsOn: [...sources, ...(previous ? [previous] : [])] },
      );
      declared.set(`analytics.${view.name}`, table);
      declaredViews.push(table);
    }
    this.views = declaredViews;

    this.registerOutputs({
      databases: Object.fromEntries(Object.entries(databases).map(([k, d]) => [k, d.name])),
      optimizerRoleArn: this.optimizerRole.arn,
      views: declaredViews.map((v) => v.name),
    });
  }

  private icebergTable(
    name: string,
    db: keyof typeof DATABASE,
    entry: CollectionEntry | TableEntry | ReportTable,
    location: pulumi.Output<string>,
    args: CatalogArgs,
  ): aws.glue.CatalogTable {
    const table = new aws.glue.CatalogTable(
      `${name}-${db}-${entry.name}`,
      {
        databaseName: this.databases[db].name,
        name: entry.name,
        description:
          entry.kind === "report"
            ? `${entry.description} (Iceberg, from the analytics job)`
            : db === "mongodb"
              ? `curated ${entry.name} (Iceberg)`
              : `ddc.${entry.name} (Iceberg)`,
        openTableFormatInput: {
          icebergInput: {
            metadataOperation: "CREATE",
            version: "2",
            icebergTableInput: icebergTableInput(entry, location),
          },
        },
      },
      // The jobs evolve the table (schema, snapshots) through Iceberg commits; Glue then changes
      // its parameters and descriptor, which are not Pulumi's to reset.
      { parent: this, ignoreChanges: ["parameters", "storageDescriptor", "tableType"] },
    );
    const o = args.optimizers;
    const keepsHistory = entry.kind === "table" && entry.behaviour === "merge";
    const configuration: Record<
      (typeof OPTIMIZER_TYPES)[number],
      aws.types.input.glue.CatalogTableOptimizerConfiguration
    > = {
      compaction: {
        enabled: true,
        roleArn: this.optimizerRole.arn,
        compactionConfiguration: { icebergConfiguration: { strategy: "binpack" } },
      },
      retention: {
        enabled: true,
        roleArn: this.optimizerRole.arn,
        retentionConfiguration: {
          icebergConfiguration: {
            snapshotRetentionPeriodInDays: keepsHistory ? o.historyRetentionDays : o.snapshotRetentionDays,
            numberOfSnapshotsToRetain: o.snapshotsToRetain,
            cleanExpiredFiles: true,
          },
        },
      },
      orphan_file_deletion: {
        enabled: true,
        roleArn: this.optimizerRole.arn,
        orphanFileDeletionConfiguration: {
          icebergConfiguration: { orphanFileRetentionPeriodInDays: o.orphanFileRetentionDays },
        },
      },
    };
    for (const type of OPTIMIZER_TYPES) {
      new aws.glue.CatalogTableOptimizer(
        `${name}-${db}-${entry.name}-${type}`,
        {
          catalogId: args.accountId,
          databaseName: this.databases[db].name,
          tableName: table.name,
          type,
          configuration: configuration[type],
        },
        { parent: table },
      );
    }
    return table;
  }
}
