"""POST /customers/{id}/merge (issue 25): the other customer's orders, payments, parcels
and links move to this one, their credit and form counters are added, the other is
deleted and the orders' history says so; refusals write nothing. On every lane."""

from __future__ import annotations

import datetime as dt

from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.accounts import auth
from chalicelib.buyers import customers
from chalicelib.platform import bus, db
from tests.factories import make_customer, make_order, make_payment

A_NAME, B_NAME = "林志明", "林志明 (LINE)"


def two_buyers(api, token):
    """A: one order of 100 and 150 paid (50 credit). B, the same person: two orders of
    300, 800 paid (200 credit), a parcel with one of them, a seller link."""
    a = make_customer(api, token, name=A_NAME, email="lin@example.com")
    b = make_customer(api, token, name=B_NAME, email="lin.line@example.com", phone="0912-345-678")
    a_order = make_order(api, token, customer_id=a["id"])
    make_payment(api, token, a["id"], 150)
    b_orders = [make_order(api, token, customer_id=b["id"], unit_price=300) for _ in range(2)]
    make_payment(api, token, b["id"], 800)
    box = {"customer_id": b["id"], "order_ids": [b_orders[0]["id"]], "method": "home"}
    parcel = api.post("/parcels", box, token=token)
    assert parcel.status == 201, parcel
    a_link = api.post(f"/customers/{a['id']}/tracking-link", token=token).json["token"]
    b_link = api.post(f"/customers/{b['id']}/tracking-link", token=token).json["token"]
    return a, b, a_order, b_orders, parcel.json, a_link, b_link


def snapshot() -> dict:
    d = db.get_db()
    return {
        name: sorted(repr(sorted(doc.items())) for doc in d[name].find())
        for name in ("customers", "orders", "payments", "parcels", "tracking_links")
    }


def test_everything_of_the_other_buyer_moves_and_the_history_says_so(api, token):
    a, b, a_order, b_orders, parcel, a_link, b_link = two_buyers(api, token)
    assert check_ledger() == {ObjectId(a["id"]): 5000, ObjectId(b["id"]): 20000}

    r = api.post(f"/customers/{a['id']}/merge", {"from_customer_id": b["id"]}, token=token)

    assert r.status == 200, r
    assert r.json["id"] == a["id"] and r.json["name"] == A_NAME
    assert r.json["email"] == "lin@example.com"  # the target keeps its own
    assert r.json["phone"] == b["phone"]  # and takes what it lacked
    assert api.get(f"/customers/{b['id']}", token=token).status == 404
    # Orders: all three are A's, B's two say from whom.
    mine = api.get(f"/orders?customer_id={a['id']}", token=token).json["items"]
    assert sorted(o["order_no"] for o in mine) == sorted(o["order_no"] for o in [a_order, *b_orders])
    assert {o["buyer_name"] for o in mine} == {A_NAME}
    assert {o["buyer_email"] for o in mine} == {"lin@example.com"}
    for o in b_orders:
        history = api.get(f"/orders/{o['id']}", token=token).json["history"]
        moves = [h for h in history if h["field"] == "customer_id"]
        assert [(h["from"], h["to"], h["from_name"], h["to_name"], h["by"]) for h in moves] == [
            (b["id"], a["id"], B_NAME, A_NAME, "merge")
        ]
    assert api.get(f"/orders?customer_id={b['id']}", token=token).json["items"] == []
    # Payments and the parcel.
    pays = api.get(f"/payments?customer_id={a['id']}", token=token).json["items"]
    assert sorted(float(p["amount"]) for p in pays) == [150.0, 800.0]
    assert {p["buyer_name"] for p in pays} == {A_NAME}
    box = api.get(f"/parcels/{parcel['id']}", token=token).json
    assert (box["customer_id"], box["buyer_name"]) == (a["id"], A_NAME)
    # Credit summed, and the ledger holds.
    assert check_ledger() == {ObjectId(a["id"]): 25000}
    # B's link still opens: the merged buyer, both buyers' orders, all the money.
    for link in (b_link, a_link):
        page = api.get(f"/track/{link}")
        assert page.status == 200, page
        assert page.json["buyer_name"] == A_NAME
        assert len(page.json["orders"]) == 3
        assert float(page.json["credit"]) == 250.0
    kinds = sorted(
        x["kind"] for x in api.get(f"/customers/{a['id']}/tracking-links", token=token).json["items"]
    )
    assert kinds == ["merged", "seller"]
    # Nothing new for B: a new order by B's id is 404.
    r = api.post(
        "/orders", {"customer_id": b["id"], "item_name": "Tea", "quantity": 1, "unit_price": 100}, token=token
    )
    assert r.status == 404, r
    r = api.post("/payments", {"customer_id": b["id"], "amount": 100, "method": "cash"}, token=token)
    assert r.status == 404, r


