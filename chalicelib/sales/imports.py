"""All-or-nothing import of orders from a CSV file.

1. Read: UTF-8 with or without BOM, English or Chinese headers (those the export
   writes), at most MAX_ROWS data rows.
2. Validate every row with the same model as `POST /orders` (models.OrderIn), look up
   the items once, and check the stock the whole file needs against the stock there is.
   Any problem: one error listing every bad row; nothing has been written. Costs as
   POST /orders takes them (the row's `cost` in `cost_currency`, default the shop's, else
   the item's), each batch the file names read once for its rates; a closed batch
   refuses its rows.
3. Write in bulk (stock per item, new customers, one block of order numbers, the
   payments, one insert_many of orders). FerretDB has no transactions, so a failure
   part-way (a concurrent order took the stock, the server went away) undoes what this
   import wrote: its orders and payments are deleted (they were created by this request
   and nobody has seen them), stock is put back and the customers it created are
   deleted again if they have no other orders. Order numbers reserved for a failed
   import stay unused (a gap). Then the versions of the batches whose rates the orders
   used are read once: a PATCH of rates meanwhile makes those orders convert again.

Money. A row's `paid_amount` (or `remitted` without one: paid in full) is real money:
the rows of one buyer that carry some become one confirmed payment (source seller,
method `other`, `via: "import"`, no note: a page names the import in its own language) whose allocations are exactly those amounts, so that the
ledger holds (payments.py): an order's paid_amount is the sum of its confirmed
allocations. The payments are written first, as they will stay (confirmed, allocated,
applied); then the orders, already carrying their share (`paid_by`), `paid_amount` and
the payment_status that follows (allocation.status_after). Once both writes are done the
ledger holds with nothing left to finish.

Why not a payments-style intent (`applied: false`, `touch` = the orders) before the
orders: payments._apply treats an allocation to an order it cannot find as money that
order could not take and keeps it as the buyer's credit. So any money change of the
buyer (ledger.for_buyer finishes half-applied payments first) while the import is still
inserting its orders (or after a crash before they were inserted) would turn the
imported money into spendable credit and leave the orders' shares without allocations.
Written applied, nothing else touches the payments before their orders exist: a failure
part-way deletes both (undo); a crash before the orders went in leaves a payment naming
orders that do not exist (no credit, nothing spendable; `import_id` tells it apart),
which the seller can void.

Then a buyer with credit (confirmed money on no order) has it used by their open orders,
oldest first, as after POST /orders (payments.use_credit, under the buyer's lock): the
imported rows' own money is already on their orders, so the credit only pays what they
still owe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bson import ObjectId

from chalicelib.accounts.auth import Principal
from chalicelib.buyers import customers
from chalicelib.catalog import batches, items
from chalicelib.money import payments
from chalicelib.orderbook import repository
from chalicelib.platform import clock, csv_format, currencies, labels, mongo, payload
from chalicelib.platform.db import DUPLICATE_KEY, get_db
from chalicelib.platform.errors import Conflict, Invalid, PayloadTooLarge, ValidationFailed
from chalicelib.platform.ids import object_id
from chalicelib.platform.money import MAX_CENTS, from_cents, read_amount, to_cents
from chalicelib.platform.payload import validate
from chalicelib.platform.schemas import FULFILLMENT_STATUSES, PAYMENT_STATUSES
from chalicelib.rules import allocation, order_rules
from chalicelib.sales.orders import order_document, reserve_order_numbers
from chalicelib.sales.schemas import OrderIn

MAX_ROWS = 5_000
HEADER_ROW = 1  # rows are numbered as the spreadsheet shows them
# Lambda accepts a 6 MB request; 5,000 rows with long notes fit well under this.
MAX_BYTES = 5_000_000
AGG_BATCH = 10_000  # documents per reply when reading the buyers' existing orders
# `partial` is read (an export writes it) but never set: it must agree with paid_amount.
PAYMENT_STATUSES_READ = (*PAYMENT_STATUSES, "partial")
PAYMENT_VIA = "import"  # their `via` (payments.SWITCH is the order switch's)


@dataclass
class Row:
    number: int  # the spreadsheet's row number: the header is row 1, the first data row 2
    data: OrderIn
    payment_status: str  # as given ("" when empty); the stored one once plan() settled it
    fulfillment_status: str
    given_total: int | None
    given_paid: int | None = None  # the paid_amount cell, in cents
    # Dates carried over from an export or an old spreadsheet (None: the import's time).
    created_at: dt.datetime | None = None
    remitted_at: dt.datetime | None = None
    shipped_date: str | None = None
    unit_price: int = 0
    total: int = 0
    paid: int = 0  # confirmed money on the order once imported (plan() works it out)
    item: dict | None = None
    # The variant cells (id, label) as given, and the item's variant they name (plan()).
    variant_cells: tuple[str, str] = ("", "")
    variant: dict | None = None
    # The unit cost in minor units of cost_currency (None: the item's, if it has one),
    # and the cost fields the order stores (batches.cost_fields; plan() works them out).
    cost: int | None = None
    cost_currency: str | None = None
    cost_fields: dict | None = None
    # The `id` cell of an export row (the order it was exported from); None when blank
    # or not an id. Only the duplicate check reads it (the import makes a new order).
    exported_id: ObjectId | None = None


@dataclass
class ImportPlan:
    """What a valid file will write, worked out before anything is written."""

    rows: list[Row]
    # (item _id, variant id or None) -> quantity
    stock_needed: dict[tuple[Any, str | None], int] = field(default_factory=dict)
    existing_customers: dict[str, dict] = field(default_factory=dict)  # email_lower -> doc
    new_customers: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # -> (email, name)
    duplicates: list[dict] = field(default_factory=list)  # rows matching existing orders
    skipped: int = 0  # duplicate rows left out (skip_duplicates=true)


def _error(row: int, field: str, code: str, message: str) -> dict:
    """One problem of one row: `code` is a stable DETAIL_CODES name for the page."""
    return {"row": row, "field": field, "code": code, "message": message}


def _bad(code: str, message: str, details: list | None = None) -> ValidationFailed:
    return ValidationFailed(message, code=code, details=details)


# --- 1. read ------------------------------------------------------------------------


def read(raw: bytes | str | None) -> list[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, {english column: cell text}) for every non-blank data row."""
    data = raw.encode() if isinstance(raw, str) else (raw or b"")
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"the file is larger than {MAX_BYTES:,} bytes; split it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad("invalid_csv", "the file is not UTF-8 text (in Excel: Save As → 'CSV UTF-8')") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise _bad("invalid_csv", "the file is empty: the first line must name the columns")
        columns = _columns(header)
        rows = []
        nul_cells = []  # a NUL can never be stored (payload.NUL): name each cell that has one
        # Numbered as a spreadsheet shows the file: header = row 1 (a cell with a line
        # break inside quotes is still one row there).
        for number, cells in enumerate(reader, start=HEADER_ROW + 1):
            if not any(c.strip() for c in cells):
                continue  # blank lines (Excel leaves some at the end)
            if len(rows) == MAX_ROWS:
                raise _bad("too_many_rows", f"at most {MAX_ROWS:,} rows per import; split the file")
            nul_cells += [
                _error(number, col, "nul_character", payload.NUL_MESSAGE)
                for col, c in zip(columns, cells, strict=False)
                if payload.NUL in c
            ]
            if len(cells) > len(columns):
                rows.append(
                    (number, {"__error__": f"has {len(cells)} cells but the header has {len(columns)}"})
                )
                continue
            rows.append(
                (
                    number,
                    {
                        col: csv_format.unescape_cell(c.strip())
                        for col, c in zip(columns, cells, strict=False)
                    },
                )
            )
    except csv.Error as exc:
        raise _bad("invalid_csv", f"the file is not valid CSV (line {reader.line_num}): {exc}") from None
    if nul_cells:
        bad = len({e["row"] for e in nul_cells})
        raise _bad("invalid_rows", f"{bad} row(s) are invalid; nothing was imported", nul_cells)
    if not rows:
        raise _bad("invalid_csv", "the file has no data rows")
    return rows


