"""AWS Glue entry of the ``mongodb_curate`` job: parse arguments, wire, nothing else.

Job arguments (Pulumi's GlueJobs component, ``infra/glue-jobs.ts``, sets them; underscores
because ``getResolvedOptions`` returns them so): ``--job_tables`` (the registry JSON: an
``s3://`` URI, a path or inline), ``--raw_location`` (``s3://bucket/``),
``--support_connection_name`` (the Glue JDBC connection of the support database, whose secret
holds the credentials),
optional ``--catalog`` (default ``glue_catalog``), ``--collections`` and ``--lag_seconds``. The
transform is ``lakehouse_glue.curate.run_curate``, tested locally.
"""

from __future__ import annotations

import json
import sys

from awsglue.context import GlueContext  # type: ignore[import-not-found]
from awsglue.job import Job  # type: ignore[import-not-found]
from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
from pyspark.context import SparkContext

from lakehouse_glue.curate import CurateSettings, run_curate, support_source
from lakehouse_glue.jdbc import jdbc_url_from_glue_conf
from lakehouse_glue.job_tables import load_job_tables
from lakehouse_glue.spark import disable_unsafe_iceberg_reads

REQUIRED = ["JOB_NAME", "job_tables", "raw_location", "support_connection_name"]
OPTIONAL = ("catalog", "collections", "lag_seconds")


def main() -> None:
    args = getResolvedOptions(sys.argv, REQUIRED)
    # getResolvedOptions makes every name it is given required; ask only for those passed.
    optional = getResolvedOptions(sys.argv, [a for a in OPTIONAL if f"--{a}" in sys.argv])
    glue = GlueContext(SparkContext.getOrCreate())
    # Iceberg 1.7.1's vectorized reads corrupt memory on Spark 3.5.4 (lakehouse_glue.spark).
    disable_unsafe_iceberg_reads(glue.spark_session)
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    # The connection's own secret gives url, user and password: no credentials in job arguments.
    conf = glue.extract_jdbc_conf(args["support_connection_name"])
    url = jdbc_url_from_glue_conf(conf, "support")
    settings = CurateSettings(
        catalog=optional.get("catalog") or "glue_catalog",
        raw_root=args["raw_location"],
        lag_seconds=int(optional.get("lag_seconds", 120)),
    )
    names = optional["collections"].split(",") if optional.get("collections") else None
    results = run_curate(
        glue.spark_session,
        load_job_tables(args["job_tables"]),
        settings,
        support_source(url, str(conf["user"]), str(conf["password"])),
        names,
    )
    print(json.dumps([r.__dict__ for r in results], default=str))
    job.commit()


if __name__ == "__main__":
    main()
