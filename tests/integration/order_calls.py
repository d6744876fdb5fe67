"""Calls of the orders domain as thunks for the race tests (`at_once` and thread pools run
them): a bulk update by ids and a single edit that reports a refused change by its code."""

from __future__ import annotations

from chalicelib.platform.errors import Conflict
from chalicelib.sales import orders
from chalicelib.sales.schemas import BulkIn, OrderPatch


def bulk(principal, ids, **set_):
    return lambda: orders.bulk_update(principal, BulkIn.model_validate({"ids": ids, "set": set_}))


def patch(principal, order_id, **changes):
    def run():
        try:
            orders.update(principal, order_id, OrderPatch(**changes), attempts=20)
            return "ok"
        except Conflict as exc:
            return exc.code

    return run
