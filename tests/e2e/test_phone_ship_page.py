"""Issue 27's "Phone", "Ship" and "Exchange rates": a phone's first screen shows orders
(filters folded behind one button with a count, the new-order form folded, every tab in
sight, the header on one row); the Ship tab filters by batch and an undo stays on its tab;
a rate that looks inverted asks before saving."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, api_call, order_row, seed_orders, settled, shot, show_filters

pytestmark = pytest.mark.e2e

# iPhone SE / 8: the shortest phone screen in common use; what fits here fits on a 375×812 one.
SMALL_PHONE = {"width": 375, "height": 667}
# The longest shop name the server takes (200 characters), in the widest script.
LONG_SHOP = ("東京大阪首爾代購小舖" * 20)[:200]
BATCH = "2026-12 東京"
OTHER = "2026-11 大阪"

WORDS = {
    "en": {
        "filters": "Filters",
        "filters_2": "Filters (2)",
        "orders": "Orders",
        "ship": "Ship",
        "batches": "Batches",
        "shipped": "Shipped",
        "undo": "Undo",
        "none_other": f"Nothing of {OTHER} is waiting to ship.",
        "inverted": "looks inverted",
        "fix": "Fix it",
        "saved": "Saved",
    },
    "zh": {
        "filters": "篩選",
        "filters_2": "篩選（2）",
        "orders": "訂單",
        "ship": "出貨",
        "batches": "批次",
        "shipped": "已出貨",
        "undo": "復原",
        "none_other": f"{OTHER} 沒有待出貨的訂單。",
        "inverted": "看起來是反過來的",
        "fix": "返回修改",
        "saved": "已儲存",
    },
}

CASES = [pytest.param("en-US", id="en"), pytest.param("zh-TW", id="zh")]


def within_screen(box, screen) -> bool:
    return (
        box["x"] >= 0
        and box["x"] + box["width"] <= screen["width"]
        and box["y"] + box["height"] <= screen["height"]
    )


@pytest.mark.parametrize("locale", CASES)
def test_a_phones_first_screen_shows_orders_and_every_tab(stack, seller_page, locale):
    zh = locale == "zh-TW"
    w = WORDS["zh" if zh else "en"]
    page = seller_page(locale=locale, viewport=SMALL_PHONE)
    token = seed_orders(stack, page, n=4)
    api_call(stack, "PATCH", "/auth/me", token, {"shop_name": LONG_SHOP})
    page.reload()
    # Half an order typed, then the page reloaded: the draft is kept, folded on a phone.
    page.locator("#new-order-box summary").click()
    page.locator("#order-form [name=item_name]").fill("Royce")
    page.reload()
    rows = page.locator("#orders-body tr[data-id]")
    expect(rows).to_have_count(4)
    expect(page.locator("#brand")).to_have_text(LONG_SHOP)
    expect(page.locator("#order-form [name=item_name]")).to_have_value("Royce")
    expect(page.locator("#new-order-box")).not_to_have_attribute("open", "")
    expect(page.locator("#order-filters [name=q]")).to_be_hidden()
    settled(page, width=SMALL_PHONE["width"])

    # The first order is whole on the first screen.
    first = rows.first.bounding_box()
    assert within_screen(first, SMALL_PHONE), first
    # The header is one row: the shop's name gives way, Log out stays on its line.
    nav = page.locator("nav.navbar").bounding_box()
    brand = page.locator("#brand").bounding_box()
    logout = page.locator("#logout").bounding_box()
    assert nav["height"] < 2 * logout["height"], (nav, logout)
    assert abs((brand["y"] + brand["height"] / 2) - (logout["y"] + logout["height"] / 2)) < 4, (brand, logout)
    assert page.locator("#brand").evaluate("el => el.scrollWidth > el.clientWidth")  # cut with an ellipsis
    # Every tab is in sight: no bar to scroll sideways, nothing off the screen's edge.
    tabs = page.get_by_role("tab")
    expect(tabs).to_have_count(9)
    for i in range(9):
        tab = tabs.nth(i)
        expect(tab).to_be_visible()
        box = tab.bounding_box()
        assert within_screen(box, SMALL_PHONE), (tab.inner_text(), box)
        assert box["height"] >= 44 and box["width"] >= 44, box  # a tap target
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    shot(page, f"phone-first-screen-{'zh' if zh else 'en'}", full_page=False)

    # The filters unfold, are set, fold again with their count on the button.
    toggle = page.locator("#filters-toggle")
    expect(toggle).to_have_text(w["filters"])
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    filters = page.locator("#order-filters")
    expect(filters.locator("[name=q]")).to_be_visible()
    filters.locator("[name=q]").fill("Pocky 1")
    expect(rows).to_have_count(1)
    filters.locator("[name=fulfillment_status]").select_option("pending")
    filters.locator("[name=sort]").select_option("order_no")  # orders the list, hides nothing
    page.wait_for_url(re.compile(r"sort=order_no"))  # the list asked again (after 300 ms)
    settled(page)
    expect(toggle).to_have_text(w["filters_2"])
    shot(page, f"phone-filters-open-{'zh' if zh else 'en'}", full_page=False)
    toggle.click()
    expect(filters.locator("[name=q]")).to_be_hidden()
    expect(toggle).to_have_text(w["filters_2"])
    expect(rows).to_have_count(1)
    assert within_screen(rows.first.bounding_box(), SMALL_PHONE)
    # Filters the page sets itself (here from the address, on a reload) are counted too.
    page.reload()
    expect(rows).to_have_count(1)
    expect(toggle).to_have_text(w["filters_2"])
    show_filters(page)
    filters.locator("[name=q]").fill("")
    expect(toggle).to_have_text(aside(w["filters"], 1, zh))
    expect(rows).to_have_count(4)  # all four are pending

    # A wide screen shows the filters open, with no button.
    page.set_viewport_size(DESKTOP)
    settled(page, width=DESKTOP["width"])
    expect(filters.locator("[name=q]")).to_be_visible()
    expect(toggle).to_be_hidden()


def aside(text, n, zh):
    return f"{text}（{n}）" if zh else f"{text} ({n})"


PAGES = [pytest.param("en-US", DESKTOP, id="en-desktop"), pytest.param("zh-TW", SMALL_PHONE, id="zh-phone")]


@pytest.mark.parametrize(("locale", "viewport"), PAGES)
def test_ship_filters_by_batch_and_an_undo_stays_on_its_tab(stack, seller_page, locale, viewport):
    zh = locale == "zh-TW"
    w = WORDS["zh" if zh else "en"]
    page = seller_page(locale=locale, viewport=viewport)
    token = seed_orders(stack, page, n=3, batch=BATCH)  # #1001 Amy, #1002 Ben, #1003 Amy
    body = {"buyer_email": "buyer0@example.com", "item_name": "Royce", "quantity": 1, "unit_price": 780}
    osaka = api_call(stack, "POST", "/orders", token, {**body, "batch": OTHER})  # #1004 Amy
    for o in api_call(stack, "GET", "/orders?limit=10", token)["items"]:
        if o["order_no"] != 1003:
            api_call(stack, "PATCH", f"/orders/{o['id']}", token, {"fulfillment_status": "purchased"})
    page.reload()

    # An undo offered on the orders tab is gone as soon as another tab opens.
    order_row(page, 1003).get_by_role("switch", name=w["shipped"]).check()
    undo = page.locator("#undo-bar")
    expect(undo.get_by_role("button", name=w["undo"])).to_be_visible()
    page.get_by_role("tab", name=w["ship"]).click()
    assert page.locator("#undo-bar > *").count() == 0  # at once, not when its 8 s are up
    expect(page.locator("#tab-ship")).to_be_visible()
    ready = page.locator("#ship-ready .ship-order")
    expect(ready).to_have_count(3)  # #1001, #1002, #1004
    expect(undo.get_by_role("button")).to_have_count(0)

    # The batch filter: every batch offered, one chosen narrows the list to its orders.
    batch = page.locator("#ship-filter-batch")
    expect(batch.locator("option")).to_have_count(3)
    expect(batch.locator("option").nth(1)).to_have_text(BATCH)
    expect(batch.locator("option").nth(2)).to_have_text(OTHER)
    batch.select_option(BATCH)
    expect(ready).to_have_count(2)
    expect(page.locator("#ship-ready")).to_contain_text("#1001")
    expect(page.locator("#ship-ready")).not_to_contain_text("#1004")
    shot(page, f"ship-batch-filter-{'zh-phone' if zh else 'en-desktop'}", full_page=False)
    batch.select_option(OTHER)
    expect(ready).to_have_count(1)
    expect(page.locator("#ship-ready")).to_contain_text("#1004")
    # Packed elsewhere meanwhile: that batch then has nothing waiting, and says so.
    api_call(stack, "PATCH", f"/orders/{osaka['id']}", token, {"fulfillment_status": "shipped"})
    batch.select_option("")
    expect(ready).to_have_count(2)
    batch.select_option(OTHER)
    expect(page.locator("#ship-none-ready")).to_have_text(w["none_other"])
    if viewport == SMALL_PHONE:
        assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]


@pytest.mark.parametrize(("locale", "viewport"), PAGES)
def test_an_inverted_rate_asks_before_saving(stack, seller_page, locale, viewport):
    zh = locale == "zh-TW"
    w = WORDS["zh" if zh else "en"]
    page = seller_page(locale=locale, viewport=viewport)
    token = page.evaluate("localStorage.getItem('token')")
    body = {"buyer_email": "amy@example.com", "item_name": "Tokyo Banana", "quantity": 1, "unit_price": 450}
    api_call(stack, "POST", "/orders", token, {**body, "batch": BATCH, "cost": 1200, "cost_currency": "JPY"})
    page.get_by_role("tab", name=w["batches"]).click()
    page.locator(f'#batch-list tr[data-batch="{BATCH}"] .batch-open-btn').click()
    rate = page.locator("#rate-JPY")

    # 1 JPY = 4.7 TWD is TWD → JPY: asked, with what it probably should be; Fix it saves nothing.
    rate.fill("4.7")
    page.locator("#batch-save").click()
    confirm = page.locator("dialog.confirm-dialog")
    expect(confirm).to_contain_text(w["inverted"])
    expect(confirm).to_contain_text("0.21 TWD")  # about what a yen is
    expect(confirm).to_contain_text("0.2128")  # 1 ÷ 4.7
    shot(page, f"rate-inverted-{'zh-phone' if zh else 'en-desktop'}", full_page=False)
    confirm.get_by_role("button", name=w["fix"]).click()
    expect(confirm).to_have_count(0)
    expect(rate).to_be_focused()
    expect(rate).to_have_value("4.7")
    saved = next(b for b in api_call(stack, "GET", "/batches", token) if b["name"] == BATCH)
    assert saved["rates"] == {}

    # The right way round is saved without a question.
    rate.fill("0.2128")
    page.locator("#batch-save").click()
    expect(page.locator("#batch-msg")).to_contain_text(w["saved"])
    expect(confirm).to_have_count(0)
    saved = next(b for b in api_call(stack, "GET", "/batches", token) if b["name"] == BATCH)
    assert saved["rates"] == {"JPY": "0.2128"}
