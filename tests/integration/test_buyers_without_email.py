"""Who a buyer is (issue 25, contract third part "Buyers"): a name and at least one of
email, phone, LINE ID; phones stored in E.164 and found in any format; POST /orders with
a new `buyer`; and every path that used to assume an email, with a buyer who has none.
On every lane (the `api` fixture)."""

from __future__ import annotations

import csv
import io

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect

from chalicelib.platform import db
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn
from tests.factories import make_customer, make_item, make_order, make_principal

LIN = {"name": "林志明", "phone": "0912-345-678"}


def stored():
    d = db.get_db()
    return {
        "customers": sorted((c["name"], str(c["_id"])) for c in d.customers.find()),
        "orders": d.orders.count_documents({}),
        "counter": [c.get("seq") for c in d.counters.find()],
        "stock": sorted((i["item_name"], i.get("stock")) for i in d.items.find()),
    }


def detail(r):
    (d,) = r.json["error"]["details"]
    return r.json["error"]["code"], d["field"], d["code"]


def ids(api, token, query):
    r = api.get(f"/customers?{query}", token=token)
    assert r.status == 200, r
    return [c["id"] for c in r.json["items"]]


def test_a_line_only_buyer(api, token):
    r = api.post("/customers", {"name": "Amy", "line_id": " ａｍｙ_Tokyo "}, token=token)
    assert r.status == 201, r
    assert (r.json["email"], r.json["phone"], r.json["line_id"]) == (None, None, "amy_Tokyo")
    assert ids(api, token, "q=AMY_TOKYO") == [r.json["id"]]  # LINE IDs match in any case
    doc = db.get_db().customers.find_one({"_id": ObjectId(r.json["id"])})
    assert doc["line_id_key"] == "amy_tokyo" and "email_key" not in doc


def test_a_phone_only_buyer_is_found_by_any_format_of_the_number(api, token):
    lin = make_customer(api, token, email=None, **LIN)
    other = make_customer(api, token, name="陳美玲", email=None, phone="0987 654 321")
    assert lin["phone"] == "+886912345678" and lin["email"] is None
    for q in ("0912-345-678", "%2B886%20912%20345%20678", "０９１２３４５６７８", "345-678", "0912345678"):
        assert ids(api, token, f"q={q}") == [lin["id"]], q
    assert ids(api, token, "q=0987-654") == [other["id"]]


def test_two_buyers_of_one_name_are_told_apart_by_their_contacts(api, token):
    by_phone = make_customer(api, token, email=None, **LIN)
    by_line = make_customer(api, token, name="林志明", email=None, line_id="lin.chiming")
    both = api.get("/customers?q=林志明", token=token).json["items"]
    contacts = {c["id"]: (c["phone"], c["line_id"]) for c in both}
    assert contacts == {by_phone["id"]: ("+886912345678", None), by_line["id"]: (None, "lin.chiming")}
    assert ids(api, token, "q=lin.chiming") == [by_line["id"]]


def test_a_buyer_needs_a_contact_on_post_and_keeps_one_on_patch(api, token):
    before = stored()
    for body in ({"name": "Amy"}, {"name": "Amy", "email": None, "phone": None, "line_id": None}):
        r = api.post("/customers", body, token=token)
        assert r.status == 400 and detail(r) == ("validation_error", "email", "contact_required"), r
    assert stored() == before

    c = make_customer(api, token, email="amy@example.com", phone="0912345678")
    r = api.patch(f"/customers/{c['id']}", {"email": None}, token=token)
    assert r.status == 200 and (r.json["email"], r.json["phone"]) == (None, "+886912345678")
    doc = db.get_db().customers.find_one({"_id": ObjectId(c["id"])})
    assert "email_key" not in doc and "email_lower" not in doc
    make_customer(api, token, name="Amy 2", email="AMY@example.com")  # the email is free again
    for body in (
        {"phone": None},
        {"phone": None, "line_id": None},
        {"email": None, "phone": None, "line_id": None},
    ):
        before = db.get_db().customers.find_one({"_id": ObjectId(c["id"])})
        r = api.patch(f"/customers/{c['id']}", body, token=token)
        assert r.status == 400 and detail(r) == ("validation_error", "email", "contact_required"), (body, r)
        assert db.get_db().customers.find_one({"_id": ObjectId(c["id"])}) == before
    # Swapping the last contact for another in one PATCH is fine.
    r = api.patch(f"/customers/{c['id']}", {"phone": None, "line_id": "amy88"}, token=token)
    assert r.status == 200 and (r.json["phone"], r.json["line_id"]) == (None, "amy88")
    assert api.patch(f"/customers/{ObjectId()}", {"phone": None}, token=token).status == 404


