"""A group buy's minimum to open (成團門檻), on every backend: the public form shows units
ordered against each minimum; the scheduled close (closing.close_due_forms) keeps an
item that reached it, cancels the orders of one that did not (stock back, money paid on
them as credit, each buyer told once: by email where they have one) or moves the close
once by extend_days; bad rules are 400s naming the field and write nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.platform import db
from chalicelib.sales import closing
from chalicelib.tracking import tracking
from tests.factories import make_item, make_payment
from tests.integration.payment_ledger import check_ledger

CLOSES = dt.datetime(2031, 3, 1, 12, 0, tzinfo=dt.UTC)
AFTER = CLOSES + dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def no_floor(monkeypatch):
    monkeypatch.setattr(tracking, "REQUEST_FLOOR_SECONDS", 0.0)


def make_group_buy(api, minimum=5, stock=20, **rule):
    """A seller, two items (Pocky with a minimum, KitKat without) and a form closing at CLOSES."""
    t = api.signup()
    pocky = make_item(api, t, item_name="Pocky", price=100, stock=stock)
    kit = make_item(api, t, item_name="KitKat", price=50, stock=stock)
    body = {
        "batch": "2031-03 東京",
        "title": "Tokyo group buy",
        "items": [{"item_id": pocky["id"], "min_quantity": minimum}, {"item_id": kit["id"]}],
        "closes_at": CLOSES.isoformat(),
        "contact": "any",
        **rule,
    }
    r = api.post("/forms", body, token=t)
    assert r.status == 201, r.json
    return {"t": t, "pocky": pocky, "kit": kit, "form": r.json, "token": r.json["url"].split("#")[1]}


def buy(api, shop, quantity, kit=0, **buyer):
    lines = [{"item_id": shop["pocky"]["id"], "quantity": quantity}]
    if kit:
        lines.append({"item_id": shop["kit"]["id"], "quantity": kit})
    body = {"name": buyer.pop("name", "Amy"), "lines": lines, **buyer}
    r = api.post(f"/f/{shop['token']}/orders", body)
    assert r.status == 201, r.json
    return r.json


def pocky_row(rows):
    return next(i for i in rows if i["item_name"] == "Pocky")


def stock_and_live_units(api):
    """Per item: stock plus units in live orders (what a cancel must keep constant)."""
    out = {}
    for item in db.get_db().items.find():
        live = sum(
            o["quantity"]
            for o in db.get_db().orders.find(
                {"item_id": item["_id"], "fulfillment_status": {"$ne": "cancelled"}}
            )
        )
        out[item["item_name"]] = item["stock"] + live
    return out


def sent_to(ses, address):
    """The cancel notices sent to `address` (a submission's own email is another kind)."""
    return [m for m in ses if address in m.destinations["ToAddresses"] and NOTICE in m.subject]


NOTICE = "未成團"  # the cancel notice's subject in the shop's language (繁體中文 by default)


def test_the_public_form_shows_units_ordered_against_the_minimum(api):
    shop = make_group_buy(api, minimum=5)
    row = pocky_row(api.get(f"/f/{shop['token']}").json["items"])
    assert (row["ordered"], row["min_quantity"]) == (0, 5)
    buy(api, shop, 2, email="amy@example.com")
    buy(api, shop, 1, name="Bo", line_id="bo_line")
    public = api.get(f"/f/{shop['token']}").json
    assert pocky_row(public["items"])["ordered"] == 3
    assert pocky_row(public["items"])["min_quantity"] == 5
    kit = next(i for i in public["items"] if i["item_name"] == "KitKat")
    assert kit["min_quantity"] is None and kit["ordered"] == 0
    seller = api.get(f"/forms/{shop['form']['id']}", token=shop["t"]).json
    assert seller["on_min_unmet"] == "cancel" and seller["extend_days"] is None
    assert pocky_row(seller["items"])["ordered"] == 3 and pocky_row(seller["items"])["outcome"] is None


def test_a_minimum_met_cancels_nothing_and_closes_the_form(api, ses):
    shop = make_group_buy(api, minimum=3)
    buy(api, shop, 2, email="amy@example.com")
    buy(api, shop, 1, name="Bo", line_id="bo_line")
    before = stock_and_live_units(api)
    assert closing.close_due_forms(AFTER) == {"closed": 1, "extended": 0, "cancelled_orders": 0}
    assert db.get_db().orders.count_documents({"fulfillment_status": "cancelled"}) == 0
    assert stock_and_live_units(api) == before
    form = api.get(f"/forms/{shop['form']['id']}", token=shop["t"]).json
    assert form["closed"] is True and form["cancelled_buyers"] == []
    assert pocky_row(form["items"])["outcome"] == "met"
    assert sent_to(ses, "amy@example.com") == []
    assert closing.close_due_forms(AFTER + dt.timedelta(hours=1))["closed"] == 0  # once


def test_a_minimum_unmet_cancels_its_orders_gives_stock_and_money_back_and_tells_each_buyer_once(api, ses):
    shop = make_group_buy(api, minimum=5)
    amy = buy(api, shop, 2, kit=1, email="amy@example.com")
    buy(api, shop, 1, name="Bo", line_id="bo_line")  # LINE only: no email to send
    amy_id = db.get_db().customers.find_one({"email": "amy@example.com"})["_id"]
    make_payment(api, shop["t"], str(amy_id), 250)  # pays her Pocky (200) and KitKat (50)
    before = stock_and_live_units(api)
    stock_before = {i["item_name"]: i["stock"] for i in db.get_db().items.find()}

    assert closing.close_due_forms(AFTER) == {"closed": 1, "extended": 0, "cancelled_orders": 2}

    pocky_orders = list(db.get_db().orders.find({"item_name": "Pocky"}))
    assert {o["fulfillment_status"] for o in pocky_orders} == {"cancelled"}
    assert db.get_db().orders.find_one({"item_name": "KitKat"})["fulfillment_status"] != "cancelled"
    assert stock_and_live_units(api) == before
    stock_now = {i["item_name"]: i["stock"] for i in db.get_db().items.find()}
    assert stock_now == {"Pocky": stock_before["Pocky"] + 3, "KitKat": stock_before["KitKat"]}
    credit = check_ledger()
    assert credit[amy_id] == 20000  # cents: the Pocky money is her credit; the KitKat stays paid
    assert db.get_db().customers.find_one({"_id": amy_id})["credit"] == 20000
    # Amy is emailed once, in the shop's language, with her orders and her credit.
    (mail,) = sent_to(ses, "amy@example.com")
    body = mail.body["text_part"] if isinstance(mail.body, dict) else str(mail.body)
    assert "Tokyo group buy" in mail.subject and f"#{min(amy['order_nos'])}" in body
    assert "購物金" in body  # what she paid is credit now
    assert len([m for m in ses if NOTICE in m.subject]) == 1  # Bo has no email
    form = api.get(f"/forms/{shop['form']['id']}", token=shop["t"]).json
    assert form["closed"] is True and pocky_row(form["items"])["outcome"] == "cancelled"
    assert pocky_row(form["items"])["ordered"] == 0
    assert {(b["name"], b["emailed"]) for b in form["cancelled_buyers"]} == {("Amy", True), ("Bo", False)}
    assert db.get_db().form_notices.count_documents({}) == 2  # Bo's too: the seller tells him
    # Again, and later: nothing more cancelled, sent or credited.
    assert closing.close_due_forms(AFTER + dt.timedelta(days=1))["closed"] == 0
    assert len(sent_to(ses, "amy@example.com")) == 1 and check_ledger()[amy_id] == 20000
    assert stock_and_live_units(api) == before


def test_a_replayed_cancel_event_tells_nobody_twice(api, ses):
    shop = make_group_buy(api, minimum=5)
    buy(api, shop, 1, email="amy@example.com")
    closing.close_due_forms(AFTER)
    order_ids = tuple(o["_id"] for o in db.get_db().orders.find())
    from chalicelib.notifications import notifications

    event = closing.FormOrdersCancelled(form_id=db.get_db().forms.find_one()["_id"], order_ids=order_ids)
    assert notifications.form_orders_cancelled(event) == 0
    assert len(sent_to(ses, "amy@example.com")) == 1


def test_extend_moves_the_close_once_then_cancels_at_the_next(api, ses):
    shop = make_group_buy(api, minimum=5, on_min_unmet="extend", extend_days=3)
    buy(api, shop, 2, email="amy@example.com")
    assert closing.close_due_forms(AFTER) == {"closed": 0, "extended": 1, "cancelled_orders": 0}
    form = api.get(f"/forms/{shop['form']['id']}", token=shop["t"]).json
    new_close = CLOSES + dt.timedelta(days=3)
    assert form["closes_at"] == new_close.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert form["extended"] is True and form["closed"] is False
    assert pocky_row(form["items"])["outcome"] == "extended"
    assert db.get_db().orders.count_documents({"fulfillment_status": "cancelled"}) == 0
    # Before the new close: nothing to do; not moved twice.
    assert closing.close_due_forms(AFTER + dt.timedelta(days=1)) == {
        "closed": 0,
        "extended": 0,
        "cancelled_orders": 0,
    }
    assert closing.close_due_forms(new_close + dt.timedelta(minutes=1)) == {
        "closed": 1,
        "extended": 0,
        "cancelled_orders": 1,
    }
    assert db.get_db().orders.find_one()["fulfillment_status"] == "cancelled"
    assert len(sent_to(ses, "amy@example.com")) == 1
    form = api.get(f"/forms/{shop['form']['id']}", token=shop["t"]).json
    assert form["closed"] is True and form["closes_at"] == new_close.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_extend_with_the_minimum_reached_meanwhile_keeps_every_order(api):
    shop = make_group_buy(api, minimum=3, on_min_unmet="extend", extend_days=2)
    buy(api, shop, 2, email="amy@example.com")
    closing.close_due_forms(AFTER)
    db.get_db().forms.update_one({}, {"$set": {"closes_at": AFTER + dt.timedelta(hours=1)}})  # reopen now
    buy(api, shop, 1, name="Bo", line_id="bo_line")
    assert closing.close_due_forms(AFTER + dt.timedelta(days=3))["cancelled_orders"] == 0
    assert db.get_db().orders.count_documents({"fulfillment_status": "cancelled"}) == 0


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"items": [{"min_quantity": 0}]}, "items.0.min_quantity", None),
        ({"items": [{"min_quantity": "5"}]}, "items.0.min_quantity", None),
        ({"on_min_unmet": "extend"}, "extend_days", "missing"),
        ({"on_min_unmet": "extend", "extend_days": 0}, "extend_days", None),
        ({"on_min_unmet": "extend", "extend_days": 31}, "extend_days", None),
        ({"extend_days": 3}, "extend_days", "extend_days_not_allowed"),
        ({"on_min_unmet": "wait"}, "on_min_unmet", None),
    ],
)
def test_bad_minimum_rules_are_400_naming_the_field_and_write_nothing(api, change, field, code):
    t = api.signup()
    item = make_item(api, t, item_name="Pocky", price=100)
    body = {"batch": "B", "title": "T", "items": [{"item_id": item["id"]}], **change}
    if "items" in change:
        body["items"] = [{"item_id": item["id"], **change["items"][0]}]
    r = api.post("/forms", body, token=t)
    assert r.status == 400, r.json
    details = r.json["error"]["details"]
    assert any(d["field"] == field and (code is None or d["code"] == code) for d in details), details
    assert db.get_db().forms.count_documents({}) == 0


