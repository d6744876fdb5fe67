"""What comes in and goes out of `chalicelib/shipping/`, as pydantic models on the bases of
`platform/schemas.py`: parcels and packing slips. The OpenAPI document is built from these."""

# No `from __future__ import annotations` here: pydantic evaluates every field's annotation
# when the class is made, and as strings they are compiled and evaluated one by one first
# (~15 ms of a cold start, issue 32).
from typing import Annotated, Literal

from pydantic import (
    Field,
    model_validator,
)

from chalicelib.platform.schemas import (
    BatchName,
    CustomerIdParam,
    Flag,
    In,
    ListQuery,
    LongText,
    Model,
    Money,
    MoneyOrNull,
    MoneyOut,
    ObjectIdStr,
    Out,
    Query,
    ShortText,
    cannot_be_null,
    non_empty_patch,
)

ParcelMethod = Literal["home", "cvs_711", "cvs_family", "cvs_hilife", "cvs_ok", "post", "pickup", "overseas"]
ParcelStatus = Literal["shipped", "delivered", "returned"]
# Who pays the parcel's shipping fee: the buyer (a `shipping` charge) or the seller.
ShippingPayer = Literal["buyer", "seller"]


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
    shipping_paid_by: ShippingPayer = "buyer"
    shipping_cost: Money | None = Field(default=None, description="what the carrier was paid")
    recipient: Recipient | None = None
    note: LongText | None = None


class ParcelPatch(In):
    carrier: ShortText | None = None
    tracking_number: ShortText | None = None
    shipping_fee: Money | None = None
    shipping_paid_by: ShippingPayer | None = None
    shipping_cost: Money | None = None
    recipient: Recipient | None = None
    note: LongText | None = None
    status: ParcelStatus | None = None

    @model_validator(mode="after")
    def _check(self):
        # recipient: the fields given replace the stored ones, the others stay; null would
        # erase the address label, so it is refused rather than guessed at.
        cannot_be_null(self, ("shipping_fee", "shipping_paid_by", "status", "recipient"))
        return non_empty_patch(self)


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
    shipping_paid_by: ShippingPayer
    shipping_cost: MoneyOrNull
    recipient: RecipientOut
    status: ParcelStatus
    shipped_date: str
    delivered_date: str | None
    note: str | None
    # Who (issue 31): "owner" (the shop's own login) or the member's email; null when
    # nobody has yet (or for a parcel from before).
    created_by: str | None = None
    shipped_by: str | None = None
    updated_by: str | None = None
    delivered_by: str | None = None
    returned_by: str | None = None
    created_at: str
    updated_at: str


class ParcelQuery(ListQuery):
    customer_id: CustomerIdParam | None = None
    status: ParcelStatus | None = None


class ReadyQuery(Query):
    # The Ship tab's batch filter: a trip's orders are packed together (issue 27).
    batch: BatchName | None = Field(default=None, description="only the orders of exactly this batch")


class SlipQuery(Query):
    prices: Flag = Field(default=True, description="false: no prices on the slip")
    size: Literal["a4", "label"] = Field(default="a4", description="A4 page or a 100×150 mm label")
