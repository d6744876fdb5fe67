"""Orders: creation with atomic stock take, status changes with history, bulk updates.

FerretDB (like a sharded Atlas cluster without transactions) changes one document
atomically, so every write here is a single-document conditional update, and where two
documents must change (stock and order) the second failing undoes the first.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bson import ObjectId

from chalicelib.buyers import customers
from chalicelib.catalog import batches, items
from chalicelib.money import payments
from chalicelib.orderbook import repository
from chalicelib.platform import actors, clock, currencies, idempotency, mongo, store
from chalicelib.platform.db import get_db, own
from chalicelib.platform.errors import Conflict, NotFound, ValidationFailed
from chalicelib.platform.ids import object_id
from chalicelib.platform.listing import Sort, search_filter, sorted_page
from chalicelib.platform.money import from_cents
from chalicelib.platform.principal import Principal
from chalicelib.rules import allocation, order_rules
from chalicelib.rules.order_rules import NEW_ORDER_STATUS, TEXT_FIELDS, OrderChange, plan_change
from chalicelib.sales.schemas import (
    BulkIn,
    BulkMatchIn,
    OrderFilter,
    OrderIn,
    OrderOut,
    OrderPatch,
    OrderQuery,
)

FIRST_ORDER_NO = 1001
MONEY_FIELDS = ("unit_price", "shipping_fee", "total_amount")


def to_out(doc: dict, who: dict[str, str] | None = None) -> dict:
    """The order as the API shows it: the fields of models.OrderOut. `balance` is what
    is still owed: nothing on a cancelled or refunded order. `who`: actor ids → who they
    are (actors.names), for each history entry's `by_name`; a list leaves them out."""
    money = {
        "paid_amount": allocation.paid_of(doc),
        "balance": allocation.balance_of(doc),
        "cost": currencies.cost_out(doc.get("cost"), doc.get("cost_currency")),
        "profit": profit_of(doc),
        "source": doc.get("source") or "seller",
        "credit_held": bool(doc.get("credit_held")),
    }
    return OrderOut.from_doc({**doc, **money, "history": history_out(doc, who or {})})


def one_out(doc: dict) -> dict:
    """One order's answer, its history naming who did each change: one read of the shop's
    members at most (none when only the owner and the server's sources wrote it)."""
    return to_out(doc, actors.names(doc["seller_id"], actor_ids(doc)))


def actor_ids(doc: dict) -> list[str]:
    """The actor ids an order's history names: `by`, or `actor` on an entry a source
    (its parcel) wrote for a person."""
    return [h.get("actor") or h["by"] for h in doc.get("history", []) if h.get("actor") or h.get("by")]


def profit_of(doc: dict) -> int | None:
    """What the order earns in the shop currency, in cents; None without a known cost,
    and on a cancelled or refunded order (no sale: the profit report leaves them out too)."""
    cost = doc.get("cost_amount")
    if (
        cost is None
        or doc.get("fulfillment_status") == "cancelled"
        or doc.get("payment_status") == "refunded"
    ):
        return None
    return doc["total_amount"] - doc["shipping_fee"] - cost


def history_out(doc: dict, who: dict[str, str] | None = None) -> list[dict]:
    """The history as the API shows it: money as the order's money fields (a cost in its
    own currency), ids as text. Entries written by the one-command status update carry
    no `from` (an update cannot copy a field's old value into a pushed entry); it is the
    previous entry's `to` for that field, or the order's initial status, since every
    change appends an entry. A `buyer` entry (written before entries named the buyer's
    id) is a `customer_id` entry that knows the names only."""
    last = {**NEW_ORDER_STATUS, **doc.get("initial", {})}
    out = []
    for h in doc.get("history", []):
        before = h["from"] if "from" in h else last.get(h["field"])
        last[h["field"]] = h["to"]
        out.append(_entry_out(h, before, who or {}))
    return out


def _entry_out(h: dict, before: Any, who: dict[str, str]) -> dict:
    field, to, extra = h["field"], h["to"], {}
    if field == "buyer":
        field, before, to = "customer_id", None, None
        extra = {"from_name": h.get("from"), "to_name": h["to"]}
    elif field == "customer_id":
        before, to = _text(before), _text(to)
        extra = {"from_name": h.get("from_name"), "to_name": h.get("to_name")}
    elif field in MONEY_FIELDS:
        before, to = _money(before), _money(to)
    elif field == "cost":
        extra = {"from_currency": h.get("from_currency"), "to_currency": h.get("to_currency")}
        before = currencies.cost_out(before, extra["from_currency"])
        to = currencies.cost_out(to, extra["to_currency"])
    name = who.get(h.get("actor") or h.get("by"))
    extra = {**extra, "by_name": name} if name else extra
    return order_rules.history_entry(field, to, clock.iso(h["at"]), before, by=h.get("by"), extra=extra)


