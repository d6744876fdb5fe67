"""Object ids in URLs."""

from __future__ import annotations

from bson import ObjectId
from bson.errors import InvalidId

from chalicelib.platform.errors import NotFound


def object_id(value: str | None, what: str = "resource") -> ObjectId:
    """A malformed id is simply a thing that does not exist: 404, never 500."""
    try:
        if not isinstance(value, str) or len(value) != 24:
            raise InvalidId(value)
        return ObjectId(value)
    except (InvalidId, TypeError):
        raise NotFound(f"{what} not found") from None
