"""Customers (buyers) of one seller. All data access to `customers` lives here."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from bson import ObjectId

from chalicelib.buyers.schemas import BuyerIn, CustomerIn, CustomerOut, CustomerPatch, CustomerQuery
from chalicelib.platform import bus, clock, idempotency, mongo, store
from chalicelib.platform.db import get_db, is_duplicate_key, own
from chalicelib.platform.errors import Conflict, Invalid, NotFound, ValidationFailed
from chalicelib.platform.ids import object_id
from chalicelib.platform.listing import Sort, page, search_filter, sorted_page
from chalicelib.platform.locks import held
from chalicelib.platform.principal import Principal
from chalicelib.rules import contacts

FIELDS = ("name", "email", "phone", "line_id", "address", "social", "note")
NAME_SORT = Sort.parse("name")  # GET /customers?sort=name (then _id)
# What a customer's contact fields are found by (contact_fields): gone with the contact.
LOOKUP_KEYS = {"email": ("email_lower", "email_key"), "phone": (), "line_id": ("line_id_key",)}


@dataclass(frozen=True)
class CustomerChanged(bus.Event):
    """The buyer's name (`renamed`) or email changed: orders, payments, parcels and
    tracking links keep copies (lists and pages need no join). Handlers read the
    customer again (see `refresh`), so a retry or a replay is harmless."""

    attempts: ClassVar[int] = 3
    seller_id: ObjectId
    customer_id: ObjectId
    renamed: bool


@dataclass(frozen=True)
class CustomerDeleted(bus.Event):
    """Their links must not outlive them."""

    attempts: ClassVar[int] = 3
    seller_id: ObjectId
    customer_id: ObjectId


@dataclass(frozen=True)
class CustomersMerged(bus.Event):
    """`from_id` was merged into `into_id` and deleted: its orders, payments, parcels
    and links move to `into_id` (each package moves its own; a replay moves nothing
    twice: what is left under `from_id` is what still has to move)."""

    attempts: ClassVar[int] = 3
    seller_id: ObjectId
    into_id: ObjectId
    from_id: ObjectId
    from_name: str


def to_out(doc: dict) -> dict:
    return CustomerOut.from_doc(
        {
            **doc,
            "notify": doc.get("notify", True) is not False,
            "notices_opt_out": doc.get("notices_opt_out") is True,
            "credit": doc.get("credit", 0),
        }
    )


def _seller(principal: Principal):
    return object_id(principal.seller_id, "seller")


def _duplicate() -> Conflict:
    return Conflict("a customer with this email already exists", code="duplicate_email")


def email_key(seller_id, email: str) -> str:
    """What the sparse unique index `seller_email_key_unique` holds: one email per seller.
    A customer without an email has no key, so any number of them can exist (a compound
    (seller_id, email) index would count a missing email as one shared null)."""
    return f"{seller_id}:{email.lower()}"


def contact_fields(contact: contacts.Contact, seller_id) -> dict:
    """The stored fields of a buyer's contacts: each value and the form it is found by."""
    fields: dict = {"email": contact.email, "phone": contact.phone, "line_id": contact.line_id}
    if contact.email:
        fields.update(email_lower=contact.email.lower(), email_key=email_key(seller_id, contact.email))
    if contact.line_id:
        fields["line_id_key"] = contact.line_id.lower()
    return fields


def _found_by(seller_id, kind: str, value: str) -> dict:
    """The fields a stored contact of `kind` is looked up by (LOOKUP_KEYS), from contact_fields."""
    fields = contact_fields(contacts.Contact(**{kind: value}), seller_id)
    return {k: v for k, v in fields.items() if k in LOOKUP_KEYS[kind]}


def customer_document(seller_id, email: str | None, name: str | None, now, **details) -> dict:
    """The one shape of a stored customer. A buyer met only by a contact (an order, an
    import) is named after it (the part of an email before @) until the seller renames them."""
    contact = contacts.Contact(
        email=email, phone=details.pop("phone", None), line_id=details.pop("line_id", None)
    )
    doc = dict.fromkeys(FIELDS)
    doc.update(details, seller_id=seller_id, **contact_fields(contact, seller_id))
    doc["name"] = name or (email.split("@")[0] if email else contact.label())
    doc.update(created_at=now, updated_at=now)
    return doc


