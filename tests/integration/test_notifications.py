"""Buyer emails (contract "Parcels": a parcel created, a payment confirmed) through moto's
SES: in the shop's language, with a working tracking link of their own, exactly one per
event even when the request is retried, and none when the shop or the buyer said no."""

from __future__ import annotations

import json
import re

from test_tracking import costed_order, seller_only_in

from chalicelib.platform import db, mailer
from chalicelib.tracking import tracking
from tests.factories import make_customer, make_order, make_payment

LINK_RE = re.compile(r"https://shop\.example\.test/track\.html#([A-Za-z0-9_-]{43})")


def setup_buyer(api, token, **customer):
    c = make_customer(api, token, name="王小明", **customer)
    orders = [
        make_order(api, token, customer_id=c["id"], item_name="東京ばな奈", unit_price=300) for _ in range(2)
    ]
    return c, orders


def ship(api, token, c, orders, key=None):
    body = {
        "customer_id": c["id"],
        "order_ids": [o["id"] for o in orders],
        "method": "home",
        "carrier": "黑貓",
        "tracking_number": "123456789012",
    }
    return api.post("/parcels", body, token=token, headers={"Idempotency-Key": key} if key else None)


def to(ses, address):
    return [m for m in ses if address in m.destinations["ToAddresses"]]


def test_a_parcel_emails_its_buyer_once_in_the_shops_language(api, token, ses):
    c, orders = setup_buyer(api, token)
    first = ship(api, token, c, orders, key="box-1")
    again = ship(api, token, c, orders, key="box-1")
    assert (first.status, again.status) == (201, 200)
    (msg,) = to(ses, "amy@example.com")
    assert msg.subject == f"Tokyo Picks：您的包裹已出貨（#{orders[0]['order_no']}、#{orders[1]['order_no']}）"
    assert "王小明 您好" in msg.body and "黑貓" in msg.body and "123456789012" in msg.body
    assert "https://www.t-cat.com.tw/" in msg.body  # the carrier's own tracking page
    (token_in_mail,) = set(LINK_RE.findall(msg.body))
    page = api.get(f"/track/{token_in_mail}").json
    assert [p["parcel_no"] for p in page["parcels"]] == [first.json["parcel_no"]]


def test_a_confirmed_payment_emails_once_and_the_switch_does_not(api, token, ses):
    api.patch("/auth/me", {"language": "en"}, token=token)
    c, orders = setup_buyer(api, token)
    link = api.post(f"/customers/{c['id']}/tracking-link", token=token).json["token"]
    api.post(f"/track/{link}/payments", {"amount": 450, "paid_at": "2026-11-25"})
    (reported,) = api.get("/payments?status=reported", token=token).json["items"]
    assert to(ses, "amy@example.com") == []  # reported is not confirmed
    assert api.post(f"/payments/{reported['id']}/confirm", token=token).status == 200
    assert api.post(f"/payments/{reported['id']}/confirm", token=token).status == 200  # double click
    (msg,) = to(ses, "amy@example.com")
    assert msg.subject == "Tokyo Picks: your payment of NT$450 is confirmed"
    assert "from 2026-11-25" in msg.body and f"#{orders[0]['order_no']}" in msg.body
    # The seller's record of a cash payment emails too; the 已匯款 switch is bookkeeping.
    make_payment(api, token, c["id"], 50, method="cash")
    assert len(to(ses, "amy@example.com")) == 2
    api.patch(f"/orders/{orders[1]['id']}", {"payment_status": "remitted"}, token=token)
    assert len(to(ses, "amy@example.com")) == 2


def test_payment_amounts_are_written_as_the_pages_write_them(api, token, ses):
    """currencies.format_amount in the shop's language: cents only when there are some,
    whole yen in a JPY shop."""
    c, _ = setup_buyer(api, token)
    make_payment(api, token, c["id"], 780.5, method="cash")
    yen = api.patch("/auth/me", {"currency": "JPY", "language": "en"}, token=token).json["token"]
    make_payment(api, yen, c["id"], 1234, method="cash")
    zh, en = to(ses, "amy@example.com")
    assert zh.subject == "Tokyo Picks：已確認您的付款 NT$780.50"
    assert "付款 NT$780.50" in zh.body
    assert en.subject == "Tokyo Picks: your payment of ¥1,234 is confirmed"
    assert "payment of ¥1,234 from" in en.body and "¥1,234.00" not in en.body


def test_no_cost_rate_or_profit_reaches_the_buyer(api, token, ses, monkeypatch):
    """An order with a cost in yen, its batch's rate and a profit, in every email its buyer
    gets (parcel, payment confirmed, "email me my link"), on the page the link opens and
    on the packing slip with prices: its price and nothing of what it cost the seller."""
    monkeypatch.setattr(tracking, "REQUEST_FLOOR_SECONDS", 0.0)
    sent: list[mailer.Email] = []
    real = mailer.send
    monkeypatch.setattr(mailer, "send", lambda email: sent.append(email) or real(email))
    c, plain = setup_buyer(api, token)
    costed = costed_order(api, token, "amy@example.com", "Royce Chocolate")
    parcel = ship(api, token, c, [costed, *plain])
    assert parcel.status == 201, parcel
    paid = {"customer_id": c["id"], "amount": 999, "method": "cash"}
    assert api.post("/payments", paid, token=token).status == 201
    shop = api.get("/auth/me", token=token).json["shop_slug"]
    assert api.post("/track/request-link", {"shop_slug": shop, "email": "amy@example.com"}).status == 202
    assert len(sent) == len(to(ses, "amy@example.com")) == 3
    parcel_mail, payment_mail, link_mail = sent
    assert f"#{costed['order_no']}" in parcel_mail.text and "NT$999" in payment_mail.subject
    for mail in sent:
        assert seller_only_in("\n".join((mail.subject, mail.text, mail.html))) == [], mail
    for (link,) in [set(LINK_RE.findall(m.text)) for m in sent]:
        page = api.get(f"/track/{link}")
        assert [o["total_amount"] for o in page.json["orders"] if o["order_no"] == costed["order_no"]] == [
            999
        ]
        text = page.body.decode() if isinstance(page.body, bytes) else page.body
        assert seller_only_in(text) == [] and seller_only_in(json.dumps(page.json, ensure_ascii=False)) == []
    slip = api.get(f"/parcels/{parcel.json['id']}/packing-slip?prices=1", token=token).body.decode()
    assert "NT$999" in slip and "NT$300" in slip and "NT$1,599" in slip  # prices, and their total
    assert seller_only_in(slip) == []


def test_the_shop_switch_and_the_buyers_opt_out(api, token, ses):
    c, orders = setup_buyer(api, token)
    r = api.patch("/auth/me", {"notify_buyers": False}, token=token)
    assert r.json["seller"]["notify_buyers"] is False
    ship(api, token, c, orders[:1])
    assert to(ses, "amy@example.com") == []
    api.patch("/auth/me", {"notify_buyers": True}, token=token)
    r = api.patch(f"/customers/{c['id']}", {"notify": False}, token=token)
    assert r.json["notify"] is False
    ship(api, token, c, orders[1:])
    assert to(ses, "amy@example.com") == []
    assert api.patch(f"/customers/{c['id']}", {"notify": None}, token=token).status == 400
    assert api.patch("/auth/me", {"notify_buyers": None}, token=token).status == 400


def test_a_refused_email_is_sent_by_the_retry_and_leaves_no_link(api, token, ses, monkeypatch):
    c, orders = setup_buyer(api, token)
    real = mailer.send

    def refused(email):
        raise mailer.MailError("SES refused the message: Throttling")

    monkeypatch.setattr(mailer, "send", refused)
    r = ship(api, token, c, orders, key="box-9")
    assert r.status == 201  # the parcel is made; the email is not
    assert db.get_db().parcels.find_one()["notified_at"] is None
    assert db.get_db().tracking_links.count_documents({"kind": "email"}) == 0
    monkeypatch.setattr(mailer, "send", real)
    assert ship(api, token, c, orders, key="box-9").status == 200
    assert len(to(ses, "amy@example.com")) == 1
    assert db.get_db().parcels.find_one()["notified_at"] is not None


def test_five_retries_of_one_parcel_at_once_send_one_email(api, token, ses, backend):
    """The page's retries of one create (same Idempotency-Key) race each other on a real
    server: one parcel, one email."""
    from concurrent.futures import ThreadPoolExecutor

    import pytest

    if backend == "mongomock":
        pytest.skip("a race on a real server (mongomock is not a server)")
    c, orders = setup_buyer(api, token)
    with ThreadPoolExecutor(5) as pool:
        statuses = sorted(pool.map(lambda _: ship(api, token, c, orders, key="box-race").status, range(5)))
    assert statuses.count(201) == 1 and set(statuses) <= {200, 201, 409}, statuses
    assert db.get_db().parcels.count_documents({}) == 1
    assert len(to(ses, "amy@example.com")) == 1
