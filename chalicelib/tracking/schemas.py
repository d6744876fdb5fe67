"""What comes in and goes out of `chalicelib/tracking/`, as pydantic models on the bases of
`platform/schemas.py`: buyers' tracking links and page. The OpenAPI document is built from these."""

# No `from __future__ import annotations` here: pydantic evaluates every field's annotation
# when the class is made, and as strings they are compiled and evaluated one by one first
# (~15 ms of a cold start, issue 32).
from typing import Annotated, Literal

from pydantic import StringConstraints

from chalicelib.money.schemas import TrackChargeOut, TrackPaymentOut
from chalicelib.platform.schemas import Email, FulfillmentStatus, In, Model, MoneyOut, Out, PaymentStatus


class TrackingLinkOut(Model):
    url: str
    token: str
    created_at: str  # when this link was made (GET gives the same link, and time, again)


class TrackingLinkInfoOut(Model):
    """A link as the seller's list shows it: never the token (only its hash is stored)."""

    id: str
    kind: Literal["seller", "email", "form", "merged"]
    created_at: str


class TrackOrderOut(Out):
    """An order as its buyer sees it: these fields, and no others, leave the database
    on the tracking path (tracking.ORDER_PROJECTION is built from them)."""

    order_no: int
    item_name: str
    variant_label: str | None = None  # the variant's label when ordered (黑 / M)
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
    photo_url: str | None = None  # the item's first photo, small (catalog/photos.py); None: none


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
    balance: float  # still owed on the buyer's orders and open charges (confirmed payments only)
    credit: float  # confirmed money on no order yet: used by the next orders
    payments: list[TrackPaymentOut]
    charges: list[TrackChargeOut] = []  # open charges (money owed that is no order line), oldest first
    payment_instructions: str | None
    parcels: list[TrackParcelOut]  # newest first
    # "submission": a form submission's link, showing that submission only (tracking.py)
    scope: Literal["customer", "submission"] = "customer"


class NoticesOptOutIn(In):
    """POST /track/{token}/notices-opt-out: the buyer's own switch for batch notices by email."""

    opt_out: bool


class NoticesOptOutOut(Model):
    notices_opt_out: bool


class LinkRequestIn(In):
    shop_slug: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,60}$")]
    email: Email