def _money(cents: int | None) -> int | float | None:
    return None if cents is None else from_cents(cents)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def reserve_order_numbers(seller_id, count: int = 1) -> int:
    """Take `count` consecutive order numbers from the seller's counter; returns the last.
    Numbers are never given back, so a failed creation leaves a gap, never a duplicate."""
    counter = store.find_one_and_update(
        get_db().counters,
        {"_id": seller_id},
        {"$inc": {"seq": count}},
        lock=store.order_counter_key(seller_id),
        upsert=True,
        return_document=mongo.ReturnDocument.AFTER,
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
    cost: dict | None = None,
    variant: dict | None = None,
) -> dict:
    """The one shape of a stored order, for POST /orders and the CSV import alike.
    `created_at`, `remitted_at` and `shipped_date` may come from an imported file;
    `cost`: the cost fields from batches.cost_fields (none: no cost); `variant`: the
    item's variant (items.variant_of), whose id and label the order keeps."""
    created = created_at or now
    dates = order_rules.new_order_dates(
        payment_status, fulfillment_status, now, tz, remitted_at, shipped_date
    )
    return {
        "seller_id": seller_id,
        "order_no": order_no,
        **buyer_fields(customer),
        "item_id": item["_id"] if item else None,
        "item_name": item["item_name"] if item else data.item_name,
        # The shopping list groups by item_id and variant_id; the label is a copy.
        "variant_id": variant["id"] if variant else None,
        "variant_label": variant["label"] if variant else None,
        "quantity": data.quantity,
        "unit_price": unit_price,
        "shipping_fee": data.shipping_fee,
        "total_amount": total,
        "batch": data.batch or None,
        "source": "seller",  # the import and order forms say "import" / "form"
        **(cost or batches.cost_fields(None, None, data.quantity, batches.NO_BATCH, "")),
        "note": data.note or None,
        "carrier": None,
        "tracking_number": None,
        "payment_status": payment_status,
        "remitted_at": dates["remitted_at"],
        "fulfillment_status": fulfillment_status,
        "shipped_date": dates["shipped_date"],
        "history": [],
        "initial": {"payment_status": payment_status, "fulfillment_status": fulfillment_status},
        # The month in the seller's zone, for the monthly report (FerretDB has no date
        # operators in aggregation; a stored key also makes the report cheaper).
        "month": clock.local_date(created, tz).strftime("%Y-%m"),
        "version": 0,
        "created_at": created,
        "updated_at": now,
    }


def create(principal: Principal, data: OrderIn, idempotency_key: str | None = None) -> tuple[dict, bool]:
    """Returns (order, created). A repeated Idempotency-Key returns the first order."""
    seller_id = object_id(principal.seller_id, "seller")
    order_id = ObjectId()  # chosen first: a key's claim names the order it will create
    # The order's id comes from this seller's claim, so `{_id}` alone finds it.
    claim = idempotency.claim_id(seller_id, idempotency_key)
    doc, created = idempotency.once(
        claim,
        order_id,
        lambda oid: get_db().orders.find_one({"_id": oid}),
        lambda: _create(principal, data, seller_id, order_id, claim),
    )
    return (doc if created else one_out(doc)), created


def _create(
    principal: Principal, data: OrderIn, seller_id: ObjectId, order_id: ObjectId, claim: str | None = None
) -> dict:
    """`claim`: the Idempotency-Key's claim id, if any (a `buyer` created for it is found
    again by a retry after a failure)."""
    db = get_db()
    status = NEW_ORDER_STATUS
    item = None
    if data.item_id is not None:
        item = items.find_for_order(seller_id, item_id=object_id(data.item_id, "item"))
        if item is None:
            raise NotFound("item not found")
    else:
        item = items.find_for_order(seller_id, item_name=data.item_name)
    variant = items.variant_of(item, data.variant_id)
    unit_price = data.unit_price if data.unit_price is not None else item and items.price_of(item, variant)
    if unit_price is None:
        raise ValidationFailed(
            "unit_price is required for an item that is not in your item list",
            details=[{"field": "unit_price", "code": "price_required", "message": "required"}],
        )
    total = order_rules.total_amount(data.quantity, unit_price, data.shipping_fee)
    cost = _new_order_cost(principal, seller_id, data, item, variant)

    # Validation is done: from here on, every write that fails is undone.
    units = order_rules.units_held(status["fulfillment_status"], data.quantity) if item is not None else 0
    vid = variant["id"] if variant else None
    if units and not items.take_stock(item, units, vid, by=principal.actor_id, order_id=order_id):
        raise _short(item, units, variant=variant)
    try:
        customer = customers.for_order(
            seller_id,
            customer_id=data.customer_id,
            email=data.buyer_email,
            name=data.buyer_name,
            buyer=data.buyer,
            made_for=claim,
        )
        doc = {"_id": order_id}
        doc |= order_document(
            seller_id=seller_id,
            order_no=reserve_order_numbers(seller_id),
            customer=customer,
            item=item,
            data=data,
            unit_price=unit_price,
            total=total,
            payment_status=status["payment_status"],
            fulfillment_status=status["fulfillment_status"],
            tz=principal.timezone,
            now=clock.now(),
            cost=cost,
            variant=variant,
        )
        repository.insert(doc)
    except BaseException as exc:
        # An insert whose answer was lost may have landed: then the order holds the units.
        if units and not _landed({"_id": order_id}, exc):
            items.return_stock(
                seller_id, item["_id"], units, vid, by=principal.actor_id, order_id=order_id, reason="order"
            )
        raise
    doc = batches.settle(seller_id, doc, principal.currency)
    if customer.get("credit", 0) > 0 and payments.use_credit(seller_id, customer["_id"]):
        doc = db.orders.find_one({"_id": order_id})
    return one_out(doc)


