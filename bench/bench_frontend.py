"""Seller page numbers: bytes of the first load (gzip), time to first render of the
orders table with 2,000 orders of one seller and time for a filter change to redraw it, in
Debian's Chromium against `chalice local` on FerretDB, and GET /orders alone (issue 27's
targets: first rows within 500 ms, a filter change within 300 ms).

    .venv/bin/python bench/bench_frontend.py [--orders 2000] [--runs 10] [--baseline DIR]

Two ways of opening the orders tab are timed: a navigation (the page loaded with the tab
open: every module, the session and the tab's requests start then) and a tab switch (the
page already open on Items, as a seller has it during the day: a click on Orders → its
rows). `--baseline DIR` also builds the site of another checkout (e.g. `git archive <commit>
| tar -x -C DIR`, with DIR/node_modules and DIR/.venv linked to this one's) against the same
API and database, and alternates its loads with this one's, one of each in turn: an A/B in
the same minutes on a shared machine. The doc section is written only without it.

Each time is split in parts (issue 27): a filter change into Playwright's delivery of the
choice, the view asking, the request (the app's own time from its Server-Timing header, and
the dev server with loopback), JSON and drawing; a tab switch into asking, request and
drawing; and GET /orders once more in this process, on the same database, into the key
index's parts, the page's reads by `_id`, `to_out` and JSON (server_parts).

Starts its own FerretDB, API and static server on free loopback ports (the same stack as
tests/e2e) and stops them at the end. The static server does not compress, so each
response body is gzip-compressed here (level 6, what CDNs typically use) and summed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.perfdoc import write_section  # noqa: E402
from tests.conftest import FerretDB  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, Stack, add_photo  # noqa: E402


def call(stack: Stack, method: str, path: str, token: str | None = None, body=None, raw=None, ctype=None):
    headers = {"Content-Type": ctype or "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(stack.api_url + path, method=method, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=120) as resp:  # noqa: S310 (loopback)
        return json.loads(resp.read() or b"null")


def seed(stack: Stack, n: int) -> str:
    """A seller with n orders over 25 buyers, written by one CSV import."""
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    token = call(
        stack,
        "POST",
        "/auth/signup",
        body={"email": email, "password": "correct horse 1", "shop_name": "Bench Shop"},
    )["token"]
    lines = ["buyer_email,buyer_name,item_name,quantity,unit_price,payment_status,fulfillment_status,note"]
    for i in range(n):
        b = i % 25
        lines.append(
            f"buyer{b}@example.com,Buyer {b},Item {i % 40},{1 + i % 3},{100 + i % 900}.50,"
            f"{'remitted' if i % 2 else 'unpaid'},{('pending', 'purchased', 'shipped')[i % 3]},note {i}"
        )
    started = time.perf_counter()
    out = call(stack, "POST", "/import/orders", token, raw="\n".join(lines).encode(), ctype="text/csv")
    print(f"seeded {out['created']} orders by CSV import in {time.perf_counter() - started:.1f} s")
    return token


def first_load(browser, stack: Stack, token: str | None) -> dict:
    """Every response of one cold load (fresh context: empty cache), raw and gzip sizes."""
    ctx = browser.new_context(viewport=DESKTOP)
    if token:
        ctx.add_init_script(f"localStorage.setItem('token', {json.dumps(token)})")
    page = ctx.new_page()
    responses = []
    page.on("response", lambda r: responses.append(r))
    page.goto(f"{stack.site_url}/index.html")
    if token:
        page.wait_for_function("() => !!window.__ordersFirstRender")
    else:
        page.locator("#login-form").wait_for()
    page.wait_for_load_state("networkidle")
    sizes = {"static": [0, 0], "api": [0, 0]}
    for r in responses:
        if r.request.method == "OPTIONS" or r.status == 204:
            continue
        body = r.body()
        kind = "api" if r.url.startswith(stack.api_url) else "static"
        sizes[kind][0] += len(body)
        sizes[kind][1] += len(gzip.compress(body, 6))
    files = sorted(
        {r.url.removeprefix(stack.site_url) for r in responses if r.url.startswith(stack.site_url)}
    )
    ctx.close()
    return {"sizes": sizes, "files": files}


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def spread(values: list[float]) -> str:
    return f"p50 {pct(values, 50):.0f} ms, p95 {pct(values, 95):.0f} ms (n = {len(values)})"


def api_times(stack: Stack, token: str, runs: int) -> dict[str, list[float]]:
    """Wall ms of GET /orders as the page asks it (first page of 100, with total_count),
    without and with the payment filter, one after the other over loopback."""
    out: dict[str, list[float]] = {}
    for _ in range(runs):
        for name, query in (("all", "limit=100"), ("unpaid", "limit=100&payment_status=unpaid")):
            started = time.perf_counter()
            call(stack, "GET", f"/orders?{query}", token)
            out.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    return out


def open_orders(browser, url: str, token: str, times: dict, full: list) -> None:
    """One cold load of `url` with the orders tab open: ms from navigation start to the first
    page of orders on screen (and its parts), then a filter change to its rows; "Load more"
    to the end once (`full` empty)."""
    ctx = browser.new_context(viewport=DESKTOP)
    ctx.add_init_script(f"localStorage.setItem('token', {json.dumps(token)})")
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_function("() => !!window.__ordersFirstRender")
    mark = page.evaluate("window.__ordersFirstRender")
    times["first"].append(mark["sinceNavigation"])
    times["fetch"].append(mark["fetchAndRender"])
    times["draw"].append(mark["render"])
    times["rows"] = mark["rows"]
    # When GET /orders left and answered, from navigation start (Resource Timing).
    sent = page.evaluate(
        """() => performance.getEntriesByType('resource')
            .filter((e) => new URL(e.name).pathname === '/orders')
            .map((e) => [e.startTime, e.responseEnd])[0]"""
    )
    times["sent"].append(sent[0])
    times["answered"].append(sent[1])
    # A filter change (payment: unpaid) → its rows drawn. A menu asks at once (since
    # issue 27; typed text waits 300 ms for more typing, which was taken off here).
    seq = page.evaluate("window.__ordersRendered.seq")
    started = page.evaluate("performance.now()")
    page.locator("#order-filters [name=payment_status]").select_option("unpaid")
    page.wait_for_function(f"() => window.__ordersRendered.seq > {seq}")
    times["change"].append(page.evaluate("window.__ordersRendered.at") - started)
    for name, ms in change_parts(page, started).items():
        times.setdefault(f"change_{name}", []).append(ms)
    if not full:
        started = page.evaluate("performance.now()")
        while page.locator("#orders-more").is_visible():
            shown = page.locator("#orders-body tr[data-id]").count()
            page.locator("#orders-more").click()
            page.wait_for_function(
                f"() => document.querySelectorAll('#orders-body tr[data-id]').length > {shown}"
            )
        full.append(page.evaluate("performance.now()") - started)
    ctx.close()


def change_parts(page, clicked: float) -> dict[str, float]:
    """The filter change just timed, split (ms): `deliver` Playwright's select_option until
    the page's input event (the tool, not the page), `ask` from it to the view asking,
    `queue` to the request leaving (Resource Timing), `request` its round trip, of which
    `server` is the app's own time (its Server-Timing header) and `serve` the rest (the dev
    server, loopback), `parse` to the page parsed (JSON), `draw` to its rows in the DOM.
    Parts a site does not mark (a baseline before these marks) are left out."""
    return page.evaluate(
        """(clicked) => {
            const r = window.__ordersRendered;
            const e = performance.getEntriesByType('resource')
                .filter((x) => new URL(x.name).pathname === '/orders'
                    && new URL(x.name).searchParams.get('payment_status') === 'unpaid').pop();
            if (r.started === undefined || !e) return {};
            const out = {deliver: r.changed - clicked, ask: r.started - r.changed, queue: e.startTime - r.started,
                request: e.responseEnd - e.startTime, parse: r.fetched - e.responseEnd,
                draw: r.at - r.fetched};
            const app = (e.serverTiming || []).find((t) => t.name === 'app');
            if (app) {
                out.server = app.duration;
                out.serve = out.request - app.duration;
            }
            return out;
        }""",
        clicked,
    )


CHANGE_PARTS = {
    "deliver": "Playwright delivers the choice",
    "ask": "the view asks",
    "queue": "the request leaves",
    "request": "its round trip",
    "server": "of which the app",
    "serve": "and the dev server and loopback",
    "parse": "JSON parsed",
    "draw": "rows drawn",
}


def switch_split(t: dict) -> str:
    """The tab switch's parts, medians in ms."""
    return (
        f"the view asks {statistics.median(t['switch_ask']):.0f}, request and JSON "
        f"{statistics.median(t['switch_fetch']):.0f}, rows drawn {statistics.median(t['switch_draw']):.0f}"
    )


