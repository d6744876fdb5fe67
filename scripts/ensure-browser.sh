#!/usr/bin/env bash
# The e2e tests drive Debian's Chromium (Playwright's own browser downloads are not used):
# install it with apt only when /usr/bin/chromium is missing, plus a small CJK font when the
# machine has none (otherwise 繁體中文 screens render as empty boxes), and poppler-utils'
# pdftoppm (the packing-slip test prints the slip to PDF and looks at its first page as PNG).
set -euo pipefail
want=()
[[ -x /usr/bin/chromium ]] || want+=(chromium)
command -v pdftoppm >/dev/null || want+=(poppler-utils)
if ! command -v fc-list >/dev/null || [[ -z "$(fc-list :lang=zh-tw 2>/dev/null)" ]]; then
  want+=(fonts-wqy-microhei)
fi
if [[ ${#want[@]} -eq 0 ]]; then
  exit 0
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  SUDO=(sudo)
fi
echo "installing ${want[*]} for the browser tests (once)..."
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
/usr/bin/chromium --version
