"""Checks of the payments ledger against the database, shared by the payment tests."""

from __future__ import annotations

from collections import defaultdict

from chalicelib.platform import db


def check_ledger(seller_token_api=None) -> dict:
    """Every invariant of the ledger, over every seller in the test database:
    - a payment's allocations plus its unallocated money are its amount (confirmed), and a
      payment that is not confirmed holds no money;
    - each order's paid_amount is the sum of its shares, and each share equals the
      allocation the (confirmed) payment records for it;
    - no order holds more than its total; a cancelled order holds nothing;
    - the same for charges: each one's paid_amount is the sum of its shares, each share
      the payment's allocation to it; none holds more than its amount, a void one nothing;
    - money on orders and charges plus credit equals the confirmed payments;
    - no payment is left half-applied.
    Returns {customer_id: credit} for further checks."""
    database = db.get_db()
    orders = {o["_id"]: o for o in database.orders.find()}
    charges = {c["_id"]: c for c in database.charges.find()}
    from_payments: dict = defaultdict(int)
    credit: dict = defaultdict(int)
    confirmed = 0
    for p in database.payments.find():
        assert p.get("applied", True), f"payment {p['_id']} left half-applied"
        allocated = sum(a["amount"] for a in p["allocations"])
        if p["status"] == "confirmed":
            assert allocated + p["unallocated"] == p["amount"], p
            assert p["unallocated"] >= 0 and all(a["amount"] > 0 for a in p["allocations"]), p
            credit[p["customer_id"]] += p["unallocated"]
            confirmed += p["amount"]
        else:
            assert allocated == 0 and p["unallocated"] == 0, p
        for a in p["allocations"]:
            if "charge_id" in a:
                charge = charges[a["charge_id"]]
                assert charge["customer_id"] == p["customer_id"], "money on another buyer's charge"
                assert charge.get("paid_by", {}).get(str(p["_id"])) == a["amount"], (charge, p)
                from_payments[a["charge_id"]] += a["amount"]
                continue
            order = orders[a["order_id"]]
            assert order["customer_id"] == p["customer_id"], "money on another buyer's order"
            assert order.get("paid_by", {}).get(str(p["_id"])) == a["amount"], (order, p)
            from_payments[a["order_id"]] += a["amount"]
    for oid, o in orders.items():
        shares = o.get("paid_by", {})
        assert o.get("paid_amount", 0) == sum(shares.values()) == from_payments[oid], o
        assert o.get("paid_amount", 0) <= o["total_amount"], o
        if o["fulfillment_status"] == "cancelled":
            assert o.get("paid_amount", 0) == 0, o
    for cid, c in charges.items():
        shares = c.get("paid_by", {})
        assert c["paid_amount"] == sum(shares.values()) == from_payments[cid], c
        assert 0 <= c["paid_amount"] <= c["amount"], c
        if c["status"] == "void":
            assert c["paid_amount"] == 0 and "live_key" not in c, c
    on_debts = sum(o.get("paid_amount", 0) for o in orders.values())
    on_debts += sum(c["paid_amount"] for c in charges.values())
    assert on_debts + sum(credit.values()) == confirmed, (on_debts, dict(credit), confirmed)
    for c in database.customers.find():
        assert c.get("credit", 0) == credit[c["_id"]], (c, credit[c["_id"]])
    return {k: v for k, v in credit.items() if v}
