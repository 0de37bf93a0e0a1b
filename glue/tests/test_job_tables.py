"""The job tables' report part: what TypeScript prints, Python accepts, and nothing looser.

The document is the one the TypeScript registry prints (``registry job-tables``), so these tests
are the two sides of the contract; the invalid variants are that document with one thing broken.
No JVM, no database.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from registry_edits import edited

from lakehouse_glue.analytics.alarms_report import (
    ANALYTICS_NAMESPACE,
    DAILY_TABLE,
    EXCLUSIONS,
    TIME_TO_RESET_TABLE,
    excluded_column,
)
from lakehouse_glue.analytics.device_history import VERSIONS_TABLE
from lakehouse_glue.errors import JobTablesError
from lakehouse_glue.job_tables import JOB_TABLES_VERSION, ObjectTag, parse_job_tables


def _report(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in doc["reports"] if r["name"] == name)


def test_the_registry_document_carries_the_report_tables(registry: dict[str, Any]) -> None:
    assert registry["version"] == JOB_TABLES_VERSION
    tables = parse_job_tables(registry)

    # The tables this job computes are the ones the registry declares, in the database it reads.
    assert [r.name for r in tables.reports] == [DAILY_TABLE, TIME_TO_RESET_TABLE, VERSIONS_TABLE]
    assert {r.database for r in tables.reports} == {ANALYTICS_NAMESPACE}
    daily = tables.report(DAILY_TABLE)
    assert daily.column_names == (
        "id_company",
        "company_name",
        "device_model",
        "code",
        "day",
        "alarms",
        "alarms_reset",
        "ttr_p50_seconds",
        "ttr_p90_seconds",
        "excluded_reset_before_active",
        "excluded_reset_too_late",
    )
    day = next(c for c in daily.columns if c.name == "day")
    assert (day.type, day.spark_type, day.nullable) == ("date", "date", False)
    assert next(c for c in daily.columns if c.name == "id_company").nullable
    ttr = tables.report(TIME_TO_RESET_TABLE)
    assert {c.name: c.spark_type for c in ttr.columns}["first_day"] == "date"
    # Each reason the job excludes an implausible alarm for is a count column of both tables.
    for report in (daily, ttr):
        counts = {c.name: (c.spark_type, c.nullable) for c in report.columns}
        assert {excluded_column(r): counts.get(excluded_column(r)) for r in EXCLUSIONS} == {
            excluded_column(r): ("bigint", False) for r in EXCLUSIONS
        }
    # Every Iceberg table of the lake carries the same properties, whoever creates it.
    assert dict(daily.properties) == dict(tables.collections[0].properties) == dict(ttr.properties)
    assert daily.properties["read.parquet.vectorization.enabled"] == "false"
    # Parsed as printed: nothing dropped or renamed on the way.
    for parsed, raw in zip(tables.reports, registry["reports"], strict=True):
        assert [(c.name, c.type, c.spark_type, c.nullable) for c in parsed.columns] == [
            (c["name"], c["type"], c["sparkType"], c["nullable"]) for c in raw["columns"]
        ]


def _broken(registry: dict[str, Any], report: str, **changes: Any) -> dict[str, Any]:
    return edited(registry, lambda doc: _report(doc, report), **changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "alarms_daily; DROP TABLE x"}, "is not a lowercase snake_case name"),
        ({"database": "Analytics"}, r"report alarms_daily\.database: 'Analytics' is not"),
        ({"database": None}, r"report alarms_daily\.database: None is not"),
        ({"columns": []}, "report alarms_daily: no columns"),
        ({"properties": None}, r"report alarms_daily\.properties: expected an object"),
    ],
)
def test_a_broken_report_entry_is_refused_by_name(
    registry: dict[str, Any], changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(JobTablesError, match=message):
        parse_job_tables(_broken(registry, DAILY_TABLE, **changes))


def test_report_columns_are_checked_like_every_column(registry: dict[str, Any]) -> None:
    doc = copy.deepcopy(registry)
    _report(doc, DAILY_TABLE)["columns"][4]["sparkType"] = "decimal(10,2)"
    with pytest.raises(JobTablesError, match=r"report alarms_daily\.day: sparkType 'decimal"):
        parse_job_tables(doc)
    doc = copy.deepcopy(registry)
    columns = _report(doc, DAILY_TABLE)["columns"]
    columns.append(columns[0])
    with pytest.raises(JobTablesError, match="duplicate report alarms_daily column 'id_company'"):
        parse_job_tables(doc)
    # `date` is a report type only: no source table may claim one.
    doc = copy.deepcopy(registry)
    doc["tables"][0]["columns"][0]["sparkType"] = "date"
    with pytest.raises(JobTablesError, match=r"sparkType 'date' is not one of"):
        parse_job_tables(doc)


def test_reports_are_required_unique_and_looked_up_by_name(registry: dict[str, Any]) -> None:
    with pytest.raises(JobTablesError, match="reports: expected a list, got NoneType"):
        parse_job_tables({k: v for k, v in registry.items() if k != "reports"})
    doc = copy.deepcopy(registry)
    doc["reports"].append(_report(doc, DAILY_TABLE))
    with pytest.raises(JobTablesError, match="duplicate report table 'alarms_daily'"):
        parse_job_tables(doc)
    with pytest.raises(JobTablesError, match="unknown report table nope") as caught:
        parse_job_tables(registry).report("nope")
    assert caught.value.table == "nope"


def test_a_document_of_another_version_is_refused(registry: dict[str, Any]) -> None:
    for version in (JOB_TABLES_VERSION - 1, JOB_TABLES_VERSION + 1):
        with pytest.raises(JobTablesError, match=f"version {version} is not supported"):
            parse_job_tables({**registry, "version": version})


# ---------------------------------------------------------------------------------------------
# Version 4: the contracts beside the tables (ADR 0012)
# ---------------------------------------------------------------------------------------------


def test_the_registry_document_carries_the_contracts(registry: dict[str, Any]) -> None:
    tables = parse_job_tables(registry)

    # The payload column: on every collection that has one, and only there.
    assert tables.payload_column == registry["payloadColumn"] == "payload"
    alarm = tables.collection("alarm")
    assert alarm.payload
    assert alarm.payload_column == "payload"
    assert alarm.column("payload").spark_type == "string"
    for collection in tables.collections:
        assert (collection.payload_column is not None) == collection.payload, collection.name
    # The raw key format the worker writes, and the column its device folder makes.
    assert tables.raw_key.template == registry["rawObjects"]["keyTemplate"]
    assert tables.raw_key.partition_column == "idDevice"
    assert all(c.raw_key == tables.raw_key for c in tables.collections)
    # The tag curate puts on the raw objects it has read, which the raw bucket's lifecycle expires.
    tag = registry["rawObjects"]["curatedTag"]
    assert tables.raw_key.curated_tag == ObjectTag(tag["key"], tag["value"])
    # The ledger: the lag the curate job keeps by default, above the worker's statement timeout.
    assert tables.ledger.lag_seconds == registry["ledger"]["lagSeconds"]
    assert tables.ledger.lag_seconds * 1000 > tables.ledger.writer_statement_timeout_ms > 0
    # The postgres tables get the lake's Iceberg properties, like every other table.
    for table in tables.tables:
        assert dict(table.properties) == dict(alarm.properties), table.name
    assert tables.table("device").properties["write.merge.mode"] == "merge-on-read"


def _with(registry: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``registry`` with the value at ``a.b`` replaced (``None``: removed)."""
    doc = copy.deepcopy(registry)
    *parents, key = path.split(".")
    target = doc
    for parent in parents:
        target = target[parent]
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("payloadColumn", None, r"payloadColumn: None is not a lowercase snake_case name"),
        ("payloadColumn", "extra", "collection alarm: has a payload but no nullable string column"),
        ("rawObjects", None, "rawObjects: expected an object"),
        (
            "rawObjects.keyTemplate",
            "{collection}/idDevice={idDevice}/{idDevice}.parquet",
            "must hold each of",
        ),
        ("rawObjects.keyTemplate", "{collection}/idDevice={idDevice}.parquet", "must hold each of"),
        (
            "rawObjects.keyTemplate",
            "{collection}/idDevice={idDevice}/{windowFromMs}.(parquet|orc)",
            "has literal text other than",
        ),
        (
            "rawObjects.keyTemplate",
            "{collection}/device={idDevice}/{windowFromMs}.parquet",
            "has no Hive folder 'idDevice={idDevice}/'",
        ),
        ("rawObjects.partitionColumn", "id-device", "is not a column name"),
        (
            "rawObjects.curatedTag",
            None,
            r"rawObjects\.curatedTag: expected an object, got NoneType",
        ),
        ("rawObjects.curatedTag", "curated", r"rawObjects\.curatedTag: expected an object"),
        ("rawObjects.curatedTag.key", None, r"rawObjects\.curatedTag\.key: expected a string"),
        ("rawObjects.curatedTag.value", 1, r"rawObjects\.curatedTag\.value: expected a string"),
        ("rawObjects.curatedTag.key", "", r"curatedTag\.key: '' is not 1 to 128 characters long"),
        ("rawObjects.curatedTag.key", "k" * 129, r"curatedTag\.key: 'k+' is not 1 to 128"),
        (
            "rawObjects.curatedTag.key",
            "lakehouse#curated",
            r"rawObjects\.curatedTag\.key: 'lakehouse#curated' has characters other than",
        ),
        ("rawObjects.curatedTag.value", "yes!", r"curatedTag\.value: 'yes!' has characters other"),
        ("rawObjects.curatedTag.key", "aws:curated", r"curatedTag\.key: 'aws:curated' starts with"),
        ("rawObjects.curatedTag.key", "AWS:curated", "starts with 'aws:', which AWS reserves"),
        ("rawObjects.curatedTag.value", "v" * 257, r"curatedTag\.value: 'v+' is not 0 to 256"),
        ("ledger", None, "ledger: expected an object"),
        ("ledger.lagSeconds", "120", r"ledger\.lagSeconds: expected an integer, got '120'"),
        ("ledger.lagSeconds", True, r"ledger\.lagSeconds: expected an integer, got True"),
        ("ledger.lagSeconds", 20, "ledger.lagSeconds of 20 s is not above the worker's statement"),
        ("ledger.writerStatementTimeoutMs", 120_000, "of 120 s is not above"),
        ("ledger.writerStatementTimeoutMs", 0, "writerStatementTimeoutMs must be positive"),
    ],
)
def test_a_broken_contract_is_refused_by_name(
    registry: dict[str, Any], path: str, value: Any, message: str
) -> None:
    with pytest.raises(JobTablesError, match=message):
        parse_job_tables(_with(registry, path, value))


