"""Payments: the ledger per buyer, allocation, credit, void, the 已匯款 switch, buyer
reports, idempotency and a failure between two writes (contract "Payments")."""

from __future__ import annotations

import pytest
from payment_ledger import check_ledger

from chalicelib.money import payments
from chalicelib.platform import db
from tests.factories import make_customer, make_order, make_payment


def pay(api, token, customer_id, amount, **more):
    return api.post(
        "/payments",
        {"customer_id": customer_id, "amount": amount, "method": "bank_transfer", **more},
        token=token,
    )


def get_order(api, token, o):
    return api.get(f"/orders/{o['id']}", token=token).json


def money(api, token, *orders):
    out = []
    for o in orders:
        got = get_order(api, token, o)
        out.append((got["payment_status"], got["paid_amount"], got["balance"]))
    return out


def test_payment_goes_to_oldest_unpaid_orders_and_the_rest_is_credit(api, token):
    a = make_order(api, token, unit_price=100)
    b = make_order(api, token, unit_price=250)
    c = make_order(api, token, unit_price=40)
    cid = a["customer_id"]
    assert money(api, token, a) == [("unpaid", 0, 100)]

    r = pay(api, token, cid, 180, account_last5="12345", paid_at="2026-11-20", note="LINE 11/20")
    assert r.status == 201, r
    p = r.json
    assert (p["status"], p["source"], p["amount"], p["unallocated"]) == ("confirmed", "seller", 180, 0)
    assert [(x["order_no"], x["amount"]) for x in p["allocations"]] == [
        (a["order_no"], 100),
        (b["order_no"], 80),
    ]
    assert (p["account_last5"], p["paid_at"], p["note"], p["method"]) == (
        "12345",
        "2026-11-20",
        "LINE 11/20",
        "bank_transfer",
    )
    assert money(api, token, a, b, c) == [("remitted", 100, 0), ("partial", 80, 170), ("unpaid", 0, 40)]
    history = get_order(api, token, b)["history"]
    assert [(h["field"], h["from"], h["to"]) for h in history] == [("payment_status", "unpaid", "partial")]

    # More than every balance: the rest stays on the payment as credit ...
    p2 = make_payment(api, token, cid, 260.5)
    assert p2["unallocated"] == 50.5
    assert money(api, token, b, c) == [("remitted", 250, 0), ("remitted", 40, 0)]
    assert check_ledger() == {db.get_db().customers.find_one()["_id"]: 5050}
    # ... and the next order of the buyer uses it.
    d = make_order(api, token, unit_price=80)
    assert (d["payment_status"], d["paid_amount"], d["balance"]) == ("partial", 50.5, 29.5)
    assert api.get(f"/payments/{p2['id']}", token=token).json["unallocated"] == 0
    check_ledger()
    listed = api.get(f"/payments?customer_id={cid}", token=token).json["items"]
    assert [x["id"] for x in listed] == [p2["id"], p["id"]]  # newest first