def change_split(t: dict) -> str:
    """The filter change's parts (change_parts), medians in ms."""
    parts = [
        f"{label} {statistics.median(t[f'change_{name}']):.0f}"
        for name, label in CHANGE_PARTS.items()
        if t.get(f"change_{name}")
    ]
    return ", ".join(parts) or "not marked"


def switch_to_orders(browser, url: str, token: str, times: dict) -> None:
    """The page open on Items and settled (its requests done), then a click on Orders: ms
    from the click to the first page of orders on screen."""
    ctx = browser.new_context(viewport=DESKTOP)
    ctx.add_init_script(f"localStorage.setItem('token', {json.dumps(token)})")
    page = ctx.new_page()
    page.goto(f"{url}?tab=items")
    page.locator("#tab-items").wait_for()
    page.wait_for_load_state("networkidle")
    clicked = page.evaluate(
        "() => { const at = performance.now(); document.querySelector('[data-tab=orders]').click(); return at; }"
    )
    page.wait_for_function("() => !!window.__ordersFirstRender")
    mark = page.evaluate("window.__ordersFirstRender")
    times["switch"].append(mark["sinceNavigation"] - clicked)
    # Its parts: the click to the view asking, the request and JSON, drawing the rows.
    times["switch_ask"].append(mark["sinceNavigation"] - mark["fetchAndRender"] - clicked)
    times["switch_fetch"].append(mark["fetch"])
    times["switch_draw"].append(mark["render"])
    ctx.close()


