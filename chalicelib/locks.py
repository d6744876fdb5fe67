"""Mutual exclusion for FerretDB, which lacks MongoDB's single-document atomicity.

On MongoDB a conditional update (`{stock: {$gte: q}}` + `$inc`) is atomic, and that is
all our writes rely on. FerretDB 1.24 runs the same update as "read the matching
documents, then write them back" with no transaction in between, so concurrent updates
can overwrite one another (20 threads took 15 of 10 units in our test). Inserts, though,
are atomic there (a unique `_id`). So on FerretDB each conditional update runs while
holding a lock document: insert to acquire, delete to release. On MongoDB this module
does nothing. See docs/ferretdb.md.

`held` is the same lock on every server, for work that spans several documents and must
not interleave on MongoDB either (a buyer's payments and their orders: payments.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import time
from collections.abc import Iterator

from pymongo.errors import BulkWriteError

from . import clock
from .db import DUPLICATE_KEY, get_db, is_ferretdb
from .errors import Conflict

STALE_AFTER = dt.timedelta(seconds=30)  # a holder that crashed must not block forever


@contextlib.contextmanager
def exclusive(*names: str, timeout: float = 10.0) -> Iterator[None]:
    """Hold every named lock, or wait. All are taken in one insert or none is kept, so
    two holders of overlapping sets can never wait on each other (no deadlock)."""
    if not names or not is_ferretdb():
        yield
        return
    with held(*names, timeout=timeout):
        yield


@contextlib.contextmanager
def held(*names: str, timeout: float = 10.0) -> Iterator[None]:
    """Hold every named lock on any server (a lease: one insert; it goes stale after
    STALE_AFTER, longer than a Lambda's 15 s, so a holder that died frees it)."""
    locks = get_db().locks
    wanted = sorted(set(names))
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        now = clock.now()
        try:
            locks.insert_many([{"_id": name, "at": now} for name in wanted], ordered=False)
            break
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            taken = {wanted[e["index"]] for e in errors}
            mine = [name for name in wanted if name not in taken]
            if mine:
                locks.delete_many({"_id": {"$in": mine}})
            locks.delete_many({"_id": {"$in": sorted(taken)}, "at": {"$lt": now - STALE_AFTER}})
            if time.monotonic() > deadline:
                raise Conflict("the record is busy; try again", code="busy") from None
            time.sleep(delay * (1 + random.random()))  # noqa: S311 - jitter, not security
            delay = min(delay * 2, 0.05)
    try:
        yield
    finally:
        locks.delete_many({"_id": {"$in": wanted}})
