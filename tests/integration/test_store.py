"""The store (chalicelib/platform/store.py, docs/ferretdb.md "The store"): the implementation of
each server is the one its quirks need, and the operations it offers behave the same
everywhere while sending what that server can take."""

from __future__ import annotations

import datetime as dt

import pytest
from bson import ObjectId
from pymongo import UpdateOne

from chalicelib.platform import db, store


def test_each_server_gets_its_own_store(backend):
    expected = store.FerretStore if backend == "ferretdb" else store.MongoStore
    assert type(store.current()) is expected


def test_a_bulk_write_is_whole_on_mongodb_and_in_forties_on_ferretdb(backend, commands):
    coll = db.get_db().store_check
    coll.insert_many([{"_id": i, "n": 0} for i in range(100)])
    store.current()  # the server's kind is known before counting
    if commands is not None:
        commands.names.clear()
        commands.bodies.clear()
    store.bulk_write(coll, [UpdateOne({"_id": i}, {"$inc": {"n": i}}) for i in range(100)])
    assert sorted(d["n"] for d in coll.find()) == list(range(100))
    if commands is not None:
        sizes = [
            len(b["updates"]) for n, b in zip(commands.names, commands.bodies, strict=True) if n == "update"
        ]
        assert sizes == ([40, 40, 20] if backend == "ferretdb" else [100])


def test_a_bulk_write_says_how_many_its_updates_matched(backend):
    coll = db.get_db().store_check
    coll.insert_many([{"_id": i, "v": 0} for i in range(60)])
    ops = [UpdateOne({"_id": i, "v": 0 if i % 3 else 1}, {"$inc": {"v": 1}}) for i in range(60)]
    assert store.bulk_write(coll, ops) == 40  # every third filter no longer holds


def test_find_by_ids_reads_those_ids_that_match_the_rest_of_the_filter(backend, commands):
    """Both stores give the same documents: on FerretDB one `{_id}` read each (an `$in`
    is not pushed down), the seller checked on what comes back."""
    coll = db.get_db().store_check
    coll.insert_many([{"_id": i, "seller_id": i % 2, "n": i} for i in range(10)])
    store.current()
    if commands is not None:
        commands.names.clear()
    wanted = [1, 2, 3, 3, 7, 42]
    for kind in (store.MongoStore(), store.FerretStore()):
        got = kind.find_by_ids(coll, wanted, {"seller_id": 1}, {"n": 1})
        assert sorted((d["_id"], d["n"]) for d in got) == [(1, 1), (3, 3), (7, 7)]
    assert sorted(d["_id"] for d in store.find_by_ids(coll, wanted)) == [1, 2, 3, 7]
    if commands is not None:
        finds = commands.names.count("find")
        assert finds == 1 + 5 + (5 if backend == "ferretdb" else 1), commands.names


def test_grouped_sums_agree_between_the_two_stores(backend):
    """The read-and-sum of FerretStore and the aggregation of MongoStore, both run on this
    server (FerretDB runs a two-accumulator $group wrong: there only the read is checked)."""
    coll = db.get_db().store_check
    coll.insert_many(
        [
            {"k": "a", "v": 5},
            {"k": "a", "v": 7},
            {"k": "b", "v": 1},
            {"k": "b", "v": None},
            {"v": 3},
            {"k": "a", "v": "x"},
        ]
    )
    want = {("a", 12, 3), ("b", 1, 2), (None, 3, 1)}

    def rows(s):
        return {
            (r["k"], r["v"], r["n"]) for r in s.grouped_sums(coll, {}, {"k": "k"}, {"v": "$v", "n": 1}, 100)
        }

    assert rows(store.FerretStore()) == want
    if backend != "ferretdb":
        assert rows(store.MongoStore()) == want


def _first_page_data(coll) -> None:
    """Sort keys as they come: ties, null, missing, numbers of both kinds, text beyond ASCII,
    booleans, dates, ids; a filter field and a text field for `$or` searches."""
    when = dt.datetime(2026, 11, 20, 8, 30, tzinfo=dt.UTC)
    values = [5, 5.5, -1, 0, None, "missing", "b", "B", "é", "中", "a🙂", True, False, when, ObjectId(), 5]
    docs = []
    for i, v in enumerate(values * 3):
        doc = {"_id": ObjectId(), "seller": i % 2, "kind": ("x", "y", "z")[i % 3], "name": f"Item {i % 7}"}
        if v != "missing":
            doc["v"] = v
        doc["at"] = when + dt.timedelta(minutes=i % 4)  # ties broken by _id
        doc["n"] = i
        docs.append(doc)
    coll.insert_many(docs)


