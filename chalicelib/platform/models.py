"""What comes in and goes out, as pydantic models. The OpenAPI document is built from these."""

# No `from __future__ import annotations` here: pydantic evaluates every field's annotation
# when the class is made, and as strings they are compiled and evaluated one by one first
# (~15 ms of a cold start, issue 32).
import datetime as dt
import functools
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import available_timezones

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
    field_validator,
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

# Money in: a JSON number in major units, stored as integer cents.
Money = Annotated[int, BeforeValidator(to_cents)]
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


def _non_empty_patch(model: BaseModel) -> BaseModel:
    if not model.model_fields_set:
        raise Invalid("nothing_to_update", "nothing to update")
    return model


# --- sellers ---------------------------------------------------------------


# Passwords are taken exactly as typed: the model's whitespace trimming is off for them.
NewPassword = Annotated[str, StringConstraints(strip_whitespace=False, min_length=10, max_length=256)]
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=256)]
RefreshToken = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SignupIn(In):
    email: Email
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
    email: Email


class PasswordResetIn(In):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    new_password: NewPassword


class AcceptedOut(Model):
    status: str
    message: str


class SellerPatch(In):
    shop_name: Name | None = None
    timezone: str | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    language: Language | None = None
    # Shown to buyers on their page: bank, branch code, account, LINE Pay id...
    payment_instructions: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = (
        None
    )
    notify_buyers: bool | None = None  # email buyers when a parcel ships or a payment is confirmed

    @field_validator("timezone")
    @classmethod
    def _known_tz(cls, v: str | None) -> str | None:
        if v is not None and v not in available_timezones():
            raise Invalid("unknown_timezone", "unknown IANA time zone")
        return v

    @field_validator("currency")
    @classmethod
    def _shop_currency(cls, v: str | None) -> str | None:
        return v if v is None else currencies.check_shop_currency(v)

    @model_validator(mode="after")
    def _something(self):
        for f in self.model_fields_set - {"payment_instructions"}:
            if getattr(self, f) is None:
                raise Invalid("cannot_be_null", f"{f} cannot be null", field=f)
        return _non_empty_patch(self)


class SellerOut(Model):
    id: str
    email: str
    shop_name: str
    shop_slug: str
    timezone: str
    currency: str
    language: Language
    payment_instructions: str | None = None
    notify_buyers: bool = True


# --- order forms (團購表單) ----------------------------------------------------


def _iso_time_text(value: object) -> object:
    if value is None:
        return value
    if not isinstance(value, str):
        raise Invalid("invalid_date", "must be an ISO 8601 time")
    try:
        return clock.parse_iso(value, "closes_at")
    except ValidationFailed as exc:
        raise Invalid("invalid_date", exc.message) from None


