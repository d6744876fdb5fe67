"""The local PostgreSQL indexes (scripts/pg-indexes.sql) serve the filters the app sends.

FerretDB pushes each top-level equality down as `_jsonb->'field' @> '<value>'`; the btree
indexes createIndexes builds cannot serve `@>`, the local GIN (jsonb_path_ops) ones can.
This records the commands real API calls send (pymongo CommandListener), replays each filter
through FerretDB's `explain` (which runs PostgreSQL's EXPLAIN on the same SQL with the same
values) and expects an index scan wherever a pushed-down field has a local index. The
tables hold a few thousand filler rows of other sellers, so a sequential scan would be the
planner's choice without a usable index. Also: a unique violation inside findAndModify is
recognised on PostgreSQL (code 1, SQLSTATE 23505).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

import pymongo
import pytest
from bson import ObjectId
from pymongo import ReturnDocument, monitoring

from chalicelib.platform import db

pytestmark = pytest.mark.parametrize("backend", ["ferretdb"], indirect=True)

ROOT = Path(__file__).resolve().parents[2]
FILLER = 3000
# The fields scripts/pg-indexes.sql indexes, per collection (`_id` on every collection).
INDEXED = {
    coll: {"_id"}
    | {
        field
        for c, field in re.findall(r"\['(\w+)', '(\w+)'\]", (ROOT / "scripts/pg-indexes.sql").read_text())
        if c == coll
    }
    for coll in (
        "orders",
        "order_keys",
        "customers",
        "items",
        "sellers",
        "tracking_links",
        "sessions",
        "password_resets",
        "members",
        "refresh_tokens",
        "login_attempts",
        "rate_limits",
        "idempotency_keys",
        "counters",
        "payments",
    )
}
FILTER_OF = {"find": "filter", "count": "query", "findAndModify": "query", "update": None, "delete": None}


class Recorder(monitoring.CommandListener):
    def __init__(self):
        self.commands: list[dict] = []

    def started(self, event):
        self.commands.append(event.command)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def filters_of(command: dict) -> list[tuple[str, dict]]:
    """(collection, filter) pairs of one command: find, count, findAndModify, update, delete."""
    name = next(iter(command))
    if name not in FILTER_OF:
        return []
    coll = command[name]
    if name == "update":
        return [(coll, u["q"]) for u in command.get("updates", [])]
    if name == "delete":
        return [(coll, d["q"]) for d in command.get("deletes", [])]
    return [(coll, command.get(FILTER_OF[name]) or {})]


def pushed_down(flt: dict) -> set[str]:
    """Top-level fields FerretDB's PostgreSQL backend turns into `@>` (query.go)."""
    out = set()
    for key, value in flt.items():
        if key.startswith("$"):
            continue
        if isinstance(value, dict):
            if "$eq" in value:
                out.add(key)
        elif isinstance(value, (str, ObjectId, bool, int, float, dt.datetime)):
            out.add(key)
    return out


def index_names(plan: dict) -> list[str]:
    names = [plan["Index Name"]] if "Index Name" in plan else []
    for sub in plan.get("Plans", []):
        names += index_names(sub)
    return names


def fill(database, n: int) -> None:
    """Rows of other sellers, so that the planner would rather scan without an index."""
    now = dt.datetime.now(dt.UTC)
    sellers = [ObjectId() for _ in range(10)]
    database.orders.insert_many(
        [
            {
                "seller_id": sellers[i % 10],
                "customer_id": ObjectId(),
                "order_no": 10**6 + i,
                "item_name": "x",
                "quantity": 1,
                "total_amount": 1,
                "payment_status": "unpaid",
                "fulfillment_status": "pending",
                "history": [],
                "created_at": now,
            }
            for i in range(n)
        ]
    )
    database.customers.insert_many(
        [{"seller_id": sellers[i % 10], "name": "c", "email_lower": f"f{i}@x.co"} for i in range(n)]
    )
    database.tracking_links.insert_many(
        [
            {"seller_id": sellers[i % 10], "customer_id": ObjectId(), "token_hash": uuid.uuid4().hex}
            for i in range(n)
        ]
    )
    database.sellers.insert_many(
        [{"email_lower": f"s{i}@x.co", "shop_slug": f"shop-{i}-{uuid.uuid4().hex[:6]}"} for i in range(n)]
    )
    database.idempotency_keys.insert_many([{"_id": f"{ObjectId()}:{i}", "at": now} for i in range(n)])
    database.items.insert_many([{"seller_id": sellers[i % 10], "name_lower": f"i{i}"} for i in range(n)])
    database.counters.insert_many([{"_id": ObjectId(), "seq": i} for i in range(n)])
    database.payments.insert_many(
        [
            {"seller_id": sellers[i % 10], "customer_id": ObjectId(), "status": "confirmed", "applied": True}
            for i in range(n)
        ]
    )
    database.login_attempts.insert_many(
        [{"email_lower": f"s{i}@x.co", "client": "1.2.3.4", "at": now} for i in range(n)]
    )
    database.members.insert_many(
        [
            {"seller_id": sellers[i % 10], "email_lower": f"m{i}@x.co", "status": "active", "gen": 0}
            for i in range(n)
        ]
    )


