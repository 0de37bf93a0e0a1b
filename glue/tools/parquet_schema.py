"""Describe Parquet files as JSON, read by pyarrow: the TypeScript tests' independent reader.

The pipeline writes Parquet with its own encoder (pipeline/lake/parquet/); checking those files
with the same code that wrote them would prove little. Arrow is what Spark, Athena-adjacent tools
and analysts read with, so the TS tests run this CLI on their output and compare types,
nullability, data page version (V1 is required by some Arrow/Spark readers, see docs/design.md
§4), statistics and values.

Usage: python glue/tools/parquet_schema.py [--all-rows] FILE...
Prints one JSON object per file, one per line (JSON Lines), in argument order.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import decimal
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PREVIEW_ROWS = 5

# Parquet PageHeader.type (parquet.thrift): the version of a data page is its header type.
_PAGE_TYPES = {0: "DATA_PAGE", 1: "INDEX_PAGE", 2: "DICTIONARY_PAGE", 3: "DATA_PAGE_V2"}
_DATA_PAGE_VERSION = {"DATA_PAGE": "1.0", "DATA_PAGE_V2": "2.0"}
# Page headers hold statistics (min/max values), so they can be long; beyond this we give up.
_MAX_HEADER_BYTES = 1 << 16
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_UNIT_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}


class _TruncatedError(Exception):
    """The bytes ran out (or are not a page header); internal, never escapes this module."""


class _CompactReader:
    """Just enough of the Thrift compact protocol to read a Parquet ``PageHeader``.

    pyarrow exposes no page headers, and the data page version (V1 or V2) is only recorded there.
    """

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.buf):
            raise _TruncatedError
        self.pos += 1
        return self.buf[self.pos - 1]

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def skip(self, ttype: int) -> None:
        if ttype in (1, 2):  # bool: the value is in the type nibble
            return
        if ttype == 3:
            self.byte()
        elif ttype in (4, 5, 6):
            self.varint()
        elif ttype == 7:
            self.pos += 8
        elif ttype == 8:
            length = self.varint()  # read first: `pos += varint()` would add to the stale pos
            self.pos += length
        elif ttype in (9, 10):
            head = self.byte()
            size = head >> 4 if head >> 4 != 15 else self.varint()
            for _ in range(size):
                self.skip(3 if head & 0x0F in (1, 2) else head & 0x0F)
        elif ttype == 11:
            size = self.varint()
            if size:
                kv = self.byte()
                for _ in range(size):
                    self.skip(kv >> 4)
                    self.skip(kv & 0x0F)
        elif ttype == 12:
            self.struct(frozenset())
        else:
            raise _TruncatedError

    def struct(self, want: frozenset[int]) -> dict[int, int]:
        """Read a struct, returning the i32 fields whose ids are in ``want``, skipping the rest."""
        found: dict[int, int] = {}
        field_id = 0
        while True:
            head = self.byte()
            if head == 0:
                return found
            delta, ttype = head >> 4, head & 0x0F
            field_id = field_id + delta if delta else self.zigzag()
            if field_id in want and ttype == 5:
                found[field_id] = self.zigzag()
            else:
                self.skip(ttype)


def read_page_header(fh: Any, offset: int) -> tuple[str | None, int] | None:
    """(page type, offset of the next page) for the page at ``offset``, or None if unreadable."""
    fh.seek(offset)
    reader = _CompactReader(fh.read(_MAX_HEADER_BYTES))
    try:
        # PageHeader: 1 type, 2 uncompressed_page_size, 3 compressed_page_size (all i32).
        fields = reader.struct(frozenset({1, 3}))
    except _TruncatedError:
        return None
    if reader.pos > len(reader.buf) or 1 not in fields or 3 not in fields:
        return None
    return _PAGE_TYPES.get(fields[1]), offset + reader.pos + fields[3]


def first_data_page_type(fh: Any, chunk: Any) -> str | None:
    """Type of the first data page of a column chunk.

    Starts at ``data_page_offset`` but steps over a dictionary page, because some writers point
    ``data_page_offset`` at the dictionary page instead of setting ``dictionary_page_offset``.
    """
    offset = chunk.data_page_offset
    for _ in range(2):
        header = read_page_header(fh, offset)
        if header is None:
            return None
        page_type, offset = header
        if page_type != "DICTIONARY_PAGE":
            return page_type
    return None


def format_timestamp(value: int, unit: str) -> str:
    """ISO-8601 UTC with exactly the column's precision (ms gives JavaScript's toISOString)."""
    digits = _UNIT_DIGITS[unit]
    seconds, fraction = divmod(value, 10**digits)
    text = (_EPOCH + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += f".{fraction:0{digits}d}"
    return text + "Z"


def to_json_value(value: Any) -> Any:
    """Map Python values from Arrow to JSON without losing them (no NaN, no bare bytes)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf", "-inf": JSON has no literal for them
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    return value


