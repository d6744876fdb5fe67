"""HTTP routes of the platform: liveness, and the OpenAPI document of every route
(platform.web.ROUTES, filled as app.py imports the routes modules)."""

from __future__ import annotations

from chalicelib.platform.db import ping
from chalicelib.platform.openapi import build
from chalicelib.platform.schemas import HealthOut
from chalicelib.platform.web import ROUTES, api, json_response


@api("/health", "GET", "Liveness and database check", out=HealthOut, public=True)
def health():
    if ping():
        return {"status": "ok", "db": "ok"}
    return json_response({"status": "degraded", "db": "unavailable"}, 503)


@api("/openapi.json", "GET", "This OpenAPI document", public=True)
def openapi_document():
    return build(ROUTES, title="Personal shopper API", version="1.0.0")
