"""Order forms on every backend: the seller's forms and links, the public form, and
buyers ordering through it (all lines or none, limits per email, the rate limit,
Idempotency-Key, closing), with nothing of one buyer reaching another."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.platform.key_index import COLLECTIONS as KEY_INDEX
from chalicelib.sales import forms
from chalicelib.tracking import tracking
from tests.factories import make_customer, make_item, make_order


@pytest.fixture(autouse=True)
def no_floor(monkeypatch):
    monkeypatch.setattr(tracking, "REQUEST_FLOOR_SECONDS", 0.0)


@pytest.fixture
def shop(api):
    """A seller with two items (one with 5 in stock, limit 3 a buyer) and a form."""
    t = api.signup()
    pocky = make_item(api, t, item_name="Pocky", price=100, stock=5, cost=150, cost_currency="JPY")
    kit = make_item(api, t, item_name="KitKat", price=50)
    body = {
        "batch": "2026-12 東京",
        "title": "Tokyo group buy",
        "description": "Closes Friday",
        "items": [{"item_id": pocky["id"], "max_per_buyer": 3}, {"item_id": kit["id"]}],
        "ask_phone": True,
    }
    r = api.post("/forms", body, token=t)
    assert r.status == 201, r.json
    return {"t": t, "pocky": pocky, "kit": kit, "form": r.json, "token": r.json["url"].split("#")[1]}


def submit(api, shop, key=None, token=None, **body):
    body = {
        "name": "Amy",
        "email": "amy@example.com",
        "phone": "0912-345-678",
        "lines": [{"item_id": shop["pocky"]["id"], "quantity": 1}],
        **body,
    }
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(f"/f/{token or shop['token']}/orders", body, headers=headers)


def test_seller_makes_a_form_and_the_link_shows_it(api, shop):
    form = shop["form"]
    assert form["url"].startswith("https://shop.example.test/form.html#") and len(shop["token"]) == 43
    assert [(i["item_name"], i["price"], i["remaining"], i["max_per_buyer"]) for i in form["items"]] == [
        ("Pocky", 100, 5, 3),
        ("KitKat", 50, None, None),
    ]
    public = api.get(f"/f/{shop['token']}")
    assert public.status == 200
    assert public.json["title"] == "Tokyo group buy" and public.json["shop_name"] == "Tokyo Picks"
    assert public.json["ask_phone"] is True and public.json["ask_address"] is False
    assert (
        public.headers["cache-control"] == "no-store" and public.headers["referrer-policy"] == "no-referrer"
    )
    # The token is stored hashed only; later reads show the same link (recomputed: see
    # test_stable_links.py).
    from chalicelib.platform import db

    stored = db.get_db().forms.find_one()
    assert shop["token"] not in str(stored) and stored["token_hash"] == forms.hash_token(shop["token"])
    assert api.get(f"/forms/{form['id']}", token=shop["t"]).json["url"] == form["url"]
    assert api.get("/f/" + "x" * 43).status == 404


def test_buyer_orders_two_lines_and_lands_on_their_own_tracking_page(api, shop):
    r = submit(
        api,
        shop,
        key="k1",
        lines=[
            {"item_id": shop["pocky"]["id"], "quantity": 2},
            {"item_id": shop["kit"]["id"], "quantity": 3},
        ],
        note="gift wrap",
    )
    assert r.status == 201, r.json
    assert r.json["order_nos"] == [1001, 1002] and r.json["total_amount"] == 350
    page = api.get("/track/" + r.json["tracking_url"].split("#")[1]).json
    assert sorted(o["order_no"] for o in page["orders"]) == [1001, 1002]

    made = api.get(f"/orders?form_id={shop['form']['id']}", token=shop["t"]).json["items"]
    assert {
        (o["item_name"], o["quantity"], o["source"], o["form_title"], o["batch"], o["note"]) for o in made
    } == {
        ("Pocky", 2, "form", "Tokyo group buy", "2026-12 東京", "gift wrap"),
        ("KitKat", 3, "form", "Tokyo group buy", "2026-12 東京", "gift wrap"),
    }
    pocky = next(o for o in made if o["item_name"] == "Pocky")
    assert (pocky["cost"], pocky["cost_currency"]) == (150, "JPY")  # the item's cost, as POST /orders
    assert api.get(f"/items/{shop['pocky']['id']}", token=shop["t"]).json["stock"] == 3
    customers = api.get("/customers", token=shop["t"]).json["items"]
    assert [(c["name"], c["email"], c["phone"]) for c in customers] == [
        ("Amy", "amy@example.com", "+886912345678")  # stored in E.164 (contacts.normalize_phone)
    ]
    listed = api.get("/forms", token=shop["t"]).json["items"][0]
    assert (listed["submission_count"], listed["order_count"]) == (1, 2)
    # Seller-made orders say so.
    mine = api.post(
        "/orders",
        {"buyer_email": "b@example.com", "item_name": "X", "quantity": 1, "unit_price": 1},
        token=shop["t"],
    )
    assert mine.json["source"] == "seller" and mine.json["form_id"] is None


def test_a_double_tap_makes_one_submission(api, shop):
    first = submit(api, shop, key="tap-1")
    again = submit(api, shop, key="tap-1")
    assert (first.status, again.status) == (201, 200)
    assert first.json["order_nos"] == again.json["order_nos"]
    assert len(api.get("/orders", token=shop["t"]).json["items"]) == 1
    assert api.get(f"/items/{shop['pocky']['id']}", token=shop["t"]).json["stock"] == 4


def test_stock_for_all_lines_or_none_with_the_line_named(api, shop):
    r = submit(
        api,
        shop,
        lines=[
            {"item_id": shop["kit"]["id"], "quantity": 1},
            {"item_id": shop["pocky"]["id"], "quantity": 3},
        ],
        email="zed@example.com",
    )
    assert r.status == 201
    short = submit(
        api,
        shop,
        lines=[
            {"item_id": shop["kit"]["id"], "quantity": 2},
            {"item_id": shop["pocky"]["id"], "quantity": 3},
        ],
    )
    assert short.status == 409 and short.json["error"]["code"] == "insufficient_stock"
    (detail,) = short.json["error"]["details"]
    assert (detail["field"], detail["item_name"], detail["needed"], detail["in_stock"]) == (
        "lines[1].quantity",
        "Pocky",
        3,
        2,
    )
    assert len(api.get("/orders", token=shop["t"]).json["items"]) == 2  # nothing of the refused one
    assert api.get(f"/items/{shop['pocky']['id']}", token=shop["t"]).json["stock"] == 2
    # The refused buyer's limit was given back: they can still take 2 (of 3) now.
    assert submit(api, shop, lines=[{"item_id": shop["pocky"]["id"], "quantity": 2}]).status == 201


def test_limit_per_buyer_counts_every_submission_of_one_email(api, shop):
    assert submit(api, shop, lines=[{"item_id": shop["pocky"]["id"], "quantity": 2}]).status == 201
    over = submit(api, shop, email="AMY@example.com", lines=[{"item_id": shop["pocky"]["id"], "quantity": 2}])
    assert over.status == 409 and over.json["error"]["code"] == "over_limit"
    (detail,) = over.json["error"]["details"]
    assert (detail["field"], detail["max_per_buyer"], detail["already"]) == ("lines[0].quantity", 3, 2)
    assert submit(api, shop, lines=[{"item_id": shop["pocky"]["id"], "quantity": 1}]).status == 201
    too_many = submit(
        api, shop, email="new@example.com", lines=[{"item_id": shop["pocky"]["id"], "quantity": 4}]
    )
    assert too_many.status == 409 and too_many.json["error"]["code"] == "over_limit"
    # Unlimited items have no limit; other buyers have their own.
    assert submit(api, shop, lines=[{"item_id": shop["kit"]["id"], "quantity": 50}]).status == 201
    assert (
        submit(
            api, shop, email="bo@example.com", lines=[{"item_id": shop["pocky"]["id"], "quantity": 2}]
        ).status
        == 201
    )


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"phone": None}, "phone", "required_by_form"),
        ({"phone": "  "}, "phone", "required_by_form"),
        ({"lines": []}, "lines", "too_short"),
        ({"lines": [{"item_id": "0" * 24, "quantity": 1}]}, "lines[0].item_id", "not_in_form"),
        ({"lines": [{"item_id": "ITEM", "quantity": 0}]}, "lines.0.quantity", "greater_than_equal"),
        ({"email": "not-an-email"}, "email", "invalid_email"),
        ({"name": "<script>" * 40}, "name", "string_too_long"),
        ({"extra": 1}, "extra", "unknown_field"),
        (
            {"lines": [{"item_id": "ITEM", "quantity": 1}, {"item_id": "ITEM", "quantity": 2}]},
            "lines",
            "duplicate_item",
        ),
    ],
)
def test_bad_submissions_are_400_and_write_nothing(api, shop, change, field, code):
    if "lines" in change:
        change = {
            "lines": [
                {**line, "item_id": line["item_id"].replace("ITEM", shop["pocky"]["id"])}
                for line in change["lines"]
            ]
        }
    r = submit(api, shop, **change)
    assert r.status == 400, r.json
    assert [(d["field"], d["code"]) for d in r.json["error"]["details"]][:1] == [(field, code)], r.json
    assert api.get("/orders", token=shop["t"]).json["items"] == []
    assert api.get("/customers", token=shop["t"]).json["items"] == []


def test_closing_and_closes_at_stop_orders_at_once_and_a_new_link_retires_the_old(api, shop):
    fid = shop["form"]["id"]
    assert api.patch(f"/forms/{fid}", {"closed": True}, token=shop["t"]).json["closed"] is True
    for r in (api.get(f"/f/{shop['token']}"), submit(api, shop)):
        assert r.status == 410 and r.json["error"]["code"] == "form_closed"
    api.patch(f"/forms/{fid}", {"closed": False}, token=shop["t"])
    assert submit(api, shop).status == 201

    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    assert api.patch(f"/forms/{fid}", {"closes_at": past}, token=shop["t"]).status == 200
    assert submit(api, shop, email="late@example.com").status == 410
    api.patch(f"/forms/{fid}", {"closes_at": None}, token=shop["t"])

    new = api.post(f"/forms/{fid}/link", token=shop["t"]).json["url"].split("#")[1]
    assert api.get(f"/f/{shop['token']}").status == 404
    assert submit(api, shop).status == 404
    assert submit(api, shop, token=new, email="new@example.com").status == 201


def test_a_closed_batch_closes_its_forms_and_takes_no_new_form(api, shop):
    from urllib.parse import quote

    api.patch(f"/batches/{quote('2026-12 東京')}", {"closed": True}, token=shop["t"])
    r = submit(api, shop)
    assert r.status == 410 and r.json["error"]["code"] == "form_closed"
    again = api.post(
        "/forms",
        {"batch": "2026-12 東京", "title": "x", "items": [{"item_id": shop["kit"]["id"]}]},
        token=shop["t"],
    )
    assert again.status == 409 and again.json["error"]["code"] == "batch_closed"


def test_ten_submissions_an_hour_per_client_address(api, shop):
    for n in range(10):
        assert (
            submit(
                api, shop, email=f"b{n}@example.com", lines=[{"item_id": shop["kit"]["id"], "quantity": 1}]
            ).status
            == 201
        )
    r = submit(api, shop, email="b10@example.com", lines=[{"item_id": shop["kit"]["id"], "quantity": 1}])
    assert r.status == 429 and r.json["error"]["code"] == "rate_limited"
    assert len(api.get("/orders?limit=50", token=shop["t"]).json["items"]) == 10


def test_a_form_never_shows_another_buyer_or_another_sellers_items(api, shop):
    assert submit(api, shop, email="first@example.com", name="First Buyer", note="secret note").status == 201
    public = api.get(f"/f/{shop['token']}").body.decode()
    for secret in ("First Buyer", "first@example.com", "secret note", "0912"):
        assert secret not in public
    second = submit(api, shop, email="second@example.com").json
    page = api.get("/track/" + second["tracking_url"].split("#")[1]).body.decode()
    assert "First Buyer" not in page and "secret note" not in page
    # Another seller cannot put this seller's items on a form.
    other = api.signup()
    r = api.post(
        "/forms", {"batch": "B", "title": "t", "items": [{"item_id": shop["pocky"]["id"]}]}, token=other
    )
    assert r.status == 404 and r.json["error"]["details"][0]["field"] == "items[0].item_id"


def test_form_edit_and_validation(api, shop):
    fid, t = shop["form"]["id"], shop["t"]
    r = api.patch(
        f"/forms/{fid}",
        {"title": "New title", "items": [{"item_id": shop["kit"]["id"], "max_per_buyer": 1}]},
        token=t,
    )
    assert r.status == 200 and [i["item_name"] for i in r.json["items"]] == ["KitKat"]
    assert submit(api, shop).status == 400  # Pocky is no longer on the form
    for bad in ({}, {"title": None}, {"items": []}, {"closes_at": "tomorrow"}):
        assert api.patch(f"/forms/{fid}", bad, token=t).status == 400, bad
    assert (
        api.post(
            "/forms", {"batch": "", "title": "x", "items": [{"item_id": shop["kit"]["id"]}]}, token=t
        ).status
        == 400
    )
    assert api.get("/forms/" + "0" * 24, token=t).status == 404


def test_commands_of_one_three_line_submission(api, shop, commands, backend):
    """What one submission costs the database, named (docs/performance.md, "Order forms")."""
    if commands is None:
        pytest.skip("mongomock sends no wire commands to count")
    third = make_item(api, shop["t"], item_name="Hi-Chew", price=30, stock=9)
    api.patch(
        f"/forms/{shop['form']['id']}",
        {"items": [{"item_id": i["id"]} for i in (shop["pocky"], shop["kit"], third)]},
        token=shop["t"],
    )
    lines = [{"item_id": i["id"], "quantity": 1} for i in (shop["pocky"], shop["kit"], third)]
    assert submit(api, shop, key="warm-up", email="w@example.com", lines=lines[1:2]).status == 201
    commands.names.clear()
    commands.bodies.clear()
    assert submit(api, shop, key="count-me", lines=lines).status == 201
    # FerretDB runs each conditional update inside a lock (an insert and a delete of a
    # `locks` document: locks.py); without those, both servers get the same commands.
    locks = [n for n, b in zip(commands.names, commands.bodies, strict=True) if b.get(n) == "locks"]
    names = [  # and keeps the orders' key index there (key_index.py)
        n
        for n, b in zip(commands.names, commands.bodies, strict=True)
        if b.get(n) != "locks" and b.get(n) not in KEY_INDEX
    ]
    assert len(locks) == (8 if backend == "ferretdb" else 0), locks
    assert names == [
        "find",  # the form, by its token's hash
        "insert",  # the Idempotency-Key's claim
        "insert",  # the client address's rate limit: a slot...
        "aggregate",  # ...and the count of the last hour's
        "find",  # the lines' items (price, stock, cost)
        "find",  # the batch (closed? its rates)
        "findAndModify",  # the customer by email, with the limits per buyer
        "update",  # stock of Pocky (tracked)
        "insert",  # ...and its stock movement (issue 30)
        "update",  # stock of Hi-Chew (tracked; KitKat is not: no command)
        "insert",  # ...and its stock movement
        "findAndModify",  # three order numbers
        "insert",  # the three orders
        "find",  # the batch's rates version again (Pocky's yen cost used its rate)
        "insert",  # the buyer's tracking link
    ], names


def test_a_submission_never_changes_a_known_buyer_and_its_ship_to_stays_on_its_orders(api, shop):
    """Issue 23 item 2: a form once filled a known buyer's missing phone and address, so the
    next parcel packed with the default recipient went where the caller typed."""
    from chalicelib.platform import db

    t = shop["t"]
    amy = make_customer(api, t, email="amy@example.com", name="Amy Chen", phone="0911-000-000")
    typed = {"name": "Amy", "phone": "0933-333-333", "address": "高雄市前鎮區中山二路 1 號"}
    r = submit(api, shop, **typed)
    assert r.status == 201, r.json
    after = api.get(f"/customers/{amy['id']}", token=t).json
    assert (after["name"], after["phone"], after["address"]) == ("Amy Chen", "+886911000000", None)
    made = api.get(f"/orders?form_id={shop['form']['id']}", token=t).json["items"]
    assert [o["ship_to"] for o in made] == [typed]
    assert api.get(f"/orders/{made[0]['id']}", token=t).json["ship_to"] == typed
    # Only the fields given; an order the seller typed has none.
    assert submit(api, shop, name="Amy Chen", phone="0911-000-000", address="").status == 201
    firsts = api.get(f"/orders?form_id={shop['form']['id']}", token=t).json["items"]
    assert sorted((o["ship_to"] for o in firsts), key=len) == [
        {"name": "Amy Chen", "phone": "0911-000-000", "address": None},
        typed,
    ]
    mine = make_order(api, t, customer_id=amy["id"], item_name="X", quantity=1, unit_price=1)
    assert mine["ship_to"] is None

    # Packing without a recipient: the API does not guess between the two; nothing written.
    ids = [o["id"] for o in firsts]
    r = api.post("/parcels", {"customer_id": amy["id"], "order_ids": ids, "method": "home"}, token=t)
    assert (r.status, r.json["error"]["code"]) == (409, "ship_to_differs"), r.json
    (detail,) = r.json["error"]["details"]
    assert detail["field"] == "recipient" and detail["customer"] == {
        "name": "Amy Chen",
        "phone": "+886911000000",  # stored in E.164 (issue 25); ship_to keeps what was typed
        "address": None,
    }
    typed_no = next(o["order_no"] for o in firsts if o["ship_to"] == typed)
    assert detail["ship_to"] == [{**typed, "order_nos": [typed_no]}]
    assert db.get_db().parcels.count_documents({}) == 0
    assert {o["fulfillment_status"] for o in api.get("/orders", token=t).json["items"]} == {"pending"}
    # The Ship tab's list says which orders differ.
    for o in firsts:
        api.patch(f"/orders/{o['id']}", {"fulfillment_status": "purchased"}, token=t)
    (row,) = api.get("/parcels/ready", token=t).json["buyers"]
    assert {o["order_no"]: o["ship_to_differs"] for o in row["orders"]} == {
        typed_no: True,
        next(o["order_no"] for o in firsts if o["order_no"] != typed_no): False,
    }
    # The seller chooses: what was typed.
    r = api.post(
        "/parcels",
        {"customer_id": amy["id"], "order_ids": ids, "method": "home", "recipient": typed},
        token=t,
    )
    assert r.status == 201 and r.json["recipient"]["address"] == typed["address"], r.json


def test_a_new_buyer_is_created_with_what_they_typed_and_packs_without_a_question(api, shop):
    t = shop["t"]
    typed = {"name": "Bea", "email": "bea@example.com", "phone": "0922-111-222", "address": "台南市"}
    assert submit(api, shop, **typed).status == 201
    (bea,) = api.get("/customers", token=t).json["items"]
    assert (bea["name"], bea["phone"], bea["address"]) == ("Bea", "+886922111222", "台南市")
    (o,) = api.get("/orders", token=t).json["items"]
    r = api.post("/parcels", {"customer_id": bea["id"], "order_ids": [o["id"]], "method": "home"}, token=t)
    assert r.status == 201, r.json
    assert (r.json["recipient"]["name"], r.json["recipient"]["address"]) == ("Bea", "台南市")
