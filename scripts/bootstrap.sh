#!/usr/bin/env bash
# What `npm start` and `npm test` run first on any machine: install the Node packages from the
# lockfile when they changed, then install and start the local stack. Idempotent and quick when
# nothing changed (a second run takes a few seconds).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

stamp=node_modules/.lockfile.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
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
