"""The order state machine: which status moves are allowed, and what a move does to the
dates and to stock. Every write path asks this module — PATCH (both its one-command and
its read-then-write path), bulk updates, POST /orders and the CSV import — so a rule is
written once. Pure: no database and no clock read (`now` and the seller's `tz` are passed
in), so tests/unit/test_order_rules.py can walk every pair of statuses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from chalicelib.platform import clock
from chalicelib.platform.errors import Conflict, ValidationFailed
from chalicelib.platform.money import MAX_CENTS
from chalicelib.rules import allocation

SHIPPED_STATES = ("shipped", "delivered")
UNSHIPPED_STATES = ("pending", "purchased")
# Goods not yet sent can go back on the shelf; sent ones cannot.
CANCELLABLE = UNSHIPPED_STATES
# A cancelled order is final: these no longer change (payment may still move: a refund).
FIXED_ONCE_CANCELLED = frozenset({"quantity", "unit_price", "shipping_fee", "shipped_date"})
NEW_ORDER_STATUS = {"payment_status": "unpaid", "fulfillment_status": "pending"}
TEXT_FIELDS = ("batch", "note", "carrier", "tracking_number")  # free text: blank clears it

# Bulk updates move statuses only forward (contract, "Order rules"): each status's rank
# on its way. `cancelled` has no rank: it is allowed from CANCELLABLE only, in bulk as in
# a single PATCH, which may also move back.
FORWARD_RANK: dict[str, dict[str, int]] = {
    "payment_status": {"unpaid": 0, "partial": 1, "remitted": 2, "refunded": 3},
    "fulfillment_status": {"pending": 0, "purchased": 1, "shipped": 2, "delivered": 3},
}

# What a move of fulfillment_status does to shipped_date (when none is given).
TODAY, KEEP, CLEAR = "today", "keep", "clear"


# --- the rules -------------------------------------------------------------------------


def moves_backward(field: str, current: str, to: str) -> bool:
    """Would setting `field` from `current` to `to` go back? (Unranked statuses: no.)"""
    rank = FORWARD_RANK[field]
    return current in rank and to in rank and rank[to] < rank[current]


def backward(field: str, current: str, to: str) -> Conflict:
    return Conflict(
        f"a bulk update does not move {field} back from {current} to {to}", code="invalid_transition"
    )


def move_refusal(current: str, to: str, *, bulk: bool = False) -> Conflict | None:
    """Why fulfillment_status may not move from `current` to `to` (None: it may)."""
    if current == to:
        return None
    if current == "cancelled":
        return Conflict("this order is cancelled", code="order_cancelled")
    if to == "cancelled" and current not in CANCELLABLE:
        return Conflict(f"a {current} order cannot be cancelled", code="invalid_transition")
    if bulk and moves_backward("fulfillment_status", current, to):
        return backward("fulfillment_status", current, to)
    return None


def has_shipped_date(fulfillment_status: str) -> bool:
    """Only shipped and delivered orders carry a shipped_date."""
    return fulfillment_status in SHIPPED_STATES


def has_remitted_at(payment_status: str) -> bool:
    return payment_status == "remitted"


def remitted_at_after(payment_status: str, now: dt.datetime) -> dt.datetime | None:
    """remitted_at once payment_status is set: the time it became remitted, else none."""
    return now if has_remitted_at(payment_status) else None


def shipped_today(now: dt.datetime, tz: str) -> str:
    """ "Shipped today": the date in the seller's zone (worked out here only)."""
    return clock.local_date(now, tz).isoformat()


def shipped_date_rule(current: str | None, to: str, has_date: bool) -> str:
    """What moving fulfillment_status from `current` (None: a new order) to `to` does to
    shipped_date when none is given: TODAY on the way into shipped, KEEP within the
    shipped states (an order without a date gets today's) and when nothing moves, CLEAR
    on a move to an unshipped state (moving back from shipped clears the date)."""
    if current == to:
        return KEEP
    if not has_shipped_date(to):
        return CLEAR
    if current is not None and has_shipped_date(current) and has_date:
        return KEEP
    return TODAY


def shipped_date_after(
    current: str | None, to: str, date: str | None, given: str | None, now: dt.datetime, tz: str
) -> str | None:
    """The order's shipped_date after that move: `given` (checked by the caller to be
    for a shipped order), the date it had, today's, or none."""
    rule = shipped_date_rule(current, to, bool(date))
    if rule == CLEAR:
        return None
    if given:
        return given
    return date if rule == KEEP else shipped_today(now, tz)


