"""postgres_extract against the real local PostgreSQL, local Spark and a local Iceberg catalog.

The source is a database of its own (``ddc_extract_test``, 5 devices x 5 days of the synthetic
snapshot), so these tests never race the TypeScript integration tests on ``ddc``. Each test
writes to its own lake namespace and compares the lake with the source as it is at that moment,
read independently through psycopg, so the tests do not depend on their order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import glue_stubs
import psycopg
import pytest
from lake_helpers import first_row
from moto_secrets import MotoSecrets, secret_from_database_url
from pyspark.sql import SparkSession
from pyspark.sql import functions as F  # noqa: N812 - PySpark's own convention

from lakehouse_glue.entry import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, main
from lakehouse_glue.errors import (
    SchemaMismatchError,
    SourceShrankError,
    SourceTableMissingError,
    SourceUnavailableError,
    TablesFailedError,
)
from lakehouse_glue.jdbc import JdbcSource, jdbc_from_database_url
from lakehouse_glue.job_tables import JobTable, JobTables, parse_job_tables
from lakehouse_glue.postgres_extract import (
    WATERMARK_TO_PROPERTY,
    ExtractConfig,
    ShrinkGuard,
    TableResult,
    append_increment,
    commit_increment,
    current_snapshot,
    plan_increment,
    read_increment,
    run,
)
from lakehouse_glue.spark import DEFAULT_CATALOG

REPO = Path(__file__).resolve().parents[2]
LAKEHOUSE = REPO / "scripts" / "lakehouse.sh"
TEST_DB = "ddc_extract_test"
TEST_MONGO_DB = "iot_extract_test"


@dataclass(frozen=True)
class Source:
    """The test's own source database: its URL for the snapshot CLI, JDBC for the job."""

    database_url: str
    jdbc: JdbcSource

    def sql(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description else []

    def snapshot_cli(self, *args: str) -> None:
        env = {**os.environ, "DDC_DATABASE_URL": self.database_url}
        env["MONGODB_DATABASE"] = TEST_MONGO_DB
        subprocess.run(
            ["bash", str(LAKEHOUSE), "snapshot", *args],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="module")
def source() -> Iterator[Source]:
    base = os.environ.get("DDC_DATABASE_URL")
    if not base:
        pytest.fail(
            "DDC_DATABASE_URL is not set: run through scripts/test.sh (npm test), or "
            "`source scripts/stack.env` with the local stack started"
        )
    admin = _with_database(base, "postgres")
    url = _with_database(base, TEST_DB)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {TEST_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {TEST_DB}")
    jdbc_url, user, password = jdbc_from_database_url(url)
    src = Source(url, JdbcSource(url=jdbc_url, user=user, password=password))
    src.snapshot_cli("load", "--reset", "--devices", "5", "--days", "5")
    yield src
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {TEST_DB} WITH (FORCE)")
    # The snapshot loader filled MongoDB too; drop that database as well.
    subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            "import { MongoClient } from 'mongodb';"
            "const c = await MongoClient.connect(process.env.MONGODB_URL);"
            f"await c.db('{TEST_MONGO_DB}').dropDatabase(); await c.close();",
        ],
        cwd=REPO,
        check=False,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def job_tables(registry: dict[str, Any]) -> JobTables:
    return parse_job_tables(registry)


@pytest.fixture
def namespace(spark: SparkSession) -> Iterator[str]:
    name = f"postgres_{uuid.uuid4().hex[:8]}"
    yield name
    if spark.sql(f"SHOW NAMESPACES IN {DEFAULT_CATALOG} LIKE '{name}'").count() == 0:
        return
    for row in spark.sql(f"SHOW TABLES IN {DEFAULT_CATALOG}.{name}").collect():
        spark.sql(f"DROP TABLE IF EXISTS {DEFAULT_CATALOG}.{name}.{row.tableName} PURGE")
    spark.sql(f"DROP NAMESPACE {DEFAULT_CATALOG}.{name}")


def _config(
    source: Source, job_tables: JobTables, namespace: str, *tables: str, **source_changes: Any
) -> ExtractConfig:
    return ExtractConfig(
        source=replace(source.jdbc, **source_changes),
        job_tables=job_tables,
        namespace=namespace,
        tables=tables or None,
    )


# ---------------------------------------------------------------------------------------------
# Comparing the lake with the source, row for row
# ---------------------------------------------------------------------------------------------


def _normalise(value: Any) -> Any:
    # psycopg returns timestamptz as aware datetimes; the lake (and pyspark in a UTC process)
    # returns naive UTC ones.
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def source_rows(source: Source, table: JobTable, schema: str = "public") -> list[tuple[Any, ...]]:
    # jsonb as the server's text, which is what the JDBC driver hands Spark.
    cols = ", ".join(f"{c.source}::text" if c.type == "json" else c.source for c in table.columns)
    keys = ", ".join(table.natural_key)
    rows = source.sql(f"SELECT {cols} FROM {schema}.{table.name} ORDER BY {keys}")
    return [tuple(_normalise(v) for v in row) for row in rows]


def lake_rows(
    spark: SparkSession, target: str, table: JobTable, version: int | None = None
) -> list[tuple[Any, ...]]:
    at = "" if version is None else f" VERSION AS OF {version}"
    cols = ", ".join(table.column_names)
    keys = ", ".join(table.natural_key)
    rows = spark.sql(f"SELECT {cols} FROM {target}{at} ORDER BY {keys}").collect()
    return [tuple(row) for row in rows]


def assert_lake_equals_source(
    spark: SparkSession, config: ExtractConfig, source: Source, table: JobTable
) -> None:
    want = source_rows(source, table, config.source.schema)
    got = lake_rows(spark, config.target(table), table)
    assert len(got) == len(want), f"{table.name}: {len(got)} lake rows, {len(want)} source rows"
    assert got == want, f"{table.name}: lake differs from source"


def _ok(results: list[TableResult]) -> dict[str, TableResult]:
    failed = [r for r in results if r.status != "ok"]
    assert not failed, failed
    return {r.table: r for r in results}


def _snapshots(spark: SparkSession, target: str) -> list[Any]:
    return spark.sql(
        f"SELECT snapshot_id, operation, summary FROM {target}.snapshots ORDER BY committed_at"
    ).collect()


# ---------------------------------------------------------------------------------------------
# The whole job: initial load, advance, replay
# ---------------------------------------------------------------------------------------------


def test_a_table_the_job_creates_carries_the_registry_properties(
    spark: SparkSession, source: Source, job_tables: JobTables, namespace: str
) -> None:
    """The job tables' properties (the ones Pulumi declares, ICEBERG_TABLE_PROPERTIES) on a table
    the job creates itself, as locally: merge-on-read, zstd, format 2, row-based reads."""
    config = _config(source, job_tables, namespace, "device")
    device = job_tables.table("device")
    assert device.properties["write.merge.mode"] == "merge-on-read"

    _ok(run(spark, config))

    props = {
        r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES {config.target(device)}").collect()
    }
    assert {k: props.get(k) for k in device.properties} == dict(device.properties)
    assert_lake_equals_source(spark, config, source, device)
    # Merge-on-read: a changed row is a delete file plus the new row, and the lake still equals
    # the source.
    city = f"city-{uuid.uuid4().hex[:8]}"
    source.sql("UPDATE device SET city = %s WHERE id = (SELECT min(id) FROM device)", [city])
    [changed] = _ok(run(spark, config)).values()
    assert changed.rows_written == 1
    assert first_row(spark.sql(f"SELECT count(*) FROM {config.target(device)}.delete_files"))[0]
    assert_lake_equals_source(spark, config, source, device)


def test_initial_load_then_advance_then_replay_match_the_source(
    spark: SparkSession, source: Source, job_tables: JobTables, namespace: str
) -> None:
    config = _config(source, job_tables, namespace)
    device = job_tables.table("device")

    first = _ok(run(spark, config))

    assert set(first) == {t.name for t in job_tables.tables}
    for table in job_tables.tables:
        assert_lake_equals_source(spark, config, source, table)
        assert first[table.name].rows_written == len(source_rows(source, table)) > 0
    device_before = source_rows(source, device)
    device_version = current_snapshot(spark, config.target(device))
    assert device_version is not None
    recipe_ids_before = {r[0] for r in source.sql("SELECT id FROM device_recipe")}
    history_max = {
        name: source.sql(f"SELECT max(id) FROM {name}")[0][0]
        for name in ("device_recipe_history", "device_ip_info_history")
    }

    source.snapshot_cli("advance", "--days", "2")
    second = _ok(run(spark, config))

    for table in job_tables.tables:
        assert_lake_equals_source(spark, config, source, table)
    # advance deletes and re-inserts recipes under new ids: the replace carries exactly those.
    recipe_ids_after = {r[0] for r in source.sql("SELECT id FROM device_recipe")}
    assert recipe_ids_after - recipe_ids_before, "advance re-inserted no recipe"
    assert recipe_ids_before - recipe_ids_after, "advance deleted no recipe"
    # Append tables took only the new rows, and say up to where.
    for name, old_max in history_max.items():
        new_rows = source.sql(f"SELECT count(*), max(id) FROM {name} WHERE id > %s", [old_max])[0]
        assert second[name].rows_written == new_rows[0] > 0
        assert second[name].watermark == new_rows[1]
        last = _snapshots(spark, config.target(name))[-1]
        assert last.operation == "append"
        assert last.summary[WATERMARK_TO_PROPERTY] == str(new_rows[1])
    # The merge changed some devices (advance always forces one to and one from NULL), and time
    # travel to the first run's snapshot returns the devices exactly as they were then.
    device_after = source_rows(source, device)
    changed = [a[0] for a, b in zip(device_before, device_after, strict=True) if a != b]
    assert changed
    assert second["device"].rows_written == len(changed)
    target = config.target(device)
    assert lake_rows(spark, target, device, version=device_version[0]) == device_before

    snapshots_before_replay = {
        t.name: len(_snapshots(spark, config.target(t))) for t in job_tables.tables
    }
    replay = _ok(run(spark, config))

    for table in job_tables.tables:
        assert_lake_equals_source(spark, config, source, table)
    for name in ("device", "device_recipe_history", "device_ip_info_history"):
        # Nothing new: no rows written and no empty commit in the table's history.
        assert replay[name].rows_written == 0
        assert replay[name].snapshot_id is None
        assert len(_snapshots(spark, config.target(name))) == snapshots_before_replay[name]


# ---------------------------------------------------------------------------------------------
# merge: to and from NULL, inserts, deletes, time travel
# ---------------------------------------------------------------------------------------------


def test_merge_captures_changes_to_and_from_null(
    spark: SparkSession, source: Source, job_tables: JobTables, namespace: str
) -> None:
    config = _config(source, job_tables, namespace, "device")
    device = job_tables.table("device")
    target = config.target(device)
    [(to_null,)] = source.sql("SELECT min(id) FROM device WHERE city IS NOT NULL")
    [(from_null,)] = source.sql("SELECT max(id) FROM device WHERE id <> %s", [to_null])
    source.sql("UPDATE device SET cloud_pin = NULL WHERE id = %s", [from_null])
    _ok(run(spark, config))
    before = source_rows(source, device)
    version = current_snapshot(spark, target)
    assert version is not None

    # Only the nullable column changes, updated_at stays: the condition alone must catch it.
    source.sql("UPDATE device SET city = NULL WHERE id = %s", [to_null])
    source.sql("UPDATE device SET cloud_pin = 'PIN-NEW' WHERE id = %s", [from_null])
    [result] = _ok(run(spark, config)).values()

    assert result.rows_written == 2
    assert_lake_equals_source(spark, config, source, device)
    city, pin = device.column_names.index("city"), device.column_names.index("cloud_pin")
    now = {r[0]: r for r in lake_rows(spark, target, device)}
    assert now[to_null][city] is None
    assert now[from_null][pin] == "PIN-NEW"
    then = {r[0]: r for r in lake_rows(spark, target, device, version=version[0])}
    assert then[to_null][city] is not None
    assert then[from_null][pin] is None
    assert lake_rows(spark, target, device, version=version[0]) == before

    # A device that appears and then disappears in the source: inserted, then deleted, and the
    # history still shows it.
    [(new_id,)] = source.sql("SELECT max(id) + 1000 FROM device")
    source.sql(
        "INSERT INTO device SELECT %s, id_company, id_device_group, serial || '-X', model,"
        " id_board_model, board_serial, id_firmware, last_ip, city, connection_kind,"
        " bridge_firm, cloud_pin, mirror, last_log_date, created_at, updated_at"
        " FROM device WHERE id = %s",
        [new_id, to_null],
    )
    [inserted] = _ok(run(spark, config)).values()
    assert inserted.rows_written == 1
    assert_lake_equals_source(spark, config, source, device)
    with_new = inserted.snapshot_id
    source.sql("DELETE FROM device WHERE id = %s", [new_id])
    [deleted] = _ok(run(spark, config)).values()
    assert deleted.rows_written == 1
    assert_lake_equals_source(spark, config, source, device)
    assert new_id in {r[0] for r in lake_rows(spark, target, device, version=with_new)}


def test_a_replace_with_nothing_new_commits_nothing(
    spark: SparkSession, source: Source, job_tables: JobTables, namespace: str
) -> None:
    config = _config(source, job_tables, namespace, "company")
    company = job_tables.table("company")
    target = config.target(company)
    _ok(run(spark, config))
    snapshots = len(_snapshots(spark, target))
    [same] = _ok(run(spark, config)).values()
    assert (same.rows_written, same.snapshot_id) == (0, None)
    assert len(_snapshots(spark, target)) == snapshots

    # One value changed, the row count the same: a real replace.
    [(first,)] = source.sql("SELECT min(id) FROM company")
    source.sql("UPDATE company SET name = name || ' (renamed)' WHERE id = %s", [first])
    [changed] = _ok(run(spark, config)).values()
    assert changed.snapshot_id is not None
    assert len(_snapshots(spark, target)) == snapshots + 1
    assert_lake_equals_source(spark, config, source, company)

    # Another row takes the first one's values (its id stays): a change again.
    [(last,)] = source.sql("SELECT max(id) FROM company")
    source.sql(
        "UPDATE company c SET name = o.name, country = o.country, vat_number = o.vat_number,"
        " plan = o.plan FROM company o WHERE c.id = %s AND o.id = %s",
        [last, first],
    )
    [swapped] = _ok(run(spark, config)).values()
    assert swapped.snapshot_id is not None
    assert_lake_equals_source(spark, config, source, company)


# ---------------------------------------------------------------------------------------------
# snapshot: a concurrent reader never sees an empty table
# ---------------------------------------------------------------------------------------------


def test_reader_never_sees_an_empty_table_during_a_replace(
    spark: SparkSession, source: Source, job_tables: JobTables, namespace: str
) -> None:
    config = _config(source, job_tables, namespace, "device_recipe")
    table = job_tables.table("device_recipe")
    target = config.target(table)
    _ok(run(spark, config))
    [(old_count,)] = source.sql("SELECT count(*) FROM device_recipe")
    [(device_id,)] = source.sql("SELECT min(id_device) FROM device_recipe")
    # What the app does on an edit: delete the device's recipes, insert them again (new ids),
    # here with three more so the reader can tell the versions apart.
    source.sql(
        """
        WITH gone AS (
          DELETE FROM device_recipe WHERE id_device = %(d)s
          RETURNING id_device, name, category, steps, created_at, updated_at
        )
        INSERT INTO device_recipe (id_device, name, category, steps, created_at, updated_at)
        SELECT * FROM gone
        UNION ALL
        SELECT * FROM (SELECT * FROM gone LIMIT 3) AS extra
        """,
        {"d": device_id},
    )
    [(new_count,)] = source.sql("SELECT count(*) FROM device_recipe")
    assert new_count == old_count + 3
    snapshots_before = len(_snapshots(spark, target))

    seen: list[int] = []
    stop = threading.Event()
    failure: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                seen.append(spark.table(target).count())
        except BaseException as error:  # reported by the main thread
            failure.append(error)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    [result] = _ok(run(spark, config)).values()
    # Keep reading a little after the commit so the new version is observed too.
    after = len(seen)
    while len(seen) < after + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=60)

    assert not failure, failure
    assert 0 not in seen
    assert set(seen) <= {old_count, new_count}
    assert seen[0] == old_count
    assert seen[-1] == new_count
    # Old, then new, never back: the switch is one step.
    switch = seen.index(new_count)
    assert all(n == new_count for n in seen[switch:])
    # And it is one Iceberg commit, an overwrite.
    snapshots = _snapshots(spark, target)
    assert len(snapshots) == snapshots_before + 1
    assert snapshots[-1].operation == "overwrite"
    assert snapshots[-1].snapshot_id == result.snapshot_id
    assert_lake_equals_source(spark, config, source, table)


