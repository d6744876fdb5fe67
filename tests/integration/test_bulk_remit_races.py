"""Bulk 已匯款 racing a single payment and another bulk 已匯款 on the real servers
(FerretDB over a socket and mongo-java-server; threads share one connection pool).

After every race: no order is paid twice (each order's paid_amount is the sum of its
confirmed allocations and at most its total), the buyer's credit plus the money on their
orders is every confirmed payment (payment_ledger.check_ledger, and the sums here), and
a second bulk press records no second payment for a buyer.
"""

from __future__ import annotations

import pytest
from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.money import payments
from chalicelib.money.schemas import PaymentIn
from chalicelib.platform import db
from chalicelib.sales import orders
from chalicelib.sales.schemas import BulkIn, OrderIn
from tests.conftest import at_once
from tests.factories import make_principal

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)

ROUNDS = 3


def new_orders(principal, buyers: int, per_buyer: int, price: int = 100) -> list[dict]:
    return [
        orders.create(
            principal,
            OrderIn(buyer_email=f"b{b}@example.com", item_name=f"Tea {i}", quantity=1, unit_price=price + i),
        )[0]
        for b in range(buyers)
        for i in range(per_buyer)
    ]


def bulk_remit(principal, ids):
    return lambda: orders.bulk_update(
        principal, BulkIn.model_validate({"ids": ids, "set": {"payment_status": "remitted"}})
    )


def money_adds_up(order_ids: list[str]) -> None:
    """Confirmed payments = money on the orders + credit, and no order holds more than
    its total (check_ledger: each paid_amount is the sum of its allocations)."""
    credit = check_ledger()
    docs = list(db.get_db().orders.find({"_id": {"$in": [ObjectId(i) for i in order_ids]}}))
    confirmed = sum(p["amount"] for p in db.get_db().payments.find({"status": "confirmed"}))
    on_orders = sum(d.get("paid_amount", 0) for d in docs)
    assert confirmed == on_orders + sum(credit.values()), (confirmed, on_orders, credit)
    assert all(d.get("paid_amount", 0) <= d["total_amount"] for d in docs)


@pytest.mark.parametrize("round_no", range(ROUNDS))
def test_bulk_remit_and_a_single_payment_of_the_same_buyer_at_once(api, round_no):
    """The seller presses bulk 已匯款 while recording the buyer's transfer on another
    device: whichever runs second finds the orders paid (the transfer becomes credit, or
    the bulk pays what the transfer left), never both paying the same order."""
    who = make_principal(api)
    made = new_orders(who, 3, 3)
    ids = [o["id"] for o in made]
    amy = made[0]["customer_id"]
    transfer = lambda: payments.record(  # noqa: E731
        who, PaymentIn(customer_id=amy, amount=250, method="bank_transfer")
    )[0]
    if round_no % 2:  # started in the other order
        paid, out = at_once([transfer, bulk_remit(who, ids)])
    else:
        out, paid = at_once([bulk_remit(who, ids), transfer])
    assert isinstance(out, dict) and isinstance(paid, dict), (out, paid)
    docs = {str(d["_id"]): d for d in db.get_db().orders.find({"_id": {"$in": [ObjectId(i) for i in ids]}})}
    assert all(
        d["payment_status"] == "remitted" and d["paid_amount"] == d["total_amount"] for d in docs.values()
    )
    money_adds_up(ids)
    # The transfer's 250 went to Amy's orders or stayed her credit: nothing was lost.
    stored = db.get_db().payments.find_one({"_id": ObjectId(paid["id"])})
    assert sum(a["amount"] for a in stored["allocations"]) + stored["unallocated"] == 25000


@pytest.mark.parametrize("round_no", range(ROUNDS))
def test_bulk_remit_pressed_twice_at_once_records_one_payment_per_buyer(api, round_no):
    who = make_principal(api)
    made = new_orders(who, 4, 2 + round_no)
    ids = [o["id"] for o in made]
    results = at_once([bulk_remit(who, ids), bulk_remit(who, ids[::-1])])
    assert all(isinstance(r, dict) and not r["failed"] for r in results), results
    # Each order was changed by exactly one of the two calls.
    assert sum(r["updated"] for r in results) == len(ids), results
    switch = list(db.get_db().payments.find({"via": payments.SWITCH, "status": "confirmed"}))
    assert sorted(str(p["customer_id"]) for p in switch) == sorted({o["customer_id"] for o in made})
    docs = list(db.get_db().orders.find({"_id": {"$in": [ObjectId(i) for i in ids]}}))
    assert all(d["payment_status"] == "remitted" and d["paid_amount"] == d["total_amount"] for d in docs)
    money_adds_up(ids)
