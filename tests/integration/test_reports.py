"""Reports against a hand-computed fixture, on mongomock and FerretDB.

The shop (all amounts hand-computed, cents in comments where it matters):
  o1 Alice  KitKat (tracked, 250)  ×2 + ship 60     = 560      remitted  shipped   Tokyo
  o2 Alice  Tokyo Banana 19.99     ×2               = 39.98    unpaid    pending   Tokyo
  o3 Alice  Porter bag 3000        ×1               = 3000     unpaid    CANCELLED Tokyo
  o4 Bob    Tokyo Banana 19.99     ×3 + ship 100.50 = 160.47   remitted  purchased Osaka
  o5 Bob    KitKat 250             ×1               = 250      REFUNDED  delivered Tokyo
  o6 Carol  Porter bag 3000        ×1 + ship 150    = 3150     unpaid    pending   Tokyo
  o7 Carol  Tokyo Banana 19.99     ×3               = 59.97    unpaid    pending   Osaka
"""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import pymongo
import pytest
from pymongo import monitoring

from chalicelib.platform import clock, db
from tests.factories import make_customer, make_item

TOKYO = "2026-12 Tokyo"
OSAKA = "2026-11 大阪"


class CommandCounter(monitoring.CommandListener):
    """Counts commands sent by pymongo clients created after registration."""

    def __init__(self):
        self.names: list[str] | None = None

    def started(self, event):
        if self.names is not None:
            self.names.append(event.command_name)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


COUNTER = CommandCounter()
monitoring.register(COUNTER)


def order(api, token, **body):
    r = api.post("/orders", body, token=token)
    assert r.status == 201, r
    return r.json


def patch(api, token, order_id, **changes):
    r = api.patch(f"/orders/{order_id}", changes, token=token)
    assert r.status == 200, r
    return r.json


@pytest.fixture
def shop(api, token):
    make_item(api, token, item_name="Matcha KitKat", price=250, stock=10)
    for email, name in (
        ("alice@example.com", "Alice"),
        ("bob@example.com", "Bob"),
        ("carol@example.com", "Carol"),
    ):
        make_customer(api, token, name=name, email=email)
    a, b, c = "alice@example.com", "bob@example.com", "carol@example.com"
    o = {}
    o[1] = order(
        api, token, buyer_email=a, item_name="Matcha KitKat", quantity=2, shipping_fee=60, batch=TOKYO
    )
    patch(api, token, o[1]["id"], payment_status="remitted", fulfillment_status="shipped")
    o[2] = order(
        api, token, buyer_email=a, item_name="Tokyo Banana", quantity=2, unit_price=19.99, batch=TOKYO
    )
    o[3] = order(api, token, buyer_email=a, item_name="Porter bag", quantity=1, unit_price=3000, batch=TOKYO)
    patch(api, token, o[3]["id"], fulfillment_status="cancelled")
    o[4] = order(
        api,
        token,
        buyer_email=b,
        item_name="Tokyo Banana",
        quantity=3,
        unit_price=19.99,
        shipping_fee=100.5,
        batch=OSAKA,
    )
    patch(api, token, o[4]["id"], payment_status="remitted", fulfillment_status="purchased")
    o[5] = order(api, token, buyer_email=b, item_name="Matcha KitKat", quantity=1, batch=TOKYO)
    patch(api, token, o[5]["id"], payment_status="remitted", fulfillment_status="shipped")
    patch(api, token, o[5]["id"], payment_status="refunded", fulfillment_status="delivered")
    o[6] = order(
        api,
        token,
        buyer_email=c,
        item_name="Porter bag",
        quantity=1,
        unit_price=3000,
        shipping_fee=150,
        batch=TOKYO,
    )
    o[7] = order(
        api, token, buyer_email=c, item_name="Tokyo Banana", quantity=3, unit_price=19.99, batch=OSAKA
    )
    assert [o[i]["total_amount"] for i in range(1, 8)] == [560, 39.98, 3000, 160.47, 250, 3150, 59.97]
    return o


def row(name, email, count, total, remitted, outstanding, refunded, shipped, unshipped):
    return {
        "name": name,
        "email": email,
        "order_count": count,
        "total_amount": total,
        "remitted_amount": remitted,
        "outstanding_amount": outstanding,
        "refunded_amount": refunded,
        "credit_amount": 0,
        "shipped_count": shipped,
        "unshipped_count": unshipped,
    }


def without_ids(rows):
    return [{k: v for k, v in r.items() if k != "customer_id"} for r in rows]


