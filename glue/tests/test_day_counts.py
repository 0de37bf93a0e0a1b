"""The curated day counts the curate job keeps for reconcile (``lakehouse_glue.curate.day_counts``).

Raw objects are written here in the worker's format (pyarrow, the registry's columns), curated
through ``curate_collection`` with the entries given directly, and counted into a throwaway
support database migrated like production's. Every expectation is a count of the table done
here with plain SQL, or a number written in the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lake_helpers import (
    DayCounts,
    as_utc,
    counts_refused,
    direct_day_counts,
    first_row,
    stored_day_counts,
    stored_position,
)
from pyspark.sql import SparkSession
from sources import Sources

from lakehouse_glue.curate import (
    CollectionResult,
    CurateSettings,
    DayCountStore,
    JobTables,
    LedgerEntry,
    committed_position,
    curate_collection,
)
from lakehouse_glue.curate.day_counts import utc_day
from lakehouse_glue.errors import DayCountsError
from lakehouse_glue.jdbc import JdbcSource
from lakehouse_glue.job_tables import parse_job_tables
from lakehouse_glue.spark import DEFAULT_CATALOG

_ARROW = {
    "string": pa.string(),
    "bigint": pa.int64(),
    "int": pa.int32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("ms", tz="UTC"),
}
DEVICE = 7
DAY = datetime(2024, 3, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def support() -> Iterator[Sources]:
    """A support database of its own, migrated (its ``ddc`` database stays empty)."""
    sources = Sources()
    sources.create()
    try:
        sources.cli("migrate")
        yield sources
    finally:
        sources.drop()


@pytest.fixture(scope="module")
def job_tables(registry: dict[str, Any]) -> JobTables:
    return parse_job_tables(registry)


@dataclass
class Lake:
    """One test's raw root, curated namespace and day-count store."""

    spark: SparkSession
    job_tables: JobTables
    support: Sources
    settings: CurateSettings
    store: DayCountStore
    next_id: int = 1

    def table(self, collection: str) -> str:
        return f"{self.settings.catalog}.{self.settings.namespace}.{collection}"

    def write(
        self, collection: str, window: datetime, rows: list[dict[str, Any]], device: int = DEVICE
    ) -> LedgerEntry:
        """Write (or overwrite) the object of ``window`` with ``rows`` (absent columns NULL) and
        return its ledger entry under a new id, as the worker's commit would."""
        spec = self.job_tables.collection(collection)
        schema = pa.schema(
            [pa.field(c.name, _ARROW[c.spark_type], nullable=c.nullable) for c in spec.columns]
        )
        columns = {c.name: [r.get(c.name) for r in rows] for c in spec.columns}
        window_ms = int(window.timestamp() * 1000)
        key = spec.raw_key.template.format(
            collection=collection, idDevice=device, windowFromMs=window_ms
        )
        path = Path(self.settings.raw_root) / key
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(columns, schema=schema), path, data_page_version="1.0")
        entry = LedgerEntry(
            self.next_id, key, collection, device, window, window + timedelta(days=1), len(rows), 0
        )
        self.next_id += 1
        return entry

    def curate(
        self, collection: str, entries: list[LedgerEntry], counted: bool = True
    ) -> CollectionResult:
        spec = self.job_tables.collection(collection)
        store = self.store if counted else None
        return curate_collection(self.spark, spec, self.settings, entries, store)

    def direct(self, collection: str) -> DayCounts:
        return direct_day_counts(
            self.spark, self.table(collection), self.job_tables.collection(collection)
        )

    def stored(self, collection: str, zeros: bool = False) -> DayCounts:
        with self.support.support() as conn:
            return stored_day_counts(conn, collection, zeros=zeros)

    def position(self, collection: str) -> int | None:
        with self.support.support() as conn:
            return stored_position(conn, collection)


@pytest.fixture
def lake(
    spark: SparkSession, job_tables: JobTables, support: Sources, tmp_path: Path
) -> Iterator[Lake]:
    namespace = f"counts_{uuid.uuid4().hex[:8]}"
    settings = CurateSettings(
        catalog=DEFAULT_CATALOG, raw_root=str(tmp_path), namespace=namespace, lag_seconds=0
    )
    source = JdbcSource(support.jdbc_url(support.support_db), support.pg_user, support.pg_password)
    yield Lake(spark, job_tables, support, settings, DayCountStore(spark, source))
    with support.support() as conn:
        # Collections are shared by the tests of this module: each starts uncounted.
        conn.execute("DELETE FROM curated_day")
        conn.execute("DELETE FROM curated_count")
    for name in ("events", "alarm", "variable_logs"):
        spark.sql(f"DROP TABLE IF EXISTS {DEFAULT_CATALOG}.{namespace}.{name} PURGE")


def _events(start: datetime, n: int, step: timedelta = timedelta(hours=1)) -> list[dict[str, Any]]:
    return [
        {
            "id": f"ev-{DEVICE}-{start:%Y%m%d%H%M}-{i}",
            "id_device": DEVICE,
            "timestamp": start + i * step,
            "type": "door",
            "source": "s",
        }
        for i in range(n)
    ]


