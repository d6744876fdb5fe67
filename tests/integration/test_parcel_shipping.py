"""A parcel's shipping (issue 26, contract "Charges"): who pays its fee, what the carrier
was paid, and both in the profit report, on every backend."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from bson import ObjectId

from chalicelib.platform import db
from chalicelib.platform.key_index import COLLECTIONS as KEY_INDEX
from tests.factories import make_order, make_payment

TRIP = "2026-12 大阪"


def pack(api, token, orders, headers=None, **more):
    body = {
        "customer_id": orders[0]["customer_id"],
        "order_ids": [o["id"] for o in orders],
        "method": "cvs_711",
        "recipient": {"name": "Amy", "store_name": "信義門市", "store_id": "123456"},
        **more,
    }
    return api.post("/parcels", body, token=token, headers=headers)


def test_who_pays_the_shipping_and_what_the_carrier_got_are_kept(api, token):
    a, b = make_order(api, token), make_order(api, token)
    r = pack(api, token, [a])
    assert r.status == 201, r
    assert (r.json["shipping_paid_by"], r.json["shipping_cost"]) == ("buyer", None)

    r = pack(api, token, [b], shipping_fee=0, shipping_paid_by="seller", shipping_cost=45.5)
    assert r.status == 201, r
    assert (r.json["shipping_paid_by"], r.json["shipping_cost"]) == ("seller", 45.5)
    pid = r.json["id"]
    got = api.get(f"/parcels/{pid}", token=token).json
    assert (got["shipping_paid_by"], got["shipping_cost"]) == ("seller", 45.5)
    assert db.get_db().parcels.find_one({"_id": ObjectId(pid)})["shipping_cost"] == 4550  # cents

    r = api.patch(f"/parcels/{pid}", {"shipping_paid_by": "buyer", "shipping_cost": 60}, token=token)
    assert r.status == 200, r
    assert (r.json["shipping_paid_by"], r.json["shipping_cost"]) == ("buyer", 60)
    r = api.patch(f"/parcels/{pid}", {"shipping_cost": None}, token=token)  # not known after all
    assert (r.status, r.json["shipping_cost"], r.json["shipping_paid_by"]) == (200, None, "buyer")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"shipping_fee": -60}, "shipping_fee", "negative"),
        ({"shipping_cost": -1}, "shipping_cost", "negative"),
        ({"shipping_cost": 1.234}, "shipping_cost", "too_many_decimals"),
        ({"shipping_paid_by": "carrier"}, "shipping_paid_by", "literal_error"),
    ],
)
def test_a_bad_fee_cost_or_payer_is_400_naming_it_and_writes_nothing(api, token, body, field, code):
    o = make_order(api, token)
    before = list(db.get_db().orders.find({}, {"history": 0}))
    r = pack(api, token, [o], **body)
    assert r.status == 400, r
    assert [(d["field"], d["code"]) for d in r.json["error"]["details"]] == [(field, code)], r.json
    assert db.get_db().parcels.count_documents({}) == 0
    assert list(db.get_db().orders.find({}, {"history": 0})) == before

    p = pack(api, token, [o], shipping_fee=60, shipping_cost=50).json
    stored = db.get_db().parcels.find_one({})
    r = api.patch(f"/parcels/{p['id']}", body, token=token)
    assert r.status == 400, r
    assert [(d["field"], d["code"]) for d in r.json["error"]["details"]] == [(field, code)], r.json
    assert db.get_db().parcels.find_one({}) == stored
    assert db.get_db().charges.count_documents({"status": "open"}) <= 1


def test_the_payer_cannot_be_null(api, token):
    p = pack(api, token, [make_order(api, token)]).json
    r = api.patch(f"/parcels/{p['id']}", {"shipping_paid_by": None}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "shipping_paid_by", r.json


def test_profit_counts_the_parcels_shipping_cost_by_its_batch_and_month(api, token):
    # Two orders of the trip (cost in the shop currency, so no rate is needed) and one in
    # no batch; their parcel's carrier cost counts in the trip, where most of them are.
    a = make_order(api, token, batch=TRIP, unit_price=500, cost=300, shipping_fee=20)
    b = make_order(api, token, batch=TRIP, unit_price=250.5, cost=100.25)
    c = make_order(api, token, unit_price=80, cost=50)
    r = pack(api, token, [a, b, c], shipping_fee=0, shipping_paid_by="seller", shipping_cost=65.5)
    assert r.status == 201, r
    month = r.json["shipped_date"][:7]
    report = api.get("/reports/profit", token=token).json
    trip, none = report["by_batch"]
    assert (trip["batch"], none["batch"]) == (TRIP, None)
    # revenue 520 + 250.50; cost 300 + 100.25; the order's 20 passed on; the box 65.50
    assert (trip["revenue"], trip["cost"], trip["shipping_fees"]) == (770.5, 400.25, 20)
    assert (trip["shipping_charges"], trip["shipping_cost"]) == (0, 65.5)
    assert trip["profit"] == 770.5 - 20 - 400.25 - 65.5 == 284.75
    assert trip["margin"] == 0.3696  # 284.75 / 770.50
    assert (none["shipping_cost"], none["profit"]) == (0, 30)
    assert [(m["month"], m["shipping_cost"], m["profit"]) for m in report["by_month"]] == [
        (month, 65.5, 314.75)
    ]
    assert (report["totals"]["shipping_cost"], report["totals"]["profit"]) == (65.5, 314.75)

    # Filters apply to the parcel's cost as to the orders.
    other = api.get(f"/reports/profit?batch={quote('別的')}", token=token).json
    assert other["by_batch"] == [] and other["totals"]["shipping_cost"] == 0
    assert (
        api.get("/reports/profit?from=2001-01&to=2001-12", token=token).json["totals"]["shipping_cost"] == 0
    )

    csv = api.get("/reports/profit?format=csv&headers=en", token=token).body.decode("utf-8-sig").splitlines()
    assert csv[0].endswith(",missing_rate_count,shipping_charges,shipping_cost"), csv[0]
    assert csv[1].startswith(f"{TRIP},2,770.50,400.25,20,284.75,36.96%,") and csv[1].endswith(",0,65.50"), csv
    assert csv[-1].endswith(",0,65.50"), csv
    zh = api.get("/reports/profit?format=csv&headers=zh", token=token).body.decode("utf-8-sig").splitlines()
    assert zh[0].endswith(",包裹運費,實付運費"), zh[0]

    # A deleted parcel costs nothing; an edited cost counts as edited.
    assert api.patch(f"/parcels/{r.json['id']}", {"shipping_cost": 70}, token=token).status == 200
    assert api.get("/reports/profit", token=token).json["totals"]["shipping_cost"] == 70
    assert api.delete(f"/parcels/{r.json['id']}", token=token).status == 204
    assert api.get("/reports/profit", token=token).json["totals"]["shipping_cost"] == 0


# --- the parcel's fee billed to its buyer (a `shipping` charge) ----------------------------


def live_charges(parcel_id):
    return list(db.get_db().charges.find({"parcel_id": ObjectId(parcel_id), "status": "open"}))


def charges_of(parcel_id):
    return list(db.get_db().charges.find({"parcel_id": ObjectId(parcel_id)}))


def owed(api, token, order):
    """What the buyer owes on their orders and charges (GET /orders, GET /charges)."""
    cid = order["customer_id"]
    orders = api.get(f"/orders?customer_id={cid}&limit=200", token=token).json["items"]
    charges = api.get(f"/charges?customer_id={cid}&limit=200", token=token).json["items"]
    return round(sum(o["balance"] for o in orders) + sum(c["balance"] for c in charges), 2)


def seen_by_buyer_and_report(api, token, order):
    """What the buyer owes as their page (GET /track) and the buyers report say it."""
    link = api.post(f"/customers/{order['customer_id']}/tracking-link", token=token).json["token"]
    page = api.get(f"/track/{link}").json
    rows = api.get("/reports/buyers", token=token).json["rows"]
    (row,) = [r for r in rows if r["customer_id"] == order["customer_id"]]
    return page["balance"], row["outstanding_amount"]


def test_a_60_fee_raises_the_buyers_balance_everywhere_and_a_payment_covers_it(api, token):
    o = make_order(api, token, unit_price=100)
    assert owed(api, token, o) == 100
    r = pack(api, token, [o], shipping_fee=60)
    assert r.status == 201, r
    (charge,) = live_charges(r.json["id"])
    assert (charge["amount"], charge["kind"], charge["key"]) == (6000, "shipping", f"parcel:{r.json['id']}")
    assert owed(api, token, o) == 160
    slip = api.get(f"/parcels/{r.json['id']}/packing-slip", token=token).body.decode()
    assert '<tr class="shipping">' in slip and "NT$60" in slip
    assert "NT$160" in slip  # the total and what is still to pay: the order and the shipping
    hidden = api.get(f"/parcels/{r.json['id']}/packing-slip?prices=false", token=token).body.decode()
    assert "NT$" not in hidden and 'class="shipping"' not in hidden

    make_payment(api, token, o["customer_id"], 160)
    assert owed(api, token, o) == 0
    (charge,) = live_charges(r.json["id"])
    assert charge["paid_amount"] == 6000
    slip = api.get(f"/parcels/{r.json['id']}/packing-slip", token=token).body.decode()
    assert "NT$160" in slip and ("Still to pay" not in slip and "尚未付款" not in slip)


def test_the_buyers_credit_pays_the_fee_at_once(api, token):
    o = make_order(api, token, unit_price=100)
    make_payment(api, token, o["customer_id"], 130)  # 30 beyond the order: credit
    r = pack(api, token, [o], shipping_fee=60)
    (charge,) = live_charges(r.json["id"])
    assert charge["paid_amount"] == 3000
    assert owed(api, token, o) == 30


def test_the_buyers_page_and_the_buyers_report_count_the_fee(api, token):
    o = make_order(api, token, unit_price=100)
    pid = pack(api, token, [o], shipping_fee=60).json["id"]
    assert seen_by_buyer_and_report(api, token, o) == (160, 160)
    assert api.patch(f"/parcels/{pid}", {"shipping_fee": 80}, token=token).status == 200
    assert seen_by_buyer_and_report(api, token, o) == (180, 180)
    make_payment(api, token, o["customer_id"], 180)
    assert seen_by_buyer_and_report(api, token, o) == (0, 0)
    assert api.delete(f"/parcels/{pid}", token=token).status == 204
    assert seen_by_buyer_and_report(api, token, o) == (0, 0)


def test_a_seller_paid_fee_bills_nothing(api, token):
    o = make_order(api, token)
    r = pack(api, token, [o], shipping_fee=60, shipping_paid_by="seller", shipping_cost=55)
    assert r.status == 201, r
    assert charges_of(r.json["id"]) == []
    assert owed(api, token, o) == 100
    slip = api.get(f"/parcels/{r.json['id']}/packing-slip", token=token).body.decode()
    assert 'class="shipping"' not in slip and "NT$60" not in slip


def test_editing_the_fee_or_who_pays_follows_on_the_charge_and_delete_voids_it(api, token):
    o = make_order(api, token)
    pid = pack(api, token, [o], shipping_fee=60).json["id"]
    url = f"/parcels/{pid}"

    def live():
        return [c["amount"] for c in live_charges(pid)]

    assert api.patch(url, {"shipping_fee": 80}, token=token).status == 200
    assert live() == [8000] and owed(api, token, o) == 180
    assert api.patch(url, {"shipping_fee": 0}, token=token).status == 200
    assert live() == [] and owed(api, token, o) == 100
    assert api.patch(url, {"shipping_fee": 50}, token=token).status == 200
    assert live() == [5000]
    assert api.patch(url, {"shipping_paid_by": "seller"}, token=token).status == 200
    assert live() == [] and owed(api, token, o) == 100
    assert api.patch(url, {"shipping_paid_by": "buyer", "shipping_fee": 70}, token=token).status == 200
    assert live() == [7000] and owed(api, token, o) == 170
    # A tracking number edit leaves the charge alone.
    assert api.patch(url, {"tracking_number": "123"}, token=token).status == 200
    assert live() == [7000] and len(charges_of(pid)) == 3  # 80 (voided), 50 (voided), 70

    make_payment(api, token, o["customer_id"], 170)
    assert api.delete(url, token=token).status == 204
    assert live() == [] and {c["status"] for c in charges_of(pid)} == {"void"}
    # The 70 paid for the voided shipping is the buyer's credit again: they owe nothing.
    assert owed(api, token, o) == 0


def test_a_retried_create_makes_one_charge_and_a_crash_before_it_converges(api, token, monkeypatch):
    from chalicelib.money import charges

    o = make_order(api, token)
    headers = {"Idempotency-Key": "pack-1"}
    first = pack(api, token, [o], shipping_fee=60, headers=headers)
    again = pack(api, token, [o], shipping_fee=60, headers=headers)
    assert (first.status, again.status) == (201, 200) and first.json["id"] == again.json["id"]
    assert [c["amount"] for c in charges_of(first.json["id"])] == [6000]

    # The parcel is written, then the request dies before its charge: the retry bills it.
    b = make_order(api, token)
    real = charges.add

    def dies(*args, **kw):
        raise RuntimeError("lambda stopped")

    monkeypatch.setattr(charges, "add", dies)
    assert pack(api, token, [b], shipping_fee=60, headers={"Idempotency-Key": "pack-2"}).status == 500
    (parcel,) = db.get_db().parcels.find({"order_ids": ObjectId(b["id"])})
    assert charges_of(parcel["_id"]) == [] and parcel.get("billing") is not None
    monkeypatch.setattr(charges, "add", real)
    retry = pack(api, token, [b], shipping_fee=60, headers={"Idempotency-Key": "pack-2"})
    assert retry.status == 200 and retry.json["id"] == str(parcel["_id"])
    assert [c["amount"] for c in live_charges(parcel["_id"])] == [6000]
    assert db.get_db().parcels.find_one({"_id": parcel["_id"]}).get("billing") is None
    # A read of a parcel left so finishes it too (and a second read changes nothing).
    c = make_order(api, token)
    monkeypatch.setattr(charges, "add", dies)
    assert pack(api, token, [c], shipping_fee=25).status == 500
    monkeypatch.setattr(charges, "add", real)
    (left,) = db.get_db().parcels.find({"order_ids": ObjectId(c["id"])})
    assert api.get(f"/parcels/{left['_id']}", token=token).status == 200
    assert api.get(f"/parcels/{left['_id']}", token=token).status == 200
    assert [c["amount"] for c in live_charges(left["_id"])] == [2500]


def test_a_negative_fee_in_a_patch_changes_no_charge(api, token):
    o = make_order(api, token)
    pid = pack(api, token, [o], shipping_fee=60).json["id"]
    before = charges_of(pid)
    r = api.patch(f"/parcels/{pid}", {"shipping_fee": -1}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "shipping_fee"
    assert charges_of(pid) == before


def test_profit_counts_shipping_charges_and_costs_in_exact_cents(api, token):
    a = make_order(api, token, batch=TRIP, unit_price=1000, cost=600)
    b = make_order(api, token, batch=TRIP, unit_price=200.4, cost=120.15, buyer_email="ben@example.com")
    p1 = pack(api, token, [a], shipping_fee=60.5, shipping_cost=45.25).json
    p2 = pack(api, token, [b], shipping_fee=38, shipping_paid_by="seller", shipping_cost=38).json
    assert p1["shipping_paid_by"] == "buyer" and p2["shipping_paid_by"] == "seller"
    # A charge the seller adds by hand for the trip's shipping counts too; a voided one not.
    hand = api.post(
        "/charges",
        {"customer_id": b["customer_id"], "amount": 12.3, "kind": "shipping", "batch": TRIP},
        token=token,
    )
    assert hand.status == 201, hand
    duty = api.post("/charges", {"customer_id": b["customer_id"], "amount": 99, "kind": "duty"}, token=token)
    assert duty.status == 201, duty
    (trip,) = api.get("/reports/profit", token=token).json["by_batch"]
    # revenue 1000 + 200.40; cost 600 + 120.15; charges 60.50 + 12.30; carriers 45.25 + 38
    assert (trip["revenue"], trip["cost"]) == (1200.4, 720.15)
    assert (trip["shipping_charges"], trip["shipping_fees"], trip["shipping_cost"]) == (72.8, 72.8, 83.25)
    assert trip["profit"] == 469.8  # 1200.40 - 720.15 + 72.80 - 83.25
    assert trip["margin"] == 0.3914  # 469.80 / 1200.40

    assert api.patch(f"/parcels/{p1['id']}", {"shipping_fee": 0}, token=token).status == 200
    totals = api.get("/reports/profit", token=token).json["totals"]
    assert (totals["shipping_charges"], totals["profit"]) == (12.3, 409.3)
    csv = api.get("/reports/profit?format=csv&headers=en", token=token).body.decode("utf-8-sig").splitlines()
    assert csv[-1] == "TOTAL,2,1200.40,720.15,12.30,409.30,34.10%,2,0,0,12.30,83.25", csv


def test_the_charges_export_lists_each_charge_with_its_parcel_and_balance(api, token, other_token):
    a = make_order(api, token, batch=TRIP)
    ben = make_order(api, token, buyer_email="ben@example.com", buyer_name="Ben")
    p1 = pack(api, token, [a], shipping_fee=60).json
    make_payment(api, token, a["customer_id"], 120)  # the order (100) and 20 of the shipping
    p2 = pack(api, token, [ben], shipping_fee=45.5).json
    assert api.patch(f"/parcels/{p2['id']}", {"shipping_fee": 0}, token=token).status == 200  # voided

    r = api.get("/export/charges?headers=en", token=token)
    assert r.status == 200 and r.headers["content-type"].startswith("text/csv"), r
    assert "charges-" in r.headers["content-disposition"]
    lines = r.body.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "id,buyer_name,customer_id,kind,amount,paid_amount,balance,status,parcel_no,batch,note,created_at"
    )
    rows = [line.split(",") for line in lines[1:]]
    assert [row[1:10] for row in rows] == [
        ["amy", a["customer_id"], "shipping", "60", "20", "40", "open", str(p1["parcel_no"]), TRIP],
        ["Ben", ben["customer_id"], "shipping", "45.50", "0", "0", "void", str(p2["parcel_no"]), ""],
    ]
    zh = api.get("/export/charges?headers=zh&status=open", token=token).body.decode("utf-8-sig").splitlines()
    assert zh[0].startswith("費用ID,買家姓名,買家ID,類別,金額,已付金額,未付餘額") and len(zh) == 2
    only = api.get(f"/export/charges?format=json&customer_id={ben['customer_id']}", token=token).json
    assert [(c["amount"], c["status"], c["parcel_id"]) for c in only["items"]] == [(45.5, "void", p2["id"])]
    assert (
        api.get(f"/export/charges?format=json&batch={quote(TRIP)}", token=token).json["items"][0]["balance"]
        == 40
    )
    assert api.get("/export/charges?format=json", token=other_token).json["items"] == []  # another seller's
    bad = api.get("/export/charges?status=paid", token=token)
    assert bad.status == 400 and bad.json["error"]["code"] == "invalid_query"


def test_commands_of_a_parcel_billed_to_its_buyer(api, commands, backend):
    """POST /parcels with a fee the buyer pays: the four commands of a parcel
    (tests/integration/test_parcels.py), then its charge: 12 in all, plus the lock
    documents (insert/delete on `locks`: the parcel's fee lock, the buyer's money lock),
    left out here."""
    if commands is None:
        pytest.skip("mongomock sends no wire commands to count")
    from chalicelib.sales import orders
    from chalicelib.sales.schemas import OrderIn
    from chalicelib.shipping import parcels
    from chalicelib.shipping.schemas import ParcelIn, Recipient
    from tests.factories import make_principal

    who = make_principal(api)
    made = orders.create(
        who, OrderIn(buyer_email="amy@example.com", item_name="Tea", quantity=1, unit_price=100)
    )[0]
    commands.names.clear()
    commands.bodies.clear()
    body = ParcelIn(
        customer_id=made["customer_id"],
        order_ids=[made["id"]],
        method="home",
        recipient=Recipient(phone="0912"),
        shipping_fee=60,
    )
    parcels.create(who, body)
    pairs = [
        (n, b.get(n))
        for n, b in zip(commands.names, commands.bodies, strict=True)
        if b.get(n) != "locks" and b.get(n) not in KEY_INDEX  # FerretDB's only (key_index.py)
    ]
    assert pairs == [
        ("find", "orders"),  # the parcel's four
        ("findAndModify", "counters"),
        ("insert", "parcels"),  # with its billing mark
        ("update", "orders"),
        ("find", "parcels"),  # read again under the parcel's fee lock
        ("find", "payments"),  # charges.add: the buyer's money lock's unit of work
        ("find", "customers"),  # the buyer (name, credit)
        ("find", "charges"),  # a live charge with the key?
        ("find", "parcels"),  # the parcel's number, for the charge
        ("update", "customers"),  # the buyer has had a charge (payments then read charges)
        ("insert", "charges"),
        ("update", "parcels"),  # the billing mark cleared
    ], pairs


def test_a_returned_parcel_keeps_its_charge_and_a_delivered_one_too(api, token):
    """The carrier was paid either way: only unpacking (DELETE) takes the fee back."""
    a, b = make_order(api, token), make_order(api, token)
    back = pack(api, token, [a], shipping_fee=60).json
    there = pack(api, token, [b], shipping_fee=40).json
    assert api.patch(f"/parcels/{back['id']}", {"status": "returned"}, token=token).status == 200
    assert api.patch(f"/parcels/{there['id']}", {"status": "delivered"}, token=token).status == 200
    assert [c["amount"] for c in live_charges(back["id"])] == [6000]
    assert [c["amount"] for c in live_charges(there["id"])] == [4000]
    assert owed(api, token, a) == 300  # two orders of 100, the two fees
