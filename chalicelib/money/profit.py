"""GET /reports/profit: revenue, cost, shipping fees, profit and margin per batch and per
month, from the `cost_amount` each order stores (chalicelib/catalog/batches.py).

One `$group` by (batch, month, cost_state) on MongoDB, a few rows per batch and month,
folded twice in Python. Cancelled and refunded orders are left out: no money came in
for them. Revenue and shipping fees count every order; cost, profit and margin count
only the orders whose cost is known, so an order without a cost never shows as pure
profit: the report counts those orders instead (`missing_cost_count`: no cost given;
`missing_rate_count`: a cost in a currency its batch has no rate for).

Parcels add their own pair (issue 26): the open `shipping` charges billed to buyers
(`shipping_charges`, part of the shipping fees collected) and what the carriers were
paid (`shipping_cost`), by the charge's or the parcel's batch and month. An order's own
`shipping_fee` stays passed on to a carrier, as the contract's order profit says.
Two more reads: the open shipping charges, the parcels with a shipping cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chalicelib.catalog.batches import KNOWN, NO_RATE
from chalicelib.money.schemas import ProfitQuery
from chalicelib.platform import clock, csv_format
from chalicelib.platform.csv_format import CsvFile
from chalicelib.platform.db import get_db
from chalicelib.platform.ids import object_id
from chalicelib.platform.principal import Principal
from chalicelib.reporting.reports import csv_language, csv_money, grouped_sums, json_money

MONEY = ("revenue", "cost", "shipping_fees", "shipping_charges", "shipping_cost", "profit")


@dataclass
class ProfitTally:
    order_count: int = 0
    revenue: int = 0
    shipping_fees: int = 0
    costed_count: int = 0
    costed_revenue: int = 0  # of the orders with a known cost: what margin divides by
    costed_shipping: int = 0
    cost: int = 0
    missing_cost_count: int = 0
    missing_rate_count: int = 0
    shipping_charges: int = 0  # parcels' shipping billed to buyers (open charges)
    shipping_cost: int = 0  # what carriers were paid for parcels

    def add(self, g: dict) -> None:
        self.order_count += g["count"]
        self.revenue += g["revenue"]
        self.shipping_fees += g["shipping"]
        if g["state"] == KNOWN:
            self.costed_count += g["count"]
            self.costed_revenue += g["revenue"]
            self.costed_shipping += g["shipping"]
            self.cost += g["cost"]
        elif g["state"] == NO_RATE:
            self.missing_rate_count += g["count"]
        else:  # "none", or an order from before costs existed
            self.missing_cost_count += g["count"]

    def out(self, **key: Any) -> dict:
        # No order with a known cost: cost and profit are unknown, not 0.
        known = self.costed_count > 0
        parcels = self.shipping_charges - self.shipping_cost
        profit = self.costed_revenue - self.costed_shipping - self.cost + parcels if known else None
        return {
            **key,
            "order_count": self.order_count,
            "revenue": self.revenue,
            "cost": self.cost if known else None,
            "shipping_fees": self.shipping_fees + self.shipping_charges,
            "shipping_charges": self.shipping_charges,
            "shipping_cost": self.shipping_cost,
            "profit": profit,
            "margin": margin(profit, self.costed_revenue) if known else None,
            "costed_count": self.costed_count,
            "missing_cost_count": self.missing_cost_count,
            "missing_rate_count": self.missing_rate_count,
        }


def margin(profit: int, revenue: int) -> float | None:
    """profit / revenue of the costed orders, 4 decimals half up (0.2534 = 25.34 %)."""
    if revenue <= 0:
        return None
    ratio = (Decimal(profit) / Decimal(revenue)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return float(ratio)


def profit(principal: Principal, params: ProfitQuery) -> dict:
    """Rows per batch (null: orders in no batch) and per month, and the totals, in cents."""
    match: dict[str, Any] = {
        "seller_id": object_id(principal.seller_id),
        "fulfillment_status": {"$ne": "cancelled"},
        "payment_status": {"$ne": "refunded"},
    }
    if params.batch:
        match["batch"] = params.batch
    months = {}
    if params.from_:
        months["$gte"] = params.from_
    if params.to:
        months["$lte"] = params.to
    if months:
        match["month"] = months
    seller_id = match["seller_id"]
    groups = grouped_sums(
        match,
        {"batch": "batch", "month": "month", "state": "cost_state"},
        {"count": 1, "revenue": "$total_amount", "shipping": "$shipping_fee", "cost": "$cost_amount"},
    )
    by_batch: dict[str | None, ProfitTally] = {}
    by_month: dict[str, ProfitTally] = {}
    totals = ProfitTally()
    for g in groups:
        by_batch.setdefault(g["batch"], ProfitTally()).add(g)
        by_month.setdefault(g["month"], ProfitTally()).add(g)
        totals.add(g)
    tz = principal.timezone
    for batch, month, field, cents in _parcel_shipping(seller_id, tz):
        if (params.batch and batch != params.batch) or not _in(month, params.from_, params.to):
            continue
        for tally in (
            by_batch.setdefault(batch, ProfitTally()),
            by_month.setdefault(month, ProfitTally()),
            totals,
        ):
            setattr(tally, field, getattr(tally, field) + cents)
    # Batches by name, newest-looking first, "no batch" last; months in order.
    names = sorted((n for n in by_batch if n is not None), reverse=True)
    names += [None] if None in by_batch else []
    return {
        "currency": principal.currency,
        "by_batch": [by_batch[n].out(batch=n) for n in names],
        "by_month": [by_month[m].out(month=m) for m in sorted(by_month)],
        "totals": totals.out(),
    }


def _in(month: str, first: str | None, last: str | None) -> bool:
    return (not first or month >= first) and (not last or month <= last)


def _parcel_shipping(seller_id, tz: str) -> list[tuple[str | None, str, str, int]]:
    """(batch, month, "shipping_charges" | "shipping_cost", cents) for each open shipping
    charge (its batch, else its parcel's; the month it was made in the shop's zone) and
    each parcel with a shipping cost (its batch; the month it was shipped)."""
    db = get_db()
    out = []
    billed = list(
        db.charges.find(
            {"seller_id": seller_id, "kind": "shipping", "status": "open"},
            {"amount": 1, "batch": 1, "parcel_id": 1, "created_at": 1},
        )
    )
    unnamed = [c["parcel_id"] for c in billed if not c.get("batch") and c.get("parcel_id")]
    batches = {}
    if unnamed:
        batches = {p["_id"]: p.get("batch") for p in db.parcels.find({"_id": {"$in": unnamed}}, {"batch": 1})}
    for c in billed:
        batch = c.get("batch") or batches.get(c.get("parcel_id"))
        month = clock.local_date(c["created_at"], tz).isoformat()[:7]
        out.append((batch, month, "shipping_charges", c["amount"]))
    for p in db.parcels.find(
        {"seller_id": seller_id, "shipping_cost": {"$gt": 0}, "deleting": {"$ne": True}},
        {"shipping_cost": 1, "batch": 1, "shipped_date": 1},
    ):
        out.append((p.get("batch"), p["shipped_date"][:7], "shipping_cost", p["shipping_cost"]))
    return out


def _json(row: dict) -> dict:
    return json_money(row, MONEY)


def _csv(row: dict) -> dict:
    out = csv_money(row, MONEY)
    out["margin"] = "" if row["margin"] is None else f"{Decimal(str(row['margin'])) * 100:.2f}%"
    return out


def profit_report(principal: Principal, params: ProfitQuery) -> dict | CsvFile:
    report = profit(principal, params)
    if params.format != "csv":
        return {
            **report,
            "by_batch": [_json(r) for r in report["by_batch"]],
            "by_month": [_json(r) for r in report["by_month"]],
            "totals": _json(report["totals"]),
        }
    lang = csv_language(principal, params.headers)
    first = csv_format.PROFIT_BATCH_COLUMN if params.by == "batch" else csv_format.PROFIT_MONTH_COLUMN
    rows = [_csv(r) for r in report["by_batch" if params.by == "batch" else "by_month"]]
    if params.by == "batch":
        no_batch = "（無批次）" if lang == "zh" else "(no batch)"
        rows = [{**r, "batch": r["batch"] if r["batch"] is not None else no_batch} for r in rows]
    text = csv_format.table((first, *csv_format.PROFIT_COLUMNS), rows, lang, _csv(report["totals"]))
    label = params.batch or (
        f"{params.from_ or ''}_{params.to or ''}".strip("_")
        or clock.local_date(clock.now(), principal.timezone).isoformat()
    )
    return CsvFile(text, f"profit-by-{params.by}-{label}")
