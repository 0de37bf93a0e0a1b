"""The shared entry of the Glue jobs (``lakehouse_glue.entry``, ADR 0012): one script shape, one
argument declaration for Glue and local runs, one output and exit convention.

Mostly without Spark: a stand-in job (``fake``) shows the mechanics of both edges, the real jobs
their argument contracts and configuration errors, which stop before Spark starts. The Glue
edge runs against stand-ins of ``awsglue`` (``glue_stubs``).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import glue_stubs
import pytest
from moto_secrets import MotoSecrets
from pyspark.sql import SparkSession

from lakehouse_glue.curate import CurateSettings
from lakehouse_glue.curate.raw_marks import RawMarker
from lakehouse_glue.entry import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, JOBS, main, options_of
from lakehouse_glue.entry import run as entry_run
from lakehouse_glue.entry.jobs import DatabaseLogin, JobDefinition, Session, Summary
from lakehouse_glue.entry.options import Mode, Option, Values
from lakehouse_glue.errors import (
    JobConfigError,
    JobTablesError,
    SourceUnavailableError,
)
from lakehouse_glue.jdbc import JdbcSource
from lakehouse_glue.job_tables import JobTables, parse_job_tables
from lakehouse_glue.postgres_extract import ExtractConfig, ShrinkGuard
from lakehouse_glue.spark import DEFAULT_CATALOG

SCRIPTS = Path(__file__).resolve().parents[1] / "jobs"


# ---------------------------------------------------------------------------------------------
# One shape for every job
# ---------------------------------------------------------------------------------------------


def test_every_job_is_a_script_that_only_calls_the_shared_entry() -> None:
    assert sorted(p.stem for p in SCRIPTS.glob("*.py")) == sorted(JOBS)
    for name in JOBS:
        tree = ast.parse((SCRIPTS / f"{name}.py").read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import)], name
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert [(i.module, [a.name for a in i.names]) for i in imports] == [
            ("lakehouse_glue.entry", ["run_glue_job"])
        ], name
        job = next(
            n.value.value
            for n in tree.body
            if isinstance(n, ast.Assign)
            and isinstance(n.value, ast.Constant)
            and [t.id for t in n.targets if isinstance(t, ast.Name)] == ["JOB"]
        )
        assert job == name
        assert name == glue_stubs.load_script(name).JOB


@pytest.mark.parametrize(
    ("job", "required"),
    [
        # What infra/glue-jobs.ts passes each job, besides Glue's own arguments.
        ("postgres_extract", {"job_tables", "connection_name"}),
        ("mongodb_curate", {"job_tables", "connection_name", "raw_location"}),
        ("analytics", {"job_tables"}),
    ],
)
def test_glue_arguments_are_the_ones_the_deployment_passes(job: str, required: set[str]) -> None:
    glue = options_of(JOBS[job], "glue")
    assert {o.name for o in glue if o.required} == required
    # Every argument a job takes in Glue, it takes locally under the same name (and hyphenated),
    # except the Glue connection (locally: a database URL or JDBC URL with its password's
    # variable) and the database its URL may leave out.
    local = {o.name: o for o in options_of(JOBS[job], "local")}
    assert {o.name for o in glue} - set(local) <= {"connection_name", "source_database"}
    for option in local.values():
        assert f"--{option.name}" in option.local_flags
        assert f"--{option.name.replace('_', '-')}" in option.local_flags
    assert "warehouse" in local
    if JOBS[job].database:
        assert {"database_url_env", "jdbc_url", "user", "password_env"} <= set(local)
        # The secret the functions read: optional in Glue (the cutover's), a login choice locally.
        assert "secret_id" in {o.name for o in glue} & set(local)


@pytest.mark.parametrize(
    ("option", "raw", "value"),
    [
        (Option("n", "", kind="int", default=3), None, 3),
        (Option("n", "", kind="int", default=3), "", 3),
        (Option("n", "", kind="int", default=3), "12", 12),
        (Option("s", "", kind="flag", default=False), "TRUE", True),
        (Option("s", "", kind="flag", default=False), "false", False),
        (Option("s", "", kind="flag", default=False), True, True),
        (Option("t", "", kind="names"), " a, b ,", ("a", "b")),
        (Option("t", "", kind="names"), None, None),
        (Option("c", "", default="lake", glue_default="glue_catalog"), None, "glue_catalog"),
        (Option("x", ""), "  spaced ", "spaced"),
    ],
)
def test_values_are_converted_the_same_way_at_both_edges(
    option: Option, raw: str | bool | None, value: Any
) -> None:
    mode: Mode = "glue" if option.glue_default else "local"
    assert option.convert(raw, mode) == value


@pytest.mark.parametrize(
    ("option", "raw", "message"),
    [
        (Option("n", "", kind="int"), "x", r"--n: 'x' is not an integer"),
        (Option("n", "", kind="int", minimum=1), "0", "--n: 0 is below 1"),
        (Option("s", "", kind="flag"), "yes", "--s: 'yes' is not true or false"),
        (Option("r", "", required=True), "", "--r is required"),
        (Option("r", "", required=True), None, "--r is required"),
    ],
)
def test_a_bad_value_is_a_config_error_naming_the_argument(
    option: Option, raw: str | None, message: str
) -> None:
    with pytest.raises(JobConfigError, match=message):
        option.convert(raw, "glue")


# ---------------------------------------------------------------------------------------------
# Both edges, with a stand-in job
# ---------------------------------------------------------------------------------------------


@dataclass
class FakeRuns:
    """What the stand-in job saw: its arguments, job tables and login, and its sessions."""

    fail: Exception | None = None
    values: list[Values] = field(default_factory=list)
    logins: list[DatabaseLogin | None] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeRuns:
    runs = FakeRuns()

    def prepare(values: Values, job_tables: JobTables, login: DatabaseLogin | None) -> Any:
        values.integer("count")  # a bad value has failed already, at parsing
        runs.values.append(values)
        runs.logins.append(login)

        def run(session: Session) -> Summary:
            runs.sessions.append(session)
            session.emit({"table": "one"})
            if runs.fail is not None:
                raise runs.fail
            return {"count": values.integer("count"), "tables": len(job_tables.tables)}

        return run

    definition = JobDefinition(
        "fake",
        "a stand-in job",
        (
            Option("count", "", kind="int", default=3, minimum=1),
            Option("switch", "", kind="flag", default=False),
            Option("names", "", kind="names"),
        ),
        prepare,
        database=lambda values: "fakedb",
    )
    monkeypatch.setitem(JOBS, "fake", definition)
    return runs


class FakeSpark:
    """The session a stand-in edge hands out: records what the entry does with it."""

    sparkContext = None  # noqa: N815 - SparkSession's name

    def __init__(self) -> None:
        self.settings: dict[str, str] = {}
        self.stopped = False
        self.conf = self

    def set(self, key: str, value: str) -> None:
        self.settings[key] = value

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def tables_file(registry: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "job-tables.json"
    path.write_text(json.dumps(registry))
    return path


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _glue_argv(*extra: str) -> list[str]:
    return ["fake.py", "--JOB_NAME", "fake-run", "--job-language", "python", *extra]


def test_glue_edge_reads_glue_arguments_and_commits_after_success(
    fake: FakeRuns,
    tables_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spark = FakeSpark()
    conf = {"url": "jdbc:postgresql://db.internal:5432", "user": "job", "password": "pw"}
    glue = glue_stubs.install(monkeypatch, spark, conf, connection="fake-connection")
    argv = _glue_argv(
        "--job_tables", str(tables_file), "--connection_name", "fake-connection",
        "--count", "7", "--switch", "true", "--names", "a,b",
        "--conf", "spark.sql.catalog.glue_catalog=x --conf y=z",
    )  # fmt: skip

    entry_run.run_glue_job("fake", argv)

    [values] = fake.values
    assert values.text("catalog") == "glue_catalog"
    assert (values.integer("count"), values.flag("switch"), values.names("names")) == (
        7,
        True,
        ("a", "b"),
    )
    # The connection's URL names no database: the job's own is added.
    assert fake.logins == [DatabaseLogin("jdbc:postgresql://db.internal:5432/fakedb", "job", "pw")]
    assert "pw" not in repr(fake.logins[0])
    assert spark.settings == {"spark.sql.iceberg.vectorization.enabled": "false"}
    assert [name for name, _ in glue.inits] == ["fake-run"]
    assert glue.commits == 1
    assert fake.sessions[0].location == "glue_catalog"
    lines = _lines(capsys.readouterr().out)
    assert lines[0] == {"table": "one"}
    assert lines[-1] == {"ok": True, "job": "fake", "count": 7, "tables": 14}


def test_glue_edge_raises_the_named_error_of_a_failed_run_and_does_not_commit(
    fake: FakeRuns,
    tables_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    glue = glue_stubs.install(monkeypatch, FakeSpark(), {"url": "jdbc:postgresql://h:1/x"}, "c")
    fake.fail = SourceUnavailableError("refused", table="one")
    argv = _glue_argv("--job_tables", str(tables_file), "--connection_name", "c")
    # Glue's conf has no user: a KeyError from the stand-in would be a bug, so give one.
    glue.conf = {"url": "jdbc:postgresql://h:1/x", "user": "u", "password": "p"}

    with pytest.raises(SourceUnavailableError, match="refused"):
        entry_run.run_glue_job("fake", argv)

    assert glue.commits == 0
    captured = capsys.readouterr()
    assert _lines(captured.out)[-1] == {
        "ok": False,
        "job": "fake",
        "error": "SourceUnavailableError",
        "message": "SourceUnavailableError: refused [table=one] (retryable)",
        "retryable": True,
    }
    assert "fake: SourceUnavailableError: refused" in captured.err


@pytest.mark.parametrize(
    ("extra", "error", "message"),
    [
        (("--count", "0"), JobConfigError, "--count: 0 is below 1"),
        (("--switch", "maybe"), JobConfigError, "--switch: 'maybe' is not true or false"),
    ],
)
def test_glue_edge_config_errors_stop_before_the_job_starts(
    fake: FakeRuns,
    tables_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: tuple[str, ...],
    error: type[Exception],
    message: str,
) -> None:
    glue = glue_stubs.install(monkeypatch, FakeSpark())
    argv = _glue_argv("--job_tables", str(tables_file), "--connection_name", "c", *extra)
    with pytest.raises(error, match=message):
        entry_run.run_glue_job("fake", argv)
    assert glue.inits == []
    assert fake.values == []


#: A secret as the functions read it (pipeline/connections/secret.ts format).
SECRET = {
    "engine": "postgres",
    "host": "db.secret.internal",
    "port": "6432",
    "database": "from secret",
    "user": "lake@reader",
    "password": "pa ss:w/rd",
    "options": {"sslmode": "require"},
}
SECRET_LOGIN = DatabaseLogin(
    "jdbc:postgresql://db.secret.internal:6432/from%20secret?sslmode=require",
    "lake@reader",
    "pa ss:w/rd",
)


def test_glue_edge_reads_the_login_from_the_secret_and_not_the_connection(
    fake: FakeRuns,
    tables_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    moto_secrets: MotoSecrets,
) -> None:
    """``--secret_id``: the login comes from the secret the functions read, so a cutover's
    secret update switches the job; the connection (still required: the job's VPC placement)
    is not asked for its URL."""
    secret_id = moto_secrets.put(SECRET)
    conf = {"url": "jdbc:postgresql://snapshot.internal:5432", "user": "old", "password": "old"}
    glue = glue_stubs.install(monkeypatch, FakeSpark(), conf, connection="fake-connection")
    argv = _glue_argv(
        "--job_tables", str(tables_file), "--connection_name", "fake-connection",
        "--secret_id", secret_id,
    )  # fmt: skip

    entry_run.run_glue_job("fake", argv)

    assert fake.logins == [SECRET_LOGIN]
    assert glue.connections_asked == []
    assert glue.commits == 1

    # The cutover: a new version of the secret, the next run reads it; nothing redeployed.
    moto_secrets.update(secret_id, {**SECRET, "host": "prod.internal", "port": 5432})
    entry_run.run_glue_job("fake", argv)
    assert fake.logins[-1] == DatabaseLogin(
        "jdbc:postgresql://prod.internal:5432/from%20secret?sslmode=require",
        "lake@reader",
        "pa ss:w/rd",
    )


def test_glue_edge_still_needs_the_connection_with_a_secret(
    fake: FakeRuns, tables_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    glue_stubs.install(monkeypatch, FakeSpark())
    argv = _glue_argv("--job_tables", str(tables_file), "--secret_id", "lakehouse/ddc")
    with pytest.raises(SystemExit):  # getResolvedOptions: --connection_name is required
        entry_run.run_glue_job("fake", argv)
    assert fake.values == []


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, "secret {id}: ResourceNotFoundException"),
        ({**SECRET, "host": None}, "secret {id}: host is not set"),
        ({**SECRET, "engine": "mongodb"}, "secret {id}: engine must be postgres"),
        ("postgres://u:pa ss:w/rd@h/d", "secret {id} is not JSON"),
        ('"postgres://u:pa ss:w/rd@h/d"', "secret {id} must be a JSON object"),
    ],
)
def test_glue_edge_a_bad_secret_is_a_config_error_naming_it_and_never_its_values(
    fake: FakeRuns,
    tables_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    moto_secrets: MotoSecrets,
    secret: Any,
    message: str,
) -> None:
    secret_id = "lakehouse-test/missing" if secret is None else moto_secrets.put(secret)
    glue = glue_stubs.install(monkeypatch, FakeSpark(), {"url": "jdbc:postgresql://h:1/x"}, "c")
    argv = _glue_argv(
        "--job_tables", str(tables_file), "--connection_name", "c", "--secret_id", secret_id
    )
    with pytest.raises(JobConfigError, match=message.format(id=secret_id)):
        entry_run.run_glue_job("fake", argv)
    assert fake.values == []
    assert glue.commits == 0
    assert glue.connections_asked == []
    captured = capsys.readouterr()
    assert "pa ss:w/rd" not in captured.out + captured.err


def test_glue_edge_refuses_an_empty_secret_id_rather_than_fall_back_to_the_connection(
    fake: FakeRuns, tables_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    glue = glue_stubs.install(monkeypatch, FakeSpark(), {"url": "jdbc:postgresql://h:1/x"}, "c")
    argv = _glue_argv(
        "--job_tables", str(tables_file), "--connection_name", "c", "--secret_id", " "
    )
    with pytest.raises(JobConfigError, match="--secret_id is empty"):
        entry_run.run_glue_job("fake", argv)
    assert glue.inits == []
    assert glue.connections_asked == []


def test_glue_edge_refuses_job_tables_of_another_version(
    fake: FakeRuns, registry: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    glue = glue_stubs.install(monkeypatch, FakeSpark())
    argv = _glue_argv(
        "--job_tables", json.dumps({**registry, "version": 3}), "--connection_name", "c"
    )
    with pytest.raises(JobTablesError, match="version 3 is not supported"):
        entry_run.run_glue_job("fake", argv)
    assert glue.inits == []


def test_glue_curate_takes_the_arguments_the_deployment_passes(
    registry: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``glue/jobs/mongodb_curate.py`` with the arguments of infra/glue-jobs.ts (and Glue's own)."""
    calls: list[tuple[JobTables, CurateSettings, JdbcSource, Any]] = []

    def run_curate(
        spark: Any, job_tables: JobTables, settings: CurateSettings, ledger: JdbcSource, names: Any
    ) -> list[Any]:
        calls.append((job_tables, settings, ledger, names))
        return []

    monkeypatch.setattr("lakehouse_glue.entry.jobs.run_curate", run_curate)
    conf = {"url": "jdbc:postgresql://support.internal:5432", "user": "curate", "password": "pw"}
    glue = glue_stubs.install(monkeypatch, FakeSpark(), conf, connection="glue-support")
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "mongodb_curate.py",
            "--JOB_NAME", "oven-dev-mongodb_curate",
            "--job-language", "python",
            "--job_tables", json.dumps(registry),
            "--extra-py-files", "s3://assets/lib/lakehouse_glue.zip",
            "--datalake-formats", "iceberg",
            "--conf", "spark.sql.extensions=x --conf spark.sql.catalog.glue_catalog=y",
            "--job-bookmark-option", "job-bookmark-disable",
            "--TempDir", "s3://assets/tmp/mongodb_curate/",
            "--custom-logGroup-prefix", "/oven-lakehouse/dev/glue",
            "--raw_location", "s3://raw-bucket/",
            "--connection_name", "glue-support",
        ],
    )  # fmt: skip

    glue_stubs.load_script("mongodb_curate").main()

    [(job_tables, settings, ledger, names)] = calls
    assert job_tables.version == registry["version"]
    assert (settings.catalog, settings.raw_root, settings.namespace) == (
        "glue_catalog",
        "s3://raw-bucket/",
        "mongodb",
    )
    # No --lag_seconds: the job tables' lag (ledger_lag resolves None to it).
    assert settings.lag_seconds is None
    # Raw in S3: the objects curated are tagged, as the job tables say, for its lifecycle.
    marker = settings.mark_curated
    assert isinstance(marker, RawMarker)
    assert (marker.bucket, marker.prefix) == ("raw-bucket", "")
    assert marker.tag == parse_job_tables(registry).raw_key.curated_tag
    assert ledger.url == "jdbc:postgresql://support.internal:5432/support"
    assert (ledger.user, ledger.password) == ("curate", "pw")
    assert ledger.application_name == "lakehouse-mongodb_curate"
    assert names is None
    assert glue.commits == 1
    assert _lines(capsys.readouterr().out)[-1] == {
        "ok": True,
        "job": "mongodb_curate",
        "collections": [],
        "compactions": [],
    }


