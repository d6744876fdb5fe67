"""HTTP routes of `chalicelib/tracking/`: parse the request, call one function of the
package, return its result (declared with `platform.web.api`; app.py imports this module)."""

from __future__ import annotations

from chalicelib.money.schemas import BuyerPaymentIn, TrackPaymentOut
from chalicelib.platform.money import amounts_in
from chalicelib.platform.schemas import AcceptedOut
from chalicelib.platform.web import api, body, header, json_response
from chalicelib.tracking import tracking
from chalicelib.tracking.schemas import (
    LinkRequestIn,
    NoticesOptOutIn,
    NoticesOptOutOut,
    TrackingLinkInfoOut,
    TrackingLinkOut,
    TrackOut,
)

# --- buyer tracking (web.PRIVATE_LINK_HEADERS on every answer) ------------------------


@api(
    "/customers/{customer_id}/tracking-link",
    "GET",
    "The customer's current seller link, the same on every call (made on the first)",
    out=TrackingLinkOut,
)
def current_tracking_link(who, customer_id):
    return tracking.current_link(who, customer_id)


@api(
    "/customers/{customer_id}/tracking-link",
    "POST",
    "New secret tracking link for a customer; every older link of theirs stops working at once",
    out=TrackingLinkOut,
    status=201,
)
def create_tracking_link(who, customer_id):
    return tracking.issue_link(who, customer_id)


@api(
    "/customers/{customer_id}/tracking-links",
    "GET",
    "A customer's working tracking links (the seller's and emailed ones; never the token)",
    out=TrackingLinkInfoOut,
    list_of=True,
)
def list_tracking_links(who, customer_id):
    return tracking.list_links(who, customer_id)


@api(
    "/customers/{customer_id}/tracking-links/{link_id}",
    "DELETE",
    "Revoke one tracking link; it stops working at once",
    status=204,
)
def revoke_tracking_link(who, customer_id, link_id):
    return tracking.revoke_link(who, customer_id, link_id)


@api(
    "/track/request-link",
    "POST",
    "Email a buyer their tracking link (always 202)",
    body=LinkRequestIn,
    out=AcceptedOut,
    status=202,
    public=True,
)
def request_tracking_link():
    return tracking.request_link(body(LinkRequestIn))


# --- the buyer's page (public, by secret link) ----------------------------------------


@api("/track/{token}", "GET", "A buyer's orders at one shop, by secret link", out=TrackOut, public=True)
def track(token):
    return tracking.lookup(token)


@api(
    "/track/{token}/notices-opt-out",
    "POST",
    "The buyer switches batch notices by email off (or on again) from their link",
    body=NoticesOptOutIn,
    out=NoticesOptOutOut,
    public=True,
)
def notices_opt_out(token):
    return tracking.notices_opt_out(token, body(NoticesOptOutIn).opt_out)


@api(
    "/track/{token}/payments",
    "POST",
    "The buyer reports a transfer (5 a day per link; Idempotency-Key supported)",
    body=BuyerPaymentIn,
    out=TrackPaymentOut,
    status=201,
    also=(200,),
    public=True,
)
def report_payment(token):
    # NT$1,200 typed by the buyer is in the link's shop currency: read only when a sign needs it.
    with amounts_in(lambda: tracking.shop_currency(token)):
        data = body(BuyerPaymentIn)
    payment, created = tracking.report_payment(token, data, header("idempotency-key"))
    return json_response(payment, 201 if created else 200)