def test_payment_for_listed_orders_in_their_order(api, token, other_token):
    a = make_order(api, token, unit_price=100)
    b = make_order(api, token, unit_price=100)
    bob = make_order(api, token, buyer_email="bob@example.com")
    cid = a["customer_id"]
    r = pay(api, token, cid, 150, order_ids=[b["id"], a["id"]])
    assert [(x["order_id"], x["amount"]) for x in r.json["allocations"]] == [(b["id"], 100), (a["id"], 50)]
    before = db.get_db().payments.count_documents({})
    # Another buyer's order, a cancelled one, another seller's customer: refused, nothing written.
    r = pay(api, token, cid, 10, order_ids=[bob["id"]])
    assert (r.status, r.json["error"]["code"]) == (409, "order_not_payable")
    assert r.json["error"]["details"][0]["code"] == "not_this_buyers"
    c = make_order(api, token, unit_price=30)
    api.patch(f"/orders/{c['id']}", {"fulfillment_status": "cancelled"}, token=token)
    r = pay(api, token, cid, 10, order_ids=[c["id"]])
    assert (r.status, r.json["error"]["details"][0]["code"]) == (409, "not_payable")
    other_cid = make_order(api, other_token)["customer_id"]
    assert pay(api, token, other_cid, 10).status == 404
    assert pay(api, other_token, cid, 10).status == 404
    assert db.get_db().payments.count_documents({}) == before
    check_ledger()


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 0},
        {"amount": -5},
        {"amount": 1.234},
        {"amount": "1.200,50"},
        {"method": "bitcoin"},
        {"account_last5": "12a45"},
        {"account_last5": "1234"},
        {"paid_at": "20/11/2026"},
        {"order_ids": []},
        {"order_ids": ["nope"]},
        {"status": "confirmed"},
        {"customer_id": None},
    ],
)
def test_bad_payments_are_400_and_write_nothing(api, token, body):
    o = make_order(api, token)
    base = {"customer_id": o["customer_id"], "amount": 10, "method": "cash"}
    r = api.post("/payments", {**base, **body}, token=token)
    assert r.status == 400, r
    assert r.json["error"]["code"] == "validation_error" and r.json["error"]["details"]
    assert db.get_db().payments.count_documents({}) == 0
    assert money(api, token, o) == [("unpaid", 0, 100)]


def test_void_takes_the_money_back(api, token):
    a = make_order(api, token, unit_price=100)
    b = make_order(api, token, unit_price=100)
    p = make_payment(api, token, a["customer_id"], 250)
    assert money(api, token, a, b) == [("remitted", 100, 0), ("remitted", 100, 0)]
    r = api.post(f"/payments/{p['id']}/void", token=token)
    assert r.status == 200 and (r.json["status"], r.json["allocations"], r.json["unallocated"]) == (
        "voided",
        [],
        0,
    )
    assert money(api, token, a, b) == [("unpaid", 0, 100), ("unpaid", 0, 100)]
    assert check_ledger() == {}
    assert api.post(f"/payments/{p['id']}/void", token=token).json["status"] == "voided"  # again: no change
    r = api.post(f"/payments/{p['id']}/confirm", token=token)
    assert (r.status, r.json["error"]["code"]) == (409, "payment_not_reported")


def test_the_remitted_switch_records_and_voids_a_payment(api, token):
    a = make_order(api, token, unit_price=120)
    r = api.patch(f"/orders/{a['id']}", {"payment_status": "remitted"}, token=token)
    assert r.status == 200 and (r.json["payment_status"], r.json["paid_amount"], r.json["balance"]) == (
        "remitted",
        120,
        0,
    )
    assert r.json["remitted_at"]
    (p,) = api.get("/payments", token=token).json["items"]
    assert (p["amount"], p["method"], p["status"]) == (120, "other", "confirmed")
    r = api.patch(f"/orders/{a['id']}", {"payment_status": "unpaid"}, token=token)
    assert (r.json["payment_status"], r.json["paid_amount"], r.json["remitted_at"]) == ("unpaid", 0, None)
    assert api.get(f"/payments/{p['id']}", token=token).json["status"] == "voided"
    check_ledger()
    api.patch(f"/orders/{a['id']}", {"fulfillment_status": "cancelled"}, token=token)  # out of the way

    # A partly paid order: the switch pays the balance; "unpaid" takes a real payment's
    # share off the order and keeps it as the buyer's credit.
    b = make_order(api, token, unit_price=100)
    real = make_payment(api, token, b["customer_id"], 30)
    assert money(api, token, b) == [("partial", 30, 70)]
    assert (
        api.patch(f"/orders/{b['id']}", {"payment_status": "remitted"}, token=token).json["paid_amount"]
        == 100
    )
    r = api.patch(f"/orders/{b['id']}", {"payment_status": "unpaid"}, token=token)
    assert (r.json["payment_status"], r.json["paid_amount"]) == ("unpaid", 0)
    assert api.get(f"/payments/{real['id']}", token=token).json["unallocated"] == 30
    assert check_ledger() == {db.get_db().customers.find_one()["_id"]: 3000}
    # Bulk 已匯款 pays each order's balance: one payment per buyer.
    c = make_order(api, token, unit_price=50)  # the credit goes to the oldest unpaid order: b
    assert money(api, token, b, c) == [("partial", 30, 70), ("unpaid", 0, 50)]
    r = api.post(
        "/orders/bulk", {"ids": [b["id"], c["id"]], "set": {"payment_status": "remitted"}}, token=token
    )
    assert r.json == {"updated": 2, "unchanged": 0, "failed": []}
    assert money(api, token, b, c) == [("remitted", 100, 0), ("remitted", 50, 0)]
    bulk_payment = api.get("/payments?limit=1", token=token).json["items"][0]
    assert (bulk_payment["amount"], len(bulk_payment["allocations"])) == (120, 2)  # 70 + 50
    r = api.post("/orders/bulk", {"ids": [b["id"]], "set": {"payment_status": "remitted"}}, token=token)
    assert r.json == {"updated": 0, "unchanged": 1, "failed": []}
    check_ledger()
    # Unmarking one of them takes its part off the switch's payment: no credit appears.
    api.patch(f"/orders/{c['id']}", {"payment_status": "unpaid"}, token=token)
    shrunk = api.get(f"/payments/{bulk_payment['id']}", token=token).json
    assert (shrunk["amount"], shrunk["unallocated"], [x["order_id"] for x in shrunk["allocations"]]) == (
        70,
        0,
        [b["id"]],
    )
    assert money(api, token, b, c) == [("remitted", 100, 0), ("unpaid", 0, 50)]
    assert check_ledger() == {}


