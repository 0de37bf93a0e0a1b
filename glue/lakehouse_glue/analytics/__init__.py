"""Glue job ``analytics``: pre-aggregated report tables in the ``analytics`` database and,
locally, the analysts' views as session views with the dashboard's data."""

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
from lakehouse_glue.analytics.tables import (
    check_table_schema,
    ensure_report_table,
    replace_contents,
    report_table_name,
)
from lakehouse_glue.analytics.views import create_views

__all__ = [
    "DAILY_TABLE",
    "TIME_TO_RESET_TABLE",
    "ReportSources",
    "alarm_facts",
    "alarm_time_to_reset",
    "alarms_daily",
    "build_alarms_report",
    "check_table_schema",
    "create_views",
    "default_sources",
    "ensure_report_table",
    "latest_alarms",
    "replace_contents",
    "report_groups",
    "report_table_name",
]
