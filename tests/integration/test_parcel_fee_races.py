"""A parcel's shipping charge racing edits of its fee on the real servers (issue 26): however
two writes interleave, the parcel ends with exactly one live charge whose amount is its
final fee (none when the seller pays it or the parcel is gone), and the buyer's money adds
up (each charge's paid amount within its amount, voided ones hold nothing)."""

from __future__ import annotations

import pytest
from bson import ObjectId

from chalicelib.platform import db
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn
from chalicelib.shipping import parcels
from chalicelib.shipping.schemas import ParcelIn, ParcelPatch
from tests.conftest import at_once
from tests.factories import make_principal

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)

ROUNDS = 4


def new_parcel(who, fee=60):
    made = orders.create(
        who, OrderIn(buyer_email="amy@example.com", item_name="Tea", quantity=1, unit_price=100)
    )[0]
    body = ParcelIn(customer_id=made["customer_id"], order_ids=[made["id"]], method="home", shipping_fee=fee)
    return parcels.create(who, body)[0]["id"]


def billed_as_it_says(parcel_id: str) -> list[dict]:
    """The invariant: one live charge at the parcel's final fee, or none."""
    pid = ObjectId(parcel_id)
    parcel = db.get_db().parcels.find_one({"_id": pid})
    live = list(db.get_db().charges.find({"parcel_id": pid, "status": "open"}))
    if parcel is None or parcel.get("shipping_paid_by") == "seller" or parcel["shipping_fee"] == 0:
        assert live == [], (parcel, live)
    else:
        assert [c["amount"] for c in live] == [parcel["shipping_fee"]], (parcel, live)
        assert parcel.get("billing") is None, parcel
    for c in db.get_db().charges.find({"parcel_id": pid}):
        assert 0 <= c.get("paid_amount", 0) <= c["amount"], c
        if c["status"] == "void":
            assert c.get("paid_amount", 0) == 0, c
    return live


def test_two_edits_of_the_fee_at_once_leave_one_charge_at_the_final_fee(api):
    who = make_principal(api)
    for n in range(ROUNDS):
        pid = new_parcel(who)
        results = at_once(
            [
                lambda: parcels.update(who, pid, ParcelPatch(shipping_fee=80 + n)),
                lambda: parcels.update(who, pid, ParcelPatch(shipping_fee=0 if n % 2 else 95)),
            ]
        )
        assert all(isinstance(r, dict) or r in ("busy", "concurrent_update") for r in results), results
        billed_as_it_says(pid)


def test_who_pays_and_the_fee_edited_at_once(api):
    who = make_principal(api)
    for _ in range(ROUNDS):
        pid = new_parcel(who)
        at_once(
            [
                lambda: parcels.update(who, pid, ParcelPatch(shipping_paid_by="seller")),
                lambda: parcels.update(who, pid, ParcelPatch(shipping_fee=120)),
            ]
        )
        assert billed_as_it_says(pid) == []  # the seller pays, whatever the fee


def test_an_edit_of_the_fee_racing_the_unpacking(api):
    who = make_principal(api)
    for _ in range(ROUNDS):
        pid = new_parcel(who)
        results = at_once(
            [
                lambda: parcels.update(who, pid, ParcelPatch(shipping_fee=80)),
                lambda: parcels.delete(who, pid),
            ]
        )
        assert results[1] is None, results  # the unpacking always goes through
        assert db.get_db().parcels.find_one({"_id": ObjectId(pid)}) is None
        billed_as_it_says(pid)
