"""CSV helpers and the import reader: pure functions, no database."""

from __future__ import annotations

import pytest

from chalicelib.platform import csv_format
from chalicelib.platform.errors import PayloadTooLarge, ValidationFailed
from chalicelib.sales import imports


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+886 912", "'+886 912"),
        ("-3", "-3"),  # a plain negative number (a loss) is no formula
        ("-106.50", "-106.50"),
        ("-3+1", "'-3+1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("-", "'-"),
        ("-1e3", "'-1e3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("東京 = 好", "東京 = 好"),
        ("plain", "plain"),
        (None, ""),
        (12, "12"),
    ],
)
def test_safe_cell_defuses_formulas(value, cell):
    assert csv_format.safe_cell(value) == cell


@pytest.mark.parametrize("text", ["=1+1", "-3", "-3+1", "@x", "'quoted", "'", "plain", "'plain"])
def test_unescape_undoes_safe_cell(text):
    assert csv_format.unescape_cell(csv_format.safe_cell(text)) == text


def test_content_disposition_ascii_and_utf8_names():
    value = csv_format.content_disposition("buyers-2026-12 東京")
    assert value == (
        "attachment; filename=\"buyers-2026-12.csv\"; filename*=UTF-8''buyers-2026-12%20%E6%9D%B1%E4%BA%AC.csv"
    )
    assert 'filename="export.csv"' in csv_format.content_disposition("東京")
    assert csv_format.content_disposition('a"b;c\r\n') == (
        "attachment; filename=\"a-b-c.csv\"; filename*=UTF-8''a%22b%3Bc%0D%0A.csv"
    )


def test_headers_in_both_languages_map_to_one_key():
    for col in csv_format.ORDER_COLUMNS:
        assert csv_format.canonical_header(col.key) == col.key
        assert csv_format.canonical_header(col.zh) == col.key
        assert csv_format.canonical_header(f" {col.zh} ") == col.key
    assert csv_format.canonical_header("\ufeffbuyer_email") == "buyer_email"
    assert csv_format.canonical_header("price") is None
    assert len({c.zh for c in csv_format.ORDER_COLUMNS}) == len(csv_format.ORDER_COLUMNS)


def test_table_has_bom_crlf_and_total_row():
    cols = csv_format.ITEM_COLUMNS
    text = csv_format.table(
        cols, [{"item_name": "香蕉", "quantity": 2, "order_count": 1}], "zh", {"quantity": 2}
    )
    assert text == "\ufeff商品名稱,款式,數量,訂單數\r\n香蕉,,2,1\r\n合計,,2,\r\n"


def test_read_skips_blank_lines_and_numbers_data_rows():
    raw = "\ufeffbuyer_email,item_name,quantity\r\n\r\na@x.io,Pen,1\r\n,,\r\nb@x.io,Ink,2\r\n".encode()
    assert imports.read(raw) == [
        # Numbered as a spreadsheet shows them: the header is row 1.
        (3, {"buyer_email": "a@x.io", "item_name": "Pen", "quantity": "1"}),
        (5, {"buyer_email": "b@x.io", "item_name": "Ink", "quantity": "2"}),
    ]


def test_read_short_rows_leave_missing_cells_out():
    rows = imports.read(b"buyer_email,item_name,quantity,note\na@x.io,Pen\n")
    assert rows == [(2, {"buyer_email": "a@x.io", "item_name": "Pen"})]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "invalid_csv"),
        (b"\xef\xbb\xbf", "invalid_csv"),
        (b"buyer_email,item_name,quantity\r\n", "invalid_csv"),
        ("買家Email,商品名稱,數量\n".encode("big5"), "invalid_csv"),
        (b"buyer_email,item_name\na,b\n", "missing_columns"),
        (b"buyer_email,item_name,quantity,quantity\na,b,1,1\n", "invalid_columns"),
        (b"buyer_email,item_name,quantity,colour\na,b,1,red\n", "invalid_columns"),
        (b"buyer_email,item_name,quantity,\na,b,1,\n", "invalid_columns"),
    ],
)
def test_read_rejects_bad_files(raw, code):
    with pytest.raises(ValidationFailed) as exc:
        imports.read(raw)
    assert exc.value.code == code


