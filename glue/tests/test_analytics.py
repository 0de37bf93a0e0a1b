"""The ``analytics`` job's Alarms report against an independent reference, and its tables.

One synthetic fleet (own databases) goes the production way: snapshot → worker → raw Parquet →
``mongodb_curate`` (alarm) → report. The reference is ``glue/tools/alarms_old_way.py``: it reads
MongoDB and ``ddc`` directly and aggregates in plain Python, sharing no code and no SQL with the
Spark report, so equal tables mean the lake path lost, doubled or misgrouped nothing.

The report tables are the registry's (``reports`` of the job tables, from
``pipeline/schema/reports.ts``): created once as declared, then only their rows are replaced.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from lake_helpers import load_tool
from pyspark.sql import SparkSession
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)
from report_fixture import Report
from sources import Sources

from lakehouse_glue.analytics import (
    DAILY_TABLE,
    TIME_TO_RESET_TABLE,
    ReportSources,
    alarm_facts,
    build_alarms_report,
    report_groups,
)
from lakehouse_glue.analytics.alarms_report import (
    EXCLUSIONS,
    MAX_PLAUSIBLE_TTR_SECONDS,
    RESET_BEFORE_ACTIVE,
    RESET_TOO_LATE,
    excluded_column,
)
from lakehouse_glue.analytics.tables import create_table_sql, schema_difference
from lakehouse_glue.errors import SchemaMismatchError, SourceTableMissingError
from lakehouse_glue.job_tables import JobReport, parse_job_tables
from lakehouse_glue.spark import DEFAULT_CATALOG

REPORT_TABLES = (DAILY_TABLE, TIME_TO_RESET_TABLE)

GROUP = ("id_company", "company_name", "device_model", "code")
MEASURES = (
    "alarms",
    "alarms_reset",
    "ttr_p50_seconds",
    "ttr_p90_seconds",
    "excluded_reset_before_active",
    "excluded_reset_too_late",
)


def _reference(sources: Sources) -> tuple[dict[tuple[Any, ...], Any], dict[tuple[Any, ...], Any]]:
    old_way = load_tool("alarms_old_way")
    with sources.mongo() as client, sources.ddc() as ddc:
        alarms = old_way.fetch_alarms(client[sources.mongo_db])
        devices = old_way.fetch_devices(ddc)
        companies = old_way.fetch_companies(ddc)
    expected: tuple[dict[tuple[Any, ...], Any], dict[tuple[Any, ...], Any]] = old_way.report(
        old_way.extracted(alarms, devices), devices, companies
    )
    return expected


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
    # The fixture's implausible alarms (report_fixture.IMPLAUSIBLE) are counted, one per reason,
    # and left out of the figures by both computations alike, with the same bound.
    for reason in EXCLUSIONS:
        assert sum(m[excluded_column(reason)] for m in got.values()) == 1
    assert load_tool("alarms_old_way").MAX_PLAUSIBLE_TTR.total_seconds() == (
        MAX_PLAUSIBLE_TTR_SECONDS
    )


def _declared(spec: JobReport) -> list[tuple[str, str, bool]]:
    return [(c.name, c.spark_type, c.nullable) for c in spec.columns]


def _schema(spark: SparkSession, table: str) -> list[tuple[str, str, bool]]:
    return [(f.name, f.dataType.simpleString(), f.nullable) for f in spark.table(table).schema]


def _properties(spark: SparkSession, table: str) -> dict[str, str]:
    return {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}


def _snapshots(spark: SparkSession, table: str) -> list[Any]:
    return spark.sql(
        f"SELECT snapshot_id, parent_id, operation FROM {table}.snapshots ORDER BY committed_at"
    ).collect()


def _rows(spark: SparkSession, table: str) -> list[tuple[Any, ...]]:
    return sorted((tuple(r) for r in spark.table(table).collect()), key=repr)


def test_two_runs_keep_one_declared_table_and_replace_its_rows(
    spark: SparkSession, report: Report
) -> None:
    namespace = f"analytics_{uuid.uuid4().hex[:8]}"
    tables = {name: f"{DEFAULT_CATALOG}.{namespace}.{name}" for name in REPORT_TABLES}

    def run() -> dict[str, int]:
        return build_alarms_report(
            spark, DEFAULT_CATALOG, report.report_sources, namespace, job_tables=report.job_tables
        )

    assert run() == report.counts
    first: dict[str, list[tuple[Any, ...]]] = {}
    for name, table in tables.items():
        spec = report.job_tables.report(name)
        # Created as declared: the columns, types, NOT NULLs and properties Pulumi declares.
        assert _schema(spark, table) == _declared(spec)
        properties = _properties(spark, table)
        assert {k: properties.get(k) for k in spec.properties} == dict(spec.properties)
        # Creating the table commits nothing; the run's result is its one snapshot.
        assert [s.operation for s in _snapshots(spark, table)] == ["overwrite"]
        first[name] = _rows(spark, table)
        assert len(first[name]) == len(set(first[name])) == report.counts[name]
        # What the deployment or Glue's optimizers set on a table must survive the next run.
        spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ('lakehouse.test-marker' = 'kept')")
    # A stray row (here: a duplicate): the next run's result replaces every row, not only its own.
    spark.sql(f"INSERT INTO {tables[DAILY_TABLE]} SELECT * FROM {tables[DAILY_TABLE]} LIMIT 1")
    current = {name: _snapshots(spark, table)[-1].snapshot_id for name, table in tables.items()}

    assert run() == report.counts

    for name, table in tables.items():
        spec = report.job_tables.report(name)
        assert _schema(spark, table) == _declared(spec)
        assert _properties(spark, table)["lakehouse.test-marker"] == "kept"
        # The same table, one more snapshot: an overwrite whose parent is the previous state.
        latest = _snapshots(spark, table)[-1]
        assert latest.operation == "overwrite"
        assert latest.parent_id == current[name]
        assert _rows(spark, table) == first[name]
    assert [s.operation for s in _snapshots(spark, tables[DAILY_TABLE])] == [
        "overwrite",
        "append",
        "overwrite",
    ]
    assert len(_snapshots(spark, tables[TIME_TO_RESET_TABLE])) == 2


def test_rerun_replaces_the_report_in_one_commit(spark: SparkSession, report: Report) -> None:
    table = report.table(DAILY_TABLE)
    before = _rows(spark, table)
    snapshots = len(_snapshots(spark, table))
    counts = build_alarms_report(
        spark,
        DEFAULT_CATALOG,
        report.report_sources,
        report.namespace,
        job_tables=report.job_tables,
    )
    assert counts == report.counts
    assert _rows(spark, table) == before
    # One overwrite commit: readers see the previous report or this one, never an empty table.
    assert len(_snapshots(spark, table)) == snapshots + 1


def _with_column(spec: JobReport, name: str, **changes: Any) -> JobReport:
    columns = tuple(
        dataclasses.replace(c, **changes) if c.name == name else c for c in spec.columns
    )
    return dataclasses.replace(spec, columns=columns)


def _daily_table_with_int_alarms(spark: SparkSession, report: Report) -> tuple[str, str]:
    """A daily report table in a namespace of its own, `alarms` an int (declared bigint)."""
    namespace = f"analytics_{uuid.uuid4().hex[:8]}"
    table = f"{DEFAULT_CATALOG}.{namespace}.{DAILY_TABLE}"
    spec = report.job_tables.report(DAILY_TABLE)
    spark.sql(f"CREATE NAMESPACE {DEFAULT_CATALOG}.{namespace}")
    spark.sql(create_table_sql(table, _with_column(spec, "alarms", spark_type="int")))
    return namespace, table


def test_a_table_with_another_schema_is_refused_by_name(
    spark: SparkSession, report: Report
) -> None:
    # Deployed from another version of the registry: `alarms` an int where it is now a bigint.
    namespace, table = _daily_table_with_int_alarms(spark, report)

    with pytest.raises(SchemaMismatchError) as caught:
        build_alarms_report(
            spark, DEFAULT_CATALOG, report.report_sources, namespace, job_tables=report.job_tables
        )

    assert caught.value.table == table
    assert "column alarms is int, declared bigint" in str(caught.value)
    assert table in str(caught.value)
    # Left as it was: not re-created, nothing written, to it or to the other report table.
    assert _schema(spark, table)[5] == ("alarms", "int", False)
    assert _snapshots(spark, table) == []
    other = f"{DEFAULT_CATALOG}.{namespace}.{TIME_TO_RESET_TABLE}"
    assert not spark.catalog.tableExists(other) or _snapshots(spark, other) == []


def test_a_local_table_left_by_an_older_declaration_is_rebuilt_as_declared(
    spark: SparkSession, report: Report
) -> None:
    # Created by an earlier local run, before the declaration changed `alarms` to bigint.
    namespace, table = _daily_table_with_int_alarms(spark, report)

    counts = build_alarms_report(
        spark,
        DEFAULT_CATALOG,
        report.report_sources,
        namespace,
        job_tables=report.job_tables,
        recreate_mismatched=True,
    )

    assert _schema(spark, table)[5] == ("alarms", "bigint", False)
    assert counts[DAILY_TABLE] == spark.table(table).count() > 0


#: Spark types by ``simpleString()``: the registry's report spark types, built without a JVM.
SPARK_TYPES: dict[str, DataType] = {
    t.simpleString(): t
    for t in (
        StringType(),
        IntegerType(),
        LongType(),
        DoubleType(),
        BooleanType(),
        TimestampType(),
        DateType(),
    )
}


def _struct(spec: JobReport) -> StructType:
    return StructType(
        [StructField(c.name, SPARK_TYPES[c.spark_type], c.nullable) for c in spec.columns]
    )


def test_schema_difference_names_the_column_and_how(report: Report) -> None:
    spec = report.job_tables.report(DAILY_TABLE)
    declared = _struct(spec)
    assert schema_difference(declared, spec) is None
    # Iceberg writes by name: the order of the columns does not matter.
    assert schema_difference(StructType(list(reversed(declared.fields))), spec) is None
    assert schema_difference(_struct(_with_column(spec, "day", spark_type="timestamp")), spec) == (
        "day",
        "is timestamp, declared date",
    )
    assert schema_difference(_struct(_with_column(spec, "code", nullable=True)), spec) == (
        "code",
        "is nullable, declared NOT NULL",
    )
    without = StructType([f for f in declared.fields if f.name != "device_model"])
    assert schema_difference(without, spec) == ("device_model", "is missing (declared string)")
    extra = StructType([*declared.fields, StructField("note", StringType())])
    assert schema_difference(extra, spec) == ("note", "(string) is not declared")


@pytest.mark.parametrize("missing", ["alarms", "devices", "companies"])
def test_a_missing_source_table_is_named(spark: SparkSession, report: Report, missing: str) -> None:
    absent = f"{DEFAULT_CATALOG}.nowhere_{uuid.uuid4().hex[:8]}.{missing}"
    sources = ReportSources(
        **{**report.report_sources.__dict__, missing: absent},
    )
    namespace = f"analytics_{uuid.uuid4().hex[:8]}"
    with pytest.raises(SourceTableMissingError) as caught:
        build_alarms_report(
            spark, DEFAULT_CATALOG, sources, namespace, job_tables=report.job_tables
        )
    assert caught.value.table == absent
    assert absent in str(caught.value)
    assert "mongodb_curate" in str(caught.value)
    # Nothing was written for a report that could not be computed.
    assert not spark.catalog.tableExists(f"{DEFAULT_CATALOG}.{namespace}.{DAILY_TABLE}")


# ---------------------------------------------------------------------------------------------
# Implausible alarms (ADR 0013): kept in curated, counted, out of every figure
# ---------------------------------------------------------------------------------------------

ACTIVE = datetime(2024, 1, 1, 10, tzinfo=UTC)
YEAR = timedelta(seconds=MAX_PLAUSIBLE_TTR_SECONDS)


def _implausible_fleet(spark: SparkSession) -> tuple[Any, Any, Any]:
    """One device of one company; code 5: three resets, one open, one reset before activation,
    one reset in year 9999, one reset a year and a second later; code 6: a reset exactly a year
    later (plausible: the bound is included); code 7: only an implausible alarm."""
    hour = timedelta(hours=1)
    alarms = [
        ("a1", 5, ACTIVE, ACTIVE + timedelta(seconds=60)),
        ("a2", 5, ACTIVE + hour, ACTIVE + hour + timedelta(seconds=120)),
        ("a3", 5, ACTIVE + 2 * hour, ACTIVE + 2 * hour + timedelta(seconds=180)),
        ("a4", 5, ACTIVE + 3 * hour, None),
        ("b1", 5, ACTIVE + 4 * hour, ACTIVE + 3 * hour),
        ("b2", 5, ACTIVE + 5 * hour, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("b3", 5, ACTIVE + 6 * hour, ACTIVE + 6 * hour + YEAR + timedelta(seconds=1)),
        ("c1", 6, ACTIVE, ACTIVE + YEAR),
        ("d1", 7, ACTIVE, ACTIVE - timedelta(microseconds=1)),
    ]
    frame = spark.createDataFrame(
        [(i, 1, code, active, reset) for i, code, active, reset in alarms],
        "id STRING, id_device BIGINT, code INT, active_ts TIMESTAMP, reset_ts TIMESTAMP",
    )
    devices = spark.createDataFrame([(1, 10, "M1")], "id BIGINT, id_company BIGINT, model STRING")
    companies = spark.createDataFrame([(10, "Acme")], "id BIGINT, name STRING")
    return frame, devices, companies


def test_implausible_alarms_are_kept_out_of_the_figures_and_counted(
    spark: SparkSession, registry: dict[str, Any]
) -> None:
    alarms, devices, companies = _implausible_fleet(spark)

    groups = report_groups(alarm_facts(alarms, devices, companies)).collect()

    overall = {r["code"]: r for r in groups if r["level"] == "overall"}
    five = overall[5]
    # Only a1..a4 count: the percentiles of 60, 120 and 180 s, not of a negative time or of
    # 8,000 years.
    assert (five["alarms"], five["alarms_reset"]) == (4, 3)
    assert five["ttr_p50_seconds"] == 120.0
    assert five["ttr_p90_seconds"] == pytest.approx(168.0)
    assert five["ttr_max_seconds"] == 180.0
    assert (overall[6]["alarms"], overall[6]["ttr_max_seconds"]) == (1, YEAR.total_seconds())
    assert (overall[7]["alarms"], overall[7]["ttr_p50_seconds"]) == (0, None)

    # The report tables count what they left out, per reason, at both levels.
    namespace = f"implausible_{uuid.uuid4().hex[:8]}"
    names = {"alarms": alarms, "devices": devices, "companies": companies}
    for name, frame in names.items():
        frame.writeTo(f"{DEFAULT_CATALOG}.{namespace}.{name}").create()
    sources = ReportSources(**{n: f"{DEFAULT_CATALOG}.{namespace}.{n}" for n in names})
    curated = _rows(spark, sources.alarms)
    build_alarms_report(
        spark, DEFAULT_CATALOG, sources, namespace, job_tables=parse_job_tables(registry)
    )

    before, too_late = excluded_column(RESET_BEFORE_ACTIVE), excluded_column(RESET_TOO_LATE)
    fields = ("alarms", "alarms_reset", before, too_late, "ttr_max_seconds", "first_day")
    overall_table = f"{DEFAULT_CATALOG}.{namespace}.{TIME_TO_RESET_TABLE}"
    got = _spark_rows(spark, overall_table, ("code",), fields)
    day = ACTIVE.date()
    assert got == {
        (5,): dict(zip(fields, (4, 3, 1, 2, 180.0, day), strict=True)),
        (6,): dict(zip(fields, (1, 1, 0, 0, YEAR.total_seconds(), day), strict=True)),
        # Only an implausible alarm: no figure, but the group is there with its count.
        (7,): dict(zip(fields, (0, 0, 1, 0, None, day), strict=True)),
    }
    daily = _spark_rows(
        spark, f"{DEFAULT_CATALOG}.{namespace}.{DAILY_TABLE}", ("code", "day"), MEASURES
    )
    assert daily[(5, day)] == {
        "alarms": 4,
        "alarms_reset": 3,
        "ttr_p50_seconds": 120.0,
        "ttr_p90_seconds": pytest.approx(168.0),
        before: 1,
        too_late: 2,
    }
    # Every curated alarm is counted or excluded, and curated is as it was.
    assert sum(m["alarms"] + m[before] + m[too_late] for m in daily.values()) == len(curated)
    assert _rows(spark, sources.alarms) == curated
