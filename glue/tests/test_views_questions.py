"""The analysts' questions (``pipeline/reports/questions.ts``) answered on the local lake.

Each question's SQL is what Athena runs; here it runs on Spark against the session views over
the views' small lake (``views_lake``), with ``analytics.`` removed (locally the views are session
views: the only difference allowed), and its answer must equal the one plain Python computes
from the reference views, row for row and in order. The questions come from the TypeScript
module itself, so a question added there without an answer here fails.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import views_lake as ref
from pyspark.sql import SparkSession
from typescript import typescript_value
from views_lake import ViewsLake

from lakehouse_glue.analytics.views import create_views

Row = dict[str, Any]
Answer = list[tuple[Any, ...]]


@pytest.fixture(scope="module")
def questions() -> dict[str, dict[str, str]]:
    found = typescript_value(
        'import { ANALYST_QUESTIONS } from "./pipeline/reports/questions.ts";\n'
        "console.log(JSON.stringify(ANALYST_QUESTIONS));"
    )
    return {q["id"]: q for q in found}


def _nulls_last(value: Any) -> tuple[bool, Any]:
    """An ascending sort key with NULL after every value (Athena's default, and what the
    questions ask Spark for)."""
    return (value is None, value)


def _open_alarms_by_company(lake: ViewsLake, now: datetime) -> Answer:
    groups: dict[tuple[Any, str], list[Row]] = defaultdict(list)
    for r in ref.open_alarms(lake):
        groups[(r["company_name"], r["alarm_class"])].append(r)
    rows = [
        (company, cls, len(rs), max(ref.open_hours(r["active_ts"], now) for r in rs))
        for (company, cls), rs in groups.items()
    ]
    return sorted(rows, key=lambda r: (-r[2], _nulls_last(r[0]), r[1]))


def _slowest_codes_to_reset(lake: ViewsLake, now: datetime) -> Answer:
    facts = ref.alarm_facts(lake)
    since = max(r["day"] for r in facts) - timedelta(days=90)
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in facts:
        if r["alarm_class"] in ("error", "service") and r["state"] == "reset" and r["day"] >= since:
            groups[(r["code_label"], r["alarm_class"])].append(r["ttr_minutes"])
    rows = [(label, cls, len(t), sum(t) / len(t), max(t)) for (label, cls), t in groups.items()]
    return sorted(rows, key=lambda r: (-r[3], r[0]))


def _alarms_per_model_per_device(lake: ViewsLake, now: datetime) -> Answer:
    groups: dict[Any, list[Row]] = defaultdict(list)
    for r in ref.alarm_facts(lake):
        groups[r["device_model"]].append(r)
    rows = []
    for model, rs in groups.items():
        devices = len({r["id_device"] for r in rs})
        rows.append((model, len(rs), devices, len(rs) / devices))
    return sorted(rows, key=lambda r: (-r[3], _nulls_last(r[0])))


def _hottest_chamber_hours(lake: ViewsLake, now: datetime) -> Answer:
    rows = [
        (r["id_device"], r["hour"], r["temp_chamber_avg"], r["temp_chamber_max"], r["samples"])
        for r in ref.variable_logs_hourly(lake)
        if r["temp_chamber_avg"] is not None
    ]
    return sorted(rows, key=lambda r: (-r[2], r[0], r[1]))[:10]


def _weekly_alarms_for_company(lake: ViewsLake, now: datetime) -> Answer:
    facts = ref.alarm_facts(lake)
    per_company: dict[Any, int] = defaultdict(int)
    for r in facts:
        per_company[r["company_name"]] += 1
    top = min(per_company, key=lambda c: (-per_company[c], _nulls_last(c)))
    weeks: dict[tuple[Any, date], int] = defaultdict(int)
    for r in facts:
        # SQL's `=`: a NULL company is never equal, not even to a NULL top company.
        if top is not None and r["company_name"] == top:
            weeks[(r["device_serial"], ref.monday(r["day"]))] += 1
    rows = [(top, serial, week, n) for (serial, week), n in weeks.items()]
    return sorted(rows, key=lambda r: (r[2], _nulls_last(r[1])))


def _fleet_as_of_date(lake: ViewsLake, now: datetime) -> Answer:
    held = [
        v
        for v in ref.device_history(lake)
        if v["valid_from"] <= ref.AS_OF and (v["valid_to"] is None or v["valid_to"] > ref.AS_OF)
    ]
    counts: dict[tuple[Any, Any], int] = defaultdict(int)
    for v in held:
        counts[(v["company_name"], v["model"])] += 1
    rows = [(company, model, n) for (company, model), n in counts.items()]
    return sorted(rows, key=lambda r: (_nulls_last(r[0]), r[1]))


def _device_changes(lake: ViewsLake, now: datetime) -> Answer:
    history = ref.device_history(lake)
    versions: dict[int, int] = defaultdict(int)
    for v in history:
        versions[v["id_device"]] += 1
    rows = [
        (
            v["id_device"],
            v["serial"],
            v["valid_from"],
            v["valid_to"],
            v["model"],
            v["company_name"],
            v["id_firmware"],
        )
        for v in history
        if versions[v["id_device"]] > 1
    ]
    return sorted(rows, key=lambda r: (r[0], r[2]))


#: Per question: the columns its SQL returns, and its answer in Python at a given instant.
ANSWERS: dict[str, tuple[tuple[str, ...], Callable[[ViewsLake, datetime], Answer]]] = {
    "open_alarms_by_company": (
        ("company_name", "alarm_class", "open_alarms", "longest_open_hours"),
        _open_alarms_by_company,
    ),
    "slowest_codes_to_reset": (
        ("code_label", "alarm_class", "alarms", "mean_minutes", "longest_minutes"),
        _slowest_codes_to_reset,
    ),
    "alarms_per_model_per_device": (
        ("device_model", "alarms", "devices", "alarms_per_device"),
        _alarms_per_model_per_device,
    ),
    "hottest_chamber_hours": (
        ("id_device", "hour", "temp_chamber_avg", "temp_chamber_max", "samples"),
        _hottest_chamber_hours,
    ),
    "weekly_alarms_for_company": (
        ("company_name", "device_serial", "week", "alarms"),
        _weekly_alarms_for_company,
    ),
    "fleet_as_of_date": (("company_name", "model", "devices"), _fleet_as_of_date),
    "device_changes": (
        (
            "id_device",
            "serial",
            "valid_from",
            "valid_to",
            "model",
            "company_name",
            "id_firmware",
        ),
        _device_changes,
    ),
}


def _plain(value: Any) -> Any:
    """A Spark value as the Python answer holds it: aware UTC instants; a week (Spark's
    ``date_trunc`` gives a timestamp at midnight, Athena's a date) compared as a date."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return value


def _same_answer(got: Answer, low: Answer, high: Answer) -> None:
    """Row for row, in order; a float between its values at the query's start and end (only
    the open hours differ), else equal to within rounding."""
    assert len(got) == len(low) == len(high)
    for i, (g, lo, hi) in enumerate(zip(got, low, high, strict=True)):
        assert len(g) == len(lo), i
        for j, (value, a, b) in enumerate(zip(g, lo, hi, strict=True)):
            if isinstance(a, float):
                assert min(a, b) - 1e-6 <= value <= max(a, b) + 1e-6 or value == pytest.approx(
                    a, rel=1e-12
                ), (i, j, value, a, b)
            else:
                assert value == a == b, (i, j, value, a)


def test_every_question_has_an_answer_here(questions: dict[str, dict[str, str]]) -> None:
    assert sorted(questions) == sorted(ANSWERS)
    for q in questions.values():
        assert q["question"].endswith("?")
        # Athena reads the views in the analytics database; that prefix is all Spark drops.
        assert "analytics." in q["sql"]


@pytest.mark.parametrize("question", sorted(ANSWERS))
def test_the_question_is_answered_right_on_spark(
    spark: SparkSession,
    views_lake: ViewsLake,
    questions: dict[str, dict[str, str]],
    current_catalog: None,
    question: str,
) -> None:
    create_views(spark, views_lake.catalog, views_lake.job_tables)
    columns, answer = ANSWERS[question]
    sql = questions[question]["sql"].replace("analytics.", "")

    before = datetime.now(UTC)
    frame = spark.sql(sql)
    rows = frame.collect()
    after = datetime.now(UTC)

    assert tuple(frame.columns) == columns
    got = [tuple(_plain(v) for v in r) for r in rows]
    if question == "weekly_alarms_for_company":
        got = [(c, s, w.date(), n) for c, s, w, n in got]
    _same_answer(got, answer(views_lake, before), answer(views_lake, after))
    # Answers worth comparing: several rows, and ties broken as the SQL says.
    assert len(got) >= 3


def test_the_answers_cover_the_edge_cases(views_lake: ViewsLake) -> None:
    """The lake makes the questions' edges happen: a NULL company tied with a named one (sorted
    after it), a 90-day window that leaves alarms out, tied hottest hours, several weeks."""
    now = datetime.now(UTC)
    by_company = _open_alarms_by_company(views_lake, now)
    null_at = next(i for i, r in enumerate(by_company) if r[0] is None)
    tied = [
        r for r in by_company if r[2] == by_company[null_at][2] and r[1] == by_company[null_at][1]
    ]
    assert len(tied) >= 2
    assert tied[-1][0] is None
    facts = ref.alarm_facts(views_lake)
    since = max(r["day"] for r in facts) - timedelta(days=90)
    assert any(r["day"] < since and r["alarm_class"] == "error" for r in facts)
    hottest = _hottest_chamber_hours(views_lake, now)
    assert [(r[0], r[2]) for r in hottest[:3]] == [(20, 300.0), (20, 300.0), (21, 300.0)]
    assert hottest[0][1] < hottest[1][1]
    weekly = _weekly_alarms_for_company(views_lake, now)
    assert len({r[2] for r in weekly}) >= 10
    assert len({r[1] for r in weekly}) >= 3
    assert all(r[2].weekday() == 0 for r in weekly)
    models = _alarms_per_model_per_device(views_lake, now)
    assert any(r[0] is None for r in models)
