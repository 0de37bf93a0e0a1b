#!/usr/bin/env bash
# The scale run (docs/scale-run.md): the whole local pipeline on a large synthetic snapshot, from
# an empty lake, with per stage its documents, time and peak memory; then daily runs on top (a day
# advanced each), compaction, and the lake's raw and curated bytes and files per table.
#
#   bash scripts/scale-run.sh [--devices N] [--days D] [--advances A] [--reset]
#   bash scripts/scale-run.sh --continue .local/scale/<time> [--advances A]
#   bash scripts/scale-run.sh --report .local/scale/<time>
#
# Defaults: the `bench` scale (200 devices, 60 days), 2 advances. --reset removes the lake and the
# support database first (the README's "the pipeline from scratch"); without it a lake already
# there is an error, since the figures are those of an initial load. --continue takes a run whose
# initial pipeline finished and does the rest (advances, compaction, figures), as one run would.
# --report writes the report of a run stopped part way (Ctrl-C, or out of time): the stages it
# finished, the one it was in as "stopped", and the lake as it was then (its last column).
# Everything goes to .local/scale/<time>/: load.json, pipeline.log (each line with its time),
# rss.jsonl (memory every half second), lake-initial.json, advance-<n>.log and -rss.jsonl,
# lake-before.json, compact.log, lake.json, report.json and report.md (also printed).
# Run it on a quiet machine: about 20 minutes at the default scale on two cores.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

devices=200 days=60 advances=2 reset=0 out='' report=''
while (($#)); do
  case "$1" in
    --devices) devices=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --advances) advances=$2; shift 2 ;;
    --reset) reset=1; shift ;;
    --continue) out=$2; shift 2 ;;
    --report) report=$2; shift 2 ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale-run: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ -n "$report" ]; then
  [ -s "$report/load.json" ] || { echo "scale-run: $report has no loaded snapshot (load.json)" >&2; exit 2; }
  [ -e "$report/lake.json" ] || .local/venv/bin/python scripts/scale/lake_figures.py .local/lake "$report/lake.json" \
    >>"$report/lake-figures.log" 2>&1
  .local/venv/bin/python scripts/scale/report.py "$report" | tee "$report/report.md"
  exit 0
fi

bash scripts/bootstrap.sh
# shellcheck source=scripts/stack.env
source scripts/stack.env
bash scripts/stack.sh start
PY=.local/venv/bin/python

# Each line of a command's output with the time it was printed (for the stage intervals).
stamp() { while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done; }

# Runs a command with its output stamped into $1 (and shown) and its process tree sampled into
# $2; returns the command's status.
sampled() {
  local log=$1 rss=$2; shift 2
  "$@" > >(stamp | tee -a "$log") 2>&1 &
  local pid=$!
  "$PY" scripts/scale/sample_rss.py "$pid" "$rss" &
  local sampler=$!
  local status=0
  wait "$pid" || status=$?
  wait "$sampler" || true
  return "$status"
}

# No source counts: FerretDB counts by reading every document, minutes of local overhead that a
# MongoDB answers from metadata; the documents come from the load's own report instead.
pipeline() { bash scripts/lakehouse.sh local --rerun --no-source-counts; }

if [ -z "$out" ]; then
  if [ -e .local/lake/raw ] || [ -e .local/lake/warehouse ]; then
    if ((!reset)); then
      echo "scale-run: .local/lake holds an earlier run; pass --reset to remove it and the support database" >&2
      exit 2
    fi
  fi
  if ((reset)); then
    rm -rf .local/lake
    PGPASSWORD="$LAKEHOUSE_PG_PASSWORD" "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql" -X -q \
      -h 127.0.0.1 -p "$LAKEHOUSE_PG_PORT" -U "$LAKEHOUSE_PG_USER" -d postgres \
      -c 'DROP DATABASE IF EXISTS support WITH (FORCE)'
    bash scripts/stack.sh start >/dev/null # creates it again
    bash scripts/lakehouse.sh migrate
  fi

  out=".local/scale/$(date -u +%Y%m%dT%H%M%SZ)"
  mkdir -p "$out"
  echo "scale run: $devices devices × $days days; figures under $out; $(nproc) cores;$(uptime)" | tee "$out/machine.txt"

  echo "[scale] loading the snapshot"
  # stdout is the load's JSON report; its progress lines (stderr) are stamped like the rest.
  sampled "$out/load.log" "$out/load-rss.jsonl" bash -c \
    'bash scripts/lakehouse.sh snapshot load --devices "$1" --days "$2" --reset --json >"$3"' \
    load "$devices" "$days" "$out/load.json"

  echo "[scale] the pipeline (npm start's run)"
  sampled "$out/pipeline.log" "$out/rss.jsonl" pipeline

  echo "[scale] the lake after the initial load"
  "$PY" scripts/scale/lake_figures.py .local/lake "$out/lake-initial.json" >"$out/lake-figures.log" 2>&1
elif [ ! -s "$out/lake-initial.json" ]; then
  echo "scale-run: $out has no finished initial pipeline (lake-initial.json)" >&2
  exit 2
else
  echo "scale run continued: $(nproc) cores;$(uptime)" | tee -a "$out/machine.txt"
fi

for ((n = 1; n <= advances; n++)); do
  echo "[scale] advance $n of $advances: a day of new source data, then the pipeline"
  bash scripts/lakehouse.sh snapshot advance --days 1 >"$out/advance-$n-snapshot.log" 2>&1
  sampled "$out/advance-$n.log" "$out/advance-$n-rss.jsonl" pipeline
done

echo "[scale] the lake before compaction"
"$PY" scripts/scale/lake_figures.py .local/lake "$out/lake-before.json" >>"$out/lake-figures.log" 2>&1

echo "[scale] compaction (what the Glue table optimizer does in AWS)"
sampled "$out/compact.log" "$out/compact-rss.jsonl" bash scripts/lakehouse.sh curate --compact

echo "[scale] the lake after compaction"
"$PY" scripts/scale/lake_figures.py .local/lake "$out/lake.json" >>"$out/lake-figures.log" 2>&1

"$PY" scripts/scale/report.py "$out" | tee "$out/report.md"
