"""Item photos: the records (`photos`, written only here), their upload forms, and the
small and medium images made from an upload (the S3 event's work, and `make run`'s).

A photo is `pending` from its POST until its images are made (`ready`), or `failed` when
the file is no image we take. Each live photo holds one of the item's MAX_PHOTOS slots
(a unique index on item and slot), so two POSTs at once never pass the limit on any
server. The original is private and deleted once read; the images carry no EXIF
(no place, no camera), turned upright first by the EXIF orientation.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import secrets

from bson import ObjectId

from chalicelib.catalog import items
from chalicelib.catalog.schemas import MAX_PHOTO_BYTES, PhotoIn
from chalicelib.platform import blobs, clock, mongo
from chalicelib.platform.db import get_db, is_duplicate_key, own
from chalicelib.platform.errors import Conflict, NotFound
from chalicelib.platform.ids import object_id
from chalicelib.platform.principal import Principal

log = logging.getLogger(__name__)

MAX_PHOTOS = 8
MAX_BYTES = MAX_PHOTO_BYTES
SIZES = {"small": 160, "medium": 800}
# A pending photo whose upload never came frees its slot after this (the form expires first).
PENDING_FOR = dt.timedelta(seconds=blobs.UPLOAD_SECONDS + 600)
MAX_PIXELS = 50_000_000  # above this a file is refused, not decoded (a 4000x3000 photo is 12 M)
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def _key(seller_id, item_id, photo_id) -> str:
    return f"uploads/{seller_id}/{item_id}/{photo_id}"


def start(principal: Principal, item_id: str, data: PhotoIn) -> dict:
    """A pending photo and the form the browser posts its file with."""
    seller_id = object_id(principal.seller_id)
    item = own("items", seller_id, item_id, "item")
    store = blobs.store()  # 503 before anything is written when no storage is set up
    coll = get_db().photos
    coll.delete_many(
        {"item_id": item["_id"], "status": "pending", "created_at": {"$lt": clock.now() - PENDING_FOR}}
    )
    photo_id = ObjectId()
    doc = {
        "_id": photo_id,
        "seller_id": seller_id,
        "item_id": item["_id"],
        "status": "pending",
        "content_type": data.content_type,
        "size": data.size,
        "key": _key(seller_id, item["_id"], photo_id),
        "created_at": clock.now(),
    }
    if not _take_slot(coll, doc):
        raise Conflict("the item's photos kept changing: try again", code="busy")
    upload = store.presigned_post(doc["key"], data.content_type, MAX_BYTES)
    return {"photo_id": str(photo_id), "upload": upload}


def _take_slot(coll, doc: dict) -> bool:
    """Insert `doc` in a free slot of its item. Each free slot is tried in turn: a duplicate
    key means another photo took it meanwhile, so each request fails at most 8 inserts
    before it finds a slot or reads that none is left (409)."""
    for _ in range(MAX_PHOTOS):
        used = {
            d["slot"]
            for d in coll.find({"item_id": doc["item_id"]}, {"slot": 1})
            if isinstance(d.get("slot"), int)
        }
        free = [s for s in range(MAX_PHOTOS) if s not in used]
        if not free:
            raise Conflict(f"an item holds at most {MAX_PHOTOS} photos", code="too_many_photos")
        for slot in free:
            try:
                coll.insert_one({**doc, "slot": slot})
                return True
            except mongo.PyMongoError as exc:
                if not is_duplicate_key(exc):
                    raise
    return False  # slots freed and taken again all along (photos removed meanwhile)


def status(principal: Principal, item_id: str, photo_id: str) -> dict:
    doc = _own_photo(principal, item_id, photo_id)
    out = {"id": str(doc["_id"]), "status": doc["status"], "small_url": None, "medium_url": None}
    if doc["status"] == "ready":
        store = blobs.store()
        out.update(small_url=store.url(doc["images"]["small"]), medium_url=store.url(doc["images"]["medium"]))
    return out


def remove(principal: Principal, item_id: str, photo_id: str) -> None:
    found = _own_photo(principal, item_id, photo_id)
    # The record as it was when deleted: images made meanwhile are in it (uploaded() takes
    # back what it adds after this).
    doc = get_db().photos.find_one_and_delete({"_id": found["_id"]})
    if doc is not None:
        if doc.get("images"):
            items.remove_photo(doc["seller_id"], doc["item_id"], _on_item(doc))
        _delete_blobs(doc)


def _own_photo(principal: Principal, item_id: str, photo_id: str) -> dict:
    seller_id = object_id(principal.seller_id)
    iid = object_id(item_id, "item")
    doc = get_db().photos.find_one(
        {"_id": object_id(photo_id, "photo"), "seller_id": seller_id, "item_id": iid}
    )
    if doc is None:
        raise NotFound("photo not found")
    return doc


def _delete_blobs(doc: dict) -> None:
    keys = [doc["key"], *(doc.get("images") or {}).values()]
    try:
        blobs.store().delete(*keys)
    except Exception:  # the record is gone; a stray file costs storage, not privacy
        log.exception("could not delete the files of photo %s", doc["_id"])


def item_deleted(event: items.ItemDeleted) -> None:
    """An item is gone: its photos' records and files go too."""
    coll = get_db().photos
    for doc in list(coll.find({"seller_id": event.seller_id, "item_id": event.item_id})):
        if coll.delete_one({"_id": doc["_id"]}).deleted_count:
            _delete_blobs(doc)


# --- the upload's images: the S3 event (app.py) and the local upload route -------------


