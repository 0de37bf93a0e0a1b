"""Fixtures shared by the Glue job tests: one local Spark JVM for the whole run.

Starting the JVM costs seconds, so the session is shared; tests keep isolation by using their own
table names (``unique_table``) instead of their own session. The job tables the TypeScript
registry prints (``registry``) are read once per run too.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto_secrets import MotoSecrets
from pyspark.sql import SparkSession
from report_fixture import Report, built_report
from typescript import typescript_value
from views_lake import CodeName, ViewsLake, build_views_lake

from lakehouse_glue.job_tables import parse_job_tables
from lakehouse_glue.spark import DEFAULT_CATALOG, local_session

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def registry() -> dict[str, Any]:
    """The job tables as the TypeScript registry prints them (``registry job-tables``): the
    other side of every contract the tests check, so there is no second list here. Tests that
    break it deep-copy it first."""
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "lakehouse.sh"), "registry", "job-tables"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    document: dict[str, Any] = json.loads(out)
    return document


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    warehouse = tmp_path_factory.mktemp("warehouse")
    session = local_session(str(warehouse), app_name="lakehouse-glue-tests")
    yield session
    session.stop()


@pytest.fixture
def unique_table(spark: SparkSession) -> Iterator[str]:
    """A fresh ``lake.<db>.<table>`` name, dropped afterwards so reruns start clean."""
    name = f"{DEFAULT_CATALOG}.test_{uuid.uuid4().hex[:8]}.t"
    yield name
    spark.sql(f"DROP TABLE IF EXISTS {name} PURGE")


@pytest.fixture(scope="session")
def report(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    """The Alarms report of a small synthetic fleet (``report_fixture``), built once per run."""
    yield from built_report(spark, tmp_path_factory.mktemp("analytics"))


@pytest.fixture(scope="session")
def code_names() -> dict[int, CodeName]:
    """The alarm codes the registry names (``pipeline/reports/alarm-codes.ts``)."""
    names = typescript_value(
        'import { ALARM_CODE_NAMES } from "./pipeline/reports/alarm-codes.ts";\n'
        "console.log(JSON.stringify(ALARM_CODE_NAMES));"
    )
    return {n["code"]: CodeName(n["code"], n["class"], n["name"]) for n in names}


@pytest.fixture(scope="session")
def views_lake(
    spark: SparkSession,
    registry: dict[str, Any],
    code_names: dict[int, CodeName],
    tmp_path_factory: pytest.TempPathFactory,
) -> ViewsLake:
    """A small lake of its own catalog for the analysts' views (``views_lake``), built once."""
    return build_views_lake(
        spark, tmp_path_factory.mktemp("views-lake"), parse_job_tables(registry), code_names
    )


@pytest.fixture
def current_catalog(spark: SparkSession) -> Iterator[None]:
    """Puts the session's current catalog back after a test that changes it (``create_views``
    does), so the shared session's other tests find it as they left it."""
    before = spark.catalog.currentCatalog()
    yield
    spark.catalog.setCurrentCatalog(before)


@pytest.fixture
def moto_secrets() -> Iterator[MotoSecrets]:
    """Secrets in the local Secrets Manager (moto), each under a fresh name, deleted afterwards."""
    secrets = MotoSecrets()
    yield secrets
    secrets.delete_all()
