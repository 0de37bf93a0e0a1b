"""Benchmark of the Glue job postgres_extract on local Spark (run by scripts/bench.sh).

Loads the synthetic snapshot at a benchmark scale into a throwaway database, runs the full
extract (every table: snapshot replaces, the device merge, the histories' initial append), then
`snapshot advance --days N` and the increment, and prints rows/s per table and in total. The
throwaway databases (PostgreSQL and MongoDB) and the Iceberg warehouse are removed afterwards.

    .local/venv/bin/python scripts/bench/postgres_extract.py [--scale bench] [--advance-days 7]
        [--bulk-rows 1000000] [--json FILE]

Needs the local stack (scripts/stack.sh start) and its settings (scripts/stack.env) in the
environment. Figures include Spark's per-table job overhead (~0.3 s), which dominates the small
tables; the history tables show the JDBC -> Iceberg throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from pyspark.sql import SparkSession

from lakehouse_glue.jdbc import JdbcSource, jdbc_from_database_url
from lakehouse_glue.job_tables import load_job_tables
from lakehouse_glue.postgres_extract import ExtractConfig, TableResult, run
from lakehouse_glue.spark import local_session

ROOT = Path(__file__).resolve().parents[2]
LAKEHOUSE = ROOT / "scripts" / "lakehouse.sh"
BENCH_DB = "ddc_bench_extract"
BENCH_MONGO_DB = "iot_bench_extract"


def _database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        ["bash", str(LAKEHOUSE), *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def _figures(results: list[TableResult], wall: float) -> dict[str, object]:
    """One pass as JSON (``--json``): its total and each table's rows and seconds."""
    rows = sum(r.rows_written for r in results)
    appends = [r for r in results if r.behaviour == "append"]
    a_rows, a_secs = sum(r.rows_written for r in appends), sum(r.seconds for r in appends)
    return {
        "rows": rows,
        "seconds": wall,
        "rowsPerSecond": rows / wall if wall else None,
        "appendRowsPerSecond": a_rows / a_secs if a_secs else None,
        "tables": [
            {
                "table": r.table,
                "behaviour": r.behaviour,
                "rows": r.rows_written,
                "seconds": r.seconds,
            }
            for r in results
        ],
    }


def _report(title: str, results: list[TableResult], wall: float) -> None:
    print(f"\n{title}")
    print(f"{'table':<24} {'behaviour':<9} {'rows':>9} {'seconds':>8} {'rows/s':>9}")
    for r in results:
        rate = r.rows_written / r.seconds if r.seconds else 0.0
        line = f"{r.table:<24} {r.behaviour:<9} {r.rows_written:>9,} {r.seconds:>8.2f}"
        print(f"{line} {rate:>9,.0f}")
    rows = sum(r.rows_written for r in results)
    print(f"{'total':<24} {'':<9} {rows:>9,} {wall:>8.2f} {rows / wall:>9,.0f}")
    appends = [r for r in results if r.behaviour == "append"]
    a_rows, a_secs = sum(r.rows_written for r in appends), sum(r.seconds for r in appends)
    if a_secs:
        print(f"{'append tables':<24} {'':<9} {a_rows:>9,} {a_secs:>8.2f} {a_rows / a_secs:>9,.0f}")


