"""Stock plus the units of live orders stays constant under every pair of concurrent
writes that move stock (issue 23, item 6): bulk and single, cancel and quantity, parcel
and cancel, on both real servers. A bulk cancel racing a quantity PATCH once left 103
units from 100 with no live order (the bulk gave back what it had read, not what the
order held when it was cancelled)."""

from __future__ import annotations

import uuid

import pytest
from bson import ObjectId

from chalicelib.catalog import items
from chalicelib.catalog.schemas import ItemIn
from chalicelib.platform import db
from chalicelib.rules import order_rules
from chalicelib.sales import orders
from chalicelib.sales.schemas import BulkIn, OrderIn, OrderPatch
from chalicelib.shipping import parcels
from chalicelib.shipping.schemas import ParcelIn
from tests.conftest import at_once
from tests.factories import make_principal

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)

STOCK = 100
ROUNDS = 10


def new_item(who) -> str:
    name = f"Figure {uuid.uuid4().hex[:6]}"
    return items.create(who, ItemIn(item_name=name, price=1000, stock=STOCK))["id"]


def new_order(who, item_id: str, quantity: int) -> dict:
    return orders.create(who, OrderIn(buyer_email="amy@example.com", item_id=item_id, quantity=quantity))[0]


def assert_stock_kept(item_id: str) -> None:
    """Stock + the units every order of the item still holds == the initial stock."""
    iid = ObjectId(item_id)
    stock = db.get_db().items.find_one({"_id": iid})["stock"]
    held = {
        str(o["_id"]): (o["fulfillment_status"], o["quantity"])
        for o in db.get_db().orders.find({"item_id": iid})
    }
    units = sum(order_rules.units_held(status, q) for status, q in held.values())
    assert stock + units == STOCK, (stock, held)


def patch(who, order_id, **changes):
    return lambda: orders.update(who, order_id, OrderPatch(**changes), attempts=20)


def bulk(who, ids, **set_):
    return lambda: orders.bulk_update(who, BulkIn.model_validate({"ids": ids, "set": set_}))


@pytest.mark.parametrize("new_quantity", [1, 7], ids=["lower", "higher"])
def test_bulk_cancel_racing_a_quantity_patch(api, new_quantity):
    who = make_principal(api)
    for r in range(ROUNDS):
        item_id = new_item(who)
        oid = new_order(who, item_id, 4)["id"]
        calls = [bulk(who, [oid], fulfillment_status="cancelled"), patch(who, oid, quantity=new_quantity)]
        at_once(calls if r % 2 else calls[::-1])
        assert_stock_kept(item_id)


@pytest.mark.parametrize("new_quantity", [1, 7], ids=["lower", "higher"])
def test_single_cancel_racing_a_quantity_patch(api, new_quantity):
    who = make_principal(api)
    for r in range(ROUNDS):
        item_id = new_item(who)
        oid = new_order(who, item_id, 4)["id"]
        calls = [patch(who, oid, fulfillment_status="cancelled"), patch(who, oid, quantity=new_quantity)]
        at_once(calls if r % 2 else calls[::-1])
        assert_stock_kept(item_id)


def test_bulk_cancel_racing_a_single_cancel(api):
    who = make_principal(api)
    for r in range(ROUNDS):
        item_id = new_item(who)
        ids = [new_order(who, item_id, q)["id"] for q in (2, 3, 5)]
        calls = [bulk(who, ids, fulfillment_status="cancelled")]
        calls += [patch(who, i, fulfillment_status="cancelled") for i in ids]
        at_once(calls if r % 2 else calls[::-1])
        assert_stock_kept(item_id)
        assert {o["fulfillment_status"] for o in db.get_db().orders.find({"item_id": ObjectId(item_id)})} == {
            "cancelled"
        }


def test_bulk_quantity_and_cancel_on_orders_being_packed(api):
    """Packing ships the orders; a cancel of a packed order is refused, one that came
    first keeps it out of the parcel. Either way the stock adds up."""
    who = make_principal(api)
    for r in range(ROUNDS):
        item_id = new_item(who)
        made = [new_order(who, item_id, q) for q in (2, 3)]
        ids = [o["id"] for o in made]
        body = ParcelIn(customer_id=made[0]["customer_id"], order_ids=ids, method="home")
        calls = [
            lambda: parcels.create(who, body),
            bulk(who, [ids[0]], fulfillment_status="cancelled"),
            patch(who, ids[1], fulfillment_status="cancelled"),
            patch(who, ids[1], quantity=6),
        ]
        at_once(calls if r % 2 else calls[::-1])
        assert_stock_kept(item_id)
        for o in db.get_db().orders.find({"item_id": ObjectId(item_id)}):
            assert not (o["fulfillment_status"] == "cancelled" and o.get("parcel_id")), o
