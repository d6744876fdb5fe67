"""Browser tests: Debian's Chromium (via Playwright) against a real `chalice local` on the
session's FerretDB, with the site built by scripts/build-site.sh and served as `make run`
serves it (scripts/site_server.py: the site, and the mail outbox at /outbox/).

The whole stack is started once per session; each test signs up its own seller, so tests
do not see each other's data. A test opens its pages with `open_page` (`seller_page`: signed
up), which closes them afterwards and fails the test on any uncaught error in a page.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import LiveApi, _free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The README's pictures are refreshed only on request (`make screenshots`), so a test run
# does not leave changed files behind; otherwise they go to a temporary folder.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "personal-shopper-screenshots"
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


def _wait_http(url: str, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (loopback only)
                if resp.status < 500:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"{what} did not start ({url})")
        time.sleep(0.2)


class Stack:
    """The live API (tests/conftest.LiveApi: chalice local on FerretDB) + the built site,
    with mail going to a local outbox as in `make run`."""

    def __init__(self, ferretdb, workdir: Path):
        self.site_port = _free_port()
        self.site_url = f"http://127.0.0.1:{self.site_port}"
        self.outbox_url = f"{self.site_url}/outbox/"
        self.dist = workdir / "dist"
        self.outbox = workdir / "outbox"
        self.api = LiveApi(
            ferretdb.uri,
            "e2e_" + uuid.uuid4().hex[:10],
            env={
                "JWT_SECRET": "e2e-" + uuid.uuid4().hex,
                "CORS_ORIGIN": self.site_url,
                "PUBLIC_SITE_URL": self.site_url,
                "ALLOW_SIGNUP": "true",
                "AWS_DEFAULT_REGION": "us-east-1",
                "MAIL_OUTBOX": str(self.outbox),
            },
        )
        self.api_url = self.api.url
        # Item photos as `make run` keeps them: files, uploaded to the API, served at /media/.
        self.blobs = workdir / "blobs"
        self.api.env.update(
            BLOB_DIR=str(self.blobs),
            BLOB_URL=f"{self.site_url}/media",
            BLOB_UPLOAD_URL=f"{self.api_url}/photo-uploads",
        )
        self.site: subprocess.Popen | None = None

    def start(self) -> None:
        self.api.start()
        subprocess.run(
            [str(ROOT / "scripts/build-site.sh")],
            cwd=ROOT,
            env={**self.api.env, "API_URL": self.api_url, "SITE_DIST": str(self.dist)},
            check=True,
        )
        self.site = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "scripts/site_server.py"),
                "--port",
                str(self.site_port),
                "--dist",
                str(self.dist),
                "--outbox",
                str(self.outbox),
                "--blobs",
                str(self.blobs),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_http(f"{self.site_url}/index.html", self.site, "static site")

    def stop(self) -> None:
        if self.site and self.site.poll() is None:
            self.site.terminate()
            self.site.wait(10)
        self.api.stop()


@pytest.fixture(scope="session")
def stack(ferretdb, tmp_path_factory):
    s = Stack(ferretdb, tmp_path_factory.mktemp("e2e"))
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-browser.sh (make install does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_context(browser, viewport=None, locale="en-US"):
    ctx = browser.new_context(viewport=viewport or DESKTOP, locale=locale)
    ctx.set_default_timeout(10_000)
    return ctx


@pytest.fixture
def open_page(browser):
    """`open_page(locale=..., viewport=...)`: a page in a new browser context (default en-US
    at DESKTOP), as many as a test needs. Every context is closed after the test, and an
    uncaught error in any page it opened fails the test there."""
    opened: list[tuple[object, list[str]]] = []

    def open_(locale: str = "en-US", viewport: dict | None = None):
        pg = new_context(browser, viewport=viewport, locale=locale).new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        opened.append((pg, errors))
        return pg

    yield open_
    for pg, _ in opened:
        pg.context.close()
    errors = [e for _, errs in opened for e in errs]
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def seller_page(open_page, stack):
    """`seller_page(locale=..., viewport=...)`: open_page signed up as a new seller through
    the page, in the page's language (sign_up_any_language)."""

    def open_(locale: str = "en-US", viewport: dict | None = None):
        pg = open_page(locale=locale, viewport=viewport)
        sign_up_any_language(pg, stack, zh=locale == "zh-TW")
        return pg

    return open_


@pytest.fixture
def page(open_page):
    """An English desktop page that accepts every native dialog."""
    pg = open_page()
    pg.on("dialog", lambda d: d.accept())
    return pg


PASSWORD = "correct horse 1"


