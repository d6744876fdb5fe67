"""What comes in and goes out of `chalicelib/buyers/`, as pydantic models on the bases of
`platform/schemas.py`: a seller's customers. The OpenAPI document is built from these."""

# No `from __future__ import annotations` here: pydantic evaluates every field's annotation
# when the class is made, and as strings they are compiled and evaluated one by one first
# (~15 ms of a cold start, issue 32).
from typing import Annotated, Literal

from pydantic import AfterValidator, StringConstraints, WithJsonSchema, model_validator

from chalicelib.platform.errors import Invalid
from chalicelib.platform.schemas import (
    Email,
    In,
    ListQuery,
    LongText,
    MoneyOut,
    Name,
    ObjectIdStr,
    Out,
    ShortText,
    cannot_be_null,
    non_empty_patch,
)
from chalicelib.rules import contacts


def _field_check(check):
    """A contacts check as a field validator: pydantic names the field (`phone`,
    `buyer.phone`), so the Invalid goes on without its own field name."""

    def run(value: str) -> str:
        try:
            return check(value)
        except Invalid as exc:
            raise Invalid(exc.code, exc.message) from None

    return run


# Stored in E.164 (`0912-345-678` → `+886912345678`; a number without a country code is
# Taiwanese): 400 `invalid_phone` when it cannot be a phone number.
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    AfterValidator(_field_check(contacts.normalize_phone)),
    WithJsonSchema({"type": "string", "maxLength": 50, "examples": ["0912-345-678"]}),
]
# As typed (trimmed, full-width made half-width), matched case-insensitively.
LineId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_field_check(contacts.normalize_line_id)),
    WithJsonSchema({"type": "string", "maxLength": contacts.LINE_ID_MAX}),
]


def _contact_required(model) -> None:
    if not (model.email or model.phone or model.line_id):
        raise Invalid("contact_required", "give an email, a phone or a LINE ID", field="email")


class BuyerIn(In):
    """A new buyer: a name and at least one way to reach them (POST /orders `buyer`)."""

    name: Name
    email: Email | None = None
    phone: Phone | None = None
    line_id: LineId | None = None

    @model_validator(mode="after")
    def _check(self):
        _contact_required(self)
        return self


class CustomerIn(BuyerIn):
    address: LongText | None = None
    social: ShortText | None = None
    note: LongText | None = None
    notify: bool = True  # emails about their parcels and payments (the shop's switch too)
    notices_opt_out: bool = False  # no batch notice by email (notifications.notices)


class CustomerPatch(In):
    # email, phone and line_id may each be null; the update keeps at least one of them
    # (customers.update: 400 contact_required otherwise).
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    line_id: LineId | None = None
    address: LongText | None = None
    social: ShortText | None = None
    note: LongText | None = None
    notify: bool | None = None
    notices_opt_out: bool | None = None

    @model_validator(mode="after")
    def _check(self):
        cannot_be_null(self, ("name", "notify", "notices_opt_out"))
        if {"email", "phone", "line_id"} <= self.model_fields_set:
            _contact_required(self)  # all three in the body: no stored one can remain
        return non_empty_patch(self)


class CustomerQuery(ListQuery):
    """`GET /customers`: `q` matches name, email, phone (any format) and LINE ID; `sort`
    is newest first (default) or `name` (then id), for pickers."""

    sort: Literal["-created_at", "name"] = "-created_at"


class CustomerOut(Out):
    id: str
    name: str
    email: str | None
    phone: str | None
    line_id: str | None
    address: str | None
    social: str | None
    note: str | None
    notify: bool = True
    notices_opt_out: bool = False
    # the buyer's credit (her cached sum of unallocated confirmed money): the order panel
    # offers it for an order held from credit
    credit: MoneyOut = 0
    created_at: str
    updated_at: str


class CustomerMergeIn(In):
    """POST /customers/{id}/merge: the other customer, who is the same person."""

    from_customer_id: ObjectIdStr