def _new_order_cost(
    principal: Principal, seller_id, data: OrderIn, item: dict | None, variant: dict | None = None
) -> dict:
    """The new order's cost fields: the given cost, else the variant's, else the item's. A
    batch is read (one command) only when the order names one: a closed batch takes no
    new orders."""
    if data.cost is not None or data.cost_currency is not None:
        cost, currency = batches.parse_cost(data.cost, data.cost_currency, principal.currency)
    elif item is not None:
        cost, currency = items.cost_of(item, variant)
    else:
        cost, currency = None, None
    batch = batches.read(seller_id, data.batch or None)
    batches.check_open(batch)
    return batches.cost_fields(cost, currency, data.quantity, batch, principal.currency)


def _get_doc(seller_id, order_id: str) -> dict:
    return own("orders", seller_id, order_id, "order")


def get(principal: Principal, order_id: str) -> dict:
    return one_out(_get_doc(object_id(principal.seller_id), order_id))


# The stored field each ?sort= names; order_no is unique per seller, so it needs no
# tie-breaker. created_at is a datetime in the cursor.
UNIQUE_SORT_KEYS = ("order_no",)
DATETIME_SORT_KEYS = ("created_at",)


def search(principal: Principal, params: OrderQuery) -> dict:
    """A page of the seller's orders in `params.sort`'s order (default newest first),
    filtered by models.OrderQuery; the first page also carries `total_count`.

    Atlas indexes (db.indexes()): the sort keys each have a (seller_id, key, _id) index
    (order_no: the unique one), so an unfiltered page reads `limit + 1` index entries;
    an equality filter narrows the walk of the sort index or uses its own index."""
    query = matching(object_id(principal.seller_id), params)
    sort = Sort.parse(params.sort, UNIQUE_SORT_KEYS)
    return sorted_page(
        get_db().orders,
        query,
        params.limit,
        params.cursor,
        to_out,
        sort,
        datetime_keys=DATETIME_SORT_KEYS,
        count=True,
    )


def matching(seller_id, params: OrderQuery | OrderFilter) -> dict[str, Any]:
    """The query of the seller's orders that `params` filters to: the list's and the bulk
    change's (`bulk_update_matching`), so both reach the same orders."""
    query: dict[str, Any] = {"seller_id": seller_id}
    if params.customer_id:
        query["customer_id"] = object_id(params.customer_id)
    if params.form_id:
        query["form_id"] = object_id(params.form_id)
    for name in ("batch", "payment_status", "fulfillment_status"):
        if value := getattr(params, name):
            query[name] = value
    created: dict[str, dt.datetime] = {}
    if params.from_:
        created["$gte"] = params.from_
    if params.to:
        created["$lte"] = params.to
    if created:
        query["created_at"] = created
    clauses = []
    if params.batch_prefix:
        # A part of the name, anywhere, any case; the text is escaped, never a regex.
        part = {"$regex": re.escape(params.batch_prefix), "$options": "i"}
        if "batch" in query:
            clauses.append({"batch": part})
        else:
            query["batch"] = part
    q = (params.q or "").strip()
    if q:
        search = search_filter(q, ("buyer_name", "buyer_email", "item_name", "tracking_number", "batch"))
        if q.isdigit() and len(q) < 12:
            search["$or"].append({"order_no": int(q)})
        query.update(search)
    if clauses:
        query = {"$and": [query, *clauses]}
    return query


# --- changes -------------------------------------------------------------------------


