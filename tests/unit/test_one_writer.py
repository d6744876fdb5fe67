"""Issue 24 step 3: one writer for `orders`. Only chalicelib/orderbook/repository.py may
send a write to the orders collection (its documents, their history and version, under
the orders' lock keys); every other module calls one of its named operations. Read with
ast: a call of a write method on `<anything>.orders`, `<anything>["orders"]` or a name
bound to one of them, or a store helper (`store.update_one(db.orders, ...)`) given one,
is a write of orders."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "chalicelib"
WRITER = PACKAGE / "orderbook" / "repository.py"
WRITES = {
    "insert_one",
    "insert_many",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "find_one_and_update",
    "find_one_and_replace",
    "find_one_and_delete",
    "bulk_write",
}


def _is_orders(node: ast.AST, aliases: set[str], name: str = "orders") -> bool:
    """`x.orders`, `x["orders"]`, or a name bound to one of them (`name`: the collection)."""
    if isinstance(node, ast.Attribute):
        return node.attr == name
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == name
    return isinstance(node, ast.Name) and node.id in aliases


def order_writes(source: str, name: str = "orders") -> list[tuple[int, str]]:
    """(line, method) for each write of the orders collection (or `name`'s) in `source`."""
    tree = ast.parse(source)
    # Names bound to the collection anywhere in the module (`coll = db.orders`).
    aliases = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _is_orders(node.value, set(), name)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        if method not in WRITES:
            continue
        on_orders = _is_orders(node.func.value, aliases, name)  # db.orders.update_one(...)
        given_orders = bool(node.args) and _is_orders(
            node.args[0], aliases, name
        )  # store.update_one(db.orders, ...)
        if on_orders or given_orders:
            found.append((node.lineno, method))
    return sorted(found)


def test_the_check_sees_each_form_of_write():
    source = (
        "def f(db, store, get_db):\n"
        "    db.orders.insert_one({})\n"
        "    get_db().orders.update_many({}, {})\n"
        "    db['orders'].delete_many({})\n"
        "    coll = db.orders\n"
        "    coll.find_one_and_update({}, {})\n"
        "    store.update_one(get_db().orders, {}, {}, lock='x')\n"
        "    store.bulk_write(db.orders, [])\n"
    )
    assert [m for _, m in order_writes(source)] == [
        "insert_one",
        "update_many",
        "delete_many",
        "find_one_and_update",
        "update_one",
        "bulk_write",
    ]
    reads_and_others = (
        "def f(db, store):\n"
        "    db.orders.find_one({})\n"
        "    db.orders.count_documents({})\n"
        "    db.items.update_one({}, {})\n"
        "    store.update_one(db.payments, {}, {})\n"
        "    '''db.orders.insert_one in a docstring is not code'''\n"
    )
    assert order_writes(reads_and_others) == []


def test_only_the_order_repository_writes_orders():
    offenders = {
        str(path.relative_to(PACKAGE)): order_writes(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != WRITER
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_repository_is_found_writing():
    """The check would see the repository's own writes (so it looks at the right calls)."""
    assert WRITER.exists()
    assert order_writes(WRITER.read_text(encoding="utf-8"))


# Issue 26: one writer for `charges` too, the way orders have theirs: money/charge_book.py
# (below both payments.py and charges.py, which may not import each other).
CHARGES_WRITER = PACKAGE / "money" / "charge_book.py"


def test_only_the_charges_module_writes_charges():
    offenders = {
        str(path.relative_to(PACKAGE)): order_writes(path.read_text(encoding="utf-8"), "charges")
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != CHARGES_WRITER
    }
    assert {name: found for name, found in offenders.items() if found} == {}
    assert order_writes("def f(db, store):\n    store.update_one(db.charges, {}, {})\n", "charges")
    assert order_writes(CHARGES_WRITER.read_text(encoding="utf-8"), "charges")


# --- history entries: one builder -----------------------------------------------------

RULES = PACKAGE / "rules" / "order_rules.py"


def history_literals(source: str) -> list[int]:
    """Lines of dict literals shaped like a history entry (`at`, `field` and `to`): such
    an entry is built by order_rules.history_entry, so every push has the same shape."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if {"at", "field", "to"} <= keys:
                found.append(node.lineno)
    return found


def test_the_history_check_sees_an_entry():
    assert history_literals("x = {'at': now, 'field': 'payment_status', 'from': a, 'to': b}") == [1]
    assert history_literals("x = {'at': now, 'to': b}") == []


def test_history_entries_are_built_in_one_place():
    offenders = {
        str(path.relative_to(PACKAGE)): history_literals(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != RULES
    }
    assert {name: lines for name, lines in offenders.items() if lines} == {}


# Issue 28: a bank statement's collections have one writer, money/statements.py (the
# payments a row makes are payments.py's, as every payment).
STATEMENTS_WRITER = PACKAGE / "money" / "statements.py"


def test_only_the_statements_module_writes_statements():
    for name in ("statements", "statement_rows", "statement_mappings"):
        offenders = {
            str(path.relative_to(PACKAGE)): order_writes(path.read_text(encoding="utf-8"), name)
            for path in sorted(PACKAGE.rglob("*.py"))
            if path != STATEMENTS_WRITER
        }
        assert {n: found for n, found in offenders.items() if found} == {}, name
        assert order_writes(STATEMENTS_WRITER.read_text(encoding="utf-8"), name), name
