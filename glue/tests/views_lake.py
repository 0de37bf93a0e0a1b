"""A small lake for the analysts' views, and what each view must return, computed in Python.

The lake is an Iceberg catalog of its own (``views_<hex>``): curated ``mongodb.alarm`` and
``mongodb.variable_logs`` and the postgres ``device`` and ``company`` tables, with the registry's
columns and types, at the places the views' SQL names relative to the current catalog. Its rows
are written here directly (a seeded fleet plus hand-placed edge cases), so the reference below
computes every view from the very rows the lake holds, in plain Python: no SQL, no Spark, and
none of the views' text (only the registry's code names, which the views spell into their SQL).

The fleet: four companies (one without devices), six devices over three models, and a device
missing from ``ddc`` (99: its alarms have no company, model or serial); 20 weeks of alarms over
known and unknown codes, reset or open, with the implausible ones of ADR 0013 (reset before the
activation, reset in year 9999, reset a year and a millisecond later) and the bound itself (reset
exactly a year later, counted); readings every 30 s in some hours, some NULL, one hour with no
chamber temperature at all, a row with no reading, and tied hottest hours.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from lakehouse_glue.analytics.tables import create_table_sql
from lakehouse_glue.job_tables import JobColumn, JobTables

Row = dict[str, Any]

START = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
WEEKS = 20
MS = timedelta(milliseconds=1)
YEAR = timedelta(days=365)
#: A view's bound on a plausible time to reset (pipeline/reports/views.ts, ADR 0013), in minutes.
MAX_PLAUSIBLE_TTR_MINUTES = 365 * 24 * 60
UNKNOWN_DEVICE = 99
#: Codes the registry does not name, with the class the fleet gives them.
UNNAMED_CODES = {777: "service", 999: "error"}

SPARK_TYPES: dict[str, DataType] = {
    t.simpleString(): t
    for t in (
        StringType(),
        IntegerType(),
        LongType(),
        DoubleType(),
        BooleanType(),
        TimestampType(),
        DateType(),
    )
}


@dataclass(frozen=True)
class CodeName:
    code: int
    alarm_class: str
    name: str


@dataclass
class ViewsLake:
    catalog: str
    warehouse: Path
    job_tables: JobTables
    code_names: dict[int, CodeName]
    companies: list[Row]
    devices: list[Row]
    alarms: list[Row]
    logs: list[Row]
    #: ``analytics.device_versions``: every version of each device, with its interval.
    versions: list[Row]
    #: The readings of variable_logs (its columns but the device and the instant), in order.
    readings: tuple[str, ...]


def register_catalog(spark: SparkSession, name: str, warehouse: Path) -> None:
    """An Iceberg Hadoop catalog ``name`` at ``warehouse``, as ``local_session`` configures
    ``lake`` (a catalog is looked up by name when first used, so it can be added at runtime)."""
    cat = f"spark.sql.catalog.{name}"
    spark.conf.set(cat, "org.apache.iceberg.spark.SparkCatalog")
    spark.conf.set(f"{cat}.type", "hadoop")
    spark.conf.set(f"{cat}.warehouse", warehouse.resolve().as_uri())


def write_table(
    spark: SparkSession, table: str, columns: Sequence[JobColumn], rows: Iterable[Row]
) -> None:
    """``rows`` into a new Iceberg table with the registry's columns, types and NOT NULLs."""
    schema = StructType(
        [StructField(c.name, SPARK_TYPES[c.spark_type], c.nullable) for c in columns]
    )
    data = [tuple(r.get(c.name) for c in columns) for r in rows]
    spark.createDataFrame(data, schema).writeTo(table).using("iceberg").create()


def append_rows(
    spark: SparkSession, table: str, columns: Sequence[JobColumn], rows: Iterable[Row]
) -> None:
    """``rows`` appended to an existing table."""
    schema = StructType(
        [StructField(c.name, SPARK_TYPES[c.spark_type], c.nullable) for c in columns]
    )
    data = [tuple(r.get(c.name) for c in columns) for r in rows]
    spark.createDataFrame(data, schema).writeTo(table).append()


