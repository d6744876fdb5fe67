"""The order state machine (chalicelib/rules/order_rules.py), table by table, without a database.

The tables below are the rules as the contract and docs/api.md state them, written out
pair by pair; the code must agree with every cell.
"""

import datetime as dt

import pytest

from chalicelib.platform.errors import Conflict, ValidationFailed
from chalicelib.platform.schemas import FULFILLMENT_STATUSES, PAYMENT_STATUSES
from chalicelib.rules import order_rules as rules

NOW = dt.datetime(2026, 11, 26, 20, 0, tzinfo=dt.UTC)
TZ = "Asia/Taipei"  # 04:00 on the 27th there: "today" is the seller's date, not UTC's
TODAY = "2026-11-27"
OLD_DATE = "2026-11-01"
QUANTITY = 3

F = ("pending", "purchased", "shipped", "delivered", "cancelled")
P = ("unpaid", "remitted", "refunded")


def order(fulfillment="pending", payment="unpaid", **fields):
    shipped = fulfillment in ("shipped", "delivered")
    return {
        "payment_status": payment,
        "remitted_at": NOW - dt.timedelta(days=3) if payment == "remitted" else None,
        "fulfillment_status": fulfillment,
        "shipped_date": OLD_DATE if shipped else None,
        "quantity": QUANTITY,
        "unit_price": 1000,
        "shipping_fee": 100,
        **fields,
    }


def outcome(fn):
    """ "ok" or the error code the call raised."""
    try:
        fn()
    except (Conflict, ValidationFailed) as exc:
        return exc.code
    return "ok"


def table(text: str, rows: tuple[str, ...], cols: tuple[str, ...]) -> dict[tuple[str, str], str]:
    lines = [line.split() for line in text.strip().splitlines()]
    assert [line[0] for line in lines[1:]] == list(rows) and lines[0] == list(cols)
    return {(r[0], c): cell for r in lines[1:] for c, cell in zip(cols, r[1:], strict=True)}


def test_the_tables_cover_every_status():
    assert F == FULFILLMENT_STATUSES and P == PAYMENT_STATUSES


# --- fulfillment_status: every from → to, PATCH and bulk ---------------------------

# Row: the order's status; column: the status asked for.
FULFILLMENT_PATCH = table(
    """
              pending          purchased        shipped          delivered        cancelled
    pending   ok               ok               ok               ok               ok
    purchased ok               ok               ok               ok               ok
    shipped   ok               ok               ok               ok               invalid_transition
    delivered ok               ok               ok               ok               invalid_transition
    cancelled order_cancelled  order_cancelled  order_cancelled  order_cancelled  ok
    """,
    F,
    F,
)
FULFILLMENT_BULK = table(
    """
              pending             purchased           shipped             delivered  cancelled
    pending   ok                  ok                  ok                  ok         ok
    purchased invalid_transition  ok                  ok                  ok         ok
    shipped   invalid_transition  invalid_transition  ok                  ok         invalid_transition
    delivered invalid_transition  invalid_transition  invalid_transition  ok         invalid_transition
    cancelled order_cancelled     order_cancelled     order_cancelled     order_cancelled  ok
    """,
    F,
    F,
)
# What an allowed move does to shipped_date: written today's date (in the seller's zone),
# kept (not written), cleared (written None), or nothing moves (-).
SHIPPED_DATE = table(
    """
              pending  purchased  shipped  delivered  cancelled
    pending   -        cleared    today    today      cleared
    purchased cleared  -          today    today      cleared
    shipped   cleared  cleared    -        kept       x
    delivered cleared  cleared    kept     -          x
    cancelled x        x          x        x          -
    """,
    F,
    F,
)
# Stock units the move takes (negative: given back); a cancel returns the quantity.
UNITS = table(
    """
              pending  purchased  shipped  delivered  cancelled
    pending   0        0          0        0          -3
    purchased 0        0          0        0          -3
    shipped   0        0          0        0          x
    delivered 0        0          0        0          x
    cancelled x        x          x        x          0
    """,
    F,
    F,
)
PAIRS = [(a, b) for a in F for b in F]


