"""What comes in and goes out of `chalicelib/catalog/`, as pydantic models on the bases of
`platform/schemas.py`: items and batches (trips). The OpenAPI document is built from these."""

# No `from __future__ import annotations` here: pydantic evaluates every field's annotation
# when the class is made, and as strings they are compiled and evaluated one by one first
# (~15 ms of a cold start, issue 32).
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    model_validator,
)

from chalicelib.platform.errors import Invalid
from chalicelib.platform.schemas import (
    BatchName,
    CostIn,
    CostOut,
    CurrencyCode,
    Cursor,
    Flag,
    In,
    ListLimit,
    ListQuery,
    LongText,
    Money,
    MoneyOut,
    Name,
    ObjectIdStr,
    Out,
    Query,
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


# Options and variants (issue 30): 顏色 × 尺寸, each variant a combination of one value per
# option, with its own stock and (optionally) price and cost.
OptionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
VariantLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
MAX_VARIANTS = 100


def _unique_values(values: list[str]) -> list[str]:
    if len({v.casefold() for v in values}) != len(values):
        raise Invalid("duplicate", "each value once")
    return values


class OptionIn(In):
    name: OptionText
    values: Annotated[list[OptionText], Field(min_length=1, max_length=30), AfterValidator(_unique_values)]


class VariantIn(In):
    """`id`: an existing variant of the item (kept, with its stock unless `stock` is
    given); none: a new variant, whose id the server assigns. `label` defaults to the
    values joined by " / " ("黑 / M"). `price`/`cost` null: the item's."""

    id: ObjectIdStr | None = None
    label: VariantLabel | None = None
    values: Annotated[list[OptionText], Field(max_length=3)] = []
    price: Money | None = None
    stock: Stock | None = None  # null: not tracked
    cost: CostIn | None = None  # in the item's cost currency
    low_stock: Stock | None = None  # marked at or below this (null: the item's threshold)


Options = Annotated[list[OptionIn], Field(max_length=3)]
Variants = Annotated[list[VariantIn], Field(max_length=MAX_VARIANTS)]


def check_variants(options: list[OptionIn] | None, variants: list[VariantIn] | None) -> None:
    """Each variant has one value of each option, in order, and no two are alike: the
    400 names the variant (variants[1].values). Option names are unique."""
    options = options or []
    if len({o.name.casefold() for o in options}) != len(options):
        raise Invalid("duplicate", "each option name once", field="options")
    seen_values: set[tuple[str, ...]] = set()
    seen_labels: set[str] = set()
    ids: set[str] = set()
    for n, v in enumerate(variants or []):
        where = f"variants.{n}"
        if len(v.values) != len(options):
            raise Invalid(
                "variant_values", f"give one value for each option ({len(options)})", field=f"{where}.values"
            )
        for o, value in zip(options, v.values, strict=True):
            if value.casefold() not in {x.casefold() for x in o.values}:
                raise Invalid(
                    "variant_values", f"{value!r} is not a value of {o.name}", field=f"{where}.values"
                )
        if not options and v.label is None:
            raise Invalid("missing", "a variant without options needs a label", field=f"{where}.label")
        key = tuple(x.casefold() for x in v.values)
        label = (v.label or " / ".join(v.values)).casefold()
        if (options and key in seen_values) or label in seen_labels:
            raise Invalid("duplicate", "two variants are the same", field=f"{where}")
        if v.id is not None and v.id.lower() in ids:
            raise Invalid("duplicate", "a variant id is listed twice", field=f"{where}.id")
        seen_values.add(key)
        seen_labels.add(label)
        if v.id is not None:
            ids.add(v.id.lower())


class ItemIn(In):
    item_name: Name
    price: Money
    stock: Stock | None = None
    note: LongText | None = None
    cost: CostIn | None = None  # what one unit costs the seller (default currency: the shop's)
    cost_currency: CurrencyCode | None = None
    options: Options = []
    variants: Variants = []
    low_stock: Stock | None = None  # the Items tab marks the item at or below this stock

    @model_validator(mode="after")
    def _variants(self):
        check_variants(self.options, self.variants)
        if self.variants and self.stock is not None:
            raise Invalid("stock_per_variant", "an item with variants keeps stock per variant", field="stock")
        if any(v.id is not None for v in self.variants):
            raise Invalid(
                "unknown_variant", "a new item's variants get their ids from the server", field="variants"
            )
        return self


class ItemPatch(In):
    item_name: Name | None = None
    price: Money | None = None
    stock: Stock | None = None
    note: LongText | None = None
    cost: CostIn | None = None  # null: no cost known
    cost_currency: CurrencyCode | None = None
    # Given: the whole list (a variant left out is removed; an `id` keeps its variant).
    options: Options | None = None
    variants: Variants | None = None
    low_stock: Stock | None = None

    @model_validator(mode="after")
    def _check(self):
        cannot_be_null(self, ("item_name", "price", "options", "variants"))
        if "variants" in self.model_fields_set or "options" in self.model_fields_set:
            if not {"variants", "options"} <= self.model_fields_set:
                raise Invalid("missing", "options and variants are changed together", field="variants")
            check_variants(self.options, self.variants)
            if self.variants and self.stock is not None:
                raise Invalid(
                    "stock_per_variant", "an item with variants keeps stock per variant", field="stock"
                )
        return non_empty_patch(self)


class PhotoOut(Out):
    id: str
    small_url: str  # ~160 px on the longest side, JPEG without EXIF
    medium_url: str  # ~800 px


class OptionOut(Out):
    name: str
    values: list[str]


class VariantOut(Out):
    id: str
    label: str
    values: list[str]
    price: MoneyOut | None  # null: the item's price
    stock: int | None  # null: not tracked
    cost: CostOut = None  # null: the item's cost (in the item's cost_currency)
    low_stock: int | None = None
    low: bool = False  # stock tracked and at or below its threshold


class ItemOut(Out):
    id: str
    item_name: str
    price: MoneyOut
    # With variants: the sum of the tracked variants' stock (null: none tracked).
    stock: int | None
    note: str | None
    cost: CostOut = None
    cost_currency: str | None = None
    photos: list[PhotoOut] = []  # the ready ones, in the order they were added
    options: list[OptionOut] = []
    variants: list[VariantOut] = []
    low_stock: int | None = None
    low: bool = False  # the item (or one of its variants) is at or below its threshold
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


# --- stock movements ---------------------------------------------------------------------

Delta = Annotated[int, Field(strict=True, ge=-10_000_000, le=10_000_000)]


class AdjustmentIn(In):
    """Units found (+) or lost (-) outside orders; `count`: the difference a stock count found."""

    delta: Delta
    reason: Literal["adjustment", "count"] = "adjustment"
    note: LongText | None = None
    variant_id: ObjectIdStr | None = None  # required for an item with variants

    @model_validator(mode="after")
    def _not_zero(self):
        if self.delta == 0:
            raise Invalid("not_zero", "a change of 0 units changes nothing", field="delta")
        return self


class ItemQuery(ListQuery):
    low_stock: Flag = Field(
        default=False, description="only items (or with a variant) at or below their threshold"
    )


class PageQuery(Query):
    limit: ListLimit = 50
    cursor: Cursor | None = None


class MovementOut(Out):
    at: str
    delta: int
    reason: Literal["order", "cancel", "purchase", "adjustment", "count"]
    order_id: str | None
    variant_id: str | None
    variant_label: str | None
    by: str | None
    note: str | None
    batch: str | None = None  # a `purchase`: the shopping trip's batch
    purchase_id: str | None = None  # and its purchase
