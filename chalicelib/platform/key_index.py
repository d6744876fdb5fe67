"""A slim copy of each order's list keys, kept on FerretDB only (issue 27).

FerretDB 1.24 sorts and limits in Go after decoding every document a filter matches, at
about 145 µs an order (633 bytes of BSON, 32 fields) against about 50 µs for a small
document: GET /orders at 2,000 orders of a seller spent ~290 ms of ~370 decoding orders
to read their sort keys. So on FerretDB every order has a key document in `order_keys`
(its `_id`, `seller_id` and the fields the list filters, sorts and searches on: FIELDS),
which store.first_page reads instead of the orders. Atlas keeps the plain sorted find.

Kept by doc_gate's collections (db.get_db()), so no domain code knows: every insert,
update, replace, delete and bulk write of `orders` runs, under the gate of the orders it
names (every order's gate when it names none),

  1. a mark in `order_keys_marks` naming those orders (inserted before the write; the
     ids of a filter that names none are read first, under the whole-collection gate);
  2. the write;
  3. the keys of those orders written: an insert's from its documents, an update that
     named its orders' `_id`s, matched every one and set key fields to values (`$set`)
     by the same `$set` on their keys, any other write's read again from the orders (a
     key whose order is gone is deleted); then the mark deleted.

The failure cases, and why the list stays right (docs/ferretdb.md, the store table):

- A crash, or a failed key write, between 2 and 3 leaves the mark. A list of the same
  process repairs a mark it did not leave in flight (it refreshes the mark's orders'
  keys, then deletes it); a mark of another process is repaired once older than
  MARK_STALE seconds (a request's whole time), and until then the list reads the orders
  (`usable` returns False). The write itself is not failed by its key write.
- Keys missing or made by another version or process (a restart, an upgrade, a database
  written by older code): each seller's keys are trusted only once this process rebuilt
  them (`order_keys_marks` holds `built:<seller>` with this process's BOOT token and the
  FIELDS' FORMAT): the first list of a seller after a start reads its orders' keys and
  writes the differences, under the whole-collection gate.
- Concurrent writes of this process: the gate holds steps 1–3 for the orders a write
  names, so two refreshes of one order cannot write its keys in the wrong order. A list
  read during a write sees each key before or after it; store.first_page reads the
  page's orders by `_id` against the query and the keys it sorted by, and on any
  difference repairs those keys and reads the orders instead.
- Not covered, as doc_gate is not: writes of another process at the same moment as this
  one's (FerretDB runs locally, one API process), and writes made without db.get_db()
  (mongosh, another program) while the process runs: a restart rebuilds.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

log = logging.getLogger(__name__)

# The fields of GET /orders' query (sales.orders.matching) and sorts (OrderSort).
FIELDS = (
    "seller_id",
    "customer_id",
    "form_id",
    "batch",
    "payment_status",
    "fulfillment_status",
    "created_at",
    "order_no",
    "total_amount",
    "buyer_name",
    "buyer_email",
    "item_name",
    "tracking_number",
)
KEYED = {"orders": ("order_keys", "order_keys_marks")}
COLLECTIONS = frozenset(name for pair in KEYED.values() for name in pair)  # FerretDB's only, as `locks`
SCOPE = "seller_id"
FORMAT = hashlib.sha256(",".join(FIELDS).encode()).hexdigest()[:12]
BOOT = uuid.uuid4().hex  # this process: keys it rebuilt, marks it left
MARK_STALE = 30.0  # seconds: a request's time, past which another process's mark is dead
BULK = 40  # FerretDB hangs on an `update` of 50+ statements (store.FERRETDB_BULK)

_IN_FLIGHT: set = set()  # this process's marks whose write is still running
_IN_FLIGHT_LOCK = threading.Lock()
_POOL: Any = None


def keyed(coll: Any) -> bool:
    return coll.name in KEYED


def _raw(coll: Any, which: int) -> Any:
    """The key or mark collection beside `coll`, not gated: its writes run under the
    gate of the orders they copy."""
    from pymongo.collection import Collection

    return Collection(coll.database, KEYED[coll.name][which])


def keys_of(coll: Any) -> Any:
    return _raw(coll, 0)


def marks_of(coll: Any) -> Any:
    return _raw(coll, 1)


def named_ids(query: Any) -> frozenset | None:
    """The `_id`s a filter limits itself to (`_id: v`, `_id: {$in}`, or one of its
    `$and`'s members doing so), or None when it names none."""
    if not isinstance(query, dict):
        return None
    value = query.get("_id")
    if value is not None:
        if isinstance(value, dict) and set(value) == {"$in"} and isinstance(value["$in"], list | tuple):
            if not any(v is None or isinstance(v, dict | list) for v in value["$in"]):
                return frozenset(value["$in"])
        elif not isinstance(value, dict | list):
            return frozenset([value])
    for member in query.get("$and", ()) if isinstance(query.get("$and"), list) else ():
        ids = named_ids(member)
        if ids is not None:
            return ids
    return None


def _scope_of(query: Any) -> Any:
    value = query.get(SCOPE) if isinstance(query, dict) else None
    return None if isinstance(value, dict | list) else value


def key_of(doc: dict) -> dict:
    return {"_id": doc["_id"], **{f: doc[f] for f in FIELDS if f in doc}}


def _lookups():
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(4, thread_name_prefix="key-index")
    return _POOL


# --- upkeep (doc_gate's collections, under the gate of the orders written) ------------


class Writing:
    """One write of a keyed collection: the orders it may change (`ids`), more found by
    the write itself (`add`: an upsert's new `_id`), and, where the write says what it did
    to the keys, those changes (`derive`): then the keys are updated without reading the
    orders back (a bulk status change of 500 orders: 500 reads fewer)."""

    def __init__(self, ids: set) -> None:
        self.ids = ids
        self.changes: list[tuple[Any, dict]] | None = []  # None: read the orders back

    def add(self, ids: Iterable[Any]) -> None:
        self.ids.update(i for i in ids if i is not None)

    def derive(self, query: Any, update: Any, matched: int, upsert: bool = False) -> None:
        """One update of the write: its key fields' new values are known when it names its
        orders' `_id`s, every one of them matched, and it sets key fields only to values
        (`$set`), touching none otherwise."""
        if self.changes is None:
            return
        ids = named_ids(query)
        sets = _key_sets(update)
        if upsert or ids is None or sets is None or matched != len(ids):
            self.changes = None
            return
        self.changes += [(oid, sets) for oid in ids]

    def read_back(self) -> None:
        self.changes = None


def _key_sets(update: Any) -> dict | None:
    """The key fields an update document sets to values, or None when it changes a key
    field any other way (a pipeline, `$inc`, `$unset`, a dotted path into one...)."""
    if not isinstance(update, dict) or not all(isinstance(op, str) and op.startswith("$") for op in update):
        return None
    sets = {}
    for op, fields in update.items():
        if not isinstance(fields, dict):
            return None
        for path in fields:
            top = path.split(".", 1)[0]
            if top not in FIELDS and top != "_id":
                continue
            if op != "$set" or "." in path or top == "_id":
                return None
            sets[path] = fields[path]
    return sets


@contextlib.contextmanager
def writing(coll: Any, filters: list, new_docs: list[dict]) -> Iterator[Writing]:
    """Steps 1–3 of the module's docstring around one write; the caller holds the gate."""
    ids: set = set()
    for query in filters:
        named = named_ids(query)
        if named is None:  # under the whole-collection gate: nothing of ours changes meanwhile
            named = frozenset(d["_id"] for d in coll.find(query, {"_id": 1}))
        ids |= named
    ids |= {d["_id"] for d in new_docs}
    scopes = {_scope_of(q) for q in filters} | {d.get(SCOPE) for d in new_docs}
    scope = scopes.pop() if len(scopes) == 1 else None
    mark = _mark(coll, ids, scope)
    box = Writing(ids)
    done = False
    try:
        yield box
        done = True
    finally:
        try:
            if done and not filters:  # inserts only, all written: the keys are in the documents
                write_keys(coll, [_replace(key_of(d)) for d in new_docs])
            elif not (done and box.changes is not None and _derived(coll, box.changes)):
                refresh(coll, box.ids)
            marks_of(coll).delete_one({"_id": mark})
        except Exception:  # the write stands; its mark makes the next list repair the keys
            log.warning("order keys not written after a write of %d orders", len(box.ids), exc_info=True)
        finally:
            with _IN_FLIGHT_LOCK:
                _IN_FLIGHT.discard(mark)


def _derived(coll: Any, changes: list[tuple[Any, dict]]) -> bool:
    """The keys updated as the write said; False when a key was not there to update (its
    orders are then read back)."""
    from pymongo.operations import UpdateOne

    ops = [UpdateOne({"_id": oid}, {"$set": sets}) for oid, sets in changes if sets]
    if not ops:
        return True  # no key field changed (a cost, a payment's share, a note...)
    return write_keys(coll, ops) == len(ops)


def _mark(coll: Any, ids: set, scope: Any) -> Any:
    from bson import ObjectId

    mark = ObjectId()
    with _IN_FLIGHT_LOCK:  # before the insert: a list that sees the mark knows it is live
        _IN_FLIGHT.add(mark)
    try:
        marks_of(coll).insert_one(
            {"_id": mark, "boot": BOOT, "at": time.time(), "scope": scope, "ids": list(ids)}
        )
    except BaseException:
        with _IN_FLIGHT_LOCK:
            _IN_FLIGHT.discard(mark)
        raise
    return mark


def refresh(coll: Any, ids: Iterable[Any]) -> None:
    """The keys of these orders as the orders are now (a gone order loses its key)."""
    from pymongo.operations import DeleteOne

    ids = list(dict.fromkeys(ids))
    if not ids:
        return
    fields = dict.fromkeys(FIELDS, 1)

    def read(oid: Any) -> dict | None:
        return coll.find_one({"_id": oid}, fields)

    docs = [read(ids[0])] if len(ids) == 1 else list(_lookups().map(read, ids))
    ops = [
        _replace(key_of(doc)) if doc is not None else DeleteOne({"_id": oid})
        for oid, doc in zip(ids, docs, strict=True)
    ]
    write_keys(coll, ops)


def _replace(key: dict) -> Any:
    from pymongo.operations import ReplaceOne

    return ReplaceOne({"_id": key["_id"]}, key, upsert=True)


def write_keys(coll: Any, ops: list) -> int:
    """Every write of the keys (the crash test makes it fail). How many keys matched."""
    keys, matched = keys_of(coll), 0
    for start in range(0, len(ops), BULK):
        matched += keys.bulk_write(ops[start : start + BULK], ordered=False).matched_count
    return matched


# --- the list's side (store.FerretStore.first_page) -----------------------------------


def _fields_in(query: Any, out: set) -> bool:
    """Collect the fields `query` names; False for an operator a key document cannot
    answer the same way ($where, $expr, $text...)."""
    if not isinstance(query, dict):
        return False
    for name, value in query.items():
        if name in ("$and", "$or", "$nor"):
            if not isinstance(value, list) or not all(_fields_in(v, out) for v in value):
                return False
        elif name.startswith("$"):
            return False
        else:
            out.add(name)
    return True


def serves(coll: Any, query: dict, sort_fields: list[str]) -> bool:
    """The key documents answer this query and sort exactly as the orders would."""
    named: set = set()
    if not keyed(coll) or _scope_of(query) is None or not _fields_in(query, named):
        return False
    return (named | set(sort_fields)) <= {"_id", *FIELDS}


def usable(coll: Any, gate: Any, scope: Any) -> bool:
    """Whether the scope's keys can be read now: dead marks repaired, the scope rebuilt if
    this process has not (one read of the marks collection when all is well). False while
    another process's recent mark may still be in flight."""
    marks = marks_of(coll)
    built = None
    for mark in marks.find({}):
        if mark["_id"] == f"built:{scope}":
            built = mark
            continue
        if "ids" not in mark or mark.get("scope") not in (None, scope):
            continue
        with _IN_FLIGHT_LOCK:
            live = mark["_id"] in _IN_FLIGHT
        if live:
            continue  # ours, running: its keys are before or after it (first_page checks the page)
        if mark.get("boot") != BOOT and time.time() - mark.get("at", 0) < MARK_STALE:
            return False
        with gate.held(frozenset(mark["ids"])):
            refresh(coll, mark["ids"])
        marks.delete_one({"_id": mark["_id"]})
    if built is None or built.get("boot") != BOOT or built.get("format") != FORMAT:
        rebuild(coll, gate, scope)
    return True


def rebuild(coll: Any, gate: Any, scope: Any) -> None:
    """The scope's keys made equal to its orders' (only the differences written), under
    the whole collection's gate; then marked as built by this process."""
    from pymongo.operations import DeleteOne

    with gate.held(None):
        want = {d["_id"]: key_of(d) for d in coll.find({SCOPE: scope}, dict.fromkeys(FIELDS, 1))}
        have = {d["_id"]: d for d in keys_of(coll).find({SCOPE: scope})}
        ops = [_replace(k) for i, k in want.items() if have.get(i) != k]
        ops += [DeleteOne({"_id": i}) for i in have if i not in want]
        write_keys(coll, ops)
        marks_of(coll).replace_one(
            {"_id": f"built:{scope}"},
            {"boot": BOOT, "format": FORMAT, "at": time.time(), "orders": len(want)},
            upsert=True,
        )
    if ops:
        log.info("order keys of %s rebuilt: %d written", scope, len(ops))


def create(db: Any) -> None:
    """The key collections with an index on the scope (init-db on FerretDB), so that
    scripts/pg-indexes.sql finds their tables."""
    from pymongo import ASCENDING

    for keys, marks in KEYED.values():
        db[keys].create_index([(SCOPE, ASCENDING)], name="scope")
        if marks not in db.list_collection_names():
            db.create_collection(marks)
