#!/usr/bin/env bash
# Debian's Chromium for the browser tests (playwright-core drives it by executablePath: Playwright's
# own browser download cannot reach its host here). Test-only: scripts/test.sh installs it.
# Idempotent: nothing to do once installed. `install-chromium.sh check` only tells, by its exit
# status, whether it is installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/install-lib.sh
source "$ROOT/scripts/install-lib.sh"
if [ -x /usr/bin/chromium ]; then
  if [ "${1:-}" != check ]; then install_up_to_date chromium; fi
  exit 0
fi
if [ "${1:-}" = check ]; then exit 1; fi
install_begin chromium "Debian's Chromium for the dashboard's browser test (tests only), by apt-get" "~1 min"
SUDO=()
if [ "$(id -u)" != 0 ]; then SUDO=(sudo); fi
install_apt "${SUDO[@]}" chromium
[ -x /usr/bin/chromium ] || install_fail "/usr/bin/chromium missing after install"
install_end
