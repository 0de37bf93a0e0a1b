"""The Parquet describer the TypeScript tests trust as an independent reader.

Run as a subprocess, exactly as the TS tests call it, on files written by pyarrow with known
settings, so every reported field is checked against what was actually written.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "parquet_schema.py"

SCHEMA = pa.schema(
    [
        pa.field("idDevice", pa.int64(), nullable=False),
        pa.field("ts", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("code", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("payload", pa.string()),
    ]
)


def _table(n: int) -> pa.Table:
    base = dt.datetime(2024, 2, 29, 23, 59, 59, 123000, tzinfo=dt.UTC)
    return pa.table(
        {
            "idDevice": list(range(1, n + 1)),
            "ts": [base + dt.timedelta(seconds=i) for i in range(n)],
            "code": [None if i == 1 else f"E{i:02d}" for i in range(n)],
            "value": [None if i == 1 else i / 4 for i in range(n)],
            "payload": [None] * n,
        },
        schema=SCHEMA,
    )


def _run(*args: str | Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_describes_schema_types_and_first_rows(tmp_path: Path) -> None:
    path = tmp_path / "alarm.parquet"
    pq.write_table(_table(7), path, compression="snappy", data_page_version="1.0", row_group_size=3)

    [doc] = _run(path)

    assert doc["file"] == str(path)
    assert doc["num_rows"] == 7
    assert doc["num_row_groups"] == 3
    assert doc["compression"] == "SNAPPY"
    assert doc["data_page_versions"] == ["1.0"]
    assert doc["columns"] == [
        {
            "name": "idDevice",
            "arrow_type": "int64",
            "nullable": False,
            "physical_type": "INT64",
            "logical_type": None,
        },
        {
            "name": "ts",
            "arrow_type": "timestamp[ms, tz=UTC]",
            "nullable": False,
            "physical_type": "INT64",
            "logical_type": doc["leaves"][1]["logical_type"],
        },
        {
            "name": "code",
            "arrow_type": "string",
            "nullable": True,
            "physical_type": "BYTE_ARRAY",
            "logical_type": "String",
        },
        {
            "name": "value",
            "arrow_type": "double",
            "nullable": True,
            "physical_type": "DOUBLE",
            "logical_type": None,
        },
        {
            "name": "payload",
            "arrow_type": "string",
            "nullable": True,
            "physical_type": "BYTE_ARRAY",
            "logical_type": "String",
        },
    ]
    ts_logical = doc["leaves"][1]["logical_type"]
    assert ts_logical.startswith("Timestamp(isAdjustedToUTC=true, timeUnit=milliseconds")
    assert [leaf["data_page_version"] for leaf in doc["leaves"]] == ["1.0"] * 5
    assert [leaf["max_definition_level"] for leaf in doc["leaves"]] == [0, 0, 1, 1, 1]
    assert [list(row) for row in doc["rows"]] == [list(SCHEMA.names)] * 5
    assert [list(row.values()) for row in doc["rows"]] == [
        [1, "2024-02-29T23:59:59.123Z", "E00", 0.0, None],
        [2, "2024-03-01T00:00:00.123Z", None, None, None],
        [3, "2024-03-01T00:00:01.123Z", "E02", 0.5, None],
        [4, "2024-03-01T00:00:02.123Z", "E03", 0.75, None],
        [5, "2024-03-01T00:00:03.123Z", "E04", 1.0, None],
    ]


@pytest.mark.parametrize(
    ("written", "reported", "dictionary"),
    [("1.0", "1.0", True), ("2.0", "2.0", True), ("1.0", "1.0", False), ("2.0", "2.0", False)],
)
def test_reports_the_data_page_version_written(
    tmp_path: Path, written: str, reported: str, dictionary: bool
) -> None:
    path = tmp_path / "pages.parquet"
    pq.write_table(
        _table(4), path, data_page_version=written, use_dictionary=dictionary, compression="gzip"
    )

    [doc] = _run(path)

    assert doc["data_page_versions"] == [reported]
    assert {leaf["data_page_version"] for leaf in doc["leaves"]} == {reported}
    assert doc["leaves"][2]["has_dictionary_page"] is dictionary
    assert doc["compression"] == "GZIP"


def test_all_rows_and_one_line_per_file(tmp_path: Path) -> None:
    small, big = tmp_path / "small.parquet", tmp_path / "big.parquet"
    pq.write_table(_table(2), small)
    pq.write_table(_table(12), big)

    docs = _run("--all-rows", small, big)

    assert [d["file"] for d in docs] == [str(small), str(big)]
    assert [len(d["rows"]) for d in docs] == [2, 12]
    assert [r["idDevice"] for r in docs[1]["rows"]] == list(range(1, 13))
    assert docs[1]["rows"][11]["ts"] == "2024-03-01T00:00:10.123Z"


def test_timestamps_keep_their_precision_and_become_utc(tmp_path: Path) -> None:
    path = tmp_path / "ts.parquet"
    ns = pa.array([1_709_251_199_123_456_789, None], pa.timestamp("ns", tz="Europe/Rome"))
    naive_us = pa.array([0, 1], pa.timestamp("us"))
    pq.write_table(
        pa.table({"ns": ns, "us": naive_us, "nan": [float("nan"), 1.5]}),
        path,
        coerce_timestamps=None,
        version="2.6",
    )

    [doc] = _run(path)

    assert doc["rows"] == [
        {"ns": "2024-02-29T23:59:59.123456789Z", "us": "1970-01-01T00:00:00.000000Z", "nan": "nan"},
        {"ns": None, "us": "1970-01-01T00:00:00.000001Z", "nan": 1.5},
    ]


def test_statistics_per_row_group_as_physical_values(tmp_path: Path) -> None:
    path = tmp_path / "stats.parquet"
    ns = pa.array([1_709_251_199_123_456_789, None, -5], pa.timestamp("ns", tz="UTC"))
    pq.write_table(
        pa.table(
            {"ns": ns, "n": [3, None, -7], "s": ["b", "a", None], "none": pa.nulls(3, pa.int32())}
        ),
        path,
        row_group_size=2,
        write_statistics=["ns", "n", "none"],
    )

    [doc] = _run(path)
    stats = {leaf["path"]: leaf["statistics"] for leaf in doc["leaves"]}

    assert stats["ns"] == [
        {"null_count": 1, "min": 1_709_251_199_123_456_789, "max": 1_709_251_199_123_456_789},
        {"null_count": 0, "min": -5, "max": -5},
    ]
    assert stats["n"] == [
        {"null_count": 1, "min": 3, "max": 3},
        {"null_count": 0, "min": -7, "max": -7},
    ]
    assert stats["s"] == [None, None]  # statistics not written for this column
    assert stats["none"] == [
        {"null_count": 2, "min": None, "max": None},
        {"null_count": 1, "min": None, "max": None},
    ]
