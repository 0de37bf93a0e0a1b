"""One Alarms report built the production way, shared by the analytics and summary tests.

A synthetic fleet (own databases) goes snapshot → worker → raw Parquet → ``mongodb_curate``
(alarm) → ``analytics``; building it costs tens of seconds, so ``conftest.report`` builds it once
per run. Two implausible alarms join it in MongoDB (ADR 0013): copies of a reset alarm, one reset
before its activation, one reset in year 9999.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lake_helpers import copy_postgres_tables
from pyspark.sql import SparkSession
from sources import Sources

from lakehouse_glue.analytics import ReportSources, build_alarms_report
from lakehouse_glue.curate import CurateSettings, load_job_tables, run_curate
from lakehouse_glue.jdbc import JdbcSource
from lakehouse_glue.job_tables import JobTables
from lakehouse_glue.spark import DEFAULT_CATALOG

DEVICES, DAYS = 6, 10
#: The ``_id``s of the implausible alarms added to the fleet, by their exclusion reason.
IMPLAUSIBLE = {
    "reset_before_active": "implausible-reset-before-active",
    "reset_too_late": "implausible-reset-in-9999",
}


@dataclass
class Report:
    sources: Sources
    namespace: str
    report_sources: ReportSources
    counts: dict[str, int]
    #: The registry's job tables (``registry job-tables``), as loaded and as the file passed.
    job_tables: JobTables
    job_tables_path: Path

    def table(self, name: str) -> str:
        return f"{DEFAULT_CATALOG}.{self.namespace}.{name}"


def add_implausible_alarms(sources: Sources) -> None:
    """Copies of a reset alarm the worker will extract (activated before its device's mark), in
    the same group: reset an hour before the activation, and reset on 9999-12-31."""
    with sources.mongo() as client, sources.ddc() as ddc:
        marks = dict(ddc.execute("SELECT id, last_log_date FROM device").fetchall())
        alarms = client[sources.mongo_db].alarm
        original = next(
            doc
            for doc in alarms.find({"resetTS": {"$ne": None}}).sort("activeTS", 1)
            if marks.get(doc["idDevice"]) and doc["activeTS"] < marks[doc["idDevice"]]
        )
        resets = {
            "reset_before_active": original["activeTS"] - timedelta(hours=1),
            "reset_too_late": datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        }
        for reason, alarm_id in IMPLAUSIBLE.items():
            alarms.insert_one({**original, "_id": alarm_id, "resetTS": resets[reason]})


def built_report(spark: SparkSession, work: Path) -> Iterator[Report]:
    """Build the report in fresh namespaces; drops the source databases afterwards."""
    sources = Sources()
    sources.create()
    try:
        sources.load(DEVICES, DAYS)
        add_implausible_alarms(sources)
        raw_dir = work / "raw"
        sources.ingest(raw_dir, "--collections", "alarm")
        job_tables_path = sources.job_tables(work / "job-tables.json")
        job_tables = load_job_tables(job_tables_path)
        suffix = uuid.uuid4().hex[:8]
        settings = CurateSettings(
            catalog=DEFAULT_CATALOG,
            raw_root=str(raw_dir),
            namespace=f"mongodb_{suffix}",
            lag_seconds=0,
        )
        ledger = JdbcSource(
            sources.jdbc_url(sources.support_db), sources.pg_user, sources.pg_password
        )
        run_curate(spark, job_tables, settings, ledger, ["alarm"])
        postgres = f"{DEFAULT_CATALOG}.postgres_{suffix}"
        ddc = JdbcSource(sources.jdbc_url(sources.ddc_db), sources.pg_user, sources.pg_password)
        copy_postgres_tables(spark, ddc, job_tables, postgres)
        report_sources = ReportSources(
            alarms=f"{DEFAULT_CATALOG}.{settings.namespace}.alarm",
            devices=f"{postgres}.device",
            companies=f"{postgres}.company",
        )
        namespace = f"analytics_{suffix}"
        counts = build_alarms_report(
            spark, DEFAULT_CATALOG, report_sources, namespace, job_tables=job_tables
        )
        yield Report(sources, namespace, report_sources, counts, job_tables, job_tables_path)
    finally:
        sources.drop()
