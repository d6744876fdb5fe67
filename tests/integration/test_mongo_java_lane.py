"""The MongoDB-semantics lane itself (docs/ferretdb.md, "Test lanes"): mongo-java-server
reports wire version 13 and no FerretDB, so the app takes its MongoDB paths (no lock
documents, one aggregation per report), and its findAndModify post-images are exact
under concurrency (the launcher's serialized commands; the library alone duplicates them).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from bson import ObjectId

from chalicelib.catalog import items
from chalicelib.catalog.schemas import ItemIn
from chalicelib.platform import db
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn, OrderPatch
from tests.factories import make_principal

pytestmark = pytest.mark.parametrize("backend", ["mongo-java"], indirect=True)


def test_server_says_mongodb_wire_13_and_not_ferretdb(backend):
    client = db.get_client()
    info = client.admin.command("buildInfo")
    assert "ferretdbVersion" not in info and info["version"] == "5.0.0"
    assert client.admin.command("isMaster")["maxWireVersion"] == 13
    hello = client.admin.command("hello")
    assert hello["isWritablePrimary"] is True and hello["maxWireVersion"] == 13
    assert db.is_ferretdb() is False


def test_writes_take_no_lock_documents(api):
    """Stock, counter, status edit, bulk: every path that locks on FerretDB runs bare here.
    Money is the exception: a buyer's payments hold a lock on every server (payments.py),
    taken and given back within the request."""
    from chalicelib.sales.schemas import BulkIn

    principal = make_principal(api)
    # The sign-up held its email's lock (store.account_email_key, on every server: no unique
    # index spans sellers and members) and gave it back; what follows must take none.
    assert db.get_db().locks.count_documents({}) == 0
    db.get_db().drop_collection("locks")
    item = items.create(principal, ItemIn(item_name="Figure", price=1000, stock=3))
    order, _ = orders.create(principal, OrderIn(buyer_email="a@example.com", item_id=item["id"], quantity=1))
    orders.update(principal, order["id"], OrderPatch(note="gift", fulfillment_status="purchased"))
    orders.bulk_update(
        principal, BulkIn.model_validate({"ids": [order["id"]], "set": {"fulfillment_status": "shipped"}})
    )
    assert db.get_db().items.find_one({"_id": ObjectId(item["id"])})["stock"] == 2
    assert "locks" not in db.get_db().list_collection_names()
    orders.update(principal, order["id"], OrderPatch(payment_status="remitted"))
    assert db.get_db().locks.count_documents({}) == 0


def test_a_thousand_order_numbers_from_eight_threads_are_distinct(api):
    """The order-number counter is one `$inc` findAndModify returning the new value. On
    MongoDB each caller sees its own value; mongo-java-server 1.47.0 alone handed out
    duplicates (it encodes the live document after releasing its lock)."""
    principal = make_principal(api)
    seller_id = ObjectId(principal.seller_id)
    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(lambda _: orders.reserve_order_numbers(seller_id), range(1000)))
    assert len(set(numbers)) == 1000
    assert sorted(numbers) == list(range(min(numbers), min(numbers) + 1000))
    assert db.get_db().counters.find_one({"_id": seller_id})["seq"] == 1000
