"""`make run` holds under a working day's writes, and stops cleanly.

Starts the real `scripts/run-local.sh` (as `make run` does) on free ports, with its data
directory inside the project folder like `.data/` (so a file watcher on the project would
be caught restarting the API), drives a few hundred writes over HTTP from several threads,
reads every effect back, and then checks that one SIGTERM to the script stops FerretDB,
the API and the page server. The demo loader (`make demo`) runs against the same stack.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "run-local.sh"

# Settings the test session puts in os.environ (conftest, the `backend` fixture) that must not
# leak into the stack: run-local.sh chooses them the way `make run` does on a fresh shell.
APP_ENV = (
    "MONGO_URI",
    "MONGO_DB",
    "JWT_SECRET",
    "ALLOW_SIGNUP",
    "PUBLIC_SITE_URL",
    "CORS_ORIGIN",
    "SES_SENDER",
    "MAIL_OUTBOX",
    "MONGO_TIMEOUT_MS",
    "TOKEN_TTL_SECONDS",
    "API_PORT",
    "SITE_PORT",
    "DB_PORT",
    "FERRETDB_PORT",
    "DATA_DIR",
    "DB_DATA",
    "SITE_DIST",
    "PHOTO_BUCKET",
    "BLOB_DIR",
    "BLOB_URL",
    "BLOB_UPLOAD_URL",
)


def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def process_alive(pid: int) -> bool:
    """Running, not a zombie (an orphaned postmaster may wait for a reaper that never comes)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


class ConnectionFailed(Exception):
    """No HTTP answer at all: refused, reset, or closed before a status line."""


def http(method: str, url: str, body=None, token: str | None = None, timeout: float = 30):
    """One request; returns (status, parsed JSON or None). Raises ConnectionFailed."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw) if raw else None
        except ValueError:
            return exc.code, raw.decode(errors="replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
        raise ConnectionFailed(repr(exc)) from exc


def group_members(pgid: int) -> list[str]:
    """Live (non-zombie) processes of a process group, as 'pid name' strings."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            found.append(f"{entry.name} {name}")
    return found


