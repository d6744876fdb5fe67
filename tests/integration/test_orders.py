import datetime as dt
from zoneinfo import ZoneInfo

from chalicelib import db


def new_item(api, token, stock=None, price=100):
    return api.post(
        "/items", {"item_name": "Matcha KitKat", "price": price, "stock": stock}, token=token
    ).json["id"]


def order(api, token, **body):
    body = {"buyer_email": "amy@example.com", "item_name": "Tea", "quantity": 1, "unit_price": 10, **body}
    return api.post("/orders", body, token=token)


def stock_of(item_id):
    from bson import ObjectId

    return db.get_db().items.find_one({"_id": ObjectId(item_id)})["stock"]


def test_create_computes_total_and_creates_buyer(api, token):
    r = order(
        api, token, quantity=3, unit_price=19.99, shipping_fee=60, batch="2026-12 Tokyo", buyer_name="Amy"
    )
    assert r.status == 201
    o = r.json
    assert o["total_amount"] == 119.97  # 3 × 19.99 + 60, exact
    assert db.get_db().orders.find_one()["total_amount"] == 11997
    assert (o["order_no"], o["payment_status"], o["fulfillment_status"]) == (1001, "unpaid", "pending")
    assert o["buyer_name"] == "Amy" and o["batch"] == "2026-12 Tokyo" and o["history"] == []
    customers = api.get("/customers", token=token).json["items"]
    assert [c["email"] for c in customers] == ["amy@example.com"] and customers[0]["id"] == o["customer_id"]
    # A second order for the same buyer (any case) reuses the customer; numbers increase.
    r2 = order(api, token, buyer_email="AMY@example.com")
    assert r2.json["customer_id"] == o["customer_id"] and r2.json["order_no"] == 1002


def test_item_price_used_and_client_total_refused(api, token):
    iid = new_item(api, token, price=250)
    r = api.post("/orders", {"buyer_email": "a@example.com", "item_id": iid, "quantity": 2}, token=token)
    assert (
        r.json["unit_price"] == 250
        and r.json["total_amount"] == 500
        and r.json["item_name"] == "Matcha KitKat"
    )
    # A known item by name (any case) is used too.
    r = api.post(
        "/orders", {"buyer_email": "a@example.com", "item_name": "matcha kitkat", "quantity": 1}, token=token
    )
    assert r.json["item_id"] == iid
    r = order(api, token, total_amount=1)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "total_amount"
    r = api.post(
        "/orders", {"buyer_email": "a@example.com", "item_name": "Unknown thing", "quantity": 1}, token=token
    )
    assert r.status == 400 and "unit_price" in r.json["error"]["message"]


def test_bad_orders_write_nothing(api, token):
    bad = [
        {"quantity": 0},
        {"quantity": 2.5},
        {"unit_price": 1.005},
        {"unit_price": -5},
        {"shipping_fee": 1e309},
        {"buyer_email": {"$ne": ""}},
        {"note": "x" * 2001},
        {"unknown": 1},
        {"unit_price": 100_000_001},
        {"quantity": 100_000, "unit_price": 100_000_000},
    ]
    for extra in bad:
        r = order(api, token, **extra)
        assert r.status == 400, (extra, r)
        assert set(r.json["error"]) == {"code", "message", "details"}
    r = api.post("/orders", raw=b'{"buyer_email": "a@example.com", "quantity": NaN}', token=token)
    assert r.status == 400
    assert db.get_db().orders.count_documents({}) == 0
    assert db.get_db().customers.count_documents({}) == 0


