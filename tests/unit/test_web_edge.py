"""The web framework stays at the edge: chalicelib/platform/web.py imports chalice, no
other module does, app.py included (domain code takes and returns plain values; the
routes modules declare routes with platform.web's `api`)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHALICELIB = ROOT / "chalicelib"


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_web_module_imports_chalice():
    files = [*CHALICELIB.rglob("*.py"), ROOT / "app.py"]
    importers = {p.relative_to(ROOT).as_posix() for p in files if "chalice" in imported_modules(p)}
    assert importers == {"chalicelib/platform/web.py"}
