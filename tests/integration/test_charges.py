"""Charges: money a buyer owes that is no order line, paid by payments and credit like
orders (contract, third part, "Charges"; issue 26)."""

from __future__ import annotations

from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.money import charges
from chalicelib.platform import db
from tests.factories import make_customer, make_order, make_payment


def charge(api, token, customer_id, amount, kind="shipping", **more):
    return api.post(
        "/charges", {"customer_id": customer_id, "amount": amount, "kind": kind, **more}, token=token
    )


def make_charge(api, token, customer_id, amount, kind="shipping", **more) -> dict:
    r = charge(api, token, customer_id, amount, kind, **more)
    assert r.status == 201, r
    return r.json


def pay(api, token, customer_id, amount, **more):
    return api.post(
        "/payments",
        {"customer_id": customer_id, "amount": amount, "method": "bank_transfer", **more},
        token=token,
    )


def state(api, token, c) -> tuple:
    got = api.get(f"/charges/{c['id']}", token=token).json
    return got["status"], got["paid_amount"], got["balance"]


def seller_of(token_api_customer) -> ObjectId:
    return db.get_db().customers.find_one({"_id": ObjectId(token_api_customer)})["seller_id"]


# --- CRUD -------------------------------------------------------------------------------


def test_a_charge_is_made_read_listed_and_voided(api, token):
    amy = make_customer(api, token)
    bob = make_customer(api, token, name="Bob", email="bob@example.com")
    c = make_charge(api, token, amy["id"], 60.5, note="二補 運費", batch="Tokyo Dec")
    assert {k: c[k] for k in ("customer_id", "buyer_name", "amount", "kind", "note", "batch", "status")} == {
        "customer_id": amy["id"],
        "buyer_name": "Amy",
        "amount": 60.5,
        "kind": "shipping",
        "note": "二補 運費",
        "batch": "Tokyo Dec",
        "status": "open",
    }
    assert (c["paid_amount"], c["balance"], c["parcel_id"]) == (0, 60.5, None)
    duty = make_charge(api, token, amy["id"], 120, kind="duty")
    other = make_charge(api, token, bob["id"], 30, kind="packaging", batch="Tokyo Dec")

    assert api.get(f"/charges/{c['id']}", token=token).json == c
    listed = api.get("/charges", token=token).json
    assert [x["id"] for x in listed["items"]] == [other["id"], duty["id"], c["id"]]
    by_amy = api.get(f"/charges?customer_id={amy['id']}", token=token).json["items"]
    assert [x["id"] for x in by_amy] == [duty["id"], c["id"]]
    in_batch = api.get("/charges?batch=Tokyo%20Dec", token=token).json["items"]
    assert [x["id"] for x in in_batch] == [other["id"], c["id"]]
    paged = api.get("/charges?limit=2", token=token).json
    assert len(paged["items"]) == 2 and paged["next_cursor"]
    rest = api.get(f"/charges?limit=2&cursor={paged['next_cursor']}", token=token).json
    assert [x["id"] for x in rest["items"]] == [c["id"]]

    v = api.post(f"/charges/{duty['id']}/void", token=token)
    assert v.status == 200 and (v.json["status"], v.json["balance"]) == ("void", 0)
    assert v.json["voided_at"]
    again = api.post(f"/charges/{duty['id']}/void", token=token)
    assert again.status == 200 and again.json == v.json  # a double void changes nothing
    assert [x["id"] for x in api.get("/charges?status=void", token=token).json["items"]] == [duty["id"]]
    assert [x["id"] for x in api.get("/charges?status=open", token=token).json["items"]] == [
        other["id"],
        c["id"],
    ]
    check_ledger()


def test_another_sellers_charge_is_404(api, token, other_token):
    amy = make_customer(api, token)
    c = make_charge(api, token, amy["id"], 60)
    assert api.get(f"/charges/{c['id']}", token=other_token).status == 404
    assert api.post(f"/charges/{c['id']}/void", token=other_token).status == 404
    assert api.get("/charges", token=other_token).json["items"] == []
    assert api.get("/charges/nonsense", token=token).status == 404
    # Another seller's buyer cannot be charged either.
    r = charge(api, other_token, amy["id"], 60)
    assert r.status == 404 and r.json["error"]["code"] == "not_found"
    assert state(api, token, c) == ("open", 0, 60)
    assert db.get_db().charges.count_documents({}) == 1