@pytest.mark.parametrize(
    ("extra", "allowed", "percent"),
    [
        ((), frozenset(), 50),
        (
            ("--allow_shrink", "device_recipe, device", "--max_shrink_percent", "20"),
            frozenset({"device_recipe", "device"}),
            20,
        ),
    ],
)
def test_glue_extract_forces_a_shrink_only_when_an_operator_passes_it(
    registry: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    extra: tuple[str, ...],
    allowed: frozenset[str],
    percent: int,
) -> None:
    """The deployment passes neither argument (infra/glue-jobs.ts): by default nothing is
    forced; an operator starting one run adds ``--allow_shrink``."""
    configs: list[ExtractConfig] = []

    def run(spark: Any, config: ExtractConfig, on_result: Any = None) -> list[Any]:
        configs.append(config)
        return []

    monkeypatch.setattr("lakehouse_glue.entry.jobs.run", run)
    conf = {"url": "jdbc:postgresql://ddc.internal:5432", "user": "extract", "password": "pw"}
    glue_stubs.install(monkeypatch, FakeSpark(), conf, connection="glue-ddc")
    argv = [
        "postgres_extract.py",
        "--JOB_NAME", "oven-dev-postgres_extract",
        "--job_tables", json.dumps(registry),
        "--connection_name", "glue-ddc",
        *extra,
    ]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)

    glue_stubs.load_script("postgres_extract").main()

    [config] = configs
    assert config.shrink == ShrinkGuard(max_shrink_percent=percent, allowed=allowed)


