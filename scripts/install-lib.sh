# shellcheck shell=bash
# What every install step says, sourced by scripts/install-*.sh, scripts/bootstrap.sh and
# scripts/stack.sh (docs/first-run.md has the measured timings):
#   [install] <step>: <what it does> (first time ~<how long>)…     before it starts
#   [install] <step>: 40 s so far… <the last line of its log>       every 20 s while it works
#   [install] <step>: done in 1 min 12 s                            when it ends
# A step with nothing to do says nothing (bootstrap names those in one "up to date" line), or one
# "<step>: up to date" line when run by hand. The long command's own output goes to
# .local/log/install-<step>.log; when it fails, its last lines and the log's path go to stderr.
# LAKEHOUSE_HEARTBEAT_SECONDS changes the heartbeat's period (default 20).

INSTALL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INSTALL_LOG_DIR="$INSTALL_ROOT/.local/log"
# Downloads and build caches (uv's, npm's, Go's module and build caches, Maven's repository, Node's
# tarball) stay inside the project, in the git-ignored .local/cache: nothing the project installs
# lives outside its folder, and removing .local removes all of it. LAKEHOUSE_CACHE_DIR points
# elsewhere, e.g. to a folder several clones share, or an empty one to measure a cold first run
# (docs/first-run.md).
LAKEHOUSE_CACHE_DIR="${LAKEHOUSE_CACHE_DIR:-$INSTALL_ROOT/.local/cache}"
case "$LAKEHOUSE_CACHE_DIR" in /*) ;; *) LAKEHOUSE_CACHE_DIR="$PWD/$LAKEHOUSE_CACHE_DIR" ;; esac
export LAKEHOUSE_CACHE_DIR

# "45 s", "2 min 5 s"
install_duration() {
  local s=$1
  if [ "$s" -lt 60 ]; then echo "$s s"; else echo "$((s / 60)) min $((s % 60)) s"; fi
}

# install_begin STEP "what it does" "~2 min": prints the line before the step and starts its log.
install_begin() {
  INSTALL_STEP=$1
  INSTALL_T0=$SECONDS
  INSTALL_LOG="$INSTALL_LOG_DIR/install-$1.log"
  mkdir -p "$INSTALL_LOG_DIR"
  : >"$INSTALL_LOG"
  printf '[install] %s: %s (first time %s)…\n' "$1" "$2" "$3"
}

install_end() {
  printf '[install] %s: done in %s\n' "$INSTALL_STEP" "$(install_duration $((SECONDS - INSTALL_T0)))"
}

install_up_to_date() { printf '[install] %s: up to date%s\n' "$1" "${2:+ ($2)}"; }

# The log's last line, short: URLs cut to their last part, at most 100 characters.
install_last_line() {
  { grep -v '^[[:space:]]*$' "$INSTALL_LOG" 2>/dev/null || true; } | tail -n 1 |
    sed -E 's#[a-z]+://[^ ]*/([^/ ]+)#\1#g; s/[[:space:]]+/ /g' | cut -c1-100
}

install_heartbeat() {
  local sp=''
  trap '[ -z "$sp" ] || kill "$sp" 2>/dev/null; exit 0' TERM
  while :; do
    sleep "${LAKEHOUSE_HEARTBEAT_SECONDS:-20}" &
    sp=$!
    wait "$sp" || true
    printf '[install] %s: %s so far… %s\n' "$INSTALL_STEP" \
      "$(install_duration $((SECONDS - INSTALL_T0)))" "$(install_last_line)"
  done
}

# install_run CMD...: runs CMD with its output appended to the step's log and a heartbeat on
# stdout meanwhile. On failure prints the log's tail and path to stderr and returns CMD's status.
install_run() {
  local rc=0 hb
  install_heartbeat &
  hb=$!
  "$@" >>"$INSTALL_LOG" 2>&1 </dev/null || rc=$?
  kill "$hb" 2>/dev/null || true
  wait "$hb" 2>/dev/null || true
  if [ "$rc" != 0 ]; then
    {
      printf '[install] %s: FAILED after %s (exit %s): %s\n' "$INSTALL_STEP" \
        "$(install_duration $((SECONDS - INSTALL_T0)))" "$rc" "$(echo "$*" | cut -c1-160)"
      tail -n 25 "$INSTALL_LOG" | sed 's/^/  | /'
      printf '[install] %s: full log: %s\n' "$INSTALL_STEP" "$INSTALL_LOG"
    } >&2
  fi
  return "$rc"
}