# A time in a body (closes_at): ISO 8601 text, UTC unless an offset is given.
IsoTime = Annotated[
    dt.datetime,
    BeforeValidator(_iso_time_text),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
PerBuyer = Annotated[int, Field(strict=True, ge=1, le=1000)]
LineQuantity = Annotated[int, Field(strict=True, ge=1, le=1000)]


class FormItemIn(In):
    item_id: ObjectIdStr
    max_per_buyer: PerBuyer | None = None  # units one email may order in all


def _unique_items(items: list) -> list:
    if items is not None and len({i.item_id.lower() for i in items}) != len(items):
        raise Invalid("duplicate_item", "each item once")
    return items


FormItems = Annotated[list[FormItemIn], Field(min_length=1, max_length=50), AfterValidator(_unique_items)]


class FormIn(In):
    batch: BatchName
    title: Name
    description: LongText | None = None
    items: FormItems
    closes_at: IsoTime | None = None
    ask_phone: bool = False
    ask_address: bool = False


class FormPatch(In):
    title: Name | None = None
    description: LongText | None = None
    items: FormItems | None = None
    closes_at: IsoTime | None = None  # null: open until closed by hand
    closed: bool | None = None
    ask_phone: bool | None = None
    ask_address: bool | None = None

    @model_validator(mode="after")
    def _check(self):
        for f in ("title", "items", "closed", "ask_phone", "ask_address"):
            if f in self.model_fields_set and getattr(self, f) is None:
                raise Invalid("cannot_be_null", f"{f} cannot be null", field=f)
        return _non_empty_patch(self)


class FormItemOut(Model):
    item_id: str
    item_name: str
    price: Annotated[int | float, WithJsonSchema({"type": "number"})]
    max_per_buyer: int | None
    remaining: int | None  # stock left when the item's stock is tracked


class FormOut(Model):
    id: str
    url: str | None  # only when a link is made (POST /forms, POST /forms/{id}/link)
    title: str
    description: str | None
    batch: str
    items: list[FormItemOut]
    closes_at: str | None
    closed: bool
    ask_phone: bool
    ask_address: bool
    submission_count: int
    order_count: int
    created_at: str
    updated_at: str


class FormLinkOut(Model):
    url: str


class PublicFormOut(Model):
    shop_name: str
    title: str
    description: str | None
    closes_at: str | None
    currency: str
    language: Language
    ask_phone: bool
    ask_address: bool
    items: list[FormItemOut]


class FormLineIn(In):
    item_id: ObjectIdStr
    quantity: LineQuantity


class FormOrderIn(In):
    name: Name
    email: Email
    phone: ShortText | None = None
    address: LongText | None = None
    lines: Annotated[list[FormLineIn], Field(min_length=1, max_length=50), AfterValidator(_unique_items)]
    note: LongText | None = None


class FormOrderOut(Model):
    order_nos: list[int]
    total_amount: Annotated[int | float, WithJsonSchema({"type": "number"})]
    tracking_url: str


# --- batches (trips) ---------------------------------------------------------


class BatchPatch(In):
    # Per currency: a rate into the shop currency; null removes it. Other currencies keep theirs.
    rates: Annotated[dict[CurrencyCode, Rate | None], Field(max_length=50)] | None = None
    closed: bool | None = None
    note: LongText | None = None

    @model_validator(mode="after")
    def _check(self):
        for f in ("rates", "closed"):
            if f in self.model_fields_set and getattr(self, f) is None:
                raise Invalid("cannot_be_null", f"{f} cannot be null", field=f)
        return _non_empty_patch(self)


class BatchPath(In):
    """The {name} of /batches/{name}: the rules of an order's `batch`."""

    name: BatchName


class BatchOut(Out):
    name: str
    order_count: int  # neither cancelled nor refunded
    total_amount: MoneyOut
    closed: bool
    rates: dict[str, str]  # decimal text, as given: {"JPY": "0.2115"}
    note: str | None
    currencies: list[str]  # the foreign cost currencies its orders use
    missing_rates: list[str]  # of those, the ones without a rate: their orders have no profit
    updated_at: str | None


class SignupOut(Model):
    seller: SellerOut
    token: str
    expires_at: str
    refresh_token: str


class SellerUpdatedOut(Model):
    seller: SellerOut
    token: str


class LoginOut(Model):
    token: str
    expires_at: str
    refresh_token: str


# --- customers -------------------------------------------------------------


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
        for f in ("name", "email", "notify"):
            if f in self.model_fields_set and getattr(self, f) is None:
                raise Invalid("cannot_be_null", f"{f} cannot be null", field=f)
        return _non_empty_patch(self)


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


# --- items -----------------------------------------------------------------


class ItemIn(In):
    item_name: Name
    price: Money
    stock: Stock | None = None
    note: LongText | None = None
    cost: CostIn | None = None  # what one unit costs the seller (default currency: the shop's)
    cost_currency: CurrencyCode | None = None


class ItemPatch(In):
    item_name: Name | None = None
    price: Money | None = None
    stock: Stock | None = None
    note: LongText | None = None
    cost: CostIn | None = None  # null: no cost known
    cost_currency: CurrencyCode | None = None

    @model_validator(mode="after")
    def _check(self):
        for f in ("item_name", "price"):
            if f in self.model_fields_set and getattr(self, f) is None:
                raise Invalid("cannot_be_null", f"{f} cannot be null", field=f)
        return _non_empty_patch(self)


class ItemOut(Out):
    id: str
    item_name: str
    price: MoneyOut
    stock: int | None
    note: str | None
    cost: CostOut = None
    cost_currency: str | None = None
    created_at: str
    updated_at: str


# --- orders ----------------------------------------------------------------


class OrderIn(In):
    buyer_email: Email | None = None
    buyer_name: Name | None = None
    customer_id: ObjectIdStr | None = None
    item_name: Name | None = None
    item_id: ObjectIdStr | None = None
    quantity: Quantity
    unit_price: Money | None = None
    shipping_fee: Money = 0
    batch: ShortText | None = None
    note: LongText | None = None
    # Default: the item's cost and currency; a cost without a currency is in the shop's.
    cost: CostIn | None = None
    cost_currency: CurrencyCode | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if (self.buyer_email is None) == (self.customer_id is None):
            raise Invalid(
                "exactly_one_of", "give exactly one of buyer_email or customer_id", field="buyer_email"
            )
        if (self.item_name is None) == (self.item_id is None):
            raise Invalid("exactly_one_of", "give exactly one of item_name or item_id", field="item_name")
        return self


class OrderPatch(In):
    # The buyer: one of these (the email finds or creates the customer, as in POST).
    customer_id: ObjectIdStr | None = None
    buyer_email: Email | None = None
    quantity: Quantity | None = None
    unit_price: Money | None = None
    shipping_fee: Money | None = None
    batch: ShortText | None = None
    note: LongText | None = None
    carrier: ShortText | None = None
    tracking_number: ShortText | None = None
    payment_status: PaymentStatusIn | None = None
    fulfillment_status: FulfillmentStatus | None = None
    shipped_date: IsoDate | None = None
    cost: CostIn | None = None  # null: no cost known
    cost_currency: CurrencyCode | None = None

    @model_validator(mode="after")
    def _check(self):
        required = (
            "customer_id",
            "buyer_email",
            "quantity",
            "unit_price",
            "shipping_fee",
            "payment_status",
            "fulfillment_status",
            "cost_currency",
        )
        for f in required:
            if f in self.model_fields_set and getattr(self, f) is None:
                raise Invalid("cannot_be_null", f"{f} cannot be null", field=f)
        if {"customer_id", "buyer_email"} <= self.model_fields_set:
            raise Invalid(
                "exactly_one_of", "give exactly one of buyer_email or customer_id", field="buyer_email"
            )
        return _non_empty_patch(self)


class BulkSet(In):
    payment_status: PaymentStatusIn | None = None
    fulfillment_status: FulfillmentStatus | None = None
    carrier: ShortText | None = None  # null: no carrier

    @model_validator(mode="after")
    def _check(self):
        # A stored null status is an order no model can read (every list, export and
        # edit of it would fail): refused here, nothing written.
        for f in ("payment_status", "fulfillment_status"):
            if f in self.model_fields_set and getattr(self, f) is None:
                raise Invalid("cannot_be_null", f"{f} cannot be null", field=f)
        return _non_empty_patch(self)


class BulkIn(In):
    ids: Annotated[
        list[Annotated[str, StringConstraints(max_length=64)]], Field(min_length=1, max_length=500)
    ]
    set: BulkSet


class HistoryEntry(Model):
    at: str
    field: str
    # `from` is a Python keyword: exposed under its JSON name.
    from_: str | None = Field(alias="from")
    to: str | None


class ShipToOut(Model):
    """Delivery details typed on an order form; a field the buyer left empty is null."""

    name: str | None = None
    phone: str | None = None
    address: str | None = None


class OrderOut(Out):
    id: str
    order_no: int
    customer_id: str
    buyer_email: str
    buyer_name: str
    item_id: str | None
    item_name: str
    quantity: int
    unit_price: MoneyOut
    shipping_fee: MoneyOut
    total_amount: MoneyOut
    paid_amount: MoneyOut
    balance: MoneyOut
    # The seller's own figures, never on a buyer's page: the unit cost in its currency;
    # cost_amount = the order's cost in the shop currency at its batch's rate, and
    # profit = total_amount - shipping_fee - cost_amount; both null when unknown.
    cost: CostOut = None
    cost_currency: str | None = None
    cost_amount: MoneyOrNull = None
    profit: MoneyOrNull = None
    # Where the order came from: "seller" (typed in), "import" (a CSV) or "form" (a buyer,
    # through an order form: form_id and form_title say which).
    source: str = "seller"
    form_id: str | None = None
    form_title: str | None = None
    # What the buyer typed about delivery on the order form (null on other orders); the
    # customer's stored details are never changed by a submission.
    ship_to: ShipToOut | None = None
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


class BulkFailure(Model):
    id: str
    error: str


class BulkOut(Model):
    updated: int  # orders this call changed
    unchanged: int  # orders already as asked: nothing written
    failed: list[BulkFailure]


# --- payments --------------------------------------------------------------

PaymentMethod = Literal["bank_transfer", "cash", "line_pay", "jko_pay", "credit_card", "other"]
# `voided`: a confirmed payment the seller took back (beyond the contract's three).
PaymentState = Literal["reported", "confirmed", "rejected", "voided"]
AccountLast5 = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{5}$")]
PositiveMoney = Annotated[int, BeforeValidator(to_cents), Field(ge=1)]
PaymentNote = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class _PaidAt(In):
    paid_at: IsoDate | None = None


class PaymentIn(_PaidAt):
    """POST /payments (the seller): confirmed at once."""

    customer_id: ObjectIdStr
    amount: PositiveMoney
    method: PaymentMethod
    account_last5: AccountLast5 | None = None
    note: PaymentNote | None = None
    order_ids: Annotated[list[ObjectIdStr], Field(min_length=1, max_length=200)] | None = None


class BuyerPaymentIn(_PaidAt):
    """POST /track/{token}/payments: the buyer reports a transfer."""

    amount: PositiveMoney
    account_last5: AccountLast5 | None = None
    note: PaymentNote | None = None


class RejectIn(In):
    reason: PaymentNote | None = None


class AllocationOut(Out):
    order_id: str
    order_no: int
    amount: MoneyOut


class PaymentOut(Out):
    id: str
    customer_id: str
    buyer_name: str | None
    amount: MoneyOut
    unallocated: MoneyOut
    method: PaymentMethod
    account_last5: str | None
    paid_at: str
    note: str | None
    status: PaymentState
    source: Literal["seller", "buyer"]
    allocations: list[AllocationOut]
    reject_reason: str | None
    confirmed_at: str | None
    voided_at: str | None
    created_at: str
    updated_at: str


class TrackPaymentOut(Out):
    """A payment as its buyer sees it: the buyer's own note, never the seller's."""

    amount: MoneyOut
    paid_at: str
    account_last5: str | None
    note: str | None
    status: PaymentState
    source: Literal["seller", "buyer"]
    reject_reason: str | None
    created_at: str


# --- parcels ---------------------------------------------------------------

ParcelMethod = Literal["home", "cvs_711", "cvs_family", "cvs_hilife", "cvs_ok", "post", "pickup", "overseas"]
ParcelStatus = Literal["shipped", "delivered", "returned"]


class Recipient(In):
    name: ShortText | None = None
    phone: ShortText | None = None
    address: LongText | None = None
    store_name: ShortText | None = None
    store_id: ShortText | None = None


class ParcelIn(In):
    customer_id: ObjectIdStr
    order_ids: Annotated[list[ObjectIdStr], Field(min_length=1, max_length=100)]
    method: ParcelMethod
    carrier: ShortText | None = None
    tracking_number: ShortText | None = None
    shipping_fee: Money = 0
    recipient: Recipient | None = None
    note: LongText | None = None


class ParcelPatch(In):
    carrier: ShortText | None = None
    tracking_number: ShortText | None = None
    shipping_fee: Money | None = None
    recipient: Recipient | None = None
    note: LongText | None = None
    status: ParcelStatus | None = None

    @model_validator(mode="after")
    def _check(self):
        # recipient: the fields given replace the stored ones, the others stay; null would
        # erase the address label, so it is refused rather than guessed at.
        for f in ("shipping_fee", "status", "recipient"):
            if f in self.model_fields_set and getattr(self, f) is None:
                raise Invalid("cannot_be_null", f"{f} cannot be null", field=f)
        return _non_empty_patch(self)


class RecipientOut(Model):
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    store_name: str | None = None
    store_id: str | None = None


class ParcelOut(Out):
    id: str
    parcel_no: int
    customer_id: str
    buyer_name: str | None
    order_ids: list[str]
    order_nos: list[int]
    method: ParcelMethod
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    shipping_fee: MoneyOut
    recipient: RecipientOut
    status: ParcelStatus
    shipped_date: str
    delivered_date: str | None
    note: str | None
    created_at: str
    updated_at: str


# --- buyer tracking --------------------------------------------------------


class TrackingLinkOut(Model):
    url: str
    token: str


class TrackingLinkInfoOut(Model):
    """A link as the seller's list shows it: never the token (only its hash is stored)."""

    id: str
    kind: Literal["seller", "email", "form"]
    created_at: str


class TrackOrderOut(Out):
    """An order as its buyer sees it: these fields, and no others, leave the database
    on the tracking path (tracking.ORDER_PROJECTION is built from them)."""

    order_no: int
    item_name: str
    quantity: int
    total_amount: MoneyOut
    paid_amount: MoneyOut
    balance: MoneyOut
    payment_status: PaymentStatus
    remitted_at: str | None
    fulfillment_status: FulfillmentStatus
    shipped_date: str | None
    carrier: str | None
    tracking_number: str | None
    created_at: str


class TrackParcelOut(Model):
    """A parcel as its buyer sees it (from the copies its orders carry)."""

    parcel_no: int
    method: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    shipped_date: str | None
    delivered_date: str | None
    order_nos: list[int]


class TrackOut(Model):
    shop_name: str
    buyer_name: str
    currency: str
    language: str
    orders: list[TrackOrderOut]
    balance: float  # still owed on the buyer's orders (confirmed payments only)
    credit: float  # confirmed money on no order yet: used by the next orders
    payments: list[TrackPaymentOut]
    payment_instructions: str | None
    parcels: list[TrackParcelOut]  # newest first
    # "submission": a form submission's link, showing that submission only (tracking.py)
    scope: Literal["customer", "submission"] = "customer"


class LinkRequestIn(In):
    shop_slug: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,60}$")]
    email: Email


# --- reports ---------------------------------------------------------------


class BuyerTotals(Model):
    order_count: int
    total_amount: float
    remitted_amount: float
    outstanding_amount: float
    refunded_amount: float
    credit_amount: float  # confirmed money on no order yet (whatever the batch filter)
    shipped_count: int
    unshipped_count: int


class BuyerRow(BuyerTotals):
    """The same sums as the totals, for one customer."""

    customer_id: str
    name: str | None
    email: str | None


class BuyersReportOut(Model):
    rows: list[BuyerRow]
    totals: BuyerTotals


class ItemTotals(Model):
    quantity: int
    order_count: int


class ItemRow(ItemTotals):
    item_name: str | None


class ItemsReportOut(Model):
    rows: list[ItemRow]
    totals: ItemTotals


class MonthTotals(Model):
    order_count: int
    total_amount: float
    remitted_amount: float
    refunded_amount: float


class MonthRow(MonthTotals):
    month: str


class MonthlyReportOut(Model):
    year: int
    rows: list[MonthRow]
    totals: MonthTotals


class ProfitRow(Model):
    batch: str | None = None  # by_batch rows (null: orders in no batch)
    month: str | None = None  # by_month rows
    order_count: int
    revenue: float
    cost: float | None  # null: no order here has a known cost
    shipping_fees: float
    profit: float | None  # of the orders with a known cost (costed_count)
    margin: float | None  # profit / their revenue: 0.2534 = 25.34 %
    costed_count: int
    missing_cost_count: int
    missing_rate_count: int


class ProfitReportOut(Model):
    currency: str
    by_batch: list[ProfitRow]
    by_month: list[ProfitRow]
    totals: ProfitRow


# --- import ----------------------------------------------------------------


class ImportDuplicate(Model):
    """A file row that matches an existing order (buyer, item, quantity, price, batch)."""

    row: int  # as the spreadsheet numbers it: the header is row 1
    code: Literal["duplicate_row"]
    message: str
    order_no: int  # the existing order it matches


class ImportOut(Model):
    dry_run: bool
    created: int
    rows: int  # rows imported (or to import, in a dry run): skipped duplicates left out
    new_customers: int
    total_amount: float
    duplicates: list[ImportDuplicate]
    skipped: int  # duplicate rows left out with skip_duplicates=true
    first_order_no: int | None = None
    last_order_no: int | None = None


# --- platform --------------------------------------------------------------


class ErrorDetail(Model):
    code: str
    message: str
    details: list


class ErrorOut(Model):
    error: ErrorDetail


class HealthOut(Model):
    status: str
    db: str


# --- query parameters ------------------------------------------------------
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


# GET /orders?sort=: the three sortable fields, ascending or (with `-`) descending.
OrderSort = Literal["created_at", "-created_at", "order_no", "-order_no", "total_amount", "-total_amount"]
ORDER_SORTS: tuple[str, ...] = OrderSort.__args__


# ?customer_id= of the lists: an id, or a 400 naming the parameter.
CustomerIdParam = Annotated[
    str,
    BeforeValidator(_object_id_check),
    WithJsonSchema({"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}),
]


class OrderQuery(ListQuery):
    customer_id: CustomerIdParam | None = None
    form_id: CustomerIdParam | None = Field(default=None, description="orders made through this form")
    batch: str | None = Field(default=None, description="exactly this batch")
    payment_status: PaymentStatus | None = None
    fulfillment_status: FulfillmentStatus | None = None
    from_: QueryTime | None = Field(default=None, alias="from")
    to: QueryTime | None = None
    sort: OrderSort = Field(
        default="-created_at",
        description="order of the list: a field, `-` for descending; ties go by id in the same "
        "direction. Default: newest first. A cursor only continues the sort it came from.",
    )
    batch_prefix: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, max_length=200),
            Field(description="part of the batch name, anywhere in it, any case (東京 finds 2026-12 東京)"),
        ]
        | None
    ) = None


class ProfitQuery(Query):
    format: Literal["json", "csv"] = "json"
    headers: HeaderLanguage | None = None
    batch: str | None = None
    from_: Month | None = Field(default=None, alias="from", description="first month, YYYY-MM")
    to: Month | None = Field(default=None, description="last month, YYYY-MM")
    by: Literal["batch", "month"] = Field(default="batch", description="the CSV's rows")


class ReportQuery(Query):
    format: Literal["json", "csv"] = "json"
    headers: HeaderLanguage | None = None
    batch: str | None = None


class MonthlyQuery(Query):
    format: Literal["json", "csv"] = "json"
    headers: HeaderLanguage | None = None
    year: Year | None = Field(default=None, description="default: this year in the shop's time zone")


class ExportQuery(Query):
    format: Literal["csv", "json"] = "csv"
    limit: ExportLimit | None = Field(default=None, description="orders per page (default: all)")
    cursor: Cursor | None = None
    headers: HeaderLanguage | None = None


class PaymentExportQuery(ExportQuery):
    """GET /export/payments: every payment of the seller (or of one buyer, one status)."""

    limit: ExportLimit | None = Field(default=None, description="payments per page (default: all)")
    customer_id: CustomerIdParam | None = None
    status: PaymentState | None = None


class ImportQuery(Query):
    dry_run: Flag = Field(default=False, description="validate only, write nothing")
    skip_duplicates: Flag | None = Field(
        default=None,
        description="rows matching existing orders (same buyer, item, quantity, price, batch): "
        "true leaves them out, false imports them too; not given: a dry run lists them and a "
        "real import with any is refused (409 duplicate_rows)",
    )


class PaymentQuery(ListQuery):
    customer_id: CustomerIdParam | None = None
    status: PaymentState | None = None


class ParcelQuery(ListQuery):
    customer_id: CustomerIdParam | None = None
    status: ParcelStatus | None = None


class SlipQuery(Query):
    prices: Flag = Field(default=True, description="false: no prices on the slip")
    size: Literal["a4", "label"] = Field(default="a4", description="A4 page or a 100×150 mm label")
