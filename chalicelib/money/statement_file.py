"""Reading a bank statement export into the rows reconciliation works on.

The seller uploads what their bank's online banking exports (CSV or `.xlsx`; UTF-8,
Big5/CP950 or Excel's UTF-16 "Unicode text"). This module turns those bytes into
`StatementRow`s of money coming in and nothing else: it knows no database and no buyer
(statements.py proposes and applies). docs/api.md, "Reading a statement", has the rules.

A header it cannot place raises `StatementColumns` (the route answers 400
`statement_columns` with the headers) unless `mapping` places it; the mapping is the
seller's, remembered for the shop by statements.py.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from chalicelib.platform.errors import DomainError, Invalid, ValidationFailed
from chalicelib.platform.money import read_amount, to_cents

MAX_BYTES = 5_000_000  # what Lambda takes in a request, as the order import
MAX_ROWS = 5_000  # data rows (the import's limit)
MAX_LINES = 4 * MAX_ROWS  # lines read at all, blank ones included (an .xlsx can skip to row 1,000,000)
MAX_UNZIPPED = 50_000_000  # an .xlsx of 5,000 rows unpacks to a few MB; more is a zip bomb
MAX_MEMBERS = 1_000
MAX_COLUMNS = 50  # cells read per row (a sheet can claim 16,384 columns)
HEADER_SEARCH = 30  # banks put account and period lines above the header
LISTED = 20  # bad cells named in one answer

# The fields a statement row is read from, and the header names banks use for them, best
# first (a file with 交易日期 and 交易時間 dates by 交易日期). `amount` is the money coming in;
# with no deposit column a signed one (交易金額/金額/Amount) is it, and only its positive
# values are kept. `withdrawal` is placed so it is never taken for anything else;
# `direction` (借貸別: 存/提, 貸/借, CR/DR) marks the rows of a one-amount-column file.
FIELDS = ("date", "amount", "memo", "account", "withdrawal", "direction")
KNOWN_HEADERS: dict[str, tuple[str, ...]] = {
    "date": ("交易日期", "帳務日期", "記帳日", "記帳日期", "入帳日期", "交易日", "日期", "交易時間")
    + ("Transaction Date", "Posting Date", "Date"),
    "amount": ("存入", "存入金額", "收入", "收入金額", "轉入金額", "存款金額", "Deposit", "Credit")
    + ("Deposit Amount", "Credit Amount", "交易金額", "金額", "Amount"),
    "withdrawal": ("支出", "提出", "支出金額", "提出金額", "提款金額", "轉出金額", "Withdrawal", "Debit"),
    "memo": ("摘要", "備註", "附言", "說明", "交易說明", "備註/附言", "交易摘要")
    + ("Description", "Memo", "Remark", "Remarks"),
    "account": ("轉出帳號", "對方帳號", "轉出帳號後五碼", "對方帳號後五碼", "對方帳戶", "轉帳帳號")
    + ("帳號", "Account", "Account No.", "Account Number"),
    "direction": ("借貸", "借貸別", "借/貸", "存提", "存提別", "收支", "收支別", "Dr/Cr", "D/C", "Cr/Dr"),
}
INCOMING = frozenset({"貸", "存", "存入", "收", "收入", "入", "轉入", "+", "c", "cr", "credit", "deposit"})
OUTGOING = frozenset({"借", "提", "提出", "支", "支出", "出", "轉出", "-", "d", "dr", "debit", "withdrawal"})


@dataclass(frozen=True)
class StatementRow:
    """One incoming transfer. `row` is the line number as the spreadsheet shows it."""

    row: int
    date: dt.date
    amount: int  # minor units (cents) of the shop's currency, > 0
    memo: str
    account_last5: str | None


@dataclass(frozen=True)
class ParsedStatement:
    rows: list[StatementRow]
    headers: list[str]
    mapping: dict[str, str]  # field -> the header it was read from


class StatementColumns(DomainError):
    """400: a needed column could not be placed. `headers` are the file's, for the seller
    to map (the answer's details list them)."""

    status, code = 400, "statement_columns"
    answer_fields = ("headers", "missing")  # in the answer next to `error` (errors.to_http)

    def __init__(self, headers: list[str], missing: list[str], message: str | None = None):
        super().__init__(
            message
            or f"cannot place the column(s): {', '.join(missing)}; the file's headers: "
            + (", ".join(h for h in headers if h) or "none"),
            details=[{"field": f, "code": "missing_column"} for f in missing],
        )
        self.headers = headers
        self.missing = missing


@dataclass(frozen=True)
class _Formula:
    """A formula cell: its text, for the message."""

    text: str


Cell = object  # str from a CSV; str, int, float, datetime, bool, None or _Formula from an .xlsx
Line = tuple[int, list[Cell]]  # (row number as the spreadsheet shows it, cells)


def parse(data: bytes, *, mapping: dict[str, str] | None = None, currency: str = "TWD") -> ParsedStatement:
    """The incoming rows of a bank's CSV or .xlsx export; amounts in `currency`'s cents.

    Raises 400s (ValidationFailed, StatementColumns) naming the problem; never a partial
    result."""
    if len(data) > MAX_BYTES:
        raise ValidationFailed(
            f"the file is {len(data):,} bytes; at most {MAX_BYTES:,}: export a shorter period",
            code="statement_too_large",
        )
    if not data.strip():
        raise ValidationFailed("the file is empty", code="statement_empty")
    wanted = _check_mapping(mapping or {})
    lines = _xlsx_lines(data) if data.startswith(b"PK\x03\x04") else _text_lines(data, wanted)
    return _read(lines, wanted, currency)


# --- bytes -> lines ---------------------------------------------------------------------

_NOT_A_STATEMENT = (
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook (or a password-protected one)"),
    (b"%PDF", "a PDF"),
    (b"PK\x05\x06", "an empty zip file"),
)
# Never in text a bank writes (an old DOS export's closing Ctrl-Z, \x1a, is: that line is no row).
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]")
_EXPORT = "export the statement as CSV or Excel .xlsx"