def sign_up(page, stack, shop="Tokyo Picks"):
    """Sign up a new seller through the English page; returns the email."""
    email = f"seller-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(f"{stack.site_url}/index.html")
    page.get_by_role("button", name="New here? Create a shop").click()
    form = page.locator("#signup-form")
    form.locator("[name=shop_name]").fill(shop)
    form.locator("[name=email]").fill(email)
    form.locator("[name=password]").fill(PASSWORD)
    form.get_by_role("button", name="Sign up").click()
    expect(page.locator("#brand")).to_have_text(shop)
    expect(page.locator("#orders-body")).to_contain_text("No orders yet")
    return email


def sign_up_any_language(page, stack, zh):
    """sign_up in English ("Reset Shop"), or through the Chinese page ("東京代購")."""
    if not zh:
        return sign_up(page, stack, shop="Reset Shop")
    email = f"seller-{secrets.token_hex(4)}@example.com"
    page.goto(f"{stack.site_url}/index.html")
    page.get_by_role("button", name="第一次使用？建立商店").click()
    form = page.locator("#signup-form")
    form.locator("[name=shop_name]").fill("東京代購")
    form.locator("[name=email]").fill(email)
    form.locator("[name=password]").fill(PASSWORD)
    form.locator("[type=submit]").click()
    expect(page.locator("#app-view")).to_be_visible()
    return email


def shot(page, name: str, full_page: bool = True) -> None:
    """Save <name>.png (docs/screenshots/ with UPDATE_SCREENSHOTS=1: the README shows these);
    full_page=False keeps what is on screen (a panel over the page, a phone's first view)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page, animations="disabled")


# Polled on a timer, not on animation frames: a page behind another one in its context
# may get no frames at all, and its wait would never end.
POLL_MS = 50


def settled(page, width: int | None = None, timeout: float = 10_000) -> None:
    """Wait until the page is still, instead of a fixed sleep: no visible spinner or busy
    form (a list still loading), no finite CSS transition or animation running (a fading
    tab, a colour change), and with `width` the viewport at that width. What a test then
    measures or checks for contrast is the final state, however slow the machine is."""
    page.wait_for_function(
        """(width) => (width === null || window.innerWidth === width)
            && ![...document.querySelectorAll('.spinner-border, [aria-busy=true]')]
                .some((el) => el.offsetParent !== null)
            && document.getAnimations().every((a) => a.playState !== 'running'
                || a.effect?.getComputedTiming().endTime === Infinity)""",
        arg=width,
        timeout=timeout,
        polling=POLL_MS,
    )


# --- helpers the browser tests share -------------------------------------------------


def ok(status_and_body, status=200):
    """The body of an api_request answer that must have `status` (else the test fails on it)."""
    code, out = status_and_body
    assert code == status, (code, out)
    return out


def api_request(stack, method, path, token=None, body=None, headers=None):
    """(status, JSON body) of one call to the live API; 4xx answers are returned, not raised."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(
        stack.api_url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers=all_headers,
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (loopback)
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def api_seller(stack, shop="Tokyo Picks", **me) -> str:
    """A seller signed up through the API (no page), with `me` set on /auth/me (language,
    payment_instructions, ...): their token."""
    email = f"seller-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD, "shop_name": shop}
    status, out = api_request(stack, "POST", "/auth/signup", body=body)
    assert status == 201, out
    if me:
        status, changed = api_request(stack, "PATCH", "/auth/me", out["token"], me)
        assert status == 200, changed
    return out["token"]


# axe-core from npm, injected into a page by `serious`.
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def api_call(stack, method, path, token, body=None):
    """The JSON body of one API call; an error answer raises urllib's HTTPError."""
    status, data = api_request(stack, method, path, token, body)
    if status >= 400:
        raise urllib.error.HTTPError(stack.api_url + path, status, json.dumps(data), {}, None)
    return data


def add_photo(stack, token, item_id, data: bytes) -> None:
    """As the Items tab: ask for the presigned POST, then send the JPEG straight to it."""
    import requests

    started = api_call(
        stack, "POST", f"/items/{item_id}/photos", token, {"content_type": "image/jpeg", "size": len(data)}
    )
    sent = requests.post(
        started["upload"]["url"],
        data=started["upload"]["fields"],
        files={"file": ("p.jpg", data)},
        timeout=60,
    )
    assert sent.status_code == 204, sent.text


