#!/usr/bin/env bash
# Local stack: PostgreSQL, FerretDB (MongoDB wire protocol) and moto (AWS APIs) on loopback, with
# their data under .local/ (or LAKEHOUSE_STATE_DIR). `scripts/stack.sh help` describes the verbs.
# Every verb is idempotent: `start` installs what is missing, leaves running servers alone and
# restarts the ones that died, cleaning up what a crash left behind.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/stack.env
source "$ROOT/scripts/stack.env"
# shellcheck source=scripts/install-lib.sh
source "$ROOT/scripts/install-lib.sh"

LOCAL="$ROOT/.local"
# The servers' state (data, pid files and sockets, logs). The installed tools in $LOCAL stay
# shared, so a test can run a throwaway stack on other ports beside the one in use.
STATE="${LAKEHOUSE_STATE_DIR:-$LOCAL}"
case "$STATE" in /*) ;; *) STATE="$PWD/$STATE" ;; esac
RUN="$STATE/run"
LOG="$STATE/log"
PGDATA="$STATE/data/pg"
FERRET_BIN="$LOCAL/bin/ferretdb"
VENV="$LOCAL/venv"
FIX_START="npm run stack -- start"
FIX_RESTART="npm run stack -- restart"

say() { printf '[stack] %s\n' "$*"; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<EOF
Usage: scripts/stack.sh [VERB]        (or: npm run stack -- VERB)

The local stack: PostgreSQL, FerretDB (MongoDB wire protocol) and moto (AWS APIs), on 127.0.0.1.

Verbs:
  start     Install what is missing, start the servers that are not running and create the
            databases. What a crash left behind (a pid file naming a dead or reused pid, a
            PostgreSQL socket lock) is cleaned up and the server restarted, with one
            "recovered" line each. Running servers are left alone.
  stop      Stop this stack's servers. A pid file whose pid now belongs to another program is
            removed, and that program is left alone.
  restart   stop, then start: how a changed port or setting takes effect.
  status    The default. Checks each server over its own protocol, and that the one answering
            on the port is this stack's. For a server that is down, says why and how to fix it.
            Exits 1 when any server is down.
  install   Install what is missing, side by side, without starting anything: PostgreSQL,
            FerretDB (built), the Python environment (moto, pyspark) and the Spark jars.
            Each step says what it does and how long it took; its log is in
            .local/log/install-<step>.log.
  env       Print the settings and the URLs the code uses.
  help      This text (also -h, --help).

Settings (from the environment; defaults in scripts/stack.env):
  LAKEHOUSE_PG_PORT     PostgreSQL's port (now $LAKEHOUSE_PG_PORT): databases ddc, ddc_production,
                        support, and ferretdb (FerretDB's storage)
  LAKEHOUSE_MONGO_PORT  FerretDB's port (now $LAKEHOUSE_MONGO_PORT)
  LAKEHOUSE_MOTO_PORT   moto's port (now $LAKEHOUSE_MOTO_PORT)
  LAKEHOUSE_PG_USER, LAKEHOUSE_PG_PASSWORD
                        PostgreSQL's superuser, set when the cluster is first created
  LAKEHOUSE_STATE_DIR   where data/, run/ and log/ live; another folder, with other ports,
                        runs a second stack beside this one (now $STATE)
Logs: $LOG/
EOF
}

# ---------------------------------------------------------------------------------------------
# Processes: a pid file is believed only after checking the process it names
# ---------------------------------------------------------------------------------------------
# A killed server stays a zombie until its parent reaps it, and a container's PID 1 may take
# seconds or never: `kill -0` (and so `pg_ctl status`) succeeds on a zombie, which is how a
# crashed stack passed for a running one.
alive() {
  local st
  [[ "${1:-}" =~ ^[0-9]+$ ]] || return 1
  st=$(awk '/^State:/ { print $2; exit }' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

cmdline() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | sed 's/ $//' || true; }

# Command lines carry FerretDB's PostgreSQL URL; keep its password out of messages.
mask() { sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#'; }

read_pid() {
  local p; p=$(head -n 1 "$1" 2>/dev/null || true)
  if [[ "$p" =~ ^[0-9]+$ ]]; then echo "$p"; fi
}

# Why a pid file does not name a running server of ours, for messages.
stale_reason() {
  local file=$1 pid=$2
  if [ -z "$pid" ]; then echo "stale $file (no pid in it)"
  elif ! alive "$pid"; then echo "stale $file (pid $pid not running)"
  else echo "stale $file (pid $pid is now another program: $(cmdline "$pid" | mask | cut -c1-100))"
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid listening on a port; empty when nobody does or `ss` may not tell (another user's).
port_pid() {
  command -v ss >/dev/null || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true
}

port_holder() {
  local pid; pid=$(port_pid "$1")
  if [ -n "$pid" ]; then echo "pid $pid ($(cmdline "$pid" | mask | cut -c1-100))"
  else echo "pid unknown (not visible to this user, or no ss to tell)"
  fi
}

fix_port() { echo "stop that process, or export $1=<a free port> and run $FIX_START"; }

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------
# Installs: scripts/install-<name>.sh, run only when its `check` says it has work to do, so a
# start with everything installed prints nothing about them (scripts/install-lib.sh).
ensure() { bash "$ROOT/scripts/install-$1.sh" check || bash "$ROOT/scripts/install-$1.sh"; }

install_postgres() {
  ensure postgres
  [ -n "$(pg_bindir)" ] || die "PostgreSQL binaries not found after install"
}

# PostgreSQL refuses to run as root, so as root the server runs as the Debian `postgres` user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The data folder sits inside the clone; a clone under a 0700 temp folder (as CI makes) would
# hide it from the postgres user, so grant traverse (x) on the ancestors that lack it.
grant_traverse() {
  [ "$(id -u)" = 0 ] || return 0
  local d="$STATE"
  while [ "$d" != "/" ]; do
    if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
      chmod o+x "$d"
      say "granted traverse on $d to the postgres user"
    fi
    d=$(dirname "$d")
  done
}

# A process of this cluster: a postgres binary working in our PGDATA (the postmaster and every
# backend chdir there), so another clone's cluster, or a pid reused by anything else, never matches.
pg_ours() {
  alive "$1" || return 1
  [[ "$(readlink "/proc/$1/exe" 2>/dev/null)" == */postgres ]] || return 1
  [ "$(readlink "/proc/$1/cwd" 2>/dev/null)" = "$(cd "$PGDATA" 2>/dev/null && pwd -P)" ]
}

