"""The shopping trip (issue 30; contract "Variants, photos, purchases"): a batch's shopping
list per item and variant, purchases that move a covered line's orders to purchased
with their cost, and shortages resolved first ordered first or by the seller's pick,
the rest cancelled with their money as credit and the buyers told. Three lanes."""

from __future__ import annotations

from urllib.parse import quote

from bson import ObjectId

from chalicelib.notifications import notifications
from chalicelib.platform import db
from chalicelib.sales import shopping
from tests.factories import make_customer, make_item, make_order, make_payment
from tests.integration.payment_ledger import check_ledger

BATCH = "2026-12 東京"
BASE = f"/batches/{quote(BATCH)}"


def tee_item(api, token) -> tuple[dict, dict[str, str]]:
    """A T-shirt in two variants (紅 / M, 藍 / L), stock untracked: the item and its variant
    ids by label."""
    tee = make_item(
        api,
        token,
        item_name="UNIQLO T恤",
        price=390,
        options=[{"name": "顏色", "values": ["紅", "藍"]}, {"name": "尺寸", "values": ["M", "L"]}],
        variants=[{"values": ["紅", "M"]}, {"values": ["藍", "L"]}],
    )
    return tee, {v["label"]: v["id"] for v in tee["variants"]}


def status_of(order: dict) -> str:
    return db.get_db().orders.find_one({"_id": ObjectId(order["id"])})["fulfillment_status"]


def line_of(api, token, item, variant_id=None) -> dict:
    r = api.get(f"{BASE}/shopping-list", token=token)
    assert r.status == 200, r
    (line,) = [x for x in r.json["lines"] if x["item_id"] == item["id"] and x["variant_id"] == variant_id]
    return line


def buyers(api, token):
    amy = make_customer(api, token, name="Amy", email="amy@example.com")
    bo = make_customer(api, token, name="Bo", email=None, line_id="bo.tw")
    cy = make_customer(api, token, name="Cy", email="cy@example.com")
    return amy, bo, cy


def test_the_list_counts_units_per_item_and_variant(api, token):
    amy, bo, cy = buyers(api, token)
    tee, vids = tee_item(api, token)
    kit = make_item(api, token, item_name="Kit Kat 抹茶", price=150)
    red, blue = vids["紅 / M"], vids["藍 / L"]
    make_order(api, token, customer_id=amy["id"], item_id=tee["id"], variant_id=red, quantity=2, batch=BATCH)
    make_order(api, token, customer_id=bo["id"], item_id=tee["id"], variant_id=blue, quantity=1, batch=BATCH)
    make_order(api, token, customer_id=cy["id"], item_id=kit["id"], quantity=3, batch=BATCH)
    gone = make_order(api, token, customer_id=cy["id"], item_id=kit["id"], quantity=5, batch=BATCH)
    api.patch(f"/orders/{gone['id']}", {"fulfillment_status": "cancelled"}, token=token)
    made = make_order(api, token, customer_id=cy["id"], item_id=kit["id"], quantity=4, batch=BATCH)
    api.patch(f"/orders/{made['id']}", {"fulfillment_status": "purchased"}, token=token)  # from stock
    make_order(api, token, customer_id=cy["id"], item_id=kit["id"], quantity=7, batch="2026-11 首爾")
    make_order(api, token, customer_id=cy["id"], item_name="ad hoc", unit_price=10, batch=BATCH)

    r = api.get(f"{BASE}/shopping-list", token=token)
    assert r.status == 200, r
    rows = {(x["item_name"], x["variant_label"]): x for x in r.json["lines"]}
    assert set(rows) == {("Kit Kat 抹茶", None), ("UNIQLO T恤", "紅 / M"), ("UNIQLO T恤", "藍 / L")}
    kat = rows[("Kit Kat 抹茶", None)]
    # Only the pending order: cancelled, bought from stock, another batch and ad hoc are not.
    assert (kat["wanted"], kat["bought"], kat["short"], kat["order_count"]) == (3, 0, 3, 1)
    assert rows[("UNIQLO T恤", "紅 / M")]["variant_id"] == red
    assert rows[("UNIQLO T恤", "紅 / M")]["wanted"] == 2
    assert [p["buyer_name"] for p in rows[("UNIQLO T恤", "藍 / L")]["pending"]] == ["Bo"]
    assert r.json["totals"] == {"lines": 3, "wanted": 6, "bought": 0, "short": 6}
    # The purchase list of today still works beside it.
    assert api.get("/reports/items", token=token).status == 200


