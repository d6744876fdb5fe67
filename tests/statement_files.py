"""Bank statement files as Taiwanese banks export them, for every test of issue 28.

`rows` are dicts like {"date": "2026/12/01", "deposit": "1,200", "withdrawal": "",
"memo": "跨行轉入", "account": "822-****12345"} (a missing key is an empty cell; a value may
be a number or a datetime, which an .xlsx keeps typed). Each file has the bank's lines
above the header (帳號：…, 查詢期間：…, a blank line) unless `preamble=False`, the header
交易日期, 摘要, 支出, 存入, 餘額, 轉出帳號, the rows, and a 合計 line after them.
The first row is row FIRST_ROW (PLAIN_FIRST_ROW without the preamble), as a spreadsheet
numbers it.
"""

from __future__ import annotations

import csv
import io

HEADERS = {
    "date": "交易日期",
    "memo": "摘要",
    "withdrawal": "支出",
    "deposit": "存入",
    "balance": "餘額",
    "account": "轉出帳號",
}
PREAMBLE = [["帳號：822-1234567890-12"], ["查詢期間：115/12/01～115/12/31"], []]
FIRST_ROW = len(PREAMBLE) + 2
PLAIN_FIRST_ROW = 2


def statement_table(
    rows: list[dict], *, preamble: bool = True, headers: dict[str, str] | None = None
) -> list[list]:
    """The file's lines as cells. `headers` renames columns (key -> header text); a key
    mapped to None drops that column."""
    named = {**HEADERS, **(headers or {})}
    keys = [k for k, h in named.items() if h is not None]
    table = [list(line) for line in PREAMBLE] if preamble else []
    table.append([named[k] for k in keys])
    table += [[row.get(k, "") for k in keys] for row in rows]
    table.append(["合計" if k == "date" else "" for k in keys])
    return table


def statement_csv(
    rows: list[dict],
    *,
    encoding: str = "cp950",
    preamble: bool = True,
    delimiter: str = ",",
    headers: dict[str, str] | None = None,
) -> bytes:
    """The bank's CSV: Big5 (CP950, what Windows writes) unless told otherwise. For
    Excel's "Unicode text" pass encoding="utf-16", delimiter="\\t"."""
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(
        statement_table(rows, preamble=preamble, headers=headers)
    )
    return out.getvalue().encode(encoding)


def statement_xlsx(
    rows: list[dict], *, preamble: bool = True, headers: dict[str, str] | None = None
) -> bytes:
    """The bank's .xlsx, written by openpyxl (a text starting with = is a formula cell)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for line in statement_table(rows, preamble=preamble, headers=headers):
        sheet.append([None if cell == "" else cell for cell in line] or [None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
