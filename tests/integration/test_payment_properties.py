"""Property: after any sequence of payments, voids, buyer reports, confirms and rejects,
order edits, cancels, refunds and 已匯款 switches (single and bulk), and charges (added,
keyed, voided, their amounts edited, paid by name; issue 26), every order holds
0 ≤ paid_amount ≤ total_amount and every charge 0 ≤ paid_amount ≤ amount (0 once void),
and per buyer the money on orders and charges plus the credit is exactly the sum of
confirmed payments (payment_ledger.check_ledger checks the rest)."""

from __future__ import annotations

import os
from collections import defaultdict

from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payment_ledger import check_ledger

from chalicelib.accounts import auth
from chalicelib.money import charges, payments
from chalicelib.money.schemas import BuyerPaymentIn, PaymentIn
from chalicelib.platform import db
from chalicelib.platform.errors import DomainError
from chalicelib.sales import orders
from chalicelib.sales.schemas import BulkIn, OrderIn, OrderPatch

BUYERS = ("amy@example.com", "bob@example.com")
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "20"))  # more for a long hunt
idx = st.integers(0, 30)

op = st.one_of(
    st.tuples(st.just("order"), st.integers(0, 1), st.integers(1, 4), st.integers(0, 50_000)),
    st.tuples(st.just("pay"), st.integers(0, 1), st.integers(1, 300_000)),
    st.tuples(st.just("pay_for"), idx, st.integers(1, 300_000)),
    st.tuples(st.just("void"), idx),
    st.tuples(st.just("report"), st.integers(0, 1), st.integers(1, 100_000)),
    st.tuples(st.just("confirm"), idx, st.booleans()),
    st.tuples(st.just("quantity"), idx, st.integers(1, 5)),
    st.tuples(st.just("price"), idx, st.integers(0, 50_000)),
    st.tuples(st.just("status"), idx, st.sampled_from(["cancelled", "shipped", "purchased"])),
    st.tuples(st.just("switch"), idx, st.sampled_from(["remitted", "unpaid", "refunded"])),
    st.tuples(st.just("bulk_remit"), st.lists(idx, min_size=1, max_size=4)),
    st.tuples(
        st.just("charge"), st.integers(0, 1), st.integers(1, 20_000), st.sampled_from([None, "k0", "k1"])
    ),
    st.tuples(st.just("charge_void"), idx),
    st.tuples(st.just("charge_amount"), st.sampled_from(["k0", "k1"]), st.integers(0, 20_000)),
    st.tuples(st.just("pay_charge"), idx, st.integers(1, 50_000)),
)


def pick(i: int, seq: list):
    return seq[i % len(seq)]


def cents(n: int):
    from decimal import Decimal

    return Decimal(n).scaleb(-2)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=30))
def test_money_is_never_lost_or_counted_twice(backend, ops):
    who = auth.Principal(seller_id=str(ObjectId()), timezone="Asia/Taipei", currency="TWD")
    seller_id = ObjectId(who.seller_id)
    order_ids: list[str] = []
    customer_of: dict[int, str] = {}
    payment_ids: list[str] = []
    charge_ids: list = []
    for step in ops:
        kind = step[0]
        try:
            if kind == "order":
                o, _ = orders.create(
                    who,
                    OrderIn(
                        buyer_email=BUYERS[step[1]],
                        item_name="Tea",
                        quantity=step[2],
                        unit_price=cents(step[3]),
                    ),
                )
                order_ids.append(o["id"])
                customer_of[step[1]] = o["customer_id"]
            elif kind == "pay" and step[1] in customer_of:
                p, _ = payments.record(
                    who, PaymentIn(customer_id=customer_of[step[1]], amount=cents(step[2]), method="cash")
                )
                payment_ids.append(p["id"])
            elif kind == "pay_for" and order_ids:
                target = orders.get(who, pick(step[1], order_ids))
                p, _ = payments.record(
                    who,
                    PaymentIn(
                        customer_id=target["customer_id"],
                        amount=cents(step[2]),
                        method="bank_transfer",
                        order_ids=[target["id"]],
                    ),
                )
                payment_ids.append(p["id"])
            elif kind == "void" and payment_ids:
                payments.void(who, pick(step[1], payment_ids))
            elif kind == "report" and step[1] in customer_of:
                link = {
                    "_id": ObjectId(),
                    "seller_id": seller_id,
                    "customer_id": ObjectId(customer_of[step[1]]),
                }
                payments.report(link, BuyerPaymentIn(amount=cents(step[2])), who.timezone)
                payment_ids.append(str(db.get_db().payments.find_one(sort=[("_id", -1)])["_id"]))
            elif kind == "confirm" and payment_ids:
                pid = pick(step[1], payment_ids)
                if step[2]:
                    payments.confirm(who, pid)
                else:
                    payments.reject(who, pid, "no")
            elif kind == "quantity" and order_ids:
                orders.update(who, pick(step[1], order_ids), OrderPatch(quantity=step[2]))
            elif kind == "price" and order_ids:
                orders.update(who, pick(step[1], order_ids), OrderPatch(unit_price=cents(step[2])))
            elif kind == "status" and order_ids:
                orders.update(who, pick(step[1], order_ids), OrderPatch(fulfillment_status=step[2]))
            elif kind == "switch" and order_ids:
                orders.update(who, pick(step[1], order_ids), OrderPatch(payment_status=step[2]))
            elif kind == "bulk_remit" and order_ids:
                ids = [pick(i, order_ids) for i in step[1]]
                orders.bulk_update(
                    who, BulkIn.model_validate({"ids": ids, "set": {"payment_status": "remitted"}})
                )
            elif kind == "charge" and step[1] in customer_of:
                key = f"parcel:{step[3]}" if step[3] else None
                c = charges.add(
                    seller_id, charges.AddCharge(ObjectId(customer_of[step[1]]), step[2], "shipping", key=key)
                )
                charge_ids.append(c["_id"])
            elif kind == "charge_void" and charge_ids:
                charges.void(seller_id, pick(step[1], charge_ids))
            elif kind == "charge_amount":
                charges.set_amount_keyed(seller_id, f"parcel:{step[1]}", step[2])
            elif kind == "pay_charge" and charge_ids:
                target = db.get_db().charges.find_one({"_id": pick(step[1], charge_ids)})
                p, _ = payments.record(
                    who,
                    PaymentIn(
                        customer_id=str(target["customer_id"]),
                        amount=cents(step[2]),
                        method="cash",
                        charge_ids=[str(target["_id"])],
                    ),
                )
                payment_ids.append(p["id"])
        except DomainError:
            pass  # refusals (a cancelled order, a voided payment...) are part of the game

    check_ledger()
    confirmed: dict = defaultdict(int)
    for p in db.get_db().payments.find({"seller_id": seller_id, "status": "confirmed"}):
        confirmed[p["customer_id"]] += p["amount"]
    on_orders: dict = defaultdict(int)
    for o in db.get_db().orders.find({"seller_id": seller_id}):
        assert 0 <= o.get("paid_amount", 0) <= o["total_amount"]
        on_orders[o["customer_id"]] += o.get("paid_amount", 0)
    for c in db.get_db().charges.find({"seller_id": seller_id}):
        assert 0 <= c["paid_amount"] <= (c["amount"] if c["status"] == "open" else 0)
        on_orders[c["customer_id"]] += c["paid_amount"]
    for c in db.get_db().customers.find({"seller_id": seller_id}):
        assert on_orders[c["_id"]] + c.get("credit", 0) == confirmed[c["_id"]]