def test_buyers_report_matches_hand_computed(api, token, shop):
    r = api.get("/reports/buyers", token=token)
    assert r.status == 200, r
    assert without_ids(r.json["rows"]) == [
        row("Carol", "carol@example.com", 2, 3209.97, 0, 3209.97, 0, 0, 2),
        row("Alice", "alice@example.com", 2, 599.98, 560, 39.98, 0, 1, 1),
        row("Bob", "bob@example.com", 2, 160.47, 160.47, 0, 250, 1, 1),
    ]
    assert r.json["rows"][1]["customer_id"] == shop[1]["customer_id"]
    totals = dict(r.json["totals"])
    assert totals == {
        "order_count": 6,
        "total_amount": 3970.42,
        "remitted_amount": 720.47,
        "outstanding_amount": 3249.95,
        "refunded_amount": 250,
        "credit_amount": 0,
        "shipped_count": 2,
        "unshipped_count": 4,
    }


def test_buyers_report_ferretdb_path_gives_the_same_numbers(api, token, shop, monkeypatch):
    """The path FerretDB uses, forced on both backends, gives the hand-computed numbers
    (and on mongomock the same as the single-aggregation path)."""
    from chalicelib.platform import store

    paths = ["/reports/buyers", "/reports/items", "/reports/monthly", "/reports/profit", "/batches"]
    expected = {path: api.get(path, token=token).json for path in paths}
    monkeypatch.setattr(store, "current", store.FerretStore)
    for path in paths:  # every grouped report: one projected read, summed in Python
        assert api.get(path, token=token).json == expected[path], path
    tokyo = api.get("/reports/buyers?batch=" + quote(TOKYO), token=token).json
    assert [(x["name"], x["refunded_amount"], x["unshipped_count"]) for x in tokyo["rows"]] == [
        ("Carol", 0, 1),
        ("Alice", 0, 1),
        ("Bob", 250, 0),
    ]
    assert api.get("/reports/items", token=token).json["totals"] == {"quantity": 6, "order_count": 3}


def test_buyers_report_batch_filter(api, token, shop):
    r = api.get("/reports/buyers?batch=" + quote(TOKYO), token=token)
    assert without_ids(r.json["rows"]) == [
        row("Carol", "carol@example.com", 1, 3150, 0, 3150, 0, 0, 1),
        row("Alice", "alice@example.com", 2, 599.98, 560, 39.98, 0, 1, 1),
        row("Bob", "bob@example.com", 1, 0, 0, 0, 250, 1, 0),
    ]
    r = api.get("/reports/buyers?batch=" + quote(OSAKA), token=token)
    assert [(x["name"], x["total_amount"]) for x in r.json["rows"]] == [("Carol", 59.97), ("Bob", 160.47)]
    r = api.get("/reports/buyers?batch=nope", token=token)
    assert r.json["rows"] == [] and r.json["totals"]["order_count"] == 0


def test_buyers_report_follows_customer_rename(api, token, shop):
    cid = shop[1]["customer_id"]
    assert api.patch(f"/customers/{cid}", {"name": "Alice Wang"}, token=token).status == 200
    r = api.get("/reports/buyers", token=token)
    assert [x["name"] for x in r.json["rows"]] == ["Carol", "Alice Wang", "Bob"]


def test_items_report_is_the_purchase_list(api, token, shop):
    r = api.get("/reports/items", token=token)
    assert r.status == 200
    assert r.json == {
        "rows": [
            {"item_name": "Tokyo Banana", "variant_label": None, "quantity": 5, "order_count": 2},
            {"item_name": "Porter bag", "variant_label": None, "quantity": 1, "order_count": 1},
        ],
        "totals": {"quantity": 6, "order_count": 3},
    }
    r = api.get("/reports/items?batch=" + quote(TOKYO), token=token)
    assert r.json["rows"] == [
        {"item_name": "Tokyo Banana", "variant_label": None, "quantity": 2, "order_count": 1},
        {"item_name": "Porter bag", "variant_label": None, "quantity": 1, "order_count": 1},
    ]


