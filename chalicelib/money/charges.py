"""Charges: money a buyer owes that is no order line (a parcel's shipping after weighing,
customs duty, a bag, an adjustment), paid by payments and credit exactly like orders.

The API of charges: the code's own (`add`, `void`, the keyed functions parcels and forms
call) and the HTTP side. Every change of a charge that moves money (added, voided, its
amount edited, moved by a merge) runs in a unit of work of the buyer's money ledger
(payments.buyer_work), so it never interleaves with a payment; the collection itself is
written by charge_book.py, which payments.py also uses to apply shares.

`key` ("parcel:<id>", "submission:<id>"): at most one live (open) charge per seller and
key, for the code that raises charges by itself (a parcel's fee, a form's flat fee); a
repeat returns the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from chalicelib.buyers import customers
from chalicelib.money import charge_book, payments
from chalicelib.money.schemas import ChargeIn, ChargeOut, ChargeQuery
from chalicelib.platform import clock, currencies, idempotency, mongo
from chalicelib.platform.db import get_db, own
from chalicelib.platform.errors import Conflict, NotFound, ValidationFailed
from chalicelib.platform.ids import object_id
from chalicelib.platform.listing import page
from chalicelib.platform.principal import Principal
from chalicelib.rules import allocation

KINDS = ("shipping", "duty", "packaging", "adjustment", "other")


@dataclass(frozen=True)
class AddCharge:
    """A charge to add, as the domain takes it (cents, ObjectIds)."""

    customer_id: ObjectId
    amount: int  # cents, > 0
    kind: str  # one of KINDS
    note: str | None = None
    parcel_id: ObjectId | None = None
    batch: str | None = None
    submission_id: ObjectId | None = None  # a form submission's flat shipping fee
    key: str | None = None  # one live charge per (seller, key); a repeat returns the first
    # Left for the seller to pay from credit (payments.pay_from_credit): a form
    # submission's fee in the name of a buyer who existed before it.
    credit_held: bool = False


def to_out(doc: dict) -> dict:
    return ChargeOut.from_doc(
        {**doc, "balance": allocation.balance_of(doc), "credit_held": bool(doc.get("credit_held"))}
    )


def _check(command: AddCharge) -> None:
    if not isinstance(command.amount, int) or isinstance(command.amount, bool) or command.amount <= 0:
        raise ValidationFailed(
            "amount must be above 0",
            details=[{"field": "amount", "code": "not_positive", "message": "must be above 0"}],
        )
    if command.kind not in KINDS:
        raise ValidationFailed(
            f"kind must be one of {', '.join(KINDS)}",
            details=[{"field": "kind", "code": "literal_error", "message": "unknown kind"}],
        )


# --- the domain API (the code's own charges: parcels, forms) ----------------------------


def add(seller_id: ObjectId, command: AddCharge, *, charge_id: ObjectId | None = None) -> dict:
    """Store the charge and let the buyer's credit pay it at once (under the buyer's
    money lock). With a `key` that has a live charge: that charge, nothing written.
    `charge_id`: the id to store it under (a keyed request claims it first)."""
    _check(command)
    db = get_db()
    with payments.buyer_work(seller_id, command.customer_id) as uow:
        customer = db.customers.find_one(
            {"_id": command.customer_id, "seller_id": seller_id}, {"name": 1, "credit": 1, "charged": 1}
        )
        if customer is None:
            raise NotFound("customer not found")
        if command.key is not None:
            live = db.charges.find_one({"live_key": charge_book.live_key(seller_id, command.key)})
            if live is not None:
                return live
        parcel_no = None
        if command.parcel_id is not None:
            parcel = db.parcels.find_one({"_id": command.parcel_id, "seller_id": seller_id}, {"parcel_no": 1})
            parcel_no = parcel["parcel_no"] if parcel else None
        doc = {
            "_id": charge_id or ObjectId(),
            "seller_id": seller_id,
            "customer_id": command.customer_id,
            "buyer_name": customer.get("name"),
            "amount": command.amount,
            "kind": command.kind,
            "note": command.note or None,
            "parcel_id": command.parcel_id,
            "parcel_no": parcel_no,
            "batch": command.batch or None,
            "submission_id": command.submission_id,
            "key": command.key,
            "paid_by": {},
            "paid_amount": 0,
            "status": "open",
            "version": 0,
            "voided_at": None,
            "created_at": uow.now,
            "updated_at": uow.now,
        }
        if command.key is not None:
            doc["live_key"] = charge_book.live_key(seller_id, command.key)
        if command.credit_held:
            doc["credit_held"] = True
        if not customer.get("charged"):
            customers.mark_charged(seller_id, command.customer_id)  # before the charge exists
        try:
            charge_book.insert(doc)
        except mongo.DuplicateKeyError:
            # The same key for another buyer's charge (under that buyer's lock): one live.
            live = db.charges.find_one({"live_key": doc["live_key"]})
            if live is None:
                raise Conflict(
                    "the charge changed while saving; try again", code="concurrent_update"
                ) from None
            return live
        if not command.credit_held and customer.get("credit", 0) > 0 and payments.pay_from_credit(uow):
            doc = db.charges.find_one({"_id": doc["_id"]})
    return doc


def void(seller_id: ObjectId, charge_id: ObjectId) -> dict:
    """The charge is no longer owed: the money on it goes back to the buyer's credit
    (newest payment first). Voiding a void charge changes nothing (it finishes a void a
    crash cut short, if any)."""
    db = get_db()
    first = db.charges.find_one({"_id": charge_id, "seller_id": seller_id})
    if first is None:
        raise NotFound("charge not found")
    for _ in range(2):  # a merge moved it to another buyer meanwhile: that buyer's lock
        with payments.buyer_work(seller_id, first["customer_id"]) as uow:
            charge = db.charges.find_one({"_id": charge_id})
            if charge["customer_id"] != first["customer_id"]:
                first = charge
                continue
            if charge["status"] != "void":
                _change(
                    charge,
                    {
                        "$set": {"status": "void", "voided_at": uow.now, "updated_at": uow.now},
                        "$unset": {"live_key": ""},
                    },
                )
                charge = db.charges.find_one({"_id": charge_id})
            if charge.get("paid_amount"):
                payments.release(uow, charge)
                charge = db.charges.find_one({"_id": charge_id})
            return charge
    raise Conflict("the charge changed buyer while saving; try again", code="concurrent_update")


def void_keyed(seller_id: ObjectId, key: str) -> dict | None:
    """The live charge with that key voided (a parcel deleted); None when there is none."""
    live = get_db().charges.find_one({"live_key": charge_book.live_key(seller_id, key)}, {"_id": 1})
    return void(seller_id, live["_id"]) if live else None


def set_amount_keyed(seller_id: ObjectId, key: str, amount: int) -> dict | None:
    """The live charge with that key now costs `amount` cents (a parcel's fee edited; 0:
    voided). Money beyond the new amount becomes the buyer's credit; a higher amount is
    paid from credit when there is some. None when there is no live charge."""
    if amount <= 0:
        return void_keyed(seller_id, key)
    db = get_db()
    for _ in range(2):  # a merge moved it to another buyer meanwhile: that buyer's lock
        live = db.charges.find_one({"live_key": charge_book.live_key(seller_id, key)}, {"customer_id": 1})
        if live is None:
            return None
        with payments.buyer_work(seller_id, live["customer_id"]) as uow:
            charge = db.charges.find_one({"_id": live["_id"]})
            if charge["customer_id"] != live["customer_id"]:
                continue
            if charge["status"] != "open":
                return None  # voided meanwhile
            if charge["amount"] == amount:
                return charge
            raised = amount > charge["amount"]
            _change(charge, {"$set": {"amount": amount, "updated_at": uow.now}})
            charge = db.charges.find_one({"_id": charge["_id"]})
            if allocation.excess_of(charge) > 0:
                payments.release(uow, charge)  # lowered below what was paid: the rest is credit
            elif not (raised and payments.pay_from_credit(uow)):
                return charge
            return db.charges.find_one({"_id": charge["_id"]})
    raise Conflict("the charge changed buyer while saving; try again", code="concurrent_update")


def _change(charge: dict, update: dict) -> None:
    """A change of a charge read under its buyer's money lock: every write of a charge
    that bumps its version runs under that lock, so a mismatch is a bug, not a race."""
    if not charge_book.change(charge, update):
        raise Conflict("the charge changed while saving; try again", code="concurrent_update")


def by_key(seller_id: ObjectId, keys: list[str]) -> dict[str, dict]:
    """Live charges by key (a slip, a list of parcels): one read."""
    if not keys:
        return {}
    found = get_db().charges.find({"live_key": {"$in": [charge_book.live_key(seller_id, k) for k in keys]}})
    return {c["key"]: c for c in found}


# --- events ----------------------------------------------------------------------------


def customer_changed(event: customers.CustomerChanged) -> None:
    """Each charge carries its buyer's name (whose money, in the list)."""
    if event.renamed:
        customers.refresh(
            event,
            charge_book.rename_buyer,
        )


