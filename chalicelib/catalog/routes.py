"""HTTP routes of `chalicelib/catalog/`: parse the request, call one function of the
package, return its result (declared with `platform.web.api`; app.py imports this module)."""

from __future__ import annotations

from chalicelib.catalog import batches, items
from chalicelib.catalog.schemas import (
    AdjustmentIn,
    BatchOut,
    BatchPatch,
    BatchPath,
    ItemIn,
    ItemOut,
    ItemPatch,
    ItemQuery,
    MovementOut,
    PageQuery,
)
from chalicelib.platform.web import api, body, path_model, query

# --- items ----------------------------------------------------------------------------


@api("/items", "GET", "List items", out=ItemOut, list_of=True, query=ItemQuery)
def list_items(who):
    return items.search(who, query(ItemQuery))


@api("/items", "POST", "Add an item", body=ItemIn, out=ItemOut, status=201)
def create_item(who):
    return items.create(who, body(ItemIn))


@api("/items/{item_id}", "GET", "One item", out=ItemOut)
def get_item(who, item_id):
    return items.get(who, item_id)


@api("/items/{item_id}", "PATCH", "Edit an item", body=ItemPatch, out=ItemOut)
def patch_item(who, item_id):
    return items.update(who, item_id, body(ItemPatch))


@api("/items/{item_id}", "DELETE", "Delete an item no order uses", status=204)
def delete_item(who, item_id):
    return items.delete(who, item_id)


@api(
    "/items/{item_id}/movements",
    "GET",
    "An item's stock movements, newest first",
    out=MovementOut,
    list_of=True,
    query=PageQuery,
)
def list_movements(who, item_id):
    return items.movements(who, item_id, query(PageQuery))


@api(
    "/items/{item_id}/adjustments",
    "POST",
    "Add or take stock outside orders (a movement)",
    body=AdjustmentIn,
    out=ItemOut,
    status=201,
)
def adjust_stock(who, item_id):
    return items.adjust(who, item_id, body(AdjustmentIn))


# --- batches (trips) --------------------------------------------------------------------


@api(
    "/batches",
    "GET",
    "Batches with their orders' count and total, rates and closed mark",
    out=BatchOut,
    array_of=True,
)
def list_batches(who):
    return batches.search(who)


@api("/batches/{name}", "PATCH", "Set a batch's exchange rates, note, closed", body=BatchPatch, out=BatchOut)
def update_batch(who, name):
    return batches.update(who, path_model(BatchPath, name=name).name, body(BatchPatch))
