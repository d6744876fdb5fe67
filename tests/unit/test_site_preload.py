"""The seller page asks for every module of its first screen at once (issue 27, "Speed on the
local default"): each module `seller.js` imports, however deep, is a `modulepreload` of
index.html, so the browser does not discover them one level of imports at a time (three
round trips before GET /orders could leave)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "static_site" / "src"
IMPORT = re.compile(r'^\s*import\s+(?:[^"\']*?\s+from\s+)?["\']([^"\']+)["\'];?', re.MULTILINE)


def static_imports(entry: Path) -> set[str]:
    """Paths (relative to src/) of the modules `entry` imports statically, transitively;
    `app-config` is the import map's name for /config.js."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        module = todo.pop()
        for spec in IMPORT.findall(module.read_text(encoding="utf-8")):
            if spec == "app-config":
                seen.add("config.js")
                continue
            target = (module.parent / spec).resolve()
            name = target.relative_to(SRC).as_posix()
            if name not in seen:
                seen.add(name)
                if target.exists():  # js/constants.js is written by scripts/build-site.sh
                    todo.append(target)
    return seen


def test_every_module_of_the_first_screen_is_preloaded():
    html = (SRC / "index.html").read_text(encoding="utf-8")
    preloaded = {
        href.replace("__ASSETS__/", "").removeprefix("./")
        for href in re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)
    }
    wanted = static_imports(SRC / "js" / "seller.js")
    assert "js/views/orders.js" in wanted and "config.js" in wanted  # the reader follows imports
    assert sorted(wanted - preloaded) == []
    assert sorted(preloaded - wanted - {"js/seller.js"}) == []  # no preload of what is not used
