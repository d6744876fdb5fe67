"""The web edge: the Chalice app, how a route is declared (`api`), and the request and
response helpers routes use.

The only module that imports `chalice`: everything else under `chalicelib/` takes and
returns plain values and raises `errors.DomainError`, which `api()` maps to the
contract's error responses here, in one place. It knows no domain package (it is
platform): the routes modules of the packages import it.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from typing import TypeVar
from urllib.parse import unquote

from chalice import Chalice, CORSConfig, Rate, Response
from pydantic import BaseModel

from chalicelib.platform import blobs, bus, money, mongo, principal, roles
from chalicelib.platform.config import plain_settings
from chalicelib.platform.csv_format import CONTENT_TYPE as CSV_CONTENT_TYPE
from chalicelib.platform.csv_format import CsvFile, content_disposition
from chalicelib.platform.db import is_unavailable
from chalicelib.platform.errors import DomainError, error_body, framework_error_body, to_http
from chalicelib.platform.openapi import RouteDoc
from chalicelib.platform.pages import HtmlPage, JsonPage
from chalicelib.platform.payload import (
    check_no_nul_path,
    check_no_nul_query,
    parse_body,
    parse_query,
    validate,
)

M = TypeVar("M", bound=BaseModel)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

app = Chalice(app_name="personal-shopper")
app.log.setLevel(logging.INFO)
# Fixed at import: API Gateway answers preflight itself, with the origin `chalice package`
# read here (so this setting must not need a secret; see config.PlainSettings).
app.api.cors = CORSConfig(
    allow_origin=plain_settings().cors_origin,
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
    # Readable by the page's fetch(): CSV file names, export paging, retry hints.
    expose_headers=["Content-Disposition", "X-Next-Cursor", "Retry-After"],
    max_age=600,
)
# Bodies API Gateway passes through as bytes (base64 on the way): a bank statement's
# xlsx or octet-stream upload (a Big5 CSV is no UTF-8 text either: the page sends it as
# octet-stream). octet-stream is among Chalice's defaults; kept explicit here.
# multipart/form-data: a photo's file on `make run`'s local upload route (catalog/photos.py).
for _binary in XLSX_TYPE, "application/octet-stream", "multipart/form-data":
    if _binary not in app.api.binary_types:
        app.api.binary_types.append(_binary)
ROUTES: list[RouteDoc] = []
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
# Secret links must not be cached or leak through a Referer header: these headers go on
# every answer of the tracking routes, errors (404, 400, 503) included.
# A printable page: styles inline, nothing else loads or runs (names and items are
# escaped by the template; this is the second wall).
HTML_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
    "Cache-Control": "no-store",
}
PRIVATE_LINK_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


# --- declaring a route ----------------------------------------------------------------


def api(path: str, method: str, summary: str, **doc):
    """Register a route, document it, authenticate it and map every failure to the
    contract's errors. A route that is not `public=True` gets the caller's
    `Principal` as its first argument (a bad or missing token is a 401 before the
    route runs); path parameters follow as keywords."""
    route_doc = RouteDoc(path=path, method=method, summary=summary, **doc)
    ROUTES.append(route_doc)
    content_types = list(route_doc.content_types)

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(**path_params):
            try:
                _no_nul(path_params)
                # One unit of work: the events the route records run after its writes
                # (bus.py), whether it answers or raises.
                with bus.collecting():
                    if route_doc.public:
                        result = fn(**path_params)
                    else:
                        who = principal.authenticate(header("authorization"))
                        if not who.is_owner:
                            _staff_may(route_doc)
                        # Amounts typed as text may carry the shop currency's sign (NT$1,200).
                        with money.amounts_in(who.currency):
                            result = fn(who, **path_params)
                        if not who.is_owner:
                            result = _staff_view(result)
            except DomainError as exc:
                status, body = to_http(exc)
                wait = getattr(exc, "retry_after", None)
                return json_response(body, status, {"Retry-After": str(wait)} if wait else None)
            except mongo.PyMongoError as exc:
                if is_unavailable(exc):
                    app.log.warning("database unavailable on %s %s", method, path)
                    return json_response(
                        error_body(
                            "database_unavailable", "The database cannot be reached; try again shortly."
                        ),
                        503,
                        {"Retry-After": "5"},
                    )
                app.log.exception("database error on %s %s", method, path)
                return json_response(error_body("database_error", "The database refused the request."), 503)
            except Exception:
                app.log.exception("unexpected error on %s %s", method, path)
                return json_response(error_body("internal_error", "Something went wrong on our side."), 500)
            return to_response(result, route_doc.status)

        return app.route(path, methods=[method], content_types=content_types)(wrapper)

    return decorate


def _staff_may(route_doc: RouteDoc) -> None:
    """A staff member (issue 31): an `owner_only` route, or a JSON body that sets a cost,
    a rate or a profit anywhere, is 403 `forbidden_for_role` before the route runs."""
    if route_doc.owner_only:
        raise roles.forbidden()
    if route_doc.method in ("POST", "PUT", "PATCH") and route_doc.body is not None:
        try:
            sent = json.loads(raw_body() or "null")
        except (TypeError, ValueError):
            return  # not JSON: the route's own parsing answers 400
        if roles.sets_costs(sent):
            raise roles.forbidden()


def _staff_view(result):
    """A staff member's answer without costs, rates or profit (roles.COST_FIELDS)."""
    if isinstance(result, JsonPage):
        return JsonPage(
            json.dumps(roles.without_costs(json.loads(result.text)), ensure_ascii=False), result.next_cursor
        )
    if isinstance(result, (dict, list)):
        return roles.without_costs(result)
    return result  # a CSV download is not filtered: the ones with costs are owner_only


