"""chalicelib/platform/currencies.py: costs in their currency's minor units (CLDR via Babel),
exchange rates as exact decimals, conversion half up to the shop currency, ISO codes in
use, and amounts written for people in both shop languages."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, FloatOperation, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.platform import currencies
from chalicelib.platform.currencies import (
    check_code,
    check_shop_currency,
    convert,
    cost_out,
    format_amount,
    parse_cost,
    parse_rate,
    rate_text,
)


def code_of(call) -> str:
    with pytest.raises(ValueError) as exc:
        call()
    return exc.value.code


# --- parse_cost / cost_out -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        (1500, "JPY", 1500),
        (Decimal("1500"), "JPY", 1500),
        (Decimal("1500.0"), "JPY", 1500),  # no fraction, however written
        ("1,234", "JPY", 1234),  # a CSV cell
        (30000, "KRW", 30000),
        (Decimal("12.5"), "USD", 1250),
        (Decimal("12.34"), "USD", 1234),
        ("12.50", "USD", 1250),
        (0, "TWD", 0),
        (Decimal("12.345"), "KWD", 12345),  # three minor units
        (100_000_000, "JPY", 100_000_000),  # the largest cost
    ],
)
def test_parse_cost_in_minor_units(value, currency, minor):
    assert parse_cost(value, currency) == minor


@pytest.mark.parametrize(
    ("value", "currency", "code"),
    [
        (Decimal("1500.5"), "JPY", "too_many_decimals"),  # yen are whole
        ("1500.5", "JPY", "too_many_decimals"),
        (Decimal("1000.1"), "KRW", "too_many_decimals"),
        (Decimal("1.234"), "USD", "too_many_decimals"),
        (Decimal("12.3456"), "KWD", "too_many_decimals"),
        (-1, "TWD", "negative"),
        (Decimal("-0.01"), "USD", "negative"),
        (100_000_001, "JPY", "too_large"),
        (Decimal("1E+9"), "USD", "too_large"),
        (12.5, "USD", "not_a_number"),  # floats are refused, never rounded
        (1500.0, "JPY", "not_a_number"),
        (True, "JPY", "not_a_number"),
        ("abc", "JPY", "not_a_number"),
        (Decimal("NaN"), "JPY", "not_a_number"),
        (Decimal("Infinity"), "JPY", "not_a_number"),
        (None, "JPY", "not_a_number"),
    ],
)
def test_parse_cost_refuses(value, currency, code):
    assert code_of(lambda: parse_cost(value, currency)) == code


def test_parse_cost_names_the_currencys_rule():
    with pytest.raises(ValueError, match="JPY takes whole numbers only"):
        parse_cost(Decimal("0.5"), "JPY")
    with pytest.raises(ValueError, match="USD takes at most 2 decimal places"):
        parse_cost(Decimal("0.001"), "USD")


def test_number_refuses_text_in_a_body():
    """A JSON body's cost is a number: "12" as text is refused before its currency is known."""
    assert currencies.number(Decimal("12.5")) == Decimal("12.5")
    assert code_of(lambda: currencies.number("12")) == "not_a_number"
    assert code_of(lambda: currencies.number(1.5)) == "not_a_number"


@pytest.mark.parametrize(
    ("minor", "currency", "out"),
    [
        (1500, "JPY", 1500),
        (1250, "USD", 12.5),
        (1234, "USD", 12.34),
        (1200, "USD", 12),
        (12345, "KWD", 12.345),
        (0, "TWD", 0),
        (None, "JPY", None),
        (1500, None, None),
    ],
)
def test_cost_out(minor, currency, out):
    got = cost_out(minor, currency)
    assert got == out and type(got) is type(out)
    if isinstance(got, float):  # its text is the exact decimal
        assert Decimal(repr(got)) == Decimal(minor).scaleb(-currencies.digits(currency))


