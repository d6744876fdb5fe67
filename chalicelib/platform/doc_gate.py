"""Every update of a document, one at a time in this process, on a server that needs it.

FerretDB 1.24 applies any update, even an unconditional `$set`, by reading the whole
document, changing it in Go and writing all of it back, with nothing between the read
and the write: an update of one field can put back another field as it was before a
concurrent update of it (a rename undid a charge's void, a first charge's
`customers.charged`, a payment's credit: tests/integration/test_field_races.py). The
lease locks (locks.py) guard the writes that name a key; this guards every update of
the database's collections, whoever makes it and whether it names a lock or not.

db.get_db hands out the database through `database(client, name, when)`: `when()` is
asked on the first update (db.is_ferretdb, cached with the client, so a cold start that
only reads sends no buildInfo); where it is false (MongoDB: every single-document write
is atomic) an update is sent as it is. A held gate covers one command and nothing is
taken under it (a lease lock is taken before, never inside), so it cannot deadlock; it
adds no command. It is per process: FerretDB runs locally only (`make run`, the tests),
one process. docs/ferretdb.md, "Atomicity".

On FerretDB the gated collections also keep the orders' slim key index (key_index.py):
every write of `orders` marks, writes, then copies the keys of the orders it changed,
holding the gate of those orders (inserts and deletes included) through all three.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from chalicelib.platform import key_index


class _Gate:
    """The updates in flight on one collection: those of documents named by `_id` run at
    once unless they share one; any other update (a filter that names no `_id`s:
    update_many by seller, an upsert by email) runs alone."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._ids: set = set()
        self._whole = False
        self._whole_waiting = 0

    @contextlib.contextmanager
    def held(self, ids: frozenset | None) -> Iterator[None]:
        with self._cond:
            if ids is None:
                self._whole_waiting += 1
                try:
                    self._cond.wait_for(lambda: not self._whole and not self._ids)
                finally:
                    self._whole_waiting -= 1
                self._whole = True
            else:  # a waiting whole-collection update goes first: it is never starved
                self._cond.wait_for(lambda: not (self._whole or self._whole_waiting or ids & self._ids))
                self._ids |= ids
        try:
            yield
        finally:
            with self._cond:
                if ids is None:
                    self._whole = False
                else:
                    self._ids -= ids
                self._cond.notify_all()


_GATES: dict[tuple[str, str], _Gate] = {}
_GATES_LOCK = threading.Lock()


def _gate(db_name: str, coll_name: str) -> _Gate:
    key = (db_name, coll_name)
    gate = _GATES.get(key)
    if gate is None:
        with _GATES_LOCK:
            gate = _GATES.setdefault(key, _Gate())
    return gate


def doc_ids(filters: Iterable[Any]) -> frozenset | None:
    """The `_id`s the filters name (`_id: v` or `_id: {$in: [...]}`, a bulk edit's), or
    None when one names no `_id`s (it may update any document of the collection)."""
    ids = set()
    for query in filters:
        value = query.get("_id") if isinstance(query, dict) else None
        if isinstance(value, dict) and set(value) == {"$in"} and isinstance(value["$in"], list | tuple):
            if any(v is None or isinstance(v, dict | list) for v in value["$in"]):
                return None
            ids.update(value["$in"])
            continue
        if value is None or isinstance(value, dict | list):
            return None
        ids.add(value)
    return frozenset(ids)


_CLASSES: tuple[type, type, tuple[type, ...]] | None = None


