"""The analysts' views on local Spark (``pipeline/reports/views.ts``, docs/design.md §5).

In AWS the views are Glue views Athena runs (Pulumi declares them); locally the analytics job
creates them as session views of its Spark session, from the Spark SQL the job tables carry
(``views``), for the local dashboard's data (``dashboard_data``) and the tests. Their SQL names
lake tables ``<database>.<table>`` (``mongodb.alarm``, ``postgres.device``), resolved in the
current catalog, and other views unqualified: session views are found before any table.

Every view is checked after it is created: it must return the columns the registry declares for
it, by name, in order and with their Spark types (``ViewSchemaError`` names the view, the column,
what was declared and what the view returns). Nullability is not compared: Spark infers it from
the plan (a left join makes any column nullable), and the declaration says what the data holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakehouse_glue.errors import (
    JobConfigError,
    JobTablesError,
    SourceTableMissingError,
    ViewSchemaError,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

    from lakehouse_glue.job_tables import JobTables, JobView

#: The namespaces the views' SQL reads, relative to the current catalog: the curated collections
#: and the postgres tables at their default places (``mongodb_curate``, ``postgres_extract``).
VIEW_SOURCE_NAMESPACES = ("mongodb", "postgres")
#: Session time zones that are UTC. The views' days and hours (``CAST(ts AS date)``,
#: ``date_trunc('hour', ts)``) are taken in the session zone; the registry declares them UTC.
UTC_ZONES = frozenset({"UTC", "Etc/UTC"})
_TIME_ZONE_CONF = "spark.sql.session.timeZone"


def check_utc_session(spark: SparkSession) -> None:
    """Refuse a session whose time zone is not UTC (``lakehouse_glue.spark`` builds UTC ones)."""
    zone = spark.conf.get(_TIME_ZONE_CONF)
    if zone not in UTC_ZONES:
        raise JobConfigError(
            f"the Spark session's time zone is {zone!r}: the views' UTC days and hours need "
            f"{_TIME_ZONE_CONF}=UTC (lakehouse_glue.spark.local_session sets it)"
        )


def view_difference(schema: StructType, view: JobView) -> ViewSchemaError | None:
    """The first column where ``schema`` differs from ``view``'s declaration, or ``None``."""
    actual = [(f.name, f.dataType.simpleString()) for f in schema.fields]
    declared = [(c.name, c.spark_type) for c in view.columns]
    where = f"view {view.name}"
    for i in range(max(len(actual), len(declared))):
        got = actual[i] if i < len(actual) else None
        want = declared[i] if i < len(declared) else None
        if got == want:
            continue
        if want is None:
            assert got is not None
            return ViewSchemaError(
                f"{where}: returns column {got[0]} ({got[1]}) beyond the declared ones",
                view=view.name,
                column=got[0],
                declared=None,
                actual=got[1],
            )
        if got is None:
            return ViewSchemaError(
                f"{where}: column {want[0]} is declared ({want[1]}) but not returned",
                view=view.name,
                column=want[0],
                declared=want[1],
                actual=None,
            )
        if got[0] != want[0]:
            return ViewSchemaError(
                f"{where}: column {i + 1} is {got[0]} ({got[1]}), declared {want[0]} ({want[1]})",
                view=view.name,
                column=want[0],
                declared=f"{want[0]} {want[1]}",
                actual=f"{got[0]} {got[1]}",
            )
        return ViewSchemaError(
            f"{where}: column {want[0]} is {got[1]}, declared {want[1]}",
            view=view.name,
            column=want[0],
            declared=want[1],
            actual=got[1],
        )
    return None


def _create(spark: SparkSession, view: JobView) -> None:
    from pyspark.errors import AnalysisException

    try:
        spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW `{view.name}` AS {view.sql}")
    except AnalysisException as error:
        parameters = error.getMessageParameters() or {}
        if error.getErrorClass() == "TABLE_OR_VIEW_NOT_FOUND":
            missing = parameters.get("relationName", "?").replace("`", "")
            raise SourceTableMissingError(
                f"view {view.name} reads {missing}, which does not exist in the current catalog "
                f"{spark.catalog.currentCatalog()}: run mongodb_curate and postgres_extract first",
                table=missing,
            ) from error
        raise JobTablesError(
            f"view {view.name}: Spark refuses its SQL (pipeline/reports/views.ts): "
            f"{error.getErrorClass()}: {str(error).splitlines()[0]}",
            table=view.name,
        ) from error


def create_views(spark: SparkSession, catalog: str, job_tables: JobTables) -> tuple[JobView, ...]:
    """Create every view of ``job_tables`` as a session view, in order, each checked against its
    declared columns; returns them. ``catalog`` becomes the session's current catalog, the one
    the views' ``<database>.<table>`` names resolve in (each view keeps it: a session view is
    resolved in the catalog current when it was created)."""
    check_utc_session(spark)
    spark.catalog.setCurrentCatalog(catalog)
    for view in job_tables.views:
        _create(spark, view)
        difference = view_difference(spark.table(f"`{view.name}`").schema, view)
        if difference is not None:
            # Nobody reads a view that is not what it says.
            spark.catalog.dropTempView(view.name)
            raise difference
    return job_tables.views
