"""Charges racing payments, voids and each other on the real servers (FerretDB over a
socket and mongo-java-server; threads share one connection pool). After every race the
whole ledger is checked (payment_ledger.check_ledger: each charge's and order's
paid_amount is the sum of its confirmed allocations, none holds more than it owes, a void
charge holds nothing, money on orders and charges plus credit equals the confirmed
payments, nothing is half-applied)."""

from __future__ import annotations

import pytest
from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.money import charges, payments
from chalicelib.money.schemas import PaymentIn
from chalicelib.platform import db
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn
from tests.conftest import at_once
from tests.factories import make_principal

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)


def setup(api, n_orders=0):
    who = make_principal(api)
    placed = [
        orders.create(
            who, OrderIn(buyer_email="amy@example.com", item_name="Tea", quantity=1, unit_price=100)
        )[0]
        for _ in range(n_orders)
    ]
    if placed:
        cid = ObjectId(placed[0]["customer_id"])
    else:
        o, _ = orders.create(
            who, OrderIn(buyer_email="amy@example.com", item_name="Tea", quantity=1, unit_price=0)
        )
        cid = ObjectId(o["customer_id"])
    return who, ObjectId(who.seller_id), cid


def pay(who, cid, amount):
    return lambda: payments.record(who, PaymentIn(customer_id=str(cid), amount=amount, method="cash"))[0]


def confirmed_total() -> int:
    return sum(p["amount"] for p in db.get_db().payments.find({"status": "confirmed"}))


def test_a_payment_and_a_void_of_the_charge_it_pays_at_once(api):
    """Charges of 60 and 40; a payment of 100 and the void of the 60 at once, ten times
    over: whichever runs first, the void charge holds nothing, the payment's money is on
    the other charge or credit, and nothing is lost."""
    who, seller, cid = setup(api)
    for _ in range(5):
        ship = charges.add(seller, charges.AddCharge(cid, 6000, "shipping"))
        charges.add(seller, charges.AddCharge(cid, 4000, "duty"))
        results = at_once([pay(who, cid, 100), lambda: charges.void(seller, ship["_id"])])
        assert not any(isinstance(r, str) for r in results), results
        credit = check_ledger()
        void = db.get_db().charges.find_one({"_id": ship["_id"]})
        assert (void["status"], void["paid_amount"]) == ("void", 0)
        # Whatever the order: all of the payments' money is on charges or credit.
        on_charges = sum(c["paid_amount"] for c in db.get_db().charges.find())
        assert on_charges + sum(credit.values()) == confirmed_total()


def test_two_payments_and_a_new_charge_at_once(api):
    """Two orders of 100; two payments of 150 and a new charge of 80 at once: 300 in,
    280 owed, so 20 is credit whatever the order (a charge made after the payments is paid
    from their credit at once)."""
    for _ in range(3):
        who, seller, cid = setup(api, n_orders=2)
        results = at_once(
            [
                pay(who, cid, 150),
                pay(who, cid, 150),
                lambda: charges.add(seller, charges.AddCharge(cid, 8000, "shipping")),
            ]
        )
        assert not any(isinstance(r, str) for r in results), results
        charge = db.get_db().charges.find_one({"_id": results[2]["_id"]})
        assert (charge["paid_amount"], charge["amount"]) == (8000, 8000)
        assert {o["paid_amount"] for o in db.get_db().orders.find({"customer_id": cid})} == {10000}
        assert check_ledger()[cid] == 2000


def test_the_same_keyed_charge_added_five_times_at_once(api):
    """A parcel's fee raised five times at once (a retried request): one live charge."""
    who, seller, cid = setup(api)
    payments.record(who, PaymentIn(customer_id=str(cid), amount=100, method="cash"))
    made = at_once(
        [lambda: charges.add(seller, charges.AddCharge(cid, 6000, "shipping", key="parcel:1"))] * 5
    )
    assert len({m["_id"] for m in made}) == 1, made
    assert db.get_db().charges.count_documents({"key": "parcel:1"}) == 1
    assert check_ledger() == {cid: 4000}


def test_a_fee_edit_and_a_payment_at_once(api):
    """A keyed charge lowered (money above the new amount → credit) while a payment
    comes in, and raised while the same buyer's charge is voided."""
    who, seller, cid = setup(api)
    for _ in range(3):
        charges.add(seller, charges.AddCharge(cid, 6000, "shipping", key="parcel:9"))
        payments.record(who, PaymentIn(customer_id=str(cid), amount=50, method="cash"))
        other = charges.add(seller, charges.AddCharge(cid, 1000, "packaging"))
        results = at_once(
            [
                lambda: charges.set_amount_keyed(seller, "parcel:9", 2000),
                pay(who, cid, 30),
                lambda: charges.void(seller, other["_id"]),
            ]
        )
        assert not any(isinstance(r, str) for r in results), results
        check_ledger()
        live = charges.by_key(seller, ["parcel:9"])["parcel:9"]
        assert live["amount"] == 2000
        charges.void_keyed(seller, "parcel:9")
        check_ledger()


def test_the_same_idempotency_key_pressed_five_times_at_once(api):
    """POST /charges with one Idempotency-Key five times at once (a double click, a
    retry): one charge, paid once from the buyer's credit."""
    from chalicelib.money.schemas import ChargeIn

    who, seller, cid = setup(api)
    payments.record(who, PaymentIn(customer_id=str(cid), amount=100, method="cash"))
    body = ChargeIn(customer_id=str(cid), amount=60, kind="shipping")
    made = at_once([lambda: charges.create(who, body, "dbl-click")[0]] * 5)
    assert all(isinstance(m, dict) for m in made), made  # each answer is the one charge
    assert len({m["id"] for m in made}) == 1, made
    assert db.get_db().charges.count_documents({"customer_id": cid}) == 1
    assert check_ledger() == {cid: 4000}
