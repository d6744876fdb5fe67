"""Batches (trips): their exchange rates, note and closed mark, and the cost of every
order in the shop currency. All access to `batches` lives here.

A batch exists as soon as an order names it; its document (rates, closed, note) is made
by the first PATCH. An order stores `cost_amount`, the cost of its units converted at its
batch's rate (currencies.convert), so reports only add stored numbers. Which rate an
order used is its `rates_version`; a batch's `rates_version` grows with every change of
its rates. Without transactions the two meet from both sides:

- a PATCH of rates bumps the batch's version first, then rewrites every order of the
  batch whose version is older (`_sweep`, conditional on that version: a slower sweep of
  an older version never overwrites a newer one);
- an order written with a rate reads the batch's version again after its write
  (`settle`). If the rates changed in between, its write may have landed after the
  sweep, so it converts itself again.

Either the sweep sees the order's write or the order sees the new version, so every
order ends on the latest rates.

`cost_state` says which of three cases an order is in, so a report groups by a stored
field: `known` (cost_amount set), `no_rate` (a cost in a currency its batch has no rate
for), `none` (no cost; also every order made before costs existed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bson import ObjectId

from chalicelib.catalog.schemas import BatchOut, BatchPatch
from chalicelib.orderbook import repository
from chalicelib.platform import clock, currencies, mongo, store
from chalicelib.platform.db import get_db, is_duplicate_key
from chalicelib.platform.errors import Conflict, ValidationFailed
from chalicelib.platform.ids import object_id
from chalicelib.platform.principal import Principal
from chalicelib.reporting.reports import grouped_sums

KNOWN, NO_RATE, NONE = "known", "no_rate", "none"


@dataclass(frozen=True)
class Batch:
    """What an order's write needs of its batch: the rates, their version, closed."""

    name: str | None
    rates: dict[str, Decimal] = field(default_factory=dict)
    version: int = 0
    closed: bool = False


NO_BATCH = Batch(None)


def _rates(doc: dict | None) -> dict[str, Decimal]:
    return {cur: Decimal(text) for cur, text in ((doc or {}).get("rates") or {}).items()}


def read(seller_id: ObjectId, name: str | None) -> Batch:
    """One read by (seller_id, name), only for an order that names a batch."""
    if not name:
        return NO_BATCH
    doc = get_db().batches.find_one({"seller_id": seller_id, "name": name})
    if doc is None:
        return Batch(name)
    return Batch(name, _rates(doc), doc.get("rates_version", 0), bool(doc.get("closed")))


def check_open(batch: Batch) -> None:
    """New orders (or orders moved in) are refused by a closed batch: its books are done."""
    if batch.closed:
        raise Conflict(
            f"batch {batch.name} is closed; reopen it to add orders",
            code="batch_closed",
            details=[{"field": "batch", "code": "batch_closed", "message": "closed"}],
        )


def depends_on_rate(cost_currency: str | None, batch: str | None, shop: str) -> bool:
    return bool(batch) and cost_currency is not None and cost_currency != shop


def cost_fields(cost: int | None, cost_currency: str | None, quantity: int, batch: Batch, shop: str) -> dict:
    """The cost fields an order stores, worked out from its cost and its batch."""
    if cost is None or cost_currency is None:
        return {"cost": None, "cost_currency": None, "cost_amount": None, "cost_state": NONE}
    rate = batch.rates.get(cost_currency) if batch.name else None
    amount = currencies.convert(cost, cost_currency, quantity, rate, shop)
    out = {
        "cost": cost,
        "cost_currency": cost_currency,
        "cost_amount": amount,
        "cost_state": KNOWN if amount is not None else NO_RATE,
    }
    if depends_on_rate(cost_currency, batch.name, shop):
        out["rates_version"] = batch.version
    return out


def parse_cost(
    value: Any, currency: str | None, shop: str, *, field: str = "cost"
) -> tuple[int | None, str | None]:
    """A given cost (major units) and currency (default: the shop's) -> stored form; a
    refusal is a 400 naming `field`."""
    if value is None:
        return None, None
    currency = currency or shop
    try:
        return currencies.parse_cost(value, currency), currency
    except ValueError as exc:
        code = getattr(exc, "code", "invalid")
        raise ValidationFailed(
            str(exc), details=[{"field": field, "code": code, "message": str(exc)}]
        ) from None


def cost_change(doc: dict, changes: dict, shop: str) -> tuple[int | None, str | None]:
    """The stored (cost, cost_currency) after a PATCH of an item or an order `doc`."""
    value = (
        changes["cost"]
        if "cost" in changes
        else currencies.cost_out(doc.get("cost"), doc.get("cost_currency"))
    )
    currency = changes.get("cost_currency") or doc.get("cost_currency")
    return parse_cost(value, currency, shop)