def _take_stock(doc: dict, units: int, by: str | None = None) -> None:
    if units <= 0 or doc.get("item_id") is None:
        return
    item = items.find_for_order(doc["seller_id"], item_id=doc["item_id"])
    vid = doc.get("variant_id")
    if item is not None and not items.take_stock(item, units, vid, by=by, order_id=doc["_id"]):
        variant = next((v for v in item.get("variants") or [] if v["id"] == vid), None)
        raise _short(item, units, change=True, variant=variant)


def _short(item: dict, units: int, change: bool = False, variant: dict | None = None) -> Conflict:
    """409 insufficient_stock naming the item (and variant), what is asked and what was
    left. For a change of an order (`change`), `needed` is the extra units the change
    takes, not the order's quantity, and the detail says so (`stock_short_for_change`)."""
    left = items.stock_left(item, variant["id"] if variant else None)
    said = (
        f"only {left} more in stock; this change needs {units} more"
        if change
        else f"{units} asked, {left} left"
    )
    return Conflict(
        f"not enough stock for {item['item_name']}: {said}",
        code="insufficient_stock",
        details=[
            {
                "field": "quantity",
                "code": "stock_short_for_change" if change else "insufficient_stock",
                "message": said,
                "item_name": item["item_name"],
                **({"variant_label": variant["label"]} if variant else {}),
                "needed": units,
                "in_stock": left,
            }
        ],
    )


def _give_back_stock(
    seller_id, returns: list[tuple[dict, int]], by: str | None = None, reason: str = "cancel"
) -> None:
    """The one way stock comes back from orders (a cancel, a lower quantity, a take
    undone: `reason` "order"): (order, units) pairs, one update (and movement) per item
    and variant, summed; the movement names the order when there is one."""
    per_stock: dict[tuple[Any, Any], list] = {}
    for doc, units in returns:
        if units > 0 and doc.get("item_id") is not None:
            group = per_stock.setdefault((doc["item_id"], doc.get("variant_id")), [0, []])
            group[0] += units
            group[1].append(doc["_id"])
    for (item_id, variant_id), (units, order_ids) in per_stock.items():
        order_id = order_ids[0] if len(order_ids) == 1 else None
        items.return_stock(seller_id, item_id, units, variant_id, by=by, order_id=order_id, reason=reason)


FAST_FIELDS = {"payment_status", "fulfillment_status", *TEXT_FIELDS}


def _fast_update(seller_id, oid, changes: dict[str, Any], tz: str, by: str) -> dict | None:
    """The everyday toggles (已匯款 remitted, 已出貨 shipped, carrier, tracking number) in
    ONE conditional update. The filter states what must be true for the change to be
    valid and not a no-op (order_rules.one_command_move); when it does not match, None
    sends the caller to the read-then-write path, which explains why (404, 409, nothing
    to change)."""
    now = clock.now()
    query: dict[str, Any] = {"seller_id": seller_id}
    sets: dict[str, Any] = {name: changes[name] or None for name in TEXT_FIELDS if name in changes}
    history = []
    if "payment_status" in changes:
        to_pay = changes["payment_status"]
        query["payment_status"] = {"$ne": to_pay}  # a single PATCH may move payment anywhere
        sets.update(payment_status=to_pay, remitted_at=order_rules.remitted_at_after(to_pay, now))
        history.append(order_rules.history_entry("payment_status", to_pay, now, by=by))
    move = None
    if "fulfillment_status" in changes:
        move = order_rules.one_command_move(changes["fulfillment_status"])
        query["fulfillment_status"] = {"$in": list(move.from_states)}
        if move.to != "delivered":
            query["parcel_id"] = None  # in a parcel: the read path says why not
        if move.needs_date:
            query["shipped_date"] = {"$ne": None}
        sets.update(move.sets(now, tz))
        history.append(order_rules.history_entry("fulfillment_status", move.to, now, by=by))
    after = repository.update_fields(oid, query, sets, history, now)
    if after is not None and move is not None:
        _give_back_stock(seller_id, [(after, -move.units_taken(after["quantity"]))], by)
    return after


def update(principal: Principal, order_id: str, patch: OrderPatch, attempts: int = 3) -> dict:
    """PATCH /orders/{id}. The 已匯款 switch (`remitted`/`unpaid`) moves money through
    payments.switch, after the other changes; money beyond what the order may now hold
    (cancelled, or a lower total) goes back to the buyer's credit, and a total raised (or
    the order moved to another buyer) takes the buyer's credit."""
    seller_id = object_id(principal.seller_id)
    oid = object_id(order_id, "order")
    changes = patch.model_dump(exclude_unset=True)
    to_pay = (
        changes.pop("payment_status") if changes.get("payment_status") in ("remitted", "unpaid") else None
    )
    may_owe_more = bool(OWED_INPUTS & changes.keys())
    after = _update_doc(principal, seller_id, oid, changes, attempts) if changes else None
    if after is not None and allocation.excess_of(after) > 0:
        payments.release_excess(seller_id, oid)
        after = None
    elif after is not None and may_owe_more and _use_credit(seller_id, after):
        after = None
    if to_pay is not None:
        payments.switch(principal, oid, to_pay)
        after = None
    return one_out(after if after is not None else _get_doc(seller_id, order_id))


