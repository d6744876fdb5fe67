"""HTTP routes only: parse the request, call one function in chalicelib, return its result.

How a route is declared, authenticated, documented and answered: chalicelib/platform/web.py. A
route that is not `public=True` gets the caller (`who`, an auth Principal) first."""

from __future__ import annotations

from chalicelib.accounts import auth
from chalicelib.buyers import customers
from chalicelib.catalog import batches, items
from chalicelib.money import payments, profit
from chalicelib.platform.db import ping
from chalicelib.platform.models import (
    AcceptedOut,
    BatchOut,
    BatchPatch,
    BatchPath,
    BulkIn,
    BulkOut,
    BuyerPaymentIn,
    BuyersReportOut,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    ExportQuery,
    FormIn,
    FormLinkOut,
    FormOrderIn,
    FormOrderOut,
    FormOut,
    FormPatch,
    HealthOut,
    ImportOut,
    ImportQuery,
    ItemIn,
    ItemOut,
    ItemPatch,
    ItemsReportOut,
    LinkRequestIn,
    ListQuery,
    LoginIn,
    LoginOut,
    MonthlyQuery,
    MonthlyReportOut,
    OrderIn,
    OrderOut,
    OrderPatch,
    OrderQuery,
    ParcelIn,
    ParcelOut,
    ParcelPatch,
    ParcelQuery,
    PasswordChangeIn,
    PasswordResetIn,
    PasswordResetRequestIn,
    PaymentExportQuery,
    PaymentIn,
    PaymentOut,
    PaymentQuery,
    ProfitQuery,
    ProfitReportOut,
    PublicFormOut,
    RefreshIn,
    RejectIn,
    ReportQuery,
    SellerOut,
    SellerPatch,
    SellerUpdatedOut,
    SignupIn,
    SignupOut,
    SlipQuery,
    TrackingLinkInfoOut,
    TrackingLinkOut,
    TrackOut,
    TrackPaymentOut,
)
from chalicelib.platform.openapi import build
from chalicelib.platform.web import (
    ROUTES,
    api,
    app,
    body,
    client_address,
    header,
    json_response,
    path_model,
    query,
    raw_body,
)
from chalicelib.reporting import reports
from chalicelib.sales import exports, forms, imports, orders
from chalicelib.shipping import packing_slip, parcels
from chalicelib.tracking import tracking

__all__ = ["ROUTES", "app"]

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


@api(
    "/auth/signup",
    "POST",
    "Create a seller account",
    body=SignupIn,
    out=SignupOut,
    status=201,
    public=True,
    also=(403,),
)
def signup():
    return auth.signup(body(SignupIn))


@api(
    "/auth/login",
    "POST",
    "Log in: a short-lived token and a refresh token",
    body=LoginIn,
    out=LoginOut,
    public=True,
    also=(401,),
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
    also=(401,),
)
def refresh_session():
    return auth.refresh(body(RefreshIn).refresh_token)


@api(
    "/auth/logout",
    "POST",
    "End the session of this refresh token",
    body=RefreshIn,
    status=204,
    public=True,
    also=(401,),
)
def logout():
    return auth.logout(body(RefreshIn).refresh_token)


@api(
    "/auth/password",
    "POST",
    "Change the password; every other session ends",
    body=PasswordChangeIn,
    status=204,
)
def change_password(who):
    return auth.change_password(who, body(PasswordChangeIn), client_address())


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
def get_me(who):
    return auth.me(who)


@api("/auth/me", "PATCH", "Change shop name, time zone or currency", body=SellerPatch, out=SellerUpdatedOut)
def patch_me(who):
    return auth.update_me(who, body(SellerPatch))


# --- customers ------------------------------------------------------------------------


@api("/customers", "GET", "List customers", out=CustomerOut, list_of=True, query=ListQuery)
def list_customers(who):
    return customers.search(who, query(ListQuery))


@api("/customers", "POST", "Add a customer", body=CustomerIn, out=CustomerOut, status=201)
def create_customer(who):
    return customers.create(who, body(CustomerIn))


@api("/customers/{customer_id}", "GET", "One customer", out=CustomerOut)
def get_customer(who, customer_id):
    return customers.get(who, customer_id)


@api("/customers/{customer_id}", "PATCH", "Edit a customer", body=CustomerPatch, out=CustomerOut)
def patch_customer(who, customer_id):
    return customers.update(who, customer_id, body(CustomerPatch))


@api("/customers/{customer_id}", "DELETE", "Delete a customer without orders", status=204)
def delete_customer(who, customer_id):
    return customers.delete(who, customer_id)


# --- items ----------------------------------------------------------------------------


@api("/items", "GET", "List items", out=ItemOut, list_of=True, query=ListQuery)
def list_items(who):
    return items.search(who, query(ListQuery))


@api("/items", "POST", "Add an item", body=ItemIn, out=ItemOut, status=201)
def create_item(who):
    return items.create(who, body(ItemIn))


@api("/items/{item_id}", "GET", "One item", out=ItemOut)
def get_item(who, item_id):
    return items.get(who, item_id)