def test_a_purchase_that_covers_the_line_buys_its_orders_with_their_cost(api, token):
    amy, bo, cy = buyers(api, token)
    r = api.patch(BASE, {"rates": {"JPY": "0.21"}}, token=token)
    assert r.status == 200, r
    tee, vids = tee_item(api, token)
    red = vids["紅 / M"]
    first = make_order(
        api, token, customer_id=amy["id"], item_id=tee["id"], variant_id=red, quantity=2, batch=BATCH
    )
    second = make_order(
        api, token, customer_id=bo["id"], item_id=tee["id"], variant_id=red, quantity=1, batch=BATCH
    )
    other = make_order(
        api,
        token,
        customer_id=cy["id"],
        item_id=tee["id"],
        variant_id=vids["藍 / L"],
        quantity=1,
        batch=BATCH,
    )

    # Full-width digits, as typed; the cost in yen at the batch's rate.
    body = {
        "item_id": tee["id"],
        "variant_id": red,
        "quantity": "２",
        "unit_cost": "１９９０",
        "cost_currency": "JPY",
    }
    r = api.post(f"{BASE}/purchases", body, token=token)
    assert r.status == 201, r
    assert r.json["purchased"] == [] and r.json["line"]["bought"] == 2 and r.json["line"]["short"] == 1
    assert status_of(first) == "pending"  # 2 of 3: not covered yet

    r = api.post(f"{BASE}/purchases", {"item_id": tee["id"], "variant_id": red, "quantity": 1}, token=token)
    assert r.status == 201, r
    assert sorted(r.json["purchased"]) == sorted([first["id"], second["id"]])
    line = r.json["line"]
    assert (line["wanted"], line["bought"], line["short"], line["unit_cost"], line["cost_currency"]) == (
        3,
        3,
        0,
        1990,
        "JPY",
    )  # the second purchase kept the line's currency
    assert [p["quantity"] for p in line["purchases"]] == [2, 1]
    assert status_of(other) == "pending"  # another variant: not this line
    got = api.get(f"/orders/{first['id']}", token=token).json
    assert got["fulfillment_status"] == "purchased" and got["cost"] == 1990 and got["cost_currency"] == "JPY"
    assert got["profit"] == -55.8  # 780 sold, 2 × ¥1,990 × 0.21 = 835.80 cost
    entries = {h["field"]: h for h in got["history"]}
    assert (
        entries["fulfillment_status"]["by"] == "shopping"
        and entries["fulfillment_status"]["to"] == "purchased"
    )
    assert entries["cost"]["to"] == 1990 and entries["cost"]["to_currency"] == "JPY"


def test_an_undone_purchase_counts_no_more_until_its_units_are_given(api, token):
    amy, bo, cy = buyers(api, token)
    tee = make_item(api, token, item_name="UNIQLO T恤", price=390)
    o = make_order(api, token, customer_id=amy["id"], item_id=tee["id"], quantity=2, batch=BATCH)
    r = api.post(f"{BASE}/purchases", {"item_id": tee["id"], "quantity": 1}, token=token)
    assert r.status == 201, r
    mistake = r.json["purchase_id"]
    r = api.delete(f"{BASE}/purchases/{mistake}", token=token)
    assert r.status == 200, r
    assert (r.json["bought"], r.json["short"], r.json["purchases"]) == (0, 2, [])
    assert api.delete(f"{BASE}/purchases/{mistake}", token=token).status == 404  # gone already

    r = api.post(f"{BASE}/purchases", {"item_id": tee["id"], "quantity": 2}, token=token)
    assert r.status == 201 and r.json["purchased"] == [o["id"]], r
    r = api.delete(f"{BASE}/purchases/{r.json['purchase_id']}", token=token)
    assert r.status == 409 and r.json["error"]["code"] == "purchase_in_use", r
    assert line_of(api, token, tee)["bought"] == 2 and status_of(o) == "purchased"


def movements_of(api, token, item) -> list[dict]:
    return api.get(f"/items/{item['id']}/movements?limit=200", token=token).json["items"]


def stock_of(api, token, item, variant_id=None):
    got = api.get(f"/items/{item['id']}", token=token).json
    return next(v["stock"] for v in got["variants"] if v["id"] == variant_id) if variant_id else got["stock"]