def test_a_curated_tag_takes_what_s3_takes(registry: dict[str, Any]) -> None:
    """Every character S3 allows in a tag, at its longest; an empty value is a tag too."""
    key = ("aws-not-first: +-=._:/@ Tag9" * 5)[:128]
    for value in ("", "v" * 256, "true", "a b+c-d=e.f_g:h/i@j"):
        doc = _with(
            _with(registry, "rawObjects.curatedTag.key", key), "rawObjects.curatedTag.value", value
        )
        assert parse_job_tables(doc).raw_key.curated_tag == ObjectTag(key, value)


def test_postgres_table_properties_are_required(registry: dict[str, Any]) -> None:
    doc = copy.deepcopy(registry)
    doc["tables"][0].pop("properties")
    name = doc["tables"][0]["name"]
    with pytest.raises(JobTablesError, match=rf"table {name}\.properties: expected an object"):
        parse_job_tables(doc)


# ---------------------------------------------------------------------------------------------
# Version 5: what the curated day counts and the merge need per collection
# ---------------------------------------------------------------------------------------------


def _collection(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in doc["collections"] if c["name"] == name)


def test_the_registry_document_carries_cells_and_matched_updates(registry: dict[str, Any]) -> None:
    tables = parse_job_tables(registry)
    logs = tables.collection("variable_logs")
    # The variable columns: every column but the row's device and instant (no payload).
    assert logs.cell_columns == tuple(
        c.name for c in logs.columns if c.name not in ("id_device", logs.timestamp_column)
    )
    assert len(logs.cell_columns) == 12
    assert all(logs.column(c).spark_type == "double" for c in logs.cell_columns)
    # Documents that change (alarm) and pivoted rows a late reading fills update on a match.
    assert {c.name for c in tables.collections if c.update_matched} == {"alarm", "variable_logs"}
    for collection in tables.collections:
        if collection.name != "variable_logs":
            assert collection.cell_columns == (), collection.name
    assert [(c.cell_columns, c.update_matched) for c in tables.collections] == [
        (tuple(raw["cellColumns"]), raw["updateMatched"]) for raw in registry["collections"]
    ]


