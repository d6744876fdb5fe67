"""Order forms (團購表單): a seller publishes a form for a batch; buyers order for
themselves through a public link. All access to `forms` lives here.

A link is `PUBLIC_SITE_URL/form.html#<token>`; only the token's SHA-256 is stored (like
tracking links), so a new link retires the old one at once and a leaked database holds
no working links. The token is derived from the form's `link_nonce` under a key from the
server secret (platform.link_tokens), so the seller's pages can show it again. The form copies the shop's name, currency, language and time zone, so
the public page is one read of the form and one of its items.

A submission (`submit`) makes one order per line in the form's batch, for the customer
found or created by the contact the form asks for (`contact`: email, phone, LINE ID, or
any one of them), all or nothing:
1. checks (form open, the lines are the form's, phone/address when asked), then the
   client address's rate limit (10 an hour) and the Idempotency-Key's claim;
2. the buyer's limits: one conditional update of the customer (created if new) adds this
   submission's units per item to `form_taken` only if every line stays within its
   `max_per_buyer`; so two submissions of one buyer at once cannot both pass. By email
   that is one upsert (the unique email index makes one customer); by phone or LINE ID,
   which no index keeps unique, the find-or-create holds the contact's lock
   (`_take_limits_by_contact`);
3. stock, line by line (items.take_stock, the same conditional update as POST /orders);
4. order numbers, then one insert of all the orders.
A refusal at 2-4 undoes what was taken before it and names the line; any failure also
deletes a customer this submission created, and a failure that is not a refusal gives
back its rate-limit slot.
5. its tracking link (tracking.form_link): this submission's orders only, unless the
   customer is new; a known customer is emailed their whole page instead (after the
   write: `FormOrderPlaced`, handled by notifications).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bson import ObjectId

from chalicelib.buyers import customers
from chalicelib.catalog import batches, items
from chalicelib.money import charge_book, charges, payments
from chalicelib.orderbook import repository
from chalicelib.platform import bus, clock, idempotency, link_tokens, mongo, ratelimit, store
from chalicelib.platform.config import get_settings
from chalicelib.platform.db import get_db, is_duplicate_key, own
from chalicelib.platform.errors import (
    Conflict,
    DomainError,
    Gone,
    Invalid,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from chalicelib.platform.ids import object_id
from chalicelib.platform.listing import page
from chalicelib.platform.locks import held
from chalicelib.platform.money import from_cents
from chalicelib.platform.principal import Principal
from chalicelib.platform.schemas import ListQuery
from chalicelib.rules import allocation, contacts
from chalicelib.rules.order_rules import BY_FORM, NEW_ORDER_STATUS, total_amount
from chalicelib.sales.orders import order_document, reserve_order_numbers
from chalicelib.sales.schemas import (
    FormIn,
    FormOrderIn,
    FormOut,
    FormPatch,
    OrderIn,
    PublicFormOut,
    check_extend,
)
from chalicelib.tracking import tracking

log = logging.getLogger(__name__)

LINK_PURPOSE = "form"  # link_tokens purpose of form links
SUBMISSIONS_PER_HOUR = 10  # per client address
SUBMISSION_WINDOW = dt.timedelta(hours=1)
# The shop as the form's buyers see it (shop_changed keeps the copy current); forms made
# before payment_instructions was copied read it from the seller (_seller).
SHOP_FIELDS = ("shop_name", "currency", "language", "timezone", "payment_instructions")
# How a form's `contact` finds the buyer: the stored field of each contact it may use, in
# the order tried ("any": email first, then phone, then LINE ID).
FINDS_BY = {
    "email": ("email",),
    "phone": ("phone",),
    "line_id": ("line_id",),
    "any": ("email", "phone", "line_id"),
}
STORED_KEY = {"email": "email_lower", "phone": "phone", "line_id": "line_id_key"}


@dataclass(frozen=True)
class Buyer:
    """Who a submission is from: the contacts to store on a new customer (normalised) and
    the (stored field, value) pairs the customer is looked up by, in order."""

    contact: contacts.Contact
    by: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class FormOrderPlaced(bus.Event):
    """A submission's orders are written: the buyer is emailed their whole tracking page
    (`whole`: the customer is the submission's own, so the answer's link is that page;
    else a new emailed link). Not retried nor kept for a replay: nothing claims this
    email, a second one would be worse than none, and the answer carries a working link."""

    keep: ClassVar[bool] = False

    form_id: ObjectId
    submission_id: ObjectId
    customer_id: ObjectId
    whole: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def form_url(token: str) -> str:
    return f"{get_settings().public_site_url}/form.html#{token}"


def current_url(form: dict) -> str | None:
    """The form's link, recomputed; None for a form made before links had a nonce (or
    under another JWT_SECRET) until its "new link"."""
    token = link_tokens.shown(LINK_PURPOSE, form)
    return form_url(token) if token else None


# --- the seller's side --------------------------------------------------------------


def _item_rows(form: dict, stock: dict[ObjectId, dict], ordered: dict) -> list[dict]:
    """The form's items as the pages show them (name, price and stock as they are now,
    units ordered against the minimum); an item deleted since is left out."""
    rows = []
    outcomes = form.get("outcomes") or {}
    for entry in form["items"]:
        item = stock.get(entry["item_id"])
        if item is None:
            continue
        variants = [
            {
                "id": v["id"],
                "label": v["label"],
                "price": from_cents(items.price_of(item, v)),
                "remaining": items.stock_left(item, v["id"]),
            }
            for v in item.get("variants") or []
        ]
        tracked = [v["remaining"] for v in variants if v["remaining"] is not None]
        rows.append(
            {
                "item_id": str(item["_id"]),
                "item_name": item["item_name"],
                "price": from_cents(item["price"]),
                "max_per_buyer": entry.get("max_per_buyer"),
                "remaining": (sum(tracked) if tracked else None) if variants else item.get("stock"),
                "variants": variants,
                "min_quantity": entry.get("min_quantity"),
                "ordered": ordered.get((form["_id"], entry["item_id"]), 0),
                "outcome": outcomes.get(str(entry["item_id"])),
                "photo_url": items.first_photo_url(item),
            }
        )
    return rows


def ordered_units(seller_id: ObjectId, form_ids: list[ObjectId]) -> dict[tuple[ObjectId, ObjectId], int]:
    """(form, item) → units in the forms' live orders (a cancelled order holds none)."""
    if not form_ids:
        return {}
    out: dict[tuple[ObjectId, ObjectId], int] = {}
    for o in get_db().orders.find(
        {"seller_id": seller_id, "form_id": {"$in": form_ids}, "fulfillment_status": {"$ne": "cancelled"}},
        {"form_id": 1, "item_id": 1, "quantity": 1},
    ):
        key = (o["form_id"], o.get("item_id"))
        out[key] = out.get(key, 0) + o["quantity"]
    return out


