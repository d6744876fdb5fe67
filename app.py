"""HTTP routes only: parse the request, call one function in chalicelib, return its result."""

from __future__ import annotations

import functools
import json
import logging
import os

from chalice import Chalice, CORSConfig, Response
from pymongo.errors import PyMongoError

from chalicelib import auth, customers, items, orders
from chalicelib.db import UNAVAILABLE_ERRORS, ping
from chalicelib.errors import DomainError, error_body, to_http
from chalicelib.listing import parse_limit
from chalicelib.models import (
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
    SellerOut,
    SellerPatch,
    SignupIn,
    SignupOut,
)
from chalicelib.openapi import RouteDoc, build
from chalicelib.payload import parse_body

app = Chalice(app_name="personal-shopper")
app.log.setLevel(logging.INFO)
app.api.cors = CORSConfig(
    allow_origin=os.environ.get("CORS_ORIGIN", "*"),
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
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


def req():
    return app.current_request


def seller() -> auth.Principal:
    return auth.authenticate(req().headers.get("authorization"))


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


@api("/auth/login", "POST", "Log in", body=LoginIn, out=LoginOut, public=True)
def login():
    return auth.login(body(LoginIn))


@api("/auth/me", "GET", "The logged-in seller", out=SellerOut)
def get_me():
    return auth.me(seller())


@api("/auth/me", "PATCH", "Change shop name, time zone or currency", body=SellerPatch, out=SignupOut)
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