def _format_error(what: str) -> ValidationFailed:
    return ValidationFailed(
        f"the file is {what}, not a statement we can read: {_EXPORT}", code="statement_format"
    )


def _eudc(exc: UnicodeDecodeError) -> tuple[str, int]:
    """CP950's user-defined area as Windows decodes it (to the Private Use Area): banks
    write rare name characters (a buyer's 堃 or 喆) there, and Python's cp950 has no
    mapping for them. Anything else stays an error."""
    raw, at = exc.object, exc.start
    if at + 1 < len(raw):
        lead, trail = raw[at], raw[at + 1]
        if 0x40 <= trail <= 0x7E or 0xA1 <= trail <= 0xFE:
            offset = trail - 0x40 if trail < 0x80 else trail - 0x62
            for first, last, base in ((0xFA, 0xFE, 0xE000), (0x8E, 0xA0, 0xE311), (0x81, 0x8D, 0xEEB8)):
                if first <= lead <= last:
                    return chr(base + (lead - first) * 157 + offset), at + 2
    raise exc


codecs.register_error("statement_eudc", _eudc)


def _decode(data: bytes) -> str:
    """UTF-8 (strictly, so Big5 is never misread as it), else CP950, else UTF-16 with a BOM."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif not _CONTROL.search(data[:4096]):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        try:
            return data.decode("cp950", errors="statement_eudc")
        except UnicodeDecodeError:
            pass
    else:
        raise _format_error("not text (it holds control bytes)")
    raise ValidationFailed(
        "the file is neither UTF-8 nor Big5 (CP950) text: export it as CSV from the bank, "
        "or save it in Excel as 'CSV UTF-8' or .xlsx",
        code="statement_encoding",
    )


_SEP_HINT = re.compile(r"sep=(.)\r?\n?")  # Excel's first line naming the delimiter


def _text_lines(data: bytes, wanted: dict[str, str]) -> Iterator[Line]:
    for magic, what in _NOT_A_STATEMENT:
        if data.startswith(magic):
            raise _format_error(what)
    text = _decode(data)
    first = text.split("\n", 1)[0]
    hint = _SEP_HINT.fullmatch(first + "\n")
    if hint:
        delimiters = [hint[1]]
        text = "\n" + text[len(first) + 1 :]  # the hint is row 1 as Excel shows it
    else:
        delimiters = [",", "\t", ";"]

    def lines(delimiter: str) -> Iterator[Line]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            # Numbered as a spreadsheet shows it: a quoted cell with a line break is one row.
            for number, cells in enumerate(reader, start=1):
                yield number, [_unwrap(c) for c in cells]
        except csv.Error as exc:
            raise _format_error(f"not CSV we can read (line {reader.line_num}: {exc})") from None

    # The delimiter is the one that finds the header; else the one giving the widest row.
    tried = {d: list(itertools.islice(lines(d), HEADER_SEARCH)) for d in delimiters}
    found = next((d for d in delimiters if _find_header(tried[d], wanted)), None)
    if found is None:
        found = max(delimiters, key=lambda d: max((len(c) for _, c in tried[d]), default=0))
    return lines(found)


_TEXT_FORMULA = re.compile(r'="((?:[^"]|"")*)"')


def _unwrap(cell: str) -> str:
    """="0081234567890" is how banks keep an account's leading zeros in Excel: a text, not
    a formula."""
    m = _TEXT_FORMULA.fullmatch(cell.strip())
    return m[1].replace('""', '"') if m else cell


def _xlsx_lines(data: bytes) -> Iterator[Line]:
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _format_error("a damaged zip or .xlsx") from None
    unzipped = sum(m.file_size for m in members)
    # zipfile never unpacks more than a member's declared size (then fails its CRC), so
    # the declared sizes bound what openpyxl can be made to read.
    if unzipped > MAX_UNZIPPED or len(members) > MAX_MEMBERS:
        raise ValidationFailed(
            f"the .xlsx unpacks to {unzipped:,} bytes in {len(members):,} parts; at most "
            f"{MAX_UNZIPPED:,}: export a shorter period or CSV",
            code="statement_too_large",
        )
    if "xl/workbook.xml" not in archive.namelist():
        raise _format_error("a zip file that is not an Excel workbook")
    # Imported here, not at the top: only an .xlsx upload pays for openpyxl (cold start,
    # tests/unit/test_cold_start.py).
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged workbook
        raise _format_error("an .xlsx workbook that cannot be read") from None
    sheet = book.active if hasattr(book.active, "iter_rows") else (book.worksheets or [None])[0]
    if sheet is None:
        raise ValidationFailed("the workbook has no sheet", code="statement_empty")
    return _sheet_lines(book, sheet)


def _sheet_lines(book, sheet) -> Iterator[Line]:
    try:
        # Empty rows come as rows of empty cells, so the count is the row number.
        for number, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS), start=1):
            yield number, [_Formula(str(c.value)) if c.data_type == "f" else c.value for c in row]
    finally:
        book.close()


def _cell(cells: list[Cell], index: int | None) -> Cell:
    return cells[index] if index is not None and index < len(cells) else None


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, _Formula):
        return cell.text
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # an .xlsx account or date number: 12345678901234.0
    if isinstance(cell, dt.datetime | dt.date):
        return cell.isoformat()
    return str(cell)


# --- headers ----------------------------------------------------------------------------

_UNIT = re.compile(r"\((?:元|圓|新?[台臺]幣|NT\$|\$|[A-Za-z]{3})\)$")
_SPACE = re.compile(r"\s+")


def _norm(cell: Cell) -> str:
    """A header as compared: NFKC (full-width ）and Ｄａｔｅ), no spaces, no unit
    suffix like (元) or (NTD), case-folded."""
    text = _SPACE.sub("", unicodedata.normalize("NFKC", _text(cell)))
    return _UNIT.sub("", text).casefold()


_KNOWN = {field: {_norm(n): rank for rank, n in enumerate(names)} for field, names in KNOWN_HEADERS.items()}


def _check_mapping(mapping: dict[str, str]) -> dict[str, str]:
    unknown = [f for f in mapping if f not in FIELDS]
    if unknown:
        raise StatementColumns(
            [],
            unknown,
            f"the mapping names unknown field(s): {', '.join(unknown)}; known: {', '.join(FIELDS)}",
        )
    return {f: _norm(h) for f, h in mapping.items() if _text(h).strip()}


def _place(cells: list[Cell], wanted: dict[str, str]) -> dict[str, int]:
    """field -> column index: the seller's mapping first, then the names banks use."""
    names = [_norm(c) for c in cells]
    placed: dict[str, int] = {}
    for field, header in wanted.items():
        if header in names:
            placed[field] = names.index(header)
    for field in FIELDS:
        if field in placed or field in wanted:
            continue
        ranked = [
            (_KNOWN[field][n], i)
            for i, n in enumerate(names)
            if n in _KNOWN[field] and i not in placed.values()
        ]
        if ranked:
            placed[field] = min(ranked)[1]
    return placed


