"""Updates of different fields of one document from different code paths, at once, on the
real servers (FerretDB over a socket and mongo-java-server; threads share one pool).

FerretDB 1.24 applies an update by reading the whole document, changing it in Go and
writing all of it back, with nothing between the read and the write: an update of one
field could put back another field as it was before a concurrent update of it
(docs/ferretdb.md, "Atomicity"). Each test repeats a pair of writers that name no common
lock many times and checks both fields afterwards. Items are not here: every write of
an item holds its lock (`store.item_key`); every write of an order holds `order_key`
except the buyer email's claim (`notify_key`), which is here."""

from __future__ import annotations

import threading

import pytest
from bson import ObjectId

from chalicelib.accounts import auth
from chalicelib.buyers import customers
from chalicelib.buyers.schemas import CustomerIn, CustomerPatch
from chalicelib.money import charges, payments
from chalicelib.money.schemas import ChargeIn, PaymentIn
from chalicelib.platform import db, doc_gate
from chalicelib.sales import forms
from chalicelib.sales.schemas import FormPatch
from tests.conftest import at_once
from tests.factories import make_item, make_order

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)

ROUNDS = 20
VOID_ROUNDS = 40  # a void is one write among many: it needs more rounds to be hit


def seller(api):
    """A new seller's token and principal (the race calls the domain functions)."""
    token = api.signup()
    return token, auth.authenticate(f"Bearer {token}")


def customer(who, n: int) -> ObjectId:
    return ObjectId(customers.create(who, CustomerIn(name=f"陳美玲 {n}", phone=f"09{n:08d}"))["id"])


def during(main, other) -> list:
    """`main` once, and `other` again and again in another thread until `main` is over:
    one of `other`'s writes falls inside each write of `main` (at_once's results)."""
    over = threading.Event()
    runs = []

    def first():
        try:
            return main()
        finally:
            over.set()

    def again():
        runs.append(other())
        while not over.is_set():
            runs.append(other())
        return runs

    return at_once([first, again])


def pay(who, cid: ObjectId, amount: int):
    """A payment while she owes nothing: all of it is her credit (customers.credit)."""
    return lambda: payments.record(who, PaymentIn(customer_id=str(cid), amount=amount, method="cash"))


def renames(who, cid: ObjectId, n: int):
    """PATCH /customers/{id} with a new name each call (under the customer's lock); the
    name it wrote (its orders', charges' and parcels' copies follow, bus events)."""
    names = iter(f"林雅婷 {n}-{k}" for k in range(10_000))
    return lambda: customers.update(who, str(cid), CustomerPatch(name=next(names)))["name"]


def first_charge(who, cid: ObjectId):
    return lambda: charges.create(who, ChargeIn(customer_id=str(cid), amount=60, kind="shipping"))


def test_a_first_charge_while_the_buyer_is_renamed_keeps_charged_and_the_name(api):
    """`customers.charged`, set before her first charge (under her money lock); lost, her
    next payment would skip her charges. Renames (under the customer's lock) at the same
    time: another lock, so nothing but the store keeps the two writes apart."""
    _, who = seller(api)
    lost = []
    for n in range(ROUNDS):
        cid = customer(who, n)
        last = during(first_charge(who, cid), renames(who, cid, n))[1][-1]
        doc = db.get_db().customers.find_one({"_id": cid})
        if doc.get("charged") is not True or doc["name"] != last:
            lost.append((n, doc.get("charged"), doc["name"], last))
    assert lost == []


def test_a_rename_and_a_payment_at_once_keep_the_name_and_the_credit(api):
    """The credit a payment caches on her (ledger._sync_credit, under her money lock) and
    her new name (under the customer's lock): lost credit hides her money from her next
    order."""
    _, who = seller(api)
    lost = []
    for n in range(ROUNDS):
        cid = customer(who, n)
        last = during(pay(who, cid, 100), renames(who, cid, n))[1][-1]
        doc = db.get_db().customers.find_one({"_id": cid})
        if doc["name"] != last or doc.get("credit") != 10000:
            lost.append((n, doc["name"], last, doc.get("credit")))
    assert lost == []


def test_a_charge_voided_while_its_buyer_is_renamed_stays_void(api):
    """The rename copies her name onto her charges (charge_book.rename_buyer, one
    update_many); a void at the same moment must stay: a charge back to `open` is money
    she would owe again."""
    _, who = seller(api)
    lost = []
    for n in range(VOID_ROUNDS):
        cid = customer(who, n)
        charge, _ = first_charge(who, cid)()
        last = during(lambda: charges.void_one(who, charge["id"]), renames(who, cid, n))[1][-1]
        doc = db.get_db().charges.find_one({"_id": ObjectId(charge["id"])})
        if doc["status"] != "void" or doc["buyer_name"] != last:
            lost.append((n, doc["status"], doc["buyer_name"], last))
    assert lost == []


def test_closing_a_form_while_its_link_is_renewed_keeps_both(api):
    """A form closed by hand stays closed, and the old link stops working, when the
    seller renews the link at the same moment (two tabs)."""
    token, who = seller(api)
    item = make_item(api, token)
    lost = []
    for n in range(ROUNDS):
        body = {"batch": "B", "title": f"團購 {n}", "items": [{"item_id": item["id"]}]}
        form = api.post("/forms", body, token=token).json
        before = db.get_db().forms.find_one({"_id": ObjectId(form["id"])})["token_hash"]
        at_once(
            [
                lambda: forms.update(who, form["id"], FormPatch(closed=True)),
                lambda: forms.new_link(who, form["id"]),
            ]
        )
        doc = db.get_db().forms.find_one({"_id": ObjectId(form["id"])})
        if doc.get("closed") is not True or doc["token_hash"] == before:
            lost.append((n, doc.get("closed"), doc["token_hash"] == before))
    assert lost == []


def test_only_ferretdb_updates_pass_the_gate(api, backend, monkeypatch):
    """On mongo-java-server (the code as on Atlas) an update is sent as it is: its
    atomicity is the server's. On FerretDB each passes doc_gate."""
    gated = []
    real = doc_gate._gate
    monkeypatch.setattr(doc_gate, "_gate", lambda *names: gated.append(names) or real(*names))
    _, who = seller(api)
    cid = customer(who, 1)
    customers.mark_charged(ObjectId(who.seller_id), cid)
    assert db.get_db().customers.find_one({"_id": cid})["charged"] is True
    assert gated == ([(db.get_db().name, "customers")] if backend == "ferretdb" else [])


def test_a_payment_on_an_order_while_its_email_is_claimed_and_given_back_keeps_the_money(api):
    """Orders: the buyer email's claim of an order (`notified_at`, under the notify lock,
    notifications._claim) and its give-back when SES refuses, again and again, while a
    payment writes its share of the order (under the order's lock): the share stays."""
    from chalicelib.notifications import notifications

    token, who = seller(api)
    lost = []
    for n in range(ROUNDS):
        cid = customer(who, n)
        oid = ObjectId(make_order(api, token, customer_id=str(cid))["id"])

        def claim_and_give_back(oid=oid):
            notifications._claim("orders", oid)
            db.get_db().orders.update_one({"_id": oid}, {"$set": {"notified_at": None}})

        during(pay(who, cid, 100), claim_and_give_back)
        doc = db.get_db().orders.find_one({"_id": oid})
        if doc.get("paid_amount") != doc["total_amount"] or doc["payment_status"] == "unpaid":
            lost.append((n, doc.get("paid_amount"), doc["payment_status"]))
    assert lost == []
