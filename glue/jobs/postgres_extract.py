"""AWS Glue entry of ``postgres_extract``: arguments and Glue wiring only (STYLE 10).

Everything else is ``lakehouse_glue.postgres_extract.run``, which the tests and the local CLI
(``python -m lakehouse_glue.cli postgres_extract``) call with a local session. ``awsglue`` exists
only inside Glue, so nothing imports this file outside it; ``lakehouse_glue`` reaches Glue as an
``--extra-py-files`` archive.

Job arguments (Glue passes them as ``--name value``; underscores because ``getResolvedOptions``
returns argparse's names):

- ``--job_tables``: the registry's table list, an ``s3://`` URI or inline JSON (required).
- ``--connection_name``: the Glue JDBC connection to the ``ddc`` database (required); it holds
  host, port and the Secrets Manager credentials, so a cutover changes the connection, not
  the job.
- ``--source_database`` (default ``ddc``): used when the connection's URL names no database.
- ``--catalog`` (default ``glue_catalog``), ``--namespace`` (default ``postgres``), ``--tables``
  (comma-separated subset), ``--source_schema`` (default ``public``).

The Iceberg catalog itself is configured by job parameters, not here: ``--datalake-formats
iceberg`` and ``--conf spark.sql.catalog.glue_catalog=org.apache.iceberg.spark.SparkCatalog
--conf spark.sql.catalog.glue_catalog.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog ...``
(https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-format-iceberg.html).
"""

from __future__ import annotations

import logging
import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

from lakehouse_glue.jdbc import JdbcSource, jdbc_url_from_glue_conf
from lakehouse_glue.job_tables import load_job_tables, split_names
from lakehouse_glue.postgres_extract import DEFAULT_NAMESPACE, ExtractConfig, run

REQUIRED = ["JOB_NAME", "job_tables", "connection_name"]
OPTIONAL = {
    "catalog": "glue_catalog",
    "namespace": DEFAULT_NAMESPACE,
    "source_database": "ddc",
    "source_schema": "public",
    "tables": "",
}


def optional_args(argv: list[str]) -> dict[str, str]:
    # getResolvedOptions makes every name it is given required; ask only for those passed.
    present = [name for name in OPTIONAL if f"--{name}" in argv]
    given = getResolvedOptions(argv, present) if present else {}
    return {name: given.get(name) or default for name, default in OPTIONAL.items()}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    args = getResolvedOptions(sys.argv, REQUIRED)
    options = optional_args(sys.argv)

    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = glue_context.spark_session
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    conf = glue_context.extract_jdbc_conf(args["connection_name"])
    config = ExtractConfig(
        source=JdbcSource(
            url=jdbc_url_from_glue_conf(conf, options["source_database"]),
            user=str(conf["user"]),
            password=str(conf["password"]),
            schema=options["source_schema"],
        ),
        job_tables=load_job_tables(args["job_tables"]),
        catalog=options["catalog"],
        namespace=options["namespace"],
        tables=split_names(options["tables"]),
    )
    # A failed table raises TablesFailedError after the others ran: the exception fails the Glue
    # run (its message names every failed table) and job.commit() is not reached.
    run(spark, config)
    job.commit()


if __name__ == "__main__":
    main()
