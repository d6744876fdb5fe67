"""Credit is used on every path the seller makes money owed by (issue 26): an overpaid
buyer's next order starts paid by their credit, whether the seller types it (by customer
id or by email), imports it from a CSV file, charges her, or a PATCH raises what an order
owes (quantity, price, shipping fee, another buyer). A form submission in the name of a
buyer who existed before it spends none of it (issue 27: anyone may type her email); the
seller may (POST /payments/use-credit). On every lane; the ledger is checked after each."""

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


def form_of(api, token, price=100, **more) -> tuple[str, str]:
    """A form selling Pocky at `price`: (its link's token, the item's id)."""
    pocky = make_item(api, token, item_name="Pocky", price=price)
    body = {"batch": "B1", "title": "Group buy", "items": [{"item_id": pocky["id"]}], **more}
    form = api.post("/forms", body, token=token)
    assert form.status == 201, form.json
    return form.json["url"].split("#")[1], pocky["id"]


def submit(api, link, item_id, quantity=1, name="Stranger", **contact):
    body = {"name": name, "lines": [{"item_id": item_id, "quantity": quantity}], **contact}
    r = api.post(f"/f/{link}/orders", body)
    assert r.status == 201, r.json
    return r.json


def page_of(api, answer: dict):
    return api.get("/track/" + answer["tracking_url"].split("#")[1])


# (the form's contact, Amy as the shop has her, what the stranger types)
KNOWN_BY = {
    "email": ({"email": BUYER}, {"email": "AMY@example.com"}),
    "phone": ({"phone": "0912-345-678"}, {"phone": "０９１２３４５６７８"}),
    "line_id": ({"line_id": "amy_0912"}, {"line_id": "AMY_0912"}),
}


@pytest.mark.parametrize("contact", list(KNOWN_BY))
def test_a_submission_in_a_known_buyers_name_spends_none_of_her_credit(api, token, contact):
    """Anyone may type a known buyer's email, phone or LINE ID (issue 27). Amy has 300 of
    credit: the stranger's order waits unpaid (`credit_held`, for the seller), her credit
    stays whole, and the submission's page shows nothing of it: the order owes all."""
    stored, typed = KNOWN_BY[contact]
    amy = make_customer(api, token, name="Amy", **({"email": None} | stored))
    payment = make_payment(api, token, amy["id"], 300)
    link, pocky = form_of(api, token, **({} if contact == "email" else {"contact": contact}))
    answer = submit(api, link, pocky, quantity=2, **typed)
    assert answer["balance"] == 200
    (order,) = api.get(f"/orders?customer_id={amy['id']}", token=token).json["items"]
    assert money(order) == (0, 200, "unpaid") and order["credit_held"] is True
    assert credit_of(api, token, amy["id"]) == 300
    stored_payment = api.get(f"/payments/{payment['id']}", token=token).json
    assert (stored_payment["allocations"], stored_payment["unallocated"]) == ([], 300)
    got = page_of(api, answer)
    page = got.json
    assert page["scope"] == "submission"
    assert [(o["paid_amount"], o["balance"], o["payment_status"]) for o in page["orders"]] == [
        (0, 200, "unpaid")
    ]
    assert (page["balance"], page["credit"], page["payments"]) == (200, 0, [])
    assert "credit_held" not in got.body.decode()
    assert check_ledger() == {ObjectId(amy["id"]): 30000}


def test_a_submission_page_shows_nothing_of_the_credit_or_the_buyers_other_orders(api, token):
    """The customer existed before the submission, so its link shows this submission
    only: its order unpaid (her credit paid none of it), neither the payment the credit
    came from, nor the credit, nor the buyer's other orders."""
    amy = overpaid(api, token, amount=250)
    make_order(api, token, customer_id=amy["id"], item_name="Secret gift", unit_price=70)
    link, pocky = form_of(api, token)
    answer = submit(api, link, pocky, name="Amy", email=BUYER)
    got = page_of(api, answer)
    page = got.json
    assert page["scope"] == "submission"
    assert [(o["order_no"], o["paid_amount"], o["balance"]) for o in page["orders"]] == [
        (answer["order_nos"][0], 0, 100)
    ]
    assert (page["balance"], page["credit"], page["payments"]) == (100, 0, [])
    assert "Secret gift" not in got.body.decode()
    assert credit_of(api, token, amy["id"]) == 180  # 250 - 70: the typed order took its part
    check_ledger()


def test_a_new_buyers_submission_is_not_held(api, token):
    """A submission that created its buyer has no credit to spend, and its orders are
    the buyer's as any: credit the seller gives her later pays them as usual (here a
    PATCH that raises the total). Its link shows the whole buyer, credit included."""
    link, pocky = form_of(api, token)
    answer = submit(api, link, pocky, name="Bea", email="bea@example.com")
    (order,) = api.get("/orders", token=token).json["items"]
    assert money(order) == (0, 100, "unpaid") and order["credit_held"] is False
    make_payment(api, token, order["customer_id"], 150, order_ids=[order["id"]])  # 50 of credit
    r = api.patch(f"/orders/{order['id']}", {"quantity": 2}, token=token)
    assert r.status == 200 and money(r.json) == (150, 50, "partial"), r.json
    page = page_of(api, answer).json
    assert (page["scope"], page["balance"], page["credit"]) == ("customer", 50, 0)
    check_ledger()


