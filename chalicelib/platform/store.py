"""The writes and reads whose form depends on the server: every FerretDB quirk lives here.

Domain code names the operation (a conditional update of an order, sums per group, a
bulk write) and never asks which server it runs on. `current()` is the implementation
for the client's server, known once per client (db.is_ferretdb): `MongoStore` for
MongoDB (Atlas, mongo-java-server, mongomock), `FerretStore` for FerretDB 1.24, which

- runs a conditional update as "read, then write back" with no atomicity: the write
  runs holding the lease lock of each key given (`lock=`), and `serialized(*keys)`
  holds them around a few writes that must not interleave there (locks.py);
- computes only the first accumulator of a `$group` and decodes every order per
  pipeline: `grouped_sums` is one projected read summed in Python;
- never answers an `update` of 50 or more statements and then stops answering anyone:
  `bulk_write` sends commands of FERRETDB_BULK;
- pushes no `$in` down to PostgreSQL: `find_by_ids` reads each document by its `_id`;
- pushes no sort or limit down once there is a filter, so a sorted page and its count
  each decode every matching document: `first_page` reads them once;
- applies even an unconditional update by writing the whole document back as it read it,
  so an update of one field can undo a concurrent update of another field of the same
  document: there db.get_db's collections run every update of a document one at a time
  in the process (doc_gate.py), whatever the caller and whether it named a lock.

On MongoDB the lock keys are ignored: its single-document atomicity is what the writes
rely on. docs/ferretdb.md has the table of quirks and the operations that absorb them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from chalicelib.platform import doc_gate, locks
from chalicelib.platform.db import is_ferretdb

if TYPE_CHECKING:  # pymongo is imported on first use (chalicelib/platform/mongo.py)
    from concurrent.futures import ThreadPoolExecutor

    from pymongo.collection import Collection

FERRETDB_BULK = 40
Lock = str | Iterable[str] | None


# Lock keys, one builder per kind of record (the lock documents' `_id`s).
def order_key(order_id: Any) -> str:
    return f"orders:{order_id}"


def order_keys(order_ids: Iterable[Any]) -> list[str]:
    return [order_key(i) for i in order_ids]


def item_key(item_id: Any) -> str:
    return f"items:{item_id}"


def parcel_key(parcel_id: Any) -> str:
    return f"parcels:{parcel_id}"


def charge_key(charge_id: Any) -> str:
    return f"charges:{charge_id}"


def parcel_fee_key(parcel_id: Any) -> str:
    """A parcel's shipping charge being brought to its fee (parcels._bill), taken on every
    server (locks.held): two edits of the fee sync one after the other."""
    return f"parcel-fee:{parcel_id}"


def batch_key(seller_id: Any, name: str) -> str:
    return f"batches:{seller_id}:{name}"


def purchase_line_key(line_id: str) -> str:
    """A batch's shopping-list line (sales/shopping.py): its bought and free units."""
    return f"purchases:{line_id}"


def order_counter_key(seller_id: Any) -> str:
    return f"counters:{seller_id}"


def parcel_counter_key(seller_id: Any) -> str:
    return f"counters:parcels:{seller_id}"


def customer_key(customer_id: Any) -> str:
    return f"customers:{customer_id}"


def customer_email_key(seller_id: Any, email_lower: str) -> str:
    return f"customer-email:{seller_id}:{email_lower}"


def customer_contact_key(seller_id: Any, field: str, value: str) -> str:
    """A buyer's contact as found by an order form (`field`: email_lower, phone,
    line_id_key): held on every server around a find-or-create by a contact that no
    unique index guards (forms.py)."""
    return f"customer-contact:{seller_id}:{field}:{value}"


def refresh_token_key(digest: str) -> str:
    return f"refresh:{digest}"


def password_reset_key(digest: str) -> str:
    return f"password_resets:{digest}"


def password_reset_ask_key(seller_id: Any, member_id: Any) -> str:
    """One login's reset asks (the shop's own: member_id None), held on every server so two
    asks at once take turns withdrawing the older link and inserting the new one."""
    return f"password_resets_of:{seller_id}:{member_id}"


def account_email_key(email_lower: str) -> str:
    """An email's one login (sellers and members, accounts/): held on every server
    (locks.held) around a sign-up's or an invite's check and insert."""
    return f"account-email:{email_lower}"


def member_key(member_id: Any) -> str:
    """A shop member (accounts/members.py): its invite's accept, role change and removal."""
    return f"member:{member_id}"


def idempotency_key(claim_id: str) -> str:
    return f"idempotency:{claim_id}"


