"""`POST /orders/bulk/matching` racing a second bulk "purchased" and single edits, on the
real servers (FerretDB and mongo-java-server over a socket, threads sharing one pool).

After every race: each order's history holds each move once, the calls' counts add up to
the orders changed (each call's count is exactly the orders its marker is on), and an
order edited out of the filter was changed only while it still matched.
"""

from __future__ import annotations

import uuid

import pytest
from bson import ObjectId

from chalicelib.platform import db
from chalicelib.sales import orders
from chalicelib.sales.schemas import BulkMatchIn, OrderIn
from tests.conftest import at_once
from tests.factories import make_principal
from tests.integration.order_calls import bulk, patch

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)

ORDERS = 24
ROUNDS = 3


def new_round(principal) -> tuple[str, list[str], list[str]]:
    """A trip of 24 pending orders and 4 of another trip, under a batch name of their own."""
    trip, other = f"Trip {uuid.uuid4().hex[:6]}", f"Else {uuid.uuid4().hex[:6]}"

    def order(batch):
        data = OrderIn(buyer_email="a@example.com", item_name="Tea", unit_price=100, quantity=1, batch=batch)
        return orders.create(principal, data)[0]["id"]

    return trip, [order(trip) for _ in range(ORDERS)], [order(other) for _ in range(4)]


def matching(principal, where, **set_):
    return lambda: orders.bulk_update_matching(
        principal, BulkMatchIn.model_validate({"where": where, "set": set_})
    )


def stored(ids: list[str]) -> dict[str, dict]:
    return {str(d["_id"]): d for d in db.get_db().orders.find({"_id": {"$in": [ObjectId(i) for i in ids]}})}


def moves(doc: dict) -> list[tuple[str, str]]:
    return [(h["field"], h["to"]) for h in doc["history"] if h["field"] == "fulfillment_status"]


def check_counts(result: dict, ids_sent: int | None = None) -> None:
    total = result.get("matched", ids_sent)
    assert result["updated"] + result["unchanged"] + len(result["failed"]) == total, result
    assert {f["error"] for f in result["failed"]} <= {"concurrent_update"}, result


def test_two_matching_purchased_and_a_selection_purchased_at_once(api):
    principal = make_principal(api)
    for _ in range(ROUNDS):
        trip, ids, others = new_round(principal)
        results = at_once(
            [
                matching(principal, {"batch": trip}, fulfillment_status="purchased"),
                bulk(principal, list(reversed(ids)), fulfillment_status="purchased"),
                matching(
                    principal,
                    {"batch": trip, "fulfillment_status": "pending"},
                    fulfillment_status="purchased",
                ),
            ]
        )
        docs = stored(ids + others)
        for i in ids:  # one move each, whoever made it
            assert moves(docs[i]) == [("fulfillment_status", "purchased")], (docs[i]["history"], results)
        for i in others:
            assert docs[i]["history"] == [] and docs[i]["fulfillment_status"] == "pending"
        check_counts(results[0])
        check_counts(results[1], ORDERS)
        check_counts(results[2])
        assert results[0]["matched"] == ORDERS
        assert sum(r["updated"] for r in results) == ORDERS, results
        # Each call's count is exactly the orders that carry its marker.
        marks = [next(h["op"] for h in docs[i]["history"] if "op" in h) for i in ids]
        assert sorted(marks.count(m) for m in set(marks)) == sorted(
            r["updated"] for r in results if r["updated"]
        )


def test_matching_purchased_meets_edits_that_move_orders_out_of_the_trip(api):
    """Half the trip's orders are moved to another batch (with a price, so the edit leaves
    its own history entry) while every order of the trip is marked purchased: an order
    moved out is purchased only if the bulk reached it before it left."""
    principal = make_principal(api)
    for _ in range(ROUNDS):
        trip, ids, _ = new_round(principal)
        moved = ids[::2]
        result, *edits = at_once(
            [matching(principal, {"batch": trip}, fulfillment_status="purchased")]
            + [patch(principal, i, batch="Moved", unit_price=150) for i in moved],
            threads=8,
        )
        assert edits == ["ok"] * len(moved)
        docs = stored(ids)
        check_counts(result)
        for i in ids:
            fields = [h["field"] for h in docs[i]["history"]]
            if i not in moved:
                assert docs[i]["fulfillment_status"] == "purchased", (i, result)
                continue
            assert docs[i]["batch"] == "Moved"
            if "fulfillment_status" in fields:  # reached while still in the trip
                assert fields.index("fulfillment_status") < fields.index("batch"), docs[i]["history"]
            else:
                assert docs[i]["fulfillment_status"] == "pending"
        reached = [i for i in ids if any("op" in h for h in docs[i]["history"])]
        assert result["updated"] == len(reached), result
        assert len(reached) >= ORDERS - len(moved)


def test_matching_purchased_meets_single_ships(api):
    """A PATCH shipping an order while the bulk marks the trip purchased: the order ends
    shipped, purchased first or never, never moved back to purchased."""
    principal = make_principal(api)
    for _ in range(ROUNDS):
        trip, ids, _ = new_round(principal)
        shipped = ids[1::3]
        result, *edits = at_once(
            [matching(principal, {"batch": trip}, fulfillment_status="purchased")]
            + [patch(principal, i, fulfillment_status="shipped") for i in shipped],
            threads=8,
        )
        assert edits == ["ok"] * len(shipped)
        docs = stored(ids)
        for i in ids:
            seen = [to for _, to in moves(docs[i])]
            if i in shipped:
                assert seen in (["shipped"], ["purchased", "shipped"]), docs[i]["history"]
            else:
                assert seen == ["purchased"]
        # A shipped order the bulk read as shipped is a backward move, refused as such.
        assert result["updated"] + result["unchanged"] + len(result["failed"]) == result["matched"]
        assert {f["error"] for f in result["failed"]} <= {"concurrent_update", "invalid_transition"}
        reached = [i for i in ids if any("op" in h for h in docs[i]["history"])]
        assert result["updated"] == len(reached), result
