"""Issue 30: items with options and variants, stock per variant, orders and form lines
that name a variant, and the stock movements every change records. On every lane."""

from __future__ import annotations

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect

from chalicelib.catalog import items
from chalicelib.catalog.schemas import ItemIn
from chalicelib.orderbook import repository
from chalicelib.platform import db
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn
from tests.factories import make_item, make_order, make_principal
from tests.integration.test_stock_on_failure import _Db, _FailingOrders

COLOURS = {"name": "顏色", "values": ["黑", "白"]}
SIZES = {"name": "尺寸", "values": ["M", "L"]}


def shirt(api, token, **over) -> dict:
    """A shirt in 2 colours × 2 sizes: 黑 / M with its own price, stocks 3, 5, 0, untracked."""
    variants = [
        {"values": ["黑", "M"], "stock": 3, "price": 450},
        {"values": ["黑", "L"], "stock": 5},
        {"values": ["白", "M"], "stock": 0, "cost": 120},
        {"values": ["白", "L"]},
    ]
    return make_item(
        api, token, item_name="T恤", price=400, cost=100, options=[COLOURS, SIZES], variants=variants, **over
    )


def by_label(item: dict) -> dict[str, dict]:
    return {v["label"]: v for v in item["variants"]}


def test_an_item_with_variants(api, token):
    item = shirt(api, token)
    v = by_label(item)
    assert list(v) == ["黑 / M", "黑 / L", "白 / M", "白 / L"]  # labels made from the values
    assert len({x["id"] for x in item["variants"]}) == 4
    assert v["黑 / M"]["price"] == 450 and v["黑 / L"]["price"] is None  # null: the item's
    assert [x["stock"] for x in item["variants"]] == [3, 5, 0, None]
    assert item["stock"] == 8  # the tracked variants' sum
    assert v["白 / M"]["cost"] == 120
    assert api.get(f"/items/{item['id']}", token=token).json == item


def test_variant_ids_are_kept_across_edits(api, token):
    item = shirt(api, token)
    v = by_label(item)
    body = {
        "options": [COLOURS, {"name": "尺寸", "values": ["M", "L", "XL"]}],
        "variants": [
            {"id": v["黑 / M"]["id"], "values": ["黑", "M"], "label": "黑 M 號"},  # stock kept
            {"id": v["黑 / L"]["id"], "values": ["黑", "L"], "stock": 9},
            {"values": ["黑", "XL"], "stock": 2},
        ],
    }
    r = api.patch(f"/items/{item['id']}", body, token=token)
    assert r.status == 200, r
    after = by_label(r.json)
    assert after["黑 M 號"]["id"] == v["黑 / M"]["id"] and after["黑 M 號"]["stock"] == 3
    assert after["黑 / L"]["id"] == v["黑 / L"]["id"] and after["黑 / L"]["stock"] == 9
    assert after["黑 / XL"]["stock"] == 2 and after["黑 / XL"]["id"] not in {
        x["id"] for x in item["variants"]
    }
    stored = db.get_db().items.find_one({"_id": ObjectId(item["id"])})
    assert set(stored["variant_stock"]) == {x["id"] for x in r.json["variants"]}  # removed ones unset