def form_close_key(form_id: Any) -> str:
    """A form's close (sales/closing.py): its claim by one run of the scheduled close."""
    return f"form-close:{form_id}"


def waitlist_key(entry_id: Any) -> str:
    """A waitlist entry's claim (waiting -> served | skipped)."""
    return f"waitlist:{entry_id}"


def notify_key(doc_id: Any) -> str:
    return f"notify:{doc_id}"


def money_key(seller_id: Any, customer_id: Any) -> str:
    """The buyer's money lock (payments.py), taken on every server (locks.held)."""
    return f"money:{seller_id}:{customer_id}"


def statement_row_key(row_key: str) -> str:
    """A bank statement's row (statements.py): its claim by an apply or a dismiss."""
    return f"statement-rows:{row_key}"


def merge_key(customer_id: Any) -> str:
    """A customer in a merge (customers.merge), taken on every server (locks.held): two
    merges of the same customers run one after the other."""
    return f"customer-merge:{customer_id}"


def _keys(lock: Lock) -> tuple[str, ...]:
    if lock is None:
        return ()
    return (lock,) if isinstance(lock, str) else tuple(lock)


class MongoStore:
    """MongoDB: every single-document write is atomic, aggregation is complete."""

    kind = "mongodb"

    @contextlib.contextmanager
    def serialized(self, *keys: str, wait: float = locks.WAIT, hold: float = locks.HOLD) -> Iterator[None]:
        yield

    def update_one(self, coll: Collection, query: dict, update: dict, *, lock: Lock = None, **kw):
        with self.serialized(*_keys(lock)):
            return coll.update_one(query, update, **kw)

    def update_many(self, coll: Collection, query: dict, update: dict, *, lock: Lock = None, **kw):
        with self.serialized(*_keys(lock)):
            return coll.update_many(query, update, **kw)

    def find_one_and_update(self, coll: Collection, query: dict, update: dict, *, lock: Lock = None, **kw):
        with self.serialized(*_keys(lock)):
            return coll.find_one_and_update(query, update, **kw)

    def delete_one(self, coll: Collection, query: dict, *, lock: Lock = None):
        with self.serialized(*_keys(lock)):
            return coll.delete_one(query)

    def bulk_write(self, coll: Collection, ops: list) -> int:
        """One unordered bulk write. How many documents its updates matched."""
        return self._bulk(coll, ops, len(ops))

    def find_by_ids(self, coll: Collection, ids: list, query: dict, projection: dict | None) -> list[dict]:
        """One `_id: {$in}` read."""
        return list(coll.find({"_id": {"$in": list(ids)}, **query}, projection))

    def first_page(
        self, coll: Collection, query: dict, sort: list[tuple[str, int]], limit: int
    ) -> tuple[list[dict], int]:
        """One sorted, limited find and one count: each served by an index on Atlas."""
        return list(coll.find(query).sort(sort).limit(limit)), coll.count_documents(query)

    def grouped_sums(
        self, coll: Collection, match: dict, key: dict[str, str], sums: dict[str, Any], batch_size: int
    ) -> list[dict]:
        """One `$match` + `$group` aggregation. A one-field key groups by the scalar itself:
        FerretDB hashes scalars but compares document keys one by one (docs/ferretdb.md)."""
        scalar = len(key) == 1
        group_id = f"${next(iter(key.values()))}" if scalar else {k: f"${path}" for k, path in key.items()}
        pipeline = [
            {"$match": match},
            {"$group": {"_id": group_id, **{n: {"$sum": e} for n, e in sums.items()}}},
        ]
        rows = []
        for doc in coll.aggregate(pipeline, batchSize=batch_size):
            fields = {next(iter(key)): doc["_id"]} if scalar else {k: doc["_id"].get(k) for k in key}
            rows.append({**fields, **{name: doc[name] for name in sums}})
        return rows

    @staticmethod
    def _bulk(coll: Collection, ops: list, size: int) -> int:
        matched = 0
        for start in range(0, len(ops), max(size, 1)):
            matched += coll.bulk_write(ops[start : start + size], ordered=False).matched_count
        return matched