def _items_of(seller_id: ObjectId, forms: list[dict]) -> dict[ObjectId, dict]:
    ids = list({e["item_id"] for f in forms for e in f["items"]})
    if not ids:
        return {}
    found = get_db().items.find(
        {"_id": {"$in": ids}, "seller_id": seller_id},
        {"item_name": 1, "price": 1, "stock": 1, "variants": 1, "variant_stock": 1, "photos": 1},
    )
    return {i["_id"]: i for i in found}


def _counts(seller_id: ObjectId, form_ids: list[ObjectId]) -> dict[ObjectId, tuple[int, int]]:
    """Per form: (submissions, orders), from the orders themselves (nothing to keep in step)."""
    if not form_ids:
        return {}
    out: dict[ObjectId, list] = {}
    for o in get_db().orders.find(
        {"seller_id": seller_id, "form_id": {"$in": form_ids}}, {"form_id": 1, "submission_id": 1}
    ):
        subs, n = out.setdefault(o["form_id"], [set(), 0])
        subs.add(o.get("submission_id"))
        out[o["form_id"]][1] = n + 1
    return {fid: (len(subs), n) for fid, (subs, n) in out.items()}


def _out(form: dict, stock: dict, counts: dict, ordered: dict) -> dict:
    subs, n = counts.get(form["_id"], (0, 0))
    return FormOut.model_validate(
        {
            "id": str(form["_id"]),
            "url": current_url(form),
            "title": form["title"],
            "description": form.get("description"),
            "batch": form["batch"],
            "items": _item_rows(form, stock, ordered),
            "closes_at": clock.iso(form["closes_at"]) if form.get("closes_at") else None,
            "closed": bool(form.get("closed")),
            "on_min_unmet": form.get("on_min_unmet") or "cancel",
            "extend_days": form.get("extend_days"),
            "extended": bool(form.get("extended")),
            "cancelled_buyers": [
                {"customer_id": str(b["customer_id"]), "name": b["name"], "emailed": bool(b.get("emailed"))}
                for b in form.get("cancelled_buyers") or []
            ],
            "contact": form.get("contact") or "email",
            "ask_phone": bool(form.get("ask_phone")),
            "ask_address": bool(form.get("ask_address")),
            "shipping": shipping_out(form),
            "submission_count": subs,
            "order_count": n,
            "created_at": clock.iso(form["created_at"]),
            "updated_at": clock.iso(form["updated_at"]),
        }
    ).model_dump()


NO_SHIPPING = {"mode": "none", "fee": None}  # a form made before shipping rules


def _shipping(rule) -> dict:
    """The stored rule (fee in cents, flat only) of a FormShippingIn; None: no shipping."""
    return rule.model_dump() if rule is not None else dict(NO_SHIPPING)


def flat_fee(form: dict) -> int:
    """The fee in cents each submission is charged (0: none, or billed later)."""
    rule = form.get("shipping") or NO_SHIPPING
    return rule["fee"] if rule["mode"] == "flat" else 0


def shipping_out(form: dict) -> dict:
    rule = form.get("shipping") or NO_SHIPPING
    fee = rule.get("fee")
    return {"mode": rule["mode"], "fee": from_cents(fee) if fee is not None else None}


def _one_out(form: dict) -> dict:
    seller_id, ids = form["seller_id"], [form["_id"]]
    return _out(form, _items_of(seller_id, [form]), _counts(seller_id, ids), ordered_units(seller_id, ids))


def _checked_items(seller_id: ObjectId, entries: list) -> list[dict]:
    """The form's items, each the seller's own (404 names none of another seller's)."""
    ids = [object_id(e.item_id, "item") for e in entries]
    found = {i["_id"] for i in get_db().items.find({"_id": {"$in": ids}, "seller_id": seller_id}, {"_id": 1})}
    missing = [n for n, i in enumerate(ids) if i not in found]
    if missing:
        raise NotFound(
            "item not found",
            details=[
                {"field": f"items[{n}].item_id", "code": "not_found", "message": "no such item"}
                for n in missing
            ],
        )
    return [
        {"item_id": i, "max_per_buyer": e.max_per_buyer, "min_quantity": e.min_quantity}
        for i, e in zip(ids, entries, strict=True)
    ]


def _shop(principal: Principal) -> dict:
    seller = get_db().sellers.find_one({"_id": object_id(principal.seller_id)}, dict.fromkeys(SHOP_FIELDS, 1))
    if seller is None:
        raise NotFound("seller not found")
    defaults = {
        "currency": tracking.DEFAULT_CURRENCY,
        "language": tracking.DEFAULT_LANGUAGE,
        "timezone": clock.DEFAULT_TZ,
    }
    return {k: seller.get(k) or defaults.get(k) for k in SHOP_FIELDS}


