#!/usr/bin/env bash
# Puts the JVM jars local Spark needs (glue/jars/pom.xml: Iceberg Spark runtime, PostgreSQL JDBC)
# into .local/jars, downloaded by Maven into .local/cache/m2.
# Idempotent: skips Maven when the pom is unchanged since the last successful copy and every jar
# it produced is still there (stamp .local/jars/.pom.sha256: hash, then one jar name a line).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POM="$ROOT/glue/jars/pom.xml"
JARS="$ROOT/.local/jars"
STAMP="$JARS/.pom.sha256"
M2="$ROOT/.local/cache/m2"
# 3.8.x is the last maven-dependency-plugin line built against Maven 3.6 APIs (we run on 3.8).
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

mkdir -p "$ROOT/.local" "$M2"
exec 9>"$ROOT/.local/jars.lock"
flock 9

want="$(sha256sum "$POM" | cut -d' ' -f1)"

stamp_ok() {
  [[ -f "$STAMP" && "$(head -n1 "$STAMP")" == "$want" ]] || return 1
  local jar
  while IFS= read -r jar; do
    [[ -f "$JARS/$jar" ]] || return 1
  done < <(tail -n +2 "$STAMP")
}

if stamp_ok; then
  echo "jars: .local/jars up to date ($(tail -n +2 "$STAMP" | paste -sd' ' -))"
  exit 0
fi

# Copy into a fresh folder and swap it in, so .local/jars holds exactly the pom's jars (no stale
# versions Spark could pick up) and is never half-populated.
tmp="$ROOT/.local/jars.tmp"
rm -rf "$tmp"
log="$ROOT/.local/install-jars.log"
# Maven's output goes to a log (shown on failure) so a successful run prints one line.
if ! mvn --batch-mode --no-transfer-progress --file "$POM" \
  -Dmaven.repo.local="$M2" \
  "$DEPENDENCY_PLUGIN:copy-dependencies" \
  -DoutputDirectory="$tmp" \
  -DexcludeTransitive=true \
  -DincludeScope=runtime >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-jars: mvn failed (log: $log)" >&2
  exit 1
fi
{
  echo "$want"
  (cd "$tmp" && ls -1 -- *.jar)
} >"$tmp/.pom.sha256"
rm -rf "$JARS"
mv "$tmp" "$JARS"
echo "jars: copied $(tail -n +2 "$STAMP" | paste -sd' ' -) into .local/jars"
