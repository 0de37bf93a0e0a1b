"""The Alarms report "the old way": query MongoDB and PostgreSQL, aggregate in process.

This is how the software team answered the question before the lake (docs/design.md §8): a
script with database credentials. It is kept for two jobs, and on purpose shares no code with
the Spark report: the benchmark times it against the lake, and the tests use it as the independent
reference the Spark tables must equal (plain Python, exact percentiles by linear interpolation
between closest ranks, the definition Spark's ``percentile`` uses).

Usage: python glue/tools/alarms_old_way.py --mongodb-url URL --mongodb-database DB --ddc-url URL
Prints the timing and the report's row counts as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

PERCENTILES = (0.5, 0.9)
#: Implausible alarms (ADR 0013), in no figure but counted per reason: written here on their
#: own, as the rest of the reference, and compared with the Spark job's bound by the tests.
MAX_PLAUSIBLE_TTR = timedelta(days=365)

GroupKey = tuple[int | None, str | None, str | None, int]


@dataclass(frozen=True)
class Alarm:
    id: str
    id_device: int
    code: int
    active_ts: datetime
    reset_ts: datetime | None


@dataclass(frozen=True)
class Device:
    id: int
    id_company: int
    model: str
    last_log_date: datetime | None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, Spark's ``percentile``)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * p
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def fetch_alarms(database: Any) -> list[Alarm]:
    """Every alarm document, only the fields the report needs (the old script's projection)."""
    cursor = database["alarm"].find(
        {}, {"_id": 1, "idDevice": 1, "code": 1, "activeTS": 1, "resetTS": 1}
    )
    return [
        Alarm(
            id=str(doc["_id"]),
            id_device=int(doc["idDevice"]),
            code=int(doc["code"]),
            active_ts=_utc(doc["activeTS"]),
            reset_ts=_utc(doc["resetTS"]) if doc.get("resetTS") is not None else None,
        )
        for doc in cursor
    ]


def fetch_devices(ddc: Any) -> dict[int, Device]:
    rows = ddc.execute("SELECT id, id_company, model, last_log_date FROM device").fetchall()
    return {
        int(r[0]): Device(int(r[0]), int(r[1]), r[2], _utc(r[3]) if r[3] else None) for r in rows
    }


def fetch_companies(ddc: Any) -> dict[int, str]:
    return {int(r[0]): r[1] for r in ddc.execute("SELECT id, name FROM company").fetchall()}


def extracted(alarms: Iterable[Alarm], devices: dict[int, Device]) -> list[Alarm]:
    """The alarms the lake can hold: activated before their device's completeness mark
    (``last_log_date``), as MongoDB has them now. The worker extracts whole documents, so an
    alarm's reset is in the lake whenever it was already set when the alarm was extracted; one
    set later reaches the lake with the extraction whose window holds it (docs/design.md §4)."""
    out = []
    for a in alarms:
        device = devices.get(a.id_device)
        if device and device.last_log_date and a.active_ts < device.last_log_date:
            out.append(a)
    return out


def exclusion(alarm: Alarm) -> str | None:
    """Why an alarm is in no figure: reset before it was active, or implausibly long after."""
    if alarm.reset_ts is None:
        return None
    if alarm.reset_ts < alarm.active_ts:
        return "reset_before_active"
    if alarm.reset_ts - alarm.active_ts > MAX_PLAUSIBLE_TTR:
        return "reset_too_late"
    return None


def report(
    alarms: Iterable[Alarm], devices: dict[int, Device], companies: dict[int, str]
) -> tuple[dict[tuple[Any, ...], dict[str, Any]], dict[GroupKey, dict[str, Any]]]:
    """``(daily, time_to_reset)`` keyed by (company, name, model, code[, day])."""
    daily: dict[tuple[Any, ...], list[Alarm]] = defaultdict(list)
    overall: dict[GroupKey, list[Alarm]] = defaultdict(list)
    for a in alarms:
        device = devices.get(a.id_device)
        company = device.id_company if device else None
        name = companies.get(company) if company is not None else None
        key: GroupKey = (company, name, device.model if device else None, a.code)
        day: date = a.active_ts.astimezone(UTC).date()
        daily[(*key, day)].append(a)
        overall[key].append(a)

    def measures(group: list[Alarm]) -> dict[str, Any]:
        counted = [a for a in group if exclusion(a) is None]
        ttr = [
            (a.reset_ts - a.active_ts).total_seconds() for a in counted if a.reset_ts is not None
        ]
        reasons = [exclusion(a) for a in group]
        out: dict[str, Any] = {
            "alarms": len(counted),
            "alarms_reset": len(ttr),
            "excluded_reset_before_active": reasons.count("reset_before_active"),
            "excluded_reset_too_late": reasons.count("reset_too_late"),
        }
        for p in PERCENTILES:
            out[f"ttr_p{round(p * 100)}_seconds"] = percentile(ttr, p)
        return out

    time_to_reset: dict[GroupKey, dict[str, Any]] = {}
    for key, group in overall.items():
        ttr = [
            (a.reset_ts - a.active_ts).total_seconds()
            for a in group
            if a.reset_ts and exclusion(a) is None
        ]
        days = [a.active_ts.astimezone(UTC).date() for a in group]
        time_to_reset[key] = {
            **measures(group),
            "ttr_max_seconds": max(ttr) if ttr else None,
            "first_day": min(days),
            "last_day": max(days),
        }
    return {k: measures(g) for k, g in daily.items()}, time_to_reset


def main(argv: list[str] | None = None) -> int:
    import psycopg
    import pymongo

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--mongodb-url", required=True)
    p.add_argument("--mongodb-database", required=True)
    p.add_argument("--ddc-url", required=True, help="postgres://user:password@host:port/ddc")
    args = p.parse_args(argv)
    started = time.perf_counter()
    mongo: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        args.mongodb_url, tz_aware=True
    )
    with (
        mongo as client,
        psycopg.connect(args.ddc_url) as ddc,
    ):
        alarms = fetch_alarms(client[args.mongodb_database])
        devices = fetch_devices(ddc)
        companies = fetch_companies(ddc)
    daily, ttr = report(extracted(alarms, devices), devices, companies)
    seconds = time.perf_counter() - started
    print(json.dumps({"alarms": len(alarms), "daily_rows": len(daily), "ttr_rows": len(ttr),
                      "seconds": round(seconds, 3)}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
