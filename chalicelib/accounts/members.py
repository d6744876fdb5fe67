"""A shop's members (issue 31): helpers the owner invites, who log in to the owner's shop
with their own email and password and a role ("owner": everything, "staff": no costs,
settings or members). This module owns the `members` collection.

A member's document carries `gen`, a generation: every removal and role change bumps it
in the same write, and a member's access token, session and login name the generation
they began at (platform/principal.py checks it on each member request). So the write
that removes a member or changes their role is the moment everything they held stops.

One email is one login across the site: an email that is a seller's, or a member's of any
shop (invited or active), cannot be invited (409 `email_taken`). A removed member's email
is freed (`email_lower` is unset; `email` stays for the history that names them)."""

from __future__ import annotations

import datetime as dt
import re

from bson import ObjectId

from chalicelib.accounts import sessions
from chalicelib.accounts.passwords import check_strength, hash_password
from chalicelib.accounts.schemas import MemberAcceptIn, MemberIn, MemberInviteIn, MemberPatch
from chalicelib.platform import clock, link_tokens, locks, mailer, mongo, ratelimit, store
from chalicelib.platform.config import get_settings
from chalicelib.platform.db import get_db
from chalicelib.platform.errors import Conflict, Forbidden, Gone, NotFound, ValidationFailed
from chalicelib.platform.ids import object_id
from chalicelib.platform.principal import Principal

INVITE_LIFETIME = dt.timedelta(days=7)
# Invites email any address the owner types: a shop sends at most this many a day (more
# invites are still made; their link is returned, not emailed).
INVITE_EMAILS_PER_DAY = 20
PURPOSE = "member-invite"
INVITED, ACTIVE, REMOVED = "invited", "active", "removed"


def require_owner(principal: Principal) -> None:
    """403 `forbidden_for_role` unless the caller may do what only an owner may."""
    if not principal.is_owner:
        raise Forbidden("your role in this shop may not do this", code="forbidden_for_role")


def invite_url(token: str) -> str:
    # After `#`: the token never reaches the static host's logs or a Referer header.
    return f"{get_settings().public_site_url}/index.html#invite={token}"


def _taken() -> Conflict:
    return Conflict("an account with this email already exists", code="email_taken")


def _out(doc: dict, now: dt.datetime) -> dict:
    out = {
        "id": str(doc["_id"]),
        "email": doc["email"],
        "role": doc["role"],
        "status": doc["status"],
        "invited_at": clock.iso(doc["invited_at"]),
        "accepted_at": clock.iso(doc["accepted_at"]) if doc.get("accepted_at") else None,
    }
    if doc["status"] == INVITED:
        # An expired one says so: the owner sends a new link (POST /members/{id}/invite).
        out["invite_expired"] = doc["expires_at"] <= now
        token = None if out["invite_expired"] else link_tokens.shown(PURPOSE, doc)
        out["invite_url"] = invite_url(token) if token else None
        out["invite_expires_at"] = clock.iso(doc["expires_at"])
    return out


def invite(principal: Principal, data: MemberIn) -> dict:
    """A pending member and its one-use link; the link is emailed when mail is set up and
    returned either way, so the owner can send it by LINE."""
    require_owner(principal)
    db = get_db()
    email_lower = data.email.lower()
    if db.sellers.find_one({"email_lower": email_lower}, {"_id": 1}):
        raise _taken()
    seller = db.sellers.find_one(
        {"_id": object_id(principal.seller_id, "seller")}, {"shop_name": 1, "language": 1}
    )
    if seller is None:
        raise NotFound("seller not found")
    token, fields = link_tokens.new(PURPOSE)
    now = clock.now()
    doc = {
        "seller_id": seller["_id"],
        "email": data.email,
        "email_lower": email_lower,
        "role": data.role,
        "status": INVITED,
        "gen": 0,
        "invited_at": now,
        "expires_at": now + INVITE_LIFETIME,
        "invited_by": principal.actor_id,
        **fields,
    }
    with locks.held(store.account_email_key(email_lower)):
        if db.sellers.find_one({"email_lower": email_lower}, {"_id": 1}):
            raise _taken()
        try:
            db.members.insert_one(doc)
        except mongo.DuplicateKeyError:
            raise _taken() from None
    url = invite_url(token)
    return {"id": str(doc["_id"]), "invite_url": url, "emailed": _email_invite(seller, data.email, url)}


