"""Raw Parquet objects listed in the ledger → curated Iceberg tables (docs/design.md §4).

Per collection: read the ledger rows past the table's committed position, read their objects,
conform them to the registry (drift folds into ``payload``), keep one row per natural key, and
``MERGE INTO`` the table with the new position in the same commit. A rerun, a replayed ledger
row or an object a retried worker rewrote can only match rows already there, so curated never
holds a document twice. After each commit, the days its rows fall on are counted for reconcile
(``lakehouse_glue.curate.day_counts``), and the raw objects whose every ledger row of the run is
now committed are tagged (``lakehouse_glue.curate.raw_marks``): the raw bucket's lifecycle expires
only tagged objects early, so a curate that fails for days loses no raw object it has not read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from lakehouse_glue.curate.commit import latest_property, with_commit_properties
from lakehouse_glue.curate.day_counts import (
    DayCounter,
    DayCountStore,
    DeviceDay,
    days_of,
    moved_days,
)
from lakehouse_glue.curate.file_ledger import (
    LedgerEntry,
    ledger_bounds,
    pending_entries,
)
from lakehouse_glue.curate.raw_marks import MarkResult
from lakehouse_glue.curate.spec import CollectionSpec, JobTables
from lakehouse_glue.curate.tables import (
    CURATED_NAMESPACE,
    POSITION_PROPERTY,
    TableLayout,
    ensure_curated_table,
)
from lakehouse_glue.errors import (
    LedgerPositionError,
    RawObjectMissingError,
    SchemaMismatchError,
)
from lakehouse_glue.jdbc import JdbcSource

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql.types import DataType

log = logging.getLogger(__name__)

LEDGER_ID = "_ledger_id"
OBJECT_KEY = "_object_key"
TAG_DEVICE = "_ledger_device"
#: Every raw row's device column: a ledger row names an object and a device.
DEVICE_COLUMN = "id_device"
#: One commit per this many raw objects: bounds a commit's memory and a failure's rework on a
#: bulk backlog, while an hourly run of the operations mode fits in one.
DEFAULT_MAX_FILES_PER_COMMIT = 2000

#: Tags raw objects as curated (``raw_marks.RawMarker``), given their keys; never raises.
MarkCurated = Callable[[Sequence[str]], MarkResult]

# Raw types that widen losslessly to the registry's type; anything else is a schema mismatch
# (a cast would silently turn bad values into NULL).
_WIDENS_TO: dict[str, set[str]] = {
    "bigint": {"int", "smallint", "tinyint"},
    "int": {"smallint", "tinyint"},
    "double": {"float", "int", "bigint", "smallint", "tinyint"},
    "timestamp": {"timestamp_ntz"},
}


@dataclass(frozen=True)
class CurateSettings:
    catalog: str
    raw_root: str
    namespace: str = CURATED_NAMESPACE
    layout: TableLayout = field(default_factory=TableLayout)
    #: ``None``: the job tables' ``ledger.lagSeconds``; 0 reads up to the newest ledger row
    #: (only when no worker is running); otherwise above the workers' statement timeout.
    lag_seconds: int | None = None
    max_files_per_commit: int = DEFAULT_MAX_FILES_PER_COMMIT
    #: Tags the raw objects the run has committed, for the raw bucket's lifecycle; ``None`` for
    #: a raw layer in a local folder, which nothing expires.
    mark_curated: MarkCurated | None = None


@dataclass
class CollectionResult:
    collection: str
    table: str
    position_before: int
    position_after: int
    objects: int = 0
    ledger_rows: int = 0
    rows_read: int = 0
    commits: int = 0
    added_records: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    #: Device days counted after this run's commits, and recounted before them because an
    #: earlier run committed without counting (``day_counts.DayCounter.catch_up``).
    days_counted: int = 0
    days_recounted: int = 0
    #: Raw objects tagged as curated after the commits, found gone already, or left untagged by
    #: an error (they are kept until the lifecycle's backstop).
    objects_marked: int = 0
    marks_missing: int = 0
    marks_failed: int = 0
    seconds: float = 0.0


def object_uri(raw_root: str, object_key: str) -> str:
    return f"{raw_root.rstrip('/')}/{object_key}"


def committed_position(spark: SparkSession, table: str) -> int:
    value = latest_property(spark, table, POSITION_PROPERTY)
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError as error:
        raise LedgerPositionError(
            f"snapshot property {POSITION_PROPERTY}={value!r} is not an id", table=table
        ) from error


def check_object_keys(spec: CollectionSpec, entries: Sequence[LedgerEntry]) -> None:
    """Every ledger row's key is in the job tables' raw key formats: a window's own object naming
    the row's collection and device, or a pack (ADR 0023) of the row's collection. Rows are matched
    to their ledger row by the key found in the object's path (and their device); a key in another
    format would match nothing, and its rows would be dropped silently."""
    for entry in entries:
        parts = spec.raw_key.parse(entry.object_key)
        if parts is not None and (parts.collection, parts.id_device) == (
            entry.collection,
            entry.id_device,
        ):
            continue
        if parts is None and spec.raw_key.parse_pack(entry.object_key) == entry.collection:
            continue
        raise SchemaMismatchError(
            f"ledger row {entry.id}: object key {entry.object_key!r} is neither "
            f"{spec.raw_key.template!r} for collection {entry.collection}, device "
            f"{entry.id_device}, nor {spec.raw_key.pack_template!r} for the collection: were the "
            "worker and the job tables deployed together?",
            table=spec.name,
        )


def read_raw(
    spark: SparkSession, spec: CollectionSpec, raw_root: str, entries: Sequence[LedgerEntry]
) -> DataFrame:
    """The rows of the listed objects, each tagged with its ledger id (newer objects win ties).

    A ledger row names an object and a device: a pack holds several devices' windows, each with a
    row of its own, and only the rows of a device the ledger lists for the object are read."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as sf

    check_object_keys(spec, entries)
    # Each object once, though several ledger rows (a pack's devices) name it.
    paths = sorted({object_uri(raw_root, e.object_key) for e in entries})
    try:
        # mergeSchema: objects written before and after a registry change differ in columns.
        # recursiveFileLookup: no partition discovery. Window objects sit in `idDevice=` folders
        # and packs beside them; Spark refuses to infer partitions from such a mix, and rows carry
        # their device anyway.
        raw = (
            spark.read.option("mergeSchema", "true")
            .option("recursiveFileLookup", "true")
            .parquet(*paths)
        )
    except AnalysisException as error:
        if "PATH_NOT_FOUND" in str(error) or "Path does not exist" in str(error):
            raise RawObjectMissingError(
                f"a raw object listed in the ledger is missing: {str(error).splitlines()[0]}",
                table=entries[0].collection,
            ) from error
        raise
    tags = spark.createDataFrame(
        [(e.object_key, e.id_device, e.id) for e in entries],
        f"{OBJECT_KEY} STRING, {TAG_DEVICE} BIGINT, {LEDGER_ID} BIGINT",
    )
    tagged = raw.withColumn(
        OBJECT_KEY, sf.regexp_extract(sf.input_file_name(), spec.raw_key.suffix_pattern, 1)
    )
    on = (tagged[OBJECT_KEY] == tags[OBJECT_KEY]) & (tagged[DEVICE_COLUMN] == tags[TAG_DEVICE])
    return (
        tagged.join(sf.broadcast(tags), on, "inner")
        .drop(tagged[OBJECT_KEY])
        .drop(tags[OBJECT_KEY])
        .drop(TAG_DEVICE)
    )


