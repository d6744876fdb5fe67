"""Issue 25, forms for buyers without email: a form asks for an email, a phone, a LINE ID
or any one of them; the customer is found by that contact (or created once), limits per
buyer count per customer whichever contact found them, and a known customer is never
changed by what a submission says. On every backend."""

from __future__ import annotations

import datetime as dt

import pytest
from bson import ObjectId

from chalicelib.buyers.customers import customer_document
from chalicelib.platform import clock, db
from tests.factories import make_item


@pytest.fixture
def shop(api):
    """A seller with one item (limit 3 a buyer) and one form per contact mode."""
    t = api.signup()
    pocky = make_item(api, t, item_name="Pocky", price=100, stock=50)
    tokens = {}
    for mode in ("email", "phone", "line_id", "any"):
        body = {"batch": "B", "title": f"By {mode}", "items": [{"item_id": pocky["id"], "max_per_buyer": 3}]}
        if mode != "email":  # the default
            body["contact"] = mode
        r = api.post("/forms", body, token=t)
        assert r.status == 201, r.json
        assert r.json["contact"] == mode
        tokens[mode] = r.json["url"].split("#")[1]
    return {"t": t, "pocky": pocky, "tokens": tokens}


def submit(api, shop, mode, quantity=1, **contact):
    body = {"name": "林志明", "lines": [{"item_id": shop["pocky"]["id"], "quantity": quantity}], **contact}
    return api.post(f"/f/{shop['tokens'][mode]}/orders", body)


def make_customer(api, t, name, email=None, phone=None, line_id=None) -> dict:
    """A customer as the shop has them (stored directly: POST /customers takes buyers
    without email in another change), each one a second younger than the last."""
    seller_id = db.get_db().sellers.find_one()["_id"]
    n = db.get_db().customers.count_documents({})
    when = clock.now() - dt.timedelta(days=1) + dt.timedelta(seconds=n)
    doc = customer_document(seller_id, email, name, when, phone=phone, line_id=line_id)
    doc["_id"] = ObjectId()
    db.get_db().customers.insert_one(doc)
    return {"id": str(doc["_id"])}


def customers(api, shop):
    """The stored customers (read from the database: GET /customers lists buyers without
    email in another change)."""
    return [
        {"id": str(c["_id"]), **{k: c.get(k) for k in ("name", "email", "phone", "line_id", "address")}}
        for c in db.get_db().customers.find({}).sort("created_at", 1)
    ]


def test_a_form_says_which_contact_it_asks_for_and_the_seller_can_change_it(api, shop):
    t = shop["t"]
    for mode, token in shop["tokens"].items():
        assert api.get(f"/f/{token}").json["contact"] == mode
    listed = {f["title"]: f["contact"] for f in api.get("/forms", token=t).json["items"]}
    assert listed == {"By email": "email", "By phone": "phone", "By line_id": "line_id", "By any": "any"}
    fid = next(f["id"] for f in api.get("/forms", token=t).json["items"] if f["title"] == "By phone")
    r = api.patch(f"/forms/{fid}", {"contact": "line_id"}, token=t)
    assert r.status == 200 and r.json["contact"] == "line_id", r.json
    assert api.get(f"/f/{shop['tokens']['phone']}").json["contact"] == "line_id"
    # Bad values: 400 naming the field, nothing written.
    for bad in ("sms", None):
        r = api.patch(f"/forms/{fid}", {"contact": bad}, token=t)
        assert r.status == 400 and r.json["error"]["details"][0]["field"] == "contact", r.json
    assert api.get(f"/forms/{fid}", token=t).json["contact"] == "line_id"
    before = db.get_db().forms.count_documents({})
    body = {"batch": "B", "title": "X", "items": [{"item_id": shop["pocky"]["id"]}], "contact": "fax"}
    r = api.post("/forms", body, token=t)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "contact", r.json
    assert db.get_db().forms.count_documents({}) == before


def test_a_phone_form_finds_the_buyer_by_their_number_in_any_format_and_limits_count_per_customer(api, shop):
    r = submit(api, shop, "phone", quantity=2, phone="0912-345-678", address="台北市")
    assert r.status == 201, r.json
    (made,) = customers(api, shop)
    assert (made["name"], made["phone"], made["email"]) == ("林志明", "+886912345678", None)
    # The same number typed another way is the same buyer: their 2 units count.
    r = submit(api, shop, "phone", quantity=2, phone="+886 912 345 678")
    assert (r.status, r.json["error"]["code"]) == (409, "over_limit"), r.json
    assert r.json["error"]["details"][0]["already"] == 2
    r = submit(api, shop, "phone", quantity=1, phone="０９１２３４５６７８")  # full-width digits
    assert r.status == 201, r.json
    assert len(customers(api, shop)) == 1
    orders = api.get("/orders", token=shop["t"]).json["items"]
    assert {o["customer_id"] for o in orders} == {made["id"]} and sum(o["quantity"] for o in orders) == 3
    assert list(db.get_db().customers.find_one()["form_taken"].values()) == [3]