def test_cancel_and_a_lower_total_give_money_back_as_credit(api, token):
    a = make_order(api, token, unit_price=100, quantity=2)
    b = make_order(api, token, unit_price=100)
    make_payment(api, token, a["customer_id"], 300)
    assert money(api, token, a, b) == [("remitted", 200, 0), ("remitted", 100, 0)]
    r = api.patch(f"/orders/{a['id']}", {"quantity": 1}, token=token)
    assert (r.json["total_amount"], r.json["paid_amount"], r.json["payment_status"]) == (100, 100, "remitted")
    assert check_ledger() == {db.get_db().customers.find_one()["_id"]: 10000}
    r = api.patch(f"/orders/{b['id']}", {"fulfillment_status": "cancelled"}, token=token)
    assert (r.json["paid_amount"], r.json["balance"]) == (0, 0)
    assert check_ledger() == {db.get_db().customers.find_one()["_id"]: 20000}
    # A raised total is owed again, and the buyer's credit pays it (issue 26: credit on
    # every path that creates money owed); reports say so.
    r = api.patch(f"/orders/{a['id']}", {"unit_price": 150}, token=token)
    assert (r.json["payment_status"], r.json["paid_amount"], r.json["balance"]) == ("remitted", 150, 0)
    row = api.get("/reports/buyers", token=token).json["rows"][0]
    assert (row["total_amount"], row["remitted_amount"], row["outstanding_amount"]) == (150, 150, 0)
    assert (
        row["credit_amount"] == 150
        and api.get("/reports/buyers", token=token).json["totals"]["credit_amount"] == 150
    )
    check_ledger()


def test_an_order_with_payments_keeps_its_buyer(api, token):
    a = make_order(api, token)
    bob = make_customer(api, token, email="bob@example.com", name="Bob")
    make_payment(api, token, a["customer_id"], 40)
    r = api.patch(f"/orders/{a['id']}", {"customer_id": bob["id"]}, token=token)
    assert (r.status, r.json["error"]["code"]) == (409, "order_has_payments")
    assert get_order(api, token, a)["customer_id"] == a["customer_id"]


def test_idempotency_key_records_one_payment(api, token):
    a = make_order(api, token, unit_price=100)
    key = {"Idempotency-Key": "pay-1"}
    first = api.post(
        "/payments",
        {"customer_id": a["customer_id"], "amount": 60, "method": "cash"},
        token=token,
        headers=key,
    )
    again = api.post(
        "/payments",
        {"customer_id": a["customer_id"], "amount": 60, "method": "cash"},
        token=token,
        headers=key,
    )
    assert (first.status, again.status) == (201, 200) and first.json["id"] == again.json["id"]
    assert money(api, token, a) == [("partial", 60, 40)]
    # The same key on an order is another key: the spaces do not collide.
    r = api.post(
        "/orders",
        {"buyer_email": "x@example.com", "item_name": "T", "quantity": 1, "unit_price": 1},
        token=token,
        headers=key,
    )
    assert r.status == 201


