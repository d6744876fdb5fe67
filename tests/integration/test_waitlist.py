"""A sold-out form item's waitlist, on every backend: a buyer joins only a sold-out item
(409 `in_stock` otherwise); units that come back (a cancel, the seller's new stock) go to
the first waiting buyer as an order (`source: "waitlist"`), who is told (email where they
have one; a LINE-only buyer is listed for the seller); the seller skips someone; bad
input is a 400 naming the field and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.platform import db
from chalicelib.sales import closing, waitlist
from chalicelib.tracking import tracking
from tests.factories import make_item

SUBJECT = "補貨"  # the served notice's subject in the shop's language (繁體中文 by default)


@pytest.fixture(autouse=True)
def no_floor(monkeypatch):
    monkeypatch.setattr(tracking, "REQUEST_FLOOR_SECONDS", 0.0)


def make_shop(api, stock=2, contact="any", **form):
    t = api.signup()
    item = make_item(api, t, item_name="Pocky", price=100, stock=stock)
    r = api.post(
        "/forms",
        {"batch": "B", "title": "Tokyo", "items": [{"item_id": item["id"]}], "contact": contact, **form},
        token=t,
    )
    assert r.status == 201, r.json
    return {"t": t, "item": item, "form": r.json, "token": r.json["url"].split("#")[1]}


def buy(api, shop, quantity, email):
    body = {"name": "Buyer", "email": email, "lines": [{"item_id": shop["item"]["id"], "quantity": quantity}]}
    r = api.post(f"/f/{shop['token']}/orders", body)
    assert r.status == 201, r.json
    return r.json


def join(api, shop, quantity=1, **contact):
    body = {
        "name": contact.pop("name", "Amy"),
        "item_id": shop["item"]["id"],
        "quantity": quantity,
        **contact,
    }
    return api.post(f"/f/{shop['token']}/waitlist", body)


def queue(api, shop):
    r = api.get(f"/forms/{shop['form']['id']}/waitlist", token=shop["t"])
    assert r.status == 200, r.json
    return r.json["items"]


def order_of(order_no, api, shop):
    r = api.get("/orders", token=shop["t"])
    return next(o for o in r.json["items"] if o["order_no"] == order_no)


def test_an_item_in_stock_takes_no_waitlist(api):
    shop = make_shop(api, stock=2)
    r = join(api, shop, email="amy@example.com")
    assert r.status == 409 and r.json["error"]["code"] == "in_stock"
    assert db.get_db().waitlist.count_documents({}) == 0


def test_a_cancel_serves_the_first_waiting_buyer_who_is_emailed(api, ses):
    shop = make_shop(api, stock=2)
    first = buy(api, shop, 2, "zed@example.com")
    r = join(api, shop, email="amy@example.com")
    assert r.status == 201, r.json
    assert r.json["position"] == 1 and r.json["status"] == "waiting"
    r2 = join(api, shop, name="Bo", line_id="bo_line")
    assert r2.json["position"] == 2
    order = order_of(first["order_nos"][0], api, shop)
    r = api.patch(f"/orders/{order['id']}", {"fulfillment_status": "cancelled"}, token=shop["t"])
    assert r.status == 200, r.json
    rows = queue(api, shop)
    assert [(e["name"], e["status"]) for e in rows] == [("Amy", "served"), ("Bo", "served")]
    assert rows[0]["emailed"] is True and rows[1]["emailed"] is False  # Bo: the seller tells by LINE
    assert rows[1]["contact"] == "LINE bo_line"
    made = list(db.get_db().orders.find({"source": "waitlist"}))
    assert sorted(o["quantity"] for o in made) == [1, 1]
    assert db.get_db().items.find_one()["stock"] == 0
    assert (
        len([m for m in ses if SUBJECT in m.subject and "amy@example.com" in m.destinations["ToAddresses"]])
        == 1
    )


def test_new_stock_serves_in_order_whole_quantities_only(api):
    shop = make_shop(api, stock=1)
    buy(api, shop, 1, "zed@example.com")
    assert join(api, shop, 3, email="amy@example.com").status == 201
    assert join(api, shop, 1, email="bo@example.com").status == 201
    r = api.patch(f"/items/{shop['item']['id']}", {"stock": 2}, token=shop["t"])
    assert r.status == 200, r.json
    # Amy wants 3: the line stops at her (no overtaking), the 2 units stay in stock.
    assert [e["status"] for e in queue(api, shop)] == ["waiting", "waiting"]
    assert db.get_db().items.find_one()["stock"] == 2
    api.patch(f"/items/{shop['item']['id']}", {"stock": 4}, token=shop["t"])
    assert [e["status"] for e in queue(api, shop)] == ["served", "served"]
    assert db.get_db().items.find_one()["stock"] == 0


def test_extras_a_shopping_trip_puts_in_stock_serve_the_waitlist(api):
    """Issue 30: units bought beyond the line's orders go to the stock, and the first
    waiting buyer gets them as units coming back do (a `purchase` movement, then the
    waitlist's order)."""
    shop = make_shop(api, stock=1)
    buy(api, shop, 1, "zed@example.com")
    assert join(api, shop, 1, email="amy@example.com").status == 201
    r = api.post("/batches/B/purchases", {"item_id": shop["item"]["id"], "quantity": 2}, token=shop["t"])
    assert r.status == 201 and r.json["line"]["to_stock"] == 1, r.json
    assert [e["status"] for e in queue(api, shop)] == ["served"]
    assert db.get_db().items.find_one()["stock"] == 0
    moves = api.get(f"/items/{shop['item']['id']}/movements", token=shop["t"]).json["items"]
    got = [(m["delta"], m["reason"], m["by"], m["batch"]) for m in moves[:2]]
    assert got == [(-1, "order", "waitlist", None), (1, "purchase", "owner", "B")]


def test_the_seller_skips_a_buyer_and_the_next_is_served(api):
    shop = make_shop(api, stock=1)
    buy(api, shop, 1, "zed@example.com")
    amy = join(api, shop, email="amy@example.com").json
    join(api, shop, email="bo@example.com")
    r = api.delete(f"/forms/{shop['form']['id']}/waitlist/{amy['id']}", token=shop["t"])
    assert r.status == 204
    api.patch(f"/items/{shop['item']['id']}", {"stock": 1}, token=shop["t"])
    rows = queue(api, shop)
    assert [(e["name"], e["status"]) for e in rows] == [("Amy", "skipped"), ("Amy", "served")]
    served = db.get_db().orders.find_one({"source": "waitlist"})
    assert db.get_db().customers.find_one({"_id": served["customer_id"]})["email"] == "bo@example.com"
    r = api.delete(f"/forms/{shop['form']['id']}/waitlist/{rows[1]['id']}", token=shop["t"])
    assert r.status == 409 and r.json["error"]["code"] == "waitlist_served"


def test_another_seller_sees_no_queue(api):
    shop = make_shop(api, stock=0)
    other = api.signup()
    assert api.get(f"/forms/{shop['form']['id']}/waitlist", token=other).status == 404


@pytest.mark.parametrize(
    "change, field",
    [
        ({"quantity": 0}, "quantity"),
        ({"item_id": "0" * 24}, "item_id"),
        ({"email": None}, "email"),  # the form finds buyers by email: required
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(api, change, field):
    shop = make_shop(api, stock=0, contact="email")
    body = {"name": "Amy", "email": "amy@example.com", "item_id": shop["item"]["id"], "quantity": 1, **change}
    body = {k: v for k, v in body.items() if v is not None}
    r = api.post(f"/f/{shop['token']}/waitlist", body)
    assert r.status == 400, r.json
    assert field in [d["field"] for d in r.json["error"]["details"]]
    assert db.get_db().waitlist.count_documents({}) == 0


def test_a_closed_form_takes_no_waitlist(api):
    shop = make_shop(api, stock=0)
    api.patch(f"/forms/{shop['form']['id']}", {"closed": True}, token=shop["t"])
    r = join(api, shop, email="amy@example.com")
    assert r.status == 410 and r.json["error"]["code"] == "form_closed"


# --- items with variants: one line per variant ------------------------------------------


def variant_shop(api, black=0, white=0):
    """A shirt in 黑 (its own price 450, cost 150) and 白 (the item's 400), on a form."""
    t = api.signup()
    item = make_item(
        api,
        t,
        item_name="T恤",
        price=400,
        cost=100,
        options=[{"name": "顏色", "values": ["黑", "白"]}],
        variants=[
            {"values": ["黑"], "stock": black, "price": 450, "cost": 150},
            {"values": ["白"], "stock": white},
        ],
    )
    r = api.post(
        "/forms",
        {"batch": "B", "title": "Tokyo", "items": [{"item_id": item["id"]}], "contact": "any"},
        token=t,
    )
    assert r.status == 201, r.json
    shop = {"t": t, "item": item, "form": r.json, "token": r.json["url"].split("#")[1]}
    return shop, {v["label"]: v["id"] for v in item["variants"]}


def add_units(api, shop, variant_id, delta):
    r = api.post(
        f"/items/{shop['item']['id']}/adjustments",
        {"delta": delta, "variant_id": variant_id},
        token=shop["t"],
    )
    assert r.status == 201, r.json


def test_a_variant_item_waitlist_needs_a_sold_out_variant(api):
    shop, vid = variant_shop(api, black=0, white=2)
    r = join(api, shop, email="amy@example.com")
    assert r.status == 400 and r.json["error"]["code"] == "variant_required", r.json
    assert [d["field"] for d in r.json["error"]["details"]] == ["variant_id"]
    r = join(api, shop, email="amy@example.com", variant_id="0" * 24)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "variant_id", r.json
    r = join(api, shop, email="amy@example.com", variant_id=vid["白"])
    assert r.status == 409 and r.json["error"]["code"] == "in_stock"
    assert db.get_db().waitlist.count_documents({}) == 0
    r = join(api, shop, email="amy@example.com", variant_id=vid["黑"])
    assert r.status == 201 and r.json["position"] == 1, r.json
    (row,) = queue(api, shop)
    assert (row["variant_id"], row["variant_label"]) == (vid["黑"], "黑")


def test_units_of_a_variant_serve_only_its_own_line(api):
    shop, vid = variant_shop(api, black=0, white=0)
    assert join(api, shop, email="amy@example.com", variant_id=vid["黑"]).status == 201
    bo = join(api, shop, name="Bo", email="bo@example.com", variant_id=vid["白"])
    assert bo.status == 201 and bo.json["position"] == 1  # the first of 白's line
    add_units(api, shop, vid["白"], 1)  # 白 comes back: Bo, never Amy
    assert [(e["name"], e["status"]) for e in queue(api, shop)] == [("Amy", "waiting"), ("Bo", "served")]
    (made,) = db.get_db().orders.find({"source": "waitlist"})
    assert (made["variant_id"], made["variant_label"], made["unit_price"]) == (vid["白"], "白", 40000)
    stock = db.get_db().items.find_one()["variant_stock"]
    assert (stock[vid["黑"]], stock[vid["白"]]) == (0, 0)
    add_units(api, shop, vid["黑"], 1)  # 黑 comes back: Amy, at 黑's price and cost
    assert [e["status"] for e in queue(api, shop)] == ["served", "served"]
    amy = db.get_db().orders.find_one({"source": "waitlist", "variant_id": vid["黑"]})
    assert (amy["variant_label"], amy["unit_price"], amy["cost"]) == ("黑", 45000, 15000)
    assert db.get_db().items.find_one()["variant_stock"][vid["黑"]] == 0


def test_a_cancel_of_a_variant_order_serves_that_variants_line(api):
    shop, vid = variant_shop(api, black=1, white=0)
    body = {
        "name": "Zed",
        "email": "zed@example.com",
        "lines": [{"item_id": shop["item"]["id"], "variant_id": vid["黑"], "quantity": 1}],
    }
    r = api.post(f"/f/{shop['token']}/orders", body)
    assert r.status == 201, r.json
    join(api, shop, name="Bo", email="bo@example.com", variant_id=vid["白"])
    join(api, shop, email="amy@example.com", variant_id=vid["黑"])
    order = order_of(r.json["order_nos"][0], api, shop)
    r = api.patch(f"/orders/{order['id']}", {"fulfillment_status": "cancelled"}, token=shop["t"])
    assert r.status == 200, r.json
    assert [(e["name"], e["status"]) for e in queue(api, shop)] == [("Bo", "waiting"), ("Amy", "served")]
    assert db.get_db().orders.find_one({"source": "waitlist"})["variant_id"] == vid["黑"]


# --- the form's close ends the waitlist; reminders asked for on the waitlist

CLOSES = dt.datetime(2031, 3, 1, 12, 0, tzinfo=dt.UTC)
AFTER = CLOSES + dt.timedelta(minutes=1)
ENDED = "候補結束"  # the close notice's subject


def test_the_close_ends_waiting_entries_tells_each_once_and_later_units_stay_in_stock(api, ses):
    shop = make_shop(api, stock=1, closes_at=CLOSES.isoformat())
    first = buy(api, shop, 1, "zed@example.com")
    assert join(api, shop, email="amy@example.com").status == 201
    assert join(api, shop, name="Bo", line_id="bo_line").status == 201
    assert closing.close_due_forms(AFTER)["closed"] == 1
    rows = queue(api, shop)
    assert [(e["name"], e["status"], e["emailed"], e["position"]) for e in rows] == [
        ("Amy", "closed", True, None),
        ("Bo", "closed", False, None),  # no email: the seller tells him by LINE
    ]
    ended = [m for m in ses if ENDED in m.subject]
    assert [m.destinations["ToAddresses"] for m in ended] == [["amy@example.com"]]
    # Twice, and a replayed event: nobody is told twice.
    assert closing.close_due_forms(AFTER + dt.timedelta(minutes=5))["closed"] == 0
    from chalicelib.notifications import notifications

    ids = tuple(e["_id"] for e in db.get_db().waitlist.find())
    form_id = db.get_db().forms.find_one()["_id"]
    assert notifications.waitlist_closed(waitlist.WaitlistClosed(form_id, ids)) == 0
    assert len([m for m in ses if ENDED in m.subject]) == 1
    # A unit back after the close stays in stock: no order on a closed form.
    order = order_of(first["order_nos"][0], api, shop)
    r = api.patch(f"/orders/{order['id']}", {"fulfillment_status": "cancelled"}, token=shop["t"])
    assert r.status == 200, r.json
    assert db.get_db().orders.count_documents({"source": "waitlist"}) == 0
    assert db.get_db().items.find_one()["stock"] == 1
    assert [e["status"] for e in queue(api, shop)] == ["closed", "closed"]
    r = api.delete(f"/forms/{shop['form']['id']}/waitlist/{rows[0]['id']}", token=shop["t"])
    assert r.status == 409 and r.json["error"]["code"] == "waitlist_closed", r.json


def test_an_extended_close_keeps_the_line_waiting(api, ses):
    shop = make_shop(api, stock=1, closes_at=CLOSES.isoformat(), on_min_unmet="extend", extend_days=2)
    r = api.patch(
        f"/forms/{shop['form']['id']}",
        {"items": [{"item_id": shop["item"]["id"], "min_quantity": 5}]},
        token=shop["t"],
    )
    assert r.status == 200, r.json
    buy(api, shop, 1, "zed@example.com")
    assert join(api, shop, email="amy@example.com").status == 201
    assert closing.close_due_forms(AFTER)["extended"] == 1
    assert [e["status"] for e in queue(api, shop)] == ["waiting"]
    assert [m for m in ses if ENDED in m.subject] == []


def test_a_waitlist_buyer_who_asked_for_reminders_gets_the_payment_reminder(api, ses):
    shop = make_shop(api, stock=1, closes_at=CLOSES.isoformat())
    buy(api, shop, 1, "zed@example.com")
    assert join(api, shop, email="amy@example.com", remind=True).status == 201
    assert join(api, shop, name="Cy", email="cy@example.com").status == 201
    r = join(api, shop, name="Bo", line_id="bo_line", remind=True)  # LINE only: no email to remind by
    assert r.status == 400 and [d["field"] for d in r.json["error"]["details"]] == ["remind"], r.json
    api.patch(f"/items/{shop['item']['id']}", {"stock": 2}, token=shop["t"])
    assert [e["status"] for e in queue(api, shop)] == ["served", "served"]
    closing.close_due_forms(AFTER)
    closing.send_due_reminders(AFTER + closing.DUE_AFTER)
    due = [m.destinations["ToAddresses"] for m in ses if "待付款" in m.subject]
    assert due == [["amy@example.com"]]
