"""A form's flat fee and the buyer's credit under racing submissions, on the real servers
(FerretDB over a socket and mongo-java-server; threads share one connection pool).

After every race the ledger is checked whole (payment_ledger.check_ledger): money on
orders and charges plus credit equals the confirmed payments, no order or charge holds
more than it costs, nothing is half-applied. So credit is never spent twice."""

from __future__ import annotations

import pytest
from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.accounts import auth
from chalicelib.money import payments
from chalicelib.money.schemas import PaymentIn
from chalicelib.platform import db
from chalicelib.sales import forms
from chalicelib.sales.schemas import FormOrderIn
from tests.conftest import at_once
from tests.factories import make_customer, make_item

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)


def setup(api, credit: int, fee=60):
    """A seller with a flat-fee form, and Amy with `credit` (a payment while she owes
    nothing). Returns (form link token, the item's id, Amy's id, the seller)."""
    t = api.signup()
    item = make_item(api, t, item_name="Pocky", price=100)
    body = {
        "batch": "B",
        "title": "Race",
        "items": [{"item_id": item["id"]}],
        "shipping": {"mode": "flat", "fee": fee},
    }
    form = api.post("/forms", body, token=t).json
    amy = make_customer(api, t)
    if credit:
        r = api.post("/payments", {"customer_id": amy["id"], "amount": credit, "method": "cash"}, token=t)
        assert r.status == 201 and r.json["allocations"] == []
    return form["url"].split("#")[1], item["id"], amy["id"], auth.authenticate(f"Bearer {t}")


def order(token, item_id, key=None, client="ip"):
    body = FormOrderIn(name="Amy", email="amy@example.com", lines=[{"item_id": item_id, "quantity": 1}])
    return lambda: forms.submit(token, body, client, key)


def owed_and_paid() -> tuple[int, int]:
    d = db.get_db()
    debts = list(d.orders.find()) + [c for c in d.charges.find() if c["status"] == "open"]
    amount = sum(x.get("total_amount", x.get("amount", 0)) for x in debts)
    return amount, sum(x.get("paid_amount", 0) for x in debts)


def test_submissions_of_one_buyer_with_credit_at_once_spend_it_once(api):
    """Amy has 250 of credit; five submissions of hers at once (100 + 60 of shipping
    each): five orders and five charges, 250 of the 800 paid by the credit, no more."""
    token, item_id, amy, _ = setup(api, credit=250)
    results = at_once([order(token, item_id, client=f"ip{n}") for n in range(5)])
    assert all(isinstance(r, tuple) and r[1] for r in results), results
    d = db.get_db()
    assert d.orders.count_documents({}) == 5
    charges = list(d.charges.find())
    assert len(charges) == 5 and {c["amount"] for c in charges} == {6000}
    assert len({c["submission_id"] for c in charges}) == 5
    assert {c["submission_id"] for c in charges} == {o["submission_id"] for o in d.orders.find()}
    assert check_ledger() == {}  # the credit is gone: all of it on orders and charges
    assert owed_and_paid() == (80000, 25000)
    # The answers' balances add up to what is still owed.
    assert sum(r[0]["balance"] for r in results) == 550


def test_more_credit_than_owed_stays_credit_whatever_the_race(api):
    token, item_id, amy, _ = setup(api, credit=1000)
    results = at_once([order(token, item_id, client=f"ip{n}") for n in range(4)])
    assert all(isinstance(r, tuple) and r[0]["balance"] == 0 for r in results), results
    assert check_ledger() == {ObjectId(amy): 1000 * 100 - 4 * 16000}
    assert owed_and_paid() == (64000, 64000)


def test_a_double_tap_at_once_makes_one_charge(api):
    token, item_id, amy, _ = setup(api, credit=0)
    results = at_once([order(token, item_id, key="tap") for _ in range(5)])
    answers = [r for r in results if isinstance(r, tuple)]
    assert answers, results
    assert set(r for r in results if not isinstance(r, tuple)) <= {"idempotency_key_in_use"}
    assert {(r[0]["balance"], r[0]["shipping_fee"]) for r in answers} == {(160, 60)}
    assert db.get_db().orders.count_documents({}) == 1
    assert db.get_db().charges.count_documents({}) == 1
    check_ledger()


def test_a_payment_racing_submissions_lands_once(api):
    """A payment the seller records while Amy's submissions come in: every cent of it is
    on an order, a charge or credit, once."""
    token, item_id, amy, shop = setup(api, credit=100)
    pay = lambda: payments.record(shop, PaymentIn(customer_id=amy, amount=200, method="cash"))[0]  # noqa: E731
    results = at_once([order(token, item_id, client=f"ip{n}") for n in range(3)] + [pay])
    assert all(not isinstance(r, str) for r in results), results
    assert check_ledger() == {}  # 300 of money, 480 owed: all of it used, once
    assert owed_and_paid() == (3 * 16000, 30000)