@api("/items/{item_id}", "PATCH", "Edit an item", body=ItemPatch, out=ItemOut)
def patch_item(who, item_id):
    return items.update(who, item_id, body(ItemPatch))


@api("/items/{item_id}", "DELETE", "Delete an item no order uses", status=204)
def delete_item(who, item_id):
    return items.delete(who, item_id)


# --- orders ---------------------------------------------------------------------------


@api(
    "/orders",
    "GET",
    "List orders, newest first or as ?sort= says; the first page has total_count",
    out=OrderOut,
    list_of=True,
    total_count=True,
    query=OrderQuery,
)
def list_orders(who):
    return orders.search(who, query(OrderQuery))


@api(
    "/orders",
    "POST",
    "Create an order (Idempotency-Key supported: a retry gets the first order, 200)",
    body=OrderIn,
    out=OrderOut,
    status=201,
    also=(200,),
)
def create_order(who):
    order, created = orders.create(who, body(OrderIn), header("idempotency-key"))
    return json_response(order, 201 if created else 200)


@api("/orders/bulk", "POST", "Set statuses or carrier on many orders", body=BulkIn, out=BulkOut)
def bulk_orders(who):
    return orders.bulk_update(who, body(BulkIn))


@api("/orders/{order_id}", "GET", "One order", out=OrderOut)
def get_order(who, order_id):
    return orders.get(who, order_id)


@api("/orders/{order_id}", "PATCH", "Change an order or its statuses", body=OrderPatch, out=OrderOut)
def patch_order(who, order_id):
    return orders.update(who, order_id, body(OrderPatch))


# --- payments ---------------------------------------------------------------------------


@api(
    "/payments",
    "GET",
    "List payments, newest first (?customer_id=, ?status=)",
    out=PaymentOut,
    list_of=True,
    query=PaymentQuery,
)
def list_payments(who):
    return payments.search(who, query(PaymentQuery))


@api(
    "/payments",
    "POST",
    "Record a buyer's payment: confirmed, allocated to order_ids or oldest unpaid first (Idempotency-Key supported)",
    body=PaymentIn,
    out=PaymentOut,
    status=201,
    also=(200,),
)
def create_payment(who):
    payment, created = payments.record(who, body(PaymentIn), header("idempotency-key"))
    return json_response(payment, 201 if created else 200)


@api("/payments/{payment_id}", "GET", "One payment", out=PaymentOut)
def get_payment(who, payment_id):
    return payments.get(who, payment_id)


@api("/payments/{payment_id}/confirm", "POST", "Confirm a payment the buyer reported", out=PaymentOut)
def confirm_payment(who, payment_id):
    return payments.confirm(who, payment_id)


@api(
    "/payments/{payment_id}/reject",
    "POST",
    "Reject a payment the buyer reported",
    body=RejectIn,
    out=PaymentOut,
)
def reject_payment(who, payment_id):
    return payments.reject(who, payment_id, body(RejectIn).reason)


@api(
    "/payments/{payment_id}/void",
    "POST",
    "Void a confirmed payment: its money leaves the orders",
    out=PaymentOut,
)
def void_payment(who, payment_id):
    return payments.void(who, payment_id)


# --- parcels --------------------------------------------------------------------------


@api(
    "/parcels",
    "GET",
    "List parcels, newest first (?customer_id=, ?status=)",
    out=ParcelOut,
    list_of=True,
    query=ParcelQuery,
)
def list_parcels(who):
    return parcels.search(who, query(ParcelQuery))


@api(
    "/parcels",
    "POST",
    "Pack a buyer's orders in a parcel: they are shipped today (Idempotency-Key supported)",
    body=ParcelIn,
    out=ParcelOut,
    status=201,
    also=(200,),
)
def create_parcel(who):
    parcel, created = parcels.create(who, body(ParcelIn), header("idempotency-key"))
    return json_response(parcel, 201 if created else 200)


@api("/parcels/ready", "GET", "Per buyer, the orders bought and not yet in a parcel, with the balance")
def parcels_ready(who):
    return parcels.ready(who)


@api(
    "/parcels/{parcel_id}/packing-slip",
    "GET",
    "The parcel's packing slip: printable HTML in the shop's language (?prices=false, ?size=label)",
    query=SlipQuery,
)
def parcel_packing_slip(who, parcel_id):
    params = query(SlipQuery)
    return packing_slip.render(who, parcel_id, prices=params.prices, label=params.size == "label")


@api("/parcels/{parcel_id}", "GET", "One parcel", out=ParcelOut)
def get_parcel(who, parcel_id):
    return parcels.get(who, parcel_id)


@api(
    "/parcels/{parcel_id}",
    "PATCH",
    "Change a parcel: tracking number, carrier, fee, recipient, note; status delivered or returned",
    body=ParcelPatch,
    out=ParcelOut,
)
def patch_parcel(who, parcel_id):
    return parcels.update(who, parcel_id, body(ParcelPatch))