def _fleet(code_names: dict[int, CodeName], rng: random.Random) -> tuple[list[Row], ...]:
    companies: list[Row] = [
        {"id": 1, "name": "Acme Kitchens"},
        {"id": 2, "name": "Bistro Uno"},
        {"id": 3, "name": "Cucina & Co"},
        {"id": 4, "name": "Dormant Ltd"},  # no devices
    ]
    devices: list[Row] = [
        {"id": 10, "id_company": 1, "serial": "SN-010", "model": "M1"},
        {"id": 11, "id_company": 1, "serial": "SN-011", "model": "M2"},
        {"id": 12, "id_company": 1, "serial": "SN-012", "model": "M1"},
        {"id": 20, "id_company": 2, "serial": "SN-020", "model": "M1"},
        {"id": 21, "id_company": 2, "serial": "SN-021", "model": "M3", "id_firmware": 8},
        {"id": 30, "id_company": 3, "serial": "SN-030", "model": "M2"},
    ]
    classes = {c.code: c.alarm_class for c in code_names.values()} | UNNAMED_CODES
    codes = sorted(classes)
    ids = [d["id"] for d in devices] + [UNKNOWN_DEVICE]
    weights = [6, 4, 3, 3, 2, 2, 1]
    alarms = []
    for i in range(360):
        code = rng.choice(codes)
        active = START + timedelta(
            days=rng.randrange(WEEKS * 7),
            seconds=rng.randrange(86_400),
            milliseconds=rng.randrange(1000),
        )
        reset = active + rng.randrange(1000, 3 * 86_400_000) * MS if rng.random() < 0.8 else None
        alarms.append(
            {
                "id": f"a{i:04d}",
                "id_device": rng.choices(ids, weights)[0],
                "code": code,
                # One code raised under two classes: the class is the document's, not the code's.
                "class": "service" if code == 231 and rng.random() < 0.25 else classes[code],
                "active_ts": active,
                "reset_ts": reset,
            }
        )
    day = START + timedelta(days=40, hours=9)
    edges = [
        ("edge-reset-before-active", 10, 205, day, day - timedelta(hours=1)),
        ("edge-reset-in-9999", 11, 231, day, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("edge-reset-year-and-1ms", 20, 101, day, day + YEAR + MS),
        ("edge-reset-exactly-a-year", 20, 101, day, day + YEAR),
        # The last millisecond of a UTC day: its day is that one, whatever the machine's zone.
        ("edge-midnight", 30, 777, datetime(2024, 3, 10, 23, 59, 59, 999000, tzinfo=UTC), None),
        ("edge-unknown-device", UNKNOWN_DEVICE, 999, day, day + timedelta(minutes=5)),
    ]
    for alarm_id, device, code, active, reset in edges:
        alarms.append(
            {
                "id": alarm_id,
                "id_device": device,
                "code": code,
                "class": classes[code],
                "active_ts": active,
                "reset_ts": reset,
            }
        )
    # Open alarms of the device missing from ddc, as many of one class as the company with most
    # open alarms of that class has: a tie whose NULL company must sort last, as in Athena.
    company_of = {d["id"]: d["id_company"] for d in devices}
    open_counts: dict[tuple[int, str], int] = defaultdict(int)
    for a in alarms:
        if a["reset_ts"] is None and a["id_device"] in company_of:
            open_counts[(company_of[a["id_device"]], a["class"])] += 1
    (_, tied_class), n = max(open_counts.items(), key=lambda kv: (kv[1], kv[0]))
    code = min(c for c, k in classes.items() if k == tied_class)
    for i in range(n):
        active = START + timedelta(days=rng.randrange(WEEKS * 7), hours=i)
        alarms.append(
            {
                "id": f"tie{i:02d}",
                "id_device": UNKNOWN_DEVICE,
                "code": code,
                "class": tied_class,
                "active_ts": active,
                "reset_ts": None,
            }
        )
    return companies, devices, alarms


def _logs(readings: Sequence[str], rng: random.Random) -> list[Row]:
    logs: list[Row] = []
    base = START + timedelta(days=30)

    def hour_of(device: int, at: datetime, n: int, **fixed: float | None) -> None:
        for slot in sorted(rng.sample(range(120), n)):
            row: Row = {"id_device": device, "time": at + timedelta(seconds=30 * slot)}
            for r in readings:
                # Multiples of 0.5: sums are exact in any order, so means are too.
                value = None if rng.random() < 0.25 else rng.randrange(500) / 2
                row[r] = fixed.get(r, value)
            logs.append(row)

    for device in (10, 11, 20, 21, UNKNOWN_DEVICE):
        for hour in sorted(rng.sample(range(48), 5)):
            hour_of(device, base + timedelta(hours=hour), rng.randrange(4, 15))
    # No chamber temperature in a whole hour: its mean, minimum and maximum are NULL.
    hour_of(10, base + timedelta(days=3), 6, temp_chamber=None)
    # A row with no reading at all still counts as a sample.
    logs.append({"id_device": 11, "time": base + timedelta(days=3, minutes=7)})
    # Three hours at the same, hottest, mean: ranked by device, then hour.
    for device, hour in ((21, 70), (20, 71), (20, 69)):
        hour_of(device, base + timedelta(hours=hour), 5, temp_chamber=300.0)
    return logs


#: The instant ``fleet_as_of_date`` asks about (pipeline/reports/questions.ts).
AS_OF = datetime(2024, 3, 1, tzinfo=UTC)
#: When the lake read the versions below (their ``recorded_at``).
RECORDED = datetime(2024, 6, 1, tzinfo=UTC)


def _versions(devices: list[Row], columns: Sequence[str]) -> list[Row]:
    """The history ``analytics.device_versions`` holds for the fleet: each device's current
    version (its ``device`` row) and earlier ones placed around :data:`AS_OF`: a model change
    before it, a change of owner at that very instant (the new owner holds it then), a device that
    left ddc before it and one that left after it (owned by a company ddc no longer has), a device
    that joined after it, and a firmware change after it."""

    def at(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]

    def version(device: Row, start: datetime, end: datetime | None) -> Row:
        attributes = {c: device.get(c) for c in columns if c not in ("id_device", *INTERVAL)}
        attributes["mirror"] = device.get("mirror", False)
        return {
            "id_device": device["id"],
            **attributes,
            "valid_from": start,
            "valid_to": end,
            "recorded_at": RECORDED,
        }

    now = {d["id"]: d for d in devices}
    earlier = [
        (now[10] | {"model": "M0"}, at(2023, 6, 1), at(2024, 2, 15, 10)),
        (now[11] | {"id_company": 2}, at(2023, 7, 1), AS_OF),
        (
            {"id": 13, "id_company": 3, "serial": "SN-013", "model": "M2"},
            at(2023, 9, 1),
            at(2024, 2, 20),
        ),
        (
            {"id": 14, "id_company": 9, "serial": "SN-014", "model": "M3"},
            at(2023, 9, 1),
            at(2024, 4, 2),
        ),
        (now[21] | {"id_firmware": 7}, at(2023, 5, 1), at(2024, 4, 1)),
    ]
    since = {10: at(2024, 2, 15, 10), 11: AS_OF, 20: at(2024, 3, 5), 21: at(2024, 4, 1)}
    return [version(d, start, end) for d, start, end in earlier] + [
        version(d, since.get(d["id"], at(2023, 1, 1)), None) for d in devices
    ]


#: The columns a device version adds to the device's attributes.
INTERVAL = ("valid_from", "valid_to", "recorded_at")


def build_views_lake(
    spark: SparkSession, work: Path, job_tables: JobTables, code_names: dict[int, CodeName]
) -> ViewsLake:
    catalog = f"views_{uuid.uuid4().hex[:8]}"
    register_catalog(spark, catalog, work / "warehouse")
    rng = random.Random(20240101)
    companies, devices, alarms = _fleet(code_names, rng)
    logs_spec = job_tables.collection("variable_logs")
    readings = tuple(
        c.name for c in logs_spec.columns if c.name not in ("id_device", logs_spec.timestamp_column)
    )
    logs = _logs(readings, rng)
    for namespace in ("mongodb", "postgres", "analytics"):
        spark.sql(f"CREATE NAMESPACE {catalog}.{namespace}")
    write_table(spark, f"{catalog}.mongodb.alarm", job_tables.collection("alarm").columns, alarms)
    write_table(spark, f"{catalog}.mongodb.variable_logs", logs_spec.columns, logs)
    # The ddc columns the fleet leaves out get plausible values (NOT NULL ones must have one).
    filler: Row = {
        "country": "IT",
        "plan": "basic",
        "mirror": False,
        "created_at": START,
        "updated_at": START,
    }
    for name, rows in (("company", companies), ("device", devices)):
        spec = job_tables.table(name)
        write_table(spark, f"{catalog}.postgres.{name}", spec.columns, [filler | r for r in rows])
    history = job_tables.report("device_versions")
    versions = _versions(devices, history.column_names)
    # Created as the analytics job declares it (a DataFrame's create makes every column nullable,
    # which the job would take for a stale table and rebuild), then filled.
    versions_table = f"{catalog}.analytics.device_versions"
    spark.sql(create_table_sql(versions_table, history))
    append_rows(spark, versions_table, history.columns, versions)
    return ViewsLake(
        catalog,
        work / "warehouse",
        job_tables,
        code_names,
        companies,
        devices,
        alarms,
        logs,
        versions,
        readings,
    )


# ---------------------------------------------------------------------------------------------
# The reference: each view from the lake's rows, in plain Python
# ---------------------------------------------------------------------------------------------


def millis_between(start: datetime, end: datetime) -> int:
    """Whole milliseconds from ``start`` to ``end``, truncated toward zero."""
    micros = (end - start) // timedelta(microseconds=1)
    return micros // 1000 if micros >= 0 else -(-micros // 1000)


def code_label(lake: ViewsLake, code: int) -> str:
    known = lake.code_names.get(code)
    return f"{code} {known.name}" if known else str(code)


def alarms_enriched(lake: ViewsLake) -> list[Row]:
    devices = {d["id"]: d for d in lake.devices}
    companies = {c["id"]: c for c in lake.companies}
    out = []
    for a in lake.alarms:
        device = devices.get(a["id_device"])
        company = companies.get(device["id_company"]) if device else None
        reset = a["reset_ts"]
        ttr = None if reset is None else millis_between(a["active_ts"], reset) / 60_000
        exclusion = None
        if ttr is not None and ttr < 0:
            exclusion = "reset_before_active"
        elif ttr is not None and ttr > MAX_PLAUSIBLE_TTR_MINUTES:
            exclusion = "reset_too_late"
        out.append(
            {
                "alarm_id": a["id"],
                "id_device": a["id_device"],
                "device_serial": device["serial"] if device else None,
                "device_model": device["model"] if device else None,
                "id_company": device["id_company"] if device else None,
                "company_name": company["name"] if company else None,
                "code": a["code"],
                "code_label": code_label(lake, a["code"]),
                "alarm_class": a["class"],
                "active_ts": a["active_ts"],
                "reset_ts": reset,
                "day": a["active_ts"].astimezone(UTC).date(),
                "state": "open" if reset is None else "reset",
                "ttr_minutes": ttr,
                "exclusion": exclusion,
            }
        )
    return out


def alarm_facts(lake: ViewsLake) -> list[Row]:
    """Without ``generated_at``, the query's time (checked apart)."""
    return [
        {k: v for k, v in r.items() if k != "exclusion"}
        for r in alarms_enriched(lake)
        if r["exclusion"] is None
    ]


def open_alarms(lake: ViewsLake) -> list[Row]:
    """Without ``open_hours``, which depends on the query's time (checked apart)."""
    dropped = ("reset_ts", "state", "ttr_minutes", "exclusion")
    return [
        {k: v for k, v in r.items() if k not in dropped}
        for r in alarms_enriched(lake)
        if r["reset_ts"] is None
    ]


def open_hours(active: datetime, now: datetime) -> float:
    return millis_between(active, now) / 3_600_000


def variable_logs_hourly(lake: ViewsLake) -> list[Row]:
    groups: dict[tuple[int, datetime], list[Row]] = defaultdict(list)
    for row in lake.logs:
        at: datetime = row["time"]
        groups[(row["id_device"], at.replace(minute=0, second=0, microsecond=0))].append(row)
    out = []
    for (device, hour), rows in groups.items():
        result: Row = {"id_device": device, "hour": hour, "samples": len(rows)}
        for r in lake.readings:
            values = [row[r] for row in rows if row.get(r) is not None]
            result[f"{r}_avg"] = sum(values) / len(values) if values else None
            result[f"{r}_min"] = min(values) if values else None
            result[f"{r}_max"] = max(values) if values else None
        out.append(result)
    return out


def device_history(lake: ViewsLake) -> list[Row]:
    """Each version with its company's name (today's) and whether it is current."""
    companies = {c["id"]: c["name"] for c in lake.companies}
    return [
        v | {"company_name": companies.get(v["id_company"]), "is_current": v["valid_to"] is None}
        for v in lake.versions
    ]


def monday(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())