def test_a_replayed_merge_event_moves_nothing_twice(api, token):
    a, b, _, b_orders, *_ = two_buyers(api, token)
    assert api.post(f"/customers/{a['id']}/merge", {"from_customer_id": b["id"]}, token=token).status == 200
    before = snapshot()
    event = customers.CustomersMerged(
        db.get_db().customers.find_one({"_id": ObjectId(a["id"])})["seller_id"],
        ObjectId(a["id"]),
        ObjectId(b["id"]),
        B_NAME,
    )
    assert bus.dispatch([event]) == []
    after = snapshot()
    assert after["orders"] == before["orders"]  # no second history entry, no version bump
    assert after["payments"] == before["payments"] and after["tracking_links"] == before["tracking_links"]
    assert after["parcels"] == before["parcels"]
    check_ledger()


def test_the_target_takes_the_others_email_and_form_counters(api):
    token = api.signup()
    who = auth.authenticate(f"Bearer {token}")
    seller = ObjectId(who.seller_id)
    now = dt.datetime.now(dt.UTC)
    coll = db.get_db().customers
    a_id = coll.insert_one(
        {
            **customers.customer_document(seller, None, A_NAME, now, line_id="Lin88"),
            "form_taken": {"f1_i1": 1, "f1_i2": 2},
        }
    ).inserted_id
    b = make_customer(api, token, name=B_NAME, email="Lin@Example.com")
    coll.update_one({"_id": ObjectId(b["id"])}, {"$set": {"form_taken": {"f1_i1": 2, "f2_i1": 1}}})

    r = api.post(f"/customers/{a_id}/merge", {"from_customer_id": b["id"]}, token=token)

    assert r.status == 200, r
    assert (r.json["email"], r.json["name"]) == (b["email"], A_NAME)
    doc = coll.find_one({"_id": a_id})
    assert doc["email_lower"] == "lin@example.com" and doc["line_id"] == "Lin88"
    assert doc["form_taken"] == {"f1_i1": 3, "f1_i2": 2, "f2_i1": 1}
    # The email is the target's now: one customer per email still.
    again = api.post("/customers", {"name": "Lin", "email": "lin@example.com"}, token=token)
    assert again.status == 409 and again.json["error"]["code"] == "duplicate_email"
    assert coll.count_documents({"seller_id": seller}) == 1


def test_refusals_write_nothing(api, token, other_token):
    a = make_customer(api, token, name=A_NAME, email="lin@example.com")
    b = make_customer(api, token, name=B_NAME, email="lin.line@example.com")
    make_order(api, token, customer_id=b["id"])
    theirs = make_customer(api, other_token, name=B_NAME, email="lin@example.com")
    before = snapshot()

    def merge(into, body, tok=token):
        return api.post(f"/customers/{into}/merge", body, token=tok)

    same = merge(a["id"], {"from_customer_id": a["id"]})
    assert same.status == 400 and same.json["error"]["code"] == "validation_error"
    assert [(d["field"], d["code"]) for d in same.json["error"]["details"]] == [
        ("from_customer_id", "same_customer")
    ]
    for r in (
        merge(a["id"], {"from_customer_id": theirs["id"]}),  # another seller's buyer
        merge(theirs["id"], {"from_customer_id": b["id"]}),  # into another seller's buyer
        merge(b["id"], {"from_customer_id": a["id"]}, tok=other_token),  # another seller asking
        merge(a["id"], {"from_customer_id": str(ObjectId())}),  # no such buyer
        merge(str(ObjectId()), {"from_customer_id": b["id"]}),
        merge("nope", {"from_customer_id": b["id"]}),
    ):
        assert r.status == 404, r
        assert r.json["error"]["code"] == "not_found"
    bad = merge(a["id"], {"from_customer_id": "nope"})
    assert bad.status == 400 and [d["field"] for d in bad.json["error"]["details"]] == ["from_customer_id"]
    missing = merge(a["id"], {})
    assert missing.status == 400 and [d["field"] for d in missing.json["error"]["details"]] == [
        "from_customer_id"
    ]
    assert snapshot() == before
