"""Edits of one customer racing each other on the real servers (FerretDB over a socket
and mongo-java-server; threads share one connection pool)."""

from __future__ import annotations

import pytest
from bson import ObjectId

from chalicelib.buyers import customers
from chalicelib.buyers.schemas import CustomerIn, CustomerPatch
from chalicelib.platform import db
from tests.conftest import at_once
from tests.factories import make_principal

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)


def test_two_patches_removing_the_last_two_contacts_cannot_both_win(api):
    """A buyer with a phone and a LINE ID; one PATCH removes the phone, another the LINE ID,
    at the same moment. Each alone is fine; both would leave a buyer nobody can reach.
    Every round: exactly one wins, the other is 400 contact_required, one contact stays."""
    who = make_principal(api)
    for round_ in range(8):
        c = customers.create(who, CustomerIn(name=f"林志明 {round_}", phone="0912345678", line_id="lin88"))
        results = at_once(
            [
                lambda: customers.update(who, c["id"], CustomerPatch(phone=None)),
                lambda: customers.update(who, c["id"], CustomerPatch(line_id=None)),
            ]
        )
        lost = [r for r in results if isinstance(r, str)]
        assert lost == ["validation_error"], (round_, results)
        doc = db.get_db().customers.find_one({"_id": ObjectId(c["id"])})
        left = [k for k in ("email", "phone", "line_id") if doc.get(k)]
        assert len(left) == 1, (round_, doc)
        assert ("line_id_key" in doc) == (left == ["line_id"])
