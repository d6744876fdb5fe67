"""An order's history tells the truth (issue 26): every edit of quantity, unit price,
shipping fee, buyer, batch and cost is an entry `{at, field, from, to, by}`, written in
the same update as the change; a value sent again or a refused PATCH writes none; the
entries other paths write say their source (bulk, payment, parcel, merge)."""

from __future__ import annotations

import pytest
from bson import ObjectId

from chalicelib.platform import clock, db
from chalicelib.platform.money import from_cents
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn, OrderPatch
from tests.conftest import at_once
from tests.factories import make_customer, make_item, make_order, make_payment, make_principal


def me(api, token) -> str:
    """The seller's id: the actor the token names (no staff accounts yet)."""
    return api.get("/auth/me", token=token).json["id"]


def history(api, token, order_id) -> list[dict]:
    return api.get(f"/orders/{order_id}", token=token).json["history"]


def entries(hist, *keys) -> list[tuple]:
    return [tuple(h[k] for k in ("field", "from", "to", "by", *keys)) for h in hist]


def patch(api, token, order_id, body):
    r = api.patch(f"/orders/{order_id}", body, token=token)
    assert r.status == 200, r
    return r.json


def test_each_edited_field_has_its_entry_with_from_to_and_by(api, token):
    seller = me(api, token)
    o = make_order(api, token, quantity=2, unit_price=10, shipping_fee=0, batch="2026-12 A")

    patch(api, token, o["id"], {"quantity": 3})
    patch(api, token, o["id"], {"unit_price": 12.5})
    patch(api, token, o["id"], {"shipping_fee": 60})
    patch(api, token, o["id"], {"batch": "2026-12 B"})
    patch(api, token, o["id"], {"batch": None})
    patch(api, token, o["id"], {"cost": 1500, "cost_currency": "JPY"})
    patch(api, token, o["id"], {"cost": 12.5, "cost_currency": "USD"})
    after = patch(api, token, o["id"], {"fulfillment_status": "purchased"})  # the one-command path

    hist = after["history"]
    assert entries(hist) == [
        ("quantity", 2, 3, seller),
        ("unit_price", 10, 12.5, seller),  # money as the order's money fields
        ("shipping_fee", 0, 60, seller),
        ("batch", "2026-12 A", "2026-12 B", seller),
        ("batch", "2026-12 B", None, seller),
        ("cost", None, 1500, seller),
        ("cost", 1500, 12.5, seller),
        ("fulfillment_status", "pending", "purchased", seller),
    ]
    costs = [(h["from_currency"], h["to_currency"]) for h in hist if h["field"] == "cost"]
    assert costs == [(None, "JPY"), ("JPY", "USD")]
    assert (after["quantity"], after["unit_price"], after["shipping_fee"], after["batch"]) == (
        3,
        12.5,
        60,
        None,
    )
    # Stored: cents, as the order's own fields.
    stored = db.get_db().orders.find_one({"_id": ObjectId(o["id"])})["history"]
    assert [(h["from"], h["to"]) for h in stored if h["field"] == "unit_price"] == [(1000, 1250)]
    assert [(h["from"], h["to"]) for h in stored if h["field"] == "cost"] == [(None, 1500), (1500, 1250)]


def test_one_patch_writes_one_entry_per_changed_field_and_none_for_the_same_value(api, token):
    seller = me(api, token)
    o = make_order(
        api, token, quantity=2, unit_price=10, shipping_fee=5, batch="X", cost=3, cost_currency="TWD"
    )

    # Everything sent again as it is: no entry.
    same = {
        "quantity": 2,
        "unit_price": 10,
        "shipping_fee": 5,
        "batch": "X",
        "cost": 3,
        "cost_currency": "TWD",
    }
    assert patch(api, token, o["id"], same)["history"] == []
    assert patch(api, token, o["id"], {"fulfillment_status": "pending"})["history"] == []

    # Some changed, some not: only the changed ones, in one update.
    after = patch(api, token, o["id"], {**same, "quantity": 4, "shipping_fee": 7.5, "batch": "Y"})
    assert entries(after["history"]) == [
        ("quantity", 2, 4, seller),
        ("shipping_fee", 5, 7.5, seller),
        ("batch", "X", "Y", seller),
    ]
    stored = db.get_db().orders.find_one({"_id": ObjectId(o["id"])})
    assert (stored["quantity"], stored["shipping_fee"]) == (4, 750)


