"""The local dashboard's data file and the analytics job's JSON line.

The local entry runs as ``npm start`` runs it (``local/cli/glue-jobs.ts``: ``--dashboard-data
PATH --dashboard-views alarm_facts,open_alarms``) over the views' small lake (``views_lake``, a
catalog of its own whose ``mongodb`` and ``postgres`` namespaces are the defaults). The file must
hold exactly the format ``dashboard_data`` documents, every row of each view, and the same rows
plain Python computes from the lake; the JSON line keeps what ``local/cli/alarms-report.ts``
reads.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import pytest
import views_lake as ref
from pyspark.sql import SparkSession
from report_fixture import IMPLAUSIBLE, Report
from views_lake import ViewsLake

from lakehouse_glue.analytics import DAILY_TABLE, TIME_TO_RESET_TABLE
from lakehouse_glue.analytics.alarms_report import EXCLUSIONS, excluded_column
from lakehouse_glue.analytics.dashboard_data import (
    DashboardDataError,
    iso_timestamp,
    read_view,
    write_dashboard_data,
    write_json_atomically,
)
from lakehouse_glue.analytics.device_history import VERSIONS_TABLE
from lakehouse_glue.analytics.report_summary import TOP_ROWS, read_report, summary
from lakehouse_glue.analytics.views import create_views
from lakehouse_glue.entry import EXIT_OK, main
from lakehouse_glue.errors import SourceTableMissingError
from lakehouse_glue.job_tables import JobView, ViewColumn
from lakehouse_glue.spark import DEFAULT_CATALOG

#: The report's datasets, as local/cli/glue-jobs.ts passes them (test_contracts checks that).
DASHBOARD_VIEWS = ("alarm_facts", "open_alarms")
ISO_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
#: What ``local/cli/alarms-report.ts`` (``AnalyticsResultSchema``) reads of the line's ``report``.
SUMMARY_FIELDS = {
    "first_day",
    "last_day",
    "alarms",
    "alarms_reset",
    "excluded_reset_before_active",
    "excluded_reset_too_late",
    "companies",
    "device_models",
    "codes",
    "top",
}
TOP_FIELDS = {
    "company",
    "device_model",
    "code",
    "alarms",
    "alarms_reset",
    "ttr_p50_seconds",
    "ttr_p90_seconds",
}


def _run(*argv: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == EXIT_OK
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    assert len(lines) == 1, out.getvalue()
    return lines


@dataclass
class Run:
    path: Path
    line: dict[str, Any]
    data: dict[str, Any]
    started: datetime
    ended: datetime


@pytest.fixture(scope="module")
def run(
    spark: SparkSession,
    views_lake: ViewsLake,
    registry: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Run]:
    """The local entry over the views' lake, writing the dashboard's data."""
    path = tmp_path_factory.mktemp("dashboard") / "reports" / "alarms-data.json"
    catalog = spark.catalog.currentCatalog()
    tables = tmp_path_factory.mktemp("tables") / "job-tables.json"
    tables.write_text(json.dumps(registry))
    started = datetime.now(UTC)
    [line] = _run(
        "analytics",
        "--job-tables", str(tables),
        "--catalog", views_lake.catalog,
        "--warehouse", str(views_lake.warehouse),
        "--dashboard-data", str(path),
        "--dashboard-views", ",".join(DASHBOARD_VIEWS),
    )  # fmt: skip
    ended = datetime.now(UTC)
    try:
        yield Run(path, line, json.loads(path.read_text(encoding="utf-8")), started, ended)
    finally:
        spark.catalog.setCurrentCatalog(catalog)


# ---------------------------------------------------------------------------------------------
# The JSON line
# ---------------------------------------------------------------------------------------------


def test_the_line_keeps_what_npm_start_prints(run: Run, views_lake: ViewsLake) -> None:
    line = run.line
    assert (line["ok"], line["job"]) == (True, "analytics")
    assert set(line["tables"]) == {DAILY_TABLE, TIME_TO_RESET_TABLE, VERSIONS_TABLE}
    # The lake's device history already holds every device as it is: nothing to add.
    history = line["device_history"]
    assert (history["opened"], history["closed"]) == (0, 0)
    assert history["rows"] == len(views_lake.versions) == line["tables"][VERSIONS_TABLE]
    report = line["report"]
    assert set(report) == SUMMARY_FIELDS
    assert report["top"]
    assert all(set(t) == TOP_FIELDS for t in report["top"])
    # The report's figures count the plausible alarms: the rows of alarm_facts.
    facts = ref.alarm_facts(views_lake)
    assert report["alarms"] == len(facts)
    assert report["alarms_reset"] == sum(r["state"] == "reset" for r in facts)
    assert (report["excluded_reset_before_active"], report["excluded_reset_too_late"]) == (1, 2)
    days = [r["day"] for r in ref.alarms_enriched(views_lake)]
    assert (report["first_day"], report["last_day"]) == (
        min(days).isoformat(),
        max(days).isoformat(),
    )
    assert report["companies"] == 4  # three companies and the device missing from ddc
    assert "dashboard" not in line  # the HTML is the TypeScript renderer's
    assert line["dashboard_data"] == {
        "path": str(run.path.resolve()),
        "rows": {name: len(run.data["datasets"][name]["rows"]) for name in DASHBOARD_VIEWS},
    }


# ---------------------------------------------------------------------------------------------
# The file
# ---------------------------------------------------------------------------------------------


def test_the_file_has_the_documented_format(run: Run, views_lake: ViewsLake) -> None:
    data = run.data
    assert list(data) == ["generatedAt", "datasets"]
    assert ISO_TIMESTAMP.match(data["generatedAt"])
    generated = datetime.fromisoformat(data["generatedAt"])
    assert run.started <= generated <= run.ended
    assert list(data["datasets"]) == list(DASHBOARD_VIEWS)
    for name, dataset in data["datasets"].items():
        view = views_lake.job_tables.view(name)
        assert list(dataset) == ["columns", "rows"]
        assert dataset["columns"] == [{"name": c.name, "type": c.type} for c in view.columns]
        assert dataset["rows"], name
        for row in dataset["rows"]:
            assert isinstance(row, list)
            assert len(row) == len(view.columns)
            for column, value in zip(view.columns, row, strict=True):
                _check_json_value(name, column, value)
    # Written atomically: nothing but the file is left in its folder.
    assert [p.name for p in run.path.parent.iterdir()] == [run.path.name]


def _check_json_value(view: str, column: ViewColumn, value: Any) -> None:
    where = f"{view}.{column.name}"
    if value is None:
        assert column.nullable, f"{where}: NULL in a column declared NOT NULL"
        return
    if column.spark_type == "timestamp":
        assert isinstance(value, str), where
        assert ISO_TIMESTAMP.match(value), (where, value)
    elif column.spark_type == "date":
        assert isinstance(value, str), where
        assert ISO_DATE.match(value), (where, value)
    elif column.spark_type in ("int", "bigint"):
        assert type(value) is int, where
    elif column.spark_type == "double":
        assert type(value) in (int, float), where
        assert math.isfinite(value), where
    elif column.spark_type == "boolean":
        assert type(value) is bool, where
    else:
        assert column.spark_type == "string", where
        assert isinstance(value, str), where


def _from_json(column: ViewColumn, value: Any) -> Any:
    if value is None:
        return None
    if column.spark_type == "timestamp":
        return datetime.fromisoformat(value)
    if column.spark_type == "date":
        return date.fromisoformat(value)
    return value


def _rows(run: Run, views_lake: ViewsLake, name: str) -> dict[str, dict[str, Any]]:
    view = views_lake.job_tables.view(name)
    out = {}
    for row in run.data["datasets"][name]["rows"]:
        values = {c.name: _from_json(c, v) for c, v in zip(view.columns, row, strict=True)}
        out[values["alarm_id"]] = values
    assert len(out) == len(run.data["datasets"][name]["rows"])
    return out


@pytest.mark.parametrize("name", DASHBOARD_VIEWS)
def test_the_rows_are_the_views_rows(
    spark: SparkSession, run: Run, views_lake: ViewsLake, current_catalog: None, name: str
) -> None:
    """Every row of the view, each value the view's (the instants of the query aside)."""
    create_views(spark, views_lake.catalog, views_lake.job_tables)
    live = {
        r["alarm_id"]: {
            k: v.replace(tzinfo=UTC) if isinstance(v, datetime) else v for k, v in r.items()
        }
        for r in (row.asDict() for row in spark.table(name).collect())
    }
    written = _rows(run, views_lake, name)
    assert set(written) == set(live)
    at_query_time = {"generated_at", "open_hours"}
    for alarm_id, row in written.items():
        assert {k: v for k, v in row.items() if k not in at_query_time} == {
            k: v for k, v in live[alarm_id].items() if k not in at_query_time
        }
    # Sorted by every column in order: the first is the alarm's id here.
    assert list(written) == sorted(written)