def _email_invite(seller: dict, to: str, url: str) -> bool:
    """Whether the invite went by email (mail set up, the shop's daily slots not spent)."""
    if not (
        mailer.configured().ready()
        and ratelimit.take_slot(
            "member_invite", str(seller["_id"]), INVITE_EMAILS_PER_DAY, dt.timedelta(days=1)
        )
    ):
        return False
    email = mailer.member_invite_email(
        to=to,
        shop_name=seller["shop_name"],
        url=url,
        language=seller.get("language", mailer.DEFAULT_LANGUAGE),
    )
    try:
        mailer.send(email)
        return True
    except mailer.MailError as exc:  # the owner still has the link to send by LINE
        mailer.log.warning("member invite email not sent: %s", exc)
        return False


def reissue(principal: Principal, member_id: str) -> dict:
    """A pending invite's new link (expired, or lost): valid 7 days from now, emailed again
    like the first; the old link stops working in the same write (its hash is replaced).
    A member who already joined is 409 `member_joined`."""
    require_owner(principal)
    doc = _find(principal, member_id)
    if doc["status"] != INVITED:
        raise Conflict("this member has already joined; no invite to send again", code="member_joined")
    token, fields = link_tokens.new(PURPOSE)
    now = clock.now()
    changed = store.find_one_and_update(
        get_db().members,
        {"_id": doc["_id"], "status": INVITED, "gen": doc["gen"]},
        {"$set": {**fields, "expires_at": now + INVITE_LIFETIME, "reissued_at": now}},
        lock=store.member_key(doc["_id"]),
        return_document=mongo.ReturnDocument.AFTER,
    )
    if changed is None:  # accepted or withdrawn a moment ago
        raise Conflict("the member is being changed by another request; try again")
    seller = get_db().sellers.find_one({"_id": doc["seller_id"]}, {"shop_name": 1, "language": 1}) or {}
    url = invite_url(token)
    emailed = bool(seller) and _email_invite(seller, doc["email"], url)
    return {"id": str(doc["_id"]), "invite_url": url, "emailed": emailed}


def list_members(principal: Principal) -> dict:
    require_owner(principal)
    now = clock.now()
    docs = (
        get_db()
        .members.find(
            {"seller_id": object_id(principal.seller_id, "seller"), "status": {"$in": [INVITED, ACTIVE]}}
        )
        .sort("_id", 1)
    )
    return {"items": [_out(d, now) for d in docs]}


def _find(principal: Principal, member_id: str) -> dict:
    doc = get_db().members.find_one(
        {
            "_id": object_id(member_id, "member"),
            "seller_id": object_id(principal.seller_id, "seller"),
            "status": {"$in": [INVITED, ACTIVE]},
        }
    )
    if doc is None:
        raise NotFound("member not found")
    return doc


def _end(doc: dict, update: dict, reason: str) -> dict | None:
    """Apply `update` and bump the generation in one write, only if nobody changed the
    member since it was read; then end their sessions (already useless: see the top)."""
    changed = store.find_one_and_update(
        get_db().members,
        {"_id": doc["_id"], "gen": doc["gen"], "status": doc["status"]},
        {**update, "$inc": {"gen": 1}},
        lock=store.member_key(doc["_id"]),
        return_document=mongo.ReturnDocument.AFTER,
    )
    if changed is not None:
        sessions.revoke_all(doc["seller_id"], reason=reason, member_id=doc["_id"])
    return changed


def change_role(principal: Principal, member_id: str, data: MemberPatch) -> dict:
    """Ends the member's sessions: they log in again with the new role."""
    require_owner(principal)
    for _ in range(5):
        doc = _find(principal, member_id)
        if doc["role"] == data.role:
            return _out(doc, clock.now())
        changed = _end(doc, {"$set": {"role": data.role, "updated_at": clock.now()}}, "role_changed")
        if changed is not None:
            return _out(changed, clock.now())
    raise Conflict("the member is being changed by another request; try again")


def remove(principal: Principal, member_id: str) -> None:
    """A pending invite is withdrawn; an active member's sessions end at once."""
    require_owner(principal)
    for _ in range(5):
        doc = _find(principal, member_id)
        update = {
            "$set": {"status": REMOVED, "removed_at": clock.now(), "removed_by": principal.actor_id},
            "$unset": {"email_lower": "", "token_hash": "", "link_nonce": ""},
        }
        if _end(doc, update, "member_removed") is not None:
            return
    raise Conflict("the member is being changed by another request; try again")


def _bad_invite() -> ValidationFailed:
    return ValidationFailed(
        "this invite link is not valid (unknown, already used or withdrawn); ask the shop for a new one",
        code="invalid_invite_token",
        details=[{"field": "token", "message": "unknown, used or withdrawn"}],
    )


