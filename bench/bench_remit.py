"""Benchmark: bulk 已匯款 (`POST /orders/bulk {ids, set: {payment_status: "remitted"}}`),
issue 26 ("bulk Mark remitted took 13.5 s for 30 orders and 30.6 s for 100").

    .venv/bin/python bench/bench_remit.py                  # FerretDB, as `make run` starts it
    .venv/bin/python bench/bench_remit.py --mongo-java     # mongo-java-server (MongoDB paths)

Starts its own server as bench/bench_profit.py does (FerretDB on a PostgreSQL cluster of
its own under .cache/bench-remit/, with the local GIN indexes of scripts/pg-indexes.sql;
or mongo-java-server in memory). Each run is a new seller whose buyers get unpaid orders
through POST /orders (100 orders over 30 buyers, 30 over 9: the seller's report), then
ONE bulk call pays them all, through the routes (chalice.test's gateway, as the page
calls it). Prints the wall time of that call (p50 and max of `--runs`) and the database
commands it sent, in total and per buyer, with a pymongo CommandListener: on FerretDB the
order locks that MongoDB does not need are counted apart (the buyer's money lock is taken
on every server and counts as the app's). Checks every run's answer: all orders updated,
each paid in full, one payment per buyer. `--write` puts the table into
docs/performance.md (section bench_remit_<server>).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

from pymongo import monitoring

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


class Commands(monitoring.CommandListener):
    """`command:collection` of every command sent; FerretDB-only lock documents apart."""

    def __init__(self):
        self.names: list[str] = []
        self.locks = 0
        self.micros: collections.Counter = collections.Counter()  # time spent per command kind

    def clear(self):
        self.names, self.locks, self.micros = [], 0, collections.Counter()

    def started(self, event):
        if event.command_name in ("endSessions", "hello", "isMaster", "ismaster", "buildInfo"):
            return
        coll = event.command.get(event.command_name)
        if coll == "locks" and "money:" not in repr(
            event.command.get("documents") or event.command.get("deletes") or ""
        ):
            self.locks += 1
        else:
            coll = event.command.get("collection", coll) if event.command_name == "getMore" else coll
            self.names.append(f"{event.command_name}:{coll}")

    def succeeded(self, event):
        coll = (
            event.reply.get("cursor", {}).get("ns", "").split(".")[-1]
            if event.command_name in ("find", "getMore")
            else ""
        )
        self.micros[f"{event.command_name}{':' + coll if coll else ''}"] += event.duration_micros

    def failed(self, event):
        pass


LISTENER = Commands()
monitoring.register(LISTENER)  # before any client exists

os.environ.setdefault("JWT_SECRET", "bench-" + uuid.uuid4().hex)
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("PUBLIC_SITE_URL", "https://shop.example.test")
# The check after each run reads its orders by `_id: {$in}`, which FerretDB answers by
# decoding every order of the seller (seconds with --seed): not the API's 15 s limit.
os.environ.setdefault("MONGO_TIMEOUT_MS", "600000")


def start_server(kind: str):
    if kind == "mongo-java":
        from conftest import MongoJavaServer

        server = MongoJavaServer(ROOT / ".cache/bench-remit-mongo-java.log")
        server.start()
        return server
    from conftest import FerretDB

    data = ROOT / ".cache/bench-remit/data"
    shutil.rmtree(data.parent, ignore_errors=True)
    data.mkdir(parents=True)
    server = FerretDB(data)
    server.start()
    return server


def seed(first_order_id: str, n: int) -> None:
    """`n` more orders of the seller (clones of its first, over 500 other buyers, a third
    of them paid) and a payment per paid one: a seller's history under the bulk call."""
    import random

    from bson import ObjectId

    from chalicelib.platform import db

    database = db.get_db()
    base = database.orders.find_one({"_id": ObjectId(first_order_id)})
    buyers = [ObjectId() for _ in range(500)]
    rng = random.Random(7)
    orders, payments = [], []
    for i in range(n):
        buyer = buyers[i % len(buyers)]
        paid = i % 3 == 0
        oid = ObjectId()
        order = {**base, "_id": oid, "customer_id": buyer, "order_no": 100_000 + i, "history": []}
        order["total_amount"] = rng.randrange(10_000, 300_000, 100)
        if paid:
            pid = ObjectId()
            order.update(payment_status="remitted", paid_amount=order["total_amount"])
            order["paid_by"] = {str(pid): order["total_amount"]}
            payments.append(
                {
                    "_id": pid,
                    "seller_id": base["seller_id"],
                    "customer_id": buyer,
                    "amount": order["total_amount"],
                    "method": "other",
                    "status": "confirmed",
                    "source": "seller",
                    "allocations": [
                        {"order_id": oid, "order_no": order["order_no"], "amount": order["total_amount"]}
                    ],
                    "unallocated": 0,
                    "applied": True,
                    "touch": [],
                    "created_at": base["created_at"],
                }
            )
        orders.append(order)
    for i in range(0, len(orders), 1000):
        database.orders.insert_many(orders[i : i + 1000])
    for i in range(0, len(payments), 1000):
        database.payments.insert_many(payments[i : i + 1000])