def create(principal: Principal, data: FormIn) -> dict:
    """POST /forms: the answer carries the link's URL (so does every read of the form)."""
    seller_id = object_id(principal.seller_id)
    batches.check_open(batches.read(seller_id, data.batch))
    entries = _checked_items(seller_id, data.items)
    _, secret = link_tokens.new(LINK_PURPOSE)
    now = clock.now()
    form = {
        "_id": ObjectId(),
        "seller_id": seller_id,
        **secret,
        "batch": data.batch,
        "title": data.title,
        "description": data.description or None,
        "items": entries,
        "closes_at": data.closes_at,
        "closed": False,
        "ask_phone": data.ask_phone,
        "ask_address": data.ask_address,
        "contact": data.contact,
        "shipping": _shipping(data.shipping),
        "on_min_unmet": data.on_min_unmet,
        "extend_days": data.extend_days,
        "shop": _shop(principal),
        "created_at": now,
        "updated_at": now,
    }
    get_db().forms.insert_one(form)
    return _one_out(form)


def _own(principal: Principal, form_id: str) -> dict:
    return own("forms", object_id(principal.seller_id), form_id, "form")


def get(principal: Principal, form_id: str) -> dict:
    return _one_out(_own(principal, form_id))


def search(principal: Principal, params: ListQuery) -> dict:
    """GET /forms: newest first, a page of them with their items and counts."""
    seller_id = object_id(principal.seller_id)
    result = page(get_db().forms, {"seller_id": seller_id}, params.limit, params.cursor, lambda d: d)
    forms = result["items"]
    ids = [f["_id"] for f in forms]
    stock, counts, ordered = (
        _items_of(seller_id, forms),
        _counts(seller_id, ids),
        ordered_units(seller_id, ids),
    )
    return {**result, "items": [_out(f, stock, counts, ordered) for f in forms]}


def update(principal: Principal, form_id: str, patch: FormPatch) -> dict:
    """PATCH /forms/{id}: `closed: true` stops submissions at once (the next one is 410)."""
    seller_id = object_id(principal.seller_id)
    changes = patch.model_dump(exclude_unset=True)
    if "items" in changes:
        changes["items"] = _checked_items(seller_id, patch.items)
    if "description" in changes:
        changes["description"] = changes["description"] or None
    if "shipping" in changes:  # for later submissions: charges already made stay as they are
        changes["shipping"] = _shipping(patch.shipping)
    query: dict[str, Any] = {"_id": object_id(form_id, "form"), "seller_id": seller_id}
    if "on_min_unmet" in changes or "extend_days" in changes:
        _check_rule(_own(principal, form_id), changes)
    if "closes_at" in changes and changes["closes_at"] != _stored_close(_own(principal, form_id)):
        # A new close time (the editor sends the one it shows with every save: that is no
        # change): the close, and its minimum rule, runs again then.
        changes["settled"] = False
    changes["updated_at"] = clock.now()
    form = get_db().forms.find_one_and_update(
        query,
        {"$set": changes},
        return_document=mongo.ReturnDocument.AFTER,
    )
    if form is None:
        raise NotFound("form not found")
    return _one_out(form)


def _stored_close(form: dict) -> dt.datetime | None:
    closes = form.get("closes_at")
    if closes is not None and closes.tzinfo is None:
        closes = closes.replace(tzinfo=dt.UTC)  # mongomock hands back naive UTC
    return closes


def _check_rule(form: dict, changes: dict) -> None:
    """The minimum rule a PATCH leaves must hold (400 naming extend_days: extend without
    days, days with cancel); switching to cancel drops the days."""
    rule = changes.get("on_min_unmet", form.get("on_min_unmet") or "cancel")
    days = changes["extend_days"] if "extend_days" in changes else form.get("extend_days")
    if rule == "cancel" and "on_min_unmet" in changes and "extend_days" not in changes:
        changes["extend_days"] = days = None  # back to cancel: the days go with extend
    try:
        check_extend(rule, days)
    except Invalid as exc:
        raise ValidationFailed(
            exc.message, details=[{"field": "extend_days", "code": exc.code, "message": exc.message}]
        ) from None


def new_link(principal: Principal, form_id: str) -> dict:
    """POST /forms/{id}/link: a new URL; the old one stops working with this write (the
    nonce and the hash change together, in one document write)."""
    token, secret = link_tokens.new(LINK_PURPOSE)
    form = get_db().forms.find_one_and_update(
        {"_id": object_id(form_id, "form"), "seller_id": object_id(principal.seller_id)},
        {"$set": {**secret, "updated_at": clock.now()}},
    )
    if form is None:
        raise NotFound("form not found")
    return {"url": form_url(token)}


def shop_changed(event) -> None:
    """auth.ShopProfileChanged: shop name, currency, language, zone or payment
    instructions changed; the public forms (and the links their submissions make) show
    the shop as it is now. Cleared instructions are cleared; the other fields keep their
    copy when unset."""
    if not set(event.fields) & set(SHOP_FIELDS):
        return
    seller = get_db().sellers.find_one({"_id": event.seller_id}, dict.fromkeys(SHOP_FIELDS, 1))
    if seller is None:
        return
    shown = {k: seller[k] for k in SHOP_FIELDS if seller.get(k)}
    shown["payment_instructions"] = seller.get("payment_instructions")
    get_db().forms.update_many(
        {"seller_id": seller["_id"]}, {"$set": {f"shop.{k}": v for k, v in shown.items()}}
    )


# --- the close (sales/closing.py runs it; the writes of `forms` stay here) -----------

CLOSE_LEASE = dt.timedelta(minutes=10)  # a run that died mid-close is taken over after this


def due(now: dt.datetime, limit: int = 200) -> list[dict]:
    """Forms whose closes_at has passed and whose close has not run (oldest first)."""
    return list(
        get_db()
        .forms.find({"closes_at": {"$lte": now}, "settled": {"$ne": True}})
        .sort([("closes_at", 1), ("_id", 1)])
        .limit(limit)
    )


