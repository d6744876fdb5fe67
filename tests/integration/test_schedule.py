"""The scheduled close as AWS runs it: the Lambda imports `app` and calls the attribute
its handler string names, with an EventBridge event; it closes due forms (every lane)."""

from __future__ import annotations

import datetime as dt
import importlib

from chalicelib.platform import db
from tests.integration.test_form_minimum import buy, make_group_buy, no_floor  # noqa: F401


def test_the_scheduled_lambda_handler_closes_due_forms(api, monkeypatch):
    app = importlib.import_module("app")
    (source,) = [s for s in app.app.event_sources if s.name == "close_due_forms"]
    module, _, name = source.handler_string.partition(".")
    handler = getattr(importlib.import_module(module), name)
    shop = make_group_buy(api, minimum=5)
    buy(api, shop, 1, email="amy@example.com")
    from chalicelib.platform import clock

    later = dt.datetime(2031, 3, 2, tzinfo=dt.UTC)
    monkeypatch.setattr(clock, "now", lambda: later)
    event = {
        "version": "0",
        "id": "x",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "1",
        "time": "2031-03-02T00:00:00Z",
        "region": "ap-northeast-1",
        "resources": [],
        "detail": {},
    }
    handler(event, None)
    assert db.get_db().forms.find_one()["closed"] is True
    assert db.get_db().orders.find_one()["fulfillment_status"] == "cancelled"


def test_make_runs_timer_runs_the_same_work(api, monkeypatch, caplog):
    """`make run`'s timer (manage.py schedule): one run closes due forms, logs no failure."""
    from chalicelib import manage
    from chalicelib.platform import clock

    shop = make_group_buy(api, minimum=5)
    buy(api, shop, 1, email="amy@example.com")
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2031, 3, 2, tzinfo=dt.UTC))
    assert manage.main(["schedule", "--once"]) == 0
    assert "scheduled run failed" not in caplog.text
    assert db.get_db().forms.find_one()["settled"] is True
    assert db.get_db().orders.find_one()["fulfillment_status"] == "cancelled"
