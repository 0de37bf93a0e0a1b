"""The Alarms report as one self-contained HTML dashboard (docs/design.md §7).

Local only: in AWS, QuickSight reads the same two tables through Athena and is the dashboard, so
the Glue job never imports this module. It reads ``analytics.alarms_daily`` and
``analytics.alarm_time_to_reset`` (small and aggregated: collected to the driver), draws the
charts with plotly and writes one HTML file with plotly.js inlined, which opens offline.

Every chart plots values of the report tables as they are: sums of ``alarms`` and
``alarms_reset`` (additive), and percentiles only per table row (percentiles of groups cannot be
combined, so the time-to-reset chart shows one point per company and model, not a made-up
fleet-wide percentile). Implausible alarms are in none of them (ADR 0013); the header says how
many were left out and why, from the tables' ``excluded_<reason>`` counts.
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakehouse_glue.analytics.alarms_report import (
    ANALYTICS_NAMESPACE,
    DAILY_TABLE,
    EXCLUSIONS,
    MAX_PLAUSIBLE_TTR_SECONDS,
    RESET_BEFORE_ACTIVE,
    RESET_TOO_LATE,
    TIME_TO_RESET_TABLE,
    excluded_column,
)
from lakehouse_glue.errors import SourceTableMissingError

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from pyspark.sql import SparkSession

#: Rows of the "top groups" table, on the page and in the job's JSON line.
TOP_ROWS = 12
#: Bars of the alarm-code chart (the synthetic fleet has 9 codes; production more).
TOP_CODES = 15
#: Label of the NULL company/model group: alarms of devices missing from ``ddc`` (left joins).
UNKNOWN = "(unknown)"
#: Order of the figures on the page; also their ``div`` ids.
FIGURES = ("alarms_per_day", "alarms_per_code", "time_to_reset")

Row = dict[str, Any]


@dataclass(frozen=True)
class ReportData:
    """The two report tables, collected: one dict per row, column names as keys."""

    daily: list[Row]
    time_to_reset: list[Row]


def read_report(
    spark: SparkSession, catalog: str, namespace: str = ANALYTICS_NAMESPACE
) -> ReportData:
    """Collect both report tables (a few thousand rows at production scale)."""
    tables = {}
    for name in (DAILY_TABLE, TIME_TO_RESET_TABLE):
        table = f"{catalog}.{namespace}.{name}"
        if not spark.catalog.tableExists(table):
            raise SourceTableMissingError(
                "the dashboard draws the Alarms report: run the analytics job first", table=table
            )
        tables[name] = [r.asDict() for r in spark.table(table).collect()]
    return ReportData(daily=tables[DAILY_TABLE], time_to_reset=tables[TIME_TO_RESET_TABLE])


def _label(value: Any) -> str:
    return UNKNOWN if value is None else str(value)


def summary(data: ReportData) -> dict[str, Any]:
    """Totals, time range and the groups with most alarms: what ``npm start`` prints. The
    alarms left out as implausible are counted per reason, under their report column's name."""
    days = [r["day"] for r in data.daily]
    alarms = sum(r["alarms"] for r in data.daily)
    resets = sum(r["alarms_reset"] for r in data.daily)
    excluded = {
        excluded_column(reason): sum(r[excluded_column(reason)] for r in data.daily)
        for reason in EXCLUSIONS
    }

    def rank(r: Row) -> tuple[Any, ...]:
        return (-r["alarms"], _label(r["company_name"]), _label(r["device_model"]), r["code"])

    top = sorted(data.time_to_reset, key=rank)[:TOP_ROWS]
    return {
        "first_day": min(days).isoformat() if days else None,
        "last_day": max(days).isoformat() if days else None,
        "alarms": alarms,
        "alarms_reset": resets,
        **excluded,
        "companies": len({r["id_company"] for r in data.time_to_reset}),
        "device_models": len({r["device_model"] for r in data.time_to_reset}),
        "codes": len({r["code"] for r in data.time_to_reset}),
        "top": [
            {
                "company": _label(r["company_name"]),
                "device_model": _label(r["device_model"]),
                "code": r["code"],
                "alarms": r["alarms"],
                "alarms_reset": r["alarms_reset"],
                "ttr_p50_seconds": r["ttr_p50_seconds"],
                "ttr_p90_seconds": r["ttr_p90_seconds"],
            }
            for r in top
        ],
    }


def alarms_per_day(data: ReportData) -> go.Figure:
    """Alarms per UTC day of activation, stacked by device model."""
    import plotly.graph_objects as go

    per_model: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for r in data.daily:
        per_model[_label(r["device_model"])][r["day"]] += r["alarms"]
    fig = go.Figure(
        [
            go.Bar(
                name=model,
                x=[d.isoformat() for d in sorted(days)],
                y=[days[d] for d in sorted(days)],
            )
            for model, days in sorted(per_model.items())
        ]
    )
    fig.update_layout(
        title="Alarms per day (UTC, by activation), stacked by device model",
        barmode="stack",
        xaxis_title="day",
        yaxis_title="alarms",
        legend_title="device model",
    )
    return fig


def alarms_per_code(data: ReportData) -> go.Figure:
    """The codes with most alarms, split into reset and still open."""
    import plotly.graph_objects as go

    alarms: dict[int, int] = defaultdict(int)
    resets: dict[int, int] = defaultdict(int)
    for r in data.time_to_reset:
        alarms[r["code"]] += r["alarms"]
        resets[r["code"]] += r["alarms_reset"]
    codes = sorted(alarms, key=lambda c: (-alarms[c], c))[:TOP_CODES]
    x = [str(c) for c in codes]
    fig = go.Figure(
        [
            go.Bar(name="reset", x=x, y=[resets[c] for c in codes]),
            go.Bar(name="open", x=x, y=[alarms[c] - resets[c] for c in codes]),
        ]
    )
    fig.update_layout(
        title=f"Top {len(codes)} alarm codes: alarms reset and still open",
        barmode="stack",
        xaxis={"title": "alarm code", "type": "category"},
        yaxis_title="alarms",
    )
    return fig


