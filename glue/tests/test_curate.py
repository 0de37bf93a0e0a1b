"""``mongodb_curate`` on raw objects the TypeScript worker wrote against the local stack.

One synthetic fleet (own databases, so the TS integration tests never race these) goes through
the real path: snapshot → worker → raw Parquet + ledger → curate. The tests after the first build
on each other in file order (replay, then advance time), as the pipeline's runs do.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lake_helpers import (
    as_utc,
    counts_refused,
    direct_day_counts,
    expected_keys,
    first_row,
    rows,
    stored_day_counts,
    stored_position,
)
from pyspark.sql import SparkSession
from pyspark.sql.types import StructType
from sources import Sources

from lakehouse_glue.curate import (
    CurateSettings,
    DayCountStore,
    JobTables,
    LedgerEntry,
    committed_position,
    compact,
    curate_collection,
    load_job_tables,
    run_curate,
)
from lakehouse_glue.curate.raw_marks import MarkResult
from lakehouse_glue.errors import (
    DayCountsError,
    LedgerPositionError,
    RawObjectMissingError,
    SchemaMismatchError,
)
from lakehouse_glue.jdbc import JdbcSource
from lakehouse_glue.job_tables import parse_job_tables
from lakehouse_glue.spark import DEFAULT_CATALOG

DEVICES, DAYS = 4, 6


@dataclass
class Fleet:
    sources: Sources
    raw_dir: Path
    job_tables: JobTables
    settings: CurateSettings
    ledger: JdbcSource
    #: Alarms made open before the first extraction: (id as curated holds it, device).
    reopened: list[tuple[str, int]]
    #: Their ``_id`` as MongoDB holds it (an ObjectId: a filter on the text matches nothing).
    source_ids: dict[str, Any]
    first_results: dict[str, Any]
    first_contents: dict[str, list[tuple[Any, ...]]]

    def table(self, collection: str) -> str:
        return f"{self.settings.catalog}.{self.settings.namespace}.{collection}"

    def order(self, collection: str) -> str:
        return ", ".join(f"`{k}`" for k in self.job_tables.collection(collection).natural_key)

    def contents(self, spark: SparkSession, collection: str) -> list[tuple[Any, ...]]:
        return rows(spark, self.table(collection), self.order(collection))

    def last_log(self) -> dict[int, datetime]:
        with self.sources.ddc() as conn:
            found = conn.execute("SELECT id, last_log_date FROM device").fetchall()
        return {int(i): as_utc(d) for i, d in found if d is not None}


@pytest.fixture(scope="module")
def fleet(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    sources = Sources()
    sources.create()
    try:
        sources.load(DEVICES, DAYS)
        work = tmp_path_factory.mktemp("curate")
        with sources.mongo() as client, sources.ddc() as ddc:
            db = client[sources.mongo_db]
            reopened = []
            source_ids: dict[str, Any] = {}
            # One reset alarm per device made open again: it is extracted open now, and reset
            # after the clock advances (test_alarm_extracted_open_then_reset_is_one_row).
            for device, mark in ddc.execute(
                "SELECT id, last_log_date FROM device WHERE last_log_date IS NOT NULL ORDER BY id"
            ).fetchall():
                doc = db.alarm.find_one(
                    {"idDevice": int(device), "activeTS": {"$lt": mark}, "resetTS": {"$lt": mark}},
                    sort=[("activeTS", -1)],
                )
                if doc:
                    db.alarm.update_one({"_id": doc["_id"]}, {"$unset": {"resetTS": ""}})
                    reopened.append((str(doc["_id"]), int(device)))
                    source_ids[str(doc["_id"])] = doc["_id"]
        assert reopened, "the snapshot should have reset alarms to reopen"
        raw_dir = work / "raw"
        sources.ingest(raw_dir)
        job_tables = load_job_tables(sources.job_tables(work / "job-tables.json"))
        settings = CurateSettings(
            catalog=DEFAULT_CATALOG,
            raw_root=str(raw_dir),
            namespace=f"mongodb_{uuid.uuid4().hex[:8]}",
            lag_seconds=0,
            # Small on purpose: two commits for most collections, each carrying its position.
            max_files_per_commit=3,
        )
        ledger = JdbcSource(
            sources.jdbc_url(sources.support_db), sources.pg_user, sources.pg_password
        )
        results = run_curate(spark, job_tables, settings, ledger)
        fleet = Fleet(
            sources=sources,
            raw_dir=raw_dir,
            job_tables=job_tables,
            settings=settings,
            ledger=ledger,
            reopened=reopened,
            source_ids=source_ids,
            first_results={r.collection: r for r in results},
            first_contents={},
        )
        fleet.first_contents = {
            c.name: fleet.contents(spark, c.name) for c in job_tables.collections
        }
        yield fleet
    finally:
        sources.drop()


def _curated_keys(spark: SparkSession, fleet: Fleet, collection: str) -> list[Any]:
    key = fleet.job_tables.collection(collection).natural_key
    got = spark.sql(f"SELECT {', '.join(key)} FROM {fleet.table(collection)}").collect()
    if len(key) == 1:
        return [r[0] for r in got]
    return [(int(r[0]), as_utc(r[1])) for r in got]


def test_curated_rows_and_ids_equal_the_source(spark: SparkSession, fleet: Fleet) -> None:
    last_log = fleet.last_log()
    with fleet.sources.mongo() as client:
        db = client[fleet.sources.mongo_db]
        for spec in fleet.job_tables.collections:
            ts_source = spec.column(spec.timestamp_column).source
            want = expected_keys(db, spec.name, ts_source, last_log)
            got = _curated_keys(spark, fleet, spec.name)
            assert len(got) == len(set(got)), f"{spec.name}: duplicate natural keys"
            assert set(got) == want, spec.name
            # Every collection of the fleet has data except the model-specific one.
            assert want or spec.name == "evereo_sess", spec.name
    alarm = fleet.first_results["alarm"]
    assert alarm.commits == -(-alarm.objects // 3)  # max_files_per_commit=3
    assert alarm.position_after > 0
    assert committed_position(spark, fleet.table("alarm")) == alarm.position_after


def _assert_day_counts_match(spark: SparkSession, fleet: Fleet) -> None:
    """Every collection's ``curated_day`` equals a count of its table, up to its position."""
    with fleet.sources.support() as conn:
        for spec in fleet.job_tables.collections:
            table = fleet.table(spec.name)
            direct = direct_day_counts(spark, table, spec)
            assert stored_day_counts(conn, spec.name) == direct, spec.name
            assert stored_position(conn, spec.name) == committed_position(spark, table), spec.name


