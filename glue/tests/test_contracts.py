"""The contracts between the TypeScript side and the jobs, checked from both ends (ADR 0012).

Keys are built by TypeScript's own ``rawObjectKey`` (``pipeline/ingest/keys.ts``, run through
tsx) and parsed with the format the job tables carry, as the curate job parses them, in Python
and in Spark; the ledger lag is checked against the statement timeout the same document carries,
and the tag curate puts on raw objects against the one the raw bucket's lifecycle filters on.
The TypeScript side's half is ``tests/unit/job-tables.test.ts``: the document's format, payload
column and timeout are the ones its code uses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as sf
from typescript import typescript_value

from lakehouse_glue.curate import CurateSettings, LedgerEntry
from lakehouse_glue.curate.curate import check_object_keys, ledger_lag
from lakehouse_glue.errors import JobConfigError, SchemaMismatchError
from lakehouse_glue.job_tables import JobTables, ObjectTag, RawObjectKey, parse_job_tables

REPO = Path(__file__).resolve().parents[2]

#: Builds each case's key with the worker's function, as it writes them.
RAW_KEYS_TS = """
import { rawObjectKey } from "./pipeline/ingest/keys.ts";
const cases = JSON.parse(process.env.KEY_CASES);
const keys = cases.map(([collection, idDevice, fromMs]) =>
  rawObjectKey(collection, idDevice, { from: new Date(fromMs), to: new Date(fromMs + 1) }),
);
console.log(JSON.stringify(keys));
"""


@pytest.fixture(scope="module")
def job_tables(registry: dict[str, Any]) -> JobTables:
    return parse_job_tables(registry)


@pytest.fixture(scope="module")
def typescript_keys(job_tables: JobTables) -> list[tuple[RawObjectKey, str]]:
    """(the parts, the key ``rawObjectKey`` built from them): every collection, edge values."""
    cases = [
        RawObjectKey(
            c.name, i * 1000 + 7, int(datetime(2024, 1 + i % 12, 1, tzinfo=UTC).timestamp() * 1000)
        )
        for i, c in enumerate(job_tables.collections)
    ] + [
        RawObjectKey("alarm", 0, 0),
        RawObjectKey("sd_variables", 2**31 - 1, 4_102_444_799_999),
    ]
    out = subprocess.run(
        [
            "bash",
            "-c",
            "source scripts/stack.env && require_project_node && exec node --import tsx "
            '--input-type=module -e "$1"',
            "raw-keys",
            RAW_KEYS_TS,
        ],
        cwd=REPO,
        env={
            **os.environ,
            "KEY_CASES": json.dumps([[c.collection, c.id_device, c.window_from_ms] for c in cases]),
        },
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    keys = json.loads(out.strip().splitlines()[-1])
    assert len(keys) == len(cases)
    return list(zip(cases, keys, strict=True))


def test_python_parses_the_keys_typescript_writes(
    job_tables: JobTables, typescript_keys: list[tuple[RawObjectKey, str]]
) -> None:
    for parts, key in typescript_keys:
        assert job_tables.raw_key.parse(key) == parts, key
        # As curate finds a row's object: the key at the end of the file's URI.
        for root in ("s3://raw-bucket/", "file:/tmp/lake/raw/"):
            found = re.search(job_tables.raw_key.suffix_pattern, root + key)
            assert found is not None, key
            assert found.group(1) == key
    # The Hive folder is the partition column Spark may add to rows read from it.
    assert all(
        f"/{job_tables.raw_key.partition_column}={p.id_device}/" in k for p, k in typescript_keys
    )


@pytest.mark.parametrize(
    "key",
    [
        "_quarantine/alarm/idDevice=1/1704067200000/doc.json",
        "alarm/idDevice=1/untimed/doc.json",
        "alarm/idDevice=x/1.parquet",
        "alarm/device=1/1.parquet",
        "Alarm/idDevice=1/1.parquet",
        "alarm/idDevice=1/-1.parquet",
        "alarm/idDevice=1/1.parquet.tmp",
        # Not packs either (ADR 0023): the id's form, the folder's name, a temp file.
        "alarm/packs/x.parquet",
        "alarm/packs/20240101T000000000Z-abc.parquet",
        "alarm/packs/20240101T000000000Z-0123456789AB.parquet",
        "alarm/packs/20240101T000000000Z-0123456789ab.parquet.tmp",
        "alarm/pack/20240101T000000000Z-0123456789ab.parquet",
    ],
)
def test_other_keys_are_not_raw_objects(job_tables: JobTables, key: str) -> None:
    assert job_tables.raw_key.parse(key) is None
    assert job_tables.raw_key.parse_pack(key) is None
    assert re.search(job_tables.raw_key.suffix_pattern, key) is None


def test_spark_finds_the_keys_with_the_same_pattern(
    spark: SparkSession, job_tables: JobTables, typescript_keys: list[tuple[RawObjectKey, str]]
) -> None:
    """The pattern is also a Java regex: Spark's ``regexp_extract`` finds the same keys."""
    keys = [key for _, key in typescript_keys]
    paths = spark.createDataFrame([(f"s3://raw-bucket/{k}",) for k in keys], "path STRING")
    found = paths.select(
        sf.regexp_extract("path", job_tables.raw_key.suffix_pattern, 1).alias("key")
    ).collect()
    assert [r.key for r in found] == keys


