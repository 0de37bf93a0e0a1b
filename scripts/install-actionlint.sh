#!/usr/bin/env bash
# actionlint, the linter the test suite runs on .github/workflows (tests/infra/workflows.test.ts),
# built from the Go module proxy into .local/bin like FerretDB (scripts/install-ferretdb.sh): the
# GitHub release binaries cannot be downloaded here. Test-only: scripts/test.sh installs it, not
# bootstrap (`npm start` never runs it). Idempotent: a stamp names the version built.
# `install-actionlint.sh check` only tells, by its exit status, whether it is up to date.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/install-lib.sh
source "$ROOT/scripts/install-lib.sh"
LOCAL="$ROOT/.local"
VERSION=v1.7.12
BIN="$LOCAL/bin/actionlint"
STAMP="$LOCAL/bin/.actionlint.version"

up_to_date() { [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; }
if [ "${1:-}" = check ]; then
  if up_to_date; then exit 0; else exit 1; fi
fi

mkdir -p "$LOCAL/bin"
exec 9>"$LOCAL/actionlint.lock"
flock 9
if up_to_date; then install_up_to_date actionlint "$VERSION"; exit 0; fi

install_begin actionlint "actionlint $VERSION, the workflows' linter (tests only), built from the Go module proxy" "~40 s"
command -v go >/dev/null || install_fail "go is required to build actionlint"
# GOBIN puts the binary straight into .local/bin; module and build caches are the shared ones.
install_run env GOBIN="$LOCAL/bin" GOPATH="$LAKEHOUSE_CACHE_DIR/go" GOMODCACHE="$LAKEHOUSE_CACHE_DIR/go-mod" \
  GOCACHE="$LAKEHOUSE_CACHE_DIR/go-build" GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local \
  go install -v -trimpath -ldflags "-s -w" "github.com/rhysd/actionlint/cmd/actionlint@$VERSION"
echo "$VERSION" >"$STAMP"
install_end
