"""Buyers racing through an order form on the real servers: exactly the stock is sold,
a buyer's limit holds across their simultaneous submissions, and a double tap makes one
submission."""

from __future__ import annotations

import pytest

from chalicelib.platform import db
from chalicelib.sales import forms
from chalicelib.sales.schemas import FormOrderIn
from tests.conftest import at_once
from tests.factories import make_item

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)


def make_form(api, stock=10, limit=None, items=1):
    t = api.signup()
    made = [make_item(api, t, item_name=f"Item {n}", price=100, stock=stock) for n in range(items)]
    body = {
        "batch": "B",
        "title": "Race",
        "items": [{"item_id": i["id"], "max_per_buyer": limit} for i in made],
    }
    form = api.post("/forms", body, token=t).json
    return t, made, form["url"].split("#")[1]


def order(token, email, lines, key=None, client=None):
    body = FormOrderIn(name="Buyer", email=email, lines=lines)
    return lambda: forms.submit(token, body, client or email, key)


def test_thirty_buyers_race_for_the_last_ten_units(api):
    t, (item,), token = make_form(api, stock=10)
    results = at_once(
        [order(token, f"b{n}@example.com", [{"item_id": item["id"], "quantity": 1}]) for n in range(30)]
    )
    won = [r for r in results if isinstance(r, tuple)]
    assert len(won) == 10, results
    assert sorted(set(r for r in results if not isinstance(r, tuple))) == ["insufficient_stock"]
    assert db.get_db().items.find_one()["stock"] == 0
    made = list(db.get_db().orders.find({"source": "form"}))
    assert len(made) == 10 and sum(o["quantity"] for o in made) == 10
    assert len({o["order_no"] for o in made}) == 10
    assert len({o["customer_id"] for o in made}) == 10


def test_buyers_taking_several_items_never_oversell_any(api):
    t, made, token = make_form(api, stock=6, items=3)
    lines = [{"item_id": i["id"], "quantity": 2} for i in made]
    results = at_once([order(token, f"b{n}@example.com", lines) for n in range(8)])
    won = [r for r in results if isinstance(r, tuple)]
    assert len(won) == 3, results  # 6 units of each, 2 a buyer
    for item in db.get_db().items.find():
        assert item["stock"] == 0
    assert db.get_db().orders.count_documents({}) == 9  # 3 buyers × 3 lines, nothing half done


def test_one_email_submitting_at_once_stays_within_its_limit(api):
    t, (item,), token = make_form(api, stock=100, limit=3)
    calls = [
        order(token, "amy@example.com", [{"item_id": item["id"], "quantity": 1}], client=f"ip{n}")
        for n in range(8)
    ]
    results = at_once(calls)
    assert len([r for r in results if isinstance(r, tuple)]) == 3, results
    assert set(r for r in results if not isinstance(r, tuple)) <= {"over_limit", "concurrent_update"}
    assert sum(o["quantity"] for o in db.get_db().orders.find()) == 3
    assert db.get_db().items.find_one()["stock"] == 97
    (customer,) = db.get_db().customers.find()
    assert sum(customer["form_taken"].values()) == 3


def test_a_double_tap_at_once_makes_one_submission(api):
    t, (item,), token = make_form(api, stock=10)
    lines = [{"item_id": item["id"], "quantity": 2}]
    results = at_once([order(token, "amy@example.com", lines, key="tap") for _ in range(5)])
    answers = [r for r in results if isinstance(r, tuple)]
    assert len(answers) == 5, results
    assert len({tuple(a[0]["order_nos"]) for a in answers}) == 1
    assert [a[1] for a in answers].count(True) == 1
    assert db.get_db().orders.count_documents({}) == 1
    assert db.get_db().items.find_one()["stock"] == 8


def make_contact_form(api, contact, stock=100, limit=3):
    t, (item,), _ = make_form(api, stock=stock, limit=limit)
    body = {"batch": "B", "title": contact, "items": [{"item_id": item["id"], "max_per_buyer": limit}]}
    form = api.post("/forms", {**body, "contact": contact}, token=t).json
    return item, form["url"].split("#")[1]


def order_by(token, lines, client, **contact):
    body = FormOrderIn(name="Buyer", lines=lines, **contact)
    return lambda: forms.submit(token, body, client, None)


@pytest.mark.parametrize(
    "typed",
    [
        ("phone", [{"phone": "0912-345-678"}, {"phone": "+886 912 345 678"}, {"phone": "0912345678"}]),
        ("line_id", [{"line_id": "Amy_TW"}, {"line_id": "amy_tw"}]),
        ("any", [{"phone": "0912345678"}, {"phone": "0912345678", "line_id": "amy_tw"}]),
    ],
    ids=["phone", "line_id", "any"],
)
def test_first_submissions_of_one_new_phone_or_line_id_at_once_make_one_customer_within_the_limit(api, typed):
    """Issue 25: no unique index keeps phones or LINE IDs apart, so the find-or-create
    holds the contact's lock on every server: one customer, and the limit holds."""
    contact, forms_of_it = typed
    item, token = make_contact_form(api, contact, limit=3)
    lines = [{"item_id": item["id"], "quantity": 1}]
    calls = [order_by(token, lines, f"ip{n}", **forms_of_it[n % len(forms_of_it)]) for n in range(8)]
    results = at_once(calls)
    assert len([r for r in results if isinstance(r, tuple)]) == 3, results
    assert set(r for r in results if not isinstance(r, tuple)) <= {"over_limit", "busy"}, results
    (customer,) = db.get_db().customers.find()
    assert sum(customer["form_taken"].values()) == 3
    orders = list(db.get_db().orders.find())
    assert sum(o["quantity"] for o in orders) == 3 and {o["customer_id"] for o in orders} == {customer["_id"]}
    assert db.get_db().items.find_one()["stock"] == 97  # stock + units ordered constant
