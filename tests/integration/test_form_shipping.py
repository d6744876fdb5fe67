"""A form's shipping rule (issue 26; contract "Order forms, revised"): `shipping: {mode:
"none" | "flat" | "later", fee?}` on POST/PATCH /forms, shown to the buyer by GET /f/{token};
a flat fee is one `shipping` charge per submission. On every lane."""

from __future__ import annotations

import pytest

from chalicelib.platform import db
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