# ---------------------------------------------------------------------------------------------
# append: partitioned reads, crash between write and commit
# ---------------------------------------------------------------------------------------------


def _insert_history(source: Source, rows: int) -> None:
    source.sql(
        "INSERT INTO device_recipe_history (id_device, id_device_recipe, action, name,"
        " recorded_at) SELECT id_device, id_device_recipe, 'update', name,"
        " recorded_at + interval '1 day' FROM device_recipe_history ORDER BY id LIMIT %s",
        [rows],
    )


def test_append_crash_between_write_and_commit_neither_skips_nor_duplicates(
    spark: SparkSession, source: Source, job_tables: JobTables, namespace: str
) -> None:
    # Small ranges so that even this small table is read in parallel partitions.
    config = _config(
        source, job_tables, namespace, "device_recipe_history", partition_rows=20, max_partitions=4
    )
    table = job_tables.table("device_recipe_history")
    target = config.target(table)
    _ok(run(spark, config))
    assert_lake_equals_source(spark, config, source, table)
    committed = current_snapshot(spark, target)
    _insert_history(source, 50)

    # Crash after the data files are being written, before the commit: one partition's task
    # dies on the increment's last row, the others have written their files.
    increment = plan_increment(spark, config.source, table, target)
    assert increment is not None
    df = read_increment(spark, config.source, table, increment)
    assert df.rdd.getNumPartitions() == 3
    doomed = df.withColumn(
        "id",
        F.when(F.col("id") == increment.upper, F.raise_error(F.lit("simulated crash"))).otherwise(
            F.col("id")
        ),
    )
    with pytest.raises(Exception, match="simulated crash"):
        commit_increment(spark, doomed, target, increment)
    assert current_snapshot(spark, target) == committed
    assert first_row(spark.sql(f"SELECT max(id) FROM {target}"))[0] == increment.watermark

    # The rerun reads the same range again: all 50 rows, once.
    [rerun] = _ok(run(spark, config)).values()
    assert rerun.rows_written == 50
    assert_lake_equals_source(spark, config, source, table)

    # Crash right after a commit: the process dies before anything else happens. There is no
    # second step to lose (the watermark is the data), so the next run finds nothing to add.
    _insert_history(source, 7)
    written = append_increment(spark, config.source, table, target)
    assert written.rows_written == 7
    [after_crash] = _ok(run(spark, config)).values()
    assert after_crash.rows_written == 0
    assert after_crash.snapshot_id is None
    assert_lake_equals_source(spark, config, source, table)
    total, distinct = first_row(spark.sql(f"SELECT count(*), count(DISTINCT id) FROM {target}"))
    assert total == distinct


