#!/usr/bin/env bash
# FerretDB v1.24.2 (the local stack's MongoDB, docs/adr/0001), built from the Go module proxy into
# .local/bin/ferretdb: see tools/ferretdb/main.go for why a local main. Built without the SQLite
# backend (build tag ferretdb_no_sqlite, FerretDB's build/version/version.go): the stack runs the
# PostgreSQL one, and the pure-Go SQLite is a fifth of the build's CPU.
# Patched: tools/ferretdb/patches/*.patch apply to a copy of the module (Go's -overlay may not
# replace files in the module cache), which a generated go.mod `replace`s the module with: date
# bounds and $nin of numbers pushed down to PostgreSQL, and a cheaper JSON decoder (each patch
# says why in its header; docs/local-stack.md).
# Idempotent: a stamp holds the hash of the sources and the build flags. Module and build caches
# are in $LAKEHOUSE_CACHE_DIR (scripts/install-lib.sh), so another clone builds in seconds.
# `install-ferretdb.sh check` only tells, by its exit status, whether the binary is up to date.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/install-lib.sh
source "$ROOT/scripts/install-lib.sh"
SRC="$ROOT/tools/ferretdb"
BIN="$ROOT/.local/bin/ferretdb"
STAMP="$ROOT/.local/bin/.ferretdb.sha256"
# -trimpath: no clone's path in the binary, so the shared build cache serves every clone.
FLAGS=(-trimpath -tags ferretdb_no_sqlite -ldflags "-s -w")

BUILD="$ROOT/.local/build/ferretdb"
MODULE=github.com/FerretDB/FerretDB@v1.24.2

want=$({ cat "$SRC/go.mod" "$SRC/go.sum" "$SRC/main.go" "$SRC"/patches/*.patch; echo "${FLAGS[*]}"; } | sha256sum | cut -d' ' -f1)
up_to_date() { [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; }

if [ "${1:-}" = check ]; then
  if up_to_date; then exit 0; else exit 1; fi
fi

mkdir -p "$ROOT/.local/bin"
exec 9>"$ROOT/.local/ferretdb.lock"
flock 9
if up_to_date; then install_up_to_date ferretdb; exit 0; fi

install_begin ferretdb "FerretDB v1.24.2 built from the Go module proxy into .local/bin" "~1–2 min"
command -v go >/dev/null || install_fail "go is required to build FerretDB"
command -v patch >/dev/null || install_fail "patch is required to build FerretDB (apt-get install patch)"
rm -f "$STAMP"
gocmd() {
  env -C "$SRC" GOMODCACHE="$LAKEHOUSE_CACHE_DIR/go-mod" GOCACHE="$LAKEHOUSE_CACHE_DIR/go-build" \
    GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local go "$@"
}
# The module's sources, patched, in a fresh copy (the cache's files are read-only).
install_run gocmd mod download "$MODULE"
rm -rf "$BUILD" && mkdir -p "$BUILD"
cp -R "$(gocmd list -m -f '{{.Dir}}' "$MODULE")" "$BUILD/src" && chmod -R u+w "$BUILD/src"
for patch in "$SRC"/patches/*.patch; do
  install_run patch -p1 --forward --silent -d "$BUILD/src" -i "$patch"
done
{ cat "$SRC/go.mod"; echo "replace github.com/FerretDB/FerretDB => $BUILD/src"; } >"$BUILD/go.mod"
cp "$SRC/go.sum" "$BUILD/go.sum"
# -v names each package as it is compiled: the heartbeat shows how far the build is.
install_run gocmd build -modfile="$BUILD/go.mod" -v "${FLAGS[@]}" -o "$BIN" .
echo "$want" >"$STAMP"
install_end