def render_times(browser, urls: dict[str, str], token: str, runs: int) -> dict[str, dict]:
    """`runs` cold loads and tab switches of each site in `urls`, alternating between them."""
    out = {
        name: {
            k: []
            for k in ("first", "fetch", "draw", "sent", "answered", "change", "switch")
            + ("switch_ask", "switch_fetch", "switch_draw")
        }
        for name in urls
    }
    full: dict[str, list] = {name: [] for name in urls}
    names = list(urls)
    for run in range(runs):
        for name in names if run % 2 == 0 else names[::-1]:
            open_orders(browser, urls[name], token, out[name], full[name])
            switch_to_orders(browser, urls[name], token, out[name])
    for name in urls:
        out[name]["full"] = full[name]
    return out


def server_parts(stack: Stack, token: str, runs: int) -> dict[str, dict[str, list[float]]]:
    """GET /orders as the page asks it, in this process (chalice's test client on the same
    database: no dev server, no network), split in ms: `handler` the whole answer, `marks`
    the key index's check (one read of its marks), `keys` the read of the matching keys
    (find and getMores), `sort` ordering them, `reads` the page's orders read by `_id` (4
    at a time), `to_out` the orders as the API shows them, `json` encoding the answer;
    `keys_db` and `reads_db` are FerretDB's own times of those commands (summed)."""
    from pymongo import MongoClient, monitoring

    from chalicelib.platform import config, db, doc_gate, key_index, store, web
    from chalicelib.sales import orders
    from tests.conftest import Api, local_client

    class Commands(monitoring.CommandListener):
        def __init__(self) -> None:
            self.ms: dict[str, float] = {}

        def started(self, event):
            pass

        def succeeded(self, event):
            coll = event.reply.get("cursor", {}).get("ns", "").split(".", 1)[-1]
            self.ms[coll] = self.ms.get(coll, 0) + event.duration_micros / 1000

        def failed(self, event):
            pass

    for name in ("MONGO_URI", "MONGO_DB", "JWT_SECRET", "CORS_ORIGIN"):
        os.environ[name] = stack.api.env[name]
    config.reset_settings()
    commands = Commands()
    db.reset_client()
    pool = config.get_settings().mongo_pool_size  # as the dev server has it
    db._client = MongoClient(
        stack.api.env["MONGO_URI"], tz_aware=True, maxPoolSize=pool, event_listeners=[commands]
    )
    spent: dict[str, float] = {}
    originals = []

    def timed(owner, name: str, part: str) -> None:
        inner = getattr(owner, name)
        originals.append((owner, name, inner))

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[part] = spent.get(part, 0) + (time.perf_counter() - started) * 1000

        setattr(owner, name, wrapper)

    timed(key_index, "usable", "marks")
    timed(doc_gate, "slim_keys", "slim")
    timed(store, "_mongo_sorted", "sort")
    timed(store.FerretStore, "_page_by_keys", "page")
    timed(orders, "to_out", "to_out")
    timed(web, "json_response", "json")
    out: dict[str, dict[str, list[float]]] = {}
    try:
        with local_client() as client:
            api = Api(client)
            for query in ("limit=100", "limit=100&payment_status=unpaid"):
                api.get(f"/orders?{query}", token=token)  # this process's first list checks the keys
                parts: dict[str, list[float]] = {}
                for _ in range(runs):
                    spent.clear()
                    commands.ms.clear()
                    started = time.perf_counter()
                    answer = api.get(f"/orders?{query}", token=token)
                    assert answer.status == 200, answer
                    measured = {
                        "handler": (time.perf_counter() - started) * 1000,
                        "marks": spent.get("marks", 0),
                        "keys": spent.get("slim", 0) - spent.get("marks", 0),
                        "sort": spent.get("sort", 0),
                        "reads": spent.get("page", 0) - spent.get("sort", 0),
                        "to_out": spent.get("to_out", 0),
                        "json": spent.get("json", 0),
                        "keys_db": commands.ms.get("order_keys", 0),
                        "reads_db": commands.ms.get("orders", 0),
                        "matched": answer.json["total_count"],
                    }
                    for name, ms in measured.items():
                        parts.setdefault(name, []).append(ms)
                out[query] = parts
    finally:
        for owner, name, inner in originals:
            setattr(owner, name, inner)
    return out


