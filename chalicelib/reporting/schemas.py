"""What comes in and goes out of `chalicelib/reporting/`, as pydantic models on the bases of
`platform/schemas.py`: the reports over orders. The OpenAPI document is built from these."""

# No `from __future__ import annotations` here: pydantic evaluates every field's annotation
# when the class is made, and as strings they are compiled and evaluated one by one first
# (~15 ms of a cold start, issue 32).
from typing import Literal

from pydantic import Field

from chalicelib.platform.schemas import HeaderLanguage, Model, Query, Year


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
    variant_label: str | None = None  # one row per variant of an item with variants


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


class ReportQuery(Query):
    format: Literal["json", "csv"] = "json"
    headers: HeaderLanguage | None = None
    batch: str | None = None


class MonthlyQuery(Query):
    format: Literal["json", "csv"] = "json"
    headers: HeaderLanguage | None = None
    year: Year | None = Field(default=None, description="default: this year in the shop's time zone")
