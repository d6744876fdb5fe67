"""What comes in and goes out of `chalicelib/money/`, as pydantic models on the bases of
`platform/schemas.py`: payments, charges and the profit report. The OpenAPI document is built from these."""

# No `from __future__ import annotations` here: pydantic evaluates every field's annotation
# when the class is made, and as strings they are compiled and evaluated one by one first
# (~15 ms of a cold start, issue 32).
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from chalicelib.platform.money import to_cents
from chalicelib.platform.schemas import (
    TYPED_MONEY,
    CustomerIdParam,
    HeaderLanguage,
    In,
    IsoDate,
    ListQuery,
    Model,
    MoneyOut,
    Month,
    ObjectIdStr,
    Out,
    Query,
    ShortText,
)

ChargeKind = Literal["shipping", "duty", "packaging", "adjustment", "other"]
ChargeState = Literal["open", "void"]
PaymentMethod = Literal["bank_transfer", "cash", "line_pay", "jko_pay", "credit_card", "other"]
# `voided`: a confirmed payment the seller took back (beyond the contract's three).
PaymentState = Literal["reported", "confirmed", "rejected", "voided"]
AccountLast5 = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{5}$")]
PositiveMoney = Annotated[
    int,
    BeforeValidator(to_cents),
    Field(ge=1),
    WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0}, TYPED_MONEY]}),
]
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
    # With order_ids: the listed orders, then the listed charges, each in the given order.
    charge_ids: Annotated[list[ObjectIdStr], Field(min_length=1, max_length=200)] | None = None


class CreditUseIn(In):
    """POST /payments/use-credit (the seller): the buyer's credit pays these orders, then
    these charges, in the given order; neither: all their open ones, oldest first."""

    customer_id: ObjectIdStr
    order_ids: Annotated[list[ObjectIdStr], Field(min_length=1, max_length=200)] | None = None
    charge_ids: Annotated[list[ObjectIdStr], Field(min_length=1, max_length=200)] | None = None


class CreditUseOut(Out):
    customer_id: str
    used: MoneyOut  # credit this call moved onto the orders and charges
    credit: MoneyOut  # the buyer's credit left


class BuyerPaymentIn(_PaidAt):
    """POST /track/{token}/payments: the buyer reports a transfer."""

    amount: PositiveMoney
    account_last5: AccountLast5 | None = None
    note: PaymentNote | None = None


class RejectIn(In):
    reason: PaymentNote | None = None


class AllocationOut(Out):
    """One payment's money on one order (`order_id`, `order_no`) or one charge
    (`charge_id`, `kind`); the other pair is null."""

    order_id: str | None
    order_no: int | None
    charge_id: str | None
    kind: ChargeKind | None
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
    # How a seller payment was recorded when not typed: "import" (a CSV import),
    # "order_switch" (the 已匯款 switch). A code, so each page says it in its language.
    via: str | None
    status: PaymentState
    source: Literal["seller", "buyer"]
    allocations: list[AllocationOut]
    reject_reason: str | None
    # Who recorded it and who confirmed it (issue 31): "owner" (the shop's own login) or
    # a member's email; null for a buyer's report, or a payment from before it was kept.
    recorded_by: str | None
    confirmed_by: str | None
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


# --- bank statements (reconciliation, statements.py) -------------------------------------

StatementRowState = Literal["proposed", "unmatched", "applied", "dismissed"]
MatchReason = Literal["reported_transfer", "reported_amount", "balance_equals", "same_account"]
APPLY_MAX = 500


class StatementQuery(Query):
    """POST /statements?filename=&mapping=: the file's name (shown in the list) and, for a
    bank whose headers are not known, the seller's mapping as JSON text (statements.py)."""

    filename: ShortText = "statement"
    mapping: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None,
        description='JSON: {"date": "<header>", "amount": "<header>", "memo": ..., "account": ...}',
    )


class StatementApplyRow(In):
    row: Annotated[int, Field(strict=True, ge=1)]
    customer_id: ObjectIdStr
    payment_id: ObjectIdStr | None = None  # the buyer's reported payment it confirms


