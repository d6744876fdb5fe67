"""Password hashing (scrypt) and the strength rule. Passwords are used exactly as typed:
never trimmed or normalised, so what the seller typed is what is checked."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

from chalicelib.platform.errors import ValidationFailed

# scrypt cost: ~0.1 s and 32 MiB per hash on one core. Slow enough to make offline
# guessing expensive, fast enough for a 128 MB+ Lambda. Parameters are stored with the
# hash so they can be raised later without breaking old accounts.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MAXMEM = 64 * 1024 * 1024
# zxcvbn's score: 0-1 is guessable in under 10^6 tries (common passwords, keyboard walks,
# names plus a year). 2 and up is refused by no one who picked a real password.
MIN_SCORE = 2
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; a longer password is not weak


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=MAXMEM)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), maxmem=MAXMEM
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def dummy_hash() -> str:
    """Verified against when the email is unknown, so both failures cost the same time.
    Made on first use, not at import: cold start stays fast."""
    return hash_password(secrets.token_urlsafe(16))


def check_strength(password: str, user_inputs: list[str]) -> None:
    """Refuse common and easily guessed passwords (400 `weak_password`).

    zxcvbn carries maintained frequency lists (common passwords, names, words) and pattern
    matchers; it is imported here, not at module import, so cold start does not pay for it.
    The shop's own email and name count as guessable too.
    """
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[u for u in user_inputs if u])
    if result["score"] < MIN_SCORE:
        hint = (result.get("feedback") or {}).get("warning") or "it is too easy to guess"
        raise ValidationFailed(
            "this password is too common or too easy to guess; choose a longer, less predictable one",
            code="weak_password",
            details=[{"field": "password", "message": hint}],
        )