def test_day_counts_equal_a_count_of_every_table(spark: SparkSession, fleet: Fleet) -> None:
    _assert_day_counts_match(spark, fleet)
    with fleet.sources.support() as conn:
        logs = stored_day_counts(conn, "variable_logs")
    # Readings are what variable_logs counts beside its rows: several per row.
    assert sum(c for _, _, c, _ in logs.values()) > sum(n for n, _, _, _ in logs.values()) > 0
    for spec in fleet.job_tables.collections:
        result = fleet.first_results[spec.name]
        # Days counted after each commit; a day two commits touched is counted twice.
        days = len(direct_day_counts(spark, fleet.table(spec.name), spec))
        assert result.days_counted >= days, spec.name
        assert result.days_recounted == 0, spec.name


def test_curated_tables_have_the_registry_layout(spark: SparkSession, fleet: Fleet) -> None:
    table = fleet.table("alarm")
    schema = {f.name: (f.dataType.simpleString(), f.nullable) for f in spark.table(table).schema}
    spec = fleet.job_tables.collection("alarm")
    assert schema == {c.name: (c.spark_type, c.nullable) for c in spec.columns}
    props = {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
    # Every property Pulumi declares for the table in Glue (the registry's, via job tables).
    assert spec.properties
    assert {k: props.get(k) for k in spec.properties} == dict(spec.properties)
    assert props["write.parquet.compression-codec"] == "zstd"
    assert props["write.target-file-size-bytes"] == str(128 * 1024 * 1024)
    # Row-based reads for any session (Iceberg 1.7.1 + Spark 3.5.4, see lakehouse_glue.spark).
    assert props["read.parquet.vectorization.enabled"] == "false"
    assert props["sort-order"] == "id_device ASC NULLS FIRST, active_ts ASC NULLS FIRST"
    ddl = first_row(spark.sql(f"SHOW CREATE TABLE {table}"))[0]
    # Spark 3.5 prints Iceberg's bucket transform as Hive-style CLUSTERED BY ... INTO n BUCKETS.
    assert "PARTITIONED BY (years(active_ts))\nCLUSTERED BY (id_device)\nINTO 16 BUCKETS" in ddl
    partition = spark.table(f"{table}.partitions").schema["partition"].dataType
    assert isinstance(partition, StructType)
    assert partition.fieldNames() == ["id_device_bucket", "active_ts_year"]
    files = spark.sql(f"SELECT file_path FROM {table}.files").collect()
    assert files
    assert all(f.file_path.endswith(".parquet") for f in files)
    codecs = {
        pq.ParquetFile(f.file_path.removeprefix("file:"))
        .metadata.row_group(0)
        .column(0)
        .compression
        for f in files
    }
    assert codecs == {"ZSTD"}


def test_second_run_changes_nothing(spark: SparkSession, fleet: Fleet) -> None:
    snapshots = {
        c: first_row(spark.sql(f"SELECT count(*) FROM {fleet.table(c)}.snapshots"))[0]
        for c in ("alarm", "events")
    }
    again = run_curate(spark, fleet.job_tables, fleet.settings, fleet.ledger)
    assert all(r.objects == 0 and r.commits == 0 for r in again)
    for spec in fleet.job_tables.collections:
        assert fleet.contents(spark, spec.name) == fleet.first_contents[spec.name], spec.name
    for c, count in snapshots.items():
        assert first_row(spark.sql(f"SELECT count(*) FROM {fleet.table(c)}.snapshots"))[0] == count


def test_every_object_merged_again_adds_no_row(spark: SparkSession, fleet: Fleet) -> None:
    """The position lost (or every object replayed): merging all objects again is a no-op."""
    with fleet.sources.support() as conn:
        found = conn.execute(
            "SELECT id, object_key, collection, id_device, window_from, window_to, rows, bytes "
            "FROM file_ledger WHERE collection IN ('alarm', 'variable_logs', 'events') "
            # In ledger order: the newest extraction of an alarm wins (ADR 0013).
            "ORDER BY id"
        ).fetchall()
    for collection in ("alarm", "variable_logs", "events"):
        position = committed_position(spark, fleet.table(collection))
        entries = [
            LedgerEntry(position + 1 + i, *row[1:])
            for i, row in enumerate(r for r in found if r[2] == collection)
        ]
        # Counted, as the job counts every commit: the tests after this one check the counts.
        result = curate_collection(
            spark,
            fleet.job_tables.collection(collection),
            fleet.settings,
            entries,
            DayCountStore(spark, fleet.ledger),
        )
        assert result.objects == len(entries) > 0
        assert result.added_records == 0
        assert fleet.contents(spark, collection) == fleet.first_contents[collection], collection


def test_objects_rewritten_by_a_retried_worker_are_not_duplicated(
    spark: SparkSession, fleet: Fleet
) -> None:
    device = fleet.reopened[0][1]
    windows = (
        "SELECT object_key, id, window_from, window_to FROM file_ledger "
        "WHERE id_device = %s AND collection = 'events' ORDER BY window_from"
    )
    with fleet.sources.support() as conn:
        before = conn.execute(windows, (device,)).fetchall()
        # The operator's replay: bookmarks moved back, so the worker extracts the same stretch
        # again: a window of its own overwrites its key, a small one goes to a new pack (ADR 0023);
        # either way its ledger row is new, past the curate position.
        conn.execute(
            "DELETE FROM lastts WHERE id_device = %s AND collection IN ('events', 'alarm')",
            (device,),
        )
    fleet.sources.ingest(fleet.raw_dir, "--collections", "events,alarm")
    with fleet.sources.support() as conn:
        after = conn.execute(windows, (device,)).fetchall()
    assert before
    newest = max(row[1] for row in before)
    replayed = [row for row in after if row[1] > newest]
    # The same stretch of the device, extracted again.
    assert (replayed[0][2], replayed[-1][3]) == (before[0][2], before[-1][3])

    results = {
        r.collection: r
        for r in run_curate(
            spark, fleet.job_tables, fleet.settings, fleet.ledger, ["events", "alarm"]
        )
    }
    assert results["events"].ledger_rows > 0
    assert results["events"].objects == len({row[0] for row in replayed})
    assert results["events"].added_records == 0
    for c in ("events", "alarm"):
        assert fleet.contents(spark, c) == fleet.first_contents[c], c
    assert results["events"].days_counted > 0
    _assert_day_counts_match(spark, fleet)


def test_alarm_extracted_open_then_reset_is_one_row(spark: SparkSession, fleet: Fleet) -> None:
    table = fleet.table("alarm")
    ids = [i for i, _ in fleet.reopened]
    quoted = ", ".join(f"'{i}'" for i in ids)
    opened = spark.sql(f"SELECT id, reset_ts FROM {table} WHERE id IN ({quoted})").collect()
    assert sorted(r.id for r in opened) == sorted(ids)
    assert all(r.reset_ts is None for r in opened)

    old_marks = fleet.last_log()
    fleet.sources.cli("snapshot", "advance", "--days", "2")
    new_marks = fleet.last_log()
    resets: dict[str, datetime] = {}
    with fleet.sources.mongo() as client:
        db = client[fleet.sources.mongo_db]
        for alarm_id, device in fleet.reopened:
            old, new = old_marks[device], new_marks.get(device, old_marks[device])
            if new - old < timedelta(minutes=10):
                continue  # a device that stopped reporting keeps its alarm open
            # The reset the worker must pick up: after the bookmark, before the new mark.
            at = (old + timedelta(minutes=7)).replace(microsecond=0)
            done = db.alarm.update_one(
                {"_id": fleet.source_ids[alarm_id]}, {"$set": {"resetTS": at}}
            )
            assert done.matched_count == 1, alarm_id
            resets[alarm_id] = at
        # A field no schema knows yet: the worker folds it into payload, the job keeps it.
        device = next(d for _, d in fleet.reopened if new_marks[d] > old_marks[d])
        drift_id = f"drift-{uuid.uuid4().hex[:8]}"
        db.alarm.insert_one(
            {
                "_id": drift_id,
                "idDevice": device,
                "code": 99,
                "class": "warning",
                "activeTS": old_marks[device] + timedelta(minutes=3),
                "escalation": {"level": 2, "team": "service"},
            }
        )
    assert resets, "at least one device should report after the advance"
    fleet.sources.ingest(fleet.raw_dir, "--collections", "alarm")
    run_curate(spark, fleet.job_tables, fleet.settings, fleet.ledger, ["alarm"])

    got = spark.sql(f"SELECT id, reset_ts FROM {table} WHERE id IN ({quoted})").collect()
    assert len(got) == len(ids)  # one row per alarm, never the open one beside the reset one
    for r in got:
        if r.id in resets:
            assert as_utc(r.reset_ts) == resets[r.id]
    payload = spark.sql(f"SELECT payload, code FROM {table} WHERE id = '{drift_id}'").first()
    assert payload is not None
    assert payload.code == 99
    assert json.loads(payload.payload)["escalation"] == {"level": 2, "team": "service"}

    # Whole table against the source: ids exact; reset_ts exact wherever the reset happened
    # before the device's mark (a later one waits for the next extraction by design).
    with fleet.sources.mongo() as client:
        docs = list(client[fleet.sources.mongo_db].alarm.find({}))
    curated = {r.id: r.reset_ts for r in spark.sql(f"SELECT id, reset_ts FROM {table}").collect()}
    marks = fleet.last_log()
    want = {
        str(d["_id"]): d.get("resetTS")
        for d in docs
        if int(d["idDevice"]) in marks and as_utc(d["activeTS"]) < marks[int(d["idDevice"])]
    }
    assert set(curated) == set(want)
    assert first_row(spark.sql(f"SELECT count(*) FROM {table}"))[0] == len(want)
    for alarm_id, reset in want.items():
        mark = marks[int(next(d["idDevice"] for d in docs if str(d["_id"]) == alarm_id))]
        if reset is None or as_utc(reset) < mark:
            have = curated[alarm_id]
            assert (have and as_utc(have)) == (reset and as_utc(reset)), alarm_id


def test_compaction_keeps_rows_and_position(spark: SparkSession, fleet: Fleet) -> None:
    table = fleet.table("alarm")
    before_rows = fleet.contents(spark, "alarm")
    position = committed_position(spark, table)
    files_before = first_row(spark.sql(f"SELECT count(*) FROM {table}.files"))[0]
    deletes_before = first_row(spark.sql(f"SELECT count(*) FROM {table}.delete_files"))[0]
    assert files_before > 1
    assert deletes_before > 0

    result = compact(spark, table)

    assert result.rewritten_data_files > 0
    assert first_row(spark.sql(f"SELECT count(*) FROM {table}.files"))[0] < files_before
    assert first_row(spark.sql(f"SELECT count(*) FROM {table}.delete_files"))[0] == 0
    assert fleet.contents(spark, "alarm") == before_rows
    # The replace snapshot has no position of its own; the job reads past it.
    assert committed_position(spark, table) == position
    again = run_curate(spark, fleet.job_tables, fleet.settings, fleet.ledger, ["alarm"])
    assert again[0].objects == 0
    assert fleet.contents(spark, "alarm") == before_rows


def test_position_ahead_of_the_ledger_is_refused(spark: SparkSession, fleet: Fleet) -> None:
    spec = fleet.job_tables.collection("alarm")
    position = committed_position(spark, fleet.table("alarm"))
    with pytest.raises(LedgerPositionError, match="support database recreated"):
        curate_collection(spark, spec, fleet.settings, (fleet.ledger, 0, position - 1))


def test_a_run_that_died_before_counting_is_recounted_from_the_ledger(
    spark: SparkSession, fleet: Fleet
) -> None:
    """The job dies after a table's commit, before its day counts (here: the counts' transaction
    fails at its last statement). The next run recounts the days of the ledger rows between the
    counted position and the table's, reading their objects again, before anything else."""
    before = committed_position(spark, fleet.table("events"))
    # The clock advanced in test_alarm_extracted_open_then_reset_is_one_row: new events windows.
    fleet.sources.ingest(fleet.raw_dir, "--collections", "events")
    with counts_refused(fleet.sources), pytest.raises(DayCountsError, match="counts refused"):
        run_curate(spark, fleet.job_tables, fleet.settings, fleet.ledger, ["events"])
    committed = committed_position(spark, fleet.table("events"))
    assert committed > before
    with fleet.sources.support() as conn:
        assert stored_position(conn, "events") == before

    again = run_curate(spark, fleet.job_tables, fleet.settings, fleet.ledger, ["events"])[0]
    assert again.objects == 0
    assert again.days_recounted > 0
    _assert_day_counts_match(spark, fleet)


# --- drift and layout on hand-written raw objects (the TS writer's format, written by pyarrow)

ALARM_RAW = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("id_device", pa.int64(), nullable=False),
    pa.field("code", pa.int32(), nullable=False),
    pa.field("class", pa.string(), nullable=False),
    pa.field("active_ts", pa.timestamp("ms", tz="UTC"), nullable=False),
    pa.field("reset_ts", pa.timestamp("ms", tz="UTC")),
    pa.field("activation_mail", pa.bool_()),
    pa.field("reset_mail", pa.bool_()),
    pa.field("payload", pa.string()),
]