# ---------------------------------------------------------------------------------------------
# Bad input: named errors, other tables untouched, failed status
# ---------------------------------------------------------------------------------------------


def test_bad_source_tables_fail_by_name_and_leave_the_others_intact(
    spark: SparkSession, source: Source, job_tables: JobTables, namespace: str
) -> None:
    names = ("company", "device_group", "company_parameter", "device_profile", "device_settings")
    good = _config(source, job_tables, namespace, *names)
    _ok(run(spark, good))
    versions = {n: current_snapshot(spark, good.target(n)) for n in names}

    # A drifted copy of the source: a retyped column, a dropped column, a NULL where the registry
    # says NOT NULL, a missing table, and one healthy table with a change.
    source.sql("DROP SCHEMA IF EXISTS drift CASCADE")
    source.sql("CREATE SCHEMA drift")
    source.sql(
        "CREATE TABLE drift.company AS SELECT id, name, country, 42 AS vat_number, plan,"
        " created_at, updated_at FROM public.company"
    )
    source.sql("CREATE TABLE drift.device_group AS SELECT * FROM public.device_group")
    source.sql(
        "UPDATE drift.device_group SET name = 'renamed'"
        " WHERE id = (SELECT min(id) FROM drift.device_group)"
    )
    source.sql(
        "CREATE TABLE drift.company_parameter AS SELECT id, id_company, key, updated_at"
        " FROM public.company_parameter"
    )
    source.sql("CREATE TABLE drift.device_profile AS SELECT * FROM public.device_profile")
    source.sql(
        "UPDATE drift.device_profile SET language = NULL"
        " WHERE id = (SELECT min(id) FROM drift.device_profile)"
    )
    drifted = replace(good, source=replace(good.source, schema="drift"))

    with pytest.raises(TablesFailedError) as caught:
        run(spark, drifted)

    error = caught.value
    assert not error.retryable
    assert set(error.failures) == {
        "company",
        "company_parameter",
        "device_profile",
        "device_settings",
    }
    company = error.failures["company"]
    assert isinstance(company, SchemaMismatchError)
    assert "vat_number: registry string, source int" in str(company)
    assert "[table=company]" in str(company)
    assert isinstance(error.failures["company_parameter"], SchemaMismatchError)
    assert '"value" does not exist' in str(error.failures["company_parameter"])
    assert isinstance(error.failures["device_profile"], SchemaMismatchError)
    assert "NOT NULL" in str(error.failures["device_profile"])
    missing = error.failures["device_settings"]
    assert isinstance(missing, SourceTableMissingError)
    assert "device_settings" in str(missing)
    for name in error.failures:
        assert name in str(error)
    results = {r.table: r for r in error.results}
    assert results["device_group"].status == "ok"
    assert results["company"].error_type == "SchemaMismatchError"
    # The healthy table was written from the drifted source; the failed ones kept their data.
    assert_lake_equals_source(spark, drifted, source, job_tables.table("device_group"))
    for name in error.failures:
        assert current_snapshot(spark, good.target(name)) == versions[name]
        assert_lake_equals_source(spark, good, source, job_tables.table(name))
    source.sql("DROP SCHEMA drift CASCADE")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refused_connection_is_retryable_and_names_every_table(
    spark: SparkSession, source: Source, job_tables: JobTables, namespace: str
) -> None:
    url = f"jdbc:postgresql://127.0.0.1:{_closed_port()}/{TEST_DB}"
    config = _config(
        source, job_tables, namespace, "company", "device", "device_ip_info_history", url=url
    )

    with pytest.raises(TablesFailedError) as caught:
        run(spark, config)

    error = caught.value
    assert error.retryable
    assert set(error.failures) == {"company", "device", "device_ip_info_history"}
    for name, failure in error.failures.items():
        assert isinstance(failure, SourceUnavailableError)
        assert f"[table={name}]" in str(failure)
        assert "refused" in str(failure)
        # Nothing was created for a table whose source could not be read.
        assert not spark.catalog.tableExists(config.target(name))