def claim_close(form: dict, plan: dict, now: dt.datetime) -> dict | None:
    """Take the form's close for this run: one conditional update that matches only while
    the close is not settled, its closes_at is the one read, and no other run holds it
    (or its lease ran out: that run died). Returns the form as it was before (its
    earlier `closing.plan`, if a dead run left one), or None when another run has it."""
    return store.find_one_and_update(
        get_db().forms,
        {
            "_id": form["_id"],
            "closes_at": form["closes_at"],
            "settled": {"$ne": True},
            "$or": [{"closing": None}, {"closing.until": {"$lt": now}}],
        },
        {"$set": {"closing": {"until": now + CLOSE_LEASE, "plan": plan}}},
        lock=store.form_close_key(form["_id"]),
    )


def extend_close(form: dict, days: int, outcomes: dict[str, str]) -> None:
    """The minimum rule "extend": the close moves once; the form takes orders again."""
    get_db().forms.update_one(
        {"_id": form["_id"]},
        {
            "$set": {
                "closes_at": form["closes_at"] + dt.timedelta(days=days),
                "extended": True,
                "outcomes": outcomes,
                "updated_at": clock.now(),
            },
            "$unset": {"closing": ""},
        },
    )


def settle_close(form: dict, outcomes: dict[str, str], cancelled_buyers: list[dict]) -> None:
    """The close is done: the form stays closed, with what happened to each item and the
    buyers whose orders were cancelled (shown to the seller)."""
    get_db().forms.update_one(
        {"_id": form["_id"]},
        {
            "$set": {
                "closed": True,
                "settled": True,
                "outcomes": outcomes,
                "cancelled_buyers": cancelled_buyers,
                "updated_at": clock.now(),
            },
            "$unset": {"closing": ""},
        },
    )


def reminders_due(
    now: dt.datetime, soon: dt.timedelta, due_after: dt.timedelta, limit: int = 200
) -> list[dict]:
    """Forms with a reminder to send: closing within `soon` and not told yet, or closed
    (settled) `due_after` to `due_after` + 2 days ago and their payment reminder not sent."""
    return list(
        get_db()
        .forms.find(
            {
                "$or": [
                    {"closes_at": {"$gt": now, "$lte": now + soon}, "reminded.closing_soon": {"$ne": True}},
                    {
                        # Within a 2-day window: forms that closed long before (before
                        # this reminder existed, or while the schedule was down) are left.
                        "closes_at": {"$lte": now - due_after, "$gt": now - due_after - dt.timedelta(days=2)},
                        "settled": True,
                        "reminded.payment_due": {"$ne": True},
                    },
                ]
            }
        )
        .limit(limit)
    )


def mark_reminded(form_id: ObjectId, kind: str) -> None:
    """The form's `kind` reminder went out (each buyer's own record says who got it)."""
    get_db().forms.update_one({"_id": form_id}, {"$set": {f"reminded.{kind}": True}})


# --- the buyer's side ---------------------------------------------------------------


def _open_form(token: str) -> dict:
    """The form of a link: 404 for an unknown (or retired) token, 410 once it is closed."""
    if not token or len(token) > 100 or not token.isascii():
        raise NotFound("form not found")
    form = get_db().forms.find_one({"token_hash": hash_token(token)})
    if form is None:
        raise NotFound("form not found")
    closes = form.get("closes_at")
    if closes is not None and closes.tzinfo is None:
        closes = closes.replace(tzinfo=dt.UTC)  # mongomock hands back naive UTC
    if form.get("closed") or (closes is not None and closes <= clock.now()):
        raise Gone("this order form is closed", code="form_closed")
    return form


def public(token: str) -> dict:
    """GET /f/{token}: what the buyer's page shows. Three reads: the form, its items, the
    units its live orders hold (progress against each minimum)."""
    form = _open_form(token)
    shop = form["shop"]
    return PublicFormOut.model_validate(
        {
            "shop_name": shop["shop_name"],
            "title": form["title"],
            "description": form.get("description"),
            "closes_at": clock.iso(form["closes_at"]) if form.get("closes_at") else None,
            "currency": shop["currency"],
            "language": shop["language"],
            "contact": form.get("contact") or "email",
            "ask_phone": bool(form.get("ask_phone")),
            "ask_address": bool(form.get("ask_address")),
            "shipping": shipping_out(form),
            "items": _item_rows(
                form, _items_of(form["seller_id"], [form]), ordered_units(form["seller_id"], [form["_id"]])
            ),
        }
    ).model_dump()


def _line_error(index: int, field: str, code: str, message: str, **extra: Any) -> list[dict]:
    return [{"field": f"lines[{index}].{field}", "code": code, "message": message, **extra}]


def _buyer(form: dict, data: FormOrderIn) -> tuple[Buyer | None, list[dict]]:
    """The submission's contacts, or the 400 details: the contact the form asks for is
    required ("any": one of the three, `contact_required`), a phone must read as one.
    A new customer keeps every contact typed except an email the form does not find
    buyers by (it could be another customer's, and emails are unique per seller)."""
    mode = form.get("contact") or "email"
    details: list[dict] = []
    try:
        phone = contacts.normalize_phone(data.phone) if (data.phone or "").strip() else None
    except Invalid as exc:
        phone = None
        details.append({"field": "phone", "code": exc.code, "message": exc.message})
    try:
        line_id = contacts.normalize_line_id(data.line_id) if (data.line_id or "").strip() else None
    except Invalid as exc:
        line_id = None
        details.append({"field": "line_id", "code": exc.code, "message": exc.message})
    typed = {"email": data.email, "phone": phone, "line_id": line_id}
    kinds = FINDS_BY[mode]
    if mode == "any":
        if not any((data.email, data.phone, data.line_id)):
            details.append(
                {
                    "field": "email",
                    "code": "contact_required",
                    "message": "give an email, a phone or a LINE ID",
                }
            )
    elif not (getattr(data, mode) or "").strip():
        details.append({"field": mode, "code": "required_by_form", "message": "this form asks for it"})
    if details:
        return None, details
    contact = contacts.Contact(email=data.email if "email" in kinds else None, phone=phone, line_id=line_id)
    if getattr(data, "remind", False) and not contact.email:
        # Reminders go by email only: a LINE-only buyer is not offered them (docs/api.md).
        return None, [
            {
                "field": "remind",
                "code": "remind_needs_email",
                "message": "reminders go by email: give an email (on a form that asks for one)",
            }
        ]
    by = [(STORED_KEY[k], contact.keys()[STORED_KEY[k]]) for k in kinds if typed[k]]
    return Buyer(contact, by), []


