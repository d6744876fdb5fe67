"""A form's shipping rule (issue 26; contract "Order forms, revised"): `shipping: {mode:
"none" | "flat" | "later", fee?}` on POST/PATCH /forms, shown to the buyer by GET /f/{token};
a flat fee is one `shipping` charge per submission. On every lane."""

from __future__ import annotations

import pytest
from payment_ledger import check_ledger

from chalicelib.platform import db
from chalicelib.platform.key_index import COLLECTIONS as KEY_INDEX
from chalicelib.tracking import tracking
from tests.factories import make_item


@pytest.fixture(autouse=True)
def no_floor(monkeypatch):
    monkeypatch.setattr(tracking, "REQUEST_FLOOR_SECONDS", 0.0)


@pytest.fixture
def seller(api):
    t = api.signup()
    return {"t": t, "pocky": make_item(api, t, item_name="Pocky", price=100)}


def new_form(api, seller, **more):
    body = {"batch": "B1", "title": "Group buy", "items": [{"item_id": seller["pocky"]["id"]}], **more}
    return api.post("/forms", body, token=seller["t"])


def link_of(form: dict) -> str:
    return form["url"].split("#")[1]


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (None, {"mode": "none", "fee": None}),
        ({"mode": "none"}, {"mode": "none", "fee": None}),
        ({"mode": "flat", "fee": 60}, {"mode": "flat", "fee": 60}),
        ({"mode": "flat", "fee": 45.5}, {"mode": "flat", "fee": 45.5}),
        ({"mode": "later"}, {"mode": "later", "fee": None}),
    ],
)
def test_the_rule_is_kept_and_shown_to_the_seller_and_the_buyer(api, seller, given, shown):
    r = new_form(api, seller, **({"shipping": given} if given is not None else {}))
    assert r.status == 201, r.json
    assert r.json["shipping"] == shown
    assert api.get(f"/forms/{r.json['id']}", token=seller["t"]).json["shipping"] == shown
    assert api.get("/forms", token=seller["t"]).json["items"][0]["shipping"] == shown
    assert api.get(f"/f/{link_of(r.json)}").json["shipping"] == shown


def test_patch_changes_the_rule(api, seller):
    form = new_form(api, seller).json
    r = api.patch(f"/forms/{form['id']}", {"shipping": {"mode": "flat", "fee": 80}}, token=seller["t"])
    assert r.status == 200, r.json
    assert r.json["shipping"] == {"mode": "flat", "fee": 80}
    assert api.get(f"/f/{link_of(form)}").json["shipping"] == {"mode": "flat", "fee": 80}
    r = api.patch(f"/forms/{form['id']}", {"shipping": {"mode": "later"}}, token=seller["t"])
    assert r.status == 200 and r.json["shipping"] == {"mode": "later", "fee": None}
    assert api.get(f"/f/{link_of(form)}").json["shipping"] == {"mode": "later", "fee": None}


BAD = [
    ({"mode": "flat"}, "shipping.fee", "missing"),
    ({"mode": "flat", "fee": None}, "shipping.fee", "missing"),
    ({"mode": "flat", "fee": 0}, "shipping.fee", "not_positive"),
    ({"mode": "flat", "fee": -5}, "shipping.fee", "negative"),
    ({"mode": "flat", "fee": 1.234}, "shipping.fee", "too_many_decimals"),
    ({"mode": "later", "fee": 60}, "shipping.fee", "fee_not_allowed"),
    ({"mode": "none", "fee": 60}, "shipping.fee", "fee_not_allowed"),
    ({"mode": "weighed"}, "shipping.mode", "literal_error"),
    ({"fee": 60}, "shipping.mode", "missing"),
    ({"mode": "flat", "fee": 60, "per": "item"}, "shipping.per", "unknown_field"),
    ("flat", "shipping", "model_type"),
]


@pytest.mark.parametrize(("shipping", "field", "code"), BAD)
def test_a_bad_rule_is_a_400_naming_the_field_and_writes_nothing(api, seller, shipping, field, code):
    r = new_form(api, seller, shipping=shipping)
    assert r.status == 400, r.json
    assert [(d["field"], d["code"]) for d in r.json["error"]["details"]] == [(field, code)]
    assert db.get_db().forms.count_documents({}) == 0

    form = new_form(api, seller, shipping={"mode": "flat", "fee": 60}).json
    before = db.get_db().forms.find_one()
    r = api.patch(f"/forms/{form['id']}", {"shipping": shipping, "title": "Renamed"}, token=seller["t"])
    assert r.status == 400, r.json
    assert [(d["field"], d["code"]) for d in r.json["error"]["details"]] == [(field, code)]
    assert db.get_db().forms.find_one() == before  # the title was not changed either


