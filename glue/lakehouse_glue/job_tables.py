"""The registry's table list (``registry job-tables``), loaded and checked into typed objects.

The TypeScript registry (``pipeline/schema/job-tables.ts``) is the one place tables, columns and
behaviours are declared, the ``analytics`` report tables included (``reports``, from
``pipeline/schema/reports.ts``); the Glue jobs receive its JSON as a job argument (an S3 URI in
AWS, a file or inline JSON locally) and never keep a list of their own. The same document carries
the other contracts between the TypeScript side and the jobs (ADR 0012): the raw object key format
and the tag the curate job puts on the objects it has read (``rawObjects``, from
``pipeline/ingest/keys.ts``), the payload column's name and the file ledger's lag with the
worker's statement timeout it must exceed (``ledger``), and the analysts' views in Spark SQL
(``views``, from ``pipeline/reports/views.ts``), which the local analytics job creates for the
dashboard.

Everything is checked here, once, before any table is touched: names end up inside SQL text, so
only plain snake_case identifiers are accepted, and a version or behaviour this code does not know
stops the job instead of being guessed at.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

from lakehouse_glue.errors import GlueJobError, JobConfigError, JobTablesError

#: The ``version`` of ``pipeline/schema/job-tables.ts`` this code understands (9:
#: ``rawObjects.curatedTag``, the S3 tag the curate job puts on raw objects it has curated, which
#: the raw bucket's lifecycle expires (ADR 0024); 8: raw packs, ``rawObjects.packTemplate`` and
#: ``packIdPattern`` (ADR 0023); 7: the report table ``device_versions``, which the analytics job
#: keeps as history; 6 added ``views``, the analysts' views in Spark SQL with the columns each
#: must return; 5 added the collections' ``cellColumns`` and ``updateMatched``, for the curated
#: day counts; 4 the contracts ``payloadColumn``, ``rawObjects``, ``ledger`` and the postgres
#: tables' ``properties``).
JOB_TABLES_VERSION = 9

Behaviour = Literal["replace", "append", "merge"]
BEHAVIOURS: tuple[Behaviour, ...] = ("replace", "append", "merge")

#: Spark SQL types the registry may name (``SPARK_TYPE`` in ``pipeline/schema/targets.ts``). They
#: are also ``DataType.simpleString()`` of the types Spark's JDBC reader produces, so a source
#: column is checked by comparing strings.
SPARK_TYPES = frozenset({"string", "int", "bigint", "double", "boolean", "timestamp"})
#: Report tables may also hold a UTC day (``REPORT_SPARK_TYPE`` in ``pipeline/schema/reports.ts``).
REPORT_SPARK_TYPES = SPARK_TYPES | {"date"}

# Lake names are lowercase snake_case (ADR 0002); anything else is refused rather than quoted.
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# The raw layer's Hive partition column keeps the source's spelling (``idDevice``).
_PARTITION_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class RawObjectKey:
    """The parts of one raw object key."""

    collection: str
    id_device: int
    window_from_ms: int


#: The placeholders of a raw key template and what each matches: the characters
#: ``pipeline/ingest/keys.ts`` accepts in a collection name, and decimal digits.
_KEY_PARTS = {
    "collection": "[a-z0-9_]+",
    "idDevice": "[0-9]+",
    "windowFromMs": "[0-9]+",
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z]+)\}")
# Literal text both Python's and Java's regular expressions read as itself once "." is escaped:
# the key pattern also runs inside Spark (``regexp_extract``), a Java regex.
_KEY_LITERAL = re.compile(r"^[A-Za-z0-9_=/.-]*$")
# A pack id's pattern: character classes, counts and plain characters only, which Python's and
# Java's regular expressions read alike (no groups or alternation to break the key pattern).
_PACK_ID = re.compile(r"^(?:\\d|[A-Za-z0-9-]|\[[A-Za-z0-9-]+\]|\{[0-9]+(?:,[0-9]*)?\}|[+*])+$")
# What S3 accepts in an object tag's key and value: letters, digits, spaces and ``+-=._:/@``;
# letters and digits kept to ASCII, stricter than S3, never looser.
_TAG_TEXT = re.compile(r"^[A-Za-z0-9 +\-=._:/@]*$")
_TAG_KEY_LENGTH = 128
_TAG_VALUE_LENGTH = 256


@dataclass(frozen=True)
class ObjectTag:
    """An S3 object tag."""

    key: str
    value: str


def _check_tag(tag: ObjectTag, where: str) -> None:
    """S3's rules for a tag: a bad one stops the job before any table is touched, rather than
    failing the tagging of every object it curates."""
    for part, text, low, high in (
        ("key", tag.key, 1, _TAG_KEY_LENGTH),
        ("value", tag.value, 0, _TAG_VALUE_LENGTH),
    ):
        if not low <= len(text) <= high:
            raise JobTablesError(f"{where}.{part}: {text!r} is not {low} to {high} characters long")
        if not _TAG_TEXT.match(text):
            raise JobTablesError(
                f"{where}.{part}: {text!r} has characters other than letters, digits, spaces "
                "and '+', '-', '=', '.', '_', ':', '/', '@'"
            )
    if tag.key.lower().startswith("aws:"):
        raise JobTablesError(f"{where}.key: {tag.key!r} starts with 'aws:', which AWS reserves")


@dataclass(frozen=True)
class RawKeyFormat:
    """How the worker names raw objects (``rawObjects`` of the job tables).

    ``template`` names an object holding one window of one device: it holds each of
    ``{collection}``, ``{idDevice}`` and ``{windowFromMs}`` once, in plain literal text;
    ``partition_column`` is the Hive column its ``<column>={idDevice}`` folder makes, which Spark
    may add to rows it reads from those folders. ``pack_template`` names a pack, an object holding
    windows of several devices (ADR 0023), with ``{collection}`` and ``{packId}`` once each; a pack
    id matches ``pack_id_pattern``. Which device windows an object holds is the ledger's to say.
    ``curated_tag`` is what the curate job tags an object with once every ledger row naming it
    is in curated: the raw bucket's lifecycle expires tagged objects early (ADR 0024).
    """

    template: str
    partition_column: str
    pack_template: str
    pack_id_pattern: str
    curated_tag: ObjectTag

    def __post_init__(self) -> None:
        where = "rawObjects.keyTemplate"
        names = _PLACEHOLDER.findall(self.template)
        if sorted(names) != sorted(_KEY_PARTS):
            raise JobTablesError(
                f"{where}: {self.template!r} must hold each of "
                f"{', '.join('{' + n + '}' for n in _KEY_PARTS)} once"
            )
        if not _KEY_LITERAL.match(_PLACEHOLDER.sub("", self.template)):
            raise JobTablesError(
                f"{where}: {self.template!r} has literal text other than letters, digits, "
                "'_', '=', '/', '.' and '-'"
            )
        if not _PARTITION_COLUMN.match(self.partition_column):
            raise JobTablesError(
                f"rawObjects.partitionColumn: {self.partition_column!r} is not a column name"
            )
        folder = f"{self.partition_column}={{idDevice}}/"
        if not (self.template.startswith(folder) or f"/{folder}" in self.template):
            raise JobTablesError(
                f"{where}: {self.template!r} has no Hive folder {folder!r} for the partition "
                f"column {self.partition_column}"
            )
        pack_names = _PLACEHOLDER.findall(self.pack_template)
        if sorted(pack_names) != ["collection", "packId"]:
            raise JobTablesError(
                f"rawObjects.packTemplate: {self.pack_template!r} must hold each of "
                "{collection}, {packId} once"
            )
        if not _KEY_LITERAL.match(_PLACEHOLDER.sub("", self.pack_template)):
            raise JobTablesError(
                f"rawObjects.packTemplate: {self.pack_template!r} has literal text other than "
                "letters, digits, '_', '=', '/', '.' and '-'"
            )
        if not _PACK_ID.match(self.pack_id_pattern):
            raise JobTablesError(
                f"rawObjects.packIdPattern: {self.pack_id_pattern!r} is not a plain pattern of "
                "classes, counts, digits, letters and '-' (it must read alike in Java)"
            )
        if _PLACEHOLDER.sub("", self.pack_template) == _PLACEHOLDER.sub("", self.template):
            raise JobTablesError("rawObjects: a pack's key and a window's key must differ")
        _check_tag(self.curated_tag, "rawObjects.curatedTag")

    def _regex(self, template: str, groups: bool) -> str:
        parts = {**_KEY_PARTS, "packId": f"(?:{self.pack_id_pattern})"}
        out = []
        for i, text in enumerate(_PLACEHOLDER.split(template)):
            if i % 2:
                part = parts[text]
                out.append(f"(?P<{text}>{part})" if groups else part)
            else:
                out.append(text.replace(".", "\\."))
        return "".join(out)

    @property
    def suffix_pattern(self) -> str:
        """A regular expression (valid in Python and Java) whose group 1 is the key, of a window
        or a pack, at the end of an object's path or URI, after a ``/``: what curate matches
        ``input_file_name()`` with."""
        window = self._regex(self.template, groups=False)
        pack = self._regex(self.pack_template, groups=False)
        return f"(?:^|/)({window}|{pack})$"

    def parse_pack(self, key: str) -> str | None:
        """The collection of a pack's ``key``, or ``None`` for a key not in the pack format."""
        match = re.fullmatch(self._regex(self.pack_template, groups=True), key)
        return None if match is None else match["collection"]

    def parse(self, key: str) -> RawObjectKey | None:
        """The parts of ``key``, or ``None`` for a key not in this format."""
        match = re.fullmatch(self._regex(self.template, groups=True), key)
        if match is None:
            return None
        return RawObjectKey(
            collection=match["collection"],
            id_device=int(match["idDevice"]),
            window_from_ms=int(match["windowFromMs"]),
        )


@dataclass(frozen=True)
class LedgerLag:
    """How far the curate job stays behind the newest file-ledger row (``ledger``).

    Ledger ids are taken at insert, not at commit: a row older than a lag longer than any worker
    statement (``writer_statement_timeout_ms``, the worker pool's ``statement_timeout``) has a
    finished statement, so every lower id is visible or never will be. A lag at or below the
    timeout could skip a row committed late, for good, so it is refused; 0 reads up to the newest
    row and is only sound when no worker can be writing (local runs and tests, after ingestion).
    """

    lag_seconds: int
    writer_statement_timeout_ms: int

    def __post_init__(self) -> None:
        if self.writer_statement_timeout_ms <= 0:
            raise JobTablesError("ledger.writerStatementTimeoutMs must be positive")
        self.check(self.lag_seconds, "ledger.lagSeconds", JobTablesError)

    def check(
        self,
        lag_seconds: int,
        where: str = "the ledger lag",
        error: type[GlueJobError] = JobConfigError,
    ) -> int:
        """``lag_seconds`` if it is 0 or above the writers' statement timeout; raises otherwise."""
        if lag_seconds != 0 and not lag_seconds * 1000 > self.writer_statement_timeout_ms:
            raise error(
                f"{where} of {lag_seconds} s is not above the worker's statement timeout of "
                f"{self.writer_statement_timeout_ms / 1000:g} s: a ledger row committed late "
                "could be skipped for good (0 means no lag, only when no worker is running)"
            )
        return lag_seconds


