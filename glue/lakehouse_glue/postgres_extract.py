"""Glue job ``postgres_extract``: the PostgreSQL ``ddc`` tables into Iceberg (docs/design.md §4).

Plain PySpark on a ``SparkSession`` and a config, so the same code runs in Glue (through the thin
entry ``glue/jobs/postgres_extract.py``), from the local CLI and in pytest. Which tables exist
and how each is kept comes from the registry's table list (``JobTables``), one behaviour each:

- ``replace``: the whole table is read in one query and replaces the lake table's rows in one
  Iceberg commit (an overwrite snapshot). Readers see the old or the new rows, never an empty or
  half-written table, and rows deleted and re-inserted under new ids (``device_recipe``) simply
  are the new contents.
- ``append``: only rows whose watermark key is above the largest key already in the lake table,
  read in parallel ranges, appended in one commit. The data is the watermark (ADR 0005), so a
  crash before the commit rereads the same rows and a crash after it reads none of them again.
- ``merge``: ``MERGE INTO`` on the natural key, updating a row only when a tracked column changed
  (compared null-safe with ``<=>``), inserting new rows and deleting rows gone from the source;
  each run that changes something is one snapshot, so time travel shows earlier versions.

Each table is its own Iceberg commit: a failure in one (missing table, changed type, refused
connection) is recorded with its name and never touches another table; the run raises
``TablesFailedError`` at the end if any failed.

A replace or merge that would drop too many of the lake table's rows is refused before its
commit (``ShrinkGuard``, ``SourceShrankError``): a source table that emptied, or lost most of its
rows, never replaces a lake table without an operator's say-so (``--allow_shrink``). One that is
gone (renamed, dropped) fails its read already (``SourceTableMissingError``).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from lakehouse_glue import jdbc
from lakehouse_glue.errors import (
    GlueJobError,
    SchemaMismatchError,
    SourceShrankError,
    TablesFailedError,
)
from lakehouse_glue.jdbc import JdbcSource
from lakehouse_glue.job_tables import JobTable, JobTables
from lakehouse_glue.sql import properties_sql

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

JOB_NAME = "postgres_extract"
DEFAULT_NAMESPACE = "postgres"
#: Snapshot-summary keys this job writes: which source key range an append commit holds. For
#: people and audits only; the watermark itself is read back as max(key) of the table (ADR 0005).
WATERMARK_FROM_PROPERTY = "lakehouse.watermark.from-exclusive"
WATERMARK_TO_PROPERTY = "lakehouse.watermark.to-inclusive"

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")

#: The largest share (percent) of a lake table's rows a replace or merge may drop without an
#: operator's say-so. A table with rows going to zero is refused whatever this says.
DEFAULT_MAX_SHRINK_PERCENT = 50


@dataclass(frozen=True)
class ShrinkGuard:
    """When a replace or merge may drop rows of the lake table (docs/design.md §7).

    Refused, before the commit: a lake table with rows going to zero, or losing more than
    ``max_shrink_percent`` of them (a replace: the rows it has beyond the source's; a merge: the
    rows it would delete, whatever it inserts). ``allowed`` names the tables an operator forces.
    The reference is the lake table as it is, so a forced run's result is the next run's
    reference: forcing is a decision for one run, not a setting.
    """

    max_shrink_percent: int = DEFAULT_MAX_SHRINK_PERCENT
    allowed: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not 0 <= self.max_shrink_percent <= 100:
            raise ValueError(
                f"max_shrink_percent {self.max_shrink_percent} is not between 0 and 100"
            )

    def refuses(self, lake_rows: int, source_rows: int, dropped_rows: int) -> bool:
        """Whether dropping ``dropped_rows`` of ``lake_rows`` (the source has ``source_rows``)
        needs an operator. An empty lake table (the first run) loses nothing."""
        if lake_rows == 0:
            return False
        return source_rows == 0 or dropped_rows * 100 > self.max_shrink_percent * lake_rows

    def check(
        self, table: str, behaviour: str, lake_rows: int, source_rows: int, dropped_rows: int
    ) -> None:
        """Raise ``SourceShrankError`` unless the drop is within bounds or ``table`` is allowed."""
        if not self.refuses(lake_rows, source_rows, dropped_rows):
            return
        share = 100 * dropped_rows / lake_rows
        if table in self.allowed:
            log.warning(
                "%s: the %s drops %d of %d lake rows (%.1f %%), allowed by --allow_shrink",
                table,
                behaviour,
                dropped_rows,
                lake_rows,
                share,
            )
            return
        limit = (
            "every row"
            if source_rows == 0
            else f"more than the {self.max_shrink_percent} % allowed (--max_shrink_percent)"
        )
        raise SourceShrankError(
            f"the source table has {source_rows} rows, the lake table {lake_rows}: this "
            f"{behaviour} would drop {dropped_rows} of them ({share:.1f} %), {limit}; nothing "
            "was written. Was the source table emptied, or renamed and recreated? If the rows "
            f"are really gone, rerun with --allow_shrink {table} (locally --allow-shrink)",
            table=table,
            lake_rows=lake_rows,
            source_rows=source_rows,
        )


#: The default: at most ``DEFAULT_MAX_SHRINK_PERCENT`` dropped, no table forced.
DEFAULT_SHRINK = ShrinkGuard()


@dataclass(frozen=True)
class ExtractConfig:
    """Everything one run needs; built once at the edge (CLI or Glue entry)."""

    source: JdbcSource
    job_tables: JobTables
    #: ``lake`` locally (``lakehouse_glue.spark``), ``glue_catalog`` in Glue.
    catalog: str = "lake"
    #: Iceberg namespace = Glue database (docs/design.md §5).
    namespace: str = DEFAULT_NAMESPACE
    #: Only these tables (registry order kept); ``None`` for all.
    tables: tuple[str, ...] | None = None
    #: How many lake rows a replace or merge may drop, and which tables an operator forces.
    shrink: ShrinkGuard = DEFAULT_SHRINK

    def __post_init__(self) -> None:
        for what, value in (("catalog", self.catalog), ("namespace", self.namespace)):
            if not _IDENTIFIER.match(value):
                raise ValueError(f"{what} {value!r} is not a plain lowercase name")

    def target(self, table: JobTable | str) -> str:
        name = table if isinstance(table, str) else table.name
        return f"{self.catalog}.{self.namespace}.{name}"


@dataclass
class TableResult:
    """What happened to one table; printed as one JSON line by the CLI."""

    table: str
    behaviour: str
    status: Literal["ok", "failed"] = "ok"
    rows_read: int = 0
    rows_written: int = 0
    seconds: float = 0.0
    #: Iceberg snapshot the run committed; ``None`` when nothing changed (no commit).
    snapshot_id: int | None = None
    #: Append tables: the largest key in the lake table after the run.
    watermark: int | None = None
    error: str | None = None
    error_type: str | None = None
    retryable: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Written:
    rows_read: int
    rows_written: int
    snapshot_id: int | None
    watermark: int | None = None


# ---------------------------------------------------------------------------------------------
# Lake tables
# ---------------------------------------------------------------------------------------------


def ensure_table(spark: SparkSession, target: str, table: JobTable) -> None:
    """Create the Iceberg table from the registry if absent; refuse one that has drifted.

    Called once the source read has resolved, so a table whose source fails creates nothing.

    Created empty, not by CTAS, so that nullability is the registry's (Spark adds a not-null
    check when nullable JDBC columns are written into required ones) and so that a table created
    by the infrastructure with the same schema is used as it is. A table this job creates gets the
    registry's Iceberg properties, the ones Pulumi declares for the tables it creates.
    """
    namespace = target.rsplit(".", 1)[0]
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    spark.sql(create_table_sql(target, table))
    have = [(f.name, f.dataType.simpleString()) for f in spark.table(target).schema.fields]
    want = [(c.name, c.spark_type) for c in table.columns]
    if sorted(have) != sorted(want):
        raise SchemaMismatchError(
            f"lake table {target} has columns {have}, the registry declares {want}; "
            "evolve the lake table before extracting",
            table=table.name,
        )


def create_table_sql(target: str, table: JobTable) -> str:
    """``CREATE TABLE IF NOT EXISTS`` with the registry's columns, nullability and properties."""
    columns = ", ".join(
        f"{q(c.name)} {c.spark_type}{'' if c.nullable else ' NOT NULL'}" for c in table.columns
    )
    properties = f" TBLPROPERTIES ({properties_sql(table.properties)})" if table.properties else ""
    return f"CREATE TABLE IF NOT EXISTS {target} ({columns}) USING iceberg{properties}"


