"""Counting limits for things that send email ("email me my link", password reset).

Insert first, then count: concurrent requests see each other, so at most `limit` get
through in any window (a race may refuse one too many, never allow one too many).
Refused attempts are removed, so a flood does not extend the wait. Rows hold a hash of
the address, not the address: typed-in strangers' emails are not kept. The time filter
keeps the count exact where the TTL index is missing (FerretDB).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from . import clock
from .db import get_db


def take_slot(scope: str, value: str, limit: int, window: dt.timedelta) -> bool:
    coll = get_db().rate_limits
    key = f"{scope}:{hashlib.sha256(value.encode()).hexdigest()}"
    now = clock.now()
    inserted = coll.insert_one({"key": key, "at": now}).inserted_id
    if coll.count_documents({"key": key, "at": {"$gt": now - window}}) <= limit:
        return True
    coll.delete_one({"_id": inserted})
    return False