@pytest.mark.parametrize(("current", "to"), PAIRS)
@pytest.mark.parametrize("bulk", [False, True], ids=["patch", "bulk"])
def test_fulfillment_move_is_allowed_or_refused(current, to, bulk):
    expected = (FULFILLMENT_BULK if bulk else FULFILLMENT_PATCH)[current, to]
    doc = order(current)
    got = outcome(lambda: rules.plan_change(doc, {"fulfillment_status": to}, TZ, NOW, bulk=bulk))
    assert got == expected
    refusal = rules.move_refusal(current, to, bulk=bulk)
    assert (refusal.code if refusal else "ok") == expected


@pytest.mark.parametrize(
    ("current", "to", "bulk"),
    [(*p, False) for p in PAIRS if FULFILLMENT_PATCH[p] == "ok"]
    + [(*p, True) for p in PAIRS if FULFILLMENT_BULK[p] == "ok"],
)
def test_fulfillment_move_effects(current, to, bulk):
    change = rules.plan_change(order(current), {"fulfillment_status": to}, TZ, NOW, bulk=bulk)
    date = SHIPPED_DATE[current, to]
    assert ("shipped_date" in change.set) == (date in ("today", "cleared"))
    assert change.set.get("shipped_date") == {"today": TODAY, "cleared": None}.get(date)
    assert change.units_taken == int(UNITS[current, to])
    if current == to:
        assert change.set == {} and change.history == []
    else:
        assert change.set["fulfillment_status"] == to
        assert change.history == [{"at": NOW, "field": "fulfillment_status", "from": current, "to": to}]
    assert "remitted_at" not in change.set and "payment_status" not in change.set


def test_a_shipped_order_without_a_date_gets_todays_on_delivered():
    change = rules.plan_change(
        order("shipped", shipped_date=None), {"fulfillment_status": "delivered"}, TZ, NOW
    )
    assert change.set["shipped_date"] == TODAY


# --- payment_status: every from → to, PATCH and bulk -------------------------------

PAYMENT_PATCH = table(
    """
             unpaid  remitted  refunded
    unpaid   ok      ok        ok
    remitted ok      ok        ok
    refunded ok      ok        ok
    """,
    P,
    P,
)
PAYMENT_BULK = table(
    """
             unpaid              remitted            refunded
    unpaid   ok                  ok                  ok
    remitted invalid_transition  ok                  ok
    refunded invalid_transition  invalid_transition  ok
    """,
    P,
    P,
)
# remitted_at after the move: the time of the change, cleared, or not written (-).
REMITTED_AT = table(
    """
             unpaid   remitted  refunded
    unpaid   -        now       cleared
    remitted cleared  -         cleared
    refunded cleared  now       -
    """,
    P,
    P,
)


@pytest.mark.parametrize(("current", "to"), [(a, b) for a in P for b in P])
@pytest.mark.parametrize("bulk", [False, True], ids=["patch", "bulk"])
@pytest.mark.parametrize("fulfillment", ["pending", "cancelled"])
def test_payment_move(current, to, bulk, fulfillment):
    """Payment moves the same way on a cancelled order (a refund)."""
    doc = order(fulfillment, current)
    expected = (PAYMENT_BULK if bulk else PAYMENT_PATCH)[current, to]
    assert outcome(lambda: rules.plan_change(doc, {"payment_status": to}, TZ, NOW, bulk=bulk)) == expected
    if expected != "ok":
        return
    change = rules.plan_change(doc, {"payment_status": to}, TZ, NOW, bulk=bulk)
    assert change.units_taken == 0 and "shipped_date" not in change.set
    if current == to:
        assert change.set == {} and change.history == []
        return
    assert change.set == {
        "payment_status": to,
        "remitted_at": NOW if REMITTED_AT[current, to] == "now" else None,
    }
    assert change.history == [{"at": NOW, "field": "payment_status", "from": current, "to": to}]


