"""The bank statement reader (issue 28, chalicelib/money/statement_file.py): what Taiwanese
banks export, bytes in, incoming rows out, and a clear 400 for every file it cannot read.
No database: statements.py's tests cover the writes."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chalicelib.money.statement_file import StatementColumns, StatementRow, parse
from chalicelib.platform.errors import ERROR_CODES, DomainError
from tests.statement_files import FIRST_ROW, PLAIN_FIRST_ROW, statement_csv, statement_xlsx

ROOT = Path(__file__).resolve().parents[2]

ROWS = [
    {
        "date": "2026/12/01",
        "deposit": "1,200",
        "memo": "跨行轉入",
        "account": "822-****12345",
        "balance": "5,200",
    },
    {"date": "2026/12/01", "withdrawal": "300", "memo": "ATM提款", "balance": "4,900"},
    {"date": "2026/12/02", "deposit": "450", "memo": "網銀轉入 王小明", "account": "0081234567890"},
]
EXPECTED = [
    StatementRow(FIRST_ROW, dt.date(2026, 12, 1), 120_000, "跨行轉入", "12345"),
    StatementRow(FIRST_ROW + 2, dt.date(2026, 12, 2), 45_000, "網銀轉入 王小明", "67890"),
]


def refused(data: bytes, code: str, **kw) -> DomainError:
    with pytest.raises(DomainError) as caught:
        parse(data, **kw)
    assert caught.value.code == code, caught.value.message
    assert ERROR_CODES[code][0] == caught.value.status == 400
    return caught.value


# --- encodings and formats ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [
        ("cp950", ","),  # what a Taiwanese bank's Windows export is
        ("utf-8", ","),
        ("utf-8-sig", ","),  # Excel's "CSV UTF-8" (a BOM)
        ("utf-16", "\t"),  # Excel's "Unicode text": UTF-16 with a BOM, tab separated
        ("cp950", ";"),
        ("utf-8", "\t"),
    ],
)
def test_each_encoding_and_delimiter_reads_the_same_rows(encoding, delimiter):
    parsed = parse(statement_csv(ROWS, encoding=encoding, delimiter=delimiter))
    assert parsed.rows == EXPECTED
    assert parsed.headers == ["交易日期", "摘要", "支出", "存入", "餘額", "轉出帳號"]
    assert parsed.mapping == {
        "date": "交易日期",
        "amount": "存入",
        "memo": "摘要",
        "account": "轉出帳號",
        "withdrawal": "支出",
    }


def test_big5_bytes_are_really_big5():
    data = statement_csv(ROWS)
    assert "交易日期".encode("cp950") in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_a_dos_end_of_file_mark_is_no_row():
    assert parse(statement_csv(ROWS, preamble=False) + b"\x1a").rows == [
        StatementRow(r.row - FIRST_ROW + PLAIN_FIRST_ROW, r.date, r.amount, r.memo, r.account_last5)
        for r in EXPECTED
    ]


def test_excel_sep_line_names_the_delimiter_and_counts_as_row_one():
    data = b"sep=;\r\n" + statement_csv(ROWS, delimiter=";", encoding="utf-8")
    assert [r.row for r in parse(data).rows] == [FIRST_ROW + 1, FIRST_ROW + 3]


def test_a_rare_name_in_big5s_user_defined_area_reads_as_windows_does():
    # 0xFA40: the first code of CP950's user-defined area (a bank's own rare character);
    # Windows decodes it to U+E000, Python's cp950 refuses it.
    data = statement_csv(ROWS[:1] + [{**ROWS[2], "memo": "王小X"}]).replace(
        "王小X".encode("cp950"), "王小".encode("cp950") + b"\xfa\x40"
    )
    assert [r.memo for r in parse(data).rows] == ["跨行轉入", "王小\ue000"]


def test_xlsx_reads_typed_and_text_cells():
    rows = [
        {
            "date": dt.datetime(2026, 12, 1, 10, 23),
            "deposit": 1200,
            "memo": "跨行轉入",
            "account": "822-****12345",
        },
        {"date": dt.date(2026, 12, 1), "withdrawal": 300, "memo": "ATM提款"},
        {"date": "115/12/02", "deposit": "450", "memo": "網銀轉入 王小明", "account": 81234567890},
        {"date": 46359, "deposit": 99.5, "memo": "日期格式沒了"},  # a date cell that lost its format
    ]
    parsed = parse(statement_xlsx(rows))
    assert parsed.rows == [
        *EXPECTED,
        StatementRow(FIRST_ROW + 3, dt.date(2026, 12, 3), 9_950, "日期格式沒了", None),
    ]
    assert parsed.headers == ["交易日期", "摘要", "支出", "存入", "餘額", "轉出帳號"]


def test_xlsx_without_preamble():
    parsed = parse(statement_xlsx(ROWS, preamble=False))
    assert [r.row for r in parsed.rows] == [PLAIN_FIRST_ROW, PLAIN_FIRST_ROW + 2]


@pytest.mark.parametrize(
    ("data", "names"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ".xls"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not text"),
    ],
    ids=["xls", "pdf", "png"],
)
def test_other_formats_are_refused_saying_what_to_export(data, names):
    err = refused(data, "statement_format")
    assert names in err.message and "CSV" in err.message and ".xlsx" in err.message


def test_a_zip_that_is_not_a_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("statement.csv", statement_csv(ROWS))
    assert "not an Excel workbook" in refused(out.getvalue(), "statement_format").message


def test_a_damaged_xlsx_is_refused():
    data = statement_xlsx(ROWS)
    assert "damaged" in refused(data[: len(data) // 2], "statement_format").message


def test_an_xlsx_that_unpacks_huge_is_refused_before_openpyxl_reads_it():
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(statement_xlsx(ROWS))) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z,
    ):
        for item in src.infolist():
            z.writestr(item, src.read(item))
        z.writestr("xl/media/image1.png", b"\0" * 60_000_000)  # 60 MB of zeros: ~60 kB zipped
    data = out.getvalue()
    assert len(data) < 200_000
    err = refused(data, "statement_too_large")
    assert "unpacks to 60,0" in err.message


def test_neither_utf8_nor_big5_is_an_encoding_error():
    data = "交易日期,存入\n2026/12/01,100,café\n".encode().replace("é".encode(), "\xe9".encode("latin-1"))
    err = refused(data, "statement_encoding")
    assert "UTF-8" in err.message and "Big5" in err.message


# --- where the rows are -------------------------------------------------------------------


def test_preamble_and_totals_lines_are_not_rows():
    data = statement_csv(ROWS + [{"date": "小計", "deposit": "1,650"}, {"date": "共 3 筆"}])
    assert parse(data).rows == EXPECTED


def test_header_beyond_the_first_30_lines_is_not_searched():
    table = "\r\n".join([f"說明第{i}行" for i in range(30)]) + "\r\n"
    err = refused(table.encode("cp950") + statement_csv(ROWS, preamble=False), "statement_columns")
    assert err.missing == ["date", "amount"]


@pytest.mark.parametrize(
    ("headers", "mapping"),
    [
        (
            {
                "date": "交易日期 ",
                "deposit": "存入金額(元)",
                "withdrawal": "支出金額（元）",
                "memo": "備註/附言",
            },
            None,
        ),
        ({"date": "帳務日期", "deposit": "存入金額 (NTD)", "account": "對方帳號", "memo": "交易說明"}, None),
        (
            {
                "date": "Transaction Date",
                "deposit": "Deposit",
                "withdrawal": "Withdrawal",
                "memo": "Description",
            },
            None,
        ),
        (
            {
                "date": "ＤＡＴＥ",
                "deposit": "Credit",
                "withdrawal": "Debit",
                "account": "Account",
                "memo": "Memo",
            },
            None,
        ),
        ({"date": "記帳日", "deposit": "轉入金額", "account": "轉出帳號後五碼", "memo": "附言"}, None),
    ],
)
def test_header_names_banks_use(headers, mapping):
    parsed = parse(statement_csv(ROWS, headers=headers), mapping=mapping)
    assert [(r.row, r.date, r.amount) for r in parsed.rows] == [(e.row, e.date, e.amount) for e in EXPECTED]
    assert parsed.mapping["date"] == headers["date"].strip()
    assert parsed.mapping["amount"] == headers["deposit"]


# --- cells --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026/12/01", dt.date(2026, 12, 1)),
        ("2026-12-01", dt.date(2026, 12, 1)),
        ("2026/1/5", dt.date(2026, 1, 5)),
        ("20261201", dt.date(2026, 12, 1)),
        ("2026/12/01 14:05:09", dt.date(2026, 12, 1)),
        ("2026-12-01T14:05", dt.date(2026, 12, 1)),
        ("2026/12/01 下午 02:05", dt.date(2026, 12, 1)),
        ("115/12/01", dt.date(2026, 12, 1)),  # 民國 115
        ("1151201", dt.date(2026, 12, 1)),
        ("115.12.01", dt.date(2026, 12, 1)),
        ("99/12/31", dt.date(2010, 12, 31)),
        ("民國115年12月1日", dt.date(2026, 12, 1)),
        ("２０２６／１２／０１", dt.date(2026, 12, 1)),
    ],
)
def test_dates_as_banks_write_them(text, day):
    assert [r.date for r in parse(statement_csv([{"date": text, "deposit": "1"}])).rows] == [day]


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1,200", 120_000),
        ("1200.00", 120_000),
        ("１，２００", 120_000),
        ("ＮＴ＄１，２００", 120_000),
        ("NT$ 1,200.50", 120_050),
        ("1200元", 120_000),
        ("+1,200", 120_000),
    ],
)
def test_amounts_as_people_type_them(text, cents):
    assert [r.amount for r in parse(statement_csv([{"date": "2026/12/01", "deposit": text}])).rows] == [cents]


def test_another_currency_sign_is_not_an_amount_in_a_twd_shop():
    err = refused(statement_csv([{"date": "2026/12/01", "deposit": "¥1200"}]), "statement_rows")
    assert err.details[0]["code"] == "not_an_amount"
    assert [
        r.amount
        for r in parse(statement_csv([{"date": "2026/12/01", "deposit": "¥1200"}]), currency="JPY").rows
    ] == [120_000]


@pytest.mark.parametrize(
    ("account", "last5"),
    [
        ("822-****12345", "12345"),
        ("０１２３４５６７", "34567"),
        ("*****6789", None),
        ("", None),
        ("12345", "12345"),
    ],
)
def test_account_last_five_digits(account, last5):
    assert (
        parse(statement_csv([{"date": "2026/12/01", "deposit": "1", "account": account}]))
        .rows[0]
        .account_last5
        == last5
    )


def test_memo_is_nfkc_and_stripped():
    rows = parse(
        statement_csv([{"date": "2026/12/01", "deposit": "1", "memo": "  ＡＴＭ　轉入（王）  "}])
    ).rows
    assert rows[0].memo == "ATM 轉入(王)"


def test_only_money_coming_in_is_kept():
    rows = [
        {"date": "2026/12/01", "withdrawal": "300"},
        {"date": "2026/12/02", "deposit": "0", "withdrawal": "5"},
        {"date": "2026/12/03", "deposit": "-", "withdrawal": "5"},
        {"date": "2026/12/04", "deposit": "10"},
    ]
    assert [r.row for r in parse(statement_csv(rows)).rows] == [FIRST_ROW + 3]


def test_only_withdrawals_is_no_rows_not_an_error():
    parsed = parse(statement_csv([{"date": "2026/12/01", "withdrawal": "300"}]))
    assert parsed.rows == [] and parsed.mapping["amount"] == "存入"


def test_one_signed_amount_column_keeps_the_positive_ones():
    headers = {"deposit": "交易金額", "withdrawal": None}
    rows = [
        {"date": "2026/12/01", "deposit": "-300"},
        {"date": "2026/12/02", "deposit": "1,200"},
        {"date": "2026/12/03", "deposit": "(50)"},
    ]
    parsed = parse(statement_csv(rows, headers=headers))
    assert [(r.row, r.amount) for r in parsed.rows] == [(FIRST_ROW + 1, 120_000)]
    assert parsed.mapping["amount"] == "交易金額"


def test_a_direction_column_marks_the_rows_of_one_amount_column():
    headers = {"deposit": "金額", "withdrawal": "借貸別"}
    rows = [
        {"date": "2026/12/01", "deposit": "300", "withdrawal": "借"},
        {"date": "2026/12/02", "deposit": "1,200", "withdrawal": "貸"},
        {"date": "2026/12/03", "deposit": "50", "withdrawal": "DR"},
        {"date": "2026/12/04", "deposit": "70", "withdrawal": "存"},
    ]
    parsed = parse(statement_csv(rows, headers=headers))
    assert [r.amount for r in parsed.rows] == [120_000, 7_000]
    err = refused(
        statement_csv([{"date": "2026/12/01", "deposit": "3", "withdrawal": "?"}], headers=headers),
        "statement_rows",
    )
    assert err.details[0]["code"] == "unknown_direction" and err.details[0]["header"] == "借貸別"


# --- the seller's mapping ---------------------------------------------------------------

ODD = {"date": "入帳日", "deposit": "匯入款", "withdrawal": "匯出款", "memo": "註記", "account": "來源"}


def test_unknown_headers_list_the_headers_and_the_missing_fields():
    err = refused(statement_csv(ROWS, headers=ODD), "statement_columns")
    assert isinstance(err, StatementColumns)
    assert err.headers == ["入帳日", "註記", "匯出款", "匯入款", "餘額", "來源"]
    assert err.missing == ["date", "amount"]
    assert [d["field"] for d in err.details] == ["date", "amount"]
    assert "入帳日" in err.message


def test_a_mapping_places_what_the_names_do_not():
    mapping = {"date": "入帳日", "amount": "匯入款", "memo": "註記", "account": "來源"}
    parsed = parse(statement_csv(ROWS, headers=ODD), mapping=mapping)
    assert parsed.rows == EXPECTED
    assert parsed.mapping == mapping


def test_a_mapping_wins_over_the_recognised_names():
    headers = {"memo": "摘要", "balance": "備註"}
    rows = [{**ROWS[0], "balance": "王小明 訂單12"}]
    assert parse(statement_csv(rows, headers=headers)).rows[0].memo == "跨行轉入"
    assert (
        parse(statement_csv(rows, headers=headers), mapping={"memo": "備註"}).rows[0].memo == "王小明 訂單12"
    )


def test_a_mapping_naming_a_header_the_file_lacks():
    err = refused(statement_csv(ROWS), "statement_columns", mapping={"memo": "附註"})
    assert err.missing == ["memo"] and err.headers[0] == "交易日期"
    err = refused(statement_csv(ROWS), "statement_columns", mapping={"amount": "匯入款"})
    assert err.missing == ["amount"]
    err = refused(statement_csv(ROWS), "statement_columns", mapping={"price": "存入"})
    assert err.missing == ["price"] and "unknown" in err.message


# --- refusals -----------------------------------------------------------------------------


def test_cells_that_cannot_be_read_are_named_by_row_and_column():
    rows = [
        {"date": "2026/12/01", "deposit": "abc"},
        {"date": "13/45", "deposit": "100"},
        {"date": "2026/12/03", "deposit": "1.234"},
        {"date": "2026/12/04", "deposit": "100"},
    ]
    err = refused(statement_csv(rows), "statement_rows")
    assert [(d["row"], d["cell"], d["header"], d["code"]) for d in err.details] == [
        (FIRST_ROW, f"D{FIRST_ROW}", "存入", "not_an_amount"),
        (FIRST_ROW + 1, f"A{FIRST_ROW + 1}", "交易日期", "invalid_date"),
        (FIRST_ROW + 2, f"D{FIRST_ROW + 2}", "存入", "too_many_decimals"),
    ]
    assert f"row {FIRST_ROW}, column D (存入)" in err.message and "'abc'" in err.message
    assert f"row {FIRST_ROW + 1}, column A (交易日期)" in err.message and "'13/45'" in err.message


def test_at_most_20_bad_cells_are_listed():
    err = refused(statement_csv([{"date": "2026/12/01", "deposit": "x"}] * 25), "statement_rows")
    assert len(err.details) == 20 and err.message.startswith("25 cell(s)")


def test_a_formula_cell_is_named_csv():
    rows = [ROWS[0], {"date": "2026/12/02", "deposit": "=100+200"}]
    err = refused(statement_csv(rows), "statement_formula")
    assert f"D{FIRST_ROW + 1}" in err.message and err.details[0]["cell"] == f"D{FIRST_ROW + 1}"


def test_an_excel_text_cell_is_no_formula():
    # ="0081234567890": how banks keep an account's leading zeros when Excel opens the CSV.
    rows = [
        {"date": '="115/12/01"', "deposit": '="1,200"', "account": '="0081234567890"', "memo": '="說""明"""'}
    ]
    assert parse(statement_csv(rows)).rows == [
        StatementRow(FIRST_ROW, dt.date(2026, 12, 1), 120_000, '說"明"', "67890")
    ]