def test_extras_on_a_tracked_variant_go_to_its_stock_as_one_purchase_movement(api, token):
    """Units beyond what the line's orders want are the variant's stock (one `purchase`
    movement naming the batch and the purchase); the line no longer counts them, so a
    new order of the variant takes a stock unit and is still to buy; untracked: the extra
    stays on the line as before."""
    amy, bo, cy = buyers(api, token)
    me = "owner"  # movements name who moved stock (issue 31)
    tee = make_item(
        api,
        token,
        item_name="UNIQLO T恤",
        price=390,
        options=[{"name": "顏色", "values": ["紅", "藍"]}],
        variants=[{"values": ["紅"], "stock": 5}, {"values": ["藍"]}],
    )
    red, blue = (v["id"] for v in tee["variants"])
    first = make_order(
        api, token, customer_id=amy["id"], item_id=tee["id"], variant_id=red, quantity=2, batch=BATCH
    )
    assert stock_of(api, token, tee, red) == 3
    body = {
        "item_id": tee["id"],
        "variant_id": red,
        "quantity": "５",
        "unit_cost": "１９９０",
        "cost_currency": "JPY",
    }
    r = api.post(f"{BASE}/purchases", body, token=token)
    assert r.status == 201 and r.json["purchased"] == [first["id"]], r
    line = r.json["line"]
    assert (line["wanted"], line["bought"], line["to_stock"], line["short"], line["extra"]) == (2, 5, 3, 0, 0)
    assert [(p["quantity"], p["to_stock"]) for p in line["purchases"]] == [(5, 3)]
    assert stock_of(api, token, tee, red) == 6 and stock_of(api, token, tee, blue) is None
    moves = movements_of(api, token, tee)
    (bought,) = [m for m in moves if m["reason"] == "purchase"]
    assert (bought["delta"], bought["variant_id"], bought["variant_label"], bought["by"]) == (
        3,
        red,
        "紅",
        me,
    )
    assert (bought["batch"], bought["purchase_id"]) == (BATCH, r.json["purchase_id"])
    assert sum(m["delta"] for m in moves) == 6  # the ledger is the stock

    # A new order of the variant takes one of those units from stock; the line does not
    # count them again: it is still to buy (or to mark purchased by hand, from stock).
    late = make_order(
        api, token, customer_id=bo["id"], item_id=tee["id"], variant_id=red, quantity=1, batch=BATCH
    )
    assert stock_of(api, token, tee, red) == 5
    line = line_of(api, token, tee, red)
    assert (line["wanted"], line["bought"], line["to_stock"], line["short"]) == (3, 5, 3, 1)
    r = api.post(f"{BASE}/purchases", {"item_id": tee["id"], "variant_id": red, "quantity": 1}, token=token)
    assert r.status == 201 and r.json["purchased"] == [late["id"]] and r.json["line"]["to_stock"] == 3, r
    assert stock_of(api, token, tee, red) == 5

    # The untracked variant keeps today's behaviour: the extra shows on the line.
    make_order(api, token, customer_id=cy["id"], item_id=tee["id"], variant_id=blue, quantity=1, batch=BATCH)
    r = api.post(f"{BASE}/purchases", {"item_id": tee["id"], "variant_id": blue, "quantity": 3}, token=token)
    assert r.status == 201, r
    line = r.json["line"]
    assert (line["wanted"], line["bought"], line["to_stock"], line["extra"]) == (1, 3, 0, 2)
    assert stock_of(api, token, tee, blue) is None
    assert [m["reason"] for m in movements_of(api, token, tee)].count("purchase") == 1