# What a PATCH may raise the money owed by: the total, or the buyer (another buyer's credit).
OWED_INPUTS = {"quantity", "unit_price", "shipping_fee", "customer_id", "buyer_email", "variant_id"}


def _use_credit(seller_id, order: dict) -> bool:
    """The buyer's credit pays what the order now owes (one read of the buyer when the
    order owes something; the money moves only when they have credit)."""
    if allocation.balance_of(order) <= 0:
        return False
    buyer = get_db().customers.find_one({"_id": order["customer_id"], "seller_id": seller_id}, {"credit": 1})
    return bool(buyer and buyer.get("credit", 0) > 0 and payments.use_credit(seller_id, order["customer_id"]))


def _update_doc(principal: Principal, seller_id, oid, changes: dict[str, Any], attempts: int = 3) -> dict:
    """Status and text changes: one conditional update (`_fast_update`). Anything else,
    or a fast update that did not apply: read, plan, then write only if nobody changed
    the order meanwhile (version check); a lost race re-reads and re-plans."""
    buyer = _new_buyer(seller_id, changes)
    if changes.keys() <= FAST_FIELDS - {"batch"} and buyer is None:
        after = _fast_update(seller_id, oid, changes, principal.timezone, principal.actor_id)
        if after is not None:
            return after
    for _ in range(attempts):
        doc = _get_doc(seller_id, str(oid))
        now = clock.now()
        variant, price = (
            _variant_switch(doc, changes["variant_id"]) if "variant_id" in changes else (None, None)
        )
        planned = changes
        if price is not None and "unit_price" not in changes:
            planned = {**changes, "unit_price": price}  # the new variant's price: history says so
        change = plan_change(doc, planned, principal.timezone, now, by=principal.actor_id)
        if variant is not None:
            change.history.insert(
                0,
                order_rules.history_entry(
                    "variant", variant["label"], now, doc.get("variant_label"), by=principal.actor_id
                ),
            )
        if buyer is not None and buyer["_id"] != doc["customer_id"]:
            if allocation.paid_of(doc) > 0:
                raise Conflict(
                    "this order has payments of its buyer; void them first", code="order_has_payments"
                )
            if doc.get("parcel_id"):
                raise Conflict("this order is in a parcel of its buyer", code="order_in_parcel")
            change.set.update(buyer_fields(buyer))
            was = {"id": doc["customer_id"], "name": doc["buyer_name"]}
            now_buyer = {"id": buyer["_id"], "name": buyer["name"]}
            change.history.insert(0, order_rules.buyer_entry(was, now_buyer, now, principal.actor_id))
        if COST_INPUTS & changes.keys():
            change.set.update(_cost_after(principal, doc, changes, change))
            cost = order_rules.cost_entry(doc, change.set, now, principal.actor_id)
            if cost is not None:
                change.history.append(cost)
        sets = dict(change.set)
        # The stock the change takes (from `taking`: the order, or the order as of its new
        # variant) and what it gives back to the order's stock once written.
        taking, take, give = doc, change.units_taken, -change.units_taken
        if variant is not None:
            held = order_rules.units_held(doc["fulfillment_status"], doc["quantity"])
            taking, take, give = {**doc, "variant_id": variant["id"]}, held + change.units_taken, held
            sets.update(variant_id=variant["id"], variant_label=variant["label"])
        _take_stock(taking, take, principal.actor_id)
        if take > 0:
            # Marks this write, so a failure whose outcome is unknown (the answer lost
            # in an outage) can tell whether the order took the units or not.
            sets["write_id"] = write_id = ObjectId()
        try:
            after = repository.update_fields(
                doc["_id"],
                {"seller_id": seller_id, "version": doc.get("version", 0)},
                sets,
                change.history,
                now,
            )
        except BaseException as exc:
            if take > 0 and not _landed({"_id": doc["_id"], "write_id": write_id}, exc):
                _give_back_stock(seller_id, [(taking, take)], principal.actor_id, "order")
            raise
        if after is None:  # lost a race: undo what we took and try again
            _give_back_stock(seller_id, [(taking, take)], principal.actor_id, "order")
            continue
        _give_back_stock(seller_id, [(doc, give)], principal.actor_id)
        return batches.settle(seller_id, after, principal.currency)
    raise Conflict("the order changed while saving; try again", code="concurrent_update")


