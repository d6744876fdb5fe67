"""The shopping trip (採買): a batch's shopping list, the purchases recorded in the store,
and the shortages resolved when fewer were bought than ordered (docs/api.md "The
shopping trip"). All writes of `purchases` live here.

A line is one item (and variant) of one batch: its document `_id` is
"<seller>:<item>:<variant or ->:<batch>", written by the first purchase. It counts
`bought` (every purchase recorded, less the ones undone) and `free` (bought units not
yet given to an order), and lists the orders its units went to (`covered`). Units are
given like stock is taken: one conditional update (`free >= n`, under the line's lock on
FerretDB) claims them with the orders' ids before those orders move, and units of an
order that did not move (someone changed it meanwhile) are given back. So two purchases
at once both count, and two resolutions (or a resolution and a purchase) never give the
same unit twice.

Orders move on the orders module's bulk path (orders.move_for_shopping), planned from
the state this module read: an order a buyer cancelled or changed meanwhile is not
written (reported `failed`), is never cancelled twice, and its money moves once.

On a tracked stock, a purchase's units beyond what the line still needs go into that
stock (`to_stock`; catalog writes it and its `purchase` movement) and leave the line:
units that go to stock are stock, `free` never counts them (docs/api.md).

`wanted` = units of the line's pending orders + units of the orders its purchases were
given to (still live). An order needs a `variant_id` only when its item has variants:
orders are grouped by (item_id, variant_id or none); ad-hoc orders (no item_id) are not
on the list (the purchase list `GET /reports/items` has them by name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bson import ObjectId

from chalicelib.catalog import batches, items
from chalicelib.orderbook import repository
from chalicelib.platform import bus, clock, currencies, idempotency, mongo, store
from chalicelib.platform.db import get_db, is_duplicate_key
from chalicelib.platform.errors import Conflict, NotFound, ValidationFailed
from chalicelib.platform.ids import object_id
from chalicelib.platform.money import from_cents
from chalicelib.platform.principal import Principal
from chalicelib.rules import allocation, order_rules
from chalicelib.sales import orders
from chalicelib.sales.schemas import PurchaseIn, ShortageIn

LINE, SHORTAGE = "line", "shortage"  # the two kinds of `purchases` documents
ORDER_FIELDS = {
    "item_id": 1,
    "item_name": 1,
    "variant_id": 1,
    "variant_label": 1,
    "quantity": 1,
    "fulfillment_status": 1,
    "order_no": 1,
    "buyer_name": 1,
    "created_at": 1,
}


@dataclass(frozen=True)
class ShortageCancelled(bus.Event):
    """A shortage resolution cancelled these orders: each buyer is told once
    (notifications.shortage_cancelled claims per buyer, so a replay is harmless)."""

    attempts: ClassVar[int] = 2

    resolution_id: ObjectId
    batch: str
    order_ids: tuple
    paid: tuple = ()  # (order id, cents paid on it before the cancel: now credit)


def line_id(seller_id: Any, batch: str, item_id: Any, variant_id: str | None) -> str:
    # The batch last: its name is free text, the rest has a fixed form.
    return f"{seller_id}:{item_id}:{variant_id or '-'}:{batch}"


def _first_ordered(o: dict) -> tuple:
    return (o["created_at"], o["order_no"])


# --- the list ------------------------------------------------------------------------


def shopping_list(principal: Principal, name: str) -> dict:
    """GET /batches/{name}/shopping-list: three reads (the batch's live orders of listed
    items, its lines, their items' first photos), summed here."""
    seller_id = object_id(principal.seller_id)
    found = get_db().orders.find(
        {
            "seller_id": seller_id,
            "batch": name,
            "item_id": {"$ne": None},
            "fulfillment_status": {"$ne": "cancelled"},
        },
        ORDER_FIELDS,
    )
    per_line: dict[tuple, list[dict]] = {}
    for o in found:
        per_line.setdefault((o["item_id"], o.get("variant_id")), []).append(o)
    lines = {
        (d["item_id"], d.get("variant_id")): d
        for d in get_db().purchases.find({"seller_id": seller_id, "batch": name, "kind": LINE})
    }
    keys = per_line.keys() | lines.keys()
    photos = items.first_photo_urls(seller_id, {k[0] for k in keys})
    rows = [_row(key, lines.get(key) or {}, per_line.get(key, []), photos.get(key[0])) for key in keys]
    rows = [r for r in rows if r["wanted"] or r["bought"]]
    rows.sort(key=lambda r: (r["item_name"], r["variant_label"] or "", r["item_id"]))
    totals = {
        "lines": len(rows),
        "wanted": sum(r["wanted"] for r in rows),
        "bought": sum(r["bought"] for r in rows),
        "short": sum(r["short"] for r in rows),
    }
    return {"batch": name, "lines": rows, "totals": totals}


def _row(key: tuple, line: dict, line_orders: list[dict], photo_url: str | None = None) -> dict:
    covered = set(line.get("covered") or ())
    pending = sorted((o for o in line_orders if o["fulfillment_status"] == "pending"), key=_first_ordered)
    given = [o for o in line_orders if o["fulfillment_status"] != "pending" and o["_id"] in covered]
    wanted = sum(o["quantity"] for o in pending) + sum(o["quantity"] for o in given)
    bought = line.get("bought", 0)
    # Units that went to stock are stock: the line's orders no longer count on them.
    to_stock = line.get("to_stock", 0)
    named = (line_orders or [{}])[0]
    return {
        "item_id": str(key[0]),
        "item_name": named.get("item_name") or line.get("item_name") or "",
        "variant_id": key[1],
        "variant_label": named.get("variant_label") or line.get("variant_label"),
        "photo_url": photo_url,
        "wanted": wanted,
        "bought": bought,
        "to_stock": to_stock,
        "short": max(0, wanted - (bought - to_stock)),
        "extra": max(0, bought - to_stock - wanted),
        "order_count": len(pending) + len(given),
        "unit_cost": currencies.cost_out(line.get("unit_cost"), line.get("cost_currency")),
        "cost_currency": line.get("cost_currency"),
        "pending": [
            {
                "order_id": str(o["_id"]),
                "order_no": o["order_no"],
                "buyer_name": o.get("buyer_name") or "",
                "quantity": o["quantity"],
                "created_at": clock.iso(o["created_at"]),
            }
            for o in pending
        ],
        "purchases": [
            {
                "id": str(e["id"]),
                "quantity": e["quantity"],
                "unit_cost": currencies.cost_out(e.get("unit_cost"), e.get("cost_currency")),
                "cost_currency": e.get("cost_currency"),
                "to_stock": e.get("to_stock", 0),
                "at": clock.iso(e["at"]),
            }
            for e in line.get("entries") or ()
        ],
    }


def _line_orders(seller_id: ObjectId, name: str, item_id: ObjectId, variant_id: str | None) -> list[dict]:
    """The line's live orders, whole (the bulk path plans from them)."""
    return list(
        get_db().orders.find(
            {
                "seller_id": seller_id,
                "batch": name,
                "item_id": item_id,
                "variant_id": variant_id,  # None also matches an order without the field
                "fulfillment_status": {"$ne": "cancelled"},
            }
        )
    )


def _line_row(seller_id: ObjectId, name: str, item_id: ObjectId, variant_id: str | None) -> dict:
    lid = line_id(seller_id, name, item_id, variant_id)
    line = get_db().purchases.find_one({"_id": lid}) or {}
    photo = items.first_photo_urls(seller_id, {item_id}).get(item_id)
    return _row((item_id, variant_id), line, _line_orders(seller_id, name, item_id, variant_id), photo)


def _item(seller_id: ObjectId, data: PurchaseIn | ShortageIn) -> tuple[dict, PurchaseIn | ShortageIn]:
    """The line's item, and the request with its variant as the item stores it: an item with
    variants needs one of them (400 variant_required), any other id is a 400 on variant_id."""
    item = items.find_for_order(seller_id, item_id=object_id(data.item_id, "item"))
    if item is None:
        raise NotFound("item not found")
    variant = items.variant_of(item, data.variant_id)
    return item, data.model_copy(update={"variant_id": variant["id"] if variant else None})


# --- purchases -------------------------------------------------------------------------


def record_purchase(principal: Principal, name: str, data: PurchaseIn) -> dict:
    """POST /batches/{name}/purchases: add what was bought to its line; when the line's
    free units then cover every pending order of it, those orders become `purchased`
    together (with the purchase's unit cost as their cost). On a tracked stock, units
    beyond what the line's orders still want go into that stock (`to_stock`), not `free`."""
    seller_id = object_id(principal.seller_id)
    batches.check_open(batches.read(seller_id, name))
    item, data = _item(seller_id, data)
    lid = line_id(seller_id, name, item["_id"], data.variant_id)
    coll = get_db().purchases
    now = clock.now()
    entry: dict[str, Any] = {"id": ObjectId(), "at": now, "quantity": data.quantity, "by": principal.actor_id}
    sets: dict[str, Any] = {"item_name": item["item_name"], "updated_at": now}
    if data.unit_cost is not None:
        before = coll.find_one({"_id": lid}, {"cost_currency": 1}) or {}
        currency = data.cost_currency or before.get("cost_currency") or principal.currency
        cost, currency = batches.parse_cost(data.unit_cost, currency, principal.currency, field="unit_cost")
        entry |= {"unit_cost": cost, "cost_currency": currency}
        sets |= {"unit_cost": cost, "cost_currency": currency}
    _open_line(lid, seller_id, name, item["_id"], data.variant_id, now)
    tracked = items.stock_left(item, data.variant_id) is not None
    line_orders = _line_orders(seller_id, name, item["_id"], data.variant_id) if tracked else []

    def change(line: dict) -> dict:
        # What the line's unclaimed pending orders still need, less the free units: the
        # rest of this purchase is stock (decided against this version of the line).
        covered = set(line.get("covered") or ())
        need = sum(
            o["quantity"]
            for o in line_orders
            if o["fulfillment_status"] == "pending" and o["_id"] not in covered
        )
        free = line.get("free", 0)
        entry["to_stock"] = min(data.quantity, max(0, free + data.quantity - need)) if tracked else 0
        return {
            "$inc": {
                "bought": data.quantity,
                "free": data.quantity - entry["to_stock"],
                "to_stock": entry["to_stock"],
            },
            "$push": {"entries": entry},
            "$set": sets,
        }

    _line_write(lid, change)
    if entry["to_stock"]:
        _to_stock(principal, lid, item["_id"], data.variant_id, name, entry)
    moved = _cover(principal, seller_id, name, item["_id"], data.variant_id)
    return {
        "purchase_id": str(entry["id"]),
        "line": _line_row(seller_id, name, item["_id"], data.variant_id),
        "purchased": [str(i) for i in moved],
    }


def _open_line(
    lid: str, seller_id: ObjectId, name: str, item_id: ObjectId, variant_id: str | None, now
) -> None:
    """The line's document, made by its first purchase (two first purchases at once: one
    makes it, the other finds it)."""
    made = {
        "kind": LINE,
        "seller_id": seller_id,
        "batch": name,
        "item_id": item_id,
        "variant_id": variant_id,
        "created_at": now,
        "bought": 0,
        "free": 0,
        "to_stock": 0,
        "covered": [],
        "entries": [],
        "version": 0,
    }
    for _ in range(3):
        try:
            store.update_one(
                get_db().purchases,
                {"_id": lid},
                {"$setOnInsert": made},
                lock=store.purchase_line_key(lid),
                upsert=True,
            )
            return
        except mongo.OperationFailure as exc:  # two first purchases of a line at once
            if not is_duplicate_key(exc):
                raise
    raise Conflict("the line changed while saving; try again", code="concurrent_update")


def _to_stock(
    principal: Principal, lid: str, item_id: ObjectId, variant_id: str | None, name: str, entry: dict
) -> None:
    """The purchase's extra units into the item's stock (catalog writes it and its
    movement). A stock no longer tracked takes none: they stay on the line as free."""
    if items.receive_purchase(
        object_id(principal.seller_id),
        item_id,
        variant_id,
        entry["to_stock"],
        by=principal.actor_id,
        batch=name,
        purchase_id=entry["id"],
    ):
        return
    units = entry["to_stock"]
    entry["to_stock"] = 0

    def change(line: dict) -> dict:
        kept = [{**e, "to_stock": 0} if e["id"] == entry["id"] else e for e in line.get("entries") or ()]
        return {"$inc": {"free": units, "to_stock": -units}, "$set": {"entries": kept}}

    _line_write(lid, change)


def undo_purchase(principal: Principal, name: str, purchase_id: str) -> dict:
    """DELETE /batches/{name}/purchases/{id}: a purchase recorded by mistake goes while
    its units are not given to orders (409 `purchase_in_use` once they are: the orders
    it bought stay purchased), and while the units it put into stock are still there (409
    `purchase_stock_sold`). Answers the line as it is now."""
    seller_id = object_id(principal.seller_id)
    pid = object_id(purchase_id, "purchase")
    found = get_db().purchases.find_one(
        {"seller_id": seller_id, "batch": name, "kind": LINE, "entries.id": pid}
    )
    if found is None:
        raise NotFound("purchase not found")
    item_id, variant_id = found["item_id"], found.get("variant_id")
    taken: dict = {}

    def change(line: dict) -> dict:
        own = [e for e in line.get("entries") or () if e["id"] == pid]
        if not own:
            raise NotFound("purchase not found")
        quantity, stocked, free = own[0]["quantity"], own[0].get("to_stock", 0), line.get("free", 0)
        if free < quantity - stocked:
            raise Conflict(
                f"{quantity - stocked} bought for the line, only {free} not given to orders yet",
                code="purchase_in_use",
                details=[
                    {
                        "field": "purchase_id",
                        "code": "purchase_in_use",
                        "message": "given to orders",
                        "quantity": quantity - stocked,
                        "free": free,
                    }
                ],
            )
        if stocked:
            _check_stock_left(seller_id, item_id, variant_id, stocked)  # nothing written yet
        taken.update(entry=own[0], at=line["entries"].index(own[0]))
        return {
            "$inc": {"bought": -quantity, "free": -(quantity - stocked), "to_stock": -stocked},
            "$set": {"entries": [e for e in line["entries"] if e["id"] != pid], "updated_at": clock.now()},
        }

    _line_write(found["_id"], change)
    entry = taken["entry"]
    stocked = entry.get("to_stock", 0)
    if stocked and not items.take_back_purchase(
        seller_id, item_id, variant_id, stocked, by=principal.actor_id, batch=name, purchase_id=pid
    ):
        # Sold between the check and the take: the purchase goes back on its line as it was.
        _restore(found["_id"], entry, taken["at"])
        _check_stock_left(seller_id, item_id, variant_id, stocked)
        _stock_sold(stocked, 0)
    return _line_row(seller_id, name, item_id, variant_id)


def _check_stock_left(seller_id: ObjectId, item_id: ObjectId, variant_id: str | None, stocked: int) -> None:
    item = items.find_for_order(seller_id, item_id=item_id)
    left = items.stock_left(item, variant_id) if item else None
    if left is not None and left < stocked:
        _stock_sold(stocked, left)


def _stock_sold(stocked: int, left: int) -> None:
    detail = {
        "field": "purchase_id",
        "code": "purchase_stock_sold",
        "message": "its units in stock were sold",
        "to_stock": stocked,
        "stock": left,
    }
    raise Conflict(
        f"the purchase put {stocked} into stock and they were sold since: undoing it would take the stock below 0",
        code="purchase_stock_sold",
        details=[detail],
    )


def _restore(lid: str, entry: dict, at: int) -> None:
    quantity, stocked = entry["quantity"], entry.get("to_stock", 0)

    def change(line: dict) -> dict:
        entries = list(line.get("entries") or ())
        entries.insert(min(at, len(entries)), entry)
        return {
            "$inc": {"bought": quantity, "free": quantity - stocked, "to_stock": stocked},
            "$set": {"entries": entries},
        }

    _line_write(lid, change)


def _line_write(lid: str, change) -> bool:
    """Read the line, then write `change(line)` only if nobody wrote it meanwhile (its
    `version`; under its lock on FerretDB), again after a lost race. `change` returns
    None for nothing to do (False), or raises. Lists (`entries`, `covered`) are written
    whole: FerretDB 1.24 has no conditional `$pull`."""
    coll = get_db().purchases
    for _ in range(20):
        line = coll.find_one({"_id": lid}) or {"_id": lid, "version": None}
        update = change(line)
        if update is None:
            return False
        update.setdefault("$inc", {})["version"] = 1
        done = store.update_one(
            coll, {"_id": lid, "version": line.get("version")}, update, lock=store.purchase_line_key(lid)
        )
        if done.modified_count == 1:
            return True
    raise Conflict("the line changed while saving; try again", code="concurrent_update")


def _claim(lid: str, docs: list[dict]) -> list[dict]:
    """Take the line's free units for these orders, only if enough are free. An order
    another purchase or resolution has claimed already (in `covered`: it is moving) is
    not taken again. Returns the orders claimed (none: not enough free units)."""
    claimed: list[dict] = []

    def change(line: dict) -> dict | None:
        nonlocal claimed
        covered = list(line.get("covered") or ())
        taken = set(covered)
        claimed = [d for d in docs if d["_id"] not in taken]
        units = sum(d["quantity"] for d in claimed)
        if not claimed or line.get("free", 0) < units:
            claimed = []
            return None
        return {"$inc": {"free": -units}, "$set": {"covered": [*covered, *(d["_id"] for d in claimed)]}}

    return claimed if docs and _line_write(lid, change) else []


def _give_back(lid: str, docs: list[dict]) -> None:
    """Units claimed for orders that did not move (changed by someone meanwhile)."""
    if not docs:
        return
    gone = {d["_id"] for d in docs}

    def change(line: dict) -> dict:
        covered = [i for i in line.get("covered") or () if i not in gone]
        return {"$inc": {"free": sum(d["quantity"] for d in docs)}, "$set": {"covered": covered}}

    _line_write(lid, change)


def _cover(
    principal: Principal, seller_id: ObjectId, name: str, item_id: ObjectId, variant_id: str | None
) -> list:
    """Every pending order of the line becomes purchased when the free units cover them
    all (none when they do not: the seller resolves the shortage). Returns the moved ids."""
    lid = line_id(seller_id, name, item_id, variant_id)
    pending = _to_buy(lid, _line_orders(seller_id, name, item_id, variant_id))
    claimed = _claim(lid, pending)
    return _buy(principal, seller_id, lid, claimed) if claimed else []


def _to_buy(lid: str, line_orders: list[dict]) -> list[dict]:
    """The line's pending orders that no purchase or resolution has claimed, first
    ordered first (a claimed one is moving already)."""
    line = get_db().purchases.find_one({"_id": lid}, {"covered": 1}) or {}
    covered = set(line.get("covered") or ())
    return sorted(
        (o for o in line_orders if o["fulfillment_status"] == "pending" and o["_id"] not in covered),
        key=_first_ordered,
    )


def _buy(principal: Principal, seller_id: ObjectId, lid: str, docs: list[dict]) -> list:
    """Orders whose units are claimed become purchased, with the line's unit cost."""
    moved, _ = orders.move_for_shopping(principal, docs, "purchased")
    ids = set(moved)
    _give_back(lid, [d for d in docs if d["_id"] not in ids])
    _set_cost(principal, seller_id, lid, [d for d in docs if d["_id"] in ids])
    return moved


def _set_cost(principal: Principal, seller_id: ObjectId, lid: str, docs: list[dict]) -> None:
    """The line's unit cost becomes the cost of the orders it bought, as a cost typed on
    an order does (its batch's rate, a history entry), conditional on the order being
    as it was moved (purchased, same quantity)."""
    line = get_db().purchases.find_one({"_id": lid}, {"unit_cost": 1, "cost_currency": 1}) or {}
    if not docs or line.get("unit_cost") is None:
        return
    batch = batches.read(seller_id, docs[0]["batch"])
    now = clock.now()
    changes, written = [], []
    for d in docs:
        sets = batches.cost_fields(
            line["unit_cost"], line["cost_currency"], d["quantity"], batch, principal.currency
        )
        entry = order_rules.cost_entry(d, sets, now, principal.actor_id)
        if entry is None and d.get("cost_amount") == sets["cost_amount"]:
            continue
        entry = entry or order_rules.history_entry(
            "cost", sets["cost"], now, d.get("cost"), by=principal.actor_id
        )
        where = {"_id": d["_id"], "fulfillment_status": "purchased", "quantity": d["quantity"]}
        changes.append((where, sets, entry))
        written.append({**d, **sets})
    repository.set_costs_with_history(changes, now)
    batches.settle_many(seller_id, written, principal.currency)


# --- shortages -------------------------------------------------------------------------


def resolve_shortage(principal: Principal, name: str, data: ShortageIn, key: str | None) -> tuple[dict, bool]:
    """POST /batches/{name}/shortages. A repeated Idempotency-Key answers the first
    resolution (stored with its answer), doing nothing again."""
    seller_id = object_id(principal.seller_id)
    rid = ObjectId()
    claim = idempotency.claim_id(f"{seller_id}:shortages", key)
    doc, created = idempotency.once(
        claim,
        rid,
        lambda oid: get_db().purchases.find_one({"_id": oid, "kind": SHORTAGE}),
        lambda: _resolve(principal, seller_id, name, data, rid),
    )
    return (doc if created else doc["answer"]), created


def _plan(
    pending: list[dict], keep: list[ObjectId] | None, free: int, strict: bool
) -> tuple[list, list, list]:
    """(kept, cancelled, left) of the pending orders, first ordered first. `keep` None:
    first ordered first while units are free (an order that does not fit is skipped for
    a later smaller one: orders are never split). `strict`: the listed orders must fit,
    else 409; else (a later round, after a race) those that no longer fit are `left`."""
    chosen = pending if keep is None else [o for o in pending if o["_id"] in set(keep)]
    if strict and keep is not None:
        units = sum(o["quantity"] for o in chosen)
        if units > free:
            raise Conflict(
                f"the kept orders need {units} units; {free} bought and not given yet",
                code="shortage_exceeds_bought",
                details=[
                    {
                        "field": "keep",
                        "code": "shortage_exceeds_bought",
                        "message": f"{units} > {free}",
                        "needed": units,
                        "free": free,
                    }
                ],
            )
    kept, left, room = [], [], free
    for o in chosen:
        if o["quantity"] <= room:
            kept.append(o)
            room -= o["quantity"]
        elif keep is not None:
            left.append(o)
    done = {o["_id"] for o in kept} | {o["_id"] for o in left}
    return kept, [o for o in pending if o["_id"] not in done], left


def _resolve(principal: Principal, seller_id: ObjectId, name: str, data: ShortageIn, rid: ObjectId) -> dict:
    item, data = _item(seller_id, data)
    lid = line_id(seller_id, name, item["_id"], data.variant_id)
    keep = None if data.keep == "first_ordered" else [object_id(k, "order") for k in dict.fromkeys(data.keep)]
    kept: list[dict] = []
    cancelled: list[dict] = []
    failed: list[dict] = []
    left: list[dict] = []
    unmoved: list[str] = []
    for _ in range(3):
        strict = not (kept or cancelled)  # nothing done yet: a plan that does not fit is refused
        line = get_db().purchases.find_one({"_id": lid}) or {}
        covered = set(line.get("covered") or ())
        pending = sorted(
            (
                o
                for o in _line_orders(seller_id, name, item["_id"], data.variant_id)
                if o["fulfillment_status"] == "pending" and o["_id"] not in covered
            ),
            key=_first_ordered,
        )
        if strict and keep is not None:
            known = {o["_id"] for o in pending}
            strangers = [str(k) for k in keep if k not in known]
            if strangers:
                raise ValidationFailed(
                    f"not a pending order of this line: {', '.join(strangers)}",
                    details=[{"field": "keep", "code": "not_in_line", "message": s} for s in strangers],
                )
        to_keep, to_cancel, left = _plan(pending, keep, line.get("free", 0), strict)
        claimed = _claim(lid, to_keep)
        if to_keep and not claimed:
            continue  # the free units moved meanwhile (another purchase or resolution): plan again
        moved = set(_buy(principal, seller_id, lid, claimed))
        kept += [o for o in claimed if o["_id"] in moved]
        unmoved = [str(o["_id"]) for o in to_keep if o["_id"] not in moved]
        gone, failed = orders.move_for_shopping(principal, to_cancel, "cancelled")
        gone_ids = set(gone)
        cancelled += [o for o in to_cancel if o["_id"] in gone_ids]
        if len(moved) == len(to_keep) and not failed:
            break
    else:
        if not kept and not cancelled:
            raise Conflict("the line changed while saving; try again", code="concurrent_update")
    # After the rounds: an order of the plan still pending is reported (one its buyer
    # cancelled meanwhile is settled: not a failure).
    planned = {f["id"] for f in failed} | {str(o["_id"]) for o in left} | set(unmoved)
    still = get_db().orders.find(
        {"_id": {"$in": [ObjectId(i) for i in planned]}, "fulfillment_status": "pending"}, {"_id": 1}
    )
    failed = [{"id": str(o["_id"]), "error": "concurrent_update"} for o in still] if planned else []
    failed.sort(key=lambda f: f["id"])
    answer = _answer(seller_id, rid, kept, cancelled, failed)
    get_db().purchases.insert_one(
        {
            "_id": rid,
            "kind": SHORTAGE,
            "seller_id": seller_id,
            "batch": name,
            "line": lid,
            "answer": answer,
            "at": clock.now(),
        }
    )
    if cancelled:
        paid = tuple((o["_id"], allocation.paid_of(o)) for o in cancelled if allocation.paid_of(o))
        bus.record(
            ShortageCancelled(
                resolution_id=rid, batch=name, order_ids=tuple(o["_id"] for o in cancelled), paid=paid
            )
        )
    return answer


def _answer(
    seller_id: ObjectId, rid: ObjectId, kept: list[dict], cancelled: list[dict], failed: list[dict]
) -> dict:
    db = get_db()
    ids = list({o["customer_id"] for o in cancelled})
    seller = db.sellers.find_one({"_id": seller_id}, {"notify_buyers": 1}) or {}
    shop_on = seller.get("notify_buyers") is not False
    reach = {
        c["_id"]: bool(shop_on and c.get("email") and c.get("notify") is not False)
        for c in (db.customers.find({"_id": {"$in": ids}}, {"email": 1, "notify": 1}) if ids else ())
    }

    def out(o: dict, credit: int = 0) -> dict:
        return {
            "order_id": str(o["_id"]),
            "order_no": o["order_no"],
            "customer_id": str(o["customer_id"]),
            "buyer_name": o.get("buyer_name") or "",
            "quantity": o["quantity"],
            "credit": from_cents(credit),
            "emailed": reach.get(o["customer_id"], False),
        }

    credit = sum(allocation.paid_of(o) for o in cancelled)
    return {
        "id": str(rid),
        "kept": [out(o) for o in kept],
        "cancelled": [out(o, allocation.paid_of(o)) for o in cancelled],
        "failed": failed,
        "credit": from_cents(credit),
    }
