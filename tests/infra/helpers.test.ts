/** Pure helpers of the program: table inputs, job arguments, the migrations key. */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { icebergTableInput, rawStorageDescriptor } from "../../infra/catalog.js";
import { icebergSparkConf, packageFiles } from "../../infra/glue-jobs.js";
import { migrationsChecksum } from "../../infra/migrations.js";
import { collection, glueColumnsOf, table } from "../../pipeline/schema/index.js";
import { ROOT } from "./harness.js";

describe("icebergTableInput", () => {
  it.each(["alarm", "variable_logs", "sdata"] as const)(
    "points %s's partition and sort fields at its own columns",
    (name) => {
      const entry = collection(name);
      const input = icebergTableInput(entry, "s3://curated/x");
      const byId = new Map(input.schema.fields.map((f) => [f.id, f.name]));
      expect(input.partitionSpec?.fields[0]).toMatchObject({ name: "id_device_bucket" });
      for (const f of input.partitionSpec?.fields ?? [])
        expect(f.name.startsWith(byId.get(f.sourceId) ?? "?")).toBe(true);
      expect(input.sortOrder?.fields.map((f) => byId.get(f.sourceId))).toEqual([
        "id_device",
        expect.any(String),
      ]);
    },
  );

  it("leaves ddc tables unpartitioned", () => {
    const input = icebergTableInput(table("device"), "s3://postgres/device");
    expect(input).not.toHaveProperty("partitionSpec");
    expect(input.properties["format-version"]).toBe("2");
  });

  it("declares raw tables as Parquet under the collection's prefix", () => {
    const d = rawStorageDescriptor(collection("events"), "s3://raw/");
    expect(d.columns).toEqual(glueColumnsOf(collection("events")));
    expect(d.serdeInfo.serializationLibrary).toContain("ParquetHiveSerDe");
  });
});

describe("glue job arguments", () => {
  it("configures the Iceberg Glue catalog as glue_catalog in one --conf value", () => {
    const conf = icebergSparkConf("s3://curated/");
    expect(conf.split(" --conf ")).toEqual([
      "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
      "spark.sql.catalog.glue_catalog=org.apache.iceberg.spark.SparkCatalog",
      "spark.sql.catalog.glue_catalog.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog",
      "spark.sql.catalog.glue_catalog.io-impl=org.apache.iceberg.aws.s3.S3FileIO",
      "spark.sql.catalog.glue_catalog.warehouse=s3://curated/",
    ]);
  });

  it("ships only the package's Python files, under lakehouse_glue/", () => {
    const files = packageFiles(ROOT);
    expect(Object.keys(files)).toContain("lakehouse_glue/__init__.py");
    for (const [k, p] of Object.entries(files)) {
      expect(k).toMatch(/^lakehouse_glue\/.*\.py$/);
      expect(p).not.toContain("__pycache__");
    }
  });
});

describe("migrationsChecksum", () => {
  it("changes exactly when a migration changes", () => {
    const dir = mkdtempSync(join(tmpdir(), "lakehouse-migrations-"));
    try {
      cpSync(join(ROOT, "prisma", "migrations"), dir, { recursive: true });
      const before = migrationsChecksum(dir);
      expect(migrationsChecksum(dir)).toBe(before);
      writeFileSync(join(dir, "migration_lock.toml"), 'provider = "postgresql"\n# touched\n');
      expect(migrationsChecksum(dir)).toBe(before);
      cpSync(join(dir, "20261123205728_init"), join(dir, "20270101000000_next"), { recursive: true });
      expect(migrationsChecksum(dir)).not.toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
