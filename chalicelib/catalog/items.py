"""Items (the goods a seller buys) and their stock. All access to `items` lives here, and
so does every write of `stock_movements`: each change of an item's stock is recorded as a
movement by the call that made it (docs/api.md, "Stock movements").

Variants (issue 30): an item may have `options` and `variants`; each variant's stock is
`variant_stock.<variant id>` (a sub-document keyed by id, not an array), so taking it is
the same single conditional `$gte` + `$inc` as an item's `stock`, on Atlas, FerretDB and
mongo-java-server alike (no array filters). The item's own `stock` is null then."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from chalicelib.catalog import batches
from chalicelib.catalog.schemas import (
    ItemIn,
    ItemOut,
    ItemPatch,
    ItemQuery,
    MovementOut,
    PageQuery,
    VariantIn,
)
from chalicelib.platform import actors, blobs, bus, clock, currencies, mongo, store
from chalicelib.platform.db import get_db, own
from chalicelib.platform.errors import Conflict, NotFound, ValidationFailed
from chalicelib.platform.ids import object_id
from chalicelib.platform.listing import decode_cursor, encode_cursor, page, search_filter
from chalicelib.platform.money import from_cents
from chalicelib.platform.principal import Principal

# Why stock moved (GET /items/{id}/movements).
REASONS = ("order", "cancel", "purchase", "adjustment", "count")


@dataclass(frozen=True)
class StockReturned(bus.Event):
    """Units of a tracked item came back (a cancel, a lower quantity, the seller's new
    stock): the item's waitlist takes them (sales.waitlist claims each unit by the same
    conditional decrement orders use, so a replay or two handlers at once are harmless).
    `variant_id`: the variant whose units came back (only that variant's line is served)."""

    seller_id: Any
    item_id: Any
    variant_id: Any = None


def _variant_out(item: dict, v: dict) -> dict:
    stock = (item.get("variant_stock") or {}).get(v["id"])
    threshold = v.get("low_stock") if v.get("low_stock") is not None else item.get("low_stock")
    return {
        "id": v["id"],
        "label": v["label"],
        "values": v.get("values") or [],
        "price": None if v.get("price") is None else from_cents(v["price"]),
        "stock": stock,
        "cost": currencies.cost_out(v.get("cost"), v.get("cost_currency")),
        "low_stock": v.get("low_stock"),
        "low": stock is not None and threshold is not None and stock <= threshold,
    }


@dataclass(frozen=True)
class ItemDeleted(bus.Event):
    """An item is gone: catalog.photos removes its photos' records and files."""

    seller_id: Any
    item_id: Any


def to_out(doc: dict) -> dict:
    variants = [_variant_out(doc, v) for v in doc.get("variants") or []]
    if variants:
        tracked = [v["stock"] for v in variants if v["stock"] is not None]
        stock = sum(tracked) if tracked else None
        low = any(v["low"] for v in variants)
    else:
        stock = doc.get("stock")
        low = stock is not None and doc.get("low_stock") is not None and stock <= doc["low_stock"]
    return ItemOut.from_doc(
        {
            **doc,
            "cost": currencies.cost_out(doc.get("cost"), doc.get("cost_currency")),
            "photos": photo_urls(doc),
            "stock": stock,
            "variants": variants,
            "low": low,
        }
    )


def first_photo_url(doc: dict) -> str | None:
    """The small image of the item's first photo (forms, orders, the purchase list)."""
    shown = doc.get("photos")
    return blobs.store().url(shown[0]["small"]) if shown else None


def first_photo_urls(seller_id, item_ids: set) -> dict:
    """item id -> its first photo's small image, for the items of `item_ids` that have one:
    one read of those items' photos (none when `item_ids` is empty)."""
    if not item_ids:
        return {}
    found = get_db().items.find({"_id": {"$in": list(item_ids)}, "seller_id": seller_id}, {"photos": 1})
    return {doc["_id"]: url for doc in found if (url := first_photo_url(doc))}


def photo_urls(doc: dict) -> list[dict]:
    """The item's ready photos (a copy catalog.photos keeps on the item, so a list of items
    costs no read more) as the pages load them."""
    if not doc.get("photos"):
        return []
    store = blobs.store()
    return [
        {"id": str(p["id"]), "small_url": store.url(p["small"]), "medium_url": store.url(p["medium"])}
        for p in doc["photos"]
    ]


def _stored_variants(
    principal: Principal, wanted: list[VariantIn], current: list[dict], cost_currency: str | None
) -> list[dict]:
    """The variants as stored: ids kept (an unknown one is a 400 naming it) or assigned,
    labels made from the values when not given, costs in the item's cost currency."""
    known = {v["id"]: v for v in current}
    out = []
    for n, v in enumerate(wanted):
        vid = v.id.lower() if v.id else str(ObjectId())
        if v.id and vid not in known:
            raise ValidationFailed(
                "no such variant of this item",
                details=[
                    {"field": f"variants.{n}.id", "code": "unknown_variant", "message": "no such variant"}
                ],
            )
        cost, currency = (None, None)
        if not principal.is_owner and vid in known:
            # Staff send no cost (roles.py) and see none: the owner's stays (issue 31).
            cost, currency = known[vid].get("cost"), known[vid].get("cost_currency")
        elif v.cost is not None:
            try:
                cost, currency = batches.parse_cost(v.cost, cost_currency, principal.currency)
            except ValidationFailed as exc:
                exc.details = [{**d, "field": f"variants.{n}.cost"} for d in exc.details]
                raise
        out.append(
            {
                "id": vid,
                "label": v.label or " / ".join(v.values),
                "values": list(v.values),
                "price": v.price,
                "cost": cost,
                "cost_currency": currency,
                "low_stock": v.low_stock,
            }
        )
    return out


def create(principal: Principal, data: ItemIn) -> dict:
    now = clock.now()
    doc = data.model_dump(exclude={"variants"})
    doc["cost"], doc["cost_currency"] = batches.parse_cost(data.cost, data.cost_currency, principal.currency)
    # A variant's cost is in the item's cost currency (or the one given without an item cost).
    currency = doc["cost_currency"] or data.cost_currency
    doc["variants"] = _stored_variants(principal, data.variants, [], currency)
    doc["variant_stock"] = {v["id"]: w.stock for v, w in zip(doc["variants"], data.variants, strict=True)}
    doc.update(
        _id=ObjectId(),
        seller_id=object_id(principal.seller_id, "seller"),
        name_lower=data.item_name.lower(),
        variants_version=0,
        created_at=now,
        updated_at=now,
    )
    get_db().items.insert_one(doc)
    first = [(None, doc["stock"])] if doc["stock"] else []
    first += [(vid, n) for vid, n in doc["variant_stock"].items() if n]
    _record(doc, first, "count", principal.actor_id)  # the first stock: a count, like a PATCH of it
    return to_out(doc)


def get(principal: Principal, item_id: str) -> dict:
    return to_out(own("items", object_id(principal.seller_id), item_id, "item"))


def search(principal: Principal, params: ItemQuery) -> dict:
    """A page of the seller's items whose name contains `q`; `low_stock`: only those marked
    low (ItemOut.low), found by reading the items newest first and keeping the low ones: a
    filter cannot compare a stock with a threshold on FerretDB, and a catalogue is small."""
    query = {"seller_id": object_id(principal.seller_id), **search_filter(params.q, ("item_name",))}
    if not params.low_stock:
        return page(get_db().items, query, params.limit, params.cursor, to_out)
    after = decode_cursor(params.cursor)
    if after is not None:
        query["_id"] = {"$lt": after}
    found: list[dict] = []
    last = None
    for doc in get_db().items.find(query).sort("_id", -1):
        out = to_out(doc)
        if out["low"]:
            if len(found) == params.limit:
                return {"items": found, "next_cursor": encode_cursor(last)}
            found.append(out)
            last = doc["_id"]
    return {"items": found, "next_cursor": None}


def update(principal: Principal, item_id: str, patch: ItemPatch) -> dict:
    """A change of `stock` (or of a variant's) is a count: its movement's delta is the
    difference from the stock the write replaced (read by the same command)."""
    changes = patch.model_dump(exclude_unset=True)
    iid = object_id(item_id, "item")
    seller_id = object_id(principal.seller_id)
    if "item_name" in changes:
        changes["name_lower"] = changes["item_name"].lower()
    sets: dict[str, Any] = {}
    unsets: dict[str, str] = {}
    query: dict[str, Any] = {"_id": iid, "seller_id": seller_id}
    stock_moves = "stock" in changes
    doc = None
    if {"cost", "cost_currency", "variants", "stock"} & changes.keys():
        doc = get_db().items.find_one(query)
        if doc is None:
            raise NotFound("item not found")
    if {"cost", "cost_currency"} & changes.keys():
        changes["cost"], changes["cost_currency"] = batches.cost_change(doc, changes, principal.currency)
    if "variants" in changes:
        stock_moves |= _variants_change(principal, doc, patch, changes, sets, unsets)
        query["variants_version"] = doc.get("variants_version", 0)
    elif "stock" in changes and doc.get("variants"):
        raise ValidationFailed(
            "an item with variants keeps stock per variant",
            details=[{"field": "stock", "code": "stock_per_variant", "message": "set each variant's stock"}],
        )
    changes["updated_at"] = clock.now()
    update: dict[str, Any] = {"$set": {**changes, **sets}}
    if unsets:
        update["$unset"] = unsets
    if "variants" in changes:
        update["$inc"] = {"variants_version": 1}
    # A stock set: the document as it was (the same command), for the count's delta; else
    # the document as written, in one command as before.
    returned = mongo.ReturnDocument.BEFORE if stock_moves else mongo.ReturnDocument.AFTER
    got = store.find_one_and_update(
        get_db().items, query, update, lock=store.item_key(iid), return_document=returned
    )
    if got is None:
        if "variants_version" in query:
            raise Conflict("the item changed while saving; try again", code="concurrent_update")
        raise NotFound("item not found")
    if not stock_moves:
        return to_out(got)
    before = got
    after = get_db().items.find_one({"_id": iid}) or before
    # From what this write set, not from the read after it: an order taking units in
    # between is a movement of its own.
    moves = _counted(before, update["$set"], update.get("$unset", {}))
    # Labels of the variants removed too (their stock leaves with them).
    named = {**after, "variants": [*(before.get("variants") or []), *(after.get("variants") or [])]}
    _record(named, moves, "count", principal.actor_id)
    for vid, delta in moves:
        if delta > 0:
            bus.record(StockReturned(after["seller_id"], after["_id"], vid))
    return to_out(after)


def _variants_change(
    principal: Principal, doc: dict, patch: ItemPatch, changes: dict, sets: dict, unsets: dict
) -> bool:
    """Fills the update of a PATCH naming `variants`: the stored list, each new variant's
    stock, each given stock, and removed variants' stock unset. A variant that live orders
    use cannot be removed (409 variant_in_use). Returns whether any stock was set."""
    current = doc.get("variants") or []
    currency = changes.get("cost_currency") or patch.cost_currency or doc.get("cost_currency")
    stored = _stored_variants(principal, patch.variants, current, currency)
    changes["variants"] = stored
    kept = {v["id"] for v in stored}
    removed = [v for v in current if v["id"] not in kept]
    if removed:
        used = get_db().orders.find_one(
            {
                "seller_id": doc["seller_id"],
                "item_id": doc["_id"],
                "variant_id": {"$in": [v["id"] for v in removed]},
                "fulfillment_status": {"$ne": "cancelled"},
            },
            {"variant_label": 1},
        )
        if used is not None:
            raise Conflict(
                f"orders use the variant {used.get('variant_label')}: cancel them first",
                code="variant_in_use",
            )
    moved = False
    old = {v["id"] for v in current}
    for v, given in zip(stored, patch.variants, strict=True):
        if v["id"] not in old or "stock" in given.model_fields_set:
            sets[f"variant_stock.{v['id']}"] = given.stock
            moved = True
    for v in removed:
        unsets[f"variant_stock.{v['id']}"] = ""
        moved = True
    if stored and not current:
        sets["stock"] = None  # the item's own stock gives way to its variants'
        moved = moved or bool(doc.get("stock"))
    return moved


def _counted(before: dict, sets: dict, unsets: dict) -> list[tuple[str | None, int]]:
    """(variant id or None, delta) of each stock a write set or unset, against `before`."""
    out = []
    if "stock" in sets and (sets["stock"] or 0) != (before.get("stock") or 0):
        out.append((None, (sets["stock"] or 0) - (before.get("stock") or 0)))
    old = before.get("variant_stock") or {}
    for path in [*sets, *unsets]:
        if path.startswith("variant_stock."):
            vid = path.removeprefix("variant_stock.")
            delta = ((sets.get(path) or 0) if path in sets else 0) - (old.get(vid) or 0)
            if delta:
                out.append((vid, delta))
    return out


def delete(principal: Principal, item_id: str) -> None:
    db = get_db()
    iid = object_id(item_id, "item")
    seller_id = object_id(principal.seller_id)
    if db.orders.find_one({"seller_id": seller_id, "item_id": iid}, {"_id": 1}):
        raise Conflict("orders use this item", code="item_in_use")
    if db.items.delete_one({"_id": iid, "seller_id": seller_id}).deleted_count == 0:
        raise NotFound("item not found")
    bus.record(ItemDeleted(seller_id, iid))


# --- photos: the copy of the ready ones on the item (catalog.photos owns the records) --


def add_photo(seller_id, item_id, photo: dict) -> None:
    store.update_one(
        get_db().items,
        {"_id": item_id, "seller_id": seller_id},
        {"$push": {"photos": photo}},
        lock=store.item_key(item_id),
    )


def remove_photo(seller_id, item_id, photo: dict) -> None:
    """`photo` as add_photo stored it: FerretDB 1.24 pulls an equal value only (no query)."""
    store.update_one(
        get_db().items,
        {"_id": item_id, "seller_id": seller_id},
        {"$pull": {"photos": photo}},
        lock=store.item_key(item_id),
    )


# --- variants of an order -----------------------------------------------------------------


def variant_of(item: dict | None, variant_id: str | None, field: str = "variant_id") -> dict | None:
    """The variant an order names: required when the item has variants (400
    variant_required), unknown or on an item without variants: 400 unknown_variant."""
    listed = (item or {}).get("variants") or []
    if variant_id is None:
        if listed:
            raise ValidationFailed(
                f"{item['item_name']} comes in variants: choose one",
                code="variant_required",
                details=[{"field": field, "code": "variant_required", "message": "choose a variant"}],
            )
        return None
    found = next((v for v in listed if v["id"] == variant_id.lower()), None)
    if found is None:
        raise ValidationFailed(
            "no such variant of this item",
            details=[{"field": field, "code": "unknown_variant", "message": "no such variant of this item"}],
        )
    return found


def price_of(item: dict, variant: dict | None) -> int:
    return variant["price"] if variant and variant.get("price") is not None else item["price"]


def cost_of(item: dict, variant: dict | None) -> tuple[int | None, str | None]:
    if variant and variant.get("cost") is not None:
        return variant["cost"], variant["cost_currency"]
    return item.get("cost"), item.get("cost_currency")


# --- stock: single-document conditional updates, never read-then-write -------------


def find_for_order(seller_id, item_id=None, item_name: str | None = None) -> dict | None:
    query = {"seller_id": seller_id}
    if item_id is not None:
        query["_id"] = item_id
    else:
        query["name_lower"] = item_name.lower()
    return get_db().items.find_one(query)


def _path(variant_id: str | None) -> str:
    return f"variant_stock.{variant_id}" if variant_id else "stock"


def stock_left(item: dict, variant_id: str | None = None) -> int | None:
    """What the read `item` says is left (of the variant)."""
    if variant_id:
        return (item.get("variant_stock") or {}).get(variant_id)
    return item.get("stock")


def take_stock(
    item: dict,
    quantity: int,
    variant_id: str | None = None,
    *,
    by: str | None = None,
    order_id: Any = None,
    reason: str = "order",
) -> bool:
    """Take `quantity` from a tracked item (or variant) only if that much is left (no
    oversell), and record the movement."""
    if stock_left(item, variant_id) is None:
        return True
    path = _path(variant_id)
    res = store.update_one(
        get_db().items,
        {"_id": item["_id"], "seller_id": item["seller_id"], path: {"$gte": quantity}},
        {"$inc": {path: -quantity}},
        lock=store.item_key(item["_id"]),
    )
    if res.modified_count != 1:
        return False
    _record(item, [(variant_id, -quantity)], reason, by, order_id=order_id)
    return True


def return_stock(
    seller_id,
    item_id,
    quantity: int,
    variant_id: str | None = None,
    *,
    by: str | None = None,
    order_id: Any = None,
    reason: str = "cancel",
    announce: bool = True,
) -> None:
    """Put stock back (cancel, failed insert). Untracked items (stock null) are left alone.
    `announce`: tell the waitlist (not when the waitlist gives back what it took)."""
    if item_id is None or quantity <= 0:
        return
    doc = _add_units(seller_id, item_id, variant_id, quantity)
    if doc is not None:
        _record(doc, [(variant_id, quantity)], reason, by, order_id=order_id)
        if announce:
            bus.record(StockReturned(seller_id, item_id, variant_id))


def _add_units(seller_id, item_id, variant_id: str | None, quantity: int) -> dict | None:
    """Units into a tracked stock in one command (None: not tracked, nothing written); the
    document it returns names the variant (no projection: FerretDB 1.24 has none in
    findAndModify)."""
    path = _path(variant_id)
    return store.find_one_and_update(
        get_db().items,
        {"_id": item_id, "seller_id": seller_id, path: {"$ne": None}},
        {"$inc": {path: quantity}},
        lock=store.item_key(item_id),
    )


def receive_purchase(
    seller_id, item_id, variant_id: str | None, quantity: int, *, by: str | None, batch: str, purchase_id
) -> bool:
    """A shopping trip's units beyond what its line's orders want go into the tracked stock
    (of the variant) as one `purchase` movement naming the batch and the purchase. False:
    the stock is not tracked (any more), nothing written."""
    doc = _add_units(seller_id, item_id, variant_id, quantity)
    if doc is None:
        return False
    _record(doc, [(variant_id, quantity)], "purchase", by, batch=batch, purchase_id=purchase_id)
    bus.record(StockReturned(seller_id, item_id, variant_id))  # the waitlist may take them
    return True


def take_back_purchase(
    seller_id, item_id, variant_id: str | None, quantity: int, *, by: str | None, batch: str, purchase_id
) -> bool:
    """An undone purchase takes its units back out of the stock: one conditional `$inc`, so
    the stock never goes below 0 (False: they were sold meanwhile, nothing written). A stock
    no longer tracked (or an item gone) has nothing to take back: True, no movement."""
    path = _path(variant_id)
    doc = store.find_one_and_update(
        get_db().items,
        {"_id": item_id, "seller_id": seller_id, path: {"$gte": quantity}},
        {"$inc": {path: -quantity}},
        lock=store.item_key(item_id),
    )
    if doc is not None:
        _record(doc, [(variant_id, -quantity)], "purchase", by, batch=batch, purchase_id=purchase_id)
        return True
    now = get_db().items.find_one({"_id": item_id, "seller_id": seller_id})
    return now is None or stock_left(now, variant_id) is None


def adjust(principal: Principal, item_id: str, data) -> dict:
    """POST /items/{id}/adjustments: add or take units found or lost (never below 0: 409
    stock_below_zero; an untracked stock: 409 stock_not_tracked)."""
    seller_id = object_id(principal.seller_id)
    item = own("items", seller_id, item_id, "item")
    variant = variant_of(item, data.variant_id)
    vid = variant["id"] if variant else None
    if stock_left(item, vid) is None:
        raise Conflict("this stock is not tracked: set it first", code="stock_not_tracked")
    path = _path(vid)
    query = {"_id": item["_id"], "seller_id": seller_id, path: {"$gte": max(0, -data.delta)}}
    res = store.update_one(
        get_db().items, query, {"$inc": {path: data.delta}}, lock=store.item_key(item["_id"])
    )
    if res.modified_count != 1:
        raise Conflict(
            "the stock cannot go below 0",
            code="stock_below_zero",
        )
    _record(item, [(vid, data.delta)], data.reason, principal.actor_id, note=data.note)
    if data.delta > 0:
        bus.record(StockReturned(seller_id, item["_id"], vid))
    return get(principal, item_id)


# --- movements ---------------------------------------------------------------------------


def _record(
    item: dict,
    moves: list[tuple[str | None, int]],
    reason: str,
    by: str | None,
    *,
    order_id: Any = None,
    note: str | None = None,
    batch: str | None = None,
    purchase_id: Any = None,
) -> None:
    """One movement per changed stock, written after the stock's own write (a process that
    dies in between leaves a change without its movement: docs/api.md). `batch` and
    `purchase_id`: the shopping trip's purchase that moved it."""
    now = clock.now()
    labels = {v["id"]: v["label"] for v in item.get("variants") or []}
    docs = [
        {
            "seller_id": item["seller_id"],
            "item_id": item["_id"],
            "at": now,
            "delta": delta,
            "reason": reason,
            "order_id": order_id,
            "variant_id": vid,
            "variant_label": labels.get(vid),  # a copy: the variant may be renamed or removed
            "by": by,
            "note": note,
            **({"batch": batch, "purchase_id": purchase_id} if purchase_id is not None else {}),
        }
        for vid, delta in moves
        if delta
    ]
    if docs:
        get_db().stock_movements.insert_many(docs)


def movements(principal: Principal, item_id: str, params: PageQuery) -> dict:
    """GET /items/{id}/movements: newest first, paged like the other lists."""
    seller_id = object_id(principal.seller_id)
    item = own("items", seller_id, item_id, "item")
    labels = {v["id"]: v["label"] for v in item.get("variants") or []}
    found = page(
        get_db().stock_movements,
        {"seller_id": seller_id, "item_id": item["_id"]},
        params.limit,
        params.cursor,
        lambda d: d,
    )
    # `by` answers who (issue 31): "owner" or the member's email, one read of members for
    # the page; a source the server names ("form", "waitlist") as it is.
    who = actors.names(seller_id, [d["by"] for d in found["items"] if d.get("by")])

    def out(d: dict) -> dict:
        by = d.get("by")
        return MovementOut.from_doc(
            {
                **d,
                "by": actors.shown(who, by),
                "variant_label": d.get("variant_label") or labels.get(d.get("variant_id")),
            }
        )

    return {**found, "items": [out(d) for d in found["items"]]}