def test_a_failure_between_writes_is_finished_by_the_retry(api, token, monkeypatch):
    """The process dies after the payment and the first order are written: the ledger is
    half-applied; a retry with the same key finishes it, and so would the next money
    change of that buyer."""
    a = make_order(api, token, unit_price=100)
    b = make_order(api, token, unit_price=100)
    real = payments._set_share
    calls = []

    def dies_second_time(*args, **kw):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("Lambda timed out")
        return real(*args, **kw)

    monkeypatch.setattr(payments, "_set_share", dies_second_time)
    key = {"Idempotency-Key": "crash-1"}
    body = {"customer_id": a["customer_id"], "amount": 200, "method": "bank_transfer"}
    r = api.post("/payments", body, token=token, headers=key)
    assert r.status == 500
    assert money(api, token, a, b) == [("remitted", 100, 0), ("unpaid", 0, 100)]  # half done
    (half,) = db.get_db().payments.find()
    assert half["applied"] is False
    monkeypatch.setattr(payments, "_set_share", real)
    r = api.post("/payments", body, token=token, headers=key)
    assert r.status == 200 and r.json["id"] == str(half["_id"])
    assert money(api, token, a, b) == [("remitted", 100, 0), ("remitted", 100, 0)]
    assert db.get_db().payments.count_documents({}) == 1
    check_ledger()


def test_a_half_voided_payment_is_finished_by_the_next_change(api, token, monkeypatch):
    a = make_order(api, token, unit_price=100)
    b = make_order(api, token, unit_price=100)
    p = make_payment(api, token, a["customer_id"], 200)
    real = payments._set_share
    calls = []

    def dies_second_time(*args, **kw):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        return real(*args, **kw)

    monkeypatch.setattr(payments, "_set_share", dies_second_time)
    assert api.post(f"/payments/{p['id']}/void", token=token).status == 500
    monkeypatch.setattr(payments, "_set_share", real)
    # Another payment of the buyer first finishes the void, then allocates itself.
    p2 = make_payment(api, token, a["customer_id"], 100)
    assert [x["order_id"] for x in p2["allocations"]] == [a["id"]]
    assert money(api, token, a, b) == [("remitted", 100, 0), ("unpaid", 0, 100)]
    check_ledger()
    assert payments.repair() == 0


