"""A seller's day in a real browser, and the buyer opening their link.

One test walks the whole flow (each step builds on the last, as a person would), the
others check the failure paths: an expired session, a bad tracking link, phone width.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, api_call, order_row, settled, shot, sign_up

pytestmark = pytest.mark.e2e


def add_item(page, name, price, stock=""):
    form = page.locator("#item-form")
    form.locator("[name=item_name]").fill(name)
    form.locator("[name=price]").fill(price)
    form.locator("[name=stock]").fill(stock)
    form.get_by_role("button", name="Save").click()
    expect(page.locator("#items-body")).to_contain_text(name)


def add_customer(page, name, email):
    form = page.locator("#customer-form")
    form.locator("[name=name]").fill(name)
    form.locator("[name=email]").fill(email)
    form.get_by_role("button", name="Save").click()
    expect(page.locator("#customers-body")).to_contain_text(email)


def test_seller_day_and_buyer_link(stack, open_page, page):
    sign_up(page, stack)
    settled(page)
    shot(page, "orders-empty-desktop")

    # Items, with a low-stock mark.
    page.get_by_role("tab", name="Items").click()
    add_item(page, "Tokyo Banana 8 pcs", "450", stock="3")
    add_item(page, "Royce Nama Chocolate", "780.50")
    low = page.locator("#items-body tr", has_text="Tokyo Banana")
    expect(low.locator(".stock-badge")).to_have_text("Low stock")
    expect(page.locator("#items-body tr", has_text="Royce")).to_contain_text("not tracked")
    expect(page.locator("#items-body tr", has_text="Royce")).to_contain_text("NT$780.50")

    # Buyers.
    page.get_by_role("tab", name="Buyers").click()
    add_customer(page, "Amy Chen", "amy@example.com")
    add_customer(page, "Ben Wu", "ben@example.com")
    page.locator("#customers-body tr", has_text="Ben Wu").get_by_role("button", name="Edit").click()
    expect(page.locator("#customer-form-title")).to_have_text("Edit buyer")
    page.locator("#customer-form [name=phone]").fill("0912-345-678")
    page.locator("#customer-form").get_by_role("button", name="Save").click()
    # Stored in E.164 since issue 25 (+886912345678); the page shows a Taiwanese number in
    # the national form (js/buyers.js phoneText), also as the contact that tells buyers apart.
    ben = page.locator("#customers-body tr", has_text="Ben Wu")
    expect(ben.locator(".buyer-contact")).to_have_text("0912-345-678")
    expect(page.locator("#customers-body tr[data-id]")).to_have_count(2)

    # A new order: the item picker fills the price, the total is live.
    page.get_by_role("tab", name="Orders").click()
    page.locator("#new-order-box summary").click()
    form = page.locator("#order-form")
    form.locator("[name=buyer_email]").fill("amy@example.com")
    form.locator("[name=item_name]").fill("Tokyo Banana 8 pcs")
    expect(form.locator("[name=unit_price]")).to_have_value("450")
    form.locator("[name=quantity]").fill("2")
    form.locator("[name=shipping_fee]").fill("60")
    form.locator("[name=batch]").fill("2026-12 Tokyo")
    expect(page.locator("#order-total")).to_have_text("NT$960")
    form.get_by_role("button", name="Create order").click()
    expect(page.locator("#order-form-msg")).to_contain_text("Order #1001 created")
    amy = order_row(page, 1001)
    expect(amy).to_contain_text("Tokyo Banana 8 pcs × 2")
    expect(amy).to_contain_text("NT$960")

    # A second buyer's order with a free-text item, and asking for more stock than there is.
    form.locator("[name=buyer_email]").fill("ben@example.com")
    form.locator("[name=item_name]").fill("Matcha KitKat")
    form.locator("[name=unit_price]").fill("300")
    form.locator("[name=quantity]").fill("1")
    form.locator("[name=shipping_fee]").fill("0")
    expect(page.locator("#order-total")).to_have_text("NT$300")
    form.get_by_role("button", name="Create order").click()
    expect(order_row(page, 1002)).to_contain_text("Ben Wu")
    form.locator("[name=buyer_email]").fill("ben@example.com")
    form.locator("[name=item_name]").fill("Tokyo Banana 8 pcs")
    form.locator("[name=quantity]").fill("5")
    form.get_by_role("button", name="Create order").click()
    expect(page.locator("#order-form-msg")).to_contain_text("Not enough stock")
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(2)

    # Inline toggles: 已匯款 remitted, then 已出貨 shipped with the date shown at once.
    amy.get_by_role("switch", name="Remitted").check()
    expect(order_row(page, 1001).get_by_role("switch", name="Remitted")).to_be_checked()
    # Carrier and tracking number are the order panel's (issue 27: the row is one line).
    order_row(page, 1001).locator(".order-open").click()
    panel = page.locator("#order-detail")
    # The panel has the server's copy once it lists the payments (it would redraw the form).
    expect(panel.locator("#detail-payments")).not_to_contain_text("Loading")
    panel.locator("#detail-form [name=carrier]").fill("Yamato")
    panel.locator("#detail-form [name=tracking_number]").fill("4470-1234-5678")
    panel.locator("#detail-save").click()
    expect(panel.locator("#detail-msg")).to_contain_text("Saved")
    panel.locator("#detail-close").click()
    expect(panel).to_be_hidden()
    expect(order_row(page, 1001)).not_to_have_class(re.compile(r"\bbusy\b"))
    token = page.evaluate("localStorage.getItem('token')")
    orders = api_call(stack, "GET", "/orders?limit=10", token)["items"]
    order = next(o for o in orders if o["order_no"] == 1001)
    assert (order["carrier"], order["tracking_number"]) == ("Yamato", "4470-1234-5678")

    order_row(page, 1001).get_by_role("switch", name="Shipped").check()
    today = dt.datetime.now(ZoneInfo("Asia/Taipei")).date()
    expect(order_row(page, 1001).locator(".shipped-date")).to_have_text(
        f"{today:%b} {today.day}, {today.year}"
    )
    # Select many: bulk 已出貨 on Ben's order.
    order_row(page, 1002).locator(".row-select").check()
    expect(page.locator("#bulk-count")).to_have_text("1 selected")
    page.locator("#bulk-status").select_option("shipped")  # the bulk bar's "Set status…"
    confirm = page.locator("dialog.confirm-dialog")
    expect(confirm).to_contain_text("Mark 1 order shipped?")
    confirm.locator("button[value=yes]").click()
    expect(page.locator("#flash")).to_contain_text("1 updated")
    expect(order_row(page, 1002).get_by_role("switch", name="Shipped")).to_be_checked()
    expect(order_row(page, 1002).get_by_role("switch", name="Remitted")).not_to_be_checked()
    # Shipping both again changes nothing, and the page says so.
    order_row(page, 1001).locator(".row-select").check()
    order_row(page, 1002).locator(".row-select").check()
    page.locator("#bulk-status").select_option("shipped")
    confirm.locator("button[value=yes]").click()
    expect(page.locator("#flash")).to_contain_text("0 updated. 2 already as asked.")

    # The filters ask the server: only unpaid orders.
    page.locator("#order-filters [name=payment_status]").select_option("unpaid")
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(1)
    expect(order_row(page, 1002)).to_be_visible()
    page.locator("#order-filters [name=payment_status]").select_option("")
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(2)
    shot(page, "orders-desktop")

    # Reports: Ben owes 300 and is highlighted; Amy has paid.
    page.get_by_role("tab", name="Reports").click()
    ben_row = page.locator("#rep-buyers tbody tr", has_text="Ben Wu")
    expect(ben_row).to_have_class(re.compile(r"\boutstanding\b"))
    expect(ben_row.locator(".outstanding-amount")).to_have_text("NT$300")
    expect(page.locator("#rep-buyers tbody tr", has_text="Amy Chen")).not_to_have_class(
        re.compile(r"\boutstanding\b")
    )
    expect(page.locator("#rep-buyers tfoot")).to_contain_text("NT$1,260")
    page.wait_for_function("() => !!window.Chart && !!window.Chart.getChart('rep-monthly')")
    shot(page, "reports-desktop")

    # Amy's tracking link, opened in a fresh browser (no seller session).
    page.get_by_role("tab", name="Buyers").click()
    page.locator("#customers-body tr", has_text="Amy Chen").get_by_role(
        "button", name="Copy link of Amy Chen"
    ).click()
    link = page.locator("#link-box a.link-url")
    expect(link).to_contain_text("/track.html?shop=tokyo-picks#")
    url = link.inner_text()
    shot(page, "buyers-desktop")
    buyer = open_page(viewport=PHONE)
    buyer.goto(url)
    expect(buyer.locator("#shop-name")).to_have_text("Tokyo Picks")
    cards = buyer.locator(".order-card")
    expect(cards).to_have_count(1)
    card = cards.first
    expect(card).to_contain_text("#1001")
    expect(card).to_contain_text("Tokyo Banana 8 pcs × 2")
    expect(card).to_contain_text("NT$960")
    expect(card.locator("li.done")).to_have_text(["Ordered", "Remitted", "Purchased", "Shipped"])
    expect(card.locator(".tracking-number")).to_have_text("4470-1234-5678")
    expect(buyer.locator("body")).not_to_contain_text("Ben Wu")
    expect(buyer.locator("body")).not_to_contain_text("Matcha")
    shot(buyer, "track-phone")
    # The buyer switches language; the page says 已出貨 and remembers it.
    buyer.locator("#lang").select_option("zh-Hant")
    expect(card.locator("li.done").last).to_have_text("已出貨")
    buyer.reload()
    expect(buyer.locator(".order-card li.done").last).to_have_text("已出貨")
    shot(buyer, "track-phone-zh")

    # Rotating the link (asked first): the old one stops working at once.
    page.locator("#customers-body tr", has_text="Amy Chen").get_by_role("button", name="New link").click()
    page.locator("dialog.confirm-dialog").get_by_role("button", name="Make a new link").click()
    expect(page.locator("#link-box a.link-url")).not_to_have_text(url)
    stale = open_page()
    stale.goto(url)
    expect(stale.locator("#track-msg")).to_contain_text("not valid any more")
    expect(stale.locator("#request-form")).to_be_visible()
    # The shop is known from the link, so the buyer only types their email.
    expect(stale.locator("#request-form [name=shop_slug]")).to_be_hidden()
    expect(stale.locator("#request-form [name=shop_slug]")).to_have_value("tokyo-picks")

    # The seller switches to 繁體中文: words from the seed, remembered across a reload.
    page.locator("#lang").select_option("zh-Hant")
    expect(page.get_by_role("tab", name="訂單")).to_be_visible()
    page.get_by_role("tab", name="訂單").click()
    expect(page.locator("#orders-table thead")).to_contain_text("已匯款")
    expect(page.locator("#orders-table thead")).to_contain_text("已出貨")
    page.reload()
    expect(page.locator("#orders-table thead")).to_contain_text("已匯款")
    expect(order_row(page, 1001).locator(".cell-status")).to_have_text("已出貨")
    shot(page, "orders-desktop-zh")

    # Phone width: no sideways scrolling, rows become cards.
    page.set_viewport_size(PHONE)
    settled(page, width=PHONE["width"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "orders-phone-zh")
    page.locator("#lang").select_option("en")
    page.get_by_role("tab", name="Reports").click()
    expect(page.locator("#rep-buyers tbody tr", has_text="Ben Wu")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "reports-phone")
    page.set_viewport_size(DESKTOP)


def test_expired_session_keeps_typed_order(stack, page):
    email = sign_up(page, stack, shop="Osaka Finds")
    page.locator("#new-order-box summary").click()
    form = page.locator("#order-form")
    form.locator("[name=buyer_email]").fill("carol@example.com")
    form.locator("[name=item_name]").fill("Glico Pocky")
    form.locator("[name=unit_price]").fill("120")
    form.locator("[name=note]").fill("gift wrap please")
    # The token goes bad (as when it expires): the next call gets a 401.
    page.evaluate("localStorage.setItem('token', 'expired.token.value')")
    form.get_by_role("button", name="Create order").click()
    expect(page.locator("#auth-view")).to_be_visible()
    expect(page.locator("#auth-msg")).to_contain_text("session has expired")
    login = page.locator("#login-form")
    login.locator("[name=email]").fill(email)
    login.locator("[name=password]").fill(PASSWORD)
    login.get_by_role("button", name="Log in").click()
    expect(page.locator("#brand")).to_have_text("Osaka Finds")
    expect(form.locator("[name=buyer_email]")).to_have_value("carol@example.com")
    expect(form.locator("[name=note]")).to_have_value("gift wrap please")
    expect(page.locator("#order-total")).to_have_text("NT$120")
    form.get_by_role("button", name="Create order").click()
    expect(order_row(page, 1001)).to_contain_text("Glico Pocky")


def test_wrong_password_and_bad_input_show_clear_errors(stack, page):
    email = sign_up(page, stack)
    page.get_by_role("button", name="Log out").click()
    login = page.locator("#login-form")
    login.locator("[name=email]").fill(email)
    login.locator("[name=password]").fill("not the password")
    login.get_by_role("button", name="Log in").click()
    expect(page.locator("#auth-msg")).to_contain_text("Wrong email or password")
    login.locator("[name=password]").fill(PASSWORD)
    login.get_by_role("button", name="Log in").click()
    page.locator("#new-order-box summary").click()
    form = page.locator("#order-form")
    form.locator("[name=buyer_email]").fill("not-an-email")
    form.locator("[name=item_name]").fill("Pocky")
    form.locator("[name=unit_price]").fill("1.234")
    form.get_by_role("button", name="Create order").click()
    expect(page.locator("#order-form-msg")).to_contain_text("at most 2 decimals")
    form.locator("[name=unit_price]").fill("12")
    form.get_by_role("button", name="Create order").click()
    expect(page.locator("#order-form-msg")).to_contain_text("Buyer email: is not a valid email address")
    expect(page.locator("#orders-body")).to_contain_text("No orders yet")


def test_track_page_without_valid_token_offers_the_email_form(stack, page):
    page.goto(f"{stack.site_url}/track.html")
    expect(page.locator("#track-msg")).to_contain_text("Open the link your shopper sent you")
    page.goto(f"{stack.site_url}/track.html#{'x' * 43}")
    expect(page.locator("#track-msg")).to_contain_text("not valid any more")
    form = page.locator("#request-form")
    form.locator("[name=shop_slug]").fill("tokyo-picks")
    form.locator("[name=email]").fill("nobody@example.com")
    form.get_by_role("button", name="Email me my link").click()
    expect(page.locator("#request-msg")).to_contain_text("a link is on its way")
    shot(page, "track-invalid-desktop")


def test_track_page_with_a_malformed_fragment_offers_the_email_form(stack, page):
    """`%E0%A4%A` (cut off mid-escape) makes decodeURIComponent throw: the page must not
    keep spinning but say the link is not valid and offer "email me my link"."""
    page.goto(f"{stack.site_url}/track.html?shop=tokyo-picks#%E0%A4%A")
    expect(page.locator("#track-msg")).to_contain_text("not valid any more")
    expect(page.locator("#loading")).to_be_hidden()
    form = page.locator("#request-form")
    expect(form.get_by_role("button", name="Email me my link")).to_be_visible()
    expect(form.locator("[name=shop_slug]")).to_have_value("tokyo-picks")


CSV_HEADER = "buyer_email,buyer_name,item_name,quantity,unit_price,payment_status,fulfillment_status,note\n"


def test_csv_import_shows_row_errors_then_imports_and_exports(stack, page):
    sign_up(page, stack)
    page.get_by_role("button", name="Import CSV").click()
    box = page.locator("#import-box")
    bad = (
        CSV_HEADER
        + "dan@example.com,Dan,Pocky,2,120,unpaid,pending,\nnot-an-email,Eve,Pocky,0,1.234,unpaid,pending,\n"
    )
    box.locator("[name=file]").set_input_files(
        files=[{"name": "orders.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    box.get_by_role("button", name="Import CSV").click()
    expect(page.locator("#import-msg")).to_contain_text("Nothing was imported")
    errors = page.locator("#import-msg .import-errors li")
    expect(errors.first).to_contain_text("Row 3")  # as the spreadsheet numbers it: header = row 1
    expect(page.locator("#orders-body")).to_contain_text("No orders yet")

    good = (
        CSV_HEADER
        + "dan@example.com,Dan,Pocky,2,120,unpaid,pending,\nfay@example.com,Fay 林,抹茶 KitKat,1,300,remitted,pending,\n"
    )
    box.locator("[name=file]").set_input_files(
        files=[{"name": "orders.csv", "mimeType": "text/csv", "buffer": good.encode()}]
    )
    box.locator("[name=dry_run]").check()
    box.get_by_role("button", name="Import CSV").click()
    expect(page.locator("#import-msg")).to_contain_text("All 2 rows are valid")
    expect(page.locator("#orders-body")).to_contain_text("No orders yet")
    box.locator("[name=dry_run]").uncheck()
    box.get_by_role("button", name="Import CSV").click()
    expect(page.locator("#import-msg")).to_contain_text("2 orders imported")
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(2)
    expect(page.locator("#orders-body")).to_contain_text("Fay 林")

    with page.expect_download() as info:
        page.get_by_role("button", name="Export CSV").click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith("\ufeff".encode()), data[:20]
    text = data.decode("utf-8-sig")
    assert "抹茶 KitKat" in text and "dan@example.com" in text

    # The purchase list shows what is still to buy from those pending orders.
    page.get_by_role("tab", name="Reports").click()
    pocky = page.locator("#rep-items tbody tr", has_text="Pocky")
    expect(pocky.locator("td").nth(1)).to_have_text("2")


def test_money_parsing_in_the_page_is_exact(stack, page):
    page.goto(f"{stack.site_url}/index.html")
    src = page.locator("script[type=module]").get_attribute("src")
    result = page.evaluate(
        """async (base) => {
            const m = await import("./" + base + "/format.js");
            const cases = ["19.99", "0.1", "1.2", "100000000", "1.234", "-1", "abc", "", "007.5"];
            return {
                parsed: Object.fromEntries(cases.map((c) => [c, m.parseCents(c)])),
                back: [1999, 10, 120, 5].map((c) => m.centsToNumber(c)),
            };
        }""",
        src.rsplit("/", 1)[0],
    )
    assert result["parsed"] == {
        "19.99": 1999,
        "0.1": 10,
        "1.2": 120,
        "100000000": 10_000_000_000,
        "1.234": None,
        "-1": None,
        "abc": None,
        "": 0,
        "007.5": 750,
    }
    assert result["back"] == [19.99, 0.1, 1.2, 0.05]


def test_language_follows_the_browser_until_chosen(stack, open_page):
    page = open_page(viewport=PHONE, locale="zh-TW")
    page.goto(f"{stack.site_url}/index.html")
    expect(page.locator("#login-form").get_by_role("button", name="登入")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "zh-Hant-TW"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#lang").select_option("en")
    page.goto(f"{stack.site_url}/track.html")
    expect(page.locator("#request-form").get_by_role("button", name="Email me my link")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


ERROR_CASES = [
    (403, "forbidden", "signups are closed", "That is not allowed."),
    (404, "not_found", "customer not found", "Not found"),
    (409, "conflict", "a customer with this email exists", "cannot be done with the data as it is"),
    (413, "payload_too_large", "too big", "too large to send"),
    (429, "rate_limited", "slow down", "Too many attempts"),
    (500, "internal_error", "boom", "went wrong on the server"),
    (503, "database_unavailable", "down", "database is unavailable"),
]


def answer(status, body, origin):
    def handler(route):
        if route.request.method == "OPTIONS":
            return route.continue_()
        headers = {"Content-Type": "application/json", "Access-Control-Allow-Origin": origin}
        return route.fulfill(status=status, body=body, headers=headers)

    return handler


def test_every_api_failure_has_a_clear_message(stack, page):
    """The API's error statuses (forced here with a routed response) and a dead network."""
    sign_up(page, stack)
    page.locator("#new-order-box summary").click()
    form = page.locator("#order-form")
    form.locator("[name=buyer_email]").fill("gus@example.com")
    form.locator("[name=item_name]").fill("Pocky")
    form.locator("[name=unit_price]").fill("100")
    for status, code, message, shown in ERROR_CASES:
        body = json.dumps({"error": {"code": code, "message": message, "details": []}})
        page.route(f"{stack.api_url}/orders", answer(status, body, stack.site_url))
        form.get_by_role("button", name="Create order").click()
        expect(page.locator("#order-form-msg")).to_contain_text(shown)
        page.unroute(f"{stack.api_url}/orders")
    # The network is down: the orders list says so instead of spinning for ever.
    page.route(f"{stack.api_url}/orders?*", lambda route: route.abort())
    page.get_by_role("tab", name="Items").click()
    page.get_by_role("tab", name="Orders").click()
    expect(page.locator("#orders-body")).to_contain_text("server cannot be reached")
    page.unroute(f"{stack.api_url}/orders?*")
    # Nothing was half-written: the real server has no order, and the typed order is still there.
    page.get_by_role("tab", name="Items").click()
    page.get_by_role("tab", name="Orders").click()
    expect(page.locator("#orders-body")).to_contain_text("No orders yet")
    expect(form.locator("[name=buyer_email]")).to_have_value("gus@example.com")


def test_a_report_route_missing_on_the_server_is_said_plainly(stack, page):
    """API Gateway (and chalice local) answer an unknown route with 403 and no contract body."""
    sign_up(page, stack)
    gateway = json.dumps({"message": "Missing Authentication Token"})
    page.route(f"{stack.api_url}/reports/items", answer(403, gateway, stack.site_url))
    page.get_by_role("tab", name="Reports").click()
    expect(page.locator("#rep-items tbody")).to_contain_text("The server does not offer this")
    expect(page.locator("#rep-buyers tbody")).to_contain_text("Nothing to report yet")
