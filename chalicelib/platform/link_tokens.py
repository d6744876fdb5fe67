"""Secret link tokens the server can show again without storing them.

A link that must be copied again later (a buyer's seller link, an order form's link) keeps
a random `link_nonce` next to the SHA-256 of its token; the token is
base64url(HMAC-SHA256(links key, purpose + ":" + nonce)), 43 URL-safe characters like
`secrets.token_urlsafe(32)`. The links key is HMAC-SHA256(JWT_SECRET, "links"): a sub-key,
so the JWT secret itself signs only sessions. A copy of the database alone (nonce and
hash) opens no link; the secret alone names none. Rotating JWT_SECRET leaves issued links
working (their hash is stored) but they can no longer be shown: `shown` then says None.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

from chalicelib.platform.config import get_settings

NONCE_BYTES = 16  # 128 random bits per link; the token's strength is the key's


@functools.lru_cache(maxsize=2)
def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"links", hashlib.sha256).digest()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def new_nonce() -> str:
    return secrets.token_urlsafe(NONCE_BYTES)


def token(purpose: str, nonce: str) -> str:
    mac = hmac.new(_key(get_settings().jwt_secret), f"{purpose}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def new(purpose: str) -> tuple[str, dict]:
    """A new token and the fields its document stores (never the token)."""
    nonce = new_nonce()
    tok = token(purpose, nonce)
    return tok, {"link_nonce": nonce, "token_hash": hash_token(tok)}


def shown(purpose: str, doc: dict) -> str | None:
    """The token of a stored link, recomputed; None when it cannot be: made before links
    had a nonce, or under another JWT_SECRET (its hash then does not match)."""
    nonce = doc.get("link_nonce")
    if not nonce:
        return None
    tok = token(purpose, nonce)
    return tok if hmac.compare_digest(hash_token(tok), doc.get("token_hash") or "") else None