class FerretStore(MongoStore):
    """FerretDB 1.24: conditional writes under lease locks, sums read once, small bulks."""

    kind = "ferretdb"

    @contextlib.contextmanager
    def serialized(self, *keys: str, wait: float = locks.WAIT, hold: float = locks.HOLD) -> Iterator[None]:
        if not keys:
            yield
            return
        with locks.held(*keys, wait=wait, hold=hold):
            yield

    def bulk_write(self, coll: Collection, ops: list) -> int:
        """In commands of FERRETDB_BULK: an `update` of 50+ statements hangs FerretDB."""
        return self._bulk(coll, ops, FERRETDB_BULK)

    def find_by_ids(self, coll: Collection, ids: list, query: dict, projection: dict | None) -> list[dict]:
        """One read per `_id`, by the `_id` alone: an `_id: {$in}` filter is not pushed
        down, so it decodes every document the rest of the filter matches (every order
        of a seller: 2.7 s at 10,000 orders), where `{_id: v}` is one lookup in the local
        `_id` index. The rest of the filter (equalities) is checked here: sent along, it
        let PostgreSQL go through the `seller_id` index as well (60 ms a read with
        100,000 orders in the table, against 3 ms)."""
        if any(isinstance(v, dict) for v in query.values()):
            raise ValueError(f"find_by_ids takes equalities only: {query}")
        if projection is not None:
            projection = {**projection, **dict.fromkeys(query, 1)}
        found = (coll.find_one({"_id": i}, projection) for i in dict.fromkeys(ids))
        return [doc for doc in found if doc is not None and all(doc.get(k) == v for k, v in query.items())]

    def first_page(
        self, coll: Collection, query: dict, sort: list[tuple[str, int]], limit: int
    ) -> tuple[list[dict], int]:
        """The same page and count from one read of the matching documents' sort keys: FerretDB
        sorts and limits in Go after decoding every match, so the plain find and the count
        each decoded all of them (2,000 orders of a seller: about 400 ms each). The keys come
        from the orders' slim key index where there is one (doc_gate.slim_keys: small
        documents, about a third of the decoding), else from the matching documents
        themselves; they are sorted here in MongoDB's order, then the page's documents are
        read by `_id` (the local `_id` index), each checked against the query again. A key
        this does not order as MongoDB does (an array, a document, NaN...), a dotted sort
        key, a query naming `_id`, or a document changed between the two reads (gone, no
        longer matching, another key): from the index, those keys are repaired and the
        documents' own keys read instead; else the plain find and count, as on MongoDB."""
        fields = [name for name, _ in sort]
        if "_id" in query or any("." in name for name in fields):
            return super().first_page(coll, query, sort, limit)
        slim = doc_gate.slim_keys(coll, query, fields)
        if slim is not None:
            found = self._page_by_keys(coll, query, sort, limit, slim)
            if not isinstance(found, list):
                return found
            doc_gate.repair_keys(coll, found)  # the keys that disagreed with their orders
        found = self._page_by_keys(coll, query, sort, limit, list(coll.find(query, dict.fromkeys(fields, 1))))
        return super().first_page(coll, query, sort, limit) if isinstance(found, list) else found

    def _page_by_keys(
        self, coll: Collection, query: dict, sort: list[tuple[str, int]], limit: int, keys: list[dict]
    ) -> tuple[list[dict], int] | list:
        """The page and count from `keys`, or the `_id`s of the page's keys that did not
        agree with their documents (none when the keys cannot be ordered here)."""
        ranked = _mongo_sorted(keys, sort)
        if ranked is None:
            return []
        page = ranked[:limit]

        def read(want: dict) -> dict | None:
            # `_id` alone at the top is what FerretDB pushes down (with the query beside it
            # PostgreSQL also walked the seller's index, find_by_ids); `$and` is checked in Go.
            return coll.find_one({"_id": want["_id"], "$and": [query]})

        docs = list(_lookups().map(read, page))  # a few at once: FerretDB answers each on its own core
        wrong = [
            want["_id"]
            for want, doc in zip(page, docs, strict=True)
            if doc is None or any(doc.get(name) != want.get(name) for name, _ in sort)
        ]
        return wrong if wrong else (docs, len(keys))

    def grouped_sums(
        self, coll: Collection, match: dict, key: dict[str, str], sums: dict[str, Any], batch_size: int
    ) -> list[dict]:
        """The same groups from one projected read, as `$sum` counts them: a missing or
        null key is null, a missing, null or non-number value adds nothing. FerretDB 1.24
        computes only the first accumulator of a `$group` (FerretDB#4616), and each
        pipeline decodes every order of the seller: four pipelines over 100,000 orders
        took 233 s against 58 s for one projected read (docs/performance.md)."""
        fields = {path: 1 for path in key.values()} | {e[1:]: 1 for e in sums.values() if isinstance(e, str)}
        merged: dict[tuple, dict] = {}
        for doc in coll.find(match, {"_id": 0, **fields}, batch_size=batch_size):
            group = {k: doc.get(path) for k, path in key.items()}
            row = merged.setdefault(tuple(group.values()), {**group, **dict.fromkeys(sums, 0)})
            for name, expr in sums.items():
                if expr == 1:
                    row[name] += 1
                else:
                    value = doc.get(expr[1:])
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        row[name] += value
        return list(merged.values())


