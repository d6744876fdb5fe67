"""Exchange rates changing while orders are written, on the real servers: whatever lands
first, every order of the batch ends converted at the batch's latest rates
(chalicelib/catalog/batches.py: the sweep and `settle` meet from both sides)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.catalog import batches
from chalicelib.catalog.schemas import BatchPatch
from chalicelib.platform import currencies, db
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn, OrderPatch
from tests.conftest import at_once
from tests.factories import make_principal

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)

TRIP = "2026-12 東京"


def converted_at_latest_rates(seller_id, shop="TWD"):
    """Every order with a cost holds what its batch's stored rates give today."""
    docs = {d["name"]: d for d in db.get_db().batches.find({"seller_id": seller_id})}
    checked = 0
    for o in db.get_db().orders.find({"seller_id": seller_id, "cost": {"$ne": None}}):
        doc = docs.get(o.get("batch")) or {}
        rate = (doc.get("rates") or {}).get(o["cost_currency"])
        want = currencies.convert(
            o["cost"], o["cost_currency"], o["quantity"], Decimal(rate) if rate else None, shop
        )
        assert o["cost_amount"] == want, (o["order_no"], o["cost_amount"], want, doc.get("rates"))
        assert o["cost_state"] == ("known" if want is not None else "no_rate")
        checked += 1
    return docs, checked


def seller(api):
    who = make_principal(api)
    from bson import ObjectId

    return who, ObjectId(who.seller_id)


def new_order(who, quantity=1, **kw):
    body = {
        "buyer_email": "amy@example.com",
        "item_name": "Pocky",
        "quantity": quantity,
        "unit_price": 300,
        "batch": TRIP,
        "cost": Decimal(1000),
        "cost_currency": "JPY",
        **kw,
    }
    return orders.create(who, OrderIn(**body))[0]


def test_orders_created_while_the_rate_changes_end_at_the_latest_rate(api):
    who, sid = seller(api)
    batches.update(who, TRIP, BatchPatch(rates={"JPY": Decimal("0.2")}))
    rates = ["0.21", "0.22", "0.23", "0.24"]
    calls = [lambda q=q: new_order(who, quantity=q) for q in range(1, 9)]
    calls += [lambda r=r: batches.update(who, TRIP, BatchPatch(rates={"JPY": Decimal(r)})) for r in rates]
    results = at_once(calls)
    assert all(isinstance(r, dict) for r in results), results
    docs, checked = converted_at_latest_rates(sid)
    assert checked == 8
    assert docs[TRIP]["rates"]["JPY"] in rates
    assert docs[TRIP]["rates_version"] == 5  # every PATCH of rates counted once


def test_two_rate_changes_at_once_leave_every_order_on_the_one_that_won(api):
    who, sid = seller(api)
    for q in range(1, 13):
        new_order(who, quantity=q, cost_currency="KRW" if q % 3 == 0 else "JPY")
    patches = [
        BatchPatch(rates={"JPY": Decimal("0.2115"), "KRW": Decimal("0.0235")}),
        BatchPatch(rates={"JPY": Decimal("0.199"), "KRW": Decimal("0.024")}),
        BatchPatch(rates={"JPY": Decimal("0.25")}),
    ]
    for _ in range(3):  # the interleavings differ from run to run: try a few
        results = at_once([lambda p=p: batches.update(who, TRIP, p) for p in patches])
        assert all(isinstance(r, dict) for r in results), results
        _, checked = converted_at_latest_rates(sid)
        assert checked == 12


def test_quantity_and_cost_edits_racing_a_rate_change(api):
    who, sid = seller(api)
    made = [new_order(who) for _ in range(6)]
    calls = [
        lambda o=o, i=i: orders.update(who, o["id"], OrderPatch(quantity=i + 2))
        for i, o in enumerate(made[:3])
    ]
    calls += [lambda o=o: orders.update(who, o["id"], OrderPatch(cost=Decimal(777))) for o in made[3:]]
    calls += [lambda: batches.update(who, TRIP, BatchPatch(rates={"JPY": Decimal("0.3")}))]
    calls += [lambda: batches.update(who, TRIP, BatchPatch(rates={"JPY": Decimal("0.31")}))]
    results = at_once(calls)
    assert all(isinstance(r, dict) or r == "concurrent_update" for r in results), results
    _, checked = converted_at_latest_rates(sid)
    assert checked == 6


def test_first_patches_of_a_new_batch_at_once_make_one_batch(api):
    who, sid = seller(api)
    new_order(who)
    notes = [f"note {i}" for i in range(6)]
    results = at_once([lambda n=n: batches.update(who, TRIP, BatchPatch(note=n)) for n in notes])
    assert all(isinstance(r, dict) for r in results), results
    (doc,) = db.get_db().batches.find({"seller_id": sid, "name": TRIP})
    assert doc["note"] in notes


def test_closing_while_rates_change(api):
    who, sid = seller(api)
    new_order(who, quantity=2)
    batches.update(who, TRIP, BatchPatch(rates={"JPY": Decimal("0.2")}))
    results = at_once(
        [
            lambda: batches.update(who, TRIP, BatchPatch(closed=True)),
            lambda: batches.update(who, TRIP, BatchPatch(rates={"JPY": Decimal("0.5")})),
        ]
    )
    assert isinstance(results[0], dict) and results[1] in ("batch_closed",) or isinstance(results[1], dict)
    docs, checked = converted_at_latest_rates(sid)
    assert checked == 1 and docs[TRIP]["closed"] is True
    # The rate either landed before the close (0.5) or was refused (0.2): never half of it.
    assert docs[TRIP]["rates"]["JPY"] == ("0.5" if isinstance(results[1], dict) else "0.2")
