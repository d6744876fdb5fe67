#!/usr/bin/env bash
# The local database: FerretDB 1.24 (tools/ferretdb/) on a private PostgreSQL 15 cluster.
#   scripts/db.sh build|start|stop|stop-postgresql|wait|status|indexes|psql [psql args]
#     build    compile the FerretDB launcher into .cache/bin/ (once; again when its sources change)
#     start    create the cluster on first use, start PostgreSQL and FerretDB, wait for a ping
#     stop     stop FerretDB and PostgreSQL (data stays)
#     stop-postgresql  stop only PostgreSQL, FerretDB stays up (what an outage of the
#              backend looks like to the app: docs/ferretdb.md); `start` brings it back
#     wait     wait until FerretDB answers a ping
#     status   "running" when both are up, else "stopped"
#     indexes  add the local GIN indexes that serve FerretDB's pushed-down filters
#              (scripts/pg-indexes.sql; run after `python -m chalicelib.manage init-db`)
#     psql     a psql shell on the cluster (database ferretdb; a MongoDB database is a schema)
# Env: DB_PORT (FerretDB's MongoDB-wire port on 127.0.0.1, default 27017; FERRETDB_PORT is
#      an alias), DB_DATA (the PostgreSQL cluster, default $DATA_DIR/pg, DATA_DIR default .data).
# PostgreSQL listens on no TCP port: only on a unix socket inside DB_DATA, with trust auth for
# local connections and nothing else in pg_hba.conf. As root, the cluster is created and run
# by the `postgres` OS user (PostgreSQL refuses root), and DB_DATA's parent folders are made
# traversable (o+x, not readable) for it. FerretDB's log: $DB_DATA.ferretdb.log.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN="$ROOT/.cache/bin/ferretdb-local"
PORT="${DB_PORT:-${FERRETDB_PORT:-27017}}"
DATA_DIR="${DATA_DIR:-$ROOT/.data}"
DATA="${DB_DATA:-$DATA_DIR/pg}"
mkdir -p "$(dirname "$DATA")"
DATA="$(cd "$(dirname "$DATA")" && pwd)/$(basename "$DATA")"
LOG="$DATA.ferretdb.log"
PIDFILE="$DATA.ferretdb.pid"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
PG_USER=postgres # the cluster's superuser name (trust over the socket only)

build() {
  # Rebuild only when the launcher's sources changed (cached by content hash).
  local stamp="$ROOT/.cache/bin/ferretdb-local.sum"
  local sum
  sum=$(cat tools/ferretdb/go.mod tools/ferretdb/go.sum tools/ferretdb/main.go | sha256sum | cut -d' ' -f1)
  if [[ -x "$BIN" && -f "$stamp" && "$(cat "$stamp")" == "$sum" ]]; then
    return 0
  fi
  echo "building FerretDB 1.24 launcher with $(go version | cut -d' ' -f3) (first time takes about a minute)..."
  mkdir -p "$ROOT/.cache/bin"
  (cd tools/ferretdb && go build -trimpath -o "$BIN" .)
  echo "$sum" >"$stamp"
}

pg_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$dir/initdb" ]] && { echo "$dir"; return; }
  done
  if command -v initdb >/dev/null; then
    dirname "$(command -v initdb)"
    return
  fi
  echo "PostgreSQL is not installed: run \`make install\` (scripts/ensure-postgresql.sh)" >&2
  exit 1
}

# Run a PostgreSQL server tool as the cluster's owner: `postgres` when we are root.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

