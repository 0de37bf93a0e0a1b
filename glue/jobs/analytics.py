"""AWS Glue entry of the ``analytics`` job: parse arguments, wire, nothing else.

Job arguments: ``--job_tables`` (the registry JSON: an ``s3://`` URI in AWS, as Pulumi sets it;
its ``reports`` declare the report tables) and ``--catalog`` (``glue_catalog``). Reads
``mongodb.alarm``, ``postgres.device`` and ``postgres.company`` of that catalog and replaces the
contents of the ``analytics`` report tables, which the deployment declared
(``lakehouse_glue.analytics.build_alarms_report``, tested locally).
"""

from __future__ import annotations

import json
import sys

from awsglue.context import GlueContext  # type: ignore[import-not-found]
from awsglue.job import Job  # type: ignore[import-not-found]
from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
from pyspark.context import SparkContext

from lakehouse_glue.analytics import build_alarms_report
from lakehouse_glue.job_tables import load_job_tables
from lakehouse_glue.spark import disable_unsafe_iceberg_reads

REQUIRED = ["JOB_NAME", "job_tables"]


def main() -> None:
    args = getResolvedOptions(sys.argv, REQUIRED)
    # The catalog Pulumi configures (`--conf` on the job) is glue_catalog; `--catalog` overrides.
    if "--catalog" in sys.argv:
        args.update(getResolvedOptions(sys.argv, ["catalog"]))
    # Checked first: a malformed or other-version table list stops the job before Spark starts.
    job_tables = load_job_tables(args["job_tables"])
    glue = GlueContext(SparkContext.getOrCreate())
    # Iceberg 1.7.1's vectorized reads corrupt memory on Spark 3.5.4 (lakehouse_glue.spark).
    disable_unsafe_iceberg_reads(glue.spark_session)
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    catalog = args.get("catalog", "glue_catalog")
    print(json.dumps(build_alarms_report(glue.spark_session, catalog, job_tables=job_tables)))
    job.commit()


if __name__ == "__main__":
    main()