def _write_alarms(
    root: Path,
    device: int,
    start: datetime,
    n: int,
    fields: list[pa.Field],
    extra: dict[str, Any],
    window: datetime | None = None,
) -> str:
    """``n`` alarms of ``device`` from ``start`` (ids from the device and the day) in the object
    of ``window`` (default ``start``): the same alarms can be written into several objects."""
    key = f"alarm/idDevice={device}/{int((window or start).timestamp() * 1000)}.parquet"
    names = {f.name for f in fields}
    values: dict[str, list[Any]] = {
        "id": [f"{device}-{start:%Y%m%d}-{i}" for i in range(n)],
        "id_device": [device] * n,
        "code": [100 + i % 5 for i in range(n)],
        "class": ["error"] * n,
        "active_ts": [start + timedelta(hours=i) for i in range(n)],
        "reset_ts": [start + timedelta(hours=i, minutes=5) for i in range(n)],
        "activation_mail": [True] * n,
        "reset_mail": [None] * n,
        "payload": ['{"origin":"v1"}'] + [None] * (n - 1),
        **{k: [v] * n for k, v in extra.items()},
    }
    columns = {
        # A string field gets text (the "wrong type" case writes code as "100").
        f.name: [None if v is None else str(v) for v in values[f.name]]
        if pa.types.is_string(f.type)
        else values[f.name]
        for f in fields
    }
    table = pa.table(columns, schema=pa.schema(fields))
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="snappy", data_page_version="1.0")
    assert names <= set(values)
    return key


