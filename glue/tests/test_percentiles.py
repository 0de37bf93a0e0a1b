"""The report's exact percentiles equal Spark's own ``percentile``, bit for bit."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as sf

from lakehouse_glue.analytics.percentiles import exact_percentile, sorted_values_sql

PS = (0.0, 0.1, 0.25, 0.5, 0.9, 0.99, 1.0)
#: group → values: empty (only NULLs), one value, two, ties at the interpolation points, values
#: whose interpolation is inexact in binary (a DECIMAL position would round differently), and
#: negatives.
GROUPS: dict[str, list[float | None]] = {
    "nulls": [None, None],
    "one": [42.5],
    "two": [1.0, 2.0],
    "ties": [5.0, 5.0, 5.0, 7.0, 7.0, 1.0],
    "inexact": [0.1 * i**1.7 + 1e-3 * i for i in range(1, 38)] + [None],
    "negative": [-3.5, 10.25, -1e6, 0.0, 3.3],
}


def test_equals_sparks_percentile(spark: SparkSession) -> None:
    rows = [(g, v) for g, values in GROUPS.items() for v in values]
    df = spark.createDataFrame(rows, "g string, v double")
    sorted_values = df.groupBy("g").agg(sf.expr(sorted_values_sql("v")).alias("vs"))
    columns = [exact_percentile("vs", p).alias(f"p{i}") for i, p in enumerate(PS)]
    ours = sorted_values.select("g", *columns)
    pcts = ", ".join(repr(p) for p in PS)
    spark_own = df.groupBy("g").agg(sf.expr(f"percentile(v, array({pcts}))").alias("ps"))
    want = {r["g"]: list(r["ps"] or [None] * len(PS)) for r in spark_own.collect()}
    got = {r["g"]: [r[f"p{i}"] for i in range(len(PS))] for r in ours.collect()}
    assert set(got) == set(GROUPS)
    for g in GROUPS:
        assert got[g] == want[g], g  # exact equality, not approx
    assert got["nulls"] == [None] * len(PS)
    assert got["two"][3] == 1.5


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_refuses_a_percentile_outside_0_1(p: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        exact_percentile("vs", p)