def show_filters(page) -> None:
    """Unfold the order filters where they are folded (a phone, js/phone.js: issue 27)."""
    toggle = page.locator("#filters-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    expect(page.locator("#order-filters [name=q]")).to_be_visible()


def pick_buyer(page, select_id: str, typed: str, expect_text: str | None = None) -> None:
    """Choose a buyer in the picker over `<select id=select_id>` (js/buyer-picker.js, Tom
    Select) as a person does: type part of a name or contact, wait for the one match
    (`expect_text` in it when given), press Enter."""
    if select_id == "filter-buyer":
        show_filters(page)
    control = page.locator(f"#{select_id}-ts-control")
    control.scroll_into_view_if_needed()
    control.focus()  # as Tab reaches it (a tap under the phone's sticky bar can miss)
    expect(control).to_be_focused()
    page.keyboard.type(typed)
    options = page.locator(f"#{select_id}-ts-dropdown [role=option]")
    expect(options).to_have_count(1)
    if expect_text:
        expect(options.first).to_contain_text(expect_text)
    page.keyboard.press("Enter")
    expect(page.locator(f"#{select_id}-ts-dropdown")).to_be_hidden()


@pytest.fixture
def fresh_submissions(stack):
    """Every browser test submits from 127.0.0.1, and a form takes 10 submissions (and 10
    waitlist joins) an hour from one address: a test that submits forms starts with that
    hour empty (its submissions are its own) and leaves it empty for the tests after it."""
    import pymongo

    client = pymongo.MongoClient(stack.api.env["MONGO_URI"])
    slots = client[stack.api.env["MONGO_DB"]].rate_limits
    slots.delete_many({"key": {"$regex": "^form-(submit|waitlist):"}})
    yield
    slots.delete_many({"key": {"$regex": "^form-(submit|waitlist):"}})
    client.close()


def order_row(page, order_no):
    """The orders list's row of an order number."""
    return page.locator(f'#orders-body tr[data-order-no="{order_no}"]')


def seed_orders(stack, page, n=3, batch="2026-12 東京"):
    """n orders for the seller signed up in `page`, Amy Chen and Ben Wu in turn (#1001 with
    a shipping fee and a note); returns the seller's token."""
    token = page.evaluate("localStorage.getItem('token')")
    for i in range(n):
        api_call(
            stack,
            "POST",
            "/orders",
            token,
            {
                "buyer_email": f"buyer{i % 2}@example.com",
                "buyer_name": ["Amy Chen", "Ben Wu"][i % 2],
                "item_name": f"Pocky {i}",
                "quantity": 1 + i,
                "unit_price": 120,
                "shipping_fee": 30,
                "batch": batch,
                "note": "gift wrap" if i == 0 else None,
            }
            if i == 0
            else {
                "buyer_email": f"buyer{i % 2}@example.com",
                "buyer_name": ["Amy Chen", "Ben Wu"][i % 2],
                "item_name": f"Pocky {i}",
                "quantity": 1 + i,
                "unit_price": 120,
                "batch": batch,
            },
        )
    return token


def serious(page, where):
    """axe-core's serious and critical violations on the page, each named after `where`."""
    if not page.evaluate("!!window.axe"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`)"""
    )
    return [f"{where}: {f}" for f in found]


# Resolves once the window's and an open dialog's scroll positions have not moved for a
# few animation frames: a smooth scroll (Bootstrap's `scroll-behavior: smooth`) has ended.
# True once the window's and an open dialog's scroll positions read the same `times`
# polls in a row: a smooth scroll (Bootstrap's `scroll-behavior: smooth`) has ended.
_SCROLL_STILL = """(times) => {
    const now = [scrollY, document.querySelector('dialog[open]')?.scrollTop ?? 0].join();
    const w = (window.__scrollStill ||= {at: null, same: 0});
    w.same = w.at === now ? w.same + 1 : 0;
    w.at = now;
    return w.same >= times;
}"""


def scroll_still(page, times: int = 3) -> None:
    """Wait until nothing scrolls any more (a condition, not a fixed pause), then until the
    page is settled, so a screenshot shows where the scroll ended."""
    page.evaluate("delete window.__scrollStill")
    page.wait_for_function(_SCROLL_STILL, arg=times, polling=POLL_MS)
    settled(page)


def scroll_top(page):
    """Back to the top (a full-page shot otherwise draws a sticky bar mid-page)."""
    # Asked again at each poll: a scroll the page started itself (an element brought into
    # view, a smooth scroll still running) can take it away from the top once.
    page.wait_for_function(
        "() => { window.scrollTo({top: 0, behavior: 'instant'}); return window.scrollY === 0; }",
        polling=POLL_MS,
    )
    scroll_still(page)
