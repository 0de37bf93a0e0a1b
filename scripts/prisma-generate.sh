#!/usr/bin/env bash
# Generate the support database's Prisma client (pipeline/generated/prisma, git-ignored) from
# prisma/schema.prisma. Idempotent: skipped when the schema, prisma.config.ts and the Prisma
# versions are unchanged since the last run (stamp inside the output folder).
# `prisma-generate.sh check` only tells, by its exit status, whether the client is up to date.
#
# `prisma generate` needs no engine, but the CLI first makes sure the schema engine binary exists
# and would download it (binaries.prisma.sh is unreachable here). Pointing
# PRISMA_SCHEMA_ENGINE_BINARY at any executable satisfies that check; generate never runs it.
# Migrations are applied by `scripts/lakehouse.sh migrate` instead (docs/adr/0004).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/install-lib.sh
source scripts/install-lib.sh

OUT=pipeline/generated/prisma
STAMP="$OUT/.generated.sha256"
want=$(
  {
    cat prisma/schema.prisma prisma.config.ts
    node -p 'require("prisma/package.json").version + " " + require("@prisma/client/package.json").version'
  } | sha256sum | cut -d' ' -f1
)
up_to_date() { [ -f "$OUT/client.ts" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; }
if [ "${1:-}" = check ]; then
  if up_to_date; then exit 0; else exit 1; fi
fi

mkdir -p .local
# Two bootstraps at once (npm start and npm test) must not interleave writes into $OUT.
exec 9>.local/prisma-generate.lock
flock 9
if up_to_date; then install_up_to_date prisma; exit 0; fi

install_begin prisma "the support database's Prisma client, generated into $OUT" "~5 s"
install_run env PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$(type -P true)}" \
  PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1 \
  npx --no-install prisma generate
echo "$want" >"$STAMP"
install_end
