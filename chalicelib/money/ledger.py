"""The buyer's money work as one unit of work (the protocol is in payments.py's docstring).

    with _ledger.for_buyer(seller_id, customer_id) as uow:
        ...  # uow.now; uow.credit_changed() when the buyer's credit may have moved

takes the buyer's lock (steps 1 and 2: nothing else changes this buyer's money meanwhile,
and what a crash left half-applied is finished first), and on a clean exit refreshes the
buyer's cached credit when the work said it changed. An exception leaves the credit as
the next unit of work (or repair) finds it: the half-applied payment is finished then.
Only this module takes the lock, finishes and syncs (tests/unit/test_ledger_boundary.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib.platform import clock, store
from chalicelib.platform.db import get_db
from chalicelib.platform.locks import held

Apply = Callable[[dict, dt.datetime], None]


@dataclass
class BuyerWork:
    """One buyer's money, with their lock held."""

    seller_id: Any
    customer_id: Any
    now: dt.datetime
    _credit_changed: bool = field(default=False, repr=False)

    def credit_changed(self) -> None:
        """Money left or reached the buyer's credit: refresh the cache at the end."""
        self._credit_changed = True


class Ledger:
    """`apply`: steps 4 and 5 for one payment whose new allocations are written (the
    payments module's, which alone writes orders' shares)."""

    def __init__(self, apply: Apply):
        self._apply = apply

    @contextlib.contextmanager
    def for_buyer(self, seller_id, customer_id, *, finish: bool = True) -> Iterator[BuyerWork]:
        """`finish=False`: work that moves no money (a rejected report) need not finish
        the buyer's earlier payments first."""
        with _buyer_lock(seller_id, customer_id):
            work = BuyerWork(seller_id, customer_id, clock.now())
            if finish:
                _finish(seller_id, [customer_id], work.now, self._apply)
            yield work
            if work._credit_changed:
                _sync_credit(seller_id, customer_id)

    @contextlib.contextmanager
    def for_buyers(self, seller_id, customer_ids, *, hold: float = 10.0) -> Iterator[list[BuyerWork]]:
        """Several buyers' money as one unit of work (a merge moves one's payments to the
        other; a bulk 已匯款 pays many buyers): their locks taken together, all or none
        (locks.held), so two of these never wait for each other whatever the order of
        the ids; the buyers' earlier payments finished first (one read for all); each
        credit synced at the end when its work says so. `hold`: how long a live holder
        may keep the locks (a bulk of many orders writes longer)."""
        with held(*(store.money_key(seller_id, c) for c in customer_ids), hold=hold):
            now = clock.now()
            works = [BuyerWork(seller_id, c, now) for c in customer_ids]
            _finish(seller_id, [w.customer_id for w in works], now, self._apply)
            yield works
            for work in works:
                if work._credit_changed:
                    _sync_credit(seller_id, work.customer_id)


def _buyer_lock(seller_id, customer_id):
    # Many orders may be written under it (up to 200 on FerretDB, each under its own
    # lock): a live holder may keep it for seconds, not milliseconds.
    return held(store.money_key(seller_id, customer_id), hold=10.0)


def _finish(seller_id, customer_ids: list, now: dt.datetime, apply: Apply) -> bool:
    """Apply what a crash left half-done for these buyers (one read). True when there
    was some. Their credit is synced at once: the work that follows may still fail."""
    who = customer_ids[0] if len(customer_ids) == 1 else {"$in": list(customer_ids)}
    left = list(get_db().payments.find({"seller_id": seller_id, "customer_id": who, "applied": False}))
    for payment in left:
        apply(payment, now)
    for customer_id in dict.fromkeys(p["customer_id"] for p in left):
        _sync_credit(seller_id, customer_id)
    return bool(left)


def _sync_credit(seller_id, customer_id) -> int:
    """The buyer's credit (confirmed money on no order), cached on the customer so that
    a new order knows without a query whether there is credit to use."""
    db = get_db()
    credit = sum(
        p["unallocated"]
        for p in db.payments.find(
            {
                "seller_id": seller_id,
                "customer_id": customer_id,
                "status": "confirmed",
                "unallocated": {"$gt": 0},
            },
            {"unallocated": 1},
        )
    )
    db.customers.update_one({"_id": customer_id, "seller_id": seller_id}, {"$set": {"credit": credit}})
    return credit
