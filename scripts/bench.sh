#!/usr/bin/env bash
# `npm run bench`: benchmarks that print figures (never part of `npm test`).
# Today: Parquet writer memory against row count and row-group size; the MongoDB → raw worker
# against a bare cursor read and our Parquet encode against DuckDB; the Glue job postgres_extract
# (full extract, increment, bulk throughput); raw → curated and the Alarms report on curated
# Iceberg vs raw Parquet vs the old way. Arguments go to the Parquet memory bench;
# BENCH_INGEST_ARGS to the ingestion bench (e.g. BENCH_INGEST_ARGS="--devices 20 --days 10");
# BENCH_EXTRACT_ARGS to the postgres_extract bench (e.g. BENCH_EXTRACT_ARGS="--scale default
# --advance-days 2 --bulk-rows 0"); BENCH_CURATE_ARGS to the curate/report bench (default 60
# devices x 30 days).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/stack.env
source scripts/stack.env
require_project_node
echo "== Parquet writer memory (variable_logs rows, local folder store)"
node_modules/.bin/tsx scripts/bench/parquet-memory.ts "$@"
echo
echo "== MongoDB → raw ingestion: worker vs bare cursor, Parquet encode vs DuckDB (throwaway databases)"
# shellcheck disable=SC2086 # word splitting of the flags is intended
node_modules/.bin/tsx scripts/bench/ingest.ts ${BENCH_INGEST_ARGS:-}
echo
echo "== PostgreSQL → lake: Glue job postgres_extract, full extract and increment (throwaway database)"
# shellcheck disable=SC2086 # word splitting of the flags is intended
.local/venv/bin/python scripts/bench/postgres_extract.py ${BENCH_EXTRACT_ARGS:-}
echo
echo "== Raw → curated, and the Alarms report: curated Iceberg vs raw Parquet vs the old way (throwaway databases)"
# shellcheck disable=SC2086 # word splitting of the flags is intended
.local/venv/bin/python scripts/bench/curate_analytics.py ${BENCH_CURATE_ARGS:-}