def _entry(key: str, ledger_id: int, device: int) -> LedgerEntry:
    now = datetime.now(UTC)
    return LedgerEntry(ledger_id, key, "alarm", device, now, now, 0, 0)


def test_new_column_in_raw_objects_lands_in_payload(
    spark: SparkSession, fleet: Fleet, tmp_path: Path
) -> None:
    """The worker deployed with a newer schema than the job's table list: its extra column is
    kept in payload, a column it lacks is NULL, and the job does not fail."""
    settings = replace(
        fleet.settings, raw_root=str(tmp_path), namespace=f"drift_{uuid.uuid4().hex[:8]}"
    )
    spec = fleet.job_tables.collection("alarm")
    start = datetime(2024, 3, 1, tzinfo=UTC)
    newer = [f for f in ALARM_RAW if f.name != "reset_mail"] + [
        pa.field("firmware_hint", pa.string())
    ]
    key = _write_alarms(tmp_path, 7, start, 3, newer, {"firmware_hint": "v9"})
    result = curate_collection(spark, spec, settings, [_entry(key, 1, 7)])

    assert result.ignored_columns == ["firmware_hint"]
    got = spark.sql(
        f"SELECT id, payload, reset_mail FROM {DEFAULT_CATALOG}.{settings.namespace}.alarm "
        "ORDER BY id"
    ).collect()
    assert [json.loads(r.payload) for r in got] == [
        {"origin": "v1", "firmware_hint": "v9"},
        {"firmware_hint": "v9"},
        {"firmware_hint": "v9"},
    ]
    assert all(r.reset_mail is None for r in got)

    wrong = [f if f.name != "code" else pa.field("code", pa.string()) for f in ALARM_RAW]
    bad = _write_alarms(tmp_path, 8, start, 1, wrong, {})
    with pytest.raises(SchemaMismatchError, match="code is string"):
        curate_collection(spark, spec, settings, [_entry(bad, 2, 8)])
    with pytest.raises(RawObjectMissingError):
        curate_collection(spark, spec, settings, [_entry("alarm/idDevice=9/1.parquet", 3, 9)])