def test_bad_input_is_400_with_the_field_named_and_writes_nothing(api, token, other_token):
    amy = make_customer(api, token)
    bad = [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 1.234}, "amount"),
        ({"amount": "60"}, "amount"),
        ({"kind": "tip"}, "kind"),
        ({"kind": None}, "kind"),
        ({"customer_id": "x"}, "customer_id"),
        ({"note": "n" * 501}, "note"),
        ({"parcel_id": "nope"}, "parcel_id"),
        ({"parcel_id": str(ObjectId())}, "parcel_id"),  # no such parcel of this buyer
        ({"surprise": 1}, "surprise"),
    ]
    for change, field in bad:
        body = {"customer_id": amy["id"], "amount": 60, "kind": "shipping", **change}
        r = api.post("/charges", body, token=token)
        assert r.status == 400, (change, r)
        assert field in [d["field"] for d in r.json["error"]["details"]], (change, r.json)
    missing = api.post("/charges", {"customer_id": amy["id"], "kind": "duty"}, token=token)
    assert missing.status == 400 and missing.json["error"]["details"][0]["field"] == "amount"
    assert db.get_db().charges.count_documents({}) == 0


def test_a_charge_takes_the_shop_currencys_decimals(api):
    api.signup(email="jp@example.com")
    first = api.post("/auth/login", {"email": "jp@example.com", "password": "correct horse 1"}).json["token"]
    assert api.patch("/auth/me", {"currency": "JPY"}, token=first).status == 200
    yen = api.post("/auth/login", {"email": "jp@example.com", "password": "correct horse 1"}).json["token"]
    amy = make_customer(api, yen)
    r = charge(api, yen, amy["id"], 150.5)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "amount"
    assert r.json["error"]["details"][0]["code"] == "too_many_decimals"
    assert db.get_db().charges.count_documents({}) == 0
    assert make_charge(api, yen, amy["id"], 150)["amount"] == 150


# --- money ------------------------------------------------------------------------------


def test_a_payment_goes_to_orders_and_charges_together_oldest_first(api, token):
    a = make_order(api, token, unit_price=100)
    cid = a["customer_id"]
    ship = make_charge(api, token, cid, 60)
    b = make_order(api, token, unit_price=250)
    p = pay(api, token, cid, 200).json
    assert [(x["order_id"], x["charge_id"], x["kind"], x["amount"]) for x in p["allocations"]] == [
        (a["id"], None, None, 100),
        (None, ship["id"], "shipping", 60),
        (b["id"], None, None, 40),
    ]
    assert state(api, token, ship) == ("open", 60, 0)
    assert api.get(f"/orders/{b['id']}", token=token).json["balance"] == 210
    assert api.get(f"/payments/{p['id']}", token=token).json["allocations"] == p["allocations"]
    listed = api.get(f"/payments?customer_id={cid}", token=token).json["items"]
    assert listed[0]["allocations"] == p["allocations"]
    check_ledger()


def test_charge_ids_name_what_a_payment_pays(api, token):
    a = make_order(api, token, unit_price=100)
    cid = a["customer_id"]
    old = make_charge(api, token, cid, 60)
    new = make_charge(api, token, cid, 80, kind="duty")
    p = pay(api, token, cid, 100, charge_ids=[new["id"]]).json
    assert [(x["charge_id"], x["amount"]) for x in p["allocations"]] == [(new["id"], 80)]
    assert p["unallocated"] == 20
    assert state(api, token, old) == ("open", 0, 60)
    assert api.get(f"/orders/{a['id']}", token=token).json["paid_amount"] == 0
    # Both lists: the orders, then the charges, each in the given order.
    both = pay(api, token, cid, 130, order_ids=[a["id"]], charge_ids=[old["id"]]).json
    assert [(x["order_id"], x["charge_id"], x["amount"]) for x in both["allocations"]] == [
        (a["id"], None, 100),
        (None, old["id"], 30),
    ]
    # A void or another buyer's charge is refused, nothing recorded.
    bob = make_customer(api, token, name="Bob", email="bob@example.com")
    bobs = make_charge(api, token, bob["id"], 10)
    api.post(f"/charges/{bobs['id']}/void", token=token)
    count = db.get_db().payments.count_documents({})
    for ids, code in (([bobs["id"]], "not_this_buyers"), ([str(ObjectId())], "not_this_buyers")):
        r = pay(api, token, cid, 10, charge_ids=ids)
        assert r.status == 409 and r.json["error"]["code"] == "charge_not_payable", r
        assert r.json["error"]["details"][0] == {"field": "charge_ids", "code": code, "message": ids[0]}
    r = pay(api, token, bob["id"], 10, charge_ids=[bobs["id"]])
    assert r.status == 409 and r.json["error"]["details"][0]["code"] == "not_payable"
    assert db.get_db().payments.count_documents({}) == count
    check_ledger()