def test_a_refused_patch_writes_neither_the_change_nor_an_entry(api, token):
    seller = me(api, token)
    item = make_item(api, token, item_name="Figure", price=100, stock=3)
    o = make_order(api, token, item_id=item["id"], quantity=1)
    patch(api, token, o["id"], {"quantity": 2})  # one real edit first
    closed = api.patch("/batches/Closed", {"closed": True}, token=token)
    assert closed.status == 200, closed
    before = db.get_db().orders.find_one({"_id": ObjectId(o["id"])})

    for body, status, field in [
        ({"quantity": 0}, 400, "quantity"),
        ({"unit_price": -1}, 400, "unit_price"),
        ({"unit_price": "ten"}, 400, "unit_price"),
        ({"shipping_fee": 1.234}, 400, "shipping_fee"),
        ({"quantity": 3, "cost": -5}, 400, "cost"),
        ({"quantity": 9}, 409, "quantity"),  # 1 left in stock: insufficient_stock
        ({"unit_price": 50, "batch": "Closed"}, 409, None),  # refused after the plan
    ]:
        r = api.patch(f"/orders/{o['id']}", body, token=token)
        assert r.status == status, (body, r)
        if field is not None:
            assert field in [d.get("field") for d in r.json["error"].get("details", [])], (body, r.json)
    assert db.get_db().orders.find_one({"_id": ObjectId(o["id"])}) == before
    assert entries(history(api, token, o["id"])) == [("quantity", 1, 2, seller)]


def test_the_buyer_change_names_both_buyers_and_who(api, token):
    seller = me(api, token)
    o = make_order(api, token)
    bob = make_customer(api, token, name="Bob", email="bob@example.com")
    after = patch(api, token, o["id"], {"customer_id": bob["id"]})
    assert entries(after["history"], "from_name", "to_name") == [
        ("customer_id", o["customer_id"], bob["id"], seller, o["buyer_name"], "Bob")
    ]
    # The same buyer again: nothing.
    assert patch(api, token, o["id"], {"customer_id": bob["id"]})["history"] == after["history"]


def test_bulk_payment_and_parcel_entries_say_their_source(api, token):
    a = make_order(api, token, unit_price=100)
    b = make_order(api, token, unit_price=100)
    c = make_order(api, token, unit_price=100)

    r = api.post(
        "/orders/bulk", {"ids": [a["id"], b["id"]], "set": {"fulfillment_status": "purchased"}}, token=token
    )
    assert r.status == 200 and r.json["updated"] == 2, r
    make_payment(api, token, a["customer_id"], 100)  # pays the oldest: a
    patch(api, token, b["id"], {"payment_status": "remitted"})  # the 已匯款 switch records a payment
    r = api.post(
        "/parcels", {"customer_id": c["customer_id"], "order_ids": [c["id"]], "method": "home"}, token=token
    )
    assert r.status == 201, r

    assert entries(history(api, token, a["id"])) == [
        ("fulfillment_status", "pending", "purchased", "bulk"),
        ("payment_status", "unpaid", "remitted", "payment"),
    ]
    assert entries(history(api, token, b["id"])) == [
        ("fulfillment_status", "pending", "purchased", "bulk"),
        ("payment_status", "unpaid", "remitted", "payment"),
    ]
    assert entries(history(api, token, c["id"])) == [("fulfillment_status", "pending", "shipped", "parcel")]


def test_entries_written_before_by_stay_readable(api, token):
    """An old status entry has no `by` (and one of the one-command path no `from`); an
    old buyer change named the buyers only: shown as a customer_id entry with names."""
    o = make_order(api, token)
    at = clock.now()
    db.get_db().orders.update_one(
        {"_id": ObjectId(o["id"])},
        {
            "$push": {
                "history": {
                    "$each": [
                        {"at": at, "field": "payment_status", "to": "remitted"},
                        {"at": at, "field": "buyer", "from": "Amy", "to": "Bob"},
                    ]
                }
            }
        },
    )
    hist = history(api, token, o["id"])
    assert entries(hist, "from_name", "to_name") == [
        ("payment_status", "unpaid", "remitted", None, None, None),
        ("customer_id", None, None, None, "Amy", "Bob"),
    ]


@pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)
def test_edits_at_once_leave_a_history_that_chains(api):
    """Quantity and price edits of one order racing each other: every edit that answered
    is in the history once, each entry's `from` is the entry before's `to`, and the last
    one is the order's value (an entry never without its change, nor the reverse)."""
    principal = make_principal(api)
    for _ in range(3):
        o, _ = orders.create(
            principal, OrderIn(buyer_email="a@example.com", item_name="Tea", quantity=1, unit_price=10)
        )
        patches = [OrderPatch(quantity=q) for q in (2, 3, 4)] + [
            OrderPatch(unit_price=p) for p in (11, 12, 13)
        ]
        results = at_once([lambda p=p: orders.update(principal, o["id"], p, attempts=20) for p in patches])
        done = [p for p, res in zip(patches, results) if isinstance(res, dict)]
        final = orders.get(principal, o["id"])
        for field, start in (("quantity", 1), ("unit_price", 10)):
            chain = [(h["from"], h["to"]) for h in final["history"] if h["field"] == field]
            sent = [getattr(p, field) for p in done if getattr(p, field) is not None]
            wanted = sorted(v if field == "quantity" else from_cents(v) for v in sent)  # a price: cents
            assert sorted(to for _, to in chain) == wanted
            value = start
            for before, to in chain:
                assert before == value
                value = to
            assert value == final[field]
        assert all(h["by"] == principal.actor_id for h in final["history"])