# ---------------------------------------------------------------------------------------------
# The local CLI: one JSON line per table, exit status
# ---------------------------------------------------------------------------------------------


def test_cli_prints_each_table_and_fails_when_one_fails(
    source: Source, registry: dict[str, Any], tmp_path: Path
) -> None:
    data = json.loads(json.dumps(registry))
    company = next(t for t in data["tables"] if t["name"] == "company")
    data["tables"].append({**company, "name": "no_such_table"})
    tables_file = tmp_path / "job-tables.json"
    tables_file.write_text(json.dumps(data))
    env = {**os.environ, "EXTRACT_TEST_DATABASE_URL": source.database_url}

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lakehouse_glue",
            "postgres_extract",
            "--job-tables",
            str(tables_file),
            "--warehouse",
            str(tmp_path / "warehouse"),
            "--database-url-env",
            "EXTRACT_TEST_DATABASE_URL",
            "--tables",
            "company,no_such_table",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert proc.returncode == EXIT_FAILED, proc.stderr[-2000:]
    # One line per table as it finishes, then the run's outcome (lakehouse_glue.entry).
    *lines, outcome = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["table"] for line in lines] == ["company", "no_such_table"]
    assert outcome["ok"] is False
    assert outcome["job"] == "postgres_extract"
    assert outcome["error"] == "TablesFailedError"
    assert not outcome["retryable"]
    [(companies,)] = source.sql("SELECT count(*) FROM company")
    assert lines[0]["status"] == "ok"
    assert lines[0]["rows_written"] == companies
    assert lines[1]["status"] == "failed"
    assert lines[1]["error_type"] == "SourceTableMissingError"
    assert "no_such_table" in lines[1]["error"]
    assert "1 table(s) failed (no_such_table)" in proc.stderr


