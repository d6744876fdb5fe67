"""Who is calling: the seller a request acts for, as the access token says.

Its own module so that every domain module can name it without importing `auth`, and so
that the web edge (platform/web.py) checks a token without knowing any domain package.
`accounts.auth` issues the tokens this module reads."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.platform import clock
from chalicelib.platform.config import get_settings
from chalicelib.platform.errors import Unauthorized

DEFAULT_CURRENCY = "TWD"
JWT_ALG = "HS256"
OWNER, STAFF = "owner", "staff"


@dataclass(frozen=True)
class Principal:
    """Who is calling, read from the token alone (no database call)."""

    seller_id: str
    timezone: str
    currency: str
    session_id: str | None = None
    # A member's token (issue 31) names the member and their role; the shop's own owner
    # login has no member and the role "owner".
    member_id: str | None = None
    role: str = OWNER
    member_gen: int | None = None  # the member's generation the token was issued at

    @property
    def actor_id(self) -> str:
        """Who acts, as an order's history records it (`by`): the member when a member
        calls, otherwise the seller."""
        return self.member_id or self.seller_id

    @property
    def is_owner(self) -> bool:
        return self.role == OWNER


def authenticate(authorization: str | None) -> Principal:
    """Check a `Bearer` token's signature and expiry. No database call."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("missing bearer token")
    token = authorization[len("Bearer ") :].strip()
    import jwt  # on first use: the package also loads its JWKS client (http.client), ~25 ms of a cold start

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
    member_id = claims.get("mid")
    if member_id is not None:
        _check_member(claims)
    return Principal(
        seller_id=claims["sub"],
        timezone=claims.get("tz", clock.DEFAULT_TZ),
        currency=claims.get("cur", DEFAULT_CURRENCY),
        session_id=claims.get("sid"),
        member_id=member_id,
        role=claims.get("role", STAFF) if member_id is not None else OWNER,
        member_gen=claims.get("mg"),
    )


def _check_member(claims: dict) -> None:
    """A member's token works while the member is active at the generation it names:
    removal and role changes bump `gen` (accounts/members.py owns the collection), so
    every token issued before stops at once. One read by _id per member request; the
    owner's tokens stay free of database calls."""
    from bson import ObjectId

    from chalicelib.platform.db import get_db

    try:
        query = {
            "_id": ObjectId(claims["mid"]),
            "seller_id": ObjectId(claims["sub"]),
            "gen": int(claims["mg"]),
            "status": "active",
        }
    except (KeyError, TypeError, ValueError):
        raise Unauthorized("token is invalid") from None
    if get_db().members.find_one(query, {"_id": 1}) is None:
        raise Unauthorized("your access to this shop has changed; log in again", code="member_ended")