def test_a_patch_checks_the_rule_it_leaves(api):
    shop = make_group_buy(api, minimum=5)
    path, t = f"/forms/{shop['form']['id']}", shop["t"]
    r = api.patch(path, {"on_min_unmet": "extend"}, token=t)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "extend_days", r.json
    assert db.get_db().forms.find_one()["on_min_unmet"] == "cancel"
    r = api.patch(path, {"on_min_unmet": "extend", "extend_days": 7}, token=t)
    assert r.status == 200 and (r.json["on_min_unmet"], r.json["extend_days"]) == ("extend", 7)
    r = api.patch(path, {"extend_days": 40}, token=t)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "extend_days"
    r = api.patch(path, {"on_min_unmet": "cancel"}, token=t)
    assert r.status == 200 and (r.json["on_min_unmet"], r.json["extend_days"]) == ("cancel", None)
    r = api.patch(path, {"items": [{"item_id": shop["pocky"]["id"], "min_quantity": 2}]}, token=t)
    assert r.status == 200 and r.json["items"][0]["min_quantity"] == 2


def test_an_edit_keeping_the_close_time_does_not_run_the_close_again(api):
    shop = make_group_buy(api, minimum=2)
    buy(api, shop, 2, email="amy@example.com")
    assert closing.close_due_forms(AFTER)["closed"] == 1
    path, t = f"/forms/{shop['form']['id']}", shop["t"]
    # The editor sends the close time it shows with every save: no new close.
    r = api.patch(path, {"title": "Renamed", "closes_at": CLOSES.isoformat()}, token=t)
    assert r.status == 200, r.json
    assert closing.close_due_forms(AFTER + dt.timedelta(minutes=5))["closed"] == 0
    # A new close time: the close runs again then.
    later = CLOSES + dt.timedelta(days=2)
    assert api.patch(path, {"closes_at": later.isoformat(), "closed": False}, token=t).status == 200
    assert closing.close_due_forms(AFTER + dt.timedelta(days=1))["closed"] == 0
    assert closing.close_due_forms(later + dt.timedelta(minutes=1))["closed"] == 1


