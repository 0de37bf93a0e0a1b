"""The collections part of the registry's job-tables JSON, under the names the curate and
analytics code uses. There is one parser of that JSON, ``lakehouse_glue.job_tables``: the
TypeScript registry (``pipeline/schema/job-tables.ts``) is the single source of truth, and a job
refuses a document it does not understand rather than guess a column. The payload column's name
and the raw key format come from that JSON too (``CollectionSpec.payload_column``, ``.raw_key``).
"""

from __future__ import annotations

from lakehouse_glue.job_tables import JobCollection as CollectionSpec
from lakehouse_glue.job_tables import JobColumn as ColumnSpec
from lakehouse_glue.job_tables import JobTable as TableSpec
from lakehouse_glue.job_tables import JobTables, load_job_tables, parse_job_tables

__all__ = [
    "CollectionSpec",
    "ColumnSpec",
    "JobTables",
    "TableSpec",
    "load_job_tables",
    "parse_job_tables",
]
