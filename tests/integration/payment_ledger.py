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
    - no payment is left half-applied.
    Returns {customer_id: credit} for further checks."""
    database = db.get_db()
    orders = {o["_id"]: o for o in database.orders.find()}
    from_payments: dict = defaultdict(int)
    credit: dict = defaultdict(int)
    for p in database.payments.find():
        assert p.get("applied", True), f"payment {p['_id']} left half-applied"
        allocated = sum(a["amount"] for a in p["allocations"])
        if p["status"] == "confirmed":
            assert allocated + p["unallocated"] == p["amount"], p
            assert p["unallocated"] >= 0 and all(a["amount"] > 0 for a in p["allocations"]), p
            credit[p["customer_id"]] += p["unallocated"]
        else:
            assert allocated == 0 and p["unallocated"] == 0, p
        for a in p["allocations"]:
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
    for c in database.customers.find():
        assert c.get("credit", 0) == credit[c["_id"]], (c, credit[c["_id"]])
    return {k: v for k, v in credit.items() if v}
