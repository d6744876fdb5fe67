"""Seller accounts: signup, login, sessions (short access token + rotating refresh
token), password change and reset by email, profile."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from typing import ClassVar

from bson import ObjectId

from chalicelib.accounts import login_limits, members, sessions
from chalicelib.accounts.passwords import check_strength, dummy_hash, hash_password, verify_password
from chalicelib.accounts.schemas import (
    LoginIn,
    MemberAcceptIn,
    PasswordChangeIn,
    PasswordResetIn,
    PasswordResetRequestIn,
    SellerPatch,
    SignupIn,
)
from chalicelib.platform import bus, clock, locks, mailer, mongo, ratelimit, store
from chalicelib.platform.config import get_settings
from chalicelib.platform.db import get_db
from chalicelib.platform.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from chalicelib.platform.ids import object_id

# Tokens are issued here and checked by the platform (the web edge reads them):
# `auth.authenticate` is named for callers that hold a token (tests, scripts).
from chalicelib.platform.principal import DEFAULT_CURRENCY, JWT_ALG, Principal
from chalicelib.platform.principal import authenticate as authenticate

RESET_LIFETIME = dt.timedelta(minutes=30)
RESET_EMAILS_PER_HOUR = 3
# Like "email me my link": the answer takes as long whether or not a mail went out.
RESET_FLOOR_SECONDS = 0.6


@dataclass(frozen=True)
class ShopProfileChanged(bus.Event):
    """The seller changed `fields` of their profile. Handlers read the seller again, so
    a retry or a replay writes the current values."""

    attempts: ClassVar[int] = 3
    seller_id: ObjectId
    fields: tuple[str, ...]
    currency_changed: bool


RESET_ACCEPTED = {
    "status": "accepted",
    "message": "If this email has an account, a link to choose a new password is on its way.",
}


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:40] or "shop"


def issue_token(
    seller: dict, session_id: ObjectId | str | None = None, member: dict | None = None
) -> tuple[str, dt.datetime]:
    """A short-lived access token. It names the session, so a password change can end
    every other session; the owner's is never looked up, so their requests cost no
    database command. A member's names the member, their role and the generation the
    session began at (`member_gen`, the session's): principal.authenticate reads the
    member once per request, so a removal or role change stops it at once."""
    s = get_settings()
    now = clock.now()
    expires = now + dt.timedelta(seconds=s.token_ttl_seconds)
    claims = {
        "sub": str(seller["_id"]),
        "tz": seller.get("timezone", clock.DEFAULT_TZ),
        "cur": seller.get("currency", DEFAULT_CURRENCY),
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    if session_id is not None:
        claims["sid"] = str(session_id)
    if member is not None:
        claims.update(mid=str(member["_id"]), role=member["role"], mg=member["gen"])
    import jwt  # on first use: the package also loads its JWKS client (http.client), ~25 ms of a cold start

    return jwt.encode(claims, s.jwt_secret, algorithm=JWT_ALG), expires


def _tokens(seller: dict, session_id: ObjectId, refresh_token: str, member: dict | None = None) -> dict:
    token, expires = issue_token(seller, session_id, member)
    return {"token": token, "expires_at": clock.iso(expires), "refresh_token": refresh_token}


def seller_out(doc: dict) -> dict:
    return {
        "id": str(doc["_id"]),
        "email": doc["email"],
        "shop_name": doc["shop_name"],
        "shop_slug": doc["shop_slug"],
        "timezone": doc.get("timezone", clock.DEFAULT_TZ),
        "currency": doc.get("currency", DEFAULT_CURRENCY),
        "language": doc.get("language", mailer.DEFAULT_LANGUAGE),
        "payment_instructions": doc.get("payment_instructions"),
        "notify_buyers": doc.get("notify_buyers", True),
        "member": None,  # the shop's own login; `me` names the member who calls
    }


def signup(data: SignupIn) -> dict:
    if not get_settings().allow_signup:
        raise Forbidden("sign-up is closed on this site", code="signup_disabled")
    return create_seller(data)


def create_seller(data: SignupIn) -> dict:
    """Also used by `manage create-seller`, for sites where public sign-up is off."""
    sellers = get_db().sellers
    email_lower = data.email.lower()
    check_strength(data.password, [data.email, email_lower.split("@")[0], data.shop_name])
    if sellers.find_one({"email_lower": email_lower}, {"_id": 1}):
        raise Conflict("an account with this email already exists", code="email_taken")
    now = clock.now()
    doc = {
        "email": data.email,
        "email_lower": email_lower,
        "password_hash": hash_password(data.password),
        "shop_name": data.shop_name,
        "timezone": clock.DEFAULT_TZ,
        "currency": DEFAULT_CURRENCY,
        "created_at": now,
        "updated_at": now,
    }
    # Sellers and members share emails' one login (no unique index spans both collections):
    # a sign-up and an invite of one email take turns, on every server.
    with locks.held(store.account_email_key(email_lower)):
        if members.email_in_use(email_lower):
            raise Conflict("an account with this email already exists", code="email_taken")
        base = slugify(data.shop_name)
        for attempt in range(6):
            doc["shop_slug"] = base if attempt == 0 else f"{base}-{secrets.token_hex(3)}"
            doc.pop("_id", None)
            try:
                sellers.insert_one(doc)
                break
            except mongo.DuplicateKeyError:
                # Either a concurrent signup took the email, or the slug is taken.
                if sellers.find_one({"email_lower": email_lower}, {"_id": 1}):
                    raise Conflict("an account with this email already exists", code="email_taken") from None
        else:  # pragma: no cover - six random slugs colliding
            raise Conflict("could not pick a shop address, try again")
    refresh_token, session_id = sessions.start(doc["_id"])
    return {"seller": seller_out(doc), **_tokens(doc, session_id, refresh_token)}


def login(data: LoginIn, client: str) -> dict:
    """`client` is the caller's address (API Gateway's sourceIp), for the failure limits."""
    email_lower = data.email.strip().lower()
    login_limits.begin(email_lower, client)
    seller = get_db().sellers.find_one({"email_lower": email_lower})
    # Both looked up whoever it is: a seller's email answers no faster than another one.
    member = members.login_for(email_lower)
    account = seller or member
    ok = verify_password(data.password, account["password_hash"] if account else dummy_hash())
    if not (account and ok):
        raise Unauthorized("email or password is wrong", code="invalid_credentials")
    login_limits.succeeded(email_lower)
    if seller is None:
        return _member_login(member)
    refresh_token, session_id = sessions.start(seller["_id"])
    return _tokens(seller, session_id, refresh_token)


def _member_login(member: dict) -> dict:
    """A member's session in their shop. Started, then checked: a removal or role change
    that committed before the check leaves this session ended and answers 401; one after
    it bumps the generation the session names, which ends it too."""
    seller = get_db().sellers.find_one({"_id": member["seller_id"]}, {"timezone": 1, "currency": 1})
    if seller is None:
        raise Unauthorized("email or password is wrong", code="invalid_credentials")
    refresh_token, session_id = sessions.start(seller["_id"], member)
    if members.current(member["_id"], member["gen"]) is None:
        sessions.revoke(session_id, reason="member_ended")
        raise _member_ended()
    return _tokens(seller, session_id, refresh_token, member)


def _member_ended() -> Unauthorized:
    return Unauthorized("your access to this shop has changed; log in again", code="member_ended")


def accept_invite(data: MemberAcceptIn) -> dict:
    """Join the shop with the invite link and a new password; logged in at once."""
    return _member_login(members.accept(data))


def refresh(refresh_token: str) -> dict:
    """A new access token and the next refresh token; the one given stops working."""
    new_refresh, session = sessions.rotate(refresh_token)
    session_id = session["_id"]
    seller = get_db().sellers.find_one({"_id": session["seller_id"]}, {"timezone": 1, "currency": 1})
    if seller is None:
        sessions.revoke(session_id, reason="seller_gone")
        raise Unauthorized("the session has ended; log in again", code="invalid_refresh_token")
    member = None
    if session.get("member_id") is not None:
        # The member as they were when the session began: removed or re-roled since, it ends.
        member = members.current(session["member_id"], session.get("member_gen"))
        if member is None:
            sessions.revoke(session_id, reason="member_ended")
            raise _member_ended()
    tokens = _tokens(seller, session_id, new_refresh, member)
    sessions.check_live(session_id)  # a logout since rotate() gets no token
    return tokens


def logout(refresh_token: str) -> None:
    sessions.end(refresh_token)


def change_password(principal: Principal, data: PasswordChangeIn, client: str) -> None:
    """Needs the current password (limited like logins); ends every other session."""
    if principal.member_id is not None:
        return _change_member_password(principal, data, client)
    seller = _load(principal.seller_id)
    login_limits.begin(seller["email_lower"], client)
    if not verify_password(data.current_password, seller["password_hash"]):
        raise ValidationFailed(
            "the current password is wrong",
            code="wrong_password",
            details=[{"field": "current_password", "message": "wrong password"}],
        )
    login_limits.succeeded(seller["email_lower"])
    _set_password(seller, data.new_password)
    keep = ObjectId(principal.session_id) if principal.session_id else None
    sessions.revoke_all(seller["_id"], reason="password_changed", keep=keep)


def _change_member_password(principal: Principal, data: PasswordChangeIn, client: str) -> None:
    """A member changes their own password (never the owner's)."""
    member = members.current(principal.member_id, principal.member_gen)
    if member is None:
        raise _member_ended()
    login_limits.begin(member["email_lower"], client)
    if not verify_password(data.current_password, member["password_hash"]):
        raise ValidationFailed(
            "the current password is wrong",
            code="wrong_password",
            details=[{"field": "current_password", "message": "wrong password"}],
        )
    login_limits.succeeded(member["email_lower"])
    members.set_password(member, data.new_password)
    keep = ObjectId(principal.session_id) if principal.session_id else None
    sessions.revoke_all(member["seller_id"], reason="password_changed", keep=keep, member_id=member["_id"])


def _set_password(seller: dict, password: str) -> None:
    check_strength(password, [seller["email"], seller["email_lower"].split("@")[0], seller["shop_name"]])
    get_db().sellers.update_one(
        {"_id": seller["_id"]},
        {"$set": {"password_hash": hash_password(password), "password_changed_at": clock.now()}},
    )


# --- forgotten password ---------------------------------------------------------------


def _reset_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def reset_url(token: str) -> str:
    # After `#`, so the token never reaches the static host's logs or a Referer header.
    return f"{get_settings().public_site_url}/index.html#reset={token}"


def _send_reset(email_lower: str) -> None:
    """A seller's email, or an active member's (one email is one login across the site):
    both are looked up whoever it is, so a member's email answers no slower."""
    db = get_db()
    seller = db.sellers.find_one({"email_lower": email_lower}, {"email": 1, "shop_name": 1, "language": 1})
    member = members.login_for(email_lower)
    if not ratelimit.take_slot("password_reset", email_lower, RESET_EMAILS_PER_HOUR, dt.timedelta(hours=1)):
        return
    if seller is None and member is not None:
        # The member's link, in their shop's language and name.
        seller = db.sellers.find_one({"_id": member["seller_id"]}, {"shop_name": 1, "language": 1})
        if seller is not None:
            seller = {**seller, "email": member["email"]}
    else:
        member = None
    if seller is None:
        return
    token = secrets.token_urlsafe(32)
    now = clock.now()
    # Only the newest link works: an older unused one is withdrawn (the owner's and each
    # member's links apart: `member_id` null is the shop's own login).
    who = {"seller_id": seller["_id"], "member_id": member["_id"] if member else None}
    # Two asks at once take turns, or both could withdraw first and both insert after.
    with locks.held(store.password_reset_ask_key(who["seller_id"], who["member_id"])):
        db.password_resets.delete_many({**who, "used_at": None})
        db.password_resets.insert_one(
            {
                "_id": _reset_hash(token),
                **who,
                "created_at": now,
                "expires_at": now + RESET_LIFETIME,
                "used_at": None,
            }
        )
    email = mailer.password_reset_email(
        to=seller["email"],
        shop_name=seller["shop_name"],
        url=reset_url(token),
        language=seller.get("language", mailer.DEFAULT_LANGUAGE),
    )
    try:
        mailer.send(email)
    except mailer.MailError as exc:
        mailer.log.warning("password reset email not sent: %s", exc)
        db.password_resets.delete_one({"_id": _reset_hash(token)})


def request_password_reset(data: PasswordResetRequestIn) -> dict:
    """Always the same answer, in about the same time, for known and unknown emails."""
    started = time.monotonic()
    try:
        _send_reset(data.email.strip().lower())
    finally:
        time.sleep(max(0.0, RESET_FLOOR_SECONDS - (time.monotonic() - started)))
    return dict(RESET_ACCEPTED)


def reset_password(data: PasswordResetIn) -> None:
    """A single-use link from the email: sets the password, ends every session and clears
    the failed-login count, so a locked-out owner is back in."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{43}", data.token):
        raise _bad_reset()
    digest = _reset_hash(data.token)
    db = get_db()
    now = clock.now()
    pending = db.password_resets.find_one({"_id": digest, "used_at": None, "expires_at": {"$gt": now}})
    if pending and pending.get("member_id") is not None:
        return _reset_member_password(pending, data.new_password)
    seller = db.sellers.find_one({"_id": pending["seller_id"]}) if pending else None
    if seller is None:
        raise _bad_reset()
    # The strength check comes before the link is spent: a refused password keeps it usable.
    check_strength(
        data.new_password, [seller["email"], seller["email_lower"].split("@")[0], seller["shop_name"]]
    )
    from chalicelib.platform import store

    spent = store.find_one_and_update(
        db.password_resets,
        {"_id": digest, "used_at": None, "expires_at": {"$gt": now}},
        {"$set": {"used_at": now}},
        lock=store.password_reset_key(digest),
    )
    if spent is None:  # used by a parallel request a moment ago
        raise _bad_reset()
    _set_password(seller, data.new_password)
    sessions.revoke_all(seller["_id"], reason="password_reset")
    login_limits.succeeded(seller["email_lower"])


def _spend_reset(digest: str, now: dt.datetime) -> None:
    spent = store.find_one_and_update(
        get_db().password_resets,
        {"_id": digest, "used_at": None, "expires_at": {"$gt": now}},
        {"$set": {"used_at": now}},
        lock=store.password_reset_key(digest),
    )
    if spent is None:  # used by a parallel request a moment ago
        raise _bad_reset()


def _reset_member_password(pending: dict, password: str) -> None:
    """A member's link: only while they are still a member. The password is set with a new
    generation in one conditional write (members.reset_password), so the member's access
    tokens and sessions from before stop at once, and a removal at any moment wins: a
    removed member's link sets nothing (400)."""
    member = members.active(pending["member_id"])
    if member is None:
        raise _bad_reset()
    members.check_password(member, password)  # before the link is spent: a refusal keeps it
    _spend_reset(pending["_id"], clock.now())
    if not members.reset_password(member, password):
        raise _bad_reset()
    sessions.revoke_all(member["seller_id"], reason="password_reset", member_id=member["_id"])
    login_limits.succeeded(member["email_lower"])


def _bad_reset() -> ValidationFailed:
    return ValidationFailed(
        "this password link is not valid any more (used, replaced or older than 30 minutes); ask for a new one",
        code="invalid_reset_token",
    )


def _load(seller_id: str) -> dict:
    doc = get_db().sellers.find_one({"_id": object_id(seller_id, "seller")})
    if doc is None:
        raise NotFound("seller not found")
    return doc


def me(principal: Principal) -> dict:
    out = seller_out(_load(principal.seller_id))
    if principal.member_id is not None:
        member = members.current(principal.member_id, principal.member_gen)
        if member is None:
            raise _member_ended()
        out["member"] = _me_member(member)
    return out


def _me_member(member: dict) -> dict:
    return {"id": str(member["_id"]), "email": member["email"], "role": member["role"]}


def update_me(principal: Principal, patch: SellerPatch) -> dict:
    """Returns the seller and a fresh token: time zone and currency travel in the token.
    Only for a session still going: an access token outliving its session (logout,
    password change) must not renew itself here forever. Shop settings are the owner's."""
    members.require_owner(principal)
    member = None
    if principal.member_id is not None:  # an owner-role member keeps their member token
        member = members.current(principal.member_id, principal.member_gen)
        if member is None:
            raise _member_ended()
    sessions.check_live(principal.session_id)
    changes = patch.model_dump(exclude_unset=True)
    changes["updated_at"] = clock.now()
    doc = get_db().sellers.find_one_and_update(
        {"_id": object_id(principal.seller_id, "seller")},
        {"$set": changes},
        return_document=mongo.ReturnDocument.AFTER,
    )
    if doc is None:
        raise NotFound("seller not found")
    # Copies of the shop (tracking links, order forms) and costs in the shop's currency
    # (orders) are refreshed by the event's handlers, after this write.
    changed = tuple(sorted(k for k in changes if k != "updated_at"))
    currency_changed = changes.get("currency", principal.currency) != principal.currency
    bus.record(ShopProfileChanged(doc["_id"], changed, currency_changed))
    token, _ = issue_token(doc, principal.session_id, member)
    sessions.check_live(principal.session_id)  # made, then checked: see sessions.check_live
    out = seller_out(doc)
    if member is not None:
        out["member"] = _me_member(member)
    return {"seller": out, "token": token}