pg_cluster_pids() {
  local d comm
  for d in /proc/[0-9]*; do
    { read -r comm <"$d/comm"; } 2>/dev/null || continue
    [ "$comm" = postgres ] || continue
    if pg_ours "${d#/proc/}"; then echo "${d#/proc/}"; fi
  done
  return 0
}

# Sets PG_PID and PG_PORT_RUNNING to this cluster's running postmaster, or PG_WHY to why there is
# none. pg_ctl trusts postmaster.pid's pid, which after a crash may be a zombie or reused.
pg_probe() {
  PG_PID='' PG_PORT_RUNNING='' PG_WHY=''
  local pid
  if [ ! -f "$PGDATA/postmaster.pid" ]; then PG_WHY="not running (no postmaster.pid)"; return 1; fi
  pid=$(read_pid "$PGDATA/postmaster.pid")
  if [ -z "$pid" ] || ! pg_ours "$pid"; then PG_WHY=$(stale_reason postmaster.pid "$pid"); return 1; fi
  PG_PID=$pid
  PG_PORT_RUNNING=$(sed -n 4p "$PGDATA/postmaster.pid")
}

# After a crash the postmaster refuses to start while postmaster.pid or the socket's lock file
# names a live pid (a zombie or a reused one counts), or while a backend that outlived its
# postmaster still holds the shared memory. Called only when no postmaster of ours runs; removes
# only lock files whose pid is not a process of this cluster.
pg_recover() {
  local bin pids pid
  bin=$(pg_bindir)
  pids=$(pg_cluster_pids)
  for pid in $pids; do
    if [[ "$(cmdline "$pid")" == "$bin/postgres "* ]]; then
      die "a postmaster of $PGDATA (pid $pid) runs, but postmaster.pid does not name it; stop it (kill -INT $pid) and run $FIX_START"
    fi
  done
  # Backends notice their postmaster's death and exit, unless busy in a long query.
  for _ in $(seq 1 20); do
    [ -n "$pids" ] || break
    sleep 0.25
    pids=$(pg_cluster_pids)
  done
  if [ -n "$pids" ]; then
    say "postgres: ending server processes left by the dead postmaster: $(echo "$pids" | paste -sd' ' -)"
    # shellcheck disable=SC2086 # one pid a word
    kill -9 $pids 2>/dev/null || true
    for _ in $(seq 1 20); do [ -n "$(pg_cluster_pids)" ] || break; sleep 0.25; done
  fi
  rm -f "$PGDATA/postmaster.pid"
  pg_clean_sockets
}

