"""Who did what (issue 31): payments (recorded, confirmed) and parcels (packed, shipped)
record the person, as an order's history does, and one order's answer and the payments
list name them: "owner" or the member's email, read once per answer. On every lane."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from bson import ObjectId

from chalicelib.platform import db
from tests.factories import make_customer, make_item, make_order
from tests.integration.test_members import join

HELPER = "packer@example.com"
_buyers = itertools.count()


def _staff(api, token, email=HELPER, role="staff"):
    member_id, login = join(api, token, email=email, role=role)
    return member_id, login["token"]


def test_payments_name_who_recorded_and_confirmed(api, token):
    member_id, staff = _staff(api, token)
    cust = make_customer(api, token, name="Amy")
    make_order(api, token, customer_id=cust["id"], quantity=1, unit_price=100)
    mine = api.post("/payments", {"customer_id": cust["id"], "amount": 10, "method": "cash"}, token=token)
    theirs = api.post("/payments", {"customer_id": cust["id"], "amount": 20, "method": "cash"}, token=staff)
    assert mine.status == theirs.status == 201, (mine, theirs)
    assert (theirs.json["recorded_by"], theirs.json["confirmed_by"]) == (HELPER, HELPER)
    stored = db.get_db().payments.find_one({"_id": ObjectId(theirs.json["id"])})
    assert (stored["recorded_by"], stored["confirmed_by"]) == (member_id, member_id)
    # A buyer's report: nobody recorded it; the helper confirms it.
    link = api.post(f"/customers/{cust['id']}/tracking-link", token=token).json["token"]
    reported = api.post(f"/track/{link}/payments", {"amount": 5, "account_last5": "12345"})
    assert reported.status == 201, reported
    (report,) = api.get("/payments?status=reported", token=token).json["items"]
    assert api.post(f"/payments/{report['id']}/confirm", token=staff).status == 200

    listed = api.get(f"/payments?customer_id={cust['id']}", token=staff).json["items"]
    assert [(p["amount"], p["recorded_by"], p["confirmed_by"]) for p in listed] == [
        (5, None, HELPER),
        (20, HELPER, HELPER),
        (10, "owner", "owner"),
    ]


def test_payments_list_reads_members_once_a_page(api, token, commands):
    if commands is None:
        pytest.skip("mongomock sends no commands to count")
    cust = make_customer(api, token, name="Amy")
    helpers = [_staff(api, token, email=f"helper{i}@example.com")[1] for i in range(3)]
    for who in helpers:
        made = api.post("/payments", {"customer_id": cust["id"], "amount": 1, "method": "cash"}, token=who)
        assert made.status == 201, made
    commands.bodies.clear()
    listed = api.get("/payments", token=token).json["items"]
    assert {p["recorded_by"] for p in listed} == {
        "helper0@example.com",
        "helper1@example.com",
        "helper2@example.com",
    }
    reads = [c for c in commands.bodies if c.get("find") == "members"]
    assert len(reads) == 1, reads


def test_a_parcel_names_who_packed_it_in_its_orders_history(api, token):
    member_id, staff = _staff(api, token)
    cust = make_customer(api, token, name="Amy")
    order = make_order(api, token, customer_id=cust["id"], quantity=1, unit_price=100)
    assert api.patch(f"/orders/{order['id']}", {"quantity": 2}, token=token).status == 200
    box = api.post(
        "/parcels", {"customer_id": cust["id"], "order_ids": [order["id"]], "method": "home"}, token=staff
    )
    assert box.status == 201, box
    stored = db.get_db().parcels.find_one({"_id": ObjectId(box.json["id"])})
    assert (stored["created_by"], stored["shipped_by"]) == (member_id, member_id)
    for who in (token, staff):
        history = api.get(f"/orders/{order['id']}", token=who).json["history"]
        assert [(e["field"], e["to"], e["by_name"]) for e in history] == [
            ("quantity", 2, "owner"),
            ("fulfillment_status", "shipped", HELPER),
        ]
        assert history[1]["by"] == "parcel"
    # A list leaves the names out (no read of members per page of orders).
    (listed,) = api.get("/orders", token=token).json["items"]
    assert {e.get("by_name") for e in listed["history"]} == {None}


def test_an_owner_members_export_names_the_owners_entries(api, token):
    _, partner = _staff(api, token, email="partner@example.com", role="owner")
    cust = make_customer(api, token, name="Amy")
    order = make_order(api, token, customer_id=cust["id"], quantity=1, unit_price=100)
    assert api.patch(f"/orders/{order['id']}", {"quantity": 2}, token=token).status == 200
    assert api.patch(f"/orders/{order['id']}", {"quantity": 3}, token=partner).status == 200
    # A file is read by others than who exported it: everyone by name, never "you".
    for lang, owner_word in (("zh", "店主"), ("en", "the owner")):
        for who in (partner, token):
            r = api.call("GET", f"/export/orders?format=csv&headers={lang}", token=who)
            assert r.status == 200, r
            (row,) = list(csv.reader(io.StringIO(r.body.decode("utf-8-sig"))))[1:]
            history = next(cell for cell in row if "→" in cell)
            assert f"1 → 2（由{owner_word}）" in history or f"1 → 2 (by {owner_word})" in history, history
            partner_said = ("2 → 3（由partner@example.com）", "2 → 3 (by partner@example.com)")
            assert any(p in history for p in partner_said), history


def _rows(r):
    assert r.status == 200, r
    return list(csv.DictReader(io.StringIO(r.body.decode("utf-8-sig"))))


def test_the_orders_csv_names_who_packed_and_delivered(api, token):
    _, staff = _staff(api, token)
    order, box = _box(api, token, staff)
    assert api.patch(f"/parcels/{box['id']}", {"status": "delivered"}, token=token).status == 200
    for lang, want in (
        ("zh", ["（由packer@example.com，包裹）", "（由店主，包裹）"]),
        ("en", ["(by packer@example.com, its parcel)", "(by the owner, its parcel)"]),
    ):
        (row,) = _rows(api.call("GET", f"/export/orders?format=csv&headers={lang}", token=token))
        history = row["狀態紀錄" if lang == "zh" else "history"]
        assert [w in history for w in want] == [True, True], history


def test_the_payments_csv_names_who_recorded_and_confirmed(api, token):
    from chalicelib.platform import roles

    _, staff = _staff(api, token)
    cust = make_customer(api, token, name="Amy")
    make_order(api, token, customer_id=cust["id"], quantity=1, unit_price=100)
    for who, amount in ((token, 10), (staff, 20)):
        made = api.post(
            "/payments", {"customer_id": cust["id"], "amount": amount, "method": "cash"}, token=who
        )
        assert made.status == 201, made
    link = api.post(f"/customers/{cust['id']}/tracking-link", token=token).json["token"]
    assert api.post(f"/track/{link}/payments", {"amount": 5, "account_last5": "12345"}).status == 201
    for lang, owner_word, cols in (
        ("zh", "店主", ("記錄者", "確認者")),
        ("en", "the owner", ("recorded_by", "confirmed_by")),
    ):
        for who in (token, staff):  # a staff member exports payments too: no cost column in it
            rows = _rows(api.call("GET", f"/export/payments?format=csv&headers={lang}", token=who))
            assert [(r[cols[0]], r[cols[1]]) for r in rows] == [
                (owner_word, owner_word),
                (HELPER, HELPER),
                ("", ""),  # the buyer's report: nobody recorded or confirmed it yet
            ]
            assert not set(rows[0]) & set(roles.COST_FIELDS), rows[0].keys()
    # The orders file (costs and profit in it) stays the owner's.
    r = api.call("GET", "/export/orders?format=csv", token=staff)
    assert r.status == 403 and r.json["error"]["code"] == "forbidden_for_role", r


def _box(api, token, who, quantity=1):
    """A new buyer's order, packed in a parcel by `who`."""
    cust = make_customer(api, token, name="Amy", email=f"amy{next(_buyers)}@example.com")
    order = make_order(api, token, customer_id=cust["id"], quantity=quantity, unit_price=100)
    box = api.post(
        "/parcels", {"customer_id": cust["id"], "order_ids": [order["id"]], "method": "home"}, token=who
    )
    assert box.status == 201, box
    return order, box.json


