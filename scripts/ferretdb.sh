#!/usr/bin/env bash
# Build, start, wait for and stop the local FerretDB (SQLite backend, loopback only).
#   scripts/ferretdb.sh build|start|wait|stop|status
# Env: FERRETDB_PORT (27017), FERRETDB_DATA (.data/ferretdb), FERRETDB_LOG (.data/ferretdb.log)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN="$ROOT/.cache/bin/ferretdb-local"
PORT="${FERRETDB_PORT:-27017}"
DATA="${FERRETDB_DATA:-$ROOT/.data/ferretdb}"
LOG="${FERRETDB_LOG:-$ROOT/.data/ferretdb.log}"
PIDFILE="$DATA.pid"
PY="${PYTHON:-$ROOT/.venv/bin/python}"

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
  echo "$sum" > "$stamp"
}

wait_ready() {
  "$PY" - "$PORT" <<'PYEOF'
import sys, time
import pymongo
port = int(sys.argv[1])
deadline = time.time() + 30
while True:
    try:
        pymongo.MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=500).admin.command("ping")
        break
    except Exception as exc:
        if time.time() > deadline:
            sys.exit(f"FerretDB did not answer ping on port {port}: {exc}")
        time.sleep(0.2)
print(f"FerretDB is up on 127.0.0.1:{port}")
PYEOF
}

start() {
  build
  if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "FerretDB already running (pid $(cat "$PIDFILE"))"
  else
    mkdir -p "$DATA" "$(dirname "$LOG")"
    "$BIN" --listen-addr="127.0.0.1:$PORT" --data-dir="$DATA" --log-level=warn >>"$LOG" 2>&1 &
    echo $! > "$PIDFILE"
  fi
  wait_ready
}

stop() {
  if [[ -f "$PIDFILE" ]]; then
    local pid
    pid=$(cat "$PIDFILE")
    kill "$pid" 2>/dev/null || true
    # Wait (up to 10 s) so that a restart right after finds the port and files free.
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$PIDFILE"
    echo "FerretDB stopped"
  fi
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  wait) wait_ready ;;
  stop) stop ;;
  status) [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && echo running || echo stopped ;;
  *) echo "usage: $0 build|start|wait|stop|status" >&2; exit 2 ;;
esac
