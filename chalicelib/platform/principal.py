"""Who is calling: the seller a request acts for, as the access token says.

Its own module so that every domain module can name it without importing `auth`
(which imports `tracking`, which would import `auth` back)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """Who is calling, read from the token alone (no database call)."""

    seller_id: str
    timezone: str
    currency: str
    session_id: str | None = None
