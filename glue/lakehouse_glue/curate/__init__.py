"""Glue job ``mongodb_curate``: raw Parquet objects listed in the ledger → curated Iceberg."""

from lakehouse_glue.curate.compaction import CompactionResult, compact
from lakehouse_glue.curate.curate import (
    CollectionResult,
    CurateSettings,
    committed_position,
    curate_collection,
    run_curate,
)
from lakehouse_glue.curate.day_counts import DayCount, DayCountStore
from lakehouse_glue.curate.file_ledger import LedgerEntry, support_source
from lakehouse_glue.curate.spec import CollectionSpec, JobTables, load_job_tables
from lakehouse_glue.curate.tables import CURATED_NAMESPACE, POSITION_PROPERTY, TableLayout
from lakehouse_glue.jdbc import JdbcSource

__all__ = [
    "CURATED_NAMESPACE",
    "POSITION_PROPERTY",
    "CollectionResult",
    "CollectionSpec",
    "CompactionResult",
    "CurateSettings",
    "DayCount",
    "DayCountStore",
    "JdbcSource",
    "JobTables",
    "LedgerEntry",
    "TableLayout",
    "committed_position",
    "compact",
    "curate_collection",
    "load_job_tables",
    "run_curate",
    "support_source",
]