def time_to_reset(data: ReportData) -> go.Figure:
    """Time to reset per code: one point per company and device model (p50, and p90 above)."""
    import plotly.graph_objects as go

    rows = sorted(
        (r for r in data.time_to_reset if r["ttr_p50_seconds"] is not None),
        key=lambda r: (r["code"], _label(r["company_name"]), _label(r["device_model"])),
    )
    hover = [
        f"{_label(r['company_name'])} · {_label(r['device_model'])} · code {r['code']}"
        f"<br>{r['alarms_reset']} of {r['alarms']} alarms reset"
        + (f", {_excluded(r)} implausible left out" if _excluded(r) else "")
        for r in rows
    ]
    x = [str(r["code"]) for r in rows]
    fig = go.Figure(
        [
            go.Scatter(
                name=f"p{pct}",
                mode="markers",
                x=x,
                y=[r[f"ttr_p{pct}_seconds"] / 60 for r in rows],
                text=hover,
                hovertemplate="%{text}<br>" + f"p{pct}" + " %{y:.1f} min<extra></extra>",
                marker={"symbol": symbol, "size": 9, "opacity": 0.7},
            )
            for pct, symbol in ((50, "circle"), (90, "triangle-up"))
        ]
    )
    fig.update_layout(
        title="Time to reset per code (minutes, log scale): one point per company and model",
        xaxis={"title": "alarm code", "type": "category", "categoryorder": "category ascending"},
        yaxis={"title": "minutes", "type": "log"},
    )
    return fig


def _excluded(row: Row) -> int:
    return sum(int(row[excluded_column(reason)]) for reason in EXCLUSIONS)


def excluded_note(totals: dict[str, Any]) -> str:
    """What the figures leave out, and why (plain text; the header shows it)."""
    before = totals[excluded_column(RESET_BEFORE_ACTIVE)]
    too_late = totals[excluded_column(RESET_TOO_LATE)]
    days = MAX_PLAUSIBLE_TTR_SECONDS // 86_400
    return (
        f"{before + too_late:,} implausible alarms are in no figure: {before:,} reset before "
        f"their activation, {too_late:,} reset more than {days} days after it "
        "(kept in the curated table)"
    )


def figures(data: ReportData) -> dict[str, go.Figure]:
    builders = {
        "alarms_per_day": alarms_per_day,
        "alarms_per_code": alarms_per_code,
        "time_to_reset": time_to_reset,
    }
    return {name: builders[name](data) for name in FIGURES}


def duration(seconds: float | None) -> str:
    """A time to reset people read at a glance: 42 s, 7.5 min, 3.2 h, 2.1 d."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def _top_table(top: list[dict[str, Any]]) -> str:
    head = ("company", "device model", "code", "alarms", "reset", "TTR p50", "TTR p90")
    cells = [
        (
            r["company"],
            r["device_model"],
            r["code"],
            f"{r['alarms']:,}",
            f"{r['alarms_reset']:,}",
            duration(r["ttr_p50_seconds"]),
            duration(r["ttr_p90_seconds"]),
        )
        for r in top
    ]
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in cells
    )
    return (
        "<table><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + f"</tr></thead><tbody>{rows}</tbody></table>"
    )


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
header p { margin: .2rem 0; }
.totals span { margin-right: 1.5rem; }
table { border-collapse: collapse; margin-top: 1rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #ddd; }
td:nth-child(n+3), th:nth-child(n+3) { text-align: right; }
"""


def render_html(data: ReportData, source: str) -> str:
    """The whole page: header with range and totals, the charts, the top groups table."""
    import plotly.io as pio

    s = summary(data)
    if s["alarms"]:
        period = f"{s['first_day']} to {s['last_day']} (UTC days of activation)"
    else:
        period = "no alarms in the report yet"
    totals = (
        f"<span><b>{s['alarms']:,}</b> alarms</span>"
        f"<span><b>{s['alarms_reset']:,}</b> reset</span>"
        f"<span><b>{s['alarms'] - s['alarms_reset']:,}</b> open</span>"
        f"<span><b>{sum(s[excluded_column(r)] for r in EXCLUSIONS):,}</b> excluded</span>"
        f"<span><b>{s['companies']}</b> companies</span>"
        f"<span><b>{s['device_models']}</b> device models</span>"
        f"<span><b>{s['codes']}</b> codes</span>"
    )
    charts = [
        # plotly.js once, inline (no CDN: the file must open offline), before the first chart.
        pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=(i == 0),
            div_id=name,
            default_height="480px",
            config={"displaylogo": False, "responsive": True},
        )
        for i, (name, fig) in enumerate(figures(data).items())
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Alarms report</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>Alarms report</h1><p>{html.escape(period)}</p>"
        f'<p class="totals">{totals}</p>'
        f'<p class="excluded">{html.escape(excluded_note(s))}</p>'
        f"<p>from {html.escape(source)}</p></header>"
        + "".join(f"<section>{c}</section>" for c in charts)
        + f"<section><h2>Top {len(s['top'])} groups by alarms (whole history)</h2>"
        + _top_table(s["top"])
        + "</section></body></html>\n"
    )


def write_dashboard(data: ReportData, path: str | Path, source: str) -> Path:
    """Write the page atomically (a reader never opens half a file); returns its path."""
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(render_html(data, source), encoding="utf-8")
    partial.replace(target)
    return target