@dataclass(frozen=True)
class _Typed:
    name: str
    address: str | None = None


def check_contact(form: dict, data) -> Buyer:
    """The waitlist's contact check, as a submission's (400 naming the field)."""
    buyer, details = _buyer(form, data)
    if details:
        raise ValidationFailed("the contact does not fit the form", details=details)
    return buyer


def take_buyer(form: dict, name: str, buyer: Buyer, order_id: ObjectId) -> dict:
    """The customer a waitlist order is for, found or created as a submission finds it
    (by the form's contact; `order_id` marks one it creates), with no limits taken."""
    data = _Typed(name)  # what a new customer is made from (_new_customer)
    if (form.get("contact") or "email") == "email":
        return _take_limits(form, {}, data, buyer, {}, order_id)
    return _take_limits_by_contact(form, {}, data, buyer, {}, order_id)


def open_form(token: str) -> dict:
    """The form of a public link (404 unknown, 410 closed), for the waitlist."""
    return _open_form(token)


def is_open(form: dict) -> bool:
    closes = _stored_close(form)
    return not form.get("closed") and (closes is None or closes > clock.now())


def _check(form: dict, data: FormOrderIn) -> tuple[dict[ObjectId, dict], Buyer]:
    """400s before anything is written: the contact, asked fields present, every line on
    the form."""
    buyer, details = _buyer(form, data)
    details += [
        {"field": f, "code": "required_by_form", "message": "this form asks for it"}
        for f, asked in (("phone", form.get("ask_phone")), ("address", form.get("ask_address")))
        if asked and not (getattr(data, f) or "").strip() and not any(d["field"] == f for d in details)
    ]
    entries = {e["item_id"]: e for e in form["items"]}
    for i, line in enumerate(data.lines):
        if ObjectId(line.item_id) not in entries:
            details += _line_error(i, "item_id", "not_in_form", "this item is not on the form")
    if details:
        raise ValidationFailed("the order does not fit the form", details=details)
    return entries, buyer


def submit(token: str, data: FormOrderIn, client: str, idempotency_key: str | None) -> tuple[dict, bool]:
    """POST /f/{token}/orders. Returns ({order_nos, total_amount, tracking_url}, created);
    a repeated Idempotency-Key returns the first submission's orders and the same link
    (recomputed: tracking.form_link_again), and sends nothing."""
    form = _open_form(token)
    entries, buyer = _check(form, data)
    submission_id = ObjectId()
    # The rate limit is taken by the key's owner only: a repeat (a double tap, a retry
    # after a lost answer) is answered without counting against it.
    return idempotency.once(
        idempotency.claim_id(f"form:{form['_id']}", idempotency_key),
        submission_id,
        lambda sid: _submission(form, sid, data.name),
        lambda: _submit(form, entries, data, buyer, submission_id, client),
        written=lambda: get_db().orders.find_one({"_id": submission_id}, {"_id": 1}) is not None,
    )


ANSWER_FIELDS = {
    "order_no": 1,
    "total_amount": 1,
    "customer_id": 1,
    "paid_amount": 1,
    "payment_status": 1,
    "fulfillment_status": 1,
    "form_fee": 1,
    "credit_held": 1,
}


def _submission(form: dict, submission_id: ObjectId, typed_name: str) -> dict | None:
    """A repeated key's answer: the first request's orders, and its flat fee's charge,
    made now if that request died between its orders and its charge (never again once
    one was made: the seller may have voided it)."""
    made = list(
        get_db().orders.find({"seller_id": form["seller_id"], "submission_id": submission_id}, ANSWER_FIELDS)
    )
    if not made:
        return None  # the owner is still at work (idempotency.claim_or_find waits)
    customer_id = made[0]["customer_id"]
    charge = _charge_of(form["seller_id"], customer_id, submission_id)
    fee = made[0].get("form_fee", 0)  # the rule when it was sent, not the form's now
    if charge is None and fee:
        charge = _charge_fee(form, fee, customer_id, submission_id, held=bool(made[0].get("credit_held")))
    customer = {"_id": customer_id, "name": typed_name}
    url = tracking.form_link_again(_seller(form), customer, submission_id)
    return _answer(made, charge, url)


def _charge_of(seller_id: ObjectId, customer_id: ObjectId, submission_id: ObjectId) -> dict | None:
    """The charge a submission made, open or void (one read, the buyer's charges index)."""
    return charge_book.find(
        {"seller_id": seller_id, "customer_id": customer_id, "submission_id": submission_id}
    )


def _charge_fee(form: dict, fee: int, customer_id: ObjectId, submission_id: ObjectId, *, held: bool) -> dict:
    """The flat fee (cents) as one `shipping` charge of this submission; its key makes a
    repeat (a retry, a double tap) return the first. `held`: as the submission's orders
    (_orders), left for the seller to pay from the buyer's credit."""
    return charges.add(
        form["seller_id"],
        charges.AddCharge(
            customer_id=customer_id,
            amount=fee,
            kind="shipping",
            note=form["title"],
            batch=form["batch"],
            submission_id=submission_id,
            key=f"submission:{submission_id}",
            credit_held=held,
        ),
    )