@pytest.fixture
def local_spark(monkeypatch: pytest.MonkeyPatch) -> FakeSpark:
    spark = FakeSpark()
    monkeypatch.setattr("lakehouse_glue.spark.local_session", lambda *a, **k: spark)
    return spark


def _local(*argv: str) -> tuple[int, list[dict[str, Any]], str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(argv))
        except SystemExit as exit_:  # argparse
            status = int(exit_.code or 0)
    return status, _lines(out.getvalue()), err.getvalue()


def test_local_edge_same_arguments_and_output_exit_0(
    fake: FakeRuns, tables_file: Path, local_spark: FakeSpark, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_DATABASE_URL", "postgres://lake%40x:p%2Fw@127.0.0.1:55432/fakedb")
    status, lines, _ = _local(
        "fake", "--job_tables", str(tables_file), "--warehouse", "/tmp/wh",
        "--database-url-env", "FAKE_DATABASE_URL", "--count", "5", "--switch",
    )  # fmt: skip

    assert status == EXIT_OK
    [values] = fake.values
    assert values.text("catalog") == DEFAULT_CATALOG
    assert (values.integer("count"), values.flag("switch"), values.names("names")) == (
        5,
        True,
        None,
    )
    assert fake.logins == [
        DatabaseLogin("jdbc:postgresql://127.0.0.1:55432/fakedb", "lake@x", "p/w")
    ]
    assert fake.sessions[0].location == "/tmp/wh"
    assert lines == [{"table": "one"}, {"ok": True, "job": "fake", "count": 5, "tables": 14}]


def test_local_edge_a_failed_run_exits_1_with_its_outcome(
    fake: FakeRuns, tables_file: Path, local_spark: FakeSpark, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PASSWORD", "secret")
    fake.fail = SourceUnavailableError("refused", table="one")
    status, lines, err = _local(
        "fake", "--job-tables", str(tables_file), "--warehouse", "/tmp/wh",
        "--jdbc-url", "jdbc:postgresql://h:1/fakedb",
        "--user", "u", "--password-env", "FAKE_PASSWORD",
    )  # fmt: skip

    assert status == EXIT_FAILED
    assert fake.logins == [DatabaseLogin("jdbc:postgresql://h:1/fakedb", "u", "secret")]
    assert lines[-1]["ok"] is False
    assert lines[-1]["error"] == "SourceUnavailableError"
    assert "fake: SourceUnavailableError: refused [table=one] (retryable)" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("--database-url-env", "NOT_SET_ANYWHERE"),
            "environment variable NOT_SET_ANYWHERE is not set",
        ),
        (("--jdbc-url", "jdbc:postgresql://h:1/d"), "--jdbc-url needs --user and --password-env"),
        (
            (
                "--jdbc-url",
                "jdbc:postgresql://h:1/d",
                "--user",
                "u",
                "--password-env",
                "NOT_SET_ANYWHERE",
            ),
            "environment variable NOT_SET_ANYWHERE (the database password) is not set",
        ),
        (("--database-url-env", "HOME", "--count", "x"), "--count: 'x' is not an integer"),
    ],
)
def test_local_edge_config_errors_exit_2_and_print_nothing_on_stdout(
    fake: FakeRuns, tables_file: Path, local_spark: FakeSpark, argv: tuple[str, ...], message: str
) -> None:
    os.environ.pop("NOT_SET_ANYWHERE", None)
    status, lines, err = _local(
        "fake", "--job-tables", str(tables_file), "--warehouse", "/tmp/wh", *argv
    )
    assert status == EXIT_CONFIG
    assert lines == []
    assert message in err
    assert fake.sessions == []