pg_clean_sockets() {
  local lock
  for lock in "$RUN"/.s.PGSQL.*.lock; do
    [ -f "$lock" ] || continue
    pg_ours "$(read_pid "$lock")" || rm -f "$lock" "${lock%.lock}"
  done
}

psql_admin() {
  "$(pg_bindir)/psql" -X -h "$RUN" -p "$LAKEHOUSE_PG_PORT" -U "$LAKEHOUSE_PG_USER" -d postgres "$@"
}

# Over TCP, as the code connects: the socket in $RUN could only ever reach our own server.
psql_tcp() {
  PGPASSWORD="$LAKEHOUSE_PG_PASSWORD" PGCONNECT_TIMEOUT=3 "$(pg_bindir)/psql" -X -w -h 127.0.0.1 \
    -p "$LAKEHOUSE_PG_PORT" -U "$LAKEHOUSE_PG_USER" -d postgres "$@"
}

start_postgres() {
  install_postgres
  local bin recovered=''; bin=$(pg_bindir)
  mkdir -p "$PGDATA" "$RUN" "$LOG"
  grant_traverse
  if [ "$(id -u)" = 0 ]; then chown postgres "$PGDATA" "$RUN" "$LOG"; chmod 0700 "$PGDATA"; fi
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    say "initialising PostgreSQL cluster in $PGDATA"
    local pwfile; pwfile=$(mktemp); echo "$LAKEHOUSE_PG_PASSWORD" >"$pwfile"; chmod 0644 "$pwfile"
    as_pg "$bin/initdb" -D "$PGDATA" -U "$LAKEHOUSE_PG_USER" --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$LOG/initdb.log"
    rm -f "$pwfile"
  fi
  if pg_probe; then
    [ "$PG_PORT_RUNNING" = "$LAKEHOUSE_PG_PORT" ] ||
      die "this stack's PostgreSQL (pid $PG_PID) runs on port $PG_PORT_RUNNING, not LAKEHOUSE_PG_PORT=$LAKEHOUSE_PG_PORT; run $FIX_RESTART to move it"
  else
    if [ -f "$PGDATA/postmaster.pid" ]; then recovered=$PG_WHY; fi
    pg_recover
    if port_open "$LAKEHOUSE_PG_PORT"; then
      die "127.0.0.1:$LAKEHOUSE_PG_PORT is held by another process: $(port_holder "$LAKEHOUSE_PG_PORT"); $(fix_port LAKEHOUSE_PG_PORT)"
    fi
    # 7>&-: the server must not inherit the lock that serialises start and stop.
    if ! as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$LOG/postgres.log" -w -t 60 start \
      -o "-p $LAKEHOUSE_PG_PORT -k $RUN -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
      >/dev/null 7>&-; then
      tail -n 5 "$LOG/postgres.log" >&2 || true
      die "PostgreSQL did not start; see $LOG/postgres.log"
    fi
    if [ -n "$recovered" ]; then
      say "recovered postgres: $recovered, restarted on 127.0.0.1:$LAKEHOUSE_PG_PORT"
    else
      say "PostgreSQL started on 127.0.0.1:$LAKEHOUSE_PG_PORT"
    fi
  fi
  local db
  for db in ddc ddc_production support ferretdb; do
    if ! psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
      psql_admin -qc "CREATE DATABASE $db"
    fi
  done
  # FerretDB's equality pushdown needs GIN indexes its own B-trees cannot stand in for.
  psql_admin -d ferretdb -q -v ON_ERROR_STOP=1 -f "$ROOT/tools/ferretdb/indexes.sql" >/dev/null
}