def settle(seller_id: ObjectId, order: dict, shop: str) -> dict:
    """After an order's write that used a rate: if the batch's rates changed meanwhile,
    convert again (conditional, so a newer sweep is never overwritten). One read when
    nothing changed, which is nearly always."""
    if order.get("cost") is None or not depends_on_rate(order.get("cost_currency"), order.get("batch"), shop):
        return order
    doc = get_db().batches.find_one(
        {"seller_id": seller_id, "name": order["batch"]}, {"rates": 1, "rates_version": 1}
    )
    version = (doc or {}).get("rates_version", 0)
    if version == order.get("rates_version"):
        return order
    batch = Batch(order["batch"], _rates(doc), version)
    sets = cost_fields(order["cost"], order["cost_currency"], order["quantity"], batch, shop)
    where = {**_same_cost(order), "rates_version": {"$lt": version}}
    return repository.set_cost(order["_id"], where, sets) or order


def settle_many(seller_id: ObjectId, orders: list[dict], shop: str) -> list[dict]:
    """`settle` for orders written together (an import, a form's submission), whose
    rates were read before the write: ONE read of the versions of the batches they used;
    only an order whose batch's rates moved meanwhile converts again (nearly never)."""
    used = {o["batch"] for o in orders if "rates_version" in o}
    if not used:
        return orders
    now = {
        b["name"]: b.get("rates_version", 0)
        for b in get_db().batches.find(
            {"seller_id": seller_id, "name": {"$in": sorted(used)}}, {"name": 1, "rates_version": 1}
        )
    }
    return [
        settle(seller_id, o, shop)
        if "rates_version" in o and now.get(o["batch"], 0) != o["rates_version"]
        else o
        for o in orders
    ]


def _same_cost(order: dict) -> dict:
    """The order as long as what its cost_amount is made of has not changed."""
    return {
        "_id": order["_id"],
        "batch": order["batch"],
        "cost": order["cost"],
        "cost_currency": order["cost_currency"],
        "quantity": order["quantity"],
    }


# --- the batch list and the batch's own settings ---------------------------------------


def to_out(name: str, doc: dict | None, tally: dict | None, shop: str) -> dict:
    tally = tally or {"order_count": 0, "total_amount": 0, "currencies": set()}
    rates = (doc or {}).get("rates") or {}
    used = sorted(c for c in tally["currencies"] if c and c != shop)
    return BatchOut.from_doc(
        {
            "name": name,
            "order_count": tally["order_count"],
            "total_amount": tally["total_amount"],
            "closed": bool((doc or {}).get("closed")),
            "rates": dict(sorted(rates.items())),
            "note": (doc or {}).get("note"),
            "currencies": used,
            "missing_rates": [c for c in used if c not in rates],
            "updated_at": (doc or {}).get("updated_at"),
        }
    )


def _tallies(seller_id: ObjectId, name: str | None = None) -> dict[str, dict]:
    """Per batch: orders (neither cancelled nor refunded), their total, and the cost
    currencies they use. One aggregation on MongoDB (reports.grouped_sums)."""
    match: dict[str, Any] = {
        "seller_id": seller_id,
        "batch": name if name is not None else {"$ne": None},
        "fulfillment_status": {"$ne": "cancelled"},
        "payment_status": {"$ne": "refunded"},
    }
    out: dict[str, dict] = {}
    for row in grouped_sums(
        match,
        {"batch": "batch", "currency": "cost_currency"},
        {"count": 1, "total": "$total_amount"},
    ):
        t = out.setdefault(row["batch"], {"order_count": 0, "total_amount": 0, "currencies": set()})
        t["order_count"] += row["count"]
        t["total_amount"] += row["total"]
        t["currencies"].add(row["currency"])
    return out


def search(principal: Principal) -> list[dict]:
    """GET /batches: every batch an order names or a PATCH made; open ones first, then by
    name, newest-looking first ("2026-12 東京" after "2026-11 首爾")."""
    seller_id = object_id(principal.seller_id)
    tallies = _tallies(seller_id)
    docs = {d["name"]: d for d in get_db().batches.find({"seller_id": seller_id})}
    rows = [to_out(n, docs.get(n), tallies.get(n), principal.currency) for n in tallies.keys() | docs.keys()]
    rows.sort(key=lambda r: r["name"], reverse=True)
    rows.sort(key=lambda r: r["closed"])
    return rows