_LOOKUPS: ThreadPoolExecutor | None = None


def _lookups() -> ThreadPoolExecutor:
    """Threads for FerretStore.first_page's reads by `_id` (made on first use: never on MongoDB)."""
    global _LOOKUPS
    if _LOOKUPS is None:
        from concurrent.futures import ThreadPoolExecutor

        _LOOKUPS = ThreadPoolExecutor(4, thread_name_prefix="store-lookup")
    return _LOOKUPS


# MongoDB's order of the BSON types in a sort (null and a missing field are equal), for
# the scalar types whose values Python compares as MongoDB does.
def _type_rank(value: Any) -> int | None:
    if value is None:
        return 1
    if isinstance(value, bool):
        return 8
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else 2
    if isinstance(value, str):
        return 3  # UTF-8 byte order is code point order
    if isinstance(value, dt.datetime):
        return 9
    if isinstance(value, ObjectId):
        return 7
    return None


def _mongo_sorted(docs: list[dict], sort: list[tuple[str, int]]) -> list[dict] | None:
    """`docs` in the order MongoDB's sort gives them, or None when a value is of a type
    this does not order (arrays, documents, NaN, binary, decimals...)."""
    for name, _ in sort:
        for doc in docs:
            if _type_rank(doc.get(name)) is None:
                return None
    out = list(docs)
    for name, direction in reversed(sort):  # stable sorts, least significant key first
        out.sort(key=lambda d, n=name: _sort_value(d.get(n)), reverse=direction < 0)
    return out


def _sort_value(value: Any) -> tuple:
    rank = _type_rank(value)
    return (rank,) if value is None else (rank, value)


_MONGO, _FERRET = MongoStore(), FerretStore()


def current() -> MongoStore:
    """The store of the server the client speaks to: db.is_ferretdb() asks its buildInfo
    once per client (not on a cold start that only reads) and forgets it with the client."""
    return _FERRET if is_ferretdb() else _MONGO


def _for(lock: Lock) -> MongoStore:
    # Without a lock key a write takes no lease lock on any server (its collection, from
    # db.get_db, still runs it one at a time per document on FerretDB: doc_gate.py).
    return current() if _keys(lock) else _MONGO


def serialized(*keys: str, wait: float = locks.WAIT, hold: float = locks.HOLD):
    """Hold the keys' locks around a few writes that must not interleave on a server
    without single-document atomicity (nothing on MongoDB). All are taken at once or
    none is kept, so overlapping holders never deadlock."""
    return _for(keys).serialized(*keys, wait=wait, hold=hold)


def update_one(coll: Collection, query: dict, update: dict, *, lock: Lock = None, **kw):
    return _for(lock).update_one(coll, query, update, lock=lock, **kw)


def update_many(coll: Collection, query: dict, update: dict, *, lock: Lock = None, **kw):
    return _for(lock).update_many(coll, query, update, lock=lock, **kw)


def find_one_and_update(coll: Collection, query: dict, update: dict, *, lock: Lock = None, **kw):
    return _for(lock).find_one_and_update(coll, query, update, lock=lock, **kw)


def delete_one(coll: Collection, query: dict, *, lock: Lock = None):
    return _for(lock).delete_one(coll, query, lock=lock)


def bulk_write(coll: Collection, ops: list) -> int:
    """How many documents the updates matched (an update whose filter no longer holds
    matched none)."""
    return current().bulk_write(coll, ops)


def find_by_ids(
    coll: Collection, ids: Iterable[Any], query: dict | None = None, projection=None
) -> list[dict]:
    """The documents with these `_id`s that also match `query` (in no particular order)."""
    return current().find_by_ids(coll, list(ids), query or {}, projection)


def first_page(
    coll: Collection, query: dict, sort: list[tuple[str, int]], limit: int
) -> tuple[list[dict], int]:
    """The first `limit` documents matching `query` in `sort`'s order (a sort that orders
    every document: it ends with a unique key), and how many match in all."""
    return current().first_page(coll, query, sort, limit)


def grouped_sums(
    coll: Collection, match: dict, key: dict[str, str], sums: dict[str, Any], batch_size: int = 10_000
) -> list[dict]:
    """`$match` + `$group` by `key` with one `$sum` per entry of `sums` (a `$field` or 1):
    `[{**key_fields, **sums}]`."""
    return current().grouped_sums(coll, match, key, sums, batch_size)
