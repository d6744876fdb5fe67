"""What comes in and goes out of `chalicelib/buyers/`, as pydantic models on the bases of
`platform/schemas.py`: a seller's customers. The OpenAPI document is built from these."""

# No `from __future__ import annotations` here: pydantic evaluates every field's annotation
# when the class is made, and as strings they are compiled and evaluated one by one first
# (~15 ms of a cold start, issue 32).

from pydantic import model_validator

from chalicelib.platform.schemas import (
    Email,
    In,
    LongText,
    Name,
    ObjectIdStr,
    Out,
    ShortText,
    cannot_be_null,
    non_empty_patch,
)


class CustomerIn(In):
    name: Name
    email: Email
    phone: ShortText | None = None
    address: LongText | None = None
    social: ShortText | None = None
    note: LongText | None = None
    notify: bool = True  # emails about their parcels and payments (the shop's switch too)


class CustomerPatch(In):
    name: Name | None = None
    email: Email | None = None
    phone: ShortText | None = None
    address: LongText | None = None
    social: ShortText | None = None
    note: LongText | None = None
    notify: bool | None = None

    @model_validator(mode="after")
    def _check(self):
        cannot_be_null(self, ("name", "email", "notify"))
        return non_empty_patch(self)


class CustomerOut(Out):
    id: str
    name: str
    email: str
    phone: str | None
    address: str | None
    social: str | None
    note: str | None
    notify: bool = True
    created_at: str
    updated_at: str


class CustomerMergeIn(In):
    """POST /customers/{id}/merge: the other customer, who is the same person."""

    from_customer_id: ObjectIdStr
