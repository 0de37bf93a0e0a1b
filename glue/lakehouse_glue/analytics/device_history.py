"""The device history (ADR 0018): every version of each device's attributes and when it held.

``postgres_extract`` keeps ``postgres.device`` current; Iceberg's snapshots hold its earlier
versions only until they expire, and a view cannot time-travel to a date it is given. So the
analytics job keeps the versions as rows of the report table ``device_versions``
(``pipeline/schema/reports.ts``: its columns are the registry's device attributes plus the
interval), and the ``device_history`` view lets an analyst ask "as of" any instant with a
predicate on ``valid_from`` / ``valid_to``.

Each run compares the devices now with their open versions (``valid_to IS NULL``) and, in one
``MERGE`` (one Iceberg commit), closes the version of every changed or deleted device and opens
a new one for every changed or new device. A run that finds no difference commits nothing, so
replays and reruns add no rows; a run that fails before its commit leaves the history as it was,
and the next run finds the same differences.

When a version began, in order of preference:

- a device never seen before: its ``created_at`` (what it had when the lake first read it stands
  for its whole past, the best the source can say), else the instant the lake read it;
- a change: the source's ``updated_at`` when it is after the previous version began and not after
  the lake read it (the source's own clock for the edit), else the instant the lake read it (the
  commit time of the ``postgres.device`` snapshot read), so versions never overlap or go back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakehouse_glue.analytics.tables import conform, ensure_report_table
from lakehouse_glue.errors import SourceTableMissingError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakehouse_glue.job_tables import JobReport, JobTables

#: The registry's name of the history table.
VERSIONS_TABLE = "device_versions"
#: The columns a version adds to the device's attributes: the rest of the table's columns are
#: attributes, compared to find a change.
KEY = "id_device"
INTERVAL = ("valid_from", "valid_to", "recorded_at")


@dataclass(frozen=True)
class HistoryRun:
    """What one run did to the history."""

    opened: int
    closed: int
    rows: int
    #: The commit time of the ``device`` snapshot read (``recorded_at`` of new versions).
    recorded_at: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "opened": self.opened,
            "closed": self.closed,
            "rows": self.rows,
            "recorded_at": self.recorded_at,
        }


def attributes(spec: JobReport) -> list[str]:
    """The device columns a version holds: every declared column but the key and the interval."""
    return [c for c in spec.column_names if c != KEY and c not in INTERVAL]


def _read_instant(spark: SparkSession, devices: str) -> str:
    """When the lake read the devices: the commit time of the table's current snapshot, as a
    Spark timestamp literal (the session runs in UTC)."""
    # Formatted by Spark, in the session's zone: a collected timestamp would be converted to the
    # Python process's local zone instead.
    row = spark.sql(
        f"""
        SELECT date_format(s.committed_at, 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS committed_at
        FROM {devices}.snapshots s JOIN {devices}.history h ON h.snapshot_id = s.snapshot_id
        WHERE h.is_current_ancestor
        ORDER BY h.made_current_at DESC
        LIMIT 1
        """
    ).first()
    if row is None:
        raise SourceTableMissingError(
            "it has no snapshot yet: run postgres_extract first", table=devices
        )
    return str(row.committed_at)


def staged_changes(
    spark: SparkSession, devices: str, versions: str, spec: JobReport, read_at: str
) -> DataFrame:
    """The rows the ``MERGE`` applies: ``merge_key`` set closes the device's open version at
    ``valid_from``; ``merge_key`` NULL inserts a new version. Columns: ``merge_key``, the key,
    the attributes and the interval, in the table's order."""
    attrs = attributes(spec)
    same = " AND ".join(f"o.`{a}` <=> c.`{a}`" for a in attrs)
    read = f"TIMESTAMP '{read_at}'"
    # After the previous version began (an open one) or ended (a device deleted and back), and
    # strictly: a version's interval is never empty.
    after = "INTERVAL 1 MILLISECOND"
    held = ", ".join(f"`{a}`" for a in attrs)
    current = f"SELECT id AS {KEY}, {held}, created_at, updated_at FROM {devices}"
    spark.sql(current).createOrReplaceTempView("_history_current")
    spark.sql(
        f"""
        SELECT {KEY}, max(coalesce(valid_to, valid_from)) AS last_instant
        FROM {versions} GROUP BY {KEY}
        """
    ).createOrReplaceTempView("_history_last")
    new_from = f"""CASE
          WHEN l.{KEY} IS NULL THEN least(coalesce(c.created_at, {read}), {read})
          WHEN c.updated_at > l.last_instant AND c.updated_at <= {read} THEN c.updated_at
          WHEN {read} > l.last_instant THEN {read}
          ELSE l.last_instant + {after}
        END"""
    opened = spark.sql(
        f"""
        SELECT CAST(NULL AS bigint) AS merge_key, c.{KEY},
          {", ".join(f"c.`{a}`" for a in attrs)},
          {new_from} AS valid_from,
          CAST(NULL AS timestamp) AS valid_to,
          {read} AS recorded_at
        FROM _history_current c LEFT JOIN _history_last l ON l.{KEY} = c.{KEY}
        LEFT JOIN (SELECT * FROM {versions} WHERE valid_to IS NULL) o ON o.{KEY} = c.{KEY}
        WHERE o.{KEY} IS NULL OR NOT ({same})
        """
    )
    opened.createOrReplaceTempView("_history_opened")
    closing = ", ".join(f"o.`{a}`" for a in attrs)
    closed = spark.sql(
        f"""
        SELECT o.{KEY} AS merge_key, o.{KEY}, {closing},
          coalesce(n.valid_from,
                   CASE WHEN {read} > o.valid_from THEN {read} ELSE o.valid_from + {after} END)
            AS valid_from,
          CAST(NULL AS timestamp) AS valid_to, {read} AS recorded_at
        FROM (SELECT * FROM {versions} WHERE valid_to IS NULL) o
        LEFT JOIN _history_current c ON c.{KEY} = o.{KEY}
        LEFT JOIN _history_opened n ON n.{KEY} = o.{KEY}
        WHERE c.{KEY} IS NULL OR n.{KEY} IS NOT NULL
        """
    )
    return opened.unionByName(closed)


def record_device_history(
    spark: SparkSession,
    catalog: str,
    devices: str,
    namespace: str | None = None,
    *,
    job_tables: JobTables,
    recreate_mismatched: bool = False,
) -> HistoryRun:
    """Bring ``device_versions`` up to the devices in ``devices`` (``<catalog>.<db>.device``) in
    one commit, or none when nothing changed."""
    if not spark.catalog.tableExists(devices):
        raise SourceTableMissingError(
            "the device history needs it: run postgres_extract first", table=devices
        )
    spec = job_tables.report(VERSIONS_TABLE)
    versions = ensure_report_table(
        spark, catalog, spec, namespace, recreate_mismatched=recreate_mismatched
    )
    read_at = _read_instant(spark, devices)
    staged = staged_changes(spark, devices, versions, spec, read_at).cache()
    try:
        opened = staged.where("merge_key IS NULL").count()
        closed = staged.where("merge_key IS NOT NULL").count()
        if opened or closed:
            # The inserted rows are checked against the declaration before anything is written.
            conform(staged.where("merge_key IS NULL"), spec, versions)
            staged.createOrReplaceTempView("_history_staged")
            columns = ", ".join(f"`{c}`" for c in spec.column_names)
            values = ", ".join(f"s.`{c}`" for c in spec.column_names)
            spark.sql(
                f"""
                MERGE INTO {versions} t
                USING _history_staged s
                ON t.{KEY} = s.merge_key AND t.valid_to IS NULL
                WHEN MATCHED THEN UPDATE SET t.valid_to = s.valid_from
                WHEN NOT MATCHED AND s.merge_key IS NULL THEN INSERT ({columns}) VALUES ({values})
                """
            )
        rows = spark.table(versions).count()
        return HistoryRun(opened=opened, closed=closed, rows=rows, recorded_at=read_at)
    finally:
        staged.unpersist()
        for view in ("_history_current", "_history_last", "_history_opened", "_history_staged"):
            spark.catalog.dropTempView(view)
