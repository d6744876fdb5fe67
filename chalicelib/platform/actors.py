"""Who an actor id is (issue 31): the shop's own login or one of its members, for answers
that name who did what (an order's history, payments, parcels, stock movements).

Here, below every domain package, because packages that may not import `accounts`
(catalog sits beside it) name people too; `accounts/members.py` still owns the writes of
`members`, this module only reads it, as platform/principal.py does."""

from __future__ import annotations

from bson import ObjectId

from chalicelib.platform.db import get_db
from chalicelib.platform.ids import object_id

OWNER_NAME = "owner"  # who did it, when the shop's own login did: each page says it in its words


def names(seller_id, actor_ids) -> dict[str, str]:
    """Who each actor id is (an order history's or a payment's `by`): "owner" for the shop's
    own login, else the member's email (a removed member's too). One read for a whole page
    of rows (none when no member is named); an id that is neither (a source such as
    "bulk") is left out."""
    seller_id = str(seller_id)
    actor_ids = set(actor_ids)
    out = {seller_id: OWNER_NAME} if seller_id in actor_ids else {}
    ids = [ObjectId(a) for a in actor_ids - {seller_id} if isinstance(a, str) and ObjectId.is_valid(a)]
    if ids:
        docs = get_db().members.find(
            {"_id": {"$in": ids}, "seller_id": object_id(seller_id, "seller")}, {"email": 1}
        )
        out |= {str(d["_id"]): d["email"] for d in docs}
    return out


def shown(who: dict[str, str], by: str | None) -> str | None:
    """What an answer says for `by`: the person's name when it is an actor id (None for one
    `who` does not know, never the id), a source such as "form" as it is."""
    if by is None or by in who:
        return who.get(by)
    return None if len(by) == 24 and ObjectId.is_valid(by) else by


def all_names(seller_id) -> dict[str, str]:
    """`names` for every member the shop ever had, in one read: for a file of many rows,
    where collecting the ids first would mean reading the rows twice."""
    docs = get_db().members.find({"seller_id": object_id(str(seller_id), "seller")}, {"email": 1})
    return {str(seller_id): OWNER_NAME} | {str(d["_id"]): d["email"] for d in docs}