def _find_header(lines: list[Line], wanted: dict[str, str]) -> tuple[int, dict[str, int]] | None:
    """The first line that places date and amount: (its position in `lines`, placement)."""
    for at, (_, cells) in enumerate(lines):
        placed = _place(cells, wanted)
        if "date" in placed and "amount" in placed:
            return at, placed
    return None


def _headers(cells: list[Cell]) -> list[str]:
    headers = [_text(c).strip() for c in cells]
    while headers and not headers[-1]:
        headers.pop()
    return headers


# --- lines -> rows ----------------------------------------------------------------------


def _read(lines: Iterable[Line], wanted: dict[str, str], currency: str) -> ParsedStatement:
    lines = iter(lines)
    head = [line for line in itertools.islice(lines, HEADER_SEARCH) if _text_cells(line[1])]
    if not head:
        raise ValidationFailed("the file has no rows", code="statement_empty")
    found = _find_header(head, wanted)
    if found is None:
        # The widest of the first lines is most likely the header the seller will map.
        widest = max(head, key=lambda line: len(_headers(line[1])))[1]
        placed = _place(widest, wanted)
        raise StatementColumns(_headers(widest), _missing(placed, wanted))
    at, placed = found
    header_cells = head[at][1]
    headers = _headers(header_cells)
    missing = [f for f in wanted if f not in placed]
    if missing:
        raise StatementColumns(headers, missing)
    mapping = {f: _text(header_cells[i]).strip() for f, i in placed.items()}
    rows: list[StatementRow] = []
    bad: list[dict] = []
    formulas: list[str] = []
    data_rows = 0
    for number, cells in itertools.chain(head[at:], lines):
        if number > MAX_LINES:
            raise ValidationFailed(f"the file has more than {MAX_LINES:,} lines", code="statement_too_large")
        formulas += [f"{_column(i)}{number}" for i, c in enumerate(cells) if _is_formula(c)]
        if cells is header_cells or not _looks_like_date(_cell(cells, placed["date"])):
            continue  # blank, or 合計, 小計, 共 12 筆: no transfer without a date
        data_rows += 1
        if data_rows > MAX_ROWS:
            raise ValidationFailed(
                f"the file has more than {MAX_ROWS:,} rows: export a shorter period",
                code="statement_too_large",
            )
        row = _row(number, cells, placed, headers, currency, bad)
        if row is not None:
            rows.append(row)
    if formulas:
        listed = formulas[:LISTED]
        raise ValidationFailed(
            f"the file has {len(formulas)} formula cell(s) ({', '.join(listed)}); export the bank's file as it is, "
            "or paste the values only",
            code="statement_formula",
            details=[{"cell": c, "code": "formula", "message": "a formula, not a value"} for c in listed],
        )
    if bad:
        listed = bad[:LISTED]
        raise ValidationFailed(
            f"{len(bad)} cell(s) cannot be read; nothing was read: "
            + "; ".join(
                f"row {e['row']}, column {e['column']} ({e['header']}): {e['message']}" for e in listed
            ),
            code="statement_rows",
            details=listed,
        )
    if not data_rows:
        raise ValidationFailed("the file has a header but no rows", code="statement_empty")
    return ParsedStatement(rows=rows, headers=headers, mapping=mapping)


