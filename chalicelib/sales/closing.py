"""The close of order forms (團購結單) and the minimum to open (成團門檻), run on a
schedule: a Lambda every 5 minutes in AWS, a timer in `make run` (docs/api.md "Group
buys"). Nobody has to be online when a form's closes_at passes.

`close_due_forms(now)` closes each form whose closes_at has passed. An item with a
`min_quantity` that its live orders did not reach follows the form's `on_min_unmet`:
- "extend": the close moves once by `extend_days` (the form takes orders again); at the
  next close an item still short is cancelled;
- "cancel": its orders are cancelled on the bulk path (orders.cancel_at_close: stock
  back, money on them becomes the buyer's credit), and `FormOrdersCancelled` tells the
  buyers after the write (notifications; a LINE-only buyer gets no email, the seller's
  form shows who to tell).

Twice, or two runs at once, does everything once: a run claims the form with one
conditional update (forms.claim_close, under the form's lock on FerretDB) that also
stores its plan (the orders to cancel, read before the claim: the form takes no order
after its closes_at); each cancel is a conditional write of its own; each buyer's
notice is a record keyed by form, buyer and kind, written before the send
(`claim_notice`), so a replayed event sends nothing twice. A run that died mid-close
leaves its claim, which the next run takes over when the lease (10 minutes) runs out,
with the dead run's plan added to its own.

A settled close also ends the form's waitlist (waitlist.close_form: its waiting
entries are closed and told; units that come back later stay in stock).

`send_due_reminders(now)` sends "closing soon" and "payment due" reminders to the buyers
who asked (`remind` on their orders: the public form's box), once per buyer per form per
kind by the same records; `run(now)` (what the schedule calls) does the close, then the
reminders.

All writes of `form_notices` live here.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import ClassVar

from bson import ObjectId

from chalicelib.platform import bus, clock, mongo
from chalicelib.platform.db import get_db, is_duplicate_key
from chalicelib.sales import forms, orders, waitlist

log = logging.getLogger(__name__)

MIN_UNMET = "min_unmet"  # the kind of notice a cancel at the close sends


@dataclass(frozen=True)
class FormOrdersCancelled(bus.Event):
    """A form's close cancelled these orders (items below their minimum): each of their
    buyers is told once (notifications.form_orders_cancelled claims per buyer, so a
    replay is harmless)."""

    attempts: ClassVar[int] = 2

    form_id: ObjectId
    order_ids: tuple
    paid: tuple = ()  # (order id, cents paid on it before the cancel: now credit)


CLOSING_SOON = "closing_soon"  # reminder kinds (form_notices' `kind`)
PAYMENT_DUE = "payment_due"
SOON = dt.timedelta(hours=24)  # "closing soon" goes this long before closes_at
DUE_AFTER = dt.timedelta(days=3)  # "payment due" goes this long after the close


@dataclass(frozen=True)
class FormReminderDue(bus.Event):
    """A form's reminder to the buyers who asked (`kind`: closing_soon | payment_due): each
    one who can be reached is emailed once (notifications.form_reminder claims per buyer)."""

    attempts: ClassVar[int] = 2

    form_id: ObjectId
    kind: str
    customer_ids: tuple


def run(now: dt.datetime | None = None) -> dict:
    """What the schedule runs: close due forms, then send due reminders."""
    now = now or clock.now()
    return {**close_due_forms(now), **send_due_reminders(now)}


def send_due_reminders(now: dt.datetime | None = None) -> dict:
    """Reminders to the buyers of a form who asked for them (`remind` on one of their
    orders on it: the public form's box, or a waitlist entry's): "closing soon" SOON
    before closes_at to those with a live order on it (they may add more, or tell a
    friend), "payment due" DUE_AFTER after its close to those whose orders on it still
    owe money. Who can be reached (an email on file, notices on) is the handler's
    (notifications.form_reminder). One read of the form's orders. Once per buyer per form
    per kind: the record is written before the send (claim_notice)."""
    now = now or clock.now()
    sent = {CLOSING_SOON: 0, PAYMENT_DUE: 0}
    for form in forms.reminders_due(now, SOON, DUE_AFTER):
        closes = form["closes_at"] if form["closes_at"].tzinfo else form["closes_at"].replace(tzinfo=dt.UTC)
        kind = CLOSING_SOON if closes > now else PAYMENT_DUE
        buyers = tuple(_asked(form, kind))
        if buyers:
            with bus.collecting():
                bus.record(FormReminderDue(form_id=form["_id"], kind=kind, customer_ids=buyers))
        forms.mark_reminded(form["_id"], kind)
        sent[kind] += 1
    return {"reminded_" + k: n for k, n in sent.items()}


def _asked(form: dict, kind: str) -> list[ObjectId]:
    """The buyers a `kind` reminder is for, in order of their first order: they asked on
    some order of the form (one since cancelled counts: the ask was theirs), and have a
    live order on it (owing, for "payment due")."""
    asked, due = set(), {}
    found = (
        get_db()
        .orders.find(
            {"seller_id": form["seller_id"], "form_id": form["_id"]},
            {"customer_id": 1, "remind": 1, "fulfillment_status": 1, "payment_status": 1},
        )
        .sort([("_id", 1)])
    )
    for o in found:
        if o.get("remind"):
            asked.add(o["customer_id"])
        if o.get("fulfillment_status") == "cancelled":
            continue
        if kind == CLOSING_SOON or o.get("payment_status") in ("unpaid", "partial"):
            due.setdefault(o["customer_id"], None)
    return [c for c in due if c in asked]


def close_due_forms(now: dt.datetime | None = None) -> dict:
    """The scheduled handler's work: close every due form. Returns what this run did
    (a form another run has is not counted)."""
    now = now or clock.now()
    done = {"closed": 0, "extended": 0, "cancelled_orders": 0}
    for form in forms.due(now):
        try:
            with bus.collecting():
                outcome, cancelled = _close(form, now)
        except mongo.PyMongoError:
            # One form's trouble is not the others': its lease runs out, a later run retries.
            log.exception("closing form %s failed", form["_id"])
            continue
        if outcome:
            done[outcome] += 1
            done["cancelled_orders"] += cancelled
    return done


def _short_items(form: dict) -> list[ObjectId]:
    ordered = forms.ordered_units(form["seller_id"], [form["_id"]])
    return [
        e["item_id"]
        for e in form["items"]
        if e.get("min_quantity") and ordered.get((form["_id"], e["item_id"]), 0) < e["min_quantity"]
    ]


def _close(form: dict, now: dt.datetime) -> tuple[str | None, int]:
    short = _short_items(form)
    extend = bool(short) and form.get("on_min_unmet") == "extend" and not form.get("extended")
    to_cancel = [] if extend or not short else _live_orders(form, short)
    plan = {"short": short, "cancel": [o["_id"] for o in to_cancel]}
    before = forms.claim_close(form, plan, now)
    if before is None:
        return None, 0  # another run has it, or it has changed since the read
    outcomes = {str(e["item_id"]): "met" for e in form["items"] if e.get("min_quantity")}
    if extend:
        outcomes |= {str(i): "extended" for i in short}
        forms.extend_close(form, form["extend_days"], outcomes)
        return "extended", 0
    # A run that died after its claim: its plan too (those orders may be cancelled already).
    earlier = ((before.get("closing") or {}).get("plan")) or {}
    short = list(dict.fromkeys([*short, *earlier.get("short", [])]))
    cancel_ids = list(dict.fromkeys([*plan["cancel"], *earlier.get("cancel", [])]))
    outcomes |= {str(i): "cancelled" for i in short}
    shop = form["shop"]
    result = {"updated": 0}
    if cancel_ids:
        result = orders.cancel_at_close(
            form["seller_id"], cancel_ids, shop.get("timezone") or clock.DEFAULT_TZ, shop["currency"]
        )
    forms.settle_close(form, outcomes, _buyers(form, cancel_ids))
    waitlist.close_form(form["_id"])  # the group buy is over: nobody waits on it any more
    if cancel_ids:
        paid = tuple((o["_id"], o["paid_amount"]) for o in to_cancel if o.get("paid_amount"))
        bus.record(FormOrdersCancelled(form_id=form["_id"], order_ids=tuple(cancel_ids), paid=paid))
    return "closed", result["updated"]


def _live_orders(form: dict, item_ids: list[ObjectId]) -> list[dict]:
    return list(
        get_db().orders.find(
            {
                "seller_id": form["seller_id"],
                "form_id": form["_id"],
                "item_id": {"$in": item_ids},
                "fulfillment_status": {"$ne": "cancelled"},
            },
            {"_id": 1, "customer_id": 1, "paid_amount": 1},
        )
    )


def _buyers(form: dict, order_ids: list[ObjectId]) -> list[dict]:
    """The buyers of the cancelled orders as the seller's form shows them: `emailed`
    when the notice goes by email (an email on file, notices not turned off)."""
    if not order_ids:
        return []
    db = get_db()
    ids = list({o["customer_id"] for o in db.orders.find({"_id": {"$in": order_ids}}, {"customer_id": 1})})
    seller = db.sellers.find_one({"_id": form["seller_id"]}, {"notify_buyers": 1}) or {}
    shop_on = seller.get("notify_buyers") is not False
    found = db.customers.find({"_id": {"$in": ids}}, {"name": 1, "email": 1, "notify": 1})
    return sorted(
        (
            {
                "customer_id": c["_id"],
                "name": c["name"],
                "emailed": bool(shop_on and c.get("email") and c.get("notify") is not False),
            }
            for c in found
        ),
        key=lambda b: (b["name"], str(b["customer_id"])),
    )


def claim_notice(form_id: ObjectId, customer_id: ObjectId, kind: str, emailed: bool) -> bool:
    """Record that this buyer is told `kind` about this form, before the send: False when
    it was recorded already (a replay, another run). Keyed by its _id, so every server
    keeps it unique without another index."""
    try:
        get_db().form_notices.insert_one(
            {
                "_id": f"{form_id}:{customer_id}:{kind}",
                "form_id": form_id,
                "customer_id": customer_id,
                "kind": kind,
                "emailed": emailed,
                "at": clock.now(),
            }
        )
    except mongo.OperationFailure as exc:
        if is_duplicate_key(exc):
            return False
        raise
    return True


def give_back_notice(form_id: ObjectId, customer_id: ObjectId, kind: str) -> None:
    """A refused send: the record goes, so a later replay may send it."""
    get_db().form_notices.delete_one({"_id": f"{form_id}:{customer_id}:{kind}"})
