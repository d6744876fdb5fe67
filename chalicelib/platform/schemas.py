"""What comes in and goes out, the parts every package shares: the model bases (`Model`,
`In`, `Out`, `Query`), field types (money, names, ids, dates, currencies), the order
statuses, the list query (`ListQuery`) and its parameters, error and health bodies.
Each package's own models are its `schemas.py`; the OpenAPI document is built from them."""

# No `from __future__ import annotations` here: pydantic evaluates every field's annotation
# when the class is made, and as strings they are compiled and evaluated one by one first
# (~15 ms of a cold start, issue 32).
import datetime as dt
import functools
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Literal

from bson import ObjectId
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from chalicelib.platform import clock, currencies
from chalicelib.platform.errors import Invalid, ValidationFailed
from chalicelib.platform.money import from_cents, to_cents

# `partial` follows from the confirmed payments (chalicelib/money/payments.py): it can be read
# and filtered on, never set; a seller sets the others (PaymentStatusIn).
PaymentStatus = Literal["unpaid", "partial", "remitted", "refunded"]
PaymentStatusIn = Literal["unpaid", "remitted", "refunded"]
FulfillmentStatus = Literal["pending", "purchased", "shipped", "delivered", "cancelled"]
PAYMENT_STATUSES: tuple[str, ...] = PaymentStatusIn.__args__
FULFILLMENT_STATUSES: tuple[str, ...] = FulfillmentStatus.__args__
# The shop's language: tracking-link emails (and the buyer page) use it.
Language = Literal["zh-Hant", "en"]


def _email(value: str) -> str:
    # Imported on first use: pydantic.networks (EmailStr) loads importlib.metadata, ~10 ms of a cold start.
    from pydantic.networks import validate_email

    return validate_email(value)[1]


# An email address, checked and normalized as pydantic's EmailStr does (email-validator).
Email = Annotated[str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})]

# Money in: a JSON number in major units, or text as people type it (money.read_amount:
# １，２００, NT$1,200), stored as integer cents.
# Its OpenAPI schema: a number, or text as typed (docs/api.md "Money typed as text").
TYPED_MONEY = {"type": "string", "examples": ["NT$1,200", "１２００"]}
MONEY_IN_SCHEMA = {"anyOf": [{"type": "number", "minimum": 0}, TYPED_MONEY]}
Money = Annotated[int, BeforeValidator(to_cents), WithJsonSchema(MONEY_IN_SCHEMA)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SHORT_TEXT_MAX = 200
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=SHORT_TEXT_MAX)]
# A batch (trip) name: an order's `batch` is ShortText; a form's and /batches/{name}'s
# the same, and not empty.
BatchName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SHORT_TEXT_MAX)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Quantity = Annotated[int, Field(strict=True, ge=1, le=100_000)]
Stock = Annotated[int, Field(strict=True, ge=0, le=10_000_000)]
ObjectIdStr = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{24}$")]
# An ISO 4217 code in use today (currencies.tender: CLDR data via Babel).
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(currencies.check_code)]
# A purchase cost of one unit, in major units of its currency. Kept as a Decimal here:
# how many decimals it may have depends on the currency (currencies.parse_cost).
CostIn = Annotated[
    Decimal,
    BeforeValidator(currencies.number),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": int(currencies.MAX_COST)}),
]
# An exchange rate into the shop currency: decimal text ("0.2115"), up to 6 decimals.
Rate = Annotated[
    Decimal,
    BeforeValidator(currencies.parse_rate),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d{1,6})?$", "examples": ["0.2115"]}),
]


def _iso_date_text(value: object) -> object:
    if value is not None and not (isinstance(value, str) and len(value) == 10):
        raise Invalid("invalid_date", "must be a date as YYYY-MM-DD")
    return value


def _date_in_range(value: dt.date) -> dt.date:
    # The same years as the list filters (EARLIEST_YEAR..LATEST_YEAR): year 1 or 9999
    # would sort first or last forever and overflow on the way to a time zone.
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise Invalid("date_out_of_range", f"must be between {EARLIEST_YEAR}-01-01 and {LATEST_YEAR}-12-31")
    return value


