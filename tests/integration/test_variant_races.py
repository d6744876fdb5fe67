"""Issue 30: buyers racing for the last units of one variant, on both real servers. The
variant is never oversold, no other variant's stock moves, and the movements add up:
for each variant, stock + units of its live orders is what it started with, and the
sum of its movements' deltas is its stock."""

from __future__ import annotations

import uuid

import pytest
from bson import ObjectId

from chalicelib.catalog import items
from chalicelib.catalog.schemas import ItemIn, ItemPatch
from chalicelib.platform import db
from chalicelib.rules import order_rules
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn, OrderPatch
from tests.conftest import at_once
from tests.factories import make_principal, two_variant_item

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)

BUYERS = 30
LAST = 7  # the raced variant's units: fewer than the buyers
OTHER = 5


def new_item(who) -> tuple[str, str, str]:
    return two_variant_item(who, "Hoodie", ("黑", "白"), (LAST, OTHER), price=900)


def order(who, item_id: str, variant_id: str, quantity: int = 1):
    body = OrderIn(
        buyer_email=f"b{uuid.uuid4().hex[:8]}@example.com",
        item_id=item_id,
        variant_id=variant_id,
        quantity=quantity,
    )
    return lambda: orders.create(who, body)[0]


def stock_of(item_id: str) -> dict:
    return db.get_db().items.find_one({"_id": ObjectId(item_id)})["variant_stock"]


def live_units(item_id: str) -> dict:
    units: dict = {}
    for o in db.get_db().orders.find({"item_id": ObjectId(item_id)}):
        held = order_rules.units_held(o["fulfillment_status"], o["quantity"])
        units[o["variant_id"]] = units.get(o["variant_id"], 0) + held
    return units


def moved(item_id: str) -> dict:
    sums: dict = {}
    for m in db.get_db().stock_movements.find({"item_id": ObjectId(item_id)}):
        sums[m["variant_id"]] = sums.get(m["variant_id"], 0) + m["delta"]
    return sums


def test_buyers_racing_for_the_last_units_of_a_variant(api):
    who = make_principal(api)
    item_id, black, white = new_item(who)
    results = at_once([order(who, item_id, black) for _ in range(BUYERS)])
    sold = [r for r in results if isinstance(r, dict)]
    assert len(sold) == LAST and results.count("insufficient_stock") == BUYERS - LAST, results
    assert stock_of(item_id) == {black: 0, white: OTHER}
    assert live_units(item_id) == {black: LAST}
    assert moved(item_id) == {black: 0, white: OTHER}


def test_orders_cancels_and_quantity_changes_of_one_variant_at_once(api):
    """Buyers order the last units while the seller cancels some orders and raises or
    lowers others, and a second variant is ordered too: per variant, stock + live units
    stay what it started with and the movements sum to the stock."""
    who = make_principal(api)
    item_id, black, white = new_item(who)
    first = [order(who, item_id, black, 2)() for _ in range(2)]  # 4 of 7 held
    calls = [order(who, item_id, black) for _ in range(BUYERS - 8)]
    calls += [order(who, item_id, white) for _ in range(2)]
    calls += [
        lambda o=first[0]: orders.update(
            who, o["id"], OrderPatch(fulfillment_status="cancelled"), attempts=20
        )
    ]
    calls += [lambda o=first[1]: orders.update(who, o["id"], OrderPatch(quantity=1), attempts=20)]
    calls += [lambda o=first[1]: orders.update(who, o["id"], OrderPatch(quantity=3), attempts=20)]
    calls += [lambda o=first[0]: orders.update(who, o["id"], OrderPatch(quantity=1), attempts=20)]
    # The seller moves an order to the other variant and back while all this runs.
    calls += [lambda o=first[1]: orders.update(who, o["id"], OrderPatch(variant_id=white), attempts=20)]
    calls += [lambda o=first[1]: orders.update(who, o["id"], OrderPatch(variant_id=black), attempts=20)]
    at_once(calls)
    stock, units = stock_of(item_id), live_units(item_id)
    assert stock[black] >= 0 and stock[white] == OTHER - units.get(white, 0)
    assert stock[black] + units[black] == LAST, (stock, units)
    assert stock[white] + units.get(white, 0) == OTHER
    assert moved(item_id) == stock


@pytest.mark.parametrize("round_", range(3))
def test_variant_changes_at_once_keep_the_price_and_history_of_the_variant_held(api, round_):
    """Two moves of one order (to 白 and to 黑, priced differently) and a quantity change at
    once: the order ends at the price of the variant it holds, its total follows, and its
    history entries chain (each change's `from` is the previous one's `to`)."""
    who = make_principal(api)
    body = {
        "item_name": f"Cap {uuid.uuid4().hex[:6]}",
        "price": 400,
        "options": [{"name": "顏色", "values": ["黑", "白", "灰"]}],
        "variants": [
            {"values": ["黑"], "stock": 10, "price": 450},
            {"values": ["白"], "stock": 10},
            {"values": ["灰"], "stock": 10, "price": 520},
        ],
    }
    item = items.create(who, ItemIn.model_validate(body))
    price = {v["id"]: int(round((v["price"] or 400) * 100)) for v in item["variants"]}
    black, white, grey = (v["id"] for v in item["variants"])
    placed = order(who, item["id"], black, 2)()
    at_once(
        [
            lambda: orders.update(who, placed["id"], OrderPatch(variant_id=white), attempts=20),
            lambda: orders.update(who, placed["id"], OrderPatch(variant_id=grey), attempts=20),
            lambda: orders.update(who, placed["id"], OrderPatch(quantity=3), attempts=20),
        ]
    )
    doc = db.get_db().orders.find_one({"_id": ObjectId(placed["id"])})
    assert doc["unit_price"] == price[doc["variant_id"]], doc
    assert doc["total_amount"] == doc["quantity"] * doc["unit_price"] + doc["shipping_fee"], doc
    for field, first in (("variant", "黑"), ("unit_price", price[black])):
        chain = [(h["from"], h["to"]) for h in doc["history"] if h["field"] == field]
        last = first
        for was, now in chain:
            assert was == last, (field, chain)
            last = now
    assert stock_of(item["id"])[doc["variant_id"]] == 10 - doc["quantity"]


def test_a_stock_count_racing_orders_keeps_the_movements_adding_up(api):
    """The seller sets the stock (a count) while buyers take units: the count's movement is
    the difference from the stock its own write replaced, so every delta is counted once and
    the movements sum to the stock there is. An item without variants and a variant alike."""
    who = make_principal(api)
    for _ in range(3):  # a few rounds: the count has to land between takes to tell
        item_id, black, white = new_item(who)
        plain = items.create(who, ItemIn(item_name=f"Mug {uuid.uuid4().hex[:6]}", price=300, stock=LAST))[
            "id"
        ]
        recount = {
            "options": [{"name": "顏色", "values": ["黑", "白"]}],
            "variants": [{"id": black, "values": ["黑"], "stock": 20}, {"id": white, "values": ["白"]}],
        }
        buyer = OrderIn(buyer_email="c@example.com", item_id=plain, quantity=1)
        calls = [order(who, item_id, black) for _ in range(10)]
        calls += [lambda: orders.create(who, buyer)[0]] * 10
        calls += [lambda: items.update(who, item_id, ItemPatch.model_validate(recount))]
        calls += [lambda: items.update(who, plain, ItemPatch(stock=15))]
        at_once(calls)
        assert moved(item_id) == stock_of(item_id)
        plain_stock = db.get_db().items.find_one({"_id": ObjectId(plain)})["stock"]
        assert moved(plain) == {None: plain_stock}
