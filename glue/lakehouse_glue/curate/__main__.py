"""Local entry of the ``mongodb_curate`` job: ``python -m lakehouse_glue.curate --help``.

Prints one JSON object on stdout (per-collection objects, rows, positions); exits non-zero with
the error's name when the run failed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

from lakehouse_glue.curate.compaction import compact
from lakehouse_glue.curate.curate import (
    DEFAULT_MAX_FILES_PER_COMMIT,
    CurateSettings,
    run_curate,
)
from lakehouse_glue.curate.entry import password_from_env, run_and_report
from lakehouse_glue.curate.ledger import DEFAULT_LAG_SECONDS, support_source
from lakehouse_glue.curate.spec import load_job_tables
from lakehouse_glue.curate.tables import (
    CURATED_NAMESPACE,
    TableLayout,
)
from lakehouse_glue.spark import DEFAULT_CATALOG


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lakehouse_glue.curate", description=__doc__)
    p.add_argument(
        "--job-tables", required=True, help="registry JSON (lakehouse.sh registry job-tables)"
    )
    p.add_argument("--warehouse", required=True, help="local Iceberg warehouse folder")
    p.add_argument("--raw-dir", required=True, help="raw layer root (folder or s3:// URI)")
    p.add_argument("--support-jdbc-url", required=True, help="jdbc:postgresql://host:port/support")
    p.add_argument("--user", required=True)
    p.add_argument(
        "--password-env", required=True, help="environment variable holding the password"
    )
    p.add_argument("--catalog", default=DEFAULT_CATALOG)
    p.add_argument("--namespace", default=CURATED_NAMESPACE)
    p.add_argument("--collections", help="comma-separated (default: every collection)")
    p.add_argument("--lag-seconds", type=int, default=DEFAULT_LAG_SECONDS)
    p.add_argument("--max-files-per-commit", type=int, default=DEFAULT_MAX_FILES_PER_COMMIT)
    # Unset: the registry's table properties (what Pulumi declares in Glue).
    p.add_argument("--target-file-size-bytes", type=int)
    p.add_argument("--compression")
    p.add_argument("--compact", action="store_true", help="compact each table after curating")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)

    def job() -> dict[str, Any]:
        from lakehouse_glue.spark import local_session

        job_tables = load_job_tables(args.job_tables)
        ledger = support_source(
            args.support_jdbc_url, args.user, password_from_env(args.password_env)
        )
        spark = local_session(args.warehouse, app_name="mongodb_curate", catalog=args.catalog)
        settings = CurateSettings(
            catalog=args.catalog,
            raw_root=args.raw_dir,
            namespace=args.namespace,
            layout=TableLayout(args.target_file_size_bytes, args.compression),
            lag_seconds=args.lag_seconds,
            max_files_per_commit=args.max_files_per_commit,
        )
        names = [n.strip() for n in args.collections.split(",")] if args.collections else None
        results = run_curate(spark, job_tables, settings, ledger, names)
        compactions = [asdict(compact(spark, r.table)) for r in results] if args.compact else []
        return {"collections": [asdict(r) for r in results], "compactions": compactions}

    return run_and_report(job)


if __name__ == "__main__":
    sys.exit(main())
