"""Bench reference: pyarrow writing the bench's NDJSON rows as Parquet, SNAPPY, same row groups.

The ingest bench compares the raw objects our writer produces with what a mature writer makes of
the same rows: bytes on disk, per collection. Reads the rows with an explicit schema (the
registry's column types), so both files hold the same columns and types.

Usage: python scripts/bench/pyarrow_parquet.py ROWS.ndjson OUT.parquet ROW_GROUP COLUMNS_JSON
COLUMNS_JSON: [{"name": ..., "type": <registry column type>}, ...]. Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
import time

import pyarrow as pa
import pyarrow.json as pj
import pyarrow.parquet as pq

ARROW_TYPE = {
    "string": pa.string(),
    "json": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("ms", tz="UTC"),
}


def main() -> int:
    rows_path, out, row_group, columns = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    schema = pa.schema([(c["name"], ARROW_TYPE[c["type"]]) for c in json.loads(columns)])
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    table = pj.read_json(rows_path, parse_options=options).select(schema.names)
    started = time.perf_counter()
    pq.write_table(table, out, compression="snappy", row_group_size=row_group)
    seconds = time.perf_counter() - started
    report = {
        "version": pa.__version__,
        "rows": table.num_rows,
        "ms": round(seconds * 1000, 3),
        "fileBytes": os.path.getsize(out),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
