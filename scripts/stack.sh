#!/usr/bin/env bash
# Local stack: PostgreSQL, FerretDB (MongoDB wire protocol) and moto (AWS APIs) on loopback, with
# their data under .local/. Usage: scripts/stack.sh install|start|stop|status
# Every verb is idempotent: `start` installs what is missing and leaves running servers alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/stack.env
source "$ROOT/scripts/stack.env"

LOCAL="$ROOT/.local"
RUN="$LOCAL/run"
LOG="$LOCAL/log"
PGDATA="$LOCAL/data/pg"
FERRET_BIN="$LOCAL/bin/ferretdb"
VENV="$LOCAL/venv"

say() { printf '[stack] %s\n' "$*"; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------
pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

install_postgres() {
  if [ -z "$(pg_bindir)" ]; then
    say "installing PostgreSQL from Debian packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
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
  local d="$LOCAL"
  while [ "$d" != "/" ]; do
    if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
      chmod o+x "$d"
      say "granted traverse on $d to the postgres user"
    fi
    d=$(dirname "$d")
  done
}

pg_running() { as_pg "$(pg_bindir)/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

start_postgres() {
  install_postgres
  local bin; bin=$(pg_bindir)
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
  if ! pg_running; then
    as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$LOG/postgres.log" -w -t 60 start \
      -o "-p $LAKEHOUSE_PG_PORT -k $RUN -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
      >/dev/null
    say "PostgreSQL started on 127.0.0.1:$LAKEHOUSE_PG_PORT"
  fi
  local db
  for db in ddc ddc_production support ferretdb; do
    if ! psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
      psql_admin -qc "CREATE DATABASE $db"
    fi
  done
}

psql_admin() {
  "$(pg_bindir)/psql" -X -h "$RUN" -p "$LAKEHOUSE_PG_PORT" -U "$LAKEHOUSE_PG_USER" -d postgres "$@"
}

stop_postgres() {
  [ -n "$(pg_bindir)" ] && [ -f "$PGDATA/PG_VERSION" ] || return 0
  if pg_running; then as_pg "$(pg_bindir)/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null; say "PostgreSQL stopped"; fi
}

# ---------------------------------------------------------------------------------------------
# FerretDB v1.24.2, built from the Go module proxy (see tools/ferretdb/main.go for why a local main)
# ---------------------------------------------------------------------------------------------
install_ferretdb() {
  local stamp="$LOCAL/bin/.ferretdb.sha256" want
  want=$(cat "$ROOT/tools/ferretdb/go.mod" "$ROOT/tools/ferretdb/go.sum" "$ROOT/tools/ferretdb/main.go" | sha256sum | cut -d' ' -f1)
  if [ -x "$FERRET_BIN" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  command -v go >/dev/null || die "go is required to build FerretDB"
  say "building FerretDB v1.24.2 (first time only, about 90 s)"
  mkdir -p "$LOCAL/bin"
  (cd "$ROOT/tools/ferretdb" &&
    GOMODCACHE="$LOCAL/cache/go-mod" GOCACHE="$LOCAL/cache/go-build" GOFLAGS=-mod=mod \
      go build -o "$FERRET_BIN" .)
  echo "$want" >"$stamp"
}

pid_alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2 i
  for i in $(seq 1 120); do
    port_open "$port" && return 0
    pid_alive "$name" || die "$name exited during start; see $LOG/$name.log"
    sleep 0.25
  done
  die "$name did not open port $port within 30 s; see $LOG/$name.log"
}

start_ferretdb() {
  install_ferretdb
  mkdir -p "$RUN" "$LOG"
  if pid_alive ferretdb; then return 0; fi
  port_open "$LAKEHOUSE_MONGO_PORT" && die "port $LAKEHOUSE_MONGO_PORT is taken by another process"
  # The PostgreSQL backend: FerretDB's production-grade one in v1.x, on the cluster we run anyway.
  nohup "$FERRET_BIN" --listen-addr "127.0.0.1:$LAKEHOUSE_MONGO_PORT" --handler postgresql --log-level error \
    --postgresql-url "postgres://$LAKEHOUSE_PG_USER:$LAKEHOUSE_PG_PASSWORD@127.0.0.1:$LAKEHOUSE_PG_PORT/ferretdb" \
    >"$LOG/ferretdb.log" 2>&1 &
  echo $! >"$RUN/ferretdb.pid"
  wait_port ferretdb "$LAKEHOUSE_MONGO_PORT"
  say "FerretDB started on 127.0.0.1:$LAKEHOUSE_MONGO_PORT"
}

# ---------------------------------------------------------------------------------------------
# Python tools (moto, pyspark, pyarrow) and the Spark jars
# ---------------------------------------------------------------------------------------------
install_python() { bash "$ROOT/scripts/install-python.sh"; }
install_jars() { bash "$ROOT/scripts/install-jars.sh"; }

start_moto() {
  install_python
  mkdir -p "$RUN" "$LOG"
  if pid_alive moto; then return 0; fi
  port_open "$LAKEHOUSE_MOTO_PORT" && die "port $LAKEHOUSE_MOTO_PORT is taken by another process"
  # The recorder (tests/support/moto-recorder.ts) writes its file here, not in the working directory.
  MOTO_RECORDER_FILEPATH="$RUN/moto_recording" nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$LAKEHOUSE_MOTO_PORT" >"$LOG/moto.log" 2>&1 &
  echo $! >"$RUN/moto.pid"
  wait_port moto "$LAKEHOUSE_MOTO_PORT"
  say "moto started on 127.0.0.1:$LAKEHOUSE_MOTO_PORT"
}

stop_pid() {
  local name=$1 i
  if pid_alive "$name"; then
    kill "$(cat "$RUN/$name.pid")"
    for i in $(seq 1 40); do pid_alive "$name" || break; sleep 0.25; done
    pid_alive "$name" && kill -9 "$(cat "$RUN/$name.pid")"
    say "$name stopped"
  fi
  rm -f "$RUN/$name.pid"
}

# ---------------------------------------------------------------------------------------------
# Health: each check talks the server's own protocol, not just a port probe.
# ---------------------------------------------------------------------------------------------
status() {
  local ok=0
  if [ -n "$(pg_bindir)" ] && "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$LAKEHOUSE_PG_PORT"; then
    say "postgres  up    127.0.0.1:$LAKEHOUSE_PG_PORT ($(psql_admin -tAc 'SHOW server_version'))"
  else
    say "postgres  DOWN"; ok=1
  fi
  if pid_alive ferretdb && (cd "$ROOT" && node scripts/ping-mongo.mjs "$MONGODB_URL") >/dev/null 2>&1; then
    say "ferretdb  up    $MONGODB_URL ($(cd "$ROOT" && node scripts/ping-mongo.mjs "$MONGODB_URL"))"
  else
    say "ferretdb  DOWN"; ok=1
  fi
  if pid_alive moto && curl -fsS --max-time 5 --retry 3 --retry-connrefused "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1; then
    say "moto      up    $AWS_ENDPOINT_URL"
  else
    say "moto      DOWN"; ok=1
  fi
  return $ok
}

case "${1:-status}" in
  install) install_postgres; install_ferretdb; install_python; install_jars ;;
  start) start_postgres; start_ferretdb; start_moto; install_jars ;;
  stop) stop_pid moto; stop_pid ferretdb; stop_postgres ;;
  status) status ;;
  env) env | grep -E '^(LAKEHOUSE_|DDC_|SUPPORT_|MONGODB_|AWS_)' | sort ;;
  *) die "usage: scripts/stack.sh install|start|stop|status|env" ;;
esac