def _classes() -> tuple[type, type, tuple[type, ...]]:
    """pymongo's Database and Collection with gated updates, made on first use (pymongo
    is imported with the first database call: tests/unit/test_cold_start.py)."""
    global _CLASSES
    if _CLASSES is not None:
        return _CLASSES
    from bson import ObjectId
    from pymongo.collection import Collection
    from pymongo.database import Database
    from pymongo.operations import InsertOne, ReplaceOne, UpdateMany, UpdateOne

    update_ops = (UpdateOne, UpdateMany, ReplaceOne)

    class GatedCollection(Collection):
        _when: Callable[[], bool] = staticmethod(lambda: False)

        @contextlib.contextmanager
        def _one_at_a_time(self, filters: list, new_docs: Iterable[dict] = ()) -> Iterator[Any]:
            """The write's gate; on a keyed collection (key_index.KEYED) also its key
            upkeep, yielding key_index.Writing (None elsewhere). Inserts and deletes are
            gated there too: their keys must not be written out of turn."""
            if not self._kept() and (not filters or not self._when()):
                yield None
                return
            gate = _gate(self.database.name, self.name)
            if self._kept():
                new_docs = list(new_docs)
                named = [key_index.named_ids(f) for f in filters]
                ids = None if None in named else frozenset().union(*named, (d["_id"] for d in new_docs))
                with gate.held(ids), key_index.writing(self, filters, new_docs) as box:
                    yield box
                return
            with gate.held(doc_ids(filters)):
                yield None

        def _kept(self) -> bool:
            """A collection with a key index on a server that keeps it (the name first: no
            buildInfo for the writes of other collections)."""
            return key_index.keyed(self) and self._when()

        def update_one(self, filter, update, *args, **kw):  # noqa: A002 - pymongo's name
            with self._one_at_a_time([filter]) as box:
                result = super().update_one(filter, update, *args, **kw)
                if box is not None:
                    box.add([result.upserted_id])
                    box.derive(filter, update, result.matched_count, bool(args or kw.get("upsert")))
                return result

        def update_many(self, filter, update, *args, **kw):  # noqa: A002
            with self._one_at_a_time([filter]) as box:
                result = super().update_many(filter, update, *args, **kw)
                if box is not None:
                    box.add([result.upserted_id])
                    box.derive(filter, update, result.matched_count, bool(args or kw.get("upsert")))
                return result

        def replace_one(self, filter, replacement, *args, **kw):  # noqa: A002
            with self._one_at_a_time([filter]) as box:
                result = super().replace_one(filter, replacement, *args, **kw)
                if box is not None:
                    box.add([result.upserted_id])
                    box.read_back()
                return result

        def find_one_and_update(self, filter, update, *args, **kw):  # noqa: A002
            with self._one_at_a_time([filter]) as box:
                doc = super().find_one_and_update(filter, update, *args, **kw)
                if box is not None:
                    if kw.get("upsert"):
                        box.add(d["_id"] for d in self.find(filter, {"_id": 1}))
                    box.derive(filter, update, int(doc is not None), bool(args or kw.get("upsert")))
                return doc

        def find_one_and_replace(self, filter, replacement, *args, **kw):  # noqa: A002
            with self._one_at_a_time([filter]) as box:
                doc = super().find_one_and_replace(filter, replacement, *args, **kw)
                if box is not None:
                    if kw.get("upsert"):
                        box.add(d["_id"] for d in self.find(filter, {"_id": 1}))
                    box.read_back()
                return doc

        # Inserts and deletes write no document back: gated only on a keyed collection.
        def insert_one(self, document, *args, **kw):
            if not self._kept():
                return super().insert_one(document, *args, **kw)
            document.setdefault("_id", ObjectId())  # as pymongo does: the mark names it
            with self._one_at_a_time([], [document]):
                return super().insert_one(document, *args, **kw)

        def insert_many(self, documents, *args, **kw):
            if not self._kept():
                return super().insert_many(documents, *args, **kw)
            documents = list(documents)
            for doc in documents:
                doc.setdefault("_id", ObjectId())
            with self._one_at_a_time([], documents):
                return super().insert_many(documents, *args, **kw)

        def delete_one(self, filter, *args, **kw):  # noqa: A002
            with self._keyed_only([filter]):
                return super().delete_one(filter, *args, **kw)

        def delete_many(self, filter, *args, **kw):  # noqa: A002
            with self._keyed_only([filter]):
                return super().delete_many(filter, *args, **kw)

        def find_one_and_delete(self, filter, *args, **kw):  # noqa: A002
            with self._keyed_only([filter]):
                return super().find_one_and_delete(filter, *args, **kw)

        @contextlib.contextmanager
        def _keyed_only(self, filters: list) -> Iterator[Any]:
            if self._kept():
                with self._one_at_a_time(filters) as box:
                    box.read_back()  # a deleted order's key goes: read back, found gone
                    yield box
            else:
                yield None

        def bulk_write(self, requests, *args, **kw):
            requests = list(requests)
            if self._kept():
                new = [op._doc for op in requests if isinstance(op, InsertOne)]
                for doc in new:
                    doc.setdefault("_id", ObjectId())
                filters = [op._filter for op in requests if not isinstance(op, InsertOne)]
                with self._one_at_a_time(filters, new) as box:
                    result = super().bulk_write(requests, *args, **kw)
                    box.add((result.upserted_ids or {}).values() if result.acknowledged else ())
                    # Updates only, each naming its orders, all of them matched: their $sets.
                    named = [key_index.named_ids(op._filter) for op in requests]
                    if (
                        all(isinstance(op, UpdateOne | UpdateMany) and not op._upsert for op in requests)
                        and None not in named
                        and result.matched_count == sum(map(len, named)) == len(frozenset().union(*named))
                    ):
                        for op in requests:
                            box.derive(op._filter, op._doc, len(key_index.named_ids(op._filter)))
                    else:
                        box.read_back()
                    return result
            # inserts and deletes write no document back: only the updates count
            with self._one_at_a_time([op._filter for op in requests if isinstance(op, update_ops)]):
                return super().bulk_write(requests, *args, **kw)

    class GatedDatabase(Database):
        _when: Callable[[], bool] = staticmethod(lambda: False)

        def __getitem__(self, name: str):
            coll = GatedCollection(self, name)
            coll._when = self._when
            return coll

        def get_collection(self, name: str, *args, **kw):
            coll = GatedCollection(self, name, False, *args, **kw)
            coll._when = self._when
            return coll

    _CLASSES = (GatedDatabase, GatedCollection, update_ops)
    return _CLASSES


def database(client: Any, name: str, when: Callable[[], bool]) -> Any:
    """The client's database `name`, whose collections gate their updates while `when()`
    (asked on each update; cached by the caller). mongomock's client is returned as it is
    (no server: its writes are atomic in-process)."""
    if client.__class__.__module__.startswith("mongomock"):
        return client[name]
    db = _classes()[0](client, name)
    db._when = when
    return db


def slim_keys(coll: Any, query: dict, fields: list[str]) -> list[dict] | None:
    """The key documents (key_index.py) of the orders `query` matches, with `fields`, or
    None where there is no index to read (not FerretDB, not a keyed collection, a query
    the keys cannot answer, another process's write possibly in flight)."""
    when = getattr(coll, "_when", None)
    if when is None or not when() or not key_index.serves(coll, query, fields):
        return None
    scope = query[key_index.SCOPE]
    if not key_index.usable(coll, _gate(coll.database.name, coll.name), scope):
        return None
    return list(key_index.keys_of(coll).find(query, dict.fromkeys(fields, 1)))


def repair_keys(coll: Any, ids: Iterable[Any]) -> None:
    """These orders' keys read again from the orders (a list found them stale)."""
    ids = frozenset(ids)
    with _gate(coll.database.name, coll.name).held(ids):
        key_index.refresh(coll, ids)
