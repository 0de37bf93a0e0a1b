"""The three Glue jobs as the shared entry runs them: each job's own arguments, and ``prepare``,
which turns the checked arguments into the run (ADR 0012).

``prepare`` runs before any Spark work: it builds the job's config from the arguments and the
job tables and raises a ``GlueJobError`` or ``ValueError`` for anything wrong, which the entry
reports as a configuration error. The run it returns does the job on a Spark session and returns
its summary (a JSON object); a ``GlueJobError`` from it is a failed run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from lakehouse_glue import jdbc
from lakehouse_glue.analytics.alarms_report import (
    DAILY_TABLE,
    TIME_TO_RESET_TABLE,
    build_alarms_report,
    default_sources,
)
from lakehouse_glue.analytics.dashboard_data import write_dashboard_data
from lakehouse_glue.analytics.device_history import VERSIONS_TABLE, record_device_history
from lakehouse_glue.analytics.report_summary import read_report, summary
from lakehouse_glue.analytics.views import VIEW_SOURCE_NAMESPACES, create_views
from lakehouse_glue.curate import CurateSettings, TableLayout, compact, run_curate
from lakehouse_glue.curate.curate import DEFAULT_MAX_FILES_PER_COMMIT, ledger_lag
from lakehouse_glue.curate.file_ledger import support_source
from lakehouse_glue.curate.raw_marks import raw_marker
from lakehouse_glue.curate.tables import CURATED_NAMESPACE
from lakehouse_glue.entry.options import Option, Values
from lakehouse_glue.errors import JobConfigError
from lakehouse_glue.job_tables import JobTables
from lakehouse_glue.postgres_extract import (
    DEFAULT_MAX_SHRINK_PERCENT,
    DEFAULT_NAMESPACE,
    ExtractConfig,
    ShrinkGuard,
    run,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Summary = dict[str, Any]


@dataclass(frozen=True)
class DatabaseLogin:
    """Where a job's PostgreSQL database is and who it logs in as (never in ``repr``)."""

    url: str
    user: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Session:
    """What a run gets from its edge: the Spark session, where to print a result line, and where
    the catalog lives (for messages: the warehouse folder locally, the catalog in Glue)."""

    spark: SparkSession
    emit: Callable[[Mapping[str, Any]], None]
    location: str


Run = Callable[[Session], Summary]


@dataclass(frozen=True)
class JobDefinition:
    name: str
    description: str
    options: tuple[Option, ...]
    prepare: Callable[[Values, JobTables, DatabaseLogin | None], Run]
    #: The database a job reads over JDBC, as the name a Glue connection's URL may leave out;
    #: ``None`` for a job without one.
    database: Callable[[Values], str] | None = None


def _login(login: DatabaseLogin | None, job: str) -> DatabaseLogin:
    if login is None:  # the entry gives one to every job that declares a database
        raise TypeError(f"{job} reads a database but got no login")
    return login


# ---------------------------------------------------------------------------------------------
# postgres_extract
# ---------------------------------------------------------------------------------------------

POSTGRES_EXTRACT = "postgres_extract"


def _prepare_postgres_extract(
    values: Values, job_tables: JobTables, login: DatabaseLogin | None
) -> Run:
    login = _login(login, POSTGRES_EXTRACT)
    tables = values.names("tables")
    allow_shrink = values.names("allow_shrink") or ()
    # A misspelt table would force nothing and leave the operator wondering: refused by name.
    job_tables.select(allow_shrink)
    config = ExtractConfig(
        source=jdbc.JdbcSource(
            url=login.url,
            user=login.user,
            password=login.password,
            schema=values.text("source_schema"),
            fetch_size=values.integer("fetch_size"),
            partition_rows=values.integer("partition_rows"),
            max_partitions=values.integer("max_partitions"),
        ),
        job_tables=job_tables,
        catalog=values.text("catalog"),
        namespace=values.text("namespace"),
        tables=tables,
        shrink=ShrinkGuard(values.integer("max_shrink_percent"), frozenset(allow_shrink)),
    )
    job_tables.select(tables)

    def run_job(session: Session) -> Summary:
        # One line per table as it finishes; a failed table raises TablesFailedError at the end.
        results = run(session.spark, config, on_result=lambda r: session.emit(r.to_json()))
        return {"tables": len(results), "rows_written": sum(r.rows_written for r in results)}

    return run_job


