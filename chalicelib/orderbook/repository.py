"""The one writer of `orders`: every insert, update and delete of an order, its `history`,
its `version` and the orders' lock keys are here (tests/unit/test_one_writer.py fails on
a write of orders anywhere else). Domain modules decide what changes (orders,
order_rules, payments, parcels, batches) and call an operation by name; each operation
sends the commands its caller sent before (bench/bench_api.py counts them; only
attach_to_parcel's `buyer_name` spares POST /parcels a read).

Every change of an order's state bumps `version` and stamps `updated_at` (copies written
as they were: a buyer's new name, a cost converted again, bump neither); a status move
pushes entries built by order_rules.history_entry, which say who wrote them (`by`: the
caller's actor, or a source such as order_rules.BY_PAYMENT). Writes that must not interleave with
another order write on a server without single-document atomicity (FerretDB) hold the
orders' locks (store.serialized; nothing on MongoDB).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from chalicelib.platform import mongo, store
from chalicelib.platform.db import get_db
from chalicelib.rules import order_rules
from chalicelib.rules.order_rules import ParcelMove


def bulk_lock(order_ids: Iterable[Any]):
    """The orders' locks around a bulk update's writes (nothing on MongoDB). Up to 500
    orders: the updates may take seconds on FerretDB, which the lease says."""
    keys = store.order_keys(order_ids)
    return store.serialized(*keys, hold=3 + len(keys) / 100)


def _change(sets: dict[str, Any], history: list[dict], now: dt.datetime) -> dict[str, Any]:
    """The update of a changed order: its fields, `updated_at`, one more `version`, and
    its history entries appended."""
    update: dict[str, Any] = {"$set": {**sets, "updated_at": now}, "$inc": {"version": 1}}
    if history:
        update["$push"] = {"history": {"$each": history}}
    return update


def _state(states: tuple[str, ...]) -> Any:
    return states[0] if len(states) == 1 else {"$in": list(states)}


# --- new orders ------------------------------------------------------------------------


def insert(doc: dict) -> None:
    """A new order (sales.orders.order_document's shape)."""
    get_db().orders.insert_one(doc)


def insert_many(docs: list[dict]) -> None:
    """New orders written together (a form's submission, an import), in order."""
    get_db().orders.insert_many(docs, ordered=True)


def delete_import(seller_id, import_id) -> None:
    """An import undone: the orders it wrote."""
    get_db().orders.delete_many({"seller_id": seller_id, "import_id": import_id})


# --- one order -------------------------------------------------------------------------


def update_fields(
    order_id, where: dict[str, Any], sets: dict[str, Any], history: list[dict], now: dt.datetime
) -> dict | None:
    """One conditional update of the order (`where`: what must still hold, e.g. its
    version or the states a move starts from), under its lock: the order after, or
    None when it did not match."""
    return store.find_one_and_update(
        get_db().orders,
        {"_id": order_id, **where},
        _change(sets, history, now),
        lock=store.order_key(order_id),
        return_document=mongo.ReturnDocument.AFTER,
    )


def set_payment_share(order: dict, pid: str, target: int, paid: int, status: str, now: dt.datetime) -> bool:
    """Payment `pid`'s share of the order becomes `target` cents (0: none), its paid
    amount `paid` and its payment_status `status`, if nobody changed the order since it
    was read (its version). Whether it was written."""
    done = store.update_one(
        get_db().orders,
        {"_id": order["_id"], "version": order.get("version", 0)},
        _share_update(order, pid, target, paid, status, now),
        lock=store.order_key(order["_id"]),
    )
    return bool(done.matched_count)


def set_payment_shares(shares: list[tuple[dict, str, int, int, str]], now: dt.datetime) -> int:
    """Many orders' `set_payment_share` (order, pid, target, paid, status) in one bulk
    write, each if nobody changed its order since it was read, under the orders' locks
    where a server needs them. How many were written (the caller finds which)."""
    if not shares:
        return 0
    ops = [
        mongo.UpdateOne(
            {"_id": order["_id"], "version": order.get("version", 0)},
            _share_update(order, pid, target, paid, status, now),
        )
        for order, pid, target, paid, status in shares
    ]
    keys = store.order_keys(order["_id"] for order, *_ in shares)
    with store.serialized(*keys, hold=3 + len(keys) / 50):
        return store.bulk_write(get_db().orders, ops)


def _share_update(order: dict, pid: str, target: int, paid: int, status: str, now: dt.datetime) -> dict:
    sets: dict[str, Any] = {"paid_amount": paid}
    if target:
        sets[f"paid_by.{pid}"] = target
    history = []
    if status != order["payment_status"]:
        sets["payment_status"] = status
        sets["remitted_at"] = order_rules.remitted_at_after(status, now)
        history.append(
            order_rules.history_entry(
                "payment_status", status, now, order["payment_status"], by=order_rules.BY_PAYMENT
            )
        )
    update = _change(sets, history, now)
    if not target:
        update["$unset"] = {f"paid_by.{pid}": ""}
    return update


def set_payment_status(order: dict, status: str, now: dt.datetime) -> None:
    """The order's payment_status moves to `status` (its money unchanged), if nobody
    changed the order since it was read."""
    store.update_one(
        get_db().orders,
        {"_id": order["_id"], "version": order.get("version", 0)},
        _change(
            {"payment_status": status, "remitted_at": order_rules.remitted_at_after(status, now)},
            [
                order_rules.history_entry(
                    "payment_status", status, now, order["payment_status"], by=order_rules.BY_PAYMENT
                )
            ],
            now,
        ),
        lock=store.order_key(order["_id"]),
    )


def set_cost(order_id, where: dict[str, Any], sets: dict[str, Any]) -> dict | None:
    """The order's cost fields converted again at its batch's newer rates, if `where`
    still holds (its cost inputs, an older rates_version): the order after, or as it is."""
    after = store.find_one_and_update(
        get_db().orders,
        {"_id": order_id, **where},
        {"$set": sets},
        lock=store.order_key(order_id),
        return_document=mongo.ReturnDocument.AFTER,
    )
    return after if after is not None else get_db().orders.find_one({"_id": order_id})


# --- many orders -----------------------------------------------------------------------


def update_group(query: dict[str, Any], sets: dict[str, Any], history: list[dict], now: dt.datetime) -> int:
    """One update of the orders `query` matches (a bulk update's group, planned alike
    from the state the filter repeats); the caller holds their locks (`bulk_lock`).
    How many matched."""
    return get_db().orders.update_many(query, _change(sets, history, now)).matched_count


def set_costs(changes: list[tuple[dict, dict]], *, locked: bool) -> None:
    """Cost fields of many orders, each `(filter, sets)` conditional on what its cost is
    made of: one bulk write (store.bulk_write chunks it where needed). `locked`: under
    every order's lock (a batch's new rates meet orders written meanwhile), held long on
    a server that needs them (5,000 orders: 17 s on FerretDB, docs/performance.md), or
    contenders would take a live sweep for a dead one."""
    if not changes:
        return
    ops = [mongo.UpdateOne(query, {"$set": sets}) for query, sets in changes]
    if not locked:
        store.bulk_write(get_db().orders, ops)
        return
    ids = [query["_id"] for query, _ in changes]
    with store.serialized(*store.order_keys(ids), wait=10.0, hold=5 + len(ops) / 100):
        store.bulk_write(get_db().orders, ops)


def set_costs_with_history(changes: list[tuple[dict, dict, dict]], now: dt.datetime) -> None:
    """Cost fields of many orders as a typed cost writes them, each `(filter, sets,
    history entry)` conditional on its filter: one bulk write (a shopping trip's unit
    cost given to the orders it bought, sales/shopping.py)."""
    if changes:
        ops = [mongo.UpdateOne(query, _change(sets, [entry], now)) for query, sets, entry in changes]
        store.bulk_write(get_db().orders, ops)


def rename_buyer(customer: dict) -> None:
    """Every order of the customer carries its current name and email: one read of their
    ids, one update under their locks (FerretDB writes a whole order back: a parcel
    marking it at the same time would put the old name back)."""
    db = get_db()
    who = {"seller_id": customer["seller_id"], "customer_id": customer["_id"]}
    ids = [o["_id"] for o in db.orders.find(who, {"_id": 1})]
    store.update_many(
        db.orders,
        {**who, "_id": {"$in": ids}},
        {"$set": {"buyer_name": customer["name"], "buyer_email": customer["email"]}},
        lock=store.order_keys(ids),
    )


def move_buyer(seller_id, from_id, sets: dict[str, Any], history: list[dict], now: dt.datetime) -> int:
    """A merge: every order of the buyer `from_id` takes `sets` (the other buyer's id and
    copies) and `history`. One read of the ids, one update under their locks; an order
    already moved no longer matches, so a replay moves (and records) nothing twice. How
    many orders moved."""
    db = get_db()
    who = {"seller_id": seller_id, "customer_id": from_id}
    ids = [o["_id"] for o in db.orders.find(who, {"_id": 1})]
    if not ids:
        return 0
    return store.update_many(
        db.orders, {**who, "_id": {"$in": ids}}, _change(sets, history, now), lock=store.order_keys(ids)
    ).modified_count


# --- a parcel's orders -----------------------------------------------------------------


def attach_to_parcel(
    parcel: dict,
    orders: list[dict],
    fields: dict[str, Any],
    now: dt.datetime,
    *,
    buyer_name: str | None = None,
) -> int:
    """The parcel's orders carry its copy (`fields`); those not yet sent move as
    order_rules.PARCEL_SHIPS says (shipped on the parcel's date, `shipped_by_parcel`
    so unpacking puts them back), sent ones keep their status. One update per group,
    each filter saying the order is still in that state and in no other parcel (and,
    given `buyer_name`, still carries that name). How many orders matched."""
    db = get_db()
    pid = parcel["_id"]
    move = order_rules.PARCEL_SHIPS
    moves, keeps = order_rules.parcel_packing(orders)
    free = {"parcel_id": {"$in": [None, pid]}, "seller_id": parcel["seller_id"]}
    if buyer_name is not None:
        free["buyer_name"] = buyer_name
    matched = 0
    with store.serialized(*store.order_keys(o["_id"] for o in orders)):
        if moves:
            matched += db.orders.update_many(
                {"_id": {"$in": moves}, "fulfillment_status": _state(move.from_states), **free},
                _change(
                    {**fields, **move.sets(parcel["shipped_date"]), "shipped_by_parcel": pid},
                    [move.history(now, parcel.get("shipped_by"))],
                    now,
                ),
            ).matched_count
        if keeps:
            matched += db.orders.update_many(
                {"_id": {"$in": keeps}, "fulfillment_status": _state(order_rules.SHIPPED_STATES), **free},
                _change(fields, [], now),
            ).matched_count
    return matched


def detach_parcel(parcel: dict, move: ParcelMove, now: dt.datetime, actor: str | None = None) -> None:
    """The parcel's orders leave it: the ones it shipped (`shipped_by_parcel`) move back
    as `move` says (order_rules.parcel_returns), every one loses the parcel's copy."""
    db = get_db()
    pid = parcel["_id"]
    gone = {"parcel_id": None, "parcel": None, "shipped_by_parcel": None}
    with store.serialized(*store.order_keys(parcel["order_ids"])):
        db.orders.update_many(
            {"parcel_id": pid, "fulfillment_status": _state(move.from_states), "shipped_by_parcel": pid},
            _change({**gone, **move.sets(None)}, [move.history(now, actor)], now),
        )
        db.orders.update_many({"parcel_id": pid}, _change(gone, [], now))


def copy_parcel(parcel: dict, fields: dict[str, Any], now: dt.datetime) -> None:
    """The parcel's orders carry its changed copy (carrier, tracking number)."""
    store.update_many(
        get_db().orders,
        {"parcel_id": parcel["_id"]},
        _change(fields, [], now),
        lock=store.order_keys(parcel["order_ids"]),
    )


def deliver_parcel(parcel: dict, delivered_date: str, now: dt.datetime, actor: str | None = None) -> None:
    """The parcel arrived: its shipped orders move as order_rules.PARCEL_DELIVERS says
    and carry the parcel's delivered date; `actor` marked it delivered."""
    move = order_rules.PARCEL_DELIVERS
    store.update_many(
        get_db().orders,
        {"parcel_id": parcel["_id"], "fulfillment_status": _state(move.from_states)},
        _change(
            {**move.sets(None), "parcel.delivered_date": delivered_date}, [move.history(now, actor)], now
        ),
        lock=store.order_keys(parcel["order_ids"]),
    )