def test_a_phone_that_cannot_be_a_number_is_refused(api, token):
    before = stored()
    for phone in ("12", "call me", "0912-345-678-999-000"):
        r = api.post("/customers", {"name": "Amy", "phone": phone}, token=token)
        assert r.status == 400 and detail(r) == ("validation_error", "phone", "invalid_phone"), (phone, r)
    c = make_customer(api, token)
    r = api.patch(f"/customers/{c['id']}", {"phone": "12"}, token=token)
    assert r.status == 400 and detail(r) == ("validation_error", "phone", "invalid_phone")
    assert api.get(f"/customers/{c['id']}", token=token).json["phone"] is None
    assert len(stored()["customers"]) == len(before["customers"]) + 1


def test_an_email_stays_unique_case_insensitively_and_buyers_without_one_coexist(api, token):
    make_customer(api, token, name="Amy", email="amy@example.com")
    for _ in range(3):
        make_customer(api, token, name="林志明", email=None, phone="0912345678")  # a family may share one
    r = api.post("/customers", {"name": "Amy 2", "email": "AMY@Example.com"}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "duplicate_email"
    assert db.get_db().customers.count_documents({}) == 4


def test_an_order_for_a_new_buyer(api, token):
    body = {
        "buyer": {"name": "林志明", "line_id": "lin88"},
        "item_name": "Tea",
        "quantity": 1,
        "unit_price": 100,
    }
    r = api.post("/orders", body, token=token)
    assert r.status == 201, r
    assert (r.json["buyer_name"], r.json["buyer_email"]) == ("林志明", None)
    c = api.get(f"/customers/{r.json['customer_id']}", token=token).json
    assert (c["name"], c["email"], c["line_id"]) == ("林志明", None, "lin88")
    assert api.get(f"/orders/{r.json['id']}", token=token).json["buyer_email"] is None
    assert [o["id"] for o in api.get("/orders?q=林志明", token=token).json["items"]] == [r.json["id"]]
    # `buyer` always makes a new customer: the same name and LINE ID is someone else.
    again = api.post("/orders", body, token=token).json
    assert again["customer_id"] != r.json["customer_id"]
    # With an email of its own.
    r = api.post("/orders", {**body, "buyer": {"name": "Amy", "email": "amy@example.com"}}, token=token)
    assert r.status == 201 and r.json["buyer_email"] == "amy@example.com"


def test_an_order_names_exactly_one_buyer_and_a_refused_one_writes_nothing(api, token):
    c = make_customer(api, token, email="taken@example.com")
    item = make_item(api, token, stock=5)
    line = {"item_id": item["id"], "quantity": 2}
    buyer = {"name": "林志明", "phone": "0912345678"}
    before = stored()
    for who in (
        {},
        {"customer_id": c["id"], "buyer": buyer},
        {"buyer_email": "b@example.com", "buyer": buyer},
        {"customer_id": c["id"], "buyer_email": "b@example.com"},
    ):
        r = api.post("/orders", {**who, **line}, token=token)
        assert r.status == 400 and detail(r) == ("validation_error", "customer_id", "exactly_one_of"), (
            who,
            r,
        )
    r = api.post("/orders", {"buyer": {"name": "林志明"}, **line}, token=token)
    assert r.status == 400 and detail(r) == ("validation_error", "buyer.email", "contact_required")
    r = api.post("/orders", {"buyer": {"name": "林志明", "phone": "12"}, **line}, token=token)
    assert r.status == 400 and detail(r) == ("validation_error", "buyer.phone", "invalid_phone")
    r = api.post("/orders", {"buyer": {"name": "Amy", "email": "TAKEN@example.com"}, **line}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "duplicate_email"
    assert stored() == before  # the stock the 409 took is back; no customer, no order


def test_a_retried_order_for_a_new_buyer_makes_one_customer(api, monkeypatch):
    """The first try creates the customer, then fails (the database goes away); the retry
    with the same Idempotency-Key finds that customer instead of making a second."""
    who = make_principal(api)
    data = OrderIn(buyer={"name": "林志明", "line_id": "lin88"}, item_name="Tea", quantity=1, unit_price=100)
    real = orders.reserve_order_numbers
    failures = [AutoReconnect("connection lost")]

    def flaky(*args, **kwargs):
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(orders, "reserve_order_numbers", flaky)
    with pytest.raises(AutoReconnect):
        orders.create(who, data, "order-1")
    first, created = orders.create(who, data, "order-1")
    again, created_again = orders.create(who, data, "order-1")
    assert (created, created_again) == (True, False) and again["id"] == first["id"]
    made = list(db.get_db().customers.find({"seller_id": ObjectId(who.seller_id)}))
    assert [str(c["_id"]) for c in made] == [first["customer_id"]]
    # Without a key, each order is its own new buyer.
    assert orders.create(who, data)[0]["customer_id"] != first["customer_id"]


def test_customers_sorted_by_name_page_by_cursor(api, token):
    for name in ("Chen", "Amy", "林志明", "Bob", "林志明", "Amy"):
        make_customer(api, token, name=name, email=None, line_id=f"id-{ObjectId()}")
    seen, cursor = [], None
    while True:
        r = api.get("/customers?sort=name&limit=2" + (f"&cursor={cursor}" if cursor else ""), token=token)
        assert r.status == 200, r
        seen += [(c["name"], c["id"]) for c in r.json["items"]]
        cursor = r.json["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == 6 == len(set(seen))
    # A cursor belongs to its sort.
    first = api.get("/customers?sort=name&limit=2", token=token).json["next_cursor"]
    newest = api.get("/customers?limit=2", token=token).json["next_cursor"]
    for query in (f"cursor={first}", f"sort=name&cursor={newest}"):
        r = api.get(f"/customers?limit=2&{query}", token=token)
        assert r.status == 400 and r.json["error"]["code"] == "invalid_cursor", query
    assert api.get("/customers?sort=phone", token=token).status == 400


def test_a_buyer_without_email_gets_no_email_and_nothing_breaks(api, token, ses):
    """A parcel shipped and a payment confirmed for a LINE-only buyer: no mail to None,
    and "email me my link" with any address finds nobody."""
    c = make_customer(api, token, email=None, name="林志明", line_id="lin88")
    placed = [make_order(api, token, customer_id=c["id"], unit_price=300) for _ in range(2)]
    body = {"customer_id": c["id"], "order_ids": [o["id"] for o in placed], "method": "home"}
    assert api.post("/parcels", body, token=token).status == 201
    r = api.post("/payments", {"customer_id": c["id"], "amount": 600, "method": "cash"}, token=token)
    assert r.status == 201 and r.json["status"] == "confirmed"
    r = api.post("/track/request-link", {"shop_slug": "tokyo-picks", "email": "lin88@example.com"})
    assert r.status == 202
    assert ses == []
    assert [row["email"] for row in api.get("/reports/buyers", token=token).json["rows"]] == [None]


def test_an_export_of_a_buyer_without_email_has_an_empty_cell(api, token):
    make_order(api, token, buyer_email=None, buyer={"name": "林志明", "phone": "0912345678"})
    (row,) = csv.DictReader(
        io.StringIO(api.get("/export/orders?headers=en", token=token).body.decode("utf-8-sig"))
    )
    assert (row["buyer_email"], row["buyer_name"]) == ("", "林志明")
    (item,) = api.get("/export/orders?format=json", token=token).json["items"]
    assert item["buyer_email"] is None


def test_removing_a_buyers_email_clears_the_copies_on_their_orders(api, token):
    c = make_customer(api, token, email="amy@example.com", line_id="amy88")
    o = make_order(api, token, customer_id=c["id"])
    assert api.patch(f"/orders/{o['id']}", {"fulfillment_status": "purchased"}, token=token).status == 200
    assert api.patch(f"/customers/{c['id']}", {"email": None}, token=token).status == 200
    assert api.get(f"/orders/{o['id']}", token=token).json["buyer_email"] is None
    (ready,) = api.get("/parcels/ready", token=token).json["buyers"]
    assert (ready["name"], ready["email"]) == ("Amy", None)
    assert [x["id"] for x in api.get("/orders?q=amy@example.com", token=token).json["items"]] == []
