#!/usr/bin/env bash
# The CLI with the local stack's settings: scripts/lakehouse.sh <command> [options].
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/stack.env
source "$ROOT/scripts/stack.env"
require_project_node
cd "$ROOT"
exec "$ROOT/node_modules/.bin/tsx" local/cli/main.ts "$@"