@dataclass(frozen=True)
class JobColumn:
    name: str
    source: str
    type: str
    spark_type: str
    nullable: bool


def _find_column(columns: tuple[JobColumn, ...], name: str) -> JobColumn | None:
    return next((c for c in columns if c.name == name), None)


@dataclass(frozen=True)
class JobTable:
    """One PostgreSQL table as the registry declares it."""

    name: str
    columns: tuple[JobColumn, ...]
    behaviour: Behaviour
    natural_key: tuple[str, ...]
    watermark: str | None
    tracked: tuple[str, ...]
    #: Iceberg table properties, the same Pulumi declares (pipeline/schema/iceberg.ts).
    properties: Mapping[str, str]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> JobColumn:
        found = _find_column(self.columns, name)
        if found is None:
            raise KeyError(name)
        return found


@dataclass(frozen=True)
class JobCollection:
    """One MongoDB collection: used by the curate job, parsed here so the format is checked once."""

    name: str
    columns: tuple[JobColumn, ...]
    timestamp_column: str
    updated_column: str | None
    natural_key: tuple[str, ...]
    partition: tuple[str, ...]
    sort_order: tuple[str, ...]
    payload: bool
    #: Iceberg table properties, the same Pulumi declares (pipeline/schema/iceberg.ts).
    properties: Mapping[str, str]
    #: The JSON column fields outside the schema fold into (``payloadColumn``); ``None`` when
    #: the collection has no payload.
    payload_column: str | None
    #: How the collection's raw objects are named (``rawObjects``).
    raw_key: RawKeyFormat
    #: Columns whose non-null values the curated day counts add up as cells (``cellColumns``):
    #: a pivoted collection's variable columns, one cell per source reading; empty otherwise.
    cell_columns: tuple[str, ...]
    #: Whether the merge replaces a curated row that differs from the newest extraction of its key
    #: (``updateMatched``): documents that change at the source (alarm), and pivoted rows a late
    #: reading fills in a window extracted again (variable_logs). Otherwise a match is the same
    #: document seen again and is left alone.
    update_matched: bool

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> JobColumn:
        found = _find_column(self.columns, name)
        if found is None:
            raise JobTablesError(f"{self.name} has no column {name}", table=self.name)
        return found