class StatementApplyIn(In):
    rows: Annotated[list[StatementApplyRow], Field(min_length=1, max_length=APPLY_MAX)]


class StatementDismissIn(In):
    rows: Annotated[list[Annotated[int, Field(strict=True, ge=1)]], Field(min_length=1, max_length=APPLY_MAX)]


class ProposalOut(Model):
    customer_id: str
    customer_name: str | None
    payment_id: str | None = None
    reason: MatchReason
    reasons: list[MatchReason]
    score: int


class StatementRowOut(Model):
    row: int
    date: str
    amount: MoneyOut
    memo: str
    account_last5: str | None
    status: StatementRowState
    confident: bool
    proposals: list[ProposalOut]
    customer_id: str | None = None
    customer_name: str | None = None
    payment_id: str | None = None


class OpenRowOut(StatementRowOut):
    statement_id: str


class StatementCounts(Model):
    proposed: int
    unmatched: int
    applied: int
    dismissed: int


class StatementSummaryOut(Model):
    id: str
    filename: str
    uploaded_at: str
    row_count: int
    counts: StatementCounts


class StatementOut(StatementSummaryOut):
    rows: list[StatementRowOut]


class OpenRowsOut(Model):
    count: int
    rows: list[OpenRowOut]


class RowFailure(Model):
    row: int
    code: Literal[
        "already_applied",
        "dismissed",
        "not_found",
        "payment_not_reported",
        "amount_mismatch",
        "customer_not_found",
    ]


class AppliedRow(Model):
    row: int
    payment_id: str


class StatementApplyOut(Model):
    applied: list[AppliedRow]
    failed: list[RowFailure]


class StatementDismissOut(Model):
    dismissed: list[int]
    failed: list[RowFailure]


class ChargeIn(In):
    """POST /charges: money the buyer owes that is no order line."""

    customer_id: ObjectIdStr
    amount: PositiveMoney
    kind: ChargeKind
    note: PaymentNote | None = None
    parcel_id: ObjectIdStr | None = None
    batch: ShortText | None = None


class ChargeOut(Out):
    id: str
    customer_id: str
    buyer_name: str | None
    amount: MoneyOut
    kind: ChargeKind
    note: str | None
    parcel_id: str | None
    parcel_no: int | None
    batch: str | None
    submission_id: str | None
    paid_amount: MoneyOut
    balance: MoneyOut  # amount - paid_amount while open; 0 once void
    # A form submission's fee in the name of a buyer who existed before it: the buyer's
    # credit pays it only when the seller says so (POST /payments/use-credit).
    credit_held: bool
    status: ChargeState
    voided_at: str | None
    created_at: str
    updated_at: str


class TrackChargeOut(Out):
    """A charge as its buyer sees it (GET /track/{token}): open ones only."""

    id: str
    kind: ChargeKind
    amount: MoneyOut
    paid_amount: MoneyOut
    balance: MoneyOut
    note: str | None
    parcel_no: int | None
    created_at: str


class ChargeQuery(ListQuery):
    customer_id: CustomerIdParam | None = None
    batch: str | None = None
    status: ChargeState | None = None


class ProfitRow(Model):
    batch: str | None = None  # by_batch rows (null: orders in no batch)
    month: str | None = None  # by_month rows
    order_count: int
    revenue: float
    cost: float | None  # null: no order here has a known cost
    shipping_fees: float  # the orders' shipping fees and the parcels' shipping charges
    shipping_charges: float  # of which parcels' shipping charged to buyers
    shipping_cost: float  # what carriers were paid for parcels
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


class ProfitQuery(Query):
    format: Literal["json", "csv"] = "json"
    headers: HeaderLanguage | None = None
    batch: str | None = None
    from_: Month | None = Field(default=None, alias="from", description="first month, YYYY-MM")
    to: Month | None = Field(default=None, description="last month, YYYY-MM")
    by: Literal["batch", "month"] = Field(default="batch", description="the CSV's rows")


class PaymentQuery(ListQuery):
    customer_id: CustomerIdParam | None = None
    status: PaymentState | None = None
