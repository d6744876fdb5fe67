#!/usr/bin/env bash
# `make run` / `make dev`: the database, the API and the static pages, until Ctrl-C or SIGTERM.
#   scripts/run-local.sh          serve; the API never restarts by itself (`make run`)
#   scripts/run-local.sh --dev    restart the API when app.py or chalicelib/**/*.py change (`make dev`)
# Env: API_PORT (8000), SITE_PORT (8080), DB_PORT (27017; FERRETDB_PORT is an alias),
#      DATA_DIR (.data: the local JWT secret, the PostgreSQL cluster DB_DATA=$DATA_DIR/pg,
#      FerretDB's log, the page build's build-site.log, the mail outbox
#      MAIL_OUTBOX=$DATA_DIR/outbox and item photos BLOB_DIR=$DATA_DIR/blobs), SITE_DIST
#      (static_site/dist); MONGO_URI, MONGO_DB etc. as in docs/api.md.
# The database is scripts/db.sh (FerretDB on a private PostgreSQL cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
MODE=run
case "${1:-}" in
  "") ;;
  --dev) MODE=dev ;;
  *) echo "usage: $0 [--dev]" >&2; exit 2 ;;
esac

API_PORT="${API_PORT:-8000}"
SITE_PORT="${SITE_PORT:-8080}"
export DB_PORT="${DB_PORT:-${FERRETDB_PORT:-27017}}"
unset FERRETDB_PORT
DATA_DIR="${DATA_DIR:-.data}"
mkdir -p "$DATA_DIR"
chmod 700 "$DATA_DIR"
DATA_DIR="$(cd "$DATA_DIR" && pwd)"
export DATA_DIR
export DB_DATA="${DB_DATA:-$DATA_DIR/pg}"
export SITE_DIST="${SITE_DIST:-static_site/dist}"
# Log lines (chalice's "Serving on", request lines) show up at once, also when piped.
export PYTHONUNBUFFERED=1

# A port in use would otherwise surface later as a traceback (or, for the database port, as
# someone else's server answering our pings).
db_running=$(scripts/db.sh status)
"$PY" - "API_PORT=$API_PORT" "SITE_PORT=$SITE_PORT" "DB_PORT=$DB_PORT:$db_running" <<'PYEOF'
import socket, sys
busy = []
for arg in sys.argv[1:]:
    name, _, value = arg.partition("=")
    port, _, state = value.partition(":")
    if state == "running":
        continue  # our own FerretDB from an earlier run: scripts/db.sh reuses it
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", int(port))) == 0:
            busy.append(f"{name}={port}")
if busy:
    sys.exit(
        f"Port(s) already in use: {', '.join(busy)}. Is another `make run` going? "
        f"Stop it, or pick free ports, e.g. `make run API_PORT=8001 SITE_PORT=8081 DB_PORT=27018`."
    )
PYEOF

# A per-machine signing secret, made once and kept out of git (.data/ is ignored).
[[ -s "$DATA_DIR/jwt_secret" ]] || (umask 077 && "$PY" -c "import secrets; print(secrets.token_urlsafe(48))" > "$DATA_DIR/jwt_secret")
export JWT_SECRET="$(cat "$DATA_DIR/jwt_secret")"
export MONGO_URI="${MONGO_URI:-mongodb://127.0.0.1:$DB_PORT/}"
export PUBLIC_SITE_URL="${PUBLIC_SITE_URL:-http://127.0.0.1:$SITE_PORT}"
export CORS_ORIGIN="${CORS_ORIGIN:-http://127.0.0.1:$SITE_PORT}"
# No SES here: mail is written to this folder (chalicelib/platform/outbox.py), which the page
# server shows at /outbox/. No deployed stage sets it (a Lambda refuses to start with it).
export MAIL_OUTBOX="${MAIL_OUTBOX:-$DATA_DIR/outbox}"
# Item photos (chalicelib/platform/blobs.py): files here instead of S3, uploaded to the API's
# POST /photo-uploads (which checks the form's policy as S3 would), images served by the
# page server at /media/. Kept across restarts, like the database.
export BLOB_DIR="${BLOB_DIR:-$DATA_DIR/blobs}"
export BLOB_URL="${BLOB_URL:-http://127.0.0.1:$SITE_PORT/media}"
export BLOB_UPLOAD_URL="${BLOB_UPLOAD_URL:-http://127.0.0.1:$API_PORT/photo-uploads}"
unset PHOTO_BUCKET