def test_every_change_of_a_parcel_names_who_made_it(api, token):
    member_id, staff = _staff(api, token)
    order, box = _box(api, token, staff)
    assert (box["created_by"], box["shipped_by"], box["updated_by"]) == (HELPER, HELPER, None)
    # The owner types the tracking number; the helper marks it delivered.
    r = api.patch(f"/parcels/{box['id']}", {"tracking_number": "123456789012"}, token=token)
    assert r.status == 200 and r.json["updated_by"] == "owner", r
    r = api.patch(f"/parcels/{box['id']}", {"status": "delivered"}, token=staff)
    assert r.status == 200 and (r.json["delivered_by"], r.json["updated_by"]) == (HELPER, HELPER), r
    stored = db.get_db().parcels.find_one({"_id": ObjectId(box["id"])})
    assert (stored["updated_by"], stored["delivered_by"]) == (member_id, member_id)
    for who in (token, staff):
        got = api.get(f"/parcels/{box['id']}", token=who).json
        assert (got["created_by"], got["shipped_by"], got["delivered_by"]) == (HELPER, HELPER, HELPER)
        (listed,) = api.get("/parcels", token=who).json["items"]
        assert (listed["created_by"], listed["delivered_by"], listed["returned_by"]) == (HELPER, HELPER, None)
        history = api.get(f"/orders/{order['id']}", token=who).json["history"]
        assert [(e["to"], e["by"], e["by_name"]) for e in history] == [
            ("shipped", "parcel", HELPER),
            ("delivered", "parcel", HELPER),
        ]


