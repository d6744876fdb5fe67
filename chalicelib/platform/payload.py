"""Turning raw request bodies into validated models, with limits."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chalicelib.platform.errors import DETAIL_CODES, Invalid, PayloadTooLarge, ValidationFailed

MAX_BODY_BYTES = 1_000_000
MAX_DEPTH = 10
# No real field needs more: money is at most 100,000,000.00 and quantities fit in 9
# digits. Python refuses to turn more than 4,300 digits into an int (with ValueError),
# and a number like 1e999999 would become a million-digit int if a model coerced it.
MAX_NUMBER_DIGITS = 30

M = TypeVar("M", bound=BaseModel)


def _reject_constant(name: str) -> Any:
    raise ValidationFailed(f"{name} is not allowed in JSON", code="invalid_json")


def _too_long(text: str) -> ValidationFailed:
    shown = text if len(text) <= 40 else text[:20] + "…"
    return ValidationFailed(
        f"the number {shown} in the request body is out of range (at most {MAX_NUMBER_DIGITS} digits)",
        code="invalid_json",
    )


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _too_long(text)
    return int(text)


def _parse_float(text: str) -> Decimal:
    """Exact Decimal, within MAX_NUMBER_DIGITS significant digits and magnitude."""
    value = Decimal(text)
    if len(value.as_tuple().digits) > MAX_NUMBER_DIGITS or abs(value.adjusted()) > MAX_NUMBER_DIGITS:
        raise _too_long(text)
    return value


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


# PostgreSQL text and jsonb cannot hold U+0000, so FerretDB refuses a document with one
# (a 503 after earlier writes of the same request had landed); no field needs it either.
# Refused at the edge, for bodies, query strings, path parameters and CSV cells alike.
NUL = "\x00"
NUL_MESSAGE = "contains a NUL character (\\u0000)"


def nul_detail(field: str) -> dict[str, str]:
    return {"field": field, "code": "nul_character", "message": NUL_MESSAGE}


def _shown(name: str) -> str:
    return name.replace(NUL, "\\u0000")


def nul_fields(value: Any, path: str = "") -> list[str]:
    """Where a parsed JSON value holds a NUL, as dotted paths like pydantic's (`items.0.name`);
    a key with a NUL is named with it shown as \\u0000."""
    if isinstance(value, str):
        return [path or "body"] if NUL in value else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{_shown(key)}" if path else _shown(key)
            found += [where] if NUL in key else nul_fields(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += nul_fields(item, f"{path}.{i}" if path else str(i))
    return found


def check_no_nul_query(params: dict[str, list[str]]) -> None:
    """Every value of every query parameter (?a=1&a=2 too): 400 invalid_query."""
    bad = [_shown(k) for k, values in params.items() if NUL in k or any(NUL in v for v in values)]
    if bad:
        raise ValidationFailed(
            f"{bad[0]}: {NUL_MESSAGE}", code="invalid_query", details=[nul_detail(b) for b in bad]
        )


def check_no_nul_path(params: dict[str, str]) -> None:
    """Path parameters, as the route will read them (percent-decoded): 400 validation_error."""
    bad = [name for name, value in params.items() if NUL in value]
    if bad:
        raise ValidationFailed(
            f"{bad[0]} {NUL_MESSAGE}", code="validation_error", details=[nul_detail(b) for b in bad]
        )


def check_size(raw: bytes | str | None) -> bytes:
    if raw is None:
        return b""
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body is larger than {MAX_BODY_BYTES:,} bytes")
    return data


def parse_json(raw: bytes | str | None) -> dict[str, Any]:
    """Parse a JSON object body. Numbers with a fraction become Decimal (exact money);
    numbers longer than MAX_NUMBER_DIGITS are refused."""
    data = check_size(raw)
    if not data.strip():
        raise ValidationFailed("request body must be a JSON object", code="invalid_json")
    try:
        value = json.loads(
            data.decode("utf-8"),
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError):
        # ValueError covers UnicodeDecodeError and JSONDecodeError (both subclass it) and
        # anything else a conversion refuses; the decoder is recursive, so very deep
        # nesting raises RecursionError.
        raise ValidationFailed("request body is not valid UTF-8 JSON", code="invalid_json") from None
    if not isinstance(value, dict):
        raise ValidationFailed("request body must be a JSON object", code="invalid_json")
    if _depth(value) > MAX_DEPTH:
        raise ValidationFailed("request body is nested too deeply", code="invalid_json")
    bad = nul_fields(value)
    if bad:
        raise ValidationFailed(f"{bad[0]} {NUL_MESSAGE}", details=[nul_detail(b) for b in bad])
    return value


def detail(err: dict) -> dict[str, Any]:
    """One pydantic error as `{field, code, message}`: `code` is a stable DETAIL_CODES
    name (ours from errors.Invalid or a query check, else pydantic's error type), so a
    page can say "field + reason" in its own language; `message` is English."""
    field = ".".join(str(p) for p in err["loc"]) or "body"
    kind, msg, ctx = err["type"], err["msg"], err.get("ctx") or {}
    raised = ctx.get("error")
    if isinstance(raised, Invalid):
        if raised.field:  # a model's own check naming one of its fields: set.payment_status
            field = ".".join([*(str(p) for p in err["loc"]), raised.field])
        return {"field": field, "code": raised.code, "message": raised.message}
    if kind == "extra_forbidden":
        return {"field": field, "code": "unknown_field", "message": "unknown field"}
    if kind == "value_error" and msg.startswith("value is not a valid email address"):
        kind = "invalid_email"
    elif kind == "value_error" and isinstance(raised, ValueError):
        msg = str(raised)  # without pydantic's "Value error, " prefix
    elif kind == "string_too_short" and ctx.get("min_length", 1) > 1:
        # A minimum above one (a new password's 10): "cannot be empty" would mislead.
        n = ctx["min_length"]
        return {"field": field, "code": "below_min_length", "message": msg, "min_length": n}
    return {"field": field, "code": kind if kind in DETAIL_CODES else "invalid", "message": msg}


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [detail(err) for err in exc.errors(include_url=False, include_input=False)]


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("request is invalid", details=validation_details(exc)) from None


def parse_body(model: type[M], raw: bytes | str | None) -> M:
    return validate(model, parse_json(raw))


# Detail codes of the query checks of platform/schemas.py (their messages name the parameter).
QUERY_CHECK_CODES = (
    "not_an_integer",
    "out_of_range",
    "not_a_boolean",
    "invalid_id",
    "invalid_date",
    "date_out_of_range",
)


def parse_query(model: type[M], params: dict[str, str] | None) -> M:
    """Query parameters into their model. The error's code and message are those of the
    first bad parameter (models declare them in the order they are checked):
    `invalid_limit` for ?limit=, else `invalid_query`."""
    try:
        return model.model_validate(params or {})
    except ValidationError as exc:
        details = validation_details(exc)
        first = details[0]
        code = "invalid_limit" if first["field"] == "limit" else "invalid_query"
        # Our checks name the parameter in their message; pydantic's messages do not.
        own = first["code"] in QUERY_CHECK_CODES
        message = first["message"] if own else f"{first['field']}: {first['message']}"
        raise ValidationFailed(message, code=code, details=details) from None