@given(st.sampled_from(["JPY", "KRW", "USD", "TWD", "KWD", "EUR"]), st.integers(0, 10**10))
def test_cost_out_round_trips_through_parse_cost(currency, minor):
    value = cost_out(minor, currency)
    if minor > currencies.MAX_COST.scaleb(currencies.digits(currency)):
        return
    assert parse_cost(Decimal(repr(value)) if isinstance(value, float) else value, currency) == minor


# --- rates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rate"),
    [
        ("0.2115", Decimal("0.2115")),
        ("30", Decimal(30)),
        (" 31.5 ", Decimal("31.5")),
        ("0.000001", Decimal("0.000001")),  # 6 decimals
        (Decimal("148.5"), Decimal("148.5")),  # a JSON number, parsed exactly
        (1, Decimal(1)),
        ("100000", Decimal(100_000)),
    ],
)
def test_parse_rate(value, rate):
    assert parse_rate(value) == rate


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("0", "not_positive"),
        (0, "not_positive"),
        ("-0.2", "not_positive"),
        ("0.1234567", "too_many_decimals"),  # 7 decimals
        ("0.0000001", "too_many_decimals"),
        ("abc", "not_a_number"),
        ("", "not_a_number"),
        ("1e", "not_a_number"),
        ("NaN", "not_a_number"),
        (0.2115, "not_a_number"),  # a float: never
        (True, "not_a_number"),
        ("100000.000001", "too_large"),
        ("1e9", "too_large"),
    ],
)
def test_parse_rate_refuses(value, code):
    assert code_of(lambda: parse_rate(value)) == code


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (Decimal("0.2115"), "0.2115"),
        (Decimal("0.21150"), "0.2115"),
        (Decimal("30"), "30"),
        (Decimal("3E+1"), "30"),  # never an exponent
        (Decimal("100000"), "100000"),
        (Decimal("0.000001"), "0.000001"),
        (Decimal("148.50"), "148.5"),
    ],
)
def test_rate_text(rate, text):
    assert rate_text(rate) == text
    assert parse_rate(text) == rate


# --- convert -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cost", "currency", "quantity", "rate", "shop", "cents"),
    [
        (1234, "JPY", 1, Decimal("0.2115"), "TWD", 26099),  # ¥1,234 × 0.2115 = 260.991
        (10, "JPY", 1, Decimal("0.2125"), "TWD", 213),  # 2.125 -> 2.13: half up, not even
        (1234, "JPY", 1, Decimal("0.2125"), "TWD", 26223),  # 262.225 -> 262.23
        (150, "JPY", 3, Decimal("0.2115"), "TWD", 9518),  # 95.175 -> 95.18
        (1250, "USD", 1, Decimal("148.5"), "JPY", 185600),  # 1,856.25 -> ¥1,856 (whole yen)
        (1250, "USD", 1, Decimal("148.6"), "JPY", 185800),  # 1,857.5 -> ¥1,858
        (1234, "USD", 3, Decimal("31.5"), "TWD", 116613),
        (8000, "TWD", 2, None, "TWD", 16000),  # the shop's own currency needs no rate
        (8000, "TWD", 2, Decimal("99"), "TWD", 16000),  # ... and ignores one
        (1500, "JPY", 1, None, "TWD", None),  # no rate: unknown, never a guess
        (None, None, 1, Decimal("0.2"), "TWD", None),  # no cost
        (1500, None, 1, Decimal("0.2"), "TWD", None),
        (0, "JPY", 5, Decimal("0.2"), "TWD", 0),
    ],
)
def test_convert(cost, currency, quantity, rate, shop, cents):
    assert convert(cost, currency, quantity, rate, shop) == cents


def test_convert_beyond_the_stored_range_is_unknown():
    assert convert(100_000_000, "JPY", 100_000, Decimal(100_000), "TWD") is None


def _floats_forbidden(monkeypatch):
    """Any float made inside convert fails the test (float(), or true division of ints)."""
    import builtins

    def no_float(*args, **kwargs):
        raise AssertionError("convert used a float")

    monkeypatch.setattr(builtins, "float", no_float)


