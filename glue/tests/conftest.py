"""Fixtures shared by the Glue job tests: one local Spark JVM for the whole run.

Starting the JVM costs seconds, so the session is shared; tests keep isolation by using their own
table names (``unique_table``) instead of their own session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession
from report_fixture import Report, built_report

from lakehouse_glue.spark import DEFAULT_CATALOG, local_session


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
