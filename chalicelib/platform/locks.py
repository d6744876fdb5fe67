"""Lock documents: insert to acquire, delete to release (an insert is atomic on every
server, a unique `_id`).

Two users. The store (store.FerretStore) holds them around conditional updates on
FerretDB 1.24, which runs such an update as "read the matching documents, then write them
back" with no transaction in between, so concurrent updates could overwrite one another
(20 threads took 15 of 10 units in our test); on MongoDB the update itself is atomic and
no lock is taken. And `held` directly, on every server, for work that spans several
documents and must not interleave on MongoDB either (a buyer's payments and their
orders: payments.py). See docs/ferretdb.md.

A lock is a lease. Its document says when it was taken (`at`), until when a live holder
may still be holding it (`live_until`: milliseconds for a request, `hold` seconds said
by the holder) and when it lapses (`expires`, never before LEASE: a Lambda lives at most
15 s, so no dead holder's lock outlives its lease). A request waits at most `wait`
seconds (WAIT) for a lock; a lapsed lease is taken over at once. When the wait is over:
409 `busy` if the holder may be alive, else 503 `database_unavailable` with Retry-After
= the seconds until the lease lapses (the holder died in an outage). docs/ferretdb.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import random
import time
from collections.abc import Iterator

from chalicelib.platform import clock, mongo
from chalicelib.platform.db import DUPLICATE_KEY, get_db
from chalicelib.platform.errors import Conflict, Unavailable

WAIT = 2.0  # seconds a request waits for a lock before it answers
HOLD = 3.0  # seconds a live request may hold a lock (it holds one for milliseconds)
LEASE = 20.0  # seconds before any lock lapses: a Lambda is stopped after 15 s


@contextlib.contextmanager
def held(*names: str, wait: float = WAIT, hold: float = HOLD) -> Iterator[None]:
    """Hold every named lock on any server, for at most `hold` seconds as a live holder
    (longer: a contender takes the holder for dead; the lease lasts at least LEASE)."""
    locks = get_db().locks
    wanted = sorted(set(names))
    lease = max(LEASE, hold + LEASE / 2)
    deadline = time.monotonic() + wait
    delay = 0.002
    while True:
        now = clock.now()
        lock = {
            "at": now,
            "live_until": now + dt.timedelta(seconds=hold),
            "expires": now + dt.timedelta(seconds=lease),
        }
        try:
            locks.insert_many([{"_id": name, **lock} for name in wanted], ordered=False)
            break
        except mongo.BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            taken = sorted({wanted[e["index"]] for e in errors})
            mine = [name for name in wanted if name not in taken]
            if mine:
                locks.delete_many({"_id": {"$in": mine}})
            if locks.delete_many(_lapsed(taken, now)).deleted_count:
                continue  # a dead holder's lease: taken over at once
            if time.monotonic() > deadline:
                raise _refusal(locks, taken, now) from None
            time.sleep(delay * (1 + random.random()))  # noqa: S311 - jitter, not security
            delay = min(delay * 2, 0.05)
    try:
        yield
    finally:
        locks.delete_many({"_id": {"$in": wanted}})


def _lapsed(names: list[str], now: dt.datetime) -> dict:
    """The filter of those locks whose lease is over (one written before leases had
    `expires`: LEASE after it was taken)."""
    return {
        "_id": {"$in": names},
        "$or": [
            {"expires": {"$lt": now}},
            {"expires": None, "at": {"$lt": now - dt.timedelta(seconds=LEASE)}},
        ],
    }


def _refusal(locks, names: list[str], now: dt.datetime) -> Exception:
    """409 busy while a holder may be alive; 503 with the seconds until the lease lapses
    when every holder has held its lock longer than a live one would (gone)."""
    holders = list(locks.find({"_id": {"$in": names}}))
    live = [_when(h, "live_until", HOLD) for h in holders]
    if not holders or any(until >= now for until in live):
        return Conflict("the record is busy; try again", code="busy")
    lapses = max(_when(h, "expires", LEASE) for h in holders)
    seconds = max(1, math.ceil((lapses - now).total_seconds()))
    return Unavailable(
        f"a request that held this record was cut off; retry in {seconds} s", retry_after=seconds
    )


def _when(lock: dict, field: str, after: float) -> dt.datetime:
    """A lock's `live_until`/`expires`; for a lock from before leases, `after` seconds
    after it was taken."""
    value = lock.get(field) or lock["at"] + dt.timedelta(seconds=after)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
