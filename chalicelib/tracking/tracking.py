"""Buyer tracking: secret links per customer, the public lookup, "email me my link".

A link is `PUBLIC_SITE_URL/track.html#<token>`. The token sits after `#`, so browsers
never send it to the static host; the page passes it to `GET /track/{token}`.

A customer has at most one *seller* link (the one the seller copies and pastes into
LINE, the same on every `current_link`; "new link" replaces it and revokes every other
link of that customer) and up to
MAX_EMAILED_LINKS *email* links, one per "email me my link" request. Asking for a link
adds one and touches no other, so a stranger who knows a buyer's email and the shop
cannot break the link the seller sent. Every link is its own document and can be
listed and revoked by the seller.

Only sha256(token) is stored. The token has 256 bits from `secrets`, so a fast hash is
right: there is nothing to guess, and a leaked database (or backup) holds no working
link. A slow password hash would only add latency to every page view. The seller link's
token is derived instead (platform.link_tokens: an HMAC of a stored nonce under a key
from the server secret), so the seller can copy it again; the database still holds no
token.

A form submission (forms.submit) gets a *form* link of its own, carrying its
`submission_id`: its page shows that submission's orders only (their parcels, the payments
reported through it, the shop's payment instructions), because anyone who knows the form
link may type a buyer's email. Only when the submission created the customer (nothing
existed before it) does its link show the whole customer. The token is
HMAC(JWT_SECRET, submission id): a retry of the submission recomputes the same URL
without a write, and a copy of the database alone still opens nothing. Up to
MAX_FORM_LINKS per customer are kept, the newest.

This module reads `sellers` and `customers` directly (never writes them); its link copies
of the shop and the buyer are kept current by handlers of `auth.ShopProfileChanged` and
`customers.CustomerChanged`/`CustomerDeleted` (bus.HANDLERS), so neither module calls it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
import time

from bson import ObjectId

from chalicelib.buyers import customers
from chalicelib.catalog import items as catalog_items
from chalicelib.money import payments
from chalicelib.money.schemas import BuyerPaymentIn, TrackChargeOut
from chalicelib.platform import clock, link_tokens, mailer, mongo, ratelimit
from chalicelib.platform.config import get_settings
from chalicelib.platform.db import get_db, is_duplicate_key
from chalicelib.platform.errors import Conflict, Forbidden, NotFound
from chalicelib.platform.ids import object_id
from chalicelib.platform.money import from_cents
from chalicelib.platform.principal import Principal
from chalicelib.rules import allocation, carriers
from chalicelib.tracking.schemas import LinkRequestIn, TrackOrderOut

log = logging.getLogger(__name__)

TOKEN_BYTES = 32  # 256 bits of randomness
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")  # what token_urlsafe(32) produces
MAX_ORDERS = 500  # newest orders shown on the page, fetched in one batch
MAX_PAYMENTS = 200  # newest payments shown on the page
MAX_EMAILED_LINKS = 5  # per customer: the newest are kept, older emailed ones are revoked
MAX_FORM_LINKS = 20  # per customer: a submission's link; the oldest beyond are revoked
SELLER, EMAIL, FORM = "seller", "email", "form"  # link kinds
SELLER_PURPOSE = "seller-link"  # link_tokens purpose of seller links
MERGED = "merged"  # the seller link of a customer merged into another (customers_merged)
NEWEST_FIRST = [("created_at", -1), ("_id", -1)]  # pymongo.DESCENDING
RATE_LIMIT = 3  # link emails per address ...
RATE_WINDOW = dt.timedelta(hours=1)  # ... per hour
# Every request-link answer takes at least this long, so whether an email was sent (an
# SES round trip) cannot be read from the response time.
REQUEST_FLOOR_SECONDS = 0.6
NO_SELLER = ObjectId("000000000000000000000000")  # an unknown shop still costs one query
DEFAULT_LANGUAGE = mailer.DEFAULT_LANGUAGE
DEFAULT_CURRENCY = "TWD"

# Only the buyer's fields (schemas.TrackOrderOut) ever leave the database on this path.
ORDER_PROJECTION = {"_id": 0, **dict.fromkeys(TrackOrderOut.model_fields, 1)}
LINK_PROJECTION = {
    "_id": 0,
    "token_hash": 1,
    "seller_id": 1,
    "customer_id": 1,
    "shop_name": 1,
    "buyer_name": 1,
    "currency": 1,
    "language": 1,
    "timezone": 1,
    "payment_instructions": 1,
    "submission_id": 1,
    "whole": 1,
}
# The shop's fields every link document copies (shop_changed keeps them current).
SHOP_FIELDS = ("shop_name", "currency", "language", "timezone", "payment_instructions")
SELLER_PROJECTION = dict.fromkeys(SHOP_FIELDS, 1)
# What the page needs of each order beyond what the buyer sees, to work out balances.
ORDER_MONEY_FIELDS = {"paid_amount": 1, "payment_status": 1, "fulfillment_status": 1, "parcel": 1}
# A charge as the buyer sees it (TrackChargeOut), and its status for the balance.
CHARGE_PROJECTION = {
    **{f: 1 for f in TrackChargeOut.model_fields if f not in ("id", "balance")},
    "status": 1,
}
ACCEPTED = {
    "status": "accepted",
    "message": "If this email belongs to a customer of this shop, a tracking link is on its way.",
}


# --- links ----------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def link_url(token: str) -> str:
    return f"{get_settings().public_site_url}/track.html#{token}"


def _not_found() -> NotFound:
    # One message for malformed, unknown and rotated tokens: nothing to tell them apart.
    return NotFound("tracking link not found")


def _shop_fields(seller: dict) -> dict:
    return {
        "shop_name": seller["shop_name"],
        "currency": seller.get("currency", DEFAULT_CURRENCY),
        "language": seller.get("language", DEFAULT_LANGUAGE),
        "timezone": seller.get("timezone", clock.DEFAULT_TZ),
        "payment_instructions": seller.get("payment_instructions"),
    }


def _link_fields(seller: dict, customer: dict, kind: str) -> tuple[str, dict]:
    """A new token and the document fields of its link (the token itself is not kept).
    A seller link's token is derived from a stored nonce, so it can be shown again."""
    if kind == SELLER:
        token, secret = link_tokens.new(SELLER_PURPOSE)
    else:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        secret = {"token_hash": hash_token(token)}
    return token, {
        **secret,
        "kind": kind,
        "seller_id": seller["_id"],
        "customer_id": customer["_id"],
        "buyer_name": customer["name"],
        "created_at": clock.now(),
        **_shop_fields(seller),
    }


