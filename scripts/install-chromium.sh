#!/usr/bin/env bash
# Debian's Chromium for the browser tests (playwright-core drives it by executablePath: Playwright's
# own browser download cannot reach its host here). Idempotent: nothing to do once installed.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "[chromium] installing Debian's chromium for the browser tests"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
[ -x /usr/bin/chromium ] || { echo "[chromium] /usr/bin/chromium missing after install" >&2; exit 1; }
