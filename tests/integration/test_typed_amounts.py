"""Amounts as people type them (issue 27): full-width digits, thousands separators and the
shop currency's sign are read wherever a body or a CSV cell takes money; text that still
is not an amount is a 400 `not_an_amount` naming the field, and writes nothing. A JSON
number stays a number. On every lane (the `api` fixture)."""

from __future__ import annotations

import pytest

from chalicelib.platform import db
from tests.factories import make_customer, make_item, make_order
from tests.integration.test_import_export import counts, post_csv


def _details(r) -> list[tuple[str, str]]:
    return [(d["field"], d["code"]) for d in r.json["error"]["details"]]


def _written() -> dict:
    d = db.get_db()
    return {
        **counts(),
        "charges": d.charges.count_documents({}),
        "parcels": d.parcels.count_documents({}),
        "forms": d.forms.count_documents({}),
        "prices": sorted((o.get("unit_price"), o.get("shipping_fee")) for o in d.orders.find()),
        "items": sorted((i["item_name"], i.get("price")) for i in d.items.find()),
    }


def test_orders_and_items_read_amounts_as_typed(api, token):
    r = api.post(
        "/orders",
        {
            "buyer_email": "amy@example.com",
            "item_name": "Tea",
            "quantity": 2,
            "unit_price": "１，２００",
            "shipping_fee": "NT$60",
        },
        token=token,
    )
    assert r.status == 201, r
    assert (r.json["unit_price"], r.json["shipping_fee"], r.json["total_amount"]) == (1200, 60, 2460)
    r = api.patch(
        f"/orders/{r.json['id']}", {"unit_price": "１２０．５", "shipping_fee": "$ 1,000"}, token=token
    )
    assert r.status == 200, r
    assert (r.json["unit_price"], r.json["shipping_fee"], r.json["total_amount"]) == (120.5, 1000, 1241)
    stored = db.get_db().orders.find_one()
    assert (stored["unit_price"], stored["shipping_fee"]) == (12050, 100000)  # cents inside
    item = make_item(api, token, item_name="Pocky", price="NT$ 1,200")
    assert item["price"] == 1200
    r = api.patch(f"/items/{item['id']}", {"price": "８８元"}, token=token)
    assert r.status == 200 and r.json["price"] == 88, r
    # A JSON number stays a number: 1200 and 1200.5 as ever.
    assert make_order(api, token, unit_price=1200.5)["unit_price"] == 1200.5


def test_payments_charges_parcels_and_forms_read_amounts_as_typed(api, token):
    amy = make_customer(api, token)
    order = make_order(api, token, customer_id=amy["id"], unit_price=1200)
    r = api.post(
        "/payments", {"customer_id": amy["id"], "amount": "NT$1,200", "method": "bank_transfer"}, token=token
    )
    assert r.status == 201 and r.json["amount"] == 1200, r
    r = api.post("/charges", {"customer_id": amy["id"], "amount": "６０元", "kind": "shipping"}, token=token)
    assert r.status == 201 and r.json["amount"] == 60, r
    box = {
        "customer_id": amy["id"],
        "order_ids": [order["id"]],
        "method": "home",
        "shipping_fee": "ＮＴ＄８０",
        "shipping_cost": "1,000",
    }
    r = api.post("/parcels", box, token=token)
    assert r.status == 201, r
    assert (r.json["shipping_fee"], r.json["shipping_cost"]) == (80, 1000)
    r = api.patch(f"/parcels/{r.json['id']}", {"shipping_cost": "NT$ 95"}, token=token)
    assert r.status == 200 and r.json["shipping_cost"] == 95, r
    item = make_item(api, token, item_name="Pocky")
    form = {
        "batch": "2026-12 東京",
        "title": "Tokyo",
        "items": [{"item_id": item["id"]}],
        "shipping": {"mode": "flat", "fee": "NT$50"},
    }
    r = api.post("/forms", form, token=token)
    assert r.status == 201 and r.json["shipping"]["fee"] == 50, r


def test_the_buyer_reports_a_transfer_as_typed_in_the_links_currency(api, token):
    amy = make_customer(api, token)
    make_order(api, token, customer_id=amy["id"], unit_price=1200)
    link = api.post(f"/customers/{amy['id']}/tracking-link", token=token).json["token"]
    r = api.post(f"/track/{link}/payments", {"amount": "NT$1,200", "account_last5": "12345"})
    assert r.status == 201 and r.json["amount"] == 1200, r
    r = api.post(f"/track/{link}/payments", {"amount": "１，２００"})
    assert r.status == 201 and r.json["amount"] == 1200, r
    before = db.get_db().payments.count_documents({})
    r = api.post(f"/track/{link}/payments", {"amount": "¥1200"})  # a TWD shop
    assert r.status == 400 and _details(r) == [("amount", "not_an_amount")], r
    assert db.get_db().payments.count_documents({}) == before
    # A sign on an unknown link: the link is looked up for its currency, and is not there.
    assert api.post(f"/track/{'x' * 43}/payments", {"amount": "NT$1"}).status == 404


