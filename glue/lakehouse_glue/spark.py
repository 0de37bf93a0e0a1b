"""Local Spark session that behaves like AWS Glue 5.0 for the job code we test.

Glue 5.0 runs Spark 3.5.4 on Java 17 with Iceberg 1.7.1; locally we get the same versions from
pyspark on PyPI and the jars listed in ``glue/jars/pom.xml`` (copied to ``.local/jars`` by
``scripts/install-jars.sh``). Tests and the local runner build their session here so that every
job sees the same catalog layout and settings.
"""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

REPO_ROOT = Path(__file__).resolve().parents[2]
JARS_POM = REPO_ROOT / "glue" / "jars" / "pom.xml"
JARS_ENV = "LAKEHOUSE_JARS"
DEFAULT_JARS_DIR = REPO_ROOT / ".local" / "jars"
INSTALL_JARS_SCRIPT = "scripts/install-jars.sh"

DEFAULT_APP_NAME = "lakehouse-local"
DEFAULT_CATALOG = "lake"
# Two cores on the reference machine; small shuffles keep unit-sized tests fast.
LOCAL_MASTER = "local[2]"
DRIVER_MEMORY = "1g"
SHUFFLE_PARTITIONS = 4
# Glue runs its driver and executors in UTC.
TIME_ZONE = "UTC"

#: Iceberg 1.7.1's vectorized Parquet reader is unsafe on Spark 3.5.4 (the pair Glue 5.0 ships):
#: SPARK-50235 made whole-stage-codegen ``ColumnarToRowExec`` call ``ColumnVector.closeIfFreeable``
#: after every batch, and Iceberg's ``IcebergArrowColumnVector`` only overrides it (as a no-op)
#: from 1.7.2 on (apache/iceberg#11802). So Spark frees the Arrow buffers Iceberg reuses for the
#: next batch, and Iceberg, which turns Arrow's bounds checks off, writes the next batch into
#: freed native memory: any data file with more rows than one batch (5,000) corrupts the C heap,
#: and the JVM dies later in unrelated code (SIGSEGV in SymbolTable, G1, "double free"). Row-based
#: Iceberg reads are unaffected. Every session turns vectorized Iceberg reads off with this
#: setting (``disable_unsafe_iceberg_reads``); curated tables also carry the table property
#: (``lakehouse_glue.curate.tables``), for sessions that are not ours.
ICEBERG_VECTORIZATION_CONF = "spark.sql.iceberg.vectorization.enabled"
#: Keeps Arrow's bounds checks on (Iceberg only turns them off when nobody configured them), so
#: if vectorized Iceberg reads come back on by mistake, the read fails with an
#: ``IndexOutOfBoundsException`` naming the reader instead of corrupting memory.
ARROW_BOUNDS_CHECKS = "-Darrow.enable_unsafe_memory_access=false"
JAVA_OPTIONS = f"-Duser.timezone={TIME_ZONE} {ARROW_BOUNDS_CHECKS}"

_POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def required_jars(pom: Path = JARS_POM) -> list[str]:
    """Jar file names the pom produces, so the version lives only in the pom."""
    root = ET.parse(pom).getroot()
    names = []
    for dep in root.iterfind("m:dependencies/m:dependency", _POM_NS):
        artifact = dep.findtext("m:artifactId", namespaces=_POM_NS)
        version = dep.findtext("m:version", namespaces=_POM_NS)
        names.append(f"{artifact}-{version}.jar")
    return names


def jar_paths(jars_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Resolve the required jars, failing before the JVM starts with a message that says the fix.

    A missing jar would otherwise surface later as an opaque ``ClassNotFoundException`` from
    inside the first Iceberg query.
    """
    directory = Path(jars_dir or os.environ.get(JARS_ENV) or DEFAULT_JARS_DIR)
    paths = [directory / name for name in required_jars()]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"missing Spark jar(s) {', '.join(missing)} in {directory}; "
            f"run `bash {INSTALL_JARS_SCRIPT}` (or point {JARS_ENV} at a folder holding them)"
        )
    return paths


def local_session(
    warehouse: str | os.PathLike[str],
    app_name: str = DEFAULT_APP_NAME,
    catalog: str = DEFAULT_CATALOG,
) -> SparkSession:
    """Build (or reuse) a local Spark session with an Iceberg Hadoop catalog at ``warehouse``.

    One JVM per Python process: if a session already exists, Spark returns it and static settings
    (jars, memory) from the first call win, so call this once per process.
    """
    from pyspark.sql import SparkSession

    _pin_python_time_zone()
    classpath = os.pathsep.join(str(p) for p in jar_paths())
    warehouse_path = Path(warehouse).resolve()
    cat = f"spark.sql.catalog.{catalog}"

    builder = (
        SparkSession.builder.master(LOCAL_MASTER)
        .appName(app_name)
        # On the JVM's own classpath (not only spark.jars' child loader) so that JDBC's
        # DriverManager and plain Class.forName find org.postgresql.Driver, as they do on Glue.
        # Local mode runs driver and executors in one JVM, so the driver setting covers both.
        .config("spark.driver.extraClassPath", classpath)
        .config("spark.executor.extraClassPath", classpath)
        # Not every JVM code path honours the session zone (java.util / java.sql conversions use
        # the JVM default); Glue's JVM runs in UTC, so ours does too. Arrow keeps its bounds checks.
        .config("spark.driver.extraJavaOptions", JAVA_OPTIONS)
        .config("spark.executor.extraJavaOptions", JAVA_OPTIONS)
        # Row-based Iceberg reads: see ICEBERG_VECTORIZATION_CONF.
        .config(ICEBERG_VECTORIZATION_CONF, "false")
        .config("spark.driver.memory", DRIVER_MEMORY)
        .config("spark.sql.shuffle.partitions", str(SHUFFLE_PARTITIONS))
        .config("spark.default.parallelism", str(SHUFFLE_PARTITIONS))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # Loopback only: no hostname lookups, nothing listening on other interfaces.
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        # Timestamps in the lake are UTC instants; the machine's zone must not leak into them.
        .config("spark.sql.session.timeZone", TIME_ZONE)
        .config(
            "spark.sql.extensions",
            "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        )
        .config(cat, "org.apache.iceberg.spark.SparkCatalog")
        .config(f"{cat}.type", "hadoop")
        .config(f"{cat}.warehouse", warehouse_path.as_uri())
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session


def disable_unsafe_iceberg_reads(spark: SparkSession) -> None:
    """Turn Iceberg's vectorized Parquet reads off for this session (see
    ``ICEBERG_VECTORIZATION_CONF``); the Glue entries call it on the session Glue made."""
    spark.conf.set(ICEBERG_VECTORIZATION_CONF, "false")


def _pin_python_time_zone() -> None:
    """Make this process's local zone UTC, as it is on Glue.

    pyspark 3.5 turns collected TIMESTAMP values into naive datetimes in the *process* zone
    (``TimestampType.fromInternal`` uses ``datetime.fromtimestamp``), ignoring the session zone,
    so on a developer machine in Europe/Rome a test would see 02:00 where Glue sees 00:00.
    """
    if os.environ.get("TZ") != TIME_ZONE:
        os.environ["TZ"] = TIME_ZONE
        time.tzset()