def _columns(header: list[str]) -> list[str]:
    columns, unknown = [], []
    for name in header:
        key = csv_format.canonical_header(name)
        if key is None:
            unknown.append(name.strip())
        columns.append(key or "")
    if unknown:
        raise _bad(
            "invalid_columns",
            "unknown columns: " + ", ".join(repr(u) for u in unknown),
            [{"field": u, "code": "unknown_column", "message": "unknown column"} for u in unknown],
        )
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise _bad("invalid_columns", "columns named twice: " + ", ".join(dupes))
    missing = [c for c in csv_format.IMPORT_REQUIRED if c not in columns]
    if missing:
        raise _bad(
            "missing_columns",
            "missing columns: " + ", ".join(missing),
            [{"field": m, "code": "required_column", "message": "required column"} for m in missing],
        )
    return columns


# --- 2. validate ----------------------------------------------------------------------


def _status(kind: str, value: str, allowed: tuple[str, ...], default: str) -> str:
    """A code, or the word a zh or en page (or an older file) shows for it."""
    if not value:
        return default
    value = labels.code_of(kind, value)
    if value not in allowed:
        raise Invalid("unknown_status", f"must be one of {', '.join(allowed)}")
    return value


def _money(value: str, shop: str) -> Decimal | None:
    """A price cell as people type it (１，２００, NT$1,200: money.read_amount)."""
    return read_amount(value, shop) if value else None


TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")  # Excel re-saves ISO like this


def _when(value: str, tz: str) -> dt.datetime | None:
    """A time as the export writes it (the shop's local `2026-12-04 14:03:27`; before issue
    27 UTC `...Z`) or a date/time as typed (seller's zone)."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
        for fmt in TIME_FORMATS:
            try:
                parsed = dt.datetime.strptime(value, fmt)  # naive: the zone is added below
                break
            except ValueError:
                continue
    if parsed is None:
        raise Invalid("invalid_date", "must be a date or time like 2026-11-24 or 2026-11-24T08:30:00Z")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(tz or clock.DEFAULT_TZ))
    # in_range also catches times that overflow on the way to UTC (year 1 or 9999).
    parsed = clock.in_range(parsed)
    if parsed is None or parsed > clock.now() + dt.timedelta(days=1):
        raise Invalid("date_out_of_range", "must be between 2000 and now")
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def _day(value: str) -> str | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    raise Invalid("invalid_date", "must be a date like 2026-11-24")


def _parse_row(
    number: int, cells: dict[str, str], tz: str = clock.DEFAULT_TZ, shop: str = "TWD"
) -> tuple[Row | None, list[dict]]:
    if "__error__" in cells:
        return None, [_error(number, "row", "too_many_cells", cells["__error__"])]
    errors: list[dict] = []
    body: dict[str, Any] = {}
    statuses: dict[str, str] = {}

    def attempt(name: str, fn) -> Any:
        try:
            return fn()
        except ValueError as exc:
            errors.append(_error(number, name, getattr(exc, "code", "invalid"), str(exc)))
            return None

    for name in ("buyer_email", "buyer_name", "item_name", "batch", "note"):
        if cells.get(name):
            body[name] = cells[name]
    quantity = cells.get("quantity", "")
    if quantity.isascii() and quantity.isdigit() and len(quantity) <= 9:
        body["quantity"] = int(quantity)
    else:
        errors.append(_error(number, "quantity", "not_a_whole_number", "must be a whole number ≥ 1"))
    for name in ("unit_price", "shipping_fee"):
        value = attempt(name, lambda n=name: _money(cells.get(n, ""), shop))
        if value is not None:
            body[name] = value
    given_total = None
    if cells.get("total_amount"):
        given_total = attempt("total_amount", lambda: to_cents(cells["total_amount"], currency=shop))
    given_paid = None
    if cells.get("paid_amount"):
        given_paid = attempt("paid_amount", lambda: to_cents(cells["paid_amount"], currency=shop))
    # "" when not given: the status then follows from the money (plan()).
    statuses["payment_status"] = attempt(
        "payment_status",
        lambda: _status("payment_status", cells.get("payment_status", ""), PAYMENT_STATUSES_READ, ""),
    )
    statuses["fulfillment_status"] = attempt(
        "fulfillment_status",
        lambda: _status(
            "fulfillment_status", cells.get("fulfillment_status", ""), FULFILLMENT_STATUSES, "pending"
        ),
    )
    created_at = attempt("created_at", lambda: _when(cells.get("created_at", ""), tz))
    remitted_at = attempt("remitted_at", lambda: _when(cells.get("remitted_at", ""), tz))
    shipped_date = attempt("shipped_date", lambda: _day(cells.get("shipped_date", "")))
    cost, cost_currency = _cost(cells, shop, attempt)
    # (A status that did not parse is already an error of its own. remitted_at is checked
    # in plan(), against the payment status the row's money gives.)
    fulfillment = statuses["fulfillment_status"]
    if shipped_date and fulfillment and not order_rules.has_shipped_date(fulfillment):
        errors.append(
            _error(number, "shipped_date", "only_for_shipped", "only for a shipped or delivered order")
        )
    data = None
    try:
        data = validate(OrderIn, body)
    except ValidationFailed as exc:
        known = {e["field"] for e in errors}
        for d in exc.details:
            if d["field"] not in known:  # one reason per cell is enough
                errors.append({"row": number, **d})
    if errors or data is None:
        return None, errors
    row = Row(
        number, data, statuses["payment_status"], statuses["fulfillment_status"], given_total, given_paid
    )
    row.created_at, row.remitted_at, row.shipped_date = created_at, remitted_at, shipped_date
    row.cost, row.cost_currency = cost, cost_currency
    row.variant_cells = (cells.get("variant_id", "").strip(), cells.get("variant_label", "").strip())
    if ObjectId.is_valid(cells.get("id", "")):
        row.exported_id = ObjectId(cells["id"])
    return row, []


def _cost(cells: dict[str, str], shop: str, attempt) -> tuple[int | None, str | None]:
    """The row's unit cost (minor units) and its currency, as POST /orders takes them: the
    currency defaults to the shop's, and decimals beyond the currency's are refused (¥1500.5),
    never rounded. A blank cost: (None, None), the item's cost then applies (plan())."""
    code = cells.get("cost_currency", "").strip().upper()
    currency = attempt("cost_currency", lambda: currencies.check_code(code)) if code else shop
    text = cells.get("cost", "")
    if not text or currency is None:
        return None, None
    cost = attempt("cost", lambda: currencies.parse_cost(text, currency))
    return (cost, currency) if cost is not None else (None, None)