def one_run(api, n_orders: int, n_buyers: int, n_seed: int = 0) -> dict:
    """A new seller, `n_orders` unpaid orders round-robin over `n_buyers` new buyers
    (and `n_seed` older orders of other buyers), one bulk 已匯款 of all of them."""
    from bson import ObjectId

    from chalicelib.platform import db

    t = {"token": api.signup(email=f"bench-{uuid.uuid4().hex[:8]}@example.com")}
    ids = []
    for i in range(n_orders):
        body = {
            "buyer_email": f"buyer{i % n_buyers}@example.com",
            "item_name": f"Item {i}",
            "quantity": 1 + i % 3,
            "unit_price": 150 + 10 * (i % 7),
            "shipping_fee": 60 if i % 4 == 0 else 0,
        }
        r = api.post("/orders", body, **t)
        assert r.status == 201, r
        ids.append(r.json["id"])
        if i == 0 and n_seed:
            seed(ids[0], n_seed)
    LISTENER.clear()
    start = time.perf_counter()
    r = api.post("/orders/bulk", {"ids": ids, "set": {"payment_status": "remitted"}}, **t)
    wall = time.perf_counter() - start
    assert r.status == 200, r
    assert r.json["updated"] == n_orders and not r.json["failed"], r.json
    names, locks, micros = list(LISTENER.names), LISTENER.locks, dict(LISTENER.micros)
    oids = [ObjectId(i) for i in ids]
    docs = list(db.get_db().orders.find({"_id": {"$in": oids}}))
    assert all(d["payment_status"] == "remitted" and d["paid_amount"] == d["total_amount"] for d in docs)
    buyers = {d["customer_id"] for d in docs}
    payments = db.get_db().payments.count_documents({"customer_id": {"$in": list(buyers)}})
    assert payments == n_buyers, (payments, n_buyers)
    return {"wall": wall, "commands": len(names), "locks": locks, "names": names, "micros": micros}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mongo-java", action="store_true", help="mongo-java-server instead of FerretDB")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="30:9,100:30", help="orders:buyers of each case")
    ap.add_argument("--write", action="store_true", help="write the table into docs/performance.md")
    ap.add_argument("--seed", type=int, default=0, help="older orders of the seller's other buyers")
    ap.add_argument("--label", default="", help="a word for the table's title (before/after)")
    args = ap.parse_args()
    kind = "mongo-java" if args.mongo_java else "ferretdb"
    server = start_server(kind)
    os.environ.update(MONGO_URI=server.uri, MONGO_DB="bench_" + uuid.uuid4().hex[:8])
    from chalicelib.platform import config, db

    config.reset_settings()
    db.reset_client()
    rows = []
    try:
        db.ensure_indexes()
        if kind == "ferretdb":
            server.indexes()  # the local GIN indexes, as `make run` creates them
        from conftest import Api, local_client

        with local_client() as client:
            api = Api(client)
            for size in args.sizes.split(","):
                n_orders, n_buyers = (int(x) for x in size.split(":"))
                runs = [one_run(api, n_orders, n_buyers, args.seed) for _ in range(args.runs)]
                walls = [r["wall"] for r in runs]
                commands = statistics.median(r["commands"] for r in runs)
                kinds = collections.Counter(runs[-1]["names"])
                rows.append(
                    {
                        "orders": n_orders,
                        "buyers": n_buyers,
                        "p50": statistics.median(walls),
                        "max": max(walls),
                        "commands": commands,
                        "per_buyer": commands / n_buyers,
                        "locks": statistics.median(r["locks"] for r in runs),
                        "kinds": kinds,
                    }
                )
                print(
                    f"{n_orders} orders / {n_buyers} buyers: p50 {rows[-1]['p50']:.2f} s, "
                    f"max {rows[-1]['max']:.2f} s, {commands:.0f} commands "
                    f"({commands / n_buyers:.1f} per buyer), {rows[-1]['locks']:.0f} lock commands; "
                    f"{dict(kinds)}",
                    flush=True,
                )
                print(
                    "  ms per command kind (last run):",
                    {k: round(v / 1000) for k, v in runs[-1]["micros"].items()},
                )
    finally:
        server.stop()
    text = render(rows, kind, args)
    print(text)
    if args.write:
        from bench.perfdoc import write_section

        write_section(f"bench_remit_{kind.replace('-', '_')}{'_' + args.label if args.label else ''}", text)


def render(rows: list[dict], kind: str, args) -> str:
    server = "FerretDB 1.24 (local default)" if kind == "ferretdb" else "mongo-java-server (MongoDB paths)"
    title = f"### Bulk 已匯款 on {server}{', ' + args.label if args.label else ''}"
    lines = [
        title,
        "",
        f"`bench/bench_remit.py{' --mongo-java' if kind == 'mongo-java' else ''}"
        f"{f' --seed {args.seed}' if args.seed else ''}`, {args.runs} runs per case"
        f"{f', {args.seed:,} older orders per seller' if args.seed else ''}.",
        "",
        "| orders / buyers | wall p50 | wall max | commands | per buyer | FerretDB lock commands |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['orders']} / {r['buyers']} | {r['p50']:.2f} s | {r['max']:.2f} s | "
            f"{r['commands']:.0f} | {r['per_buyer']:.1f} | {r['locks']:.0f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
