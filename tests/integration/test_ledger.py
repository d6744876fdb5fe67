"""The buyer's money as one unit of work (chalicelib/money/ledger.py, issue 24 step 3):
what `for_buyer` promises the payment functions written on it, on every lane."""

from __future__ import annotations

import pytest
from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.accounts import auth
from chalicelib.money import payments
from chalicelib.platform import db
from tests.factories import make_order


def credit(customer_id) -> int:
    return db.get_db().customers.find_one({"_id": customer_id}).get("credit", 0)


def half_applied(api, token, monkeypatch):
    """A payment of 300 for two orders of 100, cut short after the first order: 100 of
    it on no order yet, and the cached credit not refreshed."""
    a = make_order(api, token, unit_price=100)
    make_order(api, token, unit_price=100)
    real = payments._set_share
    calls = []

    def dies_second_time(*args, **kw):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("Lambda timed out")
        return real(*args, **kw)

    monkeypatch.setattr(payments, "_set_share", dies_second_time)
    body = {"customer_id": a["customer_id"], "amount": 300, "method": "bank_transfer"}
    assert api.post("/payments", body, token=token).status == 500
    monkeypatch.setattr(payments, "_set_share", real)
    seller_id = ObjectId(auth.authenticate(f"Bearer {token}").seller_id)
    return seller_id, ObjectId(a["customer_id"])


def test_earlier_work_is_finished_first_and_its_credit_kept_even_when_the_new_work_fails(
    api, token, monkeypatch
):
    seller_id, customer_id = half_applied(api, token, monkeypatch)
    (p,) = db.get_db().payments.find()
    assert p["applied"] is False and credit(customer_id) == 0

    with pytest.raises(RuntimeError), payments._ledger.for_buyer(seller_id, customer_id) as uow:
        assert db.get_db().payments.find_one()["applied"] is True  # before the work
        uow.credit_changed()
        raise RuntimeError("the new work fails")

    assert credit(customer_id) == 10000  # 100.00 left over, synced by the finishing
    check_ledger()


def test_the_credit_is_synced_on_a_clean_exit_only_when_the_work_says_it_changed(api, token, monkeypatch):
    seller_id, customer_id = half_applied(api, token, monkeypatch)
    with payments._ledger.for_buyer(seller_id, customer_id):
        pass  # finishes the payment: 100.00 of credit
    customers = db.get_db().customers
    customers.update_one({"_id": customer_id}, {"$set": {"credit": 7}})  # a stale cache

    with payments._ledger.for_buyer(seller_id, customer_id):
        pass
    assert credit(customer_id) == 7  # nothing finished, nothing said: no commands spent

    with pytest.raises(RuntimeError), payments._ledger.for_buyer(seller_id, customer_id) as uow:
        uow.credit_changed()
        raise RuntimeError("cut short")
    assert credit(customer_id) == 7  # a failed unit of work writes no credit

    # The failed one gave the buyer's lock back: this one does not wait for it (busy).
    with payments._ledger.for_buyer(seller_id, customer_id) as uow:
        uow.credit_changed()
    assert credit(customer_id) == 10000
