"""The shopping trip's writes at once on the real servers (FerretDB and mongo-java-server
over a socket, threads sharing one connection pool): purchases recorded together all
count; a shortage resolution racing a buyer's cancel, a quantity change, another
resolution or a purchase gives no unit twice and cancels nothing twice.

Invariants after every race (`check_line`): the units of the line's purchased orders
are at most what was bought, and bought = free + the units given to the orders the line
covers; every order of the line is purchased or cancelled (or still pending only when
the resolution says it failed), with at most one entry to each status in its history;
the ledger holds (tests/integration/payment_ledger.py) and each buyer's credit is the
money that was on their cancelled orders."""

from __future__ import annotations

import pytest
from bson import ObjectId

from chalicelib.accounts import auth
from chalicelib.platform import db
from chalicelib.sales import orders, shopping
from chalicelib.sales.schemas import OrderPatch, PurchaseIn, ShortageIn
from tests.conftest import at_once
from tests.factories import make_customer, make_item, make_order, make_payment
from tests.integration.payment_ledger import check_ledger

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)

BATCH = "2026-12 東京"
PRICE = 390


def setup_line(api, buyers: int, quantity: int = 1, paid: bool = True):
    """A seller, an item and `buyers` buyers with one pending order each (first ordered
    first: buyer 0), each paid in full when `paid`."""
    token = api.signup()
    who = auth.authenticate(f"Bearer {token}")
    item = make_item(api, token, item_name="UNIQLO T恤", price=PRICE)
    made = []
    for n in range(buyers):
        c = make_customer(api, token, name=f"B{n}", email=f"b{n}@example.com")
        o = make_order(api, token, customer_id=c["id"], item_id=item["id"], quantity=quantity, batch=BATCH)
        if paid:
            make_payment(api, token, c["id"], PRICE * quantity)
        made.append(o)
    return who, item, made


def buy(who, item, quantity):
    return lambda: shopping.record_purchase(who, BATCH, PurchaseIn(item_id=item["id"], quantity=quantity))


def resolve(who, item, keep="first_ordered"):
    return lambda: shopping.resolve_shortage(who, BATCH, ShortageIn(item_id=item["id"], keep=keep), None)[0]


def check_line(who, item, failed=()) -> dict:
    database = db.get_db()
    lid = shopping.line_id(ObjectId(who.seller_id), BATCH, ObjectId(item["id"]), None)
    line = database.purchases.find_one({"_id": lid})
    docs = list(database.orders.find({"item_id": ObjectId(item["id"])}))
    # Units given: to the covered orders the trip moved to purchased, as many as each
    # had then (afterwards a buyer may cancel one, or the seller change its quantity: a
    # later edit of a bought order, not a unit given twice).
    given_to = {o["_id"]: units_when_bought(o) for o in docs if units_when_bought(o) is not None}
    covered = set(line["covered"])
    assert len(covered) == len(line["covered"])  # no order claimed twice
    assert set(given_to) <= covered
    assert sum(given_to.values()) <= line["bought"], (line, given_to)
    assert line["free"] + sum(given_to.values()) == line["bought"], line
    purchased_now = [o for o in docs if o["fulfillment_status"] == "purchased"]
    assert all(o["_id"] in given_to for o in purchased_now)  # none bought but by the trip
    assert line["free"] >= 0
    for o in docs:
        assert o["fulfillment_status"] in ("purchased", "cancelled") or str(o["_id"]) in failed, o
        moves = [h["to"] for h in o["history"] if h["field"] == "fulfillment_status"]
        assert len(moves) == len(set(moves)), o["history"]  # never cancelled (or bought) twice
    credit = check_ledger()
    for o in docs:
        if o["fulfillment_status"] == "cancelled":
            assert o.get("paid_amount", 0) == 0
    per_buyer: dict = {}
    for o in docs:
        per_buyer.setdefault(o["customer_id"], 0)
        if o["fulfillment_status"] == "cancelled":
            per_buyer[o["customer_id"]] += o["paid_before"]
    for customer_id, cents in per_buyer.items():
        assert credit.get(customer_id, 0) == cents, (customer_id, credit.get(customer_id), cents)
    return line


