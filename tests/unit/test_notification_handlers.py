"""The email handlers (notifications) with an in-memory mailer: no SES, no moto. One
email per event however often the event comes; a refused send gives the claim and the
link back; nothing is claimed or sent when no mail is set up."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from bson import ObjectId

from chalicelib.money.payments import PaymentConfirmed
from chalicelib.notifications import notifications
from chalicelib.platform import db, mailer
from chalicelib.sales.forms import FormOrderPlaced
from chalicelib.shipping.parcels import ParcelShipped
from chalicelib.tracking import tracking
from tests.conftest import use_database


class MemoryMailer:
    """mailer.Mailer in memory: keeps what it sends; `refuse` makes it fail like SES."""

    def __init__(self, ready: bool = True):
        self.sent: list[mailer.Email] = []
        self.refuse = False
        self._ready = ready

    def ready(self) -> bool:
        return self._ready

    def send(self, email: mailer.Email) -> str:
        if self.refuse:
            raise mailer.MailError("SES refused the message: Throttling")
        self.sent.append(email)
        return f"id-{len(self.sent)}"


@pytest.fixture
def shop():
    name = "t_" + uuid.uuid4().hex[:12]
    use_database("mongomock://", name)
    d = db.get_db()
    seller = {"_id": ObjectId(), "shop_name": "Tokyo Picks", "currency": "TWD", "language": "en"}
    customer = {"_id": ObjectId(), "seller_id": seller["_id"], "name": "Mei", "email": "mei@example.com"}
    d.sellers.insert_one(seller)
    d.customers.insert_one(customer)
    yield d, seller, customer
    db.reset_client()


def parcel(d, seller, customer) -> ObjectId:
    doc = {
        "seller_id": seller["_id"],
        "customer_id": customer["_id"],
        "order_nos": [1001, 1002],
        "method": "home",
        "carrier": None,
        "tracking_number": None,
        "shipped_date": "2026-12-04",
        "notified_at": None,
    }
    return d.parcels.insert_one(doc).inserted_id


def test_a_parcel_event_emails_the_buyer_once(shop):
    d, seller, customer = shop
    pid, mail = parcel(d, seller, customer), MemoryMailer()
    assert notifications.parcel_shipped(ParcelShipped(pid), mail=mail) is True
    assert notifications.parcel_shipped(ParcelShipped(pid), mail=mail) is False  # claimed
    (email,) = mail.sent
    assert (
        email.to == "mei@example.com"
        and email.subject == "Tokyo Picks: your parcel has shipped (#1001, #1002)"
    )
    assert "Hello Mei," in email.text and "https://shop.example.test/track.html#" in email.text
    assert d.tracking_links.count_documents({"kind": "email", "customer_id": customer["_id"]}) == 1


def test_a_refused_send_gives_back_the_claim_and_the_link(shop):
    d, seller, customer = shop
    pid, mail = parcel(d, seller, customer), MemoryMailer()
    mail.refuse = True
    assert notifications.parcel_shipped(ParcelShipped(pid), mail=mail) is False
    assert d.parcels.find_one({"_id": pid})["notified_at"] is None
    assert d.tracking_links.count_documents({}) == 0
    mail.refuse = False
    assert notifications.parcel_shipped(ParcelShipped(pid), mail=mail) is True  # the retry sends it
    assert len(mail.sent) == 1


def test_no_mail_set_up_claims_nothing(shop):
    d, seller, customer = shop
    pid = parcel(d, seller, customer)
    assert notifications.parcel_shipped(ParcelShipped(pid), mail=MemoryMailer(ready=False)) is False
    assert d.parcels.find_one({"_id": pid})["notified_at"] is None


def test_no_mail_set_up_reads_nothing(shop, monkeypatch):
    """A local run (no SES sender) pays no database read for an email it will not send."""
    d, seller, customer = shop
    pid = parcel(d, seller, customer)

    def no_database():
        raise AssertionError("the handler read the database with no mail set up")

    monkeypatch.setattr(notifications, "get_db", no_database)
    off = MemoryMailer(ready=False)
    assert notifications.parcel_shipped(ParcelShipped(pid), mail=off) is False
    assert notifications.payment_confirmed(PaymentConfirmed(ObjectId()), mail=off) is False


def test_a_buyer_who_said_no_gets_nothing(shop):
    d, seller, customer = shop
    d.customers.update_one({"_id": customer["_id"]}, {"$set": {"notify": False}})
    mail = MemoryMailer()
    assert notifications.parcel_shipped(ParcelShipped(parcel(d, seller, customer)), mail=mail) is False
    assert mail.sent == []


def test_a_confirmed_payment_emails_once_and_a_reported_one_not_at_all(shop):
    d, seller, customer = shop
    base = {"seller_id": seller["_id"], "customer_id": customer["_id"], "amount": 150000}
    base |= {"paid_at": "2026-12-01", "allocations": [{"order_no": 1001}], "notified_at": None}
    reported = d.payments.insert_one({**base, "status": "reported"}).inserted_id
    confirmed = d.payments.insert_one({**base, "status": "confirmed"}).inserted_id
    mail = MemoryMailer()
    assert notifications.payment_confirmed(PaymentConfirmed(reported), mail=mail) is False
    assert notifications.payment_confirmed(PaymentConfirmed(confirmed), mail=mail) is True
    assert notifications.payment_confirmed(PaymentConfirmed(confirmed), mail=mail) is False
    (email,) = mail.sent
    assert (
        email.subject == "Tokyo Picks: your payment of NT$1,500 is confirmed"
        and "(orders #1001)" in email.text
    )


def form(d, seller) -> ObjectId:
    shop = {"shop_name": "Tokyo Picks", "currency": "TWD", "language": "en", "payment_instructions": None}
    return d.forms.insert_one({"seller_id": seller["_id"], "shop": shop}).inserted_id


def test_a_new_buyers_form_email_carries_the_submissions_own_link(shop):
    d, seller, customer = shop
    sid, mail = ObjectId(), MemoryMailer()
    event = FormOrderPlaced(form(d, seller), sid, customer["_id"], whole=True)
    assert notifications.form_order_placed(event, mail=mail) is True
    (email,) = mail.sent
    assert tracking.form_link_url(sid) in email.text
    assert d.tracking_links.count_documents({}) == 0  # the answer's link was written by forms


def test_a_known_buyers_form_email_is_a_new_emailed_link_and_old_ones_are_pruned(shop):
    d, seller, customer = shop
    old = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for n in range(tracking.MAX_EMAILED_LINKS):
        d.tracking_links.insert_one(
            {
                "seller_id": seller["_id"],
                "customer_id": customer["_id"],
                "kind": "email",
                "created_at": old,
                "n": n,
            }
        )
    mail = MemoryMailer()
    event = FormOrderPlaced(form(d, seller), ObjectId(), customer["_id"], whole=False)
    assert notifications.form_order_placed(event, mail=mail) is True
    assert len(mail.sent) == 1 and "Hello Mei," in mail.sent[0].text
    links = list(d.tracking_links.find({"customer_id": customer["_id"], "kind": "email"}))
    assert len(links) == tracking.MAX_EMAILED_LINKS and any("n" not in link for link in links)

    mail.refuse = True
    assert notifications.form_order_placed(event, mail=mail) is False
    assert d.tracking_links.count_documents({"customer_id": customer["_id"]}) == tracking.MAX_EMAILED_LINKS