def test_cli_refuses_a_job_tables_version_it_does_not_know(tmp_path: Path) -> None:
    tables_file = tmp_path / "job-tables.json"
    tables_file.write_text(json.dumps({"version": 99, "collections": [], "tables": []}))

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lakehouse_glue",
            "postgres_extract",
            "--job-tables",
            str(tables_file),
            "--warehouse",
            str(tmp_path / "warehouse"),
            "--jdbc-url",
            "jdbc:postgresql://127.0.0.1:1/ddc",
            "--user",
            "nobody",
            "--password-env",
            "HOME",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert proc.returncode == EXIT_CONFIG
    assert "version 99 is not supported" in proc.stderr
    assert proc.stdout == ""


# ---------------------------------------------------------------------------------------------
# The Glue entry, with stand-ins for the awsglue modules (only Glue has them)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reachable", [True, False])
def test_glue_entry_wires_the_connection_and_commits_only_on_success(
    spark: SparkSession,
    source: Source,
    job_tables: JobTables,
    registry: dict[str, Any],
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
    reachable: bool,
) -> None:
    port = urlsplit(source.database_url).port if reachable else _closed_port()
    # Glue's `url` stops at the port; the entry adds --source_database.
    conf = {
        "url": f"jdbc:postgresql://127.0.0.1:{port}",
        "user": source.jdbc.user,
        "password": source.jdbc.password,
        "vendor": "postgresql",
    }
    glue = glue_stubs.install(monkeypatch, SparkSession.builder.getOrCreate(), conf)
    entry = glue_stubs.load_script("postgres_extract")
    tables = _company_only(registry)
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "postgres_extract.py",
            "--JOB_NAME",
            "postgres-extract-test",
            "--job_tables",
            tables,
            "--connection_name",
            "ddc-connection",
            "--catalog",
            DEFAULT_CATALOG,
            "--namespace",
            namespace,
            "--source_database",
            TEST_DB,
        ],
    )

    if reachable:
        entry.main()
        assert glue.commits == 1
        assert [name for name, _ in glue.inits] == ["postgres-extract-test"]
        config = _config(source, job_tables, namespace)
        assert_lake_equals_source(spark, config, source, job_tables.table("company"))
    else:
        with pytest.raises(TablesFailedError, match=r"company: SourceUnavailableError"):
            entry.main()
        assert glue.commits == 0