def server_line(name: str, parts: dict[str, list[float]]) -> str:
    m = {k: statistics.median(v) for k, v in parts.items()}
    rest = m["handler"] - m["marks"] - m["keys"] - m["sort"] - m["reads"] - m["to_out"] - m["json"]
    return (
        f"{name} ({m['matched']:.0f} orders match, {len(parts['handler'])} runs, medians): the answer "
        f"**{m['handler']:.0f} ms**: the key index's marks {m['marks']:.0f}, the matching keys read "
        f"{m['keys']:.0f} (FerretDB's own {m['keys_db']:.0f}), sorted {m['sort']:.0f}, the page's "
        f"orders read by `_id` {m['reads']:.0f} (FerretDB's own, summed over 4 threads, "
        f"{m['reads_db']:.0f}), `to_out` {m['to_out']:.0f}, JSON {m['json']:.0f}, the rest {rest:.0f}"
    )


def load_average() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def seller_with_photos(stack: Stack, items: int) -> tuple[str, list[str]]:
    """A new seller with `items` items, each with a photo (a phone's 1600x1200 JPEG,
    uploaded as the Items tab does): their token and the items' ids."""
    import io

    from PIL import Image

    token = call(
        stack,
        "POST",
        "/auth/signup",
        body={
            "email": f"photos-{uuid.uuid4().hex[:8]}@example.com",
            "password": "correct horse 1",
            "shop_name": "寫真 Shop",
        },
    )["token"]
    ids = []
    for i in range(items):
        item = call(stack, "POST", "/items", token, body={"item_name": f"Item {i} 商品", "price": 100 + i})
        noise = Image.effect_noise((1600, 1200), 40).convert("RGB")
        photo = io.BytesIO()
        Image.blend(noise, Image.new("RGB", (1600, 1200), (40 * (i % 6), 90, 160)), 0.6).save(
            photo, "JPEG", quality=88
        )
        add_photo(stack, token, item["id"], photo.getvalue())
        ids.append(item["id"])
    return token, ids