def units_held(fulfillment_status: str, quantity: int) -> int:
    """The stock units an order holds: its quantity, none once cancelled."""
    return 0 if fulfillment_status == "cancelled" else quantity


def units_taken(current: str, to: str, quantity: int, new_quantity: int) -> int:
    """Stock units a change takes from the item; negative: units given back. It is what
    the order holds after minus what it held before, so a cancel returns exactly the
    units the order held, whatever quantity the same change names."""
    return units_held(to, new_quantity) - units_held(current, quantity)


def total_amount(quantity: int, unit_price: int, shipping_fee: int) -> int:
    total = quantity * unit_price + shipping_fee
    if total > MAX_CENTS:
        raise ValidationFailed(
            "total_amount would be above 100,000,000",
            details=[{"field": "total_amount", "message": "too large"}],
        )
    return total


def new_order_dates(
    payment_status: str,
    fulfillment_status: str,
    now: dt.datetime,
    tz: str,
    remitted_at: dt.datetime | None = None,
    shipped_date: str | None = None,
) -> dict[str, Any]:
    """remitted_at and shipped_date of a new order, as if it had moved to its statuses;
    an imported file may give them (kept only for a status that carries them)."""
    return {
        "remitted_at": remitted_at_after(payment_status, remitted_at or now),
        "shipped_date": shipped_date_after(None, fulfillment_status, None, shipped_date, now, tz),
    }


# --- history ---------------------------------------------------------------------------

UNKNOWN = object()  # a `from` an update cannot know (it matches orders in several states)

# Who wrote an entry when no person's edit did (`by`): a principal's edit stores its actor
# id instead (Principal.actor_id). docs/api.md "Orders" lists them.
BY_BULK = "bulk"  # POST /orders/bulk
BY_PAYMENT = "payment"  # a payment's allocation (the 已匯款 switch records a payment too)
BY_PARCEL = "parcel"  # a parcel packed, unpacked or delivered moves its orders
BY_MERGE = "merge"  # two buyers merged: the other buyer's orders move
BY_IMPORT = "import"  # reserved: an import writes orders without history today
BY_SHOPPING = "shopping"  # the shopping trip: a purchase or a shortage resolution moved it
BY_FORM = "form"  # reserved: an order form's submission writes orders without history today

# The fields a PATCH edits whose changes the history records besides the statuses (the
# buyer and the cost have their own entries: buyer_entry, cost_entry).
AMOUNT_FIELDS = ("quantity", "unit_price", "shipping_fee")
EDITED_FIELDS = (*AMOUNT_FIELDS, "batch")