stop_postgres() {
  [ -n "$(pg_bindir)" ] && [ -f "$PGDATA/PG_VERSION" ] || return 0
  if pg_probe; then
    as_pg "$(pg_bindir)/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
    say "PostgreSQL stopped"
  elif [ -f "$PGDATA/postmaster.pid" ]; then
    # pg_ctl would signal whatever now has that pid; `start` cleans up instead.
    say "PostgreSQL was not running ($PG_WHY)"
  fi
}

status_postgres() {
  local port=$LAKEHOUSE_PG_PORT out dir
  if [ -z "$(pg_bindir)" ]; then down postgres "not installed" "$FIX_START"; return 1; fi
  if out=$(psql_tcp -tAc "SELECT current_setting('data_directory') || '|' || current_setting('server_version')" 2>/dev/null); then
    dir=${out%%|*}
    if [ "$(cd "$dir" 2>/dev/null && pwd -P)" = "$(cd "$PGDATA" 2>/dev/null && pwd -P)" ]; then
      say "postgres  up    127.0.0.1:$port (${out#*|})"
      return 0
    fi
    local ours=''
    if pg_probe; then ours=" (this stack's runs on port $PG_PORT_RUNNING)"; fi
    down postgres "127.0.0.1:$port is another PostgreSQL (data directory $dir), not this stack's ($PGDATA)$ours" \
      "$(fix_port LAKEHOUSE_PG_PORT)"
    return 1
  fi
  if pg_probe; then
    if [ "$PG_PORT_RUNNING" != "$port" ]; then
      down postgres "this stack's PostgreSQL (pid $PG_PID) runs on port $PG_PORT_RUNNING, not LAKEHOUSE_PG_PORT=$port" "$FIX_RESTART"
    else
      down postgres "pid $PG_PID runs but does not answer on 127.0.0.1:$port (starting, or see $LOG/postgres.log)" "$FIX_RESTART"
    fi
  elif port_open "$port"; then
    down postgres "$PG_WHY; 127.0.0.1:$port is held by another process: $(port_holder "$port")" "$(fix_port LAKEHOUSE_PG_PORT)"
  else
    down postgres "$PG_WHY" "$FIX_START"
  fi
  return 1
}

# ---------------------------------------------------------------------------------------------
# FerretDB v1.24.2, built from the Go module proxy by scripts/install-ferretdb.sh
# ---------------------------------------------------------------------------------------------
install_ferretdb() { ensure ferretdb; }

# The PostgreSQL backend: FerretDB's production-grade one in v1.x, on the cluster we run anyway.
ferretdb_cmd() {
  CMD=("$FERRET_BIN" --listen-addr "127.0.0.1:$LAKEHOUSE_MONGO_PORT" --handler postgresql --log-level error
    --postgresql-url "postgres://$LAKEHOUSE_PG_USER:$LAKEHOUSE_PG_PASSWORD@127.0.0.1:$LAKEHOUSE_PG_PORT/ferretdb")
}

ferretdb_health() { (cd "$ROOT" && node scripts/ping-mongo.mjs "mongodb://127.0.0.1:$LAKEHOUSE_MONGO_PORT/") 2>/dev/null; }

