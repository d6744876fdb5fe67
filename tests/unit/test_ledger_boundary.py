"""Issue 24 step 3: a buyer's money changes only inside a unit of work of the ledger
(chalicelib/money/ledger.py: `for_buyer` takes the buyer's lock, finishes what a crash
left half-applied, and syncs the cached credit). A module other than ledger.py that
names the lock, the finishing or the credit sync (or builds the money lock's key) hand-
writes that block again and fails here; so does any `model_construct` in chalicelib (a
request model built by hand, unvalidated, to call domain code: internal commands are
dataclasses, e.g. payments.RecordPayment). Read with ast: comments and docstrings may
still name them."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "chalicelib"
LEDGER = PACKAGE / "money" / "ledger.py"
LEDGER_ONLY = {"_buyer_lock", "_finish", "_sync_credit", "money_key"}
NOWHERE = {"model_construct"}


def uses(source: str, names: set[str]) -> list[tuple[int, str]]:
    """(line, name) for each reference to one of `names` in `source` (a call, an
    attribute, a name passed along, an import)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in names:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute) and node.attr in names:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.ImportFrom):
            found += [(node.lineno, a.name) for a in node.names if a.name in names]
    return found


def violations(package: Path = PACKAGE) -> list[str]:
    out = []
    for path in sorted(package.rglob("*.py")):
        names = set(NOWHERE)
        if path != LEDGER:
            names |= LEDGER_ONLY
        source = path.read_text(encoding="utf-8")
        out += [f"{path.relative_to(package.parent)}:{line} {name}" for line, name in uses(source, names)]
    return out


def test_the_check_sees_each_kind_of_use():
    source = (
        "from chalicelib.money.ledger import _finish\n"
        "def f(seller_id, customer_id, now):\n"
        "    '''_sync_credit( in a docstring is fine'''\n"
        "    # _buyer_lock( in a comment too\n"
        "    with payments._buyer_lock(seller_id, customer_id):\n"
        "        _finish(seller_id, customer_id, now)\n"
        "        later(_sync_credit)\n"
        "    held(store.money_key(seller_id, customer_id))\n"
        "    return PaymentIn.model_construct(amount=1)\n"
    )
    found = uses(source, LEDGER_ONLY | NOWHERE)
    assert sorted(name for _, name in found) == [
        "_buyer_lock",
        "_finish",  # the import
        "_finish",  # the call
        "_sync_credit",  # passed along, not called
        "model_construct",
        "money_key",
    ]
    assert uses("def _finish():\n    '''_finish'''\n", LEDGER_ONLY) == []  # a definition is no use


def test_only_the_ledger_takes_the_buyer_lock_finishes_and_syncs_credit():
    assert violations() == []


def test_the_ledger_still_does_it():
    """Guards the check itself: if the ledger stopped naming them, the boundary above
    would hold for nothing."""
    found = {name for _, name in uses(LEDGER.read_text(encoding="utf-8"), LEDGER_ONLY)}
    assert found == LEDGER_ONLY