def test_the_rows_equal_the_reference(run: Run, views_lake: ViewsLake) -> None:
    """The same rows plain Python computes from the lake, with the query's instants inside the
    job's run."""
    facts = _rows(run, views_lake, "alarm_facts")
    want = {r["alarm_id"]: r for r in ref.alarm_facts(views_lake)}
    assert set(facts) == set(want)
    stamps = set()
    for alarm_id, row in facts.items():
        stamps.add(row.pop("generated_at"))
        assert row == want[alarm_id], alarm_id
    [stamp] = stamps
    assert run.started <= stamp <= run.ended
    open_ = _rows(run, views_lake, "open_alarms")
    want = {r["alarm_id"]: r for r in ref.open_alarms(views_lake)}
    assert set(open_) == set(want)
    for alarm_id, row in open_.items():
        hours = row.pop("open_hours")
        assert row == want[alarm_id], alarm_id
        active = want[alarm_id]["active_ts"]
        low = ref.open_hours(active, run.started) - 1e-6
        high = ref.open_hours(active, run.ended) + 1e-6
        assert low <= hours <= high, alarm_id
    # The edges arrive as the views have them: a NULL company, an unnamed code, the UTC day.
    assert open_["edge-midnight"]["day"] == date(2024, 3, 10)
    assert open_["edge-midnight"]["code_label"] == "777"
    assert facts["edge-unknown-device"]["company_name"] is None