_POSTGRES_EXTRACT_OPTIONS = (
    Option(
        "namespace", "Iceberg namespace (Glue database) of the tables", default=DEFAULT_NAMESPACE
    ),
    Option("tables", "comma-separated subset of the registry's tables", kind="names"),
    Option(
        "source_database",
        "the database, when the Glue connection's URL names none",
        default="ddc",
        where="glue",
    ),
    Option("source_schema", "PostgreSQL schema of the source tables", default="public"),
    Option(
        "fetch_size", "rows per JDBC fetch", kind="int", default=jdbc.DEFAULT_FETCH_SIZE, minimum=1
    ),
    Option(
        "partition_rows",
        "keys per partition of an append read",
        kind="int",
        default=jdbc.DEFAULT_PARTITION_ROWS,
        minimum=1,
    ),
    Option(
        "max_partitions",
        "parallel ranges of an append read, at most",
        kind="int",
        default=jdbc.DEFAULT_MAX_PARTITIONS,
        minimum=1,
    ),
    Option(
        "max_shrink_percent",
        "a replace or merge dropping more of a lake table's rows than this (or all of them) "
        "fails that table, unless --allow_shrink names it",
        kind="int",
        default=DEFAULT_MAX_SHRINK_PERCENT,
    ),
    Option(
        "allow_shrink",
        "comma-separated tables this run may shrink or empty anyway: an operator's decision "
        "for one run, never a default",
        kind="names",
    ),
)


# ---------------------------------------------------------------------------------------------
# mongodb_curate
# ---------------------------------------------------------------------------------------------

MONGODB_CURATE = "mongodb_curate"
#: The support database, when the Glue connection's URL names none.
SUPPORT_DATABASE = "support"


def _prepare_mongodb_curate(
    values: Values, job_tables: JobTables, login: DatabaseLogin | None
) -> Run:
    login = _login(login, MONGODB_CURATE)
    names = values.names("collections")
    for name in names or ():
        job_tables.collection(name)
    raw_root = values.text("raw_location")
    settings = CurateSettings(
        catalog=values.text("catalog"),
        raw_root=raw_root,
        namespace=values.text("namespace"),
        # Unset: the registry's table properties (what Pulumi declares in Glue).
        layout=TableLayout(
            values.optional_integer("target_file_size_bytes"), values.optional_text("compression")
        ),
        lag_seconds=values.optional_integer("lag_seconds"),
        max_files_per_commit=values.integer("max_files_per_commit"),
        # Raw in S3: its lifecycle expires the objects tagged as curated. A local folder: none.
        mark_curated=raw_marker(raw_root, job_tables.raw_key.curated_tag),
    )
    # A lag the workers' statement timeout makes unsafe is refused before anything runs.
    ledger_lag(job_tables, settings)
    ledger = support_source(login.url, login.user, login.password)
    compact_after = values.flag("compact")

    def run_job(session: Session) -> Summary:
        results = run_curate(session.spark, job_tables, settings, ledger, names)
        compactions = (
            [asdict(compact(session.spark, r.table)) for r in results] if compact_after else []
        )
        return {"collections": [asdict(r) for r in results], "compactions": compactions}

    return run_job


_MONGODB_CURATE_OPTIONS = (
    Option(
        "raw_location",
        "the raw layer's root: s3://bucket/ in AWS, a folder locally",
        required=True,
    ),
    Option(
        "namespace", "Iceberg namespace (Glue database) of the tables", default=CURATED_NAMESPACE
    ),
    Option("collections", "comma-separated subset of the registry's collections", kind="names"),
    Option(
        "lag_seconds",
        "stay this far behind the newest file-ledger row (default: the job tables' "
        "ledger.lagSeconds); above the workers' statement timeout, or 0 when no worker runs",
        kind="int",
    ),
    Option(
        "max_files_per_commit",
        "raw objects per Iceberg commit",
        kind="int",
        default=DEFAULT_MAX_FILES_PER_COMMIT,
        minimum=1,
    ),
    Option(
        "target_file_size_bytes",
        "override the registry's write.target-file-size-bytes",
        kind="int",
        minimum=1,
    ),
    Option("compression", "override the registry's write.parquet.compression-codec"),
    Option("compact", "compact each table after curating", kind="flag", default=False),
)


