"""The scheduled close run twice at once on the real servers (two Lambdas overlapping,
or `make run`'s timer with a deployed one on the same database): each form is closed
once, each order below the minimum cancelled once, stock and money given back once,
each buyer told once; a form with "extend" moves its close once."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.platform import db
from chalicelib.sales import closing
from tests.conftest import at_once
from tests.integration.payment_ledger import check_ledger
from tests.integration.test_form_minimum import (
    AFTER,
    CLOSES,
    NOTICE,
    buy,
    make_group_buy,
    no_floor,  # noqa: F401 (an autouse fixture)
    stock_and_live_units,
)

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)


def test_two_closes_at_once_cancel_and_tell_once(api, ses):
    shops = [make_group_buy(api, minimum=10) for _ in range(2)]
    for n, shop in enumerate(shops):
        buy(api, shop, 2, kit=1, email=f"amy{n}@example.com")
        buy(api, shop, 1, email=f"cy{n}@example.com")
        buy(api, shop, 1, name="Bo", line_id=f"bo_line{n}")
    amy = db.get_db().customers.find_one({"email": "amy0@example.com"})
    from tests.factories import make_payment

    make_payment(api, shops[0]["t"], str(amy["_id"]), 250)
    before = stock_and_live_units(api)
    stock_before = sum(i["stock"] for i in db.get_db().items.find())

    results = at_once([lambda: closing.close_due_forms(AFTER) for _ in range(4)])

    assert sum(r["closed"] for r in results) == 2, results
    assert sum(r["cancelled_orders"] for r in results) == 6, results
    assert db.get_db().orders.count_documents({"fulfillment_status": "cancelled"}) == 6
    assert stock_and_live_units(api) == before
    assert sum(i["stock"] for i in db.get_db().items.find()) == stock_before + 8
    assert check_ledger()[amy["_id"]] == 20000  # her Pocky money, credited once
    notices = [m for m in ses if NOTICE in m.subject]
    assert sorted(a for m in notices for a in m.destinations["ToAddresses"]) == [
        "amy0@example.com",
        "amy1@example.com",
        "cy0@example.com",
        "cy1@example.com",
    ]
    assert db.get_db().form_notices.count_documents({}) == 6  # the LINE-only buyers recorded too
    assert db.get_db().forms.count_documents({"settled": True, "closed": True}) == 2


def test_two_closes_at_once_extend_once(api):
    shop = make_group_buy(api, minimum=10, on_min_unmet="extend", extend_days=2)
    buy(api, shop, 1, email="amy@example.com")
    results = at_once([lambda: closing.close_due_forms(AFTER) for _ in range(4)])
    assert sum(r["extended"] for r in results) == 1, results
    form = db.get_db().forms.find_one()
    closes = (
        form["closes_at"].replace(tzinfo=dt.UTC) if form["closes_at"].tzinfo is None else form["closes_at"]
    )
    assert closes == CLOSES + dt.timedelta(days=2)
    assert db.get_db().orders.count_documents({"fulfillment_status": "cancelled"}) == 0


def test_two_reminder_runs_at_once_send_each_reminder_once(api, ses):
    shop = make_group_buy(api, minimum=1)
    for n in range(3):
        buy(api, shop, 1, email=f"b{n}@example.com", remind=True)
    soon = CLOSES - dt.timedelta(hours=2)
    at_once([lambda: closing.send_due_reminders(soon) for _ in range(4)])
    soon_mail = sorted(a for m in ses if "即將截止" in m.subject for a in m.destinations["ToAddresses"])
    assert soon_mail == ["b0@example.com", "b1@example.com", "b2@example.com"]
    closing.close_due_forms(AFTER)
    at_once([lambda: closing.send_due_reminders(AFTER + closing.DUE_AFTER) for _ in range(4)])
    due_mail = sorted(a for m in ses if "待付款" in m.subject for a in m.destinations["ToAddresses"])
    assert due_mail == ["b0@example.com", "b1@example.com", "b2@example.com"]
    assert db.get_db().form_notices.count_documents({}) == 6