FIRST_PAGE_QUERIES = [
    {},
    {"seller": 1},
    {"seller": 0, "kind": "y"},
    {"$or": [{"name": {"$regex": "item 3", "$options": "i"}}, {"n": 4}]},
    {"seller": 1, "at": {"$gte": dt.datetime(2026, 11, 20, 8, 31, tzinfo=dt.UTC)}},
    {"seller": 7},
]
FIRST_PAGE_SORTS = [
    [("at", -1), ("_id", -1)],
    [("at", 1), ("_id", 1)],
    [("v", 1), ("_id", 1)],
    [("v", -1), ("_id", -1)],
    [("n", -1)],
]


@pytest.mark.parametrize("sort", FIRST_PAGE_SORTS, ids=lambda s: ",".join(f"{k}{d:+d}" for k, d in s))
def test_first_page_is_the_sorted_find_and_its_count(backend, sort):
    """FerretStore's one read (keys sorted here, then the page by `_id`) gives what the
    server's own sorted, limited find and count give, on every server: a wrong order or a
    wrong page of the new path shows here (mongo-java and FerretDB sort on their own)."""
    coll = db.get_db().store_check
    _first_page_data(coll)
    for query in FIRST_PAGE_QUERIES:
        for limit in (1, 4, 17, 100):
            want = list(coll.find(query).sort(sort).limit(limit))
            count = coll.count_documents(query)
            for kind in (store.MongoStore(), store.FerretStore()):
                docs, total = kind.first_page(coll, query, sort, limit)
                assert [d["_id"] for d in docs] == [d["_id"] for d in want], (kind.kind, query, limit)
                assert docs == want and total == count


def test_first_page_falls_back_on_keys_it_cannot_order(backend):
    """An array or a document as a sort key (MongoDB orders them by rules not copied here):
    the plain find, same page."""
    coll = db.get_db().store_check
    coll.insert_many([{"_id": i, "v": v} for i, v in enumerate([3, [2, 9], {"a": 1}, 1, None, [0]])])
    for sort in ([("v", 1), ("_id", 1)], [("v", -1), ("_id", -1)]):
        want = list(coll.find({}).sort(sort).limit(4))
        assert store.FerretStore().first_page(coll, {}, sort, 4) == (want, 6)


class _ChangedBetween:
    """A collection on which `change` runs once, right after the first find has been read:
    a write landing between FerretStore.first_page's read of the keys and its `_id` reads."""

    def __init__(self, coll, change):
        self.coll, self.change = coll, change

    def find(self, *args, **kwargs):
        if self.change is None:
            return self.coll.find(*args, **kwargs)
        docs = list(self.coll.find(*args, **kwargs))
        self.change()
        self.change = None
        return docs

    def __getattr__(self, name):
        return getattr(self.coll, name)


@pytest.mark.parametrize("what", ["deleted", "moved", "no longer matching"])
def test_first_page_reads_again_when_a_page_document_changed_between_its_reads(backend, what):
    """The page is never built from keys a write has made stale: the plain find and count
    then give it, as they see the collection after the write."""
    coll = db.get_db().store_check
    base = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    coll.insert_many([{"_id": i, "s": 1, "at": base + dt.timedelta(hours=i)} for i in range(8)])
    query, sort = {"s": 1}, [("at", -1), ("_id", -1)]
    change = {
        "deleted": lambda: coll.delete_one({"_id": 6}),
        "moved": lambda: coll.update_one({"_id": 7}, {"$set": {"at": base - dt.timedelta(days=1)}}),
        "no longer matching": lambda: coll.update_one({"_id": 5}, {"$set": {"s": 2}}),
    }[what]
    docs, total = store.FerretStore().first_page(_ChangedBetween(coll, change), query, sort, 3)
    assert docs == list(coll.find(query).sort(sort).limit(3))
    assert total == coll.count_documents(query)
    assert [d["_id"] for d in docs] == {
        "deleted": [7, 5, 4],
        "moved": [6, 5, 4],
        "no longer matching": [7, 6, 4],
    }[what]
