"""Curated day counts: what each curated table holds per device and UTC day, kept in the support
database for reconcile (docs/design.md §7), which compares them with the source and never scans
the lake itself.

After each commit the curate job counts, in the table, the days the commit's rows fall on (the
whole day, rows of earlier commits included), and upserts them (``curated_day``) with the ledger
position they are counted up to (``curated_count``) in one transaction, so reconcile can trust a
collection's counts up to that position. A job that dies between the table's commit and its
counts leaves the counted position behind the table's: the next run recounts the days of the
commits in between before curating anything (``DayCounter.catch_up``). A table never counted (it
predates counting) is counted whole, once, and so is a table whose position went back below its
counts (rebuilt or rolled back), with zeros for the days it no longer holds.

What a day counts:
- ``rows``: curated rows; ``keys``: distinct natural keys among them (fewer: a key held twice);
- ``cells``: non-null values of the cell columns (variable_logs: readings), 0 without any;
- ``resets``: rows whose updated column is set (alarm: reset), 0 without one.

Days are UTC whatever the session's or the JVM's time zone: a row's day comes from its instant's
epoch seconds (``to_date`` would take the session zone), and days travel to PostgreSQL as ISO text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

from lakehouse_glue.curate.spec import CollectionSpec
from lakehouse_glue.errors import DayCountsError
from lakehouse_glue.jdbc import JdbcSource, as_job_error, base_options

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

log = logging.getLogger(__name__)

DAY_TABLE = "curated_day"
POSITION_TABLE = "curated_count"
DEVICE = "id_device"
DAY = "day"
MEASURES = ("rows", "keys", "cells", "resets")
#: Days per upsert statement. Each day is one element of six array parameters rather than one
#: row of a JDBC batch: every parameter set through py4j is a round trip to the JVM (~0.1 ms), so
#: a batch row per day would make the whole count of a large table take hours.
DAYS_PER_STATEMENT = 10_000

_UPSERT_DAYS = (
    f'INSERT INTO {DAY_TABLE} (collection, id_device, day, "rows", "keys", cells, resets, '
    "counted_at) "
    "SELECT ?, d.id_device, d.day, d.n_rows, d.n_keys, d.cells, d.resets, now() "
    "FROM unnest(?::bigint[], ?::date[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[]) "
    "AS d(id_device, day, n_rows, n_keys, cells, resets) "
    "ON CONFLICT (collection, id_device, day) DO UPDATE SET "
    '"rows" = EXCLUDED."rows", "keys" = EXCLUDED."keys", cells = EXCLUDED.cells, '
    "resets = EXCLUDED.resets, counted_at = EXCLUDED.counted_at"
)
_UPSERT_POSITION = (
    f"INSERT INTO {POSITION_TABLE} (collection, position, counted_at) VALUES (?, ?, now()) "
    "ON CONFLICT (collection) DO UPDATE SET position = EXCLUDED.position, "
    "counted_at = EXCLUDED.counted_at"
)


@dataclass(frozen=True)
class DayCount:
    id_device: int
    day: date
    rows: int
    keys: int
    cells: int
    resets: int


#: One device's UTC day.
DeviceDay = tuple[int, date]


def utc_day(column: str) -> Column:
    """The UTC day of a timestamp column, whatever the session's time zone."""
    from pyspark.sql import functions as sf

    seconds = sf.unix_seconds(sf.col(f"`{column}`"))
    return sf.date_from_unix_date(sf.floor(seconds / sf.lit(86_400)).cast("int"))


def days_of(rows: DataFrame, spec: CollectionSpec) -> set[DeviceDay]:
    """The (device, UTC day) pairs of ``rows``' timestamp column."""
    from pyspark.sql import functions as sf

    found = (
        rows.where(sf.col(f"`{spec.timestamp_column}`").isNotNull())
        .select(sf.col(DEVICE), utc_day(spec.timestamp_column).alias(DAY))
        .distinct()
        .collect()
    )
    return {(int(r[DEVICE]), r[DAY]) for r in found}


def _measures(spec: CollectionSpec) -> list[Column]:
    from pyspark.sql import functions as sf

    zero = sf.lit(0).cast("bigint")
    cells: Column = zero
    for name in spec.cell_columns:
        cells = cells + sf.col(f"`{name}`").isNotNull().cast("bigint")
    return [
        sf.count(sf.lit(1)).alias("rows"),
        sf.count_distinct(*[sf.col(f"`{k}`") for k in spec.natural_key]).alias("keys"),
        (sf.sum(cells) if spec.cell_columns else zero).alias("cells"),
        (sf.count(sf.col(f"`{spec.updated_column}`")) if spec.updated_column else zero).alias(
            "resets"
        ),
    ]


def _with_day(spark: SparkSession, table: str, spec: CollectionSpec) -> DataFrame:
    from pyspark.sql import functions as sf

    return (
        spark.table(table)
        .withColumn(DAY, utc_day(spec.timestamp_column))
        .where(sf.col(DAY).isNotNull())
    )


def count_days(
    spark: SparkSession, spec: CollectionSpec, table: str, days: Iterable[DeviceDay]
) -> list[DayCount]:
    """The counts of ``days`` in ``table``, zeros for a day it holds no row of.

    The table is filtered by the days' devices and time range first, so Iceberg reads only the
    device buckets and time partitions involved (and, the files being sorted by device and time,
    only the files whose bounds meet them), then by the days themselves: a set of text keys
    rather than a join, which Spark would try to prune the scan with on an expression Iceberg
    cannot take.
    """
    from pyspark.sql import functions as sf

    wanted = sorted(set(days))
    if not wanted:
        return []
    devices = sorted({device for device, _ in wanted})
    start = datetime.combine(min(d for _, d in wanted), datetime.min.time(), UTC)
    end = datetime.combine(max(d for _, d in wanted) + timedelta(days=1), datetime.min.time(), UTC)
    ts = sf.col(f"`{spec.timestamp_column}`")
    pruned = spark.table(table).where(
        sf.col(DEVICE).isin(devices) & (ts >= sf.lit(start)) & (ts < sf.lit(end))
    )
    counted = (
        pruned.withColumn(DAY, utc_day(spec.timestamp_column))
        .where(sf.concat_ws("/", DEVICE, DAY).isin([f"{d}/{day.isoformat()}" for d, day in wanted]))
        .groupBy(DEVICE, DAY)
        .agg(*_measures(spec))
        .collect()
    )
    found = {(int(r[DEVICE]), r[DAY]): r for r in counted}
    out = []
    for device, day in wanted:
        r = found.get((device, day))
        values = [0, 0, 0, 0] if r is None else [int(r[m]) for m in MEASURES]
        out.append(DayCount(device, day, *values))
    return out


def moved_days(
    spark: SparkSession,
    spec: CollectionSpec,
    table: str,
    source_view: str,
    devices: Sequence[int],
) -> set[DeviceDay]:
    """Days a merge is about to take rows away from: curated rows whose key the source holds
    with another timestamp. Only a merge that updates matched rows of a collection whose
    timestamp is not part of its key can move a row to another day; their old days are counted
    with the new ones after the commit, or they would keep a row they lost. Run before the merge.
    """
    if not (spec.update_matched and devices) or spec.timestamp_column in spec.natural_key:
        return set()
    keys = [*spec.natural_key, *([] if DEVICE in spec.natural_key else [DEVICE])]
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
    ts = spec.timestamp_column
    found = spark.sql(
        f"SELECT DISTINCT t.{DEVICE} AS {DEVICE}, t.`{ts}` AS ts FROM {table} t "
        f"JOIN {source_view} s ON {on} "
        f"WHERE t.{DEVICE} IN ({', '.join(str(int(d)) for d in devices)}) "
        f"AND NOT (t.`{ts}` <=> s.`{ts}`) AND t.`{ts}` IS NOT NULL"
    )
    days = found.select(DEVICE, utc_day("ts").alias(DAY)).collect()
    return {(int(r[DEVICE]), r[DAY]) for r in days}


def count_table(spark: SparkSession, spec: CollectionSpec, table: str) -> DataFrame:
    """Every day of the table counted: one scan, for a table without counts."""
    return _with_day(spark, table, spec).groupBy(DEVICE, DAY).agg(*_measures(spec))


class DayCountStore:
    """``curated_day`` and ``curated_count`` in the support database.

    Written over a plain JDBC connection of the job's own (the driver Spark's JDBC source uses):
    Spark's JDBC writer can neither upsert nor write two tables in one transaction, and the
    ledger's connection options are read-only. The connection lives for one call, closed on every
    path; a failed write is rolled back whole, so counts never reach past their position.
    """

    def __init__(self, spark: SparkSession, source: JdbcSource) -> None:
        self._spark = spark
        self._source = source

    def _connect(self) -> Any:
        jvm = self._spark._jvm
        assert jvm is not None
        props = jvm.java.util.Properties()
        options = base_options(self._source)
        for key in ("user", "password", "connectTimeout", "ApplicationName"):
            props.setProperty(key, options[key])
        return jvm.java.sql.DriverManager.getConnection(self._source.url, props)

    def position(self, collection: str) -> int | None:
        """The ledger id the collection's days are counted up to; ``None`` if never counted."""
        try:
            conn = self._connect()
        except Exception as error:
            raise _counts_error("cannot read", collection, error) from error
        try:
            statement = conn.prepareStatement(
                f"SELECT position FROM {POSITION_TABLE} WHERE collection = ?"
            )
            statement.setString(1, collection)
            found = statement.executeQuery()
            if not found.next():
                return None
            return int(found.getLong(1))
        except Exception as error:
            raise _counts_error("cannot read", collection, error) from error
        finally:
            conn.close()

    def counted_days(self, collection: str) -> DataFrame:
        """The days the support database holds counts of for ``collection`` (lazy: a Spark
        JDBC read, for a whole recount to find the days a table no longer holds)."""
        quoted = collection.replace("'", "''")
        return (
            self._spark.read.format("jdbc")
            .options(**base_options(self._source))
            .option(
                "query",
                f"SELECT id_device, day FROM {DAY_TABLE} WHERE collection = '{quoted}'",
            )
            .load()
        )

    def write(self, collection: str, days: Iterable[DayCount], position: int) -> int:
        """Upsert ``days`` and set the collection's counted position, in one transaction;
        returns the number of days written."""
        written = 0
        try:
            conn = self._connect()
        except Exception as error:
            raise _counts_error("cannot write", collection, error) from error
        try:
            conn.setAutoCommit(False)
            upsert = conn.prepareStatement(_UPSERT_DAYS)
            for batch in _batches(days, DAYS_PER_STATEMENT):
                upsert.setString(1, collection)
                upsert.setString(2, _array([d.id_device for d in batch]))
                upsert.setString(3, _array([d.day.isoformat() for d in batch]))
                for index, measure in enumerate(MEASURES, start=4):
                    upsert.setString(index, _array([getattr(d, measure) for d in batch]))
                upsert.executeUpdate()
                written += len(batch)
            mark = conn.prepareStatement(_UPSERT_POSITION)
            mark.setString(1, collection)
            mark.setLong(2, int(position))
            mark.executeUpdate()
            conn.commit()
        except Exception as error:
            _rollback(conn)
            raise _counts_error("cannot write", collection, error) from error
        finally:
            conn.close()
        return written


