"""HTTP routes of `chalicelib/money/`: parse the request, call one function of the
package, return its result (declared with `platform.web.api`; app.py imports this module)."""

from __future__ import annotations

from chalicelib.money import charges, payments, profit, statements
from chalicelib.money.schemas import (
    ChargeIn,
    ChargeOut,
    ChargeQuery,
    CreditUseIn,
    CreditUseOut,
    OpenRowsOut,
    PaymentIn,
    PaymentOut,
    PaymentQuery,
    ProfitQuery,
    ProfitReportOut,
    RejectIn,
    StatementApplyIn,
    StatementApplyOut,
    StatementDismissIn,
    StatementDismissOut,
    StatementOut,
    StatementQuery,
    StatementSummaryOut,
)
from chalicelib.platform.web import XLSX_TYPE, api, body, header, json_response, query, raw_body

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


@api(
    "/payments/use-credit",
    "POST",
    "Spend a buyer's credit on order_ids/charge_ids, or on all their open ones oldest first (form orders held from credit included)",
    body=CreditUseIn,
    out=CreditUseOut,
)
def use_credit(who):
    return payments.apply_credit(who, body(CreditUseIn))


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


# --- bank statements (reconciliation) ---------------------------------------------------


@api(
    "/statements",
    "POST",
    "Upload a bank statement (CSV or xlsx, UTF-8 or Big5): its incoming rows with proposals (?filename=, ?mapping= JSON)",
    out=StatementOut,
    status=201,
    query=StatementQuery,
    content_type=("text/csv", XLSX_TYPE, "application/octet-stream"),
)
def upload_statement(who):
    params = query(StatementQuery)
    return statements.upload(who, raw_body(), params.filename, params.mapping)


@api(
    "/statements", "GET", "The bank statements uploaded, newest first", out=StatementSummaryOut, array_of=True
)
def list_statements(who):
    return statements.search(who)


@api(
    "/statements/open",
    "GET",
    "Every statement row not applied nor dismissed, across uploads, once each",
    out=OpenRowsOut,
)
def open_statement_rows(who):
    return statements.open_rows(who)


@api("/statements/{statement_id}", "GET", "One bank statement with its rows and proposals", out=StatementOut)
def get_statement(who, statement_id):
    return statements.get(who, statement_id)


@api(
    "/statements/{statement_id}/apply",
    "POST",
    "Apply rows: confirm the buyer's reported payment, or record a new one; a row is applied at most once",
    body=StatementApplyIn,
    out=StatementApplyOut,
)
def apply_statement_rows(who, statement_id):
    return statements.apply(who, statement_id, body(StatementApplyIn))


@api(
    "/statements/{statement_id}/dismiss",
    "POST",
    "Dismiss rows that are no buyer's money",
    body=StatementDismissIn,
    out=StatementDismissOut,
)
def dismiss_statement_rows(who, statement_id):
    return statements.dismiss(who, statement_id, body(StatementDismissIn))


# --- charges ----------------------------------------------------------------------------


@api(
    "/charges",
    "GET",
    "List charges (money owed that is no order line), newest first (?customer_id=, ?batch=, ?status=)",
    out=ChargeOut,
    list_of=True,
    query=ChargeQuery,
)
def list_charges(who):
    return charges.search(who, query(ChargeQuery))


@api(
    "/charges",
    "POST",
    "Charge a buyer (shipping, duty, packaging, adjustment, other): their credit pays it at once (Idempotency-Key supported)",
    body=ChargeIn,
    out=ChargeOut,
    status=201,
    also=(200,),
)
def create_charge(who):
    charge, created = charges.create(who, body(ChargeIn), header("idempotency-key"))
    return json_response(charge, 201 if created else 200)


@api("/charges/{charge_id}", "GET", "One charge", out=ChargeOut)
def get_charge(who, charge_id):
    return charges.get(who, charge_id)


@api(
    "/charges/{charge_id}/void",
    "POST",
    "Void a charge: the money on it goes back to the buyer's credit (again: no change)",
    out=ChargeOut,
)
def void_charge(who, charge_id):
    return charges.void_one(who, charge_id)


# --- reports --------------------------------------------------------------------------


@api(
    "/reports/profit",
    "GET",
    "Revenue, cost, shipping fees, profit and margin per batch and per month (JSON or CSV)",
    out=ProfitReportOut,
    query=ProfitQuery,
    csv=True,
    owner_only=True,  # costs and profit (issue 31)
)
def report_profit(who):
    return profit.profit_report(who, query(ProfitQuery))