class LocalStack:
    """scripts/run-local.sh in its own process group, on free ports and its own data dir."""

    def __init__(self, script: Path = SCRIPT, args: tuple[str, ...] = ()):
        self.script = script
        self.args = args
        (ROOT / ".cache").mkdir(exist_ok=True)
        self.data_dir = Path(tempfile.mkdtemp(prefix="make-run-", dir=ROOT / ".cache"))
        self.api_port, self.site_port, self.db_port = free_ports(3)
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.site_url = f"http://127.0.0.1:{self.site_port}"
        env = {k: v for k, v in os.environ.items() if k not in APP_ENV and not k.endswith("_SSM_PARAM")}
        self.env = {
            **env,
            "API_PORT": str(self.api_port),
            "SITE_PORT": str(self.site_port),
            # The README's name for it; run-local.sh passes it on to scripts/db.sh as DB_PORT.
            "FERRETDB_PORT": str(self.db_port),
            "DATA_DIR": str(self.data_dir),
            "SITE_DIST": str(self.data_dir / "site"),
        }
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> None:
        log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["bash", str(self.script), *self.args],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.time() + timeout
        while True:
            try:
                status, body = http("GET", self.api_url + "/health", timeout=2)
                if status == 200 and body == {"status": "ok", "db": "ok"}:
                    return
            except ConnectionFailed:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"run-local.sh did not come up:\n{self.output()}")
            time.sleep(0.2)

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def sigterm(self, timeout: float = 30) -> int:
        """SIGTERM to the script alone (not its group): its cleanup must stop the rest."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill_group(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)

    def stop_database(self) -> None:
        """PostgreSQL runs detached (pg_ctl), outside the group: stop it by its script."""
        subprocess.run(
            [str(ROOT / "scripts" / "db.sh"), "stop"], env=self.env, capture_output=True, timeout=60
        )

    def postgres_pid(self) -> int | None:
        pidfile = self.data_dir / "pg" / "postmaster.pid"
        try:
            return int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def remove_data(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.log_path.unlink(missing_ok=True)


def signup(api_url: str, shop_name: str = "Load Test Picks") -> str:
    status, body = http(
        "POST",
        api_url + "/auth/signup",
        {
            "email": f"seller-{uuid.uuid4().hex[:8]}@example.com",
            "password": "a long test passphrase 7",
            "shop_name": shop_name,
        },
    )
    assert status == 201, body
    return body["token"]


def list_all(api_url: str, path: str, token: str) -> list[dict]:
    items, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        url = f"{api_url}{path}{sep}limit=200" + (f"&cursor={cursor}" if cursor else "")
        status, body = http("GET", url, token=token)
        assert status == 200, body
        items += body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            return items


class Load:
    """A few hundred writes from several threads; every failure is counted, none retried."""

    def __init__(self, api_url: str, threads: int = 4):
        self.api_url = api_url
        self.threads = threads
        self.connection_errors: list[str] = []
        self.bad_status: list[str] = []

    def call(self, method, path, body=None, token=None, expect=(200, 201)):
        try:
            status, resp = http(method, self.api_url + path, body, token)
        except ConnectionFailed as exc:
            self.connection_errors.append(f"{method} {path}: {exc}")
            return None
        if status not in expect:
            self.bad_status.append(f"{method} {path}: {status} {resp}")
            return None
        return resp

    def run(self, fn, args) -> list:
        with ThreadPoolExecutor(self.threads) as pool:
            return list(pool.map(fn, args))

    def drive(self, orders: int = 300) -> dict:
        """Orders, PATCH toggles, a bulk update; returns what the data should now say."""
        token = signup(self.api_url)
        item = self.call(
            "POST", "/items", {"item_name": "東京ばな奈 8 入", "price": 350, "stock": 5000}, token
        )
        assert item, self.bad_status or self.connection_errors

        def create(i):
            body = {
                "buyer_email": f"buyer{i % 12}@example.com",
                "buyer_name": f"買家 {i % 12}",
                "quantity": 1 + i % 3,
                "batch": "2026-12 東京" if i % 2 else "2026-12 首爾",
            }
            if i % 2 == 0:
                body["item_id"] = item["id"]
            else:
                body.update(item_name="Senka 洗面乳", unit_price=180)
            return self.call("POST", "/orders", body, token)

        created = self.run(create, range(orders))
        by_i = dict(enumerate(created))
        expected = {
            o["id"]: {"quantity": o["quantity"], "payment_status": "unpaid", "fulfillment_status": "pending"}
            for o in created
            if o
        }

        def patch(args):
            i, body = args
            o = by_i[i]
            if o and self.call("PATCH", f"/orders/{o['id']}", body, token):
                expected[o["id"]].update(body)
                if body.get("fulfillment_status") == "cancelled":
                    # Its money goes back to the buyer as credit: the order is unpaid.
                    expected[o["id"]]["payment_status"] = "unpaid"

        # Toggles as on the orders page: 已匯款 on for every 10th, then off again for every 30th;
        # every 25th is cancelled (its stock goes back). Not many: on FerretDB every status
        # change scans the orders (docs/performance.md).
        toggles = [
            [(i, {"payment_status": "remitted"}) for i in range(0, orders, 10)],
            [(i, {"payment_status": "unpaid"}) for i in range(0, orders, 30)],
            [(i, {"fulfillment_status": "cancelled"}) for i in range(0, orders, 25)],
        ]
        for step in toggles:
            self.run(patch, step)
        ids = [
            o["id"]
            for i, o in by_i.items()
            if o and i % 3 == 0 and expected[o["id"]]["fulfillment_status"] == "pending"
        ]
        bulk = self.call(
            "POST", "/orders/bulk", {"ids": ids, "set": {"fulfillment_status": "purchased"}}, token
        )
        if bulk:
            assert bulk["updated"] == len(ids), bulk
            for oid in ids:
                expected[oid]["fulfillment_status"] = "purchased"
        taken = sum(
            o["quantity"]
            for i, o in by_i.items()
            if o and i % 2 == 0 and expected[o["id"]]["fulfillment_status"] != "cancelled"
        )
        writes = 2 + orders + sum(map(len, toggles)) + 1
        return {"token": token, "item": item, "orders": expected, "stock": 5000 - taken, "writes": writes}


@pytest.fixture(scope="module")
def local_stack():
    stack = LocalStack()
    try:
        stack.start()
        yield stack
    finally:
        stack.kill_group()
        stack.stop_database()
        if not os.environ.get("KEEP_MAKE_RUN_DATA"):
            stack.remove_data()


def demo_command(stack) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "scripts" / "demo.py"),
        "--api",
        stack.api_url,
        "--site",
        stack.site_url,
    ]


def load_demo(stack) -> subprocess.CompletedProcess:
    """`scripts/demo.py` on a stack without the demo shop; its login is kept on the stack."""
    first = subprocess.run(demo_command(stack), capture_output=True, text=True, timeout=120, env=stack.env)
    assert first.returncode == 0, first.stdout + first.stderr
    email = re.search(r"^  email +(\S+)$", first.stdout, re.M).group(1)
    password = re.search(r"^  password +(\S+)$", first.stdout, re.M).group(1)
    stack.demo_login = {"email": email, "password": password}
    return first


def test_demo_loads_a_sample_shop_through_the_api(local_stack):
    cmd = demo_command(local_stack)
    first = load_demo(local_stack)
    assert f"{local_stack.site_url}/index.html" in first.stdout
    email, password = local_stack.demo_login["email"], local_stack.demo_login["password"]

    status, body = http("POST", local_stack.api_url + "/auth/login", {"email": email, "password": password})
    assert status == 200, body
    token = body["token"]
    orders = list_all(local_stack.api_url, "/orders", token)
    assert len(orders) == 80
    assert {o["fulfillment_status"] for o in orders} == {
        "pending",
        "purchased",
        "shipped",
        "delivered",
        "cancelled",
    }
    assert {o["payment_status"] for o in orders} == {"unpaid", "partial", "remitted", "refunded"}
    payments = list_all(local_stack.api_url, "/payments", token)
    assert len([p for p in payments if p["status"] == "reported"]) == 2
    assert len([p for p in payments if p["note"] == "訂金"]) == 3
    (box,) = list_all(local_stack.api_url, "/parcels", token)
    assert (box["method"], box["recipient"]["store_id"], len(box["order_ids"])) == ("cvs_711", "135061", 3)
    assert {o["batch"] for o in orders} == {"2026-12 東京", "2026-12 首爾", "2027-01 大阪"}
    assert len(list_all(local_stack.api_url, "/customers", token)) == 10
    assert len(list_all(local_stack.api_url, "/items", token)) == 8
    status, trips = http("GET", local_stack.api_url + "/batches", token=token)
    assert status == 200
    by_name = {b["name"]: b for b in trips}
    assert by_name["2026-12 東京"]["closed"] and by_name["2026-12 東京"]["rates"] == {"JPY": "0.2115"}
    assert by_name["2027-01 大阪"]["missing_rates"] == ["JPY"]
    status, report = http("GET", local_stack.api_url + "/reports/profit", token=token)
    rows = {r["batch"]: r for r in report["by_batch"]}
    assert rows["2026-12 東京"]["profit"] is not None and rows["2026-12 首爾"]["costed_count"] > 0
    assert rows["2027-01 大阪"]["missing_rate_count"] > 0 and rows["2027-01 大阪"]["profit"] is None

    # Twice is fine: the second run finds the demo shop and leaves it as it is.
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=local_stack.env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already loaded" in second.stdout
    assert len(list_all(local_stack.api_url, "/orders", token)) == 80


def test_make_run_serves_hundreds_of_writes_without_dropping_one(local_stack):
    started = time.time()
    load = Load(local_stack.api_url)
    want = load.drive(300)
    assert load.connection_errors == [], (
        f"{len(load.connection_errors)} connection errors: {load.connection_errors[:5]}"
    )
    assert load.bad_status == [], load.bad_status[:5]
    assert want["writes"] >= 350

    token = want["token"]
    got = {o["id"]: o for o in list_all(local_stack.api_url, "/orders", token)}
    assert set(got) == set(want["orders"])
    for oid, fields in want["orders"].items():
        assert {k: got[oid][k] for k in fields} == fields, oid
    status, item = http("GET", f"{local_stack.api_url}/items/{want['item']['id']}", token=token)
    assert status == 200 and item["stock"] == want["stock"]
    assert len(list_all(local_stack.api_url, "/customers", token)) == 12
    # The API never restarted under the writes: chalice local prints one "Serving on" line.
    assert local_stack.output().count("Serving on") == 1, local_stack.output()[-3000:]
    print(f"{want['writes']} writes in {time.time() - started:.1f}s, 0 connection errors")


def test_make_run_prints_and_serves_the_mail_outbox(local_stack):
    """No SES locally: the start-up output names the outbox page, the page server shows it,
    and a password reset asked for over HTTP is there with its link, announced by one line
    on the API's log."""
    outbox_url = f"{local_stack.site_url}/outbox/"
    # The banner follows the API's first answer: wait for it.
    banner = re.compile(rf"^  Mail outbox +{re.escape(outbox_url)}\s", re.M)
    deadline = time.time() + 30
    while not banner.search(local_stack.output()) and time.time() < deadline:
        time.sleep(0.1)
    assert banner.search(local_stack.output()), local_stack.output()[-3000:]
    with urllib.request.urlopen(outbox_url, timeout=10) as resp:  # noqa: S310 (loopback)
        assert resp.status == 200 and "default-src 'none'" in resp.headers["Content-Security-Policy"]
        assert "Mail outbox" in resp.read().decode()
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    status, body = http(
        "POST",
        local_stack.api_url + "/auth/signup",
        {"email": email, "password": "a long test passphrase 7", "shop_name": "Outbox Picks"},
    )
    assert status == 201, body
    status, _ = http("POST", local_stack.api_url + "/auth/password-reset/request", {"email": email})
    assert status == 202
    with urllib.request.urlopen(outbox_url, timeout=10) as resp:  # noqa: S310 (loopback)
        index = resp.read().decode()
    page = re.search(
        r'<li><a href="([^"]+)">Outbox Picks：重設密碼</a><span class="meta">' + re.escape(email), index
    )
    assert page, index
    with urllib.request.urlopen(outbox_url + page.group(1), timeout=10) as resp:  # noqa: S310 (loopback)
        message = resp.read().decode()
    assert (
        f'<a href="{local_stack.site_url}/index.html#reset=' in message
    )  # PUBLIC_SITE_URL: this page server
    masked = f"mail to {email[0]}***@example.com: Outbox Picks：重設密碼 → "
    deadline = time.time() + 30
    while masked not in local_stack.output() and time.time() < deadline:
        time.sleep(0.1)
    assert f"{masked}{local_stack.data_dir / 'outbox' / page.group(1)}" in local_stack.output()


