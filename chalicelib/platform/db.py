"""The one MongoDB client of the process and the index definitions.

The client is created lazily on first use and kept at module level, so warm Lambda
invocations reuse its connection pool instead of reconnecting. Index creation is
*not* on the request path: run `python -m chalicelib.manage init-db` once.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any

from chalicelib.platform import doc_gate, key_index, mongo
from chalicelib.platform.config import Settings, get_settings
from chalicelib.platform.errors import NotFound
from chalicelib.platform.ids import object_id

if TYPE_CHECKING:
    from pymongo.database import Database
    from pymongo.errors import PyMongoError

_lock = threading.Lock()
_client: Any = None
_features: dict[str, bool] = {}

# FerretDB stays up when its PostgreSQL goes away and answers every command with code 1
# (InternalError) and the driver's words: "failed to connect to `user=...`: dial error"
# while PostgreSQL is down, "write: broken pipe" on a pooled connection it cut, and
# SQLSTATE 57P01/57P03 while it shuts down or starts (docs/ferretdb.md, "PostgreSQL down").
_FERRETDB_BACKEND_DOWN_MARKS = (
    "failed to connect to `",
    "dial error",
    "broken pipe",
    "connection reset by peer",
    "unexpected EOF",
    "conn closed",
    "SQLSTATE 57P0",  # admin_shutdown, crash_shutdown, cannot_connect_now
    "SQLSTATE 08",  # connection_exception and its kinds
)


def is_unavailable(exc: BaseException) -> bool:
    """The database cannot serve anyone right now (503 `database_unavailable` with
    Retry-After), as opposed to a refusal of this one request (503 `database_error`)."""
    # ConnectionFailure includes AutoReconnect, NetworkTimeout and ServerSelectionTimeoutError.
    if isinstance(exc, (mongo.ConnectionFailure, mongo.ExecutionTimeout)):
        return True
    return (
        isinstance(exc, mongo.OperationFailure)
        and exc.code == 1
        and any(mark in str(exc) for mark in _FERRETDB_BACKEND_DOWN_MARKS)
    )


def _new_client(s: Settings) -> Any:
    if s.mongo_uri.startswith("mongomock://"):
        import mongomock

        _mongomock_bulk_sort(mongomock)
        return mongomock.MongoClient(tz_aware=True)
    timeouts: dict[str, int] = {
        "serverSelectionTimeoutMS": s.mongo_timeout_ms,
        "connectTimeoutMS": s.mongo_timeout_ms,
    }
    if s.mongo_operation_timeout_ms:
        # One budget for the whole operation (server selection, connection, every retry
        # and the wait for the answer): a server that accepts and never answers costs at
        # most this, then NetworkTimeout -> 503. Without it a read may wait a socket
        # timeout per attempt (retryReads), past the 15 s Lambda timeout.
        timeouts["timeoutMS"] = s.mongo_operation_timeout_ms
        timeouts["serverSelectionTimeoutMS"] = min(s.mongo_timeout_ms, s.mongo_operation_timeout_ms)
    else:
        timeouts["socketTimeoutMS"] = max(s.mongo_timeout_ms * 3, 10_000)
    return mongo.MongoClient(
        s.mongo_uri,
        tz_aware=True,
        appname="personal-shopper",
        maxPoolSize=s.mongo_pool_size,
        **timeouts,
    )


def get_client() -> Any:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = _new_client(get_settings())
    return _client


def get_db() -> Database:
    """The app's database; on FerretDB its updates of a document run one at a time in
    the process (doc_gate.py: FerretDB writes a whole document back)."""
    return doc_gate.database(get_client(), get_settings().mongo_db, is_ferretdb)


def own(collection: str, seller_id: Any, doc_id: str | None, what: str) -> dict:
    """The seller's document of that id, in one read; a malformed id, another seller's
    document and a missing one are the same 404 ("order not found"), so ids leak nothing."""
    doc = get_db()[collection].find_one({"_id": object_id(doc_id, what), "seller_id": seller_id})
    if doc is None:
        raise NotFound(f"{what} not found")
    return doc


def reset_client() -> None:
    """Close and forget the client (tests switch databases; nothing else calls this)."""
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
        _features.clear()


# MongoDB's code for a unique-index violation (also in a BulkWriteError's writeErrors).
DUPLICATE_KEY = 11000
# FerretDB 1.24 inside findAndModify: code 1 with the backend's own words, SQLite's message
# or PostgreSQL's unique_violation SQLSTATE (docs/ferretdb.md).
_FERRETDB_DUPLICATE_MARKS = ("UNIQUE constraint failed", "SQLSTATE 23505")


def is_duplicate_key(exc: PyMongoError) -> bool:
    """MongoDB reports unique-index violations as code 11000. FerretDB 1.24 does too for
    inserts, but for findAndModify it answers code 1 with the backend's error: SQLite's
    "UNIQUE constraint failed" or PostgreSQL's SQLSTATE 23505."""
    if not isinstance(exc, mongo.OperationFailure):
        return False
    if exc.code == DUPLICATE_KEY:
        return True
    return exc.code == 1 and any(mark in str(exc) for mark in _FERRETDB_DUPLICATE_MARKS)


