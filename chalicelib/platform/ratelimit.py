"""Counting limits for things that send email ("email me my link", password reset).

Insert first, then count: concurrent requests see each other, so at most `limit` get
through in any window (a race may refuse one too many, never allow one too many).
Refused attempts are removed, so a flood does not extend the wait. Rows hold a hash of
the address, not the address: typed-in strangers' emails are not kept. The time filter
keeps the count exact where the TTL index is missing (FerretDB).

A slot belongs to an attempt that succeeded: a caller whose work then fails (a database
error, a refusal after the slot was taken) gives it back with `release`, so a failure
never uses up the limit (`take` returns the slot to give back).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from bson import ObjectId

from chalicelib.platform import clock
from chalicelib.platform.db import get_db


def take_slot(scope: str, value: str, limit: int, window: dt.timedelta) -> bool:
    return take(scope, value, limit, window) is not None


def take(scope: str, value: str, limit: int, window: dt.timedelta) -> ObjectId | None:
    """The slot taken (for `release`), or None when the limit is reached."""
    coll = get_db().rate_limits
    key = f"{scope}:{hashlib.sha256(value.encode()).hexdigest()}"
    now = clock.now()
    inserted = coll.insert_one({"key": key, "at": now}).inserted_id
    if coll.count_documents({"key": key, "at": {"$gt": now - window}}) <= limit:
        return inserted
    coll.delete_one({"_id": inserted})
    return None


def release(slot: ObjectId) -> None:
    get_db().rate_limits.delete_one({"_id": slot})