def _form_token(submission_id: ObjectId) -> str:
    """The submission's token: 43 URL-safe characters like a random one (TOKEN_RE)."""
    key = get_settings().jwt_secret.encode()
    mac = hmac.new(key, b"form-link:" + str(submission_id).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def form_link(seller: dict, customer: dict, submission_id: ObjectId, whole: bool) -> str:
    """The link of a new submission (`whole`: the customer is the submission's own, so
    the page may show everything of theirs); then the oldest beyond MAX_FORM_LINKS go."""
    token = _form_token(submission_id)
    fields = {**_link_fields(seller, customer, FORM)[1], "token_hash": hash_token(token)}
    links = get_db().tracking_links
    try:
        links.insert_one({**fields, "submission_id": submission_id, "whole": whole})
    except mongo.OperationFailure as exc:
        if not is_duplicate_key(exc):
            raise
        # A repeat of this submission's Idempotency-Key found its orders before this
        # link was written and wrote it (form_link_again: scoped, it cannot tell `whole`).
        # Same token; this request knows the scope.
        links.update_one({"token_hash": fields["token_hash"]}, {"$set": {"whole": whole}})
    if not whole:  # a customer made by this submission has no older links to prune
        _keep_newest(seller["_id"], customer["_id"], FORM, MAX_FORM_LINKS)
    return link_url(token)


def form_link_url(submission_id: ObjectId) -> str:
    """The URL of a submission's link, recomputed (nothing is read or written)."""
    return link_url(_form_token(submission_id))


def form_link_again(seller: dict, customer: dict, submission_id: ObjectId) -> str:
    """A repeated submission (Idempotency-Key): the same URL, recomputed. One read, and a
    write only if the first request died before writing its link (it is then scoped to
    the submission: whether the customer was new can no longer be told)."""
    token = _form_token(submission_id)
    if get_db().tracking_links.find_one({"token_hash": hash_token(token)}, {"_id": 1}) is None:
        fields = {**_link_fields(seller, customer, FORM)[1], "token_hash": hash_token(token)}
        try:
            get_db().tracking_links.insert_one({**fields, "submission_id": submission_id, "whole": False})
        except mongo.OperationFailure as exc:
            if not is_duplicate_key(exc):  # two retries at once: one link, both have it
                raise
    return link_url(token)


def _replace_seller_link(seller: dict, customer: dict) -> tuple[str, dict]:
    """Give the customer a new seller link in one atomic upsert, so their previous seller
    link dies at once. `seller_link_of` (the customer id, on seller links only) has a
    sparse unique index: there is never more than one seller link per customer, however
    many "new link" clicks race. Returns the token and the link's document."""
    coll = get_db().tracking_links
    for attempt in range(2):
        token, fields = _link_fields(seller, customer, SELLER)
        try:
            doc = coll.find_one_and_update(
                {"seller_link_of": customer["_id"]},
                {"$set": fields},
                upsert=True,  # (no projection: FerretDB 1.24 does not implement it here)
                return_document=mongo.ReturnDocument.AFTER,
            )
            return token, doc
        except mongo.OperationFailure as exc:
            # Two first links for one customer at the same moment: the loser's upsert hits
            # the unique index; the retry then updates the winner's document.
            if attempt or not is_duplicate_key(exc):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _link_out(token: str, doc: dict) -> dict:
    return {"url": link_url(token), "token": token, "created_at": clock.iso(doc["created_at"])}


def _seller(seller_id: ObjectId) -> dict:
    seller = get_db().sellers.find_one({"_id": seller_id}, SELLER_PROJECTION)
    if seller is None:
        raise NotFound("seller not found")
    return seller


def _own_customer(principal: Principal, customer_id: str) -> tuple[ObjectId, dict]:
    """(seller id, customer) of the logged-in seller; another seller's customer is 404."""
    seller_id = object_id(principal.seller_id, "seller")
    customer = get_db().customers.find_one(
        {"_id": object_id(customer_id, "customer"), "seller_id": seller_id}, {"name": 1}
    )
    if customer is None:
        raise NotFound("customer not found")
    return seller_id, customer


def issue_link(principal: Principal, customer_id: str) -> dict:
    """The seller's "new link" button: every older link of this customer stops working
    (the previous seller link at once, in the same upsert; then the emailed ones)."""
    seller_id, customer = _own_customer(principal, customer_id)
    token, doc = _replace_seller_link(_seller(seller_id), customer)
    get_db().tracking_links.delete_many(
        {"seller_id": seller_id, "customer_id": customer["_id"], "_id": {"$ne": doc["_id"]}}
    )
    return _link_out(token, doc)


def current_link(principal: Principal, customer_id: str) -> dict:
    """The seller's "copy link": the customer's seller link, the same on every call (its
    token recomputed from the stored nonce); one read. Made on the first call, by an
    insert the unique `seller_link_of` index lets only one racing call win: the others
    read the winner's, so every answer is the same. A seller link that cannot be shown
    (made before links had a nonce, or under another JWT_SECRET) keeps working, as a
    plain seller-kind link the buyer may hold, and a new current one is made beside it:
    nothing the buyer has stops working until the seller's "new link"."""
    seller_id, customer = _own_customer(principal, customer_id)
    return _current(seller_id, customer)


def _current(seller_id: ObjectId, customer: dict) -> dict:
    links = get_db().tracking_links
    for _ in range(3):
        doc = links.find_one({"seller_link_of": customer["_id"]})
        if doc is None:
            token, fields = _link_fields(_seller(seller_id), customer, SELLER)
            try:
                links.insert_one({**fields, "seller_link_of": customer["_id"]})
            except mongo.OperationFailure as exc:
                if not is_duplicate_key(exc):
                    raise
                continue  # another first call made it: read theirs
            return _link_out(token, fields)
        token = link_tokens.shown(SELLER_PURPOSE, doc)
        if token:
            return _link_out(token, doc)
        links.update_one(
            {"_id": doc["_id"], "token_hash": doc["token_hash"]}, {"$unset": {"seller_link_of": ""}}
        )
    raise Conflict("the link changed while reading it; try again", code="concurrent_update")


def current_urls(seller_id: ObjectId, customers: list[dict]) -> dict:
    """{customer id: URL of their current seller link}, as `current_link` gives it one by
    one (a batch notice, notifications.notices): one read for all, then `current_link`'s
    own way for each buyer who has none that can be shown yet."""
    urls = {}
    for doc in get_db().tracking_links.find({"seller_link_of": {"$in": [c["_id"] for c in customers]}}):
        token = link_tokens.shown(SELLER_PURPOSE, doc)
        if token:
            urls[doc["seller_link_of"]] = link_url(token)
    missing = [c for c in customers if c["_id"] not in urls]
    if missing:
        # First links for many buyers at once: one insert. One that loses to a racing
        # first link (the unique `seller_link_of`) or cannot be shown goes `current_link`'s way.
        seller = _seller(seller_id)
        made = {c["_id"]: _link_fields(seller, c, SELLER) for c in missing}
        docs = [{**fields, "seller_link_of": cid} for cid, (_, fields) in made.items()]
        try:
            get_db().tracking_links.insert_many(docs, ordered=False)
            kept = set(made)
        except mongo.BulkWriteError as exc:
            failed = {docs[e["index"]]["seller_link_of"] for e in exc.details.get("writeErrors", [])}
            kept = set(made) - failed
        for customer in missing:
            cid = customer["_id"]
            urls[cid] = link_url(made[cid][0]) if cid in kept else _current(seller_id, customer)["url"]
    return urls


def list_links(principal: Principal, customer_id: str) -> dict:
    """The customer's working links, newest first (at most 1 + MAX_EMAILED_LINKS)."""
    seller_id, customer = _own_customer(principal, customer_id)
    docs = get_db().tracking_links.find(
        {"seller_id": seller_id, "customer_id": customer["_id"]},
        {"kind": 1, "created_at": 1},
        sort=NEWEST_FIRST,
    )
    items = [
        # A link written before links had kinds was the seller's one link.
        {"id": str(d["_id"]), "kind": d.get("kind", SELLER), "created_at": clock.iso(d["created_at"])}
        for d in docs
    ]
    return {"items": items, "next_cursor": None}


def revoke_link(principal: Principal, customer_id: str, link_id: str) -> None:
    """That link stops working at once; another seller's (or customer's) link is 404."""
    deleted = get_db().tracking_links.delete_one(
        {
            "_id": object_id(link_id, "tracking link"),
            "seller_id": object_id(principal.seller_id, "seller"),
            "customer_id": object_id(customer_id, "customer"),
        }
    )
    if deleted.deleted_count == 0:
        raise NotFound("tracking link not found")


def _link(token: str) -> dict:
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        raise _not_found()  # malformed: no database call at all
    digest = hash_token(token)
    link = get_db().tracking_links.find_one({"token_hash": digest}, {**LINK_PROJECTION, "_id": 1})
    # The database matched on the hash, so its comparison time says nothing about the
    # token; the constant-time check here is belt and braces.
    if link is None or not hmac.compare_digest(link["token_hash"], digest):
        raise _not_found()
    return link


def lookup(token: str) -> dict:
    """The buyer's page: four database commands (link by hash, orders, payments, open
    charges), five when orders name items of the list (their photos). A submission's link (scope "submission") reads that submission's orders,
    charges and the payments reported through it, nothing else of the customer."""
    link = _link(token)
    db = get_db()
    scoped = link.get("submission_id") is not None and not link.get("whole")
    which = {"seller_id": link["seller_id"], "customer_id": link["customer_id"]}
    if scoped:
        which["submission_id"] = link["submission_id"]
    # One batch of up to MAX_ORDERS (a negative limit means "single batch": the server
    # closes the cursor, so no getMore or killCursors follows).
    cursor = db.orders.find(
        which,
        {**ORDER_PROJECTION, **ORDER_MONEY_FIELDS, "item_id": 1},
        sort=[("_id", -1)],
        limit=-MAX_ORDERS,
        batch_size=MAX_ORDERS,
    )
    orders, owed, boxes = [], 0, {}
    docs = list(cursor)
    # One read more when orders name items of the list (issue 30: their photos); none for
    # orders typed with a name only.
    photos = catalog_items.first_photo_urls(
        link["seller_id"], {d["item_id"] for d in docs if d.get("item_id")}
    )
    for doc in docs:
        money = {"paid_amount": allocation.paid_of(doc), "balance": allocation.balance_of(doc)}
        owed += money["balance"]
        orders.append(TrackOrderOut.from_doc({**doc, **money, "photo_url": photos.get(doc.get("item_id"))}))
        if doc.get("parcel"):
            box = boxes.setdefault(doc["parcel"]["parcel_no"], _parcel_out(doc))
            box["order_nos"].append(doc["order_no"])
    mine = list(
        db.payments.find(
            {**which, "status": {"$ne": "voided"}},
            sort=[("_id", -1)],
            limit=-MAX_PAYMENTS,
            batch_size=MAX_PAYMENTS,
        )
    )
    credit = allocation.credit_of(mine)
    # Money owed that is no order line (a parcel's shipping, duty...): oldest first.
    owed_charges = []
    for doc in db.charges.find(
        {**which, "status": "open"},
        CHARGE_PROJECTION,
        sort=[("created_at", 1), ("_id", 1)],
        limit=-MAX_ORDERS,
        batch_size=MAX_ORDERS,
    ):
        balance = allocation.balance_of(doc)
        owed += balance
        owed_charges.append(TrackChargeOut.from_doc({**doc, "balance": balance}))
    return {
        "shop_name": link["shop_name"],
        "buyer_name": link["buyer_name"],
        "currency": link.get("currency", DEFAULT_CURRENCY),
        "language": link.get("language", DEFAULT_LANGUAGE),
        "orders": orders,
        "balance": from_cents(owed),
        "credit": from_cents(credit),
        "payments": [payments.track_out(p) for p in mine],
        "charges": owed_charges,
        "payment_instructions": link.get("payment_instructions"),
        "parcels": [boxes[n] for n in sorted(boxes, reverse=True)],
        "scope": "submission" if scoped else "customer",
    }


def notices_opt_out(token: str, opt_out: bool) -> dict:
    """The buyer's "no batch notices by email" (docs/api.md, Notices to a batch). Only on
    a whole-customer link: a form's submission link may be held by whoever typed the
    buyer's email, who may not switch her emails off (403)."""
    link = _link(token)
    if link.get("submission_id") is not None and not link.get("whole"):
        raise Forbidden("this link shows one order form's submission; use the shop's link", code="forbidden")
    value = customers.set_notices_opt_out(link["seller_id"], link["customer_id"], opt_out)
    return {"notices_opt_out": value}


def _parcel_out(order: dict) -> dict:
    """The parcel from the copy an order of it carries (no extra query)."""
    p = order["parcel"]
    return {
        "parcel_no": p["parcel_no"],
        "method": p["method"],
        "carrier": order.get("carrier"),
        "tracking_number": order.get("tracking_number"),
        "tracking_url": carriers.tracking_url(order.get("carrier"), order.get("tracking_number")),
        "shipped_date": order.get("shipped_date"),
        "delivered_date": p.get("delivered_date"),
        "order_nos": [],
    }


def shop_currency(token: str) -> str:
    """The currency of the shop behind a buyer's link (404 for a link that is not there)."""
    return _link(token).get("currency", DEFAULT_CURRENCY)


def report_payment(token: str, data: BuyerPaymentIn, idempotency_key: str | None) -> tuple[dict, bool]:
    """POST /track/{token}/payments: the buyer reports a transfer for the seller to confirm."""
    link = _link(token)
    return payments.report(link, data, link.get("timezone") or clock.DEFAULT_TZ, idempotency_key)


# --- keeping link documents current (event handlers: bus.HANDLERS) ---------------------


def shop_changed(event) -> None:
    """auth.ShopProfileChanged: shop name, currency, language, zone or payment
    instructions changed; the links show the shop as it is now (read again, so a retry
    or a replay writes the current values)."""
    if not set(event.fields) & set(SHOP_FIELDS):
        return
    seller = get_db().sellers.find_one({"_id": event.seller_id}, SELLER_PROJECTION)
    if seller is not None:
        get_db().tracking_links.update_many({"seller_id": seller["_id"]}, {"$set": _shop_fields(seller)})


def backfill_payment_instructions() -> int:
    """Links made by order forms before they copied the shop's payment instructions show
    none: give them the shop's (idempotent; `manage init-db`). Returns links changed."""
    db, changed = get_db(), 0
    for seller in db.sellers.find(
        {"payment_instructions": {"$nin": [None, ""]}}, {"payment_instructions": 1}
    ):
        changed += db.tracking_links.update_many(
            {"seller_id": seller["_id"], "payment_instructions": None},
            {"$set": {"payment_instructions": seller["payment_instructions"]}},
        ).modified_count
    return changed


def customer_changed(event: customers.CustomerChanged) -> None:
    """The page greets the buyer by name. Not on a submission-only link: it shows the
    name typed in the form, and nothing of what the shop has on file."""
    if event.renamed:
        customers.refresh(
            event,
            lambda c: get_db().tracking_links.update_many(
                {"seller_id": c["seller_id"], "customer_id": c["_id"], "whole": {"$ne": False}},
                {"$set": {"buyer_name": c["name"]}},
            ),
        )


def customer_deleted(event: customers.CustomerDeleted) -> None:
    get_db().tracking_links.delete_many({"seller_id": event.seller_id, "customer_id": event.customer_id})


def customers_merged(event: customers.CustomersMerged) -> None:
    """The other buyer's links keep working and now show the merged buyer (a link the
    buyer has in LINE still opens, with both buyers' orders). The target keeps its one
    seller link: the other's becomes a `merged` link (no longer the buyer's seller link,
    so "new link" or revoking retires it like an emailed one). A submission's link stays
    scoped to its submission. A replay finds nothing left to move."""
    links = get_db().tracking_links
    who = {"seller_id": event.seller_id, "customer_id": event.from_id}
    target = get_db().customers.find_one({"_id": event.into_id, "seller_id": event.seller_id}, {"name": 1})
    if target is None:  # the target is gone too: nobody to show
        links.delete_many(who)
        return
    links.update_many(
        {**who, "seller_link_of": event.from_id},
        {"$set": {"kind": MERGED}, "$unset": {"seller_link_of": ""}},
    )
    links.update_many(
        {**who, "kind": {"$exists": False}}, {"$set": {"kind": MERGED}}
    )  # a link from before kinds was the seller's link
    links.update_many(
        {**who, "whole": {"$ne": False}},
        {"$set": {"customer_id": event.into_id, "buyer_name": target["name"]}},
    )
    links.update_many(who, {"$set": {"customer_id": event.into_id}})


# --- "email me my link" ---------------------------------------------------------------


def _send_link(data: LinkRequestIn) -> bool:
    """The same reads and the same rate-limit write whether or not the shop and email are
    known, so neither the answer nor the database work tells them apart."""
    db = get_db()
    email_lower = data.email.lower()
    seller = db.sellers.find_one({"shop_slug": data.shop_slug}, SELLER_PROJECTION)
    customer = db.customers.find_one(
        {"seller_id": seller["_id"] if seller else NO_SELLER, "email_lower": email_lower},
        {"name": 1, "email": 1},
    )
    if (
        not ratelimit.take_slot("tracking_link", email_lower, RATE_LIMIT, RATE_WINDOW)
        or seller is None
        or customer is None
    ):
        return False
    # A new link of its own: the seller's link and earlier emailed ones keep working.
    links = db.tracking_links
    token, fields = _link_fields(seller, customer, EMAIL)
    link_id = links.insert_one(fields).inserted_id
    email = mailer.tracking_link_email(
        to=customer["email"],
        shop_name=seller["shop_name"],
        buyer_name=customer["name"],
        url=link_url(token),
        language=seller.get("language", DEFAULT_LANGUAGE),
    )
    try:
        mailer.send(email)
    except mailer.MailError as exc:
        log.warning("tracking link email not sent (shop %s): %s", data.shop_slug, exc)
        links.delete_one({"_id": link_id})  # only the link nobody received
        return False
    keep_newest_emailed(seller["_id"], customer["_id"])
    return True


def email_link(seller: dict, customer: dict) -> tuple[str, ObjectId]:
    """A new emailed link for an event email (parcel shipped, payment confirmed): its
    URL and id. The seller's link and earlier emailed ones keep working."""
    token, fields = _link_fields(seller, customer, EMAIL)
    return link_url(token), get_db().tracking_links.insert_one(fields).inserted_id


def drop_link(link_id: ObjectId) -> None:
    """The link of an email SES refused: nobody has it."""
    get_db().tracking_links.delete_one({"_id": link_id})


def keep_newest_emailed(seller_id: ObjectId, customer_id: ObjectId) -> None:
    """Revoke emailed links beyond the newest MAX_EMAILED_LINKS, so the rate limit (per
    hour) cannot let one customer's links pile up without end. Runs after a successful
    send, so a failed send never costs the buyer an older working link."""
    _keep_newest(seller_id, customer_id, EMAIL, MAX_EMAILED_LINKS)


def _keep_newest(seller_id: ObjectId, customer_id: ObjectId, kind: str, keep: int) -> None:
    links = get_db().tracking_links
    stale = [
        d["_id"]
        for d in links.find(
            {"seller_id": seller_id, "customer_id": customer_id, "kind": kind},
            {"_id": 1},
            sort=NEWEST_FIRST,
            skip=keep,
        )
    ]
    if stale:
        links.delete_many({"_id": {"$in": stale}})


def request_link(data: LinkRequestIn) -> dict:
    """Always the same answer. Emailing a link issues a new emailed link (only hashes are
    stored, so no existing link can be resent); other links keep working. docs/api.md."""
    started = time.monotonic()
    try:
        _send_link(data)
    finally:
        time.sleep(max(0.0, REQUEST_FLOOR_SECONDS - (time.monotonic() - started)))
    return dict(ACCEPTED)
