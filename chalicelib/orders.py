"""Orders: creation with atomic stock take, status changes with history, bulk updates.

FerretDB (like a sharded Atlas cluster without transactions) changes one document
atomically, so every write here is a single-document conditional update, and where two
documents must change (stock and order) the second failing undoes the first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from . import clock, customers, idempotency, items
from .auth import Principal
from .db import get_db
from .errors import Conflict, NotFound, ValidationFailed
from .ids import object_id
from .listing import page, search_filter
from .locks import exclusive
from .models import FULFILLMENT_STATUSES, PAYMENT_STATUSES, BulkIn, OrderIn, OrderPatch
from .money import MAX_CENTS, from_cents

FIRST_ORDER_NO = 1001
CANCELLABLE = ("pending", "purchased")
SHIPPED_STATES = ("shipped", "delivered")
MONEY_FIELDS = ("unit_price", "shipping_fee", "total_amount")
TEXT_FIELDS = ("batch", "note", "carrier", "tracking_number")


def to_out(doc: dict) -> dict:
    out = {
        "id": str(doc["_id"]),
        "order_no": doc["order_no"],
        "customer_id": str(doc["customer_id"]),
        "buyer_email": doc["buyer_email"],
        "buyer_name": doc["buyer_name"],
        "item_id": str(doc["item_id"]) if doc.get("item_id") else None,
        "item_name": doc["item_name"],
        "quantity": doc["quantity"],
        "payment_status": doc["payment_status"],
        "remitted_at": clock.iso(doc.get("remitted_at")),
        "fulfillment_status": doc["fulfillment_status"],
        "shipped_date": doc.get("shipped_date"),
        "history": history_out(doc),
        "created_at": clock.iso(doc["created_at"]),
        "updated_at": clock.iso(doc["updated_at"]),
    }
    out.update({f: from_cents(doc[f]) for f in MONEY_FIELDS})
    out.update({f: doc.get(f) for f in TEXT_FIELDS})
    return out


DEFAULT_STATUS = {"payment_status": "unpaid", "fulfillment_status": "pending"}


def history_out(doc: dict) -> list[dict]:
    """History entries written by the one-command status update carry no `from` (an update
    cannot copy a field's old value into a pushed entry); it is the previous entry's `to`
    for that field, or the order's initial status, since every change appends an entry."""
    last = {**DEFAULT_STATUS, **doc.get("initial", {})}
    out = []
    for h in doc.get("history", []):
        before = h["from"] if "from" in h else last.get(h["field"])
        last[h["field"]] = h["to"]
        out.append({"at": clock.iso(h["at"]), "field": h["field"], "from": before, "to": h["to"]})
    return out


def _total(quantity: int, unit_price: int, shipping_fee: int) -> int:
    total = quantity * unit_price + shipping_fee
    if total > MAX_CENTS:
        raise ValidationFailed(
            "total_amount would be above 100,000,000",
            details=[{"field": "total_amount", "message": "too large"}],
        )
    return total


def reserve_order_numbers(seller_id, count: int = 1) -> int:
    """Take `count` consecutive order numbers from the seller's counter; returns the last.
    Numbers are never given back, so a failed creation leaves a gap, never a duplicate."""
    with exclusive(f"counters:{seller_id}"):
        counter = get_db().counters.find_one_and_update(
            {"_id": seller_id},
            {"$inc": {"seq": count}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    return FIRST_ORDER_NO - 1 + counter["seq"]


def order_document(
    *,
    seller_id,
    order_no: int,
    customer: dict,
    item: dict | None,
    data: OrderIn,
    unit_price: int,
    total: int,
    payment_status: str,
    fulfillment_status: str,
    tz: str,
    now: dt.datetime,
    created_at: dt.datetime | None = None,
    remitted_at: dt.datetime | None = None,
    shipped_date: str | None = None,
) -> dict:
    """The one shape of a stored order, for POST /orders and the CSV import alike.
    `created_at`, `remitted_at` and `shipped_date` may come from an imported file."""
    created = created_at or now
    return {
        "seller_id": seller_id,
        "order_no": order_no,
        "customer_id": customer["_id"],
        "buyer_email": customer["email"],
        "buyer_name": customer["name"],
        "item_id": item["_id"] if item else None,
        "item_name": item["item_name"] if item else data.item_name,
        "quantity": data.quantity,
        "unit_price": unit_price,
        "shipping_fee": data.shipping_fee,
        "total_amount": total,
        "batch": data.batch or None,
        "note": data.note or None,
        "carrier": None,
        "tracking_number": None,
        "payment_status": payment_status,
        "remitted_at": (remitted_at or now) if payment_status == "remitted" else None,
        "fulfillment_status": fulfillment_status,
        "shipped_date": (
            (shipped_date or clock.local_date(now, tz).isoformat())
            if fulfillment_status in SHIPPED_STATES
            else None
        ),
        "history": [],
        "initial": {"payment_status": payment_status, "fulfillment_status": fulfillment_status},
        # The month in the seller's zone, for the monthly report (FerretDB has no date
        # operators in aggregation; a stored key also makes the report cheaper).
        "month": clock.local_date(created, tz).strftime("%Y-%m"),
        "version": 0,
        "created_at": created,
        "updated_at": now,
    }


@dataclass
class NewOrder:
    """What creation needs beyond the request body: the initial statuses."""

    data: OrderIn
    payment_status: str = "unpaid"
    fulfillment_status: str = "pending"


def create(principal: Principal, data: OrderIn, idempotency_key: str | None = None) -> tuple[dict, bool]:
    """Returns (order, created). A repeated Idempotency-Key returns the first order."""
    return create_new(principal, NewOrder(data), idempotency_key)


def create_new(principal: Principal, new: NewOrder, idempotency_key: str | None = None) -> tuple[dict, bool]:
    seller_id = object_id(principal.seller_id, "seller")
    cid = idempotency.claim_id(seller_id, idempotency_key)
    order_id = ObjectId()  # chosen first: a key's claim names the order it will create
    if cid is None:
        return _create(principal, new, seller_id, order_id), True
    # The order's id comes from this seller's claim, so `{_id}` alone finds it.
    first = idempotency.claim_or_find(cid, order_id, lambda oid: get_db().orders.find_one({"_id": oid}))
    if first is not None:
        return to_out(first), False
    try:
        return _create(principal, new, seller_id, order_id), True
    except BaseException:
        idempotency.release(idempotency.Claim(cid, order_id))  # a retry may try again
        raise


def _create(principal: Principal, new: NewOrder, seller_id: ObjectId, order_id: ObjectId) -> dict:
    db = get_db()
    data = new.data
    item = None
    if data.item_id is not None:
        item = items.find_for_order(seller_id, item_id=object_id(data.item_id, "item"))
        if item is None:
            raise NotFound("item not found")
    else:
        item = items.find_for_order(seller_id, item_name=data.item_name)
    unit_price = data.unit_price if data.unit_price is not None else (item or {}).get("price")
    if unit_price is None:
        raise ValidationFailed(
            "unit_price is required for an item that is not in your item list",
            details=[{"field": "unit_price", "message": "required"}],
        )
    total = _total(data.quantity, unit_price, data.shipping_fee)

    # Validation is done: from here on, every write that fails is undone.
    takes_stock = item is not None and new.fulfillment_status != "cancelled"
    if takes_stock and not items.take_stock(item, data.quantity):
        raise Conflict(
            f"not enough stock for {item['item_name']} (left: {item.get('stock')})",
            code="insufficient_stock",
        )
    try:
        if data.customer_id is not None:
            customer = db.customers.find_one(
                {"_id": object_id(data.customer_id, "customer"), "seller_id": seller_id}
            )
            if customer is None:
                raise NotFound("customer not found")
        else:
            customer = customers.find_or_create_by_email(seller_id, data.buyer_email, data.buyer_name)
        doc = {"_id": order_id}
        doc |= order_document(
            seller_id=seller_id,
            order_no=reserve_order_numbers(seller_id),
            customer=customer,
            item=item,
            data=data,
            unit_price=unit_price,
            total=total,
            payment_status=new.payment_status,
            fulfillment_status=new.fulfillment_status,
            tz=principal.timezone,
            now=clock.now(),
        )
        db.orders.insert_one(doc)
    except BaseException:
        if takes_stock:
            items.return_stock(seller_id, item["_id"], data.quantity)
        raise
    return to_out(doc)


def _get_doc(seller_id, order_id: str) -> dict:
    doc = get_db().orders.find_one({"_id": object_id(order_id, "order"), "seller_id": seller_id})
    if doc is None:
        raise NotFound("order not found")
    return doc


def get(principal: Principal, order_id: str) -> dict:
    return to_out(_get_doc(object_id(principal.seller_id), order_id))


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value in (None, ""):
        return None
    if value not in allowed:
        raise ValidationFailed(f"{name} must be one of {', '.join(allowed)}", code="invalid_query")
    return value


def list_(principal: Principal, params: dict[str, str], limit: int, cursor: str | None) -> dict:
    query: dict[str, Any] = {"seller_id": object_id(principal.seller_id)}
    if params.get("customer_id"):
        try:
            query["customer_id"] = object_id(params["customer_id"])
        except NotFound:
            raise ValidationFailed("customer_id is not a valid id", code="invalid_query") from None
    if params.get("batch"):
        query["batch"] = params["batch"]
    for name, allowed in (("payment_status", PAYMENT_STATUSES), ("fulfillment_status", FULFILLMENT_STATUSES)):
        value = _choice(name, params.get(name), allowed)
        if value:
            query[name] = value
    created: dict[str, dt.datetime] = {}
    if start := clock.parse_iso(params.get("from"), "from"):
        created["$gte"] = start
    if end := clock.parse_iso(params.get("to"), "to"):
        created["$lte"] = end
    if created:
        query["created_at"] = created
    q = (params.get("q") or "").strip()
    if q:
        search = search_filter(q, ("buyer_name", "buyer_email", "item_name", "tracking_number", "batch"))
        if q.isdigit() and len(q) < 12:
            search["$or"].append({"order_no": int(q)})
        query.update(search)
    return page(get_db().orders, query, limit, cursor, to_out)


# --- changes -------------------------------------------------------------------------


@dataclass
class Plan:
    """What one patch does to one order, computed from the order as read."""

    set: dict[str, Any]
    history: list[dict[str, Any]]
    stock_delta: int  # > 0 takes stock, < 0 returns it


def plan_change(doc: dict, changes: dict[str, Any], tz: str, now: dt.datetime) -> Plan:
    """Validate a change against the order's state and work out the update. Pure."""
    new: dict[str, Any] = {}
    history = []
    stock_delta = 0
    cur_ful = doc["fulfillment_status"]
    to_ful = changes.get("fulfillment_status", cur_ful)

    if cur_ful == "cancelled":
        blocked = {"quantity", "unit_price", "shipping_fee", "shipped_date"} & changes.keys()
        if to_ful != "cancelled" or blocked:
            raise Conflict("this order is cancelled", code="order_cancelled")

    for name in TEXT_FIELDS:
        if name in changes:
            new[name] = changes[name] or None

    if "payment_status" in changes and changes["payment_status"] != doc["payment_status"]:
        to_pay = changes["payment_status"]
        new["payment_status"] = to_pay
        new["remitted_at"] = now if to_pay == "remitted" else None
        history.append({"at": now, "field": "payment_status", "from": doc["payment_status"], "to": to_pay})

    if "shipped_date" in changes and to_ful not in SHIPPED_STATES:
        raise ValidationFailed(
            "shipped_date can only be set on a shipped or delivered order",
            details=[{"field": "shipped_date", "message": "order is not shipped"}],
        )
    given_date = changes.get("shipped_date")
    if given_date is not None:
        new["shipped_date"] = given_date.isoformat()
    if to_ful != cur_ful:
        if to_ful == "cancelled":
            if cur_ful not in CANCELLABLE:
                raise Conflict(f"a {cur_ful} order cannot be cancelled", code="invalid_transition")
            stock_delta -= doc["quantity"]
        if to_ful in SHIPPED_STATES:
            if given_date is None and not (cur_ful in SHIPPED_STATES and doc.get("shipped_date")):
                new["shipped_date"] = clock.local_date(now, tz).isoformat()
        else:
            new["shipped_date"] = None  # moving back from shipped clears the date
        new["fulfillment_status"] = to_ful
        history.append({"at": now, "field": "fulfillment_status", "from": cur_ful, "to": to_ful})

    money_keys = {"quantity", "unit_price", "shipping_fee"} & changes.keys()
    if money_keys:
        quantity = changes.get("quantity", doc["quantity"])
        unit_price = changes.get("unit_price", doc["unit_price"])
        shipping_fee = changes.get("shipping_fee", doc["shipping_fee"])
        new.update(
            quantity=quantity,
            unit_price=unit_price,
            shipping_fee=shipping_fee,
            total_amount=_total(quantity, unit_price, shipping_fee),
        )
        stock_delta += quantity - doc["quantity"]
    return Plan(set=new, history=history, stock_delta=stock_delta)


def _apply_stock(doc: dict, delta: int) -> None:
    if delta == 0 or doc.get("item_id") is None:
        return
    if delta > 0:
        item = items.find_for_order(doc["seller_id"], item_id=doc["item_id"])
        if item is not None and not items.take_stock(item, delta):
            raise Conflict(
                f"not enough stock for {doc['item_name']} (left: {item.get('stock')})",
                code="insufficient_stock",
            )
    else:
        items.return_stock(doc["seller_id"], doc["item_id"], -delta)


def _update_for(plan: Plan, now: dt.datetime) -> dict:
    update: dict[str, Any] = {"$set": {**plan.set, "updated_at": now}, "$inc": {"version": 1}}
    if plan.history:
        update["$push"] = {"history": {"$each": plan.history}}
    return update


FAST_FIELDS = {"payment_status", "fulfillment_status", *TEXT_FIELDS}
# For a move to this fulfillment status: the states it is done from in one command, and
# what happens to the shipped date. Other moves take the read-then-write path.
FAST_FULFILLMENT = {
    "purchased": ({"$in": ["pending"]}, None),
    "pending": ({"$in": ["purchased"]}, None),
    "shipped": ({"$in": ["pending", "purchased"]}, "today"),
    "delivered": ({"$in": ["shipped"]}, "keep"),
    "cancelled": ({"$in": list(CANCELLABLE)}, None),
}


def _fast_update(seller_id, oid, changes: dict[str, Any], tz: str) -> dict | None:
    """The everyday toggles (已匯款 remitted, 已出貨 shipped, carrier, tracking number) in
    ONE conditional update. The filter states what must be true for the change to be
    valid and not a no-op; when it does not match, None sends the caller to the
    read-then-write path, which explains why (404, 409, nothing to change)."""
    now = clock.now()
    query: dict[str, Any] = {"_id": oid, "seller_id": seller_id}
    sets: dict[str, Any] = {name: changes[name] or None for name in TEXT_FIELDS if name in changes}
    history = []
    if "payment_status" in changes:
        to_pay = changes["payment_status"]
        query["payment_status"] = {"$ne": to_pay}
        sets.update(payment_status=to_pay, remitted_at=now if to_pay == "remitted" else None)
        history.append({"at": now, "field": "payment_status", "to": to_pay})
    if "fulfillment_status" in changes:
        to_ful = changes["fulfillment_status"]
        states, date_rule = FAST_FULFILLMENT[to_ful]
        query["fulfillment_status"] = states
        sets["fulfillment_status"] = to_ful
        if date_rule == "today":
            sets["shipped_date"] = clock.local_date(now, tz).isoformat()
        elif date_rule is None:
            sets["shipped_date"] = None
        history.append({"at": now, "field": "fulfillment_status", "to": to_ful})
    update: dict[str, Any] = {"$set": {**sets, "updated_at": now}, "$inc": {"version": 1}}
    if history:
        update["$push"] = {"history": {"$each": history}}
    with exclusive(f"orders:{oid}"):
        after = get_db().orders.find_one_and_update(query, update, return_document=ReturnDocument.AFTER)
    if after is not None and changes.get("fulfillment_status") == "cancelled":
        _apply_stock(after, -after["quantity"])
    return after


def update(principal: Principal, order_id: str, patch: OrderPatch, attempts: int = 3) -> dict:
    """Status and text changes: one conditional update (`_fast_update`). Anything else,
    or a fast update that did not apply: read, plan, then write only if nobody changed
    the order meanwhile (version check); a lost race re-reads and re-plans."""
    seller_id = object_id(principal.seller_id)
    changes = patch.model_dump(exclude_unset=True)
    db = get_db()
    if changes.keys() <= FAST_FIELDS:
        after = _fast_update(seller_id, object_id(order_id, "order"), changes, principal.timezone)
        if after is not None:
            return to_out(after)
    for _ in range(attempts):
        doc = _get_doc(seller_id, order_id)
        now = clock.now()
        plan = plan_change(doc, changes, principal.timezone, now)
        if plan.stock_delta > 0:
            _apply_stock(doc, plan.stock_delta)
        with exclusive(f"orders:{doc['_id']}"):
            after = db.orders.find_one_and_update(
                {"_id": doc["_id"], "seller_id": seller_id, "version": doc.get("version", 0)},
                _update_for(plan, now),
                return_document=ReturnDocument.AFTER,
            )
        if after is None:  # lost a race: undo what we took and try again
            if plan.stock_delta > 0:
                _apply_stock(doc, -plan.stock_delta)
            continue
        if plan.stock_delta < 0:
            _apply_stock(doc, plan.stock_delta)
        return to_out(after)
    raise Conflict("the order changed while saving; try again", code="concurrent_update")


# Bulk updates move statuses only forward (contract, "Order rules"): each status's rank
# on its way. `cancelled` has no rank: plan_change allows it from pending/purchased only.
# A single PATCH may move back and does not use this.
FORWARD_RANK: dict[str, dict[str, int]] = {
    "payment_status": {"unpaid": 0, "remitted": 1, "refunded": 2},
    "fulfillment_status": {"pending": 0, "purchased": 1, "shipped": 2, "delivered": 3},
}


def moves_backward(field: str, current: str, to: str) -> bool:
    """Would setting `field` from `current` to `to` go back? (Unranked statuses: no.)"""
    rank = FORWARD_RANK[field]
    return current in rank and to in rank and rank[to] < rank[current]


def plan_bulk_change(doc: dict, changes: dict[str, Any], tz: str, now: dt.datetime) -> Plan:
    """`plan_change` for one order of a bulk update, which never moves a status back."""
    for field in FORWARD_RANK.keys() & changes.keys():
        if moves_backward(field, doc[field], changes[field]):
            raise Conflict(
                f"a bulk update does not move {field} back from {doc[field]} to {changes[field]}",
                code="invalid_transition",
            )
    return plan_change(doc, changes, tz, now)


def _changes_nothing(doc: dict, plan: Plan) -> bool:
    return not plan.history and all(doc.get(name) == value for name, value in plan.set.items())


def bulk_update(principal: Principal, data: BulkIn) -> dict:
    """One read, then one `update_many` per group of orders planned alike.

    Orders in the same (payment, fulfillment) state get the same change, so each group is
    a single conditional update whose filter repeats the state it was planned from: an
    order changed by someone else meanwhile does not match and is reported failed.
    Every history entry this call pushes carries the call's own marker (`op`), so when a
    group matched fewer orders than it holds, one read of that marker tells exactly which
    orders THIS call changed (a version one higher could be anyone's write). Only those
    are counted in `updated` and give back stock. Orders already as asked are
    `unchanged` and not written.
    """
    seller_id = object_id(principal.seller_id)
    changes = data.set.model_dump(exclude_unset=True)
    failed: list[dict[str, str]] = []
    wanted = []
    for raw in dict.fromkeys(data.ids):  # de-duplicated, order kept
        try:
            wanted.append(object_id(raw))
        except NotFound:
            failed.append({"id": raw, "error": "not_found"})
    db = get_db()
    docs = {d["_id"]: d for d in db.orders.find({"_id": {"$in": wanted}, "seller_id": seller_id})}
    now = clock.now()
    op = ObjectId()
    unchanged = 0
    # group → the update shared by the group, and each order with its own plan (the stock
    # to return depends on each quantity). The group is the state the plan was made from;
    # a plan that pushes no history (carrier only) does not depend on state: group None.
    groups: dict[tuple[str, str, bool] | None, tuple[Plan, list[tuple[dict, Plan]]]] = {}
    for oid in wanted:
        doc = docs.get(oid)
        if doc is None:
            failed.append({"id": str(oid), "error": "not_found"})
            continue
        try:
            plan = plan_bulk_change(doc, changes, principal.timezone, now)
        except (Conflict, ValidationFailed) as exc:
            failed.append({"id": str(oid), "error": exc.code})
            continue
        if _changes_nothing(doc, plan):
            unchanged += 1
            continue
        for entry in plan.history:
            entry["op"] = op
        state = (doc["payment_status"], doc["fulfillment_status"], bool(doc.get("shipped_date")))
        groups.setdefault(state if plan.history else None, (plan, []))[1].append((doc, plan))
    applied: list[tuple[dict, Plan]] = []
    # FerretDB: the same per-order locks as PATCH, so a bulk update and a single edit of
    # one order cannot overwrite each other there (a no-op on MongoDB).
    with exclusive(*(f"orders:{d['_id']}" for _, group in groups.values() for d, _ in group)):
        for state, (plan, group) in groups.items():
            ids = [d["_id"] for d, _ in group]
            query: dict[str, Any] = {"_id": {"$in": ids}, "seller_id": seller_id}
            if state is not None:
                query.update(payment_status=state[0], fulfillment_status=state[1])
            result = db.orders.update_many(query, _update_for(plan, now))
            if result.matched_count == len(ids):
                applied += group
                continue
            # Some orders changed after the read: ours are those with our marker. (Group
            # None matches any order that still exists, and orders are never deleted.)
            if state is None:
                reached_by, error = {"_id": {"$in": ids}, "seller_id": seller_id}, "not_found"
            else:
                reached_by, error = {"_id": {"$in": ids}, "history.op": op}, "concurrent_update"
            reached = {d["_id"] for d in db.orders.find(reached_by, {"_id": 1})}
            for d, own_plan in group:
                if d["_id"] in reached:
                    applied.append((d, own_plan))
                else:
                    failed.append({"id": str(d["_id"]), "error": error})
    _return_stock_bulk(seller_id, applied)
    return {"updated": len(applied), "unchanged": unchanged, "failed": failed}


def _return_stock_bulk(seller_id, applied: list[tuple[dict, Plan]]) -> None:
    """Cancelled orders give their stock back: one update per item, summed."""
    per_item: dict[Any, int] = {}
    for doc, plan in applied:
        if plan.stock_delta < 0 and doc.get("item_id") is not None:
            per_item[doc["item_id"]] = per_item.get(doc["item_id"], 0) - plan.stock_delta
    for item_id, quantity in per_item.items():
        items.return_stock(seller_id, item_id, quantity)
