#!/usr/bin/env bash
# Creates the project's Python environment in .local/venv: pyspark, pyarrow, moto, pytest, ruff
# (glue/requirements.txt) plus the lakehouse_glue package in editable mode.
# Idempotent: skips the install when requirements.txt, constraints.txt and glue/pyproject.toml are
# unchanged since the last successful one (stamp in .local/venv).
# Installed by uv (from PyPI, pinned below), not pip: uv downloads in parallel, and keeps what it
# downloaded and built (pyspark is a source archive only, built into a 317 MB wheel) in
# $LAKEHOUSE_CACHE_DIR/uv, linked into the venv. pip's own cache is useless here: the registry
# proxy sends no caching headers, so pip downloaded every wheel again for each new venv. Measured
# in docs/first-run.md: a cold install 30 s instead of 60 s, another clone's 3 s instead of 50 s.
# The venv itself is Python's own (`python -m venv`), with its pip and setuptools: parliament
# still imports pkg_resources.
# `install-python.sh check` only tells, by its exit status, whether the venv is up to date.
# Env: LAKEHOUSE_PYTHON=/path/to/python3.11 to pick the interpreter (default: python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/install-lib.sh
source "$ROOT/scripts/install-lib.sh"
VENV="$ROOT/.local/venv"
REQUIREMENTS="$ROOT/glue/requirements.txt"
PYPROJECT="$ROOT/glue/pyproject.toml"
CONSTRAINTS="$ROOT/glue/constraints.txt"
STAMP="$VENV/.requirements.sha256"
PYTHON="${LAKEHOUSE_PYTHON:-python3}"
# AWS Glue 5.0 runs Python 3.11; a different minor version could pass tests locally and fail in Glue.
REQUIRED_PY="3.11"
UV_VERSION=0.13.8
UV="$LAKEHOUSE_CACHE_DIR/uv-$UV_VERSION/bin/uv"

want="$(cat "$REQUIREMENTS" "$CONSTRAINTS" "$PYPROJECT" | sha256sum | cut -d' ' -f1)"

venv_ok() {
  [[ -x "$VENV/bin/python" ]] &&
    [[ "$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" == "$REQUIRED_PY" ]]
}

up_to_date() { venv_ok && [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; }

if [[ "${1:-}" == check ]]; then
  if up_to_date; then exit 0; else exit 1; fi
fi

mkdir -p "$ROOT/.local"
# Two callers (e.g. the local-stack script and a test run) must not half-install the same venv.
exec 9>"$ROOT/.local/venv.lock"
flock 9

if up_to_date; then
  install_up_to_date python "$("$VENV/bin/python" -V 2>&1)"
  exit 0
fi

install_begin python "Python $REQUIRED_PY venv in .local/venv: pyspark, pyarrow, moto, pytest, ruff, mypy from PyPI, by uv" "~1 min"
if ! venv_ok; then
  have="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)"
  if [[ "$have" != "$REQUIRED_PY" ]]; then
    install_fail "$PYTHON is Python $have, need $REQUIRED_PY (AWS Glue 5.0); set LAKEHOUSE_PYTHON"
  fi
  rm -rf "$VENV"
  install_run "$PYTHON" -m venv "$VENV"
fi

rm -f "$STAMP"
export PIP_DISABLE_PIP_VERSION_CHECK=1
# uv itself, once a machine: a wheel on PyPI that holds the binary, unpacked into a folder of its
# own, then moved: another clone may be fetching the same one.
if [[ ! -x "$UV" ]]; then
  mkdir -p "$LAKEHOUSE_CACHE_DIR"
  uvdl=$(mktemp -d "$LAKEHOUSE_CACHE_DIR/uv-dl.XXXXXX")
  install_run "$PYTHON" -m pip install --no-compile --target "$uvdl" "uv==$UV_VERSION" || { rm -rf "$uvdl"; exit 1; }
  mv -T "$uvdl" "$LAKEHOUSE_CACHE_DIR/uv-$UV_VERSION" 2>/dev/null || rm -rf "$uvdl"
fi
export UV_CACHE_DIR="$LAKEHOUSE_CACHE_DIR/uv" UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1
# pip's certificate setting, when the machine has one, for uv too.
if [[ -n "${PIP_CERT:-}" && -z "${SSL_CERT_FILE:-}" ]]; then export SSL_CERT_FILE="$PIP_CERT"; fi
# One run for both (lakehouse_glue declares no dependencies). First from the cache alone: the
# registry proxy's answers carry no validators, so online uv would download and build pyspark
# again to revalidate it. Online only when the cache lacks something (a first run, a new pin).
uv_install() {
  "$UV" pip install --python "$VENV/bin/python" "$@" \
    -r "$REQUIREMENTS" -c "$CONSTRAINTS" -e "$ROOT/glue"
}
if ! install_run uv_install --offline 2>/dev/null; then
  echo "(not all in the cache: online)" >>"$INSTALL_LOG"
  install_run uv_install
fi
echo "$want" >"$STAMP"
install_end
