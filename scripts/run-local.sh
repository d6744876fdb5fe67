#!/usr/bin/env bash
# `make run`: FerretDB + `chalice local` + the static pages, until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
API_PORT="${API_PORT:-8000}"
SITE_PORT="${SITE_PORT:-8080}"
export FERRETDB_PORT="${FERRETDB_PORT:-27017}"
mkdir -p .data
chmod 700 .data

# A per-machine signing secret, made once and kept out of git (.data/ is ignored).
[[ -s .data/jwt_secret ]] || $PY -c "import secrets; print(secrets.token_urlsafe(48))" > .data/jwt_secret
export JWT_SECRET="$(cat .data/jwt_secret)"
export MONGO_URI="${MONGO_URI:-mongodb://127.0.0.1:$FERRETDB_PORT/}"
export PUBLIC_SITE_URL="${PUBLIC_SITE_URL:-http://127.0.0.1:$SITE_PORT}"
export CORS_ORIGIN="${CORS_ORIGIN:-http://127.0.0.1:$SITE_PORT}"

scripts/ferretdb.sh start
$PY -m chalicelib.manage init-db
API_URL="http://127.0.0.1:$API_PORT" scripts/build-site.sh

cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; scripts/ferretdb.sh stop; }
trap cleanup EXIT INT TERM
PIDS=()
.venv/bin/chalice local --host 127.0.0.1 --port "$API_PORT" --stage local &
PIDS+=($!)
$PY -m http.server "$SITE_PORT" --bind 127.0.0.1 --directory static_site/dist >/dev/null 2>&1 &
PIDS+=($!)
sleep 1
cat <<MSG

  API            http://127.0.0.1:$API_PORT   (health: /health, spec: /openapi.json)
  Seller page    http://127.0.0.1:$SITE_PORT/index.html
  Buyer page     http://127.0.0.1:$SITE_PORT/track.html#<token>
  Data           .data/ferretdb (kept across restarts)

  Ctrl-C stops everything.
MSG
wait
