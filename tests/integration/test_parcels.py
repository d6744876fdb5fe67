"""Parcels (contract "Parcels"): packing a buyer's orders ships them, delivering the parcel
delivers them, unpacking it before delivery puts them back; refusals write nothing; an
order in a parcel changes through its parcel; a retry or a crash converges."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from bson import ObjectId

from chalicelib.platform import db
from chalicelib.platform.key_index import COLLECTIONS as KEY_INDEX
from chalicelib.shipping import parcels
from tests.factories import make_customer, make_order, make_payment, make_principal


def status_of(api, token, *orders):
    out = []
    for o in orders:
        got = api.get(f"/orders/{o['id']}", token=token).json
        out.append((got["fulfillment_status"], got["shipped_date"]))
    return out


def pack(api, token, orders, **more):
    body = {
        "customer_id": orders[0]["customer_id"],
        "order_ids": [o["id"] for o in orders],
        "method": "home",
        **more,
    }
    return api.post("/parcels", body, token=token)


def today():
    return dt.datetime.now(ZoneInfo("Asia/Taipei")).date().isoformat()


def test_a_parcel_ships_its_orders_and_the_recipient_comes_from_the_buyer(api, token):
    make_customer(
        api, token, email="amy@example.com", name="Amy", phone="0912-345-678", address="台北市信義路五段7號"
    )
    a = make_order(api, token)
    b = make_order(api, token)
    c = make_order(api, token)
    api.patch(f"/orders/{b['id']}", {"fulfillment_status": "purchased"}, token=token)
    api.patch(
        f"/orders/{c['id']}", {"fulfillment_status": "shipped", "shipped_date": "2026-11-01"}, token=token
    )
    r = pack(api, token, [a, b, c], carrier="黑貓", tracking_number="123456789012", shipping_fee=150)
    assert r.status == 201, r
    p = r.json
    assert (p["parcel_no"], p["status"], p["shipped_date"], p["shipping_fee"]) == (1, "shipped", today(), 150)
    assert p["order_nos"] == [a["order_no"], b["order_no"], c["order_no"]]
    assert p["recipient"] == {
        "name": "Amy",
        "phone": "+886912345678",  # the buyer's phone as stored (E.164, issue 25)
        "address": "台北市信義路五段7號",
        "store_name": None,
        "store_id": None,
    }
    # Not sent yet → shipped today; already sent → keeps its status and date.
    assert status_of(api, token, a, b, c) == [
        ("shipped", today()),
        ("shipped", today()),
        ("shipped", "2026-11-01"),
    ]
    got = api.get(f"/orders/{a['id']}", token=token).json
    assert (got["carrier"], got["tracking_number"]) == ("黑貓", "123456789012")
    assert [(h["from"], h["to"]) for h in got["history"]] == [("pending", "shipped")]

    # A convenience-store parcel: the store, not the home address.
    d = make_order(api, token)
    r = pack(
        api,
        token,
        [d],
        method="cvs_711",
        recipient={"name": "Amy", "store_name": "7-ELEVEN 信義門市", "store_id": "123456"},
    )
    assert (r.json["parcel_no"], r.json["recipient"]["store_id"], r.json["recipient"]["address"]) == (
        2,
        "123456",
        None,
    )
    listed = api.get(f"/parcels?customer_id={a['customer_id']}", token=token).json["items"]
    assert [x["parcel_no"] for x in listed] == [2, 1]


def test_refusals_name_the_order_and_write_nothing(api, token, other_token):
    a = make_order(api, token)
    bob = make_order(api, token, buyer_email="bob@example.com")
    gone = make_order(api, token)
    api.patch(f"/orders/{gone['id']}", {"fulfillment_status": "cancelled"}, token=token)
    packed = make_order(api, token)
    assert pack(api, token, [packed]).status == 201
    before = list(db.get_db().orders.find({}, {"history": 0}))
    for others, code in [
        ([bob], "order_not_this_buyers"),
        ([gone], "order_cancelled"),
        ([packed], "order_in_parcel"),
    ]:
        r = pack(api, token, [a, *others])
        assert (r.status, r.json["error"]["code"]) == (409, code), r
        assert r.json["error"]["details"][0]["message"] == str(others[0]["order_no"])
    assert pack(api, other_token, [a]).status == 404  # another seller's order
    r = api.post(
        "/parcels", {"customer_id": a["customer_id"], "order_ids": [], "method": "home"}, token=token
    )
    assert r.status == 400
    r = api.post(
        "/parcels", {"customer_id": a["customer_id"], "order_ids": [a["id"]], "method": "drone"}, token=token
    )
    assert r.status == 400
    assert list(db.get_db().orders.find({}, {"history": 0})) == before
    assert db.get_db().parcels.count_documents({}) == 1


def test_an_order_in_a_parcel_changes_through_the_parcel(api, token):
    a = make_order(api, token)
    b = make_order(api, token)
    bob = make_customer(api, token, email="bob@example.com", name="Bob")
    p = pack(api, token, [a, b]).json
    for body, code in (
        ({"fulfillment_status": "cancelled"}, "invalid_transition"),  # shipped goods stay shipped
        ({"fulfillment_status": "purchased"}, "order_in_parcel"),
        ({"fulfillment_status": "pending"}, "order_in_parcel"),
        ({"customer_id": bob["id"]}, "order_in_parcel"),
    ):
        r = api.patch(f"/orders/{a['id']}", body, token=token)
        assert (r.status, r.json["error"]["code"]) == (409, code), (body, r)
    r = api.post("/orders/bulk", {"ids": [a["id"]], "set": {"fulfillment_status": "cancelled"}}, token=token)
    assert r.json["failed"] == [{"id": a["id"], "error": "invalid_transition"}]
    assert status_of(api, token, a) == [("shipped", today())]

    # The tracking number changes on the parcel, and its orders follow.
    r = api.patch(
        f"/parcels/{p['id']}", {"carrier": "新竹物流", "tracking_number": "9876543210"}, token=token
    )
    assert r.status == 200 and r.json["tracking_number"] == "9876543210"
    got = api.get(f"/orders/{b['id']}", token=token).json
    assert (got["carrier"], got["tracking_number"]) == ("新竹物流", "9876543210")
    # Delivered: its orders are delivered; then it stays.
    r = api.patch(f"/parcels/{p['id']}", {"status": "delivered"}, token=token)
    assert (r.json["status"], r.json["delivered_date"]) == ("delivered", today())
    assert [s for s, _ in status_of(api, token, a, b)] == ["delivered", "delivered"]
    r = api.delete(f"/parcels/{p['id']}", token=token)
    assert (r.status, r.json["error"]["code"]) == (409, "parcel_delivered")
    assert api.patch(f"/parcels/{p['id']}", {"status": "returned"}, token=token).status == 409


def test_unpacking_before_delivery_puts_the_orders_back(api, token):
    a = make_order(api, token)
    sent = make_order(api, token)
    api.patch(
        f"/orders/{sent['id']}", {"fulfillment_status": "shipped", "shipped_date": "2026-11-02"}, token=token
    )
    p = pack(api, token, [a, sent]).json
    assert api.delete(f"/parcels/{p['id']}", token=token).status == 204
    assert status_of(api, token, a, sent) == [("purchased", None), ("shipped", "2026-11-02")]
    assert api.get(f"/parcels/{p['id']}", token=token).status == 404
    assert all(o.get("parcel_id") is None for o in db.get_db().orders.find())
    # ... and can be packed again; a returned parcel puts its orders back too.
    p2 = pack(api, token, [a]).json
    assert api.patch(f"/parcels/{p2['id']}", {"status": "returned"}, token=token).json["status"] == "returned"
    assert status_of(api, token, a) == [("purchased", None)]
    assert pack(api, token, [a]).status == 201


def test_ready_to_ship_lists_bought_orders_per_buyer_with_the_balance(api, token):
    make_customer(api, token, email="amy@example.com", name="Amy", address="台中市")
    a1 = make_order(api, token, unit_price=300)
    a2 = make_order(api, token, unit_price=200)
    b1 = make_order(api, token, buyer_email="bob@example.com")
    make_order(api, token)  # pending: not bought yet
    for o in (a1, a2, b1):
        api.patch(f"/orders/{o['id']}", {"fulfillment_status": "purchased"}, token=token)
    make_payment(api, token, a1["customer_id"], 300, method="cash")
    r = api.get("/parcels/ready", token=token)
    assert r.status == 200, r
    rows = r.json["buyers"]
    assert [(x["name"], x["address"], x["balance"], [o["order_no"] for o in x["orders"]]) for x in rows] == [
        ("Amy", "台中市", 200, [a1["order_no"], a2["order_no"]]),
        ("bob", None, 100, [b1["order_no"]]),
    ]
    assert [o["payment_status"] for o in rows[0]["orders"]] == ["remitted", "unpaid"]
    pack(api, token, [a1])
    assert [len(x["orders"]) for x in api.get("/parcels/ready", token=token).json["buyers"]] == [1, 1]


def test_ready_to_ship_of_one_batch(api, token):
    """?batch= (the Ship tab's batch filter, issue 27): only that trip's orders, exactly
    that name; a bad name is a 400 naming `batch` and an empty one means every batch."""
    tokyo = make_order(api, token, batch="2026-12 東京", unit_price=300)
    osaka = make_order(api, token, batch="2026-12 大阪")
    other = make_order(api, token, buyer_email="bob@example.com", batch="2026-12 東京")
    loose = make_order(api, token)  # no batch
    for o in (tokyo, osaka, other, loose):
        api.patch(f"/orders/{o['id']}", {"fulfillment_status": "purchased"}, token=token)

    def ready(batch):
        return api.get(f"/parcels/ready?{urlencode({'batch': batch})}", token=token)

    def nos(batch):
        r = ready(batch)
        assert r.status == 200, r
        return [(b["name"], b["balance"], [o["order_no"] for o in b["orders"]]) for b in r.json["buyers"]]

    assert nos("2026-12 東京") == [("amy", 300, [tokyo["order_no"]]), ("bob", 100, [other["order_no"]])]
    assert nos(" 2026-12 大阪 ") == [("amy", 100, [osaka["order_no"]])]
    assert nos("東京") == []  # exactly the name, not a part of it
    assert [len(b["orders"]) for b in ready("").json["buyers"]] == [3, 1]
    r = ready("x" * 201)
    error = r.json["error"]
    assert (r.status, error["code"], error["details"][0]["field"]) == (400, "invalid_query", "batch"), r


def test_idempotency_key_and_a_crash_before_the_orders_are_marked(api, token, monkeypatch):
    a = make_order(api, token)
    b = make_order(api, token)
    key = {"Idempotency-Key": "box-1"}
    body = {"customer_id": a["customer_id"], "order_ids": [a["id"]], "method": "post"}
    first = api.post("/parcels", body, token=token, headers=key)
    again = api.post("/parcels", body, token=token, headers=key)
    assert (first.status, again.status) == (201, 200) and first.json["id"] == again.json["id"]
    assert db.get_db().parcels.count_documents({}) == 1

    def dies(*args, **kw):
        raise RuntimeError("Lambda timed out")

    monkeypatch.setattr(parcels, "_ship_orders", dies)
    key = {"Idempotency-Key": "box-2"}
    body = {"customer_id": b["customer_id"], "order_ids": [b["id"]], "method": "post"}
    assert api.post("/parcels", body, token=token, headers=key).status == 500
    assert status_of(api, token, b) == [("pending", None)]  # the parcel is written, its order not
    monkeypatch.undo()
    r = api.post("/parcels", body, token=token, headers=key)
    assert r.status == 200
    assert status_of(api, token, b) == [("shipped", today())]
    assert db.get_db().orders.find_one({"_id": ObjectId(b["id"])})["parcel_id"] == ObjectId(r.json["id"])


def test_the_buyers_page_shows_their_parcels_in_four_commands(api, token, commands):
    """The link, the orders (which carry their parcel), the payments, the open charges."""
    a = make_order(api, token)
    b = make_order(api, token)
    c = make_order(api, token)
    make_order(api, token, buyer_email="bob@example.com")
    p1 = pack(api, token, [a, b], carrier="黑貓", tracking_number="123456789012").json
    pack(api, token, [c], method="cvs_family", recipient={"store_name": "全家 信義店", "store_id": "F123"})
    api.patch(f"/parcels/{p1['id']}", {"status": "delivered"}, token=token)
    link = api.post(f"/customers/{a['customer_id']}/tracking-link", token=token).json["token"]
    if commands:
        commands.names.clear()
    r = api.get(f"/track/{link}")
    assert r.status == 200
    if commands:
        assert commands.names == ["find", "find", "find", "find"], commands.names
    boxes = r.json["parcels"]
    assert [(x["parcel_no"], x["method"], sorted(x["order_nos"])) for x in boxes] == [
        (2, "cvs_family", [c["order_no"]]),
        (1, "home", [a["order_no"], b["order_no"]]),
    ]
    assert (boxes[1]["tracking_number"], boxes[1]["delivered_date"], boxes[1]["shipped_date"]) == (
        "123456789012",
        today(),
        today(),
    )
    assert "F123" not in r.body.decode() if isinstance(r.body, bytes) else True  # the seller's own notes stay


def test_packing_slip_in_the_shops_language_with_or_without_prices(api, token, other_token):
    make_customer(
        api,
        token,
        email="amy@example.com",
        name="<script>alert(1)</script>Amy",
        phone="0912345678",
        address="台北市",
    )
    a = make_order(api, token, item_name="<img src=x onerror=alert(1)>Pocky", quantity=2, unit_price=1250.5)
    b = make_order(api, token, item_name="東京ばな奈", unit_price=300)
    make_payment(api, token, a["customer_id"], 1000, method="cash")
    p = pack(api, token, [a, b], carrier="黑貓", tracking_number="123456789012", note="易碎 fragile").json
    r = api.get(f"/parcels/{p['id']}/packing-slip", token=token)
    assert r.status == 200, r
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    html = r.body.decode()
    assert '<html lang="zh-Hant">' in html and "出貨單 #1" in html and "size: A4" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Amy" in html and "<script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;Pocky" in html and "<img" not in html
    for text in (
        "+886912345678",
        "台北市",
        "123456789012",
        "東京ばな奈",
        "NT$2,501",
        "NT$300",
        "NT$2,801",
        "尚未付款",
        "NT$1,801",
        "易碎 fragile",
    ):
        assert text in html, text
    bare = api.get(f"/parcels/{p['id']}/packing-slip?prices=false&size=label", token=token).body.decode()
    assert "NT$" not in bare and "size: 100mm 150mm" in bare and "東京ばな奈" in bare
    api.patch("/auth/me", {"language": "en"}, token=token)
    assert "Packing slip #1" in api.get(f"/parcels/{p['id']}/packing-slip", token=token).body.decode()
    assert api.get(f"/parcels/{p['id']}/packing-slip", token=other_token).status == 404
    assert api.get(f"/parcels/{p['id']}/packing-slip?size=poster", token=token).status == 400
    # Amounts as the pages write them (currencies.format_amount): the same in English,
    # whole yen in a JPY shop.
    en = api.get(f"/parcels/{p['id']}/packing-slip", token=token).body.decode()
    assert all(m in en for m in ("NT$2,501", "NT$300", "NT$2,801", "NT$1,801")), en
    yen = api.patch("/auth/me", {"currency": "JPY"}, token=token).json["token"]
    jp = api.get(f"/parcels/{p['id']}/packing-slip", token=yen).body.decode()
    assert all(m in jp for m in ("¥2,501", "¥300", "¥2,801", "¥1,801")) and "NT$" not in jp, jp
    assert ".00" not in jp


def test_a_partial_recipient_merges_null_is_refused_and_any_parcel_prints(api, token):
    """Issue 23 item 5: a PATCH of the phone alone dropped the name and address, and the
    slip of such a parcel answered 500."""
    make_customer(api, token, email="amy@example.com", name="Amy", phone="0912345678", address="台北市信義路")
    p = pack(api, token, [make_order(api, token)]).json
    r = api.patch(f"/parcels/{p['id']}", {"recipient": {"phone": "0987-654-321"}}, token=token)
    assert r.status == 200, r
    assert r.json["recipient"] == {
        "name": "Amy",
        "phone": "0987-654-321",
        "address": "台北市信義路",
        "store_name": None,
        "store_id": None,
    }
    slip = api.get(f"/parcels/{p['id']}/packing-slip", token=token)
    assert slip.status == 200, slip
    assert all(x in slip.body.decode() for x in ("Amy", "0987-654-321", "台北市信義路"))
    # An empty string clears that field alone.
    r = api.patch(f"/parcels/{p['id']}", {"recipient": {"address": ""}}, token=token)
    assert (r.json["recipient"]["name"], r.json["recipient"]["address"]) == ("Amy", None)

    before = db.get_db().parcels.find_one({"_id": ObjectId(p["id"])})
    r = api.patch(f"/parcels/{p['id']}", {"recipient": None}, token=token)
    assert r.status == 400, r
    assert [(d["field"], d["code"]) for d in r.json["error"]["details"]] == [("recipient", "cannot_be_null")]
    assert db.get_db().parcels.find_one({"_id": ObjectId(p["id"])}) == before

    # Any stored parcel prints, whatever its recipient lacks (blanks, the buyer's name).
    for stored in ({}, {"phone": "0912"}, None, {"name": None, "address": "台中市"}):
        db.get_db().parcels.update_one({"_id": ObjectId(p["id"])}, {"$set": {"recipient": stored}})
        slip = api.get(f"/parcels/{p['id']}/packing-slip?size=label", token=token)
        assert slip.status == 200, (stored, slip)
        assert "Amy" in slip.body.decode()
    db.get_db().parcels.update_one({"_id": ObjectId(p["id"])}, {"$unset": {"recipient": "", "note": ""}})
    assert api.get(f"/parcels/{p['id']}/packing-slip", token=token).status == 200
    # A partial PATCH onto a parcel stored without a recipient starts one.
    r = api.patch(f"/parcels/{p['id']}", {"recipient": {"phone": "0911"}}, token=token)
    assert (r.status, r.json["recipient"]["phone"]) == (200, "0911"), r


def _two_orders_of_amy(who):
    from chalicelib.sales import orders
    from chalicelib.sales.schemas import OrderIn

    new = OrderIn(
        buyer_email="amy@example.com", buyer_name="Amy", item_name="Tea", quantity=1, unit_price=100
    )
    return [orders.create(who, new)[0] for _ in range(2)]


def test_commands_of_a_parcel_with_its_recipient(api, commands, backend):
    """POST /parcels with the recipient given: the orders, the parcel number, the parcel,
    the orders marked; the buyer's name is not read again when every order still
    carried the parcel's when it was marked (bench/bench_api.py: 4 commands)."""
    if commands is None:
        pytest.skip("mongomock sends no wire commands to count")
    from chalicelib.shipping.schemas import ParcelIn, Recipient

    who = make_principal(api)
    made = _two_orders_of_amy(who)
    commands.names.clear()
    commands.bodies.clear()
    body = ParcelIn(
        customer_id=made[0]["customer_id"],
        order_ids=[o["id"] for o in made],
        method="home",
        recipient=Recipient(phone="0912"),
    )
    parcels.create(who, body)
    pairs = [
        (n, b.get(n))
        for n, b in zip(commands.names, commands.bodies, strict=True)
        if b.get(n) != "locks" and b.get(n) not in KEY_INDEX  # FerretDB's only (key_index.py)
    ]
    assert pairs == [
        ("find", "orders"),  # the orders, checked
        ("findAndModify", "counters"),  # the parcel's number
        ("insert", "parcels"),
        ("update", "orders"),  # marked shipped, each still carrying the buyer's name
    ], pairs


def test_a_rename_between_reading_the_orders_and_writing_the_parcel_reaches_the_parcel(api, monkeypatch):
    """The rename's handlers run (outside a request: at once) after the orders were read
    and before the parcel is written, so its parcel handler cannot see the parcel: the
    orders no longer carry the name the parcel was made with, and the parcel reads the
    buyer's name."""
    from chalicelib.buyers import customers
    from chalicelib.buyers.schemas import CustomerPatch
    from chalicelib.shipping.schemas import ParcelIn, Recipient

    who = make_principal(api)
    made = _two_orders_of_amy(who)
    cid = made[0]["customer_id"]
    reserve = parcels._reserve_number

    def renamed_first(seller_id):
        customers.update(who, cid, CustomerPatch(name="Amy Lin"))
        return reserve(seller_id)

    monkeypatch.setattr(parcels, "_reserve_number", renamed_first)
    body = ParcelIn(
        customer_id=cid, order_ids=[o["id"] for o in made], method="home", recipient=Recipient(phone="0912")
    )
    out = parcels.create(who, body)[0]
    stored = db.get_db().parcels.find_one({"_id": ObjectId(out["id"])})
    assert stored["buyer_name"] == "Amy Lin"
    marked = list(db.get_db().orders.find({"customer_id": ObjectId(cid)}))
    assert {(o["buyer_name"], o["fulfillment_status"], o["parcel_id"]) for o in marked} == {
        ("Amy Lin", "shipped", stored["_id"])
    }