def update(principal: Principal, name: str, patch: BatchPatch) -> dict:
    """PATCH /batches/{name}: rates merge per currency (null removes one), note, closed.
    A closed batch keeps its rates unless the same PATCH reopens it. Changed rates are
    applied to the batch's orders before the answer (`_sweep`)."""
    seller_id = object_id(principal.seller_id)
    changes = patch.model_dump(exclude_unset=True)
    rates: dict[str, Decimal | None] = changes.pop("rates", None) or {}
    if principal.currency in rates:
        raise ValidationFailed(
            f"{principal.currency} is the shop currency: its rate is always 1",
            details=[{"field": "rates", "code": "shop_currency", "message": principal.currency}],
        )
    now = clock.now()
    sets: dict[str, Any] = {"updated_at": now, **changes}
    unsets: dict[str, Any] = {}
    for cur, rate in rates.items():
        if rate is None:
            unsets[f"rates.{cur}"] = ""
        else:
            sets[f"rates.{cur}"] = currencies.rate_text(rate)
    update: dict[str, Any] = {"$set": sets, "$setOnInsert": {"created_at": now}}
    if unsets:
        update["$unset"] = unsets
    if rates:
        update["$inc"] = {"rates_version": 1}
    query: dict[str, Any] = {"seller_id": seller_id, "name": name}
    if rates and changes.get("closed") is not False:
        query["closed"] = {"$ne": True}
    doc = _upsert(query, update)
    if doc is None:
        raise Conflict(
            f"batch {name} is closed; reopen it to change its rates",
            code="batch_closed",
            details=[{"field": "rates", "code": "batch_closed", "message": "closed"}],
        )
    if rates:
        _sweep(seller_id, name, doc, principal.currency)
    return to_out(name, doc, _tallies(seller_id, name).get(name), principal.currency)


def _upsert(query: dict, update: dict) -> dict | None:
    """One conditional upsert. A closed batch does not match `closed: {$ne: true}`, so the
    upsert tries to insert a second one and the unique (seller_id, name) index refuses:
    that, or two first PATCHes at once, is told apart by reading again."""
    coll = get_db().batches
    for _ in range(3):
        try:
            return store.find_one_and_update(
                coll,
                query,
                update,
                lock=store.batch_key(query["seller_id"], query["name"]),
                upsert=True,
                return_document=mongo.ReturnDocument.AFTER,
            )
        except mongo.OperationFailure as exc:
            if not is_duplicate_key(exc):
                raise
            existing = coll.find_one({"seller_id": query["seller_id"], "name": query["name"]}, {"closed": 1})
            if existing is not None and existing.get("closed") and "closed" in query:
                return None
    raise Conflict("the batch changed while saving; try again", code="concurrent_update")


def _sweep(seller_id: ObjectId, name: str, doc: dict, shop: str) -> None:
    """Convert every order of the batch at the rates of `doc`: one read of the orders with
    a foreign cost, then one bulk write of the ones that change, each conditional on its
    cost and on an older rates_version."""
    version = doc.get("rates_version", 0)
    batch = Batch(name, _rates(doc), version)
    ops = []
    for order in get_db().orders.find(
        {"seller_id": seller_id, "batch": name, "cost": {"$ne": None}},
        {"cost": 1, "cost_currency": 1, "quantity": 1, "batch": 1},
    ):
        if not depends_on_rate(order.get("cost_currency"), name, shop):
            continue
        sets = cost_fields(order["cost"], order["cost_currency"], order["quantity"], batch, shop)
        ops.append(({**_same_cost(order), "rates_version": {"$lt": version}}, sets))
    # Under every order's lock where the server needs them (one insert_many).
    repository.set_costs(ops, locked=True)


def shop_changed(event) -> None:
    """auth.ShopProfileChanged: a new shop currency means new cost amounts (read again:
    repricing twice gives the same amounts)."""
    if event.currency_changed:
        seller = get_db().sellers.find_one({"_id": event.seller_id}, {"currency": 1})
        if seller is not None:
            reprice_all(seller["_id"], seller["currency"])


def reprice_all(seller_id: ObjectId, shop: str) -> int:
    """The shop currency changed: every order's cost_amount is converted again (each
    batch's rates now mean the new currency). Returns the number of orders rewritten."""
    batches = {d["name"]: d for d in get_db().batches.find({"seller_id": seller_id})}
    ops = []
    for order in get_db().orders.find(
        {"seller_id": seller_id, "cost": {"$ne": None}},
        {"cost": 1, "cost_currency": 1, "quantity": 1, "batch": 1},
    ):
        doc = batches.get(order.get("batch"))
        batch = Batch(order.get("batch"), _rates(doc), (doc or {}).get("rates_version", 0))
        sets = cost_fields(order["cost"], order["cost_currency"], order["quantity"], batch, shop)
        ops.append((_same_cost(order), sets))
    repository.set_costs(ops, locked=False)
    return len(ops)
