"""Parcels (出貨): one buyer's orders packed in one box, shipped and delivered together.

A parcel document lists its orders; each order carries `parcel_id` and a copy of what
its buyer's page shows of the parcel (`parcel`: number and method), so the tracking page
needs no extra query. The two sides are written without a transaction:
- create: the parcel is inserted first, then its orders are marked (one update per
  group of orders in the same state). A retry with the same Idempotency-Key, or any read
  of the parcel, finishes marking orders a crash left unmarked; orders taken meanwhile
  (cancelled, or packed in another parcel) are put back and the parcel refused (409);
- delete: the parcel is marked `deleting` first, its orders are put back, then it goes;
  a read of a parcel marked `deleting` finishes the deletion.

A parcel whose buyer pays its shipping fee has a `shipping` charge (money/charges.py),
keyed `parcel:<id>` so there is one live charge per parcel. The parcel is written first
with a `billing` mark, then the charge is brought to what the parcel says now (`_bill`,
under the parcel's fee lock on every server) and the mark cleared: a retry or any read of
a parcel still marked finishes it, and two edits at once leave the charge at the final fee.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from chalicelib.buyers import customers
from chalicelib.money import charges
from chalicelib.orderbook import repository
from chalicelib.platform import actors, bus, clock, idempotency, locks, mongo, store
from chalicelib.platform.db import get_db, own
from chalicelib.platform.errors import Conflict, NotFound
from chalicelib.platform.ids import object_id
from chalicelib.platform.listing import page
from chalicelib.platform.money import from_cents
from chalicelib.platform.principal import Principal
from chalicelib.rules import allocation, carriers, contacts, order_rules
from chalicelib.shipping.schemas import ParcelIn, ParcelOut, ParcelPatch, ParcelQuery

FIRST_PARCEL_NO = 1
# Orders that can go in a parcel: not cancelled. Already shipped or delivered ones may
# join one (the seller records the box afterwards) and keep their status and date.
PACKABLE = ("pending", "purchased", "shipped", "delivered")
READY = "purchased"  # GET /parcels/ready: bought, waiting to be sent
READY_BATCH = 5_000


@dataclass(frozen=True)
class ParcelShipped(bus.Event):
    """A parcel was made (or a retry of its create answered): its buyer is emailed once
    (notifications claims the parcel, so a second event sends nothing)."""

    parcel_id: ObjectId


# Who did what to a parcel (issue 31): actor ids stored, names answered.
WHO = ("created_by", "shipped_by", "updated_by", "delivered_by", "returned_by")


def to_out(doc: dict, who: dict[str, str] | None = None) -> dict:
    """`who`: actor ids -> names (actors.names); without it they are read for this parcel."""
    if who is None:
        who = _names([doc])
    return ParcelOut.from_doc(
        {
            **doc,
            **{k: who.get(doc.get(k)) for k in WHO},
            # Parcels from before issue 26 say nothing: their fee was the buyer's to pay.
            "shipping_paid_by": doc.get("shipping_paid_by") or "buyer",
            "order_ids": [str(i) for i in doc["order_ids"]],
            "tracking_url": carriers.tracking_url(doc.get("carrier"), doc.get("tracking_number")),
            "recipient": doc.get("recipient") or {},
        }
    )


def _names(docs: list[dict]) -> dict[str, str]:
    """Who the parcels name, in one read of members for them all (none when only the
    shop's own login acted)."""
    if not docs:
        return {}
    return actors.names(docs[0]["seller_id"], [d[k] for d in docs for k in WHO if d.get(k)])


def _order_fields(parcel: dict) -> dict[str, Any]:
    """What each order of the parcel copies: its buyer's page shows these."""
    return {
        "parcel_id": parcel["_id"],
        "parcel": {"parcel_no": parcel["parcel_no"], "method": parcel["method"]},
        "carrier": parcel.get("carrier"),
        "tracking_number": parcel.get("tracking_number"),
    }


def _reserve_number(seller_id) -> int:
    counter = store.find_one_and_update(
        get_db().counters,
        {"_id": f"parcels:{seller_id}"},
        {"$inc": {"seq": 1}},
        lock=store.parcel_counter_key(seller_id),
        upsert=True,
        return_document=mongo.ReturnDocument.AFTER,
    )
    return FIRST_PARCEL_NO - 1 + counter["seq"]


def _refuse(order: dict | None, oid, code: str, why: str) -> Conflict:
    name = str(order["order_no"]) if order else str(oid)
    return Conflict(
        f"order #{name} {why}",
        code=code,
        details=[{"field": "order_ids", "code": code, "message": name}],
    )


def _check_orders(seller_id, customer_id, order_ids: list[ObjectId], parcel_id=None) -> list[dict]:
    found = {o["_id"]: o for o in get_db().orders.find({"_id": {"$in": order_ids}, "seller_id": seller_id})}
    out = []
    for oid in order_ids:
        order = found.get(oid)
        if order is None:
            raise NotFound("order not found")
        if order["customer_id"] != customer_id:
            raise _refuse(order, oid, "order_not_this_buyers", "is not an order of this buyer")
        if order["fulfillment_status"] not in PACKABLE:
            raise _refuse(order, oid, "order_cancelled", "is cancelled")
        if order.get("parcel_id") not in (None, parcel_id):
            raise _refuse(order, oid, "order_in_parcel", "is already in another parcel")
        out.append(order)
    return out


def create(principal: Principal, data: ParcelIn, idempotency_key: str | None = None) -> tuple[dict, bool]:
    """POST /parcels. Returns (parcel, created); a repeated Idempotency-Key returns the
    first parcel (finishing it if a crash cut it short)."""
    seller_id = object_id(principal.seller_id)
    customer_id = object_id(data.customer_id, "customer")
    parcel_id = ObjectId()

    def make() -> dict:
        order_ids = list(dict.fromkeys(ObjectId(i) for i in data.order_ids))
        orders = _check_orders(seller_id, customer_id, order_ids)
        recipient = data.recipient.model_dump() if data.recipient is not None else None
        buyer_name = orders[0]["buyer_name"]
        if recipient is None or not any(recipient.values()):
            customer = _customer(seller_id, customer_id)
            recipient = _default_recipient(customer, data.method)
            _refuse_to_guess(customer, orders, data.method)
            # One read for both names, so a rename (_rename) finds the recipient its own.
            buyer_name = customer.get("name") or buyer_name
        now = clock.now()
        billed = data.shipping_paid_by == "buyer" and data.shipping_fee > 0
        doc = {
            "_id": parcel_id,
            "seller_id": seller_id,
            "customer_id": customer_id,
            "buyer_name": buyer_name,
            "parcel_no": _reserve_number(seller_id),
            "order_ids": order_ids,
            "order_nos": [o["order_no"] for o in orders],
            "method": data.method,
            "carrier": data.carrier or None,
            "tracking_number": data.tracking_number or None,
            "shipping_fee": data.shipping_fee,
            "shipping_paid_by": data.shipping_paid_by,
            "shipping_cost": data.shipping_cost,
            # The batch its shipping counts in (its charge, the profit report).
            "batch": _batch_of(orders),
            "recipient": recipient,
            "status": "shipped",
            "shipped_date": order_rules.shipped_today(now, principal.timezone),
            "delivered_date": None,
            "note": data.note or None,
            "notified_at": None,
            # Who packed it (issue 31): a parcel is shipped when it is made.
            "created_by": principal.actor_id,
            "shipped_by": principal.actor_id,
            "created_at": now,
            "updated_at": now,
        }
        if billed:
            doc["billing"] = ObjectId()
        get_db().parcels.insert_one(doc)
        if not _ship_orders(doc, orders, now, named=True):
            doc = _current_name(doc)
        return _bill(doc, new=True) if billed else doc

    # A parcel refused (and removed) gives its key back; one a crash left half made keeps
    # it, so the retry finishes that parcel instead of making another.
    doc, created = idempotency.once(
        idempotency.claim_id(f"{seller_id}:parcels", idempotency_key),
        parcel_id,
        lambda pid: get_db().parcels.find_one({"_id": pid, "seller_id": seller_id}),
        make,
        written=lambda: get_db().parcels.find_one({"_id": parcel_id}, {"_id": 1}) is not None,
    )
    if not created:
        doc = _finished(doc, principal.timezone)
    bus.record(ParcelShipped(doc["_id"]))
    return to_out(doc), created


def _batch_of(orders: list[dict]) -> str | None:
    """The batch most of the parcel's orders are in (the first one's on a tie), None when
    none is in a batch."""
    named = Counter(o.get("batch") for o in orders if o.get("batch"))
    return named.most_common(1)[0][0] if named else None


def charge_key(parcel_id) -> str:
    """The key of a parcel's shipping charge: one live charge per parcel."""
    return f"parcel:{parcel_id}"


def _bill(parcel: dict, *, new: bool = False) -> dict:
    """Bring the parcel's shipping charge to what the parcel says now: its fee when the
    buyer pays it, else none (voided; a parcel being deleted owes nothing). The parcel is
    read again under its fee lock, so of two edits at once the later sync sees the final
    fee. Then the `billing` mark it read is cleared. Returns the parcel as read.

    `new`: the parcel was just made by this request, so no charge can have been edited
    yet: the add alone (keyed: a live one is returned as it is) saves a lookup."""
    db = get_db()
    seller_id, pid = parcel["seller_id"], parcel["_id"]
    key = charge_key(pid)
    with locks.held(store.parcel_fee_key(pid)):
        now = db.parcels.find_one({"_id": pid, "seller_id": seller_id}) or {**parcel, "deleting": True}
        owed = (
            now["shipping_fee"]
            if (now.get("shipping_paid_by") or "buyer") == "buyer" and not now.get("deleting")
            else 0
        )
        if owed <= 0:
            charges.void_keyed(seller_id, key)
        elif new or charges.set_amount_keyed(seller_id, key, owed) is None:
            charges.add(
                seller_id,
                charges.AddCharge(
                    customer_id=now["customer_id"],
                    amount=owed,
                    kind="shipping",
                    parcel_id=pid,
                    batch=now.get("batch"),
                    key=key,
                ),
            )
        if now.get("billing") is not None:
            # Only the mark this sync read: an edit after it set a new one and syncs itself.
            store.update_one(
                db.parcels,
                {"_id": pid, "billing": now["billing"]},
                {"$unset": {"billing": ""}},
                lock=store.parcel_key(pid),
            )
            now = {k: v for k, v in now.items() if k != "billing"}
    return now


def _customer(seller_id, customer_id) -> dict:
    return get_db().customers.find_one({"_id": customer_id, "seller_id": seller_id}) or {}


def _home(method: str) -> bool:
    return method not in carriers.ADDRESS_FREE_METHODS


def _default_recipient(customer: dict, method: str) -> dict:
    """The buyer's name, phone and address (a convenience-store parcel: no address; the
    store comes from the seller)."""
    return {
        "name": customer.get("name"),
        "phone": customer.get("phone"),
        "address": customer.get("address") if _home(method) else None,
        "store_name": None,
        "store_id": None,
    }


def _differs(ship_to: dict | None, customer: dict, home: bool = True) -> bool:
    """A form's ship_to says something the customer's own details do not (a field the
    buyer left empty says nothing; the address counts only for a home delivery)."""
    fields = ("name", "phone", "address") if home else ("name", "phone")

    def same(k: str) -> bool:
        if k == "phone":  # the customer's is stored in E.164, the form's as typed
            return contacts.same_phone(ship_to[k], customer.get(k))
        return ship_to[k].strip() == (customer.get(k) or "").strip()

    return any((ship_to or {}).get(k) and not same(k) for k in fields)


def _refuse_to_guess(customer: dict, orders: list[dict], method: str) -> None:
    """No recipient given and an order of the parcel was typed with other delivery
    details (an order form's ship_to): the seller chooses, the API does not (409 with
    both candidates)."""
    home = _home(method)
    typed: dict[tuple, dict] = {}
    for o in orders:
        if _differs(o.get("ship_to"), customer, home):
            shown = {k: o["ship_to"].get(k) for k in ("name", "phone", "address")}
            typed.setdefault(tuple(shown.values()), {**shown, "order_nos": []})["order_nos"].append(
                o["order_no"]
            )
    if typed:
        raise Conflict(
            "orders of this parcel were typed with other delivery details than the buyer's: "
            "give the recipient",
            code="ship_to_differs",
            details=[
                {
                    "field": "recipient",
                    "code": "ship_to_differs",
                    "message": "choose the buyer's details or what was typed on the order form",
                    "customer": {k: customer.get(k) for k in ("name", "phone", "address")},
                    "ship_to": list(typed.values()),
                }
            ],
        )


def _current_name(parcel: dict) -> dict:
    """The parcel carries its buyer's name as it is now: a rename between reading the
    orders and inserting the parcel (customers.update -> customer_changed) missed it."""
    name = _customer(parcel["seller_id"], parcel["customer_id"]).get("name")
    if name and name != parcel["buyer_name"]:
        _rename(parcel, name)
        parcel = get_db().parcels.find_one({"_id": parcel["_id"]}) or parcel
    return parcel


def _rename(parcel: dict, name: str) -> None:
    """The parcel's buyer_name, and the recipient's name where it was the buyer's (the
    default recipient, printed on the slip); a recipient typed otherwise stays."""
    db = get_db()
    old = parcel.get("buyer_name")
    with store.serialized(store.parcel_key(parcel["_id"])):
        db.parcels.update_one(
            {"_id": parcel["_id"], "buyer_name": old, "recipient.name": old},
            {"$set": {"buyer_name": name, "recipient.name": name}},
        )
        db.parcels.update_one({"_id": parcel["_id"], "buyer_name": old}, {"$set": {"buyer_name": name}})


def customer_changed(event: customers.CustomerChanged) -> None:
    """The parcels (and so their slips) show the buyer's new name."""
    if event.renamed:
        customers.refresh(event, _buyer_renamed)


def _buyer_renamed(customer: dict) -> None:
    stale = {"seller_id": customer["seller_id"], "customer_id": customer["_id"]}
    for parcel in get_db().parcels.find(
        {**stale, "buyer_name": {"$ne": customer["name"]}}, {"buyer_name": 1, "recipient": 1}
    ):
        _rename(parcel, customer["name"])


def customers_merged(event: customers.CustomersMerged) -> None:
    """The other buyer's parcels are the target's, named after it. The recipient stays
    as the parcel was addressed (it went there). Each under its lock, like a rename
    (FerretDB writes a whole parcel back); a replay finds nothing left to move."""
    db = get_db()
    target = db.customers.find_one({"_id": event.into_id, "seller_id": event.seller_id}, {"name": 1})
    if target is None:
        return
    who = {"seller_id": event.seller_id, "customer_id": event.from_id}
    for parcel in db.parcels.find(who, {"_id": 1}):
        with store.serialized(store.parcel_key(parcel["_id"])):
            db.parcels.update_one(
                {**who, "_id": parcel["_id"]},
                {"$set": {"customer_id": event.into_id, "buyer_name": target["name"]}},
            )


def _ship_orders(parcel: dict, orders: list[dict], now: dt.datetime, *, named: bool = False) -> bool:
    """Mark the parcel's orders (repository.attach_to_parcel): those not yet sent become
    shipped on the parcel's date (order_rules.PARCEL_SHIPS); sent ones keep their status.
    If one was taken meanwhile, put back the ones this call marked and refuse the parcel.

    `named`: first only orders that still carry the parcel's buyer_name. When every one
    does (nearly always), no rename had reached them when they were marked, after the
    parcel was written: the rename's parcel handler, which runs after its orders
    handler, will find this parcel, so its name needs no read (True). Otherwise the
    orders are marked as before and the caller reads the buyer's name (False)."""
    db = get_db()
    pid = parcel["_id"]
    fields = _order_fields(parcel)
    if (
        named
        and parcel["buyer_name"]
        and repository.attach_to_parcel(parcel, orders, fields, now, buyer_name=parcel["buyer_name"])
        == len(orders)
    ):
        return True
    # Some order was taken, marked by a retry, or carries another name (a rename on its
    # way): each mark again is idempotent, and an order this call already moved to
    # shipped does not match the move again.
    matched = repository.attach_to_parcel(parcel, orders, fields, now)
    # Fewer matched: another request marked some first (a retry finishing this parcel)
    # or one was taken (cancelled, packed elsewhere). Only the second is a refusal.
    if matched != len(orders) and db.orders.count_documents(
        {"_id": {"$in": parcel["order_ids"]}, "parcel_id": pid}
    ) != len(parcel["order_ids"]):
        _unship_orders(parcel, now, to="purchased")
        db.parcels.delete_one({"_id": pid})
        raise Conflict(
            "an order of this parcel changed while it was packed (cancelled or in another parcel); try again",
            code="concurrent_update",
        )
    return False


def _unship_orders(parcel: dict, now: dt.datetime, *, to: str, actor: str | None = None) -> None:
    """The parcel's orders leave it: the ones it shipped (`shipped_by_parcel`) go back to
    `to` (purchased) and lose the date; every one loses the parcel's copy. `actor`: who
    unpacked or returned it (a deletion a read finishes names the one who began it)."""
    who = actor or parcel.get("updated_by") or parcel.get("created_by")
    repository.detach_parcel(parcel, order_rules.parcel_returns(to), now, who)


def _finished(parcel: dict, tz: str) -> dict:
    """A parcel as it should be after a crash: a deletion under way is completed (None
    is never returned to a caller: NotFound), a creation's unmarked orders are marked."""
    db = get_db()
    now = clock.now()
    if parcel.get("deleting"):
        _unship_orders(parcel, now, to="purchased")
        _bill(parcel)
        db.parcels.delete_one({"_id": parcel["_id"]})
        raise NotFound("parcel not found")
    if parcel["status"] == "shipped":
        unmarked = list(
            db.orders.find({"_id": {"$in": parcel["order_ids"]}, "parcel_id": {"$ne": parcel["_id"]}})
        )
        if unmarked:
            _ship_orders(parcel, unmarked, now)
    if parcel.get("billing") is not None:
        parcel = _bill(parcel)
    return parcel


def _own(principal: Principal, parcel_id: str) -> dict:
    return own("parcels", object_id(principal.seller_id), parcel_id, "parcel")


def own_finished(principal: Principal, parcel_id: str) -> dict:
    """The seller's parcel, as it should be after any crash (404 for another seller's)."""
    return _finished(_own(principal, parcel_id), principal.timezone)


def get(principal: Principal, parcel_id: str) -> dict:
    return to_out(own_finished(principal, parcel_id))


def search(principal: Principal, params: ParcelQuery) -> dict:
    query: dict[str, Any] = {"seller_id": object_id(principal.seller_id), "deleting": {"$ne": True}}
    if params.customer_id:
        query["customer_id"] = object_id(params.customer_id)
    if params.status:
        query["status"] = params.status
    found = page(get_db().parcels, query, params.limit, params.cursor, lambda d: d)
    who = _names(found["items"])
    return {**found, "items": [to_out(d, who) for d in found["items"]]}


def update(principal: Principal, parcel_id: str, patch: ParcelPatch) -> dict:
    """Tracking number, carrier, fee, recipient, note; `status`: delivered marks its
    orders delivered (today, in the seller's zone), returned puts them back to purchased
    (the goods came back and can go out again)."""
    db = get_db()
    parcel = _finished(_own(principal, parcel_id), principal.timezone)
    changes = patch.model_dump(exclude_unset=True)
    now = clock.now()
    status = changes.pop("status", None)
    sets: dict[str, Any] = {k: (v or None) if isinstance(v, str) else v for k, v in changes.items()}
    if "recipient" in sets:
        # The fields given replace the stored ones, each by its own path, so two edits of
        # different fields at once both stay.
        given = {k: v or None for k, v in sets.pop("recipient").items()}
        if isinstance(parcel.get("recipient"), dict):
            sets |= {f"recipient.{k}": v for k, v in given.items()}
        else:
            sets["recipient"] = given
    billing = {"shipping_fee", "shipping_paid_by"} & changes.keys()
    if billing:
        sets["billing"] = ObjectId()  # cleared by _bill; a crash before it leaves the mark
    if status is not None and status != parcel["status"]:
        if parcel["status"] != "shipped":
            raise Conflict(f"a {parcel['status']} parcel does not change status", code="invalid_transition")
        sets["status"] = status
        sets[f"{status}_by"] = principal.actor_id  # delivered_by, returned_by
        if status == "delivered":
            sets["delivered_date"] = order_rules.shipped_today(now, principal.timezone)
    sets["updated_by"] = principal.actor_id
    # Locked on FerretDB (its update reads and writes the whole parcel back): a recipient
    # edit and a rename, or two edits of different fields, must not undo each other.
    after = store.find_one_and_update(
        db.parcels,
        {"_id": parcel["_id"], "status": parcel["status"]},
        {"$set": {**sets, "updated_at": now}},
        lock=store.parcel_key(parcel["_id"]),
        return_document=mongo.ReturnDocument.AFTER,
    )
    if after is None:
        raise Conflict("the parcel changed while saving; try again", code="concurrent_update")
    if {"carrier", "tracking_number"} & changes.keys():
        repository.copy_parcel(after, _order_fields(after), now)
    if sets.get("status") == "delivered":
        repository.deliver_parcel(after, sets["delivered_date"], now, principal.actor_id)
    elif sets.get("status") == "returned":
        _unship_orders(after, now, to="purchased", actor=principal.actor_id)
    if billing:
        after = _bill(after)
    return to_out(after)


def delete(principal: Principal, parcel_id: str) -> None:
    """Only before delivery: its orders go back to purchased."""
    db = get_db()
    parcel = _finished(_own(principal, parcel_id), principal.timezone)
    if parcel["status"] == "delivered":
        raise Conflict("a delivered parcel stays: its orders arrived", code="parcel_delivered")
    marked = store.find_one_and_update(
        db.parcels,
        {"_id": parcel["_id"], "status": {"$ne": "delivered"}},
        {"$set": {"deleting": True, "updated_by": principal.actor_id}},
        lock=store.parcel_key(parcel["_id"]),
        return_document=mongo.ReturnDocument.AFTER,
    )
    if marked is None:
        raise Conflict("a delivered parcel stays: its orders arrived", code="parcel_delivered")
    _unship_orders(marked, clock.now(), to="purchased", actor=principal.actor_id)
    _bill(marked)  # voided before the parcel goes: a crash in between leaves it `deleting`
    db.parcels.delete_one({"_id": parcel["_id"]})


def ready(principal: Principal, batch: str | None = None) -> dict:
    """GET /parcels/ready: per buyer, the orders bought and in no parcel (of one batch when
    `batch` is given), with what the buyer still owes (the seller may hold unpaid ones) and
    where to send them. Two commands: the orders, then their buyers."""
    db = get_db()
    seller_id = object_id(principal.seller_id)
    match = {"seller_id": seller_id, "fulfillment_status": READY, "parcel_id": None}
    if batch is not None:
        match["batch"] = batch
    orders = list(
        db.orders.find(
            match,
            sort=[("created_at", 1), ("_id", 1)],
            batch_size=READY_BATCH,  # one reply, not a getMore per 101 orders
        )
    )
    per_buyer: dict[Any, list[dict]] = {}
    for o in orders:
        per_buyer.setdefault(o["customer_id"], []).append(o)
    people = {
        c["_id"]: c
        for c in db.customers.find(
            {"_id": {"$in": list(per_buyer)}, "seller_id": seller_id},
            {"name": 1, "email": 1, "phone": 1, "address": 1},
        )
    }
    rows = []
    for cid, mine in per_buyer.items():
        c = people.get(cid, {})
        rows.append(
            {
                "customer_id": str(cid),
                "name": c.get("name") or mine[0]["buyer_name"],
                "email": c.get("email") or mine[0]["buyer_email"],
                "phone": c.get("phone"),
                "address": c.get("address"),
                "balance": from_cents(sum(allocation.balance_of(o) for o in mine)),
                "orders": [
                    {
                        "id": str(o["_id"]),
                        "order_no": o["order_no"],
                        "item_name": o["item_name"],
                        "variant_label": o.get("variant_label"),
                        "quantity": o["quantity"],
                        "total_amount": from_cents(o["total_amount"]),
                        "balance": from_cents(allocation.balance_of(o)),
                        "payment_status": o["payment_status"],
                        "batch": o.get("batch"),
                        # What an order form's buyer typed about delivery, and whether it
                        # differs from the buyer's own details (the Ship tab then asks).
                        "ship_to": o.get("ship_to"),
                        "ship_to_differs": _differs(o.get("ship_to"), c),
                    }
                    for o in mine
                ],
            }
        )
    rows.sort(key=lambda r: r["orders"][0]["order_no"])
    return {"buyers": rows}
