"""What comes in and goes out of `chalicelib/catalog/`, as pydantic models on the bases of
`platform/schemas.py`: items and batches (trips). The OpenAPI document is built from these."""

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
    CostIn,
    CostOut,
    CurrencyCode,
    In,
    LongText,
    Money,
    MoneyOut,
    Name,
    Out,
    Rate,
    Stock,
    cannot_be_null,
    non_empty_patch,
)


class BatchPatch(In):
    # Per currency: a rate into the shop currency; null removes it. Other currencies keep theirs.
    rates: Annotated[dict[CurrencyCode, Rate | None], Field(max_length=50)] | None = None
    closed: bool | None = None
    note: LongText | None = None

    @model_validator(mode="after")
    def _check(self):
        cannot_be_null(self, ("rates", "closed"))
        return non_empty_patch(self)


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
        cannot_be_null(self, ("item_name", "price"))
        return non_empty_patch(self)


class PhotoOut(Out):
    id: str
    small_url: str  # ~160 px on the longest side, JPEG without EXIF
    medium_url: str  # ~800 px


class ItemOut(Out):
    id: str
    item_name: str
    price: MoneyOut
    stock: int | None
    note: str | None
    cost: CostOut = None
    cost_currency: str | None = None
    photos: list[PhotoOut] = []  # the ready ones, in the order they were added
    created_at: str
    updated_at: str


# --- photos (catalog/photos.py) ---------------------------------------------------------

MAX_PHOTO_BYTES = 8 * 1024 * 1024


class PhotoIn(In):
    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    size: Annotated[int, Field(strict=True, ge=1, le=MAX_PHOTO_BYTES)]  # bytes


class UploadForm(Out):
    url: str
    fields: dict[str, str]  # sent first, in this order, then the file as `file`


class PhotoUploadOut(Out):
    photo_id: str
    upload: UploadForm


class PhotoStatusOut(Out):
    id: str
    status: Literal["pending", "ready", "failed"]
    small_url: str | None
    medium_url: str | None
