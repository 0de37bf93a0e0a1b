"""A job's arguments, declared once for both edges (ADR 0012).

Each ``Option`` is one argument under one name: ``--job_tables`` as Glue passes it (underscores,
the names ``getResolvedOptions`` returns), and locally ``--job-tables`` too, the spelling of the
other command-line tools. Its value is converted and checked here, the same way for both edges,
into ``Values``, before any Spark work: a bad value is a configuration error that names the
argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from lakehouse_glue.errors import JobConfigError
from lakehouse_glue.job_tables import split_names

Mode = Literal["glue", "local"]
Kind = Literal["text", "int", "flag", "names"]
Value = str | int | bool | tuple[str, ...] | None


@dataclass(frozen=True)
class Option:
    """One job argument: its name, what it means, how to read it and where it exists."""

    name: str
    help: str
    kind: Kind = "text"
    default: Value = None
    #: The default in Glue, where it differs (the catalog: ``glue_catalog`` there).
    glue_default: Value = None
    required: bool = False
    #: Where the argument exists: Glue connections and local credentials are each one edge's.
    where: Literal["both", "glue", "local"] = "both"
    #: Smallest value of an ``int`` argument.
    minimum: int = 0

    def applies(self, mode: Mode) -> bool:
        return self.where in ("both", mode)

    def default_in(self, mode: Mode) -> Value:
        return (
            self.glue_default if mode == "glue" and self.glue_default is not None else self.default
        )

    @property
    def local_flags(self) -> list[str]:
        """``--job-tables`` first (as help shows it), then Glue's ``--job_tables``."""
        hyphens = f"--{self.name.replace('_', '-')}"
        underscores = f"--{self.name}"
        return [hyphens] if hyphens == underscores else [hyphens, underscores]

    def convert(self, raw: str | bool | None, mode: Mode) -> Value:
        """The argument's value from its text (a bool for a local switch); ``None``/empty: the
        default. Raises ``JobConfigError`` naming the argument."""
        if raw is None or raw == "":
            if self.required:
                raise JobConfigError(f"--{self.name} is required")
            return self.default_in(mode)
        if self.kind == "flag":
            if isinstance(raw, bool):
                return raw
            if raw.lower() in ("true", "false"):
                return raw.lower() == "true"
            raise JobConfigError(f"--{self.name}: {raw!r} is not true or false")
        if isinstance(raw, bool):
            raise JobConfigError(f"--{self.name} needs a value")
        if self.kind == "int":
            try:
                number = int(raw)
            except ValueError:
                raise JobConfigError(f"--{self.name}: {raw!r} is not an integer") from None
            if number < self.minimum:
                raise JobConfigError(f"--{self.name}: {number} is below {self.minimum}")
            return number
        if self.kind == "names":
            return split_names(raw)
        return raw.strip()


@dataclass(frozen=True)
class Values:
    """A job's arguments after conversion, read by typed getters (a wrong getter is a bug)."""

    mode: Mode
    values: Mapping[str, Value]

    @classmethod
    def parse(
        cls, options: tuple[Option, ...], raw: Mapping[str, str | bool | None], mode: Mode
    ) -> Values:
        return cls(mode, {o.name: o.convert(raw.get(o.name), mode) for o in options})

    def _get(self, name: str) -> Value:
        if name not in self.values:
            raise KeyError(f"no argument {name} for this job in {self.mode}")
        return self.values[name]

    def optional_text(self, name: str) -> str | None:
        value = self._get(name)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"--{name} is not text")
        return value

    def text(self, name: str) -> str:
        value = self.optional_text(name)
        if value is None:
            raise JobConfigError(f"--{name} is required")
        return value

    def optional_integer(self, name: str) -> int | None:
        value = self._get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise TypeError(f"--{name} is not an integer")
        return value

    def integer(self, name: str) -> int:
        value = self.optional_integer(name)
        if value is None:
            raise JobConfigError(f"--{name} is required")
        return value

    def flag(self, name: str) -> bool:
        value = self._get(name)
        if not isinstance(value, bool):
            raise TypeError(f"--{name} is not a switch")
        return value

    def names(self, name: str) -> tuple[str, ...] | None:
        value = self._get(name)
        if value is not None and not isinstance(value, tuple):
            raise TypeError(f"--{name} is not a list of names")
        return value
