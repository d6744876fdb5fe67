"""Units coming back race the waitlist on the real servers: a cancel, a stock increase by
the seller, a normal order and buyers joining at once never give one unit to two buyers
(stock + units in live orders stays what it must be) and serve an entry at most once,
with exactly one order for each served entry."""

from __future__ import annotations

import pytest
from bson import ObjectId

from chalicelib.catalog import items
from chalicelib.catalog.schemas import ItemIn, ItemPatch
from chalicelib.platform import bus, db
from chalicelib.sales import forms, orders, waitlist
from chalicelib.sales.schemas import FormIn, FormOrderIn, OrderPatch, WaitlistIn
from tests.conftest import at_once
from tests.factories import make_principal

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)


def in_route(call):
    """As a route runs it: events dispatched after the write, at the unit's end."""

    def run():
        with bus.collecting():
            return call()

    return run


def group_buy(api, stock):
    who = make_principal(api)
    item = items.create(who, ItemIn(item_name="Pocky", price=100, stock=stock))
    form = forms.create(
        who, FormIn.model_validate({"batch": "B", "title": "Race", "items": [{"item_id": item["id"]}]})
    )
    return who, item["id"], form["url"].split("#")[1]


def buy(token, email, item_id, quantity):
    body = FormOrderIn(name="Buyer", email=email, lines=[{"item_id": item_id, "quantity": quantity}])
    return lambda: forms.submit(token, body, email, None)


def join(token, email, item_id, quantity):
    body = WaitlistIn(name="Waiter", email=email, item_id=item_id, quantity=quantity)
    return lambda: waitlist.join(token, body, email)


def live_units(item_id) -> int:
    return sum(
        o["quantity"]
        for o in db.get_db().orders.find(
            {"item_id": ObjectId(item_id), "fulfillment_status": {"$ne": "cancelled"}}
        )
    )


def stock(item_id) -> int:
    return db.get_db().items.find_one({"_id": ObjectId(item_id)})["stock"]


def check_entries() -> None:
    """Each entry served at most once: a served entry has exactly one order, a waiting or
    skipped one none, and the orders carry the entry's quantity."""
    for e in db.get_db().waitlist.find():
        made = list(
            db.get_db().orders.find({"waitlist_entry": e["_id"], "fulfillment_status": {"$ne": "cancelled"}})
        )
        assert len(made) == (1 if e["status"] == "served" else 0), (e, made)
        assert all(o["quantity"] == e["quantity"] and o["source"] == "waitlist" for o in made)


@pytest.mark.parametrize("round_", range(3))
def test_a_cancel_racing_orders_and_joins_gives_each_unit_once(api, round_):
    who, item_id, token = group_buy(api, stock=6)
    first = at_once([in_route(buy(token, f"b{n}@example.com", item_id, 2)) for n in range(3)])
    assert all(isinstance(r, tuple) for r in first), first
    for n in range(4):
        assert in_route(join(token, f"w{n}@example.com", item_id, 1))()["status"] == "waiting"
    total = stock(item_id) + live_units(item_id)
    assert total == 6
    cancel = [o["_id"] for o in db.get_db().orders.find({"item_id": ObjectId(item_id)})][:2]
    results = at_once(
        [
            in_route(
                lambda i=i: orders.update(
                    who, str(i), OrderPatch(fulfillment_status="cancelled"), attempts=20
                )
            )
            for i in cancel
        ]
        + [in_route(buy(token, "late@example.com", item_id, 1))]
        + [in_route(join(token, f"x{n}@example.com", item_id, 1)) for n in range(2)]
    )
    assert stock(item_id) >= 0, results
    assert stock(item_id) + live_units(item_id) == total, results
    check_entries()
    served = db.get_db().waitlist.count_documents({"status": "served"})
    # 4 units came back: the first four waiting are served unless the normal order took one.
    assert served + stock(item_id) + (1 if isinstance(results[2], tuple) else 0) == 4, results


@pytest.mark.parametrize("round_", range(3))
def test_a_stock_increase_racing_a_cancel_and_an_order_serves_each_entry_once(api, round_):
    who, item_id, token = group_buy(api, stock=2)
    (placed,) = at_once([in_route(buy(token, "b@example.com", item_id, 2))])
    for n in range(3):
        in_route(join(token, f"w{n}@example.com", item_id, 1))()
    order_id = db.get_db().orders.find_one({"item_id": ObjectId(item_id)})["_id"]
    results = at_once(
        [
            in_route(
                lambda: orders.update(
                    who, str(order_id), OrderPatch(fulfillment_status="cancelled"), attempts=20
                )
            ),
            in_route(lambda: items.update(who, item_id, ItemPatch(stock=3))),
            in_route(buy(token, "late@example.com", item_id, 1)),
        ]
    )
    check_entries()
    assert stock(item_id) >= 0, results
    # The seller's stock is a set, not an increment: after it, 3 units plus what the
    # live orders then held (0 to 2) are conserved; never more than that is handed out.
    assert 3 <= stock(item_id) + live_units(item_id) <= 5, results
    served = db.get_db().waitlist.count_documents({"status": "served"})
    assert served <= 3
    if stock(item_id) > 0:
        assert served == 3  # units left in stock with buyers still waiting: none may be