def _write_pack(root: Path, packs: dict[int, int], start: datetime) -> str:
    """A pack (ADR 0023): ``packs[device]`` alarms of each device, in one object."""
    key = "alarm/packs/20240301T000000000Z-0123456789ab.parquet"
    parts = []
    for device, n in packs.items():
        one = _write_alarms(root, device, start, n, ALARM_RAW, {}, window=datetime(1999, 1, 1))
        parts.append(pq.read_table(root / one))
        (root / one).unlink()
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.concat_tables(parts), path, compression="snappy", data_page_version="1.0")
    return key


def test_a_pack_curates_the_rows_of_the_devices_the_ledger_lists_for_it(
    spark: SparkSession, fleet: Fleet, tmp_path: Path
) -> None:
    """A pack holds several devices' windows, one ledger row each, read beside windows' own
    objects (in ``idDevice=`` folders) in one commit: each listed device's rows once, and none of a
    device the ledger does not list for the pack (a window whose commit was replaced)."""
    settings = replace(
        fleet.settings, raw_root=str(tmp_path), namespace=f"pack_{uuid.uuid4().hex[:8]}"
    )
    spec = fleet.job_tables.collection("alarm")
    start = datetime(2024, 3, 1, tzinfo=UTC)
    pack = _write_pack(tmp_path, {11: 2, 12: 3, 13: 4}, start)
    own = _write_alarms(tmp_path, 14, start, 5, ALARM_RAW, {})
    entries = [_entry(pack, 1, 11), _entry(pack, 2, 12), _entry(own, 3, 14)]
    result = curate_collection(spark, spec, settings, entries)

    assert result.objects == 2
    got = spark.sql(
        f"SELECT id_device, count(*) AS n FROM {DEFAULT_CATALOG}.{settings.namespace}.alarm "
        "GROUP BY id_device ORDER BY id_device"
    ).collect()
    assert [(r.id_device, r.n) for r in got] == [(11, 2), (12, 3), (14, 5)]
    # Device 13's rows are listed later (its ledger row came with a later commit): curated then.
    curate_collection(spark, spec, settings, [*entries, _entry(pack, 4, 13)])
    n13 = spark.sql(
        f"SELECT count(*) FROM {DEFAULT_CATALOG}.{settings.namespace}.alarm WHERE id_device = 13"
    ).collect()[0][0]
    assert n13 == 4