def _simple(data_type: DataType) -> str:
    return data_type.simpleString()


def _json_object_concat(left: Column, right: Column) -> Column:
    """Concatenate two JSON object texts (``{"a":1}`` + ``{"b":2}``), either may be NULL/empty."""
    from pyspark.sql import functions as sf

    left_empty = left.isNull() | (sf.trim(left) == sf.lit("{}"))
    right_empty = right.isNull() | (right == sf.lit("{}"))
    trimmed = sf.rtrim(left)
    body = trimmed.substr(sf.lit(1), sf.length(trimmed) - sf.lit(1))
    return (
        sf.when(right_empty, left)
        .when(left_empty, right)
        .otherwise(sf.concat(body, sf.lit(","), right.substr(sf.lit(2), sf.length(right))))
    )


def conform(df: DataFrame, spec: CollectionSpec) -> tuple[DataFrame, list[str]]:
    """Registry columns in registry order and types, plus the ledger id.

    A column the raw object has but the registry does not (the worker was deployed with a newer
    schema than this job's table list) folds into ``payload`` as JSON, like any unknown field;
    a collection without payload ignores it and reports it. A missing nullable column is NULL;
    a missing required column or an incompatible type is a ``SchemaMismatchError``.
    Returns the frame and the names of the columns folded or ignored.
    """
    from pyspark.sql import functions as sf

    present = {f.name: f.dataType for f in df.schema.fields}
    wanted = set(spec.column_names)
    # Spark may add the Hive-style path segment `idDevice=` as a partition column; it repeats
    # id_device, so it is neither data nor drift.
    internal = {LEDGER_ID, spec.raw_key.partition_column}
    extras = sorted(n for n in present if n not in wanted and n not in internal)
    payload = spec.payload_column

    selected: list[Column] = []
    for col in spec.columns:
        if col.name not in present:
            if not col.nullable:
                raise SchemaMismatchError(
                    f"raw objects lack the required column {col.name}", table=spec.name
                )
            selected.append(sf.lit(None).cast(col.spark_type).alias(col.name))
            continue
        have = _simple(present[col.name])
        if have != col.spark_type and have not in _WIDENS_TO.get(col.spark_type, set()):
            raise SchemaMismatchError(
                f"column {col.name} is {have} in raw objects, the registry says {col.spark_type}",
                table=spec.name,
            )
        value = sf.col(f"`{col.name}`").cast(col.spark_type)
        if col.name == payload and extras:
            drift = sf.to_json(sf.struct(*[sf.col(f"`{n}`") for n in extras]))
            value = _json_object_concat(value, drift)
        selected.append(value.alias(col.name))
    if payload is not None and extras and payload not in present:
        # Objects from before payload existed: the drift alone is the payload.
        idx = spec.column_names.index(payload)
        selected[idx] = sf.to_json(sf.struct(*[sf.col(f"`{n}`") for n in extras])).alias(payload)
    selected.append(sf.col(LEDGER_ID))
    return df.select(*selected), extras


