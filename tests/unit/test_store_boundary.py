"""Issue 24: the local server's quirks live in the store (chalicelib/platform/store.py); no
domain function asks which server it runs on. A module other than the storage layer
(db.py, store.py, locks.py) that names `is_ferretdb` or `exclusive`, imports a lock
from locks.py other than the money lock `held`, or builds a lock key with an f-string
(rather than store.order_key and the like) fails here. Read with ast: a comment or docstring may still explain the quirk."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "chalicelib"
STORAGE = {"db.py", "store.py", "locks.py"}
FORBIDDEN = {"is_ferretdb", "exclusive", "FERRETDB_BULK"}
LOCK_TAKERS = {"held", "serialized", "exclusive"}  # their arguments and any `lock=` are lock keys


def server_questions(source: str) -> list[tuple[int, str]]:
    """(line, what) for each place in `source` that asks for a server quirk by name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in FORBIDDEN:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.ImportFrom):
            names = {a.name for a in node.names}
            if names & FORBIDDEN:
                found.append((node.lineno, f"import {sorted(names & FORBIDDEN)}"))
            if (node.module or "").endswith("locks") and names - {"held"}:
                found.append((node.lineno, f"from locks import {sorted(names - {'held'})}"))
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            keys = list(node.args) if name in LOCK_TAKERS else []
            keys += [k.value for k in node.keywords if k.arg == "lock"]
            for key in keys:
                found += [
                    (s.lineno, "lock key f-string") for s in ast.walk(key) if isinstance(s, ast.JoinedStr)
                ]
    return found


def test_the_check_sees_each_kind_of_question():
    source = (
        "from .db import get_db, is_ferretdb\n"
        "from .locks import exclusive, held\n"
        "def f(oid):\n"
        "    '''is_ferretdb() in a docstring is fine'''\n"
        "    # exclusive( in a comment too\n"
        "    if db.is_ferretdb():\n"
        "        pass\n"
        "    with exclusive(f'orders:{oid}'):\n"
        "        pass\n"
    )
    whats = [what for _, what in server_questions(source)]
    assert "import ['is_ferretdb']" in whats
    assert "from locks import ['exclusive']" in whats
    assert whats.count("is_ferretdb") == 1  # the call; the docstring is not code
    assert whats.count("exclusive") == 1  # the call; the comment is not code
    assert "lock key f-string" in whats
    assert "lock key f-string" in [
        w for _, w in server_questions("store.update_one(c, q, u, lock=f'items:{i}')")
    ]
    assert "lock key f-string" in [w for _, w in server_questions("held(*(f'orders:{i}' for i in ids))")]
    fine = "from .locks import held\nwith held(store.money_key(a, b)):\n    c.find_one({'_id': f'parcels:{s}'})\n"
    assert server_questions(fine) == []


def test_no_module_outside_the_storage_layer_asks_which_server_it_runs_on():
    offenders = {
        path.name: server_questions(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name not in STORAGE
    }
    assert {name: found for name, found in offenders.items() if found} == {}
