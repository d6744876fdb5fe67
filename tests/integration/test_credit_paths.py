"""Credit is used on every path that creates money owed (issue 26): an overpaid buyer's
next order starts paid by their credit, whether the seller types it (by customer id or by
email), the buyer orders through a form, the seller imports it from a CSV file, or a
PATCH raises what an order owes (quantity, price, shipping fee, another buyer). On every lane; the ledger is checked after each."""

from __future__ import annotations

import pytest
from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.tracking import tracking
from tests.factories import BUYER, make_customer, make_item, make_order, make_payment


@pytest.fixture(autouse=True)
def no_floor(monkeypatch):
    monkeypatch.setattr(tracking, "REQUEST_FLOOR_SECONDS", 0.0)


def overpaid(api, token, amount=300, **who) -> dict:
    """Amy with `amount` of credit: a payment while she owes nothing."""
    amy = make_customer(api, token, **who)
    payment = make_payment(api, token, amy["id"], amount)
    assert payment["allocations"] == [] and check_ledger() == {ObjectId(amy["id"]): amount * 100}
    return amy


def credit_of(api, token, customer_id) -> float:
    rows = api.get("/reports/buyers", token=token).json["rows"]
    return next(r["credit_amount"] for r in rows if r["customer_id"] == customer_id)


def money(order: dict) -> tuple:
    return (order["paid_amount"], order["balance"], order["payment_status"])


@pytest.mark.parametrize("by", ["customer_id", "buyer_email"])
def test_a_typed_order_starts_paid_by_the_credit(api, token, by):
    amy = overpaid(api, token)
    who = {"customer_id": amy["id"]} if by == "customer_id" else {"buyer_email": BUYER}
    order = make_order(api, token, unit_price=120, **who)
    assert money(order) == (120, 0, "remitted")
    assert credit_of(api, token, amy["id"]) == 180
    check_ledger()


def test_a_form_order_starts_paid_by_the_credit(api, token):
    amy = overpaid(api, token, amount=150)
    pocky = make_item(api, token, item_name="Pocky", price=100)
    form = api.post(
        "/forms", {"batch": "B1", "title": "Group buy", "items": [{"item_id": pocky["id"]}]}, token=token
    )
    assert form.status == 201, form.json
    link = form.json["url"].split("#")[1]
    body = {"name": "Amy", "email": BUYER, "lines": [{"item_id": pocky["id"], "quantity": 2}]}
    r = api.post(f"/f/{link}/orders", body)
    assert r.status == 201, r.json
    (order,) = api.get(f"/orders?customer_id={amy['id']}", token=token).json["items"]
    assert money(order) == (150, 50, "partial")
    assert credit_of(api, token, amy["id"]) == 0
    check_ledger()


def test_a_submission_page_shows_its_orders_paid_by_credit_and_nothing_else(api, token):
    """The customer existed before the submission, so its link shows this submission
    only: its order paid by the credit (the buyer must not pay it twice), but neither the
    payment the credit came from, nor the credit left, nor the buyer's other orders."""
    amy = overpaid(api, token, amount=250)
    make_order(api, token, customer_id=amy["id"], item_name="Secret gift", unit_price=70)
    pocky = make_item(api, token, item_name="Pocky", price=100)
    form = api.post(
        "/forms", {"batch": "B1", "title": "Group buy", "items": [{"item_id": pocky["id"]}]}, token=token
    )
    link = form.json["url"].split("#")[1]
    body = {"name": "Amy", "email": BUYER, "lines": [{"item_id": pocky["id"], "quantity": 1}]}
    r = api.post(f"/f/{link}/orders", body)
    assert r.status == 201, r.json
    got = api.get("/track/" + r.json["tracking_url"].split("#")[1])
    page = got.json
    assert page["scope"] == "submission"
    assert [(o["order_no"], o["paid_amount"], o["balance"]) for o in page["orders"]] == [
        (r.json["order_nos"][0], 100, 0)
    ]
    assert (page["balance"], page["credit"], page["payments"]) == (0, 0, [])
    assert "Secret gift" not in got.body.decode()
    assert credit_of(api, token, amy["id"]) == 80  # 250 - 70 - 100
    check_ledger()


IMPORT_HEADER = "buyer_email,buyer_name,item_name,quantity,unit_price,paid_amount\r\n"


def test_imported_orders_start_paid_by_the_credit(api, token):
    """The rows' own money first (Cake says 20 paid), then the credit pays what is
    still owed, oldest order first; a buyer without credit is left as the file says."""
    amy = overpaid(api, token, amount=130)
    text = (
        IMPORT_HEADER + f"{BUYER},,Tea,1,100,\r\n{BUYER},,Cake,1,50,20\r\nbob@example.com,Bob,Tea,1,100,\r\n"
    )
    r = api.post("/import/orders", raw=text.encode(), token=token, headers={"Content-Type": "text/csv"})
    assert r.status == 201, r.json
    got = {
        (o["buyer_email"], o["item_name"]): money(o)
        for o in api.get("/orders?limit=50", token=token).json["items"]
    }
    assert got == {
        (BUYER, "Tea"): (100, 0, "remitted"),
        (BUYER, "Cake"): (50, 0, "remitted"),
        ("bob@example.com", "Tea"): (0, 100, "unpaid"),
    }
    assert credit_of(api, token, amy["id"]) == 0
    check_ledger()


@pytest.mark.parametrize(
    ("change", "paid", "credit_left"),
    [
        ({"quantity": 3}, 300, 50),
        ({"unit_price": 150}, 150, 200),
        ({"shipping_fee": 60}, 160, 190),
    ],
)
def test_a_patch_that_raises_the_total_takes_the_credit(api, token, change, paid, credit_left):
    amy = make_customer(api, token)
    order = make_order(api, token, customer_id=amy["id"])
    make_payment(api, token, amy["id"], 350)  # 100 on the order, 250 credit
    r = api.patch(f"/orders/{order['id']}", change, token=token)
    assert r.status == 200, r.json
    assert money(r.json) == (paid, 0, "remitted")
    assert money(api.get(f"/orders/{order['id']}", token=token).json) == (paid, 0, "remitted")
    assert credit_of(api, token, amy["id"]) == credit_left
    check_ledger()


def test_an_order_moved_to_an_overpaid_buyer_takes_their_credit(api, token):
    amy = overpaid(api, token, amount=300)
    bob = make_customer(api, token, name="Bob", email="bob@example.com")
    order = make_order(api, token, customer_id=bob["id"])
    assert money(order) == (0, 100, "unpaid")
    r = api.patch(f"/orders/{order['id']}", {"customer_id": amy["id"]}, token=token)
    assert r.status == 200, r.json
    assert money(r.json) == (100, 0, "remitted")
    assert credit_of(api, token, amy["id"]) == 200
    check_ledger()


def test_a_patch_that_owes_nothing_more_leaves_the_credit(api, token):
    """A note, a lower price or a status does not spend credit on other orders' behalf
    beyond what they owe: the credit stays when nothing is owed."""
    amy = make_customer(api, token)
    order = make_order(api, token, customer_id=amy["id"])
    make_payment(api, token, amy["id"], 300)
    for change in ({"note": "gift wrap"}, {"unit_price": 80}, {"fulfillment_status": "purchased"}):
        r = api.patch(f"/orders/{order['id']}", change, token=token)
        assert r.status == 200, (change, r.json)
    assert money(api.get(f"/orders/{order['id']}", token=token).json) == (80, 0, "remitted")
    assert credit_of(api, token, amy["id"]) == 220
    check_ledger()
