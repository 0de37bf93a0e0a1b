"""The two edges of every Glue job: ``run_glue_job`` in AWS Glue, ``main`` on local Spark.

Both read the job's arguments through the same declarations (``options``), load the job tables,
build the job's config (``jobs``) and run it, printing the same JSON lines on stdout. They differ
only where Glue and a laptop differ: where Spark, the catalog and the database credentials come
from, and how a failure is reported (see the package docstring for the exit codes).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from lakehouse_glue.connection_secret import read_jdbc_login
from lakehouse_glue.entry.jobs import JOBS, DatabaseLogin, JobDefinition, Session, Summary
from lakehouse_glue.entry.options import Mode, Option, Values
from lakehouse_glue.errors import GlueJobError, JobConfigError
from lakehouse_glue.jdbc import jdbc_from_database_url, jdbc_url_from_glue_conf
from lakehouse_glue.job_tables import load_job_tables
from lakehouse_glue.spark import DEFAULT_CATALOG

#: The run succeeded: every table or collection was written.
EXIT_OK = 0
#: The run started and failed: a table or collection failed (stdout's last line and stderr name
#: the error; postgres_extract's lines say which tables were still written).
EXIT_FAILED = 1
#: Nothing ran: the arguments, the job tables or the credentials are wrong (stderr says which).
#: The same status argparse gives a command line it cannot parse.
EXIT_CONFIG = 2

#: The catalog Pulumi configures on every Glue job (``--conf`` in infra/glue-jobs.ts).
GLUE_CATALOG = "glue_catalog"

#: Every job's arguments.
COMMON_OPTIONS = (
    Option(
        "job_tables",
        "the registry's table list (registry job-tables): an s3:// URI, a path or inline JSON",
        required=True,
    ),
    Option(
        "catalog",
        f"the Iceberg catalog (in Glue: {GLUE_CATALOG}, the one Pulumi configures)",
        default=DEFAULT_CATALOG,
        glue_default=GLUE_CATALOG,
    ),
    Option(
        "warehouse",
        "folder of the local Iceberg catalog (a Hadoop catalog)",
        required=True,
        where="local",
    ),
)

#: The arguments of a job that reads a database: in Glue its connection (whose secret holds the
#: credentials, so none are job arguments); locally a database URL or a JDBC URL, each with the
#: password in an environment variable (an argument would show in `ps`). At both edges instead,
#: the Secrets Manager secret the functions read (``secret_id``): a cutover updates that secret,
#: and the job follows without a redeploy. In Glue the connection then only places the job in
#: the VPC; its URL is not used.
DATABASE_OPTIONS = (
    Option(
        "connection_name",
        "the Glue JDBC connection of the job's database",
        required=True,
        where="glue",
    ),
    Option(
        "secret_id",
        "Secrets Manager secret with the database's connection settings "
        "(pipeline/connections/secret.ts format)",
    ),
    Option(
        "database_url_env",
        "environment variable holding postgres://user:password@host:port/database",
        where="local",
    ),
    Option("jdbc_url", "jdbc:postgresql://host:port/database", where="local"),
    Option("user", "with --jdbc-url: the database user", where="local"),
    Option(
        "password_env",
        "with --jdbc-url: environment variable holding the password",
        where="local",
    ),
)
#: Locally, exactly one of these says where the login comes from.
_LOGIN_CHOICES = ("database_url_env", "jdbc_url", "secret_id")

log = logging.getLogger(__name__)


def options_of(job: JobDefinition, mode: Mode) -> tuple[Option, ...]:
    """The arguments ``job`` takes at one edge."""
    every = COMMON_OPTIONS + (DATABASE_OPTIONS if job.database else ()) + job.options
    return tuple(o for o in every if o.applies(mode))


def _job(name: str) -> JobDefinition:
    if name not in JOBS:
        raise JobConfigError(f"no Glue job {name!r} (jobs: {', '.join(JOBS)})")
    return JOBS[name]


# ---------------------------------------------------------------------------------------------
# Output: JSON lines on stdout, messages on stderr
# ---------------------------------------------------------------------------------------------


def emit(line: Mapping[str, Any]) -> None:
    """One JSON line on stdout (Glue's ``output`` log group in AWS)."""
    print(json.dumps(line, default=str), flush=True)


def _report_ok(job: str, summary: Summary) -> None:
    emit({"ok": True, "job": job, **summary})


def _report_failure(job: str, error: GlueJobError) -> None:
    emit(
        {
            "ok": False,
            "job": job,
            "error": type(error).__name__,
            "message": str(error),
            "retryable": error.retryable,
        }
    )
    print(f"{job}: {error}", file=sys.stderr, flush=True)


def _config_error(job: str, error: Exception) -> GlueJobError:
    named = error if isinstance(error, GlueJobError) else JobConfigError(str(error))
    print(f"{job}: {named}", file=sys.stderr, flush=True)
    return named


def _configure_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


# ---------------------------------------------------------------------------------------------
# AWS Glue
# ---------------------------------------------------------------------------------------------


def glue_arguments(argv: Sequence[str], job: JobDefinition) -> dict[str, str]:
    """``JOB_NAME`` and the job's arguments present in ``argv``, by ``getResolvedOptions``
    (https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-crawler-pyspark-extensions-get-resolved-options.html),
    which makes every name it is given required: optional ones are asked for only when passed."""
    from awsglue.utils import getResolvedOptions

    options = options_of(job, "glue")
    required = ["JOB_NAME", *(o.name for o in options if o.required)]
    args: dict[str, str] = dict(getResolvedOptions(list(argv), required))
    present = [o.name for o in options if not o.required and f"--{o.name}" in argv]
    if present:
        args.update(getResolvedOptions(list(argv), present))
    return args


def _glue_login(glue_context: Any, job: JobDefinition, values: Values) -> DatabaseLogin:
    assert job.database is not None
    secret_id = values.optional_text("secret_id")
    if secret_id:
        # The secret the functions read gives url, user and password; the connection (required
        # still) only places the job in the VPC, so a cutover's secret update switches the job.
        return _secret_login(secret_id)
    # The connection's own secret gives url, user and password: no credentials in job arguments.
    conf = glue_context.extract_jdbc_conf(values.text("connection_name"))
    return DatabaseLogin(
        url=jdbc_url_from_glue_conf(conf, job.database(values)),
        user=str(conf["user"]),
        password=str(conf["password"]),
    )


def _secret_login(secret_id: str) -> DatabaseLogin:
    """The login the secret ``secret_id`` holds now (``lakehouse_glue.connection_secret``)."""
    url, user, password = read_jdbc_login(secret_id)
    # Where and who, for the log; not the URL's parameters, which a secret may fill with anything.
    log.info("database login from secret %s: %s as %s", secret_id, url.split("?")[0], user)
    return DatabaseLogin(url, user, password)


def _refuse_empty(raw: Mapping[str, Any], names: Sequence[str]) -> None:
    """A login argument given empty is a mistake, not an absent one: ``--secret_id ""`` must not
    fall back to another login (in Glue: the connection's URL, the database before a cutover)."""
    for name in names:
        value = raw.get(name)
        if isinstance(value, str) and not value.strip():
            raise JobConfigError(f"--{name} is empty")


def run_glue_job(name: str, argv: Sequence[str] | None = None) -> None:
    """Run job ``name`` inside AWS Glue (``glue/jobs/<name>.py`` calls only this).

    Glue has no exit status to read: a configuration error or a failed run raises its named error
    (``JobConfigError``, ``JobTablesError``, ``TablesFailedError``, ...), which fails the Glue run
    with the error's message; ``job.commit()`` runs only after a successful run.
    """
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from pyspark.context import SparkContext

    from lakehouse_glue.spark import disable_unsafe_iceberg_reads

    _configure_logging()
    job = _job(name)
    argv = list(sys.argv if argv is None else argv)
    args = glue_arguments(argv, job)
    try:
        _refuse_empty(args, ("secret_id",))
        values = Values.parse(options_of(job, "glue"), args, "glue")
        # Checked first: a malformed or other-version table list stops the job at once.
        job_tables = load_job_tables(values.text("job_tables"))
    except (GlueJobError, ValueError) as error:
        raise _config_error(job.name, error) from error

    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = glue_context.spark_session
    # Iceberg 1.7.1's vectorized reads corrupt memory on Spark 3.5.4 (lakehouse_glue.spark).
    disable_unsafe_iceberg_reads(spark)
    glue_job = Job(glue_context)
    glue_job.init(args["JOB_NAME"], args)
    try:
        login = _glue_login(glue_context, job, values) if job.database else None
        run = job.prepare(values, job_tables, login)
    except (GlueJobError, ValueError) as error:
        raise _config_error(job.name, error) from error

    try:
        summary = run(Session(spark, emit, values.text("catalog")))
    except GlueJobError as error:
        _report_failure(job.name, error)
        raise
    _report_ok(job.name, summary)
    glue_job.commit()


# ---------------------------------------------------------------------------------------------
# Local Spark
# ---------------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    """``python -m lakehouse_glue <job> ...``: a subcommand per job, its arguments declared once
    with Glue's (``options_of(job, "local")``)."""
    root = argparse.ArgumentParser(
        prog="python -m lakehouse_glue",
        description="Run a Glue job on local Spark with a local Iceberg catalog. Exit status: "
        f"{EXIT_OK} ok, {EXIT_FAILED} the run failed, {EXIT_CONFIG} bad arguments or "
        "configuration (nothing ran).",
        allow_abbrev=False,
    )
    jobs = root.add_subparsers(dest="job", required=True, metavar="JOB")
    for job in JOBS.values():
        sub = jobs.add_parser(
            job.name, help=job.description, description=job.description, allow_abbrev=False
        )
        login = sub.add_mutually_exclusive_group(required=True) if job.database else None
        for option in options_of(job, "local"):
            target = login if login is not None and option.name in _LOGIN_CHOICES else sub
            default = option.default_in("local")
            help_text = (
                option.help if default in (None, False) else f"{option.help} (default: {default})"
            )
            if option.kind == "flag":
                target.add_argument(
                    *option.local_flags,
                    dest=option.name,
                    action="store_true",
                    default=None,
                    help=help_text,
                )
            else:
                target.add_argument(
                    *option.local_flags,
                    dest=option.name,
                    metavar=option.name.upper(),
                    # The login group is required as a whole; its members are not on their own.
                    required=option.required and target is sub,
                    help=help_text,
                )
    return root


def _local_login(values: Values) -> DatabaseLogin:
    secret_id = values.optional_text("secret_id")
    if secret_id:
        if values.optional_text("user") or values.optional_text("password_env"):
            raise JobConfigError(
                "--user and --password-env go with --jdbc-url: --secret-id's secret holds the login"
            )
        return _secret_login(secret_id)
    variable = values.optional_text("database_url_env")
    if variable:
        database_url = os.environ.get(variable)
        if not database_url:
            raise JobConfigError(f"environment variable {variable} is not set")
        url, user, password = jdbc_from_database_url(database_url)
        return DatabaseLogin(url, user, password)
    jdbc_url, jdbc_user = values.optional_text("jdbc_url"), values.optional_text("user")
    password_env = values.optional_text("password_env")
    if not jdbc_url or not jdbc_user or not password_env:
        raise JobConfigError("--jdbc-url needs --user and --password-env")
    jdbc_password = os.environ.get(password_env)
    if jdbc_password is None:
        raise JobConfigError(
            f"environment variable {password_env} (the database password) is not set"
        )
    return DatabaseLogin(jdbc_url, jdbc_user, jdbc_password)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lakehouse_glue <job> [options]``: the job on local Spark; returns the exit
    status (``EXIT_OK``, ``EXIT_FAILED``, ``EXIT_CONFIG``)."""
    from pyspark import SparkContext

    from lakehouse_glue.spark import local_session

    args = vars(parser().parse_args(argv))
    job = _job(str(args.pop("job")))
    _configure_logging()
    try:
        _refuse_empty(args, _LOGIN_CHOICES)
        values = Values.parse(options_of(job, "local"), args, "local")
        job_tables = load_job_tables(values.text("job_tables"))
        login = _local_login(values) if job.database else None
        run = job.prepare(values, job_tables, login)
    except (GlueJobError, ValueError) as error:
        _config_error(job.name, error)
        return EXIT_CONFIG

    warehouse = values.text("warehouse")
    # A caller that has a session already (pytest) keeps it; a session started here ends here.
    started_here = SparkContext._active_spark_context is None
    spark = local_session(warehouse, app_name=job.name, catalog=values.text("catalog"))
    try:
        summary = run(Session(spark, emit, warehouse))
    except GlueJobError as error:
        _report_failure(job.name, error)
        return EXIT_FAILED
    finally:
        if started_here:
            spark.stop()
    _report_ok(job.name, summary)
    return EXIT_OK