def test_stock_taken_and_refused_without_writing(api, token):
    iid = new_item(api, token, stock=3)
    assert (
        api.post(
            "/orders", {"buyer_email": "a@example.com", "item_id": iid, "quantity": 2}, token=token
        ).status
        == 201
    )
    assert stock_of(iid) == 1
    r = api.post("/orders", {"buyer_email": "new@example.com", "item_id": iid, "quantity": 2}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "insufficient_stock"
    assert stock_of(iid) == 1
    assert db.get_db().orders.count_documents({}) == 1
    # The refused buyer was not created either.
    assert db.get_db().customers.count_documents({"email_lower": "new@example.com"}) == 0
    r = api.post("/orders", {"customer_id": "0" * 24, "item_id": iid, "quantity": 1}, token=token)
    assert r.status == 404 and stock_of(iid) == 1


def test_status_changes_history_and_dates(api, token):
    oid = order(api, token).json["id"]
    r = api.patch(f"/orders/{oid}", {"payment_status": "remitted"}, token=token)
    assert r.json["payment_status"] == "remitted" and r.json["remitted_at"].endswith("Z")
    r = api.patch(
        f"/orders/{oid}",
        {"fulfillment_status": "shipped", "carrier": "黑貓", "tracking_number": "TW123"},
        token=token,
    )
    today = dt.datetime.now(ZoneInfo("Asia/Taipei")).date().isoformat()
    assert r.json["shipped_date"] == today and r.json["carrier"] == "黑貓"
    # Same value again: nothing new in the history.
    r = api.patch(f"/orders/{oid}", {"fulfillment_status": "shipped"}, token=token)
    hist = [(h["field"], h["from"], h["to"]) for h in r.json["history"]]
    assert hist == [("payment_status", "unpaid", "remitted"), ("fulfillment_status", "pending", "shipped")]
    assert all(h["at"].endswith("Z") for h in r.json["history"])
    r = api.patch(
        f"/orders/{oid}", {"fulfillment_status": "shipped", "shipped_date": "2026-11-20"}, token=token
    )
    assert r.json["shipped_date"] == "2026-11-20"
    r = api.patch(f"/orders/{oid}", {"fulfillment_status": "purchased"}, token=token)
    assert r.json["shipped_date"] is None
    r = api.patch(f"/orders/{oid}", {"shipped_date": "2026-11-20"}, token=token)
    assert r.status == 400
    r = api.patch(f"/orders/{oid}", {"payment_status": "refunded"}, token=token)
    assert r.json["remitted_at"] is None and r.json["history"][-1]["to"] == "refunded"
    assert api.patch(f"/orders/{oid}", {"payment_status": "paid"}, token=token).status == 400


def test_shipped_date_uses_seller_timezone(api, token):
    api.patch("/auth/me", {"timezone": "Pacific/Kiritimati"}, token=token)  # UTC+14
    fresh = api.post(
        "/auth/login",
        {"email": api.get("/auth/me", token=token).json["email"], "password": "correct horse 1"},
    ).json["token"]
    oid = order(api, fresh).json["id"]
    r = api.patch(f"/orders/{oid}", {"fulfillment_status": "shipped"}, token=fresh)
    assert r.json["shipped_date"] == dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date().isoformat()


def test_cancel_returns_stock_and_is_final(api, token):
    iid = new_item(api, token, stock=5)
    oid = api.post(
        "/orders", {"buyer_email": "a@example.com", "item_id": iid, "quantity": 4}, token=token
    ).json["id"]
    assert stock_of(iid) == 1
    r = api.patch(f"/orders/{oid}", {"fulfillment_status": "cancelled"}, token=token)
    assert r.status == 200 and stock_of(iid) == 5
    r = api.patch(f"/orders/{oid}", {"fulfillment_status": "shipped"}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "order_cancelled"
    assert api.patch(f"/orders/{oid}", {"quantity": 1}, token=token).status == 409
    # Cancelling twice does not return stock twice.
    api.patch(f"/orders/{oid}", {"fulfillment_status": "cancelled"}, token=token)
    assert stock_of(iid) == 5
    # A refund on a cancelled order is still possible.
    assert api.patch(f"/orders/{oid}", {"payment_status": "refunded"}, token=token).status == 200
    shipped = api.post(
        "/orders", {"buyer_email": "a@example.com", "item_id": iid, "quantity": 1}, token=token
    ).json["id"]
    api.patch(f"/orders/{shipped}", {"fulfillment_status": "shipped"}, token=token)
    r = api.patch(f"/orders/{shipped}", {"fulfillment_status": "cancelled"}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "invalid_transition" and stock_of(iid) == 4


def test_quantity_change_rechecks_stock_and_total(api, token):
    iid = new_item(api, token, stock=5, price=100)
    oid = api.post(
        "/orders",
        {"buyer_email": "a@example.com", "item_id": iid, "quantity": 2, "shipping_fee": 30},
        token=token,
    ).json["id"]
    r = api.patch(f"/orders/{oid}", {"quantity": 4}, token=token)
    assert r.json["total_amount"] == 430 and stock_of(iid) == 1
    r = api.patch(f"/orders/{oid}", {"quantity": 6}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "insufficient_stock" and stock_of(iid) == 1
    assert api.get(f"/orders/{oid}", token=token).json["quantity"] == 4
    r = api.patch(f"/orders/{oid}", {"quantity": 1, "unit_price": 99.5}, token=token)
    assert r.json["total_amount"] == 129.5 and stock_of(iid) == 4


def test_idempotency_key(api, token):
    body = {"buyer_email": "a@example.com", "item_name": "Tea", "quantity": 1, "unit_price": 10}
    h = {"Idempotency-Key": "order-abc-1"}
    a = api.post("/orders", body, token=token, headers=h)
    b = api.post("/orders", body, token=token, headers=h)
    assert (a.status, b.status) == (201, 200) and a.json["id"] == b.json["id"]
    assert db.get_db().orders.count_documents({}) == 1
    # Keys are per seller: another seller's identical key makes their own order.
    c = api.post("/orders", body, token=api.signup(), headers=h)
    assert c.status == 201 and c.json["id"] != a.json["id"]
    assert api.post("/orders", body, token=token, headers={"Idempotency-Key": "x" * 300}).status == 400


def test_list_filters_search_and_order(api, token):
    a = order(api, token, buyer_email="amy@example.com", item_name="Tokyo Banana", batch="Tokyo").json
    b = order(api, token, buyer_email="ben@example.com", item_name="Royce Chocolate", batch="Sapporo").json
    c = order(api, token, buyer_email="amy@example.com", item_name="Hello Kitty pen", batch="Tokyo").json
    api.patch(f"/orders/{b['id']}", {"payment_status": "remitted"}, token=token)
    ids = lambda q: [o["id"] for o in api.get("/orders" + q, token=token).json["items"]]  # noqa: E731
    assert ids("") == [c["id"], b["id"], a["id"]]
    assert ids("?batch=Tokyo") == [c["id"], a["id"]]
    assert ids("?payment_status=remitted") == [b["id"]]
    assert ids("?fulfillment_status=pending&payment_status=unpaid") == [c["id"], a["id"]]
    assert ids(f"?customer_id={a['customer_id']}") == [c["id"], a["id"]]
    assert ids("?q=royce") == [b["id"]]
    assert ids("?q=1001") == [a["id"]]
    assert ids("?from=2000-01-01&to=2100-01-01") == [c["id"], b["id"], a["id"]]
    assert ids("?from=2100-01-01") == []
    for bad in ("?payment_status=paid", "?customer_id=zz", "?from=yesterday", "?limit=abc"):
        assert api.get("/orders" + bad, token=token).status == 400, bad


def test_bulk_update(api, token):
    iid = new_item(api, token, stock=10)
    ids = [
        api.post(
            "/orders", {"buyer_email": "a@example.com", "item_id": iid, "quantity": 1}, token=token
        ).json["id"]
        for _ in range(4)
    ]
    api.patch(f"/orders/{ids[3]}", {"fulfillment_status": "cancelled"}, token=token)
    r = api.post(
        "/orders/bulk",
        {"ids": [*ids, ids[0], "nope", "0" * 24], "set": {"fulfillment_status": "shipped", "carrier": "SF"}},
        token=token,
    )
    assert r.status == 200
    assert r.json["updated"] == 3
    assert sorted((f["id"], f["error"]) for f in r.json["failed"]) == sorted(
        [(ids[3], "order_cancelled"), ("nope", "not_found"), ("0" * 24, "not_found")]
    )
    for oid in ids[:3]:
        o = api.get(f"/orders/{oid}", token=token).json
        assert o["fulfillment_status"] == "shipped" and o["carrier"] == "SF" and o["shipped_date"]
        assert o["history"][-1]["from"] == "pending"
    r = api.post("/orders/bulk", {"ids": ids[:2], "set": {"payment_status": "remitted"}}, token=token)
    assert r.json == {"updated": 2, "failed": []}
    # Bulk cancel returns stock for each order, once.
    more = [
        api.post(
            "/orders", {"buyer_email": "a@example.com", "item_id": iid, "quantity": 2}, token=token
        ).json["id"]
        for _ in range(2)
    ]
    before = stock_of(iid)
    r = api.post("/orders/bulk", {"ids": more, "set": {"fulfillment_status": "cancelled"}}, token=token)
    assert r.json["updated"] == 2 and stock_of(iid) == before + 4
    assert api.post("/orders/bulk", {"ids": ["x"] * 501, "set": {"carrier": "SF"}}, token=token).status == 400
    assert api.post("/orders/bulk", {"ids": ids, "set": {}}, token=token).status == 400
    assert api.post("/orders/bulk", {"ids": ids, "set": {"quantity": 3}}, token=token).status == 400
