"""The jar lookup fails early and says how to fix it, without starting a JVM."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lakehouse_glue.spark import JARS_ENV, jar_paths, required_jars


def test_required_jars_come_from_the_pom() -> None:
    jars = required_jars()

    assert jars[0] == "iceberg-spark-runtime-3.5_2.12-1.7.1.jar"
    assert re.fullmatch(r"postgresql-42\.7\.\d+\.jar", jars[1])
    assert len(jars) == 2


def test_missing_jar_names_the_jar_and_the_install_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(JARS_ENV, str(tmp_path))
    (tmp_path / required_jars()[0]).write_bytes(b"")

    with pytest.raises(FileNotFoundError) as caught:
        jar_paths()

    message = str(caught.value)
    assert required_jars()[1] in message
    assert required_jars()[0] not in message
    assert str(tmp_path) in message
    assert "scripts/install-jars.sh" in message


def test_env_var_points_at_the_jars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(JARS_ENV, str(tmp_path))
    for name in required_jars():
        (tmp_path / name).write_bytes(b"")

    assert jar_paths() == [tmp_path / name for name in required_jars()]
