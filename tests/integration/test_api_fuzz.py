"""Schemathesis against our own /openapi.json on a live `chalice local` + FerretDB:
no input, however odd, gets a 5xx, every error has the contract's shape, and every
response is one the document describes (status code, media type, body schema)."""

import json
import urllib.request
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.fuzz
PASSWORD = "fuzzing password"


@pytest.fixture(scope="module")
def api_schema(live_api):
    schema = schemathesis.openapi.from_url(live_api.url + "/openapi.json")
    schema.config.base_url = live_api.url
    return schema


@pytest.fixture(scope="module")
def live_token(live_api):
    body = json.dumps(
        {
            "email": f"fuzz-{uuid.uuid4().hex[:8]}@example.com",
            "password": PASSWORD,
            "shop_name": "Fuzz",
        }
    )
    req = urllib.request.Request(
        live_api.url + "/auth/signup", body.encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req) as resp:  # noqa: S310 - loopback test server
        return json.loads(resp.read())["token"]


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


RESPONSE_CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


def check(case, token):
    headers = {"Authorization": f"Bearer {token}"} if case.operation.path != "/auth/login" else {}
    response = case.call(headers=headers)
    assert response.status_code < 500, (case.operation.label, response.status_code, response.text[:300])
    # The body (errors included) against the response schema of its status code.
    case.validate_response(response, checks=RESPONSE_CHECKS, headers=headers)
    if response.status_code >= 400:
        body = response.json()
        # A bank statement whose columns cannot be placed also lists them (issue 28).
        extra = {"headers", "missing"} if body.get("error", {}).get("code") == "statement_columns" else set()
        assert set(body) == {"error"} | extra, body
        assert {"code", "message", "details"} <= set(body["error"]), body
        assert "Traceback" not in response.text


# schemathesis' own pytest plugin does not run under pytest 9 yet, so each operation's
# hypothesis strategy is driven here directly.
def test_no_server_errors_and_contract_errors(api_schema, live_token):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        @given(case=operation.as_strategy())
        def run(case):
            check(case, live_token)

        run()