def test_patch_cannot_set_the_rule_to_null(api, seller):
    form = new_form(api, seller, shipping={"mode": "later"}).json
    r = api.patch(f"/forms/{form['id']}", {"shipping": None}, token=seller["t"])
    assert r.status == 400
    assert [(d["field"], d["code"]) for d in r.json["error"]["details"]] == [("shipping", "cannot_be_null")]
    assert api.get(f"/forms/{form['id']}", token=seller["t"]).json["shipping"] == {
        "mode": "later",
        "fee": None,
    }


# --- a flat fee is a charge per submission -----------------------------------------------


def submit(api, form: dict, key=None, quantity=1, email="amy@example.com", **more):
    pocky = form["items"][0]["item_id"]
    body = {"name": "Amy", "email": email, "lines": [{"item_id": pocky, "quantity": quantity}], **more}
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(f"/f/{link_of(form)}/orders", body, headers=headers)


def charges_of(api, seller) -> list[dict]:
    return api.get("/charges?limit=100", token=seller["t"]).json["items"]


def test_a_flat_fee_is_one_shipping_charge_per_submission(api, seller):
    form = new_form(api, seller, shipping={"mode": "flat", "fee": 60}).json
    first = submit(api, form, key="k1", quantity=2)
    second = submit(api, form, key="k2")
    assert (first.status, second.status) == (201, 201), (first.json, second.json)
    assert (first.json["shipping_fee"], first.json["total_amount"], first.json["balance"]) == (60, 200, 260)
    assert (second.json["shipping_fee"], second.json["total_amount"], second.json["balance"]) == (
        60,
        100,
        160,
    )
    made = charges_of(api, seller)
    orders = api.get("/orders", token=seller["t"]).json["items"]
    assert (
        sorted((c["kind"], c["amount"], c["batch"], c["status"], c["balance"]) for c in made)
        == [("shipping", 60, "B1", "open", 60)] * 2
    )
    # Each charge is its submission's (the submission of its orders), of the buyer who sent it.
    submissions = {str(o["submission_id"]) for o in db.get_db().orders.find()}
    assert len(submissions) == 2 and {c["submission_id"] for c in made} == submissions
    assert {c["customer_id"] for c in made} == {orders[0]["customer_id"]}
    stored = db.get_db().charges.find()
    assert sorted(c["key"] for c in stored) == sorted(f"submission:{c['submission_id']}" for c in made)
    # The fee is the charge: the orders carry none (their totals are the items').
    assert {(o["shipping_fee"], o["total_amount"]) for o in orders} == {(0, 200), (0, 100)}


def test_a_retried_submission_makes_no_second_charge(api, seller):
    form = new_form(api, seller, shipping={"mode": "flat", "fee": 60}).json
    first = submit(api, form, key="same")
    again = submit(api, form, key="same")
    assert (first.status, again.status) == (201, 200)
    assert again.json == first.json
    assert len(charges_of(api, seller)) == 1


def test_a_retry_after_the_charge_failed_makes_it_once(api, seller, monkeypatch):
    """The orders were written, then the charge's write failed (503): the key is spent on
    those orders, so the retry answers them and adds the missing charge, once."""
    from chalicelib.money import charges
    from chalicelib.platform import mongo

    form = new_form(api, seller, shipping={"mode": "flat", "fee": 60}).json
    real = charges.add

    def broken(*args, **kwargs):
        raise mongo.PyMongoError("injected failure")

    monkeypatch.setattr(charges, "add", broken)
    assert submit(api, form, key="k").status == 503
    assert db.get_db().orders.count_documents({}) == 1 and db.get_db().charges.count_documents({}) == 0
    monkeypatch.setattr(charges, "add", real)
    again = submit(api, form, key="k")
    assert again.status == 200, again.json
    assert (again.json["shipping_fee"], again.json["balance"]) == (60, 160)
    assert submit(api, form, key="k").status == 200
    assert [c["amount"] for c in charges_of(api, seller)] == [60]


def test_a_retry_does_not_charge_again_a_fee_the_seller_voided(api, seller):
    form = new_form(api, seller, shipping={"mode": "flat", "fee": 60}).json
    assert submit(api, form, key="k").status == 201
    (charge,) = charges_of(api, seller)
    assert api.post(f"/charges/{charge['id']}/void", token=seller["t"]).status == 200
    again = submit(api, form, key="k")
    assert again.status == 200 and (again.json["shipping_fee"], again.json["balance"]) == (60, 100)
    assert [c["status"] for c in charges_of(api, seller)] == ["void"]


