"""Issue 27's smaller things a new seller hit, each in both languages where a text is
involved (the phone width where a layout is)."""

from __future__ import annotations

import re
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, api_call, api_seller, order_row, shot


@pytest.mark.parametrize(
    ("locale", "says"),
    [("en-US", "at least 10 characters"), ("zh-TW", "至少要 10 個字元")],
)
def test_a_short_password_is_said_to_be_too_short(stack, open_page, locale, says):
    page = open_page(locale=locale, viewport=PHONE)
    page.goto(f"{stack.site_url}/index.html")
    page.locator("[data-show=signup-form]").click()
    form = page.locator("#signup-form")
    form.locator("[name=shop_name]").fill("Short")
    form.locator("[name=email]").fill("short-pw@example.com")
    form.locator("[name=password]").fill("abcde")
    form.locator("[type=submit]").click()
    msg = page.locator("#auth-msg")
    expect(msg).to_contain_text(says)
    expect(msg).not_to_contain_text("empty")
    expect(msg).not_to_contain_text("空")


def test_the_profit_chart_runs_oldest_to_newest(stack, seller_page):
    page = seller_page(locale="zh-TW", viewport=PHONE)
    token = page.evaluate("localStorage.getItem('token')")
    # Typed newest trip first, as a seller back from Tokyo fixes an older Osaka order after.
    for batch in ["2026-11 東京", "2026-09 大阪", "2026-10 福岡"]:
        api_call(
            stack,
            "POST",
            "/orders",
            token,
            {
                "buyer_email": "amy@example.com",
                "item_name": "Pocky",
                "quantity": 1,
                "unit_price": 100,
                "batch": batch,
            },
        )
    api_call(
        stack,
        "POST",
        "/orders",
        token,
        {"buyer_email": "amy@example.com", "item_name": "Kit Kat", "quantity": 1, "unit_price": 50},
    )
    page.get_by_role("tab", name="報表").click()
    rows = page.locator("#rep-profit tbody tr")
    expect(rows).to_have_count(4)
    labels = "Chart.getChart(document.querySelector('#rep-profit-chart'))?.data.labels"
    page.wait_for_function(f"({labels} || []).length === 4")
    # The table keeps the newest trip first; the chart reads left to right in time.
    assert [rows.nth(i).get_attribute("data-key") for i in range(3)] == [
        "2026-11 東京",
        "2026-10 福岡",
        "2026-09 大阪",
    ]
    assert page.evaluate(labels)[:3] == ["2026-09 大阪", "2026-10 福岡", "2026-11 東京"]
    page.locator("#rep-profit-chart").scroll_into_view_if_needed()
    shot(page, "small-profit-chart-zh-phone", full_page=False)


def test_an_items_cost_currency_stays_what_the_seller_chose(stack, seller_page):
    page = seller_page(locale="zh-TW", viewport=PHONE)
    token = page.evaluate("localStorage.getItem('token')")
    page.get_by_role("tab", name="商品").click()
    form = page.locator("#item-form")
    currency = form.locator("[name=cost_currency]")
    expect(currency).to_have_value("TWD")  # the shop's, to start with
    form.locator("[name=item_name]").fill("Tokyo Banana")
    form.locator("[name=price]").fill("450")
    form.locator("[name=cost]").fill("1200")
    currency.select_option("JPY")
    form.locator("[type=submit]").click()
    expect(page.locator("#items-body")).to_contain_text("Tokyo Banana")
    expect(form.locator("[name=item_name]")).to_have_value("")
    expect(currency).to_have_value("JPY")
    # The next item of the trip, typed without touching the currency, is in yen too.
    form.locator("[name=item_name]").fill("Royce")
    form.locator("[name=price]").fill("650")
    form.locator("[name=cost]").fill("1500")
    form.locator("[type=submit]").click()
    expect(page.locator("#items-body")).to_contain_text("Royce")
    expect(currency).to_have_value("JPY")
    costs = {
        i["item_name"]: (i["cost"], i["cost_currency"])
        for i in api_call(stack, "GET", "/items", token)["items"]
    }
    assert costs == {"Tokyo Banana": (1200, "JPY"), "Royce": (1500, "JPY")}


