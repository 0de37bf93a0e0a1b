#!/usr/bin/env bash
# `npm run bench`: every benchmark in one run (never part of `npm test`), then ONE table of every
# figure beside its target (scripts/bench/summary.ts), and every figure in
# .local/bench/latest.json, the file `npm run cost` reads. The parts, each runnable alone:
#   parquet-memory    Parquet writer peak memory against rows and row-group size
#   ingest            MongoDB → raw: worker vs bare cursor, the worker without the server (a
#                     replay from memory), window scaling, encode vs DuckDB, bytes vs pyarrow
#   postgres-extract  the Glue job postgres_extract: full extract, increment, bulk throughput
#   curate            raw → curated and reconcile at 1× and 4× the data; the Alarms report on
#                     curated Iceberg vs raw Parquet vs the old way, and served
# The encode-vs-DuckDB figures come from .local/bench/encoders.json when the encoder bench
# (scripts/bench/encoders.ts) has written one, else from the ingest part's own measurement.
#
# Flags; anything else goes to the Parquet memory bench, as before:
#   --quick       a smoke run of a few minutes: small scales everywhere
#   --only LIST   only these parts (comma-separated names above)
#   --record      also keep the run as docs/benchmarks.json, the figures the README and
#                 docs/benchmarks.md quote and `npm run cost` falls back to on a machine that
#                 never ran the bench (a full run only: not with --quick or --only)
# BENCH_INGEST_ARGS, BENCH_EXTRACT_ARGS and BENCH_CURATE_ARGS replace a part's default arguments
# (e.g. BENCH_INGEST_ARGS="--devices 20 --days 10" npm run bench). Each part's output is kept
# under .local/bench/runs/<time>/ beside its JSON. A part that fails is named in the summary and
# the run exits non-zero; the parts after it still run.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit
# shellcheck source=scripts/stack.env
source scripts/stack.env
require_project_node

quick=0
only=""
record=0
memory_args=()
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --only) only="${2:-}"; shift ;;
    --only=*) only="${1#*=}" ;;
    --record) record=1 ;;
    *) memory_args+=("$1") ;;
  esac
  shift
done

# Default arguments of each part: the reference scale, or the smoke run's.
if ((quick)); then
  default_memory=(--quick)
  default_ingest="--devices 10 --days 8 --scaling-devices 4 --scaling-days 96"
  default_extract="--advance-days 1 --bulk-rows 100000"
  default_curate="--devices 12 --days 10 --collections alarm,events --runs 1 --scaling 4"
else
  default_memory=()
  default_ingest=""
  default_extract="--bulk-rows 200000"
  default_curate="--devices 40 --days 20 --scaling 4"
fi
((${#memory_args[@]})) || memory_args=("${default_memory[@]}")
if ((record)) && { ((quick)) || [[ -n "$only" ]]; }; then
  echo "[bench] --record keeps a full run only: drop --quick and --only" >&2
  exit 2
fi

run_dir=".local/bench/runs/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$run_dir"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started="$(date +%s)"
echo "npm run bench$( ((quick)) && echo " --quick"): figures under $run_dir; $(nproc) cores; uptime:$(uptime)"
failed=()

wanted() { [[ -z "$only" || ",$only," == *",$1,"* ]]; }

# part NAME TITLE COMMAND...: run one part, its output on the terminal and in the run's folder.
part() {
  local name="$1" title="$2"
  shift 2
  wanted "$name" || return 0
  echo
  echo "== $title"
  "$@" 2>&1 | tee "$run_dir/$name.log"
  local status="${PIPESTATUS[0]}"
  if ((status != 0)); then
    echo "[bench] $name failed (status $status): see $run_dir/$name.log"
    failed+=("$name")
  fi
}

part parquet-memory "Parquet writer memory (variable_logs rows, local folder store)" \
  node_modules/.bin/tsx scripts/bench/parquet-memory.ts "${memory_args[@]}" --out "$run_dir/parquet-memory.json"
# shellcheck disable=SC2086 # word splitting of the flags is intended
part ingest "MongoDB → raw ingestion: worker vs bare cursor, the worker without the server, scaling, encode vs DuckDB (throwaway databases)" \
  node_modules/.bin/tsx scripts/bench/ingest.ts ${BENCH_INGEST_ARGS:-$default_ingest} --json "$run_dir/ingest.json"
# shellcheck disable=SC2086
part postgres-extract "PostgreSQL → lake: Glue job postgres_extract, full extract and increment (throwaway database)" \
  .local/venv/bin/python scripts/bench/postgres_extract.py ${BENCH_EXTRACT_ARGS:-$default_extract} --json "$run_dir/postgres-extract.json"
# shellcheck disable=SC2086
part curate "Raw → curated, reconcile, and the Alarms report: curated Iceberg vs raw Parquet vs the old way (throwaway databases)" \
  .local/venv/bin/python scripts/bench/curate_analytics.py ${BENCH_CURATE_ARGS:-$default_curate} --json "$run_dir/curate.json"

command="npm run bench"
summary_flags=()
if ((quick)); then
  command+=" -- --quick"
  summary_flags+=(--quick)
fi
[[ -n "$only" ]] && command+=" (--only $only)"
node_modules/.bin/tsx scripts/bench/summary.ts --dir "$run_dir" --command "$command" \
  --load-before "$load_before" --started "$started" "${summary_flags[@]}" || failed+=(summary)
echo "  uptime at the end:$(uptime)"
if ((${#failed[@]})); then
  echo "[bench] failed: ${failed[*]}"
  exit 1
fi
if ((record)); then
  cp .local/bench/latest.json docs/benchmarks.json
  echo "[bench] recorded as docs/benchmarks.json: commit it with the tables that quote it"
fi