def test_a_customer_shows_her_credit_to_the_seller(api, token):
    """GET /customers/{id} carries her credit (the order panel offers it for a held
    order without reading the buyers report): whole while a form order waits, less by
    what use-credit moved; a buyer who never paid has 0."""
    amy = overpaid(api, token, amount=250)
    assert api.get(f"/customers/{amy['id']}", token=token).json["credit"] == 250
    link, pocky = form_of(api, token)
    submit(api, link, pocky, email=BUYER)
    assert api.get(f"/customers/{amy['id']}", token=token).json["credit"] == 250
    r = api.post("/payments/use-credit", {"customer_id": amy["id"]}, token=token)
    assert r.json["credit"] == 150
    assert api.get(f"/customers/{amy['id']}", token=token).json["credit"] == 150
    bea = make_customer(api, token, name="Bea", email="bea@example.com")
    assert bea["credit"] == 0 and api.get(f"/customers/{bea['id']}", token=token).json["credit"] == 0
    check_ledger()


def seller_typed(api, token, amy):
    return make_order(api, token, customer_id=amy["id"], unit_price=120)["id"]


def seller_charged(api, token, amy):
    r = api.post("/charges", {"customer_id": amy["id"], "amount": 120, "kind": "duty"}, token=token)
    assert r.status == 201, r.json
    assert r.json["paid_amount"] == 120


def seller_imported(api, token, amy):
    text = IMPORT_HEADER + f"{BUYER},,Cake,1,120,\r\n"
    r = api.post("/import/orders", raw=text.encode(), token=token, headers={"Content-Type": "text/csv"})
    assert r.status == 201, r.json


@pytest.mark.parametrize("path", [seller_typed, seller_charged, seller_imported])
def test_the_sellers_own_orders_and_charges_still_take_the_credit_and_pass_the_held_order(api, token, path):
    """What the seller makes (a typed order, a charge, an import) is paid by the credit
    as before; the older held form order is passed over: it stays for the seller."""
    amy = overpaid(api, token, amount=300)
    link, pocky = form_of(api, token)
    submit(api, link, pocky, email=BUYER)
    path(api, token, amy)
    orders = api.get(f"/orders?customer_id={amy['id']}", token=token).json["items"]
    assert [money(o) for o in orders if o["source"] == "form"] == [(0, 100, "unpaid")]
    assert [money(o) for o in orders if o["source"] != "form"] in ([], [(120, 0, "remitted")])
    assert credit_of(api, token, amy["id"]) == 180
    assert [o["credit_held"] for o in orders if o["source"] == "form"] == [True]
    check_ledger()


def test_the_seller_spends_the_credit_on_a_held_order(api, token):
    """POST /payments/use-credit with order_ids: the credit pays that order (oldest
    credit first); the submission's page then shows it paid (the seller put money on
    it), still with no credit and no payments of hers. Again: nothing more moves."""
    amy = overpaid(api, token, amount=80)
    make_payment(api, token, amy["id"], 70)  # a second credit: the oldest is used first
    link, pocky = form_of(api, token)
    first = submit(api, link, pocky, email=BUYER)
    submit(api, link, pocky, email=BUYER)
    held = sorted(
        api.get(f"/orders?customer_id={amy['id']}", token=token).json["items"], key=lambda o: o["order_no"]
    )
    body = {"customer_id": amy["id"], "order_ids": [held[0]["id"]]}
    r = api.post("/payments/use-credit", body, token=token)
    assert r.status == 200, r.json
    assert r.json == {"customer_id": amy["id"], "used": 100, "credit": 50}
    again = api.post("/payments/use-credit", body, token=token)
    assert again.json == {"customer_id": amy["id"], "used": 0, "credit": 50}, again.json
    orders = sorted(
        api.get(f"/orders?customer_id={amy['id']}", token=token).json["items"], key=lambda o: o["order_no"]
    )
    assert [money(o) for o in orders] == [(100, 0, "remitted"), (0, 100, "unpaid")]
    payments_ = api.get(f"/payments?customer_id={amy['id']}", token=token).json["items"]
    assert sorted((p["amount"], p["unallocated"]) for p in payments_) == [(70, 50), (80, 0)]
    page = page_of(api, first).json
    assert [(o["paid_amount"], o["balance"]) for o in page["orders"]] == [(100, 0)]
    assert (page["balance"], page["credit"], page["payments"]) == (0, 0, [])
    assert check_ledger() == {ObjectId(amy["id"]): 5000}


def test_spending_credit_refuses_bad_input_and_writes_nothing(api, token, other_token):
    amy = overpaid(api, token, amount=300)
    bob = make_customer(api, token, name="Bob", email="bob@example.com")
    bobs = make_order(api, token, customer_id=bob["id"])
    stranger = make_customer(api, other_token)

    def refused(body, status, code, field):
        r = api.post("/payments/use-credit", body, token=token)
        assert r.status == status, (body, r.json)
        assert r.json["error"]["code"] == code, r.json
        if field:
            assert [d["field"] for d in r.json["error"]["details"]][:1] == [field], r.json

    refused({}, 400, "validation_error", "customer_id")
    refused({"customer_id": "nope"}, 400, "validation_error", "customer_id")
    refused({"customer_id": amy["id"], "order_ids": ["nope"]}, 400, "validation_error", "order_ids.0")
    refused({"customer_id": amy["id"], "order_ids": []}, 400, "validation_error", "order_ids")
    refused({"customer_id": amy["id"], "order_ids": [bobs["id"]]}, 409, "order_not_payable", "order_ids")
    refused({"customer_id": amy["id"], "charge_ids": [bobs["id"]]}, 409, "charge_not_payable", "charge_ids")
    refused({"customer_id": stranger["id"]}, 404, "not_found", None)
    refused({"customer_id": str(ObjectId())}, 404, "not_found", None)
    assert money(api.get(f"/orders/{bobs['id']}", token=token).json) == (0, 100, "unpaid")
    assert check_ledger() == {ObjectId(amy["id"]): 30000}


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
