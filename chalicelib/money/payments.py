"""Payments: money received from one buyer, allocated to their orders and charges.

The ledger lives in two places that must agree:
- a payment holds its `allocations` [{order_id, order_no, amount} or {charge_id, kind,
  amount}] and `unallocated` (the buyer's credit), with `amount = sum(allocations) +
  unallocated`;
- an order (or a charge, money/charge_book.py) holds each payment's share in `paid_by`
  {<payment id>: cents} and their sum in `paid_amount`, from which an order's
  `payment_status` follows (allocation.status_after).

MongoDB Atlas could change both in one transaction; FerretDB 1.24 has none, so every
change of a buyer's allocations goes the same way, and a crash anywhere converges (steps
1, 2 and the credit of 5 are the unit of work `_ledger.for_buyer`, money/ledger.py):
1. it runs holding the buyer's lock (locks.held, on every server), so two changes of one
   buyer's money never interleave;
2. it first finishes any payment of the buyer a crash left half-applied (`applied: false`);
3. it writes the new allocations on the payment(s), `applied: false`, with `touch`: the
   orders (an order's id) and charges ({"charge_id": id}) whose share changes;
4. it SETS each touched order's or charge's share to the payment's allocation for it (an
   absolute value: applying twice is applying once), with a version check against other
   edits;
5. it marks the payment applied, and refreshes the buyer's cached credit.
A retry with the same Idempotency-Key finds the payment and finishes it; so does the next
money change of that buyer, or `python -m chalicelib.manage repair-payments`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from chalicelib.buyers import customers
from chalicelib.money import charge_book
from chalicelib.money.ledger import BuyerWork, Ledger
from chalicelib.money.schemas import (
    AllocationOut,
    BuyerPaymentIn,
    CreditUseIn,
    CreditUseOut,
    PaymentIn,
    PaymentOut,
    PaymentQuery,
    TrackPaymentOut,
)
from chalicelib.orderbook import repository
from chalicelib.platform import actors, bus, clock, idempotency, mongo, ratelimit, store
from chalicelib.platform.db import get_db, own
from chalicelib.platform.errors import Conflict, NotFound, RateLimited
from chalicelib.platform.ids import object_id
from chalicelib.platform.listing import page
from chalicelib.platform.principal import Principal
from chalicelib.rules import allocation

SWITCH = "order_switch"  # `via` of a payment the order's 已匯款 switch recorded
STATEMENT = "statement"  # `via` of a payment a bank statement's row recorded (statements.py)
BUYER_REPORTS_PER_DAY = 5
SHARE_ATTEMPTS = 8


@dataclass(frozen=True)
class PaymentConfirmed(bus.Event):
    """Money the seller confirmed (recorded, or a buyer's report confirmed): the buyer
    is emailed once (notifications claims the payment; no retry here: a failed send
    gives the claim back, and the seller's retry of the request sends it)."""

    payment_id: ObjectId


@dataclass(frozen=True)
class StatementPaymentVoided(bus.Event):
    """A payment made or confirmed from a bank statement's row was voided: the row is
    open again (statements.py), so the money can be matched anew."""

    payment_id: ObjectId
    row_key: str


@dataclass(frozen=True)
class RecordPayment:
    """Money to record, as the domain takes it (cents, ObjectIds). A request body is
    converted at the edge (`of`, report); the code's own payments (已匯款, an import, a
    migration) are built as one."""

    customer_id: ObjectId
    amount: int
    method: str
    order_ids: tuple[ObjectId, ...] = ()  # neither: the buyer's open orders and charges, oldest first
    charge_ids: tuple[ObjectId, ...] = ()
    paid_at: dt.date | None = None
    account_last5: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, data: PaymentIn) -> RecordPayment:
        return cls(
            customer_id=object_id(data.customer_id, "customer"),
            amount=data.amount,
            method=data.method,
            order_ids=tuple(ObjectId(i) for i in data.order_ids or ()),
            charge_ids=tuple(ObjectId(i) for i in data.charge_ids or ()),
            paid_at=data.paid_at,
            account_last5=data.account_last5,
            note=data.note,
        )


_ACTORS = ("recorded_by", "confirmed_by")


def to_out(doc: dict, who: dict[str, str] | None = None) -> dict:
    """`who`: actor ids → who they are (actors.names), read once for a page of payments;
    without it, read for this one payment."""
    if who is None:
        who = actors.names(doc["seller_id"], [doc[k] for k in _ACTORS if doc.get(k)])
    allocations = [AllocationOut.from_doc(a) for a in doc.get("allocations", [])]
    named = {k: who.get(doc[k]) if doc.get(k) else None for k in _ACTORS}
    return PaymentOut.from_doc({**doc, "allocations": allocations, **named})


def track_out(doc: dict) -> dict:
    """A seller's note is the seller's (it may say anything about the buyer)."""
    return TrackPaymentOut.from_doc(
        {**doc, "note": doc.get("note") if doc.get("source") == "buyer" else None}
    )


def _open_debts(seller_id, customer_id, submission_id=None, *, charged: bool = True) -> list[dict]:
    """The buyer's orders and charges that still take money, together oldest first (of
    one form submission only, when given). `charged=False`: the customer document says
    the buyer never had a charge (customers.mark_charged): no read of charges."""
    debts = _open_orders(seller_id, customer_id, submission_id)
    if charged:
        debts += charge_book.open_of(seller_id, customer_id, submission_id)
    return sorted(debts, key=lambda d: (d["created_at"], d["_id"]))


def _target(entry: dict):
    """The order's or charge's id an allocation entry is about."""
    return entry["charge_id"] if "charge_id" in entry else entry["order_id"]


def _touch(entry: dict):
    """A `touch` entry: an order's id as it always was (old payments stay readable), a
    charge as {"charge_id": id}."""
    return {"charge_id": entry["charge_id"]} if "charge_id" in entry else entry["order_id"]


def _open_orders(seller_id, customer_id, submission_id=None) -> list[dict]:
    """The buyer's orders that still take money, oldest first (of one form submission
    only, when given)."""
    query = {
        "seller_id": seller_id,
        "customer_id": customer_id,
        "fulfillment_status": {"$nin": list(allocation.NOT_PAYABLE_FULFILLMENT)},
        "payment_status": {"$in": ["unpaid", "partial"]},
    }
    if submission_id is not None:
        query["submission_id"] = submission_id
    return list(get_db().orders.find(query, sort=[("created_at", 1), ("_id", 1)]))


# --- applying: the one way an order's paid amount changes ------------------------------


def _set_share(
    seller_id, customer_id, order_id, pid: str, target: int, now: dt.datetime, known: dict | None = None
) -> int:
    """Make payment `pid`'s share of the order `target` cents (0: none), and its paid
    amount and payment_status follow. Returns the share the order took: never more than
    it may hold (an order cancelled or lowered meanwhile by an edit that does not take
    the buyer's lock, or moved to another buyer, takes less; the caller keeps the rest
    as credit). Idempotent; a concurrent edit of the order (a note, a status) makes it
    read again. `known`: the order as just read under the buyer's lock (saves a read)."""
    db = get_db()
    for _ in range(SHARE_ATTEMPTS):
        order = known or db.orders.find_one({"_id": order_id, "seller_id": seller_id})
        known = None
        if order is None:
            return 0  # orders are never deleted; an id that is not this seller's is nothing
        current, target, others = allocation.share_change(order, pid, target, customer_id)
        if current == target:
            return target
        paid = others + target
        status = allocation.status_after(order, paid)
        if repository.set_payment_share(order, pid, target, paid, status, now):
            return target
    raise Conflict("the order changed while saving; try again", code="concurrent_update")


def _apply(payment: dict, now: dt.datetime, known: dict | None = None) -> None:
    """Steps 4 and 5 for one payment whose new allocations are written. An order that
    took less than its allocation (changed meanwhile) leaves the rest as credit.
    `known`: orders by id as read under the lock for this change."""
    pid = str(payment["_id"])
    allocations = [dict(a) for a in payment.get("allocations", [])]
    shares = {_target(a): a for a in allocations}
    for touched in payment.get("touch", []):
        is_charge = isinstance(touched, dict)
        target_id = touched["charge_id"] if is_charge else touched
        wanted = shares[target_id]["amount"] if target_id in shares else 0
        took = (charge_book.set_share if is_charge else _set_share)(
            payment["seller_id"],
            payment["customer_id"],
            target_id,
            pid,
            wanted,
            now,
            (known or {}).get(target_id),
        )
        if target_id in shares:
            shares[target_id]["amount"] = took
    fields: dict[str, Any] = {"applied": True, "touch": []}
    kept = [a for a in allocations if a["amount"] > 0]
    if kept != payment.get("allocations", []):
        fields["allocations"] = kept
        if payment["status"] == "confirmed":
            fields["unallocated"] = payment["amount"] - sum(a["amount"] for a in kept)
    get_db().payments.update_one({"_id": payment["_id"]}, {"$set": fields})
    payment.update(fields)


# Every change of a buyer's money is a unit of work of this ledger (ledger.py).
_ledger = Ledger(_apply)


def _write_intent(payment: dict, allocations: list[dict], touch: list, extra: dict | None = None) -> dict:
    """Step 3: the payment's new allocations, not yet applied to `touch`."""
    amount = (extra or {}).get("amount", payment["amount"])
    fields = {
        "allocations": allocations,
        "unallocated": amount - sum(a["amount"] for a in allocations),
        "applied": False,
        "touch": touch,
        "updated_at": clock.now(),
        **(extra or {}),
    }
    get_db().payments.update_one({"_id": payment["_id"]}, {"$set": fields})
    return {**payment, **fields}


def _shares_to_allocations(shares: list[allocation.Share], debts: list[dict]) -> list[dict]:
    docs = {d["_id"]: d for d in debts}
    out = []
    for s in shares:
        doc = docs[s.order_id]
        if allocation.is_charge(doc):
            out.append({"charge_id": s.order_id, "kind": doc["kind"], "amount": s.amount})
        else:
            out.append({"order_id": s.order_id, "order_no": doc["order_no"], "amount": s.amount})
    return out


def _merge(allocations: list[dict], more: list[dict]) -> list[dict]:
    """Allocations plus more money on the same or other orders and charges (one entry
    each)."""
    out = {_target(a): dict(a) for a in allocations}
    for a in more:
        if _target(a) in out:
            out[_target(a)]["amount"] += a["amount"]
        else:
            out[_target(a)] = dict(a)
    return list(out.values())


# --- the seller's payments -------------------------------------------------------------


def _customer(seller_id, customer_id: ObjectId) -> dict:
    customer = get_db().customers.find_one({"_id": customer_id, "seller_id": seller_id})
    if customer is None:
        raise NotFound("customer not found")
    return customer


def _listed_orders(seller_id, customer_id, order_ids: tuple[ObjectId, ...]) -> list[dict]:
    """The orders a payment names, in the given order: each must be this buyer's and
    take money."""
    wanted = list(dict.fromkeys(order_ids))
    found = {o["_id"]: o for o in store.find_by_ids(get_db().orders, wanted, {"seller_id": seller_id})}
    out = []
    for oid in wanted:
        order = found.get(oid)
        if order is None or order["customer_id"] != customer_id:
            raise Conflict(
                f"order {oid} is not an order of this buyer",
                code="order_not_payable",
                details=[{"field": "order_ids", "code": "not_this_buyers", "message": str(oid)}],
            )
        if not allocation.payable(order):
            raise Conflict(
                f"order #{order['order_no']} is {order['fulfillment_status']}/{order['payment_status']}",
                code="order_not_payable",
                details=[{"field": "order_ids", "code": "not_payable", "message": str(order["order_no"])}],
            )
        out.append(order)
    return out


def payment_document(
    seller_id, customer: dict, data: RecordPayment, *, status: str, source: str, tz: str, now, **extra
) -> dict:
    paid_at = data.paid_at or clock.local_date(now, tz)
    return {
        "seller_id": seller_id,
        "customer_id": customer["_id"],
        "buyer_name": customer.get("name"),
        "amount": data.amount,
        "method": data.method,
        "account_last5": data.account_last5,
        "paid_at": paid_at.isoformat(),
        "note": data.note or None,
        "status": status,
        "source": source,
        "allocations": [],
        "unallocated": 0 if status != "confirmed" else data.amount,
        "applied": True,
        "touch": [],
        "reject_reason": None,
        "confirmed_at": now if status == "confirmed" else None,
        "voided_at": None,
        "notified_at": None,
        "created_at": now,
        "updated_at": now,
        **extra,
    }


def record(
    principal: Principal, data: PaymentIn, idempotency_key: str | None = None, *, via: str | None = None
):
    """POST /payments: a confirmed payment, allocated to `order_ids` then `charge_ids` in
    the given order, or else to the buyer's open orders and charges oldest first; what is
    left is credit. Returns
    (payment, created). A repeated Idempotency-Key returns (and finishes) the first."""
    return _record(principal, RecordPayment.of(data), idempotency_key, via)


def _record(
    principal: Principal,
    command: RecordPayment,
    idempotency_key: str | None,
    via: str | None,
    extra: dict | None = None,
):
    seller_id = object_id(principal.seller_id)
    payment_id = ObjectId()
    inserted = False

    def make() -> dict:
        nonlocal inserted
        with _ledger.for_buyer(seller_id, command.customer_id) as uow:
            # The buyer is read under the lock a merge's move of their payments also
            # takes: one merged away meanwhile is 404 (the key is given back), never a
            # payment the move would miss. One read: nothing is checked before the lock.
            customer = _customer(seller_id, command.customer_id)
            doc, known = _confirmed(
                uow, principal, customer, command, payment_id, via, charged=bool(customer.get("charged"))
            )
            doc.update(extra or {})
            get_db().payments.insert_one(doc)
            # Once the payment is written it stays, half-applied or not: a retry with
            # the key finishes it instead of recording the money a second time.
            inserted = True
            return _applied(uow, doc, known)

    doc, created = idempotency.once(
        idempotency.claim_id(f"{seller_id}:payments", idempotency_key),
        payment_id,
        lambda pid: get_db().payments.find_one({"_id": pid, "seller_id": seller_id}),
        make,
        written=lambda: inserted,
    )
    if not created:
        return _finished(doc), False
    if via in (None, STATEMENT):  # money the seller received; the 已匯款 switch is bookkeeping
        bus.record(PaymentConfirmed(doc["_id"]))
    return to_out(doc), True


# --- a bank statement's rows (statements.py owns the rows; the payments are ours) -------


def record_for_row(
    principal: Principal,
    customer_id: ObjectId,
    amount: int,
    paid_at: dt.date,
    last5,
    row_key: str,
    claim: str,
) -> dict:
    """A confirmed bank transfer for a statement's row: dated the row's day, with its
    last five digits, `statement_row` kept on it (a void frees the row). Made once per
    claim of the row: a retry (a crash after the insert) finds the live payment the row
    made, or the Idempotency-Key `claim` gives back the first."""
    seller_id = object_id(principal.seller_id)
    made = get_db().payments.find_one(
        {"seller_id": seller_id, "statement_row": row_key, "status": {"$ne": "voided"}}
    )
    if made is not None:
        return _finished(made)
    command = RecordPayment(
        customer_id=customer_id, amount=amount, method="bank_transfer", paid_at=paid_at, account_last5=last5
    )
    payment, _ = _record(principal, command, claim, STATEMENT, {"statement_row": row_key})
    return payment


def confirm_for_row(
    principal: Principal, payment_id, customer_id: ObjectId, amount: int, row_key: str
) -> dict:
    """The buyer's reported payment is the statement's row: confirmed (as `confirm`
    does) with `statement_row` kept on it. Checked under the buyer's lock: the report is
    this buyer's and still reported (409 `payment_not_reported`; confirmed already for
    this same row: done, nothing changes), its amount the row's (409 `amount_mismatch`)."""
    seller_id = object_id(principal.seller_id)
    try:
        first = _own(principal, payment_id)
    except NotFound:
        raise Conflict("no such reported payment", code="payment_not_reported") from None
    if first["customer_id"] != customer_id:
        raise Conflict("the reported payment is another buyer's", code="payment_not_reported")
    with _ledger.for_buyer(seller_id, customer_id) as uow:
        payment = get_db().payments.find_one({"_id": first["_id"]})
        if payment["customer_id"] != customer_id:
            raise Conflict("the reported payment is another buyer's", code="payment_not_reported")
        if payment["status"] == "confirmed" and payment.get("statement_row") == row_key:
            return to_out(payment)
        if payment["status"] != "reported":
            raise Conflict(f"a {payment['status']} payment cannot be confirmed", code="payment_not_reported")
        if payment["amount"] != amount:
            raise Conflict("the reported amount is not the row's", code="amount_mismatch")
        payment = _confirm(uow, payment, {"statement_row": row_key, "confirmed_by": principal.actor_id})
    bus.record(PaymentConfirmed(payment["_id"]))
    return to_out(get_db().payments.find_one({"_id": payment["_id"]}))


def reported_between(seller_id, start: dt.date, end: dt.date) -> list[dict]:
    """The seller's reported payments dated `start`..`end` (one read)."""
    query = {
        "seller_id": seller_id,
        "status": "reported",
        "paid_at": {"$gte": start.isoformat(), "$lte": end.isoformat()},
    }
    fields = {"customer_id": 1, "buyer_name": 1, "amount": 1, "paid_at": 1, "account_last5": 1}
    return list(get_db().payments.find(query, fields))


def accounts_seen(seller_id, last5s: list[str]) -> list[dict]:
    """The seller's confirmed payments that came from these last five digits (one read)."""
    if not last5s:
        return []
    query = {"seller_id": seller_id, "status": "confirmed", "account_last5": {"$in": sorted(set(last5s))}}
    return list(get_db().payments.find(query, {"customer_id": 1, "buyer_name": 1, "account_last5": 1}))


def customer_changed(event: customers.CustomerChanged) -> None:
    """Each payment carries its buyer's name (whose money, in the list)."""
    if event.renamed:
        customers.refresh(
            event,
            lambda c: get_db().payments.update_many(
                {"seller_id": c["seller_id"], "customer_id": c["_id"]}, {"$set": {"buyer_name": c["name"]}}
            ),
        )


def customers_merged(event: customers.CustomersMerged) -> None:
    """The other buyer's payments are the target's: moved holding both buyers' money
    locks (a confirm or void of one of them waits, or then finds it moved and takes the
    target's lock), and the target's credit synced from its payments. A replay finds
    nothing left to move."""
    db = get_db()
    with _ledger.for_buyers(event.seller_id, [event.into_id, event.from_id]) as (into, _):
        target = db.customers.find_one({"_id": event.into_id, "seller_id": event.seller_id}, {"name": 1})
        sets: dict[str, Any] = {"customer_id": event.into_id}
        if target is not None:
            sets["buyer_name"] = target["name"]
        db.payments.update_many({"seller_id": event.seller_id, "customer_id": event.from_id}, {"$set": sets})
        into.credit_changed()


def _finished(payment: dict) -> dict:
    if not payment.get("applied", True):
        with _ledger.for_buyer(payment["seller_id"], payment["customer_id"]):
            pass  # finishing it is the work
        payment = get_db().payments.find_one({"_id": payment["_id"]})
    return to_out(payment)


def _record_locked(uow: BuyerWork, principal, customer, command: RecordPayment, via, orders=None) -> dict:
    """A confirmed payment, written and applied, with the buyer's lock held."""
    doc, known = _confirmed(uow, principal, customer, command, ObjectId(), via, orders)
    get_db().payments.insert_one(doc)
    return _applied(uow, doc, known)


def _confirmed(
    uow: BuyerWork,
    principal,
    customer,
    command: RecordPayment,
    payment_id,
    via,
    orders: list | None = None,
    *,
    charged: bool = True,
) -> tuple[dict, dict]:
    """A confirmed payment's document, allocated but not yet stored or applied, and the
    orders (and charges) it was allocated to by id. `orders`: the listed orders, already
    read under the lock. `charged`: see _open_debts."""
    seller_id = uow.seller_id
    if orders is None:
        if command.order_ids or command.charge_ids:
            orders = (
                _listed_orders(seller_id, customer["_id"], command.order_ids) if command.order_ids else []
            )
            orders += charge_book.listed(seller_id, customer["_id"], command.charge_ids)
        else:
            orders = _open_debts(seller_id, customer["_id"], charged=charged)
    allocations = _shares_to_allocations(allocation.fill(command.amount, orders), orders)
    doc = {"_id": payment_id}
    doc |= payment_document(
        seller_id, customer, command, status="confirmed", source="seller", tz=principal.timezone, now=uow.now
    )
    if via:
        doc["via"] = via
    doc.update(
        recorded_by=principal.actor_id,
        confirmed_by=principal.actor_id,
        allocations=allocations,
        unallocated=command.amount - sum(a["amount"] for a in allocations),
        applied=False,
        touch=[_touch(a) for a in allocations],
    )
    return doc, {o["_id"]: o for o in orders}


def _applied(uow: BuyerWork, doc: dict, known: dict) -> dict:
    """Steps 4 and 5 for a payment just stored."""
    _apply(doc, uow.now, known)
    if doc["unallocated"]:
        uow.credit_changed()
    doc.update(applied=True, touch=[])
    return doc


def _own(principal: Principal, payment_id: str) -> dict:
    return own("payments", object_id(principal.seller_id), payment_id, "payment")


def get(principal: Principal, payment_id: str) -> dict:
    return _finished(_own(principal, payment_id))


def search(principal: Principal, params: PaymentQuery) -> dict:
    """A page of the seller's payments, newest first; `?customer_id=` and `?status=`."""
    query: dict[str, Any] = {"seller_id": object_id(principal.seller_id)}
    if params.customer_id:
        query["customer_id"] = object_id(params.customer_id)
    if params.status:
        query["status"] = params.status
    out = page(get_db().payments, query, params.limit, params.cursor, lambda d: d)
    who = actors.names(principal.seller_id, [d[k] for d in out["items"] for k in _ACTORS if d.get(k)])
    out["items"] = [to_out(d, who) for d in out["items"]]
    return out


def _change(
    principal: Principal,
    payment_id: str,
    *,
    was: str,
    to: str,
    code: str,
    change: Callable[[BuyerWork, dict], dict],
    finish: bool = True,
) -> tuple[dict, bool]:
    """The opening confirm, reject and void share: the seller's own payment, read again
    under its buyer's lock. Already `to`: (it, False), nothing changes (a double click);
    not `was`: 409 `code`; else (change(uow, payment), True), changed under the lock."""
    first = _own(principal, payment_id)
    for _ in range(2):  # a merge moved it to another buyer meanwhile: that buyer's lock
        with _ledger.for_buyer(first["seller_id"], first["customer_id"], finish=finish) as uow:
            payment = get_db().payments.find_one({"_id": first["_id"]})
            if payment["customer_id"] != first["customer_id"]:
                first = payment
                continue
            if payment["status"] == to:
                return payment, False
            if payment["status"] != was:
                raise Conflict(f"a {payment['status']} payment cannot be {to}", code=code)
            return change(uow, payment), True
    raise Conflict("the payment changed buyer while saving; try again", code="concurrent_update")


def confirm(principal: Principal, payment_id: str) -> dict:
    """A buyer's reported payment is real: allocated like one the seller records.
    Confirming a confirmed payment again changes nothing (a double click)."""
    payment, changed = _change(
        principal,
        payment_id,
        was="reported",
        to="confirmed",
        code="payment_not_reported",
        change=lambda uow, p: _confirm(uow, p, {"confirmed_by": principal.actor_id}),
    )
    if not changed:
        return to_out(payment)
    bus.record(PaymentConfirmed(payment["_id"]))
    return to_out(get_db().payments.find_one({"_id": payment["_id"]}))


def _confirm(uow: BuyerWork, payment: dict, extra: dict | None = None) -> dict:
    # A report made through a form submission's link pays that submission's orders
    # and charges; what is left is credit, as for any payment.
    orders = _open_debts(uow.seller_id, uow.customer_id, payment.get("submission_id"))
    allocations = _shares_to_allocations(allocation.fill(payment["amount"], orders), orders)
    payment = _write_intent(
        payment,
        allocations,
        [_touch(a) for a in allocations],
        {"status": "confirmed", "confirmed_at": uow.now, **(extra or {})},
    )
    _apply(payment, uow.now, {o["_id"]: o for o in orders})
    if payment["unallocated"]:
        uow.credit_changed()
    return payment


def reject(principal: Principal, payment_id: str, reason: str | None) -> dict:
    """A reported payment the seller did not receive. Moves no money (so the buyer's
    earlier payments need not be finished first)."""

    def change(uow: BuyerWork, payment: dict) -> dict:
        fields = {"status": "rejected", "reject_reason": reason or None, "updated_at": clock.now()}
        get_db().payments.update_one({"_id": payment["_id"]}, {"$set": fields})
        return {**payment, **fields}

    payment, _ = _change(
        principal,
        payment_id,
        was="reported",
        to="rejected",
        code="payment_not_reported",
        change=change,
        finish=False,
    )
    return to_out(payment)


def void(principal: Principal, payment_id: str) -> dict:
    """Take a confirmed payment back: its money leaves every order (statuses follow)."""
    payment, changed = _change(
        principal, payment_id, was="confirmed", to="voided", code="payment_not_confirmed", change=_take_back
    )
    if changed and payment.get("statement_row"):
        bus.record(StatementPaymentVoided(payment["_id"], payment["statement_row"]))
    return to_out(get_db().payments.find_one({"_id": payment["_id"]}) if changed else payment)


def _take_back(uow: BuyerWork, payment: dict) -> dict:
    _void(payment, uow.now)
    if payment["unallocated"]:
        uow.credit_changed()  # its credit is gone
    return payment


def _void(payment: dict, now) -> None:
    touch = [_touch(a) for a in payment.get("allocations", [])]
    payment = _write_intent(payment, [], touch, {"status": "voided", "voided_at": now, "unallocated": 0})
    _apply(payment, now)


# --- what order changes do to money ----------------------------------------------------


def buyer_work(seller_id, customer_id):
    """A unit of work of the buyer's money (ledger.py), for charges.py: a change of a
    charge that moves money runs inside one, as a payment's does."""
    return _ledger.for_buyer(seller_id, customer_id)


def buyers_work(seller_id, customer_ids):
    """Several buyers' money as one unit of work (a merge)."""
    return _ledger.for_buyers(seller_id, customer_ids)


def use_credit(seller_id, customer_id) -> bool:
    """The buyer's credit goes to their open orders and charges, oldest payment to oldest
    first (after a new order, or a total that went up). True when money moved."""
    with _ledger.for_buyer(seller_id, customer_id) as uow:
        uow.credit_changed()  # also when nothing moves: the cache said there was credit
        return pay_from_credit(uow)


def refresh_credit(seller_id, customer_id) -> None:
    """Write the buyer's cached credit again from their payments, under their money
    lock. For a write of the customer that raced a money change: FerretDB 1.24 writes a
    whole document back (docs/ferretdb.md, "Atomicity"), so a form's update of the
    buyer's counters can put back a credit read before a payment's (forms.py)."""
    with _ledger.for_buyer(seller_id, customer_id) as uow:
        uow.credit_changed()


def pay_from_credit(uow: BuyerWork) -> bool:
    """Inside a unit of work: the buyer's credit goes to their open orders and charges,
    oldest payment to oldest first. True when money moved (the credit cache is then
    refreshed at the end of the work). Orders and charges `credit_held` (a form
    submission in the name of a buyer who existed before it: anyone may type her email)
    are left for the seller to pay (`apply_credit`)."""
    return (
        _spend_credit(
            uow,
            lambda: [d for d in _open_debts(uow.seller_id, uow.customer_id) if not d.get("credit_held")],
        )[0]
        > 0
    )


def apply_credit(principal: Principal, data: CreditUseIn) -> dict:
    """POST /payments/use-credit: the seller spends the buyer's credit on `order_ids`
    then `charge_ids` in the given order, or else on all their open orders and charges
    oldest first, those held from credit included (the seller says the buyer placed
    them). Pressed again, it moves only credit that is still there and debts still open."""
    seller_id = object_id(principal.seller_id)
    customer_id = object_id(data.customer_id, "customer")
    order_ids = tuple(ObjectId(i) for i in data.order_ids or ())
    charge_ids = tuple(ObjectId(i) for i in data.charge_ids or ())
    with _ledger.for_buyer(seller_id, customer_id) as uow:
        customer = _customer(seller_id, customer_id)  # under the lock, as record() reads it
        if order_ids or charge_ids:
            debts = _listed_orders(seller_id, customer_id, order_ids) if order_ids else []
            debts += charge_book.listed(seller_id, customer_id, charge_ids)
        else:
            debts = _open_debts(seller_id, customer_id, charged=bool(customer.get("charged")))
        used, left = _spend_credit(uow, lambda: debts)
    return CreditUseOut.from_doc({"customer_id": customer_id, "used": used, "credit": left})


def _spend_credit(uow: BuyerWork, debts_of: Callable[[], list[dict]]) -> tuple[int, int]:
    """Inside a unit of work: the buyer's credit pays the debts `debts_of()` lists (read
    only when there is credit), in their order, oldest payment first. Returns (cents
    moved, cents of credit left); the credit cache is refreshed at the end of the work
    when money moved."""
    credits = list(
        get_db().payments.find(
            {
                "seller_id": uow.seller_id,
                "customer_id": uow.customer_id,
                "status": "confirmed",
                "unallocated": {"$gt": 0},
            },
            sort=[("created_at", 1), ("_id", 1)],
        )
    )
    if not credits:
        return 0, 0
    debts = debts_of()
    had = sum(p["unallocated"] for p in credits)
    balances: dict = {}
    changed = []
    for p in credits:
        shares = allocation.fill(p["unallocated"], debts, balances)
        if shares:
            more = _shares_to_allocations(shares, debts)
            changed.append(
                _write_intent(p, _merge(p.get("allocations", []), more), [_touch(a) for a in more])
            )
    for p in changed:
        _apply(p, uow.now)  # an order changed meanwhile may take less: the rest stays credit
    if changed:
        uow.credit_changed()
    left = {p["_id"]: p["unallocated"] for p in credits} | {p["_id"]: p["unallocated"] for p in changed}
    return had - sum(left.values()), sum(left.values())


def release_excess(seller_id, order_id) -> None:
    """Money on an order beyond what it may now hold (it was cancelled, or its total went
    down) goes back to its payments as the buyer's credit, newest payment first."""
    db = get_db()
    order = db.orders.find_one({"_id": order_id, "seller_id": seller_id})
    if order is None or not order.get("paid_amount"):
        return
    with _ledger.for_buyer(seller_id, order["customer_id"]) as uow:
        release(uow, db.orders.find_one({"_id": order_id}))


def release(uow: BuyerWork, doc: dict) -> None:
    """Inside a unit of work: money on the order or charge `doc` (as just read under the
    lock) beyond what it may hold goes back to its payments as credit, newest payment
    first (a charge voided: all of it)."""
    excess = allocation.excess_of(doc)
    if excess <= 0:
        return
    target_id = doc["_id"]
    touched = {"charge_id": target_id} if allocation.is_charge(doc) else target_id
    found = {
        str(p["_id"]): p
        for p in get_db().payments.find({"_id": {"$in": [ObjectId(k) for k in doc.get("paid_by", {})]}})
    }
    newest = sorted(found, key=lambda k: (found[k]["created_at"], k), reverse=True)
    changed = []
    for pid, share in allocation.release(doc, excess, newest).items():
        p = found[pid]
        allocations = [{**a, "amount": share} if _target(a) == target_id else a for a in p["allocations"]]
        allocations = [a for a in allocations if a["amount"] > 0]
        changed.append(_write_intent(p, allocations, [touched]))
    for p in changed:
        _apply(p, uow.now)
    uow.credit_changed()


def switch(principal: Principal, order_id: ObjectId, to: str) -> None:
    """The order's 已匯款 switch. `remitted`: a seller payment for the balance (method
    `other`). `unpaid`: the order's money leaves it: a payment the switch made loses
    that order's part (voided when nothing is left), any other payment keeps the money as
    the buyer's credit."""
    seller_id = object_id(principal.seller_id)
    db = get_db()
    order = db.orders.find_one({"_id": order_id, "seller_id": seller_id}, {"customer_id": 1})
    if order is None:
        raise NotFound("order not found")
    customer_id = order["customer_id"]
    if to == "remitted":
        remit(principal, customer_id, [order_id])
        return
    with _ledger.for_buyer(seller_id, customer_id) as uow:
        order = db.orders.find_one({"_id": order_id})
        pids = [ObjectId(k) for k in order.get("paid_by", {})]
        changed = []
        for p in db.payments.find({"_id": {"$in": pids}, "status": "confirmed"}):
            rest = [a for a in p["allocations"] if a.get("order_id") != order_id]
            if p.get("via") != SWITCH:
                changed.append(_write_intent(p, rest, [order_id]))
            elif rest:  # the switch's own record shrinks: the money never came in
                amount = p["amount"] - sum(
                    a["amount"] for a in p["allocations"] if a.get("order_id") == order_id
                )
                changed.append(_write_intent(p, rest, [order_id], {"amount": amount}))
            else:
                _void(p, uow.now)
        for p in changed:
            _apply(p, uow.now)
        uow.credit_changed()
    _unrefund(db.orders.find_one({"_id": order_id}))


def remit(principal: Principal, customer_id, order_ids: list) -> set:
    """已匯款 on one buyer's orders (a PATCH, or their part of a bulk update): ONE seller
    payment for the balances of those still owing, read under the buyer's lock so a
    second press pays nothing. Returns the ids that were paid (or un-refunded)."""
    seller_id = object_id(principal.seller_id)
    db = get_db()
    with _ledger.for_buyer(seller_id, customer_id) as uow:
        found = {o["_id"]: o for o in store.find_by_ids(db.orders, order_ids, {"seller_id": seller_id})}
        docs = [found[i] for i in order_ids if i in found and found[i]["customer_id"] == customer_id]
        touched = set()
        for i, doc in enumerate(docs):
            if doc["payment_status"] == "refunded":
                _unrefund(doc)
                docs[i] = db.orders.find_one({"_id": doc["_id"]})
                touched.add(doc["_id"])
        owed = [d for d in docs if allocation.balance_of(d) > 0]
        if owed:
            _record_locked(uow, principal, *_remittance(customer_id, owed), SWITCH, owed)
            touched |= {d["_id"] for d in owed}
    return touched


def _remittance(customer_id, owed: list[dict]) -> tuple[dict, RecordPayment]:
    """The buyer and the payment 已匯款 records: the balances of `owed`, as read under
    the buyer's lock (`remit`, `remit_many`)."""
    command = RecordPayment(
        customer_id=customer_id,
        amount=sum(allocation.balance_of(d) for d in owed),
        method="other",
        order_ids=tuple(d["_id"] for d in owed),
    )
    return {"_id": customer_id, "name": owed[0]["buyer_name"]}, command


def remit_many(principal: Principal, wanted: dict) -> set:
    """Bulk 已匯款 of many buyers' orders ({customer_id: [order ids]}): what `remit` does
    for each buyer (ONE seller payment for the balances of their orders still owing, read
    under the lock, so a second press pays nothing), as one unit of work whose commands
    do not grow with the buyers: their money locks taken together (all or none), one
    read of the orders, the payments inserted together (`applied: false`, with their
    `touch`) before any order changes, every order's share in one bulk write, the
    payments marked applied together; no credit sync unless money reached credit. A
    crash anywhere converges as for one payment (the module's docstring). A refunded
    order owes nothing and is left alone. Returns the ids paid."""
    seller_id = object_id(principal.seller_id)
    db = get_db()
    ids = [i for order_ids in wanted.values() for i in order_ids]
    with _ledger.for_buyers(seller_id, list(wanted), hold=10.0 + len(ids) / 20) as works:
        found = {o["_id"]: o for o in store.find_by_ids(db.orders, ids, {"seller_id": seller_id})}
        docs = []
        for work in works:
            owed = [
                found[i]
                for i in wanted[work.customer_id]
                if i in found
                and found[i]["customer_id"] == work.customer_id
                and allocation.balance_of(found[i]) > 0
            ]
            if not owed:
                continue
            customer, command = _remittance(work.customer_id, owed)
            docs.append(_confirmed(work, principal, customer, command, ObjectId(), SWITCH, owed)[0])
        if not docs:
            return set()
        db.payments.insert_many(docs, ordered=True)
        credit = _apply_many(docs, works[0].now, found)
        for work in works:
            if work.customer_id in credit:
                work.credit_changed()
    return {a["order_id"] for d in docs for a in d["allocations"]}


def _apply_many(payments: list[dict], now: dt.datetime, known: dict) -> set:
    """Steps 4 and 5 for payments just stored, each allocated to orders `known` as read
    under the lock: every share in one bulk write (each order's version checked, as
    `_set_share` does), then the payments marked applied in one update. A payment one of
    whose orders changed meanwhile (an edit that does not take the buyer's lock) is
    applied order by order instead (`_apply`: it may take less, the rest is credit).
    Returns the buyers whose credit changed."""
    shares = []
    for p in payments:
        pid = str(p["_id"])
        for a in p["allocations"]:  # a new payment's share of an order: its whole balance
            order = known[a["order_id"]]
            paid = allocation.paid_of(order) + a["amount"]
            shares.append((order, pid, a["amount"], paid, allocation.status_after(order, paid)))
    late: list[dict] = []
    if repository.set_payment_shares(shares, now) < len(shares):
        order_ids = [a["order_id"] for p in payments for a in p["allocations"]]
        paid_by = {
            o["_id"]: o.get("paid_by", {})
            for o in store.find_by_ids(get_db().orders, order_ids, None, {"paid_by": 1})
        }
        late = [
            p
            for p in payments
            if any(paid_by.get(a["order_id"], {}).get(str(p["_id"])) != a["amount"] for a in p["allocations"])
        ]
    credit = set()
    for p in late:
        _apply(p, now)
        if p["unallocated"]:
            credit.add(p["customer_id"])
    late_ids = {p["_id"] for p in late}
    done = [p for p in payments if p["_id"] not in late_ids]
    if done:  # one update per payment, in one command: each found by its `_id` on any server
        marks = [mongo.UpdateOne({"_id": p["_id"]}, {"$set": {"applied": True, "touch": []}}) for p in done]
        store.bulk_write(get_db().payments, marks)
    for p in done:
        p.update(applied=True, touch=[])
    return credit


def _unrefund(order: dict) -> None:
    """A refunded order switched back: its status follows its money again."""
    if order["payment_status"] != "refunded":
        return
    now = clock.now()
    status = allocation.status_after({**order, "payment_status": "unpaid"}, allocation.paid_of(order))
    repository.set_payment_status(order, status, now)


# --- the buyer's side ------------------------------------------------------------------


def report(link: dict, data: BuyerPaymentIn, tz: str, idempotency_key: str | None = None):
    """POST /track/{token}/payments: the buyer says they paid; the seller confirms.
    At most BUYER_REPORTS_PER_DAY per link. Returns (payment, created)."""
    seller_id, customer_id = link["seller_id"], link["customer_id"]
    payment_id = ObjectId()

    def make() -> dict:
        slot = ratelimit.take("buyer-payment", str(link["_id"]), BUYER_REPORTS_PER_DAY, dt.timedelta(days=1))
        if slot is None:
            raise RateLimited("at most 5 payment reports a day from one link; the seller will be in touch")
        now = clock.now()
        customer = {"_id": customer_id, "name": link.get("buyer_name")}
        # A report through a submission's link stays that submission's: its page lists it
        # and confirming it pays those orders first (never the buyer's others).
        scoped = link.get("submission_id") is not None and not link.get("whole")
        scope = {"submission_id": link["submission_id"]} if scoped else {}
        doc = {"_id": payment_id}
        command = RecordPayment(
            customer_id=customer_id,
            amount=data.amount,
            method="bank_transfer",
            paid_at=data.paid_at,
            account_last5=data.account_last5,
            note=data.note,
        )
        doc |= payment_document(
            seller_id, customer, command, status="reported", source="buyer", tz=tz, now=now, **scope
        )
        try:
            get_db().payments.insert_one(doc)
        except BaseException:
            ratelimit.release(slot)  # only a stored report spends one of the day's five
            raise
        return doc

    doc, created = idempotency.once(
        idempotency.claim_id(f"{seller_id}:track:{link['_id']}", idempotency_key),
        payment_id,
        lambda pid: get_db().payments.find_one({"_id": pid}),
        make,
    )
    return track_out(doc), created


def repair(seller_id=None) -> int:
    """Finish every half-applied payment and every import cut short (after a crash).
    Returns how many buyers and import payments needed it."""
    query: dict[str, Any] = {"applied": False}
    if seller_id is not None:
        query["seller_id"] = seller_id
    buyers = {
        (p["seller_id"], p["customer_id"])
        for p in get_db().payments.find(query, {"seller_id": 1, "customer_id": 1})
    }
    for seller, customer in buyers:
        with _ledger.for_buyer(seller, customer) as uow:
            uow.credit_changed()
    return len(buyers) + _settle_imports(seller_id) + _release_void_charges(seller_id)


def _release_void_charges(seller_id=None) -> int:
    """A void charge that still holds money (a crash between charges.void's two steps)
    gives it back to credit. Returns how many."""
    stuck = charge_book.stuck_voids(seller_id)
    for charge in stuck:
        with _ledger.for_buyer(charge["seller_id"], charge["customer_id"]) as uow:
            current = charge_book.find({"_id": charge["_id"]})
            if current is not None and current["customer_id"] == charge["customer_id"]:
                release(uow, current)
    return len(stuck)


IMPORT_SETTLED_AFTER = dt.timedelta(minutes=10)  # an import runs in one 15 s Lambda call


def _settle_imports(seller_id=None) -> int:
    """An import writes its payments, then its orders (imports.py). One that died in
    between left payments naming orders that never came: their money never came either,
    so each such payment keeps only the orders that exist (voided when none does). A
    checked payment is marked, so this reads each import's payments once. Returns how
    many payments changed."""
    db = get_db()
    query: dict[str, Any] = {
        "import_id": {"$exists": True},
        "import_checked": {"$ne": True},
        "status": "confirmed",
        "created_at": {"$lt": clock.now() - IMPORT_SETTLED_AFTER},
    }
    if seller_id is not None:
        query["seller_id"] = seller_id
    changed = 0
    for p in db.payments.find(query):
        wanted = [a["order_id"] for a in p["allocations"]]
        there = {o["_id"] for o in db.orders.find({"_id": {"$in": wanted}}, {"_id": 1})}
        fields: dict[str, Any] = {"import_checked": True}
        if len(there) < len(wanted):
            kept = [a for a in p["allocations"] if a["order_id"] in there]
            fields.update(allocations=kept, amount=sum(a["amount"] for a in kept), unallocated=0)
            if not kept:
                fields.update(status="voided", voided_at=clock.now())
            changed += 1
        db.payments.update_one({"_id": p["_id"]}, {"$set": fields})
    return changed


def migrate_remitted() -> int:
    """Orders marked remitted before payments existed get the payment the switch would
    have recorded (dated when they were remitted), so paid_amount and reports stay true.
    Idempotent: a migrated order has a paid_amount. Returns how many orders."""
    db = get_db()
    legacy = list(
        db.orders.find(
            {
                "payment_status": "remitted",
                "paid_amount": {"$exists": False},
                "fulfillment_status": {"$ne": "cancelled"},
                "total_amount": {"$gt": 0},
            },
            {"seller_id": 1, "customer_id": 1, "buyer_name": 1, "total_amount": 1, "remitted_at": 1},
        ).sort("_id", 1)  # oldest order first: the payments come in the order the orders did
    )
    zones: dict = {}
    for order in legacy:
        seller_id = order["seller_id"]
        if seller_id not in zones:
            seller = db.sellers.find_one({"_id": seller_id}, {"timezone": 1}) or {}
            zones[seller_id] = seller.get("timezone") or clock.DEFAULT_TZ
        who = Principal(seller_id=str(seller_id), timezone=zones[seller_id], currency="")
        when = order.get("remitted_at") or clock.now()
        command = RecordPayment(
            customer_id=order["customer_id"],
            amount=order["total_amount"],
            method="other",
            order_ids=(order["_id"],),
            paid_at=clock.local_date(when, zones[seller_id]),
        )
        customer = {"_id": order["customer_id"], "name": order.get("buyer_name")}
        with _ledger.for_buyer(seller_id, order["customer_id"], finish=False) as uow:
            current = db.orders.find_one({"_id": order["_id"]})
            if "paid_amount" in current or current["payment_status"] != "remitted":
                continue  # migrated or changed meanwhile
            _record_locked(uow, who, customer, command, SWITCH)
    return len(legacy)
