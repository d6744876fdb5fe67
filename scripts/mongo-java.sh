#!/usr/bin/env bash
# Build, start, wait for and stop mongo-java-server, the MongoDB-semantics test server
# (tools/mongo-java-server/, docs/ferretdb.md "Test lanes"). In memory: nothing on disk.
#   scripts/mongo-java.sh build|start|wait|stop|status
# Env: MONGO_JAVA_PORT (27019), MONGO_JAVA_LOG (.data/mongo-java.log)
# The build needs java 17+ and Maven (Debian: apt-get install maven default-jdk-headless,
# done here when missing and root or sudo are available); Maven's downloads go to .cache/m2.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JAR="$ROOT/.cache/bin/mongo-java-server.jar"
PORT="${MONGO_JAVA_PORT:-27019}"
LOG="${MONGO_JAVA_LOG:-$ROOT/.data/mongo-java.log}"
PIDFILE="$ROOT/.data/mongo-java-$PORT.pid"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
SRC=tools/mongo-java-server

ensure_tools() {
  command -v mvn >/dev/null && command -v java >/dev/null && return 0
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo -n"
  echo "installing maven and a JDK with apt-get (for the mongo-java-server test lane)..."
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven default-jdk-headless >/dev/null
}

build() {
  # Rebuild only when the launcher's sources changed (cached by content hash).
  local stamp="$JAR.sum"
  local sum
  sum=$(cat "$SRC/pom.xml" "$SRC/MongoJavaServer.java" | sha256sum | cut -d' ' -f1)
  if [[ -f "$JAR" && -f "$stamp" && "$(cat "$stamp")" == "$sum" ]]; then
    return 0
  fi
  ensure_tools
  echo "building the mongo-java-server 1.47.0 launcher with Maven (first time fetches from Maven Central)..."
  mkdir -p "$ROOT/.cache/bin"
  # Maven 3.8 writes "\e[0m" resets even with -B and style.color=never: strip them (pipefail
  # keeps its exit status).
  mvn -q -B -Dstyle.color=never -f "$SRC/pom.xml" -Dmaven.repo.local="$ROOT/.cache/m2" \
    -Dlauncher.buildDir="$ROOT/.cache/mongo-java-server" package 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g'
  cp "$ROOT/.cache/mongo-java-server/mongo-java-server-launcher-1.jar" "$JAR"
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
            sys.exit(f"mongo-java-server did not answer ping on port {port}: {exc}")
        time.sleep(0.2)
print(f"mongo-java-server is up on 127.0.0.1:{port}")
PYEOF
}

start() {
  build
  if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "mongo-java-server already running (pid $(cat "$PIDFILE"))"
  else
    mkdir -p "$(dirname "$LOG")" "$(dirname "$PIDFILE")"
    java -jar "$JAR" --listen-addr="127.0.0.1:$PORT" >>"$LOG" 2>&1 &
    echo $! > "$PIDFILE"
  fi
  wait_ready
}

stop() {
  if [[ -f "$PIDFILE" ]]; then
    local pid
    pid=$(cat "$PIDFILE")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$PIDFILE"
    echo "mongo-java-server stopped"
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
