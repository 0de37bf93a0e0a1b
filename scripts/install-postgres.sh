#!/usr/bin/env bash
# PostgreSQL from Debian's packages, when no PostgreSQL is installed (scripts/stack.sh runs the
# server with the newest one found). `install-postgres.sh check` only tells, by its exit status,
# whether one is installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/install-lib.sh
source "$ROOT/scripts/install-lib.sh"
if [ -n "$(pg_bindir)" ]; then
  if [ "${1:-}" != check ]; then install_up_to_date postgres "$(pg_bindir)"; fi
  exit 0
fi
if [ "${1:-}" = check ]; then exit 1; fi
install_begin postgres "PostgreSQL from Debian's packages, by apt-get" "~1 min"
SUDO=()
if [ "$(id -u)" != 0 ]; then SUDO=(sudo); fi
install_apt "${SUDO[@]}" postgresql
[ -n "$(pg_bindir)" ] || install_fail "PostgreSQL binaries not found in /usr/lib/postgresql after install"
install_end
