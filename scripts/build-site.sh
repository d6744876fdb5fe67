#!/usr/bin/env bash
# Build static_site/dist: our pages plus config.js pointing at API_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${API_URL:?API_URL must be set}"
rm -rf static_site/dist
mkdir -p static_site/dist
cp -r static_site/src/. static_site/dist/
printf 'export const API_BASE_URL = %s;\n' "\"$API_URL\"" > static_site/dist/config.js
echo "site built in static_site/dist (API $API_URL)"