def _answer(orders: list[dict], charge: dict | None, url: str) -> dict:
    """`total_amount`: the orders'; `shipping_fee`: the charge's (0 without one);
    `balance`: what this submission still owes, its orders and its charge."""
    owed = sum(allocation.balance_of(o) for o in orders)
    if charge is not None:
        owed += allocation.balance_of(charge)
    return {
        "order_nos": sorted(o["order_no"] for o in orders),
        "total_amount": from_cents(sum(o["total_amount"] for o in orders)),
        "shipping_fee": from_cents(charge["amount"] if charge is not None else 0),
        "balance": from_cents(owed),
        "tracking_url": url,
    }


def _seller(form: dict) -> dict:
    """The shop as the submission's tracking link copies it."""
    shop = form["shop"]
    if "payment_instructions" not in shop:  # a form made before the copy had them
        seller = get_db().sellers.find_one({"_id": form["seller_id"]}, {"payment_instructions": 1}) or {}
        shop = {**shop, "payment_instructions": seller.get("payment_instructions")}
    return {"_id": form["seller_id"], **shop}


def _submit(
    form: dict, entries: dict, data: FormOrderIn, buyer: Buyer, submission_id: ObjectId, client: str
) -> dict:
    """The owner's submission. A failure undoes what it did: the customer it created (when
    nothing else came to it meanwhile) and, unless it was a refusal (4xx: an answer about
    stock or limits, which the hourly limit keeps from being probed without end), its
    rate-limit slot."""
    slot = ratelimit.take("form-submit", client, SUBMISSIONS_PER_HOUR, SUBMISSION_WINDOW)
    if slot is None:
        raise RateLimited("at most 10 orders an hour from one place; try again later")
    made: list[dict] = []
    try:
        return _submit_counted(form, entries, data, buyer, submission_id, made)
    except BaseException as exc:
        try:  # best effort: the original error is the answer, whatever happens here
            if not (isinstance(exc, DomainError) and exc.status < 500):
                ratelimit.release(slot)
            if made and made[0].get("created_by_submission") == submission_id:
                _drop_new_customer(form, made[0], submission_id)
        except mongo.PyMongoError:
            log.warning("form submission %s not fully undone", submission_id, exc_info=True)
        raise


def _drop_new_customer(form: dict, customer: dict, submission_id: ObjectId) -> None:
    """Delete the customer a failed submission created, unless another submission found
    it since (`form_submission` is then theirs) or it has orders or payments."""
    db = get_db()
    with store.serialized(_limits_key(form["seller_id"], customer)):
        if db.orders.find_one({"customer_id": customer["_id"]}, {"_id": 1}) is not None:
            return
        if db.payments.find_one({"customer_id": customer["_id"]}, {"_id": 1}) is not None:
            return
        db.customers.delete_one(
            {"_id": customer["_id"], "created_by_submission": submission_id, "form_submission": submission_id}
        )


def _submit_counted(
    form: dict, entries: dict, data: FormOrderIn, buyer: Buyer, submission_id: ObjectId, made: list[dict]
) -> dict:
    db = get_db()
    seller_id = form["seller_id"]
    shop = form["shop"]
    line_ids = [ObjectId(line.item_id) for line in data.lines]
    stock = {
        i["_id"]: i
        for i in db.items.find(
            {"_id": {"$in": line_ids}, "seller_id": seller_id},
            {
                "item_name": 1,
                "price": 1,
                "stock": 1,
                "seller_id": 1,
                "cost": 1,
                "cost_currency": 1,
                "variants": 1,
                "variant_stock": 1,
            },
        )
    }
    for i, item_id in enumerate(line_ids):
        if item_id not in stock:
            raise Conflict(
                "an item of this form is no longer sold",
                code="item_unavailable",
                details=_line_error(i, "item_id", "item_unavailable", "the item was deleted"),
            )
    variants = [
        items.variant_of(stock[item_id], line.variant_id, f"lines[{i}].variant_id")
        for i, (item_id, line) in enumerate(zip(line_ids, data.lines, strict=True))
    ]
    batch = batches.read(seller_id, form["batch"])
    if batch.closed:
        raise Gone("this order form is closed", code="form_closed")

    limited: dict[ObjectId, int] = {}  # per item: the variants of one item count together
    for item_id, line in zip(line_ids, data.lines, strict=True):
        if entries[item_id].get("max_per_buyer"):
            limited[item_id] = limited.get(item_id, 0) + line.quantity
    if (form.get("contact") or "email") == "email":
        customer = _take_limits(form, entries, data, buyer, limited, submission_id)
    else:
        customer = _take_limits_by_contact(form, entries, data, buyer, limited, submission_id)
    made.append(customer)
    taken: list[tuple[ObjectId, str | None, int, ObjectId]] = []
    order_ids = [submission_id, *(ObjectId() for _ in data.lines[1:])]
    try:
        for i, (item_id, line) in enumerate(zip(line_ids, data.lines, strict=True)):
            item = stock[item_id]
            vid = variants[i]["id"] if variants[i] else None
            if not items.take_stock(item, line.quantity, vid, by=BY_FORM, order_id=order_ids[i]):
                left = items.stock_left(db.items.find_one({"_id": item_id}) or {}, vid)
                raise Conflict(
                    f"not enough stock for {item['item_name']}: {line.quantity} asked, {left} left",
                    code="insufficient_stock",
                    details=_line_error(
                        i,
                        "quantity",
                        "insufficient_stock",
                        f"{line.quantity} asked, {left} left",
                        item_name=item["item_name"],
                        **({"variant_label": variants[i]["label"]} if variants[i] else {}),
                        needed=line.quantity,
                        in_stock=left,
                    ),
                )
            if items.stock_left(item, vid) is not None:
                taken.append((item_id, vid, line.quantity, order_ids[i]))
        docs = _orders(form, customer, data, line_ids, stock, batch, submission_id, variants, order_ids)
        repository.insert_many(docs)
    except BaseException:
        for item_id, vid, units, oid in taken:
            items.return_stock(seller_id, item_id, units, vid, by=BY_FORM, order_id=oid, reason="order")
        _give_back_limits(customer, form, limited)
        raise
    docs = batches.settle_many(seller_id, docs, shop["currency"])
    # The buyer's credit pays none of it: a buyer this submission created has none, and
    # one who existed may not have sent it (_orders). The fee's charge is held alike.
    fee = docs[0]["form_fee"]
    charge = (
        _charge_fee(form, fee, customer["_id"], submission_id, held=_held(customer, submission_id))
        if fee
        else None
    )
    if customer.get("credit", 0) > 0:
        # Spending none, it still writes the cache again (a payment's may have been
        # undone by the customer's write above on FerretDB), as spending it did.
        payments.refresh_credit(seller_id, customer["_id"])
    seller = _seller(form)
    new = customer.get("created_by_submission") == submission_id
    # A known customer's page shows the name typed now, not the one the shop has on file.
    shown = customer if new else {**customer, "name": data.name}
    url = tracking.form_link(seller, shown, submission_id, whole=new)
    bus.record(FormOrderPlaced(form["_id"], submission_id, customer["_id"], whole=new))
    return _answer(docs, charge, url)