def _entry(key: str, device: int, collection: str = "alarm") -> LedgerEntry:
    now = datetime.now(UTC)
    return LedgerEntry(1, key, collection, device, now, now, 1, 1)


def test_curate_refuses_a_ledger_key_outside_the_format(
    job_tables: JobTables, typescript_keys: list[tuple[RawObjectKey, str]]
) -> None:
    """A row whose key the job cannot find in its objects' paths would be dropped silently."""
    alarm = job_tables.collection("alarm")
    good = [_entry(k, p.id_device) for p, k in typescript_keys if p.collection == "alarm"]
    check_object_keys(alarm, good)
    for key, device in (("alarm/device=7/1.parquet", 7), ("alarm/idDevice=8/1.parquet", 7)):
        with pytest.raises(SchemaMismatchError, match=r"ledger row 1: object key") as caught:
            check_object_keys(alarm, [_entry(key, device)])
        assert caught.value.table == "alarm"


#: Pack keys built with the worker's functions, at edge times (ADR 0023).
PACK_KEYS_TS = """
import { newPackId, rawPackKey } from "./pipeline/ingest/keys.ts";
const cases = JSON.parse(process.env.PACK_CASES);
console.log(JSON.stringify(cases.map(([c, ms]) => rawPackKey(c, newPackId(new Date(ms))))));
"""


@pytest.fixture(scope="module")
def typescript_pack_keys(job_tables: JobTables) -> list[tuple[str, str]]:
    """(collection, the key ``rawPackKey`` built): every collection, edge times."""
    cases = [(c.name, 1_704_067_200_000 + i) for i, c in enumerate(job_tables.collections)]
    cases += [("alarm", 0), ("sd_variables", 4_102_444_799_999)]
    keys = typescript_value(PACK_KEYS_TS, {"PACK_CASES": json.dumps(cases)})
    return [(c, k) for (c, _), k in zip(cases, keys, strict=True)]


def test_python_and_spark_read_the_pack_keys_typescript_writes(
    spark: SparkSession, job_tables: JobTables, typescript_pack_keys: list[tuple[str, str]]
) -> None:
    raw_key = job_tables.raw_key
    for collection, key in typescript_pack_keys:
        assert raw_key.parse_pack(key) == collection, key
        # Not a window's key: a pack names no device.
        assert raw_key.parse(key) is None
        found = re.search(raw_key.suffix_pattern, "s3://raw-bucket/" + key)
        assert found is not None
        assert found.group(1) == key
    keys = [k for _, k in typescript_pack_keys]
    paths = spark.createDataFrame([(f"file:/tmp/raw/{k}",) for k in keys], "path STRING")
    found_in_spark = paths.select(
        sf.regexp_extract("path", raw_key.suffix_pattern, 1).alias("key")
    ).collect()
    assert [r.key for r in found_in_spark] == keys


