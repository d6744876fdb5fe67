"""The pure money rules of chalicelib/rules/allocation.py: balances, filling, releasing, status."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.rules import allocation


def order(oid, total, paid=0, pay="unpaid", ful="pending", paid_by=None):
    return {
        "_id": oid,
        "total_amount": total,
        "paid_amount": paid,
        "payment_status": pay,
        "fulfillment_status": ful,
        "paid_by": paid_by or {},
    }


def test_balance_is_nothing_on_cancelled_or_refunded_orders():
    assert allocation.balance_of(order(1, 500, 200, "partial")) == 300
    assert allocation.balance_of(order(1, 500, 200, "partial", "cancelled")) == 0
    assert allocation.balance_of(order(1, 500, 0, "refunded")) == 0
    assert (
        allocation.balance_of(
            {"_id": 1, "total_amount": 90, "payment_status": "unpaid", "fulfillment_status": "shipped"}
        )
        == 90
    )


def test_status_follows_the_money_but_refunded_stays():
    assert allocation.status_after(order(1, 500), 0) == "unpaid"
    assert allocation.status_after(order(1, 500), 1) == "partial"
    assert allocation.status_after(order(1, 500), 500) == "remitted"
    assert allocation.status_after(order(1, 500, pay="refunded"), 500) == "refunded"


def test_fill_in_the_given_order_up_to_each_balance():
    orders = [
        order("a", 100),
        order("b", 250, 50, "partial"),
        order("c", 40, ful="cancelled"),
        order("d", 30),
    ]
    shares = allocation.fill(260, orders)
    assert [(s.order_id, s.amount) for s in shares] == [("a", 100), ("b", 160)]
    assert [(s.order_id, s.amount) for s in allocation.fill(10_000, orders)] == [
        ("a", 100),
        ("b", 200),
        ("d", 30),
    ]
    # Money promised by an earlier payment of the same change counts.
    balances = {}
    allocation.fill(120, orders, balances)
    assert [(s.order_id, s.amount) for s in allocation.fill(300, orders, balances)] == [("b", 180), ("d", 30)]


def test_excess_and_release_newest_payment_first():
    o = order("a", 150, 250, "remitted", paid_by={"p1": 100, "p2": 150})
    assert allocation.excess_of(o) == 100
    assert allocation.release(o, 100, ["p2", "p1"]) == {"p2": 50}
    assert allocation.release(o, 200, ["p2", "p1"]) == {"p2": 0, "p1": 50}
    cancelled = {**o, "fulfillment_status": "cancelled"}
    assert allocation.excess_of(cancelled) == 250


money = st.integers(0, 10**6)


@given(
    available=money,
    totals=st.lists(st.tuples(money, money, st.booleans()), max_size=8),
)
def test_fill_never_overpays_and_spends_at_most_what_there_is(available, totals):
    orders = [
        order(i, total, min(paid, total), "partial", "cancelled" if gone else "pending")
        for i, (total, paid, gone) in enumerate(totals)
    ]
    shares = allocation.fill(available, orders)
    spent = sum(s.amount for s in shares)
    assert spent <= available and all(s.amount > 0 for s in shares)
    by_id = {o["_id"]: o for o in orders}
    for s in shares:
        assert s.amount <= allocation.balance_of(by_id[s.order_id])
    # Either the money ran out or every order that takes money is now full.
    if spent < available:
        assert sum(allocation.balance_of(o) for o in orders) == spent


@given(shares=st.dictionaries(st.sampled_from("abcdef"), st.integers(1, 10**5), min_size=1), cut=money)
def test_release_gives_back_exactly_the_excess(shares, cut):
    paid = sum(shares.values())
    o = order("x", paid, paid, "remitted", paid_by=shares)
    excess = min(cut, paid)
    after = {**shares, **allocation.release(o, excess, sorted(shares, reverse=True))}
    assert paid - sum(after.values()) == excess and all(v >= 0 for v in after.values())


def charge(cid, amount, paid=0, status="open", paid_by=None):
    return {"_id": cid, "amount": amount, "paid_amount": paid, "status": status, "paid_by": paid_by or {}}


def test_a_charge_owes_its_amount_until_void():
    assert allocation.is_charge(charge(1, 60)) and not allocation.is_charge(order(1, 60))
    assert allocation.balance_of(charge(1, 6000, 2000)) == 4000
    assert allocation.balance_of(charge(1, 6000, 0, "void")) == 0
    assert allocation.excess_of(charge(1, 6000, 2000, "void")) == 2000
    assert allocation.excess_of(charge(1, 3000, 5000)) == 2000  # its amount went down
    assert allocation.excess_of(charge(1, 6000, 5000)) == 0


def test_fill_spreads_over_orders_and_charges_alike():
    debts = [order("o1", 100, 40, "partial"), charge("c1", 60), charge("c2", 50, 0, "void"), order("o2", 30)]
    shares = allocation.fill(150, debts)
    assert [(s.order_id, s.amount) for s in shares] == [("o1", 60), ("c1", 60), ("o2", 30)]
    assert allocation.release(charge("c1", 60, 60, "void", {"p1": 20, "p2": 40}), 60, ["p2", "p1"]) == {
        "p2": 0,
        "p1": 0,
    }
