"""The small set of domain errors, their one mapping to HTTP, and the complete list of
error codes the API can answer with.

Domain code raises these; `web.api()` turns them into responses via `to_http`, so no
other module under `chalicelib/` needs the web framework.

`ERROR_CODES` (the `error.code` of a response, and the `error` of a bulk failure) and
`DETAIL_CODES` (the `code` of each entry of `error.details`) are the one machine-readable
list of codes: pages translate by these, not by the English `message`, and
tests/unit/test_error_codes.py fails when the code raises one that is not listed here.
"""

from __future__ import annotations

import re
from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"
    # Attributes the answer carries next to `error` (a statement's `headers`, for the
    # page to map them): to_http copies them.
    answer_fields: tuple[str, ...] = ()

    def __init__(self, message: str, *, code: str | None = None, details: list | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []


class ValidationFailed(DomainError):
    status, code = 400, "validation_error"


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class Gone(DomainError):
    status, code = 410, "gone"


class PayloadTooLarge(DomainError):
    status, code = 413, "payload_too_large"


class RateLimited(DomainError):
    status, code = 429, "rate_limited"


class Unavailable(DomainError):
    """503: try again after `retry_after` seconds (web.py sends it as Retry-After)."""

    status, code = 503, "database_unavailable"

    def __init__(self, message: str, *, retry_after: int = 5, code: str | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Invalid(ValueError):
    """A value refused by one of our checks, with a stable detail code (DETAIL_CODES).

    A ValueError, so pydantic validators and the import's cell parsers take it like any
    other; `payload.validation_details` reads `code` (and `field`, for a model-level
    check about one field) from it."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def error_body(code: str, message: str, details: list | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def to_http(exc: DomainError) -> tuple[int, dict[str, Any]]:
    body = error_body(exc.code, exc.message, exc.details)
    return exc.status, body | {name: getattr(exc, name) for name in exc.answer_fields}


def framework_error_body(code: str, message: str) -> dict[str, Any]:
    """Errors the web framework answers by itself (415, 405) in the contract's shape:
    `UnsupportedMediaType` becomes `unsupported_media_type`."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", code.removesuffix("Error")).lower()
    return error_body(snake, message)


# --- every code, with its meaning (docs/api.md, "Error codes") --------------------------

ERROR_CODES: dict[str, tuple[int, str]] = {
    # 400: the request is wrong; details say where
    "validation_error": (400, "the JSON body does not fit: each detail names a field and its reason"),
    "invalid_json": (400, "the body is not a UTF-8 JSON object (or too deep, NaN, a huge number)"),
    "invalid_query": (400, "a query parameter is wrong: each detail names the parameter"),
    "invalid_limit": (400, "?limit= is not a whole number in range"),
    "invalid_cursor": (400, "?cursor= is malformed or belongs to another list or sort order"),
    "invalid_idempotency_key": (400, "the Idempotency-Key header is not 1-200 visible ASCII characters"),
    "weak_password": (400, "the new password is too easy to guess"),
    "wrong_password": (400, "the current password is wrong (password change)"),
    "invalid_reset_token": (400, "the password reset link is used, replaced or expired"),
    "invalid_invite_token": (400, "the member invite link is unknown, used or withdrawn"),
    "invalid_csv": (400, "the import file is not UTF-8 CSV, empty or has no data rows"),
    "too_many_rows": (400, "the import file has more than 5,000 data rows"),
    "invalid_columns": (400, "the import file names an unknown column or one column twice"),
    "missing_columns": (400, "the import file lacks a required column"),
    "invalid_rows": (400, "import rows are invalid: each detail names the row, field and reason"),
    # bank statements (chalicelib/money/statement_file.py; docs/api.md "Reading a statement")
    "statement_columns": (
        400,
        "the statement's date or amount column is not found: the answer lists `headers`, `missing`",
    ),
    "statement_encoding": (400, "the statement is neither UTF-8, Big5 (CP950) nor UTF-16 text"),
    "statement_format": (400, "the statement is not CSV or .xlsx (an old .xls, a PDF): export CSV or .xlsx"),
    "statement_formula": (400, "the statement has formula cells: details name each cell (C7)"),
    "statement_too_large": (400, "the statement is over 5 MB, 5,000 rows or unpacks too large (.xlsx)"),
    "statement_empty": (400, "the statement has no rows"),
    "statement_rows": (400, "statement cells cannot be read: each detail names the row, column and reason"),
    "invalid_mapping": (
        400,
        "?mapping= is not a JSON object of our fields to the file's headers: details name it",
    ),
    # 401: who is calling
    "unauthorized": (401, "no token, or the token is not valid"),
    "token_expired": (401, "the access token has expired: refresh it"),
    "invalid_credentials": (401, "email or password is wrong"),
    "invalid_refresh_token": (401, "the refresh token is unknown, ended or expired: log in"),
    "refresh_token_reused": (401, "a spent refresh token came back: the session ended, log in"),
    "member_ended": (401, "the member was removed or their role changed: log in again"),
    # 403
    "forbidden": (403, "not allowed"),
    "signup_disabled": (403, "sign-up is closed on this site"),
    "forbidden_for_role": (403, "the member's role may not do this (staff: members, settings, costs)"),
    # 404
    "not_found": (404, "no such thing for this seller (also a malformed id)"),
    # 405 / 415: answered by the web framework itself
    "method_not_allowed": (405, "the route has no such method"),
    "unsupported_media_type": (415, "wrong Content-Type (the import takes text/csv, the rest JSON)"),
    # 409: the request is fine but the data does not allow it
    "conflict": (409, "the data does not allow this"),
    "email_taken": (409, "an account with this email already exists"),
    "member_joined": (409, "the member has joined: no invite to send again"),
    "duplicate_email": (409, "a customer with this email already exists"),
    "customer_has_orders": (409, "the customer has orders: cancel them instead of deleting"),
    "customer_has_payments": (409, "the customer has payments in the ledger: they cannot be deleted"),
    "customer_has_charges": (409, "the customer has charges in the ledger: they cannot be deleted"),
    "item_in_use": (409, "orders use this item: it cannot be deleted"),
    "too_many_photos": (409, "the item has its 8 photos: remove one first"),
    "variant_required": (400, "the item comes in variants: the order needs a variant_id"),
    "variant_in_use": (409, "live orders use a variant the edit removes: cancel them first"),
    "stock_below_zero": (409, "the adjustment would take the stock below 0"),
    "stock_not_tracked": (409, "the stock adjusted is not tracked (null): set it first"),
    "in_stock": (409, "the item can be ordered now: a waitlist takes only a sold-out item"),
    "waitlist_served": (409, "the waitlist entry became an order already: it cannot be skipped"),
    "waitlist_closed": (409, "the form's close ended the waitlist entry already: it cannot be skipped"),
    "insufficient_stock": (409, "not enough stock; details name the item, what is asked and what is left"),
    "order_cancelled": (409, "the order is cancelled: its fulfillment, quantity and prices are final"),
    "invalid_transition": (409, "this status change is not allowed (in bulk: only forward)"),
    "concurrent_update": (409, "the order changed while saving: read it again and retry"),
    "busy": (409, "the record is being changed by another request: try again"),
    "idempotency_key_in_use": (409, "a request with this Idempotency-Key is still being processed"),
    "order_not_this_buyers": (409, "a listed order is not this buyer's (parcels): details name it"),
    "order_in_parcel": (409, "the order is in a parcel: change the parcel (deliver, return, delete) instead"),
    "parcel_delivered": (409, "a delivered parcel cannot be deleted"),
    "ship_to_differs": (
        409,
        "no recipient given and orders of the parcel were typed with other delivery details (ship_to)",
    ),
    "order_not_payable": (409, "a listed order is another buyer's, cancelled or refunded: details name it"),
    "charge_not_payable": (409, "a listed charge (charge_ids) is another buyer's or void: details name it"),
    "order_has_payments": (409, "the order has its buyer's payments: void them before changing the buyer"),
    "payment_not_reported": (409, "only a payment the buyer reported can be confirmed or rejected"),
    "payment_not_confirmed": (409, "only a confirmed payment can be voided"),
    "amount_mismatch": (409, "the reported payment's amount is not the bank statement row's"),
    "batch_closed": (409, "the batch is closed: reopen it to add orders or change its rates"),
    # the shopping trip (sales/shopping.py; docs/api.md "The shopping trip")
    "shortage_exceeds_bought": (
        409,
        "the kept orders need more units than were bought: details say how many",
    ),
    "purchase_in_use": (409, "the purchase's units are already given to orders: it cannot be undone"),
    "purchase_stock_sold": (
        409,
        "the units the purchase put into stock were sold since: undoing it would take the stock below 0",
    ),
    "over_limit": (409, "an order form line is above the item's limit per buyer: details name the line"),
    "item_unavailable": (409, "an order form's item was deleted: details name the line"),
    # 410
    "gone": (410, "this is no longer available"),
    "invite_expired": (410, "the member invite link is older than 7 days: the owner invites again"),
    "form_closed": (410, "the order form is closed, or past its closing time"),
    "duplicate_rows": (409, "import rows match existing orders: choose skip_duplicates=true or false"),
    # 413
    "payload_too_large": (413, "the request body is too large"),
    "export_too_large": (413, "the export does not fit one response: page it with ?limit="),
    # 429
    "rate_limited": (429, "too many attempts: wait and try again"),
    # 5xx
    "internal_error": (500, "a bug on our side"),
    "database_unavailable": (503, "the database cannot be reached: retry after Retry-After seconds"),
    "database_error": (503, "the database refused the request"),
    "photos_unavailable": (503, "no photo storage is set up (PHOTO_BUCKET in AWS, BLOB_DIR locally)"),
}

# The `code` of each entry in `error.details` (the reason; `field` says where). Our own
# checks, then the pydantic v2 error types our models can give (their names are stable
# within pydantic 2). A detail whose reason has no code of its own is `invalid`.
DETAIL_CODES: dict[str, str] = {
    # money
    "not_a_number": "must be a number",
    "not_an_amount": "text that is not an amount (1,200, １２００, NT$1200 and 1200元 are read; 1.200,50 or another currency's sign are not)",
    "negative": "must not be negative",
    "too_large": "is above the largest amount (100,000,000)",
    "too_many_decimals": "more decimals than allowed (2 for money; a cost: its currency's, JPY none)",
    # costs and batches
    "unknown_currency": "not an ISO 4217 currency in use today",
    "unsupported_currency": "a shop currency needs at most 2 decimals (not KWD, BHD…)",
    "not_positive": "must be above 0 (an exchange rate, a form's flat shipping fee)",
    "shop_currency": "the shop currency has no rate: it is always 1",
    "batch_closed": "the batch is closed",
    # batch notices (chalicelib/notifications/notices.py)
    "no_recipients": "no buyer has a live order in this batch (field: batch)",
    "not_a_recipient": "not a buyer this notice went to (field: customer_ids; the message names the id)",
    "message_required": "a custom notice needs a message; a message given may not be empty",
    # order forms (field: lines[i].item_id / lines[i].quantity, phone, address)
    "duplicate_item": "an item is listed twice",
    "not_found": "no such item of this seller (items[i].item_id of a form)",
    "not_in_form": "the item is not on this form",
    "over_limit": "more than the item's limit per buyer (max_per_buyer, already)",
    "item_unavailable": "the item was deleted",
    "required_by_form": "this form asks for it",
    "fee_not_allowed": "only a flat shipping rule takes a fee (field: shipping.fee)",
    "extend_days_not_allowed": "only on_min_unmet extend takes extend_days (field: extend_days)",
    # bodies
    "unknown_field": "the body has a field the route does not take (a statement's ?mapping=: not a row field)",
    "nothing_to_update": "a PATCH body must change something (field: body)",
    "cannot_be_null": "this field cannot be null",
    "exactly_one_of": "give exactly one of these fields (customer_id/buyer_email/buyer, item_name/item_id)",
    # buyers (chalicelib/rules/contacts.py)
    "contact_required": "a buyer needs an email, a phone or a LINE ID (field: email)",
    "remind_needs_email": "reminders go by email: a buyer who asks for them gives an email (field: remind)",
    "invalid_phone": "not a phone number (a number without a country code is read as Taiwanese)",
    "invalid_line_id": "a LINE ID is 1-100 characters",
    "same_customer": "a customer cannot be merged into itself (field: from_customer_id)",
    "invalid_email": "not a valid email address",
    "unknown_timezone": "not an IANA time zone name",
    "invalid_date": "not a date (YYYY-MM-DD) or time that can be read",
    "price_required": "unit_price is needed for an item that is not in the item list",
    # variants (issue 30; field: variant_id, lines[i].variant_id, variants.N.values…)
    "variant_required": "the item comes in variants: choose one (field: variant_id)",
    "unknown_variant": "no such variant of this item (or the item has none)",
    "variant_values": "a variant needs one value of each option, from the option's values",
    "duplicate": "listed twice: an option name, an option's value, two variants alike (the field says which)",
    "stock_per_variant": "an item with variants keeps stock per variant (field: stock)",
    "not_zero": "must not be 0 (field: delta)",
    # query parameters
    "not_an_integer": "must be a whole number",
    "out_of_range": "outside the allowed range (the message says which)",
    "not_a_boolean": "must be true or false",
    "invalid_id": "not an id (24 hex characters)",
    "date_out_of_range": "a date or time outside the allowed years",
    "nul_character": "text holds a NUL character (\\u0000), which cannot be stored",
    # CSV import (each with its `row`)
    "not_a_whole_number": "quantity must be a whole number ≥ 1",
    "unknown_status": "not a known payment or fulfillment status",
    "only_for_remitted": "remitted_at is only for a remitted order",
    "only_for_shipped": "shipped_date is only for a shipped or delivered order",
    "total_mismatch": "total_amount is not quantity × unit_price + shipping_fee",
    "too_many_cells": "the row has more cells than the header has columns",
    "unknown_column": "the header names a column the import does not know",
    "required_column": "a required column is missing from the header",
    "insufficient_stock": "the rows ask for more of an item than is in stock (item_name, needed, in_stock)",
    "stock_short_for_change": "a change of an order needs more units than are in stock (item_name, needed: the extra units, in_stock)",
    "duplicate_row": "the row matches an existing order (order_no)",
    "paid_above_total": "paid_amount is more than the row's total_amount",
    "status_mismatch": "payment_status contradicts paid_amount (unpaid with money, remitted with less)",
    # bank statements (each with its `row` and `cell`, or the `field` of a missing column)
    "missing_column": "the statement's header has no column for this field (field: date, amount…)",
    "formula": "a formula cell in a statement (cell: C7)",
    "unknown_direction": "a statement's 借貸/存提 cell is neither in (存, 貸, CR) nor out (提, 借, DR)",
    # payments (field: order_ids or charge_ids; the message names the order or charge)
    "not_this_buyers": "the order (charge, parcel) is not this buyer's",
    "not_payable": "the order is cancelled or refunded, or the charge void: it takes no money",
    # parcels (field: order_ids; the message names the order)
    "order_not_this_buyers": "the order is not this buyer's",
    "order_cancelled": "the order is cancelled",
    "order_in_parcel": "the order is already in another parcel",
    "ship_to_differs": "the buyer's details and an order form's ship_to differ (field: recipient)",
    # the shopping trip (field: keep; the message names the order)
    "not_in_line": "the order is not a pending order of this item (and variant) in the batch",
    "shortage_exceeds_bought": "the kept units are more than the units bought and not yet given",
    "purchase_in_use": "the purchase's units are given to orders (field: purchase_id)",
    "purchase_stock_sold": "the purchase's units in stock were sold (field: purchase_id; to_stock, stock)",
    # pydantic's own types
    "missing": "required",
    "string_type": "must be text",
    "string_too_short": "too short (empty)",
    "below_min_length": "shorter than the field's minimum (min_length, e.g. a new password's 10)",
    "string_too_long": "too long",
    "string_pattern_mismatch": "not in the expected form",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "greater_than_equal": "too small",
    "less_than_equal": "too large",
    "literal_error": "not one of the allowed values",
    "model_type": "must be an object",
    "list_type": "must be a list",
    "too_short": "the list is too short (empty)",
    "too_long": "the list is too long",
    "date_type": "must be a date",
    "date_parsing": "not a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "not a date (YYYY-MM-DD)",
    "value_error": "a value refused for another reason (the message says which)",
    "invalid": "refused for a reason without a code of its own (the message says which)",
}
