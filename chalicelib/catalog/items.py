"""Items (the goods a seller buys) and their stock. All access to `items` lives here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.catalog import batches
from chalicelib.catalog.schemas import ItemIn, ItemOut, ItemPatch
from chalicelib.platform import blobs, bus, clock, currencies, mongo, store
from chalicelib.platform.db import get_db, own
from chalicelib.platform.errors import Conflict, NotFound
from chalicelib.platform.ids import object_id
from chalicelib.platform.listing import page, search_filter
from chalicelib.platform.principal import Principal
from chalicelib.platform.schemas import ListQuery


@dataclass(frozen=True)
class StockReturned(bus.Event):
    """Units of a tracked item came back (a cancel, a lower quantity, the seller's new
    stock): the item's waitlist takes them (sales.waitlist claims each unit by the same
    conditional decrement orders use, so a replay or two handlers at once are harmless)."""

    seller_id: Any
    item_id: Any


@dataclass(frozen=True)
class ItemDeleted(bus.Event):
    """An item is gone: catalog.photos removes its photos' records and files."""

    seller_id: Any
    item_id: Any


def to_out(doc: dict) -> dict:
    return ItemOut.from_doc(
        {
            **doc,
            "cost": currencies.cost_out(doc.get("cost"), doc.get("cost_currency")),
            "photos": photo_urls(doc),
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


def create(principal: Principal, data: ItemIn) -> dict:
    now = clock.now()
    doc = data.model_dump()
    doc["cost"], doc["cost_currency"] = batches.parse_cost(data.cost, data.cost_currency, principal.currency)
    doc.update(
        seller_id=object_id(principal.seller_id, "seller"),
        name_lower=data.item_name.lower(),
        created_at=now,
        updated_at=now,
    )
    get_db().items.insert_one(doc)
    return to_out(doc)


def get(principal: Principal, item_id: str) -> dict:
    return to_out(own("items", object_id(principal.seller_id), item_id, "item"))


def search(principal: Principal, params: ListQuery) -> dict:
    """A page of the seller's items whose name contains `q`."""
    query = {"seller_id": object_id(principal.seller_id), **search_filter(params.q, ("item_name",))}
    return page(get_db().items, query, params.limit, params.cursor, to_out)


def update(principal: Principal, item_id: str, patch: ItemPatch) -> dict:
    changes = patch.model_dump(exclude_unset=True)
    iid = object_id(item_id, "item")
    if "item_name" in changes:
        changes["name_lower"] = changes["item_name"].lower()
    if {"cost", "cost_currency"} & changes.keys():
        _cost_change(principal, iid, changes)
    changes["updated_at"] = clock.now()
    doc = store.find_one_and_update(
        get_db().items,
        {"_id": iid, "seller_id": object_id(principal.seller_id)},
        {"$set": changes},
        lock=store.item_key(iid),
        return_document=mongo.ReturnDocument.AFTER,
    )
    if doc is None:
        raise NotFound("item not found")
    if changes.get("stock"):
        bus.record(StockReturned(doc["seller_id"], doc["_id"]))
    return to_out(doc)


def _cost_change(principal: Principal, iid, changes: dict) -> None:
    """A new cost keeps the item's currency unless one is given; a new currency alone
    keeps the number the seller sees (¥1500 -> US$1500). Either way the item is read."""
    doc = get_db().items.find_one({"_id": iid, "seller_id": object_id(principal.seller_id)})
    if doc is None:
        raise NotFound("item not found")
    changes["cost"], changes["cost_currency"] = batches.cost_change(doc, changes, principal.currency)


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


# --- stock: single-document conditional updates, never read-then-write -------------


def find_for_order(seller_id, item_id=None, item_name: str | None = None) -> dict | None:
    query = {"seller_id": seller_id}
    if item_id is not None:
        query["_id"] = item_id
    else:
        query["name_lower"] = item_name.lower()
    return get_db().items.find_one(query)


def take_stock(item: dict, quantity: int) -> bool:
    """Take `quantity` from a tracked item only if that much is left (no oversell)."""
    if item.get("stock") is None:
        return True
    res = store.update_one(
        get_db().items,
        {"_id": item["_id"], "seller_id": item["seller_id"], "stock": {"$gte": quantity}},
        {"$inc": {"stock": -quantity}},
        lock=store.item_key(item["_id"]),
    )
    return res.modified_count == 1


def return_stock(seller_id, item_id, quantity: int) -> None:
    """Put stock back (cancel, failed insert). Untracked items (stock null) are left alone."""
    if item_id is None or quantity <= 0:
        return
    res = store.update_one(
        get_db().items,
        {"_id": item_id, "seller_id": seller_id, "stock": {"$ne": None}},
        {"$inc": {"stock": quantity}},
        lock=store.item_key(item_id),
    )
    if res.modified_count:
        bus.record(StockReturned(seller_id, item_id))
