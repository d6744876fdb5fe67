"""`POST /orders/bulk/matching` (issue 27, "select all that match the filter"): a status
set on every order the filters of `GET /orders` match, more than the 500 a selection
takes, forward only as bulk, the seller's own orders only. Races: test_bulk_matching_races.py.
"""

from __future__ import annotations

from urllib.parse import urlencode

from bson import ObjectId

from chalicelib.platform import db

TRIP = "2026-12 東京"
OTHER = "2026-12 大阪"
CSV_HEADER = (
    "buyer_email,buyer_name,item_name,quantity,unit_price,batch,fulfillment_status,payment_status\r\n"
)


def import_orders(api, token, rows: list[tuple[str, str, str]]) -> None:
    """One CSV import: (batch, fulfillment_status, payment_status) a row, each a new item name
    so no row is taken for another's duplicate."""
    lines = [
        f"b{i % 7}@example.com,Buyer {i % 7},Item {i},1,100,{batch},{ful},{pay}\r\n"
        for i, (batch, ful, pay) in enumerate(rows)
    ]
    r = api.post(
        "/import/orders?skip_duplicates=false",
        raw=(CSV_HEADER + "".join(lines)).encode(),
        token=token,
        headers={"Content-Type": "text/csv"},
    )
    assert r.status == 201 or r.status == 200, r
    assert r.json["created"] == len(rows), r.json


def statuses(token_seller_id) -> dict[tuple[str, str], int]:
    """(batch, fulfillment_status) → how many of the seller's orders, read from the database."""
    counts: dict[tuple[str, str], int] = {}
    for d in db.get_db().orders.find({"seller_id": token_seller_id}, {"batch": 1, "fulfillment_status": 1}):
        key = (d["batch"], d["fulfillment_status"])
        counts[key] = counts.get(key, 0) + 1
    return counts


def seller_id_of(*, api, token):
    return ObjectId(api.get("/auth/me", token=token).json["id"])


def listed(api, token, **params) -> dict:
    r = api.get(f"/orders?{urlencode(params)}", token=token)
    assert r.status == 200, r
    return r.json


def matching(api, token, where: dict, set_: dict):
    return api.post("/orders/bulk/matching", {"where": where, "set": set_}, token=token)


def test_all_620_matching_orders_are_purchased_and_nothing_else(api, token, other_token):
    import_orders(
        api,
        token,
        [(TRIP, "pending", "unpaid")] * 620
        + [(TRIP, "shipped", "unpaid")] * 5
        + [(TRIP, "purchased", "unpaid")] * 3
        + [(OTHER, "pending", "unpaid")] * 30,
    )
    import_orders(api, other_token, [(TRIP, "pending", "unpaid")] * 10)
    mine, theirs = seller_id_of(api=api, token=token), seller_id_of(api=api, token=other_token)

    r = matching(api, token, {"batch": TRIP}, {"fulfillment_status": "purchased"})
    assert r.status == 200, r
    out = r.json
    assert (out["matched"], out["updated"], out["unchanged"]) == (628, 620, 3), out
    # The shipped ones would move back: refused, each named, nothing written to them.
    assert len(out["failed"]) == 5
    assert {f["error"] for f in out["failed"]} == {"invalid_transition"}
    assert statuses(mine) == {(TRIP, "purchased"): 623, (TRIP, "shipped"): 5, (OTHER, "pending"): 30}
    assert statuses(theirs) == {(TRIP, "pending"): 10}  # another seller's trip of the same name
    assert listed(api, token, batch=TRIP, fulfillment_status="purchased", limit=1)["total_count"] == 623
    first = listed(api, token, sort="order_no", limit=1)["items"][0]
    history = api.get(f"/orders/{first['id']}", token=token).json["history"]
    assert [(h["field"], h["from"], h["to"], h["by"]) for h in history] == [
        ("fulfillment_status", "pending", "purchased", "bulk")
    ]

    # Pressed again: everything is already as asked, nothing written.
    again = matching(
        api, token, {"batch": TRIP, "fulfillment_status": "purchased"}, {"fulfillment_status": "purchased"}
    )
    assert (again.json["matched"], again.json["updated"], again.json["unchanged"], again.json["failed"]) == (
        623,
        0,
        623,
        [],
    )