@pytest.mark.parametrize("flag", ["--secret-id", "--secret_id"])
def test_local_edge_reads_the_login_from_secret_id(
    fake: FakeRuns,
    tables_file: Path,
    local_spark: FakeSpark,
    moto_secrets: MotoSecrets,
    flag: str,
) -> None:
    """Locally the secret comes from moto's Secrets Manager (``AWS_ENDPOINT_URL``), as the
    functions read theirs."""
    secret_id = moto_secrets.put(SECRET)
    status, lines, err = _local(
        "fake", "--job-tables", str(tables_file), "--warehouse", "/tmp/wh", flag, secret_id
    )
    assert status == EXIT_OK, err
    assert fake.logins == [SECRET_LOGIN]
    assert lines[-1]["ok"] is True
    assert "pa ss:w/rd" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--secret-id", "lakehouse-test/missing"), "secret lakehouse-test/missing: Resource"),
        (("--secret-id", ""), "--secret_id is empty"),
        (
            ("--secret-id", "s", "--user", "u"),
            "--user and --password-env go with --jdbc-url: --secret-id's secret holds the login",
        ),
        (
            ("--secret-id", "s", "--password-env", "HOME"),
            "--user and --password-env go with --jdbc-url",
        ),
    ],
)
def test_local_edge_secret_id_config_errors_exit_2(
    fake: FakeRuns,
    tables_file: Path,
    local_spark: FakeSpark,
    moto_secrets: MotoSecrets,
    argv: tuple[str, ...],
    message: str,
) -> None:
    status, lines, err = _local(
        "fake", "--job-tables", str(tables_file), "--warehouse", "/tmp/wh", *argv
    )
    assert status == EXIT_CONFIG
    assert lines == []
    assert message in err
    assert fake.sessions == []


