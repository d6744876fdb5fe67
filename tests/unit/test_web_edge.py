"""The web framework stays at the edge: app.py and chalicelib/web.py import chalice,
no other module does (domain code takes and returns plain values)."""

import ast
from pathlib import Path

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_web_module_imports_chalice():
    importers = {p.name for p in CHALICELIB.rglob("*.py") if "chalice" in imported_modules(p)}
    assert importers == {"web.py"}