def plan(
    principal: Principal, raw_rows: list[tuple[int, dict[str, str]]], skip_duplicates: bool | None = None
) -> ImportPlan:
    """Validate everything that can be checked before writing. Raises on any bad row, or
    when the rows to import need more stock than there is. Finds the rows that match
    existing orders (and leaves them out with `skip_duplicates`)."""
    seller_id = object_id(principal.seller_id)
    rows: list[Row] = []
    errors: list[dict] = []
    for number, cells in raw_rows:
        row, row_errors = _parse_row(number, cells, principal.timezone, principal.currency)
        errors.extend(row_errors)
        if row:
            rows.append(row)

    db = get_db()
    names = sorted({r.data.item_name.lower() for r in rows})
    known_items = {
        d["name_lower"]: d for d in db.items.find({"seller_id": seller_id, "name_lower": {"$in": names}})
    }
    for r in rows:
        r.item = known_items.get(r.data.item_name.lower())
        variant_error = _variant(r)
        if variant_error:
            errors.append(variant_error)
            continue
        price = (
            r.data.unit_price
            if r.data.unit_price is not None
            else r.item and items.price_of(r.item, r.variant)
        )
        if price is None:
            errors.append(
                _error(r.number, "unit_price", "price_required", "required for an item not in your item list")
            )
            continue
        r.unit_price = price
        r.total = r.data.quantity * price + r.data.shipping_fee
        if r.total > MAX_CENTS:
            errors.append(_error(r.number, "total_amount", "too_large", "would be above 100,000,000"))
        elif r.given_total is not None and r.given_total != r.total:
            errors.append(
                _error(
                    r.number,
                    "total_amount",
                    "total_mismatch",
                    f"is {from_cents(r.given_total)} but quantity × unit_price + shipping_fee "
                    f"is {from_cents(r.total)}",
                )
            )
        else:
            errors.extend(_settle_money(r))
    errors.extend(_costs(seller_id, rows, principal.currency))
    if errors:
        errors.sort(key=lambda e: e["row"])
        bad = len({e["row"] for e in errors})
        raise _bad("invalid_rows", f"{bad} row(s) are invalid; nothing was imported", errors)

    emails = sorted({r.data.buyer_email.lower() for r in rows})
    existing = {
        c["email_lower"]: c
        for c in db.customers.find({"seller_id": seller_id, "email_lower": {"$in": emails}})
    }
    result = ImportPlan(rows=rows, existing_customers=existing)
    result.duplicates = _duplicates(seller_id, rows, existing)
    if skip_duplicates:
        skip = {d["row"] for d in result.duplicates}
        result.rows = [r for r in rows if r.number not in skip]
        result.skipped = len(skip)
    _check_stock(result)
    first_rows = {r.data.buyer_email.lower(): r for r in reversed(result.rows)}  # first row wins
    result.new_customers = {
        e: (r.data.buyer_email, r.data.buyer_name) for e, r in first_rows.items() if e not in existing
    }
    return result