# install_fail MESSAGE: a step's own check failed (not its command).
install_fail() {
  printf '[install] %s: FAILED: %s\n' "$INSTALL_STEP" "$*" >&2
  exit 1
}

# install_apt [sudo] PACKAGE...: Debian packages, by apt-get; waits for another apt-get that holds
# dpkg's lock (PostgreSQL's install beside Chromium's) instead of failing on it. A step runs in the
# background with its output in a log, where sudo could not ask for a password: without one at
# hand, it names the command to run first.
install_apt() {
  local sudo=()
  if [ "${1:-}" = sudo ]; then
    sudo=(sudo)
    shift
    sudo -n true 2>/dev/null ||
      install_fail "needs root: run \`sudo apt-get install -y $*\` once, then this command again"
  fi
  install_run "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update
  install_run "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get -o DPkg::Lock::Timeout=600 install -y "$@"
}

# The newest installed PostgreSQL's bin folder (Debian's layout), empty when none is.
pg_bindir() {
  local d
  d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; fi
}

# Steps run side by side: the Go build is CPU-bound, pip, Maven, npm and apt-get mostly wait on the
# network and the disk. install_start STEP... starts scripts/install-<STEP>.sh in the background
# for each STEP whose `check` says it has work to do (each prints its own lines, which start with
# its name) and adds the others to INSTALL_FRESH; install_wait waits for all it started and
# returns 1 after naming the failed ones (each printed its log's tail and path as it failed).
INSTALL_PIDS=()
INSTALL_NAMES=()
INSTALL_FRESH=()
INSTALL_STARTED=0

# install_spawn NAME CMD...: CMD in the background, in a process group of its own: a script's
# background jobs ignore Ctrl-C, so on Ctrl-C (or TERM) the trap ends each group, with the pip,
# go or mvn it runs, instead of leaving them to finish behind the prompt.
install_spawn() {
  local name=$1
  shift
  if [ "$INSTALL_STARTED" = 0 ]; then
    printf '[install] installing what is missing, steps side by side (their output: %s)\n' \
      ".local/log/install-<step>.log"
  fi
  trap 'install_cancel; exit 130' INT
  trap 'install_cancel; exit 143' TERM
  set -m
  (set +m; "$@") &
  set +m
  INSTALL_PIDS+=("$!")
  INSTALL_NAMES+=("$name")
  INSTALL_STARTED=$((INSTALL_STARTED + 1))
}

install_cancel() {
  local pid
  for pid in "${INSTALL_PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
}

install_start() {
  local step
  for step in "$@"; do
    if bash "$INSTALL_ROOT/scripts/install-$step.sh" check; then
      INSTALL_FRESH+=("$step")
    else
      install_spawn "$step" bash "$INSTALL_ROOT/scripts/install-$step.sh"
    fi
  done
}

install_wait() {
  local i failed=()
  for i in "${!INSTALL_PIDS[@]}"; do
    wait "${INSTALL_PIDS[$i]}" || failed+=("${INSTALL_NAMES[$i]}")
  done
  INSTALL_PIDS=()
  INSTALL_NAMES=()
  trap - INT TERM
  if [ ${#failed[@]} -gt 0 ]; then
    printf '[install] failed: %s (logs: .local/log/install-<step>.log)\n' "$(install_join "${failed[@]}")" >&2
    return 1
  fi
}

# "a, b, c"
install_join() {
  local IFS=, s
  s="$*"
  echo "${s//,/, }"
}

# One line for the steps that had nothing to do.
install_say_fresh() {
  if [ ${#INSTALL_FRESH[@]} -gt 0 ]; then
    printf '[install] up to date: %s\n' "$(install_join "${INSTALL_FRESH[@]}")"
  fi
}
