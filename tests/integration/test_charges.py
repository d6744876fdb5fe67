"""Charges: money a buyer owes that is no order line, paid by payments and credit like
orders (contract, third part, "Charges"; issue 26)."""

from __future__ import annotations

import pytest
from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.money import charges
from chalicelib.platform import db
from chalicelib.platform.key_index import COLLECTIONS as KEY_INDEX
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
        ({"amount": "1.200,50"}, "amount"),
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
    assert db.get_db().customers.find_one({"_id": ObjectId(amy["id"])})["credit"] == 4000  # the cache
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


# --- where a buyer's debt shows ----------------------------------------------------------


def test_the_buyers_page_lists_open_charges_and_its_balance_includes_them(api, token):
    a = make_order(api, token, unit_price=100)
    cid = a["customer_id"]
    box = api.post(
        "/parcels", {"customer_id": cid, "order_ids": [a["id"]], "method": "home"}, token=token
    ).json
    ship = make_charge(api, token, cid, 60, parcel_id=box["id"], note="二補")
    duty = make_charge(api, token, cid, 25.5, kind="duty")
    gone = make_charge(api, token, cid, 999, kind="other")
    api.post(f"/charges/{gone['id']}/void", token=token)
    make_payment(api, token, cid, 130)  # the order, then 30 of the shipping
    link = api.post(f"/customers/{cid}/tracking-link", token=token).json["token"]
    page = api.get(f"/track/{link}").json
    assert page["balance"] == 30 + 25.5
    assert page["charges"] == [
        {
            "id": ship["id"],
            "kind": "shipping",
            "amount": 60,
            "paid_amount": 30,
            "balance": 30,
            "note": "二補",
            "parcel_no": box["parcel_no"],
            "created_at": ship["created_at"],
        },
        {
            "id": duty["id"],
            "kind": "duty",
            "amount": 25.5,
            "paid_amount": 0,
            "balance": 25.5,
            "note": None,
            "parcel_no": None,
            "created_at": duty["created_at"],
        },
    ]
    # Nothing of the charge the buyer should not see.
    assert set(page["charges"][0]) == {
        "id",
        "kind",
        "amount",
        "paid_amount",
        "balance",
        "note",
        "parcel_no",
        "created_at",
    }


def test_a_submissions_link_shows_only_that_submissions_charges(api):
    from tests.factories import make_item

    t = api.signup()
    pocky = make_item(api, t, item_name="Pocky", price=100, stock=50)
    form = api.post(
        "/forms", {"batch": "B1", "title": "Group buy", "items": [{"item_id": pocky["id"]}]}, token=t
    )
    shop_token = form.json["url"].split("#")[1]
    make_order(api, t)  # Amy exists: her submission's link shows that submission only
    body = {"name": "Amy", "email": "amy@example.com", "lines": [{"item_id": pocky["id"], "quantity": 1}]}
    r = api.post(f"/f/{shop_token}/orders", body)
    assert r.status == 201, r
    sub_link = r.json["tracking_url"].split("#")[1]
    order = db.get_db().orders.find_one({"source": "form"}) or db.get_db().orders.find_one(
        {"submission_id": {"$exists": True}}
    )
    seller, cid = order["seller_id"], order["customer_id"]
    charges.add(seller, charges.AddCharge(cid, 6000, "shipping", submission_id=order["submission_id"]))
    make_charge(api, t, str(cid), 80, kind="duty")  # the buyer's other debt
    page = api.get(f"/track/{sub_link}").json
    assert page["scope"] == "submission"
    assert [(c["kind"], c["amount"]) for c in page["charges"]] == [("shipping", 60)]
    assert page["balance"] == 100 + 60
    whole = api.get(f"/track/{api.post(f'/customers/{cid}/tracking-link', token=t).json['token']}").json
    assert sorted(c["amount"] for c in whole["charges"]) == [60, 80]
    assert whole["balance"] == 100 + 100 + 60 + 80


def test_the_buyers_report_counts_open_charges(api, token):
    a = make_order(api, token, unit_price=100, batch="B1")
    cid = a["customer_id"]
    bob = make_customer(api, token, name="Bob", email="bob@example.com")
    make_charge(api, token, cid, 60, batch="B1")
    make_charge(api, token, cid, 40, kind="duty")  # in no batch
    gone = make_charge(api, token, cid, 500, kind="other")
    api.post(f"/charges/{gone['id']}/void", token=token)
    make_charge(api, token, bob["id"], 30, kind="packaging")  # Bob has no order
    make_payment(api, token, cid, 250)  # 100 + 60 + 40, then 50 credit
    make_payment(api, token, bob["id"], 10)
    rows = {r["customer_id"]: r for r in api.get("/reports/buyers", token=token).json["rows"]}
    amy, bob_row = rows[cid], rows[bob["id"]]
    assert bob_row["name"] == "Bob"
    assert (amy["total_amount"], amy["remitted_amount"], amy["outstanding_amount"]) == (200, 200, 0)
    assert amy["credit_amount"] == 50 and amy["order_count"] == 1
    assert (bob_row["total_amount"], bob_row["outstanding_amount"], bob_row["order_count"]) == (30, 20, 0)
    assert bob_row["credit_amount"] == 0
    b1 = {r["customer_id"]: r for r in api.get("/reports/buyers?batch=B1", token=token).json["rows"]}
    assert set(b1) == {cid} and b1[cid]["total_amount"] == 160
    check_ledger()