def test_bulk_refuses_a_backward_payment_before_looking_at_fulfillment():
    doc = order("cancelled", "remitted")
    changes = {"payment_status": "unpaid", "fulfillment_status": "shipped"}
    assert outcome(lambda: rules.plan_change(doc, changes, TZ, NOW, bulk=True)) == "invalid_transition"
    assert outcome(lambda: rules.plan_change(doc, changes, TZ, NOW)) == "order_cancelled"


# --- a cancelled order ---------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [{"quantity": 2}, {"unit_price": 5}, {"shipping_fee": 0}, {"shipped_date": dt.date(2026, 11, 2)}],
    ids=lambda c: next(iter(c)),
)
def test_a_cancelled_order_keeps_quantity_prices_and_shipped_date(changes):
    doc = order("cancelled")
    assert outcome(lambda: rules.plan_change(doc, changes, TZ, NOW)) == "order_cancelled"
    both = {**changes, "fulfillment_status": "cancelled"}
    assert outcome(lambda: rules.plan_change(doc, both, TZ, NOW)) == "order_cancelled"


def test_a_cancelled_order_still_takes_notes_and_a_refund():
    doc = order("cancelled", "remitted")
    change = rules.plan_change(doc, {"note": "refunded by LINE Pay", "payment_status": "refunded"}, TZ, NOW)
    assert change.set == {"note": "refunded by LINE Pay", "payment_status": "refunded", "remitted_at": None}
    assert change.units_taken == 0


# --- shipped_date given ----------------------------------------------------------------

GIVEN = dt.date(2026, 11, 20)


@pytest.mark.parametrize(("current", "to"), PAIRS)
def test_a_given_shipped_date(current, to):
    """Allowed only when the order is (or becomes) shipped or delivered; it wins over
    today's date and over the date the order had."""
    doc = order(current)
    changes = {"fulfillment_status": to, "shipped_date": GIVEN}
    got = outcome(lambda: rules.plan_change(doc, changes, TZ, NOW))
    if current == "cancelled":
        assert got == "order_cancelled"
    elif to not in ("shipped", "delivered"):
        assert got == "validation_error"
    else:
        assert got == "ok"
        assert rules.plan_change(doc, changes, TZ, NOW).set["shipped_date"] == "2026-11-20"


def test_shipped_date_alone_on_a_shipped_order_is_an_edit():
    change = rules.plan_change(order("delivered"), {"shipped_date": GIVEN}, TZ, NOW)
    assert change.set == {"shipped_date": "2026-11-20"} and change.history == []


@pytest.mark.parametrize("status", ["pending", "purchased"])
def test_shipped_date_on_a_not_shipped_order_is_refused(status):
    for given in (GIVEN, None):
        with pytest.raises(ValidationFailed) as exc:
            rules.plan_change(order(status), {"shipped_date": given}, TZ, NOW)
        assert exc.value.details == [{"field": "shipped_date", "message": "order is not shipped"}]


# --- quantity, prices, stock -------------------------------------------------------------


@pytest.mark.parametrize(("quantity", "units"), [(5, 2), (3, 0), (1, -2)])
def test_a_new_quantity_takes_or_returns_the_difference(quantity, units):
    change = rules.plan_change(order("purchased"), {"quantity": quantity}, TZ, NOW)
    assert change.units_taken == units
    assert change.set == {
        "quantity": quantity,
        "unit_price": 1000,
        "shipping_fee": 100,
        "total_amount": quantity * 1000 + 100,
    }


def test_a_total_above_the_limit_is_refused():
    with pytest.raises(ValidationFailed):
        rules.plan_change(order(), {"unit_price": 10**10}, TZ, NOW)


@pytest.mark.parametrize("quantity", [1, 5])
def test_cancel_with_a_new_quantity_returns_what_the_order_held(quantity):
    change = rules.plan_change(
        order("pending"), {"fulfillment_status": "cancelled", "quantity": quantity}, TZ, NOW
    )
    assert change.units_taken == -QUANTITY