def _batches(days: Iterable[DayCount], size: int) -> Iterator[list[DayCount]]:
    it = iter(days)
    while batch := list(islice(it, size)):
        yield batch


def _array(values: Sequence[object]) -> str:
    """A PostgreSQL array literal of plain numbers or ISO days (nothing that needs quoting)."""
    return "{" + ",".join(str(v) for v in values) + "}"


def _rollback(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:  # the connection is already broken: closing it aborts the transaction
        log.debug("rollback of the day counts failed", exc_info=True)


def _counts_error(what: str, collection: str, error: BaseException) -> DayCountsError:
    cause = as_job_error(error, POSITION_TABLE)
    return DayCountsError(
        f"{what} the curated day counts of {collection}: {cause.message}",
        table=collection,
        retryable=cause.retryable,
    )


#: The rows of the ledger entries with ``after < id <= upto``, read again from their objects.
RowsBetween = Callable[[int, int], Iterable["DataFrame"]]


class DayCounter:
    """The day counts of one collection's curated table."""

    def __init__(
        self, spark: SparkSession, spec: CollectionSpec, table: str, store: DayCountStore
    ) -> None:
        self.spark = spark
        self.spec = spec
        self.table = table
        self.store = store

    def commit(self, days: Iterable[DeviceDay], position: int) -> int:
        """Count ``days`` in the table and write them with ``position``; returns days written."""
        counts = count_days(self.spark, self.spec, self.table, days)
        return self.store.write(self.spec.name, counts, position)

    def catch_up(self, committed: int, rows_between: RowsBetween) -> int:
        """Bring the counts up to the table's ``committed`` position before new commits; returns
        the days recounted."""
        counted = self.store.position(self.spec.name)
        if counted is not None and counted == committed:
            return 0
        if counted is None or counted > committed:
            if counted is not None or committed > 0:  # not merely a table created by this run
                why = "never counted" if counted is None else f"counted up to {counted}, above it"
                log.warning(
                    "%s is at ledger position %d and %s: counting the whole table",
                    self.table,
                    committed,
                    why,
                )
            return self._count_whole(committed, forget=counted is not None)
        days: set[DeviceDay] = set()
        for rows in rows_between(counted, committed):
            days |= days_of(rows, self.spec)
        log.warning(
            "%s: counts at ledger position %d, table at %d: recounting %d day(s)",
            self.table,
            counted,
            committed,
            len(days),
        )
        return self.commit(days, committed)

    def _count_whole(self, committed: int, forget: bool) -> int:
        """Count every day of the table; ``forget``: also zero the days counted before that the
        table no longer holds (it was rebuilt or rolled back below its counts)."""
        from pyspark.sql import functions as sf

        table_days = count_table(self.spark, self.spec, self.table)
        rows = table_days.select(DEVICE, DAY, *MEASURES)
        if forget:
            gone = (
                self.store.counted_days(self.spec.name)
                .select(sf.col(DEVICE).cast("bigint").alias(DEVICE), sf.col(DAY).cast("date"))
                .join(table_days.select(DEVICE, DAY), [DEVICE, DAY], "left_anti")
                .select(DEVICE, DAY, *[sf.lit(0).cast("bigint").alias(m) for m in MEASURES])
            )
            rows = rows.unionByName(gone)
        counts = (
            DayCount(int(r[DEVICE]), r[DAY], *[int(r[m]) for m in MEASURES])
            for r in rows.toLocalIterator()
        )
        return self.store.write(self.spec.name, counts, committed)
