"""Batch notices racing themselves on the real servers (FerretDB over a socket and
mongo-java-server): a buyer is emailed at most once per notice however many sends run at
once, a keyed POST retried at once makes one notice, two ticks at once keep one time."""

from __future__ import annotations

import threading
from urllib.parse import quote

import pytest
from bson import ObjectId

from chalicelib.accounts import auth
from chalicelib.notifications import notices
from chalicelib.platform import db, mailer
from tests.conftest import at_once
from tests.factories import make_customer, make_order

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)

BATCH = "2026-12 東京"


class Mail:
    """Thread-safe in-memory mailer; `ready` False holds every email back (pending)."""

    def __init__(self, ready=True):
        self.on = ready
        self.sent: list[mailer.Email] = []
        self.lock = threading.Lock()

    def ready(self):
        return self.on

    def send(self, email):
        with self.lock:
            self.sent.append(email)
        return "id"


def setup(api, buyers=4):
    token = api.signup()
    for i in range(buyers):
        c = make_customer(api, token, name=f"B{i}", email=f"b{i}@example.com")
        make_order(api, token, customer_id=c["id"], batch=BATCH)
    line_only = make_customer(api, token, name="Line", email=None, line_id="line.only")
    make_order(api, token, customer_id=line_only["id"], batch=BATCH)
    return token, auth.authenticate(f"Bearer {token}")


def emailed_once(mail, buyers):
    to = sorted(m.to for m in mail.sent)
    assert to == sorted(f"b{i}@example.com" for i in range(buyers)), to
    states = [r["email_state"] for r in db.get_db().notice_recipients.find({"email": {"$ne": None}})]
    assert states == ["sent"] * buyers, states


def test_two_sends_of_one_notice_at_once_email_each_buyer_once(api):
    _, who = setup(api)
    for _ in range(3):
        db.get_db().notice_recipients.delete_many({})
        held = Mail(ready=False)  # prepared, nothing sent yet: every email pending
        notice, _ = notices.create(who, BATCH, "arrived", None, None, mail=held)
        doc = db.get_db().notices.find_one({"_id": ObjectId(notice["id"])})
        mail = Mail()
        results = at_once([lambda: notices.send_emails(doc, mail) for _ in range(3)])
        assert sum(results) == 4, results
        emailed_once(mail, 4)


def test_a_keyed_notice_retried_at_once_is_one_notice_and_one_email_each(api):
    _, who = setup(api)
    mail = Mail()
    results = at_once(
        [lambda: notices.create(who, BATCH, "payment_due", "尾款", "same-key", mail=mail) for _ in range(3)]
    )
    assert not any(isinstance(r, str) for r in results), results
    assert len({r[0]["id"] for r in results}) == 1 and sorted(r[1] for r in results) == [False, False, True]
    assert db.get_db().notices.count_documents({}) == 1
    assert db.get_db().notice_recipients.count_documents({}) == 5
    emailed_once(mail, 4)


def test_two_ticks_at_once_keep_one_time(api):
    token, who = setup(api, buyers=2)
    notice, _ = notices.create(who, BATCH, "arrived", None, None, mail=Mail(ready=False))
    ids = [r["customer_id"] for r in notice["recipients"]]
    for _ in range(3):
        db.get_db().notice_recipients.update_many({}, {"$set": {"line_sent_at": None}})
        results = at_once([lambda: notices.mark_sent(who, BATCH, notice["id"], ids) for _ in range(2)])
        assert not any(isinstance(r, str) for r in results), results
        times = [{r["customer_id"]: r["line_sent_at"] for r in res["recipients"]} for res in results]
        stored = {str(r["customer_id"]): r["line_sent_at"] for r in db.get_db().notice_recipients.find({})}
        assert all(stored.values()) and len(stored) == 3
        # Whichever answered last shows the stored times: a second tick never moved one.
        listed = api.get(f"/batches/{quote(BATCH)}/notices", token=token).json["items"][0]
        assert {r["customer_id"]: r["line_sent_at"] for r in listed["recipients"]} in times


def test_two_first_notices_at_once_give_each_buyer_one_seller_link(api):
    """Buyers without a seller link yet: two notices at once both make them (one insert
    each); the unique `seller_link_of` lets one win per buyer, the other text carries the
    winner's link, and it is the link the seller's "copy link" shows."""
    token, who = setup(api)
    links = db.get_db().tracking_links
    for _ in range(3):
        links.delete_many({})
        results = at_once(
            [
                lambda: notices.create(who, BATCH, "arrived", None, None, mail=Mail(ready=False))
                for _ in range(2)
            ]
        )
        assert not any(isinstance(r, str) for r in results), results
        check_links(api, token, results)


def check_links(api, token, results):
    links = db.get_db().tracking_links
    for r in results[0][0]["recipients"]:
        cid = r["customer_id"]
        assert links.count_documents({"seller_link_of": ObjectId(cid)}) == 1
        url = api.get(f"/customers/{cid}/tracking-link", token=token).json["url"]
        texts = [
            next(x for x in res[0]["recipients"] if x["customer_id"] == cid)["line_text"] for res in results
        ]
        assert all(f"\n{url}\n" in text for text in texts), (url, texts)