def uploaded(key: str) -> str:
    """Make the images of the photo uploaded as `key`; answer what became of it. Run
    twice (S3 delivers an event at least once) it does nothing the second time. A file
    that is no image we take is `failed` (its slot freed), never retried; a storage or
    database error raises, so Lambda retries it (twice, then drops it)."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != "uploads" or not ObjectId.is_valid(parts[3]):
        log.warning("an upload with a key that is no photo's: %r", key)
        return "ignored"
    coll = get_db().photos
    doc = coll.find_one({"_id": ObjectId(parts[3]), "key": key})
    store = blobs.store()
    if doc is None:  # deleted before its file came
        store.delete(key)
        return "ignored"
    if doc["status"] != "pending":
        return doc["status"]
    try:
        data = store.read(key)
    except blobs.BlobMissing:
        # The event's twin run finished (and deleted the upload) or the photo was removed
        # since the read above; a photo still pending without its file is a retry's job.
        now = coll.find_one({"_id": doc["_id"]}, {"status": 1})
        if now is None:
            return "ignored"
        if now["status"] != "pending":
            return now["status"]
        raise
    try:
        images = make_images(data, doc["content_type"])
    except BadImage as exc:
        coll.update_one(
            {"_id": doc["_id"], "status": "pending"},
            {"$set": {"status": "failed", "reason": str(exc), "slot": f"failed:{doc['_id']}"}},
        )
        store.delete(key)
        log.info("photo %s refused: %s", doc["_id"], exc)
        return "failed"
    tag = secrets.token_urlsafe(9)
    keys = {}
    for name, body in images.items():
        keys[name] = f"images/{doc['seller_id']}/{doc['_id']}-{tag}/{name}.jpg"
        store.put(keys[name], body, "image/jpeg")
    done = coll.update_one(
        {"_id": doc["_id"], "status": "pending"},
        {"$set": {"status": "ready", "images": keys, "ready_at": clock.now()}},
    )
    shown = _on_item({**doc, "images": keys})
    if done.modified_count:
        items.add_photo(doc["seller_id"], doc["item_id"], shown)
    if not done.modified_count or coll.find_one({"_id": doc["_id"]}, {"_id": 1}) is None:
        # Removed (or made by another run) meanwhile: take back what this run added.
        if done.modified_count:
            items.remove_photo(doc["seller_id"], doc["item_id"], shown)
        store.delete(*keys.values())
    store.delete(key)
    return "ready"


def _on_item(doc: dict) -> dict:
    """The copy of a ready photo on its item (catalog.items shows it)."""
    return {"id": doc["_id"], "small": doc["images"]["small"], "medium": doc["images"]["medium"]}


class BadImage(ValueError):
    pass


def make_images(data: bytes, content_type: str) -> dict[str, bytes]:
    """JPEG bytes per size in SIZES (the longest side at most that many pixels), upright,
    without EXIF, ICC or any other metadata. Pillow is imported here only: a cold start
    of the API never loads it."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data), formats=[FORMATS[content_type]]) as img:
            if img.width * img.height > MAX_PIXELS:
                raise BadImage(f"{img.width}x{img.height} is more than {MAX_PIXELS:,} pixels")
            # A JPEG decoded at 1/2, 1/4 or 1/8 scale, still at least 800 px each way: a 4000x3000
            # photo decodes as 2000x1500 (a quarter of the work, bench/bench_photos.py).
            img.draft("RGB", (SIZES["medium"], SIZES["medium"]))
            upright = ImageOps.exif_transpose(img)
            rgb = _flatten(upright)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, BadImage):
            raise
        raise BadImage(f"not a readable {content_type} file ({type(exc).__name__})") from None
    out = {}
    for name, side in sorted(SIZES.items(), key=lambda kv: -kv[1]):
        rgb.thumbnail((side, side), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        rgb.save(buf, "JPEG", quality=82, optimize=True, progressive=True)  # no exif= given: none kept
        out[name] = buf.getvalue()
    return out


def _flatten(img):
    """RGB on white (a PNG's or WebP's transparency would turn black in a JPEG)."""
    from PIL import Image

    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        base = Image.new("RGB", rgba.size, (255, 255, 255))
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    return img.convert("RGB")


def local_upload(content_type: str | None, body: bytes) -> None:
    """`make run`'s stand-in for S3: check the POST as S3 would, store the file and make
    its images at once (S3's event does this in AWS)."""
    store = blobs.store()
    if store.kind != "local":
        raise NotFound("no local uploads here: files go to S3")
    fields, data = _form_fields(content_type or "", body or b"")
    uploaded(store.accept_post(fields, data))


def _form_fields(content_type: str, body: bytes) -> tuple[dict[str, str], bytes]:
    """The text fields and the file of a multipart/form-data body (the file last, as S3 wants)."""
    mime, _, params = content_type.partition(";")
    boundary = next(
        (
            p.split("=", 1)[1].strip().strip('"')
            for p in params.split(";")
            if p.strip().startswith("boundary=")
        ),
        "",
    )
    if mime.strip().lower() != "multipart/form-data" or not boundary:
        raise blobs.UploadRefused("the upload is not multipart/form-data")
    fields: dict[str, str] = {}
    data = None
    for part in body.split(b"--" + boundary.encode())[1:-1]:
        head, _, value = part[2:].partition(b"\r\n\r\n")
        value = value[:-2]  # the CRLF before the next boundary
        disposition = next(
            (
                line
                for line in head.decode("utf-8", "replace").split("\r\n")
                if line.lower().startswith("content-disposition")
            ),
            "",
        )
        name = disposition.split('name="', 1)[1].split('"', 1)[0] if 'name="' in disposition else ""
        if name == "file":
            data = value
        elif name:
            fields[name] = value.decode("utf-8", "replace")
    if data is None:
        raise blobs.UploadRefused("the upload has no file")
    return fields, data
