"""ISO 4217 currencies from Babel's CLDR data (not a hand table): which codes are money
today, their minor units, the conversion of a purchase cost at a batch's exchange rate,
and amounts written for people.

Shop amounts (prices, totals, payments, `cost_amount`) are integer hundredths of the
shop currency everywhere (chalicelib/platform/money.py), one scale so that sums never mix scales;
the shop currency's minor units decide where a converted cost is rounded. A purchase
`cost` is stored in the minor units of its own currency (JPY and KRW: whole yen and won),
so a cost with more decimals than its currency has is refused, never rounded.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from chalicelib.platform.errors import Invalid

SHOP_SCALE = 2  # shop amounts are stored in hundredths (money.to_cents)
MAX_COST = Decimal(100_000_000)  # per unit, in major units (as prices: money.MAX_MAJOR_UNITS)
RATE_DECIMALS = 6
MAX_RATE = Decimal(100_000)  # 1 unit of the cost currency in the shop's: VND/IDR shops stay below
# Beyond this a converted cost is not stored (NT$10 trillion): int64 stays safe in sums.
MAX_COST_CENTS = 10**15
# Babel's locale for each shop language (amounts in slips and emails).
LOCALES = {"zh-Hant": "zh_Hant_TW", "en": "en"}


@functools.cache
def tender() -> frozenset[str]:
    """Codes that are legal tender today in some territory (CLDR): TWD, JPY, XOF... but
    not XXX, XAU or a withdrawn HRK."""
    # Babel on first use: ~5 ms of a cold start that most requests never need.
    from babel.core import get_global
    from babel.numbers import get_territory_currencies

    today = dt.date.today()
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, today, tender=True))
    return frozenset(codes)


def check_code(code: str, *, field: str = "cost_currency") -> str:
    if code not in tender():
        raise Invalid("unknown_currency", f"{code} is not an ISO 4217 currency in use", field=field)
    return code


def check_shop_currency(code: str) -> str:
    """A shop currency must fit the stored scale: at most 2 minor units (not KWD, BHD)."""
    check_code(code, field="currency")
    if digits(code) > SHOP_SCALE:
        raise Invalid(
            "unsupported_currency", f"{code} has {digits(code)} decimals; a shop needs at most 2", "currency"
        )
    return code


def digits(code: str) -> int:
    """ISO 4217 minor units: JPY 0, TWD 2, KWD 3."""
    # Babel on first use: ~5 ms of a cold start that most requests never need.
    from babel.numbers import get_currency_precision

    return get_currency_precision(code)


def number(value: object) -> Decimal:
    """A cost as it arrives (pydantic's BeforeValidator): exact, never through a float;
    its decimals are checked once its currency is known (parse_cost)."""
    amount = _decimal(value, allow_text=False)
    if amount < 0:
        raise Invalid("negative", "must not be negative")
    if amount > MAX_COST:
        raise Invalid("too_large", f"must be at most {MAX_COST:,}")
    return amount


def _decimal(value: object, *, allow_text: bool = True) -> Decimal:
    """A JSON number (int or Decimal: the body parser never makes floats) or, where
    allowed, decimal text (a rate; a CSV cell)."""
    if isinstance(value, (bool, float)) or (isinstance(value, str) and not allow_text):
        raise Invalid("not_a_number", "must be a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise Invalid("not_a_number", "must be a number") from None
    else:
        raise Invalid("not_a_number", "must be a number")
    if not number.is_finite():
        raise Invalid("not_a_number", "must be a finite number")
    return number


def parse_cost(value: object, currency: str) -> int:
    """A unit cost in major units -> integer minor units of `currency`.
    ¥1500 -> 1500; US$12.5 -> 1250; ¥1500.5 is refused (JPY has no minor unit)."""
    number = _decimal(value)
    if number < 0:
        raise Invalid("negative", "must not be negative", field="cost")
    if number > MAX_COST:
        raise Invalid("too_large", f"must be at most {MAX_COST:,}", field="cost")
    minor = number.scaleb(digits(currency))
    if minor != minor.to_integral_value():
        places = digits(currency)
        what = "whole numbers only" if places == 0 else f"at most {places} decimal places"
        raise Invalid("too_many_decimals", f"{currency} takes {what}", field="cost")
    return int(minor)


def cost_out(minor: int | None, currency: str | None) -> int | float | None:
    """The JSON number of a stored cost (its text is exact: 12.5, 1500)."""
    if minor is None or currency is None:
        return None
    places = digits(currency)
    if places == 0 or minor % 10**places == 0:
        return minor // 10**places
    return float(Decimal(minor).scaleb(-places))


def parse_rate(value: object) -> Decimal:
    """An exchange rate: 1 unit of a cost currency in the shop currency. Decimal text (or
    a JSON number, parsed exactly), above 0, at most 6 decimals."""
    rate = _decimal(value)
    if rate <= 0:
        raise Invalid("not_positive", "must be above 0")
    if rate > MAX_RATE:
        raise Invalid("too_large", f"must be at most {MAX_RATE:,}")
    if rate != rate.quantize(Decimal(1).scaleb(-RATE_DECIMALS), rounding=ROUND_HALF_UP):
        raise Invalid("too_many_decimals", f"must have at most {RATE_DECIMALS} decimal places")
    return rate


def rate_text(rate: Decimal) -> str:
    """The stored and shown form: '0.2115', '30', never an exponent."""
    text = format(rate.normalize(), "f")
    return text


def convert(
    cost_minor: int | None, cost_currency: str | None, quantity: int, rate: Decimal | None, shop: str
) -> int | None:
    """`cost_amount`: the cost of `quantity` units in the shop currency, in hundredths,
    rounded half up to the shop currency's minor unit; None when the cost or the rate is
    unknown (never guessed). The shop's own currency needs no rate.

    ¥1,234 × 0.2115 = 260.991 -> NT$260.99; ¥10 × 0.2125 = 2.125 -> NT$2.13 (half up);
    US$12.50 × 148.5 in a JPY shop = 1,856.25 -> ¥1,856.
    """
    if cost_minor is None or cost_currency is None:
        return None
    if cost_currency == shop:
        rate = Decimal(1)
    elif rate is None:
        return None
    amount = Decimal(cost_minor).scaleb(-digits(cost_currency)) * quantity * rate
    rounded = amount.quantize(Decimal(1).scaleb(-digits(shop)), rounding=ROUND_HALF_UP)
    cents = int(rounded.scaleb(SHOP_SCALE))
    return cents if cents <= MAX_COST_CENTS else None


def format_amount(cents: int, currency: str, language: str) -> str:
    """A shop amount for people, as the pages write it (js/format.js): the language's CLDR
    pattern and grouping, the currency's minor units (¥1,234, never ¥1,234.00), no
    decimals on a whole amount (NT$960, NT$780.50), and the same symbol in both
    languages (zh-Hant-TW alone would write TWD as "$")."""
    # Babel on first use: ~5 ms of a cold start that most requests never need.
    from babel.core import Locale
    from babel.numbers import format_currency, get_currency_symbol

    locale = Locale.parse(LOCALES.get(language, "en"))
    value = Decimal(cents).scaleb(-SHOP_SCALE)
    pattern = locale.currency_formats["standard"].pattern
    if value == value.to_integral_value():
        pattern = re.sub(r"\.0+", "", pattern)
    text = format_currency(value, currency, format=pattern, locale=locale, currency_digits=False)
    ours, theirs = get_currency_symbol(currency, locale), get_currency_symbol(currency, "en")
    return text.replace(ours, theirs, 1) if ours != theirs else text