@pytest.mark.parametrize(
    ("locale", "says", "not_said"),
    [
        ("en-US", "Matcha KitKat: only 2 more in stock; this change needs 3 more", "create"),
        ("zh-TW", "數量：Matcha KitKat 的庫存只剩 2，這次變更還需要 3", "建立"),
    ],
)
def test_raising_a_quantity_past_stock_says_the_change_lacks_stock(
    stack, seller_page, locale, says, not_said
):
    page = seller_page(locale=locale, viewport=PHONE)
    token = page.evaluate("localStorage.getItem('token')")
    item = api_call(stack, "POST", "/items", token, {"item_name": "Matcha KitKat", "price": 100, "stock": 4})
    api_call(
        stack,
        "POST",
        "/orders",
        token,
        {"buyer_email": "amy@example.com", "item_id": item["id"], "quantity": 2},
    )
    page.reload()
    order_row(page, 1001).get_by_role("button", name=re.compile("1001")).click()
    panel = page.locator("#order-detail")
    quantity = panel.locator("#detail-form [name=quantity]")
    expect(quantity).to_have_value("2")
    page.wait_for_load_state("networkidle")  # the server's copy and payments are in: no re-render
    quantity.fill("5")
    panel.locator("#detail-save").click()
    msg = panel.locator("#detail-msg")
    expect(msg).to_contain_text(says)
    expect(msg).not_to_contain_text(not_said)
    shot(page, f"small-stock-change-{locale}-phone", full_page=False)


@pytest.mark.parametrize(
    ("locale", "tab", "says"), [("en-US", "Payments", "from a CSV import"), ("zh-TW", "收款", "CSV 匯入")]
)
def test_an_imported_payment_is_named_in_the_pages_language(stack, seller_page, locale, tab, says):
    page = seller_page(locale=locale, viewport=PHONE)
    token = page.evaluate("localStorage.getItem('token')")
    csv = "buyer_email,buyer_name,item_name,quantity,unit_price,paid_amount\r\namy@example.com,Amy,Pocky,2,100,200\r\n"
    req = urllib.request.Request(
        f"{stack.api_url}/import/orders",
        method="POST",
        data=csv.encode(),
        headers={"Content-Type": "text/csv", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (loopback)
        assert resp.status == 201
    page.get_by_role("tab", name=tab).click()
    row = page.locator("#pay-list tbody tr[data-id]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(says)
    assert "import" not in row.inner_text().replace("CSV import", "")
    shot(page, f"small-imported-payment-{locale}-phone", full_page=False)


LONG_SHOP = "Kyoto Finds 京都選物 Select Shop"
# Whether an element shows all of its text (not cut by overflow or an ellipsis), and its lines.
SHOWN = """(el) => ({
    whole: el.scrollWidth <= el.clientWidth + 1 && el.scrollHeight <= el.clientHeight + 1,
    lines: Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)),
    top: el.getBoundingClientRect().top,
})"""


def one_row(page, nav: str, parts: list[str]) -> None:
    """Every part of the header on one row: their boxes overlap vertically."""
    boxes = [page.locator(p).bounding_box() for p in parts]
    assert all(b is not None for b in boxes), parts
    lowest_top = max(b["y"] for b in boxes)
    highest_bottom = min(b["y"] + b["height"] for b in boxes)
    assert lowest_top < highest_bottom, boxes
    assert page.locator(nav).bounding_box()["height"] <= 72, page.locator(nav).bounding_box()


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_the_phone_header_fits_one_row_and_the_form_page_shows_the_shop_name(stack, open_page, locale):
    token = api_seller(stack, shop=LONG_SHOP, language="zh-Hant" if locale == "zh-TW" else "en")
    item = api_call(stack, "POST", "/items", token, {"item_name": "Pocky", "price": 120})
    form = api_call(
        stack,
        "POST",
        "/forms",
        token,
        {"batch": "2026-12 京都", "title": "Kyoto", "items": [{"item_id": item["id"]}]},
    )
    # The seller page: brand (the shop's name), language and Log out on one row.
    page = open_page(locale=locale, viewport=PHONE)
    page.goto(f"{stack.site_url}/index.html")
    page.evaluate("(t) => localStorage.setItem('token', t)", token)
    page.reload()
    expect(page.locator("#logout")).to_be_visible()
    expect(page.locator("#brand")).to_have_text(LONG_SHOP)
    one_row(page, "nav.navbar", ["#brand", "#lang", "#logout"])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"small-header-{locale}-phone", full_page=False)
    # The form page: the whole shop name, on at most two lines.
    buyer = open_page(locale=locale, viewport=PHONE)
    buyer.goto(form["url"])
    expect(buyer.locator("#of-shop")).to_have_text(LONG_SHOP)
    brand = buyer.locator("#of-shop").evaluate(SHOWN)
    assert brand["whole"] and brand["lines"] <= 2, brand
    one_row(buyer, "nav.navbar", ["#of-shop", "#of-lang"])
    shot(buyer, f"small-form-brand-{locale}-phone", full_page=False)