def test_unpacking_and_returning_name_who_did_it(api, token):
    _, staff = _staff(api, token)
    unpacked, box = _box(api, token, token)
    assert api.delete(f"/parcels/{box['id']}", token=staff).status == 204
    returned, box2 = _box(api, token, staff, quantity=2)
    r = api.patch(f"/parcels/{box2['id']}", {"status": "returned"}, token=token)
    assert r.status == 200 and (r.json["returned_by"], r.json["created_by"]) == ("owner", HELPER), r
    for order, packer, taker in ((unpacked, "owner", HELPER), (returned, HELPER, "owner")):
        history = api.get(f"/orders/{order['id']}", token=token).json["history"]
        assert [(e["to"], e["by_name"]) for e in history] == [("shipped", packer), ("purchased", taker)]


def test_parcels_list_reads_members_once_a_page(api, token, commands):
    if commands is None:
        pytest.skip("mongomock sends no commands to count")
    helpers = [_staff(api, token, email=f"helper{i}@example.com")[1] for i in range(3)]
    for who in helpers:
        _box(api, token, who)
    commands.bodies.clear()
    listed = api.get("/parcels", token=token).json["items"]
    assert {p["created_by"] for p in listed} == {f"helper{i}@example.com" for i in range(3)}
    assert len([c for c in commands.bodies if c.get("find") == "members"]) == 1
    commands.bodies.clear()
    mine = _box(api, token, token)[1]
    api.get(f"/parcels/{mine['id']}", token=token)
    assert mine["created_by"] == "owner"
    assert [c for c in commands.bodies if c.get("find") == "members"] == []  # the owner alone: no read


@pytest.mark.parametrize(("lang", "owner_word"), [("zh-Hant", "店主"), ("en", "the owner")])
def test_the_packing_slip_names_no_one_of_the_shop(api, token, lang, owner_word):
    """The slip goes in the box to the buyer: who packed it stays on the Ship tab, and a
    helper's email is not the buyer's to see."""
    assert api.patch("/auth/me", {"language": lang}, token=token).status == 200
    _, staff = _staff(api, token)
    _, theirs = _box(api, token, staff)
    _, mine = _box(api, token, token)
    for box in (theirs, mine):
        r = api.call("GET", f"/parcels/{box['id']}/packing-slip", token=staff)
        assert r.status == 200, r
        html = r.body.decode()
        assert box["recipient"]["name"] in html  # the slip itself, as before
        assert HELPER not in html and owner_word not in html, html


def test_stock_movements_name_who_moved_stock(api, token, commands):
    member_id, staff = _staff(api, token)
    item = make_item(api, token, stock=10)
    for who, delta in ((token, 2), (staff, -3)):
        r = api.post(f"/items/{item['id']}/adjustments", {"delta": delta}, token=who)
        assert r.status == 201, r
    make_order(api, staff, item_id=item["id"], quantity=1)
    assert db.get_db().stock_movements.count_documents({"by": member_id}) == 2  # ids stored
    if commands is not None:
        commands.bodies.clear()
    for who in (token, staff):
        moves = api.get(f"/items/{item['id']}/movements", token=who).json["items"]
        assert [(m["delta"], m["reason"], m["by"]) for m in moves] == [
            (-1, "order", HELPER),
            (-3, "adjustment", HELPER),
            (2, "adjustment", "owner"),
            (10, "count", "owner"),
        ]
    if commands is not None:  # one read of members' names per page (the staff token costs its own)
        names = [
            c for c in commands.bodies if c.get("find") == "members" and c.get("projection") == {"email": 1}
        ]
        assert len(names) == 2, names
