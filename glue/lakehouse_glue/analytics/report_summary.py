"""The Alarms report in a few figures: what the analytics job's JSON line carries and ``npm
start`` prints (``local/cli/alarms-report.ts`` reads ``report`` of that line).

It reads ``analytics.alarms_daily`` and ``analytics.alarm_time_to_reset`` back (small and
aggregated: collected to the driver) and adds their rows up: sums of ``alarms`` and
``alarms_reset`` (additive), and the groups with most alarms with their own percentiles
(percentiles of groups cannot be combined). Implausible alarms are in none of the figures
(ADR 0013); their counts per reason are, under their report columns' names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakehouse_glue.analytics.alarms_report import (
    ANALYTICS_NAMESPACE,
    DAILY_TABLE,
    EXCLUSIONS,
    TIME_TO_RESET_TABLE,
    excluded_column,
)
from lakehouse_glue.errors import SourceTableMissingError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Groups of ``top`` in the job's JSON line (``npm start`` prints the first few).
TOP_ROWS = 12
#: Label of the NULL company/model group: alarms of devices missing from ``ddc`` (left joins).
UNKNOWN = "(unknown)"

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
                "the summary reads the Alarms report: run the analytics job first", table=table
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