def _missing(placed: dict[str, int], wanted: dict[str, str]) -> list[str]:
    return [f for f in dict.fromkeys(("date", "amount", *wanted)) if f not in placed]


def _row(
    number: int, cells: list[Cell], placed: dict[str, int], headers: list[str], currency: str, bad: list[dict]
) -> StatementRow | None:
    """The row's incoming transfer; None for a row that is not one (a withdrawal, a
    total, a note). A cell that cannot be read goes into `bad`."""

    def cell(field: str) -> Cell:
        return _cell(cells, placed.get(field))

    def fail(field: str, exc: Invalid) -> None:
        i = placed[field]
        bad.append(
            {
                "row": number,
                "column": _column(i),
                "cell": f"{_column(i)}{number}",
                "field": field,
                "header": headers[i] if i < len(headers) else "",
                "code": exc.code,
                "message": f"{exc.message}: {_text(cell(field))[:40]!r}",
            }
        )

    if _blank_amount(cell("amount")):
        return None  # a withdrawal: its amount is in another column
    try:
        amount = _amount(cell("amount"), currency)
    except Invalid as exc:
        fail("amount", exc)
        return None
    if amount <= 0:
        return None  # a signed column's withdrawal, a reversal
    if "direction" in placed:
        way = _norm(cell("direction"))
        if way in OUTGOING:
            return None
        if way not in INCOMING:
            fail("direction", Invalid("unknown_direction", "neither in (存, 貸, CR) nor out (提, 借, DR)"))
            return None
    found: dict[str, object] = {}
    for field, read in (("amount", lambda: to_cents(amount)), ("date", lambda: _date(cell("date")))):
        try:
            found[field] = read()
        except Invalid as exc:
            fail(field, exc)
    if len(found) < 2:
        return None
    return StatementRow(
        row=number,
        date=found["date"],
        amount=found["amount"],
        memo=_SPACE.sub(" ", unicodedata.normalize("NFKC", _text(cell("memo")))).strip(),
        account_last5=_last5(cell("account")),
    )


