"""Lists: opaque cursors, text search, newest-first pages and sorted pages (`?limit=` is
checked by schemas.ListQuery)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass

from bson import ObjectId
from bson.errors import InvalidId

from chalicelib.platform import store
from chalicelib.platform.errors import ValidationFailed


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


# --- sorted pages (GET /orders?sort=, GET /customers?sort=name) ------------------------------------------------
# A sort is a key and a direction; `_id` (same direction) breaks ties, so every order has
# one place and a page boundary between equal keys loses or repeats nothing. The cursor
# carries the sort it was made for, the last key and the last id: a cursor used with
# another sort is a 400, not a silently wrong page.


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Sort:
    name: str  # as in ?sort=: "-created_at"
    key: str  # the stored field
    direction: int  # 1 ascending, -1 descending
    unique: bool = False  # the key alone orders the documents (order_no is unique per seller)

    @classmethod
    def parse(cls, name: str, unique_keys: tuple[str, ...] = ()) -> Sort:
        key = name.lstrip("-")
        return cls(name, key, -1 if name.startswith("-") else 1, key in unique_keys)

    def spec(self) -> list[tuple[str, int]]:
        return (
            [(self.key, self.direction)]
            if self.unique
            else [(self.key, self.direction), ("_id", self.direction)]
        )


MAX_TEXT_KEY = 1000  # a text sort key in a cursor (names are at most 200 characters)


def _cursor_value(value: object) -> int | str:
    """A sort key as a JSON integer or string: datetimes as epoch milliseconds (BSON's
    precision); text (GET /customers?sort=name) as it is."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return (value - EPOCH) // dt.timedelta(milliseconds=1)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value
    raise TypeError(f"cannot page by {type(value).__name__}")


def _cursor_value_ok(value: object) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_TEXT_KEY
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 2**62


def encode_sorted_cursor(sort: Sort, doc: dict) -> str:
    raw = json.dumps([sort.name, _cursor_value(doc.get(sort.key)), str(doc["_id"])], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_sorted_cursor(
    cursor: str | None, sort: Sort, datetime_keys: tuple[str, ...] = (), text_keys: tuple[str, ...] = ()
) -> tuple | None:
    """(key value, ObjectId) after which the next page starts, or None for the first page."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, value, last_id = json.loads(raw.decode("utf-8"))
        if not (isinstance(name, str) and _cursor_value_ok(value)):
            raise ValueError
        oid = ObjectId(last_id)
    except (ValueError, TypeError, RecursionError, binascii.Error, InvalidId, UnicodeDecodeError):
        raise ValidationFailed("cursor is invalid", code="invalid_cursor") from None
    if name != sort.name:
        raise ValidationFailed(
            f"this cursor belongs to sort={name}, not sort={sort.name}; start again without a cursor",
            code="invalid_cursor",
        )
    if isinstance(value, str) != (sort.key in text_keys):
        raise ValidationFailed("cursor is invalid", code="invalid_cursor")
    if sort.key in datetime_keys:
        try:
            value = EPOCH + dt.timedelta(milliseconds=value)
        except OverflowError:
            raise ValidationFailed("cursor is invalid", code="invalid_cursor") from None
    return value, oid


def after_filter(sort: Sort, value: object, last_id: ObjectId) -> dict:
    """Documents strictly after (value, last_id) in `sort`'s order."""
    beyond = "$gt" if sort.direction == 1 else "$lt"
    if sort.unique:
        return {sort.key: {beyond: value}}
    return {"$or": [{sort.key: {beyond: value}}, {sort.key: value, "_id": {beyond: last_id}}]}


def _and(query: dict, clause: dict) -> dict:
    """`query` and `clause`, the query's own fields left at the top: FerretDB pushes down
    only top-level equalities, so `{$and: [query, clause]}` read every seller's orders
    for a "Load more" (docs/ferretdb.md); the same filter on every server."""
    return {**query, "$and": [*query.get("$and", []), clause]}


def sorted_page(
    coll,
    query: dict,
    limit: int,
    cursor: str | None,
    to_out,
    sort: Sort,
    *,
    datetime_keys: tuple[str, ...] = (),
    text_keys: tuple[str, ...] = (),
    count: bool = False,
) -> dict:
    """One page in `sort`'s order: one query of limit+1 documents. With `count`, the first
    page (no cursor) also gets `total_count`, the number of documents matching `query`
    (store.first_page: one more command on MongoDB); later pages get `total_count: null`."""
    after = decode_sorted_cursor(cursor, sort, datetime_keys, text_keys)
    total = None
    if after is not None:
        docs = list(coll.find(_and(query, after_filter(sort, *after))).sort(sort.spec()).limit(limit + 1))
    elif count:
        # The page and its count in one operation: on FerretDB one read serves both (store.py).
        docs, total = store.first_page(coll, query, sort.spec(), limit + 1)
    else:
        docs = list(coll.find(query).sort(sort.spec()).limit(limit + 1))
    more = len(docs) > limit
    docs = docs[:limit]
    out = {
        "items": [to_out(d) for d in docs],
        "next_cursor": encode_sorted_cursor(sort, docs[-1]) if more else None,
    }
    if count:
        out["total_count"] = total
    return out