def column_values(column: pa.ChunkedArray) -> list[Any]:
    if pa.types.is_timestamp(column.type):
        # Through int64 so nanoseconds survive (datetime stops at microseconds).
        unit = column.type.unit
        ints = column.cast(pa.int64()).to_pylist()
        return [None if v is None else format_timestamp(v, unit) for v in ints]
    return [to_json_value(v) for v in column.to_pylist()]


def rows_as_json(table: pa.Table) -> list[dict[str, Any]]:
    names = table.column_names
    columns = [column_values(table.column(i)) for i in range(table.num_columns)]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _optional_str(value: Any) -> str | None:
    text = str(value)
    return None if value is None or text in {"None", "NONE"} else text


def describe(path: str, all_rows: bool = False) -> dict[str, Any]:
    pf = pq.ParquetFile(path)
    meta = pf.metadata
    arrow_schema = pf.schema_arrow
    leaves = []
    versions: set[str] = set()
    with open(path, "rb") as fh:
        for j in range(meta.num_columns):
            col = pf.schema.column(j)
            chunk = meta.row_group(0).column(j) if meta.num_row_groups else None
            chunk_versions = [
                _DATA_PAGE_VERSION.get(first_data_page_type(fh, meta.row_group(i).column(j)) or "")
                for i in range(meta.num_row_groups)
            ]
            versions.update(v or "unknown" for v in chunk_versions)
            leaves.append(
                {
                    "path": col.path,
                    "physical_type": col.physical_type,
                    "logical_type": _optional_str(col.logical_type),
                    "converted_type": _optional_str(col.converted_type),
                    "max_definition_level": col.max_definition_level,
                    "max_repetition_level": col.max_repetition_level,
                    "compression": chunk.compression if chunk is not None else None,
                    "encodings": list(chunk.encodings) if chunk is not None else [],
                    "has_dictionary_page": chunk.has_dictionary_page if chunk else False,
                    # Row group 0; "data_page_versions" at file level covers every chunk.
                    "data_page_version": chunk_versions[0] if chunk_versions else None,
                    "statistics": [
                        _statistics(meta.row_group(i).column(j)) for i in range(meta.num_row_groups)
                    ],
                }
            )

    by_path = {leaf["path"]: leaf for leaf in leaves}
    columns = []
    for field in arrow_schema:
        leaf = by_path.get(field.name)  # flat columns only; nested ones have dotted leaf paths
        columns.append(
            {
                "name": field.name,
                "arrow_type": str(field.type),
                "nullable": field.nullable,
                "physical_type": leaf["physical_type"] if leaf else None,
                "logical_type": leaf["logical_type"] if leaf else None,
            }
        )

    table = pf.read() if all_rows else _head(pf, PREVIEW_ROWS)
    return {
        "file": path,
        "num_rows": meta.num_rows,
        "num_row_groups": meta.num_row_groups,
        "created_by": meta.created_by,
        "format_version": meta.format_version,
        "compression": leaves[0]["compression"] if leaves else None,
        "data_page_versions": sorted(versions),
        "columns": columns,
        "leaves": leaves,
        "rows": rows_as_json(table),
    }


def _statistics(chunk: pq.ColumnChunkMetaData) -> dict[str, Any] | None:
    """A chunk's statistics as the reader understood them: null count, and min/max where written,
    as physical values (a time as its integer in the column's unit: any precision survives)."""
    stats = chunk.statistics
    if stats is None:
        return None
    return {
        "null_count": stats.null_count if stats.has_null_count else None,
        "min": to_json_value(stats.min_raw) if stats.has_min_max else None,
        "max": to_json_value(stats.max_raw) if stats.has_min_max else None,
    }


def _head(pf: pq.ParquetFile, n: int) -> pa.Table:
    """First ``n`` rows without reading the whole file (files can be large row groups)."""
    if pf.metadata.num_rows == 0:
        return pf.schema_arrow.empty_table()
    batch = next(pf.iter_batches(batch_size=n))
    return pa.Table.from_batches([batch], schema=pf.schema_arrow)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--all-rows", action="store_true", help="print every row, not 5")
    args = parser.parse_args(argv)
    for path in args.files:
        json.dump(describe(path, all_rows=args.all_rows), sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