@pytest.mark.parametrize(
    "login",
    [
        ("--secret-id", "s", "--database-url-env", "A"),
        ("--secret-id", "s", "--jdbc-url", "jdbc:postgresql://h:1/d"),
        ("--secret_id", "s", "--secret-id", "t", "--database-url-env", "A"),
    ],
)
def test_local_edge_secret_id_is_one_login_choice_of_three(
    fake: FakeRuns, tables_file: Path, login: tuple[str, ...]
) -> None:
    status, lines, err = _local(
        "fake", "--job-tables", str(tables_file), "--warehouse", "w", *login
    )
    assert status == EXIT_CONFIG
    assert lines == []
    assert "not allowed with argument" in err


def test_local_edge_without_a_login_names_the_three_choices(fake: FakeRuns) -> None:
    status, _, err = _local("fake", "--job-tables", "x", "--warehouse", "w")
    assert status == EXIT_CONFIG
    assert (
        "one of the arguments --secret-id/--secret_id --database-url-env/--database_url_env "
        "--jdbc-url/--jdbc_url is required"
    ) in err


@pytest.mark.parametrize(
    "argv",
    [
        ("--warehouse", "/tmp/wh", "--database-url-env", "HOME"),  # no --job-tables
        ("--job-tables", "x", "--database-url-env", "HOME"),  # no --warehouse
        ("--job-tables", "x", "--warehouse", "/tmp/wh"),  # no credentials
        ("--job-tables", "x", "--warehouse", "w", "--database-url-env", "A", "--jdbc-url", "u"),
        (
            "--job-tables",
            "x",
            "--warehouse",
            "w",
            "--database-url-env",
            "A",
            "--connection_name",
            "c",
        ),
        ("--job-tables", "x", "--warehouse", "w", "--database-url-env", "A", "--job", "x"),
    ],
)
def test_local_edge_usage_errors_exit_2(fake: FakeRuns, argv: tuple[str, ...]) -> None:
    status, lines, _ = _local("fake", *argv)
    assert status == EXIT_CONFIG
    assert lines == []