# GOGC=400: FerretDB decodes every document it reads into short-lived garbage, and Go's default
# (100) spent a quarter of its CPU collecting it; GOMEMLIMIT bounds the larger heap this allows
# (a reconcile's sort holds a device's history). About +17 % documents/s on variable_logs.
start_ferretdb() {
  install_ferretdb
  GOGC=400 GOMEMLIMIT=4GiB start_server ferretdb FerretDB LAKEHOUSE_MONGO_PORT
}

# ---------------------------------------------------------------------------------------------
# Python tools (moto, pyspark, pyarrow) and the Spark jars
# ---------------------------------------------------------------------------------------------
install_python() { ensure python; }
install_jars() { ensure jars; }

moto_cmd() { CMD=("$VENV/bin/moto_server" -H 127.0.0.1 -p "$LAKEHOUSE_MOTO_PORT"); }

moto_health() { curl -fsS --max-time 5 --retry 3 --retry-connrefused "http://127.0.0.1:$LAKEHOUSE_MOTO_PORT/moto-api/" >/dev/null 2>&1; }

start_moto() {
  install_python
  # The recorder (tests/support/moto-recorder.ts) writes its file here, not in the working directory.
  export MOTO_RECORDER_FILEPATH="$RUN/moto_recording"
  start_server moto moto LAKEHOUSE_MOTO_PORT
}

# ---------------------------------------------------------------------------------------------
# FerretDB and moto: started in the background, known by a pid file in $RUN
# ---------------------------------------------------------------------------------------------
# Sets SRV_PID when the pid file names this stack's server (its command line holds our binary),
# and returns 2 when that server runs with other settings than now (a port changed). Otherwise
# sets SRV_WHY, and SRV_STALE when a pid file was left behind.
srv_probe() {
  local name=$1 pid cl
  SRV_PID='' SRV_WHY='' SRV_STALE=''
  "${name}_cmd"
  if [ ! -f "$RUN/$name.pid" ]; then SRV_WHY="not running (no $name.pid)"; return 1; fi
  pid=$(read_pid "$RUN/$name.pid")
  if [ -n "$pid" ] && alive "$pid"; then
    cl=$(cmdline "$pid")
    if [[ "$cl" == *"${CMD[0]} "* ]]; then
      SRV_PID=$pid
      [[ "$cl" == *"${CMD[*]}" ]] && return 0
      SRV_WHY="this stack's $name (pid $pid) runs with other settings than now: $(echo "$cl" | mask)"
      return 2
    fi
  fi
  SRV_STALE=1
  SRV_WHY=$(stale_reason "$name.pid" "$pid")
  return 1
}

wait_port() {
  local name=$1 port=$2 pid=$3
  for _ in $(seq 1 120); do
    port_open "$port" && return 0
    alive "$pid" || { tail -n 5 "$LOG/$name.log" >&2 || true; die "$name exited during start; see $LOG/$name.log"; }
    sleep 0.25
  done
  die "$name did not open port $port within 30 s; see $LOG/$name.log"
}

start_server() {
  local name=$1 label=$2 var=$3 port=${!3} rc=0 recovered=''
  mkdir -p "$RUN" "$LOG"
  srv_probe "$name" || rc=$?
  case $rc in
    0) return 0 ;;
    2) die "$SRV_WHY; run $FIX_RESTART to restart it with $var=$port" ;;
  esac
  if [ -n "$SRV_STALE" ]; then recovered=$SRV_WHY; fi
  if port_open "$port"; then
    die "127.0.0.1:$port is held by another process: $(port_holder "$port"), not this stack's $name; $(fix_port "$var")"
  fi
  rm -f "$RUN/$name.pid"
  nohup "${CMD[@]}" >"$LOG/$name.log" 2>&1 7>&- &
  echo $! >"$RUN/$name.pid"
  wait_port "$name" "$port" "$!"
  if [ -n "$recovered" ]; then
    say "recovered $name: $recovered, restarted on 127.0.0.1:$port"
  else
    say "$label started on 127.0.0.1:$port"
  fi
}

