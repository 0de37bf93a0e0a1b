"""``python -m tests.failing_extract JOB_TABLES``: postgres_extract failing on one table.

The job's own run and failure report (``postgres_extract.run``, ``entry.run``) with the table
reads replaced, so that it fails the way the job does when a source table's columns changed, in
a second and without Spark or a database: every table reads as empty but ``device``, whose read
raises ``SchemaMismatchError``. It prints what the job prints: a JSON result line per table on
stdout, the failed table's ``ERROR`` log line and the run's failure on stderr, and exits 1. The
local runner's test (tests/integration/spark-job-failure.test.ts) runs it as a Glue job, to check
that the console names the table and its error rather than the state machine's internals.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from lakehouse_glue import postgres_extract
from lakehouse_glue.entry.run import EXIT_FAILED, EXIT_OK, _configure_logging, _report_failure, emit
from lakehouse_glue.errors import GlueJobError, SchemaMismatchError
from lakehouse_glue.jdbc import JdbcSource
from lakehouse_glue.job_tables import JobTable, load_job_tables
from lakehouse_glue.postgres_extract import ExtractConfig, ShrinkGuard, Written

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

FAILING_TABLE = "device"
MISMATCH = "column serial_number: the registry declares string, the source has integer"


def _read(
    spark: SparkSession, source: JdbcSource, table: JobTable, target: str, shrink: ShrinkGuard
) -> Written:
    if table.name == FAILING_TABLE:
        raise SchemaMismatchError(MISMATCH, table=table.name)
    return Written(rows_read=0, rows_written=0, snapshot_id=None)


def main(argv: Sequence[str]) -> int:
    _configure_logging()
    for behaviour in postgres_extract.EXTRACTORS:
        postgres_extract.EXTRACTORS[behaviour] = _read
    config = ExtractConfig(
        source=JdbcSource(url="jdbc:postgresql://localhost:5432/ddc", user="nobody", password=""),
        job_tables=load_job_tables(argv[0]),
    )
    try:
        # No Spark: the reads above never touch the session.
        postgres_extract.run(cast("SparkSession", None), config, lambda r: emit(r.to_json()))
    except GlueJobError as error:
        _report_failure(postgres_extract.JOB_NAME, error)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
