"""Curated Iceberg tables from the registry: schema, hidden partitioning, sort order, file layout.

Created once, then only widened: a column the registry gained is added (nullable, as Iceberg
schema evolution allows without rewriting data); nothing is ever dropped or retyped here, since
that would need a migration of the data a person should decide on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakehouse_glue.curate.spec import CollectionSpec
from lakehouse_glue.sql import properties_sql

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

CURATED_NAMESPACE = "mongodb"
#: Snapshot-summary key holding the highest ``file_ledger.id`` a table has curated.
POSITION_PROPERTY = "lakehouse.ledger-position"

#: Row-based Iceberg reads for every Spark session that opens the table, not only ours: Iceberg
#: 1.7.1's vectorized reader corrupts native memory on Spark 3.5.4 (see
#: ``lakehouse_glue.spark.ICEBERG_VECTORIZATION_CONF``). Also in the registry's properties; kept
#: here to repair tables created before it was. Drop it with Iceberg >= 1.7.2.
SAFE_READ_PROPERTIES = {"read.parquet.vectorization.enabled": "false"}


@dataclass(frozen=True)
class TableLayout:
    """Local or benchmark overrides of the registry's file layout; ``None``: as declared."""

    target_file_size_bytes: int | None = None
    compression: str | None = None


def curated_table(catalog: str, collection: str, namespace: str = CURATED_NAMESPACE) -> str:
    return f"{catalog}.{namespace}.{collection}"


def table_properties(spec: CollectionSpec, layout: TableLayout) -> dict[str, str]:
    """The registry's properties (what Pulumi declares in Glue), with the layout's overrides."""
    props = {**spec.properties, **SAFE_READ_PROPERTIES}
    if layout.compression is not None:
        props["write.parquet.compression-codec"] = layout.compression
    if layout.target_file_size_bytes is not None:
        props["write.target-file-size-bytes"] = str(layout.target_file_size_bytes)
    return props


def create_table_sql(table: str, spec: CollectionSpec, layout: TableLayout) -> str:
    columns = ",\n  ".join(
        f"`{c.name}` {c.spark_type}{'' if c.nullable else ' NOT NULL'}" for c in spec.columns
    )
    props = properties_sql(table_properties(spec, layout))
    partition = f"PARTITIONED BY ({', '.join(spec.partition)})" if spec.partition else ""
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (\n  {columns}\n) USING iceberg\n"
        f"{partition}\nTBLPROPERTIES ({props})"
    )


def ensure_curated_table(
    spark: SparkSession,
    catalog: str,
    spec: CollectionSpec,
    layout: TableLayout | None = None,
    namespace: str = CURATED_NAMESPACE,
) -> str:
    """Create the table if absent, add columns the registry gained; returns its full name."""
    layout = layout or TableLayout()
    table = curated_table(catalog, spec.name, namespace)
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {catalog}.{namespace}")
    if not spark.catalog.tableExists(table):
        spark.sql(create_table_sql(table, spec, layout))
        # Hash by partition, then sort inside each task: files hold one partition each, ordered
        # by device and time, without the sampling pass a range distribution costs every write.
        spark.sql(
            f"ALTER TABLE {table} WRITE DISTRIBUTED BY PARTITION "
            f"LOCALLY ORDERED BY {', '.join(spec.sort_order)}"
        )
        return table
    current = {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
    missing = {k: v for k, v in SAFE_READ_PROPERTIES.items() if current.get(k) != v}
    if missing:
        # Tables created before the property existed.
        spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ({properties_sql(missing)})")
    existing = {f.name for f in spark.table(table).schema.fields}
    for col in spec.columns:
        if col.name not in existing:
            spark.sql(f"ALTER TABLE {table} ADD COLUMN `{col.name}` {col.spark_type}")
    return table