# ---------------------------------------------------------------------------------------------
# Values and atomic writes, on their own
# ---------------------------------------------------------------------------------------------

PROBE = JobView(
    name="dashboard_data_probe",
    database="analytics",
    sql="",
    columns=tuple(
        ViewColumn(name, t, t, True)
        for name, t in (
            ("s", "string"),
            ("i", "int"),
            ("b", "bigint"),
            ("d", "double"),
            ("f", "boolean"),
            ("ts", "timestamp"),
            ("day", "date"),
        )
    ),
)


def test_each_type_is_written_as_documented(spark: SparkSession) -> None:
    spark.sql(
        f"""CREATE OR REPLACE TEMPORARY VIEW {PROBE.name} AS SELECT * FROM VALUES
        ('é"\\n', 1, 9007199254740993, 1.5, true,
         TIMESTAMP'2024-02-29 23:59:59.123456', DATE'0001-01-01'),
        ('x', -2, -1, double('NaN'), false, TIMESTAMP'1969-12-31 23:59:59', DATE'9999-12-31'),
        (NULL, NULL, NULL, double('Infinity'), NULL, NULL, NULL)
        AS t(s, i, b, d, f, ts, day)"""
    )
    rows = list(read_view(spark, PROBE))
    # Sorted by every column, NULLs first (Spark's ascending order; strings by code point).
    assert rows == [
        [None, None, None, None, None, None, None],
        ["x", -2, -1, None, False, "1969-12-31T23:59:59.000000Z", "9999-12-31"],
        ['é"\n', 1, 9007199254740993, 1.5, True, "2024-02-29T23:59:59.123456Z", "0001-01-01"],
    ]


def test_a_timestamp_iso_cannot_say_is_refused_by_view_and_column(spark: SparkSession) -> None:
    view = JobView(
        "dashboard_data_far", "analytics", "", (ViewColumn("ts", "timestamp", "timestamp", True),)
    )
    spark.sql(
        f"CREATE OR REPLACE TEMPORARY VIEW {view.name} AS "
        "SELECT timestamp_micros(253402300800000000) AS ts"  # 10000-01-01
    )
    with pytest.raises(DashboardDataError, match="view dashboard_data_far: ts holds") as caught:
        list(read_view(spark, view))
    assert caught.value.table == view.name


