"""Time: UTC inside, ISO 8601 `...Z` outside, calendar dates in the seller's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from chalicelib.platform.errors import ValidationFailed

DEFAULT_TZ = "Asia/Taipei"
# Times the API accepts from outside. Beyond these a date is a typo or a probe, and far
# beyond them it overflows Python's datetime (year 0 or 10000 in UTC) or BSON's range.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 12, 31, 23, 59, 59, 999000, tzinfo=dt.UTC)


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


def in_range(value: dt.datetime) -> dt.datetime | None:
    """An aware time as UTC, or None when it lies outside EARLIEST..LATEST (including
    times whose conversion to UTC overflows, like 9999-12-31T23:59:59-12:00)."""
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError:
        return None
    return utc if EARLIEST <= utc <= LATEST else None


def parse_iso(value: str | None, what: str) -> dt.datetime | None:
    """Query-string times: a date (start of that day UTC) or a full ISO timestamp,
    between 2000-01-01 and 2100-12-31 UTC. Returned in UTC."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"{what} must be an ISO 8601 date or time", code="invalid_query") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    utc = in_range(parsed)
    if utc is None:
        raise ValidationFailed(f"{what} must be between 2000-01-01 and 2100-12-31", code="invalid_query")
    return utc