@pytest.mark.parametrize(
    ("name", "changes", "message"),
    [
        ("variable_logs", {"cellColumns": None}, r"variable_logs\.cellColumns: expected a list"),
        ("events", {"cellColumns": ["nope"]}, r"events\.cellColumns: nope not among the columns"),
        ("variable_logs", {"cellColumns": ["time"]}, "time identify a row, they hold no readings"),
        ("events", {"cellColumns": ["payload"]}, "payload identify a row"),
        ("events", {"cellColumns": ["id"]}, "id identify a row"),
        (
            "variable_logs",
            {"cellColumns": ["humidity", "humidity"]},
            "duplicate collection variable_logs cell column 'humidity'",
        ),
        ("events", {"updateMatched": None}, r"events\.updateMatched must be true or false"),
        ("events", {"updateMatched": "yes"}, r"events\.updateMatched must be true or false"),
        ("alarm", {"updateMatched": False}, "updatedColumn reset_ts needs updateMatched"),
    ],
)
def test_a_broken_collection_entry_is_refused_by_name(
    registry: dict[str, Any], name: str, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(JobTablesError, match=message):
        parse_job_tables(edited(registry, lambda doc: _collection(doc, name), **changes))


# ---------------------------------------------------------------------------------------------
# Version 6: the analysts' views in Spark SQL (pipeline/reports/views.ts)
# ---------------------------------------------------------------------------------------------


def _view(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(v for v in doc["views"] if v["name"] == name)


def test_the_registry_document_carries_the_views(registry: dict[str, Any]) -> None:
    tables = parse_job_tables(registry)

    # In creation order: a view after the views it reads.
    assert [v.name for v in tables.views] == [
        "alarms_enriched",
        "alarm_facts",
        "open_alarms",
        "variable_logs_hourly",
        "device_history",
    ]
    assert {v.database for v in tables.views} == {ANALYTICS_NAMESPACE}
    # Parsed as printed: nothing dropped, renamed or reordered on the way.
    for parsed, raw in zip(tables.views, registry["views"], strict=True):
        assert parsed.sql == raw["sql"]
        assert [(c.name, c.type, c.spark_type, c.nullable) for c in parsed.columns] == [
            (c["name"], c["type"], c["sparkType"], c["nullable"]) for c in raw["columns"]
        ]
    # Spark SQL: lake tables relative to the current catalog, views unqualified.
    enriched = tables.view("alarms_enriched")
    assert "FROM mongodb.alarm a" in enriched.sql
    assert "postgres.device" in enriched.sql
    assert "FROM alarms_enriched" in tables.view("alarm_facts").sql
    # Views unqualified; what a view reads in analytics is a report table (device_history).
    every_sql = "".join(v.sql for v in tables.views)
    assert not any(f"analytics.{v.name}" in every_sql for v in tables.views)
    assert "FROM analytics.device_versions v" in tables.view("device_history").sql
    # A registry type is the same Spark type in a view as in a report table.
    spark_type_of = {(c.type, c.spark_type) for r in tables.reports for c in r.columns}
    for view in tables.views:
        for column in view.columns:
            same_type = {s for t, s in spark_type_of if t == column.type}
            assert same_type <= {column.spark_type}, (view.name, column.name)
    # The facts carry every column the report's figures group, filter and count by.
    assert {"alarm_id", "day", "company_name", "code_label", "ttr_minutes"} <= set(
        tables.view("alarm_facts").column_names
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "Alarm Facts"}, r"views\[1\]\.name: 'Alarm Facts' is not a lowercase snake_case"),
        ({"name": None}, r"views\[1\]\.name: None is not"),
        ({"database": "analytics-db"}, r"view alarm_facts\.database: 'analytics-db' is not"),
        ({"sql": ""}, r"view alarm_facts\.sql: expected a non-empty SELECT, got ''"),
        ({"sql": "  \n"}, r"view alarm_facts\.sql: expected a non-empty SELECT"),
        ({"sql": None}, r"view alarm_facts\.sql: expected a non-empty SELECT, got None"),
        ({"columns": []}, "view alarm_facts: no columns"),
        ({"columns": None}, r"view alarm_facts\.columns: expected a list"),
    ],
)
def test_a_broken_view_entry_is_refused_by_name(
    registry: dict[str, Any], changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(JobTablesError, match=message):
        parse_job_tables(edited(registry, lambda doc: _view(doc, "alarm_facts"), **changes))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "TTR minutes"}, r"view alarm_facts\.columns\[\d+\]\.name: 'TTR minutes' is not"),
        ({"sparkType": "float"}, r"view alarm_facts\.ttr_minutes: sparkType 'float' is not one of"),
        ({"sparkType": None}, r"view alarm_facts\.ttr_minutes: sparkType None is not one of"),
        ({"nullable": "yes"}, r"view alarm_facts\.ttr_minutes: nullable must be true or false"),
        ({"type": ""}, r"view alarm_facts\.ttr_minutes\.type: expected a non-empty string"),
    ],
)
def test_view_columns_are_typed(
    registry: dict[str, Any], changes: dict[str, Any], message: str
) -> None:
    def ttr(doc: dict[str, Any]) -> dict[str, Any]:
        columns: list[dict[str, Any]] = _view(doc, "alarm_facts")["columns"]
        return next(c for c in columns if c["name"] == "ttr_minutes")

    with pytest.raises(JobTablesError, match=message) as caught:
        parse_job_tables(edited(registry, ttr, **changes))
    if "nullable" in changes or "sparkType" in changes:
        assert caught.value.table == "alarm_facts"


