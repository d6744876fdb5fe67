"""The `charges` collection: its one writer (tests/unit/test_one_writer.py) and the reads
the payments engine needs. It knows no ledger: payments.py (which applies a payment's
shares to charges through `set_share`) and charges.py (the charges' API, which runs its
money changes in the ledger's units of work) both import it, and neither imports the
other's way round (tests/unit/test_import_graph.py: no import circle).

A charge's paid amount changes only through the ledger's protocol (payments.py
docstring): a payment's allocation to it is written first, then `set_share` SETS that
payment's share (an absolute value) with a version check; every write of a charge bumps
its `version`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from chalicelib.platform import store
from chalicelib.platform.db import get_db
from chalicelib.platform.errors import Conflict
from chalicelib.rules import allocation

SHARE_ATTEMPTS = 8


def live_key(seller_id, key: str) -> str:
    """At most one open charge per seller and key: "<seller>:<key>" under a sparse unique
    index, unset on void (FerretDB 1.24 has no partial index, docs/ferretdb.md)."""
    return f"{seller_id}:{key}"


def find(query: dict, projection: dict | None = None) -> dict | None:
    return get_db().charges.find_one(query, projection)


def insert(doc: dict) -> None:
    get_db().charges.insert_one(doc)


def change(charge: dict, update: dict) -> bool:
    """One change of a charge, if nobody changed it since it was read (its version)."""
    update = {**update, "$inc": {"version": 1}}
    done = store.update_one(
        get_db().charges,
        {"_id": charge["_id"], "version": charge.get("version", 0)},
        update,
        lock=store.charge_key(charge["_id"]),
    )
    return bool(done.matched_count)


def move_buyer(seller_id, from_id, sets: dict) -> None:
    """A merge: every charge of `from_id` is another buyer's (under both money locks)."""
    get_db().charges.update_many(
        {"seller_id": seller_id, "customer_id": from_id}, {"$set": sets, "$inc": {"version": 1}}
    )


def rename_buyer(customer: dict) -> None:
    get_db().charges.update_many(
        {"seller_id": customer["seller_id"], "customer_id": customer["_id"]},
        {"$set": {"buyer_name": customer["name"]}},
    )


def open_of(seller_id, customer_id, submission_id=None) -> list[dict]:
    """The buyer's charges that still take money (of one form submission, when given)."""
    query: dict[str, Any] = {"seller_id": seller_id, "customer_id": customer_id, "status": "open"}
    if submission_id is not None:
        query["submission_id"] = submission_id
    return [c for c in get_db().charges.find(query) if allocation.balance_of(c) > 0]


def listed(seller_id, customer_id, charge_ids) -> list[dict]:
    """The charges a payment names, in the given order: each must be this buyer's and
    open."""
    wanted = list(dict.fromkeys(charge_ids))
    if not wanted:
        return []
    found = {c["_id"]: c for c in store.find_by_ids(get_db().charges, wanted, {"seller_id": seller_id})}
    out = []
    for cid in wanted:
        charge = found.get(cid)
        if charge is None or charge["customer_id"] != customer_id:
            raise Conflict(
                f"charge {cid} is not a charge of this buyer",
                code="charge_not_payable",
                details=[{"field": "charge_ids", "code": "not_this_buyers", "message": str(cid)}],
            )
        if charge["status"] != "open":
            raise Conflict(
                f"charge {cid} is void",
                code="charge_not_payable",
                details=[{"field": "charge_ids", "code": "not_payable", "message": str(cid)}],
            )
        out.append(charge)
    return out


def set_share(
    seller_id, customer_id, charge_id, pid: str, target: int, now: dt.datetime, known: dict | None = None
) -> int:
    """Make payment `pid`'s share of the charge `target` cents (0: none) and its paid
    amount follow; the charge's twin of payments._set_share. Returns the share the
    charge took: never more than it may hold (void, lowered, or moved to another buyer:
    less; the caller keeps the rest as credit). Idempotent; a concurrent write of the
    charge makes it read again. `known`: the charge as just read under the lock."""
    db = get_db()
    for _ in range(SHARE_ATTEMPTS):
        charge = known or db.charges.find_one({"_id": charge_id, "seller_id": seller_id})
        known = None
        if charge is None:
            return 0
        current, target, others = allocation.share_change(charge, pid, target, customer_id)
        if current == target:
            return target
        update: dict[str, Any] = {"$set": {"paid_amount": others + target, "updated_at": now}}
        if target:
            update["$set"][f"paid_by.{pid}"] = target
        else:
            update["$unset"] = {f"paid_by.{pid}": ""}
        if change(charge, update):
            return target
    raise Conflict("the charge changed while saving; try again", code="concurrent_update")


def stuck_voids(seller_id=None) -> list[dict]:
    """Void charges that still hold money (a crash between the void and the release)."""
    query: dict[str, Any] = {"status": "void", "paid_amount": {"$gt": 0}}
    if seller_id is not None:
        query["seller_id"] = seller_id
    return list(get_db().charges.find(query, {"seller_id": 1, "customer_id": 1}))