@pytest.mark.parametrize("status", F)
def test_units_held(status):
    assert rules.units_held(status, QUANTITY) == (0 if status == "cancelled" else QUANTITY)


# --- a new order (POST /orders, CSV import) ------------------------------------------------


@pytest.mark.parametrize("payment", P)
@pytest.mark.parametrize("fulfillment", F)
def test_new_order_dates(payment, fulfillment):
    shipped = fulfillment in ("shipped", "delivered")
    made = rules.new_order_dates(payment, fulfillment, NOW, TZ)
    assert made == {
        "remitted_at": NOW if payment == "remitted" else None,
        "shipped_date": TODAY if shipped else None,
    }
    earlier = NOW - dt.timedelta(days=9)
    given = rules.new_order_dates(payment, fulfillment, NOW, TZ, remitted_at=earlier, shipped_date=OLD_DATE)
    assert given == {
        "remitted_at": earlier if payment == "remitted" else None,
        "shipped_date": OLD_DATE if shipped else None,
    }


# --- the one-command moves of PATCH (orders._fast_update) ---------------------------------

# The everyday toggles before the rules moved here (orders.FAST_FULFILLMENT): the same
# starting states and date writes, now derived from the rules.
BEFORE = {
    "purchased": (["pending"], "clear"),
    "pending": (["purchased"], "clear"),
    "shipped": (["pending", "purchased"], "today"),
    "delivered": (["shipped"], "keep"),
    "cancelled": (["pending", "purchased"], "clear"),
}


@pytest.mark.parametrize("to", F)
def test_one_command_move_is_the_rules(to):
    move = rules.one_command_move(to)
    assert (list(move.from_states), move.shipped_date) == BEFORE[to]
    assert move.needs_date == (to == "delivered")  # a shipped order without a date gets today's
    for current in move.from_states:
        change = rules.plan_change(order(current), {"fulfillment_status": to}, TZ, NOW)
        assert change.set == move.sets(NOW, TZ)
        assert move.units_taken(QUANTITY) == change.units_taken


def test_moves_backward():
    assert rules.moves_backward("fulfillment_status", "delivered", "shipped")
    assert not rules.moves_backward("fulfillment_status", "pending", "cancelled")  # unranked
    assert rules.moves_backward("payment_status", "refunded", "remitted")


# --- history entries and a parcel's moves ---------------------------------------------


def test_a_history_entry_has_one_shape():
    assert rules.history_entry("payment_status", "remitted", NOW, "unpaid") == {
        "at": NOW,
        "field": "payment_status",
        "from": "unpaid",
        "to": "remitted",
    }
    assert list(rules.history_entry("fulfillment_status", "shipped", NOW)) == ["at", "field", "to"]
    assert rules.history_entry("buyer", "Bo", NOW, None, op="x")["op"] == "x"
    assert "from" in rules.history_entry("buyer", "Bo", NOW, None)  # a known None is kept


def test_a_parcel_ships_its_unsent_orders_on_its_date():
    move = rules.PARCEL_SHIPS
    assert move.from_states == rules.UNSHIPPED_STATES
    assert move.sets("2026-12-01") == {"fulfillment_status": "shipped", "shipped_date": "2026-12-01"}
    assert "from" not in move.history(NOW)  # one update moves orders from two states
    orders = [{"_id": i, "fulfillment_status": f} for i, f in enumerate(F)]
    assert rules.parcel_packing(orders) == ([0, 1], [2, 3])  # cancelled: neither


def test_a_parcel_delivers_and_returns_what_it_shipped():
    assert rules.PARCEL_DELIVERS.sets(None) == {"fulfillment_status": "delivered"}  # the date stays
    assert rules.PARCEL_DELIVERS.history(NOW) == rules.history_entry(
        "fulfillment_status", "delivered", NOW, "shipped", by="parcel"
    )
    back = rules.parcel_returns("purchased")
    assert back.sets(None) == {"fulfillment_status": "purchased", "shipped_date": None}
    assert back.history(NOW)["from"] == "shipped"