# The scheduled Lambdas by name: Chalice's handler string is `app.<name>`, so app.py
# names each one (the Lambda imports `app` and calls that attribute).
SCHEDULES: dict[str, object] = {}


def every(minutes: int, name: str):
    """Declare a scheduled Lambda (an EventBridge rule in `chalice package`'s template)
    that runs `fn()` every `minutes`, as one unit of work (its events run after its
    writes). Locally `make run` runs the same function on a timer (manage.py schedule)."""

    def decorate(fn):
        def handler(event):
            with bus.collecting():
                fn()

        handler.__name__ = name
        SCHEDULES[name] = app.schedule(Rate(minutes, unit=Rate.MINUTES), name=name)(handler)
        return fn

    return decorate


# The Lambdas S3 calls when a file arrives (on_upload), by name: `app.<name>`.
S3_HANDLERS: dict[str, object] = {}


def on_upload(prefix: str, name: str):
    """Declare the Lambda that S3 calls with `fn(key)` when a file arrives under `prefix` in
    the photo bucket (PHOTO_BUCKET, read when app.py is imported: `chalice deploy` loads it
    with the stage's environment and wires the bucket's notification). Not declared where
    no bucket is set (`make run`, whose upload route calls the same function itself)."""

    def decorate(fn):
        bucket = blobs.event_bucket()
        if bucket:

            def handler(event):
                with bus.collecting():
                    fn(event.key)  # Chalice's S3Event: the key URL-decoded

            handler.__name__ = name
            S3_HANDLERS[name] = app.on_s3_event(
                bucket=bucket, prefix=prefix, events=["s3:ObjectCreated:*"], name=name
            )(handler)
        return fn

    return decorate


def _no_nul(path_params: dict[str, str]) -> None:
    """A NUL in any path parameter or query parameter is a 400 before any route runs, so
    none reaches the database (payload.parse_json checks bodies, imports.read CSV cells)."""
    check_no_nul_path({name: unquote(value) for name, value in path_params.items()})
    params = app.current_request.query_params
    if params:
        check_no_nul_query({key: params.getlist(key) for key in params})


def to_response(result, status: int) -> Response:
    """What a route returned, as HTTP: a dict is JSON, None is 204, a CsvFile a download."""
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(body="", status_code=204)
    if isinstance(result, CsvFile):
        return csv_response(result)
    if isinstance(result, HtmlPage):
        return Response(body=result.text, status_code=200, headers=HTML_HEADERS)
    if isinstance(result, JsonPage):
        return Response(body=result.text, status_code=200, headers={**JSON_HEADERS, **_cursor(result)})
    return json_response(result, status)


# --- middlewares: answers the routes do not make themselves ---------------------------


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


@app.middleware("http")
def private_link_headers(event, get_response):
    response = get_response(event)
    path = getattr(event, "path", "") or ""
    # Secret links in the path: /track/{token}, /f/{token}, and the seller's link routes.
    if path.startswith(("/track/", "/f/")) or "/tracking-link" in path or path.endswith("/link"):
        response.headers.update(PRIVATE_LINK_HEADERS)
    return response


@app.middleware("http")
def server_timing(event, get_response):
    """With SERVER_TIMING on (the bench's API only), the app's own time on every answer,
    readable by the page's Resource Timing (Timing-Allow-Origin): bench/bench_frontend.py
    splits a list's time in the page into the server's and the rest (the dev server, the
    network, the browser's queue). Off elsewhere: exact times would tell accounts apart."""
    if not plain_settings().server_timing:
        return get_response(event)
    started = time.perf_counter()
    response = get_response(event)
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    response.headers["Timing-Allow-Origin"] = plain_settings().cors_origin
    return response


# --- reading the request ----------------------------------------------------------------


def header(name: str) -> str | None:
    return app.current_request.headers.get(name)


def raw_body() -> bytes | str | None:
    return app.current_request.raw_body


def body(model: type[M]) -> M:
    """The JSON body as `model` (400 with details when it does not fit)."""
    return parse_body(model, raw_body())


def path_model(model: type[M], **params: str) -> M:
    """Free-text path parameters (a batch name: "2026-12 東京") checked as `model`'s
    fields: 400 validation_error naming the parameter. Chalice passes them still
    percent-encoded (aws/chalice#511), as API Gateway's REST API does: decoded once here."""
    return validate(model, {name: unquote(value) for name, value in params.items()})


def query(model: type[M]) -> M:
    """The query string as `model` (400 `invalid_query`/`invalid_limit` with details)."""
    return parse_query(model, dict(app.current_request.query_params or {}))


def client_address() -> str:
    """The caller's address as API Gateway saw it (not a header a client could forge)."""
    return ((app.current_request.context or {}).get("identity") or {}).get("sourceIp") or "unknown"


# --- writing the response ---------------------------------------------------------------


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(body=text, status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def csv_response(file: CsvFile) -> Response:
    return Response(
        body=file.text,
        status_code=200,
        headers={
            "Content-Type": CSV_CONTENT_TYPE,
            "Content-Disposition": content_disposition(file.filename_stem),
            **_cursor(file),
        },
    )


def _cursor(page: CsvFile | JsonPage) -> dict:
    """An export page names the next one in a header (the CSV body has no room for it)."""
    return {"X-Next-Cursor": page.next_cursor} if page.next_cursor else {}
