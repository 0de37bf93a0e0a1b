#!/usr/bin/env bash
# `npm run bench`: benchmarks that print figures (never part of `npm test`).
# Today: Parquet writer memory against row count and row-group size. The worker-vs-cursor and
# DuckDB comparisons of the MongoDB ingestion issue, and the Alarms report timings, join here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/stack.env
source scripts/stack.env
echo "== Parquet writer memory (variable_logs rows, local folder store)"
node_modules/.bin/tsx scripts/bench/parquet-memory.ts "$@"
