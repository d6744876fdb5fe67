import datetime as dt
from zoneinfo import ZoneInfo

from chalicelib.platform import db
from tests.factories import make_item


def new_item(api, token, stock=None, price=100):
    return make_item(api, token, item_name="Matcha KitKat", price=price, stock=stock)["id"]


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
    # It names the item, what is asked and what is left (issue 11).
    assert r.json["error"]["details"] == [
        {
            "field": "quantity",
            "code": "insufficient_stock",
            "message": "2 asked, 1 left",
            "item_name": "Matcha KitKat",
            "needed": 2,
            "in_stock": 1,
        }
    ]
    assert stock_of(iid) == 1
    assert db.get_db().orders.count_documents({}) == 1
    # The refused buyer was not created either.
    assert db.get_db().customers.count_documents({"email_lower": "new@example.com"}) == 0
    r = api.post("/orders", {"customer_id": "0" * 24, "item_id": iid, "quantity": 1}, token=token)
    assert r.status == 404 and stock_of(iid) == 1


def test_raising_a_quantity_past_stock_names_the_extra_units(api, token):
    """Issue 27: the PATCH's 409 said "2 asked" for a change from 2 to 5 with 2 left, as if
    the order were new: it is the change (3 more) that lacks stock."""
    iid = new_item(api, token, stock=4)
    oid = api.post(
        "/orders", {"buyer_email": "a@example.com", "item_id": iid, "quantity": 2}, token=token
    ).json["id"]
    r = api.patch(f"/orders/{oid}", {"quantity": 5}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "insufficient_stock"
    assert "this change needs 3 more" in r.json["error"]["message"]
    assert r.json["error"]["details"] == [
        {
            "field": "quantity",
            "code": "stock_short_for_change",
            "message": "only 2 more in stock; this change needs 3 more",
            "item_name": "Matcha KitKat",
            "needed": 3,
            "in_stock": 2,
        }
    ]
    # Nothing was written: the quantity and the stock are as before.
    assert api.get(f"/orders/{oid}", token=token).json["quantity"] == 2 and stock_of(iid) == 2
    assert api.patch(f"/orders/{oid}", {"quantity": 4}, token=token).status == 200
    assert stock_of(iid) == 0


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


def test_delivered_keeps_the_shipped_date_or_gives_a_missing_one_today(api, token):
    """Both PATCH paths follow chalicelib/rules/order_rules.py: the one-command update keeps the
    date a shipped order has; one without a date (old data) takes the read path and gets
    today's, as a move into shipped would."""
    from bson import ObjectId

    a, b = (order(api, token).json["id"] for _ in range(2))
    for oid in (a, b):
        api.patch(
            f"/orders/{oid}", {"fulfillment_status": "shipped", "shipped_date": "2026-11-20"}, token=token
        )
    db.get_db().orders.update_one({"_id": ObjectId(b)}, {"$set": {"shipped_date": None}})
    today = dt.datetime.now(ZoneInfo("Asia/Taipei")).date().isoformat()
    assert api.patch(f"/orders/{a}", {"fulfillment_status": "delivered"}, token=token).json[
        "shipped_date"
    ] == ("2026-11-20")
    assert (
        api.patch(f"/orders/{b}", {"fulfillment_status": "delivered"}, token=token).json["shipped_date"]
        == today
    )


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


def test_cancel_with_a_new_quantity_returns_what_the_order_held(api, token):
    """One PATCH that cancels and names a quantity gives back the units the order held
    (it once gave back new - 2 x old: 3 units for an order of 2 cut to 1)."""
    iid = new_item(api, token, stock=5)
    oid = api.post(
        "/orders", {"buyer_email": "a@example.com", "item_id": iid, "quantity": 2}, token=token
    ).json["id"]
    assert stock_of(iid) == 3
    r = api.patch(f"/orders/{oid}", {"fulfillment_status": "cancelled", "quantity": 1}, token=token)
    assert r.status == 200 and r.json["fulfillment_status"] == "cancelled"
    assert stock_of(iid) == 5


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
    assert r.json == {"updated": 2, "unchanged": 0, "failed": []}
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


def bulk(api, token, ids, **set_):
    r = api.post("/orders/bulk", {"ids": ids, "set": set_}, token=token)
    assert r.status == 200, r
    return r.json


def failures(result):
    return sorted((f["id"], f["error"]) for f in result["failed"])


def test_bulk_moves_only_forward(api, token):
    a, b, c = (order(api, token).json["id"] for _ in range(3))
    api.patch(f"/orders/{a}", {"fulfillment_status": "shipped", "shipped_date": "2026-01-02"}, token=token)
    api.patch(f"/orders/{a}", {"fulfillment_status": "delivered"}, token=token)
    api.patch(f"/orders/{b}", {"fulfillment_status": "shipped", "shipped_date": "2026-01-03"}, token=token)
    delivered = api.get(f"/orders/{a}", token=token).json
    # delivered → shipped refused; shipped → shipped is no change; pending → shipped moves.
    r = bulk(api, token, [a, b, c], fulfillment_status="shipped")
    assert r == {"updated": 1, "unchanged": 1, "failed": [{"id": a, "error": "invalid_transition"}]}
    assert api.get(f"/orders/{a}", token=token).json == delivered  # untouched, date kept
    assert api.get(f"/orders/{b}", token=token).json["shipped_date"] == "2026-01-03"
    r = bulk(api, token, [a, b, c], fulfillment_status="purchased")
    assert r["updated"] == 0 and failures(r) == sorted((i, "invalid_transition") for i in (a, b, c))
    r = bulk(api, token, [a, b, c], fulfillment_status="pending")
    assert r["updated"] == 0 and len(r["failed"]) == 3
    # A refusal covers the whole order: no part of a mixed change is applied.
    r = bulk(api, token, [a], fulfillment_status="shipped", payment_status="remitted", carrier="SF")
    assert failures(r) == [(a, "invalid_transition")]
    assert api.get(f"/orders/{a}", token=token).json == delivered
    # Payment: unpaid < remitted < refunded.
    assert bulk(api, token, [a, b], payment_status="remitted")["updated"] == 2
    assert bulk(api, token, [b], payment_status="refunded")["updated"] == 1
    r = bulk(api, token, [a, b, c], payment_status="unpaid")
    assert r["updated"] == 0 and failures(r) == sorted([(a, "invalid_transition"), (b, "invalid_transition")])
    assert r["unchanged"] == 1  # c is unpaid already
    r = bulk(api, token, [a, b], payment_status="remitted")
    assert (r["updated"], r["unchanged"], failures(r)) == (0, 1, [(b, "invalid_transition")])
    assert [o["payment_status"] for o in (api.get(f"/orders/{i}", token=token).json for i in (a, b, c))] == [
        "remitted",
        "refunded",
        "unpaid",
    ]
    # A single PATCH may still move back.
    o = api.patch(f"/orders/{a}", {"fulfillment_status": "shipped", "payment_status": "unpaid"}, token=token)
    assert o.status == 200
    assert (o.json["fulfillment_status"], o.json["payment_status"], o.json["shipped_date"]) == (
        "shipped",
        "unpaid",
        "2026-01-02",
    )
    assert api.patch(f"/orders/{b}", {"payment_status": "remitted"}, token=token).json["payment_status"] == (
        "remitted"
    )


def test_bulk_counts_unchanged_orders_apart_and_leaves_them_alone(api, token):
    iid = new_item(api, token, stock=10)
    ids = [
        api.post(
            "/orders", {"buyer_email": "a@example.com", "item_id": iid, "quantity": 2}, token=token
        ).json["id"]
        for _ in range(4)
    ]
    api.patch(f"/orders/{ids[0]}", {"payment_status": "remitted", "carrier": "SF"}, token=token)
    api.patch(f"/orders/{ids[1]}", {"fulfillment_status": "cancelled"}, token=token)
    before = {i: api.get(f"/orders/{i}", token=token).json for i in ids}
    r = bulk(api, token, ids[:1], payment_status="remitted")
    assert r == {"updated": 0, "unchanged": 1, "failed": []}
    assert api.get(f"/orders/{ids[0]}", token=token).json == before[ids[0]]  # remitted_at, updated_at kept
    r = bulk(api, token, ids, carrier="SF")
    assert r == {"updated": 3, "unchanged": 1, "failed": []}
    # Already cancelled: unchanged, and its stock is not returned a second time.
    stock = stock_of(iid)
    r = bulk(api, token, ids, fulfillment_status="cancelled")
    assert r == {"updated": 3, "unchanged": 1, "failed": []}
    assert stock_of(iid) == stock + 6 == 10
    assert api.get(f"/orders/{ids[1]}", token=token).json["history"] == before[ids[1]]["history"]
    # Remitted and carrier already set, but not yet shipped: it changes (one history entry).
    o = order(api, token).json["id"]
    api.patch(f"/orders/{o}", {"payment_status": "remitted", "carrier": "SF"}, token=token)
    r = bulk(api, token, [o, ids[0]], payment_status="remitted", carrier="SF", fulfillment_status="shipped")
    assert r == {"updated": 1, "unchanged": 0, "failed": [{"id": ids[0], "error": "order_cancelled"}]}
    assert [h["to"] for h in api.get(f"/orders/{o}", token=token).json["history"]] == ["remitted", "shipped"]


def test_bulk_reports_an_order_a_single_edit_changed_after_its_read(api, token, monkeypatch):
    """A PATCH that ships one order between the bulk cancel's read and its write raises
    that order's version by one, like the bulk's own write would: the bulk must still
    report it failed and give back no stock for it."""
    from chalicelib.accounts import auth
    from chalicelib.sales import orders
    from chalicelib.sales.schemas import OrderPatch

    principal = auth.authenticate(f"Bearer {token}")
    iid = new_item(api, token, stock=10)
    ids = [
        api.post(
            "/orders", {"buyer_email": "a@example.com", "item_id": iid, "quantity": 2}, token=token
        ).json["id"]
        for _ in range(3)
    ]
    assert stock_of(iid) == 4
    plan_change = orders.plan_change
    raced = []

    def plan_after_a_single_edit(doc, *args, **kwargs):
        if str(doc["_id"]) == ids[1] and not raced:
            raced.append(orders.update(principal, ids[1], OrderPatch(fulfillment_status="shipped")))
        return plan_change(doc, *args, **kwargs)

    monkeypatch.setattr(orders, "plan_change", plan_after_a_single_edit)
    r = bulk(api, token, ids, fulfillment_status="cancelled")
    assert raced and raced[0]["fulfillment_status"] == "shipped"
    assert stock_of(iid) == 8  # only the two orders this call cancelled gave stock back
    assert r == {"updated": 2, "unchanged": 0, "failed": [{"id": ids[1], "error": "concurrent_update"}]}
    shipped = api.get(f"/orders/{ids[1]}", token=token).json
    assert shipped["fulfillment_status"] == "shipped"
    assert [(h["from"], h["to"]) for h in shipped["history"]] == [("pending", "shipped")]
    for i in (ids[0], ids[2]):
        o = api.get(f"/orders/{i}", token=token).json
        assert [(h["from"], h["to"]) for h in o["history"]] == [("pending", "cancelled")]


def test_order_moves_to_another_buyer(api, token, other_token):
    """A wrong buyer is fixed on the order: by customer_id or by email (an unknown email
    becomes a customer, as in POST /orders); the history says who it was; the tracking
    pages follow; another seller's customer is 404 and bad bodies change nothing."""
    o = order(api, token, buyer_email="amy@example.com", buyer_name="Amy", quantity=2).json
    bob = api.post("/customers", {"email": "bob@example.com", "name": "Bob"}, token=token).json
    amy_link = api.post(f"/customers/{o['customer_id']}/tracking-link", token=token).json["token"]
    bob_link = api.post(f"/customers/{bob['id']}/tracking-link", token=token).json["token"]

    r = api.patch(f"/orders/{o['id']}", {"customer_id": bob["id"], "note": "for Bob"}, token=token)
    assert r.status == 200, r
    assert (r.json["customer_id"], r.json["buyer_name"], r.json["buyer_email"]) == (
        bob["id"],
        "Bob",
        "bob@example.com",
    )
    assert r.json["note"] == "for Bob" and r.json["quantity"] == 2
    # The ids, the names as they were, and who (the seller: the token's actor).
    assert [
        (h["field"], h["from"], h["to"], h["from_name"], h["to_name"], h["by"]) for h in r.json["history"]
    ] == [
        (
            "customer_id",
            o["customer_id"],
            bob["id"],
            "Amy",
            "Bob",
            api.get("/auth/me", token=token).json["id"],
        )
    ]
    assert api.get(f"/track/{amy_link}").json["orders"] == []
    assert [x["order_no"] for x in api.get(f"/track/{bob_link}").json["orders"]] == [o["order_no"]]
    assert [x["id"] for x in api.get(f"/orders?customer_id={bob['id']}", token=token).json["items"]] == [
        o["id"]
    ]

    r = api.patch(f"/orders/{o['id']}", {"buyer_email": "Carol@Example.com"}, token=token)
    assert r.status == 200 and r.json["buyer_email"].lower() == "carol@example.com"
    carol = [
        c
        for c in api.get("/customers", token=token).json["items"]
        if c["email"].lower() == "carol@example.com"
    ]
    assert [c["id"] for c in carol] == [r.json["customer_id"]]
    assert (r.json["history"][-1]["from"], r.json["history"][-1]["from_name"]) == (bob["id"], "Bob")

    stranger = api.post("/customers", {"email": "x@example.com", "name": "X"}, token=other_token).json
    before = api.get(f"/orders/{o['id']}", token=token).json
    for body, status in [
        ({"customer_id": stranger["id"]}, 404),
        ({"customer_id": "nope"}, 400),
        ({"customer_id": None}, 400),
        ({"buyer_email": "not-an-email"}, 400),
        ({"customer_id": bob["id"], "buyer_email": "bob@example.com"}, 400),
    ]:
        r = api.patch(f"/orders/{o['id']}", body, token=token)
        assert r.status == status, (body, r)
    assert api.get(f"/orders/{o['id']}", token=token).json == before


def test_bulk_null_status_is_refused_and_writes_nothing(api, token):
    """A stored null status made the order unreadable for good (500 on the list, the
    order, its exports and any PATCH): refused with the field named."""
    oid = order(api, token, buyer_email="a@example.com", item_name="x", quantity=1, unit_price=5).json["id"]
    before = db.get_db().orders.find_one()
    for field in ("payment_status", "fulfillment_status"):
        r = api.post("/orders/bulk", {"ids": [oid], "set": {field: None}}, token=token)
        assert r.status == 400, r
        assert [(d["field"], d["code"]) for d in r.json["error"]["details"]] == [
            (f"set.{field}", "cannot_be_null")
        ]
    assert db.get_db().orders.find_one() == before
    assert api.get("/orders", token=token).status == 200
    assert api.patch(f"/orders/{oid}", {"note": "still editable"}, token=token).status == 200