def latest_per_key(df: DataFrame, spec: CollectionSpec) -> DataFrame:
    """One row per natural key: the newest extraction, i.e. the highest ledger id (ADR 0013).

    Ledger ids follow extraction order for one device and collection (its windows commit one
    after another, and a replayed window takes a new id), so the newest row is the source's
    latest state, whatever its ``updated_column`` says: an alarm re-opened in the source (its
    ``resetTS`` removed) is open again. ``updated_column`` (alarm: ``reset_ts``) only breaks a
    tie inside one object, where a document appears once anyway."""
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    order: list[Column] = [sf.col(LEDGER_ID).desc()]
    if spec.updated_column:
        order.append(sf.col(spec.updated_column).desc_nulls_last())
    window = Window.partitionBy(*[sf.col(k) for k in spec.natural_key]).orderBy(*order)
    return (
        df.withColumn("_rank", sf.row_number().over(window))
        .where(sf.col("_rank") == 1)
        .drop("_rank", LEDGER_ID)
    )


def merge_sql(table: str, source_view: str, spec: CollectionSpec) -> str:
    # id_device never changes for a document; repeating it in the ON clause lets Iceberg prune
    # the target's device buckets instead of joining against the whole table.
    keys = list(spec.natural_key)
    if "id_device" not in keys:
        keys.append("id_device")
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
    clauses = []
    compared = [c for c in spec.column_names if c not in keys]
    if spec.update_matched and compared:
        # Rows that change at the source (alarm: a reset; variable_logs: a late reading a
        # replayed window brings to an instant curated holds): the source row is the newest
        # extraction (chunks merge in ledger order, newest row per key within one), so it
        # replaces the curated row whenever any column differs, compared null-safe; a reset
        # removed at the source is a change too (ADR 0013). The same state extracted again (a
        # rerun, a replay) changes nothing and writes no delete file.
        same = " AND ".join(f"t.`{c}` <=> s.`{c}`" for c in compared)
        clauses.append(f"WHEN MATCHED AND NOT ({same}) THEN UPDATE SET *")
    # Other documents never change at the source: a match is the same document seen again.
    clauses.append("WHEN NOT MATCHED THEN INSERT *")
    return f"MERGE INTO {table} t USING {source_view} s ON {on}\n" + "\n".join(clauses)