def test_monthly_report(api, token, shop):
    this_month = clock.local_date(clock.now(), "Asia/Taipei")
    # Move o7 to March 2025 (as if created then) to check the year filter.
    db.get_db().orders.update_one({"order_no": shop[7]["order_no"]}, {"$set": {"month": "2025-03"}})
    r = api.get(f"/reports/monthly?year={this_month.year}", token=token)
    assert r.status == 200
    rows = {x["month"]: x for x in r.json["rows"]}
    assert len(r.json["rows"]) == 12 and r.json["year"] == this_month.year
    key = this_month.strftime("%Y-%m")
    assert rows[key] == {
        "month": key,
        "order_count": 5,
        "total_amount": 3910.45,
        "remitted_amount": 720.47,
        "refunded_amount": 250,
    }
    assert all(x["order_count"] == 0 and x["total_amount"] == 0 for m, x in rows.items() if m != key)
    assert r.json["totals"]["order_count"] == 5
    r = api.get("/reports/monthly?year=2025", token=token)
    march = r.json["rows"][2]
    assert march == {
        "month": "2025-03",
        "order_count": 1,
        "total_amount": 59.97,
        "remitted_amount": 0,
        "refunded_amount": 0,
    }
    default = api.get("/reports/monthly", token=token)
    assert default.json["year"] == this_month.year


@pytest.mark.parametrize("year", ["abc", "1999", "20261", "-2026", "2026.0", "²⁰²⁶", "２０２６"])
def test_monthly_year_validated(api, token, year):
    r = api.get(f"/reports/monthly?year={year}", token=token)
    assert r.status == 400 and r.json["error"]["code"] == "invalid_query"


def read_csv(resp):
    body = resp.body if isinstance(resp.body, bytes) else resp.body.encode()
    assert body.startswith(b"\xef\xbb\xbf"), body[:10]
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_buyers_report_as_csv(api, token, shop):
    r = api.get("/reports/buyers?format=csv&batch=" + quote(TOKYO), token=token)
    assert r.status == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="buyers-2026-12-Tokyo.csv"' in disposition
    assert "filename*=UTF-8''buyers-2026-12%20Tokyo.csv" in disposition
    rows = read_csv(r)
    # The buyer's name leads; the internal id is last (issue 11).
    assert rows[0] == [
        "買家姓名",
        "買家Email",
        "訂單數",
        "總金額",
        "已匯款金額",
        "未付金額",
        "已退款金額",
        "儲值餘額",
        "已出貨",
        "未出貨",
        "買家ID",
    ]
    assert rows[1][:-1] == ["Carol", "carol@example.com", "1", "3150", "0", "3150", "0", "0", "0", "1"]
    assert rows[2][:-1] == ["Alice", "alice@example.com", "2", "599.98", "560", "39.98", "0", "0", "1", "1"]
    assert rows[1][-1] == shop[6]["customer_id"]
    assert rows[-1] == ["合計", "", "4", "3749.98", "560", "3189.98", "250", "0", "2", "2", ""]

    en = read_csv(api.get("/reports/buyers?format=csv&headers=en", token=token))
    assert en[0][:2] == ["name", "email"] and en[0][-1] == "customer_id" and en[-1][0] == "TOTAL"


def test_other_reports_as_csv(api, token, shop):
    r = api.get("/reports/items?format=csv&batch=" + quote(OSAKA), token=token)
    assert r.headers["content-type"].startswith("text/csv")
    assert (
        "filename*=UTF-8''purchase-list-2026-11%20%E5%A4%A7%E9%98%AA.csv" in r.headers["content-disposition"]
    )
    assert 'filename="purchase-list-2026-11.csv"' in r.headers["content-disposition"]
    assert read_csv(r) == [
        ["商品名稱", "款式", "數量", "訂單數"],
        ["Tokyo Banana", "", "3", "1"],
        ["合計", "", "3", "1"],
    ]

    year = clock.local_date(clock.now(), "Asia/Taipei").year
    r = api.get(f"/reports/monthly?format=csv&year={year}", token=token)
    rows = read_csv(r)
    assert f'filename="monthly-{year}.csv"' in r.headers["content-disposition"]
    assert rows[0] == ["月份", "訂單數", "總金額", "已匯款金額", "已退款金額"]
    assert len(rows) == 14 and rows[-1] == ["合計", "6", "3970.42", "720.47", "250"]


def test_csv_defuses_formulas(api, token):
    make_customer(api, token, name='=HYPERLINK("http://x")', email="f@example.com")
    order(api, token, buyer_email="f@example.com", item_name="@SUM(A1)", quantity=1, unit_price=1)
    buyers = read_csv(api.get("/reports/buyers?format=csv", token=token))
    assert buyers[1][0] == '\'=HYPERLINK("http://x")'
    items = read_csv(api.get("/reports/items?format=csv", token=token))
    assert items[1][0] == "'@SUM(A1)"


@pytest.mark.parametrize("path", ["/reports/buyers", "/reports/items", "/reports/monthly"])
def test_bad_format_is_400(api, token, path):
    for q in ("format=xml", "format=csv&headers=fr"):
        r = api.get(f"{path}?{q}", token=token)
        assert r.status == 400 and r.json["error"]["code"] == "invalid_query"