@api(
    "/parcels/{parcel_id}",
    "DELETE",
    "Unpack a parcel before delivery: its orders go back to purchased",
    status=204,
)
def delete_parcel(who, parcel_id):
    return parcels.delete(who, parcel_id)


# --- buyer tracking (web.PRIVATE_LINK_HEADERS on every answer) ------------------------


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


# --- order forms (團購表單) ------------------------------------------------------------


@api("/forms", "GET", "The seller's order forms, newest first", out=FormOut, list_of=True, query=ListQuery)
def list_forms(who):
    return forms.search(who, query(ListQuery))


@api(
    "/forms",
    "POST",
    "Publish an order form for a batch (the answer has its link)",
    body=FormIn,
    out=FormOut,
    status=201,
)
def create_form(who):
    return forms.create(who, body(FormIn))


@api("/forms/{form_id}", "GET", "One order form", out=FormOut)
def get_form(who, form_id):
    return forms.get(who, form_id)


@api(
    "/forms/{form_id}",
    "PATCH",
    "Edit an order form; closed: true ends it at once",
    body=FormPatch,
    out=FormOut,
)
def update_form(who, form_id):
    return forms.update(who, form_id, body(FormPatch))


@api("/forms/{form_id}/link", "POST", "A new link for the form (the old one stops working)", out=FormLinkOut)
def new_form_link(who, form_id):
    return forms.new_link(who, form_id)


@api(
    "/f/{token}", "GET", "An order form, by its public link (410 once closed)", out=PublicFormOut, public=True
)
def public_form(token):
    return forms.public(token)


@api(
    "/f/{token}/orders",
    "POST",
    "A buyer orders through a form (10 an hour per client; Idempotency-Key supported)",
    body=FormOrderIn,
    out=FormOrderOut,
    status=201,
    also=(200,),
    public=True,
)
def form_order(token):
    answer, created = forms.submit(token, body(FormOrderIn), client_address(), header("idempotency-key"))
    return json_response(answer, 201 if created else 200)


@api("/track/{token}", "GET", "A buyer's orders at one shop, by secret link", out=TrackOut, public=True)
def track(token):
    return tracking.lookup(token)


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
    payment, created = tracking.report_payment(token, body(BuyerPaymentIn), header("idempotency-key"))
    return json_response(payment, 201 if created else 200)


# --- reports, export, import ------------------------------------------------------------


@api(
    "/reports/buyers",
    "GET",
    "Summary by buyer (JSON or CSV)",
    out=BuyersReportOut,
    query=ReportQuery,
    csv=True,
)
def report_buyers(who):
    return reports.buyers_report(who, query(ReportQuery))


@api(
    "/reports/items",
    "GET",
    "Purchase list: pending quantity per item",
    out=ItemsReportOut,
    query=ReportQuery,
    csv=True,
)
def report_items(who):
    return reports.items_report(who, query(ReportQuery))


@api(
    "/reports/monthly",
    "GET",
    "Orders and money per month of a year",
    out=MonthlyReportOut,
    query=MonthlyQuery,
    csv=True,
)
def report_monthly(who):
    return reports.monthly_report(who, query(MonthlyQuery))


@api(
    "/reports/profit",
    "GET",
    "Revenue, cost, shipping fees, profit and margin per batch and per month (JSON or CSV)",
    out=ProfitReportOut,
    query=ProfitQuery,
    csv=True,
)
def report_profit(who):
    return profit.profit_report(who, query(ProfitQuery))


# --- batches (trips) --------------------------------------------------------------------


@api(
    "/batches",
    "GET",
    "Batches with their orders' count and total, rates and closed mark",
    out=BatchOut,
    array_of=True,
)
def list_batches(who):
    return batches.search(who)


@api("/batches/{name}", "PATCH", "Set a batch's exchange rates, note, closed", body=BatchPatch, out=BatchOut)
def update_batch(who, name):
    return batches.update(who, path_model(BatchPath, name=name).name, body(BatchPatch))


@api(
    "/export/orders",
    "GET",
    "Every order as CSV or JSON (pages with ?limit= and ?cursor= when large)",
    out=OrderOut,
    list_of=True,
    query=ExportQuery,
    csv=True,
)
def export_orders(who):
    return exports.orders(who, query(ExportQuery))


@api(
    "/export/payments",
    "GET",
    "Every payment as CSV or JSON, oldest first (?customer_id=, ?status=; pages with ?limit=)",
    out=PaymentOut,
    list_of=True,
    query=PaymentExportQuery,
    csv=True,
)
def export_payments(who):
    return exports.payments_file(who, query(PaymentExportQuery))


@api(
    "/import/orders",
    "POST",
    "Import orders from CSV: all rows or none (?dry_run=true validates only)",
    out=ImportOut,
    status=201,
    also=(200,),
    query=ImportQuery,
    content_type="text/csv",
)
def import_orders(who):
    params = query(ImportQuery)
    result = imports.run(who, raw_body(), dry_run=params.dry_run, skip_duplicates=params.skip_duplicates)
    return json_response(result, 200 if result["dry_run"] else 201)
