"""Local entry of the ``analytics`` job: ``python -m lakehouse_glue.analytics --help``.

Reads curated ``mongodb.alarm`` and the ``postgres.device`` / ``postgres.company`` tables of the
same catalog, writes the report tables the job tables declare (``analytics.alarms_daily`` and
``analytics.alarm_time_to_reset``; created on the first run, as declared), prints a
JSON summary (table counts, the report's totals and top groups, and with ``--dashboard PATH`` the
HTML dashboard written there); exits non-zero with the error's name when the run failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from lakehouse_glue.analytics.alarms_report import (
    DAILY_TABLE,
    build_alarms_report,
    default_sources,
)
from lakehouse_glue.analytics.dashboard import read_report, summary, write_dashboard
from lakehouse_glue.curate.entry import run_and_report
from lakehouse_glue.job_tables import load_job_tables
from lakehouse_glue.spark import DEFAULT_CATALOG


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lakehouse_glue.analytics", description=__doc__)
    p.add_argument(
        "--job-tables", required=True, help="registry JSON (lakehouse.sh registry job-tables)"
    )
    p.add_argument("--warehouse", required=True, help="local Iceberg warehouse folder")
    p.add_argument("--catalog", default=DEFAULT_CATALOG)
    p.add_argument("--mongodb-namespace", default="mongodb")
    p.add_argument("--postgres-namespace", default="postgres")
    p.add_argument(
        "--namespace", help="write the report tables here instead of their declared database"
    )
    p.add_argument(
        "--dashboard",
        metavar="PATH",
        help="also write the report as a self-contained HTML dashboard (local runs; in AWS, "
        "QuickSight is the dashboard)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)

    def job() -> dict[str, Any]:
        from lakehouse_glue.spark import local_session

        job_tables = load_job_tables(args.job_tables)
        namespace = args.namespace or job_tables.report(DAILY_TABLE).database
        spark = local_session(args.warehouse, app_name="analytics", catalog=args.catalog)
        started = time.monotonic()
        sources = default_sources(args.catalog, args.mongodb_namespace, args.postgres_namespace)
        counts = build_alarms_report(spark, args.catalog, sources, namespace, job_tables=job_tables)
        result: dict[str, Any] = {
            "tables": counts,
            "seconds": round(time.monotonic() - started, 3),
        }
        data = read_report(spark, args.catalog, namespace)
        result["report"] = summary(data)
        if args.dashboard:
            source = f"{args.catalog}.{namespace} ({args.warehouse})"
            result["dashboard"] = str(write_dashboard(data, args.dashboard, source))
        return result

    return run_and_report(job)


if __name__ == "__main__":
    sys.exit(main())
