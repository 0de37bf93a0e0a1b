"""The connection secret as the job reads it (``lakehouse_glue.connection_secret``).

The contract with the functions is one fixture, ``tests/fixtures/connection-secrets.json``,
which ``tests/unit/connection-secret-contract.test.ts`` checks against the TypeScript functions
(``parseConnectionSecret``, ``jdbcUrl``); here the same cases against the job's parser, and each
URL the cases expect against the PostgreSQL JDBC driver itself, which must read back the secret's
host, port, database and options from it. Then reading the secret from Secrets Manager (moto).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from moto_secrets import MotoSecrets
from pyspark.sql import SparkSession

from lakehouse_glue.connection_secret import (
    DEFAULT_POSTGRES_PORT,
    ConnectionSecret,
    _js_number_string,
    jdbc_login,
    parse_connection_secret,
    read_jdbc_login,
    read_secret_string,
)
from lakehouse_glue.errors import JobConfigError, SourceUnavailableError

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "connection-secrets.json"
#: The secret's name in every case (the TypeScript test uses the same).
SECRET_ID = "lakehouse/ddc"

CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))
LOGINS = [c for c in CASES if "jdbcUrl" in c["expect"]]
ERRORS = [c for c in CASES if "error" in c["expect"]]


def _password(secret: Any) -> str | None:
    password = secret.get("password") if isinstance(secret, dict) else None
    return password if isinstance(password, str) and password else None


def test_the_fixture_has_logins_and_errors_each_named_once() -> None:
    assert len(LOGINS) > 5
    assert len(ERRORS) > 5
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", LOGINS, ids=[c["name"] for c in LOGINS])
def test_the_job_logs_in_with_what_the_secret_says(case: dict[str, Any]) -> None:
    url, user, password = jdbc_login(SECRET_ID, json.dumps(case["secret"]))
    assert {"jdbcUrl": url, "user": user, "password": password} == case["expect"]


@pytest.mark.parametrize("case", ERRORS, ids=[c["name"] for c in ERRORS])
def test_a_bad_secret_is_refused_naming_the_secret_and_field_never_a_value(
    case: dict[str, Any],
) -> None:
    with pytest.raises(JobConfigError) as caught:
        jdbc_login(SECRET_ID, json.dumps(case["secret"]))
    message = str(caught.value)
    assert f"secret {SECRET_ID}" in message
    assert case["expect"]["error"] in message
    password = _password(case["secret"])
    if password:
        assert password not in message


def _driver_properties(spark: SparkSession, url: str) -> dict[str, str]:
    """What the PostgreSQL JDBC driver (the jar on Spark's classpath, the version Glue's is
    pinned to) reads from ``url``: ``Driver.parseURL``, which URL-decodes the database name and
    the parameters."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    properties = jvm.org.postgresql.Driver.parseURL(url, None)
    assert properties is not None, f"the driver refuses {url}"
    return {str(k): str(properties.getProperty(k)) for k in properties.stringPropertyNames()}


@pytest.mark.parametrize("case", LOGINS, ids=[c["name"] for c in LOGINS])
def test_the_driver_reads_each_jdbc_url_back_as_its_secret(
    spark: SparkSession, case: dict[str, Any]
) -> None:
    secret = parse_connection_secret(SECRET_ID, json.dumps(case["secret"]), {"engine": "postgres"})
    read = _driver_properties(spark, case["expect"]["jdbcUrl"])
    assert read["PGHOST"] == secret.host
    assert read["PGPORT"] == str(secret.port or DEFAULT_POSTGRES_PORT)
    assert read["PGDBNAME"] == secret.dbname
    for name, value in secret.options:
        assert read[name] == value, name


def test_the_driver_misreads_an_unencoded_database_name(spark: SparkSession) -> None:
    """Why the job percent-encodes the database name: the driver URL-decodes it."""
    url = "jdbc:postgresql://h:5432/a+b?sslmode=require"
    assert _driver_properties(spark, url)["PGDBNAME"] == "a b"
    assert _driver_properties(spark, "jdbc:postgresql://h:5432/a?b")["PGDBNAME"] == "a"
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    assert jvm.org.postgresql.Driver.parseURL("jdbc:postgresql://h:5432/a/b", None) is None


# ---------------------------------------------------------------------------------------------
# The parser's own details
# ---------------------------------------------------------------------------------------------


def test_defaults_fill_what_the_secret_lacks_and_the_secret_wins() -> None:
    """As ``parseConnectionSecret``: defaults that are null or empty are ignored."""
    secret = parse_connection_secret(
        "rds!db-1",
        json.dumps({"username": "master", "password": "x"}),
        {"engine": "postgres", "host": "db", "port": "5433", "dbname": "ddc", "username": ""},
    )
    assert secret == ConnectionSecret(
        engine="postgres", host="db", dbname="ddc", port=5433, username="master", password="x"
    )
    assert "'x'" not in repr(secret)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "secret s is not JSON"),
        ('{"host": NaN}', "secret s is not JSON"),
        ("[1]", "secret s must be a JSON object"),
        ('"postgres://u:hunter2@h/d"', "secret s must be a JSON object"),
    ],
)
def test_a_secret_that_is_no_json_object_is_refused_without_its_text(
    text: str, message: str
) -> None:
    with pytest.raises(JobConfigError, match=message) as caught:
        parse_connection_secret("s", text)
    assert "hunter2" not in str(caught.value)