def _company_only(registry: dict[str, Any]) -> str:
    return json.dumps(
        {**registry, "tables": [t for t in registry["tables"] if t["name"] == "company"]}
    )


def test_glue_entry_reads_the_secret_and_follows_its_update_without_a_redeploy(
    spark: SparkSession,
    source: Source,
    job_tables: JobTables,
    registry: dict[str, Any],
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
    moto_secrets: MotoSecrets,
) -> None:
    """The cutover's contract, end to end: ``--secret_id`` names a secret in Secrets Manager
    (moto), the one the functions read; the job logs in with it and never with the connection's
    URL (a closed port here). Its first value names a database that does not exist; the second,
    written as a cutover writes one, the source: the next run reads it, nothing redeployed."""
    secret = secret_from_database_url(source.database_url)
    secret_id = moto_secrets.put({**secret, "dbname": f"{TEST_DB}_not_there"})
    conf = {
        "url": f"jdbc:postgresql://127.0.0.1:{_closed_port()}",
        "user": "nobody",
        "password": "nothing",
    }
    glue = glue_stubs.install(monkeypatch, SparkSession.builder.getOrCreate(), conf)
    entry = glue_stubs.load_script("postgres_extract")
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "postgres_extract.py",
            "--JOB_NAME", "postgres-extract-secret-test",
            "--job_tables", _company_only(registry),
            "--connection_name", "ddc-connection",
            "--secret_id", secret_id,
            "--catalog", DEFAULT_CATALOG,
            "--namespace", namespace,
        ],
    )  # fmt: skip

    with pytest.raises(TablesFailedError, match=f"{TEST_DB}_not_there"):
        entry.main()
    assert glue.commits == 0

    moto_secrets.update(secret_id, secret)
    entry.main()

    assert glue.commits == 1
    assert glue.connections_asked == []
    config = _config(source, job_tables, namespace)
    assert_lake_equals_source(spark, config, source, job_tables.table("company"))


