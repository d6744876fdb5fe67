"""Benchmark: /reports/profit (the real report path) against the naive way, the rates sweep
of PATCH /batches/{name}, and GET /batches, on large data.

    .venv/bin/python bench/bench_profit.py [--orders 100000] [--batches 19] [--runs 5]
    .venv/bin/python bench/bench_profit.py --mongo-java          # mongo-java-server (MongoDB paths)
    .venv/bin/python bench/bench_profit.py --mongo-uri mongodb://...   # a real MongoDB instead

As bench/bench_reports.py: starts its own FerretDB on a PostgreSQL cluster (scripts/db.sh;
data under .cache/bench-profit/, removed first) with the local indexes
(scripts/pg-indexes.sql), or mongo-java-server in memory (tests/conftest.py's launcher),
loads the orders of one seller with insert_many (5,000 a command): `--batches` batches of
equal size over 12 months plus as many orders in no batch, most with a JPY, KRW, USD or
TWD purchase cost, some without a cost, as POST /orders stores them before any rate is
set. Then sets every batch's rates through chalicelib.catalog.batches.update (what PATCH
/batches/{name} runs: the upsert and the sweep that converts the batch's orders), some
batches without a KRW rate. Then, on the same data and in the same run, times
profit.profit() (what GET /reports/profit serves) against fetching every order of the
seller and summing in Python, asserts that both give the same numbers, times a change of
one batch's JPY rate (the sweep of its orders) and batches.search (GET /batches), and
counts the database commands of each with a pymongo CommandListener. Prints a table and,
for FerretDB and mongo-java-server, writes it into docs/performance.md under
"## Profit report" (sections bench_profit_ferretdb and bench_profit_mongo_java).

The rates are set before the orders are loaded (each batch's first PATCH finds no order to
convert; the orders are stored converted, as POST /orders stores them once the rate is
there), and on FerretDB the rate change is not run unless `--ferretdb-sweep` is given: the
sweep's bulk_write is one `update` command with a statement per order, and FerretDB 1.24
on PostgreSQL never answers an `update` of 50 or more statements (49 are fine) and then
answers no other client either (its 50 PostgreSQL connections stay checked out; reproduced
with 50 plain `{_id}` UpdateOnes on a fresh server). A batch with 50 or more orders in a
foreign currency therefore cannot have its rates changed on local FerretDB.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import random
import shutil
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pymongo
from bson import ObjectId
from pymongo import monitoring

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


class Commands(monitoring.CommandListener):
    """`command:collection` of every command sent; lock documents (FerretDB only) apart."""

    def __init__(self):
        self.names: list[str] = []
        self.locks = 0

    def clear(self):
        self.names, self.locks = [], 0

    def started(self, event):
        if event.command_name in ("endSessions", "hello", "isMaster", "ismaster", "buildInfo"):
            return
        coll = event.command.get(event.command_name)
        if coll == "locks":
            self.locks += 1
        else:
            # a getMore names its collection under "collection"
            coll = event.command.get("collection", coll) if event.command_name == "getMore" else coll
            self.names.append(f"{event.command_name}:{coll}")

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
from chalicelib.catalog import batches  # noqa: E402
from chalicelib.catalog.schemas import BatchPatch  # noqa: E402
from chalicelib.money import profit  # noqa: E402
from chalicelib.money.schemas import ProfitQuery  # noqa: E402
from chalicelib.platform import config, currencies, db  # noqa: E402
from chalicelib.platform.principal import Principal  # noqa: E402

SHOP = "TWD"
PAYMENTS = ["unpaid"] * 45 + ["remitted"] * 50 + ["refunded"] * 5
FULFILMENTS = (
    ["pending"] * 30 + ["purchased"] * 20 + ["shipped"] * 25 + ["delivered"] * 15 + ["cancelled"] * 10
)
# Purchase currency of an order's cost (None: no cost given), and a typical rate into TWD.
COST_CURRENCIES = [None] * 8 + ["JPY"] * 45 + ["KRW"] * 20 + ["USD"] * 10 + ["TWD"] * 17
RATES = {"JPY": 0.2115, "KRW": 0.0238, "USD": 32.15}
CITIES = ("東京", "大阪", "首爾", "福岡")


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def start_server(kind: str) -> tuple[object, str]:
    if kind == "mongo-java":
        from conftest import MongoJavaServer

        log = ROOT / ".cache/bench-profit-mongo-java.log"
        server = MongoJavaServer(log)
        server.start()
        return server, server.uri
    from conftest import FerretDB

    data = ROOT / ".cache/bench-profit/data"
    shutil.rmtree(data.parent, ignore_errors=True)
    data.mkdir(parents=True)
    server = FerretDB(data)
    server.start()
    return server, server.uri


def batch_names(n: int) -> list[tuple[str, int]]:
    """`n` trips over 2026's 12 months: (name, first month)."""
    out = []
    for b in range(n):
        month = 1 + (b * 12) // n
        out.append((f"2026-{month:02d} {CITIES[b % len(CITIES)]} #{b + 1}", month))
    return out