def test_a_retry_charges_the_fee_the_form_had_when_it_was_sent(api, seller, monkeypatch):
    """The rule changed between the first request (whose charge failed) and its retry:
    the retry charges the fee the submission was sent under, and a submission sent
    without a fee gets none when the form later asks one."""
    from chalicelib.money import charges
    from chalicelib.platform import mongo

    form = new_form(api, seller, shipping={"mode": "flat", "fee": 60}).json
    assert submit(api, form, key="none-then").status == 201  # charged 60 (key "none-then")
    real = charges.add

    def broken(*args, **kwargs):
        raise mongo.PyMongoError("injected failure")

    monkeypatch.setattr(charges, "add", broken)
    assert submit(api, form, key="k").status == 503
    monkeypatch.setattr(charges, "add", real)
    patch = {"shipping": {"mode": "flat", "fee": 90}}
    assert api.patch(f"/forms/{form['id']}", patch, token=seller["t"]).status == 200
    again = submit(api, form, key="k")
    assert again.status == 200 and (again.json["shipping_fee"], again.json["balance"]) == (60, 160)

    plain = new_form(api, seller, title="No fee").json
    assert submit(api, plain, key="p").status == 201
    assert api.patch(f"/forms/{plain['id']}", patch, token=seller["t"]).status == 200
    again = submit(api, plain, key="p")
    assert again.status == 200 and (again.json["shipping_fee"], again.json["balance"]) == (0, 100)
    assert sorted(c["amount"] for c in charges_of(api, seller)) == [60, 60]


@pytest.mark.parametrize("mode", ["none", "later"])
def test_no_charge_without_a_flat_fee(api, seller, mode):
    form = new_form(api, seller, shipping={"mode": mode}).json
    public = api.get(f"/f/{link_of(form)}").json
    assert public["shipping"] == {"mode": mode, "fee": None}
    r = submit(api, form)
    assert r.status == 201, r.json
    assert (r.json["shipping_fee"], r.json["balance"]) == (0, 100)
    assert charges_of(api, seller) == []
    assert db.get_db().charges.count_documents({}) == 0


def test_a_fee_changed_later_applies_to_later_submissions_only(api, seller):
    form = new_form(api, seller, shipping={"mode": "flat", "fee": 60}).json
    assert submit(api, form, key="a").status == 201
    patch = {"shipping": {"mode": "flat", "fee": 90}}
    assert api.patch(f"/forms/{form['id']}", patch, token=seller["t"]).status == 200
    assert submit(api, form, key="b").status == 201
    assert api.patch(f"/forms/{form['id']}", {"shipping": {"mode": "later"}}, token=seller["t"]).status == 200
    assert submit(api, form, key="c").status == 201
    assert sorted(c["amount"] for c in charges_of(api, seller)) == [60, 90]


def test_a_known_buyers_order_and_flat_fee_wait_until_the_seller_spends_her_credit(api, seller):
    """Amy has 200 of credit: a submission in her name (100 of items, 60 of shipping)
    spends none of it (anyone may type her email; issue 27). The seller spends it
    (POST /payments/use-credit): order first (the older), and 40 stays credit."""
    amy = api.post("/customers", {"name": "Amy", "email": "amy@example.com"}, token=seller["t"]).json
    pay = {"customer_id": amy["id"], "amount": 200, "method": "bank_transfer"}
    assert api.post("/payments", pay, token=seller["t"]).status == 201
    form = new_form(api, seller, shipping={"mode": "flat", "fee": 60}).json
    r = submit(api, form)
    assert r.status == 201, r.json
    assert (r.json["shipping_fee"], r.json["balance"]) == (60, 160)
    (order,) = api.get("/orders", token=seller["t"]).json["items"]
    (charge,) = charges_of(api, seller)
    assert (order["paid_amount"], order["payment_status"], order["credit_held"]) == (0, "unpaid", True)
    assert (charge["paid_amount"], charge["balance"], charge["credit_held"]) == (0, 60, True)
    assert check_ledger() == {db.get_db().customers.find_one()["_id"]: 20000}
    used = api.post("/payments/use-credit", {"customer_id": amy["id"]}, token=seller["t"])
    assert used.status == 200, used.json
    assert used.json == {"customer_id": amy["id"], "used": 160, "credit": 40}
    (order,) = api.get("/orders", token=seller["t"]).json["items"]
    (charge,) = charges_of(api, seller)
    assert (order["paid_amount"], order["payment_status"]) == (100, "remitted")
    assert (charge["paid_amount"], charge["balance"]) == (60, 0)
    rows = api.get("/reports/buyers", token=seller["t"]).json["rows"]
    assert [r["credit_amount"] for r in rows] == [40]
    check_ledger()