def _variant_switch(doc: dict, variant_id: str) -> tuple[dict | None, int | None]:
    """The variant a PATCH moves the order to (None: the one it has) and the unit price
    it takes: the new variant's when the order's was the old variant's price, else None
    (a price the seller typed stays). 400 unknown_variant for an order without an item or
    an id its item lacks; a cancelled order is final."""
    item = items.find_for_order(doc["seller_id"], item_id=doc["item_id"]) if doc.get("item_id") else None
    variant = items.variant_of(item or {"variants": []}, variant_id)
    if variant is None or variant["id"] == doc.get("variant_id"):
        return None, None
    if doc["fulfillment_status"] == "cancelled":
        raise Conflict("this order is cancelled", code="order_cancelled")
    old = next((v for v in item.get("variants") or [] if v["id"] == doc.get("variant_id")), None)
    if doc["unit_price"] != items.price_of(item, old):
        return variant, None
    return variant, items.price_of(item, variant)


def _landed(written: dict, exc: BaseException) -> bool:
    """Whether a write that raised `exc` reached the order (`written`: the filter that
    finds the order as written): never for anything but a database error (409 busy:
    the lock was not taken); else one read; and no when that read fails too (the server
    is out of reach, so the write most likely never arrived: giving back is the better
    guess than keeping)."""
    if not isinstance(exc, mongo.PyMongoError):
        return False
    try:
        return get_db().orders.find_one(written, {"_id": 1}) is not None
    except mongo.PyMongoError:
        return False


# What an order's cost_amount is made of: a change of any of these converts it again.
COST_INPUTS = {"cost", "cost_currency", "quantity", "batch"}


def _cost_after(principal: Principal, doc: dict, changes: dict[str, Any], change: OrderChange) -> dict:
    """The cost fields after a PATCH. Moving the order into another batch is refused when
    that batch is closed; its batch is read only when the order names one."""
    cost, currency = (
        batches.cost_change(doc, changes, principal.currency)
        if {"cost", "cost_currency"} & changes.keys()
        else (doc.get("cost"), doc.get("cost_currency"))
    )
    name = change.set.get("batch", doc.get("batch")) if "batch" in changes else doc.get("batch")
    moved = name != doc.get("batch")
    if moved or batches.depends_on_rate(currency, name, principal.currency):
        batch = batches.read(doc["seller_id"], name)
    else:
        batch = batches.Batch(name)  # no rate needed: nothing to read
    if moved:
        batches.check_open(batch)
    quantity = change.set.get("quantity", doc["quantity"])
    return batches.cost_fields(cost, currency, quantity, batch, principal.currency)


def _new_buyer(seller_id, changes: dict[str, Any]) -> dict | None:
    """The customer a PATCH moves the order to (taken out of `changes`), or None."""
    if "customer_id" in changes:
        customer = get_db().customers.find_one(
            {"_id": object_id(changes.pop("customer_id"), "customer"), "seller_id": seller_id}
        )
        if customer is None:
            raise NotFound("customer not found")
        return customer
    if "buyer_email" in changes:
        return customers.find_or_create_by_email(seller_id, changes.pop("buyer_email"), None)
    return None


def buyer_fields(customer: dict) -> dict[str, Any]:
    """The customer's fields an order carries (copied, so lists need no join)."""
    return {"customer_id": customer["_id"], "buyer_email": customer["email"], "buyer_name": customer["name"]}


def customer_changed(event: customers.CustomerChanged) -> None:
    """Each order carries its buyer's name and email (the list filters and sorts on them)."""

    customers.refresh(event, repository.rename_buyer)


def customers_merged(event: customers.CustomersMerged) -> None:
    """The other buyer's orders are the target's; each one's history says from whom, as
    a change of the order's buyer does."""
    target = get_db().customers.find_one({"_id": event.into_id, "seller_id": event.seller_id})
    if target is not None:
        now = clock.now()
        entry = order_rules.buyer_entry(
            {"id": event.from_id, "name": event.from_name},
            {"id": target["_id"], "name": target["name"]},
            now,
            order_rules.BY_MERGE,
        )
        repository.move_buyer(event.seller_id, event.from_id, buyer_fields(target), [entry], now)


def _changes_nothing(doc: dict, change: OrderChange) -> bool:
    return not change.history and all(doc.get(name) == value for name, value in change.set.items())


def bulk_update(principal: Principal, data: BulkIn) -> dict:
    """`POST /orders/bulk`: the listed orders (at most 500), as `_bulk` changes them."""
    failed: list[dict[str, str]] = []
    wanted = []
    for raw in dict.fromkeys(data.ids):  # de-duplicated, order kept
        try:
            wanted.append(object_id(raw))
        except NotFound:
            failed.append({"id": raw, "error": "not_found"})
    return _bulk(principal, wanted, data.set.model_dump(exclude_unset=True), failed)


