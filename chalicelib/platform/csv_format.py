"""CSV conventions shared by reports, export and import.

Files are written for Excel users in Taiwan: UTF-8 with a BOM (without it Excel guesses
Big5 and shows 繁體中文 as mojibake), headers in the shop's language (Chinese unless the
shop is English; `?headers=zh|en` chooses; an export's codes follow, platform/labels.py),
times in the shop's zone, and text cells that a spreadsheet would run as a formula get a leading `'`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote
from zoneinfo import ZoneInfo

from chalicelib.platform import clock

BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"
# A cell starting with one of these is a formula in Excel / LibreOffice / Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-\d{1,15}(\.\d{1,6})?")


@dataclass(frozen=True)
class CsvFile:
    """A CSV download: the text, the file name without `.csv`, and for a paged export the
    cursor of the next page."""

    text: str
    filename_stem: str
    next_cursor: str | None = None


@dataclass(frozen=True)
class Column:
    key: str  # English header and the field name
    zh: str  # the Chinese header the export writes


# Every order field, in export order. Import reads the ones in IMPORT_COLUMNS and
# ignores the rest (they are the server's to compute: ids, numbers, timestamps).
ORDER_COLUMNS: tuple[Column, ...] = (
    Column("id", "訂單ID"),
    Column("order_no", "訂單編號"),
    Column("customer_id", "買家ID"),
    Column("buyer_email", "買家Email"),
    Column("buyer_name", "買家姓名"),
    Column("item_id", "商品ID"),
    Column("item_name", "商品名稱"),
    # The variant (issue 30): its id, and the label the order keeps. Import reads either.
    Column("variant_id", "款式ID"),
    Column("variant_label", "款式"),
    Column("quantity", "數量"),
    Column("unit_price", "單價"),
    Column("shipping_fee", "運費"),
    Column("total_amount", "總金額"),
    # Confirmed money on the order (the sum of its payments' allocations) and what is
    # still owed (0 on a cancelled or refunded order). Import reads paid_amount back.
    Column("paid_amount", "已付金額"),
    Column("balance", "未付餘額"),
    # The seller's purchase cost of one unit in its own currency (major units: ¥1500,
    # US$12.5), the order's cost in the shop currency at its batch's rate, and what it
    # earns (total - shipping - cost); the last two blank when unknown. Import reads cost
    # and cost_currency back and works the other two out again.
    Column("cost", "成本"),
    Column("cost_currency", "成本幣別"),
    Column("cost_amount", "成本(本幣)"),
    Column("profit", "利潤"),
    Column("batch", "批次"),
    Column("payment_status", "付款狀態"),
    Column("remitted_at", "匯款時間"),
    Column("fulfillment_status", "出貨狀態"),
    Column("shipped_date", "出貨日期"),
    Column("carrier", "物流"),
    Column("tracking_number", "追蹤號碼"),
    Column("note", "備註"),
    Column("history", "狀態紀錄"),
    Column("created_at", "建立時間"),
    Column("updated_at", "更新時間"),
)
IMPORT_REQUIRED = ("buyer_email", "item_name", "quantity")
IMPORT_COLUMNS = (
    "buyer_email",
    "buyer_name",
    "item_name",
    "variant_id",  # optional: the item's variant, by id...
    "variant_label",  # ...or by its label (黑 / M); one of them for an item with variants
    "quantity",
    "unit_price",
    "shipping_fee",
    "batch",
    "payment_status",
    "fulfillment_status",
    "note",
    "total_amount",  # optional check: must equal quantity × unit_price + shipping_fee
    "paid_amount",  # optional: money received for the row (recorded as a payment)
    "created_at",  # optional: keeps an old order's date (and so its month in reports)
    "remitted_at",
    "shipped_date",
    "cost",  # optional: the unit cost (default: the item's), in cost_currency's major units
    "cost_currency",  # optional: ISO 4217 (default: the shop's)
)
IMPORT_IGNORED = tuple(c.key for c in ORDER_COLUMNS if c.key not in IMPORT_COLUMNS)

# The buyer's name leads (what a seller reads first); the internal id comes last, kept
# only to tell apart two buyers of the same name.
BUYER_COLUMNS: tuple[Column, ...] = (
    Column("name", "買家姓名"),
    Column("email", "買家Email"),
    Column("order_count", "訂單數"),
    Column("total_amount", "總金額"),
    Column("remitted_amount", "已匯款金額"),
    Column("outstanding_amount", "未付金額"),
    Column("refunded_amount", "已退款金額"),
    Column("credit_amount", "儲值餘額"),
    Column("shipped_count", "已出貨"),
    Column("unshipped_count", "未出貨"),
    Column("customer_id", "買家ID"),
)
ITEM_COLUMNS: tuple[Column, ...] = (
    Column("item_name", "商品名稱"),
    Column("variant_label", "款式"),
    Column("quantity", "數量"),
    Column("order_count", "訂單數"),
)
MONTH_COLUMNS: tuple[Column, ...] = (
    Column("month", "月份"),
    Column("order_count", "訂單數"),
    Column("total_amount", "總金額"),
    Column("remitted_amount", "已匯款金額"),
    Column("refunded_amount", "已退款金額"),
)
# GET /reports/profit?format=csv: one batch (by=batch) or one month (by=month) a row.
PROFIT_COLUMNS: tuple[Column, ...] = (
    Column("order_count", "訂單數"),
    Column("revenue", "營收"),
    Column("cost", "成本"),
    Column("shipping_fees", "運費"),
    Column("profit", "利潤"),
    Column("margin", "利潤率"),
    Column("costed_count", "有成本訂單數"),
    Column("missing_cost_count", "缺成本訂單數"),
    Column("missing_rate_count", "缺匯率訂單數"),
    # Issue 26, after the older columns so a sheet reading them by position still works.
    Column("shipping_charges", "包裹運費"),
    Column("shipping_cost", "實付運費"),
)
PROFIT_BATCH_COLUMN = Column("batch", "批次")
PROFIT_MONTH_COLUMN = Column("month", "月份")
# GET /export/payments: one payment a row; `allocations` as "#1001:100;#1004:50"
# (order number: amount). Money, method, status and source are written plainly.
PAYMENT_COLUMNS: tuple[Column, ...] = (
    Column("id", "付款ID"),
    Column("buyer_name", "買家姓名"),
    Column("customer_id", "買家ID"),
    Column("amount", "金額"),
    Column("unallocated", "未分配金額"),
    Column("method", "付款方式"),
    Column("account_last5", "帳號後五碼"),
    Column("paid_at", "付款日期"),
    Column("status", "狀態"),
    Column("source", "來源"),
    Column("note", "備註"),
    Column("allocations", "分配"),
    Column("created_at", "建立時間"),
    # Last, so a sheet reading the older columns by position still works (issue 27).
    Column("via", "記錄方式"),
    # Who (issue 31): the member's email, or 店主 / "the owner"; blank for a buyer's report.
    Column("recorded_by", "記錄者"),
    Column("confirmed_by", "確認者"),
)
# GET /export/charges: one charge (money owed that is no order line) a row.
CHARGE_COLUMNS: tuple[Column, ...] = (
    Column("id", "費用ID"),
    Column("buyer_name", "買家姓名"),
    Column("customer_id", "買家ID"),
    Column("kind", "類別"),
    Column("amount", "金額"),
    Column("paid_amount", "已付金額"),
    Column("balance", "未付餘額"),
    Column("status", "狀態"),
    Column("parcel_no", "包裹編號"),
    Column("batch", "批次"),
    Column("note", "備註"),
    Column("created_at", "建立時間"),
)
TOTAL_LABEL = "合計"

# Status words: chalicelib/platform/labels.py (the export writes them in the file's
# language, the import reads both).

_BY_HEADER = {c.key: c.key for c in ORDER_COLUMNS} | {c.zh: c.key for c in ORDER_COLUMNS}


def headers(columns: Sequence[Column], lang: str) -> list[str]:
    return [c.zh if lang == "zh" else c.key for c in columns]


def safe_cell(value: object) -> str:
    """Text for one cell; formula-looking text is defused with a leading apostrophe. A
    plain negative number (a loss: -106.50) is a number to a spreadsheet, not a formula,
    so it stays one."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def unescape_cell(text: str) -> str:
    """Undo safe_cell on import, so export → import keeps a note like "=)" intact."""
    if len(text) > 1 and text[0] == "'" and text[1] in "".join(FORMULA_START):
        return text[1:]
    return text


