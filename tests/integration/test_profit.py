"""Costs, batches' exchange rates and the profit report, on every backend: cost in its
own currency's minor units, cost_amount half up at the batch's rate and never guessed,
closed batches, and the report's sums against the orders themselves."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote

import pytest

from tests.factories import make_order

TRIP = "2026-12 東京"
URL = f"/batches/{quote(TRIP)}"


@pytest.fixture
def t(api):
    return api.signup()


def test_item_cost_is_copied_to_orders_and_converted_at_the_batch_rate(api, t):
    item = api.post(
        "/items", {"item_name": "Pocky", "price": 120, "cost": 150, "cost_currency": "JPY"}, token=t
    )
    assert item.status == 201 and (item.json["cost"], item.json["cost_currency"]) == (150, "JPY")
    o = make_order(
        api,
        t,
        item_id=item.json["id"],
        item_name=None,
        unit_price=None,
        quantity=3,
        batch=TRIP,
        shipping_fee=60,
    )
    assert (o["cost"], o["cost_currency"]) == (150, "JPY")
    assert o["cost_amount"] is None and o["profit"] is None  # no rate yet: never a guess

    listed = api.get("/batches", token=t).json
    assert [(b["name"], b["order_count"], b["missing_rates"]) for b in listed] == [(TRIP, 1, ["JPY"])]

    r = api.patch(URL, {"rates": {"JPY": "0.2115"}}, token=t)
    assert r.status == 200, r.json
    assert r.json["rates"] == {"JPY": "0.2115"} and r.json["missing_rates"] == []
    got = api.get(f"/orders/{o['id']}", token=t).json
    # ¥150 × 3 × 0.2115 = 95.175 -> 95.18 (half up); 360 - 60 - 95.18
    assert got["cost_amount"] == 95.18
    assert got["profit"] == 264.82

    # The item's cost changing later leaves the order's copy alone.
    assert api.patch(f"/items/{item.json['id']}", {"cost": 999}, token=t).json["cost_currency"] == "JPY"
    assert api.get(f"/orders/{o['id']}", token=t).json["cost"] == 150


def test_rounding_is_half_up_to_the_shop_currency(api, t):
    assert api.patch(URL, {"rates": {"JPY": "0.2125", "USD": "31.5"}}, token=t).status == 200
    cases = [
        ({"cost": 10, "cost_currency": "JPY"}, 1, Decimal("2.13")),  # 2.125 -> 2.13, not 2.12
        ({"cost": 1234, "cost_currency": "JPY"}, 1, Decimal("262.23")),  # 262.225 -> .23
        ({"cost": 12.34, "cost_currency": "USD"}, 3, Decimal("1166.13")),  # 1166.13
        ({"cost": 80}, 2, Decimal("160")),  # the shop's own currency needs no rate
    ]
    for cost, qty, expected in cases:
        o = make_order(api, t, quantity=qty, batch=TRIP, unit_price=2000, **cost)
        amount = Decimal(str(o["cost_amount"]))
        raw = (
            Decimal(str(cost["cost"]))
            * qty
            * {"JPY": Decimal("0.2125"), "USD": Decimal("31.5")}.get(cost.get("cost_currency"), Decimal(1))
        )
        assert amount == expected == raw.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), (cost, o)


def test_shop_currency_cost_needs_no_batch_and_foreign_cost_without_batch_is_unknown(api, t):
    own = make_order(api, t, cost=55.5)
    assert (own["cost_currency"], own["cost_amount"], own["profit"]) == ("TWD", 55.5, 44.5)
    foreign = make_order(api, t, cost=500, cost_currency="KRW")
    assert foreign["cost_amount"] is None and foreign["profit"] is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"cost": 150.5, "cost_currency": "JPY"}, "too_many_decimals"),
        ({"cost": 1000.1, "cost_currency": "KRW"}, "too_many_decimals"),
        ({"cost": 1.234, "cost_currency": "USD"}, "too_many_decimals"),
        ({"cost": -1}, "negative"),
        ({"cost": "12"}, "not_a_number"),
        ({"cost": 1, "cost_currency": "XXX"}, "unknown_currency"),
        ({"cost": 1, "cost_currency": "jpy"}, "string_pattern_mismatch"),
        ({"cost": 10**9}, "too_large"),
    ],
)
def test_bad_costs_are_400_and_write_nothing(api, t, body, code):
    for path, base in (("/items", {"item_name": "X", "price": 1}), ("/orders", None)):
        full = {
            **(base or {"buyer_email": "b@example.com", "item_name": "X", "quantity": 1, "unit_price": 1}),
            **body,
        }
        r = api.post(path, full, token=t)
        assert r.status == 400, (path, r.json)
        assert [d["code"] for d in r.json["error"]["details"]] == [code], r.json
    assert api.get("/items", token=t).json["items"] == []
    assert api.get("/orders", token=t).json["items"] == []


@pytest.mark.parametrize(
    ("rates", "code"),
    [
        ({"JPY": "0"}, "not_positive"),
        ({"JPY": "-0.2"}, "not_positive"),
        ({"JPY": "0.1234567"}, "too_many_decimals"),
        ({"JPY": "abc"}, "not_a_number"),
        ({"JPY": "1000000"}, "too_large"),
        ({"XAU": "1"}, "unknown_currency"),
        ({"TWD": "1"}, "shop_currency"),
    ],
)
def test_bad_rates_are_400_and_change_nothing(api, t, rates, code):
    o = make_order(api, t, cost=100, cost_currency="JPY", batch=TRIP)
    assert api.patch(URL, {"rates": {"JPY": "0.2"}}, token=t).status == 200
    r = api.patch(URL, {"rates": rates}, token=t)
    assert r.status == 400, r.json
    assert code in [d["code"] for d in r.json["error"]["details"]], r.json
    (batch,) = api.get("/batches", token=t).json
    assert batch["rates"] == {"JPY": "0.2"}
    assert api.get(f"/orders/{o['id']}", token=t).json["cost_amount"] == 20


def test_rates_merge_per_currency_and_null_removes_one(api, t):
    jp = make_order(api, t, cost=1000, cost_currency="JPY", batch=TRIP)
    kr = make_order(api, t, cost=10000, cost_currency="KRW", batch=TRIP)
    api.patch(URL, {"rates": {"JPY": "0.21", "KRW": "0.0235"}}, token=t)
    assert api.patch(URL, {"rates": {"JPY": "0.22"}}, token=t).json["rates"] == {
        "JPY": "0.22",
        "KRW": "0.0235",
    }
    assert api.get(f"/orders/{jp['id']}", token=t).json["cost_amount"] == 220
    assert api.get(f"/orders/{kr['id']}", token=t).json["cost_amount"] == 235
    r = api.patch(URL, {"rates": {"KRW": None}}, token=t)
    assert r.json["rates"] == {"JPY": "0.22"} and r.json["missing_rates"] == ["KRW"]
    assert api.get(f"/orders/{kr['id']}", token=t).json["cost_amount"] is None


def test_closed_batch_takes_no_new_orders_and_keeps_its_rates(api, t):
    o = make_order(api, t, cost=1000, cost_currency="JPY", batch=TRIP)
    api.patch(URL, {"rates": {"JPY": "0.2"}, "note": "flight 5 Dec"}, token=t)
    closed = api.patch(URL, {"closed": True}, token=t).json
    assert closed["closed"] is True and closed["note"] == "flight 5 Dec"

    r = api.post(
        "/orders",
        {"buyer_email": "b@example.com", "item_name": "X", "quantity": 1, "unit_price": 1, "batch": TRIP},
        token=t,
    )
    assert r.status == 409 and r.json["error"]["code"] == "batch_closed"
    other = make_order(api, t, batch="2027-01 大阪")
    moved = api.patch(f"/orders/{other['id']}", {"batch": TRIP}, token=t)
    assert moved.status == 409 and moved.json["error"]["code"] == "batch_closed"
    rate = api.patch(URL, {"rates": {"JPY": "0.3"}}, token=t)
    assert rate.status == 409 and rate.json["error"]["code"] == "batch_closed"
    assert api.get(f"/orders/{o['id']}", token=t).json["cost_amount"] == 200
    assert len(api.get("/orders", token=t).json["items"]) == 2

    # Statuses of its orders still move; reopening (in the same PATCH) lets rates change.
    assert api.patch(f"/orders/{o['id']}", {"fulfillment_status": "purchased"}, token=t).status == 200
    reopened = api.patch(URL, {"closed": False, "rates": {"JPY": "0.3"}}, token=t)
    assert reopened.status == 200 and reopened.json["closed"] is False
    assert api.get(f"/orders/{o['id']}", token=t).json["cost_amount"] == 300


def test_order_edits_convert_again(api, t):
    api.patch(URL, {"rates": {"JPY": "0.2"}}, token=t)
    api.patch(f"/batches/{quote('首爾')}", {"rates": {"JPY": "0.25"}}, token=t)
    o = make_order(api, t, cost=1000, cost_currency="JPY", batch=TRIP, unit_price=500)
    steps = [
        ({"quantity": 2}, 400, 600),
        ({"cost": 1500}, 600, 400),  # keeps JPY
        ({"batch": "首爾"}, 750, 250),
        ({"cost_currency": "USD"}, None, None),  # US$1500: no USD rate in 首爾
        ({"cost": None}, None, None),
        ({"cost": 300, "cost_currency": "TWD", "batch": ""}, 600, 400),
    ]
    for patch, amount, profit in steps:
        r = api.patch(f"/orders/{o['id']}", patch, token=t)
        assert r.status == 200, (patch, r.json)
        assert (r.json["cost_amount"], r.json["profit"]) == (amount, profit), (patch, r.json)
    bad = api.patch(f"/orders/{o['id']}", {"cost_currency": "JPY", "cost": 1.5}, token=t)
    assert bad.status == 400 and bad.json["error"]["details"][0]["code"] == "too_many_decimals"


def test_profit_report_per_batch_and_month_matches_the_orders(api, t):
    api.patch(URL, {"rates": {"JPY": "0.2115"}}, token=t)
    made = [
        make_order(api, t, batch=TRIP, cost=1000, cost_currency="JPY", unit_price=400, shipping_fee=60),
        make_order(api, t, batch=TRIP, cost=333, cost_currency="JPY", quantity=3, unit_price=150),
        make_order(api, t, batch=TRIP, cost=20, cost_currency="KRW", unit_price=50),  # no KRW rate
        make_order(api, t, batch=TRIP, unit_price=70),  # no cost
        make_order(api, t, cost=40, unit_price=90, shipping_fee=10),  # no batch, shop currency
    ]
    cancelled = make_order(api, t, batch=TRIP, cost=1, unit_price=9999)
    gone = api.patch(f"/orders/{cancelled['id']}", {"fulfillment_status": "cancelled"}, token=t).json
    refunded = make_order(api, t, batch=TRIP, cost=1, unit_price=8888)
    back = api.patch(f"/orders/{refunded['id']}", {"payment_status": "refunded"}, token=t).json
    # No sale, no profit: the cost stays known, the profit is null (and left out below).
    assert (gone["cost_amount"], gone["profit"], back["cost_amount"], back["profit"]) == (1, None, 1, None)

    report = api.get("/reports/profit", token=t).json
    orders = [api.get(f"/orders/{o['id']}", token=t).json for o in made]
    trip = [o for o in orders if o["batch"] == TRIP]
    costed = [o for o in trip if o["cost_amount"] is not None]
    cents = lambda v: round(Decimal(str(v)) * 100)  # noqa: E731
    row = report["by_batch"][0]
    assert row["batch"] == TRIP and row["order_count"] == 4
    assert cents(row["revenue"]) == sum(cents(o["total_amount"]) for o in trip)
    assert cents(row["cost"]) == sum(cents(o["cost_amount"]) for o in costed)
    assert cents(row["profit"]) == sum(cents(o["profit"]) for o in costed)
    assert cents(row["shipping_fees"]) == 6000
    assert (row["costed_count"], row["missing_cost_count"], row["missing_rate_count"]) == (2, 1, 1)
    costed_revenue = sum(cents(o["total_amount"]) for o in costed)
    expected_margin = (Decimal(cents(row["profit"])) / costed_revenue).quantize(
        Decimal("0.0001"), ROUND_HALF_UP
    )
    assert Decimal(str(row["margin"])) == expected_margin
    assert report["by_batch"][1]["batch"] is None and report["by_batch"][1]["profit"] == 50  # 100 - 10 - 40
    assert report["totals"]["order_count"] == 5 and report["currency"] == "TWD"
    (month,) = report["by_month"]
    assert {k: v for k, v in month.items() if k != "month"} == {
        k: v for k, v in report["totals"].items() if k not in ("batch", "month")
    }

    only = api.get(f"/reports/profit?batch={quote(TRIP)}", token=t).json
    assert [r["batch"] for r in only["by_batch"]] == [TRIP]
    assert api.get("/reports/profit?from=2001-01&to=2001-12", token=t).json["totals"]["order_count"] == 0
    bad = api.get("/reports/profit?from=2026-13", token=t)
    assert bad.status == 400 and bad.json["error"]["code"] == "invalid_query"

    csv = api.get("/reports/profit?format=csv&headers=en", token=t)
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("batch,order_count,revenue,cost,shipping_fees,profit,margin")
    assert lines[1].startswith(f"{TRIP},4,") and lines[2].startswith("(no batch),1,100,40,10,50")
    assert lines[-1].startswith("TOTAL,5,")
    by_month = api.get("/reports/profit?format=csv&by=month", token=t).body.decode("utf-8-sig").splitlines()
    assert by_month[0].startswith("月份,訂單數,營收,成本") and len(by_month) == 3


def test_no_cost_anywhere_reports_unknown_not_zero(api, t):
    make_order(api, t, batch=TRIP)
    row = api.get("/reports/profit", token=t).json["totals"]
    assert (row["cost"], row["profit"], row["margin"], row["missing_cost_count"]) == (None, None, None, 1)


def test_changing_the_shop_currency_converts_costs_again(api, t):
    api.patch(URL, {"rates": {"JPY": "0.2"}}, token=t)
    jp = make_order(api, t, batch=TRIP, cost=1000, cost_currency="JPY")
    tw = make_order(api, t, batch=TRIP, cost=50)
    assert (jp["cost_amount"], tw["cost_amount"]) == (200, 50)
    r = api.patch("/auth/me", {"currency": "JPY"}, token=t)
    assert r.status == 200
    t2 = r.json["token"]
    # JPY is now the shop's own currency; TWD needs a rate this batch does not have.
    assert api.get(f"/orders/{jp['id']}", token=t2).json["cost_amount"] == 1000
    assert api.get(f"/orders/{tw['id']}", token=t2).json["cost_amount"] is None
    assert api.patch("/auth/me", {"currency": "KWD"}, token=t2).status == 400  # 3 decimals
    assert api.patch("/auth/me", {"currency": "XXX"}, token=t2).status == 400


def test_batches_list_and_note(api, t):
    make_order(api, t, batch="2026-11 首爾", cost=1000, cost_currency="KRW")
    make_order(api, t, batch=TRIP, unit_price=300)
    api.patch(f"/batches/{quote('2027-01 prep')}", {"note": "no orders yet"}, token=t)
    api.patch(f"/batches/{quote('2026-11 首爾')}", {"closed": True}, token=t)
    rows = api.get("/batches", token=t).json
    assert [(r["name"], r["order_count"], r["closed"]) for r in rows] == [
        ("2027-01 prep", 0, False),
        (TRIP, 1, False),
        ("2026-11 首爾", 1, True),
    ]
    assert rows[0]["note"] == "no orders yet" and rows[1]["total_amount"] == 300
    assert rows[2]["missing_rates"] == ["KRW"]
    assert api.patch(URL, {}, token=t).status == 400
    assert api.patch(URL, {"closed": None}, token=t).status == 400


def test_a_rate_change_converts_a_large_batch(api, t):
    """A sweep of more orders than FerretDB takes in one update command (49: it then hangs,
    docs/ferretdb.md) goes through on every backend, and so does a shop currency change."""
    from chalicelib.accounts import auth
    from chalicelib.sales import orders
    from chalicelib.sales.schemas import OrderIn

    who = auth.authenticate(f"Bearer {t}")
    body = {"buyer_email": "amy@example.com", "item_name": "Pocky", "unit_price": 300, "batch": TRIP}
    for q in range(1, 121):
        orders.create(who, OrderIn(**body, quantity=q % 7 + 1, cost=Decimal(100 + q), cost_currency="JPY"))
    assert api.patch(URL, {"rates": {"JPY": "0.2"}}, token=t).status == 200
    listed = api.get("/orders?limit=200", token=t).json["items"]
    assert len(listed) == 120
    for o in listed:
        want = (Decimal(str(o["cost"])) * o["quantity"] * Decimal("0.2")).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
        assert Decimal(str(o["cost_amount"])) == want, o
    me = api.patch("/auth/me", {"currency": "JPY"}, token=t).json
    listed = api.get("/orders?limit=200", token=me["token"]).json["items"]
    assert all(o["cost_amount"] == o["cost"] * o["quantity"] for o in listed)
