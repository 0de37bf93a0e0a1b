"""The device history the analytics job keeps (``analytics.device_versions``, ADR 0018).

A ``device`` Iceberg table of its own namespace goes through states as ``postgres_extract``
would leave it (each state one overwrite snapshot), and after each the history is brought up to
date. Expected versions are written out by hand from the states: when each began (the source's
``updated_at`` when plausible, the lake's read instant otherwise, ``created_at`` for a device
first seen), when each ended, and that a run with nothing new commits nothing.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as sf
from views_lake import SPARK_TYPES

from lakehouse_glue.analytics.device_history import (
    VERSIONS_TABLE,
    attributes,
    record_device_history,
)
from lakehouse_glue.errors import SourceTableMissingError
from lakehouse_glue.job_tables import JobTables, parse_job_tables
from lakehouse_glue.spark import DEFAULT_CATALOG

Row = dict[str, Any]


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


CREATED = at(2024, 1, 10)


def device(id_: int, **values: Any) -> Row:
    """A ddc device row with plausible values for the columns a test does not set."""
    return {
        "id": id_,
        "id_company": 1,
        "serial": f"SN-{id_:03d}",
        "model": "M1",
        "mirror": False,
        "last_log_date": at(2024, 5, 1),
        "last_ip": "10.0.0.1",
        "created_at": CREATED,
        "updated_at": CREATED,
    } | values


class History:
    """A device table and its history in one namespace of the test session's lake."""

    def __init__(self, spark: SparkSession, job_tables: JobTables) -> None:
        self.spark = spark
        self.job_tables = job_tables
        self.namespace = f"history_{uuid.uuid4().hex[:8]}"
        self.devices = f"{DEFAULT_CATALOG}.{self.namespace}.device"
        self.versions = f"{DEFAULT_CATALOG}.{self.namespace}.{VERSIONS_TABLE}"
        spark.sql(f"CREATE NAMESPACE {DEFAULT_CATALOG}.{self.namespace}")

    def state(self, *rows: Row) -> datetime:
        """``rows`` become the device table's contents in one snapshot; returns its commit time."""
        from pyspark.sql.types import StructField, StructType

        columns = self.job_tables.table("device").columns
        schema = StructType(
            [StructField(c.name, SPARK_TYPES[c.spark_type], c.nullable) for c in columns]
        )
        frame = self.spark.createDataFrame(
            [tuple(r.get(c.name) for c in columns) for r in rows], schema
        )
        if self.spark.catalog.tableExists(self.devices):
            frame.writeTo(self.devices).overwrite(sf.lit(True))
        else:
            frame.writeTo(self.devices).using("iceberg").create()
        return self.committed_at(self.devices)

    def committed_at(self, table: str) -> datetime:
        row = self.spark.sql(
            f"SELECT date_format(committed_at, 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS t "
            f"FROM {table}.snapshots ORDER BY committed_at DESC LIMIT 1"
        ).first()
        assert row is not None
        return datetime.fromisoformat(row.t).replace(tzinfo=UTC)

    def record(self) -> Any:
        return record_device_history(
            self.spark,
            DEFAULT_CATALOG,
            self.devices,
            self.namespace,
            job_tables=self.job_tables,
        )

    def rows(self) -> list[Row]:
        out = []
        for r in self.spark.sql(
            "SELECT *, date_format(valid_from, 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS _from, "
            "date_format(valid_to, 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS _to, "
            "date_format(recorded_at, 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS _rec "
            f"FROM {self.versions} ORDER BY id_device, valid_from"
        ).collect():
            d = r.asDict()
            d["valid_from"] = _instant(d.pop("_from"))
            d["valid_to"] = _instant(d.pop("_to"))
            d["recorded_at"] = _instant(d.pop("_rec"))
            out.append(d)
        return out

    def snapshots(self) -> int:
        row = self.spark.sql(f"SELECT count(*) AS n FROM {self.versions}.snapshots").first()
        assert row is not None
        return int(row.n)

    def as_of(self, instant: datetime) -> dict[int, Row]:
        """The version of each device held at ``instant``: the view's predicate."""
        return {
            v["id_device"]: v
            for v in self.rows()
            if v["valid_from"] <= instant and (v["valid_to"] is None or v["valid_to"] > instant)
        }

    def drop(self) -> None:
        for table in (self.versions, self.devices):
            self.spark.sql(f"DROP TABLE IF EXISTS {table} PURGE")
        self.spark.sql(f"DROP NAMESPACE IF EXISTS {DEFAULT_CATALOG}.{self.namespace}")


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def history(spark: SparkSession, registry: dict[str, Any]) -> Iterator[History]:
    h = History(spark, parse_job_tables(registry))
    yield h
    h.drop()


def test_a_version_holds_every_device_attribute_but_the_volatile_ones(
    registry: dict[str, Any],
) -> None:
    job_tables = parse_job_tables(registry)
    spec = job_tables.report(VERSIONS_TABLE)
    device_columns = [c.name for c in job_tables.table("device").columns]
    held = attributes(spec)
    assert {"model", "id_company", "id_firmware"} <= set(held)
    # Moved every day by the uploader, or kept by device_ip_info_history, or the interval's.
    for ignored in ("last_log_date", "last_ip", "city", "created_at", "updated_at", "id"):
        assert ignored not in held
    assert set(held) <= set(device_columns)
    assert spec.column_names[-3:] == ("valid_from", "valid_to", "recorded_at")