# Orders per `_bulk` call of a change to every matching order: what `POST /orders/bulk`
# takes at once, so each part holds as many order locks as a bulk call does.
MATCHING_CHUNK = 500


def bulk_update_matching(principal: Principal, data: BulkMatchIn) -> dict:
    """`POST /orders/bulk/matching`: every order of the seller that `data.where` matches
    (the filters of `GET /orders`), in parts of 500, each as `_bulk` changes a selection.

    The orders are those matching when the call begins, read once (the filter's own read:
    on FerretDB the selection's read by id costs a lookup an order, 8.7 s for 2,000); each
    part's writes repeat `where` and the state it was planned from, so an order changed
    meanwhile (or edited out of the filter) is not written and is reported
    `concurrent_update`."""
    seller_id = object_id(principal.seller_id)
    where = matching(seller_id, data.where)
    docs = list(get_db().orders.find(where))
    changes = data.set.model_dump(exclude_unset=True)
    out: dict[str, Any] = {"matched": len(docs), "updated": 0, "unchanged": 0, "failed": []}
    for part_docs in _parts_by_buyer(docs, MATCHING_CHUNK):
        part = _bulk(principal, [d["_id"] for d in part_docs], changes, [], where, part_docs)
        out["updated"] += part["updated"]
        out["unchanged"] += part["unchanged"]
        out["failed"] += part["failed"]
    return out


def cancel_at_close(seller_id, order_ids: list, timezone: str, currency: str) -> dict:
    """A form's close cancels the orders of an item below its minimum (sales/closing.py):
    the bulk path, so each order is cancelled by one conditional write (a second run
    finds it cancelled: `unchanged`), its stock comes back once and its money becomes the
    buyer's credit; the history says the order form did it."""
    who = Principal(seller_id=str(seller_id), timezone=timezone, currency=currency)
    return _bulk(who, list(order_ids), {"fulfillment_status": "cancelled"}, [], by=order_rules.BY_FORM)


def move_for_shopping(principal: Principal, docs: list[dict], to: str) -> tuple[list, list[dict]]:
    """The shopping trip's moves (sales/shopping.py): orders as the trip read them become
    `purchased` or `cancelled` on the bulk path (history; on a cancel, stock back and the
    money on them as the buyer's credit). Planned from `docs`, so an order changed since
    (cancelled by its buyer, another quantity) is not written and is a failure. Returns
    (the ids written, the failures)."""
    if not docs:
        return [], []
    failed: list[dict[str, str]] = []
    ids = [d["_id"] for d in docs]
    _bulk(principal, ids, {"fulfillment_status": to}, failed, read=docs, by=order_rules.BY_SHOPPING)
    lost = {f["id"] for f in failed}
    return [i for i in ids if str(i) not in lost], failed


def _parts_by_buyer(docs: list[dict], size: int) -> list[list[dict]]:
    """Parts of at most `size` orders, each buyer's orders in one part where they fit:
    已匯款 records a payment per buyer and part, so one a buyer, as for a selection (a
    buyer with more than `size` orders gets one a part)."""
    parts: list[list[dict]] = []
    part: list[dict] = []
    by_buyer: dict[Any, list[dict]] = {}
    for d in docs:
        by_buyer.setdefault(d["customer_id"], []).append(d)
    for group in by_buyer.values():
        if part and len(part) + len(group) > size:
            parts.append(part)
            part = []
        for d in group:
            part.append(d)
            if len(part) == size:
                parts.append(part)
                part = []
    if part:
        parts.append(part)
    return parts