def _bulk(spark: SparkSession, config: ExtractConfig, url: str, rows: int) -> dict[str, object]:
    """Throughput where volume dominates the per-table overhead: the synthetic scale's tables are
    small, production's history is 22 GB and device_recipe ~1 GB."""
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.monotonic()
        for table, columns, count in (
            ("device_recipe_history", "id_device, id_device_recipe, action, name", rows),
            ("device_recipe", "id_device, name, category, steps, created_at", rows // 5),
        ):
            stamp = "recorded_at" if table == "device_recipe_history" else "updated_at"
            [(have,)] = conn.execute(f"SELECT count(*) FROM {table}").fetchall()
            # Copies of existing rows (realistic widths) under new identity ids.
            conn.execute(
                f"INSERT INTO {table} ({columns}, {stamp})"
                f" SELECT {columns}, {stamp} + g * interval '1 hour'"
                f" FROM generate_series(1, %(reps)s) AS g CROSS JOIN {table} LIMIT %(n)s",
                {"reps": -(-count // have), "n": count},
            )
        conn.execute("ANALYZE")
        print(
            f"\nadded {rows:,} history and {rows // 5:,} recipe rows in "
            f"{time.monotonic() - started:.0f} s"
        )
    figures: dict[str, object] = {}
    for name in ("device_recipe_history", "device_recipe"):
        started = time.monotonic()
        results = run(spark, replace(config, tables=(name,)))
        wall = time.monotonic() - started
        _report(f"bulk: {name} alone", results, wall)
        figures[name] = _figures(results, wall)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="bench", choices=["default", "bench"])
    parser.add_argument("--devices", type=int)
    parser.add_argument("--days", type=int)
    parser.add_argument("--advance-days", type=int, default=7)
    parser.add_argument("--json", help="also write the figures to this file (npm run bench reads)")
    parser.add_argument(
        "--bulk-rows",
        type=int,
        default=1_000_000,
        help="then add this many rows to device_recipe_history and time the append alone, and "
        "a fifth as many to device_recipe and time its replace (0 skips)",
    )
    args = parser.parse_args()
    # Progress shows as it happens even when the output goes to a file.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    base = os.environ.get("DDC_DATABASE_URL")
    if not base:
        print("DDC_DATABASE_URL is not set: source scripts/stack.env", file=sys.stderr)
        return 2
    url = _database(base, BENCH_DB)
    admin = _database(base, "postgres")
    env = {**os.environ, "DDC_DATABASE_URL": url, "MONGODB_DATABASE": BENCH_MONGO_DB}
    figures: dict[str, object] = {
        "scale": args.scale,
        "devices": args.devices,
        "days": args.days,
        "advanceDays": args.advance_days,
        "loadBefore": list(os.getloadavg()),
    }
    warehouse = Path(tempfile.mkdtemp(prefix="bench-postgres-extract-"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    try:
        load = ["snapshot", "load", "--reset", "--scale", args.scale]
        load += ["--devices", str(args.devices)] if args.devices else []
        load += ["--days", str(args.days)] if args.days else []
        started = time.monotonic()
        _cli(env, *load)
        print(f"loaded {' '.join(load[3:])} into {BENCH_DB} in {time.monotonic() - started:.0f} s")
        jdbc_url, user, password = jdbc_from_database_url(url)
        config = ExtractConfig(
            source=JdbcSource(url=jdbc_url, user=user, password=password),
            job_tables=load_job_tables(_cli(env, "registry", "job-tables")),
        )
        spark = local_session(warehouse, app_name="bench-postgres_extract")
        # Warm the JVM (class loading, JIT) so the first table does not carry start-up costs.
        spark.range(1).count()

        started = time.monotonic()
        full = run(spark, config)
        wall = time.monotonic() - started
        _report("full extract (initial load)", full, wall)
        figures["full"] = _figures(full, wall)

        _cli(env, "snapshot", "advance", "--days", str(args.advance_days))
        started = time.monotonic()
        increment = run(spark, config)
        wall = time.monotonic() - started
        _report(f"after advance --days {args.advance_days}: increment", increment, wall)
        figures["increment"] = _figures(increment, wall)
        if args.bulk_rows:
            figures["bulk"] = {"rows": args.bulk_rows, **_bulk(spark, config, url, args.bulk_rows)}
        spark.stop()
        figures["loadAfter"] = list(os.getloadavg())
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
            print(f"figures written to {args.json}")
    finally:
        # Each step on its own: a failed drop (the server gone) must not leave the others undone.
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        except psycopg.Error as error:
            print(f"could not drop {BENCH_DB}: {error}", file=sys.stderr)
        subprocess.run(
            [
                "node",
                "--input-type=module",
                "-e",
                "import { MongoClient } from 'mongodb';"
                "const c = await MongoClient.connect(process.env.MONGODB_URL);"
                f"await c.db('{BENCH_MONGO_DB}').dropDatabase(); await c.close();",
            ],
            cwd=ROOT,
            check=False,
            capture_output=True,
        )
        shutil.rmtree(warehouse, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
