"""Export of every order (or payment) of a seller as CSV or JSON.

Lambda cannot stream a response, so the body is built incrementally from a cursor read
in batches: only the text of the body and one batch of documents are in memory, never
all orders as Python objects. A synchronous Lambda response is at most 6 MB; an export
that would be larger stops early with 413 `export_too_large`, and the client pages with
`?limit=` and the returned cursor instead (see docs/api.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.money import charges, payments
from chalicelib.platform import actors, clock, csv_format, currencies, labels
from chalicelib.platform.csv_format import CsvFile
from chalicelib.platform.db import get_db
from chalicelib.platform.errors import PayloadTooLarge
from chalicelib.platform.ids import object_id
from chalicelib.platform.listing import decode_cursor, encode_cursor
from chalicelib.platform.money import format_plain
from chalicelib.platform.pages import JsonPage
from chalicelib.platform.principal import Principal
from chalicelib.platform.schemas import MAX_EXPORT_PAGE
from chalicelib.reporting.reports import csv_language
from chalicelib.rules import allocation
from chalicelib.sales.orders import MONEY_FIELDS, profit_of, to_out
from chalicelib.sales.schemas import ChargeExportQuery, ExportQuery, PaymentExportQuery

BATCH_SIZE = 500
# Lambda's 6 MB response limit, minus room for headers and API Gateway's envelope.
MAX_BODY_BYTES = 5_500_000


ORDER_MONEY = {"paid_amount": allocation.paid_of, "balance": allocation.balance_of}
ORDER_TIMES = ("remitted_at", "created_at", "updated_at")
# A history entry's field by the column the file names it with (a buyer by name).
FIELD_COLUMN = {c.key: c for c in csv_format.ORDER_COLUMNS} | {
    "customer_id": next(c for c in csv_format.ORDER_COLUMNS if c.key == "buyer_name")
}
STATUS_KINDS = ("payment_status", "fulfillment_status")
SOURCES = ("bulk", "payment", "parcel", "merge", "import", "form")


@dataclass(frozen=True)
class FileLanguage:
    """How a CSV writes codes and times: `lang` (zh: the pages' 繁體中文 words; en: the
    codes) and the shop's zone; `names`: actor ids -> who they are (actors.all_names, one
    read per file), so a history entry or a payment names the person."""

    lang: str
    tz: str
    names: dict[str, str] | None = None

    def word(self, kind: str, code: str | None) -> str | None:
        return labels.word(kind, code, self.lang)

    def time(self, value) -> str | None:
        return csv_format.local_time(value, self.tz)

    def person(self, actor: str | None) -> str | None:
        """An actor id as the file names them: 店主 / "the owner", or the member's email;
        an id the shop never had is "another account"."""
        if not actor:
            return None
        name = (self.names or {}).get(actor)
        if name == actors.OWNER_NAME or name is None:
            return self.by_word("owner" if name else "other")
        return name

    def by_word(self, key: str) -> str:
        """Who wrote an entry in words, in both languages (an English file too: "its parcel")."""
        return (labels.ZH if self.lang == "zh" else labels.EN)["by"][key]


def _csv_cells(doc: dict, f: FileLanguage) -> list:
    out = to_out(doc)
    for name in MONEY_FIELDS:
        out[name] = format_plain(doc[name])
    for name, of in ORDER_MONEY.items():
        out[name] = format_plain(of(doc))
    # Blank when unknown (never 0: a missing cost is not a free item).
    cost = currencies.cost_out(doc.get("cost"), doc.get("cost_currency"))
    out["cost"] = None if cost is None else str(cost)
    for name, cents in (("cost_amount", doc.get("cost_amount")), ("profit", profit_of(doc))):
        out[name] = None if cents is None else format_plain(cents)
    for name in STATUS_KINDS:
        out[name] = f.word(name, out[name])
    for name in ORDER_TIMES:  # the stored datetimes (not the API's text parsed back)
        out[name] = f.time(doc.get(name))
    # history_out keeps the entries in order, one for one: their stored times.
    stored = doc.get("history", [])
    out["history"] = history_text(
        [
            {**e, "at": h["at"], "by": h.get("by"), "actor": h.get("actor")}
            for e, h in zip(out["history"], stored, strict=True)
        ],
        f,
    )
    return [out[c.key] for c in csv_format.ORDER_COLUMNS]


def history_text(entries: list[dict], f: FileLanguage) -> str:
    """The history as a person reads it, oldest first, entries split by "; " and the time
    written once per minute: `2026-12-04 14:03 付款狀態 未付款 → 已匯款（由付款）; 數量 1 → 2`."""
    parts, last_time = [], None
    for e in entries:
        when = csv_format.local_time(e["at"], f.tz, seconds=False)
        column = FIELD_COLUMN.get(e["field"])
        name = (column.zh if f.lang == "zh" else column.key) if column else e["field"]
        text = f"{name} {_value(e, 'from', f)} → {_value(e, 'to', f)}"
        who = _who(e, f)
        if who:
            text += f"（由{who}）" if f.lang == "zh" else f" (by {who})"
        parts.append(text if when == last_time else f"{when} {text}")
        last_time = when
    return "; ".join(parts)


def _value(e: dict, side: str, f: FileLanguage) -> str:
    value = e.get(f"{side}_name") if e["field"] == "customer_id" else e.get(side)
    if value is None or value == "":
        return "—"
    if e["field"] in STATUS_KINDS:
        return f.word(e["field"], value) or "—"
    if e["field"] == "cost":
        return f"{value} {e.get(f'{side}_currency') or ''}".strip()
    return str(value)


def _who(e: dict, f: FileLanguage) -> str | None:
    """Who wrote an entry: the person (a file is read by others than who exported it, so
    never "you"), a source the server names, or both: `packer@…，包裹` (a parcel's entry)."""
    by, actor = e.get("by"), e.get("actor")
    if not by:
        return None  # entries written before `by` existed
    if by not in SOURCES:
        return f.person(by)
    source = f.by_word(by)
    if actor:
        return f"{f.person(actor)}，{source}" if f.lang == "zh" else f"{f.person(actor)}, {source}"
    return source


def _payment_cells(doc: dict, f: FileLanguage) -> list:
    out = payments.to_out(doc, {})
    out["recorded_by"] = f.person(doc.get("recorded_by"))
    out["confirmed_by"] = f.person(doc.get("confirmed_by"))
    for name in ("amount", "unallocated"):
        out[name] = format_plain(doc.get(name, 0))
    # An order as "#1001:100", a charge by its kind: "shipping:60" (運費:60 in zh).
    out["allocations"] = ";".join(
        f"{'#' + str(a['order_no']) if 'order_no' in a else f.word('charge_kind', a['kind'])}:{format_plain(a['amount'])}"
        for a in doc.get("allocations", [])
    )
    out["method"] = f.word("method", out["method"])
    out["status"] = f.word("payment_state", out["status"])
    out["source"] = f.word("source", out["source"])
    out["via"] = f.word("via", out.get("via"))
    out["created_at"] = f.time(out["created_at"])
    return [out[c.key] for c in csv_format.PAYMENT_COLUMNS]


def _charge_cells(doc: dict, f: FileLanguage) -> list:
    out = charges.to_out(doc)
    for name in ("amount", "paid_amount"):
        out[name] = format_plain(doc.get(name, 0))
    out["balance"] = format_plain(allocation.balance_of(doc))
    out["kind"] = f.word("charge_kind", out["kind"])
    # zh: the state the page shows (未付款, 部分付款, 已付清, 已作廢); en: the code.
    if f.lang == "zh":
        state = labels.charge_state_of(doc["status"], doc.get("paid_amount", 0), allocation.balance_of(doc))
        out["status"] = f.word("charge_state", state)
    out["created_at"] = f.time(out["created_at"])
    return [out[c.key] for c in csv_format.CHARGE_COLUMNS]


def orders(principal: Principal, params: ExportQuery) -> CsvFile | JsonPage:
    """Oldest first (by id), so an import of the file recreates the same order."""
    query: dict = {"seller_id": object_id(principal.seller_id)}
    return _export(
        principal,
        params,
        get_db().orders,
        query,
        csv_format.ORDER_COLUMNS,
        _csv_cells,
        to_out,
        filename_stem(principal),
    )


def payments_file(principal: Principal, params: PaymentExportQuery) -> CsvFile | JsonPage:
    """GET /export/payments: every payment of the seller, oldest first (by id);
    `?customer_id=` one buyer's, `?status=` one status. JSON items are as
    GET /payments/{id} returns them; CSV allocations read "#1001:100;#1004:50"
    (a charge: "shipping:60")."""
    query: dict = {"seller_id": object_id(principal.seller_id)}
    if params.customer_id:
        query["customer_id"] = object_id(params.customer_id)
    if params.status:
        query["status"] = params.status
    stem = "payments-" + filename_stem(principal).removeprefix("orders-")
    # Who recorded and confirmed each (JSON only): the shop's members read once.
    who = actors.all_names(principal.seller_id) if params.format == "json" else {}
    return _export(
        principal,
        params,
        get_db().payments,
        query,
        csv_format.PAYMENT_COLUMNS,
        _payment_cells,
        lambda d: payments.to_out(d, who),
        stem,
    )


def charges_file(principal: Principal, params: ChargeExportQuery) -> CsvFile | JsonPage:
    """GET /export/charges: every charge of the seller, oldest first (by id), voided ones
    too (`status`); `?customer_id=`, `?batch=`, `?status=` narrow it. JSON items are as
    GET /charges/{id} returns them."""
    query: dict = {"seller_id": object_id(principal.seller_id)}
    if params.customer_id:
        query["customer_id"] = object_id(params.customer_id)
    if params.batch:
        query["batch"] = params.batch
    if params.status:
        query["status"] = params.status
    stem = "charges-" + filename_stem(principal).removeprefix("orders-")
    return _export(
        principal,
        params,
        get_db().charges,
        query,
        csv_format.CHARGE_COLUMNS,
        _charge_cells,
        charges.to_out,
        stem,
    )


def _export(
    principal: Principal,
    params: ExportQuery,
    collection,
    query: dict,
    columns: tuple[csv_format.Column, ...],
    csv_cells: Callable[[dict, FileLanguage], list],
    json_out: Callable[[dict], dict],
    stem: str,
) -> CsvFile | JsonPage:
    """The documents matching `query`, oldest first by id, as CSV (with a BOM; header,
    codes and history in the shop's language or `?headers=`'s, times in the shop's zone)
    or JSON (as the API answers), a page of `limit` when given."""
    fmt, limit, cursor = params.format, params.limit, params.cursor
    lang = csv_language(principal, params.headers) if fmt == "csv" else "zh"
    # Who did what, named in the file: the shop's members read once (orders' history, payments).
    names = (
        actors.all_names(principal.seller_id)
        if fmt == "csv" and columns != csv_format.CHARGE_COLUMNS
        else None
    )
    f = FileLanguage(lang, principal.timezone, names)
    after = decode_cursor(cursor)
    if after is not None:
        query = {**query, "_id": {"$gt": after}}
    docs = collection.find(query).sort("_id", 1).batch_size(BATCH_SIZE)
    if limit is not None:
        docs = docs.limit(limit + 1)

    parts: list[str] = []
    size = 0
    line = csv_format.Writer(bom=False)

    def add(text: str) -> None:
        nonlocal size
        size += len(text.encode("utf-8"))
        if size > MAX_BODY_BYTES:
            docs.close()
            raise PayloadTooLarge(
                "the export is larger than one response can carry (6 MB); "
                f"fetch it in pages with ?limit=(at most {MAX_EXPORT_PAGE}) and the next cursor",
                code="export_too_large",
            )
        parts.append(text)

    def csv_line(cells: list) -> str:
        line.clear()
        line.row(cells)
        return line.text()

    count = 0
    last_id = None
    more = False
    if fmt == "csv":
        add(csv_format.BOM + csv_line(csv_format.headers(columns, lang)))
    for doc in docs:
        if limit is not None and count == limit:
            more = True
            break
        if fmt == "csv":
            add(csv_line(csv_cells(doc, f)))
        else:
            add(("," if count else "") + json.dumps(json_out(doc), ensure_ascii=False, separators=(",", ":")))
        last_id = doc["_id"]
        count += 1  # noqa: SIM113 - the loop may stop before the cursor is exhausted
    next_cursor = encode_cursor(last_id) if more and last_id is not None else None
    if fmt == "json":
        body = '{"items":[' + "".join(parts) + '],"next_cursor":' + json.dumps(next_cursor) + "}"
        return JsonPage(body, next_cursor)
    return CsvFile("".join(parts), stem, next_cursor)


def filename_stem(principal: Principal) -> str:
    return f"orders-{clock.local_date(clock.now(), principal.timezone).isoformat()}"