def test_the_filters_are_those_of_the_list(api, token):
    """Each filter of GET /orders narrows the change as it narrows the list: the two agree."""
    import_orders(api, token, [(TRIP, "pending", "unpaid")] * 8 + [(OTHER, "pending", "remitted")] * 4)
    customer = api.get("/customers?q=b3%40example.com", token=token).json["items"][0]
    for where in (
        {"customer_id": customer["id"]},
        {"batch_prefix": "大阪"},
        {"q": "Item 1"},
        {"payment_status": "remitted"},
    ):
        before = {o["id"]: o["fulfillment_status"] for o in listed(api, token, limit=200)["items"]}
        shown = listed(api, token, **where, limit=200)
        r = matching(api, token, where, {"fulfillment_status": "purchased"})
        assert r.status == 200, (where, r)
        assert r.json["matched"] == shown["total_count"] > 0, (where, r.json)
        ids = {o["id"] for o in shown["items"] if o["fulfillment_status"] == "pending"}
        assert r.json["updated"] == len(ids), where
        after = {o["id"]: o["fulfillment_status"] for o in listed(api, token, limit=200)["items"]}
        # The matching pending ones moved; every other order is as it was.
        assert after == {i: "purchased" if i in ids else s for i, s in before.items()}, where


def test_a_backward_move_fails_as_invalid_transition_and_writes_nothing(api, token):
    import_orders(api, token, [(TRIP, "delivered", "remitted")] * 3 + [(TRIP, "shipped", "unpaid")] * 2)
    before = list(db.get_db().orders.find({"seller_id": seller_id_of(api=api, token=token)}).sort("_id", 1))
    for set_ in ({"fulfillment_status": "purchased"}, {"fulfillment_status": "pending"}):
        out = matching(api, token, {"batch": TRIP}, set_).json
        assert (out["matched"], out["updated"], out["unchanged"]) == (5, 0, 0), out
        assert [f["error"] for f in out["failed"]] == ["invalid_transition"] * 5
    out = matching(api, token, {"payment_status": "remitted"}, {"payment_status": "unpaid"}).json
    assert [f["error"] for f in out["failed"]] == ["invalid_transition"] * 3
    assert (
        list(db.get_db().orders.find({"seller_id": seller_id_of(api=api, token=token)}).sort("_id", 1))
        == before
    )


def test_bad_input_names_the_field_and_writes_nothing(api, token):
    import_orders(api, token, [(TRIP, "pending", "unpaid")] * 2)
    before = list(db.get_db().orders.find({}).sort("_id", 1))
    cases = [
        ({"where": {"batch": TRIP}, "set": {}}, "set.fulfillment_status"),
        ({"where": {"batch": TRIP}, "set": {"carrier": "7-11"}}, "set.carrier"),  # not for matching
        ({"where": {"btach": TRIP}, "set": {"fulfillment_status": "purchased"}}, "where.btach"),
        (
            {"where": {"fulfillment_status": "lost"}, "set": {"fulfillment_status": "purchased"}},
            "where.fulfillment_status",
        ),
        ({"where": {"customer_id": "nope"}, "set": {"fulfillment_status": "purchased"}}, "where.customer_id"),
        ({"where": {"from": "yesterday"}, "set": {"fulfillment_status": "purchased"}}, "where.from"),
        ({"where": {}, "set": {"fulfillment_status": None}}, "set.fulfillment_status"),
        ({"set": {"fulfillment_status": "purchased"}}, "where"),
    ]
    for body, field in cases:
        r = api.post("/orders/bulk/matching", body, token=token)
        assert r.status == 400, (body, r)
        assert field in [d["field"] for d in r.json["error"]["details"]], (body, r.json)
    assert list(db.get_db().orders.find({}).sort("_id", 1)) == before


def test_remitted_on_every_matching_order_records_one_payment_per_buyer(api, token):
    """已匯款 for 620 orders of 7 buyers: one payment a buyer, as a selection gets, though the
    orders take two parts of 500."""
    import_orders(api, token, [(TRIP, "pending", "unpaid")] * 620)
    out = matching(api, token, {"batch": TRIP}, {"payment_status": "remitted"}).json
    assert (out["matched"], out["updated"], out["unchanged"], out["failed"]) == (620, 620, 0, []), out
    payments = api.get("/payments?limit=200", token=token).json["items"]
    assert sorted(p["buyer_name"] for p in payments) == [f"Buyer {b}" for b in range(7)]
    assert sum(p["amount"] for p in payments) == 620 * 100
    assert listed(api, token, payment_status="remitted", limit=1)["total_count"] == 620


def test_parts_keep_a_buyers_orders_together_and_hold_at_most_500():
    from chalicelib.sales.orders import _parts_by_buyer

    # Buyers of 300, 300, 1,100 (more than a part) and 40 orders, interleaved as read.
    sizes = {"a": 300, "b": 300, "c": 1100, "d": 40}
    docs = [{"customer_id": c, "n": i} for c, n in sizes.items() for i in range(n)]
    docs.sort(key=lambda d: d["n"])
    parts = _parts_by_buyer(docs, 500)
    assert all(len(p) <= 500 for p in parts)
    assert sorted(id(d) for p in parts for d in p) == sorted(id(d) for d in docs)  # each once
    for buyer in ("a", "b", "d"):
        assert sum(any(d["customer_id"] == buyer for d in p) for p in parts) == 1, buyer
    assert sum(any(d["customer_id"] == "c" for d in p) for p in parts) == 3
