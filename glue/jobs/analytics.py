"""AWS Glue script of the ``analytics`` job: the shared entry, nothing else.

Arguments, edges and exit conventions are ``lakehouse_glue.entry``'s (ADR 0012); locally the same
job runs as ``python -m lakehouse_glue analytics ...``. ``lakehouse_glue`` reaches Glue as an
``--extra-py-files`` archive; ``awsglue`` exists only there.
"""

from lakehouse_glue.entry import run_glue_job

JOB = "analytics"


def main() -> None:
    run_glue_job(JOB)


if __name__ == "__main__":
    main()
