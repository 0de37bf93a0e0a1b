"""Stand-ins for AWS Glue's ``awsglue`` modules, which exist only inside Glue, so that the Glue
scripts (``glue/jobs/<job>.py``) and the entry's Glue edge run in pytest.

``getResolvedOptions`` behaves as Glue's: every name it is given is a required ``--name``
argument, others are ignored. ``GlueContext`` gives the session the test passes and answers
``extract_jdbc_conf`` for one connection; ``Job`` records ``init`` and ``commit``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pyspark.context import SparkContext

JOBS_DIR = Path(__file__).resolve().parents[1] / "jobs"


@dataclass
class GlueRecord:
    """What the job did with the stand-ins."""

    conf: Mapping[str, str]
    connection: str
    session: Any
    inits: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    commits: int = 0
    connections_asked: list[str] = field(default_factory=list)


def get_resolved_options(argv: Sequence[str], options: Sequence[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    for option in options:
        parser.add_argument(f"--{option}", required=True)
    return vars(parser.parse_known_args(list(argv[1:]))[0])


def install(
    monkeypatch: pytest.MonkeyPatch,
    session: Any,
    conf: Mapping[str, str] | None = None,
    connection: str = "ddc-connection",
) -> GlueRecord:
    """Put the stand-ins in ``sys.modules`` for this test; returns the record of their use."""
    record = GlueRecord(conf=conf or {}, connection=connection, session=session)

    class GlueContext:
        def __init__(self, sc: Any) -> None:
            self.spark_session = record.session

        def extract_jdbc_conf(self, connection_name: str) -> Mapping[str, str]:
            record.connections_asked.append(connection_name)
            assert connection_name == record.connection
            return record.conf

    class Job:
        def __init__(self, glue_context: Any) -> None:
            self.glue_context = glue_context

        def init(self, name: str, args: dict[str, str]) -> None:
            record.inits.append((name, dict(args)))

        def commit(self) -> None:
            record.commits += 1

    context = types.ModuleType("awsglue.context")
    job = types.ModuleType("awsglue.job")
    utils = types.ModuleType("awsglue.utils")
    vars(context)["GlueContext"] = GlueContext
    vars(job)["Job"] = Job
    vars(utils)["getResolvedOptions"] = get_resolved_options
    for module in (types.ModuleType("awsglue"), context, job, utils):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    # Glue's SparkContext exists before the script runs. Here the entry must not start a bare
    # one (without the Iceberg jars), which every later session of the test run would reuse.
    monkeypatch.setattr(
        SparkContext, "getOrCreate", classmethod(lambda cls, conf=None: session.sparkContext)
    )
    return record


def load_script(job: str) -> Any:
    """``glue/jobs/<job>.py`` as Glue loads it (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location(f"glue_job_{job}", JOBS_DIR / f"{job}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
