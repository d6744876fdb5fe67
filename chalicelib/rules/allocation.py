"""How money is spread over a buyer's orders and charges: pure functions, no database, no
clock. A charge (money owed that is no order line: shipping, duty...) is a document with
`amount` and `status` (open | void) where an order has `total_amount` and its statuses;
both hold `paid_by` {payment id: cents} and `paid_amount`.

payments.py reads the documents, asks these functions what the allocations become, and
writes the answer. tests/unit/test_allocation.py and the property test in
tests/integration/test_payment_properties.py walk them.
"""

from __future__ import annotations

from dataclasses import dataclass

# Orders that take money: neither cancelled (its money goes back to the buyer's credit)
# nor refunded (the seller's explicit choice: the money went back to the buyer).
NOT_PAYABLE_FULFILLMENT = ("cancelled",)
NOT_PAYABLE_PAYMENT = ("refunded",)


def is_charge(doc: dict) -> bool:
    return "total_amount" not in doc


def owed_of(doc: dict) -> int:
    """What the order or charge costs the buyer in all."""
    return doc["amount"] if is_charge(doc) else doc["total_amount"]


def payable(order: dict) -> bool:
    if is_charge(order):
        return order["status"] == "open"
    return (
        order["fulfillment_status"] not in NOT_PAYABLE_FULFILLMENT
        and order["payment_status"] not in NOT_PAYABLE_PAYMENT
    )


def paid_of(order: dict) -> int:
    return order.get("paid_amount", 0)


def balance_of(order: dict) -> int:
    """What the buyer still owes on the order or charge (0 for one that takes no money)."""
    return max(owed_of(order) - paid_of(order), 0) if payable(order) else 0


def credit_of(payments: list[dict]) -> int:
    """The buyer's credit: confirmed money on no order or charge yet (the tracking page,
    a batch notice)."""
    return sum(p["unallocated"] for p in payments if p["status"] == "confirmed")


def due_of(debts: list[dict], credit: int) -> int:
    """What a buyer is asked to pay: the balances of their orders and open charges, less
    the credit that will pay them (a batch notice's `balance`)."""
    return max(sum(balance_of(d) for d in debts) - credit, 0)


def share_change(doc: dict, pid: str, target: int, customer_id) -> tuple[int, int, int]:
    """Payment `pid`'s share of an order or charge set to `target` cents: (its current
    share, the share it may take, what the other payments hold). Never more than the
    debt may hold: one that takes no money now, or moved to another buyer, keeps at most
    what it has (the caller keeps the rest as credit)."""
    current = doc.get("paid_by", {}).get(pid, 0)
    others = paid_of(doc) - current
    takes = payable(doc) and doc["customer_id"] == customer_id
    room = max(owed_of(doc) - others, 0) if takes else current
    return current, min(target, room), others


def status_after(order: dict, paid: int) -> str:
    """payment_status from the confirmed money on the order. `refunded` is the seller's
    to set and stays; an order of 0 keeps its status (nothing to pay)."""
    if order["payment_status"] == "refunded":
        return "refunded"
    if paid <= 0:
        return "unpaid"
    if paid >= order["total_amount"]:
        return "remitted"
    return "partial"


@dataclass
class Share:
    """One payment's money on one order or charge (`order_id`: either's id)."""

    payment_id: str
    order_id: object
    amount: int


def fill(available: int, orders: list[dict], balances: dict | None = None) -> list[Share]:
    """Spread `available` over `orders` (orders and charges) in the given order, each up
    to its balance.
    `balances` (order _id → cents) overrides what the documents say (money promised by
    earlier steps of the same change). Returns shares with payment_id left empty."""
    out = []
    for order in orders:
        if available <= 0:
            break
        left = (
            balances[order["_id"]] if balances is not None and order["_id"] in balances else balance_of(order)
        )
        take = min(available, left)
        if take > 0:
            out.append(Share("", order["_id"], take))
            available -= take
            if balances is not None:
                balances[order["_id"]] = left - take
    return out


def excess_of(order: dict) -> int:
    """Money on the order (or charge) beyond what it may hold: all of it once the order
    takes no money (cancelled; a charge voided), or what is above a total that went down."""
    paid = paid_of(order)
    if is_charge(order) and order["status"] != "open":
        return paid
    if not is_charge(order) and order["fulfillment_status"] in NOT_PAYABLE_FULFILLMENT:
        return paid
    return max(paid - owed_of(order), 0)


def release(order: dict, excess: int, newest_first: list[str]) -> dict[str, int]:
    """The order's shares after giving back `excess`, taken from the newest payment first
    (payment ids in `newest_first`): {payment_id: new share} for the shares that change."""
    shares = {str(k): v for k, v in order.get("paid_by", {}).items()}
    out: dict[str, int] = {}
    for pid in newest_first:
        if excess <= 0:
            break
        have = shares.get(pid, 0)
        give = min(have, excess)
        if give > 0:
            out[pid] = have - give
            excess -= give
    return out
