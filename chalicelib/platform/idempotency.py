"""Idempotency-Key (POST /orders, /payments, /parcels and the buyer's payment report): a
claim per key in a collection of its own. The names below say "order"; the others pass
their own document's id and a scope in the claim id.

`idempotency_keys` holds `{_id: "<seller_id>:<key>", order_id, at}`. The order's id is
chosen before anything is written, and the first request to insert the claim owns the
key: the insert is atomic on MongoDB and on FerretDB alike (a unique `_id`), and every
later lookup is by `_id`, so a keyed create never searches the orders (on FerretDB, which
pushes only `{_id: value}` filters down to SQLite, a search by another field reads the
whole collection).

- The owner creates the order with the claimed id. If creation fails (e.g. not enough
  stock) it deletes its claim, so a retry with the same key can succeed later.
- Any other request with the key returns the owner's order (whatever its own body). If
  the owner is still working it polls briefly; if the owner gave the key up meanwhile it
  claims it itself; a claim without an order after `STALE_AFTER` (longer than the Lambda
  timeout) is an owner that died, and is taken over.
- Keys last `TTL` (24 hours) from their first use: a TTL index deletes them on MongoDB;
  FerretDB has no TTL indexes, so expiry is also checked on read and behaviour is the same.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bson import ObjectId

from chalicelib.platform import clock, mongo, store
from chalicelib.platform.db import get_db
from chalicelib.platform.errors import Conflict, ValidationFailed

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
TTL = dt.timedelta(hours=24)
STALE_AFTER = dt.timedelta(seconds=60)  # Lambda times out after 15 s
WAIT_SECONDS = 5.0  # how long a repeat waits for the owner before a 409
T = TypeVar("T")


@dataclass(frozen=True)
class Claim:
    """What the owner of a key holds: the key's document id and the order's id."""

    id: str
    order_id: ObjectId


def claim_id(seller_id, key: str | None) -> str | None:
    """`<seller_id>:<key>`, so the same key of two sellers never collides; None without a key."""
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        raise ValidationFailed(
            "Idempotency-Key must be 1-200 visible ASCII characters", code="invalid_idempotency_key"
        )
    return f"{seller_id}:{key}"


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # mongomock: naive UTC


def claim_or_find(cid: str, order_id: ObjectId, find_order: Callable[[ObjectId], dict | None]) -> dict | None:
    """Claim `cid` for a new order `order_id`: None means this request owns the key and
    must create that order. Otherwise returns the order that owns the key (the first
    request's), waiting up to WAIT_SECONDS while its creation is still under way.
    `find_order` reads an order by `_id`."""
    coll = get_db().idempotency_keys
    deadline = time.monotonic() + WAIT_SECONDS
    delay = 0.01
    while True:
        now = clock.now()
        try:
            coll.insert_one({"_id": cid, "order_id": order_id, "at": now})
            return None
        except mongo.DuplicateKeyError:
            pass
        held = coll.find_one({"_id": cid})
        if held is None:
            continue  # the owner failed and let go: claim again at once
        at = _aware(held["at"])
        order = find_order(held["order_id"])
        if order is not None and now - at < TTL:
            return order
        if order is not None or now - at > STALE_AFTER:
            # Expired (FerretDB keeps what a TTL index would have deleted) or abandoned by
            # an owner that died: give it up, then claim it again like a new key.
            _release(cid, held["order_id"])
            continue
        if time.monotonic() > deadline:
            raise Conflict(
                "an earlier request with this Idempotency-Key is still being processed; retry shortly",
                code="idempotency_key_in_use",
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def once(
    cid: str | None,
    doc_id: ObjectId,
    find: Callable[[ObjectId], dict | None],
    create: Callable[[], T],
    *,
    written: Callable[[], bool] = lambda: False,
) -> tuple[T | dict, bool]:
    """The one shape of a keyed create. Returns (the first request's document as `find`
    reads it, False) for a repeated key, else (create(), True); `cid` None (no key):
    create. A create that fails gives the key back, so a retry may try again, unless
    `written()` says its document is already stored: then the retry finishes that one
    instead of making a second (payments, parcels)."""
    if cid is not None:
        first = claim_or_find(cid, doc_id, find)
        if first is not None:
            return first, False
    try:
        return create(), True
    except BaseException:
        if cid is not None and not written():
            release(Claim(cid, doc_id))
        raise


def release(claim: Claim) -> None:
    """The owner gives the key up (its creation failed): a retry may claim it again."""
    _release(claim.id, claim.order_id)


def _release(cid: str, order_id: ObjectId) -> None:
    # Only this claim: a later owner of the same key holds another order id.
    # A filtered delete: on FerretDB a read then a delete, so it names its lock.
    store.delete_one(
        get_db().idempotency_keys, {"_id": cid, "order_id": order_id}, lock=store.idempotency_key(cid)
    )
