"""Snapshot-summary properties on SQL commits (``MERGE INTO``), and reading them back.

DataFrame writes take ``snapshot-property.<key>`` write options, but ``MERGE INTO`` has no
options. Iceberg's Spark integration adds to every commit the properties found in the
thread-local of ``org.apache.iceberg.spark.CommitMetadata`` (what its public
``withCommitProperties(map, callable, exceptionClass)`` sets around a Java ``Callable``). The
commit of a SQL command runs on the JVM thread that called ``spark.sql``, and PySpark's
pinned-thread mode (the default since Spark 3.2) serves each Python thread with one JVM thread,
so setting that thread-local from Python, running the statement, then clearing it, is the same
as the public call. The property therefore lands in the very commit that writes the data: no
window where data is committed and the position not.

Why not the public call with a Python ``Callable``: it needs py4j's callback server (a second
listening socket and a JVM-to-Python call per commit) for what two plain calls do. (The JVM
crashes once blamed on those callbacks were Iceberg 1.7.1's vectorized reader on Spark 3.5.4,
see ``lakehouse_glue.spark.ICEBERG_VECTORIZATION_CONF``; they happened without callbacks too.)
https://iceberg.apache.org/docs/1.7.1/spark-configuration/#write-options
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from lakehouse_glue.errors import GlueJobError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

T = TypeVar("T")

_COMMIT_METADATA = "org.apache.iceberg.spark.CommitMetadata"
_THREAD_LOCAL_FIELD = "COMMIT_PROPERTIES"


def _thread_local(spark: SparkSession) -> object:
    jvm = spark._jvm
    assert jvm is not None
    try:
        cls = jvm.java.lang.Class.forName(_COMMIT_METADATA)
        field = cls.getDeclaredField(_THREAD_LOCAL_FIELD)
        field.setAccessible(True)
        return field.get(None)
    except Exception as error:  # an Iceberg upgrade renamed it: fail loudly, never commit blind
        raise GlueJobError(
            f"cannot reach {_COMMIT_METADATA}.{_THREAD_LOCAL_FIELD} (Iceberg version changed?)"
        ) from error


def with_commit_properties(
    spark: SparkSession, properties: Mapping[str, str], fn: Callable[[], T]
) -> T:
    """Run ``fn`` (e.g. a ``spark.sql("MERGE ...")``) so its Iceberg commit carries ``properties``.

    ``fn`` must call Spark from this Python thread (the thread-local is per JVM thread).
    """
    if threading.current_thread() is not threading.main_thread():
        # Other Python threads are pinned to other JVM threads too; nothing else is supported
        # here because nothing else was tested.
        raise GlueJobError("with_commit_properties must run on the main thread")
    jvm = spark._jvm
    assert jvm is not None
    props = jvm.java.util.HashMap()
    for key, value in properties.items():
        props.put(key, value)
    local = _thread_local(spark)
    local.set(props)  # type: ignore[attr-defined]
    try:
        return fn()
    finally:
        local.remove()  # type: ignore[attr-defined]


def latest_property(spark: SparkSession, table: str, key: str) -> str | None:
    """The value of ``key`` in the newest snapshot of the table's current history that has it.

    Snapshots without it (compaction's ``replace``, an operator's fix) are skipped, and snapshots
    rolled back out of the history do not count.
    """
    rows = spark.sql(
        f"SELECT s.summary['{key}'] AS value FROM {table}.history h "
        f"JOIN {table}.snapshots s ON h.snapshot_id = s.snapshot_id "
        f"WHERE h.is_current_ancestor AND s.summary['{key}'] IS NOT NULL "
        "ORDER BY h.made_current_at DESC LIMIT 1"
    ).collect()
    return rows[0]["value"] if rows else None