def test_iso_timestamps_are_utc_with_microseconds() -> None:
    aware = datetime(2024, 5, 1, 14, 0, tzinfo=UTC).astimezone()
    assert iso_timestamp(aware) == "2024-05-01T14:00:00.000000Z"
    assert iso_timestamp(datetime(999, 1, 2, 3, 4, 5, 6)) == "0999-01-02T03:04:05.000006Z"


def test_the_file_is_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    target.write_text("old")
    reader = target.open(encoding="utf-8")

    def fails(out: IO[str]) -> None:
        out.write('{"half": ')
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_json_atomically(target, fails)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]

    assert write_json_atomically(target, lambda out: out.write('{"new": 1}')) == 10
    assert json.loads(target.read_text()) == {"new": 1}
    # Renamed over the old file, not rewritten in place: a reader that had it open keeps it.
    assert reader.read() == "old"
    reader.close()
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]
    assert oct(os.stat(target).st_mode & 0o777) == oct(0o644)


def test_an_empty_view_is_an_empty_dataset(
    spark: SparkSession, views_lake: ViewsLake, tmp_path: Path
) -> None:
    spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {PROBE.name} AS SELECT * FROM VALUES "
              "('a', 1, 2, 3.0, true, TIMESTAMP'2024-01-01 00:00:00', DATE'2024-01-01') "
              "AS t(s, i, b, d, f, ts, day) WHERE false")  # fmt: skip
    written = write_dashboard_data(
        spark, [PROBE], tmp_path / "d.json", now=lambda: datetime(2024, 1, 2, tzinfo=UTC)
    )
    assert written.rows == {PROBE.name: 0}
    data = json.loads(written.path.read_text())
    assert data["generatedAt"] == "2024-01-02T00:00:00.000000Z"
    assert data["datasets"][PROBE.name]["rows"] == []


# ---------------------------------------------------------------------------------------------
# The summary of the report tables (the line's ``report``), over the production-way report
# ---------------------------------------------------------------------------------------------


def _sql(spark: SparkSession, query: str) -> list[Any]:
    return spark.sql(query).collect()


def test_the_summary_adds_up_the_report_tables(spark: SparkSession, report: Report) -> None:
    s = summary(read_report(spark, DEFAULT_CATALOG, report.namespace))
    totals = _sql(
        spark,
        f"SELECT sum(alarms) a, sum(alarms_reset) r, min(day) f, max(day) l "
        f"FROM {report.table(DAILY_TABLE)}",
    )[0]
    assert (s["alarms"], s["alarms_reset"]) == (totals["a"], totals["r"])
    assert (s["first_day"], s["last_day"]) == (totals["f"].isoformat(), totals["l"].isoformat())
    assert s["alarms"] > s["alarms_reset"] > 0
    # The implausible alarms left out (ADR 0013), counted per reason.
    columns = [excluded_column(reason) for reason in EXCLUSIONS]
    excluded = _sql(
        spark,
        f"SELECT {', '.join(f'sum({c}) {c}' for c in columns)} FROM {report.table(DAILY_TABLE)}",
    )[0]
    assert {c: s[c] for c in columns} == {c: excluded[c] for c in columns}
    assert sum(excluded) == len(IMPLAUSIBLE)
    top = _sql(
        spark,
        f"SELECT coalesce(company_name, '(unknown)') company, code, alarms "
        f"FROM {report.table(TIME_TO_RESET_TABLE)} "
        f"ORDER BY alarms DESC, company, device_model, code LIMIT {TOP_ROWS}",
    )
    assert [(t["company"], t["code"], t["alarms"]) for t in s["top"]] == [
        (r["company"], r["code"], r["alarms"]) for r in top
    ]


def test_a_missing_report_table_is_named(spark: SparkSession) -> None:
    namespace = f"nowhere_{uuid.uuid4().hex[:8]}"
    with pytest.raises(SourceTableMissingError) as caught:
        read_report(spark, DEFAULT_CATALOG, namespace)
    assert caught.value.table == f"{DEFAULT_CATALOG}.{namespace}.{DAILY_TABLE}"
    assert "analytics job" in str(caught.value)
