#!/usr/bin/env bash
# Build static_site/dist from static_site/src:
#   API_URL=<url> scripts/build-site.sh       (SITE_DIST=<dir> builds elsewhere, e.g. for tests)
#   scripts/build-site.sh --deps               (only `npm ci` if needed; `make install` uses it)
# - HTML pages and config.js (exporting API_BASE_URL) stay at stable, unhashed names;
# - js/constants.js is generated from the server's definitions (chalicelib/site_constants.py);
# - our JS/CSS and the npm-installed Bootstrap/Chart.js/Tom Select go into assets/<content-hash>/,
#   so the deploy step can serve that directory with a one-year immutable cache.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm ci only when node_modules is missing or was installed from another package-lock.json;
# --prefer-offline: what npm's cache has (the lock pins exact versions and their hashes) is
# not asked of the registry again, the rest is downloaded.
lock_sum=$(sha256sum package-lock.json | cut -c1-16)
if [[ ! -f node_modules/.lock-sum || "$(cat node_modules/.lock-sum)" != "$lock_sum" ]]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error --prefer-offline
  echo "$lock_sum" > node_modules/.lock-sum
fi
[[ "${1:-}" == "--deps" ]] && exit 0
: "${API_URL:?API_URL must be set}"

SRC=static_site/src
DIST="${SITE_DIST:-static_site/dist}"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

mkdir -p "$STAGE/js" "$STAGE/css" "$STAGE/vendor"
cp -R "$SRC"/js/. "$STAGE/js/"
# The statuses, methods and carriers the pages offer, from the server's own definitions.
PY=.venv/bin/python; [[ -x "$PY" ]] || PY=python3
"$PY" -m chalicelib.site_constants > "$STAGE/js/constants.js"
cp "$SRC"/css/*.css "$STAGE/css/"
cp node_modules/bootstrap/dist/css/bootstrap.min.css "$STAGE/vendor/"
cp node_modules/chart.js/dist/chart.umd.min.js "$STAGE/vendor/"
# The buyer pickers (js/buyer-picker.js): Tom Select's UMD build sets window.TomSelect.
cp node_modules/tom-select/dist/js/tom-select.base.min.js{,.map} node_modules/tom-select/dist/css/tom-select.bootstrap5.min.css{,.map} "$STAGE/vendor/"
cp node_modules/tom-select/LICENSE "$STAGE/vendor/tom-select.LICENSE"
cp node_modules/bootstrap/LICENSE "$STAGE/vendor/bootstrap.LICENSE"
cp node_modules/chart.js/LICENSE.md "$STAGE/vendor/chart.js.LICENSE.md"

hash=$(cd "$STAGE" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-10)

rm -rf "$DIST"
mkdir -p "$DIST/assets"
mv "$STAGE" "$DIST/assets/$hash"
chmod 755 "$DIST/assets/$hash"
# The pages without their comments (HTML, and CSS in <style>): notes for us, bytes for a
# buyer's first load (the form's budget, tests/e2e/test_forms_page.py). Scripts untouched
# (the import maps' CSP hashes are of the source's).
for page in "$SRC"/*.html; do
  ASSETS="assets/$hash" python3 -c '
import os, re, sys
html = open(sys.argv[1], encoding="utf-8").read().replace("__ASSETS__", os.environ["ASSETS"])
html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
def style(m):
    css = re.sub(r"^[ \t]*/\*(?:(?!\*/).)*\*/[ \t]*\n", "", m.group(0), flags=re.S | re.M)
    return re.sub(r"[ \t]*/\*.*?\*/", "", css, flags=re.S)
sys.stdout.write(re.sub(r"<style>.*?</style>", style, html, flags=re.S))
' "$page" > "$DIST/$(basename "$page")"
done
# JSON-encode the URL so a quote in it cannot break the module.
API_URL="$API_URL" python3 -c 'import json, os; print("export const API_BASE_URL = %s;" % json.dumps(os.environ["API_URL"].rstrip("/")))' > "$DIST/config.js"
echo "site built in $DIST (assets/$hash, API $API_URL)"
