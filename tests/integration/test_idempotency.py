"""Idempotency-Key on POST /orders: claims in `idempotency_keys`, never a search of orders."""

from __future__ import annotations

import datetime as dt
import os
import threading

import pymongo
import pytest
from bson import ObjectId
from pymongo import monitoring

from chalicelib.accounts import auth
from chalicelib.catalog import items
from chalicelib.catalog.schemas import ItemIn
from chalicelib.platform import clock, db, idempotency
from chalicelib.platform.errors import Conflict
from chalicelib.platform.key_index import COLLECTIONS as KEY_INDEX
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn
from tests.factories import make_item

BODY = {"buyer_email": "a@example.com", "item_name": "Tea", "quantity": 1, "unit_price": 10}


def keyed(api, token, body, key):
    return api.post("/orders", body, token=token, headers={"Idempotency-Key": key})


def claims():
    return list(db.get_db().idempotency_keys.find())


def test_first_order_is_returned_and_the_claim_names_it(api, token):
    a = keyed(api, token, BODY, "k-1")
    b = keyed(api, token, BODY, "k-1")
    assert (a.status, b.status) == (201, 200) and a.json == b.json
    [claim] = claims()
    seller_id = auth.authenticate(f"Bearer {token}").seller_id
    assert claim["_id"] == f"{seller_id}:k-1"
    assert claim["order_id"] == ObjectId(a.json["id"])
    assert "idem" not in db.get_db().orders.find_one({"_id": ObjectId(a.json["id"])})


def test_a_different_body_with_the_same_key_returns_the_first_order(api, token):
    """Documented (docs/api.md): the key, not the body, names the order."""
    a = keyed(api, token, BODY, "k-body")
    b = keyed(api, token, {**BODY, "quantity": 5, "item_name": "Coffee"}, "k-body")
    assert b.status == 200 and b.json["id"] == a.json["id"]
    assert (b.json["quantity"], b.json["item_name"]) == (1, "Tea")
    assert db.get_db().orders.count_documents({}) == 1


def test_failed_create_releases_the_key_and_a_retry_after_restock_succeeds(api, token):
    item = make_item(api, token, item_name="Figure", price=100, stock=1)
    body = {"buyer_email": "b@example.com", "item_id": item["id"], "quantity": 2}
    r = keyed(api, token, body, "k-stock")
    assert r.status == 409 and r.json["error"]["code"] == "insufficient_stock"
    assert claims() == [] and db.get_db().orders.count_documents({}) == 0
    again = keyed(api, token, body, "k-stock")  # still short: refused again, not "in use"
    assert again.status == 409 and again.json["error"]["code"] == "insufficient_stock"

    assert api.patch(f"/items/{item['id']}", {"stock": 5}, token=token).status == 200
    ok = keyed(api, token, body, "k-stock")
    assert ok.status == 201
    retry = keyed(api, token, body, "k-stock")
    assert retry.status == 200 and retry.json["id"] == ok.json["id"]
    assert api.get(f"/items/{item['id']}", token=token).json["stock"] == 3
    assert db.get_db().orders.count_documents({}) == 1


def test_a_key_reused_by_another_seller_does_not_collide(api, token, other_token):
    a = keyed(api, token, BODY, "shared-key")
    b = keyed(api, other_token, BODY, "shared-key")
    assert (a.status, b.status) == (201, 201) and a.json["id"] != b.json["id"]
    # Each seller's retry returns that seller's own order.
    assert keyed(api, token, BODY, "shared-key").json["id"] == a.json["id"]
    assert keyed(api, other_token, BODY, "shared-key").json["id"] == b.json["id"]
    assert api.get(f"/orders/{b.json['id']}", token=token).status == 404
    assert len(claims()) == 2


def test_malformed_key_is_a_400(api, token):
    for bad in ("x" * 201, "has space", "ключ"):
        r = keyed(api, token, BODY, bad)
        assert r.status == 400 and r.json["error"]["code"] == "invalid_idempotency_key", bad
    assert claims() == []


def _principal(token):
    return auth.authenticate(f"Bearer {token}")


def _claim(principal, key, order_id, at):
    cid = idempotency.claim_id(ObjectId(principal.seller_id), key)
    db.get_db().idempotency_keys.insert_one({"_id": cid, "order_id": order_id, "at": at})


def test_owner_still_working_is_waited_for_then_409(api, token, monkeypatch):
    principal = _principal(token)
    _claim(principal, "k-busy", ObjectId(), clock.now())  # claimed, order not written yet
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    r = keyed(api, token, BODY, "k-busy")
    assert r.status == 409 and r.json["error"]["code"] == "idempotency_key_in_use"
    assert db.get_db().orders.count_documents({}) == 0


def test_owner_finishing_during_the_wait_is_returned(api, token):
    principal = _principal(token)
    order_id = ObjectId()
    _claim(principal, "k-late", order_id, clock.now())
    # The "owner" writes its order a moment after the repeat started waiting.
    first, _ = orders.create(principal, OrderIn.model_validate(BODY))
    doc = db.get_db().orders.find_one_and_delete({"_id": ObjectId(first["id"])})
    timer = threading.Timer(0.3, lambda: db.get_db().orders.insert_one({**doc, "_id": order_id}))
    timer.start()
    r = keyed(api, token, BODY, "k-late")
    timer.join()
    assert r.status == 200 and r.json["id"] == str(order_id)


