"""Reports computed by the database: summary by buyer, purchase list, months.

Each report is one `$group` aggregation (a handful of rows per customer / item / month,
never the orders themselves) folded in Python; on FerretDB the store reads and sums
instead (store.grouped_sums, docs/ferretdb.md). Money stays in integer cents until the response is written. Cancelled orders are left out everywhere. Refunded orders count as
orders but not as money owed: `total_amount` is what the buyer is billed (neither
cancelled nor refunded), so `outstanding_amount = total_amount - remitted_amount` holds
and a refund never shows up as a debt; `refunded_amount` shows them separately.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from chalicelib.platform import clock, csv_format, store
from chalicelib.platform.csv_format import CsvFile
from chalicelib.platform.db import get_db
from chalicelib.platform.ids import object_id
from chalicelib.platform.money import format_plain, from_cents
from chalicelib.platform.principal import Principal
from chalicelib.reporting.schemas import MonthlyQuery, ReportQuery
from chalicelib.rules.order_rules import SHIPPED_STATES, UNSHIPPED_STATES

MONEY_KEYS = ("total_amount", "remitted_amount", "outstanding_amount", "refunded_amount", "credit_amount")
AGG_BATCH = 10_000  # rows per aggregate reply: the whole result in one round trip


def grouped_sums(match: dict, key: dict[str, str], sums: dict[str, Any]) -> list[dict]:
    """The orders of `match` grouped by `key` with one `$sum` per entry of `sums` (a
    `$field` or 1): `[{**key_fields, **sums}]`. One aggregation on MongoDB, one projected
    read summed in Python on FerretDB, whose `$group` computes only its first
    accumulator and is slow (store.py, docs/ferretdb.md)."""
    return store.grouped_sums(get_db().orders, match, key, sums, AGG_BATCH)


@dataclass
class Tally:
    """Money and counts of one group of orders, in cents."""

    order_count: int = 0
    total_amount: int = 0
    remitted_amount: int = 0
    refunded_amount: int = 0
    shipped_count: int = 0
    unshipped_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def add(
        self, payment: str | None, fulfillment: str | None, amount: int, count: int, paid: int = 0
    ) -> None:
        """`paid`: the confirmed payments on these orders (their `paid_amount`)."""
        self.order_count += count
        if payment == "refunded":
            self.refunded_amount += amount
        else:
            self.total_amount += amount
            self.remitted_amount += paid
        if fulfillment in SHIPPED_STATES:
            self.shipped_count += count
        elif fulfillment in UNSHIPPED_STATES:
            self.unshipped_count += count

    def merge(self, other: Tally) -> None:
        for name in ("order_count", "total_amount", "remitted_amount", "refunded_amount"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.shipped_count += other.shipped_count
        self.unshipped_count += other.unshipped_count

    def out(self) -> dict[str, Any]:
        return {
            **self.extra,
            "order_count": self.order_count,
            "total_amount": self.total_amount,
            "remitted_amount": self.remitted_amount,
            "outstanding_amount": self.total_amount - self.remitted_amount,
            "refunded_amount": self.refunded_amount,
            "shipped_count": self.shipped_count,
            "unshipped_count": self.unshipped_count,
        }


def _base_match(principal: Principal, batch: str | None) -> dict:
    match: dict[str, Any] = {
        "seller_id": object_id(principal.seller_id),
        "fulfillment_status": {"$ne": "cancelled"},
    }
    if batch:
        match["batch"] = batch
    return match


def json_money(row: dict, keys: tuple[str, ...] = MONEY_KEYS) -> dict:
    """A row's money (cents) as JSON numbers; an unknown amount (None) stays null."""
    return {k: from_cents(v) if k in keys and v is not None else v for k, v in row.items()}


def csv_money(row: dict, keys: tuple[str, ...] = MONEY_KEYS) -> dict:
    """A row's money (cents) as CSV text; an unknown amount (None) stays blank."""
    return {k: format_plain(v) if k in keys and v is not None else v for k, v in row.items()}


# --- summary by buyer ---------------------------------------------------------------