def test_credit_pays_a_new_charge_at_once_and_a_void_gives_it_back(api, token):
    amy = make_customer(api, token)
    p = make_payment(api, token, amy["id"], 100)
    assert p["unallocated"] == 100
    c = make_charge(api, token, amy["id"], 60)
    assert (c["paid_amount"], c["balance"]) == (60, 0)
    assert api.get(f"/payments/{p['id']}", token=token).json["unallocated"] == 40
    assert api.get(f"/customers/{amy['id']}", token=token).json.get("credit", 40) == 40
    more = make_charge(api, token, amy["id"], 70, kind="duty")
    assert (more["paid_amount"], more["balance"]) == (40, 30)
    check_ledger()

    v = api.post(f"/charges/{c['id']}/void", token=token).json
    assert (v["status"], v["paid_amount"], v["balance"]) == ("void", 0, 0)
    got = api.get(f"/payments/{p['id']}", token=token).json
    assert [(x["charge_id"], x["amount"]) for x in got["allocations"]] == [(more["id"], 40)]
    assert got["unallocated"] == 60
    assert check_ledger() == {ObjectId(amy["id"]): 6000}  # cents
    # The next order uses it, oldest first: the rest of the duty, then the order.
    o = make_order(api, token, customer_id=amy["id"], unit_price=50)
    assert state(api, token, more) == ("open", 70, 0)
    assert api.get(f"/orders/{o['id']}", token=token).json["paid_amount"] == 30
    check_ledger()


def test_a_voided_payment_takes_its_money_off_charges(api, token):
    amy = make_customer(api, token)
    c = make_charge(api, token, amy["id"], 60)
    p = make_payment(api, token, amy["id"], 60)
    assert state(api, token, c) == ("open", 60, 0)
    assert api.post(f"/payments/{p['id']}/void", token=token).status == 200
    assert state(api, token, c) == ("open", 0, 60)
    check_ledger()


def test_a_reported_payment_confirmed_pays_charges(api, token):
    amy = make_customer(api, token)
    c = make_charge(api, token, amy["id"], 60)
    link = api.post(f"/customers/{amy['id']}/tracking-link", token=token).json["token"]
    r = api.post(f"/track/{link}/payments", {"amount": 50})
    assert r.status == 201
    pid = db.get_db().payments.find_one({"status": "reported"})["_id"]
    assert api.post(f"/payments/{pid}/confirm", token=token).status == 200
    assert state(api, token, c) == ("open", 50, 10)
    check_ledger()


# --- the domain API (parcels, forms) ---------------------------------------------------


def test_keyed_charges_one_live_per_key(api, token):
    amy = make_customer(api, token)
    seller = seller_of(amy["id"])
    cid = ObjectId(amy["id"])
    first = charges.add(seller, charges.AddCharge(cid, 6000, "shipping", key="parcel:1"))
    again = charges.add(seller, charges.AddCharge(cid, 9999, "shipping", key="parcel:1"))
    assert again["_id"] == first["_id"] and again["amount"] == 6000
    assert set(charges.by_key(seller, ["parcel:1", "parcel:2"])) == {"parcel:1"}

    make_payment(api, token, amy["id"], 100)  # pays the 60, 40 credit
    lowered = charges.set_amount_keyed(seller, "parcel:1", 5000)
    assert (lowered["amount"], lowered["paid_amount"]) == (5000, 5000)
    assert check_ledger() == {cid: 5000}
    raised = charges.set_amount_keyed(seller, "parcel:1", 8000)
    assert (raised["amount"], raised["paid_amount"]) == (8000, 8000)  # the credit pays the rise
    assert check_ledger() == {cid: 2000}
    gone = charges.set_amount_keyed(seller, "parcel:1", 0)
    assert (gone["status"], gone["paid_amount"]) == ("void", 0)
    assert check_ledger() == {cid: 10000}
    assert charges.by_key(seller, ["parcel:1"]) == {}
    assert charges.void_keyed(seller, "parcel:1") is None
    assert charges.set_amount_keyed(seller, "parcel:1", 100) is None
    # A void key is free again.
    fresh = charges.add(seller, charges.AddCharge(cid, 3000, "shipping", key="parcel:1"))
    assert fresh["_id"] != first["_id"] and fresh["paid_amount"] == 3000
    assert charges.void_keyed(seller, "parcel:1")["status"] == "void"
    check_ledger()