def test_partition_count_stays_bounded_as_devices_grow(
    spark: SparkSession, fleet: Fleet, tmp_path: Path
) -> None:
    settings = replace(
        fleet.settings,
        raw_root=str(tmp_path),
        namespace=f"grow_{uuid.uuid4().hex[:8]}",
        max_files_per_commit=1000,
    )
    spec = fleet.job_tables.collection("alarm")
    table = f"{DEFAULT_CATALOG}.{settings.namespace}.alarm"
    entries: list[LedgerEntry] = []
    counts = []
    for fleet_size in (8, 48, 128):
        for device in range(len({e.id_device for e in entries}) + 1, fleet_size + 1):
            for year in (2023, 2024):
                key = _write_alarms(
                    tmp_path, device, datetime(year, 5, 1, tzinfo=UTC), 2, ALARM_RAW, {}
                )
                entries.append(_entry(key, len(entries) + 1, device))
        curate_collection(spark, spec, settings, entries)
        partitions = first_row(spark.sql(f"SELECT count(*) FROM {table}.partitions"))[0]
        devices = first_row(spark.sql(f"SELECT count(DISTINCT id_device) FROM {table}"))[0]
        counts.append((devices, partitions))
    # 16 device buckets x 2 years, whatever the fleet size; one partition per device would be
    # 128 x 2 = 256 at the end.
    assert [d for d, _ in counts] == [8, 48, 128]
    assert all(p <= 16 * 2 for _, p in counts)
    assert counts[-1][1] == 32


