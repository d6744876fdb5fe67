"""The orders' slim key index (chalicelib/platform/key_index.py, FerretDB only): GET /orders
gives the same rows, order and total_count as a plain query of the orders after every
kind of order write, on every lane; on FerretDB its keys stay equal to the orders, the
list reads the keys instead of the orders, and a key write that failed, a crash's mark,
keys lost or made by another process never show a wrong page."""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import urlencode

import pytest
from bson import ObjectId

from chalicelib.orderbook import repository
from chalicelib.platform import db, key_index
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderQuery
from tests.conftest import at_once
from tests.factories import make_customer, make_order

TOKYO, OSAKA = "2026-12 東京", "2026-12 大阪"
FERRETDB = pytest.mark.parametrize("backend", ["ferretdb"], indirect=True)  # the index is kept there only
CSV_HEADER = "buyer_email,buyer_name,item_name,quantity,unit_price,batch,payment_status\r\n"


def seller_of(api, token) -> ObjectId:
    return ObjectId(api.get("/auth/me", token=token).json["id"])


def walk(api, token, params: dict, limit: int = 4) -> tuple[list[str], int]:
    """Every page of GET /orders?<params>: the ids in order and the first page's total_count."""
    ids, total, cursor = [], None, None
    for _ in range(100):
        url = "/orders?" + urlencode({**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        r = api.get(url, token=token)
        assert r.status == 200, (url, r)
        ids += [o["id"] for o in r.json["items"]]
        total = r.json["total_count"] if total is None else total
        cursor = r.json["next_cursor"]
        if cursor is None:
            return ids, total
    raise AssertionError("paging did not end")


def plain(seller_id, params: dict) -> list[str]:
    """The same list from a plain find of the orders (no index), sorted here."""
    query = orders.matching(seller_id, OrderQuery.model_validate(params))
    sort = params.get("sort", "-created_at")
    key, reverse = sort.lstrip("-"), sort.startswith("-")
    docs = list(db.get_db().orders.find(query, {key: 1}))
    return [str(d["_id"]) for d in sorted(docs, key=lambda d: (d[key], d["_id"]), reverse=reverse)]


def same_as_plain(api, token, seller_id, params: dict, limit: int = 4) -> int:
    ids, total = walk(api, token, params, limit)
    want = plain(seller_id, params)
    assert ids == want, params
    assert total == len(want), params
    return total


def keys_agree(backend, seller_id) -> None:
    """On FerretDB: one key per order of the seller, equal to the order's fields."""
    if backend != "ferretdb":
        return
    fields = dict.fromkeys(key_index.FIELDS, 1)
    want = {d["_id"]: key_index.key_of(d) for d in db.get_db().orders.find({"seller_id": seller_id}, fields)}
    have = {d["_id"]: d for d in db.get_db().order_keys.find({"seller_id": seller_id})}
    assert have == want


@pytest.fixture
def shop(api, token):
    """Orders of three buyers (one reached on LINE only) in two batches, then changed by
    every kind of write the list's fields see."""
    seller_id = seller_of(api, token)
    amy = make_customer(api, token, name="Amy Chen", email="amy@example.com")
    lin = make_customer(api, token, name="林小美", email=None, line_id="linmei")
    twin = make_customer(api, token, name="林 小美", email=None, phone="0912345678")
    made = []
    for i, (who, price, batch) in enumerate(
        [(amy, 100, TOKYO), (lin, 250, TOKYO), (twin, 80, OSAKA), (amy, 250, OSAKA), (lin, 40, None)] * 3
    ):
        body = {"customer_id": who["id"], "unit_price": price, "item_name": ("抹茶", "Tea", "Kit Kat")[i % 3]}
        made.append(make_order(api, token, **({"batch": batch} if batch else {}), **body))
    ids = [o["id"] for o in made]
    # Ties in created_at, and one old order for the from/to filters.
    same = dt.datetime(2026, 11, 20, 8, 30, tzinfo=dt.UTC)
    db.get_db().orders.update_many(
        {"_id": {"$in": [ObjectId(i) for i in ids[2:6]]}}, {"$set": {"created_at": same}}
    )
    db.get_db().orders.update_one(
        {"_id": ObjectId(ids[7])}, {"$set": {"created_at": same.replace(year=2025)}}
    )
    # A form's orders (an update_many by a filter that names no _id).
    form_id = ObjectId()
    db.get_db().orders.update_many(
        {"seller_id": seller_id, "item_name": "Tea"}, {"$set": {"form_id": form_id}}
    )
    # One at a time: statuses, batch, tracking number, money.
    for i, patch in [
        (0, {"payment_status": "remitted"}),
        (1, {"fulfillment_status": "purchased"}),
        (3, {"batch": "2027-01 福岡"}),
        (4, {"fulfillment_status": "shipped", "carrier": "黑貓", "tracking_number": "TW123456"}),
        (5, {"quantity": 3}),
        (6, {"unit_price": 999}),
    ]:
        r = api.patch(f"/orders/{ids[i]}", patch, token=token)
        assert r.status == 200, r
    # Bulk: by ids, and every order matching a filter.
    r = api.post("/orders/bulk", {"ids": ids[8:12], "set": {"fulfillment_status": "purchased"}}, token=token)
    assert r.status == 200, r
    r = api.post(
        "/orders/bulk/matching",
        {"where": {"batch": OSAKA}, "set": {"payment_status": "remitted"}},
        token=token,
    )
    assert r.status == 200, r
    # A buyer renamed (the copies on the orders), two buyers merged (customer_id moves).
    assert api.patch(f"/customers/{amy['id']}", {"name": "Amy 陳"}, token=token).status == 200
    r = api.post(f"/customers/{lin['id']}/merge", {"from_customer_id": twin["id"]}, token=token)
    assert r.status == 200, r
    # An import (insert_many), and one import undone (delete_many).
    for n in (3, 2):
        rows = "".join(
            f"csv{n}{k}@example.com,CSV {k},Pocky {n}{k},1,{60 + k},{TOKYO},unpaid\r\n" for k in range(n)
        )
        r = api.post(
            "/import/orders?skip_duplicates=false",
            raw=(CSV_HEADER + rows).encode(),
            token=token,
            headers={"Content-Type": "text/csv"},
        )
        assert r.status in (200, 201), r
    last = db.get_db().orders.find_one({"seller_id": seller_id, "item_name": "Pocky 20"})
    repository.delete_import(seller_id, last["import_id"])
    return {"seller_id": seller_id, "ids": ids, "amy": amy, "lin": lin, "form_id": str(form_id), "same": same}


def lists(shop) -> list[dict]:
    """Every filter and search GET /orders takes, and every sort."""
    since = (shop["same"] - dt.timedelta(days=1)).isoformat()
    until = (shop["same"] + dt.timedelta(days=1)).isoformat()
    return [
        {},
        {"sort": "order_no"},
        {"sort": "-order_no"},
        {"sort": "total_amount"},
        {"sort": "-total_amount"},
        {"sort": "created_at"},
        {"customer_id": shop["amy"]["id"]},
        {"customer_id": shop["lin"]["id"], "sort": "-total_amount"},
        {"form_id": shop["form_id"]},
        {"batch": TOKYO},
        {"batch": OSAKA, "payment_status": "remitted"},
        {"payment_status": "unpaid", "sort": "total_amount"},
        {"fulfillment_status": "purchased"},
        {"fulfillment_status": "shipped"},
        {"from": since, "to": until},
        {"from": since},
        {"batch_prefix": "東京"},
        {"batch_prefix": "2026", "batch": TOKYO},
        {"q": "amy"},
        {"q": "林"},
        {"q": "@example.com"},
        {"q": "抹茶"},
        {"q": "TW123"},
        {"q": "福岡"},
        {"q": "1003"},
        {"q": "pocky", "sort": "order_no"},
    ]


def test_every_filter_sort_and_page_matches_a_plain_query_after_every_kind_of_write(
    backend, api, token, shop
):
    totals = [same_as_plain(api, token, shop["seller_id"], params) for params in lists(shop)]
    assert totals[0] == 15 + 3 and min(totals) >= 1  # every list finds something to compare
    keys_agree(backend, shop["seller_id"])


@FERRETDB
def test_a_list_reads_the_keys_and_only_its_page_of_orders_on_ferretdb(backend, api, token, shop, commands):
    """FerretDB decodes each order a read matches: the list read every order of the seller
    for its sort keys (2,000 orders: ~290 ms of ~370). With the key index it reads the
    small key documents and the page's orders by `_id`, nothing else of `orders`."""
    api.get("/orders?limit=5", token=token)  # the first list of this process's seller builds the keys
    unpaid = plain(shop["seller_id"], {"payment_status": "unpaid"})
    commands.names.clear()
    commands.bodies.clear()
    r = api.get("/orders?limit=5&payment_status=unpaid", token=token)
    assert r.status == 200 and r.json["total_count"] == len(unpaid)
    assert [o["id"] for o in r.json["items"]] == unpaid[:5]
    finds = [
        (b.get(n), b.get("filter"))
        for n, b in zip(commands.names, commands.bodies, strict=True)
        if n == "find"
    ]
    of_orders = [f for coll, f in finds if coll == "orders"]
    assert [f for f in of_orders if set(f) != {"_id", "$and"}] == []  # the page, by _id
    assert len(of_orders) == 6  # limit + 1
    assert [f for coll, f in finds if coll == "order_keys"] == [
        orders.matching(shop["seller_id"], OrderQuery(payment_status="unpaid"))
    ]
    assert not [
        n
        for n, b in zip(commands.names, commands.bodies, strict=True)
        if b.get(n) == "orders" and n in ("aggregate", "count")
    ]


def test_a_failed_key_write_leaves_a_mark_and_the_list_stays_right(backend, api, token, shop, monkeypatch):
    """A crash between an order's write and its key's: the write stands (200), its mark
    stays, and the next list repairs the key before reading."""
    oid = shop["ids"][2]
    api.get("/orders", token=token)
    real = key_index.write_keys

    def fails(coll, ops):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(key_index, "write_keys", fails)
    r = api.patch(f"/orders/{oid}", {"payment_status": "refunded", "batch": "2027-02 札幌"}, token=token)
    assert r.status == 200, r
    if backend == "ferretdb":
        stale = db.get_db().order_keys.find_one({"_id": ObjectId(oid)})
        assert stale["payment_status"] != "refunded"  # the key write did fail
        assert db.get_db().order_keys_marks.count_documents({"ids": ObjectId(oid)}) == 1
    monkeypatch.setattr(key_index, "write_keys", real)
    for params in (
        {"payment_status": "refunded"},
        {"batch_prefix": "札幌"},
        {},
        {"payment_status": "unpaid"},
    ):
        assert same_as_plain(api, token, shop["seller_id"], params) >= 1
    keys_agree(backend, shop["seller_id"])
    if backend == "ferretdb":
        assert db.get_db().order_keys_marks.count_documents({"ids": {"$exists": True}}) == 0


@FERRETDB
def test_a_mark_of_another_process_is_waited_for_then_repaired(backend, api, token, shop):
    """Another process's mark: still young, its write may be running (the list reads the
    orders); once older than a request's time it is dead and repaired."""
    oid = ObjectId(shop["ids"][9])
    api.get("/orders", token=token)
    keys = db.get_db().order_keys
    # What another process left: its order written, its key not (written here as stale).
    db.get_db().orders.update_one({"_id": oid}, {"$set": {"payment_status": "refunded"}})
    keys.update_one({"_id": oid}, {"$set": {"payment_status": "unpaid"}})
    marks = db.get_db().order_keys_marks
    marks.insert_one({"boot": "another", "at": time.time(), "scope": None, "ids": [oid]})
    assert same_as_plain(api, token, shop["seller_id"], {"payment_status": "refunded"}) == 1
    assert same_as_plain(api, token, shop["seller_id"], {"payment_status": "unpaid"}) >= 1
    assert keys.find_one({"_id": oid})["payment_status"] == "unpaid"  # not touched while young
    marks.update_many({"boot": "another"}, {"$set": {"at": time.time() - key_index.MARK_STALE - 1}})
    assert same_as_plain(api, token, shop["seller_id"], {"payment_status": "refunded"}) == 1
    assert marks.count_documents({"boot": "another"}) == 0
    keys_agree(backend, shop["seller_id"])


@FERRETDB
@pytest.mark.parametrize("lost", ["keys", "built", "boot"])
def test_keys_lost_or_built_by_another_process_are_rebuilt_before_a_list(
    backend, api, token, shop, lost, monkeypatch
):
    """After a restart (another process built them: BOOT), an upgrade or a database written
    without them (the collection gone), the seller's first list rebuilds the keys."""
    api.get("/orders", token=token)
    keys = db.get_db().order_keys
    oid = ObjectId(shop["ids"][1])
    # Written behind the index's back (mongosh, older code): only a rebuild sees it.
    keys.update_one({"_id": oid}, {"$set": {"payment_status": "refunded"}})
    keys.delete_one({"_id": ObjectId(shop["ids"][0])})
    if lost == "keys":
        db.get_db().drop_collection("order_keys")
        db.get_db().drop_collection("order_keys_marks")
    elif lost == "built":
        db.get_db().order_keys_marks.delete_many({})
    else:
        monkeypatch.setattr(key_index, "BOOT", "a restarted process")
    for params in ({}, {"payment_status": "refunded"}, {"payment_status": "remitted"}):
        same_as_plain(api, token, shop["seller_id"], params)
    keys_agree(backend, shop["seller_id"])


@FERRETDB
def test_a_key_that_disagrees_with_its_order_on_the_page_is_repaired(backend, api, token, shop):
    """A stale key that puts an order on a page it does not belong to: the page's orders
    are read against the query, the key repaired and the orders read instead."""
    api.get("/orders", token=token)
    unpaid = db.get_db().orders.find_one({"seller_id": shop["seller_id"], "payment_status": "unpaid"})
    db.get_db().order_keys.update_one(
        {"_id": unpaid["_id"]}, {"$set": {"payment_status": "remitted", "total_amount": 10**9}}
    )
    assert same_as_plain(
        api, token, shop["seller_id"], {"payment_status": "remitted", "sort": "-total_amount"}
    )
    keys_agree(backend, shop["seller_id"])


@pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)
def test_writes_and_lists_at_once_leave_the_list_equal_to_the_orders(backend, api, token, shop):
    """Order writes of every kind in threads while lists are read; afterwards the list's
    rows and total_count agree with a plain query, and on FerretDB every key with its order."""
    ids = shop["ids"]
    statuses = ["remitted", "unpaid", "refunded"]
    calls = []
    for k in range(6):
        calls.append(
            lambda k=k: api.patch(f"/orders/{ids[k]}", {"payment_status": statuses[k % 3]}, token=token)
        )
        calls.append(  # a refusal shows as its response (make_order would raise in the thread)
            lambda k=k: api.post(
                "/orders",
                {
                    "buyer_email": "amy@example.com",
                    "item_name": "Tea",
                    "quantity": 1,
                    "unit_price": 10 + k,
                    "batch": TOKYO,
                },
                token=token,
            )
        )
        calls.append(lambda k=k: api.get("/orders?limit=5&payment_status=unpaid", token=token))
        calls.append(
            lambda k=k: api.get(
                f"/orders?limit=3&sort=-total_amount&q={'amy' if k % 2 else '林'}", token=token
            )
        )
    calls.append(
        lambda: api.post(
            "/orders/bulk", {"ids": ids[6:14], "set": {"fulfillment_status": "purchased"}}, token=token
        )
    )
    calls.append(
        lambda: api.post(
            "/orders/bulk/matching",
            {"where": {"batch": TOKYO}, "set": {"payment_status": "remitted"}},
            token=token,
        )
    )
    calls.append(lambda: api.patch(f"/customers/{shop['amy']['id']}", {"name": "Amy 陳美"}, token=token))
    for r in at_once(calls, threads=8):
        assert r.status in (200, 201, 409), r
    for params in (
        {},
        {"payment_status": "unpaid"},
        {"payment_status": "remitted", "sort": "total_amount"},
        {"q": "amy"},
        {"fulfillment_status": "purchased"},
        {"batch": TOKYO, "sort": "-order_no"},
    ):
        same_as_plain(api, token, shop["seller_id"], params, limit=7)
    keys_agree(backend, shop["seller_id"])


@FERRETDB
def test_a_write_that_sets_keys_rewrites_a_missing_key_from_its_order(backend, api, token, shop, commands):
    """A status change names its order and `$set`s key fields: its key gets the same
    `$set`, no read of the order; a key that is not there to update is read back."""
    api.get("/orders", token=token)
    first, second = ObjectId(shop["ids"][12]), ObjectId(shop["ids"][13])
    db.get_db().order_keys.delete_one({"_id": second})
    commands.names.clear()
    commands.bodies.clear()
    assert api.patch(f"/orders/{first}", {"payment_status": "refunded"}, token=token).status == 200
    reads = [
        b
        for n, b in zip(commands.names, commands.bodies, strict=True)
        if n == "find" and b["find"] == "orders"
    ]
    assert [b["filter"] for b in reads if b.get("projection", {}).get("seller_id")] == []  # no read back
    assert api.patch(f"/orders/{second}", {"payment_status": "refunded"}, token=token).status == 200
    keys_agree(backend, shop["seller_id"])
    assert same_as_plain(api, token, shop["seller_id"], {"payment_status": "refunded"}) == 2
