"""Glue job ``analytics``: pre-aggregated report tables in the ``analytics`` database."""

from lakehouse_glue.analytics.alarms_report import (
    DAILY_TABLE,
    TIME_TO_RESET_TABLE,
    ReportSources,
    alarm_facts,
    alarm_time_to_reset,
    alarms_daily,
    build_alarms_report,
    default_sources,
    latest_alarms,
    report_groups,
)

__all__ = [
    "DAILY_TABLE",
    "TIME_TO_RESET_TABLE",
    "ReportSources",
    "alarm_facts",
    "alarm_time_to_reset",
    "alarms_daily",
    "build_alarms_report",
    "default_sources",
    "latest_alarms",
    "report_groups",
]