def test_read_limits():
    header = "buyer_email,item_name,quantity\n"
    assert len(imports.read(header + "a@x.io,P,1\n" * imports.MAX_ROWS)) == imports.MAX_ROWS
    with pytest.raises(ValidationFailed) as exc:
        imports.read(header + "a@x.io,P,1\n" * (imports.MAX_ROWS + 1))
    assert exc.value.code == "too_many_rows"
    with pytest.raises(PayloadTooLarge):
        imports.read(b"x" * (imports.MAX_BYTES + 1))


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ({"buyer_email": "a@x.io", "item_name": "P", "quantity": "1.5", "unit_price": "1"}, "quantity"),
        ({"buyer_email": "a@x.io", "item_name": "P", "quantity": "0", "unit_price": "1"}, "quantity"),
        ({"buyer_email": "a@x.io", "item_name": "P", "quantity": "²", "unit_price": "1"}, "quantity"),
        ({"buyer_email": "a@x.io", "item_name": "P", "quantity": "9" * 400, "unit_price": "1"}, "quantity"),
        ({"buyer_email": "a@x.io", "item_name": "P", "quantity": "1", "unit_price": "abc"}, "unit_price"),
        ({"buyer_email": "a@x.io", "item_name": "P", "quantity": "1", "unit_price": "NaN"}, "unit_price"),
        ({"buyer_email": "a@x.io", "item_name": "P", "quantity": "1", "shipping_fee": "1e9"}, "shipping_fee"),
        (
            {"buyer_email": "a@x.io", "item_name": "P", "quantity": "1", "payment_status": "paid"},
            "payment_status",
        ),
        ({"buyer_email": "nope", "item_name": "P", "quantity": "1"}, "buyer_email"),
        ({"buyer_email": "a@x.io", "item_name": "P", "quantity": "1", "total_amount": "x"}, "total_amount"),
    ],
)
def test_row_errors_name_the_field(cells, field):
    row, errors = imports._parse_row(7, cells)
    assert row is None
    assert errors and all(e["row"] == 7 for e in errors)
    assert errors[0]["field"] == field


def test_row_accepts_chinese_status_words_and_thousands_separator():
    row, errors = imports._parse_row(
        1,
        {
            "buyer_email": "a@x.io",
            "item_name": "P",
            "quantity": "2",
            "unit_price": "1,250.50",
            "payment_status": "已匯款",
            "fulfillment_status": "已出貨",
        },
    )
    assert errors == []
    assert (row.data.unit_price, row.payment_status, row.fulfillment_status) == (
        125050,
        "remitted",
        "shipped",
    )


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z"),
        ("2026-01-02T03:04:05+09:00", "2026-01-01T18:04:05Z"),
        ("2026-01-02", "2026-01-01T16:00:00Z"),  # midnight in Taipei
        ("2026/1/2 08:30", "2026-01-02T00:30:00Z"),
        ("2026/01/02", "2026-01-01T16:00:00Z"),
    ],
)
def test_times_from_export_or_excel(text, iso):
    from chalicelib.platform import clock

    assert clock.iso(imports._when(text, "Asia/Taipei")) == iso


@pytest.mark.parametrize("text", ["yesterday", "2026-02-30", "1999-12-31", "2999-01-01", "02/01/2026"])
def test_bad_times(text):
    with pytest.raises(ValueError):
        imports._when(text, "Asia/Taipei")


def test_a_cell_with_line_breaks_is_one_spreadsheet_row():
    raw = b'buyer_email,item_name,quantity,note\r\na@x.io,Pen,1,"line one\nline two"\r\nb@x.io,Ink,2,\r\n'
    assert [n for n, _ in imports.read(raw)] == [2, 3]
