from decimal import Decimal

import pytest

from chalicelib.platform.errors import Invalid
from chalicelib.platform.money import amounts_in, format_plain, from_cents, read_amount, to_cents


@pytest.mark.parametrize(
    ("value", "cents"),
    [(0, 0), (1250, 125000), (Decimal("19.99"), 1999), (Decimal("0.1"), 10), (Decimal("100000000"), 10**10)],
)
def test_to_cents_exact(value, cents):
    assert to_cents(value) == cents


@pytest.mark.parametrize(
    "value",
    [
        True,
        1.5,
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("-1"),
        Decimal("0.001"),
        100_000_001,
        None,
    ],
)
def test_to_cents_refuses(value):
    with pytest.raises(ValueError):
        to_cents(value)


# Amounts as people type them (issue 27): both widths, separators, the shop currency's sign.
@pytest.mark.parametrize(
    ("text", "currency", "cents"),
    [
        ("1200", "TWD", 120000),
        ("19.99", "TWD", 1999),
        ("１２００", "TWD", 120000),
        ("１２０．５", "TWD", 12050),
        ("1,200", "TWD", 120000),
        ("１，２００", "TWD", 120000),
        ("1,234,567.89", "TWD", 123456789),
        ("NT$1200", "TWD", 120000),
        ("NT$ 1,200", "TWD", 120000),
        ("nt$1200", "TWD", 120000),
        ("$1200", "TWD", 120000),
        ("＄１２００", "TWD", 120000),
        ("1200元", "TWD", 120000),
        ("１，２００ 元", "TWD", 120000),
        ("TWD 1200", "TWD", 120000),
        ("1200 TWD", "TWD", 120000),
        ("\u3000１２００\u3000", "TWD", 120000),
        ("¥1200", "JPY", 120000),
        ("￥１２００", "JPY", 120000),
        ("1200円", "JPY", 120000),
        ("JPY1,200", "JPY", 120000),
        ("US$12.50", "USD", 1250),
        ("$12.50", "USD", 1250),
        ("HK$88", "HKD", 8800),
        ("0", "TWD", 0),
    ],
)
def test_text_amounts_as_people_type_them(text, currency, cents):
    assert to_cents(text, currency=currency) == cents


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("1.200,50", "TWD"),  # European grouping: never guessed
        ("１．２００，５０", "TWD"),
        ("12,00", "TWD"),  # not grouped by threes
        ("1,2000", "TWD"),
        ("1,200,0", "TWD"),
        ("NT$1200元", "TWD"),  # two signs
        ("NT$NT$1200", "TWD"),
        ("$$1200", "TWD"),
        ("¥1200", "TWD"),  # another currency's sign
        ("1200円", "TWD"),
        ("NT$1200", "JPY"),
        ("€12", "USD"),
        ("abc", "TWD"),
        ("12a0", "TWD"),
        ("１２００ｄ", "TWD"),
        ("1e3", "TWD"),
        ("0x10", "TWD"),
        ("", "TWD"),
        ("   ", "TWD"),
        ("NT$", "TWD"),
        ("1 200", "TWD"),
        ("1200.", "TWD"),
        (".5", "TWD"),
        ("--1200", "TWD"),
        ("٣٠٠", "TWD"),  # other scripts' digits are not read as ours
        ("²", "TWD"),
        ("1" * 41, "TWD"),
    ],
)
def test_text_that_is_not_an_amount(text, currency):
    with pytest.raises(Invalid) as caught:
        to_cents(text, currency=currency)
    assert caught.value.code == "not_an_amount"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("-1200", "negative"),
        ("－１２００", "negative"),
        ("NT$-1200", "negative"),
        ("-NT$1,200", "negative"),
        ("1200.555", "too_many_decimals"),
        ("１２０．５５５", "too_many_decimals"),
        ("NT$100,000,001", "too_large"),
    ],
)
def test_text_amounts_keep_their_own_codes(text, code):
    with pytest.raises(Invalid) as caught:
        to_cents(text, currency="TWD")
    assert caught.value.code == code


def test_a_sign_needs_a_known_currency():
    assert to_cents("１，２００") == 120000  # no shop currency: digits and separators only
    with pytest.raises(Invalid):
        to_cents("NT$1200")
    with amounts_in("TWD"):
        assert to_cents("NT$1200") == 120000
    asked = []
    with amounts_in(lambda: asked.append(1) or "JPY"):
        assert to_cents("1200") == 120000 and asked == []  # no sign: the shop is not looked up
        assert to_cents("¥1200") == 120000 and asked == [1]
    assert read_amount("1,200.5", "TWD") == Decimal("1200.5")


def test_output_round_trips_the_decimal_text():
    assert from_cents(1999) == 19.99 and repr(from_cents(1999)) == "19.99"
    assert from_cents(125000) == 1250 and isinstance(from_cents(125000), int)
    # 0.1 + 0.2 style errors never appear because nothing is added as float.
    assert repr(from_cents(30)) == "0.3"
    assert format_plain(1999) == "19.99" and format_plain(500) == "5" and format_plain(5) == "0.05"
