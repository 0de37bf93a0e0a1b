"""Compaction: the local stand-in for the Glue Data Catalog's Iceberg table optimizer.

In AWS the optimizer (declared by Pulumi) compacts curated tables on its own schedule; locally,
and in tests and benchmarks, this runs the same Iceberg procedures on demand: rewrite small data
files into target-sized ones in the table's sort order, folding in the position deletes that
alarm updates left, then drop delete files no data file needs any more.
https://docs.aws.amazon.com/glue/latest/dg/compaction-management.html
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass(frozen=True)
class CompactionResult:
    table: str
    rewritten_data_files: int
    added_data_files: int
    rewritten_bytes: int
    removed_delete_files: int


def compact(spark: SparkSession, table: str, *, min_input_files: int = 2) -> CompactionResult:
    """Compact ``catalog.namespace.table``; a table already compact is left as it is."""
    catalog, identifier = table.split(".", 1)
    # sort: files come out ordered by the table's sort order (device, time), like fresh writes.
    # delete-file-threshold 1: any data file with a delete applied to it is rewritten, so reads
    # stop merging deletes (what the Glue optimizer does for merge-on-read tables);
    # remove-dangling-deletes: the delete files those rewrites made useless go in the same run.
    # One commit, no partial progress: the Hadoop catalog's rename commits made concurrent
    # partial-progress groups fail each other ("Version n already exists"), leaving some
    # partitions uncompacted from one run to the next.
    data = spark.sql(
        f"CALL {catalog}.system.rewrite_data_files(table => '{identifier}', strategy => 'sort', "
        f"options => map('min-input-files', '{min_input_files}', 'delete-file-threshold', '1', "
        "'remove-dangling-deletes', 'true'))"
    ).first()
    deletes = spark.sql(
        f"CALL {catalog}.system.rewrite_position_delete_files(table => '{identifier}', "
        "options => map('rewrite-all', 'true'))"
    ).first()
    assert data is not None
    assert deletes is not None
    return CompactionResult(
        table=table,
        rewritten_data_files=int(data["rewritten_data_files_count"]),
        added_data_files=int(data["added_data_files_count"]),
        rewritten_bytes=int(data["rewritten_bytes_count"]),
        removed_delete_files=int(deletes["rewritten_delete_files_count"]),
    )