def test_an_undone_purchase_takes_its_stock_back_and_never_below_zero(api, token):
    amy, bo, cy = buyers(api, token)
    kit = make_item(api, token, item_name="Kit Kat 抹茶", price=150, stock=2)
    make_order(api, token, customer_id=amy["id"], item_id=kit["id"], quantity=1, batch=BATCH)
    assert api.post(f"{BASE}/purchases", {"item_id": kit["id"], "quantity": 1}, token=token).status == 201
    r = api.post(f"{BASE}/purchases", {"item_id": kit["id"], "quantity": 2}, token=token)
    assert r.status == 201 and r.json["line"]["to_stock"] == 2, r  # nothing left to buy: all stock
    extra = r.json["purchase_id"]
    assert stock_of(api, token, kit) == 3

    r = api.delete(f"{BASE}/purchases/{extra}", token=token)
    assert r.status == 200, r
    assert (r.json["bought"], r.json["to_stock"], r.json["short"], r.json["extra"]) == (1, 0, 0, 0)
    assert stock_of(api, token, kit) == 1
    moves = movements_of(api, token, kit)
    assert [(m["delta"], m["reason"], m["purchase_id"]) for m in moves[:2]] == [
        (-2, "purchase", extra),
        (2, "purchase", extra),
    ]
    assert sum(m["delta"] for m in moves) == 1
    # Undone twice: 404, nothing written.
    r = api.delete(f"{BASE}/purchases/{extra}", token=token)
    assert r.status == 404, r
    assert stock_of(api, token, kit) == 1 and len(movements_of(api, token, kit)) == len(moves)

    # Its units sold meanwhile: the undo would take the stock below 0: 409 naming the
    # purchase, nothing written (line, stock, movements as they were).
    r = api.post(f"{BASE}/purchases", {"item_id": kit["id"], "quantity": 2}, token=token)
    sold = r.json["purchase_id"]
    assert stock_of(api, token, kit) == 3
    make_order(api, token, customer_id=bo["id"], item_id=kit["id"], quantity=2, batch=BATCH)
    before = (line_of(api, token, kit), stock_of(api, token, kit), movements_of(api, token, kit))
    r = api.delete(f"{BASE}/purchases/{sold}", token=token)
    assert r.status == 409 and r.json["error"]["code"] == "purchase_stock_sold", r
    (detail,) = r.json["error"]["details"]
    assert (detail["field"], detail["to_stock"], detail["stock"]) == ("purchase_id", 2, 1)
    assert (line_of(api, token, kit), stock_of(api, token, kit), movements_of(api, token, kit)) == before
    assert sum(m["delta"] for m in before[2]) == before[1] == 1


def test_units_sold_between_the_check_and_the_take_leave_the_purchase_on_its_line(api, token, monkeypatch):
    """The undo's stock take is conditional: sold after the undo read the stock, it takes
    nothing, the purchase goes back on its line as it was, and the answer is the 409; a
    stock no longer tracked when a purchase's extras arrive keeps them on the line."""
    from chalicelib.catalog import items

    amy, _, _ = buyers(api, token)
    kit = make_item(api, token, item_name="Kit Kat 抹茶", price=150, stock=1)
    r = api.post(f"{BASE}/purchases", {"item_id": kit["id"], "quantity": 2}, token=token)
    assert r.status == 201 and r.json["line"]["to_stock"] == 2, r
    pid = r.json["purchase_id"]
    before = (line_of(api, token, kit), stock_of(api, token, kit), movements_of(api, token, kit))
    take = items.take_back_purchase

    def sold_first(seller_id, item_id, *args, **kwargs):
        make_order(api, token, customer_id=amy["id"], item_id=kit["id"], quantity=2, batch="2026-11 首爾")
        return take(seller_id, item_id, *args, **kwargs)

    monkeypatch.setattr(items, "take_back_purchase", sold_first)
    r = api.delete(f"{BASE}/purchases/{pid}", token=token)
    assert r.status == 409 and r.json["error"]["code"] == "purchase_stock_sold", r
    assert r.json["error"]["details"][0]["stock"] == 1
    assert line_of(api, token, kit) == before[0]  # the purchase back, as it was
    assert stock_of(api, token, kit) == 1 and len(movements_of(api, token, kit)) == len(before[2]) + 1
    assert sum(m["delta"] for m in movements_of(api, token, kit)) == 1

    monkeypatch.setattr(items, "receive_purchase", lambda *a, **k: False)  # untracked meanwhile
    r = api.post(f"{BASE}/purchases", {"item_id": kit["id"], "quantity": 3}, token=token)
    assert r.status == 201, r
    line = r.json["line"]
    assert (line["bought"], line["to_stock"], line["extra"], line["purchases"][-1]["to_stock"]) == (
        5,
        2,
        3,
        0,
    )
    assert stock_of(api, token, kit) == 1