def _chunks(entries: Sequence[LedgerEntry], size: int) -> list[Sequence[LedgerEntry]]:
    size = max(1, size)
    return [entries[i : i + size] for i in range(0, len(entries), size)]


def _current_snapshot(spark: SparkSession, table: str) -> tuple[int | None, dict[str, str]]:
    rows = spark.sql(
        f"SELECT snapshot_id, summary FROM {table}.snapshots ORDER BY committed_at DESC LIMIT 1"
    ).collect()
    if not rows:
        return None, {}
    return rows[0]["snapshot_id"], dict(rows[0]["summary"] or {})


def curate_entries(
    spark: SparkSession,
    spec: CollectionSpec,
    table: str,
    entries: Sequence[LedgerEntry],
    raw_root: str,
    result: CollectionResult,
    counter: DayCounter | None = None,
) -> None:
    """Merge one chunk of ledger entries; the commit carries the chunk's highest ledger id.
    With a ``counter``, the days the chunk's rows fall on are counted after the commit."""
    raw = read_raw(spark, spec, raw_root, entries)
    conformed, extras = conform(raw, spec)
    for name in extras:
        if name not in result.ignored_columns:
            result.ignored_columns.append(name)
    source = latest_per_key(conformed, spec)
    view = f"curate_source_{spec.name}"
    source.createOrReplaceTempView(view)
    position = max(e.id for e in entries)
    days: set[DeviceDay] = set()
    if counter is not None:
        # The days of the rows, not of the windows: an alarm matched by its resetTS lies outside
        # the window of its object. And the days rows are about to leave, found before the merge.
        days = days_of(conformed, spec)
        days |= moved_days(spark, spec, table, view, sorted({d for d, _ in days}))
    before, _ = _current_snapshot(spark, table)
    with_commit_properties(
        spark,
        {POSITION_PROPERTY: str(position)},
        lambda: spark.sql(merge_sql(table, view, spec)).collect(),
    )
    after, summary = _current_snapshot(spark, table)
    if after == before:
        # Nothing to write (every row already curated): Iceberg made no snapshot, so the
        # position must be committed on its own, or these objects are re-read every run.
        _commit_position_only(spark, table, position)
    spark.catalog.dropTempView(view)
    if counter is not None:
        result.days_counted += counter.commit(days, position)
    result.commits += 1
    result.added_records += int(summary.get("added-records", 0)) if after != before else 0
    result.position_after = position
    result.objects += len({e.object_key for e in entries})
    result.ledger_rows += sum(e.rows for e in entries)


def committed_objects(
    chunk: Sequence[LedgerEntry], last_ids: dict[str, int], position: int
) -> list[str]:
    """The objects of ``chunk`` whose every ledger entry of the run is at or below ``position``,
    the chunk's commit. A pack's entries (one per device) may span two chunks: it is committed
    with the chunk holding its last one. Entries run in id order, so an object whose last entry
    is in an earlier chunk appears in no later one, and each object is returned once a run."""
    return sorted({e.object_key for e in chunk if last_ids[e.object_key] <= position})


def _mark(mark_curated: MarkCurated, keys: Sequence[str], result: CollectionResult) -> None:
    if not keys:
        return
    marks = mark_curated(keys)
    result.objects_marked += marks.marked
    result.marks_missing += marks.missing
    result.marks_failed += marks.failed


def _commit_position_only(spark: SparkSession, table: str, position: int) -> None:
    """An empty append whose only effect is a snapshot carrying the position."""
    empty = spark.table(table).limit(0)
    empty.writeTo(table).option(f"snapshot-property.{POSITION_PROPERTY}", str(position)).append()


