"""Errors raised by the Glue jobs, mirroring the TypeScript side's ``PipelineError``.

Every error says whether a retry can help (``retryable``) so the orchestration treats Python and
TypeScript failures alike: retry transient ones with backoff, stop and report terminal ones. The
class name travels in the Glue job's error message, which is what a person (or a Step Functions
``Catch``) sees, so names are stable and end with ``Error``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class GlueJobError(Exception):
    """Base of every error a job raises on purpose; anything else is a bug."""

    #: Default for the class; an instance may override it when the cause decides.
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.table = table
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        # The table is the first thing an operator needs, and Glue logs keep only str(error).
        context = f" [table={self.table}]" if self.table else ""
        kind = "retryable" if self.retryable else "terminal"
        return f"{type(self).__name__}: {self.message}{context} ({kind})"


class SourceTableMissingError(GlueJobError):
    """A table the job was told to read does not exist: a config or deploy mistake."""


class SourceShrankError(GlueJobError):
    """A replace or merge would drop more of the lake table's rows than allowed: the source
    table emptied or lost most of its rows (a failed load, a table renamed and recreated empty).
    Terminal: the next run reads the same source; an operator who knows the rows are really gone
    forces that one run (``--allow_shrink <table>``)."""

    def __init__(self, message: str, *, table: str, lake_rows: int, source_rows: int) -> None:
        super().__init__(message, table=table)
        self.lake_rows = lake_rows
        self.source_rows = source_rows


class SchemaMismatchError(GlueJobError):
    """Source columns no longer match the registry; writing anyway would corrupt the lake table."""


class ViewSchemaError(SchemaMismatchError):
    """An analysts' view returns other columns than the registry declares for it
    (``pipeline/reports/views.ts``): its SQL and its column list disagree, or the tables it reads
    are not as declared. ``column`` is the first column that differs, with what was declared and
    what the view returns (``None`` for a column on one side only)."""

    def __init__(
        self,
        message: str,
        *,
        view: str,
        column: str,
        declared: str | None,
        actual: str | None,
    ) -> None:
        super().__init__(message, table=view)
        self.view = view
        self.column = column
        self.declared = declared
        self.actual = actual


class SourceUnavailableError(GlueJobError):
    """The source database or object store did not answer; the next attempt may succeed."""

    retryable = True


class JobTablesError(GlueJobError):
    """The registry's table list (the job argument) is malformed or from another version."""


class TablesFailedError(GlueJobError):
    """Summary raised at the end of a run in which some tables failed; the others were written.

    Retryable only when every failure was: a schema or config problem will fail again.
    ``results`` holds the run's per-table results, so a caller can still report all of them.
    """

    def __init__(self, failures: dict[str, GlueJobError], results: Sequence[Any] = ()) -> None:
        names = ", ".join(sorted(failures))
        details = "; ".join(
            f"{name}: {type(error).__name__}: {error.message}"
            for name, error in sorted(failures.items())
        )
        super().__init__(
            f"{len(failures)} table(s) failed ({names}): {details}",
            retryable=all(error.retryable for error in failures.values()),
        )
        self.failures = dict(failures)
        self.results = list(results)


class JobConfigError(GlueJobError):
    """The job's arguments or table list are wrong (unknown collection, malformed JSON)."""


class RawObjectMissingError(GlueJobError):
    """A raw object the ledger lists is gone: the ledger commits only after the upload, so this
    is a deleted or moved object, not a race, and curating without it would lose rows silently."""


class LedgerPositionError(GlueJobError):
    """A curated table's committed ledger position cannot be read or is ahead of the ledger."""


class DayCountsError(GlueJobError):
    """The curated day counts could not be read or written in the support database. The table's
    commit stands; the counts are rolled back whole, and the next run recounts the days of every
    commit past the counted position before it curates anything."""
