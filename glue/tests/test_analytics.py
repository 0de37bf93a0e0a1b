"""The ``analytics`` job's Alarms report against an independent reference.

One synthetic fleet (own databases) goes the production way: snapshot → worker → raw Parquet →
``mongodb_curate`` (alarm) → report. The reference is ``glue/tools/alarms_old_way.py``: it reads
MongoDB and ``ddc`` directly and aggregates in plain Python, sharing no code and no SQL with the
Spark report, so equal tables mean the lake path lost, doubled or misgrouped nothing.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from lake_helpers import load_tool
from pyspark.sql import SparkSession
from report_fixture import Report
from sources import Sources

from lakehouse_glue.analytics import (
    DAILY_TABLE,
    TIME_TO_RESET_TABLE,
    ReportSources,
    build_alarms_report,
)
from lakehouse_glue.errors import SourceTableMissingError
from lakehouse_glue.spark import DEFAULT_CATALOG

GROUP = ("id_company", "company_name", "device_model", "code")
MEASURES = ("alarms", "alarms_reset", "ttr_p50_seconds", "ttr_p90_seconds")


def _reference(sources: Sources) -> tuple[dict[tuple[Any, ...], Any], dict[tuple[Any, ...], Any]]:
    old_way = load_tool("alarms_old_way")
    with sources.mongo() as client, sources.ddc() as ddc:
        alarms = old_way.fetch_alarms(client[sources.mongo_db])
        devices = old_way.fetch_devices(ddc)
        companies = old_way.fetch_companies(ddc)
    return old_way.report(old_way.extracted(alarms, devices), devices, companies)


def _spark_rows(
    spark: SparkSession, table: str, key: tuple[str, ...], fields: tuple[str, ...]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    got: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in spark.table(table).collect():
        k = tuple(r[c] for c in key)
        assert k not in got, f"{table}: duplicate group {k}"
        got[k] = {f: r[f] for f in fields}
    return got


def _assert_same(
    got: dict[tuple[Any, ...], dict[str, Any]], want: dict[tuple[Any, ...], dict[str, Any]]
) -> None:
    assert set(got) == set(want)
    for key, expected in want.items():
        actual = got[key]
        for field, value in expected.items():
            if isinstance(value, float):
                assert actual[field] == pytest.approx(value, rel=1e-9, abs=1e-6), (key, field)
            else:
                assert actual[field] == value, (key, field)


def test_daily_table_equals_the_old_way(spark: SparkSession, report: Report) -> None:
    daily, _ = _reference(report.sources)
    # Enough data to mean something: several companies, codes and days, resets and open alarms.
    assert len(daily) >= 10
    assert any(m["alarms_reset"] < m["alarms"] for m in daily.values())
    assert len({k[0] for k in daily}) >= 2
    got = _spark_rows(spark, report.table(DAILY_TABLE), (*GROUP, "day"), MEASURES)
    assert report.counts[DAILY_TABLE] == len(got)
    assert all(isinstance(k[-1], date) for k in got)
    _assert_same(got, daily)


def test_time_to_reset_table_equals_the_old_way(spark: SparkSession, report: Report) -> None:
    _, overall = _reference(report.sources)
    fields = (*MEASURES, "ttr_max_seconds", "first_day", "last_day")
    got = _spark_rows(spark, report.table(TIME_TO_RESET_TABLE), GROUP, fields)
    assert report.counts[TIME_TO_RESET_TABLE] == len(got)
    _assert_same(got, overall)


def test_rerun_replaces_the_report_atomically(spark: SparkSession, report: Report) -> None:
    table = report.table(DAILY_TABLE)
    before = sorted(tuple(r) for r in spark.table(table).collect())
    snapshots = spark.sql(f"SELECT count(*) FROM {table}.snapshots").first()[0]
    counts = build_alarms_report(spark, DEFAULT_CATALOG, report.report_sources, report.namespace)
    assert counts == report.counts
    assert sorted(tuple(r) for r in spark.table(table).collect()) == before
    # createOrReplace: one new snapshot, never an empty table in between.
    assert spark.sql(f"SELECT count(*) FROM {table}.snapshots").first()[0] == snapshots + 1


@pytest.mark.parametrize("missing", ["alarms", "devices", "companies"])
def test_a_missing_source_table_is_named(spark: SparkSession, report: Report, missing: str) -> None:
    absent = f"{DEFAULT_CATALOG}.nowhere_{uuid.uuid4().hex[:8]}.{missing}"
    sources = ReportSources(
        **{**report.report_sources.__dict__, missing: absent},
    )
    namespace = f"analytics_{uuid.uuid4().hex[:8]}"
    with pytest.raises(SourceTableMissingError) as caught:
        build_alarms_report(spark, DEFAULT_CATALOG, sources, namespace)
    assert caught.value.table == absent
    assert absent in str(caught.value)
    assert "mongodb_curate" in str(caught.value)
    # Nothing was written for a report that could not be computed.
    assert not spark.catalog.tableExists(f"{DEFAULT_CATALOG}.{namespace}.{DAILY_TABLE}")