def test_every_route_answers_as_documented(api_schema, live_api):
    """Random input mostly meets 4xx answers, so every route is also called once the way a
    page would (data in it, both formats, a replay), and each answer — success bodies
    included — is validated against its operation's status codes and response schema."""
    import requests

    from app import ROUTES

    seen: set[tuple[str, str]] = set()
    http = requests.Session()

    def call(method, template, status, token=None, **kwargs):
        path = template.format(**ids)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if "data" in kwargs:
            headers["Content-Type"] = "text/csv"
        headers.update(kwargs.pop("headers", {}))
        response = http.request(method, live_api.url + path, headers=headers, timeout=30, **kwargs)
        assert response.status_code == status, (method, path, response.status_code, response.text[:300])
        operation = api_schema[template.split("?")[0]][method]
        operation.Case(headers=headers).validate_response(response, checks=RESPONSE_CHECKS, headers=headers)
        seen.add((method, template.split("?")[0]))
        return response.json() if response.content and "json" in response.headers["content-type"] else None

    ids: dict[str, str] = {}
    email = f"happy-{uuid.uuid4().hex[:8]}@example.com"
    call("GET", "/health", 200)
    call("GET", "/openapi.json", 200)
    signup = call(
        "POST", "/auth/signup", 201, json={"email": email, "password": PASSWORD, "shop_name": "Happy"}
    )
    login = call("POST", "/auth/login", 200, json={"email": email, "password": PASSWORD})
    session = call("POST", "/auth/refresh", 200, json={"refresh_token": login["refresh_token"]})
    t = session["token"]
    call("GET", "/auth/me", 200, t)
    t = call("PATCH", "/auth/me", 200, t, json={"shop_name": "Happy Picks"})["token"]
    ids["customer_id"] = call("POST", "/customers", 201, t, json={"name": "Bo", "email": "bo@example.com"})[
        "id"
    ]
    call("GET", "/customers?q=bo&limit=5", 200, t)
    call("GET", "/customers/{customer_id}", 200, t)
    call("PATCH", "/customers/{customer_id}", 200, t, json={"phone": "0912-345-678"})
    ids["item_id"] = call("POST", "/items", 201, t, json={"item_name": "Tea", "price": 19.99, "stock": 9})[
        "id"
    ]
    call("GET", "/items", 200, t)
    call("GET", "/items/{item_id}", 200, t)
    call("PATCH", "/items/{item_id}", 200, t, json={"stock": 8})
    # A photo as `make run` takes one (the live API keeps photos in a folder: BLOB_DIR).
    image = _jpeg()
    photo = call(
        "POST", "/items/{item_id}/photos", 201, t, json={"content_type": "image/jpeg", "size": len(image)}
    )
    ids["photo_id"] = photo["photo_id"]
    form = [(k, (None, v)) for k, v in photo["upload"]["fields"].items()] + [("file", ("p.jpg", image))]
    call("POST", "/photo-uploads", 204, files=form)
    assert call("GET", "/items/{item_id}/photos/{photo_id}", 200, t)["status"] == "ready"
    assert len(call("GET", "/items/{item_id}", 200, t)["photos"]) == 1
    call("DELETE", "/items/{item_id}/photos/{photo_id}", 204, t)
    call("POST", "/items/{item_id}/adjustments", 201, t, json={"delta": 1, "reason": "count"})
    call("GET", "/items/{item_id}/movements?limit=5", 200, t)
    new_order = {"customer_id": ids["customer_id"], "item_id": ids["item_id"], "quantity": 2, "batch": "B1"}
    replay = {"Idempotency-Key": uuid.uuid4().hex}
    ids["order_id"] = call("POST", "/orders", 201, t, json=new_order, headers=replay)["id"]
    call("POST", "/orders", 200, t, json=new_order, headers=replay)
    call("GET", "/orders?payment_status=unpaid&from=2000-01-01&limit=10", 200, t)
    call("GET", "/orders/{order_id}", 200, t)
    call("PATCH", "/orders/{order_id}", 200, t, json={"fulfillment_status": "shipped", "carrier": "7-11"})
    call(
        "POST", "/orders/bulk", 200, t, json={"ids": [ids["order_id"]], "set": {"payment_status": "remitted"}}
    )
    # Already shipped: unchanged (the parcel below still takes it).
    call(
        "POST",
        "/orders/bulk/matching",
        200,
        t,
        json={"where": {"batch": "B1"}, "set": {"fulfillment_status": "shipped"}},
    )
    link = call("POST", "/customers/{customer_id}/tracking-link", 201, t)
    assert call("GET", "/customers/{customer_id}/tracking-link", 200, t)["url"] == link["url"]
    ids["link_id"] = call("GET", "/customers/{customer_id}/tracking-links", 200, t)["items"][0]["id"]
    ids["token"] = link["token"]
    call("GET", "/track/{token}", 200)
    call("POST", "/track/{token}/notices-opt-out", 200, json={"opt_out": False})
    reported = call("POST", "/track/{token}/payments", 201, json={"amount": 5, "account_last5": "12345"})
    assert reported["status"] == "reported"
    ids["payment_id"] = call("GET", "/payments?status=reported", 200, t)["items"][0]["id"]
    call("POST", "/payments/{payment_id}/confirm", 200, t)
    call("POST", "/payments/{payment_id}/void", 200, t)
    ids["payment_id"] = call(
        "POST", "/payments", 201, t, json={"customer_id": ids["customer_id"], "amount": 3, "method": "cash"}
    )["id"]
    call("GET", "/payments/{payment_id}", 200, t)
    call("POST", "/payments/use-credit", 200, t, json={"customer_id": ids["customer_id"]})
    call("GET", "/track/{token}", 200)
    ids["payment_id"] = (
        call("POST", "/track/{token}/payments", 201, json={"amount": 1})
        and call("GET", "/payments?status=reported&limit=1", 200, t)["items"][0]["id"]
    )
    call("POST", "/payments/{payment_id}/reject", 200, t, json={"reason": "not seen"})
    ids["charge_id"] = call(
        "POST", "/charges", 201, t, json={"customer_id": ids["customer_id"], "amount": 6, "kind": "shipping"}
    )["id"]
    call("GET", "/charges", 200, t)
    call("GET", "/charges/{charge_id}", 200, t)
    call("POST", "/charges/{charge_id}/void", 200, t)
    call("GET", "/parcels/ready", 200, t)
    ids["parcel_id"] = call(
        "POST",
        "/parcels",
        201,
        t,
        json={"customer_id": ids["customer_id"], "order_ids": [ids["order_id"]], "method": "cvs_711"},
    )["id"]
    call("GET", "/parcels?status=shipped", 200, t)
    call("GET", "/parcels/{parcel_id}", 200, t)
    call("GET", "/parcels/{parcel_id}/packing-slip?prices=false", 200, t)
    call("PATCH", "/parcels/{parcel_id}", 200, t, json={"tracking_number": "1234567890"})
    call("DELETE", "/parcels/{parcel_id}", 204, t)
    call(
        "POST",
        "/track/request-link",
        202,
        json={"shop_slug": signup["seller"]["shop_slug"], "email": "bo@example.com"},
    )
    call("DELETE", "/customers/{customer_id}/tracking-links/{link_id}", 204, t)
    form = call(
        "POST",
        "/forms",
        201,
        t,
        json={
            "batch": "B1",
            "title": "Group buy",
            "items": [{"item_id": ids["item_id"], "max_per_buyer": 5}],
        },
    )
    ids["form_id"], ids["token"] = form["id"], form["url"].split("#")[1]
    call("GET", "/forms", 200, t)
    call("GET", "/forms/{form_id}", 200, t)
    call("GET", "/f/{token}", 200)
    line = {"name": "Fay", "email": "fay@example.com", "lines": [{"item_id": ids["item_id"], "quantity": 1}]}
    call("POST", "/f/{token}/orders", 201, json=line, headers={"Idempotency-Key": "form-1"})
    call("POST", "/f/{token}/orders", 200, json=line, headers={"Idempotency-Key": "form-1"})
    wait = {"name": "Gil", "email": "gil@example.com", "item_id": ids["item_id"], "quantity": 1000}
    ids["entry_id"] = call("POST", "/f/{token}/waitlist", 201, json=wait)["id"]
    call("GET", "/forms/{form_id}/waitlist", 200, t)
    call("DELETE", "/forms/{form_id}/waitlist/{entry_id}", 204, t)
    call("POST", "/forms/{form_id}/link", 200, t)
    call("PATCH", "/forms/{form_id}", 200, t, json={"closed": True})
    ids["name"] = "B1"
    call("PATCH", "/batches/{name}", 200, t, json={"rates": {"JPY": "0.2115"}, "note": "Tokyo"})
    call("GET", "/batches", 200, t)
    again = {"Idempotency-Key": uuid.uuid4().hex}
    notice = call("POST", "/batches/{name}/notices", 201, t, json={"kind": "arrived"}, headers=again)
    call("POST", "/batches/{name}/notices", 200, t, json={"kind": "arrived"}, headers=again)
    ids["notice_id"] = notice["id"]
    sent = {"customer_ids": [notice["recipients"][0]["customer_id"]]}
    call("POST", "/batches/{name}/notices/{notice_id}/sent", 200, t, json=sent)
    call("GET", "/batches/{name}/notices", 200, t)
    # The shopping trip: 1 bought covers Fay's form order; a second purchase is undone.
    bought = {"item_id": ids["item_id"], "quantity": "１", "unit_cost": 120}
    assert call("POST", "/batches/{name}/purchases", 201, t, json=bought)["purchased"]
    ids["purchase_id"] = call("POST", "/batches/{name}/purchases", 201, t, json=bought)["purchase_id"]
    call("DELETE", "/batches/{name}/purchases/{purchase_id}", 200, t)
    call("GET", "/batches/{name}/shopping-list", 200, t)
    short = {"item_id": ids["item_id"], "keep": "first_ordered"}
    call("POST", "/batches/{name}/shortages", 201, t, json=short, headers=again)
    call("POST", "/batches/{name}/shortages", 200, t, json=short, headers=again)
    for fmt in ("json", "csv"):
        call("GET", f"/reports/profit?format={fmt}&from=2026-01&to=2026-12", 200, t)
        call("GET", f"/reports/buyers?format={fmt}&batch=B1", 200, t)
        call("GET", f"/reports/items?format={fmt}", 200, t)
        call("GET", f"/reports/monthly?format={fmt}&year=2026", 200, t)
        call("GET", f"/export/orders?format={fmt}&limit=1", 200, t)
        call("GET", f"/export/payments?format={fmt}&limit=1", 200, t)
        call("GET", f"/export/charges?format={fmt}&limit=1", 200, t)
    csv_file = "buyer_email,item_name,quantity,unit_price\r\ncy@example.com,Cake,1,5\r\n"
    call("POST", "/import/orders?dry_run=true", 200, t, data=csv_file.encode())
    call("POST", "/import/orders", 201, t, data=csv_file.encode())
    statement = "交易日期,摘要,存入,轉出帳號\r\n2026/12/01,轉入,5,822-****12345\r\n2026/12/02,轉入,7,\r\n"
    headers = {"Content-Type": "application/octet-stream"}
    ids["statement_id"] = call(
        "POST", "/statements?filename=dec.csv", 201, t, data=statement.encode(), headers=headers
    )["id"]
    call("POST", "/statements", 400, t, data="日子,進帳\r\n2026-12-01,5\r\n".encode())  # statement_columns
    call("GET", "/statements", 200, t)
    call("GET", "/statements/open", 200, t)
    call("GET", "/statements/{statement_id}", 200, t)
    call(
        "POST",
        "/statements/{statement_id}/apply",
        200,
        t,
        json={"rows": [{"row": 2, "customer_id": ids["customer_id"]}]},
    )
    call("POST", "/statements/{statement_id}/dismiss", 200, t, json={"rows": [3]})
    call("DELETE", "/items/{item_id}", 409, t)
    call("DELETE", "/customers/{customer_id}", 409, t)
    twin = call("POST", "/customers", 201, t, json={"name": "Bo", "email": "bo.2@example.com"})["id"]
    call("POST", "/customers/{customer_id}/merge", 200, t, json={"from_customer_id": twin})
    ids["customer_id"] = call("POST", "/customers", 201, t, json={"name": "Cy", "email": "c2@example.com"})[
        "id"
    ]
    call("DELETE", "/customers/{customer_id}", 204, t)
    ids["item_id"] = call("POST", "/items", 201, t, json={"item_name": "Unused", "price": 1})["id"]
    call("DELETE", "/items/{item_id}", 204, t)
    # A member (issue 31): invited, joins, then changed and removed by the owner.
    member = call("POST", "/members", 201, t, json={"email": f"helper-{email}", "role": "staff"})
    ids["member_id"] = member["id"]
    call("GET", "/members", 200, t)
    member = call("POST", "/members/{member_id}/invite", 200, t)  # a new link; the first stops
    link = {"token": member["invite_url"].split("#invite=")[1]}
    assert call("POST", "/members/invite-info", 200, json=link)["email"] == f"helper-{email}"
    joined = call(
        "POST",
        "/members/accept",
        200,
        json={"token": member["invite_url"].split("#invite=")[1], "password": "amber kettle orchard 5"},
    )
    call("POST", "/members/{member_id}/invite", 409, t)  # joined: no invite to send again
    assert call("GET", "/auth/me", 200, joined["token"])["member"]["role"] == "staff"
    call("PATCH", "/members/{member_id}", 200, t, json={"role": "owner"})
    call("DELETE", "/members/{member_id}", 204, t)
    call("POST", "/auth/password-reset/request", 202, json={"email": email})
    call("POST", "/auth/password-reset", 400, json={"token": "x" * 43, "new_password": "another long one 7"})
    call(
        "POST",
        "/auth/password",
        204,
        t,
        json={"current_password": PASSWORD, "new_password": "violet teapot harbour 9"},
    )
    call("POST", "/auth/logout", 204, json={"refresh_token": session["refresh_token"]})
    assert {(r.method, r.path) for r in ROUTES} == seen