# --- reminders: "closing soon" and "payment due", once per buyer per form


def reminders(ses, kind_word):
    return sorted(a for m in ses if kind_word in m.subject for a in m.destinations["ToAddresses"])


def test_closing_soon_goes_once_to_buyers_with_an_email_a_day_before(api, ses):
    shop = make_group_buy(api, minimum=1)
    buy(api, shop, 1, email="amy@example.com", remind=True)
    buy(api, shop, 1, name="Bo", line_id="bo_line")  # no email: nothing to remind him by
    assert closing.send_due_reminders(CLOSES - dt.timedelta(hours=30))["reminded_closing_soon"] == 0
    soon = CLOSES - dt.timedelta(hours=20)
    assert closing.send_due_reminders(soon)["reminded_closing_soon"] == 1
    assert reminders(ses, "即將截止") == ["amy@example.com"]
    (mail,) = [m for m in ses if "即將截止" in m.subject]
    assert "2031-03-01 20:00" in mail.subject  # the shop's zone (Asia/Taipei)
    closing.send_due_reminders(soon + dt.timedelta(minutes=5))
    from chalicelib.notifications import notifications

    form_id = db.get_db().forms.find_one()["_id"]
    buyers = tuple(c["_id"] for c in db.get_db().customers.find())
    again = closing.FormReminderDue(form_id=form_id, kind=closing.CLOSING_SOON, customer_ids=buyers)
    assert notifications.form_reminder(again) == 0  # a replay: recorded already
    assert reminders(ses, "即將截止") == ["amy@example.com"]


