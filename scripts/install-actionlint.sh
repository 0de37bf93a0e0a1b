#!/usr/bin/env bash
# actionlint, the linter the test suite runs on .github/workflows (tests/infra/workflows.test.ts),
# built from the Go module proxy into .local/bin like FerretDB (scripts/stack.sh): the GitHub
# release binaries cannot be downloaded here. Idempotent: a stamp names the version built.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
VERSION=v1.7.12
BIN="$LOCAL/bin/actionlint"
STAMP="$LOCAL/bin/.actionlint.version"

if [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then exit 0; fi
command -v go >/dev/null || { echo "[actionlint] go is required to build actionlint" >&2; exit 1; }
echo "[actionlint] building actionlint $VERSION (first time only)"
mkdir -p "$LOCAL/bin" "$LOCAL/cache"
# GOBIN puts the binary straight into .local/bin; caches stay in the project-local .local/cache.
GOBIN="$LOCAL/bin" GOPATH="$LOCAL/cache/go" GOMODCACHE="$LOCAL/cache/go-mod" GOCACHE="$LOCAL/cache/go-build" \
  GOFLAGS=-mod=mod GOTOOLCHAIN=local \
  go install "github.com/rhysd/actionlint/cmd/actionlint@$VERSION"
echo "$VERSION" >"$STAMP"
