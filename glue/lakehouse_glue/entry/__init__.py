"""The one entry of every Glue job (ADR 0012: ``docs/adr/0012-glue-entry-and-contracts.md``).

Every job has the same shape:

- In AWS Glue, ``glue/jobs/<job>.py`` calls only ``run_glue_job("<job>")``; Pulumi
  (``infra/glue-jobs.ts``) passes Glue's arguments, underscored as ``getResolvedOptions`` returns
  them: ``--job_tables`` (an ``s3://`` URI), ``--connection_name`` for a job that reads a database
  (its secret holds the credentials), and the job's own, e.g. ``--raw_location``. With
  ``--secret_id``, the job reads its database's settings from that Secrets Manager secret, the
  one the functions read (``pipeline/connections/secret.ts`` format), and the connection only
  places it in the VPC: a cutover updates the secret and the job follows, without a redeploy.
- Locally, ``python -m lakehouse_glue <job> ...`` runs the same job on local Spark with a Hadoop
  Iceberg catalog: the same arguments (``--job-tables`` or ``--job_tables``), plus
  ``--warehouse`` and, instead of a Glue connection, one of ``--secret-id NAME`` (the secret in
  Secrets Manager: moto's, through ``AWS_ENDPOINT_URL``), ``--database-url-env VAR`` or
  ``--jdbc-url URL --user USER --password-env VAR`` (passwords only through the environment).
  ``python -m lakehouse_glue <job> --help`` lists a job's arguments.

Both print JSON lines on stdout (postgres_extract one per table as it finishes) ending with the
run's outcome, ``{"ok": true, "job": ..., ...summary}`` or ``{"ok": false, "job": ..., "error":
<class name>, "message": ..., "retryable": ...}``; logs and error messages go to stderr. Exit
status locally: ``EXIT_OK`` 0, every table or collection written; ``EXIT_FAILED`` 1, the run
failed (a table or collection; the outcome line says why); ``EXIT_CONFIG`` 2, nothing ran: bad
arguments, job tables or credentials (stderr says which, stdout stays empty). In Glue the same
two failures raise their named error, which fails the run with its message.
"""

from lakehouse_glue.entry.jobs import JOBS
from lakehouse_glue.entry.run import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    main,
    options_of,
    parser,
    run_glue_job,
)

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_OK",
    "JOBS",
    "main",
    "options_of",
    "parser",
    "run_glue_job",
]