def test_first_versions_begin_at_creation_and_a_rerun_adds_nothing(history: History) -> None:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    read = history.state(device(1), device(2, created_at=tomorrow))
    first = history.record()
    assert (first.opened, first.closed, first.rows) == (2, 0, 2)
    rows = {r["id_device"]: r for r in history.rows()}
    assert rows[1]["valid_from"] == CREATED
    # A created_at after the lake read the device cannot be: it begins when the lake read it.
    assert rows[2]["valid_from"] == read
    assert all(r["valid_to"] is None and r["recorded_at"] == read for r in rows.values())
    before = history.snapshots()
    again = history.record()
    assert (again.opened, again.closed, again.rows) == (0, 0, 2)
    assert history.snapshots() == before


def test_changes_open_a_version_and_close_the_previous_one(history: History) -> None:
    history.state(device(1), device(2), device(3), device(4, id_device_group=5))
    history.record()
    edit = at(2024, 3, 5, 12)
    read = history.state(
        # A model change the source stamped: the version begins at its updated_at.
        device(1, model="M2", updated_at=edit),
        # Only the volatile columns moved: no version.
        device(2, last_log_date=at(2024, 6, 1), last_ip="10.9.9.9", updated_at=edit),
        # A firmware change without a new updated_at: it begins when the lake read it.
        device(3, id_firmware=42),
        # A value going to NULL is a change (compared null-safe).
        device(4, id_device_group=None, updated_at=edit),
        # A new device: from its creation.
        device(5, created_at=at(2024, 3, 1)),
    )
    run = history.record()
    assert (run.opened, run.closed) == (4, 3)
    versions: dict[int, list[Row]] = {}
    for r in history.rows():
        versions.setdefault(r["id_device"], []).append(r)
    assert [(v["model"], v["valid_from"], v["valid_to"]) for v in versions[1]] == [
        ("M1", CREATED, edit),
        ("M2", edit, None),
    ]
    assert len(versions[2]) == 1
    assert [(v["id_firmware"], v["valid_from"], v["valid_to"]) for v in versions[3]] == [
        (None, CREATED, read),
        (42, read, None),
    ]
    assert [v["id_device_group"] for v in versions[4]] == [5, None]
    assert versions[5][0]["valid_from"] == at(2024, 3, 1)
    # Time travel: each device as it was.
    assert history.as_of(at(2024, 3, 5, 11))[1]["model"] == "M1"
    assert history.as_of(edit)[1]["model"] == "M2"
    assert 5 not in history.as_of(at(2024, 2, 29))


def test_an_updated_at_that_cannot_be_the_edit_is_not_believed(history: History) -> None:
    history.state(device(1, created_at=at(2024, 2, 1)))
    history.record()
    # Before the version it replaces began, and in the future: both read as "when the lake saw it".
    read = history.state(device(1, model="M2", updated_at=at(2024, 1, 1)))
    history.record()
    future = datetime.now(UTC) + timedelta(days=30)
    later = history.state(device(1, model="M3", updated_at=future))
    history.record()
    assert [(v["model"], v["valid_from"], v["valid_to"]) for v in history.rows()] == [
        ("M1", at(2024, 2, 1), read),
        ("M2", read, later),
        ("M3", later, None),
    ]


def test_a_device_that_leaves_is_closed_and_one_that_returns_does_not_overlap(
    history: History,
) -> None:
    history.state(device(1), device(2))
    history.record()
    gone = history.state(device(1))
    run = history.record()
    assert (run.opened, run.closed) == (0, 1)
    back = history.state(device(1), device(2, model="M9"))
    history.record()
    two = [v for v in history.rows() if v["id_device"] == 2]
    # Its created_at is long before it left: the return begins when the lake saw it back.
    assert [(v["model"], v["valid_from"], v["valid_to"]) for v in two] == [
        ("M1", CREATED, gone),
        ("M9", back, None),
    ]
    assert 2 not in history.as_of(gone + (back - gone) / 2)


def test_the_versions_never_overlap_and_one_is_open_per_device(history: History) -> None:
    history.state(device(1), device(2), device(3))
    history.record()
    history.state(device(1, model="M2", updated_at=at(2024, 4, 1)), device(3))
    history.record()
    history.state(device(1, model="M3"), device(2), device(3, id_company=7))
    history.record()
    rows = history.rows()
    by_device: dict[int, list[Row]] = {}
    for r in rows:
        by_device.setdefault(r["id_device"], []).append(r)
    for versions in by_device.values():
        assert sum(v["valid_to"] is None for v in versions) <= 1
        for v in versions:
            assert v["valid_to"] is None or v["valid_to"] > v["valid_from"]
        for earlier, later in itertools.pairwise(versions):
            assert earlier["valid_to"] is not None
            assert earlier["valid_to"] <= later["valid_from"]
    assert sorted(d for d, vs in by_device.items() if vs[-1]["valid_to"] is None) == [1, 2, 3]


def test_without_the_device_table_it_says_what_to_run(history: History) -> None:
    with pytest.raises(SourceTableMissingError, match="postgres_extract"):
        history.record()