def test_payment_due_goes_once_to_buyers_still_owing_days_after_the_close(api, ses):
    shop = make_group_buy(api, minimum=1)
    buy(api, shop, 2, email="amy@example.com", remind=True)
    buy(api, shop, 1, email="cy@example.com", remind=True)
    cy = db.get_db().customers.find_one({"email": "cy@example.com"})
    make_payment(api, shop["t"], str(cy["_id"]), 100)  # Cy has paid
    closing.close_due_forms(AFTER)
    assert closing.send_due_reminders(AFTER + dt.timedelta(days=1))["reminded_payment_due"] == 0
    due = AFTER + closing.DUE_AFTER
    assert closing.send_due_reminders(due)["reminded_payment_due"] == 1
    assert reminders(ses, "待付款") == ["amy@example.com"]
    (mail,) = [m for m in ses if "待付款" in m.subject]
    assert "200" in mail.subject
    assert closing.send_due_reminders(due + dt.timedelta(days=1))["reminded_payment_due"] == 0
    assert reminders(ses, "待付款") == ["amy@example.com"]


def test_forms_closed_long_ago_get_no_payment_reminder(api, ses):
    """The first run after a deploy must not email every old form's buyers."""
    shop = make_group_buy(api, minimum=1)
    buy(api, shop, 2, email="amy@example.com", remind=True)
    closing.close_due_forms(AFTER)
    long_after = AFTER + closing.DUE_AFTER + dt.timedelta(days=3)
    assert closing.send_due_reminders(long_after)["reminded_payment_due"] == 0
    assert reminders(ses, "待付款") == []


