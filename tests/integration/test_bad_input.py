"""Bad input is a 400, never a 500, on both backends: dates outside any sane range (they
overflow Python's datetime or BSON's date range) and numbers too long to be real (Python
refuses to turn more than 4,300 digits into an int, with ValueError)."""

from __future__ import annotations

from tests.factories import make_order

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
    make_order(api, token, buyer_email="a@example.com", item_name="x", quantity=1, unit_price=1)
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


# --- NUL characters (U+0000): PostgreSQL cannot store one, so FerretDB refused the write
# with a 503 after earlier writes of the request had landed. Refused at the edge now.


def _nul_refused(r, code, field):
    assert r.status == 400, r
    assert r.json["error"]["code"] == code, r
    assert [(d["field"], d["code"]) for d in r.json["error"]["details"]] == [(field, "nul_character")], r


def test_nul_in_a_body_field_is_400_and_writes_nothing(api, token):
    from chalicelib.platform import db

    before = db.get_db().customers.count_documents({})
    r = api.post("/customers", {"name": "A\x00B", "email": "a@example.com"}, token=token)
    _nul_refused(r, "validation_error", "name")
    # A key with one is named too (shown escaped).
    r = api.post("/customers", {"name": "A", "email": "a@example.com", "no\x00te": "x"}, token=token)
    _nul_refused(r, "validation_error", "no\\u0000te")
    assert db.get_db().customers.count_documents({}) == before


def test_nul_in_a_nested_body_field_is_400_and_writes_nothing(api, token):
    from chalicelib.platform import db

    order = make_order(api, token, buyer_email="a@example.com", item_name="x", quantity=1, unit_price=1)
    stored = db.get_db().orders.find_one({})
    r = api.post("/orders/bulk", {"ids": [order["id"]], "set": {"carrier": "Yama\x00to"}}, token=token)
    _nul_refused(r, "validation_error", "set.carrier")
    assert db.get_db().orders.find_one({}) == stored


def test_nul_in_a_query_parameter_is_400(api, token):
    for path in ("/customers?q=a%00b", "/orders?q=ok&batch=a%00b", "/customers?q=a&q=b%00"):
        r = api.get(path, token=token)
        _nul_refused(r, "invalid_query", "batch" if "batch=" in path else "q")
        assert "q" in r.json["error"]["message"] or "batch" in r.json["error"]["message"]


def test_nul_in_a_path_parameter_is_400_and_writes_nothing(api, token):
    from chalicelib.platform import db

    before = db.get_db().batches.count_documents({})
    r = api.patch("/batches/2026-12%00x", {"note": "trip"}, token=token)
    _nul_refused(r, "validation_error", "name")
    assert db.get_db().batches.count_documents({}) == before
    # A public route too, before any lookup.
    _nul_refused(api.get("/track/abc%00def"), "validation_error", "token")


def test_nul_in_a_csv_cell_is_400_naming_row_and_column(api, token):
    from chalicelib.platform import db

    rows = ["a@example.com,fine,1,10,,,", "b@example.com,bad\x00name,1,10,,,"]
    r = post_csv(api, token, IMPORT_HEADER + "\r\n".join(rows) + "\r\n")
    assert r.status == 400, r
    assert r.json["error"]["code"] == "invalid_rows"
    assert [(d["row"], d["field"], d["code"]) for d in r.json["error"]["details"]] == [
        (3, "item_name", "nul_character")
    ]
    for name in ("orders", "customers"):
        assert db.get_db()[name].count_documents({}) == 0, name


def test_every_route_refuses_a_nul_at_the_edge(api, token):
    """Whatever a route reads: a NUL in a query parameter or a path parameter is a 400
    before the route runs (before authentication: the request is malformed either way)."""
    import re

    from app import ROUTES

    for route in ROUTES:
        kind = {"Content-Type": route.content_types[0]}
        params = re.findall(r"{(\w+)}", route.path)
        plain = re.sub(r"{\w+}", "0" * 24, route.path)
        r = api.call(route.method, plain + "?note=a%00b", token=token, headers=kind)
        _nul_refused(r, "invalid_query", "note")
        for name in params:
            path = route.path.replace("{" + name + "}", "a%00b")
            path = re.sub(r"{\w+}", "0" * 24, path)
            _nul_refused(api.call(route.method, path, token=token, headers=kind), "validation_error", name)


# --- body dates and batch names: the same limits as everywhere else


def test_body_dates_outside_2000_2100_are_400(api, token):
    from chalicelib.platform import db

    order = make_order(api, token, buyer_email="a@example.com", item_name="x", quantity=1, unit_price=100)
    link = api.post(f"/customers/{order['customer_id']}/tracking-link", token=token).json["token"]
    stored = db.get_db().orders.find_one({})
    for day in ("0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"):
        writes = {
            "shipped_date": api.patch(
                f"/orders/{order['id']}", {"fulfillment_status": "shipped", "shipped_date": day}, token=token
            ),
            "paid_at": api.post(
                "/payments",
                {"customer_id": order["customer_id"], "amount": 1, "method": "bank_transfer", "paid_at": day},
                token=token,
            ),
            "paid_at ": api.post(
                f"/track/{link}/payments", {"amount": 1, "paid_at": day}
            ),  # the buyer's report
        }
        for field, r in writes.items():
            assert r.status == 400, (day, field, r)
            assert [(d["field"], d["code"]) for d in r.json["error"]["details"]] == [
                (field.strip(), "date_out_of_range")
            ], (day, field, r)
    assert db.get_db().orders.find_one({}) == stored
    assert db.get_db().payments.count_documents({}) == 0
    # The edges themselves are fine.
    r = api.patch(
        f"/orders/{order['id']}", {"fulfillment_status": "shipped", "shipped_date": "2000-01-01"}, token=token
    )
    assert r.status == 200 and r.json["shipped_date"] == "2000-01-01", r
    r = api.post(
        "/payments",
        {
            "customer_id": order["customer_id"],
            "amount": 1,
            "method": "bank_transfer",
            "paid_at": "2100-12-31",
        },
        token=token,
    )
    assert r.status == 201, r


def test_a_batch_name_in_the_path_has_the_order_field_limit(api, token):
    from urllib.parse import quote

    from chalicelib.platform import db

    long_name = "東京" * 100 + "x"  # 201 characters (603 bytes percent-encoded)
    r = api.patch(f"/batches/{quote(long_name)}", {"note": "trip"}, token=token)
    assert r.status == 400 and r.json["error"]["code"] == "validation_error", r
    assert [(d["field"], d["code"]) for d in r.json["error"]["details"]] == [("name", "string_too_long")]
    assert db.get_db().batches.count_documents({}) == 0
    # 200 is what an order's `batch` may hold, and what the path may name too.
    r = api.patch(f"/batches/{quote(long_name[:200])}", {"note": "trip"}, token=token)
    assert r.status == 200 and r.json["name"] == long_name[:200], r
    order = {"buyer_email": "a@example.com", "item_name": "x", "quantity": 1, "unit_price": 1}
    assert api.post("/orders", {**order, "batch": long_name}, token=token).status == 400
    assert api.post("/orders", {**order, "batch": long_name[:200]}, token=token).status == 201