def test_buyer_reports_a_transfer_and_the_seller_confirms_or_rejects(api, token):
    a = make_order(api, token, unit_price=100)
    make_order(api, token, unit_price=200)
    api.patch("/auth/me", {"payment_instructions": "玉山銀行 808-1234567890"}, token=token)
    link = api.post(f"/customers/{a['customer_id']}/tracking-link", token=token).json["token"]
    page = api.get(f"/track/{link}").json
    assert (page["balance"], page["credit"], page["payments"]) == (300, 0, [])
    assert page["payment_instructions"] == "玉山銀行 808-1234567890"

    r = api.post(
        f"/track/{link}/payments", {"amount": 120, "paid_at": "2026-11-26", "account_last5": "54321"}
    )
    assert r.status == 201, r
    assert set(r.json) == {
        "amount",
        "paid_at",
        "account_last5",
        "note",
        "status",
        "source",
        "reject_reason",
        "created_at",
    }
    assert (r.json["status"], r.json["source"]) == ("reported", "buyer")
    page = api.get(f"/track/{link}").json
    assert page["balance"] == 300 and [p["status"] for p in page["payments"]] == ["reported"]
    (reported,) = api.get("/payments?status=reported", token=token).json["items"]
    assert (reported["account_last5"], reported["amount"]) == ("54321", 120)

    r = api.post(f"/payments/{reported['id']}/confirm", token=token)
    assert r.status == 200 and r.json["status"] == "confirmed"
    assert [x["amount"] for x in r.json["allocations"]] == [100, 20]
    assert api.post(f"/payments/{reported['id']}/confirm", token=token).status == 200  # a double click
    page = api.get(f"/track/{link}").json
    assert page["balance"] == 180 and [p["status"] for p in page["payments"]] == ["confirmed"]
    assert [o["paid_amount"] for o in page["orders"]] == [20, 100]

    second = api.post(f"/track/{link}/payments", {"amount": 999, "paid_at": "2026-11-27"}).json
    assert second["status"] == "reported"
    (pending,) = api.get("/payments?status=reported", token=token).json["items"]
    r = api.post(f"/payments/{pending['id']}/reject", {"reason": "沒有收到這筆"}, token=token)
    assert (r.json["status"], r.json["reject_reason"], r.json["allocations"]) == (
        "rejected",
        "沒有收到這筆",
        [],
    )
    assert api.post(f"/payments/{pending['id']}/void", token=token).status == 409
    page = api.get(f"/track/{link}").json
    assert page["balance"] == 180 and page["payments"][0]["reject_reason"] == "沒有收到這筆"
    # The buyer sees their own note, never the seller's.
    api.post(f"/track/{link}/payments", {"amount": 1, "note": "轉帳自媽媽的帳戶"})
    make_payment(api, token, a["customer_id"], 5, note="slow payer, remind twice")
    r = api.get(f"/track/{link}")
    assert [p["note"] for p in r.json["payments"]][:2] == [None, "轉帳自媽媽的帳戶"]
    assert b"slow payer" not in (r.body if isinstance(r.body, bytes) else r.body.encode())
    check_ledger()


def test_buyer_reports_are_limited_validated_and_idempotent(api, token):
    a = make_order(api, token)
    link = api.post(f"/customers/{a['customer_id']}/tracking-link", token=token).json["token"]
    for bad in (
        {"amount": 0, "paid_at": "2026-11-26"},
        {"amount": 10, "account_last5": "x"},
        {"amount": 10, "status": "confirmed"},
    ):
        assert api.post(f"/track/{link}/payments", bad).status == 400
    assert api.post("/track/" + "A" * 43 + "/payments", {"amount": 10}).status == 404
    key = {"Idempotency-Key": "tap-1"}
    first = api.post(f"/track/{link}/payments", {"amount": 10}, headers=key)
    again = api.post(f"/track/{link}/payments", {"amount": 10}, headers=key)
    assert (first.status, again.status) == (201, 200)
    for _ in range(4):
        assert api.post(f"/track/{link}/payments", {"amount": 10}).status == 201
    r = api.post(f"/track/{link}/payments", {"amount": 10})
    assert (r.status, r.json["error"]["code"]) == (429, "rate_limited")
    assert db.get_db().payments.count_documents({}) == 5
    # Nothing reported moved money.
    assert money(api, token, a) == [("unpaid", 0, 100)]


def test_an_order_cancelled_or_moved_after_the_payment_read_it_takes_nothing(api, token, monkeypatch):
    """A cancel, a lower total or a new buyer lands between the payment's read of the
    orders and its writes (those edits do not wait for the buyer's lock): the order takes
    only what it may hold and the rest stays credit, on every backend."""
    a = make_order(api, token, unit_price=100)
    b = make_order(api, token, unit_price=100, quantity=2)
    c = make_order(api, token, unit_price=100)
    bob = make_customer(api, token, email="bob@example.com", name="Bob")
    real = payments._open_orders

    def edits_after_read(*args):
        found = real(*args)
        api.patch(f"/orders/{a['id']}", {"fulfillment_status": "cancelled"}, token=token)
        api.patch(f"/orders/{b['id']}", {"quantity": 1}, token=token)
        api.patch(f"/orders/{c['id']}", {"customer_id": bob["id"]}, token=token)
        return found

    monkeypatch.setattr(payments, "_open_orders", edits_after_read)
    p = make_payment(api, token, a["customer_id"], 400)
    assert [(x["order_id"], x["amount"]) for x in p["allocations"]] == [(b["id"], 100)]
    assert p["unallocated"] == 300
    assert money(api, token, a, b, c) == [("unpaid", 0, 0), ("remitted", 100, 0), ("unpaid", 0, 100)]
    check_ledger()


