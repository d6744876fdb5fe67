"""Issue 31, contract "Staff": a staff member never reads or writes costs, rates or profit,
enforced once at the edge (platform/roles.py via web.py) for every route. On every lane."""

from __future__ import annotations

from urllib.parse import quote

from chalicelib.platform import db, roles
from tests.factories import make_customer, make_item, make_order
from tests.integration.test_members import join

BATCH = "2026-12 東京"


def _keys(value, found=None) -> set:
    found = set() if found is None else found
    if isinstance(value, dict):
        found |= set(value)
        for v in value.values():
            _keys(v, found)
    elif isinstance(value, list):
        for v in value:
            _keys(v, found)
    return found


def shop(api):
    owner = api.signup(email="owner@example.com", shop_name="Tokyo Picks")
    r = api.patch(f"/batches/{quote(BATCH)}", {"rates": {"JPY": "0.21"}}, token=owner)
    assert r.status == 200, r
    item = make_item(api, owner, item_name="Matcha", price=500, cost=1200, cost_currency="JPY", stock=10)
    amy = make_customer(api, owner, name="Amy", email="amy@example.com")
    order = make_order(api, owner, customer_id=amy["id"], item_id=item["id"], quantity=2, batch=BATCH)
    r = api.patch(f"/orders/{order['id']}", {"cost": 1300}, token=owner)  # a history entry about a cost
    assert r.status == 200, r
    _, staff = join(api, owner)
    return owner, staff["token"], item, order


def test_staff_read_no_costs_rates_or_profit_where_the_owner_does(api):
    owner, staff, item, order = shop(api)
    reads = [
        "/items",
        f"/items/{item['id']}",
        "/orders",
        f"/orders/{order['id']}",
        "/batches",
        f"/batches/{quote(BATCH)}/shopping-list",
    ]
    owner_keys = set().union(*(_keys(api.get(p, token=owner).json) for p in reads))
    assert {"cost", "cost_currency", "cost_amount", "profit", "rates"} <= owner_keys  # the test sees them
    for path in reads:
        r = api.get(path, token=staff)
        assert r.status == 200, (path, r)
        assert not _keys(r.json) & roles.COST_FIELDS, (path, _keys(r.json) & roles.COST_FIELDS)
    got = api.get(f"/orders/{order['id']}", token=staff).json
    assert got["quantity"] == 2 and got["item_name"] == "Matcha"  # the rest is there
    assert all(h.get("field") != "cost" for h in got["history"])


def test_staff_are_refused_profit_exports_with_costs_and_writes_of_costs(api):
    owner, staff, item, order = shop(api)
    for path in (
        "/reports/profit",
        "/reports/profit?format=csv",
        "/export/orders",
        "/export/orders?format=csv",
    ):
        r = api.get(path, token=staff)
        assert r.status == 403 and r.json["error"]["code"] == "forbidden_for_role", (path, r)
        assert api.get(path, token=owner).status == 200, path
    before = db.get_db().items.find_one({"item_name": "Matcha"})
    writes = [
        ("POST", "/items", {"item_name": "Pocky", "price": 100, "cost": 50}),
        ("PATCH", f"/items/{item['id']}", {"cost": 1}),
        # A null clears the owner's cost: a write too (the items form sends it when empty).
        ("PATCH", f"/items/{item['id']}", {"note": "n", "cost": None, "cost_currency": None}),
        ("PATCH", f"/orders/{order['id']}", {"cost": None}),
        ("PATCH", f"/orders/{order['id']}", {"cost": 1}),
        ("PATCH", f"/batches/{quote(BATCH)}", {"rates": {"JPY": "0.3"}}),
        (
            "POST",
            f"/batches/{quote(BATCH)}/purchases",
            {"item_id": item["id"], "quantity": 1, "unit_cost": 900},
        ),
    ]
    for method, path, body in writes:
        r = api.call(method, path, body, token=staff)
        assert r.status == 403 and r.json["error"]["code"] == "forbidden_for_role", (method, path, r)
    assert db.get_db().items.count_documents({"item_name": "Pocky"}) == 0
    assert db.get_db().items.find_one({"item_name": "Matcha"}) == before
    assert db.get_db().purchases.count_documents({}) == 0
    # The same work without the cost is theirs to do.
    r = api.post("/items", {"item_name": "Pocky", "price": 100}, token=staff)
    assert r.status == 201 and "cost" not in r.json, r
    r = api.patch(f"/orders/{order['id']}", {"quantity": 3}, token=staff)
    assert r.status == 200 and "profit" not in r.json, r


def test_a_staff_members_item_edit_keeps_the_owners_costs(api):
    """The items form of a staff member shows no cost: saving it (variants included) keeps
    the owner's item and variant costs (a null sent for one is refused above)."""
    owner, staff, _, _ = shop(api)
    made = api.post(
        "/items",
        {
            "item_name": "T-shirt",
            "price": 10,
            "cost_currency": "JPY",
            "options": [{"name": "Size", "values": ["S", "M"]}],
            "variants": [{"values": ["S"], "cost": 500}, {"values": ["M"], "cost": 600}],
        },
        token=owner,
    )
    assert made.status == 201, made
    seen = api.get(f"/items/{made.json['id']}", token=staff).json
    variants = [{"id": v["id"], "values": v["values"], "price": 12} for v in seen["variants"]]
    r = api.patch(
        f"/items/{made.json['id']}",
        {"note": "by the helper", "options": seen["options"], "variants": variants},
        token=staff,
    )
    assert r.status == 200, r
    after = api.get(f"/items/{made.json['id']}", token=owner).json
    assert [(v["price"], v["cost"]) for v in after["variants"]] == [(12, 500), (12, 600)]
    assert after["note"] == "by the helper"
