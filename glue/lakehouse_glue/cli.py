"""Local entry of the Glue jobs: ``python -m lakehouse_glue.cli <job> [options]``.

The local runner (and a developer) runs a job here on local Spark with a Hadoop Iceberg catalog,
exactly as Glue runs it through ``glue/jobs/<job>.py``: same functions, other edges. Results go to
stdout as one JSON object per table; logs go to stderr. Exit status: 0 all tables written, 1 some
failed (each line says which and why), 2 bad arguments or configuration.

Example (with the local stack's settings from ``scripts/stack.env``)::

    bash scripts/lakehouse.sh registry job-tables > /tmp/job-tables.json
    .local/venv/bin/python -m lakehouse_glue.cli postgres_extract \\
        --job-tables /tmp/job-tables.json --warehouse .local/lake/warehouse \\
        --database-url-env DDC_DATABASE_URL
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

from lakehouse_glue import jdbc
from lakehouse_glue.errors import GlueJobError, TablesFailedError
from lakehouse_glue.jdbc import JdbcSource
from lakehouse_glue.job_tables import load_job_tables, split_names
from lakehouse_glue.postgres_extract import (
    DEFAULT_NAMESPACE,
    JOB_NAME,
    ExtractConfig,
    TableResult,
    run,
)
from lakehouse_glue.spark import DEFAULT_CATALOG, local_session

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lakehouse_glue.cli")
    jobs = parser.add_subparsers(dest="job", required=True)
    pg = jobs.add_parser(JOB_NAME, help="PostgreSQL tables into Iceberg (DESIGN §4)")
    pg.add_argument(
        "--job-tables",
        required=True,
        help="the registry's table list: a path, s3:// URI or inline JSON",
    )
    pg.add_argument("--warehouse", required=True, help="folder of the local Iceberg catalog")
    source = pg.add_mutually_exclusive_group(required=True)
    source.add_argument("--jdbc-url", help="jdbc:postgresql://host:port/database")
    source.add_argument(
        "--database-url-env",
        metavar="VAR",
        help="environment variable holding postgres://user:password@host:port/database",
    )
    pg.add_argument("--user", help="with --jdbc-url")
    pg.add_argument(
        "--password-env",
        metavar="VAR",
        help="with --jdbc-url: environment variable holding the password (never an argument, "
        "which `ps` would show)",
    )
    pg.add_argument("--source-schema", default="public")
    pg.add_argument("--catalog", default=DEFAULT_CATALOG)
    pg.add_argument("--namespace", default=DEFAULT_NAMESPACE)
    pg.add_argument("--tables", help="comma-separated subset of the registry's tables")
    pg.add_argument("--fetch-size", type=int, default=jdbc.DEFAULT_FETCH_SIZE)
    pg.add_argument("--partition-rows", type=int, default=jdbc.DEFAULT_PARTITION_ROWS)
    pg.add_argument("--max-partitions", type=int, default=jdbc.DEFAULT_MAX_PARTITIONS)
    return parser


def _source(args: argparse.Namespace) -> JdbcSource:
    if args.database_url_env:
        database_url = os.environ.get(args.database_url_env)
        if not database_url:
            raise ValueError(f"environment variable {args.database_url_env} is not set")
        url, user, password = jdbc.jdbc_from_database_url(database_url)
    else:
        if not args.user or not args.password_env:
            raise ValueError("--jdbc-url needs --user and --password-env")
        password = os.environ.get(args.password_env)
        if password is None:
            raise ValueError(f"environment variable {args.password_env} is not set")
        url, user = args.jdbc_url, args.user
    return JdbcSource(
        url=url,
        user=user,
        password=password,
        schema=args.source_schema,
        fetch_size=args.fetch_size,
        partition_rows=args.partition_rows,
        max_partitions=args.max_partitions,
    )


def _print(result: TableResult) -> None:
    print(json.dumps(result.to_json()), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        tables = split_names(args.tables)
        config = ExtractConfig(
            source=_source(args),
            job_tables=load_job_tables(args.job_tables),
            catalog=args.catalog,
            namespace=args.namespace,
            tables=tables,
        )
        config.job_tables.select(tables)
    except (ValueError, GlueJobError) as error:
        print(f"{JOB_NAME}: {error}", file=sys.stderr)
        return EXIT_USAGE

    spark = local_session(args.warehouse, app_name=JOB_NAME, catalog=args.catalog)
    try:
        run(spark, config, on_result=_print)
    except TablesFailedError as error:
        print(f"{JOB_NAME}: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        spark.stop()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
