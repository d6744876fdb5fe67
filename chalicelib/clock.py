"""Time: UTC inside, ISO 8601 `...Z` outside, calendar dates in the seller's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from .errors import ValidationFailed

DEFAULT_TZ = "Asia/Taipei"


def now() -> dt.datetime:
    # Millisecond precision: that is what BSON dates keep.
    t = dt.datetime.now(dt.UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # mongomock hands back naive UTC datetimes
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_date(value: dt.datetime, tz: str) -> dt.date:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(ZoneInfo(tz or DEFAULT_TZ)).date()


def parse_iso(value: str | None, what: str) -> dt.datetime | None:
    """Query-string times: a date (start of that day UTC) or a full ISO timestamp."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"{what} must be an ISO 8601 date or time", code="invalid_query") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed
