"""What comes in and goes out of `chalicelib/sales/`, as pydantic models on the bases of
`platform/schemas.py`: orders, bulk changes, order forms, CSV import and export. The OpenAPI document is built from these."""

# No `from __future__ import annotations` here: pydantic evaluates every field's annotation
# when the class is made, and as strings they are compiled and evaluated one by one first
# (~15 ms of a cold start, issue 32).
import datetime as dt
import unicodedata
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from chalicelib.buyers.schemas import BuyerIn
from chalicelib.money.schemas import ChargeState, PaymentState
from chalicelib.platform import clock
from chalicelib.platform.errors import Invalid, ValidationFailed
from chalicelib.platform.schemas import (
    BatchName,
    CostIn,
    CostOut,
    CurrencyCode,
    Cursor,
    CustomerIdParam,
    Email,
    ExportLimit,
    Flag,
    FulfillmentStatus,
    HeaderLanguage,
    In,
    IsoDate,
    Language,
    ListQuery,
    LongText,
    Model,
    Money,
    MoneyOrNull,
    MoneyOut,
    Name,
    ObjectIdStr,
    Out,
    PaymentStatus,
    PaymentStatusIn,
    Quantity,
    Query,
    QueryTime,
    ShortText,
    cannot_be_null,
    non_empty_patch,
)


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
MinQuantity = Annotated[int, Field(strict=True, ge=1, le=100000)]
ExtendDays = Annotated[int, Field(strict=True, ge=1, le=30)]
# What an item below its min_quantity does at the close: its orders are cancelled, or the
# close moves once by extend_days (and at the next close they are cancelled).
OnMinUnmet = Literal["cancel", "extend"]


class FormItemIn(In):
    item_id: ObjectIdStr
    max_per_buyer: PerBuyer | None = None  # units one buyer (customer) may order in all
    # 成團門檻: units the form's live orders must reach by the close (on_min_unmet decides
    # what happens to an item below it: sales/closing.py).
    min_quantity: MinQuantity | None = None


def _unique_items(items: list) -> list:
    if items is not None and len({i.item_id.lower() for i in items}) != len(items):
        raise Invalid("duplicate_item", "each item once")
    return items


FormItems = Annotated[list[FormItemIn], Field(min_length=1, max_length=50), AfterValidator(_unique_items)]
# What the public form asks the buyer for, and so how their customer is found.
FormContact = Literal["email", "phone", "line_id", "any"]


# How a form bills shipping: not at all, a flat fee per submission (one charge), or
# later, after weighing (a parcel's fee).
ShippingMode = Literal["none", "flat", "later"]


class FormShippingIn(In):
    """`fee` is required and above 0 for `flat`, and refused for the other modes (a fee
    the buyer would never be charged)."""

    mode: ShippingMode
    fee: Money | None = None

    @model_validator(mode="after")
    def _fee(self):
        if self.mode == "flat" and self.fee is None:
            raise Invalid("missing", "a flat shipping rule needs its fee", field="fee")
        if self.mode == "flat" and self.fee <= 0:
            raise Invalid("not_positive", "a flat shipping fee must be above 0", field="fee")
        if self.mode != "flat" and self.fee is not None:
            raise Invalid("fee_not_allowed", "only a flat shipping rule takes a fee", field="fee")
        return self


class FormShippingOut(Model):
    mode: ShippingMode
    fee: Annotated[int | float | None, WithJsonSchema({"type": ["number", "null"]})]  # flat only


class FormIn(In):
    batch: BatchName
    title: Name
    description: LongText | None = None
    items: FormItems
    closes_at: IsoTime | None = None
    contact: FormContact = "email"
    ask_phone: bool = False
    ask_address: bool = False
    shipping: FormShippingIn | None = None  # none: {mode: "none"}
    on_min_unmet: OnMinUnmet = "cancel"
    extend_days: ExtendDays | None = None  # required with on_min_unmet "extend"

    @model_validator(mode="after")
    def _extend(self):
        check_extend(self.on_min_unmet, self.extend_days)
        return self


def check_extend(rule: str | None, days: int | None) -> None:
    """`extend` needs its days; `cancel` refuses them (a number that would do nothing)."""
    if rule == "extend" and days is None:
        raise Invalid("missing", "extending the close needs extend_days (1-30)", field="extend_days")
    if rule == "cancel" and days is not None:
        raise Invalid(
            "extend_days_not_allowed", "only on_min_unmet extend takes extend_days", field="extend_days"
        )


class FormPatch(In):
    title: Name | None = None
    description: LongText | None = None
    items: FormItems | None = None
    closes_at: IsoTime | None = None  # null: open until closed by hand
    closed: bool | None = None
    contact: FormContact | None = None
    ask_phone: bool | None = None
    ask_address: bool | None = None
    shipping: FormShippingIn | None = None
    on_min_unmet: OnMinUnmet | None = None  # the rule after the PATCH is checked: forms._check_rule
    extend_days: ExtendDays | None = None

    @model_validator(mode="after")
    def _check(self):
        cannot_be_null(
            self,
            ("title", "items", "closed", "contact", "ask_phone", "ask_address", "shipping", "on_min_unmet"),
        )
        return non_empty_patch(self)


class FormVariantOut(Model):
    id: str
    label: str
    price: Annotated[int | float, WithJsonSchema({"type": "number"})]  # the item's when it has none
    remaining: int | None  # stock left when the variant's stock is tracked (0: sold out)


class FormItemOut(Model):
    item_id: str
    item_name: str
    price: Annotated[int | float, WithJsonSchema({"type": "number"})]
    max_per_buyer: int | None
    remaining: int | None  # stock left when the item's stock is tracked (with variants: their sum)
    variants: list[FormVariantOut] = []  # the buyer picks one (each with its own sold-out state)
    min_quantity: int | None  # 成團門檻 (null: none)
    ordered: int  # units in this form's live (not cancelled) orders
    # At the close: "met", "extended" (the close moved once), "cancelled" (its orders
    # were); null before the close or without a minimum.
    outcome: Literal["met", "extended", "cancelled"] | None
    photo_url: str | None = None  # the item's first photo, small (~160 px; catalog/photos.py)


class CancelledBuyerOut(Model):
    customer_id: str
    name: str
    emailed: bool


class FormOut(Model):
    id: str
    url: str | None  # the current link; null for a form made before links could be shown again
    title: str
    description: str | None
    batch: str
    items: list[FormItemOut]
    closes_at: str | None
    closed: bool
    contact: FormContact
    ask_phone: bool
    ask_address: bool
    shipping: FormShippingOut
    on_min_unmet: OnMinUnmet
    extend_days: int | None
    extended: bool  # the close was moved once by extend_days
    # Buyers told their orders were cancelled at the close (emailed: false means no email
    # went: LINE-only, or notices off; the seller tells them by LINE).
    cancelled_buyers: list[CancelledBuyerOut]
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
    contact: FormContact
    ask_phone: bool
    ask_address: bool
    shipping: FormShippingOut
    items: list[FormItemOut]


class FormLineIn(In):
    item_id: ObjectIdStr
    quantity: LineQuantity
    variant_id: ObjectIdStr | None = None  # required for an item with variants


def _unique_lines(lines: list) -> list:
    """Each item (each variant of an item) once."""
    keys = {(line.item_id.lower(), (line.variant_id or "").lower()) for line in lines}
    if len(keys) != len(lines):
        raise Invalid("duplicate_item", "each item once")
    return lines


class FormOrderIn(In):
    """The contact the form asks for is required by the form (forms._check); a phone is
    read as contacts.normalize_phone reads it (400 `invalid_phone`)."""

    name: Name
    email: Email | None = None
    phone: ShortText | None = None
    line_id: ShortText | None = None
    address: LongText | None = None
    lines: Annotated[list[FormLineIn], Field(min_length=1, max_length=50), AfterValidator(_unique_lines)]
    note: LongText | None = None
    # "Email me before this form closes and when payment is due": off unless asked; only
    # with an email the form keeps (forms.check_remind: 400 `remind_needs_email`).
    remind: bool = False


class FormOrderOut(Model):
    order_nos: list[int]
    total_amount: Annotated[int | float, WithJsonSchema({"type": "number"})]  # the orders'
    shipping_fee: Annotated[int | float, WithJsonSchema({"type": "number"})]  # the flat fee charged (0: none)
    balance: Annotated[int | float, WithJsonSchema({"type": "number"})]  # still owed: orders and fee
    tracking_url: str


class OrderIn(In):
    # The buyer: exactly one of these three (customers.for_order).
    buyer_email: Email | None = None  # found, or created with buyer_name
    buyer_name: Name | None = None
    customer_id: ObjectIdStr | None = None
    buyer: BuyerIn | None = None  # a new customer: a name and at least one contact
    item_name: Name | None = None
    item_id: ObjectIdStr | None = None
    variant_id: ObjectIdStr | None = None  # required for an item with variants
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
        if sum(v is not None for v in (self.customer_id, self.buyer_email, self.buyer)) != 1:
            raise Invalid(
                "exactly_one_of", "give exactly one of customer_id, buyer_email or buyer", field="customer_id"
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
    # Another variant of the order's item: its units move there (the price stays as it is).
    variant_id: ObjectIdStr | None = None

    @model_validator(mode="after")
    def _check(self):
        required = (
            "variant_id",
            "customer_id",
            "buyer_email",
            "quantity",
            "unit_price",
            "shipping_fee",
            "payment_status",
            "fulfillment_status",
            "cost_currency",
        )
        cannot_be_null(self, required)
        if {"customer_id", "buyer_email"} <= self.model_fields_set:
            raise Invalid(
                "exactly_one_of", "give exactly one of buyer_email or customer_id", field="buyer_email"
            )
        return non_empty_patch(self)


class BulkSet(In):
    payment_status: PaymentStatusIn | None = None
    fulfillment_status: FulfillmentStatus | None = None
    carrier: ShortText | None = None  # null: no carrier

    @model_validator(mode="after")
    def _check(self):
        # A stored null status is an order no model can read (every list, export and
        # edit of it would fail): refused here, nothing written.
        cannot_be_null(self, ("payment_status", "fulfillment_status"))
        return non_empty_patch(self)


class BulkIn(In):
    ids: Annotated[
        list[Annotated[str, StringConstraints(max_length=64)]], Field(min_length=1, max_length=500)
    ]
    set: BulkSet


class OrderFilter(In):
    """The filters of `GET /orders` (sort and paging aside), as `POST /orders/bulk/matching`
    takes them: the same names and values, so a bulk change reaches the orders the list
    shows. Unknown names are refused (400): a misspelt filter must not widen the change to
    every order."""

    customer_id: CustomerIdParam | None = None
    form_id: CustomerIdParam | None = None
    batch: str | None = None
    payment_status: PaymentStatus | None = None
    fulfillment_status: FulfillmentStatus | None = None
    from_: QueryTime | None = Field(default=None, alias="from")
    to: QueryTime | None = None
    batch_prefix: Annotated[str, StringConstraints(max_length=200)] | None = None
    q: Annotated[str, StringConstraints(max_length=200)] | None = None


class BulkMatchSet(In):
    """A status for every matching order. No carrier: a status change marks each order it
    reaches in its history, which is how an order changed meanwhile is told apart; a
    carrier writes no history (select the orders for it)."""

    payment_status: PaymentStatusIn | None = None
    fulfillment_status: FulfillmentStatus | None = None

    @model_validator(mode="after")
    def _check(self):
        cannot_be_null(self, ("payment_status", "fulfillment_status"))
        if not self.model_fields_set:
            raise Invalid("missing", "set a payment_status or fulfillment_status", field="fulfillment_status")
        return self


class BulkMatchIn(In):
    where: OrderFilter
    set: BulkMatchSet


class HistoryEntry(Model):
    """One change of an order (docs/api.md "Orders", history). Money as the order's money
    fields; a cost in its own currency (`from_currency`, `to_currency`); a buyer's
    change names both buyers as they were called then (`from_name`, `to_name`)."""

    at: str
    field: str
    # `from` is a Python keyword: exposed under its JSON name.
    from_: str | int | float | None = Field(alias="from")
    to: str | int | float | None
    # Who: the actor id of the person whose edit it was (the seller for now), or the
    # source ("bulk", "payment", "parcel", "merge"); null on entries written before `by`.
    by: str | None = None
    # Who that person is (issue 31): "owner" or a member's email; on an entry its parcel
    # wrote, the person who packed it. Only in one order's answer (a list leaves it out).
    by_name: str | None = None
    from_name: str | None = None
    to_name: str | None = None
    from_currency: str | None = None
    to_currency: str | None = None


class ShipToOut(Model):
    """Delivery details typed on an order form; a field the buyer left empty is null."""

    name: str | None = None
    phone: str | None = None
    address: str | None = None


class OrderOut(Out):
    id: str
    order_no: int
    customer_id: str
    buyer_email: str | None  # null for a buyer without email
    buyer_name: str
    item_id: str | None
    item_name: str
    variant_id: str | None = None
    variant_label: str | None = None  # a copy, as the variant was labelled when ordered
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
    # A form order in the name of a buyer who existed before the submission: her credit
    # pays it only when the seller says so (POST /payments/use-credit).
    credit_held: bool = False
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


class BulkMatchOut(BulkOut):
    matched: int  # orders matching `where` when the call began: updated + unchanged + failed


# --- the shopping trip (sales/shopping.py) ------------------------------------------------


def _typed_count(value: object) -> object:
    """A count as people type it: full-width digits (３) are read, a JSON number stays."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if text.isascii() and text.isdigit():
            return int(text)
    return value


def _typed_cost(value: object) -> object:
    """A unit cost typed in the store (１２０．５, 1,990): its number. Other text is left
    for the cost's own check to refuse (`not_a_number`)."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace(",", "")
        if text and all(c.isascii() and (c.isdigit() or c == ".") for c in text) and text.count(".") <= 1:
            return Decimal(text)
    return value


TypedQuantity = Annotated[Quantity, BeforeValidator(_typed_count)]
VariantId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


KEEP_SCHEMA = {
    "oneOf": [
        {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}, "maxItems": 2000},
        {"const": "first_ordered"},
    ]
}


def _keep_check(value: object) -> object:
    """`keep`: the order ids kept, or "first_ordered" (one message, not one per form)."""
    if value == "first_ordered":
        return value
    if (
        isinstance(value, list)
        and len(value) <= 2000
        and all(
            isinstance(v, str) and len(v) == 24 and all(c in "0123456789abcdefABCDEF" for c in v)
            for v in value
        )
    ):
        return value
    raise Invalid("invalid", 'give a list of order ids or "first_ordered"')


class PurchaseIn(In):
    item_id: ObjectIdStr
    variant_id: VariantId | None = None
    quantity: TypedQuantity
    unit_cost: Annotated[CostIn, BeforeValidator(_typed_cost)] | None = None
    cost_currency: CurrencyCode | None = None  # default: the line's last, else the shop's


class ShortageIn(In):
    item_id: ObjectIdStr
    variant_id: VariantId | None = None
    keep: Annotated[list[str] | str, BeforeValidator(_keep_check), WithJsonSchema(KEEP_SCHEMA)]


class LineOrder(Model):
    order_id: str
    order_no: int
    buyer_name: str
    quantity: int
    created_at: str


class PurchaseEntry(Model):
    id: str
    quantity: int
    unit_cost: CostOut
    cost_currency: str | None
    to_stock: int  # of `quantity`, the units beyond the line's orders put into the tracked stock
    at: str


class ShoppingLine(Model):
    item_id: str
    item_name: str
    variant_id: str | None
    variant_label: str | None
    photo_url: str | None  # the item's first photo, small (catalog/photos.py); None: none
    wanted: int  # units of pending orders plus units the line's purchases gave to orders
    bought: int  # units recorded bought
    to_stock: int  # of `bought`, the units put into the item's tracked stock (not the orders')
    short: int  # wanted - (bought - to_stock), at least 0
    extra: int  # bought - to_stock - wanted, at least 0 (an untracked stock keeps them here)
    order_count: int  # the orders behind `wanted`
    unit_cost: CostOut
    cost_currency: str | None
    pending: list[LineOrder]  # the orders still to buy, first ordered first
    purchases: list[PurchaseEntry]


class ShoppingTotals(Model):
    lines: int
    wanted: int
    bought: int
    short: int


class ShoppingListOut(Model):
    batch: str
    lines: list[ShoppingLine]
    totals: ShoppingTotals


class PurchaseOut(Model):
    purchase_id: str
    line: ShoppingLine
    purchased: list[str]  # orders this purchase moved to purchased


class ShortageOrder(Model):
    order_id: str
    order_no: int
    customer_id: str
    buyer_name: str
    quantity: int
    credit: MoneyOut = 0  # money on the order that became the buyer's credit
    emailed: bool = False  # the buyer is told by email (else: tell them by LINE)
    line_text: str | None = None  # a cancelled buyer's LINE-ready text (notifications.notices)


class ShortageOut(Model):
    id: str
    kept: list[ShortageOrder]
    cancelled: list[ShortageOrder]
    failed: list[BulkFailure]  # orders changed by someone else meanwhile: left as they are
    credit: MoneyOut  # the cancelled orders' money made credit


class ImportDuplicate(Model):
    """A file row that is an existing order: its exported `id`, else the same buyer, item,
    quantity, price and batch."""

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


# GET /orders?sort=: the three sortable fields, ascending or (with `-`) descending.
OrderSort = Literal["created_at", "-created_at", "order_no", "-order_no", "total_amount", "-total_amount"]
ORDER_SORTS: tuple[str, ...] = OrderSort.__args__


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


class ChargeExportQuery(ExportQuery):
    """GET /export/charges: every charge of the seller (of one buyer, batch or status)."""

    limit: ExportLimit | None = Field(default=None, description="charges per page (default: all)")
    customer_id: CustomerIdParam | None = None
    batch: str | None = None
    status: ChargeState | None = None


class ImportQuery(Query):
    dry_run: Flag = Field(default=False, description="validate only, write nothing")
    skip_duplicates: Flag | None = Field(
        default=None,
        description="rows matching existing orders (same buyer, item, quantity, price, batch): "
        "true leaves them out, false imports them too; not given: a dry run lists them and a "
        "real import with any is refused (409 duplicate_rows)",
    )


# --- the waitlist (sales/waitlist.py) ---------------------------------------------------


class WaitlistIn(In):
    """A sold-out item's queue: the contact the form asks for is required (as FormOrderIn)."""

    name: Name
    email: Email | None = None
    phone: ShortText | None = None
    line_id: ShortText | None = None
    item_id: ObjectIdStr
    # The sold-out variant (required for an item with variants: 400 variant_required).
    variant_id: ObjectIdStr | None = None
    quantity: LineQuantity
    remind: bool = False  # carried to the order the entry becomes (as FormOrderIn's)


class WaitlistJoinOut(Model):
    id: str
    position: int  # 1: first in line (0 once served)
    status: Literal["waiting", "served", "skipped"]


class WaitlistEntryOut(Model):
    id: str
    item_id: str
    item_name: str | None
    variant_id: str | None
    variant_label: str | None  # a copy, as orders keep it
    name: str
    contact: str  # what tells the seller who it is: LINE ID, phone or email
    quantity: int
    status: Literal["waiting", "served", "skipped", "closed"]  # closed: the form closed first
    position: int | None  # in its item's line while waiting
    order_no: int | None  # the order it became
    emailed: bool | None  # served: told by email (False: the seller tells them, e.g. by LINE)
    created_at: str


class WaitlistOut(Model):
    items: list[WaitlistEntryOut]  # oldest first