def test_curate_takes_a_pack_of_the_collection_for_any_of_its_devices(
    job_tables: JobTables, typescript_pack_keys: list[tuple[str, str]]
) -> None:
    alarm = job_tables.collection("alarm")
    pack = next(k for c, k in typescript_pack_keys if c == "alarm")
    check_object_keys(alarm, [_entry(pack, 7), _entry(pack, 8), _entry(pack, 2**40)])
    other = next(k for c, k in typescript_pack_keys if c == "events")
    with pytest.raises(SchemaMismatchError, match=r"neither"):
        check_object_keys(alarm, [_entry(other, 7)])


def test_curate_tags_raw_objects_with_the_tag_the_lifecycle_expires(job_tables: JobTables) -> None:
    """The job tables TypeScript prints parse (``job_tables``), and the tag curate puts on the raw
    objects it has read is ``RAW_CURATED_TAG``, the one the raw bucket's lifecycle filters on."""
    tag = typescript_value(
        'import { RAW_CURATED_TAG } from "./pipeline/ingest/keys.ts";'
        "console.log(JSON.stringify(RAW_CURATED_TAG));"
    )
    assert job_tables.raw_key.curated_tag == ObjectTag(tag["key"], tag["value"])


def test_the_ledger_lag_must_exceed_the_workers_statement_timeout(job_tables: JobTables) -> None:
    timeout_s = job_tables.ledger.writer_statement_timeout_ms // 1000
    settings = CurateSettings(catalog="lake", raw_root="/raw")
    assert ledger_lag(job_tables, settings) == job_tables.ledger.lag_seconds
    for lag in (0, timeout_s + 1, 3600):
        assert ledger_lag(job_tables, CurateSettings("lake", "/raw", lag_seconds=lag)) == lag
    for lag in (1, timeout_s):
        with pytest.raises(JobConfigError, match="not above the worker's statement timeout"):
            ledger_lag(job_tables, CurateSettings("lake", "/raw", lag_seconds=lag))


#: The Alarms report's datasets and the columns its visuals and filters read, from TypeScript.
REPORT_TS = """
import { alarmsReport, fieldsOf } from "./pipeline/reports/index.ts";
console.log(JSON.stringify({
  views: alarmsReport.datasets.map((d) => d.view.name),
  visuals: alarmsReport.visuals.map((v) => ({ view: v.dataset.view.name, fields: fieldsOf(v) })),
  filters: alarmsReport.filters.map((f) => f.field),
}));
"""


def test_the_dashboard_views_are_views_the_job_creates(job_tables: JobTables) -> None:
    """``local/cli/glue-jobs.ts`` passes the report's datasets as ``--dashboard-views``: each is a
    view of the job tables, and every column the dashboard reads is one the file carries."""
    report = typescript_value(REPORT_TS)
    views = job_tables.select_views(report["views"])
    assert [v.name for v in views] == ["alarm_facts", "open_alarms"]
    for visual in report["visuals"]:
        assert visual["view"] in report["views"]
        columns = job_tables.view(visual["view"]).column_names
        assert set(visual["fields"]) <= set(columns), visual
    for field in report["filters"]:
        assert any(field in v.column_names for v in views), field


def test_the_curate_job_waits_for_a_resuming_support_database_as_long_as_the_functions() -> None:
    """A paused Aurora Serverless support database resumes on the first connection (ADR 0021):
    the job's ledger connection and the functions' pools give it the same time."""
    from lakehouse_glue.curate.file_ledger import SUPPORT_CONNECT_TIMEOUT_S, support_source
    from lakehouse_glue.jdbc import base_options

    functions_ms = typescript_value(
        'import { SUPPORT_CONNECT_TIMEOUT_MS } from "./pipeline/support/client.ts";'
        "console.log(JSON.stringify(SUPPORT_CONNECT_TIMEOUT_MS));"
    )
    assert functions_ms == SUPPORT_CONNECT_TIMEOUT_S * 1000
    # Resuming takes about 15 s and longer after a day paused: the wait covers it twice over.
    assert SUPPORT_CONNECT_TIMEOUT_S >= 30
    options = base_options(support_source("jdbc:postgresql://db:5432/support", "curate", "secret"))
    assert options["connectTimeout"] == str(SUPPORT_CONNECT_TIMEOUT_S)