pg_running() {
  [[ -f "$DATA/PG_VERSION" ]] && as_owner "$(pg_bin)/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

ferretdb_running() {
  [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

traversable_for_postgres() {
  local dir
  dir=$(dirname "$DATA")
  while [[ "$dir" != / ]]; do
    if (((8#$(stat -c %a "$dir") & 1) == 0)); then
      chmod o+x "$dir"
    fi
    dir=$(dirname "$dir")
  done
}

init_cluster() {
  local bin=$1
  local t0=$SECONDS
  mkdir -p "$DATA"
  chmod 700 "$DATA"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$DATA"
  fi
  # C locale and UTF8: the only combination FerretDB accepts besides en_US.UTF8.
  if ! out=$(as_owner "$bin/initdb" -D "$DATA" -U "$PG_USER" -E UTF8 --locale=C \
    --auth-local=trust --auth-host=reject 2>&1); then
    echo "$out" >&2
    exit 1
  fi
  # Local (unix socket) connections only; there is no TCP listener at all (listen_addresses).
  as_owner tee "$DATA/pg_hba.conf" >/dev/null <<'EOF'
# scripts/db.sh: the socket in this folder only, no TCP.
local all all trust
EOF
  as_owner tee -a "$DATA/postgresql.conf" >/dev/null <<'EOF'

# --- scripts/db.sh (local development and tests only) ---
listen_addresses = ''
# Commits return before the WAL is flushed: a crash may lose the last moments, never corrupts.
synchronous_commit = off
# FerretDB sends `_jsonb -> $1 @> $2` with the field name as a parameter; only a plan made for
# the actual values can match the expression indexes of scripts/pg-indexes.sql.
plan_cache_mode = force_custom_plan
logging_collector = off
# Unique violations (lock documents, retries) are normal here: keep them out of the log.
log_min_messages = fatal
EOF
  CREATED_IN=$((SECONDS - t0))
}

start_pg() {
  local bin
  bin=$(pg_bin)
  if [[ $(id -u) -eq 0 ]]; then
    traversable_for_postgres
  fi
  CREATED_IN=""
  if [[ ! -f "$DATA/PG_VERSION" ]]; then
    init_cluster "$bin"
  fi
  if ! pg_running; then
    # -k: the socket lives in the data folder (a path, so nothing else can take it).
    if ! as_owner "$bin/pg_ctl" start -w -s -t 60 -D "$DATA" -l "$DATA/postgresql.log" \
      -o "-k '$DATA' -c listen_addresses=''" >/dev/null; then
      echo "PostgreSQL did not start; its log: $DATA/postgresql.log" >&2
      tail -n 20 "$DATA/postgresql.log" >&2 || true
      exit 1
    fi
  fi
  if [[ -z "$("$bin/psql" -h "$DATA" -U "$PG_USER" -d postgres -XtAc "SELECT 1 FROM pg_database WHERE datname = 'ferretdb'")" ]]; then
    "$bin/psql" -h "$DATA" -U "$PG_USER" -d postgres -Xq -c "CREATE DATABASE ferretdb" >/dev/null
  fi
  if [[ -n "$CREATED_IN" ]]; then
    echo "PostgreSQL: new local cluster in $DATA (created in ${CREATED_IN}s)"
  fi
}

pg_url() {
  local host
  host=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$DATA")
  echo "postgres://$PG_USER@/ferretdb?host=$host&sslmode=disable"
}

wait_ready() {
  local pid=${1:-}
  [[ -n "$pid" ]] || pid=$(cat "$PIDFILE" 2>/dev/null || echo 0)
  "$PY" - "$PORT" "$LOG" "$pid" <<'PYEOF'
import os, sys, time
import pymongo
port, log, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
deadline = time.time() + 30
while True:
    try:
        pymongo.MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=500).admin.command("ping")
        break
    except Exception as exc:
        alive = True
        if pid:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                alive = False
        if time.time() > deadline or not alive:
            tail = open(log, errors="replace").read()[-1500:] if os.path.exists(log) else ""
            sys.exit(f"FerretDB did not answer ping on port {port}: {exc}\n{log}:\n{tail}")
        time.sleep(0.1)
PYEOF
}

start() {
  build
  start_pg
  local started=""
  if ! ferretdb_running; then
    "$BIN" --listen-addr="127.0.0.1:$PORT" --handler=postgresql --postgresql-url="$(pg_url)" \
      --log-level=warn >>"$LOG" 2>&1 &
    started=$!
    echo "$started" >"$PIDFILE"
  fi
  if ! wait_ready "$started"; then
    # Leave nothing half-started behind (PostgreSQL stays up: `stop` ends it).
    if [[ -n "$started" ]]; then
      kill "$started" 2>/dev/null || true
      rm -f "$PIDFILE"
    fi
    exit 1
  fi
  echo "FerretDB is up on 127.0.0.1:$PORT (PostgreSQL $("$(pg_bin)/postgres" --version | awk '{print $3}'), data in $DATA)"
}

stop() {
  if [[ -f "$PIDFILE" ]]; then
    local pid
    pid=$(cat "$PIDFILE")
    kill "$pid" 2>/dev/null || true
    # Wait (up to 10 s) so that a restart right after finds the port free.
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$PIDFILE"
  fi
  if pg_running; then
    as_owner "$(pg_bin)/pg_ctl" stop -s -w -t 60 -m fast -D "$DATA" >/dev/null
  fi
  echo "FerretDB and PostgreSQL stopped"
}

stop_postgresql() {
  if pg_running; then
    as_owner "$(pg_bin)/pg_ctl" stop -s -w -t 60 -m fast -D "$DATA" >/dev/null
  fi
  echo "PostgreSQL stopped (FerretDB left running)"
}

indexes() {
  "$(pg_bin)/psql" -h "$DATA" -U "$PG_USER" -d ferretdb -Xq -v ON_ERROR_STOP=1 -f scripts/pg-indexes.sql
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  wait) wait_ready ;;
  stop) stop ;;
  stop-postgresql) stop_postgresql ;;
  status) ferretdb_running && pg_running && echo running || echo stopped ;;
  indexes) indexes ;;
  psql) shift; exec "$(pg_bin)/psql" -h "$DATA" -U "$PG_USER" -d ferretdb "$@" ;;
  *) echo "usage: $0 build|start|stop|stop-postgresql|wait|status|indexes|psql" >&2; exit 2 ;;
esac