def test_a_line_form_finds_the_buyer_by_line_id_whatever_its_case(api, shop):
    assert submit(api, shop, "line_id", line_id="Amy_Lin", quantity=3).status == 201
    (made,) = customers(api, shop)
    assert (made["line_id"], made["email"], made["phone"]) == ("Amy_Lin", None, None)
    r = submit(api, shop, "line_id", line_id="amy_lin")
    assert (r.status, r.json["error"]["code"]) == (409, "over_limit"), r.json
    assert submit(api, shop, "line_id", line_id="bo.chen").status == 201
    assert sorted(c["line_id"] for c in customers(api, shop)) == ["Amy_Lin", "bo.chen"]


def test_the_oldest_customer_with_the_contact_wins_and_a_known_customer_is_never_changed(api, shop):
    t = shop["t"]
    older = make_customer(api, t, "Amy Chen", email="amy@example.com", phone="+886912345678")
    make_customer(api, t, "Amy again", phone="+886912345678")
    r = submit(api, shop, "phone", phone="0912 345 678", address="高雄市", email="other@example.com")
    assert r.status == 201, r.json
    (o,) = api.get("/orders", token=t).json["items"]
    assert o["customer_id"] == older["id"]
    assert o["ship_to"] == {"name": "林志明", "phone": "0912 345 678", "address": "高雄市"}  # as typed
    after = next(c for c in customers(api, shop) if c["id"] == older["id"])
    assert (after["name"], after["email"], after["address"], after["line_id"]) == (
        "Amy Chen",
        "amy@example.com",
        None,
        None,
    )
    assert len(customers(api, shop)) == 2  # the email a phone form does not ask made no one


def test_an_any_form_tries_email_then_phone_then_line_id(api, shop):
    t = shop["t"]
    by_email = make_customer(api, t, "Amy", email="amy@example.com")
    by_phone = make_customer(api, t, "Phone Amy", phone="+886912345678")
    by_line = make_customer(api, t, "LINE Amy", line_id="amy_tw")

    def buyer_of(**contact):
        r = submit(api, shop, "any", **contact)
        assert r.status == 201, r.json
        return db.get_db().orders.find_one({"order_no": r.json["order_nos"][0]})["customer_id"]

    assert str(buyer_of(email="AMY@example.com", phone="0912345678", line_id="amy_tw")) == by_email["id"]
    assert str(buyer_of(email="nobody@example.com", phone="0912345678", line_id="amy_tw")) == by_phone["id"]
    assert str(buyer_of(phone="0987654321", line_id="AMY_TW")) == by_line["id"]
    new = buyer_of(email="new@example.com", phone="0955-000-111", line_id="new_one")
    made = db.get_db().customers.find_one({"_id": new})
    assert (made["email"], made["phone"], made["line_id"]) == ("new@example.com", "+886955000111", "new_one")
    assert str(buyer_of(phone="0955000111")) == str(new)
    assert len(customers(api, shop)) == 4


@pytest.mark.parametrize(
    ("mode", "contact", "field", "code"),
    [
        ("phone", {}, "phone", "required_by_form"),
        ("phone", {"phone": "  ", "email": "a@example.com"}, "phone", "required_by_form"),
        ("phone", {"phone": "12"}, "phone", "invalid_phone"),
        ("phone", {"phone": "call me"}, "phone", "invalid_phone"),
        ("line_id", {"phone": "0912345678"}, "line_id", "required_by_form"),
        ("email", {"line_id": "amy_tw"}, "email", "required_by_form"),
        ("email", {"email": "a@example.com", "phone": "x"}, "phone", "invalid_phone"),
        ("any", {}, "email", "contact_required"),
        ("any", {"email": None, "phone": None, "line_id": None}, "email", "contact_required"),
        ("any", {"phone": "0"}, "phone", "invalid_phone"),
    ],
)
def test_a_submission_without_the_contact_the_form_asks_is_400_and_writes_nothing(
    api, shop, mode, contact, field, code
):
    r = submit(api, shop, mode, **contact)
    assert r.status == 400, r.json
    assert [(d["field"], d["code"]) for d in r.json["error"]["details"]][:1] == [(field, code)], r.json
    assert db.get_db().orders.count_documents({}) == 0
    assert db.get_db().customers.count_documents({}) == 0
    assert db.get_db().items.find_one()["stock"] == 50


def test_a_known_buyer_with_an_email_is_emailed_their_page_and_a_phone_only_one_is_not(api, shop, ses):
    t = shop["t"]
    make_customer(api, t, "Amy", email="amy@example.com", phone="+886912345678")
    make_customer(api, t, "Bo", phone="+886922000111")
    assert submit(api, shop, "phone", phone="0912-345-678").status == 201
    (mail,) = ses
    assert mail.destinations["ToAddresses"] == ["amy@example.com"]
    token = mail.body.split("track.html#")[1][:43]
    assert api.get(f"/track/{token}").json["scope"] == "customer"
    for contact in ({"phone": "0922-000-111"}, {"phone": "0933-000-222"}):  # known, then new
        assert submit(api, shop, "phone", **contact).status == 201
    assert len(ses) == 1