# ---------------------------------------------------------------------------------------------
# The real jobs: configuration errors stop before Spark starts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("mongodb_curate", "--raw-location", "/raw", "--lag-seconds", "20"),
            "the ledger lag of 20 s is not above the worker's statement timeout of 20 s",
        ),
        (
            ("mongodb_curate", "--raw-location", "/raw", "--collections", "alarm,nope"),
            "unknown collection nope",
        ),
        (
            ("postgres_extract", "--tables", "company,nope"),
            "tables not in the registry's table list",
        ),
        (("postgres_extract", "--catalog", "glue-catalog"), "catalog 'glue-catalog' is not"),
        (("postgres_extract", "--fetch-size", "0"), "--fetch_size: 0 is below 1"),
        (
            ("postgres_extract", "--allow-shrink", "device,devices"),
            "tables not in the registry's table list: devices",
        ),
        (
            ("postgres_extract", "--max-shrink-percent", "101"),
            "max_shrink_percent 101 is not between 0 and 100",
        ),
    ],
)
def test_real_jobs_refuse_bad_configuration_before_spark(
    tables_file: Path,
    local_spark: FakeSpark,
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
    message: str,
) -> None:
    monkeypatch.setenv("ANY_DATABASE_URL", "postgres://u:p@127.0.0.1:1/db")
    job, *rest = argv
    status, lines, err = _local(
        job, "--job-tables", str(tables_file), "--warehouse", "/tmp/wh",
        "--database-url-env", "ANY_DATABASE_URL", *rest,
    )  # fmt: skip
    assert status == EXIT_CONFIG, err
    assert lines == []
    assert message in err
    assert not local_spark.stopped