def test_bad_variants_are_400_naming_the_field_and_write_nothing(api, token):
    cases = [
        ({"options": [COLOURS], "variants": [{"values": ["紅"]}]}, "variants.0.values", "variant_values"),
        (
            {"options": [COLOURS], "variants": [{"values": ["黑", "M"]}]},
            "variants.0.values",
            "variant_values",
        ),
        (
            {"options": [COLOURS], "variants": [{"values": ["黑"]}, {"values": ["黑"]}]},
            "variants.1",
            "duplicate",
        ),
        ({"options": [COLOURS, COLOURS], "variants": []}, "options", "duplicate"),
        ({"options": [{"name": "色", "values": ["黑", "黑"]}]}, "options.0.values", "duplicate"),
        ({"variants": [{"values": []}]}, "variants.0.label", "missing"),
        ({"options": [COLOURS], "variants": [{"values": ["黑"]}], "stock": 3}, "stock", "stock_per_variant"),
        (
            {"options": [COLOURS], "variants": [{"values": ["黑"], "stock": -1}]},
            "variants.0.stock",
            "greater_than_equal",
        ),
        (
            {"options": [COLOURS], "variants": [{"values": ["黑"], "price": "abc"}]},
            "variants.0.price",
            "not_an_amount",
        ),
    ]
    for extra, field, code in cases:
        r = api.post("/items", {"item_name": "Bag", "price": 100, **extra}, token=token)
        assert r.status == 400, (extra, r)
        assert {"field": field, "code": code} in [
            {"field": d["field"], "code": d["code"]} for d in r.json["error"]["details"]
        ], (extra, r.json)
    assert db.get_db().items.count_documents({}) == 0
    item = shirt(api, token)
    r = api.patch(
        f"/items/{item['id']}",
        {"options": [COLOURS], "variants": [{"id": str(ObjectId()), "values": ["黑"]}]},
        token=token,
    )
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "variants.0.id", r
    r = api.patch(f"/items/{item['id']}", {"stock": 4}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["code"] == "stock_per_variant", r
    assert api.get(f"/items/{item['id']}", token=token).json == item


def test_an_order_needs_a_variant_and_takes_its_stock(api, token):
    item = shirt(api, token)
    v = by_label(item)
    r = api.post(
        "/orders", {"buyer_email": "amy@example.com", "item_id": item["id"], "quantity": 1}, token=token
    )
    assert r.status == 400 and r.json["error"]["code"] == "variant_required", r
    assert r.json["error"]["details"][0]["field"] == "variant_id"
    r = api.post(
        "/orders",
        {
            "buyer_email": "amy@example.com",
            "item_id": item["id"],
            "variant_id": str(ObjectId()),
            "quantity": 1,
        },
        token=token,
    )
    assert r.status == 400 and r.json["error"]["details"][0] == {
        "field": "variant_id",
        "code": "unknown_variant",
        "message": "no such variant of this item",
    }
    plain = make_item(api, token, item_name="Tea", stock=4)
    r = api.post(
        "/orders",
        {
            "buyer_email": "amy@example.com",
            "item_id": plain["id"],
            "variant_id": v["黑 / M"]["id"],
            "quantity": 1,
        },
        token=token,
    )
    assert r.status == 400 and r.json["error"]["details"][0]["code"] == "unknown_variant"
    assert db.get_db().orders.count_documents({}) == 0

    order = make_order(api, token, item_id=item["id"], variant_id=v["黑 / M"]["id"], quantity=2)
    assert order["variant_id"] == v["黑 / M"]["id"] and order["variant_label"] == "黑 / M"
    assert order["unit_price"] == 450 and order["total_amount"] == 900  # the variant's price
    assert order["cost"] == 100  # none of its own: the item's
    after = by_label(api.get(f"/items/{item['id']}", token=token).json)
    assert [after[k]["stock"] for k in after] == [1, 5, 0, None]  # no other variant touched
    r = api.post(
        "/orders",
        {
            "buyer_email": "amy@example.com",
            "item_id": item["id"],
            "variant_id": v["黑 / M"]["id"],
            "quantity": 2,
        },
        token=token,
    )
    assert r.status == 409 and r.json["error"]["code"] == "insufficient_stock"
    detail = r.json["error"]["details"][0]
    assert (detail["variant_label"], detail["needed"], detail["in_stock"]) == ("黑 / M", 2, 1)
    r = api.post(
        "/orders",
        {
            "buyer_email": "amy@example.com",
            "item_id": item["id"],
            "variant_id": v["白 / M"]["id"],
            "quantity": 1,
        },
        token=token,
    )
    assert r.status == 409  # 白 / M has 0
    untracked = make_order(api, token, item_id=item["id"], variant_id=v["白 / L"]["id"], quantity=7)
    assert untracked["unit_price"] == 400

    # A higher quantity takes from the variant, a cancel gives it all back to the variant.
    r = api.patch(f"/orders/{order['id']}", {"quantity": 3}, token=token)
    assert r.status == 200, r
    assert by_label(api.get(f"/items/{item['id']}", token=token).json)["黑 / M"]["stock"] == 0
    r = api.patch(f"/orders/{order['id']}", {"quantity": 4}, token=token)
    assert r.status == 409 and r.json["error"]["details"][0]["variant_label"] == "黑 / M"
    r = api.patch(f"/orders/{order['id']}", {"fulfillment_status": "cancelled"}, token=token)
    assert r.status == 200, r
    after = by_label(api.get(f"/items/{item['id']}", token=token).json)
    assert [after[k]["stock"] for k in after] == [3, 5, 0, None]


def test_a_variant_live_orders_use_cannot_be_removed(api, token):
    item = shirt(api, token)
    v = by_label(item)
    order = make_order(api, token, item_id=item["id"], variant_id=v["黑 / L"]["id"])
    before = api.get(f"/items/{item['id']}", token=token).json
    keep = [{"id": v["黑 / M"]["id"], "values": ["黑", "M"]}]
    r = api.patch(f"/items/{item['id']}", {"options": [COLOURS, SIZES], "variants": keep}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "variant_in_use", r
    assert api.get(f"/items/{item['id']}", token=token).json == before
    assert api.patch(f"/orders/{order['id']}", {"fulfillment_status": "cancelled"}, token=token).status == 200
    r = api.patch(f"/items/{item['id']}", {"options": [COLOURS, SIZES], "variants": keep}, token=token)
    assert r.status == 200 and [x["label"] for x in r.json["variants"]] == ["黑 / M"]
    # The cancelled order keeps the label it was made with.
    assert api.get(f"/orders/{order['id']}", token=token).json["variant_label"] == "黑 / L"


def test_movements_record_every_change_with_reason_and_who(api, token):
    item = shirt(api, token)
    v = by_label(item)
    order = make_order(api, token, item_id=item["id"], variant_id=v["黑 / L"]["id"], quantity=2)
    api.patch(f"/orders/{order['id']}", {"fulfillment_status": "cancelled"}, token=token)
    r = api.post(
        f"/items/{item['id']}/adjustments",
        {"delta": -4, "reason": "count", "note": "盤點", "variant_id": v["黑 / L"]["id"]},
        token=token,
    )
    assert r.status == 201 and by_label(r.json)["黑 / L"]["stock"] == 1, r
    r = api.patch(
        f"/items/{item['id']}",
        {
            "options": [COLOURS, SIZES],
            "variants": [{"id": v["黑 / M"]["id"], "values": ["黑", "M"], "stock": 10}],
        },
        token=token,
    )
    assert r.status == 200, r
    moves = api.get(f"/items/{item['id']}/movements", token=token).json
    got = [(m["delta"], m["reason"], m["variant_label"], m["order_id"]) for m in moves["items"]]
    # newest first: the edit (a count; the removed 黑 / L's 1 unit leaves with it), the
    # adjustment, the cancel, the order, and the new item's stock
    assert sorted(got[:2]) == [(-1, "count", "黑 / L", None), (7, "count", "黑 / M", None)]
    assert got[2:5] == [
        (-4, "count", "黑 / L", None),
        (2, "cancel", "黑 / L", order["id"]),
        (-2, "order", "黑 / L", order["id"]),
    ]
    assert {m["by"] for m in moves["items"]} == {"owner"}  # named, not an id (issue 31)
    assert moves["items"][2]["note"] == "盤點"
    # Sum of deltas == the stock there is.
    assert (
        sum(m["delta"] for m in moves["items"]) == api.get(f"/items/{item['id']}", token=token).json["stock"]
    )
    page = api.get(f"/items/{item['id']}/movements?limit=2", token=token).json
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api.get(f"/items/{item['id']}/movements?limit=200&cursor={page['next_cursor']}", token=token).json
    assert [m["at"] for m in page["items"] + rest["items"]] == [m["at"] for m in moves["items"]]


def test_adjustments_never_take_stock_below_zero(api, token):
    item = make_item(api, token, stock=3)
    r = api.post(f"/items/{item['id']}/adjustments", {"delta": -4}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "stock_below_zero", r
    assert (
        api.post(f"/items/{item['id']}/adjustments", {"delta": 0}, token=token).json["error"]["details"][0][
            "field"
        ]
        == "delta"
    )
    r = api.post(
        f"/items/{item['id']}/adjustments", {"delta": -3, "reason": "adjustment", "note": "破損"}, token=token
    )
    assert r.status == 201 and r.json["stock"] == 0
    r = api.post(f"/items/{item['id']}/adjustments", {"delta": 2, "reason": "purchase"}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "reason"
    untracked = make_item(api, token, item_name="Bag")
    r = api.post(f"/items/{untracked['id']}/adjustments", {"delta": 1}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "stock_not_tracked"
    with_variants = shirt(api, token)
    r = api.post(f"/items/{with_variants['id']}/adjustments", {"delta": 1}, token=token)
    assert r.status == 400 and r.json["error"]["code"] == "variant_required"
    moves = api.get(f"/items/{item['id']}/movements", token=token).json["items"]
    assert [(m["delta"], m["reason"]) for m in moves] == [(-3, "adjustment"), (3, "count")]
    assert api.get(f"/items/{item['id']}/movements", token=api.signup()).status == 404


def test_low_stock_marks(api, token):
    item = make_item(api, token, stock=3, low_stock=2)
    assert item["low"] is False
    r = api.post(f"/items/{item['id']}/adjustments", {"delta": -1}, token=token)
    assert r.json["low"] is True
    s = shirt(api, token, low_stock=1)
    v = by_label(s)
    assert s["low"] is True and v["白 / M"]["low"] is True and v["黑 / M"]["low"] is False
    assert v["白 / L"]["low"] is False  # untracked is never low


def test_a_form_sells_variants_each_with_its_own_sold_out_state(api, token, monkeypatch):
    from chalicelib.tracking import tracking

    monkeypatch.setattr(tracking, "REQUEST_FLOOR_SECONDS", 0.0)
    item = shirt(api, token)
    v = by_label(item)
    r = api.post(
        "/forms",
        {"batch": "2026-12 東京", "title": "T恤團", "items": [{"item_id": item["id"], "max_per_buyer": 3}]},
        token=token,
    )
    assert r.status == 201, r
    link = r.json["url"].split("#")[1]
    shown = api.get(f"/f/{link}").json["items"][0]
    assert [(x["label"], x["price"], x["remaining"]) for x in shown["variants"]] == [
        ("黑 / M", 450, 3),
        ("黑 / L", 400, 5),
        ("白 / M", 400, 0),  # sold out
        ("白 / L", 400, None),
    ]
    buyer = {"name": "小美", "email": "mei@example.com"}
    r = api.post(f"/f/{link}/orders", {**buyer, "lines": [{"item_id": item["id"], "quantity": 1}]})
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "lines[0].variant_id", r
    r = api.post(
        f"/f/{link}/orders",
        {**buyer, "lines": [{"item_id": item["id"], "variant_id": v["白 / M"]["id"], "quantity": 1}]},
    )
    assert r.status == 409 and r.json["error"]["details"][0]["variant_label"] == "白 / M", r
    # Two variants of one item on one submission; the limit per buyer counts them together.
    lines = [
        {"item_id": item["id"], "variant_id": v["黑 / M"]["id"], "quantity": 2},
        {"item_id": item["id"], "variant_id": v["黑 / L"]["id"], "quantity": 2},
    ]
    r = api.post(f"/f/{link}/orders", {**buyer, "lines": lines})
    assert r.status == 409 and r.json["error"]["code"] == "over_limit", r
    assert db.get_db().orders.count_documents({}) == 0
    lines[1]["quantity"] = 1
    r = api.post(f"/f/{link}/orders", {**buyer, "lines": lines})
    assert r.status == 201, r
    made = sorted(db.get_db().orders.find({}), key=lambda o: o["order_no"])
    assert [(o["variant_label"], o["quantity"], o["unit_price"]) for o in made] == [
        ("黑 / M", 2, 45000),
        ("黑 / L", 1, 40000),
    ]
    shown = api.get(f"/f/{link}").json["items"][0]
    assert [x["remaining"] for x in shown["variants"]] == [1, 4, 0, None] and shown["remaining"] == 5
    moves = api.get(f"/items/{item['id']}/movements", token=token).json["items"]
    assert {(m["delta"], m["variant_label"], m["by"]) for m in moves[:2]} == {
        (-2, "黑 / M", "form"),
        (-1, "黑 / L", "form"),
    }


def test_export_carries_the_variant_and_import_reads_it_back(api, token):
    import csv
    import io

    item = shirt(api, token)
    v = by_label(item)
    make_order(api, token, item_id=item["id"], variant_id=v["黑 / L"]["id"], quantity=2)
    r = api.get("/export/orders?format=csv&headers=zh", token=token)
    rows = list(csv.DictReader(io.StringIO(r.body.decode("utf-8-sig"))))
    assert (rows[0]["款式"], rows[0]["款式ID"], rows[0]["數量"]) == ("黑 / L", v["黑 / L"]["id"], "2")

    header = "buyer_email,item_name,variant_label,quantity\r\n"

    def post(text):
        raw = (header + text).encode("utf-8")
        return api.post("/import/orders", raw=raw, token=token, headers={"Content-Type": "text/csv"})

    r = post("b@example.com,T恤,,1\r\nc@example.com,T恤,紅 / M,1\r\n")
    assert r.status == 400 and r.json["error"]["code"] == "invalid_rows", r
    assert [(d["row"], d["field"], d["code"]) for d in r.json["error"]["details"]] == [
        (2, "variant_label", "variant_required"),
        (3, "variant_label", "unknown_variant"),
    ]
    r = post("b@example.com,T恤,黑 / M,4\r\n")  # 黑 / M has 3
    assert r.status == 409 and r.json["error"]["details"][0]["variant_label"] == "黑 / M", r
    assert db.get_db().orders.count_documents({}) == 1
    r = post("b@example.com,T恤,黑 / m,3\r\nc@example.com,T恤,白 / L,1\r\n")  # any case
    assert r.status == 201 and r.json["created"] == 2, r
    made = {o["variant_label"]: o for o in db.get_db().orders.find({"source": "import"})}
    assert (made["黑 / M"]["quantity"], made["黑 / M"]["unit_price"]) == (3, 45000)
    after = by_label(api.get(f"/items/{item['id']}", token=token).json)
    assert [after[k]["stock"] for k in after] == [0, 3, 0, None]


def test_the_purchase_list_tracking_page_and_packing_slip_name_the_variant(api, token):
    item = shirt(api, token)
    v = by_label(item)
    a = make_order(api, token, item_id=item["id"], variant_id=v["黑 / L"]["id"], quantity=2, batch="首爾")
    make_order(api, token, item_id=item["id"], variant_id=v["黑 / M"]["id"], quantity=1, batch="首爾")
    make_order(api, token, item_name="Tea", unit_price=100, batch="首爾")
    rows = api.get("/reports/items?batch=首爾", token=token).json["rows"]
    assert [(r["item_name"], r["variant_label"], r["quantity"]) for r in rows] == [
        ("T恤", "黑 / L", 2),  # most wanted first, then by name ("Tea" < "T恤") and label
        ("Tea", None, 1),
        ("T恤", "黑 / M", 1),
    ]
    link = api.post(f"/customers/{a['customer_id']}/tracking-link", token=token).json
    shown = api.get(f"/track/{link['token']}").json["orders"]
    assert {o["variant_label"] for o in shown} == {"黑 / L", "黑 / M", None}
    parcel = api.post(
        "/parcels", {"customer_id": a["customer_id"], "order_ids": [a["id"]], "method": "home"}, token=token
    )
    assert parcel.status == 201, parcel
    slip = api.get(f"/parcels/{parcel.json['id']}/packing-slip", token=token)
    assert "T恤 · 黑 / L" in slip.body.decode()


def test_patching_the_variant_moves_the_orders_units(api, token):
    item = shirt(api, token)
    v = by_label(item)
    order = make_order(api, token, item_id=item["id"], variant_id=v["黑 / M"]["id"], quantity=2)
    r = api.patch(f"/orders/{order['id']}", {"variant_id": v["黑 / L"]["id"], "quantity": 3}, token=token)
    assert r.status == 200, r
    assert (r.json["variant_id"], r.json["variant_label"], r.json["quantity"]) == (
        v["黑 / L"]["id"],
        "黑 / L",
        3,
    )
    assert r.json["unit_price"] == 400  # 黑 / M's own price gives way to 黑 / L's (the item's)
    after = by_label(api.get(f"/items/{item['id']}", token=token).json)
    assert [after[k]["stock"] for k in after] == [3, 2, 0, None]  # 黑 / M back to 3, 黑 / L 5 - 3
    # Not enough of the new variant: 409 naming it, nothing moves.
    r = api.patch(f"/orders/{order['id']}", {"variant_id": v["白 / M"]["id"]}, token=token)
    assert r.status == 409 and r.json["error"]["details"][0]["variant_label"] == "白 / M", r
    r = api.patch(f"/orders/{order['id']}", {"variant_id": str(ObjectId())}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "variant_id", r
    r = api.patch(f"/orders/{order['id']}", {"variant_id": None}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["code"] == "cannot_be_null", r
    assert [by_label(api.get(f"/items/{item['id']}", token=token).json)[k]["stock"] for k in after] == [
        3,
        2,
        0,
        None,
    ]
    api.patch(f"/orders/{order['id']}", {"fulfillment_status": "cancelled"}, token=token)
    r = api.patch(f"/orders/{order['id']}", {"variant_id": v["黑 / M"]["id"]}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "order_cancelled", r
    moves = api.get(f"/items/{item['id']}/movements", token=token).json["items"]
    by_variant: dict = {}
    for m in moves:
        by_variant[m["variant_label"]] = by_variant.get(m["variant_label"], 0) + m["delta"]
    now = by_label(api.get(f"/items/{item['id']}", token=token).json)
    assert (now["黑 / M"]["stock"], now["黑 / L"]["stock"]) == (3, 5)  # the cancel gave 黑 / L its 3 back
    assert by_variant == {"黑 / M": 3, "黑 / L": 5}  # the movements add up to each stock


def test_a_variant_change_is_in_the_history_and_takes_the_new_variants_price(api, token):
    item = shirt(api, token)
    v = by_label(item)
    order = make_order(api, token, item_id=item["id"], variant_id=v["黑 / L"]["id"], quantity=2)
    assert order["unit_price"] == 400
    r = api.patch(f"/orders/{order['id']}", {"variant_id": v["黑 / M"]["id"]}, token=token)
    assert r.status == 200, r
    assert (r.json["unit_price"], r.json["total_amount"]) == (450, 900)
    changes = [(e["field"], e["from"], e["to"]) for e in r.json["history"]]
    assert changes == [("variant", "黑 / L", "黑 / M"), ("unit_price", 400, 450)], changes
    # A price the seller typed is theirs: it stays, and only the variant's change is written.
    typed = make_order(api, token, item_id=item["id"], variant_id=v["黑 / M"]["id"], unit_price=380)
    r = api.patch(f"/orders/{typed['id']}", {"variant_id": v["黑 / L"]["id"]}, token=token)
    assert r.status == 200, r
    assert r.json["unit_price"] == 380
    assert [(e["field"], e["from"], e["to"]) for e in r.json["history"]] == [("variant", "黑 / M", "黑 / L")]
    # A price given with the change wins over the variant's.
    r = api.patch(f"/orders/{typed['id']}", {"variant_id": v["黑 / M"]["id"], "unit_price": 500}, token=token)
    assert r.status == 200 and r.json["unit_price"] == 500, r


def test_a_variant_order_whose_insert_fails_gives_the_variant_its_units_back_and_says_so(api, monkeypatch):
    """The take is undone on the same variant, with a movement of its own (+3, reason
    order), so the movements still add up to the stock."""
    who = make_principal(api)
    body = {
        "item_name": "Cap",
        "price": 300,
        "options": [COLOURS],
        "variants": [{"values": ["黑"], "stock": 5}],
    }
    item = items.create(who, ItemIn.model_validate(body))
    vid = item["variants"][0]["id"]
    real = db.get_db()
    failing = _FailingOrders(real.orders, AutoReconnect("connection closed"), applied=False)
    monkeypatch.setattr(repository, "get_db", lambda: _Db(real, failing))
    with pytest.raises(AutoReconnect):
        orders.create(
            who, OrderIn(buyer_email="amy@example.com", item_id=item["id"], variant_id=vid, quantity=3)
        )
    monkeypatch.undo()
    assert db.get_db().items.find_one({"_id": ObjectId(item["id"])})["variant_stock"] == {vid: 5}
    moves = [
        (m["delta"], m["reason"]) for m in db.get_db().stock_movements.find({"item_id": ObjectId(item["id"])})
    ]
    assert sorted(moves) == [(-3, "order"), (3, "order"), (5, "count")]


def test_low_stock_filter_pages_the_marked_items(api, token):
    lows = [make_item(api, token, item_name=f"Low {n}", stock=1, low_stock=2)["id"] for n in range(3)]
    make_item(api, token, item_name="No threshold", stock=1)  # marked only with one
    make_item(api, token, item_name="Plenty", stock=50, low_stock=2)
    make_item(api, token, item_name="Untracked")
    lows.append(shirt(api, token, low_stock=0)["id"])  # 白 / M has 0
    make_item(api, token, item_name="Own threshold", stock=5, low_stock=4)
    first = api.get("/items?low_stock=true&limit=2", token=token).json
    rest = api.get(f"/items?low_stock=true&limit=2&cursor={first['next_cursor']}", token=token).json
    assert [i["id"] for i in first["items"] + rest["items"]] == lows[::-1]
    assert rest["next_cursor"] is None and all(i["low"] for i in first["items"] + rest["items"])
    assert len(api.get("/items", token=token).json["items"]) == 8
    r = api.get("/items?low_stock=maybe", token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "low_stock", r
