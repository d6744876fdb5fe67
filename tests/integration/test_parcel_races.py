"""Parcels racing each other and order edits on the real servers: an order ends in at
most one parcel, a parcel holds only orders that are really in it, and an order cancelled
while it is packed is never shipped."""

from __future__ import annotations

import pytest
from bson import ObjectId

from chalicelib.accounts import auth
from chalicelib.buyers import customers
from chalicelib.buyers.schemas import CustomerPatch
from chalicelib.platform import db
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn, OrderPatch
from chalicelib.shipping import parcels
from chalicelib.shipping.schemas import ParcelIn, ParcelPatch, Recipient
from tests.conftest import at_once
from tests.factories import make_principal

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
    who = make_principal(api)
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
    who = make_principal(api)
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


def names_current(cid):
    """The parcels, orders and payments of the buyer carry the buyer's name as it is now."""
    name = db.get_db().customers.find_one({"_id": ObjectId(cid)})["name"]
    for coll in ("parcels", "orders", "payments"):
        held = {d["buyer_name"] for d in db.get_db()[coll].find({"customer_id": ObjectId(cid)})}
        assert held <= {name}, (coll, held, name)
    return name


def test_a_rename_racing_the_packing_ends_with_the_new_name_on_the_parcel(api):
    who = make_principal(api)
    for n in range(5):
        made = [
            orders.create(
                who, OrderIn(buyer_email="amy@example.com", item_name="Tea", quantity=1, unit_price=100)
            )[0]
            for _ in range(2)
        ]
        cid = made[0]["customer_id"]
        body = ParcelIn(
            customer_id=cid,
            order_ids=[o["id"] for o in made],
            method="home",
            recipient=Recipient(phone="0912"),
        )
        out = at_once(
            [
                lambda: parcels.create(who, body)[0],
                lambda: customers.update(who, cid, CustomerPatch(name=f"Amy {n}")),
            ]
        )
        assert isinstance(out[0], dict), out
        consistent()
        assert names_current(cid) == f"Amy {n}"
        assert db.get_db().parcels.find_one({"_id": ObjectId(out[0]["id"])})["buyer_name"] == f"Amy {n}"


def test_two_renames_at_once_leave_the_current_name_everywhere(api):
    who = make_principal(api)
    made = [
        orders.create(
            who, OrderIn(buyer_email="amy@example.com", item_name="Tea", quantity=1, unit_price=100)
        )[0]
        for _ in range(3)
    ]
    cid = made[0]["customer_id"]
    parcels.create(who, ParcelIn(customer_id=cid, order_ids=[made[0]["id"]], method="home"))
    for n in range(5):
        at_once(
            [lambda n=n, k=k: customers.update(who, cid, CustomerPatch(name=f"Amy {n}{k}")) for k in "abc"]
        )
        assert names_current(cid).startswith(f"Amy {n}")


def test_two_recipient_edits_of_different_fields_at_once_both_stay(api):
    who = make_principal(api)
    for n in range(4):
        made = orders.create(
            who, OrderIn(buyer_email="amy@example.com", item_name="Tea", quantity=1, unit_price=100)
        )[0]
        p = parcels.create(
            who,
            ParcelIn(
                customer_id=made["customer_id"],
                order_ids=[made["id"]],
                method="home",
                recipient=Recipient(name="Amy", phone="0912", address="台北市"),
            ),
        )[0]
        at_once(
            [
                lambda: parcels.update(who, p["id"], ParcelPatch(recipient=Recipient(phone=f"09{n}"))),
                lambda: parcels.update(who, p["id"], ParcelPatch(recipient=Recipient(address=f"台中市 {n}"))),
            ]
        )
        stored = db.get_db().parcels.find_one({"_id": ObjectId(p["id"])})["recipient"]
        assert (stored["name"], stored["phone"], stored["address"]) == ("Amy", f"09{n}", f"台中市 {n}"), (
            stored
        )


def test_renames_through_the_api_at_once_leave_the_current_name_on_every_copy(api):
    """The same race where the copies are written by the event handlers after each
    route's write (bus.collecting in web.api), a payment and a link included, with a
    parcel being packed meanwhile: parcels (buyer and default recipient), orders,
    payments and the link all end with the buyer's current name."""
    token = api.signup()
    who = auth.authenticate(f"Bearer {token}")
    made = [
        orders.create(
            who, OrderIn(buyer_email="amy@example.com", item_name="Tea", quantity=1, unit_price=100)
        )[0]
        for _ in range(4)
    ]
    cid = made[0]["customer_id"]
    link = api.post(f"/customers/{cid}/tracking-link", token=token).json["token"]
    assert (
        api.post("/payments", {"customer_id": cid, "amount": 100, "method": "cash"}, token=token).status
        == 201
    )
    for n in range(3):
        box = {"customer_id": cid, "order_ids": [made[n + 1]["id"]], "method": "home"}
        results = at_once(
            [lambda box=box: api.post("/parcels", box, token=token).status]
            + [
                lambda n=n, k=k: api.patch(f"/customers/{cid}", {"name": f"Amy {n}{k}"}, token=token).status
                for k in "ab"
            ]
        )
        assert results == [201, 200, 200], results
        consistent()
        name = names_current(cid)
        assert name.startswith(f"Amy {n}")
        recipients = {
            p["recipient"]["name"] for p in db.get_db().parcels.find({"customer_id": ObjectId(cid)})
        }
        assert recipients == {name}, (recipients, name)
        assert api.get(f"/track/{link}").json["buyer_name"] == name
