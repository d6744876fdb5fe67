"""Reading a bank statement export into the rows reconciliation works on.

The seller uploads what their bank's online banking exports (CSV or `.xlsx`, UTF-8 or
Big5/CP950). This module turns those bytes into `StatementRow`s of money coming in and
nothing else: it knows no database and no buyer (statements.py proposes and applies).

A header it cannot place raises `StatementColumns` (the route answers 400
`statement_columns` with the headers) unless `mapping` places it; the mapping is the
seller's, remembered for the shop by statements.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

from chalicelib.platform.errors import DomainError
from chalicelib.platform.money import read_amount

# The fields a statement row needs, and the header names banks use for them.
FIELDS = ("date", "amount", "memo", "account")
KNOWN_HEADERS: dict[str, tuple[str, ...]] = {
    "date": ("交易日期", "帳務日期"),
    "amount": ("存入", "存入金額", "收入"),
    "memo": ("摘要", "備註", "附言"),
    "account": ("轉出帳號", "對方帳號"),
}


@dataclass(frozen=True)
class StatementRow:
    """One incoming transfer. `row` is the line number as the spreadsheet shows it."""

    row: int
    date: dt.date
    amount: int  # minor units of the shop's currency
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
    answer_fields = ("headers", "missing")

    def __init__(self, headers: list[str], missing: list[str]):
        super().__init__(
            f"cannot place the column(s): {', '.join(missing)}",
            details=[{"field": f, "code": "missing_column"} for f in missing],
        )
        self.headers = headers
        self.missing = missing


_DIGITS = re.compile(r"\d")


def _last5(text: str) -> str | None:
    digits = "".join(_DIGITS.findall(text or ""))
    return digits[-5:] if len(digits) >= 5 else None


def parse(data: bytes, *, mapping: dict[str, str] | None = None, currency_minor: int = 0) -> ParsedStatement:
    """A first reader: UTF-8 CSV with the common Chinese headers. Issue 28 grows it."""
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    headers = [h.strip() for h in next(reader, [])]
    placed: dict[str, str] = dict(mapping or {})
    for field, names in KNOWN_HEADERS.items():
        if field not in placed:
            found = next((h for h in headers if h in names), None)
            if found:
                placed[field] = found
    missing = [f for f in ("date", "amount") if f not in placed]
    if missing:
        raise StatementColumns(headers, missing)
    index = {f: headers.index(h) for f, h in placed.items()}
    rows = []
    for n, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        raw_amount = cells[index["amount"]].strip()
        if not raw_amount:
            continue
        amount = read_amount(raw_amount)
        if amount <= 0:
            continue
        rows.append(
            StatementRow(
                row=n,
                date=dt.date.fromisoformat(cells[index["date"]].strip().replace("/", "-")),
                amount=int(amount * 100),  # cents (stmtfile's reader takes the currency)
                memo=cells[index["memo"]].strip() if "memo" in index else "",
                account_last5=_last5(cells[index["account"]]) if "account" in index else None,
            )
        )
    return ParsedStatement(rows=rows, headers=headers, mapping=placed)
