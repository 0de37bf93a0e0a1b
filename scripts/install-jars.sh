#!/usr/bin/env bash
# Puts the JVM jars local Spark needs (glue/jars/pom.xml: Iceberg Spark runtime, PostgreSQL JDBC)
# into .local/jars, downloaded by Maven into $LAKEHOUSE_CACHE_DIR/m2 (scripts/install-lib.sh).
# Idempotent: skips Maven when the pom is unchanged since the last successful copy and every jar
# it produced is still there (stamp .local/jars/.pom.sha256: hash, then one jar name a line).
# `install-jars.sh check` only tells, by its exit status, whether .local/jars is up to date.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/install-lib.sh
source "$ROOT/scripts/install-lib.sh"
POM="$ROOT/glue/jars/pom.xml"
JARS="$ROOT/.local/jars"
STAMP="$JARS/.pom.sha256"
M2="$LAKEHOUSE_CACHE_DIR/m2"
# 3.8.x is the last maven-dependency-plugin line built against Maven 3.6 APIs (we run on 3.8).
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

want="$(sha256sum "$POM" | cut -d' ' -f1)"

stamp_ok() {
  [[ -f "$STAMP" && "$(head -n1 "$STAMP")" == "$want" ]] || return 1
  local jar
  while IFS= read -r jar; do
    [[ -f "$JARS/$jar" ]] || return 1
  done < <(tail -n +2 "$STAMP")
}

if [[ "${1:-}" == check ]]; then
  if stamp_ok; then exit 0; else exit 1; fi
fi

mkdir -p "$ROOT/.local" "$M2"
exec 9>"$ROOT/.local/jars.lock"
flock 9

if stamp_ok; then
  install_up_to_date jars "$(tail -n +2 "$STAMP" | paste -sd' ' -)"
  exit 0
fi

install_begin jars "Spark's jars (Iceberg runtime, PostgreSQL JDBC: glue/jars/pom.xml) into .local/jars, by Maven" "~20 s"
# Copy into a fresh folder and swap it in, so .local/jars holds exactly the pom's jars (no stale
# versions Spark could pick up) and is never half-populated.
tmp="$ROOT/.local/jars.tmp"
rm -rf "$tmp"
# -U: retry what an earlier, failed download left marked as missing in the shared repository,
# instead of refusing it until Maven's daily update check.
install_run mvn --batch-mode -U --file "$POM" \
  -Dmaven.repo.local="$M2" \
  "$DEPENDENCY_PLUGIN:copy-dependencies" \
  -DoutputDirectory="$tmp" \
  -DexcludeTransitive=true \
  -DincludeScope=runtime
{
  echo "$want"
  (cd "$tmp" && ls -1 -- *.jar)
} >"$tmp/.pom.sha256"
rm -rf "$JARS"
mv "$tmp" "$JARS"
install_end