def current_snapshot(spark: SparkSession, target: str) -> tuple[int, dict[str, str]] | None:
    rows = spark.sql(
        f"SELECT snapshot_id, summary FROM {target}.snapshots ORDER BY committed_at DESC LIMIT 1"
    ).collect()
    return (int(rows[0].snapshot_id), dict(rows[0].summary)) if rows else None


def q(name: str) -> str:
    """A Spark SQL identifier. Registry names are plain snake_case already, but may still be
    keywords (``timestamp``, ``key``), which backticks make safe."""
    return f"`{name}`"


def _committed(spark: SparkSession, target: str, before: int | None) -> tuple[int | None, int]:
    """The snapshot a write just made and the rows it added (None, 0 if it made none)."""
    snapshot = current_snapshot(spark, target)
    if snapshot is None or snapshot[0] == before:
        return None, 0
    snapshot_id, summary = snapshot
    return snapshot_id, int(summary.get("added-records", "0"))


def _snapshot_id(spark: SparkSession, target: str) -> int | None:
    snapshot = current_snapshot(spark, target)
    return snapshot[0] if snapshot else None


# ---------------------------------------------------------------------------------------------
# replace: the whole table in one commit
# ---------------------------------------------------------------------------------------------


def replace_table(
    spark: SparkSession,
    source: JdbcSource,
    table: JobTable,
    target: str,
    shrink: ShrinkGuard = DEFAULT_SHRINK,
) -> Written:
    """Replace every row of ``target`` with the source table, in one Iceberg commit.

    One JDBC query, not parallel ranges: each range would be its own transaction, and a row that
    is deleted and re-inserted under a new id between two of them would be read twice or not at
    all. ``overwrite(true)`` rather than ``createOrReplace()``: the same single commit, but the
    table (its schema with the registry's nullability, properties and the optimizers the
    infrastructure attaches to it) stays the one that exists.

    The read is cached and counted first, so ``shrink`` judges the rows the commit writes: a
    source that emptied or lost most of its rows is refused with the lake table untouched.

    A source with exactly the lake table's rows (compared as multisets, every column) commits
    nothing, as a merge without changes: no empty versions in the history, and what reads the
    table downstream (the analytics job, a local run deciding what to rerun) sees it unchanged.
    """
    from pyspark import StorageLevel
    from pyspark.sql.functions import lit

    df = jdbc.read_table(spark, source, table).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        ensure_table(spark, target, table)
        source_rows = df.count()
        lake_rows = spark.table(target).count()
        shrink.check(table.name, "replace", lake_rows, source_rows, max(0, lake_rows - source_rows))
        if lake_rows == source_rows and _same_rows(df, spark.table(target).select(*df.columns)):
            return Written(rows_read=source_rows, rows_written=0, snapshot_id=None)
        before = _snapshot_id(spark, target)
        df.writeTo(target).overwrite(lit(True))
        snapshot_id, rows = _committed(spark, target, before)
        return Written(rows_read=source_rows, rows_written=rows, snapshot_id=snapshot_id)
    finally:
        df.unpersist()