def test_counts_follow_every_commit_and_a_replayed_window(lake: Lake) -> None:
    first = lake.write("events", DAY, _events(DAY + timedelta(hours=20), 3))  # 20h, 21h, 22h
    second = lake.write("events", DAY + timedelta(days=1), _events(DAY + timedelta(days=1), 2))
    result = lake.curate("events", [first, second])

    day, next_day = DAY.date(), DAY.date() + timedelta(days=1)
    assert (
        lake.stored("events")
        == lake.direct("events")
        == {
            (DEVICE, day): (3, 3, 0, 0),
            (DEVICE, next_day): (2, 2, 0, 0),
        }
    )
    assert result.days_counted == 2
    assert lake.position("events") == second.id == result.position_after

    # The first window extracted again, one document more (same key, a new ledger id): that day
    # is counted again, the other day is not touched.
    replay = lake.write("events", DAY, _events(DAY + timedelta(hours=20), 4))
    again = lake.curate("events", [first, second, replay])
    assert again.days_counted == 1
    assert lake.stored("events") == lake.direct("events")
    assert lake.stored("events")[(DEVICE, day)] == (4, 4, 0, 0)
    assert lake.position("events") == replay.id


def test_days_are_those_of_the_rows_not_of_their_windows(lake: Lake) -> None:
    """An alarm is read again in a later window when it is reset: its row stays on its day, the
    day of its ``active_ts``, and its reset is counted there."""
    active = DAY - timedelta(days=3) + timedelta(hours=9)
    alarm = {"id": "a-1", "id_device": DEVICE, "code": 5, "class": "error", "active_ts": active}
    opened = lake.write("alarm", active.replace(hour=0), [alarm])
    lake.curate("alarm", [opened])
    assert lake.stored("alarm") == {(DEVICE, active.date()): (1, 1, 0, 0)}

    reset = lake.write("alarm", DAY, [{**alarm, "reset_ts": DAY + timedelta(hours=1)}])
    result = lake.curate("alarm", [opened, reset])
    assert result.days_counted == 1
    assert lake.stored("alarm") == lake.direct("alarm") == {(DEVICE, active.date()): (1, 1, 0, 1)}


def test_an_alarm_whose_active_ts_moves_leaves_its_old_day(lake: Lake) -> None:
    """A matched row updated to another day: the day it left is counted again too."""
    alarm = {"id": "a-2", "id_device": DEVICE, "code": 5, "class": "error", "active_ts": DAY}
    first = lake.write("alarm", DAY, [alarm])
    lake.curate("alarm", [first])
    later = DAY + timedelta(days=2)
    moved = lake.write("alarm", later, [{**alarm, "active_ts": later}])
    result = lake.curate("alarm", [first, moved])
    assert result.days_counted == 2
    assert lake.stored("alarm", zeros=True) == {
        (DEVICE, DAY.date()): (0, 0, 0, 0),
        (DEVICE, later.date()): (1, 1, 0, 0),
    }
    assert lake.stored("alarm") == lake.direct("alarm")


def test_a_late_reading_in_a_replayed_window_reaches_its_row_and_the_cells(lake: Lake) -> None:
    """variable_logs: a window extracted again whose object has one more reading at an instant
    curated holds updates that row (the merge updates matched rows) and the day's cells."""
    at = [DAY + timedelta(hours=6, seconds=30 * i) for i in range(2)]
    rows = [
        {"id_device": DEVICE, "time": at[0], "temp_chamber": 180.0, "humidity": 40.0},
        {"id_device": DEVICE, "time": at[1], "temp_chamber": 181.0},
    ]
    first = lake.write("variable_logs", DAY, rows)
    lake.curate("variable_logs", [first])
    assert lake.stored("variable_logs") == {(DEVICE, DAY.date()): (2, 2, 3, 0)}

    late = [rows[0], {**rows[1], "humidity": 41.0}]
    replay = lake.write("variable_logs", DAY, late)
    result = lake.curate("variable_logs", [first, replay])
    got = lake.spark.sql(
        f"SELECT time, temp_chamber, humidity FROM {lake.table('variable_logs')} ORDER BY time"
    ).collect()
    assert [(as_utc(r.time), r.temp_chamber, r.humidity) for r in got] == [
        (at[0], 180.0, 40.0),
        (at[1], 181.0, 41.0),
    ]
    assert result.days_counted == 1
    assert lake.stored("variable_logs") == lake.direct("variable_logs")
    assert lake.stored("variable_logs") == {(DEVICE, DAY.date()): (2, 2, 4, 0)}