def test_a_yen_shop_reads_yen_signs_and_refuses_nt(api, token):
    yen = api.patch("/auth/me", {"currency": "JPY"}, token=token).json["token"]
    order = make_order(api, yen, unit_price="¥1,500", shipping_fee="300円")
    assert (order["unit_price"], order["shipping_fee"]) == (1500, 300)
    r = api.post(
        "/orders",
        {"buyer_email": "amy@example.com", "item_name": "Tea", "quantity": 1, "unit_price": "NT$1500"},
        token=yen,
    )
    assert r.status == 400 and _details(r) == [("unit_price", "not_an_amount")], r


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1.200,50", "not_an_amount"),  # European grouping: never guessed
        ("12,00", "not_an_amount"),
        ("NT$1200元", "not_an_amount"),  # two signs
        ("¥1200", "not_an_amount"),  # not the shop's currency
        ("12 apples", "not_an_amount"),
        ("", "not_an_amount"),
        ("-NT$1,200", "negative"),
        ("１２．３４５", "too_many_decimals"),
    ],
)
def test_text_that_is_not_an_amount_is_400_naming_the_field_and_writes_nothing(api, token, text, code):
    amy = make_customer(api, token)
    order = make_order(api, token, customer_id=amy["id"])
    before = _written()
    order_body = {"customer_id": amy["id"], "item_name": "Tea", "quantity": 1}
    attempts = [
        ("POST", "/orders", {**order_body, "unit_price": text}, "unit_price"),
        ("POST", "/orders", {**order_body, "unit_price": 1, "shipping_fee": text}, "shipping_fee"),
        ("PATCH", f"/orders/{order['id']}", {"unit_price": text}, "unit_price"),
        ("POST", "/items", {"item_name": "Pocky", "price": text}, "price"),
        ("POST", "/payments", {"customer_id": amy["id"], "amount": text, "method": "cash"}, "amount"),
        ("POST", "/charges", {"customer_id": amy["id"], "amount": text, "kind": "shipping"}, "amount"),
        (
            "POST",
            "/parcels",
            {"customer_id": amy["id"], "order_ids": [order["id"]], "method": "home", "shipping_fee": text},
            "shipping_fee",
        ),
    ]
    for method, path, body, field in attempts:
        r = api.post(path, body, token=token) if method == "POST" else api.patch(path, body, token=token)
        assert r.status == 400, (path, body, r)
        assert r.json["error"]["code"] == "validation_error"
        assert _details(r) == [(field, code)], (path, r.json)
    assert _written() == before


CSV_HEADER = "buyer_email,item_name,quantity,unit_price,shipping_fee,paid_amount\r\n"


# UTF-8, with and without Excel's BOM ("CSV UTF-8"): a Big5 file is refused whole, as before
# (test_import_export.test_import_limits_and_bad_files), so its cells are never read.
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_an_import_reads_amount_cells_as_typed(api, token, encoding):
    # "NT$1,260" holds a comma: quoted as a spreadsheet writes it.
    rows = (
        'amy@example.com,香蕉,1,"１，２００",ＮＴ＄６０,"NT$1,260"\r\n'
        + "bo@example.com,茶,2,NT$ 300元,0,\r\n"
    )
    bad = (CSV_HEADER + rows).encode(encoding)
    r = post_csv(api, token, bad)
    # The second row has two signs: refused with its row and field, nothing written.
    assert r.status == 400 and r.json["error"]["code"] == "invalid_rows", r
    assert [(d["row"], d["field"], d["code"]) for d in r.json["error"]["details"]] == [
        (3, "unit_price", "not_an_amount")
    ]
    assert db.get_db().orders.count_documents({}) == 0
    good = (CSV_HEADER + rows.replace("NT$ 300元", "NT$ 300")).encode(encoding)
    r = post_csv(api, token, good)
    assert r.status == 201 and r.json["total_amount"] == 1860, r
    orders = sorted(db.get_db().orders.find(), key=lambda o: o["order_no"])
    assert [
        (o["unit_price"], o["shipping_fee"], o["total_amount"], o.get("paid_amount") or 0) for o in orders
    ] == [
        (120000, 6000, 126000, 126000),
        (30000, 0, 60000, 0),
    ]
