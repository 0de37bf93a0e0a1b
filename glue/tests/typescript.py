"""Values from the TypeScript side, for tests that check a contract from both ends.

The snippet runs on the project's Node (``scripts/stack.env``) through tsx, from the repository
root, and prints one JSON value as its last line. tsx is a dev dependency the bootstrap installs:
if it is missing, the test fails (``check=True``) rather than skipping a contract.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def typescript_value(source: str, env: dict[str, str] | None = None) -> Any:
    """Run ``source`` (an ES module, imports relative to the repository root) and return the
    JSON value its last line of output holds."""
    out = subprocess.run(
        [
            "bash",
            "-c",
            "source scripts/stack.env && require_project_node && exec node --import tsx "
            '--input-type=module -e "$1"',
            "typescript-value",
            source,
        ],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])