stop_server() {
  local name=$1
  srv_probe "$name" || true
  if [ -n "$SRV_PID" ]; then
    kill "$SRV_PID" 2>/dev/null || true
    for _ in $(seq 1 40); do alive "$SRV_PID" || break; sleep 0.25; done
    if alive "$SRV_PID"; then kill -9 "$SRV_PID"; fi
    say "$name stopped"
  elif [ -n "$SRV_STALE" ]; then
    say "$name was not running ($SRV_WHY)"
  fi
  rm -f "$RUN/$name.pid"
}

status_server() {
  local name=$1 var=$2 port=${!2} rc=0 listener version
  srv_probe "$name" || rc=$?
  if [ "$rc" = 0 ]; then
    listener=$(port_pid "$port")
    if [ -n "$listener" ] && [ "$listener" != "$SRV_PID" ]; then
      down "$name" "127.0.0.1:$port is held by $(port_holder "$port"), not this stack's $name (pid $SRV_PID)" "$(fix_port "$var")"
    elif version=$("${name}_health"); then
      say "$(printf '%-9s up    127.0.0.1:%s' "$name" "$port")${version:+ ($version)}"
      return 0
    else
      down "$name" "pid $SRV_PID runs but does not answer on 127.0.0.1:$port (see $LOG/$name.log)" "$FIX_RESTART"
    fi
  elif [ "$rc" = 2 ] && port_open "$port"; then
    down "$name" "$SRV_WHY; 127.0.0.1:$port is held by $(port_holder "$port")" "$(fix_port "$var")"
  elif [ "$rc" = 2 ]; then
    down "$name" "$SRV_WHY" "$FIX_RESTART"
  elif port_open "$port"; then
    down "$name" "$SRV_WHY; 127.0.0.1:$port is held by another process: $(port_holder "$port")" "$(fix_port "$var")"
  else
    down "$name" "$SRV_WHY" "$FIX_START"
  fi
  return 1
}

# ---------------------------------------------------------------------------------------------
# Health: each check talks the server's own protocol, not just a port probe, and makes sure the
# server answering is this stack's: after a port change it may be another clone's.
# ---------------------------------------------------------------------------------------------
down() { say "$(printf '%-9s DOWN  %s; fix: %s' "$1" "$2" "$3")"; }

status() {
  local ok=0
  status_postgres || ok=1
  status_server ferretdb LAKEHOUSE_MONGO_PORT || ok=1
  status_server moto LAKEHOUSE_MOTO_PORT || ok=1
  return $ok
}

# What the stack installs (scripts/install-<name>.sh), all at once, before starting anything.
INSTALLS=(postgres ferretdb python jars)
install_all() {
  install_start "${INSTALLS[@]}"
  install_wait || die "installing failed (above)"
}

# start and stop change files in $RUN and $PGDATA: two at once (npm start beside npm test) could
# each take the other's fresh pid file for a stale one.
lock_state() {
  mkdir -p "$STATE"
  exec 7>"$STATE/stack.lock"
  if ! flock -n 7; then
    say "waiting for another start or stop of $STATE"
    flock 7
  fi
}

case "${1:-status}" in
  install) install_start "${INSTALLS[@]}"; install_wait || exit 1; install_say_fresh ;;
  start) lock_state; install_all; start_postgres; start_ferretdb; start_moto ;;
  stop) lock_state; stop_server moto; stop_server ferretdb; stop_postgres ;;
  restart) lock_state; stop_server moto; stop_server ferretdb; stop_postgres
    install_all; start_postgres; start_ferretdb; start_moto ;;
  status) status ;;
  env) { env | grep -E '^(LAKEHOUSE_|DDC_|SUPPORT_|MONGODB_|AWS_)' | grep -v '^LAKEHOUSE_STATE_DIR='
    echo "LAKEHOUSE_STATE_DIR=$STATE"; } | sort ;;
  help | -h | --help) usage ;;
  *) printf '[stack] error: unknown verb "%s"\nusage: scripts/stack.sh %s (help describes each)\n' \
    "$1" "start|stop|restart|status|install|env|help" >&2
    exit 2 ;;
esac