def _same_rows(source: DataFrame, lake: DataFrame) -> bool:
    """Whether two frames of equal row counts hold the same rows, duplicates counted."""
    return source.exceptAll(lake).isEmpty()


# ---------------------------------------------------------------------------------------------
# append: increment above the watermark
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Increment:
    """Source keys ``(watermark, upper]`` not yet in the lake (``watermark`` None: all)."""

    watermark: int | None
    lower: int
    upper: int


def lake_watermark(spark: SparkSession, target: str, column: str) -> int | None:
    """The largest key already committed. Iceberg answers max() from the manifests' column
    bounds (aggregate push-down), without reading data files, whenever every file has them."""
    if not spark.catalog.tableExists(target):
        return None
    row = spark.sql(f"SELECT max({q(column)}) AS m FROM {target}").first()
    return jdbc.as_int(row.m) if row else None


def plan_increment(
    spark: SparkSession, source: JdbcSource, table: JobTable, target: str
) -> Increment | None:
    """Find the key range to read, fixed at the start: ranges read in parallel then agree on it,
    and rows inserted while the job runs wait for the next run instead of half-appearing."""
    column = _watermark(table)
    watermark = lake_watermark(spark, target, column)
    above = "" if watermark is None else f" WHERE {jdbc.quote(column)} > {watermark}"
    rows = jdbc.query(
        spark,
        source,
        f"SELECT min({jdbc.quote(column)}) AS lo, max({jdbc.quote(column)}) AS hi "
        f"FROM {jdbc.quote(source.schema)}.{jdbc.quote(table.name)}{above}",
        table.name,
    )
    lo, hi = jdbc.as_int(rows[0].lo), jdbc.as_int(rows[0].hi)
    if lo is None or hi is None:
        return None
    return Increment(watermark=watermark, lower=lo, upper=hi)