def _rows_of(
    spark: SparkSession, spec: CollectionSpec, settings: CurateSettings, entries: list[LedgerEntry]
) -> Iterator[DataFrame]:
    """The conformed rows of ``entries``' objects, a commit's worth of objects at a time."""
    for chunk in _chunks(entries, settings.max_files_per_commit):
        yield conform(read_raw(spark, spec, settings.raw_root, chunk), spec)[0]


def curate_collection(
    spark: SparkSession,
    spec: CollectionSpec,
    settings: CurateSettings,
    entries_for: tuple[JdbcSource, int, int] | Sequence[LedgerEntry],
    counts: DayCountStore | None = None,
) -> CollectionResult:
    """Curate one collection. ``entries_for`` is either the ledger to read, with the safe and
    highest ids, or the entries themselves (tests and replays that bypass the ledger).

    Day counts go to ``counts``, or with the ledger to its support database (always: reconcile
    relies on them); entries given directly are counted only with ``counts``, and then stand in
    for the ledger when an earlier run's commits must be recounted."""
    started = time.monotonic()
    table = ensure_curated_table(spark, settings.catalog, spec, settings.layout, settings.namespace)
    position = committed_position(spark, table)
    result = CollectionResult(
        collection=spec.name, table=table, position_before=position, position_after=position
    )
    if isinstance(entries_for, tuple):
        source, safe, highest = entries_for
        if position > highest:
            raise LedgerPositionError(
                f"table is at ledger id {position} but the ledger ends at {highest}: was the "
                "support database recreated? New objects would be skipped; re-curate on purpose",
                table=table,
            )
        counts = counts or DayCountStore(spark, source)

        def between(after: int, upto: int) -> list[LedgerEntry]:
            return pending_entries(spark, source, spec.name, after, upto)

        entries = pending_entries(spark, source, spec.name, position, safe)
    else:
        given = sorted(entries_for, key=lambda e: e.id)

        def between(after: int, upto: int) -> list[LedgerEntry]:
            return [e for e in given if after < e.id <= upto]

        entries = between(position, max((e.id for e in given), default=position))
    counter = None if counts is None else DayCounter(spark, spec, table, counts)
    if counter is not None:
        # Before anything new commits: a run that died after a commit left its days uncounted.
        result.days_recounted = counter.catch_up(
            position, lambda after, upto: _rows_of(spark, spec, settings, between(after, upto))
        )
    # Each object's last entry of the run: it is tagged once the chunk holding that one commits.
    last_ids: dict[str, int] = {}
    for entry in entries:
        last_ids[entry.object_key] = max(entry.id, last_ids.get(entry.object_key, entry.id))
    for chunk in _chunks(entries, settings.max_files_per_commit):
        curate_entries(spark, spec, table, chunk, settings.raw_root, result, counter)
        if settings.mark_curated is not None:
            committed = committed_objects(chunk, last_ids, max(e.id for e in chunk))
            _mark(settings.mark_curated, committed, result)
    if entries:
        # Read back, not derived: proves the commit carried the position.
        result.position_after = committed_position(spark, table)
    result.rows_read = result.ledger_rows
    result.seconds = round(time.monotonic() - started, 3)
    log.info("curated %s", asdict(result))
    return result


def ledger_lag(job_tables: JobTables, settings: CurateSettings) -> int:
    """The lag to read the ledger with: the settings' or the job tables' default, refused
    (``JobConfigError``) when it is not above the workers' statement timeout."""
    lag = job_tables.ledger.lag_seconds if settings.lag_seconds is None else settings.lag_seconds
    return job_tables.ledger.check(lag)


def run_curate(
    spark: SparkSession,
    job_tables: JobTables,
    settings: CurateSettings,
    ledger: JdbcSource,
    collections: Sequence[str] | None = None,
) -> list[CollectionResult]:
    """Curate the chosen collections (all by default), each table with its own position."""
    specs = (
        [job_tables.collection(n) for n in collections]
        if collections
        else list(job_tables.collections)
    )
    safe, highest = ledger_bounds(spark, ledger, ledger_lag(job_tables, settings))
    return [curate_collection(spark, spec, settings, (ledger, safe, highest)) for spec in specs]
