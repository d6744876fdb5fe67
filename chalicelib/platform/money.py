"""Money as integer minor units (cents). Decimal only at the edges, never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from chalicelib.platform.errors import Invalid

MAX_MAJOR_UNITS = 100_000_000
MAX_CENTS = MAX_MAJOR_UNITS * 100


def to_cents(value: object, *, allow_text: bool = False) -> int:
    """Parse an amount given in major units (JSON number, or text from CSV).

    JSON numbers arrive as int or Decimal (the body parser uses parse_float=Decimal),
    so "19.99" is exact. bool, float, NaN, infinities, more than 2 decimals, negative
    and too-large values are refused with errors.Invalid, a ValueError (pydantic turns it into a 400).
    """
    if isinstance(value, bool):
        raise Invalid("not_a_number", "must be a number")
    if isinstance(value, str) and allow_text:
        try:
            value = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise Invalid("not_a_number", "must be a number") from None
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    else:
        raise Invalid("not_a_number", "must be a number")
    if not amount.is_finite():
        raise Invalid("not_a_number", "must be a finite number")
    if amount < 0:
        raise Invalid("negative", "must not be negative")
    if amount > MAX_MAJOR_UNITS:
        raise Invalid("too_large", f"must be at most {MAX_MAJOR_UNITS:,}")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise Invalid("too_many_decimals", "must have at most 2 decimal places")
    return int(cents)


def from_cents(cents: int) -> int | float:
    """JSON representation of an amount. The float is only a carrier for the text:
    a 2-decimal value's shortest repr is exactly that decimal (19.99 -> "19.99")."""
    if cents % 100 == 0:
        return cents // 100
    return float(Decimal(cents).scaleb(-2))


def format_plain(cents: int) -> str:
    """Amount as text for CSV: '1250' or '19.99' (exact)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}" if frac == 0 else f"{sign}{whole}.{frac:02d}"
