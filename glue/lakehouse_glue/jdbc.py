"""Reading PostgreSQL through Spark's JDBC source: options, partitioned reads, errors by name.

The same options work locally (driver jar from ``glue/jars/pom.xml``) and in Glue (its bundled
PostgreSQL driver, settings from the Glue connection). Spark's JDBC reader is documented at
https://spark.apache.org/docs/3.5.4/sql-data-sources-jdbc.html.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from lakehouse_glue.errors import (
    GlueJobError,
    SchemaMismatchError,
    SourceTableMissingError,
    SourceUnavailableError,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Row, SparkSession

    from lakehouse_glue.job_tables import JobTable

DRIVER = "org.postgresql.Driver"
# Without a fetch size the PostgreSQL driver buffers the whole result set in memory, which for
# the 22 GB history table means an executor OOM; with one (and autocommit off, which Spark's
# Postgres dialect sets when fetchsize > 0) it streams through a server-side cursor.
DEFAULT_FETCH_SIZE = 10_000
# Partitions of an append increment: about this many ids each, so a small daily increment is one
# query and the initial load of a large history is split across the executors' cores.
DEFAULT_PARTITION_ROWS = 500_000
DEFAULT_MAX_PARTITIONS = 8
# Fail fast on an unreachable host instead of the driver's default of waiting forever for the
# socket (a wrong security group otherwise hangs the job until Glue's timeout).
DEFAULT_CONNECT_TIMEOUT_S = 10
#: What ``pg_stat_activity`` shows for the job's sessions; each job names itself.
DEFAULT_APPLICATION_NAME = "lakehouse-postgres_extract"

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class JdbcSource:
    """Where and how to read PostgreSQL. The password never appears in ``repr`` or logs."""

    url: str
    user: str
    password: str = field(repr=False)
    schema: str = "public"
    fetch_size: int = DEFAULT_FETCH_SIZE
    partition_rows: int = DEFAULT_PARTITION_ROWS
    max_partitions: int = DEFAULT_MAX_PARTITIONS
    connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S
    application_name: str = DEFAULT_APPLICATION_NAME

    def __post_init__(self) -> None:
        if not self.url.startswith("jdbc:postgresql://"):
            raise ValueError(f"not a PostgreSQL JDBC URL: {self.url!r}")
        if not _IDENTIFIER.match(self.schema):
            raise ValueError(f"source schema {self.schema!r} is not a plain lowercase name")
        if self.fetch_size < 1 or self.partition_rows < 1 or self.max_partitions < 1:
            raise ValueError("fetch_size, partition_rows and max_partitions must be positive")


def jdbc_from_database_url(database_url: str) -> tuple[str, str, str]:
    """``postgres://user:password@host:port/db`` (the TypeScript side's form) as JDBC url, user,
    password."""
    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
        raise ValueError("expected postgres://user:password@host:port/database")
    database = parts.path.lstrip("/")
    if not database:
        raise ValueError("the database URL names no database")
    port = f":{parts.port}" if parts.port else ""
    url = f"jdbc:postgresql://{parts.hostname}{port}/{database}"
    return url, unquote(parts.username or ""), unquote(parts.password or "")


def jdbc_url_from_glue_conf(conf: Mapping[str, Any], database: str) -> str:
    """The JDBC URL of a Glue connection (``GlueContext.extract_jdbc_conf``) with a database.

    ``fullUrl`` carries the database; ``url`` may stop at the port, depending on the Glue
    version, so the database is appended when it names none.
    """
    full = conf.get("fullUrl")
    if full:
        return str(full)
    url = str(conf["url"]).rstrip("/")
    if not url.startswith("jdbc:postgresql://"):
        raise ValueError(f"the Glue connection's URL is not PostgreSQL: {url!r}")
    has_database = "/" in url.removeprefix("jdbc:postgresql://")
    return url if has_database else f"{url}/{database}"


def base_options(source: JdbcSource) -> dict[str, str]:
    return {
        "url": source.url,
        "user": source.user,
        "password": source.password,
        "driver": DRIVER,
        "fetchsize": str(source.fetch_size),
        # Passed through to the driver as connection properties.
        "connectTimeout": str(source.connect_timeout_s),
        "ApplicationName": source.application_name,
        "readOnly": "true",
    }


def quote(name: str) -> str:
    """A PostgreSQL identifier; names are checked snake_case already, quoting keeps them exact."""
    return '"' + name.replace('"', '""') + '"'


def select_sql(source: JdbcSource, table: JobTable, where: str | None = None) -> str:
    """The subquery Spark reads: the registry's columns by name, never ``*``, so a dropped or
    renamed column fails here and a retyped one shows in the schema Spark resolves."""
    columns = ", ".join(quote(c.source) + " AS " + quote(c.name) for c in table.columns)
    sql = f"SELECT {columns} FROM {quote(source.schema)}.{quote(table.name)}"
    if where:
        sql += f" WHERE {where}"
    return f"({sql}) AS src"


def partition_options(
    column: str, lower: int, upper: int, partition_rows: int, max_partitions: int
) -> dict[str, str]:
    """Spark's range partitioning over ``[lower, upper]`` of an integer key.

    Spark splits the range into equal strides and only uses the bounds to pick them (rows
    outside still go to the first or last partition), so the query must filter the range itself.
    """
    if upper < lower:
        raise ValueError(f"empty range [{lower}, {upper}]")
    span = upper - lower + 1
    partitions = max(1, min(max_partitions, math.ceil(span / partition_rows)))
    if partitions == 1:
        return {}
    return {
        "partitionColumn": column,
        "lowerBound": str(lower),
        # Spark's upper bound is exclusive in the stride arithmetic.
        "upperBound": str(upper + 1),
        "numPartitions": str(partitions),
    }


def read_table(
    spark: SparkSession,
    source: JdbcSource,
    table: JobTable,
    where: str | None = None,
    partitioning: dict[str, str] | None = None,
) -> DataFrame:
    """Read the table's registry columns; check their Spark types against the registry.

    Spark resolves the schema (one ``WHERE 1=0`` query) here, so a missing table or column and a
    refused connection surface now, named, before anything is written.
    """
    options = {**base_options(source), "dbtable": select_sql(source, table, where)}
    options.update(partitioning or {})
    try:
        df = spark.read.format("jdbc").options(**options).load()
    except Exception as error:
        raise as_job_error(error, table.name) from error
    check_schema(table, [(f.name, f.dataType.simpleString()) for f in df.schema.fields])
    return df


def check_schema(table: JobTable, source_columns: Sequence[tuple[str, str]]) -> None:
    """Compare (name, Spark type) pairs of the read against the registry, all at once."""
    found = dict(source_columns)
    problems = []
    for col in table.columns:
        got = found.get(col.name)
        if got is None:
            problems.append(f"{col.name}: missing in the source")
        elif got != col.spark_type:
            problems.append(f"{col.name}: registry {col.spark_type}, source {got}")
    if problems:
        raise SchemaMismatchError(
            f"source columns differ from the registry: {'; '.join(problems)}", table=table.name
        )


def query(spark: SparkSession, source: JdbcSource, sql: str, table: str) -> list[Row]:
    """A small query (bounds, counts) through the same JDBC path as the data."""
    options = {**base_options(source), "query": sql}
    try:
        return spark.read.format("jdbc").options(**options).load().collect()
    except Exception as error:
        raise as_job_error(error, table) from error


# PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/15/errcodes-appendix.html) by meaning.
_TABLE_MISSING = {"42P01", "3F000"}  # undefined_table, invalid_schema_name
_COLUMN_MISSING = {"42703"}  # undefined_column
_UNAVAILABLE_CLASSES = ("08", "53", "57")  # connection, insufficient resources, operator
_TERMINAL_ACCESS_CLASSES = ("28",)  # invalid authorization: a retry sends the same password
_NOT_NULL = "Null value appeared in non-nullable field"


def as_job_error(error: BaseException, table: str) -> GlueJobError:
    """Name a Spark/JDBC failure by what it means for the table, or keep it as a bug."""
    if isinstance(error, GlueJobError):
        return error
    state, message = _psql_state(error)
    text = message or _first_line(error)
    if state in _TABLE_MISSING:
        return SourceTableMissingError(f"source table not found: {text}", table=table)
    if state in _COLUMN_MISSING:
        return SchemaMismatchError(f"source column not found: {text}", table=table)
    if state is not None and state.startswith(_UNAVAILABLE_CLASSES):
        return SourceUnavailableError(f"source database unavailable: {text}", table=table)
    if state is not None and state.startswith(_TERMINAL_ACCESS_CLASSES):
        return SourceUnavailableError(
            f"source database refused the login: {text}", table=table, retryable=False
        )
    if _NOT_NULL in str(error):
        return SchemaMismatchError(
            "the source holds NULL in a column the registry declares NOT NULL", table=table
        )
    if state is not None:
        return GlueJobError(f"source query failed (SQLSTATE {state}): {text}", table=table)
    return GlueJobError(f"unexpected {type(error).__name__}: {_first_line(error)}", table=table)


def _psql_state(error: BaseException) -> tuple[str | None, str | None]:
    """The SQLSTATE and message of the PostgreSQL driver exception behind a py4j error, if any."""
    java = getattr(error, "java_exception", None) or getattr(error, "_origin", None)
    seen = 0
    while java is not None and seen < 20:
        seen += 1
        try:
            if java.getClass().getName() == "org.postgresql.util.PSQLException":
                return str(java.getSQLState()), str(java.getMessage())
            java = java.getCause()
        except Exception:
            break
    # Task failures reach the driver as text only; the driver's messages are recognisable.
    text = str(error)
    for pattern, state in (
        (r"PSQLException: ERROR: relation .* does not exist", "42P01"),
        (r"PSQLException: ERROR: column .* does not exist", "42703"),
        (r"PSQLException: Connection to .* refused", "08001"),
        (r"PSQLException: An I/O error occurred", "08006"),
    ):
        match = re.search(pattern, text)
        if match:
            return state, match.group(0).removeprefix("PSQLException: ")
    return None, None


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    # py4j puts "An error occurred while calling o123.load." first; the cause is next.
    for line in lines:
        if not line.startswith("An error occurred while calling"):
            return line.strip()[:500]
    return lines[0][:500] if lines else type(error).__name__


def as_int(value: Any) -> int | None:
    return None if value is None else int(value)