class Writer:
    """Builds a CSV body row by row in one buffer (no list of rows kept). The export
    writes a row at a time (`bom=False`, `clear()` between rows) to count its bytes."""

    def __init__(self, bom: bool = True) -> None:
        self.buffer = io.StringIO()
        if bom:
            self.buffer.write(BOM)
        self._csv = csv.writer(self.buffer, lineterminator="\r\n")

    def clear(self) -> None:
        self.buffer.seek(0)
        self.buffer.truncate()

    def row(self, cells: Iterable[object]) -> None:
        self._csv.writerow([safe_cell(c) for c in cells])

    def size(self) -> int:
        """Characters written so far (a lower bound of the UTF-8 byte size)."""
        return self.buffer.tell()

    def text(self) -> str:
        return self.buffer.getvalue()


def table(columns: Sequence[Column], rows: Iterable[dict], lang: str, totals: dict | None = None) -> str:
    """A whole report as CSV text; `totals` becomes a last row labelled 合計/TOTAL."""
    w = Writer()
    w.row(headers(columns, lang))
    for r in rows:
        w.row(r.get(c.key) for c in columns)
    if totals is not None:
        label = TOTAL_LABEL if lang == "zh" else "TOTAL"
        w.row([label if i == 0 else totals.get(c.key) for i, c in enumerate(columns)])
    return w.text()


def local_time(value: dt.datetime | str | None, tz: str, seconds: bool = True) -> str | None:
    """A time as a spreadsheet reads it, in the shop's zone: `2026-12-04 14:03:27` (no
    zone: the import reads such a time as the shop's again). `value`: a datetime (naive is
    UTC, as mongomock hands it back) or the API's ISO text."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(ZoneInfo(tz or clock.DEFAULT_TZ)).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def content_disposition(stem: str) -> str:
    """`attachment` with an ASCII fallback name and the real one in RFC 5987 form."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "export"
    return f"attachment; filename=\"{ascii_name}.csv\"; filename*=UTF-8''{quote(stem + '.csv', safe='')}"


def canonical_header(name: str) -> str | None:
    """English key for an English or Chinese header; None when unknown."""
    return _BY_HEADER.get(name.strip().lstrip(BOM).strip())
