"""What a staff member may not read or write (issue 31; contract "Staff"): costs, rates
and profit. Enforced once, at the edge (web.py), for every route, so a route added later
cannot leak them by forgetting a check: answers lose these fields (and history entries
about them), a body that sets one is 403 `forbidden_for_role`, and `owner_only` routes
(profit, exports with costs, members) refuse staff outright."""

from __future__ import annotations

import dataclasses
from typing import Any

from chalicelib.platform.errors import Forbidden

# Fields that carry what the seller paid, the exchange rates behind it, or the margin.
COST_FIELDS = frozenset(
    {
        "cost",
        "cost_currency",
        "cost_amount",
        "unit_cost",
        "shipping_cost",
        "profit",
        "rates",
        "rates_version",
        "missing_rates",
        "missing_rate_count",
        "missing_cost_count",
        "costed_count",
    }
)


def forbidden() -> Forbidden:
    return Forbidden("your role in this shop may not do this", code="forbidden_for_role")


def without_costs(value: Any) -> Any:
    """`value` (a JSON answer) with every cost field removed, at any depth; a history
    entry about a cost field (`{"field": "cost", "from": ..., "to": ...}`) goes too."""
    if isinstance(value, dict):
        return {k: without_costs(v) for k, v in value.items() if k not in COST_FIELDS}
    if isinstance(value, list):
        return [
            without_costs(v) for v in value if not (isinstance(v, dict) and v.get("field") in COST_FIELDS)
        ]
    if dataclasses.is_dataclass(value) or hasattr(value, "model_dump"):
        raise TypeError(f"answer of type {type(value).__name__}: serialise it before it leaves the route")
    return value


def sets_costs(body: Any) -> bool:
    """Whether a request body names a cost field anywhere (a staff member's write of one).
    A null counts: it clears the cost (a staff member's item form, which shows no cost,
    would otherwise wipe the owner's)."""
    if isinstance(body, dict):
        return any(k in COST_FIELDS for k in body) or any(sets_costs(v) for v in body.values())
    if isinstance(body, list):
        return any(sets_costs(v) for v in body)
    return False
