"""Benchmark: a notice to a batch (issue 29: "a notice to a batch of 300 buyers is prepared
within 2 s locally; commands per buyer on the MongoDB path").

    .venv/bin/python bench/bench_notices.py                  # FerretDB, as `make run` starts it
    .venv/bin/python bench/bench_notices.py --mongo-java     # mongo-java-server (MongoDB paths)

Starts its own server as bench/bench_statements.py does. Each run is a new seller with 300
buyers, each with two orders in the batch and one in another, a third of them with a part
paid, every tenth with an open charge. Timed through the route (chalice.test's gateway, as
the page calls it): the first POST /batches/{name}/notices (every buyer's seller link made
then), a second one (the links exist: the usual case) and GET .../notices. No mail is set
up (no SES sender), so this is the preparing: what the seller waits for. Counts the
database commands of both POSTs. `--write` puts the table into docs/performance.md.
"""

from __future__ import annotations

import os
import time
import uuid
from urllib.parse import quote

import harness
from harness import COMMANDS as LISTENER
from harness import bench_cli, p50_count, server_name

BUYERS = 300
BATCH = "2026-12 東京"

# Preparing only: no mail is sent or written.
os.environ.pop("SES_SENDER", None)
os.environ.pop("MAIL_OUTBOX", None)


def shop(api) -> str:
    from bson import ObjectId

    from chalicelib.accounts import auth
    from chalicelib.money import charges, payments
    from chalicelib.money.schemas import PaymentIn
    from chalicelib.sales import orders
    from chalicelib.sales.schemas import OrderIn

    token = api.signup(email=f"bench-{uuid.uuid4().hex[:8]}@example.com")
    api.patch("/auth/me", {"payment_instructions": "台新銀行 (812) 1234-567-890"}, token=token)
    who = auth.authenticate(f"Bearer {token}")
    for i in range(BUYERS):
        contact = {"buyer_email": f"buyer{i}@example.com"}
        o, _ = orders.create(
            who,
            OrderIn(
                **contact, buyer_name=f"買家{i}", item_name="抹茶", quantity=2, unit_price=300, batch=BATCH
            ),
        )
        cid = o["customer_id"]
        orders.create(
            who, OrderIn(customer_id=cid, item_name="東京ばな奈", quantity=1, unit_price=450, batch=BATCH)
        )
        orders.create(
            who, OrderIn(customer_id=cid, item_name="Older", quantity=1, unit_price=100, batch="2026-11 首爾")
        )
        if i % 3 == 0:
            payments.record(who, PaymentIn(customer_id=cid, amount=500, method="cash"))
        if i % 10 == 0:
            charges.add(ObjectId(who.seller_id), charges.AddCharge(ObjectId(cid), 6000, "shipping"))
    return token


def one_run(api) -> dict:
    token = shop(api)
    path = f"/batches/{quote(BATCH)}/notices"
    out = {}
    for name in ("first", "second"):
        LISTENER.names.clear()
        start = time.perf_counter()
        r = api.post(path, {"kind": "payment_due", "message": "週五前匯款，謝謝！"}, token=token)
        out[name] = time.perf_counter() - start
        out[f"{name}_names"] = list(LISTENER.names)
        assert r.status == 201, r
        assert r.json["counts"]["recipients"] == BUYERS, r.json["counts"]
    start = time.perf_counter()
    r = api.get(path, token=token)
    out["list"] = time.perf_counter() - start
    assert r.status == 200 and len(r.json["items"]) == 2
    return out


def main() -> None:
    bench_cli(
        "bench_notices",
        one_run,
        lambda last: (
            f"first {last['first']:.2f} s ({len(last['first_names'])} commands), "
            f"second {last['second']:.2f} s ({len(last['second_names'])} commands), list {last['list']:.2f} s"
        ),
        render,
        counted=("second_names",),
    )


def render(runs: list[dict], kind: str, args) -> str:
    server = server_name(kind)

    def p50(key):
        return harness.p50(runs, key)

    def count(key):
        return p50_count(runs, key)

    lines = [
        f"### Batch notices on {server}",
        "",
        f"`bench/bench_notices.py{' --mongo-java' if kind == 'mongo-java' else ''}`, medians of {args.runs} runs: "
        f"{BUYERS} buyers, 2 orders each in the batch and 1 in another, a third part paid, a tenth with a charge.",
        "",
        "| first notice (links made) | its commands | per buyer | next notice | its commands | per buyer | GET notices (2 × 300) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {p50('first'):.2f} s | {count('first'):.0f} | {count('first') / BUYERS:.2f} "
        f"| {p50('second'):.2f} s | {count('second'):.0f} | {count('second') / BUYERS:.2f} | {p50('list'):.2f} s |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
