"""Smoke tests of the local Spark + Iceberg + JDBC stack the Glue jobs run on.

They pin the behaviours the jobs rely on (hidden partitioning, snapshots per commit, MERGE with
null-safe change detection, the JDBC driver on the JVM classpath), so a version bump that changes
any of them fails here rather than inside a job.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lake_helpers import first_row
from pyspark.sql import Row, SparkSession
from pyspark.sql.types import (
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

ALARM_SCHEMA = StructType(
    [
        StructField("idDevice", LongType(), nullable=False),
        StructField("ts", TimestampType(), nullable=False),
        StructField("code", StringType(), nullable=True),
        StructField("value", DoubleType(), nullable=True),
    ]
)


def _create_partitioned(spark: SparkSession, table: str) -> None:
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {table.rsplit('.', 1)[0]}")
    spark.sql(
        f"""
        CREATE TABLE {table} (idDevice BIGINT NOT NULL, ts TIMESTAMP NOT NULL,
                              code STRING, value DOUBLE)
        USING iceberg
        PARTITIONED BY (bucket(4, idDevice), years(ts))
        """
    )


def test_versions_match_glue_5(spark: SparkSession) -> None:
    assert spark.version == "3.5.4"
    jvm = spark._jvm
    assert jvm is not None
    iceberg_version = jvm.org.apache.iceberg.IcebergBuild.version()
    assert iceberg_version == "1.7.1"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert jvm.java.util.TimeZone.getDefault().getID() == "UTC"


def test_iceberg_roundtrip_with_hidden_partitioning(spark: SparkSession, unique_table: str) -> None:
    _create_partitioned(spark, unique_table)
    rows = [
        (1, datetime(2015, 10, 1, 0, 0, 0, tzinfo=UTC), "E01", 1.5),
        (2, datetime(2023, 12, 31, 23, 59, 59, 123456, tzinfo=UTC), None, None),
        (7, datetime(2024, 2, 29, 12, 0, 0, tzinfo=UTC), "E02", -0.25),
    ]
    spark.createDataFrame(rows, ALARM_SCHEMA).writeTo(unique_table).append()

    got = spark.sql(f"SELECT idDevice, ts, code, value FROM {unique_table} ORDER BY idDevice")
    # Naive datetimes in UTC: local_session pins the process zone, which pyspark converts with.
    assert [tuple(r) for r in got.collect()] == [
        (1, datetime(2015, 10, 1, 0, 0, 0), "E01", 1.5),
        (2, datetime(2023, 12, 31, 23, 59, 59, 123456), None, None),
        (7, datetime(2024, 2, 29, 12, 0, 0), "E02", -0.25),
    ]
    ts_text = spark.sql(
        f"SELECT date_format(ts, \"yyyy-MM-dd'T'HH:mm:ss.SSSSSS\") AS t FROM {unique_table} "
        "WHERE idDevice = 2"
    ).first()
    assert ts_text is not None
    assert ts_text.t == "2023-12-31T23:59:59.123456"

    fields = [
        r.partition.asDict()
        for r in spark.sql(f"SELECT partition FROM {unique_table}.partitions").collect()
    ]
    # years(ts) is years since 1970 (2015 -> 45); bucket is the spec's murmur3 hash mod 4, the
    # same value Athena and Glue compute, so these pairs are fixed by the Iceberg spec.
    assert sorted((f["ts_year"], f["idDevice_bucket"]) for f in fields) == [
        (45, 0),
        (53, 0),
        (54, 3),
    ]

    props = spark.sql(f"DESCRIBE TABLE EXTENDED {unique_table}").collect()
    provider = {r.col_name: r.data_type for r in props}.get("Provider")
    assert provider == "iceberg"


def test_each_append_is_one_snapshot(spark: SparkSession, unique_table: str) -> None:
    _create_partitioned(spark, unique_table)
    first = [(1, datetime(2024, 1, 1, tzinfo=UTC), "A", 1.0)]
    second = [(2, datetime(2025, 1, 1, tzinfo=UTC), "B", 2.0)]

    spark.createDataFrame(first, ALARM_SCHEMA).writeTo(unique_table).append()
    assert spark.sql(f"SELECT * FROM {unique_table}.snapshots").count() == 1

    spark.createDataFrame(second, ALARM_SCHEMA).writeTo(unique_table).append()
    snapshots = spark.sql(
        f"SELECT snapshot_id, operation FROM {unique_table}.snapshots ORDER BY committed_at"
    ).collect()
    assert [s.operation for s in snapshots] == ["append", "append"]

    # Time travel to the first snapshot sees only the first write.
    first_id = snapshots[0].snapshot_id
    old = spark.sql(f"SELECT idDevice FROM {unique_table} VERSION AS OF {first_id}").collect()
    assert [r.idDevice for r in old] == [1]
    now = spark.sql(f"SELECT idDevice FROM {unique_table} ORDER BY idDevice").collect()
    assert [r.idDevice for r in now] == [1, 2]


def test_merge_detects_changes_to_and_from_null(spark: SparkSession, unique_table: str) -> None:
    namespace = unique_table.rsplit(".", 1)[0]
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    spark.sql(
        f"CREATE TABLE {unique_table} (id BIGINT, city STRING, mirror STRING, run INT) "
        "USING iceberg"
    )
    spark.sql(
        f"""INSERT INTO {unique_table} VALUES
            (1, 'Padova', 'm1', 1),   -- city becomes NULL
            (2, NULL, 'm2', 1),       -- city becomes a value
            (3, 'Venezia', NULL, 1),  -- unchanged, with a NULL column
            (4, NULL, NULL, 1)        -- unchanged, all NULL
        """
    )
    # `run` marks which rows the MERGE touched: only changed rows may carry run 2, so unchanged
    # devices keep their old row (and no spurious history in time travel).
    spark.createDataFrame(
        [
            Row(id=1, city=None, mirror="m1", run=2),
            Row(id=2, city="Treviso", mirror="m2", run=2),
            Row(id=3, city="Venezia", mirror=None, run=2),
            Row(id=4, city=None, mirror=None, run=2),
            Row(id=5, city="Verona", mirror=None, run=2),
        ],
        "id BIGINT, city STRING, mirror STRING, run INT",
    ).createOrReplaceTempView("device_source")

    # The seed's `t.city <> s.city` is NULL (not true) when either side is NULL, so rows 1 and 2
    # would be skipped; `NOT (t.city <=> s.city)` is true exactly when the values differ.
    spark.sql(
        f"""
        MERGE INTO {unique_table} t
        USING device_source s
        ON t.id = s.id
        WHEN MATCHED AND (NOT (t.city <=> s.city) OR NOT (t.mirror <=> s.mirror))
          THEN UPDATE SET *
        WHEN NOT MATCHED THEN INSERT *
        """
    )

    got = spark.sql(f"SELECT id, city, mirror, run FROM {unique_table} ORDER BY id").collect()
    assert [tuple(r) for r in got] == [
        (1, None, "m1", 2),
        (2, "Treviso", "m2", 2),
        (3, "Venezia", None, 1),
        (4, None, None, 1),
        (5, "Verona", None, 2),
    ]
    operations = spark.sql(
        f"SELECT operation FROM {unique_table}.snapshots ORDER BY committed_at"
    ).collect()
    assert [o.operation for o in operations] == ["append", "overwrite"]


def test_merge_with_plain_inequality_misses_null_changes(
    spark: SparkSession, unique_table: str
) -> None:
    """Documents the seed's bug so nobody 'simplifies' the condition back to `<>`."""
    namespace = unique_table.rsplit(".", 1)[0]
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    spark.sql(f"CREATE TABLE {unique_table} (id BIGINT, city STRING) USING iceberg")
    spark.sql(f"INSERT INTO {unique_table} VALUES (1, 'Padova'), (2, NULL)")
    spark.createDataFrame(
        [Row(id=1, city=None), Row(id=2, city="Treviso")], "id BIGINT, city STRING"
    ).createOrReplaceTempView("device_source_plain")

    spark.sql(
        f"""
        MERGE INTO {unique_table} t USING device_source_plain s ON t.id = s.id
        WHEN MATCHED AND t.city <> s.city THEN UPDATE SET *
        """
    )

    got = spark.sql(f"SELECT id, city FROM {unique_table} ORDER BY id").collect()
    assert [tuple(r) for r in got] == [(1, "Padova"), (2, None)]


def test_postgres_jdbc_driver_is_on_the_jvm_classpath(spark: SparkSession) -> None:
    jvm = spark._jvm
    assert jvm is not None
    driver = jvm.java.lang.Class.forName("org.postgresql.Driver")
    assert driver.getName() == "org.postgresql.Driver"
    version = jvm.org.postgresql.util.DriverInfo.DRIVER_VERSION
    assert version.startswith("42.7.")


def test_files_larger_than_one_read_batch_read_back(spark: SparkSession, unique_table: str) -> None:
    """Iceberg 1.7.1's vectorized reader on Spark 3.5.4 writes the second batch of a file into
    buffers Spark already freed (SPARK-50235, fixed by apache/iceberg#11802 in 1.7.2): the JVM
    crashed minutes later in unrelated code. Sessions read row-based; the Arrow bounds checks
    the harness keeps on turn the vectorized path into an exception, which this test expects so
    that a version bump that fixes it says the workaround can go."""
    from lakehouse_glue.spark import ICEBERG_VECTORIZATION_CONF

    spark.sql(f"CREATE TABLE {unique_table} (a BIGINT NOT NULL, b DOUBLE) USING iceberg")
    # One file of 12,000 rows: three batches of Iceberg's default 5,000.
    spark.sql(
        f"INSERT INTO {unique_table} SELECT /*+ REPARTITION(1) */ id % 3, id FROM range(12000)"
    )
    assert first_row(spark.sql(f"SELECT count(*) FROM {unique_table}.files"))[0] == 1
    query = f"SELECT sum(a), sum(b), count(*) FROM (SELECT a, b FROM {unique_table} WHERE a >= 0)"

    assert spark.conf.get(ICEBERG_VECTORIZATION_CONF) == "false"
    assert tuple(first_row(spark.sql(query))) == (12000, 71994000.0, 12000)

    spark.conf.set(ICEBERG_VECTORIZATION_CONF, "true")
    try:
        with pytest.raises(Exception, match="IndexOutOfBoundsException"):
            spark.sql(query).collect()
    finally:
        spark.conf.set(ICEBERG_VECTORIZATION_CONF, "false")