def _variant(r: Row) -> dict | None:
    """The row's variant, by its id or else its label (as the export writes both): the
    error of a row without one for an item with variants, or naming one it lacks."""
    vid, label = r.variant_cells
    listed = (r.item or {}).get("variants") or []
    if not vid and not label:
        if listed:
            return _error(
                r.number, "variant_label", "variant_required", "the item comes in variants: name one"
            )
        return None
    found = next(
        (
            v
            for v in listed
            if (vid and v["id"] == vid.lower()) or (not vid and v["label"].casefold() == label.casefold())
        ),
        None,
    )
    if found is None:
        field_name = "variant_id" if vid else "variant_label"
        return _error(r.number, field_name, "unknown_variant", "not a variant of this item")
    r.variant = found
    return None


def _costs(seller_id, rows: list[Row], shop: str) -> list[dict]:
    """Each row's cost fields (its cost, else its item's, at its batch's rate), with one
    read per batch the file names (batches.read). A closed batch takes no new orders, as
    with POST /orders: every row into it is an error."""
    named = {r.data.batch for r in rows if r.data.batch}
    read = {name: batches.read(seller_id, name) for name in sorted(named)}
    errors = []
    for r in rows:
        batch = read.get(r.data.batch) if r.data.batch else batches.NO_BATCH
        if batch.closed:
            errors.append(
                _error(
                    r.number,
                    "batch",
                    "batch_closed",
                    f"batch {batch.name} is closed; reopen it to add orders",
                )
            )
            continue
        if r.cost is None and r.item is not None:
            r.cost, r.cost_currency = items.cost_of(r.item, r.variant)
        r.cost_fields = batches.cost_fields(r.cost, r.cost_currency, r.data.quantity, batch, shop)
    return errors


def _settle_money(r: Row) -> list[dict]:
    """The row's paid amount and the payment_status that follows from it, or its errors.
    paid_amount given: that money (at most the total); else `remitted` is paid in full
    and anything else nothing. A status given must agree with the money (`partial` is
    never set, only read back from an export); `refunded` is the seller's and keeps the
    money given (an order paid, then refunded). A cancelled order holds no money (as
    after cancelling one: its money is the buyer's credit, which an import does not
    create) and keeps the status given but `partial`. An order of 0 keeps the status
    given: there is nothing to pay."""
    given, paid_given, total = r.payment_status, r.given_paid, r.total
    if paid_given is not None and paid_given > total:
        return [
            _error(
                r.number,
                "paid_amount",
                "paid_above_total",
                f"is {from_cents(paid_given)} but the order's total_amount is {from_cents(total)}",
            )
        ]
    if r.fulfillment_status == "cancelled":
        if paid_given:
            message = "a cancelled order holds no money: leave paid_amount empty or 0"
            return [_error(r.number, "paid_amount", "not_payable", message)]
        if given == "partial":
            message = "a cancelled order holds no money: it cannot be partly paid"
            return [_error(r.number, "payment_status", "not_payable", message)]
        # `remitted` stays as a word only (an order cancelled and marked remitted before
        # the ledger: payments.migrate_remitted leaves those, and an export writes them).
        r.payment_status, r.paid = given or "unpaid", 0
    elif given == "refunded":
        r.payment_status, r.paid = given, paid_given or 0
    elif total == 0:
        if given == "partial":
            return [
                _error(r.number, "payment_status", "status_mismatch", "an order of 0 cannot be partly paid")
            ]
        r.payment_status, r.paid = given or "unpaid", 0
    else:
        paid = paid_given if paid_given is not None else (total if given == "remitted" else 0)
        status = allocation.status_after({"payment_status": "unpaid", "total_amount": total}, paid)
        if given and given != status:
            message = (
                f"is {given} but paid_amount {from_cents(paid)} of {from_cents(total)} makes it {status}; "
                "leave payment_status empty to let the money decide"
            )
            return [_error(r.number, "payment_status", "status_mismatch", message)]
        r.payment_status, r.paid = status, paid
    if r.remitted_at and not order_rules.has_remitted_at(r.payment_status):
        return [_error(r.number, "remitted_at", "only_for_remitted", "only for a remitted order")]
    return []


