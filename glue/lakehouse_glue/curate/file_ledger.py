"""The support database's ``file_ledger``: which raw objects exist, in the order they committed.

The worker uploads an object, then commits its ledger row with the bookmark (docs/design.md §4),
so the ledger is the list of raw objects to curate; the curate job never lists the bucket.
Ledger ids are taken at insert, not at commit, so a reader of ``id > position`` could see id 12
before a slower transaction commits id 11 and then skip 11 forever. Window commits are bounded (one
statement under the worker's ``statement_timeout``), so the reader stops at the highest id whose
row is older than a lag longer than that: every lower id was inserted earlier, by a statement that
has finished by then, so it is visible or never will be. The lag's default and the timeout come
from the job tables (``ledger``, ``lakehouse_glue.job_tables.LedgerLag``, which refuses a lag not
above the timeout).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from lakehouse_glue.errors import SourceTableMissingError, SourceUnavailableError
from lakehouse_glue.jdbc import JdbcSource, base_options

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

LEDGER_TABLE = "file_ledger"
APPLICATION_NAME = "lakehouse-mongodb_curate"
#: The support database may be a paused Aurora Serverless v2 cluster, which the first connection
#: resumes (about 15 s, longer after a day paused; docs/adr/0021): as the functions wait for it.
SUPPORT_CONNECT_TIMEOUT_S = 60


def support_source(url: str, user: str, password: str) -> JdbcSource:
    """The support database as the curate job reads it (the ledger is small: no partitioning)."""
    return JdbcSource(
        url,
        user,
        password,
        connect_timeout_s=SUPPORT_CONNECT_TIMEOUT_S,
        application_name=APPLICATION_NAME,
    )


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    object_key: str
    collection: str
    id_device: int
    window_from: datetime
    window_to: datetime
    rows: int
    bytes: int


def _query(spark: SparkSession, source: JdbcSource, sql: str) -> DataFrame:
    try:
        return spark.read.format("jdbc").options(**base_options(source)).option("query", sql).load()
    except Exception as error:  # py4j wraps every JVM failure; sort them by their message
        text = str(error)
        if f'relation "{LEDGER_TABLE}" does not exist' in text:
            raise SourceTableMissingError(
                "the support database has no file_ledger: run the migrations first",
                table=LEDGER_TABLE,
            ) from error
        raise SourceUnavailableError(
            f"support database query failed: {text.splitlines()[0][:500]}", table=LEDGER_TABLE
        ) from error


def ledger_bounds(spark: SparkSession, source: JdbcSource, lag_seconds: int) -> tuple[int, int]:
    """``(safe, highest)``: the highest id safe to read up to (see the module docstring) and the
    highest id at all, which a committed position must never exceed."""
    lag = max(0, int(lag_seconds))
    # The database's own clock decides the lag: the rows' created_at came from it.
    row = _query(
        spark,
        source,
        f"SELECT COALESCE(MAX(id) FILTER (WHERE created_at <= now() - interval '{lag} seconds'), 0)"
        f" AS safe, COALESCE(MAX(id), 0) AS highest FROM {LEDGER_TABLE}",
    ).first()
    assert row is not None
    return int(row["safe"]), int(row["highest"])


def pending_entries(
    spark: SparkSession, source: JdbcSource, collection: str, after: int, upto: int
) -> list[LedgerEntry]:
    """Ledger rows of ``collection`` with ``after < id <= upto``, in id order."""
    if upto <= after:
        return []
    # The collection name is validated against the registry before it gets here; quote anyway.
    quoted = collection.replace("'", "''")
    rows = _query(
        spark,
        source,
        "SELECT id, object_key, collection, id_device, window_from, window_to, rows, bytes "
        f"FROM {LEDGER_TABLE} WHERE collection = '{quoted}' AND id > {int(after)} "
        f"AND id <= {int(upto)}",
    ).collect()
    entries = [
        LedgerEntry(
            id=int(r["id"]),
            object_key=r["object_key"],
            collection=r["collection"],
            id_device=int(r["id_device"]),
            window_from=r["window_from"],
            window_to=r["window_to"],
            rows=int(r["rows"]),
            bytes=int(r["bytes"]),
        )
        for r in rows
    ]
    return sorted(entries, key=lambda e: e.id)