def _orders(form, customer, data, line_ids, stock, batch, submission_id, variants, order_ids) -> list[dict]:
    shop = form["shop"]
    last = reserve_order_numbers(form["seller_id"], len(line_ids))
    now = clock.now()
    ship_to = _ship_to(data)
    docs = []
    for n, (item_id, line) in enumerate(zip(line_ids, data.lines, strict=True)):
        item = stock[item_id]
        variant = variants[n]
        order = OrderIn(
            customer_id=str(customer["_id"]),
            item_id=str(item_id),
            quantity=line.quantity,
            batch=form["batch"],
            note=data.note,
        )
        cost = batches.cost_fields(*items.cost_of(item, variant), line.quantity, batch, shop["currency"])
        price = items.price_of(item, variant)
        doc = order_document(
            seller_id=form["seller_id"],
            order_no=last - len(line_ids) + 1 + n,
            customer=customer,
            item=item,
            data=order,
            unit_price=price,
            total=total_amount(line.quantity, price, 0),
            payment_status=NEW_ORDER_STATUS["payment_status"],
            fulfillment_status=NEW_ORDER_STATUS["fulfillment_status"],
            tz=shop.get("timezone") or clock.DEFAULT_TZ,
            now=now,
            cost=cost,
            variant=variant,
        )
        doc |= {
            "_id": order_ids[n],
            "source": "form",
            "form_id": form["_id"],
            "form_title": form["title"],
            "submission_id": submission_id,
            "ship_to": ship_to,
            # The flat fee this submission owes (0: none), as the form said when it was
            # sent: a retry that must still add the charge uses this, not a later rule.
            "form_fee": flat_fee(form),
        }
        if data.remind:
            doc["remind"] = True  # the buyer asked for this form's reminders (closing.py)
        if _held(customer, submission_id):
            doc["credit_held"] = True
        docs.append(doc)
    return docs


def _held(customer: dict, submission_id: ObjectId) -> bool:
    """Whether the submission's orders (and fee) wait for the seller to spend the buyer's
    credit on them: when the buyer existed before it. Anyone can type a known buyer's
    email, phone or LINE ID; paying a stranger's order from her credit would move her
    money, and the submission's page would show it paid (she has credit). So credit
    does not pay them by itself, on this submission or later (payments.pay_from_credit);
    the seller can (POST /payments/use-credit), and new money pays them as any order."""
    return customer.get("created_by_submission") != submission_id


def _taken_key(form: dict, item_id: ObjectId) -> str:
    return f"form_taken.{form['_id']}_{item_id}"


def _limits_key(seller_id: ObjectId, customer: dict) -> str:
    """The lock of a customer's `form_taken` on a server without atomic conditional
    updates: the email's (what the upsert by email holds) when there is one."""
    if customer.get("email_lower"):
        return store.customer_email_key(seller_id, customer["email_lower"])
    return store.customer_key(customer["_id"])


def _room_conditions(form: dict, entries: dict, data: FormOrderIn, limited: dict[ObjectId, int]) -> list:
    """The query conditions that keep every limited line within its limit."""
    conditions = []
    for item_id, units in limited.items():
        key = _taken_key(form, item_id)
        room = entries[item_id]["max_per_buyer"] - units
        if room < 0:
            raise _over_limit(data, entries, item_id, 0)
        conditions.append({"$or": [{key: {"$exists": False}}, {key: {"$lte": room}}]})
    return conditions


def _new_customer(form: dict, data: FormOrderIn, buyer: Buyer, submission_id: ObjectId) -> dict:
    # A customer this submission creates starts with what the buyer typed (no seller's
    # record to protect yet); a known one is never changed: see _ship_to.
    c = buyer.contact
    created = customers.customer_document(
        form["seller_id"],
        c.email,
        data.name,
        clock.now(),
        phone=c.phone,
        line_id=c.line_id,
        address=data.address or None,
    )
    return {**created, "created_by_submission": submission_id}


