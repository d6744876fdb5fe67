"""Failed-login limits per email, per client address, and per both.

Every attempt is recorded BEFORE the password is checked (an insert, atomic on every
server), then the attempts in the window are counted: parallel guesses see each other,
so no more than the limit are ever checked (a race may refuse one too many, never let
one too many through). A refused attempt is removed again, so hammering a locked
account does not extend its lock: once the window has passed since the failures, one
try is allowed again. A correct password clears that email's failures.

The per-(email, client) limit is the tight one. Someone guessing from another address
therefore does not lock the owner out; the looser per-email limit only stops guessing
spread over many addresses, and a password reset clears it.
"""

from __future__ import annotations

import datetime as dt

from bson import ObjectId

from chalicelib.platform import clock
from chalicelib.platform.db import get_db
from chalicelib.platform.errors import RateLimited

WINDOW = dt.timedelta(minutes=15)
PER_EMAIL_AND_CLIENT = 5  # the contract's "5 failures for one email"
PER_CLIENT = 30  # one address trying many emails
PER_EMAIL = 50  # one email tried from many addresses


def begin(email_lower: str, client: str) -> ObjectId:
    """Record an attempt and enforce the limits; returns the attempt's id."""
    coll = get_db().login_attempts
    now = clock.now()
    attempt = coll.insert_one({"email_lower": email_lower, "client": client, "at": now}).inserted_id
    since = {"$gt": now - WINDOW}  # exact even where the TTL index is missing
    checks = (
        ({"email_lower": email_lower, "client": client}, PER_EMAIL_AND_CLIENT),
        ({"client": client}, PER_CLIENT),
        ({"email_lower": email_lower}, PER_EMAIL),
    )
    for query, limit in checks:
        if coll.count_documents({**query, "at": since}) > limit:
            coll.delete_one({"_id": attempt})
            raise RateLimited("too many failed logins; try again in 15 minutes")
    return attempt


def succeeded(email_lower: str) -> None:
    """The right password: that email's failures (and this attempt) are forgotten."""
    get_db().login_attempts.delete_many({"email_lower": email_lower})
