"""The Alarms report (docs/design.md §4, §5): alarms per company, device model, alarm code and
day, and time-to-reset percentiles, from curated alarms joined with the Postgres ``device`` and
``company`` tables.

Transforms take DataFrames, so the same code computes the report from curated Iceberg (the job)
and from raw Parquet (the benchmark's comparison). Both tables are recomputed whole each run and
their contents replaced in one commit each: a reset can land weeks after its alarm, so any day
may change, and the report is small next to its input. The tables themselves (columns, types,
properties) are the registry's report tables (``pipeline/schema/reports.ts``), received through
the job tables and handled by ``analytics.tables``.

Implausible alarms (ADR 0013): curated keeps every alarm as the source has it, but an alarm whose
reset comes before its activation, or more than ``MAX_PLAUSIBLE_TTR_SECONDS`` after it (a
``resetTS`` in year 9999), is in no figure of the report: not in ``alarms``, ``alarms_reset``,
the percentiles or the maximum. Each report row counts them instead, per reason
(``excluded_<reason>``), so ``alarms`` plus the excluded counts is every curated alarm of the
group, and a reader sees what was left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakehouse_glue.analytics.percentiles import exact_percentile, sorted_values_sql
from lakehouse_glue.analytics.tables import (
    conform,
    ensure_report_table,
    replace_contents,
    report_table_name,
)
from lakehouse_glue.errors import SourceTableMissingError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakehouse_glue.job_tables import JobReport, JobTables

#: The database the registry declares the report tables in (``reports[].database`` of the job
#: tables; ``test_job_tables`` checks they agree): the local entry's and the summary's default.
ANALYTICS_NAMESPACE = "analytics"
#: The report tables this module computes, by their registry names.
DAILY_TABLE = "alarms_daily"
TIME_TO_RESET_TABLE = "alarm_time_to_reset"
#: Exact percentiles (linear interpolation between closest ranks, Spark's ``percentile``; see
#: ``percentiles``), so the report equals any independent computation; groups are small enough
#: that approximation buys nothing.
PERCENTILES = (0.5, 0.9)
GROUP = ("id_company", "company_name", "device_model", "code")

#: The longest time to reset the report believes: a year. Longer ones (a ``resetTS`` in year
#: 9999, a clock reset on the oven) would own every percentile of their group.
MAX_PLAUSIBLE_TTR_SECONDS = 365 * 24 * 3600
#: Why an alarm is in no figure of the report; each reason is a count column ``excluded_<reason>``
#: of both report tables (``pipeline/schema/reports.ts``).
RESET_BEFORE_ACTIVE = "reset_before_active"
RESET_TOO_LATE = "reset_too_late"
EXCLUSIONS = (RESET_BEFORE_ACTIVE, RESET_TOO_LATE)


def excluded_column(reason: str) -> str:
    """The report column counting the alarms excluded for ``reason``."""
    return f"excluded_{reason}"


@dataclass(frozen=True)
class ReportSources:
    alarms: str
    devices: str
    companies: str


def default_sources(
    catalog: str, mongodb_namespace: str = "mongodb", postgres_namespace: str = "postgres"
) -> ReportSources:
    return ReportSources(
        alarms=f"{catalog}.{mongodb_namespace}.alarm",
        devices=f"{catalog}.{postgres_namespace}.device",
        companies=f"{catalog}.{postgres_namespace}.company",
    )


def latest_alarms(raw: DataFrame) -> DataFrame:
    """One row per alarm id, its latest ``reset_ts`` winning, computed on raw objects where an
    alarm extracted open and again reset appears twice (the benchmark's raw-layer report).

    Curated holds the newest extraction instead (ADR 0013), which only the ledger's order tells;
    the two differ only for an alarm re-opened in the source, which the synthetic fleet never
    does."""
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    window = Window.partitionBy("id").orderBy(sf.col("reset_ts").desc_nulls_last())
    return raw.withColumn("_rank", sf.row_number().over(window)).where("_rank = 1").drop("_rank")


def alarm_facts(alarms: DataFrame, devices: DataFrame, companies: DataFrame) -> DataFrame:
    """One row per alarm with its company, device model, UTC day, time to reset and, for an
    implausible one, why it is excluded from the figures (``exclusion``, NULL when counted).

    Left joins: an alarm of a device missing from ``ddc`` (deleted, or newer than the last
    extraction) still counts, under a NULL company and model, rather than vanishing.
    """
    from pyspark.sql import functions as sf

    a = alarms.select("id_device", "code", "active_ts", "reset_ts").alias("a")
    d = devices.select(
        sf.col("id").alias("d_id"), "id_company", sf.col("model").alias("device_model")
    )
    c = companies.select(sf.col("id").alias("c_id"), sf.col("name").alias("company_name"))
    ttr = (sf.unix_micros("reset_ts") - sf.unix_micros("active_ts")) / sf.lit(1_000_000.0)
    return (
        a.join(d, sf.col("a.id_device") == sf.col("d_id"), "left")
        .join(c, sf.col("id_company") == sf.col("c_id"), "left")
        .select(
            "id_company",
            "company_name",
            "device_model",
            "code",
            sf.to_date("active_ts").alias("day"),
            sf.col("reset_ts").isNotNull().alias("is_reset"),
            ttr.alias("ttr_seconds"),
            sf.when(ttr < 0, sf.lit(RESET_BEFORE_ACTIVE))
            .when(ttr > MAX_PLAUSIBLE_TTR_SECONDS, sf.lit(RESET_TOO_LATE))
            .alias("exclusion"),
        )
    )


#: The two levels of the report, in one aggregation (see ``report_groups``).
DAILY_LEVEL = "daily"
OVERALL_LEVEL = "overall"


def report_groups(facts: DataFrame) -> DataFrame:
    """Every measure of the report at both of its levels, in one aggregation.

    ``GROUPING SETS`` computes the (company, model, code, day) groups and the (company, model,
    code) groups in one pass over the facts: one shuffle and one Spark job chain instead of two
    (scripts/bench/curate_analytics.py counts them); the values are those of two separate
    ``GROUP BY``s. Column ``level`` tells the rows apart (``grouping(day)``, since a NULL company
    or model is a real group: alarms of devices missing from ``ddc``). Percentiles come from
    each group's sorted times to reset (``percentiles``: Spark's ``percentile``, faster).

    Every measure counts only plausible alarms (``exclusion`` NULL); the excluded ones are
    counted per reason, and still place their group in time (``first_day``, ``last_day``: their
    activation is as real as any). A group of excluded alarms only has 0 alarms and NULL times.
    """
    group = ", ".join(GROUP)
    counted = "exclusion IS NULL"
    excluded = ",\n          ".join(
        f"count_if(exclusion = '{reason}') AS {excluded_column(reason)}" for reason in EXCLUSIONS
    )
    df = facts.sparkSession.sql(
        f"""
        SELECT {group}, day,
          IF(grouping(day) = 0, '{DAILY_LEVEL}', '{OVERALL_LEVEL}') AS level,
          count_if({counted}) AS alarms,
          count_if({counted} AND is_reset) AS alarms_reset,
          {sorted_values_sql(f"IF({counted}, ttr_seconds, NULL)")} AS _ttr,
          max(IF({counted}, ttr_seconds, NULL)) AS ttr_max_seconds,
          min(day) AS first_day,
          max(day) AS last_day,
          {excluded}
        FROM {{facts}}
        GROUP BY GROUPING SETS (({group}, day), ({group}))
        """,
        facts=facts,
    )
    for p in PERCENTILES:
        df = df.withColumn(f"ttr_p{round(p * 100)}_seconds", exact_percentile("_ttr", p))
    return df.drop("_ttr")


def alarms_daily(groups: DataFrame, spec: JobReport, table: str | None = None) -> DataFrame:
    """Alarms per company, device model, code and UTC day of activation (from ``report_groups``),
    with the columns ``spec`` declares."""
    return conform(groups.where(f"level = '{DAILY_LEVEL}'"), spec, table or spec.name)


def alarm_time_to_reset(groups: DataFrame, spec: JobReport, table: str | None = None) -> DataFrame:
    """Time to reset over the whole history per company, model and code (percentiles of days
    cannot be combined, so this is its own level rather than a rollup of the daily table), with
    the columns ``spec`` declares."""
    return conform(groups.where(f"level = '{OVERALL_LEVEL}'"), spec, table or spec.name)


def _table(spark: SparkSession, name: str) -> DataFrame:
    if not spark.catalog.tableExists(name):
        raise SourceTableMissingError(
            "the Alarms report needs it: run mongodb_curate and postgres_extract first", table=name
        )
    return spark.table(name)


def build_alarms_report(
    spark: SparkSession,
    catalog: str,
    sources: ReportSources | None = None,
    namespace: str | None = None,
    *,
    job_tables: JobTables,
    recreate_mismatched: bool = False,
) -> dict[str, int]:
    """Recompute both report tables and replace their contents; returns their row counts.

    The tables are the ones ``job_tables`` declares, in their declared database unless
    ``namespace`` says otherwise (tests write to their own). Every check (sources present,
    computed columns as declared, existing tables as declared) passes before the first write.
    """
    sources = sources or default_sources(catalog)
    specs = {name: job_tables.report(name) for name in (DAILY_TABLE, TIME_TO_RESET_TABLE)}
    targets = {name: report_table_name(catalog, spec, namespace) for name, spec in specs.items()}
    facts = alarm_facts(
        _table(spark, sources.alarms),
        _table(spark, sources.devices),
        _table(spark, sources.companies),
    )
    # Small (one row per group): computed once, then both tables are written from the cache.
    groups = report_groups(facts).cache()
    try:
        frames = {
            DAILY_TABLE: alarms_daily(groups, specs[DAILY_TABLE], targets[DAILY_TABLE]),
            TIME_TO_RESET_TABLE: alarm_time_to_reset(
                groups, specs[TIME_TO_RESET_TABLE], targets[TIME_TO_RESET_TABLE]
            ),
        }
        for spec in specs.values():
            ensure_report_table(
                spark, catalog, spec, namespace, recreate_mismatched=recreate_mismatched
            )
        counts: dict[str, int] = {}
        for name, frame in frames.items():
            replace_contents(frame.orderBy(*GROUP), targets[name])
            counts[name] = spark.table(targets[name]).count()
        return counts
    finally:
        groups.unpersist()