def test_local_entry_extracts_with_the_login_of_secret_id(
    spark: SparkSession,
    source: Source,
    job_tables: JobTables,
    registry: dict[str, Any],
    namespace: str,
    moto_secrets: MotoSecrets,
) -> None:
    """``python -m lakehouse_glue postgres_extract --secret-id NAME``, in process on the tests'
    Spark session: the login comes from moto's Secrets Manager, as in Glue."""
    secret_id = moto_secrets.put(secret_from_database_url(source.database_url))
    warehouse = spark.conf.get(f"spark.sql.catalog.{DEFAULT_CATALOG}.warehouse")
    assert warehouse
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(
            [
                "postgres_extract",
                "--job-tables", _company_only(registry),
                "--warehouse", warehouse.removeprefix("file:"),
                "--secret-id", secret_id,
                "--namespace", namespace,
            ]
        )  # fmt: skip

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert status == EXIT_OK, lines
    assert [line.get("table") for line in lines[:-1]] == ["company"]
    assert lines[-1]["ok"] is True
    config = _config(source, job_tables, namespace)
    assert_lake_equals_source(spark, config, source, job_tables.table("company"))


def test_an_emptied_source_table_is_refused_and_the_lake_table_kept(
    spark: SparkSession, source: Source, job_tables: JobTables, namespace: str
) -> None:
    good = _config(source, job_tables, namespace, "company_parameter", "device_group")
    target = good.target("company_parameter")
    _ok(run(spark, good))
    [(lake_rows,)] = source.sql("SELECT count(*) FROM company_parameter")
    source.sql("DROP SCHEMA IF EXISTS emptied CASCADE")
    source.sql("CREATE SCHEMA emptied")
    source.sql("CREATE TABLE emptied.company_parameter (LIKE public.company_parameter)")
    source.sql("CREATE TABLE emptied.device_group AS SELECT * FROM public.device_group")
    emptied = replace(good, source=replace(good.source, schema="emptied"))
    version = current_snapshot(spark, target)
    try:
        with pytest.raises(TablesFailedError) as caught:
            run(spark, emptied)

        # That table's stage fails, named, with the counts and how to force it; the other table
        # is written; the lake table is as it was.
        assert set(caught.value.failures) == {"company_parameter"}
        assert not caught.value.retryable
        error = caught.value.failures["company_parameter"]
        assert isinstance(error, SourceShrankError)
        assert (error.table, error.lake_rows, error.source_rows) == (
            "company_parameter",
            lake_rows,
            0,
        )
        assert "--allow_shrink company_parameter" in str(error)
        assert "company_parameter: SourceShrankError" in str(caught.value)
        assert {r.table: r.status for r in caught.value.results} == {
            "company_parameter": "failed",
            "device_group": "ok",
        }
        assert current_snapshot(spark, good.target("company_parameter")) == version
        assert spark.table(target).count() == lake_rows > 0

        # The operator's say-so: emptied in one commit. The next run compares with the lake as
        # it is now, empty, so it needs no say-so.
        forced = replace(emptied, shrink=ShrinkGuard(allowed=frozenset({"company_parameter"})))
        result = _ok(run(spark, forced))["company_parameter"]
        assert result.snapshot_id is not None
        assert (result.rows_read, result.rows_written) == (0, 0)
        assert spark.table(target).count() == 0
        assert _ok(run(spark, emptied))["company_parameter"].rows_written == 0
    finally:
        source.sql("DROP SCHEMA emptied CASCADE")


