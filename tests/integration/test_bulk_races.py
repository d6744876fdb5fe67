"""`POST /orders/bulk` racing single edits and other bulk updates on the real server
(FerretDB over a socket, threads sharing one connection pool).

After every race: stock came back exactly once for each cancelled order, each order's
history shows exactly the one transition that happened, and the two sides' counts of
what they changed add up to the orders actually changed. Each race runs a few rounds,
with the bulk call started at a different point among the single edits, so that the
two sides really interleave.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from bson import ObjectId

from chalicelib.catalog import items
from chalicelib.catalog.schemas import ItemIn
from chalicelib.platform import db
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn
from tests.factories import make_principal
from tests.integration.order_calls import bulk, patch

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)

ORDERS = 20
UNITS = 5
INITIAL_STOCK = ORDERS * UNITS
ROUNDS = 3


def new_round(principal) -> tuple[str, list[str]]:
    """A tracked item whose whole stock is taken by 20 pending orders of 5 units."""
    item = items.create(
        principal, ItemIn(item_name=f"Figure {uuid.uuid4().hex[:6]}", price=1000, stock=INITIAL_STOCK)
    )
    ids = [
        orders.create(principal, OrderIn(buyer_email="a@example.com", item_id=item["id"], quantity=UNITS))[0][
            "id"
        ]
        for _ in range(ORDERS)
    ]
    return item["id"], ids


def race(calls: list, round_no: int) -> list:
    """Run every call at once; the first call (a bulk update) is started at a different
    position among the others in each round. Results come back in the calls' order."""
    first, rest = calls[0], calls[1:]
    at = (round_no * 7) % (len(rest) + 1)
    order = [*rest[:at], first, *rest[at:]]
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(call) for call in order]
        results = [f.result() for f in futures]
    return [results[at], *results[:at], *results[at + 1 :]]


def outcome(item_id: str, ids: list[str]) -> tuple[int, dict[str, list[tuple]], dict[str, list[dict]]]:
    """Stock, each order's history as (from, to) pairs (as the API shows it), and the
    stored history entries."""
    stock = db.get_db().items.find_one({"_id": ObjectId(item_id)})["stock"]
    docs = {str(d["_id"]): d for d in db.get_db().orders.find({"_id": {"$in": [ObjectId(i) for i in ids]}})}
    shown = {i: [(h["field"], h["from"], h["to"]) for h in orders.history_out(docs[i])] for i in ids}
    stored = {i: docs[i]["history"] for i in ids}
    return stock, shown, stored


def check_bulk_result(result: dict, changed_by_it: set[str], ids: list[str]) -> None:
    """`updated` is what this call changed; every other id is failed or unchanged."""
    assert result["updated"] == len(changed_by_it)
    failed = {f["id"] for f in result["failed"]}
    assert failed.isdisjoint(changed_by_it)
    assert result["updated"] + result["unchanged"] + len(failed) == len(ids)


def bulk_marks(stored: list[dict]) -> set:
    """The per-call markers on the entries a bulk update pushed."""
    return {h["op"] for h in stored if "op" in h}


def test_bulk_cancel_races_single_ship(api):
    principal = make_principal(api)
    for round_no in range(ROUNDS):
        item_id, ids = new_round(principal)
        result, *shipped = race(
            [bulk(principal, ids, fulfillment_status="cancelled")]
            + [patch(principal, i, fulfillment_status="shipped") for i in ids],
            round_no,
        )
        stock, shown, _ = outcome(item_id, ids)
        cancelled = {i for i in ids if shown[i] == [("fulfillment_status", "pending", "cancelled")]}
        ships = {i for i in ids if shown[i] == [("fulfillment_status", "pending", "shipped")]}
        assert cancelled | ships == set(ids), shown  # one transition each, nothing else
        assert stock == INITIAL_STOCK - UNITS * len(ships), (round_no, result)
        check_bulk_result(result, cancelled, ids)
        assert {i for i, r in zip(ids, shipped, strict=True) if r == "ok"} == ships
        assert {f["id"] for f in result["failed"]} == ships
        assert result["updated"] + shipped.count("ok") == ORDERS


def test_two_bulk_cancels_race(api):
    principal = make_principal(api)
    for round_no in range(ROUNDS):
        item_id, ids = new_round(principal)
        first, second = race(
            [
                bulk(principal, ids, fulfillment_status="cancelled"),
                bulk(principal, list(reversed(ids)), fulfillment_status="cancelled"),
            ],
            round_no,
        )
        stock, shown, stored = outcome(item_id, ids)
        assert stock == INITIAL_STOCK, (round_no, first, second)  # each order's 5 units back once
        for i in ids:
            assert shown[i] == [("fulfillment_status", "pending", "cancelled")]
        assert first["updated"] + second["updated"] == ORDERS
        # Each side's count is exactly the orders its marker is on.
        marks = [bulk_marks(stored[i]).pop() for i in ids]
        assert sorted(marks.count(m) for m in set(marks)) == sorted(
            n for n in (first["updated"], second["updated"]) if n
        )
        for result in (first, second):
            assert result["updated"] + result["unchanged"] + len(result["failed"]) == ORDERS
            assert {f["error"] for f in result["failed"]} <= {"concurrent_update"}


def test_bulk_cancel_races_single_cancel(api):
    principal = make_principal(api)
    for round_no in range(ROUNDS):
        item_id, ids = new_round(principal)
        result, *singles = race(
            [bulk(principal, ids, fulfillment_status="cancelled")]
            + [patch(principal, i, fulfillment_status="cancelled") for i in ids],
            round_no,
        )
        stock, shown, stored = outcome(item_id, ids)
        assert stock == INITIAL_STOCK, (round_no, result)
        for i in ids:
            assert shown[i] == [("fulfillment_status", "pending", "cancelled")]
        # A single cancel of an already cancelled order is a no-op "ok", so who changed
        # an order is read from its one history entry: bulk entries carry the marker.
        by_bulk = {i for i in ids if bulk_marks(stored[i])}
        check_bulk_result(result, by_bulk, ids)
        assert singles == ["ok"] * ORDERS
        assert result["updated"] + (ORDERS - len(by_bulk)) == ORDERS


def test_bulk_ship_races_single_cancel(api):
    principal = make_principal(api)
    for round_no in range(ROUNDS):
        item_id, ids = new_round(principal)
        result, *singles = race(
            [bulk(principal, ids, fulfillment_status="shipped")]
            + [patch(principal, i, fulfillment_status="cancelled") for i in ids],
            round_no,
        )
        stock, shown, _ = outcome(item_id, ids)
        cancelled = {i for i in ids if shown[i] == [("fulfillment_status", "pending", "cancelled")]}
        ships = {i for i in ids if shown[i] == [("fulfillment_status", "pending", "shipped")]}
        assert cancelled | ships == set(ids), shown
        assert stock == INITIAL_STOCK - UNITS * len(ships), (round_no, result)
        check_bulk_result(result, ships, ids)
        assert {i for i, r in zip(ids, singles, strict=True) if r == "ok"} == cancelled
        assert {f["id"] for f in result["failed"]} == cancelled
        assert result["updated"] + singles.count("ok") == ORDERS