def _check_stock(p: ImportPlan) -> None:
    """The stock the rows to import need per tracked item, against what there is: short →
    409 naming each item, what the file asks, what is left, and the rows asking."""
    uses: dict[tuple, list[int]] = {}
    by_id: dict[Any, dict] = {}
    for r in p.rows:
        units = order_rules.units_held(r.fulfillment_status, r.data.quantity)
        vid = r.variant["id"] if r.variant else None
        if r.item is not None and items.stock_left(r.item, vid) is not None and units:
            key = (r.item["_id"], vid)
            p.stock_needed[key] = p.stock_needed.get(key, 0) + units
            uses.setdefault(key, []).append(r.number)
            by_id[r.item["_id"]] = r.item
    short = []
    for (iid, vid), need in p.stock_needed.items():
        item = by_id[iid]
        left = items.stock_left(item, vid)
        if need > left:
            label = next((v["label"] for v in item.get("variants") or [] if v["id"] == vid), None)
            name = f"{item['item_name']} ({label})" if label else item["item_name"]
            short.append(
                {
                    "field": "quantity",
                    "code": "insufficient_stock",
                    "message": f"{name}: {need} asked, {left} left",
                    "item_name": item["item_name"],
                    **({"variant_label": label} if label else {}),
                    "needed": need,
                    "in_stock": left,
                    "rows": uses[(iid, vid)],
                }
            )
    if short:
        raise Conflict(
            "not enough stock: " + "; ".join(s["message"] for s in short) + "; nothing was imported",
            code="insufficient_stock",
            details=short,
        )


def _duplicates(seller_id, rows: list[Row], existing: dict[str, dict]) -> list[dict]:
    """Rows that are orders the seller already has: a row of an export whose `id` is one of
    the buyer's orders (issue 27: an export read back, even with a cell edited since),
    else the same buyer, item name (any case), quantity, unit price and batch, as importing
    the same file twice would make. Each existing order matches at most one row (a file
    with two equal rows against one existing order has one duplicate). One read of those
    buyers' orders (index seller_customer; the ids come with it); buyers new to the shop
    have no orders to match."""
    if not existing:
        return []
    by_id = {c["_id"]: c for c in existing.values()}
    fields = {"customer_id": 1, "item_name": 1, "quantity": 1, "unit_price": 1, "batch": 1, "order_no": 1}
    found: dict[tuple, list[int]] = {}
    orders_by_id: dict[ObjectId, dict] = {}
    cursor = get_db().orders.find(
        {"seller_id": seller_id, "customer_id": {"$in": sorted(by_id)}}, fields, batch_size=AGG_BATCH
    )
    for o in sorted(cursor, key=lambda o: o["order_no"]):
        key = (
            o["customer_id"],
            (o.get("item_name") or "").lower(),
            o["quantity"],
            o["unit_price"],
            o.get("batch"),
        )
        found.setdefault(key, []).append(o["order_no"])
        orders_by_id[o["_id"]] = o
    matched: dict[int, int] = {}  # row number -> order_no
    used: set[int] = set()
    for r in rows:  # the order a row was exported from first
        customer = existing.get(r.data.buyer_email.lower())
        o = orders_by_id.get(r.exported_id) if customer else None
        if o is not None and o["customer_id"] == customer["_id"] and o["order_no"] not in used:
            matched[r.number] = o["order_no"]
            used.add(o["order_no"])
    out = []
    for r in rows:
        if r.number in matched:
            order_no = matched[r.number]
            message = f"is order {order_no} (the id of an exported order)"
        else:
            customer = existing.get(r.data.buyer_email.lower())
            if customer is None:
                continue
            name = r.item["item_name"] if r.item else r.data.item_name
            key = (customer["_id"], name.lower(), r.data.quantity, r.unit_price, r.data.batch or None)
            free = [n for n in found.get(key, []) if n not in used]
            if not free:
                continue
            order_no = free[0]
            used.add(order_no)
            message = f"matches order {order_no} (same buyer, item, quantity, price and batch)"
        out.append({"row": r.number, "code": "duplicate_row", "message": message, "order_no": order_no})
    return out