def cold_load(browser, stack: Stack, url: str, ready: str) -> dict:
    """One cold load at 375 px: the bytes of its pages (gzip level 9, as the e2e budgets
    count them) and of the small images the browser fetched (lazy: those near the first
    screen only)."""
    ctx = browser.new_context(viewport={"width": 375, "height": 740})
    page = ctx.new_page()
    responses = []
    page.on("response", lambda r: responses.append(r))
    page.goto(url)
    page.locator(ready).first.wait_for()
    page.wait_for_load_state("networkidle")
    pages, images, fetched = 0, 0, 0
    for r in responses:
        path = r.url.split("?")[0]
        if not r.url.startswith(stack.site_url) or r.status != 200:
            continue
        body = r.body()
        if path.endswith((".html", ".js", ".css")):
            pages += len(gzip.compress(body, 9))
        elif path.endswith(".jpg"):
            images += len(body)
            fetched += 1
    ctx.close()
    return {"pages_gzip": pages, "images": images, "images_fetched": fetched}


def form_with_photos(browser, stack: Stack, items: int = 12) -> dict:
    """The buyer's order form (form.html) with `items` items, each with a photo."""
    token, ids = seller_with_photos(stack, items)
    form = call(
        stack,
        "POST",
        "/forms",
        token,
        body={"batch": "B", "title": "Photos", "items": [{"item_id": i} for i in ids]},
    )
    return {"items": items, **cold_load(browser, stack, form["url"], "#of-items .of-item")}