def test_every_bad_field_is_named_at_once() -> None:
    """As ``parseConnectionSecret``: all problems in one message, in the schema's order."""
    text = json.dumps({"engine": "oracle", "port": 0, "password": 7, "options": {"a": None}})
    with pytest.raises(JobConfigError) as caught:
        parse_connection_secret("prod/ddc", text)
    assert str(caught.value) == (
        "JobConfigError: secret prod/ddc: engine must be one of postgres, mongodb, mongodb+srv; "
        "host is not set; port must be from 1 to 65535; dbname is not set; "
        "password must be a string; options.a must be a string, number or boolean (terminal)"
    )


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        (" 5433\n", 5433),
        ("0x1539", 5433),
        ("5433.0", 5433),
        (5433.0, 5433),
        ("1e3", 1000),
        (True, 1),
        (None, None),
        ("5_433", None),
        ("inf", None),
        ("Infinity", None),
        (10**400, None),
        ([5433], None),
    ],
)
def test_the_port_is_coerced_as_javascript_number_does(port: Any, expected: int | None) -> None:
    text = json.dumps({"host": "h", "dbname": "d", "username": "u", "port": port})
    if expected is None:
        with pytest.raises(JobConfigError, match="secret s: port"):
            jdbc_login("s", text)
    else:
        assert jdbc_login("s", text)[0] == f"jdbc:postgresql://h:{expected}/d"


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (100.0, "100"),
        (-2.5, "-2.5"),
        (1e21, "1e+21"),
        (123456789012345680000.0, "123456789012345680000"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0.1 + 0.2, "0.30000000000000004"),
    ],
)
def test_option_numbers_render_as_javascript_string_does(number: float, text: str) -> None:
    assert math.isfinite(number)
    assert _js_number_string(number) == text


def test_a_database_name_without_utf_8_is_refused() -> None:
    text = '{"host": "h", "dbname": "d\\ud800", "username": "u"}'
    with pytest.raises(JobConfigError, match="secret s: dbname or options are not valid Unicode"):
        jdbc_login("s", text)


# ---------------------------------------------------------------------------------------------
# Secrets Manager (the local moto server, as the job reads it in Glue)
# ---------------------------------------------------------------------------------------------


def test_the_login_is_read_from_secrets_manager_and_follows_its_updates(
    moto_secrets: MotoSecrets,
) -> None:
    secret = {"host": "db.internal", "dbname": "ddc", "username": "reader", "password": "p w"}
    name = moto_secrets.put(secret)

    assert read_jdbc_login(name) == ("jdbc:postgresql://db.internal:5432/ddc", "reader", "p w")
    # A cutover writes a new version; the next run reads it, nothing redeployed.
    moto_secrets.update(
        name, {**secret, "host": "prod.internal", "options": {"sslmode": "require"}}
    )
    assert read_jdbc_login(name) == (
        "jdbc:postgresql://prod.internal:5432/ddc?sslmode=require",
        "reader",
        "p w",
    )


def test_a_missing_secret_is_a_config_error_naming_it(moto_secrets: MotoSecrets) -> None:
    with pytest.raises(JobConfigError, match="secret lakehouse-test/nope: ResourceNotFound") as e:
        read_secret_string("lakehouse-test/nope", moto_secrets.client)
    assert not e.value.retryable


def test_a_binary_secret_is_a_config_error(moto_secrets: MotoSecrets) -> None:
    name = "lakehouse-test/binary-" + moto_secrets.put("{}").rsplit("/", 1)[1]
    moto_secrets.client.create_secret(Name=name, SecretBinary=b"\x00\x01")
    moto_secrets.names.append(name)
    with pytest.raises(JobConfigError, match=f"secret {name} has no string value"):
        read_secret_string(name)


def test_an_unreachable_secrets_manager_is_retryable() -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "secretsmanager",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:1",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(SourceUnavailableError, match="secret s could not be read") as caught:
        read_secret_string("s", client)
    assert caught.value.retryable


def test_a_secret_arn_names_its_region(monkeypatch: pytest.MonkeyPatch) -> None:
    from lakehouse_glue import connection_secret

    monkeypatch.delenv("AWS_REGION", raising=False)
    arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:lakehouse/ddc-AbCdEf"
    assert connection_secret._secrets_client(arn).meta.region_name == "eu-central-1"
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert connection_secret._secrets_client("lakehouse/ddc").meta.region_name == "eu-west-1"
