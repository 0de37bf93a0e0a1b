"""The local Alarms dashboard: one offline HTML file whose charts show the report tables.

Runs the local entry (``python -m lakehouse_glue analytics ... --dashboard PATH``) over the
shared report fixture, then reads the figures back out of the HTML (the JSON plotly embeds) and
compares them with the tables queried by Spark SQL, which shares no code with the dashboard.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession
from report_fixture import IMPLAUSIBLE, Report

from lakehouse_glue.analytics import DAILY_TABLE, TIME_TO_RESET_TABLE
from lakehouse_glue.analytics.alarms_report import EXCLUSIONS, excluded_column
from lakehouse_glue.analytics.dashboard import (
    FIGURES,
    TOP_ROWS,
    ReportData,
    duration,
    excluded_note,
    read_report,
    render_html,
)
from lakehouse_glue.entry import EXIT_OK, main
from lakehouse_glue.errors import SourceTableMissingError
from lakehouse_glue.spark import DEFAULT_CATALOG


def _namespace_of(table: str) -> str:
    return table.split(".")[1]


@pytest.fixture(scope="module")
def dashboard(
    spark: SparkSession, report: Report, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    """Run the local entry with ``--dashboard``; returns the page's path and the JSON line."""
    path = tmp_path_factory.mktemp("dashboard") / "reports" / "alarms.html"
    warehouse = spark.conf.get(f"spark.sql.catalog.{DEFAULT_CATALOG}.warehouse")
    assert warehouse
    argv = [
        "analytics",
        "--job-tables",
        str(report.job_tables_path),
        "--warehouse",
        warehouse.removeprefix("file:"),
        "--mongodb-namespace",
        _namespace_of(report.report_sources.alarms),
        "--postgres-namespace",
        _namespace_of(report.report_sources.devices),
        "--namespace",
        report.namespace,
        "--dashboard",
        str(path),
    ]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == EXIT_OK
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    assert len(lines) == 1, out.getvalue()
    return path, lines[0]


def _plots(page: str) -> dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]:
    """``div id → (traces, layout)`` of every ``Plotly.newPlot("id", traces, layout, config)``."""
    decoder = json.JSONDecoder()
    plots = {}
    for match in re.finditer(r"Plotly\.newPlot\(\s*", page):
        pos = match.end()
        values = []
        for _ in range(3):
            value, pos = decoder.raw_decode(page, pos)
            values.append(value)
            pos = re.compile(r"\s*,\s*").match(page, pos).end()  # type: ignore[union-attr]
        div, traces, layout = values
        plots[div] = (traces, layout)
    return plots


def _sql(spark: SparkSession, query: str) -> list[Any]:
    return spark.sql(query).collect()


def test_the_local_entry_writes_the_page_and_reports_it(
    spark: SparkSession, report: Report, dashboard: tuple[Path, dict[str, Any]]
) -> None:
    path, result = dashboard
    assert result["ok"] is True
    assert result["job"] == "analytics"
    assert result["dashboard"] == str(path.resolve())
    assert path.is_file()
    assert not list(path.parent.glob(".*.partial")), "the temporary file must be renamed away"
    totals = _sql(
        spark,
        f"SELECT sum(alarms) a, sum(alarms_reset) r, min(day) f, max(day) l "
        f"FROM {report.table(DAILY_TABLE)}",
    )[0]
    summary = result["report"]
    assert (summary["alarms"], summary["alarms_reset"]) == (totals["a"], totals["r"])
    assert (summary["first_day"], summary["last_day"]) == (
        totals["f"].isoformat(),
        totals["l"].isoformat(),
    )
    assert summary["alarms"] > summary["alarms_reset"] > 0


def test_the_page_is_self_contained(dashboard: tuple[Path, dict[str, Any]]) -> None:
    page = dashboard[0].read_text(encoding="utf-8")
    # Nothing loaded from elsewhere: no script, stylesheet or frame with a source URL.
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<(link|iframe|img)\b[^>]*(href|src)\s*=\s*[\"']?https?:", page, re.I)
    # plotly.js itself is inline, exactly once, before the first chart.
    assert page.count("* plotly.js v") == 1
    assert page.index("* plotly.js v") < page.index("Plotly.newPlot(")
    assert list(_plots(page)) == list(FIGURES)


def test_alarms_per_day_equals_the_daily_table(
    spark: SparkSession, report: Report, dashboard: tuple[Path, dict[str, Any]]
) -> None:
    traces, layout = _plots(dashboard[0].read_text(encoding="utf-8"))["alarms_per_day"]
    assert layout["barmode"] == "stack"
    drawn: dict[tuple[str, str], int] = {}
    for trace in traces:
        for day, n in zip(trace["x"], trace["y"], strict=True):
            drawn[(trace["name"], day)] = n
    want = {
        (r["m"], r["day"].isoformat()): r["n"]
        for r in _sql(
            spark,
            f"SELECT coalesce(device_model, '(unknown)') m, day, sum(alarms) n "
            f"FROM {report.table(DAILY_TABLE)} GROUP BY 1, 2",
        )
    }
    assert drawn == want
    assert len({name for name, _ in drawn}) >= 2, "several device models stacked"