@dataclass(frozen=True)
class JobReport:
    """One report table of the analytics job, as ``pipeline/schema/reports.ts`` declares it.

    Pulumi declares it in Glue with these columns and properties; the job creates it with the same
    when it is missing (local runs) and refuses to write into one whose schema differs.
    """

    name: str
    #: Glue database (Spark namespace) the table belongs to: ``analytics``.
    database: str
    columns: tuple[JobColumn, ...]
    #: Iceberg table properties, the same Pulumi declares (pipeline/schema/iceberg.ts).
    properties: Mapping[str, str]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class ViewColumn:
    """A column a view returns: its registry type and the Spark type it must have."""

    name: str
    type: str
    spark_type: str
    nullable: bool


@dataclass(frozen=True)
class JobView:
    """One analysts' view (``pipeline/reports/views.ts``) as the local analytics job creates it.

    ``sql`` is a Spark SQL ``SELECT`` naming lake tables ``<database>.<table>`` relative to the
    current catalog and other views unqualified (they are session views locally); the view must
    return exactly ``columns``, in order (``lakehouse_glue.analytics.views`` checks it).
    """

    name: str
    #: Glue database the deployment declares the view in (``analytics``).
    database: str
    sql: str
    columns: tuple[ViewColumn, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class JobTables:
    version: int
    payload_column: str
    raw_key: RawKeyFormat
    ledger: LedgerLag
    collections: tuple[JobCollection, ...]
    tables: tuple[JobTable, ...]
    reports: tuple[JobReport, ...]
    #: The analysts' views in creation order (a view after the views it reads).
    views: tuple[JobView, ...]

    def collection(self, name: str) -> JobCollection:
        for collection in self.collections:
            if collection.name == name:
                return collection
        known = ", ".join(c.name for c in self.collections)
        raise JobTablesError(f"unknown collection {name} (known: {known})", table=name)

    def table(self, name: str) -> JobTable:
        for table in self.tables:
            if table.name == name:
                return table
        raise JobTablesError(f"no table {name!r} in the registry's table list", table=name)

    def report(self, name: str) -> JobReport:
        for report in self.reports:
            if report.name == name:
                return report
        known = ", ".join(r.name for r in self.reports)
        raise JobTablesError(f"unknown report table {name} (known: {known})", table=name)

    def view(self, name: str) -> JobView:
        for view in self.views:
            if view.name == name:
                return view
        known = ", ".join(v.name for v in self.views)
        raise JobTablesError(f"unknown view {name} (known: {known})", table=name)

    def select_views(self, names: Sequence[str]) -> tuple[JobView, ...]:
        """The named views, in the order given; an unknown or repeated name fails."""
        _unique(list(names), "view name")
        return tuple(self.view(name) for name in names)

    def select(self, names: Sequence[str] | None) -> tuple[JobTable, ...]:
        """The named tables in registry order (all of them for ``None``); unknown names fail."""
        if names is None:
            return self.tables
        wanted = set(names)
        unknown = sorted(wanted - {t.name for t in self.tables})
        if unknown:
            raise JobTablesError(f"tables not in the registry's table list: {', '.join(unknown)}")
        return tuple(t for t in self.tables if t.name in wanted)


def split_names(text: str | None) -> tuple[str, ...] | None:
    """A comma-separated table list from a job argument; empty means all (``None``)."""
    names = tuple(n.strip() for n in (text or "").split(",") if n.strip())
    return names or None


def load_job_tables(source: str | os.PathLike[str]) -> JobTables:
    """Load from inline JSON, a local path, or an ``s3://`` URI (how Glue receives it)."""
    return parse_job_tables(_read_json(str(source)))


def _read_json(source: str) -> Any:
    text = source.strip()
    if text.startswith("{"):
        raw = text
    elif text.startswith("s3://"):
        raw = _read_s3(text)
    else:
        path = Path(text)
        if not path.is_file():
            raise JobTablesError(f"job tables file {path} does not exist")
        raw = path.read_text(encoding="utf-8")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise JobTablesError(f"job tables are not valid JSON: {error}") from error


def _read_s3(uri: str) -> str:
    # boto3 ships with Glue and with the local venv (moto); imported here so that only this path
    # pays for it. AWS_ENDPOINT_URL points it at moto locally.
    import boto3

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise JobTablesError(f"job tables URI {uri!r} is not s3://bucket/key")
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    return cast(bytes, body.read()).decode("utf-8")


def parse_job_tables(data: Any) -> JobTables:
    """Check and convert the registry JSON; every problem names where it is."""
    obj = _mapping(data, "job tables")
    version = obj.get("version")
    if version != JOB_TABLES_VERSION:
        raise JobTablesError(
            f"job tables version {version!r} is not supported (this job reads version "
            f"{JOB_TABLES_VERSION}); deploy the Glue job and the registry together"
        )
    payload_column = _identifier(obj.get("payloadColumn"), "payloadColumn")
    raw = _mapping(obj.get("rawObjects"), "rawObjects")
    raw_key = RawKeyFormat(
        template=_string(raw.get("keyTemplate"), "rawObjects.keyTemplate"),
        partition_column=_string(raw.get("partitionColumn"), "rawObjects.partitionColumn"),
        pack_template=_string(raw.get("packTemplate"), "rawObjects.packTemplate"),
        pack_id_pattern=_string(raw.get("packIdPattern"), "rawObjects.packIdPattern"),
        curated_tag=_tag(raw.get("curatedTag"), "rawObjects.curatedTag"),
    )
    ledger_obj = _mapping(obj.get("ledger"), "ledger")
    ledger = LedgerLag(
        lag_seconds=_integer(ledger_obj.get("lagSeconds"), "ledger.lagSeconds"),
        writer_statement_timeout_ms=_integer(
            ledger_obj.get("writerStatementTimeoutMs"), "ledger.writerStatementTimeoutMs"
        ),
    )
    tables = tuple(_table(t, i) for i, t in enumerate(_list(obj.get("tables"), "tables")))
    collections = tuple(
        _collection(c, i, payload_column, raw_key)
        for i, c in enumerate(_list(obj.get("collections", []), "collections"))
    )
    reports = tuple(_report(r, i) for i, r in enumerate(_list(obj.get("reports"), "reports")))
    views = tuple(_view(v, i) for i, v in enumerate(_list(obj.get("views"), "views")))
    _unique([t.name for t in tables], "table")
    _unique([c.name for c in collections], "collection")
    _unique([r.name for r in reports], "report table")
    _unique([v.name for v in views], "view")
    return JobTables(
        version=version,
        payload_column=payload_column,
        raw_key=raw_key,
        ledger=ledger,
        collections=collections,
        tables=tables,
        reports=reports,
        views=views,
    )


def _table(data: Any, index: int) -> JobTable:
    obj = _mapping(data, f"tables[{index}]")
    name = _identifier(obj.get("name"), f"tables[{index}].name")
    where = f"table {name}"
    columns = _columns(obj.get("columns"), where)
    names = {c.name for c in columns}
    behaviour = obj.get("behaviour")
    if behaviour not in BEHAVIOURS:
        raise JobTablesError(
            f"{where}: behaviour {behaviour!r} is not one of {', '.join(BEHAVIOURS)}", table=name
        )
    natural_key = _names(obj.get("naturalKey"), f"{where}.naturalKey", names, name)
    if not natural_key:
        raise JobTablesError(f"{where}: naturalKey is empty", table=name)
    watermark_raw = obj.get("watermark")
    watermark = (
        None
        if watermark_raw is None
        else _names([watermark_raw], f"{where}.watermark", names, name)[0]
    )
    tracked = _names(obj.get("tracked", []), f"{where}.tracked", names, name)
    if behaviour == "append":
        if watermark is None:
            raise JobTablesError(f"{where}: an append table needs a watermark column", table=name)
        if next(c for c in columns if c.name == watermark).spark_type not in ("bigint", "int"):
            # Partitioned JDBC reads and `> watermark` need an increasing integer key.
            raise JobTablesError(
                f"{where}: watermark {watermark} must be an integer column", table=name
            )
    if behaviour == "merge" and not tracked:
        raise JobTablesError(f"{where}: a merge table needs tracked columns", table=name)
    return JobTable(
        name=name,
        columns=columns,
        behaviour=cast(Behaviour, behaviour),
        natural_key=natural_key,
        watermark=watermark,
        tracked=tracked,
        properties=_properties(obj.get("properties"), f"{where}.properties"),
    )


def _collection(data: Any, index: int, payload_column: str, raw_key: RawKeyFormat) -> JobCollection:
    obj = _mapping(data, f"collections[{index}]")
    name = _identifier(obj.get("name"), f"collections[{index}].name")
    where = f"collection {name}"
    columns = _columns(obj.get("columns"), where)
    names = {c.name for c in columns}
    updated = obj.get("updatedColumn")
    payload = obj.get("payload", False)
    if not isinstance(payload, bool):
        raise JobTablesError(f"{where}.payload must be true or false", table=name)
    if payload:
        # Drift is folded into this column as JSON text: it must be there, a nullable string.
        column = _find_column(columns, payload_column)
        if column is None or column.spark_type != "string" or not column.nullable:
            raise JobTablesError(
                f"{where}: has a payload but no nullable string column {payload_column}",
                table=name,
            )
    timestamp_column = _names([obj.get("timestampColumn")], f"{where}.timestampColumn", names)[0]
    updated_column = (
        None if updated is None else _names([updated], f"{where}.updatedColumn", names)[0]
    )
    natural_key = _names(obj.get("naturalKey"), f"{where}.naturalKey", names)
    cell_columns = _names(obj.get("cellColumns"), f"{where}.cellColumns", names, name)
    _unique(list(cell_columns), f"{where} cell column")
    # A cell is a reading beside the row's identity: a key, the instant or the payload never is.
    not_cells = {"id_device", timestamp_column, payload_column, *natural_key}
    wrong = [c for c in cell_columns if c in not_cells]
    if wrong:
        raise JobTablesError(
            f"{where}.cellColumns: {', '.join(wrong)} identify a row, they hold no readings",
            table=name,
        )
    update_matched = obj.get("updateMatched")
    if not isinstance(update_matched, bool):
        raise JobTablesError(f"{where}.updateMatched must be true or false", table=name)
    if updated_column is not None and not update_matched:
        # Its documents change at the source: an insert-only merge would keep the first state.
        raise JobTablesError(
            f"{where}: updatedColumn {updated_column} needs updateMatched, or a change at the "
            "source never reaches curated",
            table=name,
        )
    return JobCollection(
        name=name,
        columns=columns,
        timestamp_column=timestamp_column,
        updated_column=updated_column,
        natural_key=natural_key,
        partition=tuple(_string(p, f"{where}.partition") for p in _list(obj.get("partition"), "")),
        sort_order=_names(obj.get("sortOrder", []), f"{where}.sortOrder", names),
        payload=payload,
        properties=_properties(obj.get("properties"), f"{where}.properties"),
        payload_column=payload_column if payload else None,
        raw_key=raw_key,
        cell_columns=cell_columns,
        update_matched=update_matched,
    )


def _report(data: Any, index: int) -> JobReport:
    obj = _mapping(data, f"reports[{index}]")
    name = _identifier(obj.get("name"), f"reports[{index}].name")
    where = f"report {name}"
    return JobReport(
        name=name,
        database=_identifier(obj.get("database"), f"{where}.database"),
        columns=_columns(obj.get("columns"), where, REPORT_SPARK_TYPES),
        properties=_properties(obj.get("properties"), f"{where}.properties"),
    )


def _view(data: Any, index: int) -> JobView:
    obj = _mapping(data, f"views[{index}]")
    name = _identifier(obj.get("name"), f"views[{index}].name")
    where = f"view {name}"
    sql = obj.get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise JobTablesError(f"{where}.sql: expected a non-empty SELECT, got {sql!r}", table=name)
    columns = []
    for i, raw in enumerate(_list(obj.get("columns"), f"{where}.columns")):
        col = _mapping(raw, f"{where}.columns[{i}]")
        column = _identifier(col.get("name"), f"{where}.columns[{i}].name")
        spark_type = col.get("sparkType")
        if spark_type not in REPORT_SPARK_TYPES:
            raise JobTablesError(
                f"{where}.{column}: sparkType {spark_type!r} is not one of "
                f"{', '.join(sorted(REPORT_SPARK_TYPES))}",
                table=name,
            )
        nullable = col.get("nullable")
        if not isinstance(nullable, bool):
            raise JobTablesError(f"{where}.{column}: nullable must be true or false", table=name)
        columns.append(
            ViewColumn(
                name=column,
                type=_string(col.get("type"), f"{where}.{column}.type"),
                spark_type=spark_type,
                nullable=nullable,
            )
        )
    if not columns:
        raise JobTablesError(f"{where}: no columns", table=name)
    _unique([c.name for c in columns], f"{where} column")
    return JobView(
        name=name,
        database=_identifier(obj.get("database"), f"{where}.database"),
        sql=sql,
        columns=tuple(columns),
    )


def _tag(data: Any, where: str) -> ObjectTag:
    obj = _mapping(data, where)
    # Types only: S3's rules (an empty value is a tag too) are ``_check_tag``'s.
    return ObjectTag(
        key=_text(obj.get("key"), f"{where}.key"), value=_text(obj.get("value"), f"{where}.value")
    )


def _properties(data: Any, where: str) -> Mapping[str, str]:
    obj = _mapping(data, where)
    return MappingProxyType({_string(k, where): _string(v, f"{where}.{k}") for k, v in obj.items()})


def _columns(
    data: Any, where: str, spark_types: frozenset[str] = SPARK_TYPES
) -> tuple[JobColumn, ...]:
    columns = []
    for i, raw in enumerate(_list(data, f"{where}.columns")):
        obj = _mapping(raw, f"{where}.columns[{i}]")
        name = _identifier(obj.get("name"), f"{where}.columns[{i}].name")
        spark_type = obj.get("sparkType")
        if spark_type not in spark_types:
            raise JobTablesError(
                f"{where}.{name}: sparkType {spark_type!r} is not one of "
                f"{', '.join(sorted(spark_types))}"
            )
        nullable = obj.get("nullable")
        if not isinstance(nullable, bool):
            raise JobTablesError(f"{where}.{name}: nullable must be true or false")
        columns.append(
            JobColumn(
                name=name,
                source=_string(obj.get("source"), f"{where}.{name}.source"),
                type=_string(obj.get("type"), f"{where}.{name}.type"),
                spark_type=spark_type,
                nullable=nullable,
            )
        )
    if not columns:
        raise JobTablesError(f"{where}: no columns")
    _unique([c.name for c in columns], f"{where} column")
    return tuple(columns)


def _names(data: Any, where: str, known: set[str], table: str | None = None) -> tuple[str, ...]:
    names = tuple(_identifier(n, where) for n in _list(data, where))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise JobTablesError(f"{where}: {', '.join(unknown)} not among the columns", table=table)
    return names


def _identifier(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise JobTablesError(f"{where}: {value!r} is not a lowercase snake_case name")
    return value


def _integer(value: Any, where: str) -> int:
    # bool is an int in Python; JSON's true is not a number of seconds.
    if not isinstance(value, int) or isinstance(value, bool):
        raise JobTablesError(f"{where}: expected an integer, got {value!r}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise JobTablesError(f"{where}: expected a string, got {value!r}")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise JobTablesError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise JobTablesError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise JobTablesError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise JobTablesError(f"duplicate {what} {name!r}")
        seen.add(name)