def create(principal: Principal, data: CustomerIn) -> dict:
    return to_out(insert(_seller(principal), data))


def insert(seller_id, data: BuyerIn, made_for: str | None = None) -> dict:
    """A new customer from a checked body (phone and LINE ID already normalised by the
    schema); 409 duplicate_email when the seller has a buyer with this email. `made_for`:
    the Idempotency-Key claim of the order that creates them (POST /orders `buyer`), so
    a retry of that order after a failure finds this customer instead of making a second."""
    details = data.model_dump(exclude={"email", "name"})
    doc = customer_document(seller_id, data.email, data.name, clock.now(), **details)
    coll = get_db().customers
    if made_for is not None:
        # Only one request holds the claim at a time (idempotency.once): a read, then an
        # insert, is enough. (Not an upsert: FerretDB's $setOnInsert leaves null fields out.)
        # A key lasts idempotency.TTL: a customer made for it earlier than that belongs to
        # an order of the key's previous life.
        since = doc["created_at"] - idempotency.TTL
        earlier = coll.find_one({"made_for": made_for, "seller_id": seller_id, "created_at": {"$gt": since}})
        if earlier is not None:
            return earlier
        doc["made_for"] = made_for
    try:
        coll.insert_one(doc)
    except mongo.DuplicateKeyError:
        raise _duplicate() from None
    return doc


def find_or_create_by_email(seller_id, email: str, name: str | None) -> dict:
    """One atomic upsert: an unknown buyer email becomes a customer (name defaults to
    the part before @). Concurrent first orders from one new buyer make one customer."""
    now = clock.now()
    query = {"seller_id": seller_id, "email_lower": email.lower()}
    update = {"$setOnInsert": customer_document(seller_id, email, name, now)}
    coll = get_db().customers
    try:
        return coll.find_one_and_update(
            query, update, upsert=True, return_document=mongo.ReturnDocument.AFTER
        )
    except mongo.OperationFailure as exc:
        if not is_duplicate_key(exc):
            raise
        return coll.find_one(query)  # lost the insert race: the other request created it


def for_order(
    seller_id,
    *,
    customer_id: str | None = None,
    email: str | None = None,
    name: str | None = None,
    buyer: BuyerIn | None = None,
    made_for: str | None = None,
) -> dict:
    """The buyer of a new order (POST /orders gives exactly one): an existing customer by
    id, the customer with this email (made when new), or a new customer from `buyer`
    (see `insert` for `made_for`)."""
    if buyer is not None:
        return insert(seller_id, buyer, made_for)
    if email is not None:
        return find_or_create_by_email(seller_id, email, name)
    customer = get_db().customers.find_one(
        {"_id": object_id(customer_id, "customer"), "seller_id": seller_id}
    )
    if customer is None:
        raise NotFound("customer not found")
    return customer


def get_doc(principal: Principal, customer_id: str) -> dict:
    return own("customers", _seller(principal), customer_id, "customer")


def get(principal: Principal, customer_id: str) -> dict:
    return to_out(get_doc(principal, customer_id))


def search(principal: Principal, params: CustomerQuery) -> dict:
    """A page of the seller's customers whose name, email, phone or LINE ID contains `q`
    (a phone in any format: `0912-345-678`, `+886 912 345 678`, a part like `345-678`),
    newest first or by name (then id; the index seller_name)."""
    query = {"seller_id": _seller(principal), **_match(params.q)}
    coll = get_db().customers
    if params.sort == "name":
        return sorted_page(coll, query, params.limit, params.cursor, to_out, NAME_SORT, text_keys=("name",))
    return page(coll, query, params.limit, params.cursor, to_out)


def _match(q: str | None) -> dict:
    found = search_filter(q, ("name", "email", "line_id"))
    digits = contacts.phone_search_digits(q) if found else None
    if digits:
        # Stored phones are E.164, so the digits typed (trunk 0 and punctuation gone) are a
        # plain substring of them.
        found["$or"].append({"phone": {"$regex": re.escape(digits)}})
    elif found:
        found["$or"].append(search_filter(q, ("phone",))["$or"][0])  # a phone kept as typed
    return found


