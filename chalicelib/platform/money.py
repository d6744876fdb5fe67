"""Money as integer minor units (cents). Decimal only at the edges, never floats."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation

from chalicelib.platform.errors import Invalid

MAX_MAJOR_UNITS = 100_000_000
MAX_CENTS = MAX_MAJOR_UNITS * 100

# The shop currency of the request being served (web.api sets it from the caller's token; the
# buyer's page from its link, lazily: only an amount typed with a sign asks). An amount typed
# as text may carry this currency's sign and no other.
_SHOP: ContextVar[str | Callable[[], str] | None] = ContextVar("shop_currency", default=None)

# What a Chinese or Japanese input method types in full-width mode: the full-width forms of
# ASCII (１２０．５, ＮＴ＄, －), the yen sign and the ideographic space.
_WIDE = str.maketrans({**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}, "￥": "¥", "\u3000": " "})
# A sign, a minus, the number (plain, or grouped by threes with commas), a sign; a sign is
# anything but digits, separators and spaces, checked against the shop currency's below.
_AMOUNT = re.compile(r"(-?)\s*([^\s0-9.,-]*)\s*(-?)\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([^\s0-9.,-]*)")
_NUMBER = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?")
_LONGEST = 40  # no amount is longer; a longer text is not read at all
# Words people write after an amount, by currency (CLDR has symbols, not these).
_WORDS = {"TWD": ("元", "塊"), "CNY": ("元",), "HKD": ("元",), "MOP": ("元",), "JPY": ("円", "圓")}


@contextlib.contextmanager
def amounts_in(currency: str | Callable[[], str] | None) -> Iterator[None]:
    """Amounts typed as text while this runs are in `currency` (a code, or a function
    that finds it the first time a sign needs it)."""
    token = _SHOP.set(currency)
    try:
        yield
    finally:
        _SHOP.reset(token)


@functools.cache
def signs(currency: str) -> frozenset[str]:
    """How people write `currency` next to an amount: its code, its CLDR symbols in English
    and Chinese and their bare form (TWD: TWD, NT$, $, 元; JPY: JPY, ¥, 円), upper case."""
    # Babel on first use: only an amount typed with a sign needs it.
    from babel.numbers import get_currency_symbol

    found = {currency, *_WORDS.get(currency, ())}
    for locale in ("en", "zh_Hant_TW", "zh_Hant", "zh_Hans", "ja"):
        symbol = get_currency_symbol(currency, locale).translate(_WIDE)
        found.update({symbol, symbol.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") or symbol})
    return frozenset(s.upper() for s in found)


def read_amount(text: str, currency: str | None = None) -> Decimal:
    """An amount as people type it: full-width digits (１２００), thousands separators
    (1,200, １，２００) and one sign of the shop's currency before or after it (NT$1,200,
    $1200, 1200元; ¥1200 in a JPY shop). Anything else is `not_an_amount`, never a guess:
    1.200,50, 12,00, two signs, another currency's sign, letters. A minus reads as the
    number it is (the caller refuses it as `negative`)."""
    s = text.translate(_WIDE).strip()
    m = _AMOUNT.fullmatch(s) if len(s) <= _LONGEST else None
    if m is None or (m[1] and m[3]) or not _NUMBER.fullmatch(m[4]):
        raise Invalid("not_an_amount", "not an amount")
    before, after = m[2].upper(), m[5].upper()
    if before and after:
        raise Invalid("not_an_amount", "not an amount: two currency signs")
    sign = before or after
    if sign and currency is None:
        shop = _SHOP.get()
        currency = shop() if callable(shop) else shop
    if sign and (currency is None or sign not in signs(currency)):
        raise Invalid("not_an_amount", f"not an amount in {currency}" if currency else "not an amount")
    try:
        amount = Decimal(m[4].replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        raise Invalid("not_an_amount", "not an amount") from None
    return -amount if m[1] or m[3] else amount


def to_cents(value: object, *, currency: str | None = None) -> int:
    """Parse an amount given in major units: a JSON number, or text as people type it
    (read_amount; a CSV cell, a string in a body) in `currency` (default: the request's).

    JSON numbers arrive as int or Decimal (the body parser uses parse_float=Decimal),
    so "19.99" is exact. bool, float, NaN, infinities, more than 2 decimals, negative
    and too-large values are refused with errors.Invalid, a ValueError (pydantic turns it into a 400).
    """
    if isinstance(value, bool):
        raise Invalid("not_a_number", "must be a number")
    if isinstance(value, str):
        value = read_amount(value, currency)
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
