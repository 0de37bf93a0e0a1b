"""Exact percentiles from a sorted array, bit for bit what Spark's ``percentile`` returns.

Spark's ``percentile`` aggregate keeps a hash map of value → count per group and sorts it at
the end; with continuous values (times to reset are all distinct) and tens of thousands of
groups that map was most of the Alarms report's cost (about 60 % of it at 125k alarms on local
Spark). ``array_sort(collect_list(x))`` keeps a plain array per group instead: the report went
from 1.78 s to 1.26 s there (scripts/bench/curate_analytics.py, docs/benchmarks.md).

The interpolation below repeats Spark's ``Percentile.getPercentile`` (Spark 3.5): position
``(n - 1) * p`` in double arithmetic, the value at its floor when floor and ceiling coincide or
hold equal values, else ``(ceil - pos) * lower + (pos - floor) * higher``; NULL for an empty
group (``collect_list`` skips NULLs as ``percentile`` does). ``glue/tests/test_percentiles.py``
checks equality.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column


def sorted_values_sql(column: str) -> str:
    """The aggregate to feed :func:`exact_percentile`: the group's non-NULL values, ascending."""
    return f"array_sort(collect_list({column}))"


def exact_percentile(values: str, p: float) -> Column:
    """Percentile ``p`` (0..1) of the sorted array column ``values``."""
    from pyspark.sql import functions as sf

    if not 0.0 <= p <= 1.0:
        raise ValueError(f"a percentile is between 0 and 1, got {p}")
    # `{p!r}D`: a double literal; a bare 0.9 is a DECIMAL in Spark SQL and rounds differently.
    pos = f"((size({values}) - 1) * {p!r}D)"
    lower = f"element_at({values}, CAST(floor({pos}) AS INT) + 1)"
    higher = f"element_at({values}, CAST(ceil({pos}) AS INT) + 1)"
    return sf.expr(
        f"CASE WHEN size({values}) = 0 THEN CAST(NULL AS DOUBLE) "
        f"WHEN floor({pos}) = ceil({pos}) OR {lower} = {higher} THEN CAST({lower} AS DOUBLE) "
        f"ELSE (ceil({pos}) - {pos}) * {lower} + ({pos} - floor({pos})) * {higher} END"
    )