def test_a_merge_moves_the_other_buyers_charges(api, token):
    amy = make_customer(api, token)
    dup = make_customer(api, token, name="Amy (LINE)", email="amy2@example.com")
    c = make_charge(api, token, dup["id"], 60)
    p = make_payment(api, token, dup["id"], 40)
    r = api.post(f"/customers/{amy['id']}/merge", {"from_customer_id": dup["id"]}, token=token)
    assert r.status == 200, r
    got = api.get(f"/charges/{c['id']}", token=token).json
    assert (got["customer_id"], got["buyer_name"], got["paid_amount"]) == (amy["id"], "Amy", 40)
    # Amy's next payment pays it; voiding it gives its money to Amy's credit.
    make_payment(api, token, amy["id"], 20)
    assert state(api, token, c) == ("open", 60, 0)
    api.post(f"/charges/{c['id']}/void", token=token)
    assert check_ledger() == {ObjectId(amy["id"]): 6000}
    assert api.get(f"/payments/{p['id']}", token=token).json["unallocated"] == 40
    # A rename follows onto the charges.
    api.patch(f"/customers/{amy['id']}", {"name": "Amy Chen"}, token=token)
    assert api.get(f"/charges/{c['id']}", token=token).json["buyer_name"] == "Amy Chen"
    # A customer with charges cannot be deleted.
    bob = make_customer(api, token, name="Bob", email="bob@example.com")
    make_charge(api, token, bob["id"], 5)
    r = api.delete(f"/customers/{bob['id']}", token=token)
    assert r.status == 409 and r.json["error"]["code"] == "customer_has_charges"


def test_a_payment_over_three_orders_stays_within_ten_commands(api, token, commands, backend):
    """bench/bench_api.py's budget for POST /payments (covers 3 orders): ≤ 10 commands,
    the buyer's money lock (insert and delete in `locks`) included. Without it: 8 for a
    buyer who never had a charge (the customer says so: no read of charges), one read
    more for a buyer who has one."""
    if commands is None:
        pytest.skip("mongomock sends no wire commands to count")

    def app_commands(customer_id):
        commands.names.clear()
        commands.bodies.clear()
        r = pay(api, token, customer_id, 150, method="cash")
        assert r.status == 201 and len(r.json["allocations"]) == 3
        sent = list(zip(commands.names, commands.bodies, strict=True))
        # bench/bench_api.py counts the money lock's insert and delete as the app's too.
        money_lock = [n for n, b in sent if b.get(n) == "locks" and "money:" in repr(b)]
        assert money_lock == ["insert", "delete"], money_lock
        # FerretDB also keeps the orders' key index (key_index.py), as it takes `locks`.
        return [f"{n}:{b.get(n)}" for n, b in sent if b.get(n) != "locks" and b.get(n) not in KEY_INDEX]

    for _ in range(3):
        o = make_order(api, token, unit_price=50)
    # 8 + the money lock's 2 = bench's 10.
    assert app_commands(o["customer_id"]) == [
        "find:payments",  # half-applied ones of the buyer (the ledger's step 2)
        "find:customers",
        "find:orders",
        "insert:payments",
        "update:orders",
        "update:orders",
        "update:orders",
        "update:payments",
    ]
    bob = make_customer(api, token, name="Bob", email="bob@example.com")
    for _ in range(2):
        make_order(api, token, customer_id=bob["id"], unit_price=50)
    make_charge(api, token, bob["id"], 50)
    sent = app_commands(bob["id"])
    assert sent.count("find:charges") == 1 and len(sent) == 9, sent


# --- crashes and the other money paths ------------------------------------------------