def ping() -> bool:
    try:
        get_client().admin.command("ping")
        return True
    except mongo.PyMongoError:
        return False


def _mongomock_bulk_sort(mongomock) -> None:
    """mongomock 4.3 (unit tests only) predates pymongo 4.11, whose UpdateOne hands
    `sort=None` to a bulk builder that takes no `sort`: drop it when it is None."""
    builder = mongomock.collection.BulkOperationBuilder
    if getattr(builder.add_update, "takes_sort", False):
        return
    original = builder.add_update

    def add_update(self, *args, sort=None, **kwargs):
        if sort is not None:
            raise NotImplementedError("mongomock: UpdateOne(sort=...)")
        return original(self, *args, **kwargs)

    add_update.takes_sort = True
    builder.add_update = add_update


def is_ferretdb() -> bool:
    """FerretDB announces itself in buildInfo; cached for the life of the client.

    Used only to work around FerretDB 1.24 bugs (see docs/ferretdb.md); the default
    path is the one that is correct on MongoDB Atlas.
    """
    if "ferretdb" not in _features:
        client = get_client()
        if client.__class__.__module__.startswith("mongomock"):
            _features["ferretdb"] = False
        else:
            info = client.admin.command("buildInfo")
            _features["ferretdb"] = "ferretdbVersion" in info
    return _features["ferretdb"]