def test_local_curate_marks_nothing_in_a_raw_folder(
    tables_file: Path, local_spark: FakeSpark, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No lifecycle expires a local raw folder: the local job tags nothing."""
    settings: list[CurateSettings] = []

    def run_curate(spark: Any, job_tables: Any, s: CurateSettings, *rest: Any) -> list[Any]:
        settings.append(s)
        return []

    monkeypatch.setattr("lakehouse_glue.entry.jobs.run_curate", run_curate)
    monkeypatch.setenv("ANY_DATABASE_URL", "postgres://u:p@127.0.0.1:1/db")
    status, _, err = _local(
        "mongodb_curate", "--job-tables", str(tables_file), "--warehouse", "/tmp/wh",
        "--database-url-env", "ANY_DATABASE_URL", "--raw-location", "/raw", "--lag-seconds", "0",
    )  # fmt: skip
    assert status == EXIT_OK, err
    assert [(s.raw_root, s.mark_curated) for s in settings] == [("/raw", None)]


def test_analytics_refuses_job_tables_of_another_version(
    registry: dict[str, Any], tmp_path: Path, local_spark: FakeSpark
) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps({**registry, "version": 3}))
    status, lines, err = _local(
        "analytics", "--job-tables", str(path), "--warehouse", str(tmp_path)
    )
    assert status == EXIT_CONFIG
    assert lines == []
    assert "analytics: JobTablesError: job tables version 3 is not supported" in err


def test_a_real_failed_run_exits_1_and_keeps_the_callers_session(
    spark: SparkSession, tables_file: Path, tmp_path: Path
) -> None:
    """analytics over a catalog without its sources: the run starts and fails by name."""
    warehouse = spark.conf.get(f"spark.sql.catalog.{DEFAULT_CATALOG}.warehouse")
    assert warehouse
    status, lines, err = _local(
        "analytics", "--job-tables", str(tables_file),
        "--warehouse", warehouse.removeprefix("file:"),
        "--mongodb-namespace", "nowhere_mongodb", "--postgres-namespace", "nowhere_postgres",
    )  # fmt: skip
    assert status == EXIT_FAILED
    assert lines[-1]["ok"] is False
    assert lines[-1]["job"] == "analytics"
    assert lines[-1]["error"] == "SourceTableMissingError"
    assert "analytics: SourceTableMissingError" in err
    # The session was the caller's: still usable.
    assert spark.sql("SELECT 1").collect()[0][0] == 1


_TOGETHER = "--dashboard-data and --dashboard-views go together"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--dashboard-data", "/tmp/d.json"), _TOGETHER),
        (("--dashboard-views", "alarm_facts"), _TOGETHER),
        (
            ("--dashboard-data", "/tmp/d.json", "--dashboard-views", "alarm_facts,nope"),
            "unknown view nope",
        ),
        (
            ("--dashboard-data", "/tmp/d.json", "--dashboard-views", "open_alarms,open_alarms"),
            "duplicate view name 'open_alarms'",
        ),
        (
            (
                "--dashboard-data", "/tmp/d.json", "--dashboard-views", "alarm_facts",
                "--mongodb-namespace", "mongodb_test",
            ),
            "cannot be combined with --mongodb-namespace mongodb_test",
        ),
    ],
)  # fmt: skip
def test_analytics_refuses_bad_dashboard_arguments_before_spark(
    tables_file: Path, local_spark: FakeSpark, argv: tuple[str, ...], message: str
) -> None:
    status, lines, err = _local(
        "analytics", "--job-tables", str(tables_file), "--warehouse", "/tmp/wh", *argv
    )
    assert status == EXIT_CONFIG, err
    assert lines == []
    assert message in err
    assert not local_spark.stopped


def test_the_dashboard_arguments_exist_only_locally() -> None:
    local = {o.name for o in options_of(JOBS["analytics"], "local")}
    glue = {o.name for o in options_of(JOBS["analytics"], "glue")}
    assert {"dashboard_data", "dashboard_views"} <= local
    assert not {"dashboard_data", "dashboard_views"} & glue
    # The HTML page is the TypeScript renderer's now.
    assert "dashboard" not in local
