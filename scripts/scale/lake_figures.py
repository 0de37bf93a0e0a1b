"""The lake's size after a run: raw objects per collection, and per Iceberg table its live data
files, bytes and rows (what a reader scans now, not the files old snapshots still hold).

Usage: lake_figures.py LAKE_DIR OUT.json   (LAKE_DIR: `.local/lake`, with raw/ and warehouse/)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "glue"))

from lakehouse_glue.spark import DEFAULT_CATALOG, local_session


def raw_figures(raw: Path) -> dict[str, dict[str, int]]:
    figures: dict[str, dict[str, int]] = {}
    for collection in sorted(p for p in raw.iterdir() if p.is_dir()):
        files = [f for f in collection.rglob("*") if f.is_file()]
        figures[collection.name] = {
            "objects": len(files),
            "bytes": sum(f.stat().st_size for f in files),
        }
    return figures


def iceberg_figures(warehouse: Path) -> dict[str, dict[str, int]]:
    spark = local_session(warehouse, app_name="scale-lake-figures")
    figures: dict[str, dict[str, int]] = {}
    for namespace in sorted(p.name for p in warehouse.iterdir() if p.is_dir()):
        for (table,) in (
            spark.sql(f"SHOW TABLES IN {DEFAULT_CATALOG}.{namespace}")
            .select("tableName")
            .collect()
        ):
            name = f"{DEFAULT_CATALOG}.{namespace}.{table}"
            row = spark.sql(
                f"SELECT count(*) AS files, coalesce(sum(file_size_in_bytes), 0) AS bytes, "
                f"coalesce(sum(record_count), 0) AS rows FROM {name}.data_files"
            ).first()
            deletes = spark.sql(
                f"SELECT count(*) AS n FROM {name}.delete_files"
            ).first()
            assert row is not None and deletes is not None
            figures[f"{namespace}.{table}"] = {
                "data_files": int(row["files"]),
                "bytes": int(row["bytes"]),
                "rows": int(row["rows"]),
                "delete_files": int(deletes["n"]),
            }
    spark.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lake", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    result = {
        "raw": raw_figures(args.lake / "raw"),
        "tables": iceberg_figures(args.lake / "warehouse"),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
