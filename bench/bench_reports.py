"""Benchmark: /reports/buyers (server-side aggregation) against the naive way.

    .venv/bin/python bench/bench_reports.py [--orders 100000] [--customers 2000] [--runs 5]
    .venv/bin/python bench/bench_reports.py --mongo-uri mongodb://...   # a real MongoDB instead

Starts its own FerretDB on a PostgreSQL cluster (scripts/db.sh; data under
.cache/bench-reports/, removed first) with the local indexes (scripts/pg-indexes.sql), loads
the orders with insert_many, then times reports.buyers (median of --runs) against fetching
every order and summing in Python, and counts the database commands each used with a
pymongo CommandListener. Also times CSV imports of 1,000 and 5,000 rows. Prints a table
and writes it into docs/performance.md under "## Reports".
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

import pymongo
from bson import ObjectId
from pymongo import monitoring

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


class Commands(monitoring.CommandListener):
    def __init__(self):
        self.names: list[str] = []

    def started(self, event):
        self.names.append(event.command_name)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


LISTENER = Commands()
monitoring.register(LISTENER)  # before any client exists

os.environ.setdefault("JWT_SECRET", "bench-" + uuid.uuid4().hex)
# FerretDB needs far longer than the API's 15 s socket timeout for a full scan of 100,000.
os.environ.setdefault("MONGO_TIMEOUT_MS", "600000")

from bench.perfdoc import write_section  # noqa: E402
from chalicelib.accounts.auth import Principal  # noqa: E402
from chalicelib.platform import config, db  # noqa: E402
from chalicelib.reporting import reports  # noqa: E402
from chalicelib.sales import imports  # noqa: E402

PAYMENTS = ["unpaid"] * 45 + ["remitted"] * 50 + ["refunded"] * 5
FULFILMENTS = (
    ["pending"] * 30 + ["purchased"] * 20 + ["shipped"] * 25 + ["delivered"] * 15 + ["cancelled"] * 10
)
ITEMS = [("Matcha KitKat", 25000), ("Tokyo Banana", 1999), ("Porter bag", 300000), ("Muji pen", 1200)]
BATCHES = [f"2026-{m:02d} {city}" for m, city in ((7, "Tokyo"), (8, "Osaka"), (9, "Seoul"), (10, "Tokyo"))]


def start_ferretdb() -> tuple[object, str]:
    from conftest import FerretDB

    data = ROOT / ".cache/bench-reports/data"
    shutil.rmtree(data.parent, ignore_errors=True)
    data.mkdir(parents=True)
    server = FerretDB(data)
    server.start()
    return server, server.uri


def load(database, seller_id: ObjectId, n_orders: int, n_customers: int) -> None:
    rng = random.Random(42)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    custs = []
    for i in range(n_customers):
        custs.append(
            {
                "_id": ObjectId(),
                "seller_id": seller_id,
                "name": f"買家 {i}",
                "email": f"buyer{i}@example.com",
                "email_lower": f"buyer{i}@example.com",
                "phone": None,
                "address": None,
                "social": None,
                "note": None,
                "created_at": now,
                "updated_at": now,
            }
        )
    database.customers.insert_many(custs)
    chunk = []
    for i in range(n_orders):
        c = custs[rng.randrange(n_customers)]
        name, price = ITEMS[rng.randrange(len(ITEMS))]
        qty = rng.randint(1, 4)
        fee = rng.choice((0, 0, 6000, 10050))
        pay, ful = rng.choice(PAYMENTS), rng.choice(FULFILMENTS)
        created = now - dt.timedelta(minutes=rng.randrange(60 * 24 * 300))
        chunk.append(
            {
                "seller_id": seller_id,
                "order_no": 1001 + i,
                "customer_id": c["_id"],
                "buyer_email": c["email"],
                "buyer_name": c["name"],
                "item_id": None,
                "item_name": name,
                "quantity": qty,
                "unit_price": price,
                "shipping_fee": fee,
                "total_amount": qty * price + fee,
                "batch": rng.choice(BATCHES),
                "note": None,
                "carrier": None,
                "tracking_number": None,
                "payment_status": pay,
                "remitted_at": created if pay == "remitted" else None,
                "fulfillment_status": ful,
                "shipped_date": created.date().isoformat() if ful in ("shipped", "delivered") else None,
                "history": [],
                "month": created.strftime("%Y-%m"),
                "version": 0,
                "created_at": created,
                "updated_at": created,
            }
        )
        if len(chunk) == 5000:
            database.orders.insert_many(chunk, ordered=False)
            chunk = []
    if chunk:
        database.orders.insert_many(chunk, ordered=False)


def naive(database, seller_id) -> dict:
    """What the report replaces: every order into Python, summed there."""
    per: dict = {}
    for o in database.orders.find({"seller_id": seller_id}):
        if o["fulfillment_status"] == "cancelled":
            continue
        r = per.setdefault(o["customer_id"], [0, 0, 0])
        r[0] += 1
        if o["payment_status"] != "refunded":
            r[1] += o["total_amount"]
            if o["payment_status"] == "remitted":
                r[2] += o["total_amount"]
    return per


def scalar_aggregations(database, seller_id) -> dict:
    """The cheapest aggregation-only way that is correct on FerretDB 1.24: one
    scalar-keyed $group per measure (a document key is quadratic there, and a second
    accumulator comes back 0). Timed to show why FerretDB reads the orders instead."""
    match = {"seller_id": seller_id, "fulfillment_status": {"$ne": "cancelled"}}
    measures = (
        ({}, 1),
        ({"payment_status": {"$ne": "refunded"}}, "$total_amount"),
        ({"payment_status": "remitted"}, "$total_amount"),
        ({"payment_status": "refunded"}, "$total_amount"),
        ({"fulfillment_status": {"$in": ["shipped", "delivered"]}}, 1),
    )
    per: dict = {}
    for i, (extra, expr) in enumerate(measures):
        pipeline = [{"$match": {**match, **extra}}, {"$group": {"_id": "$customer_id", "v": {"$sum": expr}}}]
        for d in database.orders.aggregate(pipeline, batchSize=10_000):
            per.setdefault(d["_id"], [0] * len(measures))[i] = d["v"]
    return per


def timed(fn, runs: int) -> tuple[float, int, object]:
    times, result = [], None
    commands = 0
    for _ in range(runs):
        LISTENER.names.clear()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        commands = len(LISTENER.names)
    return statistics.median(times), commands, result


def import_csv(n: int) -> str:
    lines = [
        "buyer_email,buyer_name,item_name,quantity,unit_price,shipping_fee,batch,payment_status,fulfillment_status"
    ]
    for i in range(n):
        lines.append(
            f"imp{i % 300}@example.com,匯入 {i % 300},Tokyo Banana,2,19.99,60,2026-12 Tokyo,unpaid,pending"
        )
    return "\r\n".join(lines) + "\r\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--customers", type=int, default=2_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mongo-uri", default=None, help="benchmark this server instead of a fresh FerretDB")
    ap.add_argument("--no-write-docs", action="store_true")
    args = ap.parse_args()

    server = None
    uri = args.mongo_uri
    if uri is None:
        server, uri = start_ferretdb()
    name = "bench_" + uuid.uuid4().hex[:8]
    os.environ["MONGO_URI"], os.environ["MONGO_DB"] = uri, name
    config.reset_settings()
    db.reset_client()
    try:
        database = db.get_db()
        db.ensure_indexes()
        if server is not None:
            server.indexes()  # the local GIN indexes, as `make run` creates them
        engine = "FerretDB 1.24 (PostgreSQL 15)" if db.is_ferretdb() else "MongoDB"
        path = "one projected find" if db.is_ferretdb() else "one aggregation"
        seller_id = ObjectId()
        principal = Principal(str(seller_id), "Asia/Taipei", "TWD")
        t0 = time.perf_counter()
        load(database, seller_id, args.orders, args.customers)
        if server is not None:
            server.sql("ANALYZE")  # as autovacuum would soon after a bulk load
        load_s = time.perf_counter() - t0
        print(f"loaded {args.orders:,} orders / {args.customers:,} customers into {engine} in {load_s:.1f} s")

        rep_s, rep_cmds, rep = timed(lambda: reports.buyers(principal), args.runs)
        naive_runs = max(1, min(3, args.runs))
        nai_s, nai_cmds, nai = timed(lambda: naive(database, seller_id), naive_runs)
        same = {
            ObjectId(r["customer_id"]): [r["order_count"], r["total_amount"], r["remitted_amount"]]
            for r in rep["rows"]
        } == nai
        print(f"report rows: {len(rep['rows']):,}; same numbers as the naive sum: {'yes' if same else 'NO'}")
        alt = None
        if db.is_ferretdb():
            alt_s, alt_cmds, _ = timed(lambda: scalar_aggregations(database, seller_id), 1)
            alt = (alt_s, alt_cmds)

        imports_rows = []
        for n in (1_000, 5_000):
            importer = Principal(str(ObjectId()), "Asia/Taipei", "TWD")
            text = import_csv(n)
            LISTENER.names.clear()
            t0 = time.perf_counter()
            out = imports.run(importer, text.encode(), dry_run=False)
            secs = time.perf_counter() - t0
            assert out["created"] == n
            imports_rows.append((n, secs, len(LISTENER.names)))

        table = [
            "| what | median time | database commands |",
            "|---|---:|---:|",
            f"| `/reports/buyers` as served ({path}, {args.runs} runs) | {rep_s * 1000:,.0f} ms | {rep_cmds} |",
            f"| naive: fetch all orders, sum in Python ({naive_runs} runs) | {nai_s * 1000:,.0f} ms | {nai_cmds} |",
            f"| ratio naive / report | {nai_s / rep_s:,.2f}× | |",
        ]
        if alt is not None:
            table.insert(
                3,
                f"| (not used) five scalar-keyed `$group`s, the cheapest correct aggregation on FerretDB (1 run) "
                f"| {alt[0] * 1000:,.0f} ms | {alt[1]} |",
            )
        for n, secs, cmds in imports_rows:
            table.append(
                f"| `POST /import/orders`, {n:,} rows, 300 new buyers (1 run) | {secs * 1000:,.0f} ms | {cmds} |"
            )
        header = (
            f"{engine}, {args.orders:,} orders of one seller, {args.customers:,} customers, "
            f"{len(rep['rows']):,} report rows; Python {sys.version.split()[0]}, pymongo {pymongo.version}, "
            f"{os.cpu_count()} CPUs, {dt.date.today().isoformat()}."
        )
        print()
        print(header)
        print("\n".join(table))
        if not args.no_write_docs:
            write_docs(header, table, rep_cmds)
    finally:
        try:
            db.get_client().drop_database(name)
        finally:
            db.reset_client()
            if server is not None:
                server.stop()


def write_docs(header: str, table: list[str], rep_cmds: int) -> None:
    section = "\n".join(
        [
            "## Reports",
            "",
            "Measured with `make bench-reports` (`bench/bench_reports.py`).",
            header,
            "",
            *table,
            "",
            f"The report used {rep_cmds} database commands. On MongoDB it is one `aggregate` (the",
            "`$group` by customer, payment and fulfillment status runs next to the data and only a few",
            "rows per customer cross the network, names from the copies on the orders): 1 command.",
            "On FerretDB 1.24 every aggregation is a Go loop over all of the seller's orders read from",
            "the backend (PostgreSQL here: the seller's rows come through the GIN index on `seller_id`,",
            "but every document is still decoded in Go; the projection is applied in Go too), a second",
            "accumulator in a `$group` comes back 0 and a document `_id` groups in quadratic time, so",
            "there the report reads the six fields it needs with one projected `find` (a `getMore` per",
            "10,000 orders) and sums them in Python (docs/ferretdb.md). That is one full read of the",
            "seller's orders, the floor on FerretDB, so the gain over the naive way there is small: it",
            "comes from the large batches (the naive way is one `find` plus a `getMore` per ~250 whole",
            "documents). No MongoDB server is available on this machine; for MongoDB numbers run",
            "`bench/bench_reports.py --mongo-uri mongodb+srv://...` against an Atlas test cluster.",
            "",
            "A 5,000-row import is 5 commands whatever the size: one `find` of the items named, one",
            "`find` of the buyers, one `insert_many` of the new buyers, one counter update reserving the",
            "order numbers, one `insert_many` of the orders (plus one conditional update per tracked",
            "item). The earlier version created buyers with one upsert each: 300 upserts took 3-6 s.",
            "",
        ]
    )
    path = write_section("bench_reports", section)
    print(f"\nwrote the numbers to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
