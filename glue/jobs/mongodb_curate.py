"""AWS Glue entry of the ``mongodb_curate`` job: parse arguments, wire, nothing else.

Job arguments (Pulumi's GlueJobs component sets them): ``--job_tables`` (the registry JSON, as
``lakehouse.sh registry job-tables`` prints it), ``--raw_root`` (``s3://bucket/raw``),
``--catalog`` (``glue_catalog``), ``--support_jdbc_url``, ``--support_user``,
``--support_password_secret`` (Secrets Manager id), optional ``--collections`` and
``--lag_seconds``. The transform is ``lakehouse_glue.curate.run_curate``, tested locally.
"""

from __future__ import annotations

import json
import sys

import boto3
from awsglue.context import GlueContext  # type: ignore[import-not-found]
from awsglue.job import Job  # type: ignore[import-not-found]
from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
from pyspark.context import SparkContext

from lakehouse_glue.curate import CurateSettings, JdbcSource, run_curate
from lakehouse_glue.curate.spec import parse_job_tables
from lakehouse_glue.spark import disable_unsafe_iceberg_reads

REQUIRED = [
    "JOB_NAME",
    "job_tables",
    "raw_root",
    "catalog",
    "support_jdbc_url",
    "support_user",
    "support_password_secret",
]


def main() -> None:
    args = getResolvedOptions(sys.argv, REQUIRED)
    optional = getResolvedOptions(
        sys.argv, [a for a in ("collections", "lag_seconds") if f"--{a}" in sys.argv]
    )
    glue = GlueContext(SparkContext.getOrCreate())
    # Iceberg 1.7.1's vectorized reads corrupt memory on Spark 3.5.4 (lakehouse_glue.spark).
    disable_unsafe_iceberg_reads(glue.spark_session)
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    secret = boto3.client("secretsmanager").get_secret_value(
        SecretId=args["support_password_secret"]
    )
    password = json.loads(secret["SecretString"])["password"]
    settings = CurateSettings(
        catalog=args["catalog"],
        raw_root=args["raw_root"],
        lag_seconds=int(optional.get("lag_seconds", 120)),
    )
    names = optional["collections"].split(",") if optional.get("collections") else None
    results = run_curate(
        glue.spark_session,
        parse_job_tables(json.loads(args["job_tables"])),
        settings,
        JdbcSource(args["support_jdbc_url"], args["support_user"], password),
        names,
    )
    print(json.dumps([r.__dict__ for r in results], default=str))
    job.commit()


if __name__ == "__main__":
    main()
