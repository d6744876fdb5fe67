"""`make demo`: load a sample 代購 shop into a running local stack, through the HTTP API.

A seller to log in as, 10 buyers, 8 Japanese and Korean items priced in TWD, three shopping
trips and 80 orders in every fulfillment and payment state, made the way the seller page
makes them: POST /orders, then PATCH and POST /orders/bulk to move them along.

    .venv/bin/python scripts/demo.py [--api URL] [--site URL] [--new]

Defaults follow `make run`: http://127.0.0.1:$API_PORT (8000) and :$SITE_PORT (8080).
Running it again finds the demo seller and leaves the shop as it is; --new adds another
demo seller (demo+2@example.com, ...) with a fresh copy of the shop. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

EMAIL = "demo@example.com"
PASSWORD = "tokyo-seoul-osaka-2026"  # noqa: S105 (a local demo account, printed on purpose)
SHOP_NAME = "小林代購 Kobayashi Picks"

BUYERS = [
    (
        "陳怡君",
        "yijun.chen@example.com",
        "0912-345-678",
        "台北市大安區忠孝東路四段 100 號 5 樓",
        "LINE: yijun_c",
    ),
    ("林志豪", "chihao.lin@example.com", "0928-111-532", "新北市板橋區文化路一段 25 號", "LINE: haohao88"),
    (
        "黃詩涵",
        "shihan.huang@example.com",
        "0955-204-317",
        "台中市西屯區台灣大道三段 99 號 12 樓",
        "IG: @shihan.h",
    ),
    ("張家瑋", "chiawei.chang@example.com", "0933-870-046", "高雄市苓雅區四維三路 6 號", "LINE: chiawei"),
    ("李雅婷", "yating.lee@example.com", "0987-652-190", "台南市東區大學路 1 號", "IG: @yating_lee"),
    ("王冠宇", "kuanyu.wang@example.com", "0916-443-208", "桃園市中壢區中大路 300 號", "LINE: kywang"),
    ("吳佩珊", "peishan.wu@example.com", "0972-018-664", "新竹市東區光復路二段 101 號", "LINE: peishan.wu"),
    ("劉承恩", "chengen.liu@example.com", "0920-775-341", "台北市信義區松仁路 58 號", "FB: 劉承恩"),
    ("蔡宜蓁", "yichen.tsai@example.com", "0958-330-127", "宜蘭縣羅東鎮公正路 88 號", "IG: @yichen.tsai"),
    ("許博翔", "pohsiang.hsu@example.com", "0937-506-982", "嘉義市西區民族路 420 號", "LINE: bohsiang"),
]

# (name, price in TWD, stock or None when not tracked, where it is bought, note, cost of
# one unit in yen or won; None: not known yet, so the profit report counts it as missing)
ITEMS = [
    ("東京ばな奈 香蕉蛋糕 8 入", 420, 60, "jp", "羽田機場限定包裝", 1188),
    ("白色戀人 12 枚", 520, 48, "jp", None, 1620),
    ("合利他命 EX Plus 270 錠", 1850, 24, "jp", "藥妝店,每人限購 2", 6980),
    ("Pokémon Center 大阪限定 皮卡丘娃娃", 980, 36, "jp", None, 3300),
    ("無印良品 超音波香氛機", 1390, None, "jp", "現場看貨再買", None),
    ("雪花秀 潤燥精華 60ml", 2650, 20, "kr", "免稅店", 85000),
    ("Mediheal 面膜 10 入", 390, 80, "kr", "Olive Young", 12900),
    ("Gentle Monster 墨鏡", 8900, None, "kr", "依款式報價", 289000),
]
CURRENCY = {"jp": "JPY", "kr": "KRW"}
# Exchange rates into TWD per trip; 大阪 has none yet, so its orders show "no rate".
RATES = {"2026-12 東京": {"JPY": "0.2115"}, "2026-12 首爾": {"KRW": "0.0236"}}

# Trip name, where, and how many orders end in each fulfillment state (80 in all): the
# earliest trip is mostly delivered, the next one being bought and shipped, the last one open.
BATCHES = [
    ("2026-12 東京", "jp", {"delivered": 12, "shipped": 8, "purchased": 6, "cancelled": 2}),
    ("2026-12 首爾", "kr", {"delivered": 2, "shipped": 4, "purchased": 12, "pending": 6, "cancelled": 3}),
    ("2027-01 大阪", "jp", {"purchased": 3, "pending": 20, "cancelled": 2}),
]
CARRIERS = ["7-11 交貨便", "黑貓宅急便", "中華郵政", "全家店到店"]


class ApiError(Exception):
    pass


class Api:
    def __init__(self, base: str):
        if not base.startswith(("http://", "https://")):
            raise SystemExit(f"--api must be an http:// or https:// URL, not {base!r}")
        self.base = base.rstrip("/")
        self.token: str | None = None

    def call(self, method: str, path: str, body=None, headers: dict | None = None):
        h = {"Content-Type": "application/json", **(headers or {})}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 (http(s) only, see __init__)
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw) if raw else None
            except ValueError:
                return exc.code, None

    def ok(self, method: str, path: str, body=None, headers: dict | None = None):
        status, resp = self.call(method, path, body, headers)
        if status not in (200, 201):
            raise ApiError(f"{method} {path} answered {status}: {json.dumps(resp, ensure_ascii=False)}")
        return resp

    def all(self, path: str) -> list[dict]:
        out, cursor = [], None
        sep = "&" if "?" in path else "?"
        while True:
            page = self.ok("GET", f"{path}{sep}limit=200" + (f"&cursor={cursor}" if cursor else ""))
            out += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return out


def log_in(api: Api, email: str) -> str:
    """'new' when the seller was just made, 'existing' when it was there already."""
    status, resp = api.call(
        "POST", "/auth/signup", {"email": email, "password": PASSWORD, "shop_name": SHOP_NAME}
    )
    if status == 201:
        api.token = resp["token"]
        return "new"
    if status == 403:
        raise ApiError(
            "Signup is closed on this API (ALLOW_SIGNUP=false). Create the seller with\n"
            f"  SELLER_PASSWORD='{PASSWORD}' .venv/bin/python -m chalicelib.manage create-seller "
            f"--email {email} --shop-name '{SHOP_NAME}'\nand run the demo again."
        )
    if status != 409:
        raise ApiError(f"POST /auth/signup answered {status}: {resp}")
    status, resp = api.call("POST", "/auth/login", {"email": email, "password": PASSWORD})
    if status != 200:
        raise ApiError(
            f"{email} exists but does not take the demo password (login answered {status}).\n"
            "Run `.venv/bin/python scripts/demo.py --new` for another demo seller."
        )
    api.token = resp["token"]
    return "existing"


def next_free_email(api: Api) -> str:
    for n in range(2, 1000):
        email = f"demo+{n}@example.com"
        body = {"email": email, "password": PASSWORD, "shop_name": SHOP_NAME}
        status, resp = api.call("POST", "/auth/signup", body)
        if status == 201:
            api.token = resp["token"]
            return email
        if status != 409:
            raise ApiError(f"POST /auth/signup answered {status}: {resp}")
    raise ApiError("no free demo+N@example.com address left")


def customers(api: Api) -> list[dict]:
    made = []
    for name, email, phone, address, social in BUYERS:
        body = {"name": name, "email": email, "phone": phone, "address": address, "social": social}
        status, resp = api.call("POST", "/customers", body)
        if status == 409:  # a run that stopped half way made this one already
            resp = next(
                c for c in api.all(f"/customers?q={urllib.request.quote(email)}") if c["email"] == email
            )
        elif status != 201:
            raise ApiError(f"POST /customers answered {status}: {resp}")
        made.append(resp)
    return made


def items(api: Api) -> list[tuple[dict, str]]:
    have = {i["item_name"]: i for i in api.all("/items")}
    made = []
    for name, price, stock, origin, note, cost in ITEMS:
        body = {"item_name": name, "price": price, "stock": stock, "note": note}
        if cost is not None:
            body |= {"cost": cost, "cost_currency": CURRENCY[origin]}
        item = have.get(name) or api.ok("POST", "/items", body)
        made.append((item, origin))
    return made


def plan(buyers: list[dict], stock_items: list[tuple[dict, str]]) -> list[dict]:
    """Every order to make, with the state it should end in (deterministic)."""
    rng = random.Random(18)  # noqa: S311 (sample data)
    orders = []
    for batch, origin, states in BATCHES:
        goods = [item for item, where in stock_items if where == origin]
        ends = [state for state, n in states.items() for _ in range(n)]
        rng.shuffle(ends)
        for end in ends:
            item = rng.choice(goods)
            quantity = 1 if item["price"] > 1500 else rng.choice([1, 1, 2, 2, 3])
            if end in ("delivered", "shipped"):
                pay = "remitted" if end == "delivered" or rng.random() < 0.75 else "unpaid"
            elif end == "purchased":
                pay = "remitted" if rng.random() < 0.5 else "unpaid"
            elif end == "pending":
                pay = "remitted" if rng.random() < 0.2 else "unpaid"  # paid up front
            else:
                pay = "refunded" if rng.random() < 0.6 else "unpaid"
            order = {
                "body": {
                    "customer_id": rng.choice(buyers)["id"],
                    "item_id": item["id"],
                    "quantity": quantity,
                    "shipping_fee": rng.choice([0, 60, 60, 100]),
                    "batch": batch,
                },
                "end": end,
                "pay": pay,
            }
            if rng.random() < 0.15:
                order["body"]["note"] = rng.choice(
                    ["要附購買證明", "可以等下一批", "顏色:粉紅", "送禮用,請幫忙包裝"]
                )
            orders.append(order)
    # The stock taken must fit what the items have (cancelled orders give theirs back later).
    need = Counter()
    for o in orders:
        need[o["body"]["item_id"]] += o["body"]["quantity"]
    for item, _ in stock_items:
        if item["stock"] is not None and need[item["id"]] > item["stock"]:
            short = need[item["id"]] - item["stock"]
            raise ApiError(f"the demo plan needs {short} more of {item['item_name']} than in stock")
    return orders


def load(api: Api) -> None:
    api.call("PATCH", "/auth/me", {"language": "zh-Hant"})  # the shop's language; optional
    buyers = customers(api)
    orders = plan(buyers, items(api))

    def create(pair):
        n, order = pair
        # A retried run returns the same order instead of a second one.
        order["order"] = api.ok("POST", "/orders", order["body"], {"Idempotency-Key": f"demo-order-{n}"})

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, enumerate(orders)))

    def bulk(todo: list[dict], **set_):
        if todo:
            resp = api.ok("POST", "/orders/bulk", {"ids": [o["order"]["id"] for o in todo], "set": set_})
            if resp["failed"]:
                raise ApiError(f"bulk {set_} failed for {resp['failed']}")

    today = dt.date.today()
    bulk(
        [o for o in orders if o["end"] in ("purchased", "shipped", "delivered")],
        fulfillment_status="purchased",
    )
    rng = random.Random(2026)  # noqa: S311 (sample data)
    for o in orders:
        if o["end"] in ("shipped", "delivered"):
            days_ago = rng.randint(8, 20) if o["end"] == "delivered" else rng.randint(0, 6)
            api.ok(
                "PATCH",
                f"/orders/{o['order']['id']}",
                {
                    "fulfillment_status": "shipped",
                    "shipped_date": (today - dt.timedelta(days=days_ago)).isoformat(),
                    "carrier": rng.choice(CARRIERS),
                    "tracking_number": str(rng.randint(10**11, 10**12 - 1)),
                },
            )
    bulk([o for o in orders if o["end"] == "delivered"], fulfillment_status="delivered")
    bulk([o for o in orders if o["pay"] in ("remitted", "refunded")], payment_status="remitted")
    for o in orders:
        if o["end"] == "cancelled":
            api.ok("PATCH", f"/orders/{o['order']['id']}", {"fulfillment_status": "cancelled"})
        if o["pay"] == "refunded":
            api.ok("PATCH", f"/orders/{o['order']['id']}", {"payment_status": "refunded"})
    payments(api, [o["order"] for o in orders if o["pay"] == "unpaid" and o["end"] != "cancelled"])
    parcel(api, [o["order"] for o in orders if o["end"] == "purchased"])
    for batch, rates in RATES.items():
        api.ok("PATCH", f"/batches/{quote(batch)}", {"rates": rates})
    api.ok("PATCH", f"/batches/{quote('2026-12 東京')}", {"closed": True, "note": "12/5 回台，帳已結"})


def parcel(api: Api, bought: list[dict]) -> None:
    """One buyer's bought orders packed for 7-ELEVEN pick-up (the Ship tab's usual box)."""
    per_buyer: dict[str, list[dict]] = {}
    for order in bought:
        per_buyer.setdefault(order["customer_id"], []).append(order)
    customer_id, mine = max(per_buyer.items(), key=lambda kv: len(kv[1]))
    body = {
        "customer_id": customer_id,
        "order_ids": [o["id"] for o in mine[:3]],
        "method": "cvs_711",
        "carrier": "7-ELEVEN 交貨便",
        "shipping_fee": 60,
        "recipient": {"name": mine[0]["buyer_name"], "store_name": "7-ELEVEN 信義門市", "store_id": "135061"},
    }
    api.ok("POST", "/parcels", body, {"Idempotency-Key": "demo-parcel-1"})


def payments(api: Api, unpaid: list[dict]) -> None:
    """The shop's bank details, three deposits (訂金: half an order) the seller recorded,
    and two transfers buyers reported from their page, waiting to be confirmed."""
    api.ok(
        "PATCH",
        "/auth/me",
        {"payment_instructions": "玉山銀行 (808) 帳號 0123-4567-89012\nLINE Pay ID: tokyo-seoul-picks"},
    )
    for n, order in enumerate(unpaid[:3]):
        body = {
            "customer_id": order["customer_id"],
            "amount": int(order["total_amount"] // 2),
            "method": "bank_transfer",
            "account_last5": f"{31415 + n * 1111}",
            "order_ids": [order["id"]],
            "note": "訂金",
        }
        api.ok("POST", "/payments", body, {"Idempotency-Key": f"demo-deposit-{n}"})
    for n, order in enumerate(unpaid[3:5]):
        link = api.ok("POST", f"/customers/{order['customer_id']}/tracking-link")["token"]
        body = {"amount": order["total_amount"], "account_last5": f"{27182 + n * 1111}"}
        api.ok("POST", f"/track/{link}/payments", body, {"Idempotency-Key": f"demo-report-{n}"})


def summary(api: Api, email: str, site: str, state: str) -> None:
    orders = api.all("/orders")
    buyers = api.all("/customers")
    goods = api.all("/items")
    batches = sorted({o["batch"] for o in orders if o["batch"]})
    fulfillment = Counter(o["fulfillment_status"] for o in orders)
    payment = Counter(o["payment_status"] for o in orders)
    head = "The demo shop is already loaded" if state == "existing" else "Demo shop loaded"
    print(f"{head}: {SHOP_NAME}")
    print(
        f"  {len(buyers)} buyers, {len(goods)} items, {len(orders)} orders in {len(batches)} batches ({', '.join(batches)})"
    )
    print(
        "  fulfillment: "
        + ", ".join(
            f"{s} {fulfillment[s]}" for s in ("pending", "purchased", "shipped", "delivered", "cancelled")
        )
    )
    print(
        "  payment:     "
        + ", ".join(f"{s} {payment[s]}" for s in ("unpaid", "partial", "remitted", "refunded"))
    )
    print(f"  parcels:     {len(api.all('/parcels'))}")
    to_confirm = api.all("/payments?status=reported")
    print(f"  payments:    {len(api.all('/payments'))}, {len(to_confirm)} reported by buyers to confirm")
    print(f"Log in on the seller page: {site.rstrip('/')}/index.html")
    print(f"  email     {email}")
    print(f"  password  {PASSWORD}")
    if state == "existing":
        print("(`.venv/bin/python scripts/demo.py --new` adds another demo seller with a fresh copy.)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", default=f"http://127.0.0.1:{os.environ.get('API_PORT', '8000')}")
    parser.add_argument("--site", default=f"http://127.0.0.1:{os.environ.get('SITE_PORT', '8080')}")
    parser.add_argument(
        "--new", action="store_true", help="add another demo seller instead of reusing demo@example.com"
    )
    args = parser.parse_args(argv)
    api = Api(args.api)
    try:
        status, health = api.call("GET", "/health")
    except OSError:
        status, health = None, None
    if status != 200:
        print(
            f"No local API answers at {args.api} ({'not running' if status is None else health}).\n"
            "Start it in another terminal with `make run` (same API_PORT), then run `make demo` again.",
            file=sys.stderr,
        )
        return 1
    try:
        if args.new:
            email, state = next_free_email(api), "new"
        else:
            email = EMAIL
            state = log_in(api, email)
            if state == "existing" and not api.ok("GET", "/orders?limit=1")["items"]:
                state = "new"  # made by a run that stopped before its orders: fill it in
        if state == "new":
            print(f"Loading the demo shop into {args.api} as {email} ...", flush=True)
            load(api)
        summary(api, email, args.site, state)
    except ApiError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