def update(principal: Principal, customer_id: str, patch: CustomerPatch) -> dict:
    """One conditional update. A PATCH that removes contacts (sets them to null) matches
    only while one of the others is still stored, so two PATCHes removing a buyer's last
    two contacts at once cannot both win: the second gets 400 contact_required."""
    seller_id = _seller(principal)
    cid = object_id(customer_id, "customer")
    changes = patch.model_dump(exclude_unset=True)
    query: dict = {"_id": cid, "seller_id": seller_id}
    unset: dict = {}
    for kind in contacts.KINDS:
        if kind not in changes:
            continue
        if changes[kind] is None:
            unset.update(dict.fromkeys(LOOKUP_KEYS[kind], ""))
        else:
            changes.update(_found_by(seller_id, kind, changes[kind]))
    removed = [k for k in contacts.KINDS if k in changes and changes[k] is None]
    if removed and not any(changes.get(k) for k in contacts.KINDS):
        kept = [k for k in contacts.KINDS if k not in changes]
        query["$or"] = [{k: {"$type": "string"}} for k in kept]
    changes["updated_at"] = clock.now()
    update = {"$set": changes, **({"$unset": unset} if unset else {})}
    try:
        doc = store.find_one_and_update(
            get_db().customers,
            query,
            update,
            lock=store.customer_key(cid),
            return_document=mongo.ReturnDocument.AFTER,
        )
    except mongo.OperationFailure as exc:
        if not is_duplicate_key(exc):
            raise
        raise _duplicate() from None
    if doc is None:
        if get_db().customers.find_one({"_id": cid, "seller_id": seller_id}, {"_id": 1}) is None:
            raise NotFound("customer not found")
        raise ValidationFailed(
            "a buyer needs an email, a phone or a LINE ID",
            details=[
                {
                    "field": "email",
                    "code": "contact_required",
                    "message": "give an email, a phone or a LINE ID",
                }
            ],
        )
    if "name" in changes or "email" in changes:
        bus.record(CustomerChanged(doc["seller_id"], doc["_id"], renamed="name" in changes))
    return to_out(doc)


def merge(principal: Principal, customer_id: str, from_id: str) -> dict:
    """POST /customers/{id}/merge: `from_id` is the same person as `customer_id`. The
    target keeps its own details and takes those it lacks from the other; the other's
    credit and per-form counters are added to its own; the other is deleted, then
    `CustomersMerged` moves their orders, payments, parcels and links. The other is
    deleted first, so that from then on nothing new is made for it (POST /orders, a
    payment: 404) and its email is free for the target (the unique `email_key`)."""
    seller_id = _seller(principal)
    into = get_doc(principal, customer_id)
    other = own("customers", seller_id, from_id, "customer")
    if other["_id"] == into["_id"]:
        message = "a customer cannot be merged into itself"
        raise ValidationFailed(
            message, details=[{"field": "from_customer_id", "code": "same_customer", "message": message}]
        )
    # Two merges of the same customers (A into B and B into A at once) must not delete
    # both: they run one after the other, each reading both customers again.
    with held(store.merge_key(into["_id"]), store.merge_key(other["_id"])):
        into = get_doc(principal, customer_id)
        other = own("customers", seller_id, from_id, "customer")
        gains = _take_over(seller_id, into, other)
    bus.record(CustomersMerged(seller_id, into["_id"], other["_id"], other.get("name") or ""))
    if "email" in gains:  # the target's own orders carry its email too
        bus.record(CustomerChanged(seller_id, into["_id"], renamed=False))
    return to_out(get_db().customers.find_one({"_id": into["_id"]}) or into)


def _take_over(seller_id, into: dict, other: dict) -> dict:
    """Delete `other` and give `into` its credit, its form counters and the details
    `into` lacks. Returns those details."""
    coll = get_db().customers
    if coll.delete_one({"_id": other["_id"], "seller_id": seller_id}).deleted_count == 0:
        raise NotFound("customer not found")
    taken = {f"form_taken.{k}": n for k, n in (other.get("form_taken") or {}).items() if n}
    gains = {f: other[f] for f in FIELDS if f != "name" and other.get(f) and not into.get(f)}
    sets = {f: v for f, v in gains.items() if f != "email"}
    if "line_id" in sets:
        sets.update(_found_by(seller_id, "line_id", sets["line_id"]))
    sets["updated_at"] = clock.now()
    if other.get("charged"):
        sets["charged"] = True  # its charges move here (charges.customers_merged)
    inc = {"credit": other.get("credit", 0), **taken}
    coll.update_one({"_id": into["_id"], "seller_id": seller_id}, {"$set": sets, "$inc": inc})
    if "email" in gains:
        # Only while the target still has none (a PATCH may have given it one meanwhile).
        email = {"email": gains["email"], **_found_by(seller_id, "email", gains["email"])}
        try:
            coll.update_one({"_id": into["_id"], "email": None}, {"$set": email})
        except mongo.OperationFailure as exc:
            if not is_duplicate_key(exc):
                raise  # a new customer took the freed email in between: it keeps it
    return gains


