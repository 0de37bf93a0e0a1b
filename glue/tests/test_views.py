"""The analysts' views (``pipeline/reports/views.ts``) as the local analytics job creates them.

Over a small lake of their own catalog (``views_lake``), every view's rows must equal what plain
Python computes from the rows that lake holds: code names known and unknown, state, time to
reset, the implausible alarms (ADR 0013) marked in ``alarms_enriched`` and left out of
``alarm_facts``, open alarms with their age, and hourly readings with NULLs. And a view whose SQL
does not return what the registry declares is refused by name.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
import views_lake as ref
from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession
from views_lake import ViewsLake, register_catalog

from lakehouse_glue.analytics.views import create_views
from lakehouse_glue.errors import (
    JobConfigError,
    JobTablesError,
    SourceTableMissingError,
    ViewSchemaError,
)
from lakehouse_glue.job_tables import JobTables, JobView, ViewColumn

Row = dict[str, Any]


@pytest.fixture
def views(spark: SparkSession, views_lake: ViewsLake, current_catalog: None) -> tuple[JobView, ...]:
    return create_views(spark, views_lake.catalog, views_lake.job_tables)


def utc(value: Any) -> Any:
    """Collected Spark timestamps are naive UTC (the harness pins the zone)."""
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) else value


def collect(spark: SparkSession, name: str) -> list[Row]:
    return [{k: utc(v) for k, v in r.asDict().items()} for r in spark.table(f"`{name}`").collect()]


def by_key(rows: list[Row], *key: str) -> dict[Any, Row]:
    out: dict[Any, Row] = {}
    for r in rows:
        k = tuple(r[c] for c in key)
        assert k not in out, f"duplicate {key} {k}"
        out[k] = r
    return out


def assert_rows(got: list[Row], want: list[Row], *key: str) -> None:
    """The same rows (by ``key``), each with the same value in every column of ``want``."""
    got_by, want_by = by_key(got, *key), by_key(want, *key)
    assert set(got_by) == set(want_by)
    for k, expected in want_by.items():
        actual = got_by[k]
        for column, value in expected.items():
            if isinstance(value, float):
                assert actual[column] == pytest.approx(value, rel=1e-12), (k, column)
            else:
                assert actual[column] == value, (k, column)
                assert type(actual[column]) is type(value), (k, column)


def test_every_view_returns_its_declared_columns(
    spark: SparkSession, views: tuple[JobView, ...]
) -> None:
    assert [v.name for v in views] == [
        "alarms_enriched",
        "alarm_facts",
        "open_alarms",
        "variable_logs_hourly",
        "device_history",
    ]
    for view in views:
        schema = spark.table(view.name).schema
        assert [(f.name, f.dataType.simpleString()) for f in schema] == [
            (c.name, c.spark_type) for c in view.columns
        ]


def test_alarms_enriched_equals_the_reference(
    spark: SparkSession, views_lake: ViewsLake, views: tuple[JobView, ...]
) -> None:
    want = ref.alarms_enriched(views_lake)
    got = collect(spark, "alarms_enriched")
    assert_rows(got, want, "alarm_id")
    rows = by_key(got, "alarm_id")
    # A code the registry names reads with its name; another keeps its number.
    labels = {r["code"]: r["code_label"] for r in got}
    assert labels[101] == f"101 {views_lake.code_names[101].name}"
    assert labels[777] == "777"
    assert labels[999] == "999"
    # The alarms of a device missing from ddc are kept, with no device, model or company.
    unknown = rows[("edge-unknown-device",)]
    assert (unknown["device_serial"], unknown["id_company"], unknown["company_name"]) == (
        None,
        None,
        None,
    )
    assert unknown["ttr_minutes"] == 5.0
    # Implausible ones are named; the bound itself (exactly a year) is plausible.
    exclusions = {k[0]: r["exclusion"] for k, r in rows.items() if k[0].startswith("edge-")}
    assert exclusions == {
        "edge-reset-before-active": "reset_before_active",
        "edge-reset-in-9999": "reset_too_late",
        "edge-reset-year-and-1ms": "reset_too_late",
        "edge-reset-exactly-a-year": None,
        "edge-midnight": None,
        "edge-unknown-device": None,
    }
    assert rows[("edge-reset-before-active",)]["ttr_minutes"] == -60.0
    assert rows[("edge-reset-exactly-a-year",)]["ttr_minutes"] == ref.MAX_PLAUSIBLE_TTR_MINUTES
    assert rows[("edge-reset-in-9999",)]["reset_ts"].year == 9999
    # The day of activation is the UTC day, to the last millisecond.
    midnight = rows[("edge-midnight",)]
    assert (midnight["day"].isoformat(), midnight["state"]) == ("2024-03-10", "open")
    assert {r["state"] for r in got} == {"open", "reset"}
    assert len({r["company_name"] for r in got}) == 4  # three companies and NULL


def test_alarm_facts_are_the_plausible_alarms_stamped_with_the_query_time(
    spark: SparkSession, views_lake: ViewsLake, views: tuple[JobView, ...]
) -> None:
    before = datetime.now(UTC)
    got = collect(spark, "alarm_facts")
    after = datetime.now(UTC)

    assert_rows(got, ref.alarm_facts(views_lake), "alarm_id")
    ids = {r["alarm_id"] for r in got}
    assert not ids & {"edge-reset-before-active", "edge-reset-in-9999", "edge-reset-year-and-1ms"}
    assert {"edge-reset-exactly-a-year", "edge-midnight", "edge-unknown-device"} <= ids
    assert len(ids) == len(views_lake.alarms) - 3
    # One query, one instant: every row carries the same one, taken while the query ran.
    stamps = {r["generated_at"] for r in got}
    assert len(stamps) == 1
    assert before - ref.MS <= stamps.pop() <= after


def test_open_alarms_say_how_long_they_have_been_open(
    spark: SparkSession, views_lake: ViewsLake, views: tuple[JobView, ...]
) -> None:
    before = datetime.now(UTC)
    got = collect(spark, "open_alarms")
    after = datetime.now(UTC)

    assert_rows(got, ref.open_alarms(views_lake), "alarm_id")
    assert len(got) >= 10
    for r in got:
        # Taken at query time: between the hours at the query's start and at its end.
        low = ref.open_hours(r["active_ts"], before) - 1e-6
        high = ref.open_hours(r["active_ts"], after) + 1e-6
        assert low <= r["open_hours"] <= high, r["alarm_id"]
    assert any(r["company_name"] is None for r in got)


def test_variable_logs_hourly_equals_the_reference(
    spark: SparkSession, views_lake: ViewsLake, views: tuple[JobView, ...]
) -> None:
    want = ref.variable_logs_hourly(views_lake)
    got = collect(spark, "variable_logs_hourly")
    assert_rows(got, want, "id_device", "hour")
    assert sum(r["samples"] for r in got) == len(views_lake.logs)
    # An hour without any chamber temperature: NULL mean, minimum and maximum, and samples.
    empty = [r for r in got if r["temp_chamber_avg"] is None]
    assert empty
    assert all(r["temp_chamber_min"] is None and r["temp_chamber_max"] is None for r in empty)
    assert all(r["samples"] > 0 for r in empty)
    # Some readings NULL in an hour: the mean is of the others.
    assert any(r["humidity_avg"] is not None for r in got)
    assert all(r["hour"].minute == r["hour"].second == 0 for r in got)


def test_device_history_equals_the_reference(
    spark: SparkSession, views_lake: ViewsLake, views: tuple[JobView, ...]
) -> None:
    want = ref.device_history(views_lake)
    got = collect(spark, "device_history")
    assert_rows(got, want, "id_device", "valid_from")
    # A company ddc no longer has: its versions keep the id, without a name.
    assert any(r["id_company"] == 9 and r["company_name"] is None for r in got)
    # One current version per device ddc has now, none for a device that left.
    current = sorted(r["id_device"] for r in got if r["is_current"])
    assert current == sorted(d["id"] for d in views_lake.devices)


def test_a_session_view_keeps_the_catalog_it_was_created_in(
    spark: SparkSession, views_lake: ViewsLake, views: tuple[JobView, ...]
) -> None:
    assert spark.catalog.currentCatalog() == views_lake.catalog
    spark.catalog.setCurrentCatalog("spark_catalog")
    assert spark.table("alarm_facts").count() == len(ref.alarm_facts(views_lake))


# ---------------------------------------------------------------------------------------------
# What create_views refuses
# ---------------------------------------------------------------------------------------------


def _doctored(job_tables: JobTables, name: str, **changes: Any) -> JobTables:
    views = tuple(
        dataclasses.replace(v, **changes) if v.name == name else v for v in job_tables.views
    )
    return dataclasses.replace(job_tables, views=views)


def _retyped(view: JobView, column: str, spark_type: str) -> tuple[ViewColumn, ...]:
    return tuple(
        dataclasses.replace(c, spark_type=spark_type) if c.name == column else c
        for c in view.columns
    )


def _refused(spark: SparkSession, lake: ViewsLake, job_tables: JobTables) -> ViewSchemaError:
    with pytest.raises(ViewSchemaError) as caught:
        create_views(spark, lake.catalog, job_tables)
    return caught.value


def test_a_view_whose_sql_returns_another_type_is_refused(
    spark: SparkSession, views_lake: ViewsLake, current_catalog: None
) -> None:
    facts = views_lake.job_tables.view("alarm_facts")
    # The SQL returns id_device as an int where the registry declares a bigint.
    sql = facts.sql.replace(
        "SELECT alarm_id, id_device,", "SELECT alarm_id, CAST(id_device AS int) AS id_device,"
    )
    assert sql != facts.sql
    error = _refused(spark, views_lake, _doctored(views_lake.job_tables, "alarm_facts", sql=sql))

    assert (error.view, error.column, error.declared, error.actual) == (
        "alarm_facts",
        "id_device",
        "bigint",
        "int",
    )
    assert error.table == "alarm_facts"
    assert "view alarm_facts: column id_device is int, declared bigint" in str(error)
    # Not left for anyone to read; the views before it were created as declared.
    with pytest.raises(AnalysisException):
        spark.table("alarm_facts")
    assert spark.table("alarms_enriched").columns[0] == "alarm_id"


@pytest.mark.parametrize(
    ("change", "column", "declared", "actual", "message"),
    [
        (
            lambda v: {"columns": _retyped(v, "ttr_minutes", "string")},
            "ttr_minutes",
            "string",
            "double",
            "column ttr_minutes is double, declared string",
        ),
        (
            lambda v: {"columns": v.columns[:-1]},
            "generated_at",
            None,
            "timestamp",
            "returns column generated_at (timestamp) beyond the declared ones",
        ),
        (
            lambda v: {"columns": (*v.columns, ViewColumn("note", "string", "string", True))},
            "note",
            "string",
            None,
            "column note is declared (string) but not returned",
        ),
        (
            lambda v: {"columns": (v.columns[1], v.columns[0], *v.columns[2:])},
            "id_device",
            "id_device bigint",
            "alarm_id string",
            "column 1 is alarm_id (string), declared id_device (bigint)",
        ),
    ],
)
def test_a_view_not_as_declared_is_refused_by_view_and_column(
    spark: SparkSession,
    views_lake: ViewsLake,
    current_catalog: None,
    change: Any,
    column: str,
    declared: str | None,
    actual: str | None,
    message: str,
) -> None:
    facts = views_lake.job_tables.view("alarm_facts")
    doctored = _doctored(views_lake.job_tables, "alarm_facts", **change(facts))
    error = _refused(spark, views_lake, doctored)
    assert (error.view, error.column, error.declared, error.actual) == (
        "alarm_facts",
        column,
        declared,
        actual,
    )
    assert f"view alarm_facts: {message}" in str(error)
    assert type(error).__name__ == "ViewSchemaError"


def test_sql_spark_refuses_is_named_with_its_view(
    spark: SparkSession, views_lake: ViewsLake, current_catalog: None
) -> None:
    doctored = _doctored(
        views_lake.job_tables, "open_alarms", sql="SELECT no_such_column FROM alarms_enriched"
    )
    with pytest.raises(JobTablesError, match=r"view open_alarms: Spark refuses its SQL") as caught:
        create_views(spark, views_lake.catalog, doctored)
    assert caught.value.table == "open_alarms"


def test_a_missing_source_table_is_named(
    spark: SparkSession,
    views_lake: ViewsLake,
    current_catalog: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    empty = f"{views_lake.catalog}_empty"
    register_catalog(spark, empty, tmp_path_factory.mktemp("empty-lake"))
    with pytest.raises(SourceTableMissingError, match="view alarms_enriched reads") as caught:
        create_views(spark, empty, views_lake.job_tables)
    assert caught.value.table == "mongodb.alarm"
    assert empty in str(caught.value)


def test_a_session_not_in_utc_is_refused(
    spark: SparkSession, views_lake: ViewsLake, current_catalog: None
) -> None:
    key = "spark.sql.session.timeZone"
    zone = spark.conf.get(key)
    assert zone == "UTC"
    spark.conf.set(key, "Europe/Rome")
    try:
        with pytest.raises(JobConfigError, match="time zone is 'Europe/Rome'"):
            create_views(spark, views_lake.catalog, views_lake.job_tables)
    finally:
        spark.conf.set(key, zone)
