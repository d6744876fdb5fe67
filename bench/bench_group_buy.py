"""Benchmark: a group buy's waitlist and reminders (issue 29).

    .venv/bin/python bench/bench_group_buy.py                  # FerretDB, as `make run` starts it
    .venv/bin/python bench/bench_group_buy.py --mongo-java     # mongo-java-server (MongoDB paths)

Starts its own server as bench/bench_notices.py does. Each run is a new seller with:
- a sold-out item on a form and 50 buyers on its waitlist (1 unit each, half LINE-only);
  the seller's `PATCH /items/{id} {"stock": 50}` through the route serves all 50 (the
  StockReturned handler runs in the request, as in the API): its time and commands;
- a form of 300 buyers who asked for reminders (`remind: true`, one submission each, by
  email): `closing.send_due_reminders` "closing soon" (time, commands), then the close
  and the "payment due" run three days later.
Mail goes to an in-memory adapter that is always ready (the SES round trip, ~50-100 ms a
message in ap-northeast-1, is not counted: what is counted is our work around it).
`--write` puts the table into docs/performance.md.
"""

from __future__ import annotations

import collections
import datetime as dt
import time
import uuid

import harness
from harness import COMMANDS as LISTENER
from harness import bench_cli, p50_count, server_name

WAITING = 50
BUYERS = 300


class MemoryMail:
    def __init__(self):
        self.sent = []

    def ready(self) -> bool:
        return True

    def send(self, email) -> str:
        self.sent.append(email)
        return str(len(self.sent))


def waitlist_serve(api, mail: MemoryMail) -> dict:
    from chalicelib.sales import waitlist
    from chalicelib.sales.schemas import WaitlistIn

    token = api.signup(email=f"bench-{uuid.uuid4().hex[:8]}@example.com")
    item = api.post("/items", {"item_name": "Pocky 抹茶", "price": 120, "stock": 0}, token=token).json
    form = api.post(
        "/forms",
        {"batch": "2026-12 東京", "title": "候補", "items": [{"item_id": item["id"]}], "contact": "any"},
        token=token,
    ).json
    form_token = form["url"].split("#")[1]
    for i in range(WAITING):
        contact = {"email": f"w{i}@example.com"} if i % 2 == 0 else {"line_id": f"w_line_{i}"}
        data = WaitlistIn(name=f"候補{i}", item_id=item["id"], quantity=1, **contact)
        waitlist.join(form_token, data, client=f"10.0.{i // 250}.{i % 250}")
    mail.sent.clear()
    LISTENER.names.clear()
    start = time.perf_counter()
    r = api.patch(f"/items/{item['id']}", {"stock": WAITING}, token=token)
    took = time.perf_counter() - start
    names = list(LISTENER.names)
    assert r.status == 200, r.json
    rows = api.get(f"/forms/{form['id']}/waitlist", token=token).json["items"]
    assert [e["status"] for e in rows] == ["served"] * WAITING, collections.Counter(e["status"] for e in rows)
    assert len(mail.sent) == WAITING // 2, len(mail.sent)
    return {"serve": took, "serve_names": names}


def reminders(api, mail: MemoryMail) -> dict:
    from chalicelib.sales import closing, forms
    from chalicelib.sales.schemas import FormOrderIn

    token = api.signup(email=f"bench-{uuid.uuid4().hex[:8]}@example.com")
    item = api.post("/items", {"item_name": "東京ばな奈", "price": 450}, token=token).json
    closes = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    form = api.post(
        "/forms",
        {
            "batch": "2026-12 東京",
            "title": "提醒",
            "items": [{"item_id": item["id"]}],
            "closes_at": closes.isoformat(),
        },
        token=token,
    ).json
    form_token = form["url"].split("#")[1]
    for i in range(BUYERS):
        data = FormOrderIn(
            name=f"買家{i}",
            email=f"b{i}@example.com",
            lines=[{"item_id": item["id"], "quantity": 1}],
            remind=True,
        )
        forms.submit(form_token, data, client=f"10.1.{i // 250}.{i % 250}", idempotency_key=None)
    out = {}
    runs = {
        "soon": closes - dt.timedelta(hours=12),
        "due": closes + dt.timedelta(minutes=1) + closing.DUE_AFTER,
    }
    for name, now in runs.items():
        if name == "due":
            closing.close_due_forms(closes + dt.timedelta(minutes=1))
        mail.sent.clear()
        LISTENER.names.clear()
        start = time.perf_counter()
        done = closing.send_due_reminders(now)
        out[name] = time.perf_counter() - start
        out[f"{name}_names"] = list(LISTENER.names)
        assert sum(done.values()) >= 1, done
        assert len(mail.sent) == BUYERS, (name, len(mail.sent))
    return out


def main() -> None:
    from chalicelib.platform import mailer

    mail = MemoryMail()
    mailer.DEFAULT = mail  # the handlers' default adapter
    bench_cli(
        "bench_group_buy",
        lambda api: {**waitlist_serve(api, mail), **reminders(api, mail)},
        lambda last: (
            f"serve {last['serve']:.2f} s ({len(last['serve_names'])} commands), "
            f"soon {last['soon']:.2f} s ({len(last['soon_names'])}), due {last['due']:.2f} s ({len(last['due_names'])})"
        ),
        render,
        counted=("serve_names", "soon_names", "due_names"),
    )


def render(runs: list[dict], kind: str, args) -> str:
    server = server_name(kind)

    def p50(key):
        return harness.p50(runs, key)

    def count(key):
        return p50_count(runs, key)

    lines = [
        f"### Waitlist and reminders on {server}",
        "",
        f"`bench/bench_group_buy.py{' --mongo-java' if kind == 'mongo-java' else ''}`, medians of {args.runs} runs: "
        f"{WAITING} waiting buyers (half by email) served by one stock PATCH; a form of {BUYERS} buyers who asked "
        "for reminders (mail in memory: the SES round trip not counted).",
        "",
        "| | time | commands | per buyer |",
        "|---|---:|---:|---:|",
        f"| serve {WAITING} (PATCH /items) | {p50('serve'):.2f} s | {count('serve'):.0f} | {count('serve') / WAITING:.1f} |",
        f"| closing soon, {BUYERS} buyers | {p50('soon'):.2f} s | {count('soon'):.0f} | {count('soon') / BUYERS:.1f} |",
        f"| payment due, {BUYERS} buyers | {p50('due'):.2f} s | {count('due'):.0f} | {count('due') / BUYERS:.1f} |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