def customers_merged(event: customers.CustomersMerged) -> None:
    """The other buyer's charges are the target's, moved holding both buyers' money
    locks (a payment or a void of either waits). A replay finds nothing left to move."""
    db = get_db()
    with payments.buyers_work(event.seller_id, [event.into_id, event.from_id]):
        target = db.customers.find_one({"_id": event.into_id, "seller_id": event.seller_id}, {"name": 1})
        sets: dict[str, Any] = {"customer_id": event.into_id, "updated_at": clock.now()}
        if target is not None:
            sets["buyer_name"] = target["name"]
        customers.mark_charged(event.seller_id, event.into_id)
        charge_book.move_buyer(event.seller_id, event.from_id, sets)


# --- the HTTP side ---------------------------------------------------------------------


def _decimals(principal: Principal, cents: int) -> None:
    """The shop currency's decimals: a JPY shop takes ¥150, not ¥150.5."""
    digits = currencies.digits(principal.currency) if principal.currency else 2
    if cents % 10 ** (2 - min(digits, 2)):
        raise ValidationFailed(
            f"{principal.currency} takes {digits} decimals",
            details=[
                {"field": "amount", "code": "too_many_decimals", "message": f"{digits} decimals at most"}
            ],
        )


def create(principal: Principal, data: ChargeIn, idempotency_key: str | None = None) -> tuple[dict, bool]:
    """POST /charges. Returns (charge, created): a repeated Idempotency-Key returns the
    first request's charge (a double click charges once)."""
    seller_id = object_id(principal.seller_id)
    _decimals(principal, data.amount)
    customer_id = object_id(data.customer_id, "customer")
    parcel_id = None
    if data.parcel_id is not None:
        parcel_id = ObjectId(data.parcel_id)
        parcel = get_db().parcels.find_one({"_id": parcel_id, "seller_id": seller_id}, {"customer_id": 1})
        if parcel is None or parcel["customer_id"] != customer_id:
            raise ValidationFailed(
                "parcel_id is not a parcel of this buyer",
                details=[{"field": "parcel_id", "code": "not_this_buyers", "message": data.parcel_id}],
            )
    command = AddCharge(
        customer_id=customer_id,
        amount=data.amount,
        kind=data.kind,
        note=data.note,
        parcel_id=parcel_id,
        batch=data.batch,
    )
    charge_id = ObjectId()
    doc, created = idempotency.once(
        idempotency.claim_id(f"{seller_id}:charges", idempotency_key),
        charge_id,
        lambda cid: get_db().charges.find_one({"_id": cid, "seller_id": seller_id}),
        lambda: add(seller_id, command, charge_id=charge_id),
        # Stored before it failed: the retry returns it rather than charging twice (a
        # credit it missed is used by the buyer's next order or charge).
        written=lambda: get_db().charges.find_one({"_id": charge_id}, {"_id": 1}) is not None,
    )
    return to_out(doc), created


def get(principal: Principal, charge_id: str) -> dict:
    return to_out(own("charges", object_id(principal.seller_id), charge_id, "charge"))


def void_one(principal: Principal, charge_id: str) -> dict:
    """POST /charges/{id}/void."""
    seller_id = object_id(principal.seller_id)
    return to_out(void(seller_id, object_id(charge_id, "charge")))


def search(principal: Principal, params: ChargeQuery) -> dict:
    """A page of the seller's charges, newest first; `?customer_id=`, `?batch=`, `?status=`."""
    query: dict[str, Any] = {"seller_id": object_id(principal.seller_id)}
    if params.customer_id:
        query["customer_id"] = object_id(params.customer_id)
    if params.batch is not None:
        query["batch"] = params.batch
    if params.status:
        query["status"] = params.status
    return page(get_db().charges, query, params.limit, params.cursor, to_out)