def test_views_are_required_unique_and_looked_up_by_name(registry: dict[str, Any]) -> None:
    with pytest.raises(JobTablesError, match="views: expected a list, got NoneType"):
        parse_job_tables({k: v for k, v in registry.items() if k != "views"})
    doc = copy.deepcopy(registry)
    doc["views"].append(_view(doc, "open_alarms"))
    with pytest.raises(JobTablesError, match="duplicate view 'open_alarms'"):
        parse_job_tables(doc)
    doc = copy.deepcopy(registry)
    columns = _view(doc, "open_alarms")["columns"]
    columns.append(columns[0])
    with pytest.raises(JobTablesError, match="duplicate view open_alarms column 'alarm_id'"):
        parse_job_tables(doc)

    tables = parse_job_tables(registry)
    assert tables.view("open_alarms").column_names[-1] == "open_hours"
    # A selection keeps the order asked for.
    assert [v.name for v in tables.select_views(["open_alarms", "alarm_facts"])] == [
        "open_alarms",
        "alarm_facts",
    ]
    assert tables.select_views([]) == ()
    with pytest.raises(JobTablesError, match="unknown view nope") as caught:
        tables.select_views(["alarm_facts", "nope"])
    assert caught.value.table == "nope"
    assert "alarms_enriched, alarm_facts" in str(caught.value)
    with pytest.raises(JobTablesError, match="duplicate view name 'alarm_facts'"):
        tables.select_views(["alarm_facts", "alarm_facts"])
