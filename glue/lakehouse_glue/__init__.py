"""Shared harness for the lakehouse's PySpark Glue jobs.

Jobs in ``glue/jobs`` stay thin (parse arguments, wire); transforms and this harness are plain
importable code so pytest can run them on local Spark with the same Iceberg version as Glue 5.0.
"""

from lakehouse_glue.errors import (
    GlueJobError,
    JobTablesError,
    SchemaMismatchError,
    SourceShrankError,
    SourceTableMissingError,
    SourceUnavailableError,
    TablesFailedError,
)

__all__ = [
    "GlueJobError",
    "JobTablesError",
    "SchemaMismatchError",
    "SourceShrankError",
    "SourceTableMissingError",
    "SourceUnavailableError",
    "TablesFailedError",
]
