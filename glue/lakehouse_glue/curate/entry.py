"""What the local entry points (``python -m lakehouse_glue.curate`` / ``.analytics``) share:
reading the password from the environment, and turning a result or a named error into a JSON
line on stdout and an exit status, so scripts and tests can read what a run did."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

from lakehouse_glue.errors import GlueJobError, JobConfigError

EXIT_FAILED = 1


def password_from_env(variable: str) -> str:
    # A password on the command line would show in `ps` and in the Glue console's arguments.
    value = os.environ.get(variable)
    if value is None:
        raise JobConfigError(f"environment variable {variable} (the database password) is unset")
    return value


def run_and_report(job: Callable[[], dict[str, Any]]) -> int:
    try:
        summary = job()
    except GlueJobError as error:
        print(json.dumps({"ok": False, "error": type(error).__name__, "message": str(error)}))
        print(str(error), file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps({"ok": True, **summary}, default=str))
    return 0