def test_a_payment_cut_short_on_a_charge_is_finished_by_repair(api, token, monkeypatch):
    """The process dies after the payment's first share (an order) and before the
    charge's: the payment stays half-applied, `touch` naming the charge as
    {"charge_id": ...}; repair-payments finishes it."""
    from chalicelib.money import charge_book, payments

    a = make_order(api, token, unit_price=100)
    cid = a["customer_id"]
    ship = make_charge(api, token, cid, 60)

    def dies(*args, **kw):
        raise RuntimeError("Lambda timed out")

    monkeypatch.setattr(charge_book, "set_share", dies)
    r = pay(api, token, cid, 160)
    assert r.status == 500
    (half,) = db.get_db().payments.find()
    assert half["applied"] is False and {"charge_id": ObjectId(ship["id"])} in half["touch"]
    assert state(api, token, ship) == ("open", 0, 60)
    monkeypatch.undo()
    assert payments.repair() == 1
    assert state(api, token, ship) == ("open", 60, 0)
    check_ledger()


def test_a_void_cut_short_before_its_release_is_finished(api, token, monkeypatch):
    """The charge is marked void, then the process dies before its money goes back:
    voiding again (or repair-payments) gives it back as credit."""
    from chalicelib.money import payments

    amy = make_customer(api, token)
    c = make_charge(api, token, amy["id"], 60)
    make_payment(api, token, amy["id"], 60)

    def dies(*args, **kw):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(payments, "release", dies)
    assert api.post(f"/charges/{c['id']}/void", token=token).status == 500
    stuck = db.get_db().charges.find_one({"_id": ObjectId(c["id"])})
    assert (stuck["status"], stuck["paid_amount"]) == ("void", 6000)
    monkeypatch.undo()
    assert payments.repair() == 1
    assert check_ledger() == {ObjectId(amy["id"]): 6000}
    # And by the void itself, pressed again.
    c2 = make_charge(api, token, amy["id"], 30)  # paid from the credit
    monkeypatch.setattr(payments, "release", dies)
    assert api.post(f"/charges/{c2['id']}/void", token=token).status == 500
    monkeypatch.undo()
    assert api.post(f"/charges/{c2['id']}/void", token=token).json["paid_amount"] == 0
    assert check_ledger() == {ObjectId(amy["id"]): 6000}


def test_order_paths_keep_a_payments_charge_allocations(api, token):
    """A payment over an order and a charge: cancelling the order or switching it to
    unpaid gives back the order's part only; the charge keeps its money."""
    a = make_order(api, token, unit_price=100)
    b = make_order(api, token, unit_price=100)
    cid = a["customer_id"]
    ship = make_charge(api, token, cid, 60)
    p = pay(api, token, cid, 260).json
    assert sorted(x["amount"] for x in p["allocations"]) == [60, 100, 100]
    assert api.patch(f"/orders/{a['id']}", {"fulfillment_status": "cancelled"}, token=token).status == 200
    assert api.patch(f"/orders/{b['id']}", {"payment_status": "unpaid"}, token=token).status == 200
    got = api.get(f"/payments/{p['id']}", token=token).json
    assert [(x["charge_id"], x["amount"]) for x in got["allocations"]] == [(ship["id"], 60)]
    assert got["unallocated"] == 200
    assert state(api, token, ship) == ("open", 60, 0)
    # 已匯款 on the order records a payment for the order only.
    assert api.patch(f"/orders/{b['id']}", {"payment_status": "remitted"}, token=token).status == 200
    check_ledger()


def test_the_payments_export_names_a_charges_allocation_by_kind(api, token):
    a = make_order(api, token, unit_price=100)
    make_charge(api, token, a["customer_id"], 60)
    make_payment(api, token, a["customer_id"], 160)
    r = api.get("/export/payments?format=csv", token=token)
    assert r.status == 200
    # In the file's language (issue 27): the zh shop's word, the code in an English file.
    assert f"#{a['order_no']}:100;運費:60" in r.body.decode("utf-8-sig")
    en = api.get("/export/payments?format=csv&headers=en", token=token)
    assert f"#{a['order_no']}:100;shipping:60" in en.body.decode("utf-8-sig")


def test_a_repeated_idempotency_key_charges_once(api, token):
    amy = make_customer(api, token)
    key = {"Idempotency-Key": "charge-1"}
    body = {"customer_id": amy["id"], "amount": 60, "kind": "shipping"}
    first = api.post("/charges", body, token=token, headers=key)
    again = api.post("/charges", body, token=token, headers=key)
    assert (first.status, again.status) == (201, 200) and again.json == first.json
    assert db.get_db().charges.count_documents({}) == 1
    assert api.post("/charges", body, token=token, headers={"Idempotency-Key": "charge-2"}).status == 201
    assert db.get_db().charges.count_documents({}) == 2
    bad = api.post("/charges", body, token=token, headers={"Idempotency-Key": "é" * 3})
    assert bad.status == 400 and bad.json["error"]["code"] == "invalid_idempotency_key"
    assert db.get_db().charges.count_documents({}) == 2