@pytest.mark.parametrize(("kept", "refused"), [(40, True), (60, False)])
def test_a_replace_losing_more_than_the_allowed_share_is_refused(
    spark: SparkSession,
    source: Source,
    job_tables: JobTables,
    namespace: str,
    kept: int,
    refused: bool,
) -> None:
    """Default: a replace may drop up to half of the lake table's rows (here: 60 % kept passes,
    40 % kept does not); ``max_shrink_percent`` moves the bound."""
    good = _config(source, job_tables, namespace, "device_recipe")
    target = good.target("device_recipe")
    _ok(run(spark, good))
    [(rows,)] = source.sql("SELECT count(*) FROM device_recipe")
    schema = f"shrunk_{kept}"
    source.sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    source.sql(f"CREATE SCHEMA {schema}")
    source.sql(
        f"CREATE TABLE {schema}.device_recipe AS SELECT * FROM public.device_recipe"
        f" ORDER BY id LIMIT {rows * kept // 100}"
    )
    shrunk = replace(good, source=replace(good.source, schema=schema))
    version = current_snapshot(spark, target)
    try:
        if refused:
            with pytest.raises(TablesFailedError) as caught:
                run(spark, shrunk)
            error = caught.value.failures["device_recipe"]
            assert isinstance(error, SourceShrankError)
            assert "more than the 50 % allowed" in str(error)
            assert current_snapshot(spark, target) == version
            # A looser bound lets the same run through.
            shrunk = replace(shrunk, shrink=ShrinkGuard(max_shrink_percent=80))
        _ok(run(spark, shrunk))
        assert spark.table(target).count() == rows * kept // 100
    finally:
        source.sql(f"DROP SCHEMA {schema} CASCADE")


def test_a_merge_that_would_delete_most_devices_is_refused(
    spark: SparkSession, source: Source, job_tables: JobTables, namespace: str
) -> None:
    good = _config(source, job_tables, namespace, "device")
    target = good.target("device")
    device = job_tables.table("device")
    _ok(run(spark, good))
    [(devices,)] = source.sql("SELECT count(*) FROM device")
    source.sql("DROP SCHEMA IF EXISTS shrunk CASCADE")
    source.sql("CREATE SCHEMA shrunk")
    source.sql("CREATE TABLE shrunk.device AS SELECT * FROM public.device ORDER BY id LIMIT 1")
    shrunk = replace(good, source=replace(good.source, schema="shrunk"))
    version = current_snapshot(spark, target)
    try:
        with pytest.raises(TablesFailedError) as caught:
            run(spark, shrunk)

        error = caught.value.failures["device"]
        assert isinstance(error, SourceShrankError)
        assert (error.lake_rows, error.source_rows) == (devices, 1)
        assert f"this merge would drop {devices - 1} of them" in str(error)
        # No MERGE ran: the devices are all there, and time travel shows no deletion.
        assert current_snapshot(spark, target) == version
        assert_lake_equals_source(spark, good, source, device)

        forced = replace(shrunk, shrink=ShrinkGuard(allowed=frozenset({"device"})))
        assert _ok(run(spark, forced))["device"].rows_written == devices - 1
        assert_lake_equals_source(spark, shrunk, source, device)
    finally:
        source.sql("DROP SCHEMA shrunk CASCADE")


def test_a_renamed_source_table_fails_its_stage_only_and_keeps_the_lake_table(
    spark: SparkSession, source: Source, job_tables: JobTables, namespace: str
) -> None:
    """What an operator saw: a ``ddc`` table renamed. Each behaviour's read names it missing;
    the other tables are written; the lake tables of the renamed ones are untouched."""
    renamed = ("device_recipe", "device", "device_ip_info_history")
    config = _config(source, job_tables, namespace, "company", *renamed)
    _ok(run(spark, config))
    versions = {name: current_snapshot(spark, config.target(name)) for name in renamed}
    for name in renamed:
        source.sql(f"ALTER TABLE {name} RENAME TO {name}_renamed")
    try:
        with pytest.raises(TablesFailedError) as caught:
            run(spark, config)
    finally:
        for name in renamed:
            source.sql(f"ALTER TABLE {name}_renamed RENAME TO {name}")

    assert set(caught.value.failures) == set(renamed)
    for name, error in caught.value.failures.items():
        assert isinstance(error, SourceTableMissingError), error
        assert f"[table={name}]" in str(error)
        assert current_snapshot(spark, config.target(name)) == versions[name]
        assert_lake_equals_source(spark, config, source, job_tables.table(name))
    assert {r.table: r.status for r in caught.value.results}["company"] == "ok"
