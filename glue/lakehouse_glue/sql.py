"""Spark SQL text the jobs write: one way to quote a string literal and a table's properties."""

from __future__ import annotations

from collections.abc import Mapping


def sql_string(value: str) -> str:
    """A Spark SQL string literal (backslash and quote escaped, as Spark's parser reads them)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def properties_sql(properties: Mapping[str, str]) -> str:
    """``'key' = 'value', ...`` for ``TBLPROPERTIES (...)``, in the mapping's order."""
    return ", ".join(f"{sql_string(k)} = {sql_string(v)}" for k, v in properties.items())
