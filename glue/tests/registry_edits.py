"""Job-tables documents with one entry edited, for the strict parser's refusal tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any


def edited(
    registry: dict[str, Any], entry_of: Callable[[dict[str, Any]], dict[str, Any]], **changes: Any
) -> dict[str, Any]:
    """A deep copy of ``registry`` whose entry ``entry_of`` finds has ``changes`` applied (a
    ``None`` value removes the key)."""
    doc = copy.deepcopy(registry)
    entry = entry_of(doc)
    for key, value in changes.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    return doc