def _pending(token: str, now) -> dict:
    """The pending invite a link's token names: 400 `invalid_invite_token` (malformed,
    unknown, used or withdrawn), 410 `invite_expired`."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{43}", token):
        raise _bad_invite()
    pending = get_db().members.find_one({"token_hash": link_tokens.hash_token(token), "status": INVITED})
    if pending is None:
        raise _bad_invite()
    if pending["expires_at"] <= now:
        raise Gone("this invite link is older than 7 days; ask the shop for a new one", code="invite_expired")
    return pending


def describe_invite(data: MemberInviteIn) -> dict:
    """POST /members/invite-info: the link's page names the shop and the email before the helper
    chooses a password (anyone holding the link may read this much; it spends nothing)."""
    pending = _pending(data.token, clock.now())
    shop = get_db().sellers.find_one({"_id": pending["seller_id"]}, {"shop_name": 1}) or {}
    return {
        "shop_name": shop.get("shop_name", ""),
        "email": pending["email"],
        "role": pending["role"],
        "expires_at": clock.iso(pending["expires_at"]),
    }


def accept(data: MemberAcceptIn) -> dict:
    """Spend an invite once: the member is active with the password chosen. Returns the
    member's document (auth.accept_invite logs them in)."""
    db = get_db()
    now = clock.now()
    pending = _pending(data.token, now)
    digest = pending["token_hash"]
    shop = db.sellers.find_one({"_id": pending["seller_id"]}, {"shop_name": 1}) or {}
    # Before the link is spent: a refused password keeps it usable.
    check_strength(
        data.password, [pending["email"], pending["email_lower"].split("@")[0], shop.get("shop_name", "")]
    )
    password_hash = hash_password(data.password)
    spent = store.find_one_and_update(
        db.members,
        {"_id": pending["_id"], "status": INVITED, "token_hash": digest, "expires_at": {"$gt": now}},
        {
            "$set": {"status": ACTIVE, "password_hash": password_hash, "accepted_at": now, "updated_at": now},
            "$unset": {"token_hash": "", "link_nonce": ""},
        },
        lock=store.member_key(pending["_id"]),
        return_document=mongo.ReturnDocument.AFTER,
    )
    if spent is None:  # accepted (or withdrawn) by a parallel request a moment ago
        raise _bad_invite()
    return spent


# --- what logins read (accounts/auth.py) ----------------------------------------------


def login_for(email_lower: str) -> dict | None:
    """The active member who logs in with this email, if any."""
    return get_db().members.find_one({"email_lower": email_lower, "status": ACTIVE})


def current(member_id: ObjectId | str, gen: int | None) -> dict | None:
    """The member while still active at generation `gen` (a session's, a token's)."""
    try:
        oid = ObjectId(member_id)
    except (TypeError, ValueError):
        return None
    return get_db().members.find_one({"_id": oid, "gen": gen, "status": ACTIVE})


def email_in_use(email_lower: str) -> bool:
    """A seller's sign-up refuses an email a member logs in with (or is invited with)."""
    return get_db().members.find_one({"email_lower": email_lower}, {"_id": 1}) is not None


def active(member_id) -> dict | None:
    """The member while active, at whatever generation (a password reset link's)."""
    return get_db().members.find_one({"_id": member_id, "status": ACTIVE})


def check_password(member: dict, password: str) -> None:
    check_strength(password, [member["email"], member["email"].lower().split("@")[0]])


def reset_password(member: dict, password: str) -> bool:
    """A forgotten password set by its emailed link: the new generation ends everything the
    member held (see the top). False when the member was removed (or changed) meanwhile:
    one conditional write, under the member's lock as removals and role changes are."""
    password_hash = hash_password(password)
    for _ in range(5):
        changed = store.find_one_and_update(
            get_db().members,
            {"_id": member["_id"], "status": ACTIVE, "gen": member["gen"]},
            {
                "$set": {"password_hash": password_hash, "password_changed_at": clock.now()},
                "$inc": {"gen": 1},
            },
            lock=store.member_key(member["_id"]),
        )
        if changed is not None:
            return True
        member = active(member["_id"])  # a role change bumped the generation: try its own
        if member is None:
            return False
    return False


def set_password(member: dict, password: str) -> None:
    check_password(member, password)
    get_db().members.update_one(
        {"_id": member["_id"]},
        {"$set": {"password_hash": hash_password(password), "password_changed_at": clock.now()}},
    )