def buyers(principal: Principal, batch: str | None = None) -> dict:
    """Rows in cents, sorted by outstanding amount (largest first), plus totals.

    Names and emails are the copies each order carries, which `customers.update` keeps
    current, so no second query is needed. Commands: 1 aggregate on MongoDB; on FerretDB
    1 find of the orders (+ a getMore per 10,000): grouped_sums. Then one find of the open
    charges (money owed that is no order line, issue 26): each counts in its buyer's
    `total_amount` and its paid part in `remitted_amount`, so `outstanding_amount`
    includes its balance; one find of the payments holding credit.
    """
    match = _base_match(principal, batch)
    who: dict[Any, tuple[str | None, str | None]] = {}
    groups = grouped_sums(
        match,
        {
            "customer_id": "customer_id",
            "name": "buyer_name",
            "email": "buyer_email",
            "payment": "payment_status",
            "fulfillment": "fulfillment_status",
        },
        {"amount": "$total_amount", "count": 1, "paid": "$paid_amount"},
    )
    per_customer: dict[Any, Tally] = {}
    for g in groups:
        who[g["customer_id"]] = (g["name"], g["email"])
        per_customer.setdefault(g["customer_id"], Tally()).add(
            g["payment"], g["fulfillment"], g["amount"], g["count"], g["paid"]
        )
    for c in _open_charges(match["seller_id"], batch):
        tally = per_customer.setdefault(c["customer_id"], Tally())
        tally.total_amount += c["amount"]
        tally.remitted_amount += c.get("paid_amount", 0)
        who.setdefault(c["customer_id"], (c.get("buyer_name"), None))
    credit = _credit_per_buyer(match["seller_id"])
    totals = Tally()
    rows = []
    for cid, tally in per_customer.items():
        totals.merge(tally)
        name, email = who.get(cid, (None, None))
        tally.extra = {"customer_id": str(cid), "name": name, "email": email}
        rows.append({**tally.out(), "credit_amount": credit.get(cid, 0)})
    rows.sort(key=lambda r: (-r["outstanding_amount"], -r["total_amount"], r["name"] or "", r["customer_id"]))
    return {"rows": rows, "totals": {**totals.out(), "credit_amount": sum(r["credit_amount"] for r in rows)}}


def _open_charges(seller_id, batch: str | None) -> list[dict]:
    """The seller's open charges (of the batch, when given): one projected read."""
    query: dict[str, Any] = {"seller_id": seller_id, "status": "open"}
    if batch:
        query["batch"] = batch
    fields = {"_id": 0, "customer_id": 1, "buyer_name": 1, "amount": 1, "paid_amount": 1}
    return list(get_db().charges.find(query, fields, batch_size=AGG_BATCH))


def _credit_per_buyer(seller_id) -> dict:
    """Confirmed money on no order yet, per buyer: one read of the payments holding some."""
    credit: dict = {}
    for p in get_db().payments.find(
        {"seller_id": seller_id, "status": "confirmed", "unallocated": {"$gt": 0}},
        {"_id": 0, "customer_id": 1, "unallocated": 1},
    ):
        credit[p["customer_id"]] = credit.get(p["customer_id"], 0) + p["unallocated"]
    return credit


def buyers_json(report: dict) -> dict:
    return {"rows": [json_money(r) for r in report["rows"]], "totals": json_money(report["totals"])}


# --- purchase list ------------------------------------------------------------------


def items(principal: Principal, batch: str | None = None) -> dict:
    """What is still to buy: quantity and order count of `pending` orders per item name
    and variant (its label; null for an item without variants)."""
    match: dict[str, Any] = {"seller_id": object_id(principal.seller_id), "fulfillment_status": "pending"}
    if batch:
        match["batch"] = batch
    key = {"item_name": "item_name", "variant_label": "variant_label"}
    groups = grouped_sums(match, key, {"quantity": "$quantity", "order_count": 1})
    rows = sorted(groups, key=lambda r: (-r["quantity"], r["item_name"] or "", r["variant_label"] or ""))
    totals = {
        "quantity": sum(r["quantity"] for r in rows),
        "order_count": sum(r["order_count"] for r in rows),
    }
    return {"rows": rows, "totals": totals}