def test_a_shortage_keeps_the_first_ordered_and_cancels_the_rest_with_credit(api, token, ses):
    amy, bo, cy = buyers(api, token)
    tee = make_item(api, token, item_name="UNIQLO T恤", price=390)
    a = make_order(api, token, customer_id=amy["id"], item_id=tee["id"], quantity=1, batch=BATCH)
    b = make_order(api, token, customer_id=bo["id"], item_id=tee["id"], quantity=1, batch=BATCH)
    c = make_order(api, token, customer_id=cy["id"], item_id=tee["id"], quantity=1, batch=BATCH)
    make_payment(api, token, bo["id"], 390)  # Bo (LINE only) paid
    make_payment(api, token, cy["id"], 390)
    r = api.post(f"{BASE}/purchases", {"item_id": tee["id"], "quantity": 1}, token=token)
    assert r.status == 201 and r.json["purchased"] == [] and r.json["line"]["short"] == 2, r

    key = {"Idempotency-Key": "shortage-1"}
    body = {"item_id": tee["id"], "keep": "first_ordered"}
    r = api.post(f"{BASE}/shortages", body, token=token, headers=key)
    assert r.status == 201, r
    assert [k["order_id"] for k in r.json["kept"]] == [a["id"]]
    gone = {x["buyer_name"]: x for x in r.json["cancelled"]}
    assert set(gone) == {"Bo", "Cy"} and r.json["credit"] == 780 and r.json["failed"] == []
    assert (gone["Bo"]["credit"], gone["Bo"]["emailed"], gone["Cy"]["emailed"]) == (390, False, True)
    # Bo has no email: his LINE text, as a batch notice's (his link on its own line).
    text = gone["Bo"]["line_text"]
    assert text.startswith("Bo 您好：") and f"#{b['order_no']} 已取消" in text and "UNIQLO T恤" in text, text
    assert "已付的 NT$390 已轉為您的購物金。" in text and "Amy" not in text, text
    link = api.get(f"/customers/{bo['id']}/tracking-link", token=token).json["url"]
    assert f"\n{link}\n" in text
    assert (status_of(a), status_of(b), status_of(c)) == ("purchased", "cancelled", "cancelled")
    assert api.get(f"/customers/{bo['id']}", token=token).json["credit"] == 390
    credit = check_ledger()
    assert credit[ObjectId(bo["id"])] == 39000 and credit[ObjectId(cy["id"])] == 39000
    told = [m for m in ses if "沒買到" in m.subject]
    assert [m.destinations["ToAddresses"] for m in told] == [["cy@example.com"]]  # Bo: by LINE
    assert "NT$390" in told[0].body and "UNIQLO T恤" in told[0].body
    line = line_of(api, token, tee)
    assert (line["wanted"], line["bought"], line["short"], line["pending"]) == (1, 1, 0, [])

    again = api.post(f"{BASE}/shortages", body, token=token, headers=key)
    assert again.status == 200 and again.json["cancelled"] == r.json["cancelled"], again
    assert again.json["kept"] == r.json["kept"] and again.json["id"] == r.json["id"]
    assert len([m for m in ses if "沒買到" in m.subject]) == 1
    # The event delivered again (a retried handler) tells nobody twice.
    event = shopping.ShortageCancelled(
        resolution_id=ObjectId(r.json["id"]),
        batch=BATCH,
        order_ids=(ObjectId(b["id"]), ObjectId(c["id"])),
        paid=((ObjectId(b["id"]), 39000), (ObjectId(c["id"]), 39000)),
    )
    assert notifications.shortage_cancelled(event) == 0
    assert len([m for m in ses if "沒買到" in m.subject]) == 1
    assert check_ledger()[ObjectId(bo["id"])] == 39000


