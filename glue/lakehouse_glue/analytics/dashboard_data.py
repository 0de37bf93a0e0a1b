"""The local dashboard's data: every row of the views it shows, in one JSON file.

Local only: the TypeScript renderer (``local/dashboard/``) draws the Alarms report
(``pipeline/reports/alarms-report.ts``) from this file, as QuickSight draws it from the same views
in AWS. The analytics job writes it after the report tables, from the session views
``analytics.views`` created. The format::

    {"generatedAt": "2024-05-01T12:00:00.000000Z",
     "datasets": {"<view>": {"columns": [{"name": "alarm_id", "type": "string"}, ...],
                             "rows": [["a1", 7, ...], ...]}}}

``columns`` are the view's declared columns (name and registry type) in order; each row is an
array in that order. Values: a ``timestamp`` is an ISO-8601 UTC string with microseconds and
``Z`` (``2024-05-01T12:00:00.000000Z``), a ``date`` ``YYYY-MM-DD``, numbers JSON numbers (a
non-finite double, which JSON cannot hold, is ``null``), a boolean ``true``/``false``, NULL
``null``. Rows are sorted by every column in order, so two runs over the same lake differ only in
``generatedAt`` and the values computed at query time. The file is replaced atomically (a
temporary file in the same folder, renamed over it): a reader sees the old file or the new one.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lakehouse_glue.errors import GlueJobError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from lakehouse_glue.job_tables import JobView

_EPOCH = datetime(1970, 1, 1)
_EPOCH_DAY = date(1970, 1, 1)


class DashboardDataError(GlueJobError):
    """A view holds a value the dashboard's JSON cannot carry (a timestamp outside years
    1-9999)."""


def iso_timestamp(value: datetime) -> str:
    """``2024-05-01T12:00:00.000000Z``: an aware instant, or a naive one taken as UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return f"{value.isoformat(timespec='microseconds')}Z"


def _timestamp(micros: int) -> str:
    # From microseconds since the epoch (unix_micros), so neither the session's nor the Python
    # process's time zone touches the instant.
    return iso_timestamp(_EPOCH + timedelta(microseconds=micros))


def _date(days: int) -> str:
    return (_EPOCH_DAY + timedelta(days=days)).isoformat()


def _double(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _same(value: Any) -> Any:
    return value


#: Per Spark type: the expression collected for a column, and the JSON value of its result.
_READERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "timestamp": ("unix_micros({})", _timestamp),
    "date": ("unix_date({})", _date),
    "double": ("{}", _double),
}


@dataclass(frozen=True)
class Dataset:
    """One view's rows, as the file carries them (``rows`` is read once, while writing)."""

    view: JobView
    rows: Iterator[list[Any]]


def read_view(spark: SparkSession, view: JobView) -> Iterator[list[Any]]:
    """Every row of the session view ``view`` as JSON values, sorted by every column; streamed
    to the driver one partition at a time."""
    readers = [_READERS.get(c.spark_type, ("{}", _same)) for c in view.columns]
    exprs = ", ".join(
        f"{expr.format(f'`{c.name}`')} AS `{c.name}`"
        for c, (expr, _) in zip(view.columns, readers, strict=True)
    )
    order = ", ".join(str(i + 1) for i in range(len(view.columns)))
    query = f"SELECT {exprs} FROM `{view.name}` ORDER BY {order}"
    converts = [convert for _, convert in readers]
    for row in spark.sql(query).toLocalIterator():
        out = []
        for column, value, convert in zip(view.columns, row, converts, strict=True):
            try:
                out.append(None if value is None else convert(value))
            except OverflowError as error:
                raise DashboardDataError(
                    f"view {view.name}: {column.name} holds {value}, outside what ISO-8601 "
                    "years 1-9999 can say",
                    table=view.name,
                ) from error
        yield out


def _write(out: IO[str], generated_at: datetime, datasets: Sequence[Dataset]) -> dict[str, int]:
    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    counts: dict[str, int] = {}
    out.write(f'{{"generatedAt":{dump(iso_timestamp(generated_at))},"datasets":{{')
    for i, dataset in enumerate(datasets):
        columns = [{"name": c.name, "type": c.type} for c in dataset.view.columns]
        out.write(f'{"," if i else ""}\n{dump(dataset.view.name)}:{{"columns":{dump(columns)},')
        out.write('"rows":[')
        n = 0
        for row in dataset.rows:
            out.write(f"{',' if n else ''}\n{dump(row)}")
            n += 1
        out.write("]}")
        counts[dataset.view.name] = n
    out.write("}}\n")
    return counts


def write_json_atomically(path: str | os.PathLike[str], write: Callable[[IO[str]], Any]) -> Any:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``; returns
    what ``write`` returned. On any failure the temporary file is removed and ``path`` is left
    as it was."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            result = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o644)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return result


@dataclass(frozen=True)
class Written:
    path: Path
    #: Rows written per view.
    rows: dict[str, int]


def write_dashboard_data(
    spark: SparkSession,
    views: Sequence[JobView],
    path: str | os.PathLike[str],
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Written:
    """Write every row of ``views`` (session views, see ``analytics.views``) to ``path``."""
    generated_at = now()
    datasets = [Dataset(view, read_view(spark, view)) for view in views]
    target = Path(path).resolve()
    rows = write_json_atomically(target, lambda out: _write(out, generated_at, datasets))
    return Written(target, rows)
