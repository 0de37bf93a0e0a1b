"""Benchmark (not a test): raw → curated, and the Alarms report three ways, in one run.

A synthetic snapshot is loaded into throwaway databases (PostgreSQL ``bench_<id>_ddc`` and
``bench_<id>_support``, MongoDB ``bench_<id>``; dropped at the end unless ``--keep``; with
``--collections`` only those collections go to MongoDB, so 3,000 devices of alarms load in about a
minute), ingested by the TypeScript CLI into a temporary raw folder, curated by
``mongodb_curate``'s code (``run_curate``), then compacted the way the Glue table optimizer would.
It prints:

- raw objects (files, bytes) against curated data and delete files, per collection and in total;
- the Alarms report (``alarms_daily`` + ``alarm_time_to_reset``, computed and collected) timed
  three ways on the same data: curated Iceberg (the analytics job's query, ``report_groups``),
  raw Parquet (the same query over ``spark.read.parquet(raw/alarm)``, deduplicated per alarm id,
  which is what querying the raw layer needs), and the old way (``glue/tools/alarms_old_way.py``:
  pymongo + psycopg + Python); and, on its own line, what a report user waits for: reading the
  two tables the analytics job wrote (what Athena / QuickSight read). Spark ways get one warm-up
  run, then the median of ``--runs``, with the number of Spark jobs each run started. All four
  results are compared (groups, alarms, resets) and the verdict printed with them.

With ``--scaling F``, curate and reconcile are first measured at 1/F of the devices (a child
run of this script with ``--no-report``, in databases of its own): the main run is then the
F-times point, and the time exponent of each is printed. With ``--json FILE`` every figure is
also written to FILE (``npm run bench`` reads it).

Usage: .local/venv/bin/python scripts/bench/curate_analytics.py [--devices 60 --days 30]
       [--collections alarm,events] [--advances 6] [--runs 3] [--scaling 4] [--json FILE]
       [--no-report] [--keep]
Ports come from the environment (scripts/stack.env), like every other script.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "glue"))
sys.path.insert(0, str(ROOT / "glue" / "tests"))  # sources.py, lake_helpers.py: the test fixtures

from lake_helpers import copy_postgres_tables, load_tool  # noqa: E402
from sources import Sources  # noqa: E402

from lakehouse_glue.analytics import (  # noqa: E402
    DAILY_TABLE,
    TIME_TO_RESET_TABLE,
    ReportSources,
    alarm_facts,
    build_alarms_report,
    latest_alarms,
    report_groups,
)
from lakehouse_glue.analytics.alarms_report import (  # noqa: E402
    ANALYTICS_NAMESPACE,
    DAILY_LEVEL,
    OVERALL_LEVEL,
)
from lakehouse_glue.curate import CurateSettings, compact, load_job_tables, run_curate  # noqa: E402
from lakehouse_glue.jdbc import JdbcSource  # noqa: E402
from lakehouse_glue.spark import DEFAULT_CATALOG, local_session  # noqa: E402


def say(message: str) -> None:
    print(message, flush=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def folder_files(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*.parquet") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--devices", type=int, default=60)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--collections", help="comma-separated (default: every collection)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument(
        "--advances",
        type=int,
        default=0,
        help="then N times: snapshot advance --days 1, ingest, curate (the hourly/daily runs that "
        "add one raw object per device and collection each time, and one commit per table)",
    )
    p.add_argument(
        "--scaling",
        type=int,
        default=0,
        help="first measure curate and reconcile at 1/F of the devices (a child run): this run is "
        "then the F-times point (0: no)",
    )
    p.add_argument("--no-report", action="store_true", help="stop after curate and reconcile")
    p.add_argument("--json", help="also write every figure to this file")
    p.add_argument("--keep", action="store_true", help="keep the databases and folders")
    args = p.parse_args(argv)

    figures: dict[str, Any] = {
        "devices": args.devices,
        "days": args.days,
        "seed": args.seed,
        "collections": args.collections.split(",") if args.collections else None,
        "cores": os.cpu_count(),
        "loadBefore": list(os.getloadavg()),
    }
    if args.scaling > 1:
        figures["scaling"] = {"factor": args.scaling, "small": _small_run(args)}

    sources = Sources(prefix=f"bench_{uuid.uuid4().hex[:8]}")
    work = Path(tempfile.mkdtemp(prefix="lakehouse-bench-curate-"))
    raw_dir, warehouse = work / "raw", work / "warehouse"
    say(f"scale: {args.devices} devices x {args.days} days, seed {args.seed}; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; work folder {work}")  # fmt: skip
    sources.create()
    try:
        names = args.collections.split(",") if args.collections else None
        # Only the collections benchmarked go to MongoDB: an alarm history of 100k+ alarms then
        # loads in minutes instead of the hours all 13 collections would take.
        seconds, _ = timed(lambda: sources.load(args.devices, args.days, args.seed, names))
        say(f"snapshot load: {seconds:.1f} s")
        figures["loadSeconds"] = seconds
        extra = ["--collections", args.collections] if args.collections else []
        seconds, _ = timed(lambda: sources.ingest(raw_dir, *extra))
        say(f"ingest (TypeScript CLI, MongoDB → raw): {seconds:.1f} s")
        figures["ingestSeconds"] = seconds

        job_tables = load_job_tables(sources.job_tables(work / "job-tables.json"))
        spark = local_session(str(warehouse), app_name="bench-curate-analytics")
        settings = CurateSettings(catalog=DEFAULT_CATALOG, raw_root=str(raw_dir), lag_seconds=0)
        ledger = JdbcSource(
            sources.jdbc_url(sources.support_db), sources.pg_user, sources.pg_password
        )
        seconds, results = timed(lambda: run_curate(spark, job_tables, settings, ledger, names))
        commits = sum(r.commits for r in results)
        rows = sum(r.ledger_rows for r in results)
        objects = sum(r.objects for r in results)
        raw_files, raw_bytes = folder_files(raw_dir)
        say(f"curate: {seconds:.1f} s, {commits} commits, {rows:,} rows from {objects:,} objects")
        figures["curate"] = {
            "seconds": seconds,
            "commits": commits,
            "rows": rows,
            "objects": objects,
            "rawFiles": raw_files,
            "rawBytes": raw_bytes,
        }
        figures["reconcile"] = {"full": _reconcile(sources, raw_dir, "full", extra), "auto": []}
        if args.no_report:
            spark.stop()
            return _finish(args, figures)
        for i in range(args.advances):
            sources.cli("snapshot", "advance", "--days", "1")
            ingest_s, _ = timed(lambda: sources.ingest(raw_dir, *extra))
            seconds, more = timed(lambda: run_curate(spark, job_tables, settings, ledger, names))
            rows = sum(r.ledger_rows for r in more)
            objects = sum(r.objects for r in more)
            say(f"advance {i + 1}: ingest {ingest_s:.1f} s, curate {seconds:.1f} s, "
                f"{rows:,} rows from {objects:,} objects")  # fmt: skip
            figures.setdefault("advances", []).append(
                {"ingestSeconds": ingest_s, "curateSeconds": seconds, "rows": rows}
            )
            figures["reconcile"]["auto"].append(_reconcile(sources, raw_dir, "auto", extra))
        before = {r.table: _curated_files(spark, r.table) for r in results}
        seconds, _ = timed(lambda: [compact(spark, r.table) for r in results])
        say(f"compaction (the Glue optimizer's procedures): {seconds:.1f} s")
        figures["compactionSeconds"] = seconds

        say("")
        say(f"{'collection':<24}{'raw files':>10}{'raw bytes':>13}{'curated files':>15}"
            f"{'(before compaction)':>21}{'curated bytes':>15}")  # fmt: skip
        totals = [0, 0, 0, 0, 0]
        files = []
        for r in results:
            rf, rb = folder_files(raw_dir / r.collection)
            cf, cb = _curated_files(spark, r.table)
            row = (rf, rb, cf, before[r.table][0], cb)
            totals = [a + b for a, b in zip(totals, row, strict=True)]
            say(f"{r.collection:<24}{rf:>10}{mb(rb):>13}{cf:>15}{row[3]:>21}{mb(cb):>15}")
            files.append({"collection": r.collection, "rawFiles": rf, "rawBytes": rb,
                          "curatedFiles": cf, "curatedBytes": cb})  # fmt: skip
        say(f"{'total':<24}{totals[0]:>10}{mb(totals[1]):>13}{totals[2]:>15}{totals[3]:>21}"
            f"{mb(totals[4]):>15}")  # fmt: skip
        figures["files"] = files

        if names is None or "alarm" in names:
            figures["alarms"] = _alarms_report(spark, sources, job_tables, raw_dir, args.runs)
        spark.stop()
        _print_scaling(figures)
        return _finish(args, figures)
    finally:
        if args.keep:
            say(f"kept: databases {sources.prefix}_*, MongoDB {sources.mongo_db}, folder {work}")
        else:
            sources.drop()
            shutil.rmtree(work, ignore_errors=True)


def _small_run(args: argparse.Namespace) -> dict[str, Any]:
    """Curate and reconcile at 1/F of the devices: this script again, in a child (its own
    databases and Spark session), without the report."""
    devices = max(1, args.devices // args.scaling)
    with tempfile.TemporaryDirectory(prefix="lakehouse-bench-curate-small-") as tmp:
        out = Path(tmp) / "small.json"
        command = [sys.executable, __file__, "--devices", str(devices), "--days", str(args.days),
                   "--seed", str(args.seed), "--no-report", "--json", str(out)]  # fmt: skip
        if args.collections:
            command += ["--collections", args.collections]
        say(f"scaling: first {devices} devices (1/{args.scaling} of the data), without the report")
        subprocess.run(command, check=True)
        say("")
        return json.loads(out.read_text())


def exponent(small: float, large: float, factor: float) -> float | None:
    """How time grows with data: ln(t_large / t_small) / ln(factor); 1 is linear."""
    if small <= 0 or large <= 0 or factor <= 1:
        return None
    return math.log(large / small) / math.log(factor)


def _print_scaling(figures: dict[str, Any]) -> None:
    scaling = figures.get("scaling")
    if not scaling:
        return
    small, factor = scaling["small"], scaling["factor"]
    say("")
    say(f"scaling, {small['devices']} → {figures['devices']} devices x {figures['days']} days "
        f"({factor}x the data; exponent 1 is linear):")  # fmt: skip
    pairs = (
        ("curate", small["curate"]["seconds"], figures["curate"]["seconds"]),
        ("reconcile (full)", small["reconcile"]["full"]["seconds"],
         figures["reconcile"]["full"]["seconds"]),
    )  # fmt: skip
    for name, t1, tf in pairs:
        e = exponent(t1, tf, factor)
        say(f"  {name:<18}{t1:>8.1f} s → {tf:>8.1f} s   exponent "
            f"{'-' if e is None else f'{e:.2f}'}")  # fmt: skip


def _finish(args: argparse.Namespace, figures: dict[str, Any]) -> int:
    figures["loadAfter"] = list(os.getloadavg())
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        say(f"figures written to {args.json}")
    return 0


def _reconcile(sources: Sources, raw_dir: Path, mode: str, extra: list[str]) -> dict[str, Any]:
    """Reconcile through the TypeScript CLI (a full pass, or the incremental one after an advance):
    its time, the device-days it compared, its source queries, and what it found."""
    out = json.loads(
        sources.cli("reconcile", "--mode", mode, "--raw-dir", str(raw_dir), "--json", *extra)
    )
    report = out["reports"][-1]
    days = report["daysChecked"]
    per_day = out["seconds"] * 1000 / days if days else 0.0
    say(f"reconcile ({report['mode']}): {out['seconds']:.1f} s, {days:,} device-days "
        f"({per_day:.1f} ms each), {report['queriesRun']:,} source queries, "
        f"{report['differences']} differences, {report['quarantined']:,} quarantined, "
        f"{report['inFlight']:,} in flight")  # fmt: skip
    return {
        "mode": report["mode"],
        "seconds": out["seconds"],
        "deviceDays": days,
        "queries": report["queriesRun"],
        "differences": report["differences"],
    }


def _curated_files(spark: Any, table: str) -> tuple[int, int]:
    """Data and delete files of the current snapshot (the ``files`` metadata table has both)."""
    row = spark.sql(
        f"SELECT count(*) AS n, coalesce(sum(file_size_in_bytes), 0) AS b FROM {table}.files"
    ).first()
    return int(row["n"]), int(row["b"])


SPARK_WAYS = ("curated Iceberg, computed", "raw Parquet (Spark), computed")
OLD_WAY = "old way (pymongo + Python)"
SERVED = "served: read analytics.* tables"


def _alarms_report(
    spark: Any, sources: Sources, job_tables: Any, raw_dir: Path, runs: int
) -> dict[str, Any]:
    from pyspark.sql import functions as sf

    old_way = load_tool("alarms_old_way")
    postgres = f"{DEFAULT_CATALOG}.postgres"
    ddc = JdbcSource(sources.jdbc_url(sources.ddc_db), sources.pg_user, sources.pg_password)
    copy_postgres_tables(spark, ddc, job_tables, postgres)
    devices = spark.table(f"{postgres}.device")
    companies = spark.table(f"{postgres}.company")

    def spark_report(alarms: Callable[[], Any]) -> tuple[list[Any], list[Any]]:
        # The analytics job's query: both levels in one aggregation, collected once.
        rows = report_groups(alarm_facts(alarms(), devices, companies)).collect()
        return [r for r in rows if r["level"] == DAILY_LEVEL], [
            r for r in rows if r["level"] == OVERALL_LEVEL
        ]

    def curated() -> tuple[list[Any], list[Any]]:
        return spark_report(lambda: spark.table(f"{DEFAULT_CATALOG}.mongodb.alarm"))

    def raw() -> tuple[list[Any], list[Any]]:
        # The raw layer as it is: every object listed and read, an alarm extracted open and
        # again reset appears twice, so the latest reset wins per id (what MERGE does once).
        # Recursive: windows' own objects sit in `idDevice=` folders, packs in `packs/` (ADR 0023).
        def frame() -> Any:
            df = (
                spark.read.option("mergeSchema", "true")
                .option("recursiveFileLookup", "true")
                .parquet(str(raw_dir / "alarm"))
            )
            return latest_alarms(df).withColumn("code", sf.col("code").cast("int"))

        return spark_report(frame)

    def old() -> tuple[dict[Any, Any], dict[Any, Any]]:
        with sources.mongo() as client, sources.ddc() as conn:
            alarms = old_way.fetch_alarms(client[sources.mongo_db])
            devs = old_way.fetch_devices(conn)
            comps = old_way.fetch_companies(conn)
        return old_way.report(old_way.extracted(alarms, devs), devs, comps)

    # What a report user waits for: the analytics job has already written both tables (as it
    # does at the end of every pipeline run), and Athena / QuickSight read them.
    report_sources = ReportSources(
        alarms=f"{DEFAULT_CATALOG}.mongodb.alarm",
        devices=f"{postgres}.device",
        companies=f"{postgres}.company",
    )
    seconds, counts = timed(
        lambda: build_alarms_report(spark, DEFAULT_CATALOG, report_sources, job_tables=job_tables)
    )
    say(f"analytics job (compute + write both tables, first run in this JVM): {seconds:.1f} s, "
        f"{counts}")  # fmt: skip

    def served() -> tuple[list[Any], list[Any]]:
        return (
            spark.table(f"{DEFAULT_CATALOG}.{ANALYTICS_NAMESPACE}.{DAILY_TABLE}").collect(),
            spark.table(f"{DEFAULT_CATALOG}.{ANALYTICS_NAMESPACE}.{TIME_TO_RESET_TABLE}").collect(),
        )

    ways: dict[str, Callable[[], Any]] = {
        SPARK_WAYS[0]: curated,
        SPARK_WAYS[1]: raw,
        OLD_WAY: old,
        SERVED: served,
    }
    figures: dict[str, float] = {}
    jobs: dict[str, int] = {}
    outputs: dict[str, Any] = {}
    context = spark.sparkContext
    for name, fn in ways.items():
        if name != OLD_WAY:
            timed(fn)  # warm-up: JIT, file listing caches, broadcast of the small tables
        samples = []
        for _ in range(max(1, runs)):
            group = uuid.uuid4().hex
            context.setJobGroup(group, name)
            seconds, outputs[name] = timed(fn)
            samples.append(seconds)
            jobs[name] = len(context.statusTracker().getJobIdsForGroup(group))
        figures[name] = statistics.median(samples)

    summaries = {}
    for name, (daily, ttr) in outputs.items():
        rows = list(daily.values()) if isinstance(daily, dict) else daily
        summaries[name] = (
            len(daily),
            len(ttr),
            sum(r["alarms"] for r in rows),
            sum(r["alarms_reset"] for r in rows),
        )
    # Resets the lake may not have yet: an alarm extracted open whose reset MongoDB got after
    # the device's last log reaches the lake with the next extraction; one already reset when
    # extracted is reset in the lake too. Only these may differ between the lake and MongoDB.
    with sources.mongo() as client, sources.ddc() as conn:
        devs = old_way.fetch_devices(conn)
        in_flight = sum(
            1
            for a in old_way.extracted(old_way.fetch_alarms(client[sources.mongo_db]), devs)
            if a.reset_ts is not None and a.reset_ts >= devs[a.id_device].last_log_date
        )
    lake = {summaries[name] for name in (*SPARK_WAYS, SERVED)}
    old_summary = summaries[OLD_WAY]
    agree = (
        len(lake) == 1
        and next(iter(lake))[:3] == old_summary[:3]
        and abs(next(iter(lake))[3] - old_summary[3]) <= in_flight
    )
    daily_rows, ttr_rows, alarms, resets = summaries[SPARK_WAYS[0]]
    say("")
    say(f"Alarms report: {alarms:,} alarms ({resets:,} reset), {daily_rows:,} daily rows, "
        f"{ttr_rows:,} time-to-reset rows; median of {runs} runs (Spark ways after a warm-up "
        f"run); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    say(f"  results: {'agree' if agree else 'DISAGREE'} {summaries} "
        f"(resets after the device's last log, which may differ: {in_flight})")  # fmt: skip
    base = figures[SPARK_WAYS[0]]
    say(f"  {'way':<34}{'seconds':>9}{'Spark jobs':>12}")
    for name in (*SPARK_WAYS, OLD_WAY):
        ratio = "" if name == SPARK_WAYS[0] else f"   curated is {figures[name] / base:.1f}x faster"
        say(f"  {name:<34}{figures[name]:>9.3f}{jobs.get(name, 0) or '-':>12}{ratio}")
    say(f"  {SERVED:<34}{figures[SERVED]:>9.3f}{jobs[SERVED]:>12}   what a report user waits "
        f"for (pre-aggregated by the analytics job); old way / served "
        f"{figures[OLD_WAY] / figures[SERVED]:.0f}x")  # fmt: skip
    keys = {SPARK_WAYS[0]: "curated", SPARK_WAYS[1]: "raw", OLD_WAY: "oldWay", SERVED: "served"}
    return {
        "alarms": alarms,
        "resets": resets,
        "dailyRows": daily_rows,
        "timeToResetRows": ttr_rows,
        "runs": runs,
        "agree": agree,
        "inFlight": in_flight,
        "loadAverage": os.getloadavg()[0],
        "ways": {
            keys[name]: {"label": name, "seconds": figures[name], "sparkJobs": jobs.get(name)}
            for name in keys
        },
    }


if __name__ == "__main__":
    sys.exit(main())
