"""Login sessions with rotating refresh tokens.

A login starts a session. The page holds a short-lived access token (a JWT checked with
no database call) and a refresh token `<session_id>.<secret>`; only sha256(secret) is
stored, one document per issued token. A refresh spends the token it was given and
issues the next one. Presenting a spent token again means two parties hold the same
session (a copied token), so the whole session ends: the thief and the owner both have
to log in again, and the owner's password still works while the thief's copy does not.

The database is touched on login, refresh, logout and password changes only, so ordinary
requests still cost no command for auth.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from bson import ObjectId

from chalicelib.platform import clock, store
from chalicelib.platform.db import get_db
from chalicelib.platform.errors import Unauthorized

IDLE_LIFETIME = dt.timedelta(days=30)  # a session unused this long ends by itself
TOKEN_RE = re.compile(r"^([0-9a-f]{24})\.([A-Za-z0-9_-]{43})$")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _invalid() -> Unauthorized:
    return Unauthorized("the session has ended; log in again", code="invalid_refresh_token")


def _issue(session_id: ObjectId, seller_id: ObjectId, now: dt.datetime) -> str:
    secret = secrets.token_urlsafe(32)
    get_db().refresh_tokens.insert_one(
        {
            "_id": _hash(secret),
            "session_id": session_id,
            "seller_id": seller_id,
            "created_at": now,
            "expires_at": now + IDLE_LIFETIME,
            "spent_at": None,
        }
    )
    return f"{session_id}.{secret}"


def start(seller_id: ObjectId, member: dict | None = None) -> tuple[str, ObjectId]:
    """A new session: returns (refresh token, session id). A member's session (issue 31)
    keeps the member and the generation it began at: a removal or a role change bumps the
    member's generation, which ends this session's refreshes and tokens."""
    now = clock.now()
    session_id = ObjectId()
    doc = {
        "_id": session_id,
        "seller_id": seller_id,
        "created_at": now,
        "last_used_at": now,
        "expires_at": now + IDLE_LIFETIME,
        "revoked_at": None,
    }
    if member is not None:
        doc["member_id"], doc["member_gen"] = member["_id"], member["gen"]
    get_db().sessions.insert_one(doc)
    return _issue(session_id, seller_id, now), session_id


def _parse(raw: str) -> tuple[ObjectId, str]:
    match = TOKEN_RE.match(raw or "")
    if not match:
        raise _invalid()
    return ObjectId(match.group(1)), _hash(match.group(2))


def rotate(raw: str) -> tuple[str, dict]:
    """Spend a refresh token and issue the next: (refresh token, the session's document)."""
    session_id, digest = _parse(raw)
    db = get_db()
    now = clock.now()
    # Spend it in one conditional update, so of two refreshes with one token only one wins.
    spent = store.find_one_and_update(
        db.refresh_tokens,
        {"_id": digest, "session_id": session_id, "spent_at": None, "expires_at": {"$gt": now}},
        {"$set": {"spent_at": now}},
        lock=store.refresh_token_key(digest),
    )
    if spent is None:
        known = db.refresh_tokens.find_one({"_id": digest, "session_id": session_id}, {"spent_at": 1})
        if known is not None and known.get("spent_at") is not None:
            revoke(session_id, reason="refresh_token_reused")
            raise Unauthorized(
                "this sign-in was used from somewhere else; log in again", code="refresh_token_reused"
            )
        raise _invalid()
    session = db.sessions.find_one_and_update(
        {"_id": session_id, "revoked_at": None, "expires_at": {"$gt": now}},
        {"$set": {"last_used_at": now, "expires_at": now + IDLE_LIFETIME}},
    )
    if session is None:
        raise _invalid()
    return _issue(session_id, session["seller_id"], now), session


def check_live(session_id: ObjectId | str | None) -> None:
    """401 unless the session is still going. Called after a token has been made and
    before it is handed out: a session that ends at any moment before this read gets no
    token, so none is ever handed out for a session that had already ended."""
    try:
        oid = ObjectId(session_id) if session_id else None
    except (TypeError, ValueError):  # bson's InvalidId is a ValueError
        oid = None
    if oid is None:  # an access token of no session cannot be renewed
        raise _invalid()
    live = get_db().sessions.find_one(
        {"_id": oid, "revoked_at": None, "expires_at": {"$gt": clock.now()}}, {"_id": 1}
    )
    if live is None:
        raise _invalid()


def end(raw: str) -> None:
    """Logout: any token of the session (current or spent) ends it. Unknown: nothing to do."""
    session_id, digest = _parse(raw)
    if get_db().refresh_tokens.find_one({"_id": digest, "session_id": session_id}, {"_id": 1}):
        revoke(session_id, reason="logout")


def revoke(session_id: ObjectId, reason: str) -> None:
    get_db().sessions.update_one(
        {"_id": session_id, "revoked_at": None},
        {"$set": {"revoked_at": clock.now(), "revoked_reason": reason}},
    )


def revoke_all(
    seller_id: ObjectId, reason: str, keep: ObjectId | None = None, member_id: ObjectId | None = None
) -> int:
    """End every session of one login, except `keep` (the one changing the password): the
    owner's (`member_id` None: a member's sessions are not the owner's) or a member's."""
    query: dict = {"seller_id": seller_id, "member_id": member_id, "revoked_at": None}
    if keep is not None:
        query["_id"] = {"$ne": keep}
    result = get_db().sessions.update_many(
        query, {"$set": {"revoked_at": clock.now(), "revoked_reason": reason}}
    )
    return result.modified_count