def test_the_seller_picks_who_is_kept_and_too_many_is_refused(api, token):
    amy, bo, cy = buyers(api, token)
    tee = make_item(api, token, item_name="UNIQLO T恤", price=390, stock=10)
    a = make_order(api, token, customer_id=amy["id"], item_id=tee["id"], quantity=2, batch=BATCH)
    b = make_order(api, token, customer_id=bo["id"], item_id=tee["id"], quantity=1, batch=BATCH)
    assert api.post(f"{BASE}/purchases", {"item_id": tee["id"], "quantity": 2}, token=token).status == 201

    r = api.post(f"{BASE}/shortages", {"item_id": tee["id"], "keep": [a["id"], b["id"]]}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "shortage_exceeds_bought", r
    (detail,) = r.json["error"]["details"]
    assert (detail["field"], detail["needed"], detail["free"]) == ("keep", 3, 2)
    assert api.get(f"/items/{tee['id']}", token=token).json["stock"] == 7
    assert (status_of(a), status_of(b)) == ("pending", "pending")  # nothing written
    assert db.get_db().purchases.find_one({"kind": "line"})["free"] == 2

    r = api.post(f"{BASE}/shortages", {"item_id": tee["id"], "keep": [b["id"]]}, token=token)
    assert r.status == 201, r
    assert [k["buyer_name"] for k in r.json["kept"]] == ["Bo"]
    assert [k["buyer_name"] for k in r.json["cancelled"]] == ["Amy"] and r.json["credit"] == 0
    assert (status_of(a), status_of(b)) == ("cancelled", "purchased")
    assert api.get(f"/items/{tee['id']}", token=token).json["stock"] == 9  # Amy's 2 came back, once
    # One bought unit left over: the list says so.
    line = line_of(api, token, tee)
    assert (line["wanted"], line["bought"], line["extra"]) == (1, 2, 1)


def test_bad_input_names_the_field_and_writes_nothing(api, token, other_token):
    amy, bo, cy = buyers(api, token)
    tee = make_item(api, token, item_name="UNIQLO T恤", price=390)
    o = make_order(api, token, customer_id=amy["id"], item_id=tee["id"], quantity=2, batch=BATCH)
    cases = [
        ({"item_id": tee["id"], "quantity": 0}, "quantity"),
        ({"item_id": tee["id"], "quantity": "兩"}, "quantity"),
        ({"item_id": tee["id"], "quantity": 1, "unit_cost": -3}, "unit_cost"),
        ({"item_id": tee["id"], "quantity": 1, "unit_cost": "1.234", "cost_currency": "JPY"}, "unit_cost"),
        ({"item_id": "nope", "quantity": 1}, "item_id"),
    ]
    for body, field in cases:
        r = api.post(f"{BASE}/purchases", body, token=token)
        assert r.status == 400, (body, r)
        assert field in [d["field"] for d in r.json["error"]["details"]], (body, r.json)
    r = api.post(f"{BASE}/purchases", {"item_id": tee["id"], "quantity": 1}, token=other_token)
    assert r.status == 404  # another seller's item
    r = api.post(f"{BASE}/shortages", {"item_id": tee["id"], "keep": [str(ObjectId())]}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["code"] == "not_in_line", r
    r = api.post(f"{BASE}/shortages", {"item_id": tee["id"], "keep": "everyone"}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "keep", r
    assert db.get_db().purchases.count_documents({}) == 0 and status_of(o) == "pending"
    assert api.get(f"{BASE}/shopping-list", token=other_token).json["lines"] == []


def test_a_purchase_or_shortage_names_a_variant_of_its_item(api, token):
    """A line of an item with variants is one variant: a purchase or a shortage without one is
    400 variant_required, with one the item lacks 400 on variant_id, and nothing is written."""
    amy, _, _ = buyers(api, token)
    tee, vids = tee_item(api, token)
    plain = make_item(api, token, item_name="Kit Kat 抹茶", price=150)
    make_order(api, token, customer_id=amy["id"], item_id=tee["id"], variant_id=vids["紅 / M"], batch=BATCH)
    for path, extra in (("purchases", {"quantity": 1}), ("shortages", {"keep": "first_ordered"})):
        for body, code, field in (
            ({"item_id": tee["id"]}, "variant_required", "variant_id"),
            ({"item_id": tee["id"], "variant_id": "nope"}, "validation_error", "variant_id"),
            ({"item_id": plain["id"], "variant_id": vids["紅 / M"]}, "validation_error", "variant_id"),
        ):
            r = api.post(f"{BASE}/{path}", {**body, **extra}, token=token)
            assert r.status == 400 and r.json["error"]["code"] == code, (path, body, r)
            assert field in [d["field"] for d in r.json["error"]["details"]], r
    assert db.get_db().purchases.count_documents({}) == 0
    # The variant's id as the page sends it back (any case) is the same line.
    r = api.post(
        f"{BASE}/purchases",
        {"item_id": tee["id"], "variant_id": vids["紅 / M"].upper(), "quantity": 1},
        token=token,
    )
    assert r.status == 201 and r.json["line"]["variant_id"] == vids["紅 / M"], r


def test_a_closed_batch_takes_no_purchase(api, token):
    amy, bo, cy = buyers(api, token)
    tee = make_item(api, token, item_name="UNIQLO T恤", price=390)
    make_order(api, token, customer_id=amy["id"], item_id=tee["id"], quantity=1, batch=BATCH)
    assert api.patch(BASE, {"closed": True}, token=token).status == 200
    r = api.post(f"{BASE}/purchases", {"item_id": tee["id"], "quantity": 1}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "batch_closed", r
    assert db.get_db().purchases.count_documents({}) == 0
