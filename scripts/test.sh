#!/usr/bin/env bash
# The test command (`npm test`, after scripts/bootstrap.sh has started the stack): the tools only
# the tests need, lint and format gates, typecheck, vitest (unit, integration against the real
# local servers, infra), ruff and pytest for the Glue jobs on local Spark. Every step runs; the
# exit status is non-zero if any failed, and the last line sums the tests of both runners.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
# shellcheck source=scripts/stack.env
source scripts/stack.env
# Every step below runs on the project's Node (scripts/node.env), the Lambda runtime's major.
require_project_node || exit 1
printf '== node %s (%s)\n' "$(node --version)" "$(command -v node)"

REPORTS="$ROOT/.local/reports"
rm -rf "$REPORTS" && mkdir -p "$REPORTS"
failed=()

step() {
  local name=$1; shift
  printf '\n== %s\n' "$name"
  local start=$SECONDS
  if "$@"; then
    printf '== %s: ok (%ss)\n' "$name" $((SECONDS - start))
  else
    printf '== %s: FAILED (%ss)\n' "$name" $((SECONDS - start))
    failed+=("$name")
  fi
}

# Tools only the tests need, so bootstrap (and `npm start`) never installs them, side by side:
# actionlint for tests/infra/workflows.test.ts (a Go build) and Debian's Chromium, which the
# dashboard's browser test drives (apt-get). Nothing to do once installed.
step "test tools (actionlint, chromium)" bash -c \
  'source scripts/install-lib.sh && install_start actionlint chromium && install_wait && install_say_fresh'
step "biome (lint + format)" npx biome ci --colors=off .
step "typecheck" npx tsc --noEmit -p tsconfig.json
step "typecheck (dashboard page script)" npx tsc --noEmit -p tsconfig.browser.json
step "ruff" bash -c ".local/venv/bin/ruff check glue && .local/venv/bin/ruff format --check glue"
# The Python side's tsc: mypy, strict, configured in glue/pyproject.toml.
step "mypy" bash -c "cd glue && ../.local/venv/bin/mypy"
step "vitest" npx vitest run --reporter=default --reporter=junit --outputFile.junit="$REPORTS/vitest.xml"
step "pytest" bash -c "cd glue && ../.local/venv/bin/pytest --junitxml='$REPORTS/pytest.xml' -p no:cacheprovider"

node scripts/test-summary.mjs "$REPORTS"/*.xml
if [ ${#failed[@]} -gt 0 ]; then
  printf 'failed steps: %s\n' "${failed[*]}"
  exit 1
fi