def _text_cells(cells: list[Cell]) -> bool:
    return any(_text(c).strip() for c in cells)


def _is_formula(cell: Cell) -> bool:
    # In a CSV, `=` starts what Excel would compute (a line of ===== is a separator).
    return isinstance(cell, _Formula) or (
        isinstance(cell, str) and cell.startswith("=") and bool(cell.strip("= "))
    )


def _column(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the cell's name as the spreadsheet shows it."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


_DIGITS = re.compile(r"\d")


def _last5(cell: Cell) -> str | None:
    """The last five digits of an account cell (822-****12345 is fine); fewer: None."""
    digits = "".join(_DIGITS.findall(unicodedata.normalize("NFKC", _text(cell))))
    return digits[-5:] if len(digits) >= 5 else None


# Dates: 2026/12/01, 2026-12-01, 2026.12.01, 2026年12月1日, 20261201, each maybe with a time
# after it; the ROC years banks print (民國 115 = 2026): 115/12/01, 1151201.
_DATE = re.compile(r"(\d{2,4})[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?(?:[\sT].*)?")
_COMPACT = re.compile(r"(\d{4}|\d{3})(\d{2})(\d{2})(?:[\sT].*)?")
_DATE_LIKE = re.compile(r"[\d\s/\-.:年月日T]*\d[\d\s/\-.:年月日T]*")
_DAY_PARTS = re.compile(r"民國|上午|下午|[AaPp][Mm]")
ROC = 1911
YEARS = range(2000, 2101)
EXCEL_SERIALS = range(36526, 73051)  # 2000-01-01 .. 2099-12-31 as Excel counts days


def _looks_like_date(cell: Cell) -> bool:
    """A date cell, or text that tries to be one (13/45 is a mistake; 合計 is no date)."""
    if isinstance(cell, dt.date | int | float) and not isinstance(cell, bool):
        return True
    text = _DAY_PARTS.sub("", unicodedata.normalize("NFKC", _text(cell))).strip()
    return bool(_DATE_LIKE.fullmatch(text))


def _date(cell: Cell) -> dt.date:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    if isinstance(cell, int | float) and cell == int(cell) and int(cell) in EXCEL_SERIALS:
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(cell))  # a date cell without its format
    text = unicodedata.normalize("NFKC", _text(cell)).strip().removeprefix("民國").strip()
    m = _DATE.fullmatch(text) or _COMPACT.fullmatch(text)
    try:
        if m is None:
            raise ValueError
        year = int(m[1])
        day = dt.date(year + ROC if len(m[1]) < 4 else year, int(m[2]), int(m[3]))
    except ValueError:
        raise Invalid("invalid_date", "not a date (2026/12/01, 20261201 or 民國 115/12/01)") from None
    if day.year not in YEARS:
        raise Invalid("date_out_of_range", f"a date outside {YEARS.start}-{YEARS.stop - 1}")
    return day


def _blank_amount(cell: Cell) -> bool:
    return cell is None or unicodedata.normalize("NFKC", _text(cell)).strip() in ("", "-", "—", "–")


def _amount(cell: Cell, currency: str) -> Decimal:
    """The cell's amount, signed: 1,200.00, １２００, NT$1,200, 1200元, +1,200, (1,200), -1,200."""
    if isinstance(cell, bool | dt.date | _Formula):
        raise Invalid("not_an_amount", "not an amount")
    if isinstance(cell, int):
        return Decimal(cell)
    if isinstance(cell, float):
        value = Decimal(repr(cell))
        if not value.is_finite():
            raise Invalid("not_an_amount", "not an amount")
        return value
    text = unicodedata.normalize("NFKC", _text(cell)).strip()
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    value = read_amount(text.removeprefix("+"), currency)
    return -value if negative else value
