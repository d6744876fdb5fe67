"""A form's flat fee and the buyer's credit under racing submissions, on the real servers
(FerretDB over a socket and mongo-java-server; threads share one connection pool).

After every race the ledger is checked whole (payment_ledger.check_ledger): money on
orders and charges plus credit equals the confirmed payments, no order or charge holds
more than it costs, nothing is half-applied. So credit is never spent twice, and (issue 27) submissions in a
known buyer's name spend none of it."""

from __future__ import annotations

import pytest
from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.accounts import auth
from chalicelib.money import payments
from chalicelib.money.schemas import CreditUseIn, PaymentIn
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


def credit_payment(amy) -> dict:
    """The payment Amy's credit came from (the first one recorded)."""
    return db.get_db().payments.find_one({"customer_id": ObjectId(amy)}, sort=[("created_at", 1), ("_id", 1)])


def test_submissions_in_a_known_buyers_name_at_once_spend_none_of_her_credit(api):
    """Amy has 250 of credit; five submissions in her name at once (100 + 60 of shipping
    each): five orders and five charges, all held for the seller, none of them paid
    by the credit (issue 27: anyone may type her email)."""
    token, item_id, amy, _ = setup(api, credit=250)
    results = at_once([order(token, item_id, client=f"ip{n}") for n in range(5)])
    assert all(isinstance(r, tuple) and r[1] for r in results), results
    assert check_ledger() == {ObjectId(amy): 25000}
    assert owed_and_paid() == (80000, 0)
    d = db.get_db()
    assert d.orders.count_documents({"credit_held": True}) == 5
    charges = list(d.charges.find())
    assert len(charges) == 5 and {c["amount"] for c in charges} == {6000}
    assert all(c["credit_held"] for c in charges)
    assert {c["submission_id"] for c in charges} == {o["submission_id"] for o in d.orders.find()}
    assert [r[0]["balance"] for r in results] == [160] * 5


def test_two_submissions_and_a_seller_payment_at_once_leave_the_credit_alone(api):
    """Two submissions in Amy's name and a payment the seller records (oldest first) at
    once: the payment's new money lands once, on held orders and charges or as credit
    (the seller allocated it); the credit Amy had is on nothing."""
    token, item_id, amy, shop = setup(api, credit=100)
    pay = lambda: payments.record(shop, PaymentIn(customer_id=amy, amount=200, method="cash"))[0]  # noqa: E731
    results = at_once([order(token, item_id, client=f"ip{n}") for n in range(2)] + [pay])
    assert all(not isinstance(r, str) for r in results), results
    first = credit_payment(amy)
    assert (first["allocations"], first["unallocated"]) == ([], 10000)
    credit = check_ledger()[ObjectId(amy)]  # money on debts + credit = the payments
    assert owed_and_paid() == (2 * 16000, 30000 - credit)
    assert 10000 <= credit <= 30000


def test_the_seller_spending_credit_twice_while_submissions_come_in_spends_it_once(api):
    """POST /payments/use-credit pressed twice at once while two submissions in Amy's
    name come in: her 250 is spent at most once, on whatever held debts existed."""
    token, item_id, amy, shop = setup(api, credit=250)
    assert isinstance(order(token, item_id, client="first")(), tuple)  # one there already
    spend = lambda: payments.apply_credit(shop, CreditUseIn(customer_id=amy))  # noqa: E731
    results = at_once([spend, spend] + [order(token, item_id, client=f"ip{n}") for n in range(2)])
    assert all(not isinstance(r, str) for r in results), results
    used = sum(r["used"] for r in results if isinstance(r, dict))
    credit = check_ledger().get(ObjectId(amy), 0)
    assert used * 100 + credit == 25000
    assert owed_and_paid() == (3 * 16000, 25000 - credit)
    assert used >= 160  # the first submission's 160 was there for both presses


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