def _bulk(
    principal: Principal,
    wanted: list,
    changes: dict[str, Any],
    failed: list[dict[str, str]],
    where: dict | None = None,
    read: list[dict] | None = None,
    by: str = order_rules.BY_BULK,
) -> dict:
    """One read, then one `update_many` per group of orders planned alike.

    Orders in the same (payment, fulfillment, shipped date?, quantity) state get the same
    change, so each group is a single conditional update whose filter repeats the state
    it was planned from (the quantity: what a cancel gives back): an
    order changed by someone else meanwhile does not match and is reported failed.
    Every history entry this call pushes carries the call's own marker (`op`), so when a
    group matched fewer orders than it holds, one read of that marker tells exactly which
    orders THIS call changed (a version one higher could be anyone's write). Only those
    are counted in `updated` and give back stock. Orders already as asked are
    `unchanged` and not written. `where` (a change to every matching order): each write
    also repeats it, so an order that stopped matching is not changed; `read`: the orders
    as the caller read them (else read here).
    """
    seller_id = object_id(principal.seller_id)
    changes = dict(changes)
    # 已匯款 in bulk records a payment per buyer (payments.remit_many), after the rest.
    remit = changes.get("payment_status") == "remitted"
    if remit:
        del changes["payment_status"]
    db = get_db()
    if read is None:
        read = store.find_by_ids(db.orders, wanted, {"seller_id": seller_id})
    docs = {d["_id"]: d for d in read}
    now = clock.now()
    op = ObjectId()
    unchanged = 0
    to_remit: list[dict] = []
    # group → the update shared by the group, and each order with its own change (the
    # stock to return depends on each quantity). The group is the state the change was
    # planned from; one that pushes no history (carrier only) does not depend on state:
    # group None.
    groups: dict[tuple[str, str, bool, int] | None, tuple[OrderChange, list[tuple[dict, OrderChange]]]] = {}
    for oid in wanted:
        doc = docs.get(oid)
        if doc is None:
            failed.append({"id": str(oid), "error": "not_found"})
            continue
        try:
            if remit:
                _check_remit(doc)
            change = plan_change(doc, changes, principal.timezone, now, bulk=True, op=op, by=by)
        except (Conflict, ValidationFailed) as exc:
            failed.append({"id": str(oid), "error": exc.code})
            continue
        if remit and allocation.balance_of(doc) > 0:
            to_remit.append(doc)
        if _changes_nothing(doc, change):
            if not (remit and allocation.balance_of(doc) > 0):
                unchanged += 1
            continue
        # The quantity too: the stock a cancel gives back is what the order held when it
        # was read, so an order whose quantity a PATCH changed meanwhile must not match.
        state = (
            doc["payment_status"],
            doc["fulfillment_status"],
            bool(doc.get("shipped_date")),
            doc["quantity"],
        )
        groups.setdefault(state if change.history else None, (change, []))[1].append((doc, change))
    applied: list[tuple[dict, OrderChange]] = []
    # FerretDB: the same per-order locks as PATCH, so a bulk update and a single edit of
    # one order cannot overwrite each other there (a no-op on MongoDB).
    with repository.bulk_lock(d["_id"] for _, group in groups.values() for d, _ in group):
        for state, (change, group) in groups.items():
            ids = [d["_id"] for d, _ in group]
            query: dict[str, Any] = {"_id": {"$in": ids}, "seller_id": seller_id}
            if state is not None:
                query.update(
                    payment_status=state[0],
                    fulfillment_status=state[1],
                    shipped_date={"$ne": None} if state[2] else None,
                    quantity=state[3],
                )
            if where is not None:
                query = {"$and": [where, query]}
            if repository.update_group(query, change.set, change.history, now) == len(ids):
                applied += group
                continue
            # Some orders changed after the read: ours are those with our marker. (Group
            # None matches any order that still exists, and orders are never deleted.)
            if state is None:
                reached_by, error = {"_id": {"$in": ids}, "seller_id": seller_id}, "not_found"
            else:
                reached_by, error = {"_id": {"$in": ids}, "history.op": op}, "concurrent_update"
            reached = {d["_id"] for d in db.orders.find(reached_by, {"_id": 1})}
            for d, own_change in group:
                if d["_id"] in reached:
                    applied.append((d, own_change))
                else:
                    failed.append({"id": str(d["_id"]), "error": error})
    _give_back_stock(seller_id, [(d, -c.units_taken) for d, c in applied], principal.actor_id)
    changed = {d["_id"] for d, _ in applied}
    for d, c in applied:
        if allocation.paid_of(d) and c.set.get("fulfillment_status") == "cancelled":
            payments.release_excess(seller_id, d["_id"])  # its money becomes credit
    lost = {f["id"] for f in failed}
    per_buyer: dict[Any, list] = {}
    for d in to_remit:
        if str(d["_id"]) not in lost:
            per_buyer.setdefault(d["customer_id"], []).append(d["_id"])
    if per_buyer:
        try:  # one payment per buyer, every buyer in one unit of work
            changed |= payments.remit_many(principal, per_buyer)
        except Conflict:
            # Some buyer's money stayed busy (their locks are taken all or none): each
            # buyer on its own, so only a busy one fails. A buyer paid before the
            # conflict is found paid now and not counted again.
            for customer_id, ids in per_buyer.items():
                try:
                    changed |= payments.remit(principal, customer_id, ids)
                except Conflict as exc:
                    failed += [{"id": str(i), "error": exc.code} for i in ids]
    return {"updated": len(changed), "unchanged": unchanged, "failed": failed}


def _check_remit(doc: dict) -> None:
    """Bulk 已匯款 is forward only, and a cancelled order takes no money."""
    if order_rules.moves_backward("payment_status", doc["payment_status"], "remitted"):
        raise order_rules.backward("payment_status", doc["payment_status"], "remitted")
    if doc["fulfillment_status"] == "cancelled" and doc["payment_status"] != "remitted":
        raise Conflict("this order is cancelled", code="order_cancelled")
