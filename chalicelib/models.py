"""What comes in and goes out, as pydantic models. The OpenAPI document is built from these."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from .money import to_cents

PaymentStatus = Literal["unpaid", "remitted", "refunded"]
FulfillmentStatus = Literal["pending", "purchased", "shipped", "delivered", "cancelled"]
PAYMENT_STATUSES: tuple[str, ...] = PaymentStatus.__args__
FULFILLMENT_STATUSES: tuple[str, ...] = FulfillmentStatus.__args__
# The shop's language: tracking-link emails (and the buyer page) use it.
Language = Literal["zh-Hant", "en"]

# Money in: a JSON number in major units, stored as integer cents.
Money = Annotated[int, BeforeValidator(to_cents)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Quantity = Annotated[int, Field(strict=True, ge=1, le=100_000)]
Stock = Annotated[int, Field(strict=True, ge=0, le=10_000_000)]
ObjectIdStr = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{24}$")]


class In(BaseModel):
    """Request bodies: unknown fields are refused, strings are strings (no operators)."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


def _non_empty_patch(model: BaseModel) -> BaseModel:
    if not model.model_fields_set:
        raise ValueError("nothing to update")
    return model


# --- sellers ---------------------------------------------------------------


# Passwords are taken exactly as typed: the model's whitespace trimming is off for them.
NewPassword = Annotated[str, StringConstraints(strip_whitespace=False, min_length=10, max_length=256)]
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=256)]
RefreshToken = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SignupIn(In):
    email: EmailStr
    password: NewPassword
    shop_name: Name


class LoginIn(In):
    email: Annotated[str, StringConstraints(min_length=1, max_length=320)]
    password: Password


class RefreshIn(In):
    refresh_token: RefreshToken


class PasswordChangeIn(In):
    current_password: Password
    new_password: NewPassword


class PasswordResetRequestIn(In):
    email: EmailStr


class PasswordResetIn(In):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    new_password: NewPassword


class AcceptedOut(BaseModel):
    status: str
    message: str


class SellerPatch(In):
    shop_name: Name | None = None
    timezone: str | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    language: Language | None = None

    @field_validator("timezone")
    @classmethod
    def _known_tz(cls, v: str | None) -> str | None:
        if v is not None and v not in available_timezones():
            raise ValueError("unknown IANA time zone")
        return v

    @model_validator(mode="after")
    def _something(self):
        for f in self.model_fields_set:
            if getattr(self, f) is None:
                raise ValueError(f"{f} cannot be null")
        return _non_empty_patch(self)


class SellerOut(BaseModel):
    id: str
    email: str
    shop_name: str
    shop_slug: str
    timezone: str
    currency: str
    language: Language


class SignupOut(BaseModel):
    seller: SellerOut
    token: str
    expires_at: str
    refresh_token: str


class SellerUpdatedOut(BaseModel):
    seller: SellerOut
    token: str


class LoginOut(BaseModel):
    token: str
    expires_at: str
    refresh_token: str


# --- customers -------------------------------------------------------------


class CustomerIn(In):
    name: Name
    email: EmailStr
    phone: ShortText | None = None
    address: LongText | None = None
    social: ShortText | None = None
    note: LongText | None = None


class CustomerPatch(In):
    name: Name | None = None
    email: EmailStr | None = None
    phone: ShortText | None = None
    address: LongText | None = None
    social: ShortText | None = None
    note: LongText | None = None

    @model_validator(mode="after")
    def _check(self):
        for f in ("name", "email"):
            if f in self.model_fields_set and getattr(self, f) is None:
                raise ValueError(f"{f} cannot be null")
        return _non_empty_patch(self)


class CustomerOut(BaseModel):
    id: str
    name: str
    email: str
    phone: str | None
    address: str | None
    social: str | None
    note: str | None
    created_at: str
    updated_at: str


# --- items -----------------------------------------------------------------


class ItemIn(In):
    item_name: Name
    price: Money
    stock: Stock | None = None
    note: LongText | None = None


class ItemPatch(In):
    item_name: Name | None = None
    price: Money | None = None
    stock: Stock | None = None
    note: LongText | None = None

    @model_validator(mode="after")
    def _check(self):
        for f in ("item_name", "price"):
            if f in self.model_fields_set and getattr(self, f) is None:
                raise ValueError(f"{f} cannot be null")
        return _non_empty_patch(self)


class ItemOut(BaseModel):
    id: str
    item_name: str
    price: float
    stock: int | None
    note: str | None
    created_at: str
    updated_at: str


# --- orders ----------------------------------------------------------------


class OrderIn(In):
    buyer_email: EmailStr | None = None
    buyer_name: Name | None = None
    customer_id: ObjectIdStr | None = None
    item_name: Name | None = None
    item_id: ObjectIdStr | None = None
    quantity: Quantity
    unit_price: Money | None = None
    shipping_fee: Money = 0
    batch: ShortText | None = None
    note: LongText | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if (self.buyer_email is None) == (self.customer_id is None):
            raise ValueError("give exactly one of buyer_email or customer_id")
        if (self.item_name is None) == (self.item_id is None):
            raise ValueError("give exactly one of item_name or item_id")
        return self


class OrderPatch(In):
    quantity: Quantity | None = None
    unit_price: Money | None = None
    shipping_fee: Money | None = None
    batch: ShortText | None = None
    note: LongText | None = None
    carrier: ShortText | None = None
    tracking_number: ShortText | None = None
    payment_status: PaymentStatus | None = None
    fulfillment_status: FulfillmentStatus | None = None
    shipped_date: Annotated[dt.date, Field(strict=False)] | None = None

    @field_validator("shipped_date", mode="before")
    @classmethod
    def _iso_date(cls, v):
        if v is not None and not (isinstance(v, str) and len(v) == 10):
            raise ValueError("must be a date as YYYY-MM-DD")
        return v

    @model_validator(mode="after")
    def _check(self):
        required = ("quantity", "unit_price", "shipping_fee", "payment_status", "fulfillment_status")
        for f in required:
            if f in self.model_fields_set and getattr(self, f) is None:
                raise ValueError(f"{f} cannot be null")
        return _non_empty_patch(self)


class BulkSet(In):
    payment_status: PaymentStatus | None = None
    fulfillment_status: FulfillmentStatus | None = None
    carrier: ShortText | None = None

    @model_validator(mode="after")
    def _check(self):
        return _non_empty_patch(self)


class BulkIn(In):
    ids: Annotated[
        list[Annotated[str, StringConstraints(max_length=64)]], Field(min_length=1, max_length=500)
    ]
    set: BulkSet


class HistoryEntry(BaseModel):
    at: str
    field: str
    # `from` is a Python keyword: exposed under its JSON name.
    from_: str | None = Field(alias="from")
    to: str | None


class OrderOut(BaseModel):
    id: str
    order_no: int
    customer_id: str
    buyer_email: str
    buyer_name: str
    item_id: str | None
    item_name: str
    quantity: int
    unit_price: float
    shipping_fee: float
    total_amount: float
    batch: str | None
    payment_status: PaymentStatus
    remitted_at: str | None
    fulfillment_status: FulfillmentStatus
    shipped_date: str | None
    carrier: str | None
    tracking_number: str | None
    note: str | None
    history: list[HistoryEntry]
    created_at: str
    updated_at: str


class BulkFailure(BaseModel):
    id: str
    error: str


class BulkOut(BaseModel):
    updated: int  # orders this call changed
    unchanged: int  # orders already as asked: nothing written
    failed: list[BulkFailure]


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list


class ErrorOut(BaseModel):
    error: ErrorDetail


class HealthOut(BaseModel):
    status: str
    db: str