def test_init_db_gives_orders_remitted_before_payments_their_payment(api, token, capsys):
    """Orders stored as remitted before the ledger existed (no paid_amount): init-db
    records the payment the switch would have made, once; reports stay the same."""
    from chalicelib import manage

    a = make_order(api, token, unit_price=120)
    b = make_order(api, token, unit_price=80)
    c = make_order(api, token, unit_price=50)
    old = db.get_db().orders
    remitted_at = db.get_db().orders.find_one()["created_at"]
    for o in (a, b):
        old.update_one(
            {"order_no": o["order_no"]},
            {
                "$set": {"payment_status": "remitted", "remitted_at": remitted_at},
                "$unset": {"paid_amount": ""},
            },
        )
    old.update_one(
        {"order_no": c["order_no"]},
        {"$set": {"fulfillment_status": "cancelled", "payment_status": "remitted"}},
    )
    assert manage.main(["init-db"]) == 0
    assert "2 remitted order(s) given their payment" in capsys.readouterr().out
    assert money(api, token, a, b) == [("remitted", 120, 0), ("remitted", 80, 0)]
    assert [p["amount"] for p in api.get("/payments", token=token).json["items"]] == [80, 120]
    row = api.get("/reports/buyers", token=token).json["rows"][0]
    assert (row["remitted_amount"], row["outstanding_amount"]) == (200, 0)
    check_ledger()
    assert manage.main(["init-db"]) == 0  # again: nothing more
    assert "given their payment" not in capsys.readouterr().out
    assert db.get_db().payments.count_documents({}) == 2


def test_repair_settles_an_import_that_died_between_its_payments_and_its_orders(api, token):
    """The import writes its payments first; a crash before (some of) its orders went in
    leaves payments naming orders that do not exist. repair keeps what exists."""
    import datetime as dt

    from bson import ObjectId

    a = make_order(api, token, unit_price=100)
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    base = db.get_db().payments
    cid = ObjectId(a["customer_id"])
    seller = db.get_db().orders.find_one()["seller_id"]
    present = db.get_db().orders.find_one()

    def import_payment(allocs, **more):
        doc = {
            "seller_id": seller,
            "customer_id": cid,
            "amount": sum(x["amount"] for x in allocs),
            "unallocated": 0,
            "allocations": allocs,
            "status": "confirmed",
            "source": "seller",
            "method": "other",
            "paid_at": "2026-11-26",
            "applied": True,
            "touch": [],
            "import_id": ObjectId(),
            "created_at": hour_ago,
            **more,
        }
        return base.insert_one(doc).inserted_id

    # Half the file went in: the order that exists carries its share, the other never came.
    db.get_db().orders.update_one(
        {"_id": present["_id"]}, {"$set": {"paid_amount": 4000, "paid_by": {}, "payment_status": "partial"}}
    )
    half = import_payment(
        [
            {"order_id": present["_id"], "order_no": 1001, "amount": 4000},
            {"order_id": ObjectId(), "order_no": 1002, "amount": 9000},
        ]
    )
    db.get_db().orders.update_one({"_id": present["_id"]}, {"$set": {f"paid_by.{half}": 4000}})
    none = import_payment([{"order_id": ObjectId(), "order_no": 1003, "amount": 5000}])
    fresh = import_payment(
        [{"order_id": ObjectId(), "order_no": 1004, "amount": 100}], created_at=dt.datetime.now(dt.UTC)
    )
    assert payments.repair() == 2
    assert (base.find_one({"_id": half})["amount"], base.find_one({"_id": none})["status"]) == (
        4000,
        "voided",
    )
    assert base.find_one({"_id": fresh})["status"] == "confirmed"  # may still be importing
    base.delete_one({"_id": fresh})
    check_ledger()
    assert payments.repair() == 0  # checked once
