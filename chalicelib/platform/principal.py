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


@dataclass(frozen=True)
class Principal:
    """Who is calling, read from the token alone (no database call)."""

    seller_id: str
    timezone: str
    currency: str
    session_id: str | None = None

    @property
    def actor_id(self) -> str:
        """Who acts, as an order's history records it (`by`): the seller for now; a staff
        account's token will name its own actor while acting for its seller."""
        return self.seller_id


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
    return Principal(
        seller_id=claims["sub"],
        timezone=claims.get("tz", clock.DEFAULT_TZ),
        currency=claims.get("cur", DEFAULT_CURRENCY),
        session_id=claims.get("sid"),
    )
