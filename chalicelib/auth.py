"""Seller accounts: signup, login with a failure limit, signed tokens, profile."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass

import jwt
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from . import clock, tracking
from .config import get_settings
from .db import get_db
from .errors import Conflict, Forbidden, NotFound, RateLimited, Unauthorized
from .ids import object_id
from .models import LoginIn, SellerPatch, SignupIn

# scrypt cost: ~0.1 s and 32 MiB per hash on one core. Slow enough to make offline
# guessing expensive, fast enough for a 128 MB+ Lambda. Parameters are stored with the
# hash so they can be raised later without breaking old accounts.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
DEFAULT_CURRENCY = "TWD"
JWT_ALG = "HS256"


@dataclass(frozen=True)
class Principal:
    """Who is calling, read from the token alone (no database call)."""

    seller_id: str
    timezone: str
    currency: str


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=64 * 1024 * 1024
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both failures cost the same time.
    Made on first use, not at import: cold start stays fast."""
    return hash_password(secrets.token_urlsafe(16))


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:40] or "shop"


def issue_token(seller: dict) -> tuple[str, dt.datetime]:
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
    return jwt.encode(claims, s.jwt_secret, algorithm=JWT_ALG), expires


def authenticate(authorization: str | None) -> Principal:
    """Check a `Bearer` token's signature and expiry. No database call."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("missing bearer token")
    token = authorization[len("Bearer ") :].strip()
    try:
        claims = jwt.decode(
            token,
            get_settings().jwt_secret,
            algorithms=[JWT_ALG],
            options={"require": ["sub", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token has expired", code="token_expired") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("token is invalid") from None
    return Principal(
        seller_id=claims["sub"],
        timezone=claims.get("tz", clock.DEFAULT_TZ),
        currency=claims.get("cur", DEFAULT_CURRENCY),
    )


def seller_out(doc: dict) -> dict:
    return {
        "id": str(doc["_id"]),
        "email": doc["email"],
        "shop_name": doc["shop_name"],
        "shop_slug": doc["shop_slug"],
        "timezone": doc.get("timezone", clock.DEFAULT_TZ),
        "currency": doc.get("currency", DEFAULT_CURRENCY),
        "language": doc.get("language", tracking.DEFAULT_LANGUAGE),
    }


def signup(data: SignupIn) -> dict:
    if not get_settings().allow_signup:
        raise Forbidden("sign-up is closed on this site", code="signup_disabled")
    return create_seller(data)


def create_seller(data: SignupIn) -> dict:
    """Also used by `manage create-seller`, for sites where public sign-up is off."""
    sellers = get_db().sellers
    email_lower = data.email.lower()
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
    base = slugify(data.shop_name)
    for attempt in range(6):
        doc["shop_slug"] = base if attempt == 0 else f"{base}-{secrets.token_hex(3)}"
        doc.pop("_id", None)
        try:
            sellers.insert_one(doc)
            break
        except DuplicateKeyError:
            # Either a concurrent signup took the email, or the slug is taken.
            if sellers.find_one({"email_lower": email_lower}, {"_id": 1}):
                raise Conflict("an account with this email already exists", code="email_taken") from None
    else:  # pragma: no cover - six random slugs colliding
        raise Conflict("could not pick a shop address, try again")
    token, _ = issue_token(doc)
    return {"seller": seller_out(doc), "token": token}


def login(data: LoginIn) -> dict:
    db = get_db()
    email_lower = data.email.strip().lower()
    since = clock.now() - FAILURE_WINDOW
    # The time filter keeps the limit exact even where the TTL index is missing.
    failures = db.login_failures.count_documents({"email_lower": email_lower, "at": {"$gte": since}})
    if failures >= MAX_FAILURES:
        raise RateLimited("too many failed logins; try again in 15 minutes")
    seller = db.sellers.find_one({"email_lower": email_lower})
    ok = verify_password(data.password, seller["password_hash"] if seller else _dummy_hash())
    if not (seller and ok):
        db.login_failures.insert_one({"email_lower": email_lower, "at": clock.now()})
        raise Unauthorized("email or password is wrong", code="invalid_credentials")
    token, expires = issue_token(seller)
    return {"token": token, "expires_at": clock.iso(expires)}


def _load(seller_id: str) -> dict:
    doc = get_db().sellers.find_one({"_id": object_id(seller_id, "seller")})
    if doc is None:
        raise NotFound("seller not found")
    return doc


def me(principal: Principal) -> dict:
    return seller_out(_load(principal.seller_id))


def update_me(principal: Principal, patch: SellerPatch) -> dict:
    """Returns the seller and a fresh token: time zone and currency travel in the token."""
    changes = patch.model_dump(exclude_unset=True)
    changes["updated_at"] = clock.now()
    doc = get_db().sellers.find_one_and_update(
        {"_id": object_id(principal.seller_id, "seller")},
        {"$set": changes},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        raise NotFound("seller not found")
    if changes.keys() & {"shop_name", "currency", "language"}:
        tracking.seller_changed(doc)  # buyer tracking pages show these
    token, _ = issue_token(doc)
    return {"seller": seller_out(doc), "token": token}
