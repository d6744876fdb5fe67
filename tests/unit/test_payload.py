import json

import pytest

from chalicelib.platform.errors import PayloadTooLarge, ValidationFailed
from chalicelib.platform.payload import MAX_BODY_BYTES, parse_body, parse_json
from chalicelib.sales.schemas import OrderIn, OrderPatch


def test_fractions_parse_exactly():
    order = parse_body(OrderIn, b'{"buyer_email":"a@b.co","item_name":"x","quantity":3,"unit_price":0.1}')
    assert order.unit_price == 10 and order.shipping_fee == 0


@pytest.mark.parametrize(
    "raw",
    [b"", b"[]", b"nope", b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe", b'"str"'],
)
def test_not_a_json_object(raw):
    with pytest.raises(ValidationFailed) as exc:
        parse_json(raw)
    assert exc.value.code == "invalid_json"


def test_too_deep_and_too_large():
    with pytest.raises(ValidationFailed):
        parse_json(json.dumps({"a": [[[[[[[[[[[1]]]]]]]]]]]}))
    with pytest.raises(ValidationFailed):
        parse_json("[" * 100_000 + "]" * 100_000)
    with pytest.raises(PayloadTooLarge):
        parse_json(b" " * (MAX_BODY_BYTES + 1))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"buyer_email": {"$ne": ""}, "item_name": "x", "quantity": 1, "unit_price": 1}, "buyer_email"),
        ({"buyer_email": "a@b.co", "item_name": "x", "quantity": 1.5, "unit_price": 1}, "quantity"),
        ({"buyer_email": "a@b.co", "item_name": "x", "quantity": True, "unit_price": 1}, "quantity"),
        ({"buyer_email": "a@b.co", "item_name": "x", "quantity": "2", "unit_price": 1}, "quantity"),
        ({"buyer_email": "a@b.co", "item_name": "x", "quantity": 0, "unit_price": 1}, "quantity"),
        ({"buyer_email": "a@b.co", "item_name": "x", "quantity": 1, "unit_price": 1.999}, "unit_price"),
        ({"buyer_email": "a@b.co", "item_name": "x", "quantity": 1, "unit_price": -1}, "unit_price"),
        (
            {"buyer_email": "a@b.co", "item_name": "x", "quantity": 1, "unit_price": 1, "total_amount": 5},
            "total_amount",
        ),
        ({"buyer_email": "not-an-email", "item_name": "x", "quantity": 1, "unit_price": 1}, "buyer_email"),
    ],
)
def test_bad_order_fields_are_named(body, field):
    with pytest.raises(ValidationFailed) as exc:
        parse_body(OrderIn, json.dumps(body))
    assert any(d["field"] == field for d in exc.value.details), exc.value.details


def test_order_needs_one_buyer_and_one_item():
    for body in (
        {"item_name": "x", "quantity": 1, "unit_price": 1},
        {"buyer_email": "a@b.co", "customer_id": "a" * 24, "item_name": "x", "quantity": 1},
        {"buyer_email": "a@b.co", "quantity": 1, "unit_price": 1},
    ):
        with pytest.raises(ValidationFailed):
            parse_body(OrderIn, json.dumps(body))


def test_empty_patch_and_null_required_fields():
    with pytest.raises(ValidationFailed):
        parse_body(OrderPatch, b"{}")
    with pytest.raises(ValidationFailed):
        parse_body(OrderPatch, b'{"payment_status": null}')
    assert parse_body(OrderPatch, b'{"carrier": null}').model_fields_set == {"carrier"}
    with pytest.raises(ValidationFailed):
        parse_body(OrderPatch, b'{"shipped_date": "2026-13-01"}')


@pytest.mark.parametrize(
    "number",
    ["1" * 5000, "-" + "1" * 5000, "1" * 5000 + ".5", "0." + "1" * 5000, "1e999999", "1E-999999", "1" * 31],
)
def test_oversized_numbers_are_invalid_json(number):
    # Python's int() refuses more than 4,300 digits with ValueError, not JSONDecodeError.
    with pytest.raises(ValidationFailed) as exc:
        parse_json('{"a": [' + number + "]}")
    assert exc.value.code == "invalid_json"


def test_ordinary_numbers_parse():
    from decimal import Decimal

    value = parse_json('{"a": 1250, "b": 19.99, "c": 1.5e2, "d": -3, "e": ' + "9" * 30 + "}")
    assert value == {"a": 1250, "b": Decimal("19.99"), "c": Decimal("150"), "d": -3, "e": int("9" * 30)}
