"""What a server gets wrong, pinned down: MongoDB's behaviour is asserted, and the lane
of a server known to differ is a strict xfail (it fails loudly the day the server is
fixed). The app does not depend on these; docs/ferretdb.md says what it does instead."""

from __future__ import annotations

import datetime as dt

import pytest
from bson import ObjectId

from chalicelib.platform import db


@pytest.mark.ferretdb_wrong(
    reason="FerretDB 1.24: an update filtered on a field inside an array of documents "
    "(`history.op`) matches nothing, while a find with the same filter does (FerretDB#5612)",
    raises=AssertionError,
)
def test_an_update_filters_on_a_field_inside_an_array_of_documents(backend):
    coll = db.get_db().gap_probe
    op = ObjectId()
    coll.insert_one({"status": "shipped", "history": [{"at": dt.datetime.now(dt.UTC), "op": op}]})
    assert coll.count_documents({"history.op": op}) == 1  # the read agrees on every server
    assert (
        coll.update_many({"status": "shipped", "history.op": op}, {"$set": {"status": "x"}}).matched_count
        == 1
    )
