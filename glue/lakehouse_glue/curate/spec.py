"""The collections part of the registry's job-tables JSON, as the curate and analytics jobs read it.

The TypeScript registry (``pipeline/schema/job-tables.ts``) is the single source of truth; this
module only parses its output (``lakehouse.sh registry job-tables``, or the Glue job argument) into
frozen objects and refuses a document it does not understand, so a job never guesses a column.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from lakehouse_glue.errors import JobConfigError

#: The job-tables format this code reads; a newer registry must be deployed with newer jobs.
SUPPORTED_VERSION = 1
PAYLOAD_COLUMN = "payload"


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    source: str
    type: str
    spark_type: str
    nullable: bool


@dataclass(frozen=True)
class CollectionSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    timestamp_column: str
    #: A further timestamp that changes on the source document (alarm: ``reset_ts``); None for
    #: collections whose documents never change after they are written.
    updated_column: str | None
    natural_key: tuple[str, ...]
    #: Iceberg partition transforms as Spark DDL spells them: ``bucket(16, id_device)``.
    partition: tuple[str, ...]
    sort_order: tuple[str, ...]
    payload: bool

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise JobConfigError(f"{self.name} has no column {name}", table=self.name)


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    behaviour: str
    natural_key: tuple[str, ...]


@dataclass(frozen=True)
class JobTables:
    version: int
    collections: tuple[CollectionSpec, ...]
    tables: tuple[TableSpec, ...]

    def collection(self, name: str) -> CollectionSpec:
        for spec in self.collections:
            if spec.name == name:
                return spec
        known = ", ".join(c.name for c in self.collections)
        raise JobConfigError(f"unknown collection {name} (known: {known})", table=name)

    def table(self, name: str) -> TableSpec:
        for spec in self.tables:
            if spec.name == name:
                return spec
        raise JobConfigError(f"unknown table {name}", table=name)


def _require(obj: dict[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise JobConfigError(f"job tables: {where} lacks {key!r}")
    return obj[key]


def _columns(raw: list[dict[str, Any]], where: str) -> tuple[ColumnSpec, ...]:
    return tuple(
        ColumnSpec(
            name=_require(c, "name", where),
            source=_require(c, "source", where),
            type=_require(c, "type", where),
            spark_type=_require(c, "sparkType", where),
            nullable=bool(_require(c, "nullable", where)),
        )
        for c in raw
    )


def parse_job_tables(document: dict[str, Any]) -> JobTables:
    version = _require(document, "version", "document")
    if version != SUPPORTED_VERSION:
        raise JobConfigError(
            f"job tables version {version}; this job reads version {SUPPORTED_VERSION}"
        )
    collections = []
    for raw in _require(document, "collections", "document"):
        name = _require(raw, "name", "collection")
        where = f"collection {name}"
        spec = CollectionSpec(
            name=name,
            columns=_columns(_require(raw, "columns", where), where),
            timestamp_column=_require(raw, "timestampColumn", where),
            updated_column=raw.get("updatedColumn"),
            natural_key=tuple(_require(raw, "naturalKey", where)),
            partition=tuple(_require(raw, "partition", where)),
            sort_order=tuple(_require(raw, "sortOrder", where)),
            payload=bool(_require(raw, "payload", where)),
        )
        keys = {*spec.natural_key, *spec.sort_order, spec.timestamp_column}
        if spec.updated_column:
            keys.add(spec.updated_column)
        missing = sorted(keys - set(spec.column_names))
        if missing:
            raise JobConfigError(f"{where}: {', '.join(missing)} not among its columns", table=name)
        collections.append(spec)
    tables = [
        TableSpec(
            name=_require(raw, "name", "table"),
            columns=_columns(_require(raw, "columns", "table"), f"table {raw.get('name')}"),
            behaviour=_require(raw, "behaviour", "table"),
            natural_key=tuple(_require(raw, "naturalKey", "table")),
        )
        for raw in document.get("tables", [])
    ]
    return JobTables(version=version, collections=tuple(collections), tables=tuple(tables))


def load_job_tables(path: str | os.PathLike[str]) -> JobTables:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        raise JobConfigError(f"cannot read job tables {path}: {error}") from error
    return parse_job_tables(document)