def read_increment(
    spark: SparkSession, source: JdbcSource, table: JobTable, increment: Increment
) -> DataFrame:
    column = jdbc.quote(_watermark(table))
    where = f"{column} <= {increment.upper}"
    if increment.watermark is not None:
        where = f"{column} > {increment.watermark} AND {where}"
    partitioning = jdbc.partition_options(
        _watermark(table),
        increment.lower,
        increment.upper,
        source.partition_rows,
        source.max_partitions,
    )
    return jdbc.read_table(spark, source, table, where=where, partitioning=partitioning)


def commit_increment(
    spark: SparkSession, df: DataFrame, target: str, increment: Increment
) -> tuple[int | None, int]:
    """Append in one commit; the snapshot summary records the range for people to read."""
    before = _snapshot_id(spark, target)
    (
        df.writeTo(target)
        .option(
            f"snapshot-property.{WATERMARK_FROM_PROPERTY}",
            "" if increment.watermark is None else str(increment.watermark),
        )
        .option(f"snapshot-property.{WATERMARK_TO_PROPERTY}", str(increment.upper))
        .append()
    )
    return _committed(spark, target, before)


def append_increment(
    spark: SparkSession,
    source: JdbcSource,
    table: JobTable,
    target: str,
    shrink: ShrinkGuard = DEFAULT_SHRINK,
) -> Written:
    """Append the source rows above the lake's largest key; nothing to do commits nothing.

    ``shrink`` is unused: an append drops no lake row (rows deleted at the source stay, ADR 0005).
    """
    increment = plan_increment(spark, source, table, target)
    if increment is None:
        ensure_table(spark, target, table)
        watermark = lake_watermark(spark, target, _watermark(table))
        return Written(rows_read=0, rows_written=0, snapshot_id=None, watermark=watermark)
    df = read_increment(spark, source, table, increment)
    ensure_table(spark, target, table)
    snapshot_id, rows = commit_increment(spark, df, target, increment)
    return Written(
        rows_read=rows, rows_written=rows, snapshot_id=snapshot_id, watermark=increment.upper
    )


def _watermark(table: JobTable) -> str:
    if table.watermark is None:
        raise GlueJobError("an append table needs a watermark column", table=table.name)
    return table.watermark


# ---------------------------------------------------------------------------------------------
# merge: null-safe change detection, history by snapshots
# ---------------------------------------------------------------------------------------------


def changed_condition(table: JobTable, target: str = "t", source: str = "s") -> str:
    """True when any tracked column differs. ``<=>`` is equal-or-both-NULL: the seed's
    ``t.x <> s.x`` is NULL, not true, when either side is NULL, so changes to or from NULL were
    never merged."""
    same = " AND ".join(f"{target}.{q(c)} <=> {source}.{q(c)}" for c in table.tracked)
    return f"NOT ({same})"


