"""Benchmark: reconciliation (issue 28: "a statement of 300 rows with 250 matchable
transfers is proposed in under 2 s locally, and confirming them all keeps the payment
ledger invariant").

    .venv/bin/python bench/bench_statements.py                  # FerretDB, as `make run` starts it
    .venv/bin/python bench/bench_statements.py --mongo-java     # mongo-java-server (MongoDB paths)

Starts its own server (bench/harness.py). Each run is a new seller with 250
buyers who owe an order each: 150 of them reported their transfer (amount and last five
digits, a day before the bank's date), 100 did not. The bank's Big5 CSV
(tests/statement_files.py) has 300 incoming rows: those 250 transfers and 50 nobody's,
plus its withdrawals. Timed through the routes (chalice.test's gateway, as the page calls
them): POST /statements (upload and proposals), GET /statements/{id}, and ONE
POST /statements/{id}/apply of every proposed row's best proposal (the page's "confirm
all"). Counts the database commands of the upload, and checks every run: 250 proposed
(150 of them confident), 250 applied, the ledger invariant (tests/integration/
payment_ledger.check_ledger). `--write` puts the table into docs/performance.md.
"""

from __future__ import annotations

import statistics
import time
import uuid

import harness
from harness import COMMANDS as LISTENER
from harness import bench_cli, server_name

REPORTED, OWING, NOBODY = 150, 100, 50


def shop(api) -> tuple[str, bytes]:
    """A new seller, its 250 buyers (150 reported), and the bank's statement."""
    from bson import ObjectId
    from statement_files import statement_csv

    from chalicelib.accounts import auth
    from chalicelib.money import payments
    from chalicelib.money.schemas import BuyerPaymentIn
    from chalicelib.sales import orders
    from chalicelib.sales.schemas import OrderIn

    token = api.signup(email=f"bench-{uuid.uuid4().hex[:8]}@example.com")
    who = auth.authenticate(f"Bearer {token}")
    rows = []
    for i in range(REPORTED + OWING):
        amount = 1000 + 7 * i
        o, _ = orders.create(
            who, OrderIn(buyer_email=f"buyer{i}@example.com", item_name="抹茶", quantity=1, unit_price=amount)
        )
        last5 = f"{10000 + i:05d}"
        day = 1 + i % 25
        if i < REPORTED:
            link = {
                "_id": ObjectId(),
                "seller_id": ObjectId(who.seller_id),
                "customer_id": ObjectId(o["customer_id"]),
            }
            paid = BuyerPaymentIn(
                amount=amount,
                paid_at=f"2026-11-{day + 1:02d}" if day < 29 else "2026-11-29",
                account_last5=last5,
            )
            payments.report(link, paid, who.timezone)
        rows.append(
            {
                "date": f"2026/11/{day + 2:02d}",
                "deposit": f"{amount:,}",
                "memo": "跨行轉入",
                "account": f"822-****{last5}",
            }
        )
        if i % 5 == 0:
            rows.append({"date": f"2026/11/{day + 2:02d}", "withdrawal": "500", "memo": "ATM提款"})
    for i in range(NOBODY):
        rows.append({"date": "2026/11/28", "deposit": f"{77 + i:,}", "memo": "利息", "account": ""})
    return token, statement_csv(rows)


def one_run(api) -> dict:
    from payment_ledger import check_ledger

    token, data = shop(api)
    t = {"token": token, "headers": {"Content-Type": "application/octet-stream"}}
    LISTENER.names.clear()
    start = time.perf_counter()
    r = api.call("POST", "/statements?filename=nov.csv", raw=data, **t)
    upload = time.perf_counter() - start
    assert r.status == 201, r
    commands = list(LISTENER.names)
    st = r.json
    assert st["row_count"] == REPORTED + OWING + NOBODY, st["row_count"]
    assert st["counts"]["proposed"] == REPORTED + OWING, st["counts"]
    confident = sum(r["confident"] for r in st["rows"])
    assert confident >= REPORTED, confident
    start = time.perf_counter()
    assert api.get(f"/statements/{st['id']}", token=token).status == 200
    read = time.perf_counter() - start
    picks = [
        {
            "row": r["row"],
            **{k: v for k, v in r["proposals"][0].items() if k in ("customer_id", "payment_id")},
        }
        for r in st["rows"]
        if r["status"] == "proposed"
    ]
    LISTENER.names.clear()
    start = time.perf_counter()
    r = api.post(f"/statements/{st['id']}/apply", {"rows": picks}, token=token)
    confirm = time.perf_counter() - start
    confirm_commands = list(LISTENER.names)
    assert r.status == 200 and len(r.json["applied"]) == REPORTED + OWING and not r.json["failed"], r.json
    check_ledger()
    return {
        "upload": upload,
        "read": read,
        "confirm": confirm,
        "commands": len(commands),
        "confident": confident,
        "names": commands,
        "confirm_commands": confirm_commands,
    }


def main() -> None:
    bench_cli(
        "bench_statements",
        one_run,
        lambda last: (
            f"upload {last['upload']:.2f} s, read {last['read']:.2f} s, confirm all {last['confirm']:.2f} s, "
            f"{last['commands']} commands ({', '.join(sorted(set(last['names'])))})"
        ),
        render,
        counted=("confirm_commands",),
    )


def render(runs: list[dict], kind: str, args) -> str:
    server = server_name(kind)

    def p50(key):
        return harness.p50(runs, key)

    lines = [
        f"### Reconciliation on {server}",
        "",
        f"`bench/bench_statements.py{' --mongo-java' if kind == 'mongo-java' else ''}`, medians of {args.runs} runs: "
        f"300 incoming rows ({REPORTED} reported transfers, {OWING} balances, {NOBODY} nobody's), "
        f"{statistics.median(r['confident'] for r in runs):.0f} confident.",
        "",
        "| upload + proposals | DB commands (upload) | GET statement | confirm all 250 (one request) | commands per row confirmed |",
        "|---:|---:|---:|---:|---:|",
        f"| {p50('upload'):.2f} s | {p50('commands'):.0f} | {p50('read'):.2f} s | {p50('confirm'):.2f} s "
        f"| {statistics.median(len(r['confirm_commands']) for r in runs) / (REPORTED + OWING):.1f} |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
