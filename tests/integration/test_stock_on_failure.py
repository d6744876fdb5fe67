"""A quantity PATCH that takes stock and whose write then fails gives the stock back
(issue 23, item 7): after outages the items had lost 1 and 2 units to orders that never
changed. Every failure of the write is injected: a database error, an outage, 409 busy
from the lock; and the one where the write landed but its answer was lost keeps them."""

from __future__ import annotations

import contextlib

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect, OperationFailure

from chalicelib.catalog import items
from chalicelib.catalog.schemas import ItemIn
from chalicelib.orderbook import repository
from chalicelib.platform import db, store
from chalicelib.platform.errors import Conflict
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn, OrderPatch
from tests.factories import make_principal


class _FailingOrders:
    """The orders collection whose find_one_and_update raises `exc`, after applying
    the update when `applied` (an answer lost on the way back)."""

    def __init__(self, real, exc, applied):
        self._real, self._exc, self._applied = real, exc, applied

    def find_one_and_update(self, *args, **kwargs):
        if self._applied:
            self._real.find_one_and_update(*args, **kwargs)
        raise self._exc

    def insert_one(self, *args, **kwargs):
        if self._applied:
            self._real.insert_one(*args, **kwargs)
        raise self._exc

    def __getattr__(self, name):
        return getattr(self._real, name)


class _Db:
    def __init__(self, real, orders_collection):
        self._real, self.orders = real, orders_collection

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __getitem__(self, name):
        return self.orders if name == "orders" else self._real[name]


def setup(api):
    who = make_principal(api)
    item_id = items.create(who, ItemIn(item_name="Figure", price=1000, stock=10))["id"]
    order = orders.create(who, OrderIn(buyer_email="amy@example.com", item_id=item_id, quantity=2))[0]
    return who, item_id, order["id"]


def stock(item_id):
    return db.get_db().items.find_one({"_id": ObjectId(item_id)})["stock"]


def quantity(order_id):
    return db.get_db().orders.find_one({"_id": ObjectId(order_id)})["quantity"]


@pytest.mark.parametrize(
    "exc",
    [AutoReconnect("connection closed"), OperationFailure("write failed", code=8000)],
    ids=["outage", "database-error"],
)
def test_a_failed_quantity_write_gives_the_stock_back(api, monkeypatch, exc):
    who, item_id, oid = setup(api)
    assert stock(item_id) == 8
    real = db.get_db()
    monkeypatch.setattr(
        repository, "get_db", lambda: _Db(real, _FailingOrders(real.orders, exc, applied=False))
    )
    with pytest.raises(type(exc)):
        orders.update(who, oid, OrderPatch(quantity=5))
    monkeypatch.undo()
    assert (stock(item_id), quantity(oid)) == (8, 2)


def test_a_busy_lock_gives_the_stock_back(api, monkeypatch):
    who, item_id, oid = setup(api)

    class BusyOrders(store.MongoStore):
        """Every order's lock is busy (the item's is free, so the stock is taken first)."""

        @contextlib.contextmanager
        def serialized(self, *keys, **kw):
            if any(k.startswith("orders:") for k in keys):
                raise Conflict("the record is busy; try again", code="busy")
            yield

    monkeypatch.setattr(store, "current", BusyOrders)
    with pytest.raises(Conflict):
        orders.update(who, oid, OrderPatch(quantity=5))
    monkeypatch.undo()
    assert (stock(item_id), quantity(oid)) == (8, 2)


def test_a_write_that_landed_keeps_the_stock_though_its_answer_was_lost(api, monkeypatch):
    who, item_id, oid = setup(api)
    real = db.get_db()
    lost = _FailingOrders(real.orders, AutoReconnect("connection closed"), applied=True)
    monkeypatch.setattr(repository, "get_db", lambda: _Db(real, lost))
    with pytest.raises(AutoReconnect):
        orders.update(who, oid, OrderPatch(quantity=5))
    monkeypatch.undo()
    assert (stock(item_id), quantity(oid)) == (5, 5)


def test_too_little_stock_takes_nothing(api):
    """Not a write failure: the refusal comes before anything is taken."""
    who, item_id, oid = setup(api)
    with pytest.raises(Conflict) as exc:
        orders.update(who, oid, OrderPatch(quantity=11))
    assert exc.value.code == "insufficient_stock"
    assert (stock(item_id), quantity(oid)) == (8, 2)


@pytest.mark.parametrize("applied", [False, True], ids=["not-inserted", "inserted-answer-lost"])
def test_a_new_order_whose_insert_fails_holds_units_only_if_it_exists(api, monkeypatch, applied):
    who = make_principal(api)
    item_id = items.create(who, ItemIn(item_name="Figure", price=1000, stock=10))["id"]
    real = db.get_db()
    failing = _FailingOrders(real.orders, AutoReconnect("connection closed"), applied=applied)
    monkeypatch.setattr(repository, "get_db", lambda: _Db(real, failing))
    with pytest.raises(AutoReconnect):
        orders.create(who, OrderIn(buyer_email="amy@example.com", item_id=item_id, quantity=3))
    monkeypatch.undo()
    held = sum(o["quantity"] for o in db.get_db().orders.find({"item_id": ObjectId(item_id)}))
    assert held == (3 if applied else 0)
    assert stock(item_id) + held == 10
