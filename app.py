"""The Lambda handler's module: the Chalice `app` and its route table, nothing else.

Each package declares its routes in `chalicelib/<package>/routes.py` with
`platform.web.api` (how a route is declared, authenticated, documented and answered:
chalicelib/platform/web.py); a route parses the request, calls one function of its
package and returns the result. Importing a routes module registers its routes."""

from __future__ import annotations

# isort: off
# This order is the order of ROUTES, of the OpenAPI document's paths and of Chalice's
# route table (so of `chalice package`'s API definition): keep it.
from chalicelib.platform import routes as platform_routes
from chalicelib.accounts import routes as accounts_routes
from chalicelib.buyers import routes as buyers_routes
from chalicelib.catalog import routes as catalog_routes
from chalicelib.sales import routes as sales_routes
from chalicelib.money import routes as money_routes
from chalicelib.shipping import routes as shipping_routes
from chalicelib.tracking import routes as tracking_routes
from chalicelib.reporting import routes as reporting_routes
from chalicelib.notifications import routes as notifications_routes

# isort: on
from chalicelib.platform.web import ROUTES, S3_HANDLERS, SCHEDULES, app

# Scheduled Lambdas (platform.web.every): their handler is `app.<name>`.
close_due_forms = SCHEDULES["close_due_forms"]
# A photo's file arrived in the photo bucket (platform.web.on_upload; catalog/routes.py):
# its images are made. None where PHOTO_BUCKET is unset (`make run` makes them in its
# upload route) and in `chalice package` (docs/deploy.md, "Photos").
make_photo_images = S3_HANDLERS.get("make_photo_images")

ROUTE_MODULES = (
    platform_routes,
    accounts_routes,
    buyers_routes,
    catalog_routes,
    sales_routes,
    money_routes,
    shipping_routes,
    tracking_routes,
    reporting_routes,
    notifications_routes,
)

__all__ = ["ROUTES", "ROUTE_MODULES", "app", "close_due_forms", "make_photo_images"]