def test_a_run_that_died_before_counting_is_caught_up_by_the_next(lake: Lake) -> None:
    first = lake.write("events", DAY, _events(DAY, 2))
    lake.curate("events", [first])
    second = lake.write("events", DAY + timedelta(days=1), _events(DAY + timedelta(days=1), 3))
    # The count's transaction fails at its last statement, after the table's commit.
    with counts_refused(lake.support), pytest.raises(DayCountsError, match="counts refused"):
        lake.curate("events", [first, second])
    assert committed_position(lake.spark, lake.table("events")) == second.id
    # Rolled back whole: the days of the failed count are not there, the position is the old one.
    assert lake.position("events") == first.id
    assert lake.stored("events") == {(DEVICE, DAY.date()): (2, 2, 0, 0)}

    again = lake.curate("events", [first, second])
    assert again.objects == 0
    assert again.days_recounted == 1
    assert lake.position("events") == second.id
    assert lake.stored("events") == lake.direct("events")
    assert len(lake.direct("events")) == 2


def test_a_table_never_counted_is_counted_whole(lake: Lake) -> None:
    entries = [
        lake.write("events", DAY + timedelta(days=d), _events(DAY + timedelta(days=d), d + 1))
        for d in range(3)
    ]
    lake.curate("events", entries, counted=False)
    assert lake.position("events") is None

    # No entries given: only the table itself can tell which days it holds.
    result = lake.curate("events", [])
    assert result.days_recounted == 3
    assert lake.position("events") == entries[-1].id
    assert lake.stored("events") == lake.direct("events")
    assert sorted(n for n, _, _, _ in lake.stored("events").values()) == [1, 2, 3]


def test_a_table_rebuilt_below_its_counts_is_counted_again(lake: Lake) -> None:
    """A table whose position went back (dropped and curated again, rolled back): days it no
    longer holds are counted empty rather than left with the old numbers."""
    kept = lake.write("events", DAY, _events(DAY, 2))
    gone = lake.write("events", DAY + timedelta(days=1), _events(DAY + timedelta(days=1), 2))
    lake.curate("events", [kept, gone])
    lake.spark.sql(f"DROP TABLE {lake.table('events')} PURGE")

    result = lake.curate("events", [kept])
    # Both days counted empty in the table as it was found, then the day curated again.
    assert (result.days_recounted, result.days_counted) == (2, 1)
    assert lake.position("events") == kept.id
    assert lake.stored("events", zeros=True) == {
        (DEVICE, DAY.date()): (2, 2, 0, 0),
        (DEVICE, DAY.date() + timedelta(days=1)): (0, 0, 0, 0),
    }


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles"])
def test_days_are_utc_whatever_the_time_zones(lake: Lake, zone: str) -> None:
    """Rows at 00:30 and 23:30 UTC stay on their UTC day with the session's and the JVM's zone
    set to one ahead of UTC or behind it, on every path: after a commit, in a whole count."""
    spark = lake.spark
    jvm = spark._jvm
    assert jvm is not None
    time_zone = jvm.java.util.TimeZone
    default = time_zone.getDefault()
    session = spark.conf.get("spark.sql.session.timeZone")
    assert session is not None
    edges = [DAY + timedelta(minutes=30), DAY + timedelta(hours=23, minutes=30)]
    rows = [{**_events(at, 1)[0], "id": f"edge-{i}"} for i, at in enumerate(edges)]
    try:
        spark.conf.set("spark.sql.session.timeZone", zone)
        time_zone.setDefault(time_zone.getTimeZone(zone))
        # The zone is in effect: Spark's own to_date puts the two rows on two days.
        local = spark.createDataFrame([(at,) for at in edges], "ts TIMESTAMP")
        assert first_row(local.selectExpr("count(DISTINCT to_date(ts))"))[0] == 2
        entry = lake.write("events", DAY, rows)
        lake.curate("events", [entry])
        assert lake.stored("events") == {(DEVICE, DAY.date()): (2, 2, 0, 0)}
        # A whole count, and the days already stored read back through Spark's JDBC source.
        with lake.support.support() as conn:
            conn.execute("UPDATE curated_count SET position = position + 100")
        result = lake.curate("events", [])
        assert result.days_recounted == 1
        assert lake.stored("events", zeros=True) == {(DEVICE, DAY.date()): (2, 2, 0, 0)}
    finally:
        spark.conf.set("spark.sql.session.timeZone", session)
        time_zone.setDefault(default)
    assert lake.direct("events") == {(DEVICE, DAY.date()): (2, 2, 0, 0)}


def test_utc_day_is_the_day_of_the_instant(spark: SparkSession) -> None:
    from pyspark.sql import functions as sf

    instants = [
        datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=UTC),
        datetime(2024, 3, 1, 0, 0, 0, 1000, tzinfo=UTC),
    ]
    got = (
        spark.createDataFrame([(i,) for i in instants], "ts TIMESTAMP")
        .select(utc_day("ts").alias("day"), sf.col("ts"))
        .collect()
    )
    assert sorted(r.day for r in got) == [
        date(1969, 12, 31),
        date(1970, 1, 1),
        date(2024, 2, 29),
        date(2024, 3, 1),
    ]
