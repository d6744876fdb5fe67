"""Merges racing the other buyer's money and each other, on the real servers (FerretDB
over a socket and mongo-java-server). What is guaranteed, whatever the interleaving:
- a payment recorded for the other buyer while the merge runs is either refused (404:
  the buyer is gone) or moved with the others; a confirm of the other's reported
  payment lands on the merged buyer's orders or credit; the ledger adds up after;
- two merges of the same two buyers (A into B and B into A) leave one of them.
(An order created for the other buyer at the same moment may be left on the deleted
buyer: docs/api.md, "Merging customers".)"""

from __future__ import annotations

import pytest
from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.buyers import customers
from chalicelib.money import payments
from chalicelib.money.schemas import BuyerPaymentIn, PaymentIn
from chalicelib.platform import db
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn
from tests.conftest import at_once
from tests.factories import make_principal

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)


def order_for(principal, email, price=100):
    return orders.create(
        principal, OrderIn(buyer_email=email, item_name="Tea", quantity=1, unit_price=price)
    )[0]


@pytest.mark.parametrize("round_", range(3))
def test_a_merge_racing_the_other_buyers_payments(api, round_):
    """B has two orders of 100 and a reported payment of 150; the merge of B into A
    races the confirm of that payment and a new payment of 120 for B."""
    who = make_principal(api)
    a = order_for(who, "a@example.com")["customer_id"]
    b_orders = [order_for(who, "b@example.com") for _ in range(2)]
    b = b_orders[0]["customer_id"]
    link = {
        "_id": ObjectId(),
        "seller_id": ObjectId(who.seller_id),
        "customer_id": ObjectId(b),
        "buyer_name": "B",
    }
    payments.report(link, BuyerPaymentIn(amount=150), "Asia/Taipei")
    reported = str(db.get_db().payments.find_one({"status": "reported"})["_id"])
    results = at_once(
        [
            lambda: customers.merge(who, a, b),
            lambda: payments.confirm(who, reported),
            lambda: payments.record(who, PaymentIn(customer_id=b, amount=120, method="cash"))[0],
        ]
    )
    assert isinstance(results[0], dict) and results[0]["id"] == a, results
    assert isinstance(results[1], dict) and results[1]["status"] == "confirmed", results
    recorded = isinstance(results[2], dict)
    assert recorded or results[2] == "not_found", results
    credit = check_ledger()
    d = db.get_db()
    gone = ObjectId(b)
    assert d.customers.find_one({"_id": gone}) is None
    for name in ("orders", "payments", "tracking_links"):
        assert d[name].count_documents({"customer_id": gone}) == 0, name
    # Every confirmed cent is on A's orders or A's credit.
    confirmed = sum(p["amount"] for p in d.payments.find({"status": "confirmed"}))
    assert confirmed == 15000 + (12000 if recorded else 0)
    on_orders = sum(o.get("paid_amount", 0) for o in d.orders.find())
    assert on_orders + credit.get(ObjectId(a), 0) == confirmed


def test_two_merges_of_the_same_buyers_the_other_way_round(api):
    """A into B and B into A at once: one answers, the other finds its buyer gone; one
    buyer is left, with all three orders."""
    who = make_principal(api)
    a = order_for(who, "a@example.com")["customer_id"]
    b = order_for(who, "b@example.com")["customer_id"]
    order_for(who, "b@example.com")
    results = at_once([lambda: customers.merge(who, a, b), lambda: customers.merge(who, b, a)])
    assert sorted(r if isinstance(r, str) else "merged" for r in results) == ["merged", "not_found"], results
    d = db.get_db()
    left = [c["_id"] for c in d.customers.find()]
    assert len(left) == 1
    assert {o["customer_id"] for o in d.orders.find()} == set(left)
    assert d.orders.count_documents({}) == 3
