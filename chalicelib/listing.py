"""Lists: opaque cursors, text search, newest-first pages (`?limit=` is checked by
models.ListQuery)."""

from __future__ import annotations

import base64
import binascii
import re

from bson import ObjectId
from bson.errors import InvalidId

from .errors import ValidationFailed


def encode_cursor(last_id: ObjectId) -> str:
    return base64.urlsafe_b64encode(last_id.binary).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> ObjectId | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(raw) != 12:
            raise ValueError
        return ObjectId(raw)
    except (ValueError, binascii.Error, InvalidId):
        raise ValidationFailed("cursor is invalid", code="invalid_cursor") from None


def page(coll, query: dict, limit: int, cursor: str | None, to_out) -> dict:
    """Newest first by _id (ids are time-ordered), one query of limit+1 documents."""
    after = decode_cursor(cursor)
    if after is not None:
        query = {**query, "_id": {"$lt": after}}
    docs = list(coll.find(query).sort("_id", -1).limit(limit + 1))
    more = len(docs) > limit
    docs = docs[:limit]
    return {
        "items": [to_out(d) for d in docs],
        "next_cursor": encode_cursor(docs[-1]["_id"]) if more else None,
    }


def search_filter(q: str | None, fields: tuple[str, ...]) -> dict:
    """Case-insensitive substring match; the text is escaped, never a user regex."""
    if not q or not q.strip():
        return {}
    pattern = {"$regex": re.escape(q.strip()[:100]), "$options": "i"}
    return {"$or": [{f: pattern} for f in fields]}
