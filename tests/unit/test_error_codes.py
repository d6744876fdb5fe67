"""Every error code the API can answer with is listed, once, in chalicelib/platform/errors.py
(ERROR_CODES for `error.code`, DETAIL_CODES for each detail's `code`): the pages
translate by these, so a code raised but not listed fails here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chalicelib.accounts.schemas import SellerPatch, SignupIn
from chalicelib.buyers.schemas import CustomerPatch
from chalicelib.catalog.schemas import ItemIn
from chalicelib.platform import errors, payload
from chalicelib.platform.errors import DETAIL_CODES, ERROR_CODES, DomainError, ValidationFailed
from chalicelib.reporting.schemas import MonthlyQuery, ReportQuery
from chalicelib.sales.schemas import BulkIn, ImportQuery, OrderIn, OrderPatch, OrderQuery

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"
# carriers.py names carriers with `code="tcat"`: a table, not errors.
# Keyed by path: many packages have a `routes.py` and a `schemas.py`.
SOURCES = {
    p.relative_to(CHALICELIB.parent).as_posix(): p.read_text()
    for p in CHALICELIB.rglob("*.py")
    if p.name not in ("errors.py", "carriers.py")
}
SOURCES["app.py"] = (CHALICELIB.parent / "app.py").read_text()

ERROR_PATTERNS = [
    r'\bcode="([a-z_]+)"',  # raise Conflict(..., code="insufficient_stock")
    r'"error": "([a-z_]+)"',  # bulk failures
    r'error_body\(\s*"([a-z_]+)"',
]
DETAIL_PATTERNS = [
    r'\bInvalid\(\s*"([a-z_]+)"',
    r'PydanticCustomError\(\s*"([a-z_]+)"',
    r'_query_error\([^()]*(?:\([^()]*\)[^()]*)*,\s*"([a-z_]+)"\)',
    r'"code": "([a-z_]+)"',
    r'_error\(\s*[\w.]+,\s*"[a-z_.]+",\s*"([a-z_]+)"',  # imports: _error(row, field, code, ...)
    r'Literal\["(duplicate_row)"\]',
]


def found(patterns: list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for name, text in SOURCES.items():
        for pattern in patterns:
            for code in re.findall(pattern, text, flags=re.S):
                out.setdefault(code, set()).add(name)
    return out


def test_every_raised_error_code_is_listed():
    raised = found(ERROR_PATTERNS)
    assert len(raised) > 25  # the scan itself works
    missing = {c: sorted(f) for c, f in raised.items() if c not in ERROR_CODES}
    assert not missing, f"codes raised but not in errors.ERROR_CODES: {missing}"


def test_every_detail_code_is_listed():
    given = found(DETAIL_PATTERNS)
    assert {"too_many_decimals", "not_a_whole_number", "duplicate_row", "invalid_id"} <= set(given)
    missing = {c: sorted(f) for c, f in given.items() if c not in DETAIL_CODES}
    assert not missing, f"detail codes given but not in errors.DETAIL_CODES: {missing}"
    assert set(payload.QUERY_CHECK_CODES) <= set(DETAIL_CODES)


def test_class_codes_and_statuses_agree():
    for cls in DomainError.__subclasses__():
        assert cls.code in ERROR_CODES, cls
        assert ERROR_CODES[cls.code][0] == cls.status, cls
    for code, (status, meaning) in ERROR_CODES.items():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", code) and 400 <= status <= 599 and meaning
    for code, meaning in DETAIL_CODES.items():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", code) and meaning
    # The web framework's own answers (wrong method, wrong content type).
    for chalice_code in ("MethodNotAllowedError", "UnsupportedMediaType"):
        assert errors.framework_error_body(chalice_code, "x")["error"]["code"] in ERROR_CODES


BAD_BODIES = [
    (OrderIn, {"buyer_email": {"$ne": ""}, "item_name": "x", "quantity": 1, "unit_price": 1}),
    (OrderIn, {"buyer_email": "a@b.co", "item_name": "x", "quantity": 1.5, "unit_price": 1}),
    (OrderIn, {"buyer_email": "a@b.co", "item_name": "x", "quantity": True, "unit_price": 1}),
    (OrderIn, {"buyer_email": "a@b.co", "item_name": "x", "quantity": "2", "unit_price": 1}),
    (OrderIn, {"buyer_email": "a@b.co", "item_name": "x", "quantity": 0, "unit_price": 1}),
    (OrderIn, {"buyer_email": "a@b.co", "item_name": "x", "quantity": 10**6, "unit_price": 1}),
    (OrderIn, {"buyer_email": "a@b.co", "item_name": "x", "quantity": 1, "unit_price": 1.999}),
    (OrderIn, {"buyer_email": "a@b.co", "item_name": "x", "quantity": 1, "unit_price": -1}),
    (OrderIn, {"buyer_email": "a@b.co", "item_name": "x", "quantity": 1, "unit_price": 10**9}),
    (OrderIn, {"buyer_email": "a@b.co", "item_name": "x", "quantity": 1, "unit_price": "1.200,50"}),
    (OrderIn, {"buyer_email": "a@b.co", "item_name": "", "quantity": 1, "unit_price": 1}),
    (OrderIn, {"buyer_email": "a@b.co", "item_name": "x" * 201, "quantity": 1, "unit_price": 1}),
    (OrderIn, {"buyer_email": "not-an-email", "item_name": "x", "quantity": 1, "unit_price": 1}),
    (OrderIn, {"item_name": "x", "quantity": 1, "unit_price": 1}),
    (OrderIn, {"buyer_email": "a@b.co", "item_name": "x", "quantity": 1, "total_amount": 5}),
    (OrderIn, {"buyer_email": "a@b.co", "customer_id": "zz", "item_name": "x", "quantity": 1}),
    (OrderIn, {}),
    (OrderPatch, {}),
    (OrderPatch, {"quantity": None}),
    (OrderPatch, {"shipped_date": "2026-13-01"}),
    (OrderPatch, {"shipped_date": "yesterday"}),
    (OrderPatch, {"payment_status": "paid"}),
    (BulkIn, {"ids": [], "set": {}}),
    (BulkIn, {"ids": "x", "set": "x"}),
    (BulkIn, {"ids": ["a"] * 501, "set": {"carrier": "x"}}),
    (SellerPatch, {"timezone": "Mars/Base"}),
    (SellerPatch, {"currency": "twd"}),
    (SellerPatch, {"language": "fr"}),
    (SignupIn, {"email": "a@b.co", "password": "short", "shop_name": "x"}),
    (ItemIn, {"item_name": "x", "price": 1, "stock": -1}),
    (CustomerPatch, {"name": None}),
]


@pytest.mark.parametrize(("model", "body"), BAD_BODIES)
def test_every_validation_detail_has_a_listed_code(model, body):
    with pytest.raises(ValidationFailed) as exc:
        payload.parse_body(model, json.dumps(body))
    assert exc.value.code == "validation_error"
    for d in exc.value.details:
        # below_min_length names its minimum, so a page can say "at least 10 characters".
        extra = {"min_length"} if d["code"] == "below_min_length" else set()
        assert set(d) == {"field", "code", "message"} | extra, d
        assert d["code"] in DETAIL_CODES and d["code"] != "invalid", d
        assert not d["message"].startswith("Value error"), d


def test_details_name_the_field_and_reason():
    def details(model, body):
        with pytest.raises(ValidationFailed) as exc:
            payload.parse_body(model, json.dumps(body))
        return [(d["field"], d["code"]) for d in exc.value.details]

    base = {"buyer_email": "a@b.co", "item_name": "x", "quantity": 1}
    assert details(OrderIn, {**base, "unit_price": 1.999}) == [("unit_price", "too_many_decimals")]
    assert details(OrderIn, {**base, "unit_price": 1, "x": 1}) == [("x", "unknown_field")]
    assert details(OrderIn, {**base, "buyer_email": "nope", "unit_price": 1}) == [
        ("buyer_email", "invalid_email")
    ]
    assert details(OrderPatch, {}) == [("body", "nothing_to_update")]
    assert details(OrderPatch, {"quantity": None}) == [("quantity", "cannot_be_null")]
    assert details(SellerPatch, {"timezone": "Mars/Base"}) == [("timezone", "unknown_timezone")]


@pytest.mark.parametrize(
    ("model", "params", "code", "detail"),
    [
        (OrderQuery, {"limit": "abc"}, "invalid_limit", ("limit", "not_an_integer")),
        (OrderQuery, {"limit": "999"}, "invalid_limit", ("limit", "out_of_range")),
        (OrderQuery, {"customer_id": "zz"}, "invalid_query", ("customer_id", "invalid_id")),
        (OrderQuery, {"from": "yesterday"}, "invalid_query", ("from", "invalid_date")),
        (OrderQuery, {"to": "1999-01-01"}, "invalid_query", ("to", "date_out_of_range")),
        (OrderQuery, {"sort": "newest"}, "invalid_query", ("sort", "literal_error")),
        (OrderQuery, {"payment_status": "paid"}, "invalid_query", ("payment_status", "literal_error")),
        (
            OrderQuery,
            {"batch_prefix": "x" * 201},
            "invalid_query",
            ("batch_prefix", "string_too_long"),
        ),
        (MonthlyQuery, {"year": "20261"}, "invalid_query", ("year", "out_of_range")),
        (ImportQuery, {"dry_run": "maybe"}, "invalid_query", ("dry_run", "not_a_boolean")),
        (ReportQuery, {"headers": "fr"}, "invalid_query", ("headers", "literal_error")),
    ],
)
def test_query_details_have_codes(model, params, code, detail):
    with pytest.raises(ValidationFailed) as exc:
        payload.parse_query(model, params)
    assert exc.value.code == code
    first = exc.value.details[0]
    assert (first["field"], first["code"]) == detail and first["code"] in DETAIL_CODES
    assert first["field"] in exc.value.message or first["code"] in payload.QUERY_CHECK_CODES
