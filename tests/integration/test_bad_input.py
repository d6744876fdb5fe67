"""Bad input is a 400, never a 500, on both backends: dates outside any sane range (they
overflow Python's datetime or BSON's date range) and numbers too long to be real (Python
refuses to turn more than 4,300 digits into an int, with ValueError)."""

from __future__ import annotations

HUGE = "1" * 5000  # more digits than Python's int() accepts from text

IMPORT_HEADER = "buyer_email,item_name,quantity,unit_price,shipping_fee,total_amount,created_at\r\n"


def post_csv(api, token, text: str):
    return api.post("/import/orders", raw=text.encode(), token=token, headers={"Content-Type": "text/csv"})


def test_order_list_dates_out_of_range_are_400(api, token):
    for query in (
        "from=9999-12-31T23:59:59-12:00",  # UTC would be year 10000: OverflowError
        "to=0001-01-01T00:00:00%2B14:00",  # UTC would be year 0
        "from=0001-01-01",
        "to=9999-12-31",
        "from=1999-12-31T23:59:59Z",
        "to=2101-01-01T00:00:00Z",
    ):
        r = api.get(f"/orders?{query}", token=token)
        assert r.status == 400, (query, r)
        assert r.json["error"]["code"] == "invalid_query"


def test_order_list_dates_at_the_edges_are_fine(api, token):
    api.post(
        "/orders",
        {"buyer_email": "a@example.com", "item_name": "x", "quantity": 1, "unit_price": 1},
        token=token,
    )
    for query in (
        "from=2000-01-01&to=2100-12-31T23:59:59Z",
        "from=2000-01-01T08:00:00%2B08:00&to=2100-12-31",
    ):
        r = api.get(f"/orders?{query}", token=token)
        assert r.status == 200 and len(r.json["items"]) == 1, (query, r)


def test_import_dates_out_of_range_are_row_errors(api, token):
    rows = [
        "a@example.com,x,1,10,,,9999-12-31T23:59:59-12:00",
        "a@example.com,x,1,10,,,0001-01-01T00:00:00+14:00",
        "a@example.com,x,1,10,,,0001/01/01",  # the seller's zone (+08:00) takes it before year 1
        "a@example.com,x,1,10,,,9999/12/31 23:59",
        "a@example.com,x,1,10,,,2026-01-01T00:00:00Z",  # fine
    ]
    r = post_csv(api, token, IMPORT_HEADER + "\r\n".join(rows) + "\r\n")
    assert r.status == 400, r
    assert r.json["error"]["code"] == "invalid_rows"
    # Rows as the spreadsheet numbers them: the header is row 1.
    assert [(d["row"], d["field"], d["code"]) for d in r.json["error"]["details"]] == [
        (2, "created_at", "date_out_of_range"),
        (3, "created_at", "date_out_of_range"),
        (4, "created_at", "date_out_of_range"),
        (5, "created_at", "date_out_of_range"),
    ]


NUMBERS = [HUGE, "-" + HUGE, HUGE + ".5", "0." + HUGE, "1e999999", "1E+999999", "1e-999999", "1" * 31]


def test_huge_numbers_in_json_are_400(api, token):
    for number in NUMBERS:
        for field in ("quantity", "unit_price", "note"):
            values = {"quantity": "1", "unit_price": "1", "note": '"n"', field: number}
            raw = '{"buyer_email": "a@example.com", "item_name": "x", ' + ", ".join(
                f'"{k}": {v}' for k, v in values.items()
            )
            r = api.post("/orders", raw=(raw + "}").encode(), token=token)
            assert r.status == 400, (number[:20], field, r)
            assert r.json["error"]["code"] == "invalid_json", (number[:20], field, r)
    assert api.get("/orders", token=token).json["items"] == []


def test_huge_number_on_a_public_route_is_400(api):
    r = api.post("/track/request-link", raw=('{"shop_slug": "x", "email": ' + HUGE + "}").encode())
    assert r.status == 400 and r.json["error"]["code"] == "invalid_json", r


def test_ordinary_numbers_still_parse(api, token):
    r = api.post(
        "/orders",
        raw=b'{"buyer_email": "a@example.com", "item_name": "x", "quantity": 2, "unit_price": 1.5e2, "shipping_fee": 60.00}',
        token=token,
    )
    assert r.status == 201, r
    assert (r.json["unit_price"], r.json["total_amount"]) == (150, 360)


def test_huge_numbers_in_csv_import_are_row_errors(api, token):
    for number in [HUGE, HUGE + ".5", "0." + HUGE, "1e999999", "1e-999999", "-" + HUGE]:
        rows = [
            f"a@example.com,x,{number},10,,,",
            f"a@example.com,x,1,{number},,,",
            f"a@example.com,x,1,10,{number},,",
            f'a@example.com,x,1,10,,"{number}",',
        ]
        r = post_csv(api, token, IMPORT_HEADER + "\r\n".join(rows) + "\r\n")
        assert r.status == 400, (number[:20], r)
        assert r.json["error"]["code"] == "invalid_rows"
        fields = {(d["row"], d["field"]) for d in r.json["error"]["details"]}
        assert {(2, "quantity"), (3, "unit_price"), (4, "shipping_fee"), (5, "total_amount")} <= fields, (
            fields
        )
    assert api.get("/orders", token=token).json["items"] == []