def test_a_parcel_move_the_rules_refuse_is_refused():
    with pytest.raises(Conflict):
        rules.parcel_move(("cancelled",), "shipped")
    with pytest.raises(Conflict):
        rules.parcel_move(("shipped",), "cancelled")


# --- history of edits (issue 26) ---------------------------------------------------------

ACTOR = "6b0000000000000000000001"


def test_each_edited_field_is_one_entry_with_from_to_and_by():
    doc = order(batch="A", paid_amount=0)
    change = rules.plan_change(
        doc, {"quantity": 5, "unit_price": 1250, "shipping_fee": 100, "batch": "B"}, TZ, NOW, by=ACTOR
    )
    assert change.history == [
        {"at": NOW, "field": "quantity", "from": QUANTITY, "to": 5, "by": ACTOR},
        {"at": NOW, "field": "unit_price", "from": 1000, "to": 1250, "by": ACTOR},
        {"at": NOW, "field": "batch", "from": "A", "to": "B", "by": ACTOR},
    ]  # the fee sent as it was: none


@pytest.mark.parametrize(
    "changes",
    [
        {"quantity": QUANTITY},
        {"unit_price": 1000, "shipping_fee": 100},
        {"batch": "A"},
        {"batch": "", "note": "x"},
    ],
)
def test_a_value_sent_as_it_is_writes_no_entry(changes):
    doc = order(batch="A" if "" not in changes.values() else None)
    assert rules.plan_change(doc, changes, TZ, NOW, by=ACTOR).history == []


def test_status_entries_carry_who_and_a_bulk_marks_its_own():
    change = rules.plan_change(
        order(), {"fulfillment_status": "purchased"}, TZ, NOW, bulk=True, op=7, by="bulk"
    )
    assert change.history == [
        {
            "at": NOW,
            "field": "fulfillment_status",
            "from": "pending",
            "to": "purchased",
            "by": "bulk",
            "op": 7,
        }
    ]


def test_a_lower_price_on_a_paid_order_says_the_edit_then_the_payment_it_moves():
    doc = order(payment="remitted", paid_amount=QUANTITY * 1000 + 100)
    change = rules.plan_change(doc, {"unit_price": 1200}, TZ, NOW, by=ACTOR)
    assert [(h["field"], h["from"], h["to"]) for h in change.history] == [
        ("unit_price", 1000, 1200),
        ("payment_status", "remitted", "partial"),
    ]


def test_a_buyer_entry_names_the_ids_and_the_names_then():
    entry = rules.buyer_entry({"id": 1, "name": "Amy"}, {"id": 2, "name": "Bob"}, NOW, rules.BY_MERGE)
    assert entry == {
        "at": NOW,
        "field": "customer_id",
        "from": 1,
        "to": 2,
        "by": "merge",
        "from_name": "Amy",
        "to_name": "Bob",
    }


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        ({"cost": 1500, "cost_currency": "JPY"}, None),  # the same cost: none
        ({"cost": 1500, "cost_currency": "JPY", "cost_amount": 300}, None),  # a new rate is no edit
        ({"cost": 1600, "cost_currency": "JPY"}, (1500, 1600, "JPY", "JPY")),
        ({"cost": 1500, "cost_currency": "KRW"}, (1500, 1500, "JPY", "KRW")),
        ({"cost": None, "cost_currency": None}, (1500, None, "JPY", None)),
    ],
)
def test_a_cost_entry_only_when_the_cost_or_its_currency_changes(sets, expected):
    entry = rules.cost_entry(order(cost=1500, cost_currency="JPY"), sets, NOW, ACTOR)
    if expected is None:
        assert entry is None
    else:
        got = (entry["from"], entry["to"], entry["from_currency"], entry["to_currency"])
        assert (entry["field"], entry["by"], got) == ("cost", ACTOR, expected)


def test_a_parcel_move_says_it_was_the_parcel():
    assert rules.PARCEL_SHIPS.history(NOW)["by"] == rules.BY_PARCEL
    assert rules.parcel_returns("purchased").history(NOW)["by"] == rules.BY_PARCEL