# --- months -------------------------------------------------------------------------


def monthly(principal: Principal, year: int | None = None) -> dict:
    """Twelve months (zeros included) from the stored `month` key ("YYYY-MM" in the
    seller's time zone when the order was created). No year: this year, there."""
    if year is None:
        year = _today(principal).year
    match = _base_match(principal, None)
    match["month"] = {"$gte": f"{year}-01", "$lte": f"{year}-12"}
    groups = grouped_sums(
        match,
        {"month": "month", "payment": "payment_status"},
        {"amount": "$total_amount", "count": 1, "paid": "$paid_amount"},
    )
    months = {f"{year}-{m:02d}": Tally(extra={"month": f"{year}-{m:02d}"}) for m in range(1, 13)}
    for g in groups:
        if g["month"] in months:
            months[g["month"]].add(g["payment"], None, g["amount"], g["count"], g["paid"])
    totals = Tally()
    rows = []
    for tally in months.values():
        totals.merge(tally)
        rows.append(_month_row(tally))
    return {"year": year, "rows": rows, "totals": _month_row(totals)}


def _month_row(t: Tally) -> dict:
    full = t.out()
    keep = ("month", "order_count", "total_amount", "remitted_amount", "refunded_amount")
    return {k: full[k] for k in keep if k in full}


def money_json(report: dict) -> dict:
    out = dict(report)
    out["rows"] = [json_money(r) for r in report["rows"]]
    out["totals"] = json_money(report["totals"])
    return out


# --- CSV ----------------------------------------------------------------------------


def _stem(kind: str, label: str | None) -> str:
    return f"{kind}-{label}" if label else kind


def buyers_csv(report: dict, batch: str | None, lang: str, today: dt.date) -> CsvFile:
    """File name: buyers-<batch>.csv, or buyers-<today>.csv for all batches."""
    rows = [csv_money(r) for r in report["rows"]]
    text = csv_format.table(csv_format.BUYER_COLUMNS, rows, lang, csv_money(report["totals"]))
    return CsvFile(text, _stem("buyers", batch or today.isoformat()))


def items_csv(report: dict, batch: str | None, lang: str, today: dt.date) -> CsvFile:
    text = csv_format.table(csv_format.ITEM_COLUMNS, report["rows"], lang, report["totals"])
    return CsvFile(text, _stem("purchase-list", batch or today.isoformat()))


def monthly_csv(report: dict, lang: str) -> CsvFile:
    rows = [csv_money(r) for r in report["rows"]]
    text = csv_format.table(csv_format.MONTH_COLUMNS, rows, lang, csv_money(report["totals"]))
    return CsvFile(text, _stem("monthly", str(report["year"])))


# --- the routes' answers: JSON, or CSV with ?format=csv -----------------------------


def csv_language(principal: Principal, given: str | None) -> str:
    """CSV headers: `?headers=` when given, else the shop's language (English headers for
    an English shop, Chinese otherwise). One read of the seller, by _id, only then."""
    if given:
        return given
    seller = get_db().sellers.find_one({"_id": object_id(principal.seller_id)}, {"language": 1})
    return "en" if (seller or {}).get("language") == "en" else "zh"


def _today(principal: Principal) -> dt.date:
    return clock.local_date(clock.now(), principal.timezone)


def buyers_report(principal: Principal, params: ReportQuery) -> dict | CsvFile:
    report = buyers(principal, params.batch)
    if params.format == "csv":
        return buyers_csv(report, params.batch, csv_language(principal, params.headers), _today(principal))
    return buyers_json(report)


def items_report(principal: Principal, params: ReportQuery) -> dict | CsvFile:
    report = items(principal, params.batch)
    if params.format == "csv":
        return items_csv(report, params.batch, csv_language(principal, params.headers), _today(principal))
    return report


def monthly_report(principal: Principal, params: MonthlyQuery) -> dict | CsvFile:
    report = monthly(principal, params.year)
    if params.format == "csv":
        return monthly_csv(report, csv_language(principal, params.headers))
    return money_json(report)
