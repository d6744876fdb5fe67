"""HTTP routes only: parse the request, call one function in chalicelib, return its result."""

from __future__ import annotations

import functools
import json
import logging

from chalice import Chalice, CORSConfig, Response
from pymongo.errors import PyMongoError

from chalicelib import auth, clock, csv_format, customers, exports, imports, items, orders, reports, tracking
from chalicelib.config import plain_settings
from chalicelib.db import UNAVAILABLE_ERRORS, ping
from chalicelib.errors import DomainError, ValidationFailed, error_body, framework_error_body, to_http
from chalicelib.listing import parse_limit
from chalicelib.models import (
    AcceptedOut,
    BulkIn,
    BulkOut,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    HealthOut,
    ItemIn,
    ItemOut,
    ItemPatch,
    LoginIn,
    LoginOut,
    OrderIn,
    OrderOut,
    OrderPatch,
    PasswordChangeIn,
    PasswordResetIn,
    PasswordResetRequestIn,
    RefreshIn,
    SellerOut,
    SellerPatch,
    SellerUpdatedOut,
    SignupIn,
    SignupOut,
)
from chalicelib.openapi import RouteDoc, build
from chalicelib.payload import parse_body

app = Chalice(app_name="personal-shopper")
app.log.setLevel(logging.INFO)
app.api.cors = CORSConfig(
    allow_origin=plain_settings().cors_origin,
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
    # Readable by the page's fetch(): CSV file names, export paging, retry hints.
    expose_headers=["Content-Disposition", "X-Next-Cursor", "Retry-After"],
    max_age=600,
)
ROUTES: list[RouteDoc] = []
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(body=text, status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def api(path: str, method: str, summary: str, **doc):
    """Register a route, document it, and map every failure to the contract's errors."""
    route_doc = RouteDoc(path=path, method=method, summary=summary, **doc)
    ROUTES.append(route_doc)
    content_types = [route_doc.content_type] if route_doc.body is None else ["application/json"]

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                result = fn(*args, **kwargs)
            except DomainError as exc:
                status, body = to_http(exc)
                return json_response(body, status)
            except UNAVAILABLE_ERRORS:
                app.log.warning("database unavailable on %s %s", method, path)
                return json_response(
                    error_body("database_unavailable", "The database cannot be reached; try again shortly."),
                    503,
                    {"Retry-After": "5"},
                )
            except PyMongoError:
                app.log.exception("database error on %s %s", method, path)
                return json_response(error_body("database_error", "The database refused the request."), 503)
            except Exception:
                app.log.exception("unexpected error on %s %s", method, path)
                return json_response(error_body("internal_error", "Something went wrong on our side."), 500)
            if isinstance(result, Response):
                return result
            if result is None:
                return Response(body="", status_code=204)
            return json_response(result, route_doc.status)

        return app.route(path, methods=[method], content_types=content_types)(wrapper)

    return decorate


@app.middleware("http")
def contract_error_bodies(event, get_response):
    """Chalice answers some requests itself (wrong Content-Type → 415, wrong method →
    405) with `{"Code", "Message"}`; give those the contract's error shape too."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        response.body = json.dumps(framework_error_body(body["Code"], body["Message"]))
        response.headers["Content-Type"] = JSON_HEADERS["Content-Type"]
    return response


def req():
    return app.current_request


def seller() -> auth.Principal:
    return auth.authenticate(req().headers.get("authorization"))


def client_address() -> str:
    """The caller's address as API Gateway saw it (not a header a client could forge)."""
    return ((req().context or {}).get("identity") or {}).get("sourceIp") or "unknown"


def body(model):
    return parse_body(model, req().raw_body)


def query() -> dict:
    return dict(req().query_params or {})


def page_args() -> tuple[int, str | None]:
    q = query()
    return parse_limit(q.get("limit")), q.get("cursor")


# --- platform -------------------------------------------------------------------------


@api("/health", "GET", "Liveness and database check", out=HealthOut, public=True)
def health():
    if ping():
        return {"status": "ok", "db": "ok"}
    return json_response({"status": "degraded", "db": "unavailable"}, 503)


@api("/openapi.json", "GET", "This OpenAPI document", public=True)
def openapi_document():
    return build(ROUTES, title="Personal shopper API", version="1.0.0")


# --- sellers --------------------------------------------------------------------------


@api("/auth/signup", "POST", "Create a seller account", body=SignupIn, out=SignupOut, status=201, public=True)
def signup():
    return auth.signup(body(SignupIn))


@api(
    "/auth/login",
    "POST",
    "Log in: a short-lived token and a refresh token",
    body=LoginIn,
    out=LoginOut,
    public=True,
)
def login():
    return auth.login(body(LoginIn), client_address())


@api(
    "/auth/refresh",
    "POST",
    "A new token; the refresh token given stops working",
    body=RefreshIn,
    out=LoginOut,
    public=True,
)
def refresh_session():
    return auth.refresh(body(RefreshIn).refresh_token)


@api("/auth/logout", "POST", "End the session of this refresh token", body=RefreshIn, status=204, public=True)
def logout():
    return auth.logout(body(RefreshIn).refresh_token)


@api(
    "/auth/password",
    "POST",
    "Change the password; every other session ends",
    body=PasswordChangeIn,
    status=204,
)
def change_password():
    return auth.change_password(seller(), body(PasswordChangeIn), client_address())


@api(
    "/auth/password-reset/request",
    "POST",
    "Email a link to choose a new password (always 202)",
    body=PasswordResetRequestIn,
    out=AcceptedOut,
    status=202,
    public=True,
)
def request_password_reset():
    return auth.request_password_reset(body(PasswordResetRequestIn))


@api(
    "/auth/password-reset",
    "POST",
    "Choose a new password with the emailed link",
    body=PasswordResetIn,
    status=204,
    public=True,
)
def reset_password():
    return auth.reset_password(body(PasswordResetIn))


@api("/auth/me", "GET", "The logged-in seller", out=SellerOut)
def get_me():
    return auth.me(seller())


@api("/auth/me", "PATCH", "Change shop name, time zone or currency", body=SellerPatch, out=SellerUpdatedOut)
def patch_me():
    return auth.update_me(seller(), body(SellerPatch))


# --- customers ------------------------------------------------------------------------


@api("/customers", "GET", "List customers", out=CustomerOut, list_of=True, query=("q", "limit", "cursor"))
def list_customers():
    return customers.list_(seller(), query().get("q"), *page_args())


@api("/customers", "POST", "Add a customer", body=CustomerIn, out=CustomerOut, status=201)
def create_customer():
    return customers.create(seller(), body(CustomerIn))


@api("/customers/{customer_id}", "GET", "One customer", out=CustomerOut)
def get_customer(customer_id):
    return customers.get(seller(), customer_id)


@api("/customers/{customer_id}", "PATCH", "Edit a customer", body=CustomerPatch, out=CustomerOut)
def patch_customer(customer_id):
    return customers.update(seller(), customer_id, body(CustomerPatch))


@api("/customers/{customer_id}", "DELETE", "Delete a customer without orders", status=204)
def delete_customer(customer_id):
    return customers.delete(seller(), customer_id)


# --- items ----------------------------------------------------------------------------


@api("/items", "GET", "List items", out=ItemOut, list_of=True, query=("q", "limit", "cursor"))
def list_items():
    return items.list_(seller(), query().get("q"), *page_args())


@api("/items", "POST", "Add an item", body=ItemIn, out=ItemOut, status=201)
def create_item():
    return items.create(seller(), body(ItemIn))


@api("/items/{item_id}", "GET", "One item", out=ItemOut)
def get_item(item_id):
    return items.get(seller(), item_id)


@api("/items/{item_id}", "PATCH", "Edit an item", body=ItemPatch, out=ItemOut)
def patch_item(item_id):
    return items.update(seller(), item_id, body(ItemPatch))


@api("/items/{item_id}", "DELETE", "Delete an item no order uses", status=204)
def delete_item(item_id):
    return items.delete(seller(), item_id)


# --- orders ---------------------------------------------------------------------------

ORDER_FILTERS = ("customer_id", "batch", "payment_status", "fulfillment_status", "q", "from", "to")


@api(
    "/orders",
    "GET",
    "List orders, newest first",
    out=OrderOut,
    list_of=True,
    query=(*ORDER_FILTERS, "limit", "cursor"),
)
def list_orders():
    return orders.list_(seller(), query(), *page_args())


@api("/orders", "POST", "Create an order (Idempotency-Key supported)", body=OrderIn, out=OrderOut, status=201)
def create_order():
    order, created = orders.create(seller(), body(OrderIn), req().headers.get("idempotency-key"))
    return json_response(order, 201 if created else 200)


@api("/orders/bulk", "POST", "Set statuses or carrier on many orders", body=BulkIn, out=BulkOut)
def bulk_orders():
    return orders.bulk_update(seller(), body(BulkIn))


@api("/orders/{order_id}", "GET", "One order", out=OrderOut)
def get_order(order_id):
    return orders.get(seller(), order_id)


@api("/orders/{order_id}", "PATCH", "Change an order or its statuses", body=OrderPatch, out=OrderOut)
def patch_order(order_id):
    return orders.update(seller(), order_id, body(OrderPatch))


# --- buyer tracking ---
# Secret links must not be cached or leak through a Referer header: these headers go on
# every answer of these routes, errors (404, 400, 503) included.
PRIVATE_LINK_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@app.middleware("http")
def private_link_headers(event, get_response):
    response = get_response(event)
    path = getattr(event, "path", "") or ""
    if path.startswith("/track/") or "/tracking-link" in path:  # also /tracking-links[/{id}]
        response.headers.update(PRIVATE_LINK_HEADERS)
    return response


@api(
    "/customers/{customer_id}/tracking-link",
    "POST",
    "New secret tracking link for a customer; every older link of theirs stops working at once",
    out=tracking.TrackingLinkOut,
    status=201,
)
def create_tracking_link(customer_id):
    return tracking.issue_link(seller(), customer_id)


@api(
    "/customers/{customer_id}/tracking-links",
    "GET",
    "A customer's working tracking links (the seller's and emailed ones; never the token)",
    out=tracking.TrackingLinkInfoOut,
    list_of=True,
)
def list_tracking_links(customer_id):
    return tracking.list_links(seller(), customer_id)


@api(
    "/customers/{customer_id}/tracking-links/{link_id}",
    "DELETE",
    "Revoke one tracking link; it stops working at once",
    status=204,
)
def revoke_tracking_link(customer_id, link_id):
    return tracking.revoke_link(seller(), customer_id, link_id)


@api(
    "/track/request-link",
    "POST",
    "Email a buyer their tracking link (always 202)",
    body=tracking.LinkRequestIn,
    out=tracking.LinkRequestOut,
    status=202,
    public=True,
)
def request_tracking_link():
    return tracking.request_link(body(tracking.LinkRequestIn))


@api(
    "/track/{token}",
    "GET",
    "A buyer's orders at one shop, by secret link",
    out=tracking.TrackOut,
    public=True,
)
def track(token):
    return tracking.lookup(token)


# --- reports, export, import ------------------------------------------------------------


def csv_response(text: str, stem: str, headers: dict | None = None) -> Response:
    return Response(
        body=text,
        status_code=200,
        headers={
            "Content-Type": csv_format.CONTENT_TYPE,
            "Content-Disposition": csv_format.content_disposition(stem),
            **(headers or {}),
        },
    )


def report_format() -> tuple[bool, str]:
    """(as CSV?, header language) from ?format=json|csv and ?headers=zh|en."""
    q = query()
    fmt = q.get("format") or "json"
    if fmt not in ("json", "csv"):
        raise ValidationFailed("format must be json or csv", code="invalid_query")
    return fmt == "csv", csv_format.header_language(q.get("headers"))


def batch_report(build, to_csv, to_json=lambda report: report):
    """A report of the seller's orders, optionally of one `?batch=`, as JSON or CSV."""
    who = seller()
    as_csv, lang = report_format()
    batch = query().get("batch") or None
    report = build(who, batch)
    if as_csv:
        f = to_csv(report, batch, lang, clock.local_date(clock.now(), who.timezone))
        return csv_response(f.text, f.filename_stem)
    return to_json(report)


@api(
    "/reports/buyers",
    "GET",
    "Summary by buyer (JSON or CSV)",
    out=reports.BuyersReportOut,
    query=("batch", "format", "headers"),
)
def report_buyers():
    return batch_report(reports.buyers, reports.buyers_csv, reports.buyers_json)


@api(
    "/reports/items",
    "GET",
    "Purchase list: pending quantity per item",
    out=reports.ItemsReportOut,
    query=("batch", "format", "headers"),
)
def report_items():
    return batch_report(reports.items, reports.items_csv)


@api(
    "/reports/monthly",
    "GET",
    "Orders and money per month of a year",
    out=reports.MonthlyReportOut,
    query=("year", "format", "headers"),
)
def report_monthly():
    who = seller()
    as_csv, lang = report_format()
    report = reports.monthly(who, reports.parse_year(query().get("year"), who.timezone))
    if as_csv:
        f = reports.monthly_csv(report, lang)
        return csv_response(f.text, f.filename_stem)
    return reports.money_json(report)


@api(
    "/export/orders",
    "GET",
    "Every order as CSV or JSON (pages with ?limit= and ?cursor= when large)",
    query=("format", "headers", "limit", "cursor"),
)
def export_orders():
    who = seller()
    fmt, limit, cursor = exports.parse_args(query())
    out = exports.orders(who, fmt, limit, cursor, csv_format.header_language(query().get("headers")))
    extra = {"X-Next-Cursor": out.next_cursor} if out.next_cursor else {}
    if fmt == "csv":
        return csv_response(out.body, exports.filename_stem(who), extra)
    return Response(body=out.body, status_code=200, headers={**JSON_HEADERS, **extra})


@api(
    "/import/orders",
    "POST",
    "Import orders from CSV: all rows or none (?dry_run=true validates only)",
    out=imports.ImportOut,
    status=201,
    query=("dry_run",),
    content_type="text/csv",
)
def import_orders():
    who = seller()
    dry = (query().get("dry_run") or "false").lower()
    if dry not in ("true", "false", "1", "0"):
        raise ValidationFailed("dry_run must be true or false", code="invalid_query")
    result = imports.run(who, req().raw_body, dry_run=dry in ("true", "1"))
    return json_response(result, 200 if result["dry_run"] else 201)