def test_the_apps_pushed_down_filters_use_an_index(backend, api, ferretdb):
    name = db.get_settings().mongo_db
    fill(db.get_db(), FILLER)
    ferretdb.indexes()
    ferretdb.sql(f"ANALYZE; SELECT 1 FROM pg_namespace WHERE nspname = '{name}'")

    rec = Recorder()
    client = pymongo.MongoClient(db.get_settings().mongo_uri, tz_aware=True, event_listeners=[rec])
    old, db._client = db._client, client
    try:
        token = api.signup(email="pg-index@example.com")
        t = {"token": token}
        item = api.post("/items", {"item_name": "Matcha", "price": 120, "stock": 100}, **t).json
        body = {"buyer_email": "amy@example.com", "buyer_name": "Amy", "item_id": item["id"], "quantity": 1}
        key = {"Idempotency-Key": uuid.uuid4().hex}
        made = api.post("/orders", body, headers=key, **t).json
        assert api.post("/orders", body, headers=key, **t).status == 200  # a retry reads the claim
        oid, cid = made["id"], made["customer_id"]
        assert api.get(f"/orders/{oid}", **t).status == 200
        assert api.patch(f"/orders/{oid}", {"fulfillment_status": "purchased"}, **t).status == 200
        assert api.patch(f"/orders/{oid}", {"payment_status": "remitted"}, **t).status == 200  # a payment
        assert api.get(f"/orders?customer_id={cid}", **t).status == 200
        # The list's first page: one read of the seller's sort keys, then the page by _id.
        assert api.get("/orders?limit=1", **t).json["total_count"] == 1
        assert api.get(f"/customers/{cid}", **t).status == 200
        link = api.post(f"/customers/{cid}/tracking-link", **t)
        assert link.status == 201, link
        assert api.get(f"/track/{link.json['token']}").status == 200
        assert (
            api.post("/auth/login", {"email": "pg-index@example.com", "password": "correct horse 1"}).status
            == 200
        )
        # A member (issue 31): accepts, logs in, and each request checks the member by _id.
        invite = api.post("/members", {"email": "pg-helper@example.com", "role": "staff"}, **t).json
        accept = {"token": invite["invite_url"].split("#invite=")[1], "password": "violet teapot harbour 9"}
        assert api.post("/members/accept", accept).status == 200
        helper = api.post("/auth/login", {"email": "pg-helper@example.com", "password": accept["password"]})
        assert api.get("/customers", token=helper.json["token"]).status == 200
    finally:
        db._client = old
        client.close()

    checked, missing = [], []
    explain_db = db.get_db()
    for command in rec.commands:
        for coll, flt in filters_of(command):
            fields = pushed_down(flt) & INDEXED.get(coll, set())
            if not fields:
                continue
            plan = explain_db.command("explain", {"find": coll, "filter": flt})["queryPlanner"]["Plan"]
            used = index_names(plan)
            label = f"{next(iter(command))} {coll} {sorted(pushed_down(flt))}"
            checked.append((label, used))
            if not any(n.endswith("_gin") for n in used):
                missing.append(f"{label}: {plan['Node Type']}")
    labels = {label for label, _ in checked}
    for must in (
        "find orders ['_id', 'seller_id']",  # GET /orders/{id}
        "findAndModify orders ['_id', 'seller_id']",  # PATCH /orders/{id}
        "find tracking_links ['token_hash']",  # GET /track/{token}, then
        "find orders ['customer_id', 'seller_id']",  # that buyer's orders
        "find orders ['seller_id']",  # GET /orders: the first list rebuilds the seller's keys...
        "find order_keys ['seller_id']",  # ...which each list reads (store.first_page)...
        "find orders ['_id']",  # ...and the page's orders by _id, the query in `$and`
        "find sellers ['email_lower']",  # login
        "find idempotency_keys ['_id']",  # Idempotency-Key claim
        "find payments ['applied', 'customer_id', 'seller_id']",  # a half-applied payment?
        "find members ['status', 'token_hash']",  # POST /members/accept
        "find members ['email_lower', 'status']",  # a member's login
        "find members ['_id', 'gen', 'seller_id', 'status']",  # a member's every request
    ):
        assert must in labels, sorted(labels)
    assert missing == [], f"sequential scans: {missing}; all checked: {checked}"


def test_unique_violation_inside_find_and_modify_is_a_duplicate_key(backend):
    coll = db.get_db().dup_check
    coll.create_index("email", unique=True)
    coll.insert_one({"_id": 1, "email": "a"})
    coll.insert_one({"_id": 2, "email": "b"})
    with pytest.raises(pymongo.errors.OperationFailure) as info:
        coll.find_one_and_update({"_id": 2}, {"$set": {"email": "a"}}, return_document=ReturnDocument.AFTER)
    # PostgreSQL backend: code 1, not 11000; the message carries the SQLSTATE.
    assert info.value.code == 1 and "SQLSTATE 23505" in str(info.value), info.value
    assert db.is_duplicate_key(info.value)