def test_credit_the_seller_spends_pays_part_of_the_fee_and_the_page_shows_what_is_left(api, seller):
    amy = api.post("/customers", {"name": "Amy", "email": "amy@example.com"}, token=seller["t"]).json
    pay = {"customer_id": amy["id"], "amount": 130, "method": "bank_transfer"}
    assert api.post("/payments", pay, token=seller["t"]).status == 201
    form = new_form(api, seller, shipping={"mode": "flat", "fee": 60}).json
    r = submit(api, form)
    assert r.status == 201 and (r.json["shipping_fee"], r.json["balance"]) == (60, 160)
    used = api.post("/payments/use-credit", {"customer_id": amy["id"]}, token=seller["t"])
    assert used.json == {"customer_id": amy["id"], "used": 130, "credit": 0}, used.json
    (charge,) = charges_of(api, seller)
    assert (charge["paid_amount"], charge["balance"]) == (30, 30)
    # The submission's page shows what the seller put on it, and what is left.
    page = api.get("/track/" + r.json["tracking_url"].split("#")[1]).json
    assert (page["balance"], page["credit"], page["payments"]) == (30, 0, [])
    assert [(c["paid_amount"], c["balance"]) for c in page["charges"]] == [(30, 30)]
    check_ledger()


def test_commands_of_a_flat_fee_submission(api, seller, commands, backend):
    """What a flat fee adds to a submission (docs/performance.md, "Order forms"), named:
    a new buyer's, so their first charge."""
    if commands is None:
        pytest.skip("mongomock sends no wire commands to count")
    form = new_form(api, seller, shipping={"mode": "flat", "fee": 60}).json
    assert submit(api, form, key="warm-up", email="w@example.com").status == 201
    commands.names.clear()
    commands.bodies.clear()
    assert submit(api, form, key="count-me").status == 201
    named = [(n, b.get(n)) for n, b in zip(commands.names, commands.bodies, strict=True)]
    # FerretDB also runs each conditional update (customer, counter) inside a lock.
    locks = [c for c in named if c[1] == "locks"]
    assert len(locks) == (6 if backend == "ferretdb" else 2), locks
    # ...and keeps the orders' key index (key_index.py).
    assert [c for c in named if c[1] != "locks" and c[1] not in KEY_INDEX] == [
        ("find", "forms"),  # the form, by its token's hash
        ("insert", "idempotency_keys"),  # the key's claim
        ("insert", "rate_limits"),  # the client address's slot...
        ("aggregate", "rate_limits"),  # ...and the hour's count
        ("find", "items"),
        ("find", "batches"),
        ("findAndModify", "customers"),  # found or created by email, with the limits
        ("findAndModify", "counters"),  # the order number
        ("insert", "orders"),
        # The fee: charges.add, under the buyer's money lock (insert/delete of `locks`):
        ("find", "payments"),  # payments a crash left half-applied (ledger: finish first)
        ("find", "customers"),  # the buyer's name and cached credit
        ("find", "charges"),  # a live charge with this submission's key?
        ("update", "customers"),  # marked as charged (a buyer's first charge only)
        ("insert", "charges"),
        ("insert", "tracking_links"),  # the submission's link
    ], named


def test_the_submission_page_lists_its_own_charge_in_its_balance(api, seller):
    """A known buyer's two submissions: each page lists that submission's charge only and
    counts it in the balance; the buyer's own page lists both."""
    form = new_form(api, seller, shipping={"mode": "flat", "fee": 60}).json
    amy = api.post("/customers", {"name": "Amy", "email": "amy@example.com"}, token=seller["t"]).json
    first = submit(api, form, key="a")
    second = submit(api, form, key="b", quantity=2)
    for r, owed in ((first, 160), (second, 260)):
        page = api.get("/track/" + r.json["tracking_url"].split("#")[1]).json
        assert page["scope"] == "submission"
        assert [(c["kind"], c["amount"], c["balance"]) for c in page["charges"]] == [("shipping", 60, 60)]
        assert page["balance"] == owed == r.json["balance"]
    whole = api.get(f"/customers/{amy['id']}/tracking-link", token=seller["t"]).json["token"]
    page = api.get(f"/track/{whole}").json
    assert len(page["charges"]) == 2 and page["balance"] == 420
    # A transfer reported through the first submission's link pays its order and its
    # fee, never the second submission's.
    link = first.json["tracking_url"].split("#")[1]
    assert api.post(f"/track/{link}/payments", {"amount": 160}).status == 201
    reported = db.get_db().payments.find_one({"source": "buyer"})
    assert api.post(f"/payments/{reported['_id']}/confirm", token=seller["t"]).status == 200
    assert api.get(f"/track/{link}").json["balance"] == 0
    assert api.get("/track/" + second.json["tracking_url"].split("#")[1]).json["balance"] == 260
    check_ledger()
