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


@pytest.fixture
def moto_secrets() -> Iterator[MotoSecrets]:
    """Secrets in the local Secrets Manager (moto), each under a fresh name, deleted afterwards."""
    secrets = MotoSecrets()
    yield secrets
    secrets.delete_all()
