"""Bulk 已匯款 (`POST /orders/bulk {set: {payment_status: "remitted"}}`), issue 26: one
seller payment per buyer, all the buyers in one unit of work (payments.remit_many).

The command budget is the MongoDB path's (mongo-java-server: what the app sends Atlas);
the rest runs on every lane. The races against single payments and a second bulk call
are in test_bulk_remit_races.py.
"""

from __future__ import annotations

import pytest
from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.orderbook import repository
from chalicelib.platform import db, locks, store
from tests.factories import make_customer, make_order


def orders_of(api, token, buyers: int, per_buyer: int, price: int = 100) -> list[dict]:
    out = []
    for b in range(buyers):
        customer = make_customer(api, token, name=f"Buyer {b}", email=f"buyer{b}@example.com")
        for i in range(per_buyer):
            out.append(
                make_order(api, token, customer_id=customer["id"], item_name=f"Tea {i}", unit_price=price + i)
            )
    return out


def remit(api, token, ids):
    r = api.post("/orders/bulk", {"ids": ids, "set": {"payment_status": "remitted"}}, token=token)
    assert r.status == 200, r
    return r.json


@pytest.mark.parametrize("backend", ["mongo-java"], indirect=True)
@pytest.mark.parametrize("buyers", [4, 12])
def test_bulk_remit_costs_at_most_three_commands_per_buyer(api, token, commands, buyers):
    """30 buyers' orders used to cost 9.4 commands a buyer (lock, finish, read, insert,
    a write per order, mark, unlock): now a constant few for the whole call."""
    ids = [o["id"] for o in orders_of(api, token, buyers, 3)]
    commands.names.clear()
    commands.bodies.clear()
    out = remit(api, token, ids)
    assert (out["updated"], out["failed"]) == (len(ids), [])
    sent = [f"{n}:{b.get(n)}" for n, b in zip(commands.names, commands.bodies, strict=True)]
    assert len(sent) <= 3 * buyers + 8, sent
    # Nothing is sent per order: 3 orders a buyer would show here.
    assert sent.count("update:orders") == 1, sent


def test_bulk_remit_pays_each_buyer_once_and_a_second_press_pays_nothing(api, token):
    orders = orders_of(api, token, 3, 2)
    paid_before = orders[0]
    r = api.post(
        "/payments",
        {
            "customer_id": paid_before["customer_id"],
            "amount": 40,
            "method": "cash",
            "order_ids": [paid_before["id"]],
        },
        token=token,
    )
    assert r.status == 201, r
    refunded = make_order(api, token, customer_id=orders[2]["customer_id"], item_name="Bag", unit_price=30)
    assert api.patch(f"/orders/{refunded['id']}", {"payment_status": "refunded"}, token=token).status == 200
    ids = [o["id"] for o in orders] + [refunded["id"]]

    out = remit(api, token, ids)
    assert out["updated"] == len(orders)
    assert out["failed"] == [{"id": refunded["id"], "error": "invalid_transition"}]
    for o in orders:
        now = api.get(f"/orders/{o['id']}", token=token).json
        assert (now["payment_status"], now["paid_amount"], now["balance"]) == (
            "remitted",
            o["total_amount"],
            0,
        )
    switch = [p for p in api.get("/payments", token=token).json["items"] if p["method"] == "other"]
    assert sorted(p["customer_id"] for p in switch) == sorted({o["customer_id"] for o in orders})
    # The partly paid order's payment covers only what was still owed on it.
    first = next(p for p in switch if p["customer_id"] == paid_before["customer_id"])
    assert first["amount"] == orders[0]["total_amount"] - 40 + orders[1]["total_amount"]
    assert first["unallocated"] == 0

    again = remit(api, token, ids)
    assert again["updated"] == 0
    assert len([p for p in api.get("/payments", token=token).json["items"] if p["method"] == "other"]) == 3
    check_ledger()


def test_an_order_edited_while_the_shares_are_written_is_paid_one_by_one(api, token, monkeypatch):
    """An edit that does not take the buyer's lock (a note) lands between the read and
    the bulk write: that order's version no longer matches, so its payment is applied
    order by order (read again), and every order ends paid once."""
    orders = orders_of(api, token, 2, 2)
    first = ObjectId(orders[0]["id"])
    real = repository.set_payment_shares

    def edit_then_write(shares, now):
        db.get_db().orders.update_one({"_id": first}, {"$set": {"note": "gift wrap"}, "$inc": {"version": 1}})
        return real(shares, now)

    monkeypatch.setattr(repository, "set_payment_shares", edit_then_write)
    out = remit(api, token, [o["id"] for o in orders])
    assert (out["updated"], out["failed"]) == (4, [])
    docs = list(db.get_db().orders.find({"_id": {"$in": [ObjectId(o["id"]) for o in orders]}}))
    assert all(d["payment_status"] == "remitted" and d["paid_amount"] == d["total_amount"] for d in docs)
    assert db.get_db().orders.find_one({"_id": first})["note"] == "gift wrap"
    assert db.get_db().payments.count_documents({"applied": False}) == 0
    check_ledger()


def test_a_buyer_whose_money_stays_busy_fails_alone(api, token):
    """The buyers' locks are taken all or none: one buyer's money held elsewhere for the
    whole wait makes the call pay the others one by one, and only that buyer's orders
    come back failed (busy)."""
    orders = orders_of(api, token, 3, 1)
    busy = orders[1]
    seller_id = db.get_db().orders.find_one({"_id": ObjectId(busy["id"])})["seller_id"]
    with locks.held(store.money_key(seller_id, ObjectId(busy["customer_id"])), hold=30):
        out = remit(api, token, [o["id"] for o in orders])
    assert out["updated"] == 2
    assert out["failed"] == [{"id": busy["id"], "error": "busy"}]
    assert api.get(f"/orders/{busy['id']}", token=token).json["payment_status"] == "unpaid"
    check_ledger()
