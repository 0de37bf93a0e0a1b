"""The report tables of the ``analytics`` database, as the registry declares them.

``pipeline/schema/reports.ts`` declares each table once: Pulumi creates it in Glue from that
declaration (``infra/catalog.ts``, with its table optimizers), and the job receives the same
declaration through the job tables (``JobReport``). So the job:

- creates a table only when it is missing, with exactly the declared columns and properties: local
  runs, where no deployment declared it (in AWS the job's role may not create tables);
- refuses to write into a table whose schema differs from the declaration
  (``SchemaMismatchError`` naming the table and the column): the table is the deployment's, so a
  difference is a deploy out of step or a change by hand that a person has to look at (locally,
  where the job created the table itself, it is rebuilt as declared instead);
- replaces a table's whole content in one Iceberg commit (an overwrite of every row), never the
  table itself, so it keeps its identity, properties and optimizers and each run adds exactly one
  snapshot; readers see the previous report or the new one.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from lakehouse_glue.errors import SchemaMismatchError
from lakehouse_glue.sql import properties_sql

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

    from lakehouse_glue.job_tables import JobReport


def report_table_name(catalog: str, spec: JobReport, namespace: str | None = None) -> str:
    """``<catalog>.<database>.<table>``; ``namespace`` replaces the declared database (tests)."""
    return f"{catalog}.{namespace or spec.database}.{spec.name}"


def create_table_sql(table: str, spec: JobReport) -> str:
    """The declared table: its columns in order, ``NOT NULL`` where declared, its properties."""
    columns = ",\n  ".join(
        f"`{c.name}` {c.spark_type}{'' if c.nullable else ' NOT NULL'}" for c in spec.columns
    )
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (\n  {columns}\n) USING iceberg\n"
        f"TBLPROPERTIES ({properties_sql(spec.properties)})"
    )


def schema_difference(schema: StructType, spec: JobReport) -> tuple[str, str] | None:
    """The first column where ``schema`` differs from the declaration and how, or ``None``.

    Compared by name (Iceberg writes by name, so column order does not matter): every declared
    column present with its Spark type and nullability, and no column beyond them.
    """
    actual = {f.name: f for f in schema.fields}
    for col in spec.columns:
        field = actual.get(col.name)
        if field is None:
            return col.name, f"is missing (declared {col.spark_type})"
        found = field.dataType.simpleString()
        if found != col.spark_type:
            return col.name, f"is {found}, declared {col.spark_type}"
        if field.nullable != col.nullable:
            said = "nullable" if field.nullable else "NOT NULL"
            declared = "nullable" if col.nullable else "NOT NULL"
            return col.name, f"is {said}, declared {declared}"
    declared_names = set(spec.column_names)
    for field in schema.fields:
        if field.name not in declared_names:
            return field.name, f"({field.dataType.simpleString()}) is not declared"
    return None


def check_table_schema(spark: SparkSession, table: str, spec: JobReport) -> None:
    """Raise ``SchemaMismatchError`` if the existing table differs from the declaration."""
    difference = schema_difference(spark.table(table).schema, spec)
    if difference is not None:
        column, how = difference
        raise SchemaMismatchError(
            f"column {column} {how} in {table}: the registry's report table "
            f"(pipeline/schema/reports.ts) and the deployed table disagree; deploy the registry "
            f"or migrate the table, the job does not rewrite it",
            table=table,
        )


def ensure_report_table(
    spark: SparkSession,
    catalog: str,
    spec: JobReport,
    namespace: str | None = None,
    *,
    recreate_mismatched: bool = False,
) -> str:
    """Create the table if missing, then check it against the declaration; returns its name.

    With ``recreate_mismatched`` (local runs only), a table whose schema differs from the
    declaration is dropped and created as declared instead of refused.
    """
    table = report_table_name(catalog, spec, namespace)
    exists = spark.catalog.tableExists(table)
    if exists and recreate_mismatched:
        difference = schema_difference(spark.table(table).schema, spec)
        if difference is not None:
            column, how = difference
            print(f"{table}: column {column} {how}; rebuilt as declared", file=sys.stderr)
            spark.sql(f"DROP TABLE {table} PURGE")
            exists = False
    if not exists:
        spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {table.rsplit('.', 1)[0]}")
        spark.sql(create_table_sql(table, spec))
    check_table_schema(spark, table, spec)
    return table


def conform(frame: DataFrame, spec: JobReport, table: str) -> DataFrame:
    """The declared columns of ``frame``, in declared order, each of its declared type.

    A column the report does not compute, or computes as another type, is a disagreement between
    the Python transform and the declaration: named here, before anything is written. A frame
    column may be nullable where the table's is not; Spark checks each value on write, and a NULL
    there fails the write before its commit.
    """
    missing = [c.name for c in spec.columns if c.name not in frame.columns]
    if missing:
        raise SchemaMismatchError(
            f"column {missing[0]} of {table} is not computed by the report", table=table
        )
    out = frame.select(*spec.column_names)
    for col in spec.columns:
        computed = out.schema[col.name].dataType.simpleString()
        if computed != col.spark_type:
            raise SchemaMismatchError(
                f"column {col.name} of {table} is computed as {computed}, declared "
                f"{col.spark_type}",
                table=table,
            )
    return out


def replace_contents(frame: DataFrame, table: str) -> None:
    """Every row of ``table`` replaced by ``frame`` in one commit (one ``overwrite`` snapshot)."""
    from pyspark.sql import functions as sf

    frame.writeTo(table).overwrite(sf.lit(True))
