"""postgres_extract's pure parts: the registry's table list, JDBC options, errors. No JVM, no DB.

The table list is the one the TypeScript registry prints (``registry job-tables``); the invalid
variants are that document with one thing broken, so each check is seen to fail on its own.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from registry_edits import edited

from lakehouse_glue.errors import (
    GlueJobError,
    JobTablesError,
    SchemaMismatchError,
    SourceShrankError,
    SourceUnavailableError,
    TablesFailedError,
)
from lakehouse_glue.jdbc import (
    JdbcSource,
    as_job_error,
    check_schema,
    jdbc_from_database_url,
    jdbc_url_from_glue_conf,
    partition_options,
    select_sql,
)
from lakehouse_glue.job_tables import (
    JOB_TABLES_VERSION,
    load_job_tables,
    parse_job_tables,
    split_names,
)
from lakehouse_glue.postgres_extract import (
    DEFAULT_MAX_SHRINK_PERCENT,
    ExtractConfig,
    ShrinkGuard,
    changed_condition,
)

REPO = Path(__file__).resolve().parents[2]


def _table(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in doc["tables"] if t["name"] == name)


def test_the_registry_document_parses_into_its_behaviours(registry: dict[str, Any]) -> None:
    tables = parse_job_tables(registry)

    behaviours = {t.name: t.behaviour for t in tables.tables}
    assert behaviours["device"] == "merge"
    assert behaviours["device_recipe_history"] == "append"
    assert behaviours["device_ip_info_history"] == "append"
    assert behaviours["device_recipe"] == "replace"
    assert len(tables.tables) == len(registry["tables"])
    assert len(tables.collections) == len(registry["collections"])
    device = tables.table("device")
    assert device.natural_key == ("id",)
    assert "city" in device.tracked
    assert "id" not in device.tracked
    assert device.column("id_firmware").spark_type == "int"
    assert not device.column("mirror").nullable
    assert tables.table("device_recipe_history").watermark == "id"
    assert [t.name for t in tables.select(["device", "company"])] == ["company", "device"]


def _broken(registry: dict[str, Any], table: str, **changes: Any) -> dict[str, Any]:
    return edited(registry, lambda doc: _table(doc, table), **changes)


@pytest.mark.parametrize(
    ("table", "changes", "message"),
    [
        ("company", {"behaviour": "upsert"}, "behaviour 'upsert' is not one of"),
        ("device_recipe_history", {"watermark": None}, "needs a watermark column"),
        ("device_recipe_history", {"watermark": "name"}, "must be an integer column"),
        ("device", {"tracked": []}, "needs tracked columns"),
        ("device", {"tracked": ["city", "nope"]}, "nope not among the columns"),
        ("company", {"naturalKey": []}, "naturalKey is empty"),
        ("company", {"name": "company; DROP TABLE x"}, "is not a lowercase snake_case name"),
    ],
)
def test_a_broken_table_entry_is_refused_by_name(
    registry: dict[str, Any], table: str, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(JobTablesError, match=message):
        parse_job_tables(_broken(registry, table, **changes))


def test_unknown_version_and_column_types_are_refused(registry: dict[str, Any]) -> None:
    unknown = JOB_TABLES_VERSION + 1
    with pytest.raises(JobTablesError, match=f"version {unknown} is not supported"):
        parse_job_tables({**registry, "version": unknown})
    doc = copy.deepcopy(registry)
    _table(doc, "company")["columns"][0]["sparkType"] = "decimal(10,2)"
    with pytest.raises(JobTablesError, match=r"table company\.id: sparkType 'decimal\(10,2\)'"):
        parse_job_tables(doc)
    doc = copy.deepcopy(registry)
    doc["tables"].append(_table(doc, "company"))
    with pytest.raises(JobTablesError, match="duplicate table 'company'"):
        parse_job_tables(doc)
    with pytest.raises(JobTablesError, match="tables not in the registry's table list: nope"):
        parse_job_tables(registry).select(["company", "nope"])


def test_loads_inline_json_a_file_and_s3(registry: dict[str, Any], tmp_path: Path) -> None:
    text = json.dumps(registry)
    path = tmp_path / "job-tables.json"
    path.write_text(text)
    expected = parse_job_tables(registry)

    assert load_job_tables(text) == expected
    assert load_job_tables(str(path)) == expected
    with pytest.raises(JobTablesError, match="does not exist"):
        load_job_tables(str(tmp_path / "missing.json"))
    with pytest.raises(JobTablesError, match="not valid JSON"):
        load_job_tables("{nope")

    # How Glue receives it: an object in S3 (moto here, via AWS_ENDPOINT_URL).
    if not os.environ.get("AWS_ENDPOINT_URL"):
        pytest.fail("AWS_ENDPOINT_URL is not set: run through scripts/test.sh")
    import boto3

    bucket = f"job-tables-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3")
    s3.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": os.environ.get("AWS_REGION", "eu-west-1")},
    )
    s3.put_object(Bucket=bucket, Key="glue/job-tables.json", Body=text.encode())
    assert load_job_tables(f"s3://{bucket}/glue/job-tables.json") == expected


def test_split_names() -> None:
    assert split_names(None) is None
    assert split_names("") is None
    assert split_names(" company , device ,") == ("company", "device")


@pytest.mark.parametrize(
    ("lower", "upper", "rows", "cap", "expected"),
    [
        (1, 100, 500, 8, {}),
        (1, 1000, 500, 8, {"lowerBound": "1", "upperBound": "1001", "numPartitions": "2"}),
        (101, 150, 20, 8, {"lowerBound": "101", "upperBound": "151", "numPartitions": "3"}),
        (
            1,
            10_000_000,
            500_000,
            8,
            {"lowerBound": "1", "upperBound": "10000001", "numPartitions": "8"},
        ),
    ],
)
def test_partitioned_reads_split_the_key_range(
    lower: int, upper: int, rows: int, cap: int, expected: dict[str, str]
) -> None:
    options = partition_options("id", lower, upper, rows, cap)
    if expected:
        expected = {"partitionColumn": "id", **expected}
    assert options == expected


def test_select_names_every_registry_column(registry: dict[str, Any]) -> None:
    table = parse_job_tables(registry).table("device_recipe_history")
    source = JdbcSource(url="jdbc:postgresql://h:1/ddc", user="u", password="secret")

    sql = select_sql(source, table, where='"id" > 5')

    assert sql == (
        '(SELECT "id" AS "id", "id_device" AS "id_device", "id_device_recipe" AS '
        '"id_device_recipe", "action" AS "action", "name" AS "name", "recorded_at" AS '
        '"recorded_at" FROM "public"."device_recipe_history" WHERE "id" > 5) AS src'
    )
    assert "secret" not in repr(source)


def test_schema_check_names_every_differing_column(registry: dict[str, Any]) -> None:
    table = parse_job_tables(registry).table("device")
    columns = [(c.name, c.spark_type) for c in table.columns if c.name != "city"]
    columns = [(n, "string" if n == "id_firmware" else t) for n, t in columns]

    with pytest.raises(SchemaMismatchError) as caught:
        check_schema(table, columns)

    message = str(caught.value)
    assert "id_firmware: registry int, source string" in message
    assert "city: missing in the source" in message
    assert "[table=device]" in message


def test_the_merge_condition_is_null_safe_on_every_tracked_column(
    registry: dict[str, Any],
) -> None:
    table = parse_job_tables(registry).table("device")

    condition = changed_condition(table)

    assert condition.startswith("NOT (")
    for column in table.tracked:
        assert f"t.`{column}` <=> s.`{column}`" in condition
    assert "<>" not in condition


def test_database_urls_become_jdbc_settings() -> None:
    assert jdbc_from_database_url("postgres://lake%40x:p%2Fw@127.0.0.1:55432/ddc") == (
        "jdbc:postgresql://127.0.0.1:55432/ddc",
        "lake@x",
        "p/w",
    )
    with pytest.raises(ValueError, match="names no database"):
        jdbc_from_database_url("postgres://u:p@127.0.0.1:5432")
    assert (
        jdbc_url_from_glue_conf({"url": "jdbc:postgresql://db.internal:5432"}, "ddc")
        == "jdbc:postgresql://db.internal:5432/ddc"
    )
    assert (
        jdbc_url_from_glue_conf({"url": "jdbc:postgresql://db.internal:5432/other"}, "ddc")
        == "jdbc:postgresql://db.internal:5432/other"
    )
    assert (
        jdbc_url_from_glue_conf(
            {"url": "jdbc:postgresql://h:1", "fullUrl": "jdbc:postgresql://h:1/x"}, "ddc"
        )
        == "jdbc:postgresql://h:1/x"
    )
    with pytest.raises(ValueError, match="not PostgreSQL"):
        jdbc_url_from_glue_conf({"url": "jdbc:mysql://h:1"}, "ddc")


def test_config_refuses_names_that_would_need_quoting(registry: dict[str, Any]) -> None:
    tables = parse_job_tables(registry)
    source = JdbcSource(url="jdbc:postgresql://h:1/ddc", user="u", password="p")
    with pytest.raises(ValueError, match="catalog"):
        ExtractConfig(source=source, job_tables=tables, catalog="glue-catalog")
    with pytest.raises(ValueError, match="source schema"):
        JdbcSource(url="jdbc:postgresql://h:1/ddc", user="u", password="p", schema="x;y")
    assert ExtractConfig(source=source, job_tables=tables).target("device") == (
        "lake.postgres.device"
    )


def test_errors_keep_their_kind_and_the_summary_is_retryable_only_if_all_are() -> None:
    named = SchemaMismatchError("x", table="company")
    assert as_job_error(named, "other") is named
    unknown = as_job_error(RuntimeError("boom\nmore"), "device")
    assert type(unknown) is GlueJobError
    assert str(unknown) == "GlueJobError: unexpected RuntimeError: boom [table=device] (terminal)"

    transient = TablesFailedError({"a": SourceUnavailableError("down", table="a")})
    mixed = TablesFailedError(
        {"a": SourceUnavailableError("down", table="a"), "b": SchemaMismatchError("x", table="b")}
    )
    assert transient.retryable
    assert not mixed.retryable
    assert "2 table(s) failed (a, b)" in str(mixed)
    assert "b: SchemaMismatchError: x" in str(mixed)


@pytest.mark.parametrize(
    ("lake", "source", "dropped", "refused"),
    [
        (0, 0, 0, False),  # the first run: nothing in the lake to lose
        (10, 0, 10, True),  # the source emptied
        (10, 5, 5, False),  # half: the default bound, included
        (10, 4, 6, True),  # more than half
        (10, 12, 6, True),  # a merge deleting 6 and inserting 8: deletions count
        (10, 10, 0, False),
        (1, 0, 1, True),  # a one-row table going to zero is refused too
    ],
)
def test_the_shrink_guard_refuses_an_empty_or_much_smaller_source(
    lake: int, source: int, dropped: int, refused: bool
) -> None:
    guard = ShrinkGuard()
    assert guard.max_shrink_percent == DEFAULT_MAX_SHRINK_PERCENT == 50
    assert guard.refuses(lake, source, dropped) is refused
    if not refused:
        guard.check("device", "merge", lake, source, dropped)
        return
    with pytest.raises(SourceShrankError) as caught:
        guard.check("device", "merge", lake, source, dropped)
    error = caught.value
    assert not error.retryable
    assert (error.table, error.lake_rows, error.source_rows) == ("device", lake, source)
    assert f"this merge would drop {dropped} of them" in str(error)
    assert "--allow_shrink device" in str(error)
    assert "[table=device]" in str(error)
    # The operator's say-so for that table, and only that one.
    ShrinkGuard(allowed=frozenset({"device"})).check("device", "merge", lake, source, dropped)
    with pytest.raises(SourceShrankError):
        ShrinkGuard(allowed=frozenset({"company"})).check("device", "merge", lake, source, dropped)


def test_the_shrink_bound_is_a_percentage_and_zero_rows_is_always_refused() -> None:
    assert ShrinkGuard(max_shrink_percent=0).refuses(10, 9, 1)
    assert not ShrinkGuard(max_shrink_percent=100).refuses(10, 1, 9)
    assert ShrinkGuard(max_shrink_percent=100).refuses(10, 0, 10)
    for bad in (-1, 101):
        with pytest.raises(ValueError, match="between 0 and 100"):
            ShrinkGuard(max_shrink_percent=bad)
