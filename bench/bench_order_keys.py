"""The orders' slim key index (issue 27, chalicelib/platform/key_index.py): what it saves on
GET /orders and what it costs on the writes, on FerretDB with `--orders` orders of one
seller (the API in process, chalice's test client; a fresh FerretDB with the local
indexes). A script, not a test; run it in two checkouts for a before/after:

    .venv/bin/python bench/bench_order_keys.py [--orders 2000] [--runs 15]

Prints p50/p95 ms and the database commands of: GET /orders?limit=100 (and unpaid), POST
/orders, POST /orders/bulk of 500 orders (a status moved forward), with the
1-minute load average at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymongo  # noqa: E402
from pymongo import monitoring  # noqa: E402

from tests.conftest import Api, FerretDB, local_client, use_database  # noqa: E402


class Count(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event):
        if event.command_name not in ("endSessions", "hello", "isMaster", "ismaster"):
            self.names.append(f"{event.command_name} {event.command.get(event.command_name)}")

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def spread(ms: list[float]) -> str:
    ms = sorted(ms)
    return f"p50 {statistics.median(ms):.0f} / p95 {ms[int(0.95 * (len(ms) - 1))]:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        ferret = FerretDB(Path(tmp) / "ferretdb")
        ferret.start()
        try:
            use_database(ferret.uri, "bench_keys")
            from chalicelib.platform import db

            db.ensure_indexes()
            count = Count()
            db._client = pymongo.MongoClient(ferret.uri, tz_aware=True, event_listeners=[count])
            with local_client() as client:
                api = Api(client)
                token = api.signup()
                lines = ["buyer_email,buyer_name,item_name,quantity,unit_price,payment_status"]
                lines += [
                    f"buyer{i % 25}@example.com,Buyer {i % 25},Item {i % 40},1,{100 + i % 900},"
                    f"{'remitted' if i % 2 else 'unpaid'}"
                    for i in range(args.orders)
                ]
                r = api.post(
                    "/import/orders",
                    raw="\n".join(lines).encode(),
                    token=token,
                    headers={"Content-Type": "text/csv"},
                )
                assert r.status == 201, r
                ferret.indexes()
                ferret.sql("ANALYZE")
                out = measure(api, token, count, args.runs)
        finally:
            ferret.stop()
    print(
        json.dumps(
            {"orders": args.orders, "load": [round(load_start, 2), round(os.getloadavg()[0], 2)], **out}
        )
    )
    return 0


def timed(count: Count, call) -> tuple[float, int, object]:
    count.names.clear()
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, len(count.names), result


def measure(api: Api, token: str, count: Count, runs: int) -> dict:
    out: dict = {}
    api.get("/orders?limit=100", token=token)  # the seller's first list (builds the keys where kept)
    for name, url in (("list", "/orders?limit=100"), ("unpaid", "/orders?limit=100&payment_status=unpaid")):
        ms, cmds = [], 0
        for _ in range(runs):
            t, cmds, r = timed(count, lambda url=url: api.get(url, token=token))
            assert r.status == 200, r
            ms.append(t)
        out[name] = f"{spread(ms)}, {cmds} commands"
    ms = []
    for _ in range(runs):
        body = {
            "buyer_email": f"new{uuid.uuid4().hex[:6]}@example.com",
            "item_name": "Tea",
            "unit_price": 100,
            "quantity": 1,
        }
        t, cmds, r = timed(count, lambda body=body: api.post("/orders", body, token=token))
        assert r.status == 201, r
        ms.append(t)
    out["post"] = f"{spread(ms)}, {cmds} commands"
    from chalicelib.platform import db

    # Forward moves only (a bulk refuses a move back): two sets of 500 unpaid orders paid,
    # two sets of 500 pending orders purchased.
    unpaid = [str(o["_id"]) for o in db.get_db().orders.find({"payment_status": "unpaid"}, {"_id": 1})]
    pending = [str(o["_id"]) for o in db.get_db().orders.find({"fulfillment_status": "pending"}, {"_id": 1})]
    moves = [
        (unpaid[:500], {"payment_status": "remitted"}),
        (unpaid[500:1000], {"payment_status": "remitted"}),
        (pending[:500], {"fulfillment_status": "purchased"}),
        (pending[-500:], {"fulfillment_status": "purchased"}),
    ]
    ms = []
    for ids, move in moves:
        t, cmds, r = timed(
            count, lambda ids=ids, move=move: api.post("/orders/bulk", {"ids": ids, "set": move}, token=token)
        )
        assert r.status == 200 and r.json["updated"] == 500, r
        ms.append(t)
        if os.environ.get("BENCH_DEBUG"):
            print(sorted({n: count.names.count(n) for n in count.names}.items()))
    out["bulk500"] = f"{spread(ms)}, {cmds} commands"
    return out


if __name__ == "__main__":
    sys.exit(main())
