"""HTTP routes of `chalicelib/catalog/`: parse the request, call one function of the
package, return its result (declared with `platform.web.api`; app.py imports this module)."""

from __future__ import annotations

from chalicelib.catalog import batches, items, photos
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
    PhotoIn,
    PhotoStatusOut,
    PhotoUploadOut,
)
from chalicelib.platform.web import api, body, header, on_upload, path_model, query, raw_body

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


# --- item photos (catalog/photos.py) ------------------------------------------------------


@api(
    "/items/{item_id}/photos",
    "POST",
    "Start a photo: a form to POST the file to (S3's presigned POST)",
    body=PhotoIn,
    out=PhotoUploadOut,
    status=201,
)
def start_photo(who, item_id):
    return photos.start(who, item_id, body(PhotoIn))


@api(
    "/items/{item_id}/photos/{photo_id}",
    "GET",
    "A photo's status: pending, ready or failed",
    out=PhotoStatusOut,
)
def get_photo(who, item_id, photo_id):
    return photos.status(who, item_id, photo_id)


@api("/items/{item_id}/photos/{photo_id}", "DELETE", "Remove a photo and its images", status=204)
def delete_photo(who, item_id, photo_id):
    return photos.remove(who, item_id, photo_id)


@api(
    "/photo-uploads",
    "POST",
    "`make run` only: the local stand-in for S3's POST of a photo (404 in AWS)",
    public=True,
    content_type="multipart/form-data",
    status=204,
    also=(403,),
)
def local_photo_upload():
    return photos.local_upload(header("content-type"), raw_body())


@on_upload("uploads/", "make_photo_images")
def photo_uploaded(key):
    """A photo's file is in S3 (the page POSTed it with the form of POST .../photos)."""
    photos.uploaded(key)


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
