from decimal import Decimal

import pytest

from chalicelib.platform.money import format_plain, from_cents, to_cents


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
        "19.99",
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


def test_text_amounts_only_when_allowed():
    assert to_cents("1,250.50", allow_text=True) == 125050
    with pytest.raises(ValueError):
        to_cents("abc", allow_text=True)


def test_output_round_trips_the_decimal_text():
    assert from_cents(1999) == 19.99 and repr(from_cents(1999)) == "19.99"
    assert from_cents(125000) == 1250 and isinstance(from_cents(125000), int)
    # 0.1 + 0.2 style errors never appear because nothing is added as float.
    assert repr(from_cents(30)) == "0.3"
    assert format_plain(1999) == "19.99" and format_plain(500) == "5" and format_plain(5) == "0.05"
