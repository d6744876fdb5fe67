"""Parcels racing each other and order edits on the real servers: an order ends in at
most one parcel, a parcel holds only orders that are really in it, and an order cancelled
while it is packed is never shipped."""

from __future__ import annotations

import pytest
from bson import ObjectId

from chalicelib import auth, db, orders, parcels
from chalicelib.models import OrderIn, OrderPatch, ParcelIn
from tests.conftest import at_once

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)


def consistent():
    """Every order with a parcel_id is listed by that parcel, and every parcel's orders
    carry its id."""
    boxes = {p["_id"]: p for p in db.get_db().parcels.find()}
    for o in db.get_db().orders.find():
        if o.get("parcel_id") is not None:
            assert o["_id"] in boxes[o["parcel_id"]]["order_ids"], o
            assert o["fulfillment_status"] in ("shipped", "delivered"), o
    for p in boxes.values():
        held = {o["_id"] for o in db.get_db().orders.find({"parcel_id": p["_id"]})}
        assert held == set(p["order_ids"]), p
    return boxes


def test_five_parcels_for_the_same_orders_at_once(api):
    who = auth.authenticate(f"Bearer {api.signup()}")
    made = [
        orders.create(
            who, OrderIn(buyer_email="amy@example.com", item_name="Tea", quantity=1, unit_price=100)
        )[0]
        for _ in range(4)
    ]
    body = ParcelIn(customer_id=made[0]["customer_id"], order_ids=[o["id"] for o in made], method="home")
    results = at_once([lambda: parcels.create(who, body)[0]] * 5)
    won = [r for r in results if isinstance(r, dict)]
    assert len(won) == 1, results
    losers = [r for r in results if not isinstance(r, dict)]
    assert set(losers) <= {"order_in_parcel", "concurrent_update", "busy"}, losers
    boxes = consistent()
    assert len(boxes) == 1


def test_a_cancel_racing_the_packing_of_its_order(api):
    who = auth.authenticate(f"Bearer {api.signup()}")
    for _ in range(4):
        made = [
            orders.create(
                who, OrderIn(buyer_email="amy@example.com", item_name="Tea", quantity=1, unit_price=100)
            )[0]
            for _ in range(3)
        ]
        body = ParcelIn(customer_id=made[0]["customer_id"], order_ids=[o["id"] for o in made], method="home")
        at_once(
            [
                lambda: parcels.create(who, body)[0],
                lambda: orders.update(
                    who, made[1]["id"], OrderPatch(fulfillment_status="cancelled"), attempts=20
                ),
            ]
        )
        consistent()
        cancelled = db.get_db().orders.find_one({"_id": ObjectId(made[1]["id"])})
        if cancelled["fulfillment_status"] == "cancelled":
            assert cancelled.get("parcel_id") is None
