"""HTTP routes of `chalicelib/sales/`: parse the request, call one function of the
package, return its result (declared with `platform.web.api`; app.py imports this module)."""

from __future__ import annotations

from chalicelib.catalog.schemas import BatchPath
from chalicelib.money.schemas import ChargeOut, PaymentOut
from chalicelib.platform.schemas import ListQuery
from chalicelib.platform.web import (
    api,
    body,
    client_address,
    every,
    header,
    json_response,
    path_model,
    query,
    raw_body,
)
from chalicelib.sales import closing, exports, forms, imports, orders, shopping, waitlist
from chalicelib.sales.schemas import (
    BulkIn,
    BulkMatchIn,
    BulkMatchOut,
    BulkOut,
    ChargeExportQuery,
    ExportQuery,
    FormIn,
    FormLinkOut,
    FormOrderIn,
    FormOrderOut,
    FormOut,
    FormPatch,
    ImportOut,
    ImportQuery,
    OrderIn,
    OrderOut,
    OrderPatch,
    OrderQuery,
    PaymentExportQuery,
    PublicFormOut,
    PurchaseIn,
    PurchaseOut,
    ShoppingLine,
    ShoppingListOut,
    WaitlistIn,
    WaitlistJoinOut,
    WaitlistOut,
)

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


@api(
    "/orders/bulk/matching",
    "POST",
    "Set a status on every order matching the filters of GET /orders (forward only, as bulk)",
    body=BulkMatchIn,
    out=BulkMatchOut,
)
def bulk_matching_orders(who):
    return orders.bulk_update_matching(who, body(BulkMatchIn))


@api("/orders/{order_id}", "GET", "One order", out=OrderOut)
def get_order(who, order_id):
    return orders.get(who, order_id)


@api("/orders/{order_id}", "PATCH", "Change an order or its statuses", body=OrderPatch, out=OrderOut)
def patch_order(who, order_id):
    return orders.update(who, order_id, body(OrderPatch))


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


@api(
    "/f/{token}/waitlist",
    "POST",
    "A buyer joins a sold-out item's waitlist (409 in_stock while it can be ordered)",
    body=WaitlistIn,
    out=WaitlistJoinOut,
    status=201,
    public=True,
)
def join_waitlist(token):
    return json_response(waitlist.join(token, body(WaitlistIn), client_address()), 201)


@api(
    "/forms/{form_id}/waitlist",
    "GET",
    "The form's waitlist, oldest first, with each entry's status",
    out=WaitlistOut,
)
def form_waitlist(who, form_id):
    return waitlist.queue(who, form_id)


@api(
    "/forms/{form_id}/waitlist/{entry_id}",
    "DELETE",
    "Skip a waiting buyer (kept, shown as skipped)",
    status=204,
)
def skip_waitlist(who, form_id, entry_id):
    return waitlist.skip(who, form_id, entry_id)


# --- export, import -------------------------------------------------------------------


@api(
    "/export/orders",
    "GET",
    "Every order as CSV or JSON (pages with ?limit= and ?cursor= when large)",
    out=OrderOut,
    list_of=True,
    query=ExportQuery,
    csv=True,
    owner_only=True,  # costs and profit (issue 31)
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
    "/export/charges",
    "GET",
    "Every charge (shipping, duty...) as CSV or JSON, oldest first (?customer_id=, ?batch=, ?status=)",
    out=ChargeOut,
    list_of=True,
    query=ChargeExportQuery,
    csv=True,
)
def export_charges(who):
    return exports.charges_file(who, query(ChargeExportQuery))


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


# Not a route: the scheduled close of order forms and their reminders (a Lambda every 5
# minutes; docs/api.md "Order forms", the minimum and the scheduled close).
@every(5, "close_due_forms")
def close_due_forms() -> None:
    closing.run()


# --- the shopping trip (採買) -----------------------------------------------------------


def _batch(name: str) -> str:
    return path_model(BatchPath, name=name).name


@api(
    "/batches/{name}/shopping-list",
    "GET",
    "The batch's shopping list: per item and variant, units wanted, bought and short",
    out=ShoppingListOut,
)
def shopping_list(who, name):
    return shopping.shopping_list(who, _batch(name))


@api(
    "/batches/{name}/purchases",
    "POST",
    "Record units bought (and their unit cost): a line they cover becomes purchased",
    body=PurchaseIn,
    out=PurchaseOut,
    status=201,
)
def record_purchase(who, name):
    return json_response(shopping.record_purchase(who, _batch(name), body(PurchaseIn)), 201)


@api(
    "/batches/{name}/purchases/{purchase_id}",
    "DELETE",
    "Undo a purchase recorded by mistake (while its units are not given to orders)",
    out=ShoppingLine,
)
def undo_purchase(who, name, purchase_id):
    return shopping.undo_purchase(who, _batch(name), purchase_id)