def test_an_alarm_reopened_in_the_source_is_open_again_in_curated(
    spark: SparkSession, registry: dict[str, Any], tmp_path: Path
) -> None:
    """ADR 0013: curated follows the source. The newest extraction of an alarm (highest ledger
    id) is what curated holds, whatever its ``reset_ts``: an alarm reset, then re-opened in the
    source (``resetTS`` removed) and extracted again, is open again, not kept reset by a
    "latest reset wins" rule. Same within one batch, in both directions."""
    spec = parse_job_tables(registry).collection("alarm")
    settings = CurateSettings(
        catalog=DEFAULT_CATALOG,
        raw_root=str(tmp_path),
        namespace=f"reopen_{uuid.uuid4().hex[:8]}",
        lag_seconds=0,
    )
    table = f"{DEFAULT_CATALOG}.{settings.namespace}.alarm"
    device, start = 7, datetime(2024, 6, 1, tzinfo=UTC)

    def resets() -> dict[str, datetime | None]:
        got = spark.sql(f"SELECT id, reset_ts FROM {table}").collect()
        return {r.id: None if r.reset_ts is None else as_utc(r.reset_ts) for r in got}

    def delete_files() -> int:
        return int(first_row(spark.sql(f"SELECT count(*) FROM {table}.delete_files"))[0])

    # Extracted reset.
    key = _write_alarms(tmp_path, device, start, 3, ALARM_RAW, {})
    curate_collection(spark, spec, settings, [_entry(key, 1, device)])
    first = resets()
    assert len(first) == 3
    assert all(v is not None for v in first.values())
    ids = sorted(first)

    # Re-opened in the source, the window extracted again (a replay: same key, new ledger row).
    _write_alarms(tmp_path, device, start, 3, ALARM_RAW, {"reset_ts": None})
    curate_collection(spark, spec, settings, [_entry(key, 2, device)])
    assert resets() == dict.fromkeys(ids)

    # The same state extracted once more changes nothing: no row version, no delete file.
    deletes = delete_files()
    again = curate_collection(spark, spec, settings, [_entry(key, 3, device)])
    assert again.added_records == 0
    assert delete_files() == deletes
    assert resets() == dict.fromkeys(ids)

    # Reset again, later: curated takes the new reset.
    later = start + timedelta(days=2)
    _write_alarms(tmp_path, device, start, 3, ALARM_RAW, {"reset_ts": later})
    curate_collection(spark, spec, settings, [_entry(key, 4, device)])
    assert resets() == dict.fromkeys(ids, later)

    # One batch holding two extractions of the same alarms (two windows): the newer one wins,
    # open after reset ...
    other = start + timedelta(hours=6)
    _write_alarms(tmp_path, device, start, 3, ALARM_RAW, {})
    _write_alarms(tmp_path, device, start, 3, ALARM_RAW, {"reset_ts": None}, window=other)
    key_other = f"alarm/idDevice={device}/{int(other.timestamp() * 1000)}.parquet"
    curate_collection(spark, spec, settings, [_entry(key, 5, device), _entry(key_other, 6, device)])
    assert resets() == dict.fromkeys(ids)
    # ... and reset after open.
    _write_alarms(tmp_path, device, start, 3, ALARM_RAW, {"reset_ts": None})
    _write_alarms(tmp_path, device, start, 3, ALARM_RAW, {"reset_ts": later}, window=other)
    curate_collection(spark, spec, settings, [_entry(key, 7, device), _entry(key_other, 8, device)])
    assert resets() == dict.fromkeys(ids, later)
    assert first_row(spark.sql(f"SELECT count(*) FROM {table}"))[0] == 3