PIDS=()
cleanup() {
  trap - EXIT INT TERM
  if ((${#PIDS[@]})); then
    kill -TERM "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
  fi
  scripts/db.sh stop >/dev/null || true
  echo "Stopped (API, pages and database). Data is kept in $DATA_DIR."
}
# Ctrl-C is the normal way to stop: exit 0 so make does not report an error.
trap cleanup EXIT
trap 'exit 0' INT
trap 'exit 143' TERM

# The pages are built while the database starts (they do not need it); their output is shown
# only when the build fails.
site_log="$DATA_DIR/build-site.log"
API_URL="http://127.0.0.1:$API_PORT" scripts/build-site.sh >"$site_log" 2>&1 &
site_build=$!
scripts/db.sh start
"$PY" -m chalicelib.manage init-db
# Local only: PostgreSQL indexes that serve FerretDB's pushed-down filters (docs/ferretdb.md).
scripts/db.sh indexes
if ! wait "$site_build"; then
  cat "$site_log" >&2
  exit 1
fi

SERVE=(--host 127.0.0.1 --port "$API_PORT" --stage local)
if [[ $MODE == dev ]]; then
  # Restarts `chalice local --no-autoreload` when app.py or chalicelib/**/*.py change (watchfiles).
  "$PY" scripts/dev_server.py "${SERVE[@]}" &
else
  # `chalice local --no-autoreload`, without a traceback for each connection a browser drops.
  "$PY" scripts/dev_server.py --serve "${SERVE[@]}" &
fi
PIDS+=($!)
"$PY" scripts/site_server.py --port "$SITE_PORT" --dist "$SITE_DIST" --outbox "$MAIL_OUTBOX" --blobs "$BLOB_DIR" &
PIDS+=($!)
# What the scheduled Lambda does in AWS (close due order forms), every 60 s; stopped with the rest.
"$PY" -m chalicelib.manage schedule --every "${SCHEDULE_SECONDS:-60}" &
PIDS+=($!)

"$PY" - "http://127.0.0.1:$API_PORT/health" "${PIDS[0]}" <<'PYEOF'
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 60
while time.time() < deadline:
    try:
        urllib.request.urlopen(url, timeout=2).read()
        sys.exit(0)
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("The API stopped while starting (see the lines above).")
    time.sleep(0.2)
sys.exit(f"The API did not answer {url} within 60 s.")
PYEOF

if [[ $MODE == dev ]]; then
  restarts="restarts when app.py or chalicelib/**/*.py change"
else
  restarts="no auto-reload: \`make dev\` restarts on code changes"
fi
cat <<MSG

  API            http://127.0.0.1:$API_PORT   (health: /health, spec: /openapi.json; $restarts)
  Seller page    http://127.0.0.1:$SITE_PORT/index.html   (sign up there; \`make demo\` loads a sample shop)
  Buyer page     http://127.0.0.1:$SITE_PORT/track.html#<token>
  Mail outbox    http://127.0.0.1:$SITE_PORT/outbox/   (no email leaves this computer: password resets and buyer emails land here)
  Database       FerretDB on 127.0.0.1:$DB_PORT, PostgreSQL data in $DB_DATA (kept across restarts)

  Ctrl-C stops everything.

MSG

# Run until a signal, or until the API or the page server stops by itself.
set +e
wait -n "${PIDS[@]}"
rc=$?
echo "A server stopped by itself (exit $rc); stopping the rest." >&2
exit "$rc"