def _take_limits(
    form: dict,
    entries: dict,
    data: FormOrderIn,
    buyer: Buyer,
    limited: dict[ObjectId, int],
    submission_id: ObjectId,
) -> dict:
    """The customer (found or created by email) with this submission's units added to
    `form_taken`, in ONE conditional upsert: it matches only if every limited line stays
    within its limit. A customer that exists but does not match makes the upsert insert a
    second one, which the unique (seller_id, email_lower) index refuses: then the limit
    is what failed, and a read says which line. The customer is marked with the
    submission that created it (its link may show the whole customer; a failure may
    delete it) and the one that last found it (`form_submission`)."""
    coll = get_db().customers
    seller_id = form["seller_id"]
    email_lower = buyer.contact.email.lower()
    query: dict[str, Any] = {"seller_id": seller_id, "email_lower": email_lower}
    conditions = _room_conditions(form, entries, data, limited)
    if conditions:
        query["$and"] = conditions
    update: dict[str, Any] = {
        "$setOnInsert": _new_customer(form, data, buyer, submission_id),
        "$set": {"form_submission": submission_id},
    }
    if limited:
        update["$inc"] = {_taken_key(form, i): u for i, u in limited.items()}
    for _ in range(3):
        try:
            customer = store.find_one_and_update(
                coll,
                query,
                update,
                lock=store.customer_email_key(seller_id, email_lower),
                upsert=True,
                return_document=mongo.ReturnDocument.AFTER,
            )
            break
        except mongo.OperationFailure as exc:
            if not is_duplicate_key(exc):
                raise
            existing = coll.find_one({"seller_id": seller_id, "email_lower": email_lower})
            for item_id, units in limited.items():
                already = _taken(existing, form, item_id)
                if already + units > entries[item_id]["max_per_buyer"]:
                    raise _over_limit(data, entries, item_id, already) from None
            # Else two first submissions of a new email raced to create it: try again.
    else:
        raise Conflict("the order changed while saving; try again", code="concurrent_update")
    return customer


def _take_limits_by_contact(
    form: dict,
    entries: dict,
    data: FormOrderIn,
    buyer: Buyer,
    limited: dict[ObjectId, int],
    submission_id: ObjectId,
) -> dict:
    """As _take_limits, for a form that finds buyers by phone or LINE ID (or any contact):
    no unique index makes one customer of two first submissions at once, so the lookup
    and the creation hold the contacts' locks on every server. The oldest customer with
    the first contact that matches is theirs; its limits take one conditional update."""
    coll = get_db().customers
    seller_id = form["seller_id"]
    conditions = _room_conditions(form, entries, data, limited)
    with held(*(store.customer_contact_key(seller_id, f, v) for f, v in buyer.by)):
        for _ in range(3):
            customer = _oldest(seller_id, buyer.by)
            if customer is None:
                doc = _new_customer(form, data, buyer, submission_id)
                doc["form_submission"] = submission_id
                doc["form_taken"] = {f"{form['_id']}_{i}": u for i, u in limited.items()}
                try:
                    coll.insert_one(doc)
                except mongo.OperationFailure as exc:
                    if not is_duplicate_key(exc):
                        raise
                    continue  # its email was just given to a customer: found next time
                return doc
            update: dict[str, Any] = {"$set": {"form_submission": submission_id}}
            if limited:
                update["$inc"] = {_taken_key(form, i): u for i, u in limited.items()}
            query: dict[str, Any] = {"_id": customer["_id"]}
            if conditions:
                query["$and"] = conditions
            found = store.find_one_and_update(
                coll,
                query,
                update,
                lock=_limits_key(seller_id, customer),
                return_document=mongo.ReturnDocument.AFTER,
            )
            if found is not None:
                return found
            now = coll.find_one({"_id": customer["_id"]})
            for item_id, units in limited.items():
                already = _taken(now, form, item_id)
                if now is not None and already + units > entries[item_id]["max_per_buyer"]:
                    raise _over_limit(data, entries, item_id, already)
            # Else the customer was deleted meanwhile (a failed submission's own): again.
    raise Conflict("the order changed while saving; try again", code="concurrent_update")


def _oldest(seller_id: ObjectId, by: list[tuple[str, str]]) -> dict | None:
    for stored, value in by:
        found = list(
            get_db()
            .customers.find({"seller_id": seller_id, stored: value})
            .sort([("created_at", 1), ("_id", 1)])
            .limit(1)
        )
        if found:
            return found[0]
    return None


def _taken(customer: dict | None, form: dict, item_id: ObjectId) -> int:
    return ((customer or {}).get("form_taken") or {}).get(f"{form['_id']}_{item_id}", 0)


def _over_limit(data: FormOrderIn, entries: dict, item_id: ObjectId, already: int) -> Conflict:
    index = next(i for i, line in enumerate(data.lines) if ObjectId(line.item_id) == item_id)
    limit = entries[item_id]["max_per_buyer"]
    return Conflict(
        f"at most {limit} per buyer; {already} already ordered by this buyer",
        code="over_limit",
        details=_line_error(
            index,
            "quantity",
            "over_limit",
            f"at most {limit} per buyer",
            max_per_buyer=limit,
            already=already,
        ),
    )


def _give_back_limits(customer: dict, form: dict, limited: dict[ObjectId, int]) -> None:
    if limited:
        store.update_one(
            get_db().customers,
            {"_id": customer["_id"]},
            {"$inc": {_taken_key(form, i): -u for i, u in limited.items()}},
            lock=_limits_key(form["seller_id"], customer),
        )


def _ship_to(data: FormOrderIn) -> dict:
    """What the buyer typed about delivery, only the fields given: it stays on the orders
    and is offered beside the customer's own details when they are packed (a phone is
    compared as a number there: parcels._differs)."""
    typed = {"name": data.name, "phone": data.phone, "address": data.address}
    return {k: v for k, v in typed.items() if v}


def shop_of(form_id: ObjectId) -> dict | None:
    """The shop as a form's submissions show it (None: the form is gone)."""
    form = get_db().forms.find_one({"_id": form_id}, {"seller_id": 1, "shop": 1})
    return _seller(form) if form else None