def history_entry(
    field: str,
    to: Any,
    at: Any,
    from_: Any = UNKNOWN,
    op: Any = None,
    by: Any = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The one shape of an order's history entry: `{at, field, from, to, by}`, without
    `from` when the write cannot know it (orders.history_out takes the entry before),
    without `by` when unknown (entries written before it existed), and with `op` when a
    bulk update marks its own entries. `extra`: a buyer's names, a cost's currencies.
    `at`: a datetime when stored, its ISO text in the API's answer. Money is stored in
    cents, as on the order."""
    entry: dict[str, Any] = {"at": at, "field": field}
    if from_ is not UNKNOWN:
        entry["from"] = from_
    entry["to"] = to
    if by is not None:
        entry["by"] = by
    if extra:
        entry.update(extra)
    if op is not None:
        entry["op"] = op
    return entry


def edit_entries(
    doc: dict, sets: dict[str, Any], at: Any, by: Any = None, names: tuple[str, ...] = EDITED_FIELDS
) -> list[dict[str, Any]]:
    """One entry per field of `names` whose value `sets` changes: none for a value sent
    again as it is."""
    return [
        history_entry(name, sets[name], at, doc.get(name), by=by)
        for name in names
        if name in sets and sets[name] != doc.get(name)
    ]


def buyer_entry(from_: dict, to: dict, at: Any, by: Any = None) -> dict[str, Any]:
    """The order moved from buyer `from_` to buyer `to` (`{id, name}` each): the ids, and
    the names as they were then (a merged buyer is gone afterwards)."""
    names = {"from_name": from_["name"], "to_name": to["name"]}
    return history_entry("customer_id", to["id"], at, from_["id"], by=by, extra=names)


def cost_entry(doc: dict, sets: dict[str, Any], at: Any, by: Any = None) -> dict[str, Any] | None:
    """The unit cost changed (its amount in its currency, or the currency): an entry with
    both currencies; None when neither changed (the cost converted again at a batch's
    rate is no edit: its amount in the shop currency is not recorded)."""
    before = (doc.get("cost"), doc.get("cost_currency"))
    after = (sets.get("cost", before[0]), sets.get("cost_currency", before[1]))
    if after == before:
        return None
    currencies = {"from_currency": before[1], "to_currency": after[1]}
    return history_entry("cost", after[0], at, before[0], by=by, extra=currencies)


# --- a change of one order -------------------------------------------------------------


@dataclass
class OrderChange:
    """What one patch does to one order, worked out from the order as read."""

    set: dict[str, Any]
    history: list[dict[str, Any]]
    units_taken: int  # stock units to take from the item; negative: units to give back


def plan_change(
    doc: dict,
    changes: dict[str, Any],
    tz: str,
    now: dt.datetime,
    *,
    bulk: bool = False,
    op: Any = None,
    by: Any = None,
) -> OrderChange:
    """Validate a change against the order's state and work out the update. A bulk
    update (`bulk=True`) never moves a status back; `op` marks its history entries and
    `by` says who wrote them."""
    cur_pay, cur_ful = doc["payment_status"], doc["fulfillment_status"]
    to_pay = changes.get("payment_status", cur_pay)
    to_ful = changes.get("fulfillment_status", cur_ful)
    if bulk and moves_backward("payment_status", cur_pay, to_pay):
        raise backward("payment_status", cur_pay, to_pay)
    if cur_ful == "cancelled" and FIXED_ONCE_CANCELLED & changes.keys():
        raise Conflict("this order is cancelled", code="order_cancelled")

    new: dict[str, Any] = {name: changes[name] or None for name in TEXT_FIELDS if name in changes}
    history = []
    if to_pay != cur_pay:
        new["payment_status"] = to_pay
        new["remitted_at"] = remitted_at_after(to_pay, now)
        history.append(history_entry("payment_status", to_pay, now, cur_pay, op, by))

    if "shipped_date" in changes and not has_shipped_date(to_ful):
        raise ValidationFailed(
            "shipped_date can only be set on a shipped or delivered order",
            details=[{"field": "shipped_date", "message": "order is not shipped"}],
        )
    refusal = move_refusal(cur_ful, to_ful, bulk=bulk)
    if refusal is not None:
        raise refusal
    if doc.get("parcel_id") and to_ful not in (cur_ful, "delivered"):
        raise Conflict("this order is in a parcel: change the parcel instead", code="order_in_parcel")
    given = changes.get("shipped_date")
    given = given.isoformat() if given is not None else None
    date = doc.get("shipped_date")
    # A kept date is not written: bulk shares one update among orders in the same state.
    if given is not None or shipped_date_rule(cur_ful, to_ful, bool(date)) != KEEP:
        new["shipped_date"] = shipped_date_after(cur_ful, to_ful, date, given, now, tz)
    if to_ful != cur_ful:
        new["fulfillment_status"] = to_ful
        history.append(history_entry("fulfillment_status", to_ful, now, cur_ful, op, by))

    quantity = doc["quantity"]
    if {"quantity", "unit_price", "shipping_fee"} & changes.keys():
        quantity = changes.get("quantity", doc["quantity"])
        unit_price = changes.get("unit_price", doc["unit_price"])
        shipping_fee = changes.get("shipping_fee", doc["shipping_fee"])
        total = total_amount(quantity, unit_price, shipping_fee)
        new.update(quantity=quantity, unit_price=unit_price, shipping_fee=shipping_fee, total_amount=total)
        history += edit_entries(doc, new, now, by, AMOUNT_FIELDS)
        # The money on the order against its new total (money above it goes back to the
        # buyer's credit afterwards: payments.release_excess).
        paid = min(allocation.paid_of(doc), total)
        now_pay = new.get("payment_status", cur_pay)
        follows = allocation.status_after({**doc, "payment_status": now_pay, "total_amount": total}, paid)
        if paid and follows != now_pay:
            new["payment_status"] = follows
            new["remitted_at"] = remitted_at_after(follows, now)
            history.append(history_entry("payment_status", follows, now, now_pay, op, by))
    if "batch" in new:
        history += edit_entries(doc, new, now, by, ("batch",))
    return OrderChange(new, history, units_taken(cur_ful, to_ful, doc["quantity"], quantity))


# --- moves done in one conditional update ---------------------------------------------

# The page's everyday toggles (已採購 on and off, 已出貨, delivered, cancel), which
# orders._fast_update writes in ONE conditional update: the states each starts from.
# Which moves are worth one command is a cost choice, not a rule: whether a move is
# allowed and what it writes come from the rules above. Any other move reads the order.
ONE_COMMAND_FROM: dict[str, tuple[str, ...]] = {
    "pending": ("purchased",),
    "purchased": ("pending",),
    "shipped": UNSHIPPED_STATES,
    "delivered": ("shipped",),
    "cancelled": CANCELLABLE,
}


@dataclass(frozen=True)
class OneCommandMove:
    """A move of fulfillment_status that one conditional update can do: its filter
    (`from_states`, and `needs_date`: a date to keep) and its writes."""

    to: str
    from_states: tuple[str, ...]
    shipped_date: str  # TODAY, KEEP or CLEAR
    needs_date: bool  # KEEP holds only for an order that has a date (else: today's)

    def sets(self, now: dt.datetime, tz: str) -> dict[str, Any]:
        out: dict[str, Any] = {"fulfillment_status": self.to}
        if self.shipped_date == TODAY:
            out["shipped_date"] = shipped_today(now, tz)
        elif self.shipped_date == CLEAR:
            out["shipped_date"] = None
        return out

    def units_taken(self, quantity: int) -> int:
        return units_taken(self.from_states[0], self.to, quantity, quantity)


def one_command_move(to: str) -> OneCommandMove:
    """The rules for a move to `to` from each state in ONE_COMMAND_FROM[to], which must
    agree: one update writes the same to every order it matches."""
    froms = tuple(s for s in ONE_COMMAND_FROM[to] if move_refusal(s, to) is None)
    (rule,) = {shipped_date_rule(s, to, has_date=True) for s in froms}
    (_,) = {units_taken(s, to, 1, 1) for s in froms}
    needs_date = any(shipped_date_rule(s, to, has_date=False) != rule for s in froms)
    return OneCommandMove(to, froms, rule, needs_date)


# --- moves of a parcel's orders --------------------------------------------------------


@dataclass(frozen=True)
class ParcelMove:
    """How a parcel moves its orders' fulfillment_status: one update of every order of
    the parcel in `from_states` (a parcel changes its orders together, in their own
    filters). `shipped_date`: TODAY (the parcel's date), KEEP or CLEAR."""

    from_states: tuple[str, ...]
    to: str
    shipped_date: str

    def sets(self, parcel_date: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"fulfillment_status": self.to}
        if self.shipped_date == TODAY:
            out["shipped_date"] = parcel_date
        elif self.shipped_date == CLEAR:
            out["shipped_date"] = None
        return out

    def history(self, now: dt.datetime, actor: str | None = None) -> dict[str, Any]:
        """One entry for every order the update moves: `from` only when one state moves;
        `actor`: the person who packed the parcel (issue 31), kept beside `by`."""
        extra = {"actor": actor} if actor else None
        if len(self.from_states) == 1:
            return history_entry(
                "fulfillment_status", self.to, now, self.from_states[0], by=BY_PARCEL, extra=extra
            )
        return history_entry("fulfillment_status", self.to, now, by=BY_PARCEL, extra=extra)


def parcel_move(from_states: tuple[str, ...], to: str) -> ParcelMove:
    """The move of a parcel's orders from `from_states` to `to`, checked against the
    rules: each state may move there and they agree on the date (an order with one)."""
    for state in from_states:
        refusal = move_refusal(state, to)
        if refusal is not None:
            raise refusal
    (rule,) = {shipped_date_rule(s, to, has_date=True) for s in from_states}
    return ParcelMove(tuple(from_states), to, rule)


# Packing a parcel ships its orders not yet sent, on the parcel's date; sent ones keep
# their status and date (the seller records the box afterwards).
PARCEL_SHIPS = parcel_move(UNSHIPPED_STATES, "shipped")
# A delivered parcel delivers the orders it shipped (the date they were shipped stays).
PARCEL_DELIVERS = parcel_move(("shipped",), "delivered")


def parcel_returns(to: str) -> ParcelMove:
    """A parcel returned or deleted puts the orders it shipped back to `to` (purchased),
    without the date."""
    return parcel_move(("shipped",), to)


def parcel_packing(orders: list[dict]) -> tuple[list[Any], list[Any]]:
    """The ids of a parcel's orders that PARCEL_SHIPS moves, and of the ones that keep
    their status (already sent); a cancelled order is in neither."""
    moves = [o["_id"] for o in orders if o["fulfillment_status"] in PARCEL_SHIPS.from_states]
    keeps = [o["_id"] for o in orders if o["fulfillment_status"] in SHIPPED_STATES]
    return moves, keeps