def test_reports_are_per_seller(api, token, other_token, shop):
    r = api.get("/reports/buyers", token=other_token)
    assert r.json["rows"] == [] and r.json["totals"]["total_amount"] == 0
    assert api.get("/reports/items", token=other_token).json["rows"] == []
    monthly = api.get("/reports/monthly", token=other_token).json
    assert sum(x["order_count"] for x in monthly["rows"]) == 0
    assert api.get("/reports/buyers").status == 401


def test_buyers_report_command_count(api, token, shop, backend):
    """MongoDB: one aggregation. FerretDB: one projected find of the orders (see
    docs/ferretdb.md). Names come from the orders' copies: no customers query. Then one
    find of the open charges (issue 26) and one of the payments that hold credit."""
    if backend == "mongomock":
        pytest.skip("mongomock sends no wire commands to count")
    db.get_db()  # client exists; the listener was registered before it was created
    COUNTER.names = []
    try:
        assert api.get("/reports/buyers", token=token).status == 200
        names = list(COUNTER.names)
    finally:
        COUNTER.names = None
    if db.is_ferretdb():
        assert names == ["find", "find", "find"]
    else:
        assert names == ["aggregate", "find", "find"]
    assert isinstance(db.get_client(), pymongo.MongoClient)


def test_grouped_sums_compound_key_on_both_backends(api, token, shop):
    """grouped_sums with a compound key and two sums on each backend: one `$group` on
    MongoDB, one projected read summed in Python on FerretDB."""
    from chalicelib.reporting import reports

    seller_id = db.get_db().orders.find_one()["seller_id"]
    groups = reports.grouped_sums(
        {"seller_id": seller_id, "fulfillment_status": {"$ne": "cancelled"}},
        {"email": "buyer_email", "payment": "payment_status"},
        {"amount": "$total_amount", "count": 1},
    )
    got = sorted((g["email"], g["payment"], g["amount"], g["count"]) for g in groups)
    assert got == [
        ("alice@example.com", "remitted", 56000, 1),
        ("alice@example.com", "unpaid", 3998, 1),
        ("bob@example.com", "refunded", 25000, 1),
        ("bob@example.com", "remitted", 16047, 1),
        ("carol@example.com", "unpaid", 315000 + 5997, 2),
    ]


def test_csv_headers_follow_the_shops_language(api, token, shop):
    """English headers (and TOTAL) for an English shop; ?headers= still chooses."""

    def first_rows(path):
        rows = read_csv(api.get(path, token=token))
        return rows[0], rows[-1][0]

    assert first_rows("/reports/buyers?format=csv")[0][0] == "買家姓名"
    assert api.patch("/auth/me", {"language": "en"}, token=token).status == 200
    header, total = first_rows("/reports/buyers?format=csv&batch=" + quote(TOKYO))
    assert (header[:2], total) == (["name", "email"], "TOTAL")
    assert first_rows("/reports/items?format=csv")[0] == [
        "item_name",
        "variant_label",
        "quantity",
        "order_count",
    ]
    assert first_rows("/reports/monthly?format=csv")[0][0] == "month"
    assert read_csv(api.get("/export/orders?format=csv", token=token))[0][:2] == ["id", "order_no"]
    # ?headers= wins over the shop's language.
    assert first_rows("/reports/buyers?format=csv&headers=zh")[0][0] == "買家姓名"
    assert read_csv(api.get("/export/orders?format=csv&headers=zh", token=token))[0][0] == "訂單ID"
    assert api.patch("/auth/me", {"language": "zh-Hant"}, token=token).status == 200
    assert first_rows("/reports/items?format=csv")[0] == ["商品名稱", "款式", "數量", "訂單數"]


def test_purchase_list_for_one_trip(api, token, shop):
    """The purchase list follows the batch: a shopping list for one trip, CSV named for it."""
    r = api.get("/reports/items?format=csv&headers=en&batch=" + quote(TOKYO), token=token)
    assert read_csv(r) == [
        ["item_name", "variant_label", "quantity", "order_count"],
        ["Tokyo Banana", "", "2", "1"],
        ["Porter bag", "", "1", "1"],
        ["TOTAL", "", "3", "2"],
    ]
    assert "filename*=UTF-8''purchase-list-2026-12%20Tokyo.csv" in r.headers["content-disposition"]
    assert api.get("/reports/items?batch=nowhere", token=token).json == {
        "rows": [],
        "totals": {"quantity": 0, "order_count": 0},
    }