# A date in a body: exactly YYYY-MM-DD text (shipped_date, paid_at), 2000-2100.
IsoDate = Annotated[
    dt.date, Field(strict=False), BeforeValidator(_iso_date_text), AfterValidator(_date_in_range)
]


class Model(BaseModel):
    """The base of every model here. Each one's validator, serializer and JSON schema are
    built on its first use rather than at import: building them all cost ~40 ms of every
    cold start (issue 32), and a request uses a few."""

    model_config = ConfigDict(defer_build=True)


class In(Model):
    """Request bodies: unknown fields are refused, strings are strings (no operators)."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


def _object_id_check(value: object) -> object:
    if not (
        isinstance(value, str) and len(value) == 24 and all(c in "0123456789abcdefABCDEF" for c in value)
    ):
        raise PydanticCustomError("invalid_id", "not a valid id")
    return value


class Out(Model):
    """A response body. Models built from a stored document say so with `from_doc`, so
    each field is named once: here, not again in a hand-written dict."""

    @classmethod
    def from_doc(cls, doc: dict) -> dict:
        """The body for one stored document, checked against this model: `id` is `_id`,
        ObjectIds become strings, datetimes `...Z` text, cents (MoneyOut) major units; a
        field the document lacks is None."""
        data = {}
        for key, source, cents in _doc_fields(cls):
            value = _stored(doc.get(source))
            if cents and isinstance(value, int):
                value = from_cents(value)
            data[key] = value
        return cls.model_validate(data).model_dump(by_alias=True)


@functools.cache
def _doc_fields(model: type[Out]) -> list[tuple[str, str, bool]]:
    """(body key, document key, stored in cents?) per field, worked out once per model."""
    fields = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        cents = any(m is CENTS for m in field.metadata)
        fields.append((key, "_id" if key == "id" else key, cents))
    return fields


def _stored(value: object) -> object:
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, dt.datetime):
        return clock.iso(value)
    return value


CENTS = "stored in cents"  # a marker in a field's metadata, read by Out.from_doc
# Money out: a JSON number in major units (1250, 19.99), stored as integer cents.
MoneyOut = Annotated[int | float, WithJsonSchema({"type": "number"}), CENTS]
# Money that may be unknown (cost_amount, profit): a number, or null.
MoneyOrNull = Annotated[int | float | None, WithJsonSchema({"type": ["number", "null"]}), CENTS]
# A purchase cost out: a JSON number in major units of its own currency (currencies.cost_out).
CostOut = Annotated[int | float | None, WithJsonSchema({"type": ["number", "null"]})]


def non_empty_patch(model: BaseModel) -> BaseModel:
    """A PATCH body that sets nothing: 400 `nothing_to_update`."""
    if not model.model_fields_set:
        raise Invalid("nothing_to_update", "nothing to update")
    return model


def cannot_be_null(model: BaseModel, fields: Iterable[str]) -> None:
    """A PATCH may leave a field out but not set one of `fields` to null (a required field,
    or one a stored null would break): 400 `cannot_be_null` naming the first such field."""
    for f in fields:
        if f in model.model_fields_set and getattr(model, f) is None:
            raise Invalid("cannot_be_null", f"{f} cannot be null", field=f)


class AcceptedOut(Model):
    status: str
    message: str


class ErrorDetail(Model):
    code: str
    message: str
    details: list


class ErrorOut(Model):
    error: ErrorDetail


class HealthOut(Model):
    status: str
    db: str


# Query strings arrive as text; each parameter is checked like a body field (see
# payload.parse_query). An empty value means "not given". A bad value is a 400 with
# every problem in `details`; its code is the first bad parameter's (`invalid_limit` for
# ?limit=, else `invalid_query`), so fields are declared in the order they are checked.

DEFAULT_LIMIT = 50
MAX_LIMIT = 200  # list pages (the contract)
MAX_EXPORT_PAGE = 5_000  # export pages: much larger, still one Lambda response
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def _query_error(message: str, code: str) -> PydanticCustomError:
    """A bad query parameter; `code` is its detail code (errors.DETAIL_CODES, one of
    payload.QUERY_CHECK_CODES)."""
    return PydanticCustomError(code, message)


def _limit_check(maximum: int):
    def check(value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
        elif isinstance(value, str):
            text = value
        else:
            raise _query_error("limit must be an integer", "not_an_integer")
        if not (text.isascii() and text.isdigit() and len(text) <= 9):
            raise _query_error("limit must be an integer", "not_an_integer")
        if not 1 <= int(text) <= maximum:
            raise _query_error(f"limit must be between 1 and {maximum:,}", "out_of_range")
        return int(text)

    return check


def _year_check(value: object) -> object:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    ok = isinstance(text, str) and len(text) == 4 and text.isascii() and text.isdigit()
    if not (ok and EARLIEST_YEAR <= int(text) <= LATEST_YEAR):
        raise _query_error(f"year must be a year between {EARLIEST_YEAR} and {LATEST_YEAR}", "out_of_range")
    return int(text)


def _month_check(value: object) -> object:
    """?from=/?to= of the profit report: a month (2026-11), or a date in it (2026-11-27)."""
    text = value if isinstance(value, str) else ""
    month = text[:7]
    ok = len(text) in (7, 10) and month[4:5] == "-" and month[:4].isdigit() and month[5:].isdigit()
    if ok and len(text) == 10:
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            ok = False
    if not (ok and EARLIEST_YEAR <= int(month[:4]) <= LATEST_YEAR and 1 <= int(month[5:]) <= 12):
        raise _query_error("must be a month as YYYY-MM", "invalid_date")
    return month


def _param(info: ValidationInfo) -> str:
    return (info.field_name or "").rstrip("_")  # from_ is ?from=


def _bool_check(value: object, info: ValidationInfo) -> object:
    text = value.lower() if isinstance(value, str) else value
    if text in (True, "true", "1"):
        return True
    if text in (False, "false", "0"):
        return False
    raise _query_error(f"{_param(info)} must be true or false", "not_a_boolean")


def _time_check(value: object, info: ValidationInfo) -> object:
    if not isinstance(value, str):
        return value
    try:
        return clock.parse_iso(value, _param(info))
    except ValidationFailed as exc:
        # clock.parse_iso: not a date at all, or one outside 2000-2100.
        code = "date_out_of_range" if "between" in exc.message else "invalid_date"
        raise _query_error(exc.message, code) from None


ListLimit = Annotated[int, Field(ge=1, le=MAX_LIMIT), BeforeValidator(_limit_check(MAX_LIMIT))]
ExportLimit = Annotated[int, Field(ge=1, le=MAX_EXPORT_PAGE), BeforeValidator(_limit_check(MAX_EXPORT_PAGE))]
Year = Annotated[int, Field(ge=EARLIEST_YEAR, le=LATEST_YEAR), BeforeValidator(_year_check)]
Flag = Annotated[bool, BeforeValidator(_bool_check)]
Month = Annotated[
    str, BeforeValidator(_month_check), WithJsonSchema({"type": "string", "pattern": r"^\d{4}-\d{2}$"})
]
QueryTime = Annotated[
    dt.datetime,
    BeforeValidator(_time_check),
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 8601 date or time (UTC unless an offset is given), 2000-01-01 to 2100-12-31",
        }
    ),
]
Cursor = Annotated[str, Field(description="next_cursor of the previous page (opaque)")]
SearchText = Annotated[str, Field(description="text to search for (case-insensitive)")]
HeaderLanguage = Annotated[
    Literal["zh", "en"],
    Field(description="CSV header language (default: the shop's language, 繁體中文 unless it is English)"),
]


class Query(Model):
    """Query parameters. Unknown ones are ignored; an empty one counts as not given."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, data):
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != ""}
        return data


class ListQuery(Query):
    """`GET /customers` and `GET /items`: a page of search results, newest first."""

    limit: ListLimit = DEFAULT_LIMIT
    cursor: Cursor | None = None
    q: SearchText | None = None


# ?customer_id= of the lists: an id, or a 400 naming the parameter.
CustomerIdParam = Annotated[
    str,
    BeforeValidator(_object_id_check),
    WithJsonSchema({"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}),
]