# ---------------------------------------------------------------------------------------------
# analytics
# ---------------------------------------------------------------------------------------------

ANALYTICS = "analytics"


def _prepare_analytics(values: Values, job_tables: JobTables, login: DatabaseLogin | None) -> Run:
    catalog = values.text("catalog")
    daily = job_tables.report(DAILY_TABLE)
    job_tables.report(TIME_TO_RESET_TABLE)
    namespace = values.optional_text("namespace") or daily.database
    mongodb_namespace = values.text("mongodb_namespace")
    postgres_namespace = values.text("postgres_namespace")
    sources = default_sources(catalog, mongodb_namespace, postgres_namespace)
    local = values.mode == "local"
    dashboard_data = values.optional_text("dashboard_data") if local else None
    view_names = values.names("dashboard_views") if local else None
    if (dashboard_data is None) != (view_names is None):
        raise JobConfigError("--dashboard-data and --dashboard-views go together")
    # Unknown or repeated view names are refused before any Spark work.
    dashboard_views = job_tables.select_views(view_names or ())
    if dashboard_data and (mongodb_namespace, postgres_namespace) != VIEW_SOURCE_NAMESPACES:
        raise JobConfigError(
            "--dashboard-data reads the views, whose SQL reads the "
            f"{' and '.join(VIEW_SOURCE_NAMESPACES)} namespaces of the catalog: it cannot be "
            f"combined with --mongodb-namespace {mongodb_namespace} / --postgres-namespace "
            f"{postgres_namespace}"
        )
    if dashboard_data and namespace != daily.database:
        raise JobConfigError(
            f"--dashboard-data reads the views, and device_history reads the {daily.database} "
            f"namespace: it cannot be combined with --namespace {namespace}"
        )

    def run_job(session: Session) -> Summary:
        started = time.monotonic()
        counts = build_alarms_report(
            session.spark,
            catalog,
            sources,
            namespace,
            job_tables=job_tables,
            # Locally the job created its tables itself: one left by an older declaration is
            # rebuilt (its contents are recomputed every run anyway). In Glue they are Pulumi's.
            recreate_mismatched=local,
        )
        history = record_device_history(
            session.spark,
            catalog,
            sources.devices,
            namespace,
            job_tables=job_tables,
            recreate_mismatched=local,
        )
        counts[VERSIONS_TABLE] = history.rows
        result: Summary = {
            "tables": counts,
            "device_history": history.to_json(),
            "seconds": round(time.monotonic() - started, 3),
        }
        result["report"] = summary(read_report(session.spark, catalog, namespace))
        if dashboard_data:
            create_views(session.spark, catalog, job_tables)
            written = write_dashboard_data(session.spark, dashboard_views, dashboard_data)
            result["dashboard_data"] = {"path": str(written.path), "rows": written.rows}
        return result

    return run_job


_ANALYTICS_OPTIONS = (
    Option("namespace", "write the report tables here instead of their declared database"),
    Option("mongodb_namespace", "namespace of the curated collections", default="mongodb"),
    Option("postgres_namespace", "namespace of the postgres tables", default="postgres"),
    Option(
        "dashboard_data",
        "also create the analysts' views and write the rows of --dashboard-views to this JSON "
        "file, which the local dashboard renders (in AWS, QuickSight reads the views)",
        where="local",
    ),
    Option(
        "dashboard_views",
        "comma-separated views whose rows --dashboard-data holds (the report's datasets)",
        kind="names",
        where="local",
    ),
)


JOBS: dict[str, JobDefinition] = {
    POSTGRES_EXTRACT: JobDefinition(
        POSTGRES_EXTRACT,
        "PostgreSQL ddc tables into Iceberg (the registry's tables)",
        _POSTGRES_EXTRACT_OPTIONS,
        _prepare_postgres_extract,
        database=lambda values: values.text("source_database"),
    ),
    MONGODB_CURATE: JobDefinition(
        MONGODB_CURATE,
        "raw Parquet objects listed in the file ledger into curated Iceberg",
        _MONGODB_CURATE_OPTIONS,
        _prepare_mongodb_curate,
        database=lambda values: SUPPORT_DATABASE,
    ),
    ANALYTICS: JobDefinition(
        ANALYTICS,
        "the Alarms report tables of the analytics database",
        _ANALYTICS_OPTIONS,
        _prepare_analytics,
    ),
}
