"""Payments racing each other and order edits on the real servers (FerretDB over a
socket and mongo-java-server; threads share one connection pool).

After every race the whole ledger is checked (payment_ledger.check_ledger): each order's
paid_amount is the sum of its confirmed allocations, no order holds more than its total,
every payment's allocations plus credit are its amount, and nothing is half-applied.
"""

from __future__ import annotations

import pytest
from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.money import payments
from chalicelib.money.schemas import PaymentIn
from chalicelib.platform import db
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn, OrderPatch
from tests.conftest import at_once
from tests.factories import make_principal

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)


def new_orders(principal, n, price=100, email="amy@example.com"):
    return [
        orders.create(principal, OrderIn(buyer_email=email, item_name="Tea", quantity=1, unit_price=price))[0]
        for _ in range(n)
    ]


def pay(principal, customer_id, amount):
    return lambda: payments.record(
        principal, PaymentIn(customer_id=customer_id, amount=amount, method="bank_transfer")
    )[0]


def stored(order_ids):
    return {
        str(d["_id"]): d for d in db.get_db().orders.find({"_id": {"$in": [ObjectId(i) for i in order_ids]}})
    }


def test_ten_payments_for_one_buyer_at_once(api):
    """5 orders of 100 and ten payments of 70 at the same moment: every order is paid
    exactly, the 200 left over is credit, and no payment is lost or counted twice."""
    who = make_principal(api)
    placed = new_orders(who, 5)
    cid = placed[0]["customer_id"]
    results = at_once([pay(who, cid, 70)] * 10)
    assert all(isinstance(r, dict) and r["status"] == "confirmed" for r in results), results
    docs = stored([o["id"] for o in placed])
    assert [d["paid_amount"] for d in docs.values()] == [10000] * 5
    assert {d["payment_status"] for d in docs.values()} == {"remitted"}
    credit = check_ledger()
    assert credit == {ObjectId(cid): 20000}
    assert sum(p["amount"] for p in db.get_db().payments.find()) == 70000
    # Each order's history moved unpaid → partial → remitted at most once each.
    for d in docs.values():
        moves = [(h["from"], h["to"]) for h in d["history"]]
        assert len(moves) == len(set(moves)) and moves[-1][1] == "remitted", moves


def test_new_orders_race_for_the_same_credit(api):
    """A buyer with 250 of credit gets 6 orders of 100 at once: 250 is spent, once."""
    who = make_principal(api)
    first = new_orders(who, 1)[0]
    cid = first["customer_id"]
    payments.record(who, PaymentIn(customer_id=cid, amount=350, method="cash"))  # 100 on it, 250 credit
    made = at_once(
        [lambda: orders.create(who, OrderIn(customer_id=cid, item_name="Tea", quantity=1, unit_price=100))[0]]
        * 6
    )
    ids = [m["id"] for m in made]
    paid = sorted(d.get("paid_amount", 0) for d in stored(ids).values())
    assert sum(paid) == 25000 and paid.count(10000) == 2, paid
    assert check_ledger() == {}


def test_the_remitted_switch_pressed_five_times_at_once(api):
    who = make_principal(api)
    (o,) = new_orders(who, 1, price=120)
    results = at_once(
        [lambda: orders.update(who, o["id"], OrderPatch(payment_status="remitted"), attempts=20)] * 5,
        threads=5,
    )
    assert all(isinstance(r, dict) and r["paid_amount"] == 120 for r in results), results
    live = list(db.get_db().payments.find({"status": "confirmed"}))
    assert [p["amount"] for p in live] == [12000]  # one payment, not five
    check_ledger()


def test_confirm_void_and_reject_of_one_payment_at_once(api):
    """The seller's two devices: confirms, rejects and voids of the same reported
    payment arrive together. Whatever wins, the ledger adds up."""
    who = make_principal(api)
    placed = new_orders(who, 2)
    cid = ObjectId(placed[0]["customer_id"])
    link = {"_id": ObjectId(), "seller_id": ObjectId(who.seller_id), "customer_id": cid, "buyer_name": "Amy"}
    from chalicelib.money.schemas import BuyerPaymentIn

    reported, _ = payments.report(link, BuyerPaymentIn(amount=150), "Asia/Taipei")
    pid = str(db.get_db().payments.find_one()["_id"])
    assert reported["status"] == "reported"
    calls = [
        lambda: payments.confirm(who, pid),
        lambda: payments.reject(who, pid, "not seen"),
        lambda: payments.void(who, pid),
    ] * 3
    at_once(calls, threads=9)
    final = db.get_db().payments.find_one()
    assert final["status"] in {"confirmed", "rejected", "voided"}
    check_ledger()
    paid = sum(d.get("paid_amount", 0) for d in stored([o["id"] for o in placed]).values())
    assert paid == (15000 if final["status"] == "confirmed" else 0)


def test_payments_race_quantity_edits_and_cancels(api):
    """Payments land while the seller edits quantities and cancels orders of the same
    buyer: money moves to credit and back, and nothing is lost."""
    who = make_principal(api)
    placed = new_orders(who, 6)
    cid = placed[0]["customer_id"]
    calls = []
    for i, o in enumerate(placed):
        calls.append(pay(who, cid, 90))
        if i % 3 == 0:
            calls.append(
                lambda o=o: orders.update(
                    who, o["id"], OrderPatch(fulfillment_status="cancelled"), attempts=20
                )
            )
        else:
            calls.append(lambda o=o: orders.update(who, o["id"], OrderPatch(quantity=2), attempts=20))
    at_once(calls)
    check_ledger()
    docs = stored([o["id"] for o in placed]).values()
    confirmed = sum(p["amount"] for p in db.get_db().payments.find({"status": "confirmed"}))
    on_orders = sum(d.get("paid_amount", 0) for d in docs)
    credit = db.get_db().customers.find_one({"_id": ObjectId(cid)}).get("credit", 0)
    assert confirmed == 6 * 9000 and on_orders + credit == confirmed