def test_alarms_per_code_equals_the_daily_table(
    spark: SparkSession, report: Report, dashboard: tuple[Path, dict[str, Any]]
) -> None:
    # The chart is drawn from alarm_time_to_reset; its sums must equal those of alarms_daily.
    traces, _ = _plots(dashboard[0].read_text(encoding="utf-8"))["alarms_per_code"]
    bars = {t["name"]: dict(zip(t["x"], t["y"], strict=True)) for t in traces}
    assert set(bars) == {"reset", "open"}
    rows = _sql(
        spark,
        f"SELECT code, sum(alarms) a, sum(alarms_reset) r FROM {report.table(DAILY_TABLE)} "
        "GROUP BY code ORDER BY a DESC, code",
    )
    assert list(bars["reset"]) == [str(r["code"]) for r in rows], "codes ordered by alarms"
    for r in rows:
        assert bars["reset"][str(r["code"])] == r["r"]
        assert bars["open"][str(r["code"])] == r["a"] - r["r"]


def test_time_to_reset_points_are_the_table_rows(
    spark: SparkSession, report: Report, dashboard: tuple[Path, dict[str, Any]]
) -> None:
    traces, layout = _plots(dashboard[0].read_text(encoding="utf-8"))["time_to_reset"]
    assert layout["yaxis"]["type"] == "log"
    drawn = {t["name"]: sorted(zip(t["x"], t["y"], strict=True)) for t in traces}
    rows = _sql(
        spark,
        f"SELECT code, ttr_p50_seconds p50, ttr_p90_seconds p90 "
        f"FROM {report.table(TIME_TO_RESET_TABLE)} WHERE ttr_p50_seconds IS NOT NULL",
    )
    for name in ("p50", "p90"):
        want = sorted((str(r["code"]), r[name] / 60) for r in rows)
        assert [x for x, _ in drawn[name]] == [x for x, _ in want]
        assert [y for _, y in drawn[name]] == pytest.approx([y for _, y in want], rel=1e-12)


def test_header_and_top_table_show_the_report(
    spark: SparkSession, report: Report, dashboard: tuple[Path, dict[str, Any]]
) -> None:
    path, result = dashboard
    page = path.read_text(encoding="utf-8")
    summary = result["report"]
    assert f"<b>{summary['alarms']:,}</b> alarms" in page
    assert f"{summary['first_day']} to {summary['last_day']}" in page
    # The implausible alarms left out (ADR 0013): counted in the JSON line and on the page.
    columns = [excluded_column(reason) for reason in EXCLUSIONS]
    excluded = _sql(
        spark,
        f"SELECT {', '.join(f'sum({c}) {c}' for c in columns)} FROM {report.table(DAILY_TABLE)}",
    )[0]
    assert {c: summary[c] for c in columns} == {c: excluded[c] for c in columns}
    assert sum(excluded) == len(IMPLAUSIBLE)
    assert f"<b>{sum(excluded):,}</b> excluded" in page
    assert html.escape(excluded_note(summary)) in page
    assert "1 reset before their activation, 1 reset more than 365 days after it" in page
    top = _sql(
        spark,
        f"SELECT coalesce(company_name, '(unknown)') company, code, alarms, alarms_reset, "
        f"ttr_p50_seconds, ttr_p90_seconds FROM {report.table(TIME_TO_RESET_TABLE)} "
        f"ORDER BY alarms DESC, company, device_model, code LIMIT {TOP_ROWS}",
    )
    assert [(t["company"], t["code"], t["alarms"]) for t in summary["top"]] == [
        (r["company"], r["code"], r["alarms"]) for r in top
    ]
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    cells = re.findall(r"<tr>(.*?)</tr>", body)
    assert len(cells) == len(top)
    first = re.findall(r"<td>(.*?)</td>", cells[0])
    want = top[0]
    assert first[2:5] == [str(want["code"]), f"{want['alarms']:,}", f"{want['alarms_reset']:,}"]
    assert first[5] == duration(top[0]["ttr_p50_seconds"])


def test_an_empty_report_still_renders() -> None:
    page = render_html(ReportData(daily=[], time_to_reset=[]), "nowhere")
    assert "no alarms in the report yet" in page
    plots = _plots(page)
    assert list(plots) == list(FIGURES)
    assert all(not t.get("x") for traces, _ in plots.values() for t in traces)


def test_a_missing_report_table_is_named(spark: SparkSession) -> None:
    namespace = f"nowhere_{uuid.uuid4().hex[:8]}"
    with pytest.raises(SourceTableMissingError) as caught:
        read_report(spark, DEFAULT_CATALOG, namespace)
    assert caught.value.table == f"{DEFAULT_CATALOG}.{namespace}.{DAILY_TABLE}"
    assert "analytics job" in str(caught.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (42.4, "42 s"), (450, "7.5 min"), (3 * 3600 + 720, "3.2 h"), (181_440, "2.1 d")],
)
def test_durations_read_at_a_glance(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text