@pytest.mark.parametrize("round_", range(3))
def test_the_close_racing_a_cancel_serves_or_closes_each_entry_never_both(api, round_):
    """The scheduled close (it ends the line) and a cancel (it serves the line) at once:
    every entry ends served (with its one order) or closed (with none), none left
    waiting, and each unit that came back is in stock or in a served order, once."""
    import datetime as dt

    from chalicelib.sales import closing

    closes = dt.datetime(2031, 3, 1, 12, 0, tzinfo=dt.UTC)
    who = make_principal(api)
    item_id = items.create(who, ItemIn(item_name="Pocky", price=100, stock=2))["id"]
    body = {"batch": "B", "title": "Race", "items": [{"item_id": item_id}], "closes_at": closes.isoformat()}
    token = forms.create(who, FormIn.model_validate(body))["url"].split("#")[1]
    at_once([in_route(buy(token, "b@example.com", item_id, 2))])
    for n in range(4):
        assert in_route(join(token, f"w{n}@example.com", item_id, 1))()["status"] == "waiting"
    total = stock(item_id) + live_units(item_id)
    order_id = db.get_db().orders.find_one({"item_id": ObjectId(item_id)})["_id"]
    results = at_once(
        [
            in_route(
                lambda: orders.update(
                    who, str(order_id), OrderPatch(fulfillment_status="cancelled"), attempts=20
                )
            ),
            lambda: closing.close_due_forms(closes + dt.timedelta(minutes=1)),
        ]
    )
    check_entries()
    statuses = [e["status"] for e in db.get_db().waitlist.find()]
    assert set(statuses) <= {"served", "closed"}, (statuses, results)
    assert stock(item_id) + live_units(item_id) == total, results
    assert statuses.count("served") + stock(item_id) == 2, (statuses, results)


@pytest.mark.parametrize("round_", range(3))
def test_a_cancel_of_one_variant_and_new_stock_of_another_serve_each_line_its_own_units(api, round_):
    """A shirt in 黑 and 白, both sold out, buyers waiting for each: a cancel of a 黑 order
    (2 units of 黑 back), 2 new units of 白 from the seller and buyers joining both lines,
    at once. Each variant's units stay its own (stock + live units per variant constant)
    and go only to its own line, each entry served at most once as an order of its variant."""
    from chalicelib.catalog.schemas import AdjustmentIn

    who = make_principal(api)
    item = items.create(
        who,
        ItemIn.model_validate(
            {
                "item_name": "T恤",
                "price": 400,
                "options": [{"name": "顏色", "values": ["黑", "白"]}],
                "variants": [{"values": ["黑"], "stock": 2, "price": 450}, {"values": ["白"], "stock": 0}],
            }
        ),
    )
    item_id = item["id"]
    black, white = (v["id"] for v in item["variants"])
    body = {"batch": "B", "title": "Race", "items": [{"item_id": item_id}]}
    token = forms.create(who, FormIn.model_validate(body))["url"].split("#")[1]
    lines = [{"item_id": item_id, "variant_id": black, "quantity": 2}]
    forms.submit(token, FormOrderIn(name="Buyer", email="b@example.com", lines=lines), "b", None)

    def join_v(email, vid):
        data = WaitlistIn(name="Waiter", email=email, item_id=item_id, variant_id=vid, quantity=1)
        return lambda: waitlist.join(token, data, email)

    for n in range(3):
        assert in_route(join_v(f"k{n}@example.com", black))()["status"] == "waiting"
        assert in_route(join_v(f"w{n}@example.com", white))()["status"] == "waiting"
    order_id = db.get_db().orders.find_one({"item_id": ObjectId(item_id)})["_id"]
    results = at_once(
        [
            in_route(
                lambda: orders.update(
                    who, str(order_id), OrderPatch(fulfillment_status="cancelled"), attempts=20
                )
            ),
            in_route(lambda: items.adjust(who, item_id, AdjustmentIn(delta=2, variant_id=white))),
            in_route(join_v("late-k@example.com", black)),
            in_route(join_v("late-w@example.com", white)),
        ]
    )
    check_entries()
    doc = db.get_db().items.find_one({"_id": ObjectId(item_id)})
    left = doc["variant_stock"]
    live = {black: 0, white: 0}
    for o in db.get_db().orders.find(
        {"item_id": ObjectId(item_id), "fulfillment_status": {"$ne": "cancelled"}}
    ):
        live[o["variant_id"]] += o["quantity"]
    assert left[black] >= 0 and left[white] >= 0, (left, results)
    assert (left[black] + live[black], left[white] + live[white]) == (2, 2), (left, live, results)
    for e in db.get_db().waitlist.find({"status": "served"}):
        made = db.get_db().orders.find_one({"waitlist_entry": e["_id"]})
        assert made["variant_id"] == e["variant_id"], (e, made)
    for vid in (black, white):
        served = db.get_db().waitlist.count_documents({"variant_id": vid, "status": "served"})
        # Two units came back to each variant; three or more wait in each line: both served.
        assert served == 2 and left[vid] == 0, (vid, served, left, results)
