"""The gate of chalicelib/platform/doc_gate.py: updates of one document wait for each
other, of different documents do not, an update of no single `_id` waits for all (the
race tests that need it: tests/integration/test_field_races.py)."""

from __future__ import annotations

import threading

from bson import ObjectId

from chalicelib.platform import doc_gate

BLOCKED = 0.3  # seconds a blocked holder is watched not entering (a bound, not a pause)


def enter(gate, ids):
    """A thread that takes the gate for `ids` and holds it until told: (entered, release)."""
    entered, release = threading.Event(), threading.Event()

    def run():
        with gate.held(ids):
            entered.set()
            release.wait(10)

    threading.Thread(target=run, daemon=True).start()
    return entered, release


def test_the_same_document_waits_another_does_not():
    gate = doc_gate._Gate()
    a_in, a_out = enter(gate, frozenset({1}))
    assert a_in.wait(5)
    b_in, b_out = enter(gate, frozenset({1, 3}))
    c_in, c_out = enter(gate, frozenset({2}))
    assert c_in.wait(5)  # another document: at once
    assert not b_in.wait(BLOCKED)  # shares 1 with a
    a_out.set()
    assert b_in.wait(5)
    b_out.set()
    c_out.set()


def test_an_update_of_no_single_id_waits_for_all_and_goes_before_later_ones():
    gate = doc_gate._Gate()
    a_in, a_out = enter(gate, frozenset({1}))
    assert a_in.wait(5)
    whole_in, whole_out = enter(gate, None)
    assert not whole_in.wait(BLOCKED)
    later_in, later_out = enter(gate, frozenset({2}))  # would be free, but the whole one waits
    assert not later_in.wait(BLOCKED)
    a_out.set()
    assert whole_in.wait(5)
    assert not later_in.wait(BLOCKED)
    whole_out.set()
    assert later_in.wait(5)
    later_out.set()


def test_which_documents_a_filter_names():
    oid = ObjectId()
    assert doc_gate.doc_ids([{"_id": oid, "seller_id": 1}, {"_id": 2}]) == frozenset({oid, 2})
    assert doc_gate.doc_ids([{"_id": oid}, {"seller_id": 1}]) is None
    assert doc_gate.doc_ids([{"_id": {"$in": [oid, 3]}, "seller_id": 1}, {"_id": 2}]) == frozenset(
        {oid, 2, 3}
    )
    assert doc_gate.doc_ids([{"_id": {"$in": [oid]}, "x": 1}, {"_id": {"$nin": [oid]}}]) is None
    assert doc_gate.doc_ids([{"_id": {"$in": [oid], "$ne": 2}}]) is None
    assert doc_gate.doc_ids([{"_id": None}]) is None


def test_mongomock_gets_its_own_database():
    import mongomock

    client = mongomock.MongoClient()
    assert type(doc_gate.database(client, "x", lambda: True)) is type(client["x"])