RATES = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(100_000), places=6, allow_nan=False)


@given(
    currency=st.sampled_from(["JPY", "KRW", "USD", "EUR", "TWD", "KWD"]),
    shop=st.sampled_from(["TWD", "JPY", "USD", "KRW", "HKD"]),
    cost=st.integers(0, 10**11),
    quantity=st.integers(1, 100_000),
    rate=RATES,
)
def test_convert_is_decimal_math_half_up(currency, shop, cost, quantity, rate):
    """convert equals the exact Decimal product rounded half up to the shop's minor unit,
    stored in hundredths; the shop's own currency at 1; beyond the stored range None."""
    rate = rate.normalize()
    used = Decimal(1) if currency == shop else rate
    exact = Decimal(cost).scaleb(-currencies.digits(currency)) * quantity * used
    step = Decimal(1).scaleb(-currencies.digits(shop))
    cents = int(exact.quantize(step, rounding=ROUND_HALF_UP) * 100)
    expected = cents if cents <= currencies.MAX_COST_CENTS else None
    with localcontext() as ctx:
        ctx.traps[FloatOperation] = True  # a float mixed into a Decimal raises
        got = convert(cost, currency, quantity, rate, shop)
    assert got == expected
    assert got is None or isinstance(got, int)
    if shop == "JPY" and got is not None:
        assert got % 100 == 0  # whole yen


def test_convert_never_uses_floats(monkeypatch):
    cases = [
        (1234, "JPY", 1, Decimal("0.2115"), "TWD"),
        (1250, "USD", 7, Decimal("148.5"), "JPY"),
        (99999, "KWD", 3, Decimal("101.123456"), "TWD"),
    ]
    expected = [convert(*c) for c in cases]
    _floats_forbidden(monkeypatch)
    with localcontext() as ctx:
        ctx.traps[FloatOperation] = True
        got = [convert(*c) for c in cases]
    assert got == expected == [26099, 1299400, 3033673]


# --- codes -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["TWD", "JPY", "KRW", "USD", "HKD", "EUR", "XOF", "KWD"])
def test_codes_in_use(code):
    assert check_code(code) == code


@pytest.mark.parametrize("code", ["XXX", "XAU", "XTS", "HRK", "TWX", "jpy", "ABC"])
def test_codes_not_money_today(code):
    """XXX (no currency), XAU (gold), XTS (testing) and HRK (replaced by the euro in 2023)."""
    with pytest.raises(ValueError) as exc:
        check_code(code)
    assert exc.value.code == "unknown_currency" and exc.value.field == "cost_currency"


@pytest.mark.parametrize("code", ["TWD", "JPY", "USD", "HKD", "KRW"])
def test_shop_currencies(code):
    assert check_shop_currency(code) == code


@pytest.mark.parametrize(
    ("code", "why"),
    [("KWD", "unsupported_currency"), ("BHD", "unsupported_currency"), ("XXX", "unknown_currency")],
)
def test_shop_currency_must_fit_hundredths(code, why):
    with pytest.raises(ValueError) as exc:
        check_shop_currency(code)
    assert exc.value.code == why and exc.value.field == "currency"


# --- format_amount -----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-Hant", "en"])
@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (123400, "JPY", "¥1,234"),  # never ¥1,234.00
        (96000, "TWD", "NT$960"),  # no decimals on a whole amount
        (78050, "TWD", "NT$780.50"),
        (123456789, "TWD", "NT$1,234,567.89"),
        (0, "TWD", "NT$0"),
        (99, "HKD", "HK$0.99"),
        (5000000, "KRW", "₩50,000"),
        (-5000, "TWD", "-NT$50"),
    ],
)
def test_format_amount_in_both_languages(cents, currency, text, language):
    assert format_amount(cents, currency, language) == text


def test_format_amount_unknown_language_is_english():
    assert format_amount(78050, "TWD", "fr") == format_amount(78050, "TWD", "en") == "NT$780.50"
