"""Benchmark: the shopping trip (issue 30) on a batch of 2,000 orders.

    .venv/bin/python bench/bench_shopping.py                  # FerretDB, as `make run` starts it
    .venv/bin/python bench/bench_shopping.py --mongo-java     # mongo-java-server (MongoDB paths)

Starts its own server as the other benches do. Each run is a new seller with 200 buyers
and 2,000 pending orders in one batch over 40 items, half of them in 2 variants (the
orders' `variant_id`/`variant_label` set as the variants branch will write them): 60
lines of about 33 orders. The orders are inserted in their stored shape (orders.
order_document) in one command, not through POST /orders: what is measured is the trip.
Timed through the routes (chalice.test's gateway, as the page calls them), with their
database commands counted: GET /batches/{name}/shopping-list; a POST .../purchases that
covers a line (its orders become purchased, with the unit cost); a purchase short of a
line, then POST .../shortages first ordered first (the rest cancelled). `--write` puts
the table into docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from urllib.parse import quote

import harness
from harness import COMMANDS as LISTENER
from harness import bench_cli, p50_count, server_name

ORDERS = 2000
BUYERS = 200
ITEMS = 40
BATCH = "2026-12 東京"

os.environ.pop("SES_SENDER", None)
os.environ.pop("MAIL_OUTBOX", None)


def shop(api) -> tuple[str, list[dict]]:
    from bson import ObjectId

    from chalicelib.accounts import auth
    from chalicelib.buyers import customers
    from chalicelib.catalog import items
    from chalicelib.catalog.schemas import ItemIn
    from chalicelib.orderbook import repository
    from chalicelib.platform import clock
    from chalicelib.sales import orders
    from chalicelib.sales.schemas import OrderIn

    token = api.signup(email=f"bench-{uuid.uuid4().hex[:8]}@example.com")
    who = auth.authenticate(f"Bearer {token}")
    seller_id = ObjectId(who.seller_id)
    buyers = [
        customers.for_order(seller_id, email=f"buyer{i}@example.com", name=f"買家{i}") for i in range(BUYERS)
    ]
    made = [items.create(who, ItemIn(item_name=f"商品{i}", price=300)) for i in range(ITEMS)]
    stored = [items.find_for_order(seller_id, item_id=ObjectId(m["id"])) for m in made]
    start = clock.now() - dt.timedelta(days=3)
    docs = []
    for n in range(ORDERS):
        item = stored[n % ITEMS]
        data = OrderIn(
            customer_id=str(buyers[n % BUYERS]["_id"]), item_id=str(item["_id"]), quantity=1, batch=BATCH
        )
        doc = orders.order_document(
            seller_id=seller_id,
            order_no=1001 + n,
            customer=buyers[n % BUYERS],
            item=item,
            data=data,
            unit_price=30000,
            total=30000,
            payment_status="unpaid",
            fulfillment_status="pending",
            tz=who.timezone,
            now=start + dt.timedelta(seconds=n),
        )
        if (n % ITEMS) % 2 == 0:  # half the items in two variants
            v = "red" if (n // ITEMS) % 2 else "blue"
            doc |= {"variant_id": v, "variant_label": {"red": "紅", "blue": "藍"}[v]}
        docs.append(doc)
    repository.insert_many(docs)
    return token, made


def timed(fn):
    LISTENER.names.clear()
    start = time.perf_counter()
    r = fn()
    return r, time.perf_counter() - start, list(LISTENER.names)


def one_run(api) -> dict:
    token, made = shop(api)
    base = f"/batches/{quote(BATCH)}"
    out = {}
    r, out["list"], out["list_names"] = timed(lambda: api.get(f"{base}/shopping-list", token=token))
    assert r.status == 200 and r.json["totals"]["wanted"] == ORDERS, r
    lines = {(x["item_id"], x["variant_id"]): x for x in r.json["lines"]}
    assert len(lines) == ITEMS // 2 * 3, len(lines)
    odd = made[1]["id"]  # an item without variants: 50 orders
    wanted = lines[(odd, None)]["wanted"]
    body = {"item_id": odd, "quantity": wanted, "unit_cost": 1990, "cost_currency": "JPY"}
    r, out["cover"], out["cover_names"] = timed(lambda: api.post(f"{base}/purchases", body, token=token))
    assert r.status == 201 and len(r.json["purchased"]) == wanted, r
    out["cover_orders"] = wanted
    short = made[3]["id"]
    half = lines[(short, None)]["wanted"] // 2
    r = api.post(f"{base}/purchases", {"item_id": short, "quantity": half}, token=token)
    assert r.status == 201 and r.json["purchased"] == [], r
    keep = {"item_id": short, "keep": "first_ordered"}
    r, out["shortage"], out["shortage_names"] = timed(
        lambda: api.post(f"{base}/shortages", keep, token=token)
    )
    assert r.status == 201 and len(r.json["kept"]) == half, r
    out["shortage_orders"] = len(r.json["kept"]) + len(r.json["cancelled"])
    return out


def main() -> None:
    bench_cli(
        "bench_shopping",
        one_run,
        lambda last: (
            f"list {last['list']:.2f} s ({len(last['list_names'])} commands), "
            f"cover {last['cover_orders']} {last['cover']:.2f} s ({len(last['cover_names'])}), "
            f"shortage {last['shortage_orders']} {last['shortage']:.2f} s ({len(last['shortage_names'])})"
        ),
        render,
        counted=("shortage_names",),
    )


def render(runs: list[dict], kind: str, args) -> str:
    server = server_name(kind)

    def p50(key):
        return harness.p50(runs, key)

    def count(key):
        return p50_count(runs, key)

    lines = [
        f"### The shopping trip on {server}",
        "",
        f"`bench/bench_shopping.py{' --mongo-java' if kind == 'mongo-java' else ''}`, medians of {args.runs} runs: "
        f"{ORDERS:,} pending orders in one batch, {ITEMS} items (half in 2 variants: 60 lines), {BUYERS} buyers.",
        "",
        "| GET shopping-list | its commands | purchase covering a line (orders) | its commands "
        "| shortage first ordered (orders) | its commands |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {p50('list'):.2f} s | {count('list'):.0f} | {p50('cover'):.2f} s ({runs[0]['cover_orders']}) "
        f"| {count('cover'):.0f} | {p50('shortage'):.2f} s ({runs[0]['shortage_orders']}) | {count('shortage'):.0f} |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