def summary(p: ImportPlan) -> dict:
    return {
        "rows": len(p.rows),
        "new_customers": len(p.new_customers),
        # Like the reports: what the imported orders bill, cancelled rows left out.
        "total_amount": from_cents(sum(r.total for r in p.rows if r.fulfillment_status != "cancelled")),
        "duplicates": p.duplicates,
        "skipped": p.skipped,
    }


# --- 3. write -------------------------------------------------------------------------


def run(
    principal: Principal, raw: bytes | str | None, dry_run: bool, skip_duplicates: bool | None = None
) -> dict:
    """`skip_duplicates`: True leaves out rows matching existing orders, False imports
    them too. None (not given): a dry run previews the import without them (the safe
    choice; `duplicates` lists them, `skipped` counts them), and a real import that has
    any is refused with 409 duplicate_rows: the seller must choose."""
    p = plan(principal, read(raw), skip_duplicates is not False)
    if dry_run:
        return {"dry_run": True, "created": 0, **summary(p)}
    if p.duplicates and skip_duplicates is None:  # (checked before anything is written)
        raise Conflict(
            f"{len(p.duplicates)} row(s) match orders you already have; import again with "
            "skip_duplicates=true to leave them out or skip_duplicates=false to import them too; "
            "nothing was imported",
            code="duplicate_rows",
            details=p.duplicates,
        )
    if not p.rows:
        return {"dry_run": False, "created": 0, "first_order_no": None, "last_order_no": None, **summary(p)}
    first, last = write(principal, p)
    return {
        "dry_run": False,
        "created": len(p.rows),
        "first_order_no": first,
        "last_order_no": last,
        **summary(p),
    }


def write(principal: Principal, p: ImportPlan) -> tuple[int, int]:
    """Bulk writes with undo; returns the first and last order number created."""
    db = get_db()
    seller_id = object_id(principal.seller_id)
    import_id = ObjectId()
    taken: list[tuple[Any, str | None, int]] = []
    created_customers: list[dict] = []
    by_id = {r.item["_id"]: r.item for r in p.rows if r.item is not None}
    try:
        for (iid, vid), qty in p.stock_needed.items():
            if not items.take_stock(by_id[iid], qty, vid, by=principal.actor_id):
                raise Conflict(
                    f"the stock of {by_id[iid]['item_name']} changed during the import; nothing was imported",
                    code="insufficient_stock",
                )
            taken.append((iid, vid, qty))
        known = dict(p.existing_customers)
        known.update(_create_customers(seller_id, p.new_customers, created_customers))
        # One block of order numbers for the whole file (same counter as POST /orders).
        last = reserve_order_numbers(seller_id, len(p.rows))
        first = last - len(p.rows) + 1
        now = clock.now()
        docs = [
            _order_doc(principal, seller_id, r, known[r.data.buyer_email.lower()], first + i, now, import_id)
            for i, r in enumerate(p.rows)
        ]
        money = _payment_docs(principal, seller_id, p.rows, docs, known, now, import_id)
        if money:  # the payments first, as they will stay (see the module's docstring)
            db.payments.insert_many(money, ordered=True)
        repository.insert_many(docs)  # carrying their shares already
    except BaseException:
        _undo(principal, seller_id, import_id, taken, created_customers)
        raise
    batches.settle_many(seller_id, docs, principal.currency)
    # An overpaid buyer's imported orders take their credit, as a typed order does (after
    # the import's own money: each row's paid_amount is already on its order).
    for customer in known.values():
        if customer.get("credit", 0) > 0:
            payments.use_credit(seller_id, customer["_id"])
    return first, last


