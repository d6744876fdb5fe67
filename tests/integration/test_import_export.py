"""CSV/JSON export and all-or-nothing CSV import (orders, the payments their money
makes, the payments export), on every backend."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from bson import ObjectId
from payment_ledger import check_ledger
from test_reports import order, shop  # noqa: F401 - the shared fixture

from chalicelib.platform import db
from tests.factories import make_customer, make_item, make_payment

EN_HEADER = "buyer_email,buyer_name,item_name,quantity,unit_price,payment_status,fulfillment_status,note\r\n"


def post_csv(api, token, text: str | bytes, query: str = ""):
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return api.post(f"/import/orders{query}", raw=raw, token=token, headers={"Content-Type": "text/csv"})


def counts():
    d = db.get_db()
    return {
        "orders": d.orders.count_documents({}),
        "customers": d.customers.count_documents({}),
        "stock": sorted((i["item_name"], i.get("stock")) for i in d.items.find()),
        "counter": [c.get("seq") for c in d.counters.find()],
        "payments": sorted(str(p["_id"]) for p in d.payments.find()),
    }


def body_bytes(resp) -> bytes:
    return resp.body if isinstance(resp.body, bytes) else resp.body.encode()


def taipei(iso: str) -> str:
    """An API time (UTC `...Z`) as the CSV writes it for a Taipei shop."""
    t = dt.datetime.fromisoformat(iso.replace("Z", "+00:00")) + dt.timedelta(hours=8)
    return t.strftime("%Y-%m-%d %H:%M:%S")


def buyers_without_ids(api, token):
    r = api.get("/reports/buyers", token=token).json
    return [{k: v for k, v in x.items() if k != "customer_id"} for x in r["rows"]], r["totals"]


# --- export -----------------------------------------------------------------------------


def test_export_csv_has_every_field(api, token, shop):  # noqa: F811
    r = api.get("/export/orders?format=csv", token=token)
    assert r.status == 200, r
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="orders-')
    raw = body_bytes(r)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 7
    assert list(rows[0])[:5] == ["訂單ID", "訂單編號", "買家ID", "買家Email", "買家姓名"]
    first = rows[0]  # oldest first
    assert first["訂單編號"] == "1001" and first["商品名稱"] == "Matcha KitKat"
    assert (first["數量"], first["單價"], first["運費"], first["總金額"]) == ("2", "250", "60", "560")
    # Statuses in the words the zh pages show, not the codes (issue 27).
    assert first["付款狀態"] == "已匯款" and first["出貨狀態"] == "已出貨" and first["出貨日期"]
    assert [(o["付款狀態"], o["出貨狀態"]) for o in rows[1:5]] == [
        ("未付款", "已下單"),
        ("未付款", "已取消"),
        ("已匯款", "已購買"),
        ("已退款", "已送達"),
    ]
    # Times in the shop's zone (Asia/Taipei, UTC+8), as a spreadsheet reads them.
    items = api.get("/export/orders?format=json", token=token).json["items"]
    for o, j in zip(rows, items, strict=True):
        assert o["建立時間"] == taipei(j["created_at"]) and o["更新時間"] == taipei(j["updated_at"])
        assert o["匯款時間"] == (taipei(j["remitted_at"]) if j["remitted_at"] else "")
    # The history as text, oldest first, the time once a minute, who changed it.
    entries = items[0]["history"]  # one PATCH set both: a minute's time is written once
    assert [e["field"] for e in entries] == ["fulfillment_status", "payment_status"]
    # The 已匯款 is written by its payment a few ms after the status: the same minute but
    # for a PATCH that straddles one (then each entry has its own time).
    first_at, second_at = (taipei(e["at"])[:16] for e in entries)
    second = "" if second_at == first_at else f"{second_at} "
    assert first["狀態紀錄"] == (
        f"{first_at} 出貨狀態 已下單 → 已出貨（由店主）; {second}付款狀態 未付款 → 已匯款（由付款）"
    )
    assert rows[1]["狀態紀錄"] == ""
    assert rows[3]["運費"] == "100.50" and rows[3]["總金額"] == "160.47"
    # The money: remitted in full, unpaid, cancelled (owes nothing), refunded after paying.
    assert (first["已付金額"], first["未付餘額"]) == ("560", "0")
    assert (rows[1]["已付金額"], rows[1]["未付餘額"]) == ("0", "39.98")
    assert (rows[2]["已付金額"], rows[2]["未付餘額"]) == ("0", "0")
    assert (rows[4]["付款狀態"], rows[4]["已付金額"], rows[4]["未付餘額"]) == ("已退款", "250", "0")
    assert "x-next-cursor" not in r.headers
    en = list(
        csv.DictReader(
            io.StringIO(body_bytes(api.get("/export/orders?headers=en", token=token)).decode("utf-8-sig"))
        )
    )
    assert [(o["paid_amount"], o["balance"]) for o in en] == [(o["已付金額"], o["未付餘額"]) for o in rows]
    # An English file: the codes (what scripts read), the same local times, English history.
    assert [(o["payment_status"], o["fulfillment_status"]) for o in en[:2]] == [
        ("remitted", "shipped"),
        ("unpaid", "pending"),
    ]
    assert [o["created_at"] for o in en] == [o["建立時間"] for o in rows]
    assert en[0]["history"] == (
        f"{first_at} fulfillment_status pending → shipped (by the owner); "
        f"{second}payment_status unpaid → remitted (by a payment)"
    )


def test_export_json_matches_the_api(api, token, shop):  # noqa: F811
    r = api.get("/export/orders?format=json", token=token)
    assert r.status == 200 and r.headers["content-type"].startswith("application/json")
    listed = api.get("/orders?limit=200", token=token).json["items"]
    assert r.json == {"items": list(reversed(listed)), "next_cursor": None}


def test_export_pages(api, token, shop):  # noqa: F811
    seen, cursor = [], None
    while True:
        r = api.get(
            "/export/orders?format=json&limit=3" + (f"&cursor={cursor}" if cursor else ""), token=token
        )
        assert r.status == 200 and len(r.json["items"]) <= 3
        seen += [o["order_no"] for o in r.json["items"]]
        cursor = r.json["next_cursor"]
        if cursor is None:
            break
        assert r.headers["x-next-cursor"] == cursor
    assert seen == list(range(1001, 1008))
    r = api.get("/export/orders?format=csv&headers=en&limit=5", token=token)
    rows = list(csv.reader(io.StringIO(body_bytes(r).decode("utf-8-sig"))))
    assert rows[0][:2] == ["id", "order_no"] and len(rows) == 6 and r.headers["x-next-cursor"]
    for q in ("format=xml", "limit=0", "limit=5001", "limit=x", "limit=²", "limit=" + "9" * 50, "cursor=!!"):
        bad = api.get(f"/export/orders?{q}", token=token)
        assert bad.status == 400, q


def test_export_too_large_is_413(api, token, shop, monkeypatch):  # noqa: F811
    from chalicelib.sales import exports

    monkeypatch.setattr(exports, "MAX_BODY_BYTES", 2_000)
    r = api.get("/export/orders?format=json", token=token)
    assert r.status == 413 and r.json["error"]["code"] == "export_too_large"
    assert "limit" in r.json["error"]["message"]
    assert api.get("/export/orders?format=json&limit=2", token=token).status == 200


def test_export_is_per_seller(api, token, other_token, shop):  # noqa: F811
    assert api.get("/export/orders?format=json", token=other_token).json == {"items": [], "next_cursor": None}
    rows = list(
        csv.reader(io.StringIO(body_bytes(api.get("/export/orders", token=other_token)).decode("utf-8-sig")))
    )
    assert len(rows) == 1  # header only
    assert api.get("/export/orders").status == 401


# --- round trip -------------------------------------------------------------------------


@pytest.mark.parametrize("headers", ["zh", "en"])
def test_round_trip_gives_the_same_reports(api, token, other_token, shop, headers):  # noqa: F811
    # Carol pays part of her bag: a `partial` order travels too.
    part = {
        "customer_id": shop[6]["customer_id"],
        "amount": 1000.5,
        "method": "cash",
        "order_ids": [shop[6]["id"]],
    }
    assert api.post("/payments", part, token=token).status == 201
    exported = body_bytes(api.get(f"/export/orders?format=csv&headers={headers}", token=token))
    r = post_csv(api, other_token, exported)
    assert r.status == 201, r
    assert r.json["created"] == 7 and r.json["new_customers"] == 3
    check_ledger()
    assert buyers_without_ids(api, other_token) == buyers_without_ids(api, token)
    assert api.get("/reports/items", token=other_token).json == api.get("/reports/items", token=token).json
    mine = api.get("/reports/monthly", token=token).json
    assert api.get("/reports/monthly", token=other_token).json == mine
    # Dates travel with the file: created_at, remitted_at and shipped_date are kept.
    keep = (
        "order_no",
        "created_at",
        "remitted_at",
        "shipped_date",
        "payment_status",
        "fulfillment_status",
        "paid_amount",
        "balance",
    )
    a = api.get("/export/orders?format=json", token=token).json["items"]
    b = api.get("/export/orders?format=json", token=other_token).json["items"]
    assert [{k: o[k] for k in keep} for o in b] == [{k: o[k] for k in keep} for o in a]
    assert [o["payment_status"] for o in b] == [
        "remitted",
        "unpaid",
        "unpaid",
        "remitted",
        "refunded",
        "partial",
        "unpaid",
    ]
    # The imported money is one payment per buyer with money: Alice, Bob (two orders),
    # Carol; exactly what the orders hold.
    theirs = api.get("/export/payments?format=json", token=other_token).json["items"]
    assert sorted((p["buyer_name"], p["amount"], p["unallocated"], p["note"], p["via"]) for p in theirs) == [
        ("Alice", 560, 0, None, "import"),
        ("Bob", 410.47, 0, None, "import"),
        ("Carol", 1000.5, 0, None, "import"),
    ]
    # The first seller is untouched: same orders, same stock.
    assert len(api.get("/orders", token=token).json["items"]) == 7
    assert api.get("/items", token=token).json["items"][0]["stock"] == 7


# --- import -----------------------------------------------------------------------------


def test_import_creates_orders_and_customers(api, token):
    make_item(api, token, item_name="Matcha KitKat", price=250, stock=5)
    make_customer(api, token, name="Alice W", email="alice@example.com")
    text = (
        EN_HEADER
        + "ALICE@example.com,Alice,Matcha KitKat,2,,remitted,shipped,gift wrap\r\n"
        + 'new@example.com,"Lin, Mei",Tokyo Banana,3,19.99,,,"line one\nline two"\r\n'
        + "new@example.com,,Matcha KitKat,1,,unpaid,cancelled,'=1+1\r\n"
        + ",,,,,,,\r\n"  # blank line: skipped
    )
    r = post_csv(api, token, text)
    assert r.status == 201, r
    assert r.json == {
        "dry_run": False,
        "created": 3,
        "first_order_no": 1001,
        "last_order_no": 1003,
        "rows": 3,
        "new_customers": 1,
        "total_amount": 559.97,  # 500 + 59.97; the cancelled row is left out
        "duplicates": [],
        "skipped": 0,
    }
    orders = list(reversed(api.get("/orders", token=token).json["items"]))
    a, b, c = orders
    assert (a["buyer_name"], a["unit_price"], a["total_amount"]) == ("Alice W", 250, 500)
    assert a["payment_status"] == "remitted" and a["remitted_at"] and a["shipped_date"]
    assert (b["buyer_name"], b["buyer_email"], b["note"]) == (
        "Lin, Mei",
        "new@example.com",
        "line one\nline two",
    )
    assert c["fulfillment_status"] == "cancelled" and c["note"] == "=1+1"
    assert api.get("/items", token=token).json["items"][0]["stock"] == 3  # cancelled row takes none
    assert len(api.get("/customers", token=token).json["items"]) == 2
    # Numbers continue after the import.
    nxt = order(api, token, buyer_email="x@example.com", item_name="Pen", quantity=1, unit_price=1)
    assert nxt["order_no"] == 1004


def test_imported_document_has_the_shape_of_a_created_one(api, token):
    order(api, token, buyer_email="a@example.com", item_name="Pen", quantity=1, unit_price=5)
    # The same order again: a duplicate, imported anyway on request.
    r = post_csv(api, token, EN_HEADER + "a@example.com,,Pen,1,5,,,\r\n", "?skip_duplicates=false")
    assert r.status == 201 and [d["order_no"] for d in r.json["duplicates"]] == [1001]
    made, imported = db.get_db().orders.find().sort("order_no", 1)
    assert set(imported) - set(made) == {"import_id"}
    assert set(made) - set(imported) == set()


def test_imported_customer_has_the_shape_of_a_created_one(api, token):
    order(api, token, buyer_email="made@example.com", item_name="Pen", quantity=1, unit_price=5)
    assert post_csv(api, token, EN_HEADER + "imported@example.com,,Pen,1,5,,,\r\n").status == 201
    made = db.get_db().customers.find_one({"email_lower": "made@example.com"})
    imported = db.get_db().customers.find_one({"email_lower": "imported@example.com"})
    # FerretDB leaves null fields out of an upserted document; compare what is set.
    assert {k for k, v in made.items() if v is not None} == {k for k, v in imported.items() if v is not None}
    assert imported["name"] == "imported"  # like POST /orders: the part before @


def test_buyer_created_meanwhile_is_reused(api, token):
    """A buyer that appears between validation and writing (another request) hits the
    unique index and is read back: no second customer, the order goes to them."""
    from chalicelib.accounts import auth
    from chalicelib.sales import imports

    me = api.get("/auth/me", token=token).json
    principal = auth.Principal(me["id"], me["timezone"], me["currency"])
    text = EN_HEADER + "late@example.com,Late,Pen,1,5,,,\r\nnew@example.com,New,Pen,1,5,,,\r\n"
    plan = imports.plan(principal, imports.read(text.encode()))
    assert sorted(plan.new_customers) == ["late@example.com", "new@example.com"]
    made = make_customer(api, token, name="Late Person", email="Late@Example.com")
    imports.write(principal, plan)
    assert db.get_db().customers.count_documents({}) == 2
    orders = api.get("/orders", token=token).json["items"]
    late = next(o for o in orders if o["buyer_email"].lower() == "late@example.com")
    assert late["customer_id"] == made["id"] and late["buyer_name"] == "Late Person"


@pytest.mark.parametrize("bom", [True, False])
def test_chinese_headers_and_status_words(api, token, bom):
    text = (
        "買家Email,買家姓名,商品名稱,數量,單價,運費,批次,付款狀態,出貨狀態,備註\r\n"
        "mei@example.com,美美,東京香蕉,2,19.99,60,2026-12 東京,已匯款,已出貨,請包好\r\n"
    )
    raw = ("\ufeff" if bom else "") + text
    r = post_csv(api, token, raw)
    assert r.status == 201, r
    o = api.get("/orders", token=token).json["items"][0]
    assert (o["buyer_name"], o["item_name"], o["batch"], o["note"]) == (
        "美美",
        "東京香蕉",
        "2026-12 東京",
        "請包好",
    )
    assert (o["total_amount"], o["payment_status"], o["fulfillment_status"]) == (99.98, "remitted", "shipped")


def test_an_english_shop_exports_in_english_and_its_own_zone(api, token):
    """Issue 27: an English shop in Los Angeles (UTC-8 in December) gets English headers,
    the codes and English history, times in its zone; the file reads back as the same
    times (the import takes a time without a zone as the shop's)."""
    me = api.patch("/auth/me", {"language": "en", "timezone": "America/Los_Angeles"}, token=token)
    assert me.status == 200, me
    email = api.get("/auth/me", token=token).json["email"]
    fresh = api.post("/auth/login", {"email": email, "password": "correct horse 1"}).json["token"]
    made = order(api, fresh, buyer_email="amy@example.com", item_name="Tea", quantity=1, unit_price=100)
    assert api.patch(f"/orders/{made['id']}", {"quantity": 2}, token=fresh).status == 200
    assert api.patch(f"/orders/{made['id']}", {"fulfillment_status": "purchased"}, token=fresh).status == 200
    raw = body_bytes(api.get("/export/orders", token=fresh))
    (row,) = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    j = api.get(f"/orders/{made['id']}", token=fresh).json

    def la(iso: str) -> str:
        return (dt.datetime.fromisoformat(iso.replace("Z", "+00:00")) - dt.timedelta(hours=8)).strftime(
            "%Y-%m-%d %H:%M:%S"
        )

    assert (row["payment_status"], row["fulfillment_status"]) == ("unpaid", "purchased")
    assert (row["created_at"], row["updated_at"]) == (la(j["created_at"]), la(j["updated_at"]))
    at = [la(e["at"])[:16] for e in j["history"]]
    assert [e["field"] for e in j["history"]] == ["quantity", "fulfillment_status"]
    second = "fulfillment_status pending → purchased (by the owner)"
    expected = f"{at[0]} quantity 1 → 2 (by the owner); " + (
        second if at[1] == at[0] else f"{at[1]} {second}"
    )
    assert row["history"] == expected
    check = post_csv(api, fresh, raw.replace(b"amy@example.com", b"ann@example.com"), "?dry_run=true")
    assert check.status == 200 and check.json["rows"] == 1, check
    assert post_csv(api, fresh, raw.replace(b"amy@example.com", b"ann@example.com")).status == 201
    ann = [o for o in api.get("/orders", token=fresh).json["items"] if o["buyer_email"] == "ann@example.com"]
    assert [o["created_at"] for o in ann] == [j["created_at"]]


def test_status_words_of_both_pages_and_older_files_are_read(api, token):
    """Issue 27: the zh export writes the pages' words (已下單, not 待購買); the import
    reads those, the older 待購買, the English page's words (any case) and the codes, and
    a local time without a zone as the shop's (Asia/Taipei)."""
    text = (
        "買家Email,商品名稱,數量,單價,付款狀態,出貨狀態,建立時間\r\n"
        "a@example.com,Tea,1,10,未付款,已下單,2026-11-24 16:30:05\r\n"
        "a@example.com,Tea,2,10,,待購買,\r\n"
        "a@example.com,Tea,3,10,unpaid,Purchased,\r\n"
        "a@example.com,Tea,4,10,REMITTED,ordered,\r\n"
        "a@example.com,Tea,5,10,Partly paid,已取消,\r\n"
    )
    r = post_csv(api, token, text)
    assert r.status == 400 and r.json["error"]["code"] == "invalid_rows"
    assert [(d["row"], d["field"]) for d in r.json["error"]["details"]] == [(6, "payment_status")]
    assert post_csv(api, token, text.replace("Partly paid,已取消", "Unpaid,已取消")).status == 201
    got = sorted(api.get("/orders", token=token).json["items"], key=lambda o: o["quantity"])
    assert [(o["payment_status"], o["fulfillment_status"]) for o in got] == [
        ("unpaid", "pending"),
        ("unpaid", "pending"),
        ("unpaid", "purchased"),
        ("remitted", "pending"),
        ("unpaid", "cancelled"),
    ]
    assert got[0]["created_at"] == "2026-11-24T08:30:05Z"
    bad = post_csv(api, token, text.replace("已下單", "已寄出"))
    assert bad.status == 400
    assert [(d["row"], d["field"], d["code"]) for d in bad.json["error"]["details"]][0] == (
        2,
        "fulfillment_status",
        "unknown_status",
    )


def test_an_export_read_back_into_its_shop_is_all_already_there(api, token, shop):  # noqa: F811
    """A zh shop's export (zh words, local times, history text) checked and imported into
    the same shop: every row is already there, nothing is written twice."""
    exported = body_bytes(api.get("/export/orders", token=token))
    assert "已下單".encode() in exported and b"pending" not in exported
    before = counts()
    check = post_csv(api, token, exported, "?dry_run=true")
    assert check.status == 200, check
    assert (check.json["rows"], check.json["skipped"], check.json["created"]) == (0, 7, 0)
    assert sorted(d["order_no"] for d in check.json["duplicates"]) == list(range(1001, 1008))
    refused = post_csv(api, token, exported)
    assert refused.status == 409 and refused.json["error"]["code"] == "duplicate_rows"
    skipped = post_csv(api, token, exported, "?skip_duplicates=true")
    assert skipped.status == 201 and (skipped.json["created"], skipped.json["skipped"]) == (0, 7)
    assert counts() == before
    check_ledger()


def test_an_exported_row_edited_since_is_still_the_order_it_was(api, token, other_token, shop):  # noqa: F811
    """Issue 27: an export row carries its order's id; read back into the shop with a
    quantity and a note edited, it is still that order (not a new one), checked before the
    buyer-item-quantity match; another shop's import matches no id."""
    rows = list(
        csv.reader(io.StringIO(body_bytes(api.get("/export/orders", token=token)).decode("utf-8-sig")))
    )
    header, second = rows[0], rows[2]  # #1002: 2 Tokyo Banana, unpaid
    second[header.index("數量")], second[header.index("總金額")], second[header.index("備註")] = (
        "3",
        "",
        "改了",
    )
    second[header.index("未付餘額")] = ""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    before = counts()
    check = post_csv(api, token, out.getvalue(), "?dry_run=true")
    assert check.status == 200, check
    assert (check.json["rows"], check.json["skipped"]) == (0, 7)
    assert [(d["row"], d["order_no"]) for d in check.json["duplicates"]][:2] == [(2, 1001), (3, 1002)]
    assert "id" in check.json["duplicates"][1]["message"]
    # A row without its id (a sheet typed by hand) is matched by its fields: row 3 is new.
    second[0] = ""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    typed = post_csv(api, token, out.getvalue(), "?dry_run=true").json
    assert (typed["rows"], typed["skipped"]) == (1, 6)
    assert counts() == before
    r = post_csv(api, other_token, body_bytes(api.get("/export/orders", token=token)), "?dry_run=true")
    assert (r.json["rows"], r.json["duplicates"]) == (7, [])


def test_old_orders_keep_their_dates_and_months(api, token):
    header = "buyer_email,item_name,quantity,unit_price,payment_status,remitted_at,fulfillment_status,shipped_date,created_at\r\n"
    text = header + (
        "a@example.com,Pen,1,10,remitted,2025-03-02T01:00:00Z,delivered,2025/3/5,2025-03-01T16:30:00Z\r\n"
        "a@example.com,Pen,2,10,,,pending,,2025/2/28 23:30\r\n"  # Excel's way; Taipei time
    )
    r = post_csv(api, token, text)
    assert r.status == 201, r
    # In file order (order numbers); newest first would put them by their own dates.
    first, second = api.get("/orders?sort=order_no", token=token).json["items"]
    assert (first["created_at"], first["remitted_at"], first["shipped_date"]) == (
        "2025-03-01T16:30:00Z",
        "2025-03-02T01:00:00Z",
        "2025-03-05",
    )
    assert second["created_at"] == "2025-02-28T15:30:00Z"
    months = {m["month"]: m for m in api.get("/reports/monthly?year=2025", token=token).json["rows"]}
    # 16:30 UTC on 1 March is 00:30 on 2 March in Taipei; both orders keep their own month.
    assert (months["2025-03"]["order_count"], months["2025-03"]["remitted_amount"]) == (1, 10)
    assert (months["2025-02"]["order_count"], months["2025-02"]["total_amount"]) == (1, 20)


def test_bad_dates_are_row_errors(api, token):
    header = "buyer_email,item_name,quantity,unit_price,payment_status,remitted_at,fulfillment_status,shipped_date,created_at\r\n"
    text = header + (
        "a@example.com,Pen,1,10,,,,,yesterday\r\n"  # row 2 (the header is row 1)
        "a@example.com,Pen,1,10,,,,,2999-01-01\r\n"  # 3 future
        "a@example.com,Pen,1,10,unpaid,2025-01-01,,,\r\n"  # 4 remitted_at on an unpaid order
        "a@example.com,Pen,1,10,,,pending,2025-01-01,\r\n"  # 5 shipped_date on a pending order
        "a@example.com,Pen,1,10,,,shipped,2025-13-01,\r\n"  # 6
        "a@example.com,Pen,1,10,,,,,1999-12-31\r\n"  # 7
    )
    r = post_csv(api, token, text)
    assert r.status == 400
    got = [(d["row"], d["field"], d["code"]) for d in r.json["error"]["details"]]
    assert got == [
        (2, "created_at", "invalid_date"),
        (3, "created_at", "date_out_of_range"),
        (4, "remitted_at", "only_for_remitted"),
        (5, "shipped_date", "only_for_shipped"),
        (6, "shipped_date", "invalid_date"),
        (7, "created_at", "date_out_of_range"),
    ]
    assert db.get_db().orders.count_documents({}) == 0


def test_dry_run_writes_nothing(api, token):
    before = counts()
    r = post_csv(api, token, EN_HEADER + "n@example.com,N,Pen,2,10,,,\r\n", "?dry_run=true")
    assert r.status == 200, r
    assert r.json == {
        "dry_run": True,
        "created": 0,
        "rows": 1,
        "new_customers": 1,
        "total_amount": 20,
        "duplicates": [],
        "skipped": 0,
    }
    assert counts() == before
    bad = post_csv(api, token, EN_HEADER + "n@example.com,N,Pen,0,10,,,\r\n", "?dry_run=true")
    assert bad.status == 400 and bad.json["error"]["details"][0]["row"] == 2  # the header is row 1
    assert post_csv(api, token, EN_HEADER, "?dry_run=maybe").status == 400


def good_rows(n: int) -> list[str]:
    return [
        f"buyer{i % 40}@example.com,Buyer {i % 40},Matcha KitKat,1,,unpaid,pending,row {i}\r\n"
        for i in range(n)
    ]


def test_one_bad_row_among_1000_writes_nothing(api, token):
    make_item(api, token, item_name="Matcha KitKat", price=250, stock=5000)
    make_customer(api, token, name="Buyer 0", email="buyer0@example.com")
    rows = good_rows(1000)
    rows[499] = "buyer1@example.com,Buyer 1,Matcha KitKat,two,,unpaid,pending,\r\n"
    before = counts()
    r = post_csv(api, token, EN_HEADER + "".join(rows))
    assert r.status == 400, r
    assert r.json["error"]["code"] == "invalid_rows"
    assert r.json["error"]["details"] == [
        {
            "row": 501,
            "field": "quantity",
            "code": "not_a_whole_number",
            "message": "must be a whole number ≥ 1",
        }
    ]
    assert counts() == before
    # The same file without the bad row goes in whole.
    rows[499] = good_rows(1)[0]
    r = post_csv(api, token, EN_HEADER + "".join(rows))
    assert r.status == 201 and r.json["created"] == 1000 and r.json["new_customers"] == 39
    assert db.get_db().items.find_one()["stock"] == 4000
    assert db.get_db().orders.count_documents({}) == 1000


def test_every_bad_row_is_listed(api, token):
    text = EN_HEADER + (
        "not-an-email,,Pen,1,5,,,\r\n"  # row 2 (the header is row 1)
        "ok@example.com,,Pen,1,5,,,\r\n"  # 3 fine
        "ok@example.com,,Pen,1,5.001,,,\r\n"  # 4
        "ok@example.com,,,1,5,,,\r\n"  # 5 no item
        "ok@example.com,,Pen,1,5,paid,,\r\n"  # 6
        "ok@example.com,,Pen,1,5,,lost,\r\n"  # 7
        "ok@example.com,,Unknown thing,1,,,,\r\n"  # 8 no price, not an item
        "ok@example.com,,Pen,1,-5,,,\r\n"  # 9
        "ok@example.com,,Pen,1,5,,,,extra\r\n"  # 10 too many cells
        "ok@example.com,,Pen,100001,5,,,\r\n"  # 11
    )
    r = post_csv(api, token, text)
    assert r.status == 400
    details = r.json["error"]["details"]
    assert sorted({d["row"] for d in details}) == [2, 4, 5, 6, 7, 8, 9, 10, 11]
    by_row = {d["row"]: d for d in details}
    assert (by_row[2]["field"], by_row[2]["code"]) == ("buyer_email", "invalid_email")
    assert by_row[4]["field"] == "unit_price" and "2 decimal" in by_row[4]["message"]
    assert by_row[4]["code"] == "too_many_decimals"
    assert (by_row[5]["field"], by_row[5]["code"]) == ("item_name", "exactly_one_of")
    assert by_row[6]["field"] == "payment_status" and by_row[7]["field"] == "fulfillment_status"
    assert by_row[6]["code"] == by_row[7]["code"] == "unknown_status"
    assert (by_row[8]["field"], by_row[8]["code"]) == ("unit_price", "price_required")
    assert (by_row[9]["code"], by_row[10]["code"], by_row[11]["code"]) == (
        "negative",
        "too_many_cells",
        "less_than_equal",
    )
    assert "9 row(s)" in r.json["error"]["message"]
    assert db.get_db().orders.count_documents({}) == 0


def test_total_amount_column_is_checked(api, token):
    header = "buyer_email,item_name,quantity,unit_price,shipping_fee,total_amount\r\n"
    r = post_csv(api, token, header + "a@example.com,Pen,2,5,1,11\r\na@example.com,Pen,2,5,1,12\r\n")
    assert r.status == 400 and [d["row"] for d in r.json["error"]["details"]] == [3]
    assert r.json["error"]["details"][0]["field"] == "total_amount"
    assert r.json["error"]["details"][0]["code"] == "total_mismatch"


def test_stock_for_the_whole_file_is_checked_first(api, token):
    make_item(api, token, item_name="Matcha KitKat", price=250, stock=3)
    before = counts()
    text = EN_HEADER + "a@example.com,,matcha kitkat,2,,,,\r\nb@example.com,,Matcha KitKat,2,,,,\r\n"
    r = post_csv(api, token, text)
    assert r.status == 409 and r.json["error"]["code"] == "insufficient_stock"
    assert r.json["error"]["details"] == [
        {
            "field": "quantity",
            "code": "insufficient_stock",
            "message": "Matcha KitKat: 4 asked, 3 left",
            "item_name": "Matcha KitKat",
            "needed": 4,
            "in_stock": 3,
            "rows": [2, 3],
        }
    ]
    assert "Matcha KitKat: 4 asked, 3 left" in r.json["error"]["message"]
    assert counts() == before


def test_failure_while_writing_undoes_everything(api, token):
    """An order number taken behind the counter's back makes insert_many fail at row 3
    after rows 1-2 went in: the import must remove them, return stock, drop new customers."""
    make_item(api, token, item_name="Matcha KitKat", price=250, stock=10)
    seller_id = db.get_db().items.find_one()["seller_id"]
    db.get_db().orders.insert_one({"seller_id": seller_id, "order_no": 1003, "planted": True})
    before = counts()
    text = EN_HEADER + "".join(f"new{i}@example.com,,Matcha KitKat,1,,remitted,,\r\n" for i in range(5))
    r = post_csv(api, token, text)
    assert r.status >= 500
    after = counts()
    assert after["payments"] == before["payments"] == []  # the rows' payments went too
    assert after["orders"] == before["orders"] == 1
    assert after["customers"] == before["customers"] == 0
    assert after["stock"] == before["stock"] == [("Matcha KitKat", 10)]


def test_import_limits_and_bad_files(api, token):
    too_many = EN_HEADER + "".join(f"a@example.com,,Pen,1,1,,,{i}\r\n" for i in range(5001))
    r = post_csv(api, token, too_many, "?dry_run=true")
    assert r.status == 400 and r.json["error"]["code"] == "too_many_rows"
    exactly = EN_HEADER + "".join(f"a@example.com,,Pen,1,1,,,{i}\r\n" for i in range(5000))
    assert post_csv(api, token, exactly, "?dry_run=true").json["rows"] == 5000

    big5 = ("買家Email,商品名稱,數量\r\na@example.com,香蕉,1\r\n").encode("big5")
    r = post_csv(api, token, big5)
    assert (
        r.status == 400 and r.json["error"]["code"] == "invalid_csv" and "UTF-8" in r.json["error"]["message"]
    )
    r = post_csv(api, token, "buyer_email,quantity\r\na@example.com,1\r\n")
    assert r.status == 400 and r.json["error"]["code"] == "missing_columns"
    assert r.json["error"]["details"] == [
        {"field": "item_name", "code": "required_column", "message": "required column"}
    ]
    r = post_csv(api, token, "buyer_email,item_name,quantity,price\r\na@example.com,Pen,1,3\r\n")
    assert r.status == 400 and r.json["error"]["code"] == "invalid_columns"
    assert post_csv(api, token, "").json["error"]["code"] == "invalid_csv"
    assert post_csv(api, token, EN_HEADER).json["error"]["code"] == "invalid_csv"
    r = post_csv(api, token, 'buyer_email,item_name,quantity\r\n"a@example.com,Pen,1\r\n')
    assert r.status in (201, 400)  # an unterminated quote is one odd cell, never a 500
    assert db.get_db().orders.count_documents({}) <= 1
    csv_type = {"Content-Type": "text/csv"}
    assert api.post("/import/orders", raw=EN_HEADER.encode(), headers=csv_type).status == 401
    with_charset = {"Content-Type": "text/csv; charset=utf-8"}
    ok = api.post("/import/orders?dry_run=1", raw=exactly.encode(), token=token, headers=with_charset)
    assert ok.status == 200 and ok.json["rows"] == 5000


def test_import_never_touches_another_seller(api, token, other_token):
    make_item(api, token, item_name="Matcha KitKat", price=250, stock=1)
    make_customer(api, token, name="Alice", email="alice@example.com")
    before_first = counts()
    # The other seller has no such item (so no stock rule, and a price is needed) and
    # no such customer: both are theirs alone after the import.
    r = post_csv(api, other_token, EN_HEADER + "alice@example.com,Alice O,Matcha KitKat,5,300,,,\r\n")
    assert r.status == 201 and r.json["new_customers"] == 1
    assert db.get_db().items.find_one()["stock"] == 1
    assert api.get("/orders", token=token).json["items"] == []
    mine = api.get("/customers", token=token).json["items"]
    assert [c["name"] for c in mine] == ["Alice"]
    theirs = api.get("/orders", token=other_token).json["items"]
    assert theirs[0]["buyer_name"] == "Alice O" and theirs[0]["item_id"] is None
    assert counts()["orders"] == before_first["orders"] + 1


DUP_HEADER = "buyer_email,item_name,quantity,unit_price,batch\r\n"


def test_importing_the_same_file_twice_finds_the_duplicates(api, token):
    make_item(api, token, item_name="Matcha KitKat", price=250, stock=6)
    text = DUP_HEADER + (
        "a@example.com,Matcha KitKat,2,,2026-12 東京\r\n"  # row 2
        "b@example.com,Pen,1,5,\r\n"  # row 3
        "a@example.com,Matcha KitKat,2,,2026-12 東京\r\n"  # row 4: the same as row 2
    )
    first = post_csv(api, token, text)
    assert first.status == 201 and first.json["duplicates"] == [] and first.json["created"] == 3
    before = counts()

    dry = post_csv(api, token, text, "?dry_run=true")
    assert dry.status == 200, dry
    assert [(d["row"], d["order_no"], d["code"]) for d in dry.json["duplicates"]] == [
        (2, 1001, "duplicate_row"),
        (3, 1002, "duplicate_row"),
        (4, 1003, "duplicate_row"),
    ]
    # Without a choice a dry run previews the safe one: duplicates left out.
    assert (dry.json["rows"], dry.json["skipped"], dry.json["total_amount"]) == (0, 3, 0)
    dry_skip = post_csv(api, token, text, "?dry_run=true&skip_duplicates=true")
    assert dry_skip.json == dry.json
    dry_all = post_csv(api, token, text, "?dry_run=true&skip_duplicates=false")
    assert dry_all.status == 409 and dry_all.json["error"]["code"] == "insufficient_stock"

    # A real import must choose: nothing is written until it does.
    refused = post_csv(api, token, text)
    assert refused.status == 409 and refused.json["error"]["code"] == "duplicate_rows"
    assert [d["row"] for d in refused.json["error"]["details"]] == [2, 3, 4]
    assert counts() == before
    skipped = post_csv(api, token, text, "?skip_duplicates=true")
    assert skipped.status == 201, skipped
    assert (skipped.json["created"], skipped.json["skipped"], skipped.json["first_order_no"]) == (0, 3, None)
    assert counts() == before

    # One new row among them: only it goes in, and only it takes stock.
    more = text + "a@example.com,matcha kitkat,2,,2026-12 東京\r\n"  # row 5: a third, and new
    r = post_csv(api, token, more, "?skip_duplicates=true")
    assert r.status == 201, r
    assert (r.json["created"], r.json["skipped"], r.json["first_order_no"]) == (1, 3, 1004)
    assert db.get_db().items.find_one()["stock"] == 0
    # Importing them anyway is the seller's choice; stock still rules.
    r = post_csv(api, token, DUP_HEADER + "b@example.com,Pen,1,5,\r\n", "?skip_duplicates=false")
    assert r.status == 201 and r.json["created"] == 1 and r.json["duplicates"][0]["order_no"] == 1002
    r = post_csv(api, token, text, "?skip_duplicates=false")
    assert r.status == 409 and r.json["error"]["code"] == "insufficient_stock"
    assert r.json["error"]["details"][0]["rows"] == [2, 4]


def test_a_duplicate_is_the_same_buyer_item_quantity_price_and_batch(api, token):
    post_csv(api, token, DUP_HEADER + "a@example.com,Pen,2,5,Tokyo\r\n")
    text = DUP_HEADER + (
        "A@Example.com,PEN,2,5,Tokyo\r\n"  # 2: the same (email and item name in any case)
        "b@example.com,Pen,2,5,Tokyo\r\n"  # 3: another buyer
        "a@example.com,Pencil,2,5,Tokyo\r\n"  # 4: another item
        "a@example.com,Pen,3,5,Tokyo\r\n"  # 5: another quantity
        "a@example.com,Pen,2,6,Tokyo\r\n"  # 6: another price
        "a@example.com,Pen,2,5,Osaka\r\n"  # 7: another batch
        "a@example.com,Pen,2,5,\r\n"  # 8: no batch
        "a@example.com,Pen,2,5,Tokyo\r\n"  # 9: one existing order matches one row only
    )
    r = post_csv(api, token, text, "?dry_run=true")
    assert [d["row"] for d in r.json["duplicates"]] == [2]
    # Another seller's equal order is not a duplicate.
    other = api.signup(shop_name="Other Shop")
    assert post_csv(api, other, text, "?dry_run=true").json["duplicates"] == []


# --- money: paid_amount and the payments an import records --------------------------

PAID_HEADER = (
    "buyer_email,buyer_name,item_name,quantity,unit_price,payment_status,fulfillment_status,paid_amount\r\n"
)


def imported(api, token) -> dict:
    """The orders by note-less key (buyer, item) → (payment_status, paid_amount, balance)."""
    return {
        (o["buyer_email"], o["item_name"]): (o["payment_status"], o["paid_amount"], o["balance"])
        for o in api.get("/orders?limit=200", token=token).json["items"]
    }


def test_paid_amount_makes_payments_one_per_buyer(api, token):
    text = PAID_HEADER + (
        "amy@example.com,Amy,Tea,2,100,,,50.5\r\n"  # 2: partial, from the money
        "amy@example.com,Amy,Cake,1,80,,,80\r\n"  # 3: paid in full: remitted
        "amy@example.com,Amy,Pen,1,10,remitted,,\r\n"  # 4: remitted, no paid_amount: in full
        "amy@example.com,Amy,Cup,1,30,,,\r\n"  # 5: no money
        "bo@example.com,Bo,Tea,1,100,partial,,0.01\r\n"  # 6: partial, and the money agrees
        'bo@example.com,Bo,Mug,1,"1,250",已匯款,,"1,250"\r\n'  # 7: 已匯款, thousands commas
        "bo@example.com,Bo,Bag,1,40,部分付款,purchased,20\r\n"  # 8
    )
    r = post_csv(api, token, text)
    assert r.status == 201, r
    assert r.json["created"] == 7 and r.json["total_amount"] == 200 + 80 + 10 + 30 + 100 + 1250 + 40
    assert imported(api, token) == {
        ("amy@example.com", "Tea"): ("partial", 50.5, 149.5),
        ("amy@example.com", "Cake"): ("remitted", 80, 0),
        ("amy@example.com", "Pen"): ("remitted", 10, 0),
        ("amy@example.com", "Cup"): ("unpaid", 0, 30),
        ("bo@example.com", "Tea"): ("partial", 0.01, 99.99),
        ("bo@example.com", "Mug"): ("remitted", 1250, 0),
        ("bo@example.com", "Bag"): ("partial", 20, 20),
    }
    orders = {o["item_name"] + o["buyer_email"][0]: o for o in api.get("/orders", token=token).json["items"]}
    assert orders["Pena"]["remitted_at"] and orders["Teaa"]["remitted_at"] is None
    pays = api.get("/payments", token=token).json["items"]
    assert len(pays) == 2  # one per buyer with money
    by_buyer = {p["buyer_name"]: p for p in pays}
    amy, bo = by_buyer["Amy"], by_buyer["Bo"]
    # The import is a code (`via`), not an English note the 繁中 page would show (issue 27).
    assert (
        amy["amount"],
        amy["unallocated"],
        amy["status"],
        amy["source"],
        amy["method"],
        amy["note"],
        amy["via"],
    ) == (140.5, 0, "confirmed", "seller", "other", None, "import")
    assert [(a["order_no"], a["amount"]) for a in amy["allocations"]] == [
        (1001, 50.5),
        (1002, 80),
        (1003, 10),
    ]
    assert [(a["order_no"], a["amount"]) for a in bo["allocations"]] == [
        (1005, 0.01),
        (1006, 1250),
        (1007, 20),
    ]
    stored = db.get_db().payments.find_one({"_id": ObjectId(amy["id"])})
    assert (stored["applied"], stored["touch"]) == (True, [])
    assert check_ledger() == {}  # no credit made, none spent
    # The money behaves like any other: paying the rest of Amy's tea makes it remitted.
    rest = {"customer_id": amy["customer_id"], "amount": 149.5, "method": "cash"}
    assert api.post("/payments", rest, token=token).status == 201
    assert imported(api, token)[("amy@example.com", "Tea")] == ("remitted", 200, 0)
    check_ledger()


def test_paid_above_total_and_money_that_disagrees_are_row_errors(api, token):
    before = counts()
    text = PAID_HEADER + (
        "a@example.com,,Tea,2,100,,,200.01\r\n"  # 2: more than the total
        "a@example.com,,Tea,1,100,,,100\r\n"  # 3: fine
        "a@example.com,,Tea,1,100,unpaid,,5\r\n"  # 4: unpaid with money
        "a@example.com,,Tea,1,100,partial,,\r\n"  # 5: partial without money
        "a@example.com,,Tea,1,100,remitted,,99\r\n"  # 6: remitted with less than the total
        "a@example.com,,Tea,1,100,,cancelled,100\r\n"  # 7: a cancelled order holds no money
        "a@example.com,,Tea,1,100,partial,cancelled,\r\n"  # 8: nor is it partly paid
        "a@example.com,,Tea,1,100,,,-1\r\n"  # 9
        "a@example.com,,Tea,1,100,,,lots\r\n"  # 10
        "a@example.com,,Tea,1,100,refunded,,100\r\n"  # 11: fine: paid, then refunded
        "a@example.com,,Tea,1,100,,cancelled,0\r\n"  # 12: fine
        "a@example.com,,Free,1,0,remitted,,\r\n"  # 13: fine: nothing to pay
        "a@example.com,,Tea,1,100,remitted,cancelled,\r\n"  # 14: fine: the word, no money
    )
    r = post_csv(api, token, text)
    assert r.status == 400 and r.json["error"]["code"] == "invalid_rows", r
    got = [(d["row"], d["field"], d["code"]) for d in r.json["error"]["details"]]
    assert got == [
        (2, "paid_amount", "paid_above_total"),
        (4, "payment_status", "status_mismatch"),
        (5, "payment_status", "status_mismatch"),
        (6, "payment_status", "status_mismatch"),
        (7, "paid_amount", "not_payable"),
        (8, "payment_status", "not_payable"),
        (9, "paid_amount", "negative"),
        (10, "paid_amount", "not_an_amount"),
    ]
    assert "200.01" in r.json["error"]["details"][0]["message"]
    assert "200" in r.json["error"]["details"][0]["message"]
    assert counts() == before  # nothing written: no order, no customer, no payment
    # A dry run of the good rows writes nothing either; the real import then does.
    good = PAID_HEADER + "".join(text.split("\r\n")[i] + "\r\n" for i in (2, 10, 11, 12, 13))
    assert post_csv(api, token, good, "?dry_run=true").status == 200
    assert counts() == before
    r = post_csv(api, token, good)
    assert r.status == 201, r
    got = api.get("/orders?sort=order_no", token=token).json["items"]
    assert [(o["payment_status"], o["paid_amount"], o["balance"]) for o in got] == [
        ("remitted", 100, 0),  # row 3
        ("refunded", 100, 0),  # row 11
        ("unpaid", 0, 0),  # row 12: cancelled
        ("remitted", 0, 0),  # row 13: an order of 0
        ("remitted", 0, 0),  # row 14: cancelled (as one remitted before the ledger)
    ]
    check_ledger()


def test_remitted_at_follows_the_money(api, token):
    header = "buyer_email,item_name,quantity,unit_price,paid_amount,remitted_at\r\n"
    text = (
        header
        + "a@example.com,Tea,1,100,100,2025-03-02T01:00:00Z\r\na@example.com,Tea,1,100,40,2025-03-02\r\n"
    )
    r = post_csv(api, token, text)
    assert r.status == 400
    assert [(d["row"], d["field"], d["code"]) for d in r.json["error"]["details"]] == [
        (3, "remitted_at", "only_for_remitted")
    ]
    r = post_csv(api, token, text.split("\r\n")[0] + "\r\n" + text.split("\r\n")[1] + "\r\n")
    assert r.status == 201
    assert api.get("/orders", token=token).json["items"][0]["remitted_at"] == "2025-03-02T01:00:00Z"
    check_ledger()


def test_import_spends_existing_credit(api, token):
    """A buyer's credit pays their imported orders (issue 26), after the rows' own money:
    Cake's row says 20 paid, the credit pays the rest of both."""
    cust = make_customer(api, token, name="Amy", email="amy@example.com")
    assert (
        api.post(
            "/payments", {"customer_id": cust["id"], "amount": 300, "method": "cash"}, token=token
        ).status
        == 201
    )
    r = post_csv(
        api, token, PAID_HEADER + "amy@example.com,,Tea,1,100,,,\r\namy@example.com,,Cake,1,50,,,20\r\n"
    )
    assert r.status == 201, r
    assert imported(api, token) == {
        ("amy@example.com", "Tea"): ("remitted", 100, 0),
        ("amy@example.com", "Cake"): ("remitted", 50, 0),
    }
    assert check_ledger() == {db.get_db().customers.find_one()["_id"]: 17000}
    report = api.get("/reports/buyers", token=token).json["rows"][0]
    assert (report["remitted_amount"], report["outstanding_amount"], report["credit_amount"]) == (
        150,
        0,
        170,
    )


def test_a_money_change_during_the_import_leaves_the_ledger_whole(api, token, monkeypatch):
    """Another request changes the buyer's money between the import's payment insert and
    its orders insert (it finishes the buyer's half-applied payments first): the import's
    payment is already final, so nothing of it is touched before its orders exist."""
    from chalicelib.money import payments
    from chalicelib.orderbook import repository

    amy = make_customer(api, token, name="Amy", email="amy@example.com")
    real = db.get_db()

    class Orders:
        def __getattr__(self, name):
            return getattr(real.orders, name)

        def insert_many(self, docs, **kw):
            assert real.payments.count_documents({}) == 1  # the import's, written first
            extra = {"customer_id": amy["id"], "amount": 5, "method": "cash"}
            assert api.post("/payments", extra, token=token).status == 201  # becomes credit
            return real.orders.insert_many(docs, **kw)

    class Db:
        orders = Orders()

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(repository, "get_db", lambda: Db())  # the orders' one writer
    text = PAID_HEADER + "amy@example.com,,Tea,2,100,,,150\r\namy@example.com,,Pen,1,5,remitted,,\r\n"
    assert post_csv(api, token, text).status == 201
    monkeypatch.undo()
    assert imported(api, token) == {
        ("amy@example.com", "Tea"): ("partial", 150, 50),
        ("amy@example.com", "Pen"): ("remitted", 5, 0),
    }
    assert check_ledger() == {real.customers.find_one()["_id"]: 500}
    assert payments.repair() == 0  # nothing half-applied


# --- the payments export ---------------------------------------------------------------


def payments_csv(api, token, query: str = "") -> tuple[bytes, list[list[str]]]:
    r = api.get(f"/export/payments?format=csv{query}", token=token)
    assert r.status == 200, r
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="payments-')
    raw = body_bytes(r)
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_payments_export(api, token, other_token):
    a = order(api, token, buyer_email="amy@example.com", item_name="Tea", quantity=1, unit_price=100)
    b = order(api, token, buyer_email="amy@example.com", item_name="Cake", quantity=1, unit_price=50)
    bo = order(api, token, buyer_email="bo@example.com", item_name="Pen", quantity=1, unit_price=5)
    first = make_payment(
        api,
        token,
        a["customer_id"],
        180.5,
        method="bank_transfer",
        account_last5="01234",
        paid_at="2026-11-20",
        note="=LINE 11/20",
    )
    second = make_payment(api, token, bo["customer_id"], 5, method="cash")
    raw, rows = payments_csv(api, token)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert rows[0] == [
        "付款ID",
        "買家姓名",
        "買家ID",
        "金額",
        "未分配金額",
        "付款方式",
        "帳號後五碼",
        "付款日期",
        "狀態",
        "來源",
        "備註",
        "分配",
        "建立時間",
        "記錄方式",
        "記錄者",  # who (issue 31), last: older columns keep their places
        "確認者",
    ]
    assert len(rows) == 3  # oldest first
    assert rows[1][:12] == [
        first["id"],
        "amy",
        a["customer_id"],
        "180.50",
        "30.50",
        "銀行轉帳",  # method, status and source in the zh page's words (issue 27)
        "01234",
        "2026-11-20",
        "已確認",
        "賣家",
        "'=LINE 11/20",  # defused like every export cell
        f"#{a['order_no']}:100;#{b['order_no']}:50",
    ]
    # the shop's time; typed by the seller: no via; recorded and confirmed by the owner (issue 31)
    assert rows[1][12:] == [taipei(first["created_at"]), "", "店主", "店主"]
    assert (rows[2][5], rows[2][8]) == ("現金", "已確認")
    assert rows[2][0] == second["id"] and rows[2][11] == f"#{bo['order_no']}:5"
    _, en = payments_csv(api, token, "&headers=en")
    assert en[0] == [
        "id",
        "buyer_name",
        "customer_id",
        "amount",
        "unallocated",
        "method",
        "account_last5",
        "paid_at",
        "status",
        "source",
        "note",
        "allocations",
        "created_at",
        "via",
        "recorded_by",
        "confirmed_by",
    ]
    assert [r[:5] + r[6:8] + r[10:14] for r in en[1:]] == [r[:5] + r[6:8] + r[10:14] for r in rows[1:]]
    assert {tuple(r[14:]) for r in en[1:]} == {("the owner", "the owner")}
    assert [(r[5], r[8], r[9]) for r in en[1:]] == [
        ("bank_transfer", "confirmed", "seller"),
        ("cash", "confirmed", "seller"),
    ]
    # An English shop gets English headers without asking.
    assert api.patch("/auth/me", {"language": "en"}, token=token).status == 200
    assert payments_csv(api, token)[1][0][:2] == ["id", "buyer_name"]

    # JSON: each item as GET /payments/{id} shows it; filters; pages.
    items = api.get("/export/payments?format=json", token=token).json
    assert items == {
        "items": [api.get(f"/payments/{p['id']}", token=token).json for p in (first, second)],
        "next_cursor": None,
    }
    one = api.get(f"/export/payments?format=json&customer_id={bo['customer_id']}", token=token).json
    assert [p["id"] for p in one["items"]] == [second["id"]]
    assert api.post(f"/payments/{second['id']}/void", token=token).status == 200
    voided = api.get("/export/payments?format=json&status=voided", token=token).json["items"]
    assert [(p["id"], p["status"], p["allocations"]) for p in voided] == [(second["id"], "voided", [])]
    page = api.get("/export/payments?format=json&limit=1", token=token)
    assert [p["id"] for p in page.json["items"]] == [first["id"]] and page.headers["x-next-cursor"]
    rest = api.get(
        f"/export/payments?format=json&limit=1&cursor={page.json['next_cursor']}", token=token
    ).json
    assert [p["id"] for p in rest["items"]] == [second["id"]] and rest["next_cursor"] is None
    for q in ("format=xml", "status=paid", "customer_id=nope", "limit=0", "cursor=!!"):
        assert api.get(f"/export/payments?{q}", token=token).status == 400, q
    assert api.get("/export/payments").status == 401

    # Another seller's payments never appear, in any format or filter.
    assert api.get("/export/payments?format=json", token=other_token).json == {
        "items": [],
        "next_cursor": None,
    }
    assert payments_csv(api, other_token)[1][1:] == []
    same_buyer = api.get(f"/export/payments?format=json&customer_id={a['customer_id']}", token=other_token)
    assert same_buyer.status == 200 and same_buyer.json["items"] == []
    check_ledger()


def test_payments_export_lists_buyer_reports_and_imports(api, token):
    assert post_csv(api, token, PAID_HEADER + "amy@example.com,Amy,Tea,1,100,remitted,,\r\n").status == 201
    link = api.post(
        f"/customers/{api.get('/customers', token=token).json['items'][0]['id']}/tracking-link", token=token
    ).json
    assert api.post(f"/track/{link['token']}/payments", {"amount": 7, "account_last5": "55555"}).status == 201
    _, rows = payments_csv(api, token, "&headers=en")
    got = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [
        (p["source"], p["status"], p["method"], p["amount"], p["allocations"], p["note"], p["via"])
        for p in got
    ] == [
        ("seller", "confirmed", "other", "100", "#1001:100", "", "import"),
        ("buyer", "reported", "bank_transfer", "7", "", "", ""),
    ]
    # A Chinese file names how it was recorded in the page's words.
    _, zh = payments_csv(api, token)
    assert [(r[9], r[13]) for r in zh[1:]] == [("賣家", "CSV 匯入"), ("買家回報", "")]


def test_charges_export_in_the_shops_words(api, token):
    """Issue 27: a zh file writes a charge's kind and the state its page shows (未付款,
    部分付款, 已付清, 已作廢) and the shop's time; an English file the codes."""
    a = order(api, token, buyer_email="amy@example.com", item_name="Tea", quantity=1, unit_price=100)
    who = a["customer_id"]
    made = [
        api.post("/charges", {"customer_id": who, "amount": amount, "kind": kind}, token=token)
        for kind, amount in (("shipping", 60), ("duty", 30), ("packaging", 5), ("adjustment", 7))
    ]
    assert [m.status for m in made] == [201] * 4, made
    paid = make_payment(
        api, token, who, 100 + 60 + 10, method="cash"
    )  # the order, the shipping, 10 of the duty
    assert api.post(f"/charges/{made[3].json['id']}/void", token=token).status == 200
    rows = list(
        csv.DictReader(io.StringIO(body_bytes(api.get("/export/charges", token=token)).decode("utf-8-sig")))
    )
    assert [(c["類別"], c["狀態"], c["已付金額"], c["未付餘額"]) for c in rows] == [
        ("運費", "已付清", "60", "0"),
        ("關稅", "部分付款", "10", "20"),
        ("包材費", "未付款", "0", "5"),
        ("金額調整", "已作廢", "0", "0"),
    ]
    assert [c["建立時間"] for c in rows] == [taipei(m.json["created_at"]) for m in made]
    en = list(
        csv.DictReader(
            io.StringIO(body_bytes(api.get("/export/charges?headers=en", token=token)).decode("utf-8-sig"))
        )
    )
    assert [(c["kind"], c["status"]) for c in en] == [
        ("shipping", "open"),
        ("duty", "open"),
        ("packaging", "open"),
        ("adjustment", "void"),
    ]
    # The payment that paid them names a charge by its kind in the file's language.
    _, pay = payments_csv(api, token)
    assert pay[1][0] == paid["id"] and pay[1][11] == f"#{a['order_no']}:100;運費:60;關稅:10"
    _, pay_en = payments_csv(api, token, "&headers=en")
    assert pay_en[1][11] == f"#{a['order_no']}:100;shipping:60;duty:10"


# --- purchase costs -----------------------------------------------------------------------

TRIP = "2026-12 東京"
TRIP_URL = "/batches/2026-12%20%E6%9D%B1%E4%BA%AC"
COST_HEADER = "buyer_email,item_name,quantity,unit_price,shipping_fee,batch,cost,cost_currency\r\n"


def costed_shop(api, token):
    """Four orders: ¥1500 from the item at the trip's rate, US$12.50 without a rate (no
    cost_amount), NT$55.50 in the shop currency (no rate needed), and one without a cost."""
    item = api.post(
        "/items",
        {"item_name": "Tokyo Banana", "price": 800, "cost": 1500, "cost_currency": "JPY"},
        token=token,
    )
    assert item.status == 201, item
    assert api.patch(TRIP_URL, {"rates": {"JPY": "0.2115"}}, token=token).status == 200
    out = [
        order(
            api,
            token,
            buyer_email="a@example.com",
            item_name="Tokyo Banana",
            quantity=2,
            shipping_fee=60,
            batch=TRIP,
        ),
        order(
            api,
            token,
            buyer_email="b@example.com",
            item_name="Porter bag",
            quantity=1,
            unit_price=3000,
            batch=TRIP,
            cost=12.5,
            cost_currency="USD",
        ),
        order(api, token, buyer_email="b@example.com", item_name="Pen", quantity=3, unit_price=20, cost=55.5),
        order(api, token, buyer_email="c@example.com", item_name="Tea", quantity=1, unit_price=100),
    ]
    return out


def export_rows(api, token, headers="zh"):
    raw = body_bytes(api.get(f"/export/orders?format=csv&headers={headers}", token=token))
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_export_carries_cost_and_profit(api, token):
    made = costed_shop(api, token)
    zh = export_rows(api, token)
    cells = [(r["成本"], r["成本幣別"], r["成本(本幣)"], r["利潤"]) for r in zh]
    assert cells == [
        # ¥1500 × 2 × 0.2115 = 634.50; 1660 - 60 - 634.50
        ("1500", "JPY", "634.50", "965.50"),
        ("12.5", "USD", "", ""),  # no USD rate in the trip: unknown, not 0
        # NT$55.50 × 3 = 166.50 above the price: a loss, written as a number a
        # spreadsheet adds up (a plain number is no formula; text with "-" is defused)
        ("55.5", "TWD", "166.50", "-106.50"),
        ("", "", "", ""),
    ]
    en = export_rows(api, token, "en")
    assert [(r["cost"], r["cost_currency"], r["cost_amount"], r["profit"]) for r in en] == cells
    # JSON: as the API shows the orders (cost in its currency, money in the shop's).
    items = api.get("/export/orders?format=json", token=token).json["items"]
    assert [(o["cost"], o["cost_currency"], o["cost_amount"], o["profit"]) for o in items] == [
        (1500, "JPY", 634.5, 965.5),
        (12.5, "USD", None, None),
        (55.5, "TWD", 166.5, -106.5),
        (None, None, None, None),
    ]
    assert [o["id"] for o in items] == [o["id"] for o in made]


@pytest.mark.parametrize("headers", ["zh", "en"])
def test_round_trip_keeps_cost(api, token, other_token, headers):
    costed_shop(api, token)
    exported = body_bytes(api.get(f"/export/orders?format=csv&headers={headers}", token=token))
    r = post_csv(api, other_token, exported)
    assert r.status == 201, r
    keep = ("item_name", "batch", "cost", "cost_currency")
    a = api.get("/export/orders?format=json", token=token).json["items"]
    b = api.get("/export/orders?format=json", token=other_token).json["items"]
    assert [{k: o[k] for k in keep} for o in b] == [{k: o[k] for k in keep} for o in a]
    # The other seller's trip has no rate yet: the yen cost waits for one, never a guess;
    # the shop currency's cost needs none.
    assert [o["cost_amount"] for o in b] == [None, None, 166.5, None]
    assert api.patch(TRIP_URL, {"rates": {"JPY": "0.2115"}}, token=other_token).status == 200
    b = api.get("/export/orders?format=json", token=other_token).json["items"]
    assert [(o["cost_amount"], o["profit"]) for o in b] == [(o["cost_amount"], o["profit"]) for o in a]


def test_import_reads_cost_columns(api, token):
    make_item(api, token, item_name="Pocky", price=120, cost=150, cost_currency="JPY")
    assert api.patch(TRIP_URL, {"rates": {"JPY": "0.2125", "USD": "31.5"}}, token=token).status == 200
    text = COST_HEADER + (
        f"a@example.com,Pocky,3,,,{TRIP},,\r\n"  # the item's cost: ¥150 × 3 × 0.2125 = 95.625
        f"a@example.com,Pocky,1,,,{TRIP},10,\r\n"  # a cost without a currency is in the shop's
        f'a@example.com,Bag,1,2000,,{TRIP},"1,234",jpy\r\n'  # ¥1,234 × 0.2125 = 262.225
        f"a@example.com,Bag,2,2000,,{TRIP},12.34,USD\r\n"  # US$12.34 × 2 × 31.5 = 777.42
        "a@example.com,Bag,1,2000,,,5,KRW\r\n"  # no batch: no rate, no cost_amount
        "a@example.com,Tea,1,100,,,,\r\n"  # no cost at all
    )
    r = post_csv(api, token, text)
    assert r.status == 201, r
    got = api.get("/orders?sort=order_no", token=token).json["items"]
    assert [(o["cost"], o["cost_currency"], o["cost_amount"]) for o in got] == [
        (150, "JPY", 95.63),
        (10, "TWD", 10),
        (1234, "JPY", 262.23),
        (12.34, "USD", 777.42),
        (5, "KRW", None),
        (None, None, None),
    ]
    stored = list(db.get_db().orders.find({}, {"cost_state": 1, "rates_version": 1}).sort("order_no", 1))
    assert [o["cost_state"] for o in stored] == ["known", "known", "known", "known", "no_rate", "none"]
    assert [o.get("rates_version") for o in stored] == [1, None, 1, 1, None, None]
    # Chinese headers, as the export writes them.
    zh = f"買家Email,商品名稱,數量,單價,批次,成本,成本幣別\r\nb@example.com,Bag,1,500,{TRIP},8,USD\r\n"
    assert post_csv(api, token, zh).status == 201
    last = api.get("/orders?sort=order_no", token=token).json["items"][-1]
    assert (last["cost"], last["cost_currency"], last["cost_amount"], last["profit"]) == (8, "USD", 252, 248)


def test_bad_costs_are_row_errors_and_nothing_is_written(api, token):
    assert api.patch("/batches/done", {"closed": True}, token=token).status == 200
    order(api, token, buyer_email="x@example.com", item_name="Pen", quantity=1, unit_price=1)
    before = counts()
    text = COST_HEADER + (
        "a@example.com,Pen,1,10,,,1500.5,JPY\r\n"  # row 2
        "a@example.com,Pen,1,10,,,1000.1,KRW\r\n"  # 3
        "a@example.com,Pen,1,10,,,1.234,USD\r\n"  # 4
        "a@example.com,Pen,1,10,,,1,XXX\r\n"  # 5
        "a@example.com,Pen,1,10,,,1,US$\r\n"  # 6
        "a@example.com,Pen,1,10,,,-1,\r\n"  # 7
        "a@example.com,Pen,1,10,,,abc,\r\n"  # 8
        "a@example.com,Pen,1,10,,,1000000000,\r\n"  # 9
        "a@example.com,Pen,1,10,,done,,\r\n"  # 10: a closed batch takes no orders
        "a@example.com,Pen,1,10,,,12.5,USD\r\n"  # 11: fine
    )
    r = post_csv(api, token, text)
    assert r.status == 400, r
    assert r.json["error"]["code"] == "invalid_rows"
    got = [(d["row"], d["field"], d["code"]) for d in r.json["error"]["details"]]
    assert got == [
        (2, "cost", "too_many_decimals"),
        (3, "cost", "too_many_decimals"),
        (4, "cost", "too_many_decimals"),
        (5, "cost_currency", "unknown_currency"),
        (6, "cost_currency", "unknown_currency"),
        (7, "cost", "negative"),
        (8, "cost", "not_a_number"),
        (9, "cost", "too_large"),
        (10, "batch", "batch_closed"),
    ]
    assert counts() == before
    # The dry run says the same.
    assert post_csv(api, token, text, "?dry_run=true").json["error"]["details"] == r.json["error"]["details"]


def test_import_reads_each_batch_once(api, token, monkeypatch):
    from chalicelib.catalog import batches

    reads = []
    real = batches.read
    monkeypatch.setattr(batches, "read", lambda sid, name: reads.append(name) or real(sid, name))
    settled = []
    monkeypatch.setattr(batches, "settle", lambda *a: settled.append(a))
    assert api.patch(TRIP_URL, {"rates": {"JPY": "0.2"}}, token=token).status == 200
    rows = "".join(f"a@example.com,Pen,1,10,,{b},100,JPY\r\n" for b in [TRIP, "大阪", TRIP, "", TRIP, "大阪"])
    assert post_csv(api, token, COST_HEADER + rows).status == 201
    assert sorted(reads) == sorted([TRIP, "大阪"])
    assert settled == []  # nothing changed since: no order converts itself again


def test_rates_changed_during_the_import_are_applied(api, token):
    """A PATCH of the trip's rates between validation and writing sweeps the batch before
    the imported orders exist; the import sees the new version and converts them again."""
    from chalicelib.accounts import auth
    from chalicelib.sales import imports

    assert api.patch(TRIP_URL, {"rates": {"JPY": "0.2"}}, token=token).status == 200
    me = api.get("/auth/me", token=token).json
    principal = auth.Principal(me["id"], me["timezone"], me["currency"])
    text = COST_HEADER + f"a@example.com,Pen,2,10,,{TRIP},100,JPY\r\nb@example.com,Pen,1,10,,,100,TWD\r\n"
    plan = imports.plan(principal, imports.read(text.encode()))
    assert api.patch(TRIP_URL, {"rates": {"JPY": "0.25"}}, token=token).status == 200
    imports.write(principal, plan)
    got = api.get("/orders?sort=order_no", token=token).json["items"]
    assert [o["cost_amount"] for o in got] == [50, 100]  # ¥100 × 2 × 0.25, not × 0.2
    trip = db.get_db().batches.find_one({"name": TRIP})
    assert db.get_db().orders.find_one({"batch": TRIP})["rates_version"] == trip["rates_version"] == 2