def track_with_photos(browser, stack: Stack, items: int = 12) -> dict:
    """The buyer's tracking page (track.html): one buyer with an order of each item."""
    token, ids = seller_with_photos(stack, items)
    buyer = call(stack, "POST", "/customers", token, body={"name": "林小美", "line_id": "mei_lin"})
    for i in ids:
        call(stack, "POST", "/orders", token, body={"customer_id": buyer["id"], "item_id": i, "quantity": 1})
    url = call(stack, "GET", f"/customers/{buyer['id']}/tracking-link", token)["url"]
    return {"items": items, **cold_load(browser, stack, url, "#orders-view .order-card")}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--baseline", type=Path, help="another checkout whose site is measured alternately")
    parser.add_argument(
        "--photos",
        "--form-photos",
        action="store_true",
        help="only the buyer pages (form, tracking) with photos",
    )
    parser.add_argument(
        "--photo-items", type=int, default=12, help="items (orders) with a photo on each page"
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    if args.photos:
        with tempfile.TemporaryDirectory() as tmp:
            db = FerretDB(Path(tmp) / "ferretdb")
            db.start()
            stack = Stack(db, Path(tmp))
            try:
                stack.start()
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                    outs = {
                        "form.html": (form_with_photos(browser, stack, args.photo_items), 64_000),
                        "track.html": (track_with_photos(browser, stack, args.photo_items), 73_000),
                    }
                    browser.close()
            finally:
                stack.stop()
                db.stop()
        for name, (out, budget) in outs.items():
            print(
                f"{name} at 375 px, {out['items']} items each with a photo: pages {out['pages_gzip']:,} bytes "
                f"gzip (budget {budget:,}; images not counted there) + {out['images_fetched']} of "
                f"{out['items']} small images fetched (lazy) {out['images']:,} bytes = "
                f"{out['pages_gzip'] + out['images']:,} bytes"
            )
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        db = FerretDB(Path(tmp) / "ferretdb")
        db.start()
        stack = Stack(db, Path(tmp))
        stack.api.env["SERVER_TIMING"] = "1"  # the app's own time on each answer (off by default)
        try:
            stack.start()
            token = seed(stack, args.orders)
            db.indexes()  # the local GIN indexes, as `make run` creates them
            urls = {"this": f"{stack.site_url}/index.html"}
            if args.baseline:
                subprocess.run(
                    [str(args.baseline / "scripts/build-site.sh")],
                    cwd=args.baseline,
                    env={**os.environ, "API_URL": stack.api_url, "SITE_DIST": str(stack.dist / "baseline")},
                    check=True,
                )
                urls["baseline"] = f"{stack.site_url}/baseline/index.html"
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                cold = first_load(browser, stack, None)
                warm = first_load(browser, stack, token)
                load_before = load_average()
                timed = render_times(browser, urls, token, args.runs)
                load_after = load_average()
                browser.close()
            api = api_times(stack, token, args.runs)
            load_api = load_average()
            server = server_parts(stack, token, args.runs)
        finally:
            stack.stop()
            db.stop()

    loads = f"load average {load_before} → {load_after}, API alone at {load_api}"
    servers = [
        server_line("`GET /orders?limit=100`", server["limit=100"]),
        server_line("with `payment_status=unpaid`", server["limit=100&payment_status=unpaid"]),
    ]
    if args.baseline:
        for name, t in timed.items():
            print(
                f"{name}: navigation {spread(t['first'])}; tab switch {spread(t['switch'])} ({switch_split(t)}); "
                f"filter change {spread(t['change'])} ({change_split(t)}); GET /orders left at median "
                f"{statistics.median(t['sent']):.0f} ms, answered at {statistics.median(t['answered']):.0f} ms; "
                f"drawing median {statistics.median(t['draw']):.0f} ms"
            )
        print(f"GET /orders alone: {spread(api['all'])}; unpaid {spread(api['unpaid'])}; {loads}")
        print("In process: " + "; ".join(servers))
        return 0
    t = timed["this"]
    first, change, full = t["first"], t["change"], t["full"]
    s_raw, s_gz = cold["sizes"]["static"]
    ws_raw, ws_gz = warm["sizes"]["static"]
    a_raw, a_gz = warm["sizes"]["api"]
    lines = [
        "## Pages",
        "",
        "Measured by `bench/bench_frontend.py`: Debian's Chromium (headless, Playwright) against",
        "`chalice local` on FerretDB and the built site served by `python -m http.server`; sizes",
        f"are the gzip-compressed (level 6) bodies of every response the page loaded ({loads}).",
        "",
        f"- Seller page, first load (login screen, empty cache): {len(cold['files'])} files, "
        f"{s_raw / 1024:.1f} KiB raw, **{s_gz / 1024:.1f} KiB gzip**: {', '.join(cold['files'])}.",
        f"- Logged in with {args.orders} orders (first page of orders, buyers and items): "
        f"{ws_gz / 1024:.1f} KiB static + {a_gz / 1024:.1f} KiB API JSON (raw {a_raw / 1024:.1f} KiB) "
        f"= **{(ws_gz + a_gz) / 1024:.1f} KiB gzip**.",
        f"- Time to first render of the orders table after a navigation ({t['rows']} rows shown of "
        f"{args.orders}), {args.runs} cold loads: **{spread(first)}** (min {min(first):.0f}); `GET /orders` "
        f"left at median {statistics.median(t['sent']):.0f} ms and was answered at "
        f"{statistics.median(t['answered']):.0f} ms after navigation start; drawing the rows: median "
        f"{statistics.median(t['draw']):.0f} ms.",
        f"- Opening the Orders tab from Items (the page loaded and settled, a click on Orders → its "
        f"first rows on screen), {args.runs} runs: **{spread(t['switch'])}** (min {min(t['switch']):.0f}); "
        f"its parts, medians: {switch_split(t)}.",
        f"- A filter change (payment: unpaid, {args.orders // 2} orders) to its rows on screen: "
        f"**{spread(change)}** (min {min(change):.0f}); its parts, medians: {change_split(t)}.",
        f"- `GET /orders?limit=100` (the page's first request, with `total_count`), wall time over "
        f"loopback: {spread(api['all'])}; with `payment_status=unpaid`: {spread(api['unpaid'])}.",
        f"- The server's part, in the bench's process (chalice's test client on the same database): {servers[0]}.",
        f"- {servers[1][0].upper()}{servers[1][1:]}.",
        f"- All {args.orders // 2} unpaid orders on screen by 'Load more' from the filter's first page "
        f"(1 run): {full[0]:.0f} ms.",
    ]
    text = "\n".join(lines)
    print(text)
    write_section("bench_frontend", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