def merge_table(
    spark: SparkSession,
    source: JdbcSource,
    table: JobTable,
    target: str,
    shrink: ShrinkGuard = DEFAULT_SHRINK,
) -> Written:
    """``MERGE INTO`` on the natural key: update changed rows, insert new ones, delete gone ones.

    The source is read once and cached, so the change counts and the MERGE see the same rows.
    A run with no change commits nothing, so replays add no empty versions to the history.
    A merge that would delete more rows than ``shrink`` allows is refused before the MERGE.
    """
    from pyspark import StorageLevel

    view = f"postgres_extract_{table.name}_{uuid.uuid4().hex[:8]}"
    src = jdbc.read_table(spark, source, table).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        ensure_table(spark, target, table)
        rows_read = src.count()
        src.createOrReplaceTempView(view)
        on = " AND ".join(f"t.{q(k)} = s.{q(k)}" for k in table.natural_key)
        key = q(table.natural_key[0])
        counts = spark.sql(
            f"""
            SELECT
              count_if(t.{key} IS NOT NULL) AS lake_rows,
              count_if(t.{key} IS NULL) AS inserted,
              count_if(s.{key} IS NULL) AS deleted,
              count_if(t.{key} IS NOT NULL AND s.{key} IS NOT NULL
                       AND {changed_condition(table)}) AS updated
            FROM {target} t FULL OUTER JOIN {view} s ON {on}
            """
        ).first()
        if counts is not None:
            shrink.check(table.name, "merge", counts.lake_rows, rows_read, counts.deleted)
        changes = 0 if counts is None else counts.inserted + counts.deleted + counts.updated
        if changes == 0:
            return Written(rows_read=rows_read, rows_written=0, snapshot_id=None)
        before = _snapshot_id(spark, target)
        spark.sql(
            f"""
            MERGE INTO {target} t
            USING {view} s
            ON {on}
            WHEN MATCHED AND {changed_condition(table)} THEN UPDATE SET *
            WHEN NOT MATCHED THEN INSERT *
            WHEN NOT MATCHED BY SOURCE THEN DELETE
            """
        )
        snapshot_id, _ = _committed(spark, target, before)
        return Written(rows_read=rows_read, rows_written=changes, snapshot_id=snapshot_id)
    finally:
        spark.catalog.dropTempView(view)
        src.unpersist()


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------

Extractor = Callable[["SparkSession", JdbcSource, JobTable, str, ShrinkGuard], Written]
EXTRACTORS: dict[str, Extractor] = {
    "replace": replace_table,
    "append": append_increment,
    "merge": merge_table,
}


def extract_table(
    spark: SparkSession, config: ExtractConfig, table: JobTable
) -> tuple[TableResult, GlueJobError | None]:
    """One table, never raising: its failure is part of its result."""
    started = time.monotonic()
    result = TableResult(table=table.name, behaviour=table.behaviour)
    error: GlueJobError | None = None
    try:
        target = config.target(table)
        written = EXTRACTORS[table.behaviour](spark, config.source, table, target, config.shrink)
        result.rows_read = written.rows_read
        result.rows_written = written.rows_written
        result.snapshot_id = written.snapshot_id
        result.watermark = written.watermark
    except Exception as caught:
        error = jdbc.as_job_error(caught, table.name)
        result.status = "failed"
        result.error = str(error)
        result.error_type = type(error).__name__
        result.retryable = error.retryable
        # A named error says enough; anything else is a bug and needs its stack.
        log.error("%s", error, exc_info=not isinstance(caught, GlueJobError))
    result.seconds = round(time.monotonic() - started, 3)
    return result, error


def run(
    spark: SparkSession,
    config: ExtractConfig,
    on_result: Callable[[TableResult], None] | None = None,
) -> list[TableResult]:
    """Extract every selected table; if any failed, raise ``TablesFailedError`` (carrying all
    results) after every table was tried."""
    results: list[TableResult] = []
    failures: dict[str, GlueJobError] = {}
    for table in config.job_tables.select(config.tables):
        result, error = extract_table(spark, config, table)
        log.info("%s", json.dumps(result.to_json()))
        results.append(result)
        if error is not None:
            failures[table.name] = error
        if on_result is not None:
            on_result(result)
    if failures:
        raise TablesFailedError(failures, results)
    return results