def test_raw_objects_are_marked_once_every_entry_of_the_run_is_committed(
    spark: SparkSession, registry: dict[str, Any], tmp_path: Path
) -> None:
    """The raw bucket's lifecycle expires the objects curate tags (ADR 0024): an object is tagged
    after the commit holding its last ledger entry of the run, never before. A pack's two devices
    fall into two commits here; the pack waits for the second. A tag that fails is counted and
    the run goes on."""
    spec = parse_job_tables(registry).collection("alarm")
    namespace = f"marks_{uuid.uuid4().hex[:8]}"
    table = f"{DEFAULT_CATALOG}.{namespace}.alarm"
    start = datetime(2024, 7, 1, tzinfo=UTC)
    first = _write_alarms(tmp_path, 21, start, 2, ALARM_RAW, {})
    pack = _write_pack(tmp_path, {11: 2, 12: 3}, start)
    second = _write_alarms(tmp_path, 22, start, 1, ALARM_RAW, {})
    third = _write_alarms(tmp_path, 23, start, 1, ALARM_RAW, {})
    entries = [
        _entry(first, 1, 21),
        _entry(pack, 2, 11),
        _entry(pack, 3, 12),
        _entry(second, 4, 22),
        _entry(third, 5, 23),
    ]
    last_id = {e.object_key: e.id for e in entries}
    calls: list[list[str]] = []

    def mark(keys: Sequence[str]) -> MarkResult:
        # Called after the commit: the table's position already covers each object's rows.
        position = committed_position(spark, table)
        assert all(last_id[k] <= position for k in keys), (keys, position)
        calls.append(list(keys))
        refused = int(pack in keys)  # as if S3 refused the pack's tag
        return MarkResult(marked=len(keys) - refused, failed=refused)

    settings = CurateSettings(
        catalog=DEFAULT_CATALOG,
        raw_root=str(tmp_path),
        namespace=namespace,
        lag_seconds=0,
        # Entries 1-2, 3-4, 5: the pack's rows 2 and 3 commit apart.
        max_files_per_commit=2,
        mark_curated=mark,
    )
    result = curate_collection(spark, spec, settings, entries)

    assert calls == [[first], sorted([pack, second]), [third]]
    assert result.commits == 3
    assert (result.objects_marked, result.marks_missing, result.marks_failed) == (3, 0, 1)
    got = spark.sql(f"SELECT id_device, count(*) AS n FROM {table} GROUP BY id_device").collect()
    assert sorted((r.id_device, r.n) for r in got) == [(11, 2), (12, 3), (21, 2), (22, 1), (23, 1)]
    # A rerun has nothing past its position: nothing read, nothing tagged again.
    again = curate_collection(spark, spec, settings, entries)
    assert (again.commits, again.objects_marked) == (0, 0)
    assert len(calls) == 3