def test_a_formula_cell_is_named_xlsx():
    rows = [ROWS[0], ROWS[2], {"date": "2026/12/03", "deposit": 1, "balance": "=F5+D7"}]
    err = refused(statement_xlsx(rows), "statement_formula")
    assert err.details == [
        {"cell": f"E{FIRST_ROW + 2}", "code": "formula", "message": "a formula, not a value"}
    ]


def test_a_10_mb_file_is_too_large():
    data = statement_csv(ROWS * 70_000, encoding="utf-8")
    assert len(data) > 10_000_000
    assert "5,000,000" in refused(data, "statement_too_large").message


def test_more_than_5000_rows_is_too_large():
    row = {"date": "2026/12/01", "deposit": "1"}
    assert len(parse(statement_csv([row] * 5_000)).rows) == 5_000
    assert "5,000 rows" in refused(statement_csv([row] * 5_001), "statement_too_large").message


def xlsx_with(rows: list[dict], cells: dict[str, object]) -> bytes:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(statement_xlsx(rows)))
    for ref, value in cells.items():
        book.active[ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_row_far_down_is_too_large_and_far_right_is_not_read():
    # A sheet may skip to any row and column: empty rows are counted, at most 50 columns read.
    assert parse(xlsx_with(ROWS, {"XFD6": "=1+1", "AX6": "x"})).rows == EXPECTED
    assert (
        "20,000 lines"
        in refused(xlsx_with(ROWS, {"A20001": "2026/12/01", "D20001": 5}), "statement_too_large").message
    )
    assert "formula" in refused(xlsx_with(ROWS, {"AX6": "=1+1"}), "statement_formula").message


@pytest.mark.parametrize(
    "data",
    [b"", b" \r\n", "\ufeff".encode(), statement_csv([])],
    ids=["empty", "blank", "bom", "header only"],
)
def test_empty_files(data):
    refused(data, "statement_empty")


# --- cold start -----------------------------------------------------------------------


def test_openpyxl_is_imported_by_an_xlsx_only():
    code = """
import json, sys
import app
from chalicelib.money import statement_file
from tests.statement_files import statement_csv
statement_file.parse(statement_csv([{"date": "2026/12/01", "deposit": "1"}]))
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("openpyxl", "et_xmlfile"))))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