def test_make_run_takes_photos_without_aws_and_keeps_them_across_a_restart(local_stack):
    """Issue 30: `make run` has no S3. The form POST /items/{id}/photos hands out goes to the
    API's own upload route, the images are made at once, the page server serves them (never
    the original), and they are still there after a restart."""
    import io

    import requests
    from PIL import Image

    if local_stack.proc.poll() is not None:
        local_stack.start()
    token = signup(local_stack.api_url, "Photo Picks")
    status, item = http("POST", local_stack.api_url + "/items", {"item_name": "Scarf", "price": 900}, token)
    assert status == 201, item
    image = io.BytesIO()
    Image.new("RGB", (1000, 600), (30, 120, 200)).save(image, "JPEG")
    data = image.getvalue()
    status, started = http(
        "POST",
        f"{local_stack.api_url}/items/{item['id']}/photos",
        {"content_type": "image/jpeg", "size": len(data)},
        token,
    )
    assert status == 201, started
    upload = started["upload"]
    assert upload["url"] == f"{local_stack.api_url}/photo-uploads"
    sent = requests.post(upload["url"], data=upload["fields"], files={"file": ("s.jpg", data)}, timeout=30)
    assert sent.status_code == 204, sent.text
    status, got = http("GET", f"{local_stack.api_url}/items/{item['id']}", token=token)
    (photo,) = got["photos"]
    assert photo["small_url"].startswith(f"{local_stack.site_url}/media/images/")
    original = requests.get(f"{local_stack.site_url}/media/{upload['fields']['key']}", timeout=10)
    assert original.status_code == 404  # the original is never served (and is deleted)
    assert not (local_stack.data_dir / "blobs" / upload["fields"]["key"]).exists()

    local_stack.sigterm()
    local_stack.start()
    status, got = http("GET", f"{local_stack.api_url}/items/{item['id']}", token=token)
    assert status == 200 and got["photos"] == [photo], got
    small = requests.get(photo["small_url"], timeout=10)
    assert small.status_code == 200 and small.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(small.content)).size == (160, 96)


