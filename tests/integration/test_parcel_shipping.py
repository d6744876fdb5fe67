"""A parcel's shipping (issue 26, contract "Charges"): who pays its fee, what the carrier
was paid, and both in the profit report, on every backend."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from bson import ObjectId

from chalicelib.platform import db
from tests.factories import make_order

TRIP = "2026-12 大阪"


def pack(api, token, orders, **more):
    body = {
        "customer_id": orders[0]["customer_id"],
        "order_ids": [o["id"] for o in orders],
        "method": "cvs_711",
        "recipient": {"name": "Amy", "store_name": "信義門市", "store_id": "123456"},
        **more,
    }
    return api.post("/parcels", body, token=token)


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
