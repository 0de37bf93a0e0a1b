"""Test helpers around the lake: the Postgres tables the analytics job joins, table contents,
and what the sources say the lake should hold."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pyspark.sql import DataFrame, Row, SparkSession

from lakehouse_glue.curate.spec import CollectionSpec, JobTables
from lakehouse_glue.jdbc import JdbcSource, base_options

if TYPE_CHECKING:
    from sources import Sources

TOOLS = Path(__file__).resolve().parents[1] / "tools"
SLOT = timedelta(hours=6)
STEP = timedelta(seconds=30)


def first_row(df: DataFrame) -> Row:
    """The first row of a query that has one (``DataFrame.first()`` is ``None`` on no rows)."""
    row = df.first()
    assert row is not None, "the query returned no rows"
    return row


def load_tool(name: str) -> ModuleType:
    """Import ``glue/tools/<name>.py`` (a script folder, not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def copy_postgres_tables(
    spark: SparkSession,
    ddc: JdbcSource,
    job_tables: JobTables,
    namespace: str,
    names: Iterable[str] = ("device", "company"),
) -> None:
    """Stand-in for ``postgres_extract``: ddc tables into ``namespace`` with the registry's
    columns and types, so the analytics tests do not depend on that job."""
    from pyspark.sql import functions as sf

    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    for name in names:
        spec = job_tables.table(name)
        cols = ", ".join(c.name for c in spec.columns)
        df = (
            spark.read.format("jdbc")
            .options(**base_options(ddc))
            .option("query", f"SELECT {cols} FROM {name}")
            .load()
        )
        df = df.select(*[sf.col(c.name).cast(c.spark_type).alias(c.name) for c in spec.columns])
        df.writeTo(f"{namespace}.{name}").using("iceberg").createOrReplace()


def rows(spark: SparkSession, table: str, order: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in spark.sql(f"SELECT * FROM {table} ORDER BY {order}").collect()]


def as_utc(value: datetime) -> datetime:
    """Collected Spark timestamps are naive UTC (the harness pins the zone); Mongo's are aware."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def expected_keys(
    mongo_db: Any, collection: str, ts_field: str, last_log: dict[int, datetime]
) -> set[Any]:
    """What the lake must hold per the worker's contract: every document timestamped before its
    device's ``last_log_date`` (``_id`` as text; ``variable_logs``: (device, instant) pairs with
    a reading, from slots that ended by then)."""
    keys: set[Any] = set()
    if collection == "variable_logs":
        for doc in mongo_db[collection].find({}, {"idDevice": 1, "day": 1, "samples": 1}):
            mark = last_log.get(int(doc["idDevice"]))
            day = as_utc(doc["day"])
            if mark is None or day + SLOT > mark:
                continue
            for sample in doc["samples"]:
                for i, value in enumerate(sample["values"]):
                    if value is not None:
                        at = day + timedelta(hours=sample["hour"]) + i * STEP
                        keys.add((int(doc["idDevice"]), at))
        return keys
    for doc in mongo_db[collection].find({}, {"_id": 1, "idDevice": 1, ts_field: 1}):
        mark = last_log.get(int(doc["idDevice"]))
        ts = doc.get(ts_field)
        if mark is not None and isinstance(ts, datetime) and as_utc(ts) < mark:
            keys.add(str(doc["_id"]))
    return keys


#: (device, UTC day) → (rows, keys, cells, resets), as ``curated_day`` holds them.
DayCounts = dict[tuple[int, date], tuple[int, int, int, int]]


def direct_day_counts(spark: SparkSession, table: str, spec: CollectionSpec) -> DayCounts:
    """The day counts of a curated table, counted here with plain SQL (``to_date`` in the test
    session's zone, UTC) rather than the job's expressions: what ``curated_day`` must equal."""
    key = ", ".join(f"`{k}`" for k in spec.natural_key)
    cells = " + ".join(f"CAST(`{c}` IS NOT NULL AS BIGINT)" for c in spec.cell_columns) or "0"
    resets = f"count(`{spec.updated_column}`)" if spec.updated_column else "0"
    got = spark.sql(
        f"SELECT id_device, to_date(`{spec.timestamp_column}`) AS day, count(*) AS n, "
        f"count(DISTINCT {key}) AS k, sum({cells}) AS c, {resets} AS r FROM {table} "
        "GROUP BY 1, 2"
    ).collect()
    return {(int(r.id_device), r.day): (int(r.n), int(r.k), int(r.c), int(r.r)) for r in got}


def stored_day_counts(conn: Any, collection: str, *, zeros: bool = False) -> DayCounts:
    """``curated_day`` of ``collection`` in a support database (``psycopg`` connection); days
    counted empty (a table that lost their rows) only with ``zeros``."""
    found = conn.execute(
        'SELECT id_device, day, "rows", "keys", cells, resets FROM curated_day '
        "WHERE collection = %s",
        (collection,),
    ).fetchall()
    return {
        (int(d), day): (int(n), int(k), int(c), int(r))
        for d, day, n, k, c, r in found
        if zeros or n > 0
    }


def stored_position(conn: Any, collection: str) -> int | None:
    """``curated_count.position`` of ``collection``; ``None`` without a row."""
    row = conn.execute(
        "SELECT position FROM curated_count WHERE collection = %s", (collection,)
    ).fetchone()
    return None if row is None else int(row[0])


@contextmanager
def counts_refused(sources: Sources) -> Iterator[None]:
    """While open, the support database refuses every write of ``curated_count``: the day
    counts' transaction fails at its last statement, after the table's commit (a job that dies
    between the two)."""
    with sources.support() as conn:
        conn.execute(
            "CREATE FUNCTION refuse_count() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'counts refused'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER refuse_count BEFORE INSERT OR UPDATE ON curated_count "
            "FOR EACH ROW EXECUTE FUNCTION refuse_count()"
        )
    try:
        yield
    finally:
        with sources.support() as conn:
            conn.execute("DROP TRIGGER refuse_count ON curated_count")
            conn.execute("DROP FUNCTION refuse_count()")