def drop(port: int, request: bytes) -> None:
    """What a browser does on a reload or a closed tab: send, then reset the connection
    (SO_LINGER 0) without reading the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_dropped_connection_is_no_traceback_and_the_log_has_no_colour_codes(local_stack):
    """Requests the browser gave up on (half sent, or sent and never read: BrokenPipeError /
    ConnectionResetError in the server) leave no traceback in `make run`'s log, on the API
    nor on the page server; and the log, written to a file here, carries no ANSI codes."""
    site_dist = local_stack.data_dir / "site"
    (site_dist / "big.bin").write_bytes(os.urandom(4_000_000))  # more than a socket buffer
    for port, path in ((local_stack.api_port, "/openapi.json"), (local_stack.site_port, "/big.bin")):
        for _ in range(3):
            drop(port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # half sent
            drop(port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # not read
    # Both servers still answer, and the API's log has come past the drops (each handled on its
    # own thread as soon as the reset arrives, before this request's).
    marker = f"/health?after-drops={uuid.uuid4().hex[:8]}"
    assert http("GET", local_stack.api_url + marker)[0] == 200
    with urllib.request.urlopen(local_stack.site_url + "/index.html", timeout=10) as resp:  # noqa: S310
        assert resp.status == 200
    deadline = time.time() + 30
    while marker not in local_stack.output() and time.time() < deadline:
        time.sleep(0.1)
    log = local_stack.output()
    assert marker in log, log[-3000:]
    assert "Traceback" not in log, log[-5000:]
    assert "ConnectionResetError" not in log and "BrokenPipeError" not in log, log[-5000:]
    assert "\x1b[" not in log, repr(log[-3000:])


def test_sigterm_to_run_local_stops_everything(local_stack):
    pgid = local_stack.proc.pid
    assert any("ferretdb" in p for p in group_members(pgid)), group_members(pgid)
    postgres = local_stack.postgres_pid()
    assert postgres is not None, "no PostgreSQL cluster in DATA_DIR/pg"
    rc = local_stack.sigterm()
    assert rc in (0, 143), local_stack.output()[-2000:]
    deadline = time.time() + 10
    while group_members(pgid) and time.time() < deadline:
        time.sleep(0.1)
    assert group_members(pgid) == [], "left running after SIGTERM"
    for port in (local_stack.api_port, local_stack.site_port, local_stack.db_port):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"
    # PostgreSQL (detached by pg_ctl, so not in the group) is stopped too.
    assert local_stack.postgres_pid() is None
    deadline = time.time() + 10
    while process_alive(postgres) and time.time() < deadline:
        time.sleep(0.1)
    assert not process_alive(postgres), f"PostgreSQL (pid {postgres}) still running"


def test_data_survives_a_restart(local_stack):
    """`make run` again on the same DATA_DIR: the demo shop and its 80 orders are still there.
    Stands alone: it loads the demo shop itself unless the demo test already did."""
    if not hasattr(local_stack, "demo_login"):
        if local_stack.proc.poll() is not None:  # stopped by the SIGTERM test
            local_stack.start()
        load_demo(local_stack)
    if local_stack.proc.poll() is None:
        local_stack.sigterm()
    started = time.time()
    local_stack.start()
    print(f"restart on the existing cluster: {time.time() - started:.1f}s")
    status, body = http("POST", local_stack.api_url + "/auth/login", local_stack.demo_login)
    assert status == 200, body
    assert len(list_all(local_stack.api_url, "/orders", body["token"])) == 80
    assert local_stack.sigterm() in (0, 143)
    assert local_stack.postgres_pid() is None