def units_when_bought(order: dict) -> int | None:
    """The quantity the order had when the trip moved it to purchased (None: it did not)."""
    entries = order["history"]
    at = next(
        (
            i
            for i, h in enumerate(entries)
            if h["field"] == "fulfillment_status" and h["to"] == "purchased" and h.get("by") == "shopping"
        ),
        None,
    )
    if at is None:
        return None
    later = [h for h in entries[at + 1 :] if h["field"] == "quantity"]
    return later[0]["from"] if later else order["quantity"]


def remember_quantities(made) -> None:
    """The money on each order before the race, for the credit check."""
    for o in made:
        doc = db.get_db().orders.find_one({"_id": ObjectId(o["id"])})
        db.get_db().orders.update_one(
            {"_id": doc["_id"]}, {"$set": {"paid_before": doc.get("paid_amount", 0)}}
        )


def test_purchases_at_once_all_count_and_buy_each_order_once(api):
    who, item, made = setup_line(api, 4, paid=False)
    remember_quantities(made)
    results = at_once([buy(who, item, 1) for _ in range(8)])
    assert all(isinstance(r, dict) for r in results), results
    line = check_line(who, item)
    assert line["bought"] == 8 and line["free"] == 4
    assert sorted(i for r in results for i in r["purchased"]) == sorted(o["id"] for o in made)


@pytest.mark.parametrize("rounds", [3])
def test_a_shortage_racing_cancels_gives_no_unit_twice(api, rounds):
    for n in range(rounds):
        who, item, made = setup_line(api, 4)
        remember_quantities(made)
        buy(who, item, 2)()
        cancel = OrderPatch(fulfillment_status="cancelled")
        calls = [resolve(who, item)]
        calls += [lambda o=o: orders.update(who, o["id"], cancel) for o in made[:2]]
        calls = calls[n % 3 :] + calls[: n % 3]  # the resolution starts at another place each round
        results = at_once(calls)
        answer = next(r for r in results if isinstance(r, dict) and "kept" in r)
        check_line(who, item, failed={f["id"] for f in answer["failed"]})
        buyers_cancelled = [o for o in made[:2]]
        # The two who cancelled themselves are cancelled once; the others share the 2 units.
        for o in buyers_cancelled:
            doc = db.get_db().orders.find_one({"_id": ObjectId(o["id"])})
            assert doc["fulfillment_status"] in ("cancelled", "purchased")
        kept = {k["order_id"] for k in answer["kept"]}
        by_shopping = {k["order_id"] for k in answer["cancelled"]}
        assert not kept & by_shopping


def test_a_shortage_racing_a_quantity_change_gives_no_unit_twice(api):
    for n in range(3):
        who, item, made = setup_line(api, 3, paid=False)
        remember_quantities(made)
        buy(who, item, 2)()
        more = OrderPatch(quantity=2)
        calls = [resolve(who, item), lambda: orders.update(who, made[0]["id"], more)]
        results = at_once(calls if n % 2 else calls[::-1])
        answer = next(r for r in results if isinstance(r, dict) and "kept" in r)
        check_line(who, item, failed={f["id"] for f in answer["failed"]})


def test_two_resolutions_and_a_purchase_at_once(api):
    who, item, made = setup_line(api, 4)
    remember_quantities(made)
    buy(who, item, 1)()
    calls = [
        resolve(who, item),
        resolve(who, item, keep=[made[3]["id"]]),
        buy(who, item, 1),
    ]
    results = at_once(calls)
    failed = {f["id"] for r in results if isinstance(r, dict) and "failed" in r for f in r["failed"]}
    line = check_line(who, item, failed=failed)
    kept = [r["kept"] for r in results[:2] if isinstance(r, dict)]
    cancelled = [c["order_id"] for r in results[:2] if isinstance(r, dict) for c in r["cancelled"]]
    assert len(cancelled) == len(set(cancelled)), results  # no order cancelled by both
    assert sum(k["quantity"] for ks in kept for k in ks) <= line["bought"]