@functools.cache
def indexes() -> dict[str, list[Any]]:
    """Every collection's IndexModels (built on call: pymongo is imported on first use)."""
    ASCENDING, DESCENDING, IndexModel = mongo.ASCENDING, mongo.DESCENDING, mongo.IndexModel
    return {
        "sellers": [
            IndexModel([("email_lower", ASCENDING)], unique=True, name="email_unique"),
            IndexModel([("shop_slug", ASCENDING)], unique=True, name="slug_unique"),
        ],
        # A buyer's email is unique per seller when present (`email_key` is
        # "<seller_id>:<email lower>", absent without one: chalicelib/buyers/customers.py).
        # Phones and LINE IDs are found per seller and are not unique (a family may share one).
        "customers": [
            IndexModel([("email_key", ASCENDING)], unique=True, sparse=True, name="email_key_unique"),
            IndexModel([("seller_id", ASCENDING), ("email_lower", ASCENDING)], name="seller_email"),
            IndexModel([("seller_id", ASCENDING), ("phone", ASCENDING)], name="seller_phone"),
            IndexModel([("seller_id", ASCENDING), ("line_id_key", ASCENDING)], name="seller_line_id"),
            IndexModel([("seller_id", ASCENDING), ("_id", DESCENDING)], name="seller_newest"),
            # The buyer a keyed POST /orders created (customers.insert): "<seller_id>:<key>".
            IndexModel([("made_for", ASCENDING)], sparse=True, name="made_for"),
            # GET /customers?sort=name: by name, then id (listing.sorted_page).
            IndexModel(
                [("seller_id", ASCENDING), ("name", ASCENDING), ("_id", ASCENDING)], name="seller_name"
            ),
        ],
        "items": [
            IndexModel([("seller_id", ASCENDING), ("_id", DESCENDING)], name="seller_newest"),
            IndexModel([("seller_id", ASCENDING), ("name_lower", ASCENDING)], name="seller_name"),
        ],
        # Item photos (chalicelib/catalog/photos.py): each live photo holds one of its item's
        # slots (0-7; a failed one a text slot of its own), so the limit holds under races.
        "photos": [
            IndexModel([("item_id", ASCENDING), ("slot", ASCENDING)], unique=True, name="item_slot_unique"),
            IndexModel([("seller_id", ASCENDING), ("item_id", ASCENDING)], name="seller_item"),
        ],
        # GET /items/{id}/movements: an item's, newest first (catalog/items.py writes them).
        "stock_movements": [
            IndexModel(
                [("seller_id", ASCENDING), ("item_id", ASCENDING), ("_id", DESCENDING)],
                name="seller_item_newest",
            ),
        ],
        "orders": [
            IndexModel([("seller_id", ASCENDING), ("_id", DESCENDING)], name="seller_newest"),
            IndexModel(
                [("seller_id", ASCENDING), ("order_no", ASCENDING)],
                unique=True,
                name="seller_order_no_unique",
            ),
            IndexModel(
                [("seller_id", ASCENDING), ("customer_id", ASCENDING), ("_id", DESCENDING)],
                name="seller_customer",
            ),
            IndexModel(
                [("seller_id", ASCENDING), ("payment_status", ASCENDING), ("_id", DESCENDING)],
                name="seller_payment",
            ),
            IndexModel(
                [("seller_id", ASCENDING), ("fulfillment_status", ASCENDING), ("_id", DESCENDING)],
                name="seller_fulfillment",
            ),
            IndexModel(
                [("seller_id", ASCENDING), ("batch", ASCENDING), ("_id", DESCENDING)],
                name="seller_batch",
            ),
            # GET /orders?sort= (and from/to): each sort key with the _id tie-breaker, so a
            # page is a walk of one index on Atlas (order_no: seller_order_no_unique).
            IndexModel(
                [("seller_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="seller_created_id",
            ),
            IndexModel(
                [("seller_id", ASCENDING), ("total_amount", DESCENDING), ("_id", DESCENDING)],
                name="seller_total",
            ),
            IndexModel([("seller_id", ASCENDING), ("item_id", ASCENDING)], name="seller_item"),
            IndexModel([("seller_id", ASCENDING), ("month", ASCENDING)], name="seller_month"),
            # A form's orders (GET /orders?form_id=, the form's counts) and a submission's.
            IndexModel([("seller_id", ASCENDING), ("form_id", ASCENDING)], name="seller_form"),
            IndexModel([("seller_id", ASCENDING), ("submission_id", ASCENDING)], name="seller_submission"),
            # A parcel's orders (deliver, unpack, carrier change): only orders in a parcel.
            IndexModel([("parcel_id", ASCENDING)], sparse=True, name="parcel"),
        ],
        # Order forms (chalicelib/sales/forms.py): the public link finds its form by token hash.
        "forms": [
            IndexModel([("token_hash", ASCENDING)], unique=True, name="token_hash_unique"),
            IndexModel([("seller_id", ASCENDING), ("_id", DESCENDING)], name="seller_newest"),
            # The scheduled close (sales/closing.py): forms whose closes_at has passed.
            IndexModel([("closes_at", ASCENDING)], sparse=True, name="closes_at"),
        ],
        # Waitlists (chalicelib/sales/waitlist.py): an item's line in order; a form's queue.
        "waitlist": [
            IndexModel(
                [("item_id", ASCENDING), ("status", ASCENDING), ("created_at", ASCENDING)], name="item_line"
            ),
            IndexModel([("form_id", ASCENDING), ("created_at", ASCENDING)], name="form_queue"),
        ],
        # Batches (chalicelib/catalog/batches.py): one per seller and name, made by the first PATCH.
        "batches": [
            IndexModel(
                [("seller_id", ASCENDING), ("name", ASCENDING)], unique=True, name="seller_name_unique"
            ),
        ],
        # Parcels (chalicelib/shipping/parcels.py): a seller's list, by buyer, by status.
        "parcels": [
            IndexModel([("seller_id", ASCENDING), ("_id", DESCENDING)], name="seller_newest"),
            IndexModel(
                [("seller_id", ASCENDING), ("customer_id", ASCENDING), ("_id", DESCENDING)],
                name="seller_customer",
            ),
            IndexModel(
                [("seller_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)], name="seller_status"
            ),
        ],
        # Idempotency-Key claims of POST /orders (chalicelib/platform/idempotency.py): _id is
        # "<seller_id>:<key>"; keys last 24 hours (FerretDB: no TTL, expiry checked on read).
        "idempotency_keys": [
            IndexModel([("at", ASCENDING)], expireAfterSeconds=24 * 3600, name="ttl"),
        ],
        # Per-seller order number counters: _id is the seller id.
        "counters": [],
        # Login attempts (chalicelib/accounts/login_limits.py), counted per email, client and both.
        "login_attempts": [
            IndexModel(
                [("email_lower", ASCENDING), ("client", ASCENDING), ("at", DESCENDING)],
                name="email_client_at",
            ),
            IndexModel([("client", ASCENDING), ("at", DESCENDING)], name="client_at"),
            IndexModel([("at", ASCENDING)], expireAfterSeconds=15 * 60, name="ttl"),
        ],
        # Sessions and their refresh tokens (chalicelib/accounts/sessions.py); _id is the token's hash.
        "sessions": [
            IndexModel([("seller_id", ASCENDING)], name="seller"),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="ttl"),
        ],
        "refresh_tokens": [
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="ttl"),
        ],
        # A shop's members (chalicelib/accounts/members.py): one email is one login on the site
        # while invited or active (a removed member's `email_lower` is unset, so sparse);
        # an invite is found by its token's hash; the list is per shop.
        "members": [
            IndexModel([("email_lower", ASCENDING)], unique=True, sparse=True, name="email_unique"),
            IndexModel([("token_hash", ASCENDING)], sparse=True, name="token_hash"),
            IndexModel([("seller_id", ASCENDING), ("_id", ASCENDING)], name="seller"),
        ],
        # Password reset links; _id is the token's hash.
        "password_resets": [
            IndexModel([("seller_id", ASCENDING)], name="seller"),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="ttl"),
        ],
        # Rate limits (chalicelib/platform/ratelimit.py: "email me my link", password reset, buyers'
        # payment reports): `key` is "<scope>:<sha256 of the value>"; rows live as long as the
        # longest window (a day: 5 payment reports per link per day).
        "rate_limits": [
            IndexModel([("key", ASCENDING), ("at", DESCENDING)], name="key_at"),
            IndexModel([("at", ASCENDING)], expireAfterSeconds=24 * 3600, name="ttl_day"),
        ],
        # Payments (chalicelib/money/payments.py): a seller's list (newest first), by buyer, by
        # status ("to confirm"); a buyer's half-applied ones and credit come from seller_customer.
        "payments": [
            IndexModel([("seller_id", ASCENDING), ("_id", DESCENDING)], name="seller_newest"),
            IndexModel(
                [("seller_id", ASCENDING), ("customer_id", ASCENDING), ("_id", DESCENDING)],
                name="seller_customer",
            ),
            IndexModel(
                [("seller_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)], name="seller_status"
            ),
            # The payment a bank statement's row made or confirmed (statements.py).
            IndexModel([("statement_row", ASCENDING)], sparse=True, name="statement_row"),
        ],
        # Bank statements (chalicelib/money/statements.py): a seller's uploads, newest first;
        # their rows (`_id`: the row's identity, a hash) by day and by status ("open");
        # the column mappings remembered per shop and set of headers (`_id`: both).
        "statements": [
            IndexModel([("seller_id", ASCENDING), ("uploaded_at", DESCENDING)], name="seller_newest"),
        ],
        "statement_rows": [
            IndexModel([("seller_id", ASCENDING), ("date", ASCENDING)], name="seller_date"),
            IndexModel([("seller_id", ASCENDING), ("status", ASCENDING)], name="seller_status"),
        ],
        "statement_mappings": [],
        # Charges (chalicelib/money/charges.py): a seller's list (newest first), by buyer (open
        # ones are allocated with the orders), by batch; `live_key` ("<seller>:<key>", only
        # while open) allows one live charge per key. Sparse, not partial: FerretDB 1.24
        # has no partialFilterExpression.
        "charges": [
            IndexModel([("seller_id", ASCENDING), ("_id", DESCENDING)], name="seller_newest"),
            IndexModel(
                [("seller_id", ASCENDING), ("customer_id", ASCENDING), ("_id", DESCENDING)],
                name="seller_customer",
            ),
            IndexModel([("seller_id", ASCENDING), ("batch", ASCENDING)], name="seller_batch"),
            IndexModel([("live_key", ASCENDING)], unique=True, sparse=True, name="live_key_unique"),
        ],
        # Batch notices (chalicelib/notifications/notices.py): a batch's, newest first; a
        # notice's recipients (`_id`: "<notice id>:<customer id>", one per buyer).
        "notices": [
            IndexModel(
                [("seller_id", ASCENDING), ("batch", ASCENDING), ("created_at", DESCENDING)],
                name="seller_batch",
            ),
        ],
        "notice_recipients": [IndexModel([("notice_id", ASCENDING)], name="notice")],
        # Buyer tracking (chalicelib/tracking/tracking.py): links found by token hash; a customer has
        # several (one seller link, a few emailed ones). `seller_link_of` (the customer id)
        # is only on seller links: the sparse unique index allows one seller link each.
        "tracking_links": [
            IndexModel([("token_hash", ASCENDING)], unique=True, name="token_hash_unique"),
            IndexModel([("seller_id", ASCENDING), ("customer_id", ASCENDING)], name="seller_customer"),
            IndexModel([("seller_link_of", ASCENDING)], unique=True, sparse=True, name="seller_link_unique"),
        ],
    }


NOT_IMPLEMENTED = 238
# Indexes of earlier versions, dropped by ensure_indexes so existing databases migrate.
# orders.idempotency_unique: keys moved to `idempotency_keys` (an `idem` field left on old
# orders is no longer read).
# tracking_links.customer_unique (one link per customer) and .seller (now the prefix of
# seller_customer): a customer has several links.
# orders.seller_created: the prefix of seller_created_id (the ?sort=created_at index).
# rate_limits.ttl (one hour): rows now live a day (ttl_day), the longest window.
# customers.seller_email_unique: a buyer may have no email (issue 25); uniqueness moved to
# the sparse email_key_unique, filled in by customers.migrate_contacts before it is built.
RETIRED_INDEXES = {
    "customers": ["seller_email_unique"],
    "orders": ["idempotency_unique", "seller_created"],
    "tracking_links": ["customer_unique", "seller"],
    "rate_limits": ["ttl"],
}


def ensure_indexes(db: Database | None = None) -> list[str]:
    """Create every index; safe to run again. Returns notes on skipped indexes.

    FerretDB 1.24 has no TTL indexes: there the TTL index is skipped and the time
    filter in every query keeps behaviour correct (old rows are only not purged).
    """
    db = get_db() if db is None else db
    notes = []
    for name, retired in RETIRED_INDEXES.items():
        present = {ix["name"] for ix in db[name].list_indexes()}
        for index in sorted(present & set(retired)):
            db[name].drop_index(index)
    for name, models in indexes().items():
        coll = db[name]
        for model in models:
            try:
                coll.create_indexes([model])
            except mongo.OperationFailure as exc:
                if exc.code != NOT_IMPLEMENTED:
                    raise
                notes.append(f"{name}.{model.document['name']}: {exc.details.get('errmsg')}")
    if is_ferretdb():  # the orders' slim key index lives there only (key_index.py)
        key_index.create(db)
    return notes