def batch_rates(b: int) -> dict[str, str]:
    """The rates set on batch number `b`: every third-but-one batch has no KRW rate, so
    its KRW orders stay without a cost amount (`no_rate`)."""
    rates = {
        "JPY": f"{RATES['JPY'] + (b % 7) * 0.0005:.4f}",
        "KRW": f"{RATES['KRW']:.4f}",
        "USD": f"{RATES['USD'] + (b % 3) * 0.1:.2f}",
    }
    if b % 6 == 5:
        del rates["KRW"]
    return rates


def load(
    database,
    seller_id: ObjectId,
    n_orders: int,
    trips: list[tuple[str, int]],
    known: dict[str, batches.Batch],
) -> dict:
    """Orders as POST /orders stores them once their batch has its rates (`known`: the
    batch as batches.read returns it): cost_fields converts the cost at the batch's rate
    (`no_rate` without one, `none` without a cost). Equal shares per batch, one more
    share in no batch. Returns the orders per batch."""
    rng = random.Random(42)
    share = n_orders // (len(trips) + 1)
    counts: dict[str | None, int] = collections.Counter()
    chunk = []
    for i in range(n_orders):
        slot = min(i // share, len(trips))
        if slot < len(trips):
            name, first = trips[slot]
            month = min(12, first + rng.choice((0, 0, 1)))
            batch = known[name]
        else:
            name, month, batch = None, rng.randint(1, 12), batches.NO_BATCH
        counts[name] += 1
        created = dt.datetime(2026, month, rng.randint(1, 28), rng.randrange(24), tzinfo=dt.UTC)
        qty = rng.randint(1, 4)
        price = rng.randrange(10_000, 500_000, 100)  # NT$100-5,000, in cents
        fee = rng.choice((0, 0, 6000, 10050))
        currency = rng.choice(COST_CURRENCIES)
        cost = None
        if currency is not None:
            twd = price / 100 * rng.uniform(0.55, 0.9)  # the unit cost's worth in TWD
            rate = RATES.get(currency, 1.0)
            cost = int(round(twd / rate * 10 ** currencies.digits(currency)))
        pay, ful = rng.choice(PAYMENTS), rng.choice(FULFILMENTS)
        chunk.append(
            {
                "seller_id": seller_id,
                "order_no": 1001 + i,
                "customer_id": ObjectId(),
                "buyer_email": f"buyer{i % 2000}@example.com",
                "buyer_name": f"買家 {i % 2000}",
                "item_id": None,
                "item_name": "Matcha KitKat",
                "quantity": qty,
                "unit_price": price,
                "shipping_fee": fee,
                "total_amount": qty * price + fee,
                "batch": name,
                **batches.cost_fields(cost, currency, qty, batch, SHOP),
                "note": None,
                "carrier": None,
                "tracking_number": None,
                "payment_status": pay,
                "remitted_at": created if pay == "remitted" else None,
                "fulfillment_status": ful,
                "shipped_date": created.date().isoformat() if ful in ("shipped", "delivered") else None,
                "history": [],
                "initial": {"payment_status": pay, "fulfillment_status": ful},
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
    return dict(counts)


FIELDS = ("batch", "month", "cost_state", "total_amount", "shipping_fee", "cost_amount")


def naive(database, seller_id) -> dict:
    """Without the report: every order of the seller into Python (the fields it needs),
    summed there with ints by the report's rules."""
    proj = {f: 1 for f in (*FIELDS, "payment_status", "fulfillment_status")}
    by_batch: dict = {}
    by_month: dict = {}
    totals = [0] * 9
    for o in database.orders.find({"seller_id": seller_id}, proj):
        if o["fulfillment_status"] == "cancelled" or o["payment_status"] == "refunded":
            continue
        for t in (
            by_batch.setdefault(o.get("batch"), [0] * 9),
            by_month.setdefault(o["month"], [0] * 9),
            totals,
        ):
            # count, revenue, shipping, costed: count, revenue, shipping, cost; no cost; no rate
            t[0] += 1
            t[1] += o["total_amount"]
            t[2] += o["shipping_fee"]
            state = o.get("cost_state")
            if state == batches.KNOWN:
                t[3] += 1
                t[4] += o["total_amount"]
                t[5] += o["shipping_fee"]
                t[6] += o["cost_amount"]
            elif state == batches.NO_RATE:
                t[8] += 1
            else:
                t[7] += 1
    names = sorted((n for n in by_batch if n is not None), reverse=True)
    names += [None] if None in by_batch else []
    return {
        "currency": SHOP,
        "by_batch": [_naive_row(by_batch[n], batch=n) for n in names],
        "by_month": [_naive_row(by_month[m], month=m) for m in sorted(by_month)],
        "totals": _naive_row(totals),
    }


def _naive_row(t: list[int], **key) -> dict:
    known = t[3] > 0
    profit_ = t[4] - t[5] - t[6] if known else None
    margin = None
    if known and t[4] > 0:  # profit / costed revenue, 4 decimals, half away from zero
        q = (2 * abs(profit_) * 10_000 + t[4]) // (2 * t[4])
        margin = (q if profit_ >= 0 else -q) / 10_000
    return {
        **key,
        "order_count": t[0],
        "revenue": t[1],
        "cost": t[6] if known else None,
        "shipping_fees": t[2],
        "profit": profit_,
        "margin": margin,
        "costed_count": t[3],
        "missing_cost_count": t[7],
        "missing_rate_count": t[8],
    }


def check_costs(database, seller_id, rates_of: dict[str, dict]) -> tuple[int, int]:
    """Every order's stored cost fields against a conversion made here from the rates the
    bench set (untimed). Returns (orders checked, orders wrong)."""
    checked = wrong = 0
    proj = {"cost": 1, "cost_currency": 1, "quantity": 1, "batch": 1, "cost_amount": 1, "cost_state": 1}
    for o in database.orders.find({"seller_id": seller_id}, proj, batch_size=10_000):
        name = o.get("batch")
        batch = batches.Batch(name, {c: Decimal(r) for c, r in rates_of.get(name, {}).items()})
        want = batches.cost_fields(o.get("cost"), o.get("cost_currency"), o["quantity"], batch, SHOP)
        checked += 1
        if (o.get("cost_amount"), o.get("cost_state")) != (want["cost_amount"], want["cost_state"]):
            wrong += 1
    return checked, wrong


def timed(fn, runs: int) -> dict:
    """p50/p95 of `runs` calls; the commands of the last one (they do not vary)."""
    times, result = [], None
    for _ in range(runs):
        LISTENER.clear()
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
        print(f"    {times[-1]:,.0f} ms, {len(LISTENER.names)} commands", flush=True)
    return {
        "p50": percentile(times, 0.5),
        "p95": percentile(times, 0.95),
        "n": runs,
        "names": list(LISTENER.names),
        "locks": LISTENER.locks,
        "result": result,
    }


def summary(names: list[str]) -> str:
    """`aggregate:orders` ×4, `getMore:orders` ×2, in order of first use."""
    counts = collections.Counter(names)
    return ", ".join(f"`{n}` ×{c}" if c > 1 else f"`{n}`" for n, c in counts.items())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--batches", type=int, default=19, help="batches of equal size; one more share in none")
    ap.add_argument("--runs", type=int, default=5, help="repetitions of the report and of GET /batches")
    ap.add_argument("--naive-runs", type=int, default=3)
    ap.add_argument("--sweep-runs", type=int, default=3, help="JPY rate changes on one batch")
    ap.add_argument(
        "--ferretdb-sweep",
        action="store_true",
        help="run the rate change on FerretDB too (hangs it: an update of 50+ statements never answers)",
    )
    ap.add_argument("--mongo-java", action="store_true", help="mongo-java-server instead of FerretDB")
    ap.add_argument("--mongo-uri", default=None, help="benchmark this server instead of a fresh one")
    ap.add_argument("--section", default=None, help="docs/performance.md section (default by server)")
    ap.add_argument("--no-write-docs", action="store_true")
    args = ap.parse_args()

    server = None
    uri = args.mongo_uri
    kind = "mongo-java" if args.mongo_java else "ferretdb"
    if uri is None:
        server, uri = start_server(kind)
    name = "bench_" + uuid.uuid4().hex[:8]
    os.environ["MONGO_URI"], os.environ["MONGO_DB"] = uri, name
    config.reset_settings()
    db.reset_client()
    try:
        database = db.get_db()
        db.ensure_indexes()
        if server is not None and kind == "ferretdb":
            server.indexes()  # the local GIN indexes, as `make run` creates them
        if db.is_ferretdb():
            engine = "FerretDB 1.24 (PostgreSQL 15, local GIN indexes)"
        elif kind == "mongo-java" and args.mongo_uri is None:
            engine = "mongo-java-server 1.47.0 (in memory; the app's MongoDB code paths)"
        else:
            engine = "MongoDB " + db.get_client().server_info().get("version", "")
        seller_id = ObjectId()
        principal = Principal(str(seller_id), "Asia/Taipei", SHOP)
        trips = batch_names(args.batches)
        # Rates on every batch first, as the seller sets them on the Batches tab before the
        # orders come in: PATCH /batches/{name} on a batch without orders (its upsert; the
        # sweep finds nothing). Some batches get no KRW rate.
        rates_of: dict[str, dict] = {}
        first_patch = []
        for b, (trip, _) in enumerate(trips):
            rates_of[trip] = batch_rates(b)
            r = timed(lambda t=trip: batches.update(principal, t, BatchPatch(rates=rates_of[t])), 1)
            first_patch.append(r)
        known = {trip: batches.read(seller_id, trip) for trip, _ in trips}
        t0 = time.perf_counter()
        counts = load(database, seller_id, args.orders, trips, known)
        if server is not None and kind == "ferretdb":
            server.sql("ANALYZE")  # as autovacuum would soon after a bulk load
        load_s = time.perf_counter() - t0
        print(f"loaded {args.orders:,} orders into {engine} in {load_s:.1f} s", flush=True)

        print("profit.profit():", flush=True)
        rep = timed(lambda: profit.profit(principal, ProfitQuery()), args.runs)
        print("naive:", flush=True)
        nai = timed(lambda: naive(database, seller_id), args.naive_runs)
        same = rep["result"] == nai["result"]
        print(f"same numbers as the naive sum: {'yes' if same else 'NO'}", flush=True)
        if not same:
            for part in ("by_batch", "by_month"):
                for a, b in zip(rep["result"][part], nai["result"][part], strict=False):
                    if a != b:
                        print(f"  report {a}\n  naive  {b}")
            print(f"  totals report {rep['result']['totals']}\n  totals naive  {nai['result']['totals']}")
        totals = rep["result"]["totals"]

        print("GET /batches (batches.search):", flush=True)
        listing = timed(lambda: batches.search(principal), args.runs)

        # A change of one batch's JPY rate: its JPY, KRW and USD orders are converted again.
        trip = trips[0][0]
        foreign = database.orders.count_documents(
            {"seller_id": seller_id, "batch": trip, "cost_currency": {"$in": ["JPY", "KRW", "USD"]}}
        )
        print(
            f"PATCH rates {trip} again ({counts[trip]:,} orders, {foreign:,} with a foreign cost):",
            flush=True,
        )
        jpy = iter(f"{0.2000 + k * 0.0001:.4f}" for k in range(1, 1000))

        def change_rate():
            rate = next(jpy)
            rates_of[trip] = {**rates_of[trip], "JPY": rate}
            return batches.update(principal, trip, BatchPatch(rates={"JPY": rate}))

        sweep = None
        checked = wrong = None
        if db.is_ferretdb() and not args.ferretdb_sweep:
            print("  skipped on FerretDB (--ferretdb-sweep runs it): see the module docstring", flush=True)
        else:
            sweep = timed(change_rate, args.sweep_runs)
            print(
                f"  batch after the last sweep: {profit.profit(principal, ProfitQuery(batch=trip))['by_batch'][0]}"
            )
            checked, wrong = check_costs(database, seller_id, rates_of)
            print(f"stored cost fields checked: {checked:,}, wrong: {wrong:,}", flush=True)

        rows = [
            (f"`profit.profit()`, what GET /reports/profit serves ({rep['n']} runs)", rep),
            (f"naive: `find` the seller's orders (8 fields), sum in Python ({nai['n']} runs)", nai),
            (
                f"first PATCH /batches/{{name}} rates, before the batch has orders "
                f"(the upsert; {len(trips)} batches, 1 run each)",
                {
                    "p50": percentile([r["p50"] for r in first_patch], 0.5),
                    "p95": percentile([r["p50"] for r in first_patch], 0.95),
                    "n": len(first_patch),
                    "names": first_patch[0]["names"],
                    "locks": first_patch[0]["locks"],
                },
            ),
            (
                f"PATCH /batches/{{name}} JPY rate changed, {counts[trip]:,} orders, "
                f"{foreign:,} converted again ({sweep['n'] if sweep else 0} runs)",
                sweep,
            ),
            (
                f"`batches.search()`, what GET /batches serves ({len(trips)} batches, {listing['n']} runs)",
                listing,
            ),
        ]
        table = [
            "| what | p50 ms | p95 ms | n | database commands | + lock commands (FerretDB only) | commands |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for label, r in rows:
            if r is None:
                table.append(
                    f"| {label} | not run: hangs FerretDB 1.24 (an `update` of 50+ statements) | | | | | |"
                )
                continue
            table.append(
                f"| {label} | {r['p50']:,.0f} | {r['p95']:,.0f} | {r['n']} | {len(r['names'])} | {r['locks']} "
                f"| {summary(r['names'])} |"
            )
        table.append(f"| ratio naive / report (p50) | {nai['p50'] / rep['p50']:,.2f}× | | | | | |")
        header = (
            f"{engine}, {args.orders:,} orders of one seller in {len(trips)} batches of "
            f"{counts[trips[0][0]]:,} and {counts.get(None, 0):,} in no batch, 12 months; report: "
            f"{len(rep['result']['by_batch'])} batch rows, {len(rep['result']['by_month'])} month rows, "
            f"{totals['order_count']:,} orders counted ({totals['costed_count']:,} with a cost, "
            f"{totals['missing_cost_count']:,} without, {totals['missing_rate_count']:,} without a rate); "
            f"same numbers as the naive sum: {'yes' if same else '**NO**'}; "
            + (f"stored cost fields wrong after the sweeps: {wrong:,} of {checked:,}; " if checked else "")
            + f"loaded in {load_s:.0f} s; Python {sys.version.split()[0]}, "
            f"pymongo {pymongo.version}, {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.1f} at the end, {dt.date.today().isoformat()}."
        )
        print()
        print(header)
        print("\n".join(table))
        if not args.no_write_docs and args.mongo_uri is None:
            section = args.section or f"bench_profit_{kind.replace('-', '_')}"
            title = "### On FerretDB" if db.is_ferretdb() else "### On mongo-java-server (MongoDB code paths)"
            path = write_section(section, "\n".join([title, "", header, "", *table, ""]))
            print(f"\nwrote the numbers to {path.relative_to(ROOT)} ({section})")
        if not same or wrong:
            sys.exit(1)
    finally:
        try:
            db.get_client().drop_database(name)
        finally:
            db.reset_client()
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