def set_notices_opt_out(seller_id, customer_id, value: bool) -> bool:
    """The buyer's own switch (their tracking page): batch notices by email or not."""
    store.update_one(
        get_db().customers,
        {"_id": customer_id, "seller_id": seller_id},
        {"$set": {"notices_opt_out": value, "updated_at": clock.now()}},
        lock=store.customer_key(customer_id),
    )
    return value


def mark_charged(seller_id, customer_id) -> None:
    """The buyer may have charges (money/charges.py): set before a charge is stored or
    moved to them and never cleared, so a payment of a buyer without it need not look
    for charges (one command less on the common path)."""
    get_db().customers.update_one({"_id": customer_id, "seller_id": seller_id}, {"$set": {"charged": True}})


def refresh(event: CustomerChanged, write: Callable[[dict], None], rounds: int = 5) -> None:
    """A CustomerChanged handler's loop: write the copy from the customer as stored now,
    then read the customer again and, if a rename came meanwhile, write again. Two
    renames at once may write their copies in either order; this way the last writer
    leaves the current name. Gone customer: nothing to copy."""
    query = {"_id": event.customer_id, "seller_id": event.seller_id}
    doc = get_db().customers.find_one(query)
    for _ in range(rounds):
        if doc is None:
            return
        write(doc)
        now = get_db().customers.find_one(query)
        if now is None or (now["name"], now["email"]) == (doc["name"], doc["email"]):
            return
        doc = now


def delete(principal: Principal, customer_id: str) -> None:
    db = get_db()
    cid = object_id(customer_id, "customer")
    seller_id = _seller(principal)
    # Checked first; an order racing in after this check is the accepted gap (the
    # alternative is a multi-document transaction, which FerretDB does not have).
    if db.orders.find_one({"seller_id": seller_id, "customer_id": cid}, {"_id": 1}):
        raise Conflict("this customer has orders; cancel them instead", code="customer_has_orders")
    if db.payments.find_one({"seller_id": seller_id, "customer_id": cid}, {"_id": 1}):
        raise Conflict("this customer has payments: the ledger keeps them", code="customer_has_payments")
    if db.charges.find_one({"seller_id": seller_id, "customer_id": cid}, {"_id": 1}):
        raise Conflict("this customer has charges: the ledger keeps them", code="customer_has_charges")
    if db.customers.delete_one({"_id": cid, "seller_id": seller_id}).deleted_count == 0:
        raise NotFound("customer not found")
    bus.record(CustomerDeleted(seller_id, cid))


def migrate_contacts() -> int:
    """Customers stored before buyers could be without email (issue 25): give each email
    its `email_key` (before the unique index on it is built) and store phones in E.164
    where they can be read as one (a phone that cannot is kept as typed). Safe to run again.
    Returns how many customers changed."""
    coll = get_db().customers
    ops = []
    query = {
        "$or": [
            {"email_lower": {"$type": "string"}, "email_key": {"$exists": False}},
            {"phone": {"$regex": r"^[^+]"}},  # typed before phones were stored in E.164
        ]
    }
    for doc in coll.find(query, {"seller_id": 1, "email": 1, "phone": 1, "email_key": 1}):
        sets = {}
        if doc.get("email") and "email_key" not in doc:
            sets["email_key"] = email_key(doc["seller_id"], doc["email"])
        if doc.get("phone") and not doc["phone"].startswith("+"):
            with contextlib.suppress(Invalid):
                sets["phone"] = contacts.normalize_phone(doc["phone"])
        if sets:
            ops.append(mongo.UpdateOne({"_id": doc["_id"]}, {"$set": sets}))
    if ops:
        store.bulk_write(coll, ops)
    return len(ops)
