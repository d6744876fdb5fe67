"""Races on the real server: FerretDB over a socket, many threads, one connection pool."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from bson import ObjectId

from chalicelib.catalog import items
from chalicelib.catalog.schemas import ItemIn
from chalicelib.platform import db
from chalicelib.platform.errors import Conflict
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn
from tests.factories import make_principal

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)


def test_last_ten_units_twenty_buyers(api):
    principal = make_principal(api)
    item = items.create(principal, ItemIn(item_name="Limited Figure", price=1000, stock=10))

    def buy(i):
        try:
            orders.create(principal, OrderIn(buyer_email=f"b{i}@example.com", item_id=item["id"], quantity=1))
            return "ok"
        except Conflict as exc:
            return exc.code

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(buy, range(20)))
    assert results.count("ok") == 10
    assert results.count("insufficient_stock") == 10
    assert db.get_db().items.find_one({"_id": ObjectId(item["id"])})["stock"] == 0
    assert db.get_db().orders.count_documents({}) == 10
    numbers = sorted(o["order_no"] for o in db.get_db().orders.find())
    assert len(set(numbers)) == 10


def test_same_idempotency_key_from_ten_threads_makes_one_order(api):
    principal = make_principal(api)
    item = items.create(principal, ItemIn(item_name="Tea", price=10, stock=100))
    data = OrderIn(buyer_email="same@example.com", item_id=item["id"], quantity=2)
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda _: orders.create(principal, data, "retry-1"), range(10)))
    assert len({o["id"] for o, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert db.get_db().orders.count_documents({}) == 1
    assert db.get_db().customers.count_documents({}) == 1
    # Losers put back what they took: only one order's worth of stock is gone.
    assert db.get_db().items.find_one({"_id": ObjectId(item["id"])})["stock"] == 98


def test_concurrent_status_edits_lose_nothing(api):
    principal = make_principal(api)
    order, _ = orders.create(
        principal, OrderIn(buyer_email="a@example.com", item_name="Tea", quantity=1, unit_price=10)
    )
    from chalicelib.sales.schemas import OrderPatch

    patches = [
        OrderPatch(payment_status="remitted"),
        OrderPatch(fulfillment_status="purchased"),
        OrderPatch(carrier="SF"),
        OrderPatch(note="fragile"),
    ]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda p: orders.update(principal, order["id"], p, attempts=20), patches))
    final = orders.get(principal, order["id"])
    assert (final["payment_status"], final["fulfillment_status"], final["carrier"], final["note"]) == (
        "remitted",
        "purchased",
        "SF",
        "fragile",
    )
    assert len(final["history"]) == 2


def test_bulk_update_and_single_edits_lose_nothing(api):
    """A bulk status change racing single edits of the same orders: both land on every order."""
    from chalicelib.sales.schemas import BulkIn, OrderPatch

    principal = make_principal(api)
    ids = [
        orders.create(
            principal, OrderIn(buyer_email="a@example.com", item_name="Tea", quantity=1, unit_price=10)
        )[0]["id"]
        for _ in range(8)
    ]

    def bulk(_):
        return orders.bulk_update(
            principal, BulkIn.model_validate({"ids": ids, "set": {"payment_status": "remitted"}})
        )

    def note(order_id):
        return orders.update(principal, order_id, OrderPatch(note="gift wrap"), attempts=20)

    with ThreadPoolExecutor(9) as pool:
        futures = [pool.submit(bulk, None)] + [pool.submit(note, i) for i in ids]
        results = [f.result() for f in futures]
    assert results[0]["failed"] == [] and results[0]["updated"] == 8
    for order_id in ids:
        final = orders.get(principal, order_id)
        assert (final["payment_status"], final["note"]) == ("remitted", "gift wrap")
        assert [h["to"] for h in final["history"]] == ["remitted"]