def test_the_schedule_closes_and_reminds_in_one_run(api, ses):
    shop = make_group_buy(api, minimum=1)
    buy(api, shop, 1, email="amy@example.com", remind=True)
    done = closing.run(CLOSES - dt.timedelta(hours=1))
    assert done["reminded_closing_soon"] == 1 and done["closed"] == 0
    done = closing.run(AFTER)
    assert done["closed"] == 1 and done["reminded_closing_soon"] == 0


# --- reminders go to the buyers who asked (the public form's box), and can be reached


def test_reminders_go_only_to_buyers_who_asked_once_each_however_often_the_schedule_runs(api, ses):
    shop = make_group_buy(api, minimum=1)
    buy(api, shop, 1, email="amy@example.com", remind=True)
    buy(api, shop, 2, name="Cy", email="cy@example.com")  # did not tick the box
    buy(api, shop, 1, name="Di", email="di@example.com", remind=False)
    buy(api, shop, 1, name="Amy", email="amy@example.com")  # her second order: the ask stands
    soon = CLOSES - dt.timedelta(hours=20)
    for minutes in (0, 5, 10):
        closing.run(soon + dt.timedelta(minutes=minutes))
    assert reminders(ses, "即將截止") == ["amy@example.com"]
    (mail,) = [m for m in ses if "即將截止" in m.subject]
    body = mail.body["text_part"] if isinstance(mail.body, dict) else str(mail.body)
    assert "停止批次通知 Email" in body  # how to stop them
    closing.run(AFTER)
    for days in (0, 1):
        closing.run(AFTER + closing.DUE_AFTER + dt.timedelta(days=days))
    assert reminders(ses, "待付款") == ["amy@example.com"]
    asked = {o["customer_id"] for o in db.get_db().orders.find({"remind": True})}
    assert [db.get_db().customers.find_one({"_id": c})["email"] for c in asked] == ["amy@example.com"]


def test_a_buyer_who_asked_but_stopped_notices_or_cannot_be_emailed_gets_none(api, ses):
    shop = make_group_buy(api, minimum=1)
    buy(api, shop, 1, email="amy@example.com", remind=True)
    buy(api, shop, 1, name="Cy", email="cy@example.com", remind=True)
    buy(api, shop, 1, name="Ed", email="ed@example.com", remind=True)
    ids = {c["email"]: str(c["_id"]) for c in db.get_db().customers.find()}
    r = api.patch(f"/customers/{ids['cy@example.com']}", {"notices_opt_out": True}, token=shop["t"])
    assert r.status == 200, r.json
    r = api.patch(f"/customers/{ids['ed@example.com']}", {"notify": False}, token=shop["t"])
    assert r.status == 200, r.json
    closing.send_due_reminders(CLOSES - dt.timedelta(hours=20))
    assert reminders(ses, "即將截止") == ["amy@example.com"]


def test_asking_for_reminders_without_an_email_is_a_400_naming_remind_and_writes_nothing(api):
    shop = make_group_buy(api, minimum=1)
    path = f"/f/{shop['token']}/orders"
    line = [{"item_id": shop["pocky"]["id"], "quantity": 1}]
    # A LINE-only buyer: reminders go by email, the page offers none without one.
    r = api.post(path, {"name": "Bo", "line_id": "bo_line", "lines": line, "remind": True})
    assert r.status == 400, r.json
    assert [(d["field"], d["code"]) for d in r.json["error"]["details"]] == [("remind", "remind_needs_email")]
    r = api.post(path, {"name": "Bo", "email": "bo@example.com", "lines": line, "remind": "yes"})
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "remind", r.json
    # A form that finds buyers by phone keeps no email: none to remind by.
    t = shop["t"]
    phone_form = api.post(
        "/forms",
        {
            "batch": "2031-03 東京",
            "title": "By phone",
            "items": [{"item_id": shop["pocky"]["id"]}],
            "contact": "phone",
        },
        token=t,
    ).json
    token = phone_form["url"].split("#")[1]
    body = {"name": "Bo", "phone": "0912345678", "email": "bo@example.com", "lines": line, "remind": True}
    r = api.post(f"/f/{token}/orders", body)
    assert r.status == 400 and r.json["error"]["details"][0]["code"] == "remind_needs_email", r.json
    assert db.get_db().orders.count_documents({}) == 0
    assert db.get_db().customers.count_documents({}) == 0
