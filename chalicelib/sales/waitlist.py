"""A sold-out form item's waitlist (補貨通知): buyers queue through the public form; units
that come back go to the first waiting buyers as orders. All writes of `waitlist` live here.

Units come back as `catalog.items.StockReturned` (an order cancelled or made smaller, the
seller's new stock), handled here after the write (`stock_returned`). Serving an entry:
1. take its quantity from the item with the conditional decrement orders use
   (items.take_stock): a unit is never given twice, to a buyer or to a normal order;
2. claim the entry waiting -> served with one conditional update (under its lock on
   FerretDB): a buyer is served once; a lost claim (skipped, or served by another
   handler) gives the units back;
3. the order (`source: "waitlist"`), for the customer the form's contact finds or
   creates; its failure gives the units back and the entry waits again;
4. `WaitlistServed` tells the buyer after the write (notifications: email where they
   have one; a LINE-only buyer is listed for the seller, `emailed: false`).
An item with variants has one line per variant: an entry names its sold-out variant,
units of that variant (StockReturned's `variant_id`) serve only its line, as an order of
that variant at its price and cost.
No partial serving, no overtaking: an entry is served its whole quantity or not at all,
and a head of the line that does not fit stops the line (the units stay in stock, for
the next return or a normal order). Only entries of open forms are served.

The form's scheduled close ends its waiting entries (`close_form`: waiting -> closed,
each by the same locked conditional update as a serve's claim, so an entry is served or
closed, never both); units that come back later stay in stock. `WaitlistClosed` tells
those buyers after the write (notifications: one email where they gave one; the
seller's queue lists the others to tell by LINE).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from bson import ObjectId

from chalicelib.catalog import batches, items
from chalicelib.orderbook import repository
from chalicelib.platform import bus, clock, mongo, ratelimit, store
from chalicelib.platform.db import get_db, own
from chalicelib.platform.errors import Conflict, NotFound, RateLimited, ValidationFailed
from chalicelib.platform.ids import object_id
from chalicelib.platform.principal import Principal
from chalicelib.rules import contacts
from chalicelib.rules.order_rules import NEW_ORDER_STATUS, total_amount
from chalicelib.sales import forms
from chalicelib.sales.orders import order_document, reserve_order_numbers
from chalicelib.sales.schemas import OrderIn, WaitlistEntryOut, WaitlistIn, WaitlistJoinOut

ORDER = [("created_at", 1), ("_id", 1)]  # first come, first served
JOINS_PER_HOUR = 10  # per client address
BY_WAITLIST = "waitlist"  # the `by` of the stock movements its serving makes
JOIN_WINDOW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class WaitlistServed(bus.Event):
    """An entry became an order: its buyer is told once (notifications claims per entry)."""

    attempts: ClassVar[int] = 2

    form_id: ObjectId
    entry_id: ObjectId
    order_id: ObjectId


@dataclass(frozen=True)
class WaitlistClosed(bus.Event):
    """A form's close ended these waiting entries: each buyer is told once (the entry's
    `emailed` is claimed before the send)."""

    attempts: ClassVar[int] = 2

    form_id: ObjectId
    entry_ids: tuple


def join(token: str, data: WaitlistIn, client: str) -> dict:
    """POST /f/{token}/waitlist: 201 only while the item cannot be ordered in that
    quantity (409 `in_stock` otherwise); checks (400) write nothing. 10 an hour per
    client address, as submissions."""
    form = forms.open_form(token)
    item_id = ObjectId(data.item_id)
    if item_id not in {e["item_id"] for e in form["items"]}:
        raise ValidationFailed(
            "the item is not on the form",
            details=[{"field": "item_id", "code": "not_in_form", "message": "this item is not on the form"}],
        )
    buyer = forms.check_contact(form, data)
    item = get_db().items.find_one(
        {"_id": item_id, "seller_id": form["seller_id"]},
        {"item_name": 1, "stock": 1, "variants": 1, "variant_stock": 1},
    )
    if item is None:
        raise Conflict("the item is no longer sold", code="item_unavailable")
    variant = items.variant_of(item, data.variant_id)
    vid = variant["id"] if variant else None
    left = items.stock_left(item, vid)
    if left is None or left >= data.quantity:
        raise Conflict("the item is in stock: order it", code="in_stock")
    if ratelimit.take("form-waitlist", client, JOINS_PER_HOUR, JOIN_WINDOW) is None:
        raise RateLimited("at most 10 an hour from one place; try again later")
    c = buyer.contact
    entry = {
        "_id": ObjectId(),
        "seller_id": form["seller_id"],
        "form_id": form["_id"],
        "item_id": item_id,
        "variant_id": vid,  # its line: units of this variant only
        "variant_label": variant["label"] if variant else None,
        "name": data.name,
        "contact": {"email": c.email, "phone": c.phone, "line_id": c.line_id},
        "by": [{"field": f, "value": v} for f, v in buyer.by],  # FerretDB stores no nested arrays
        "quantity": data.quantity,
        "status": "waiting",
        "created_at": clock.now(),
    }
    if data.remind:
        entry["remind"] = True  # its order asks for the form's reminders
    get_db().waitlist.insert_one(entry)
    # Units that came back between the stock read and the insert found no one waiting.
    serve(form["seller_id"], item_id, vid)
    entry = get_db().waitlist.find_one({"_id": entry["_id"]})
    return WaitlistJoinOut.model_validate(
        {"id": str(entry["_id"]), "position": _position(entry), "status": entry["status"]}
    ).model_dump()


def _position(entry: dict) -> int:
    if entry["status"] != "waiting":
        return 0
    ahead = get_db().waitlist.count_documents(
        {
            "item_id": entry["item_id"],
            "variant_id": entry.get("variant_id"),
            "status": "waiting",
            "$or": [
                {"created_at": {"$lt": entry["created_at"]}},
                {"created_at": entry["created_at"], "_id": {"$lt": entry["_id"]}},
            ],
        }
    )
    return ahead + 1


def queue(principal: Principal, form_id: str) -> dict:
    """GET /forms/{id}/waitlist: every entry, oldest first, with its status."""
    form = own("forms", object_id(principal.seller_id), form_id, "form")
    entries = list(get_db().waitlist.find({"form_id": form["_id"]}).sort(ORDER))
    names = {
        i["_id"]: i["item_name"]
        for i in get_db().items.find(
            {"_id": {"$in": list({e["item_id"] for e in entries})}}, {"item_name": 1}
        )
    }
    order_ids = [e["order_id"] for e in entries if e.get("order_id")]
    order_nos = {
        o["_id"]: o["order_no"] for o in get_db().orders.find({"_id": {"$in": order_ids}}, {"order_no": 1})
    }
    places: dict = {}
    rows = []
    for e in entries:
        position = None
        if e["status"] == "waiting":
            line = (e["item_id"], e.get("variant_id"))
            position = places[line] = places.get(line, 0) + 1
        c = e["contact"]
        rows.append(
            WaitlistEntryOut.model_validate(
                {
                    "id": str(e["_id"]),
                    "item_id": str(e["item_id"]),
                    "item_name": names.get(e["item_id"]),
                    "variant_id": e.get("variant_id"),
                    "variant_label": e.get("variant_label"),
                    "name": e["name"],
                    "contact": contacts.Contact(**c).label(),
                    "quantity": e["quantity"],
                    "status": e["status"],
                    "position": position,
                    "order_no": order_nos.get(e.get("order_id")),
                    "emailed": e.get("emailed"),
                    "created_at": clock.iso(e["created_at"]),
                }
            ).model_dump()
        )
    return {"items": rows}


def skip(principal: Principal, form_id: str, entry_id: str) -> None:
    """DELETE /forms/{id}/waitlist/{entry_id}: a waiting entry is skipped (kept, shown as
    skipped); one served already is 409 `waitlist_served`, one the close ended 409
    `waitlist_closed`."""
    form = own("forms", object_id(principal.seller_id), form_id, "form")
    eid = object_id(entry_id, "waitlist entry")
    done = store.find_one_and_update(
        get_db().waitlist,
        {"_id": eid, "form_id": form["_id"], "status": {"$in": ["waiting", "skipped"]}},
        {"$set": {"status": "skipped", "skipped_at": clock.now()}},
        lock=store.waitlist_key(eid),
    )
    if done is None:
        entry = get_db().waitlist.find_one({"_id": eid, "form_id": form["_id"]}, {"status": 1})
        if entry is None:
            raise NotFound("waitlist entry not found")
        if entry["status"] == "closed":
            raise Conflict("the form's close ended this entry already", code="waitlist_closed")
        raise Conflict("this buyer was served already", code="waitlist_served")


def stock_returned(event: items.StockReturned) -> int:
    """items.StockReturned: serve the line of the item (of the variant whose units came back)."""
    return serve(event.seller_id, event.item_id, event.variant_id)


def serve(seller_id, item_id, variant_id: str | None = None) -> int:
    """Give the item's (variant's) units to its first waiting entries (module docstring).
    Returns how many entries this call served."""
    db = get_db()
    served = 0
    forms_seen: dict = {}
    # None also finds entries stored before variants (no field): an item without variants.
    line = {"seller_id": seller_id, "item_id": item_id, "variant_id": variant_id, "status": "waiting"}
    waiting = db.waitlist.find(line).sort(ORDER)
    for entry in list(waiting):
        form = forms_seen.get(entry["form_id"])
        if form is None:
            form = forms_seen[entry["form_id"]] = db.forms.find_one({"_id": entry["form_id"]}) or {}
        if not form or not forms.is_open(form):
            continue
        item = items.find_for_order(seller_id, item_id)
        if item is None or items.stock_left(item, variant_id) is None:
            return served
        variant = next((v for v in item.get("variants") or [] if v["id"] == variant_id), None)
        if (variant is None) != (variant_id is None):
            return served  # the variant was removed, or the item's variants changed
        if not items.take_stock(item, entry["quantity"], variant_id, by=BY_WAITLIST):
            return served  # the head does not fit: no overtaking
        claimed = store.find_one_and_update(
            db.waitlist,
            {"_id": entry["_id"], "status": "waiting"},
            {"$set": {"status": "served", "served_at": clock.now()}},
            lock=store.waitlist_key(entry["_id"]),
        )
        if claimed is None:
            _give_back(seller_id, item_id, entry["quantity"], variant_id)
            continue  # skipped meanwhile, or another handler served it
        try:
            order_id = _order(form, item, variant, entry)
        except BaseException:
            _give_back(seller_id, item_id, entry["quantity"], variant_id)
            store.update_one(
                db.waitlist,
                {"_id": entry["_id"], "status": "served"},
                {"$set": {"status": "waiting"}},
                lock=store.waitlist_key(entry["_id"]),
            )
            raise
        db.waitlist.update_one({"_id": entry["_id"]}, {"$set": {"order_id": order_id}})
        bus.record(WaitlistServed(form["_id"], entry["_id"], order_id))
        served += 1
    return served


def _give_back(seller_id, item_id, units: int, variant_id: str | None) -> None:
    # Straight back to stock, with no StockReturned: this call is still serving the line.
    items.return_stock(seller_id, item_id, units, variant_id, by=BY_WAITLIST, reason="order", announce=False)


def _order(form: dict, item: dict, variant: dict | None, entry: dict) -> ObjectId:
    order_id = ObjectId()
    buyer = forms.Buyer(contacts.Contact(**entry["contact"]), [(p["field"], p["value"]) for p in entry["by"]])
    customer = forms.take_buyer(form, entry["name"], buyer, order_id)
    shop = form["shop"]
    batch = batches.read(form["seller_id"], form["batch"])
    quantity = entry["quantity"]
    price = items.price_of(item, variant)
    doc = order_document(
        seller_id=form["seller_id"],
        order_no=reserve_order_numbers(form["seller_id"], 1),
        customer=customer,
        item=item,
        data=OrderIn(
            customer_id=str(customer["_id"]), item_id=str(item["_id"]), quantity=quantity, batch=form["batch"]
        ),
        unit_price=price,
        total=total_amount(quantity, price, 0),
        payment_status=NEW_ORDER_STATUS["payment_status"],
        fulfillment_status=NEW_ORDER_STATUS["fulfillment_status"],
        tz=shop.get("timezone") or clock.DEFAULT_TZ,
        now=clock.now(),
        cost=batches.cost_fields(*items.cost_of(item, variant), quantity, batch, shop["currency"]),
        variant=variant,
    )
    doc |= {
        "_id": order_id,
        "source": "waitlist",
        "form_id": form["_id"],
        "form_title": form["title"],
        "waitlist_entry": entry["_id"],
        "form_fee": 0,
    }
    if entry.get("remind"):
        doc["remind"] = True
    if customer.get("created_by_submission") != order_id:
        doc["credit_held"] = True  # as a form's orders: a known buyer's credit waits for the seller
    try:
        repository.insert(doc)
    except mongo.PyMongoError:
        if get_db().orders.find_one({"_id": order_id}, {"_id": 1}) is None:
            raise
    batches.settle(form["seller_id"], doc, shop["currency"])
    return order_id


def close_form(form_id: ObjectId) -> int:
    """closing._close, once the form's close is settled: its waiting entries are closed
    (not served: the group buy is over). Returns how many this call closed."""
    db = get_db()
    closed = []
    for e in db.waitlist.find({"form_id": form_id, "status": "waiting"}, {"_id": 1}):
        done = store.update_one(
            db.waitlist,
            {"_id": e["_id"], "status": "waiting"},
            {"$set": {"status": "closed", "closed_at": clock.now()}},
            lock=store.waitlist_key(e["_id"]),
        )
        if done.modified_count:
            closed.append(e["_id"])
    if closed:
        bus.record(WaitlistClosed(form_id, tuple(closed)))
    return len(closed)


def claim_closed_notice(entry_id: ObjectId, emailed: bool) -> bool:
    """notifications: record how a closed entry's buyer is told, before the send; False
    when it was recorded already (a replay, a second handler)."""
    done = store.update_one(
        get_db().waitlist,
        {"_id": entry_id, "status": "closed", "emailed": None},
        {"$set": {"emailed": emailed}},
        lock=store.waitlist_key(entry_id),
    )
    return done.modified_count == 1


def give_back_closed_notice(entry_id: ObjectId) -> None:
    """A refused send: a replay may send it."""
    get_db().waitlist.update_one({"_id": entry_id, "status": "closed"}, {"$set": {"emailed": None}})


def mark_told(entry_id: ObjectId, emailed: bool) -> None:
    """notifications: how the served buyer was told (False: the seller's queue shows them)."""
    get_db().waitlist.update_one({"_id": entry_id}, {"$set": {"emailed": emailed}})
