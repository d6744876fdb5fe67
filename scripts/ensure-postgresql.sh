#!/usr/bin/env bash
# The local database runs on PostgreSQL (scripts/db.sh): install Debian's `postgresql` with apt
# when no initdb is found (root or sudo). scripts/db.sh makes its own private cluster; the
# package's default cluster, if it starts one, is not used.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; then
  exit 0
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  SUDO=(sudo)
fi
echo "installing PostgreSQL for the local database (once)..."
t0=$SECONDS
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
echo "PostgreSQL installed in $((SECONDS - t0))s: $(ls -d /usr/lib/postgresql/*/bin | tail -1)"