def _create_customers(
    seller_id, new: dict[str, tuple[str, str | None]], created: list[dict]
) -> dict[str, dict]:
    """One insert_many for the buyers the file introduces (one upsert each took 10-20 ms
    on FerretDB). A buyer created meanwhile by another request hits the unique
    (seller, email) index and is read back instead. Appends what it inserted to `created`
    (for undo) as it learns it, so an exception leaves `created` accurate."""
    if not new:
        return {}
    now = clock.now()
    docs = [
        {"_id": ObjectId(), **customers.customer_document(seller_id, email, name, now)}
        for email, name in new.values()
    ]
    failed: set[int] = set()
    try:
        get_db().customers.insert_many(docs, ordered=False)
    except mongo.BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        failed = {e["index"] for e in errors}
        created.extend(d for i, d in enumerate(docs) if i not in failed)
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
    else:
        created.extend(docs)
    out = {d["email_lower"]: d for i, d in enumerate(docs) if i not in failed}
    if failed:
        lost = [docs[i]["email_lower"] for i in failed]
        out.update(
            (c["email_lower"], c)
            for c in get_db().customers.find({"seller_id": seller_id, "email_lower": {"$in": lost}})
        )
    return out


def _order_doc(
    principal: Principal, seller_id, r: Row, customer: dict, order_no: int, now, import_id
) -> dict:
    """The document orders.create writes, plus the import's id (for undo). Its id is
    chosen here: the buyer's payment names it before it is inserted."""
    return {
        "_id": ObjectId(),
        **order_document(
            seller_id=seller_id,
            order_no=order_no,
            customer=customer,
            item=r.item,
            data=r.data,
            unit_price=r.unit_price,
            total=r.total,
            payment_status=r.payment_status,
            fulfillment_status=r.fulfillment_status,
            tz=principal.timezone,
            now=now,
            created_at=r.created_at,
            remitted_at=r.remitted_at,
            shipped_date=r.shipped_date,
            cost=r.cost_fields,
            variant=r.variant,
        ),
        "import_id": import_id,
        "source": "import",
    }


def _payment_docs(
    principal: Principal, seller_id, rows: list[Row], docs: list[dict], known: dict, now, import_id
) -> list[dict]:
    """One confirmed payment per buyer for the money of their rows, allocated exactly to
    those orders, applied (nothing left for the ledger to finish). Sets each order's
    share (`paid_by`) and `paid_amount` on `docs`; an order without money gets neither
    field, like one POST /orders creates."""
    by_buyer: dict[str, list[tuple[Row, dict]]] = {}
    for r, doc in zip(rows, docs, strict=True):
        if r.paid > 0:
            by_buyer.setdefault(r.data.buyer_email.lower(), []).append((r, doc))
    out = []
    for email, paid_rows in by_buyer.items():
        customer = known[email]
        pid = ObjectId()
        allocations = [
            {"order_id": d["_id"], "order_no": d["order_no"], "amount": r.paid} for r, d in paid_rows
        ]
        amount = sum(a["amount"] for a in allocations)
        command = payments.RecordPayment(
            customer_id=customer["_id"], amount=amount, method="other", note=None
        )
        payment = {"_id": pid}
        payment |= payments.payment_document(
            seller_id,
            customer,
            command,
            status="confirmed",
            source="seller",
            tz=principal.timezone,
            now=now,
            via=PAYMENT_VIA,
            import_id=import_id,
        )
        payment.update(allocations=allocations, unallocated=0, applied=True, touch=[])
        out.append(payment)
        for r, d in paid_rows:
            d["paid_by"] = {str(pid): r.paid}
            d["paid_amount"] = r.paid
    return out


def _undo(principal: Principal, seller_id, import_id, taken, created_customers) -> None:
    """Best effort, each step on its own: a failing step must not skip the others."""
    db = get_db()
    steps = [
        lambda: repository.delete_import(seller_id, import_id),
        lambda: db.payments.delete_many({"seller_id": seller_id, "import_id": import_id}),
    ]
    steps += [
        lambda iid=iid, vid=vid, q=q: items.return_stock(
            seller_id, iid, q, vid, by=principal.actor_id, reason="order"
        )
        for iid, vid, q in taken
    ]
    steps += [lambda c=c: customers.delete(principal, str(c["_id"])) for c in created_customers]
    for step in steps:
        try:
            step()
        except Exception:  # noqa: S112 - keep undoing the rest
            continue
