#!/usr/bin/env bash
# Creates the project's Python environment in .local/venv: pyspark, pyarrow, moto, pytest, ruff
# (glue/requirements.txt) plus the lakehouse_glue package in editable mode.
# Idempotent: skips pip when requirements.txt and glue/pyproject.toml are unchanged since the last
# successful install (stamp in .local/venv). Downloads are cached in .local/cache/pip.
# Env: LAKEHOUSE_PYTHON=/path/to/python3.11 to pick the interpreter (default: python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.local/venv"
REQUIREMENTS="$ROOT/glue/requirements.txt"
PYPROJECT="$ROOT/glue/pyproject.toml"
CONSTRAINTS="$ROOT/glue/constraints.txt"
STAMP="$VENV/.requirements.sha256"
PYTHON="${LAKEHOUSE_PYTHON:-python3}"
# AWS Glue 5.0 runs Python 3.11; a different minor version could pass tests locally and fail in Glue.
REQUIRED_PY="3.11"

mkdir -p "$ROOT/.local/cache/pip"

# Two callers (e.g. the local-stack script and a test run) must not half-install the same venv.
exec 9>"$ROOT/.local/venv.lock"
flock 9

want="$(cat "$REQUIREMENTS" "$CONSTRAINTS" "$PYPROJECT" | sha256sum | cut -d' ' -f1)"

venv_ok() {
  [[ -x "$VENV/bin/python" ]] &&
    [[ "$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" == "$REQUIRED_PY" ]]
}

if venv_ok && [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  echo "python: .local/venv up to date ($("$VENV/bin/python" -V 2>&1))"
  exit 0
fi

if ! venv_ok; then
  have="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)"
  if [[ "$have" != "$REQUIRED_PY" ]]; then
    echo "install-python: $PYTHON is Python $have, need $REQUIRED_PY (AWS Glue 5.0); set LAKEHOUSE_PYTHON" >&2
    exit 1
  fi
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi

rm -f "$STAMP"
export PIP_CACHE_DIR="$ROOT/.local/cache/pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pip install --quiet --require-virtualenv -r "$REQUIREMENTS" -c "$CONSTRAINTS"
"$VENV/bin/python" -m pip install --quiet --require-virtualenv --no-deps -e "$ROOT/glue"
echo "$want" >"$STAMP"
echo "python: installed glue/requirements.txt + lakehouse_glue into .local/venv ($("$VENV/bin/python" -V 2>&1))"