def test_abandoned_and_expired_claims_are_taken_over(api, token):
    principal = _principal(token)
    # An owner that died (claimed a minute ago, never wrote its order).
    _claim(principal, "k-dead", ObjectId(), clock.now() - dt.timedelta(minutes=2))
    r = keyed(api, token, BODY, "k-dead")
    assert r.status == 201
    assert keyed(api, token, BODY, "k-dead").json["id"] == r.json["id"]
    # A key older than 24 hours is a new key (Atlas' TTL index would have deleted it).
    first = keyed(api, token, BODY, "k-old").json
    cid = idempotency.claim_id(ObjectId(principal.seller_id), "k-old")
    old = clock.now() - idempotency.TTL - dt.timedelta(minutes=1)
    db.get_db().idempotency_keys.update_one({"_id": cid}, {"$set": {"at": old}})
    fresh = keyed(api, token, BODY, "k-old")
    assert fresh.status == 201 and fresh.json["id"] != first["id"]
    assert db.get_db().idempotency_keys.find_one({"_id": cid})["order_id"] == ObjectId(fresh.json["id"])


def test_ensure_indexes_drops_the_old_orders_index(backend):
    orders_coll = db.get_db().orders
    orders_coll.create_index("idem", unique=True, sparse=True, name="idempotency_unique")
    db.ensure_indexes()
    db.ensure_indexes()  # and again: nothing left to drop
    names = {ix["name"] for ix in orders_coll.list_indexes()}
    assert "idempotency_unique" not in names and "seller_order_no_unique" in names


class Recorder(monitoring.CommandListener):
    def __init__(self):
        self.events: list[tuple[str, str, dict]] = []

    def started(self, event):
        name = event.command_name
        coll = event.command.get(name)
        if isinstance(coll, str) and coll != "locks" and coll not in KEY_INDEX:  # FerretDB's only
            self.events.append((name, coll, event.command))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.fixture
def recorder(backend, monkeypatch):
    """The app's client, replaced by one that records every command (real wire protocol)."""
    rec = Recorder()
    client = pymongo.MongoClient(os.environ["MONGO_URI"], tz_aware=True, event_listeners=[rec])
    monkeypatch.setattr(db, "_client", client)
    yield rec
    client.close()


@pytest.mark.parametrize("backend", ["ferretdb"], indirect=True)
def test_keyed_create_never_searches_orders(api, token, recorder):
    item = make_item(api, token, item_name="Matcha", price=120, stock=100)
    body = {"buyer_email": "c@example.com", "item_id": item["id"], "quantity": 1}
    recorder.events.clear()
    created = keyed(api, token, body, "k-count")
    assert created.status == 201
    names = [(n, c) for n, c, _ in recorder.events]
    assert names[0] == ("insert", "idempotency_keys")
    assert [(n, c) for n, c in names if c == "orders"] == [("insert", "orders")]  # no read of orders
    assert len(names) == 7  # claim + the 6 of a tracked-stock create (its stock movement one of them)

    recorder.events.clear()
    again = keyed(api, token, body, "k-count")
    assert again.status == 200 and again.json["id"] == created.json["id"]
    assert [(n, c) for n, c, _ in recorder.events] == [
        ("insert", "idempotency_keys"),  # refused: the key is taken
        ("find", "idempotency_keys"),
        ("find", "orders"),
    ]
    # Both reads are by primary key only (MongoDB's _id index; the one filter FerretDB pushes down).
    for _, _, command in recorder.events[1:]:
        assert list(command["filter"]) == ["_id"], command["filter"]
    assert not any("idem" in command.get("filter", {}) for _, _, command in recorder.events)


@pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)
def test_retries_racing_a_failing_owner_end_with_one_order(api, token):
    """Stock for one order; ten requests with one key, quantity 2 each: the first owner
    fails and releases, others claim in turn and fail too; after a restock the key works."""
    from concurrent.futures import ThreadPoolExecutor

    principal = _principal(token)
    item = items.create(principal, ItemIn(item_name="Rare", price=10, stock=1))
    data = OrderIn(buyer_email="r@example.com", item_id=item["id"], quantity=2)

    def attempt(_):
        try:
            orders.create(principal, data, "k-race")
            return "ok"
        except Conflict as exc:
            return exc.code

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(attempt, range(10)))
    assert set(results) <= {"insufficient_stock", "idempotency_key_in_use"}, results
    assert claims() == [] and db.get_db().orders.count_documents({}) == 0
    assert db.get_db().items.find_one({"_id": ObjectId(item["id"])})["stock"] == 1
    db.get_db().items.update_one({"_id": ObjectId(item["id"])}, {"$set": {"stock": 10}})
    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(lambda _: orders.create(principal, data, "k-race"), range(10)))
    assert len({o["id"] for o, _ in outcomes}) == 1 and sum(c for _, c in outcomes) == 1
    assert db.get_db().items.find_one({"_id": ObjectId(item["id"])})["stock"] == 8
