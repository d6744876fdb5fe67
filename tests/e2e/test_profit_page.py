"""Costs, exchange rates and profit per trip (issue 14), English at 1280 px and 繁體中文 at
375 px: an item gets a cost in yen (a yen cost with decimals is refused before sending); the
new-order form takes it along; four orders go into one batch (two with the item's yen cost,
two without a cost); the Batches tab lists the batch with the yen rate missing, its page shows
"—" and why, in its order list and in the order panel; a rate is typed (a bad one refused),
saved as the text typed, and the cost and profit appear on the batch page and in the order
panel; a won rate is added beside it and taken out again; an order's cost is set in the
panel; the batch is closed (rates locked, new orders refused); the reports tab's Profit
section shows the chart and the table (margin in percent), per batch and per month, an empty
month range, its CSV downloads, a batch's name opens its page (reopened there) and its
"without cost" count opens its orders. axe finds nothing serious; at 375 px nothing is wider
than the screen and the controls of the new parts are at least 44 px high."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    api_call,
    api_request,
    order_row,
    scroll_top,
    serious,
    settled,
    shot,
)

pytestmark = pytest.mark.e2e

BATCH = "2026-12 東京"
RATE = "0.2115"
WORDS = {
    "en": {
        "items": "Items",
        "orders": "Orders",
        "batches": "Batches",
        "reports": "Reports",
        "save": "Save",
        "whole": "JPY has no decimals",
        "no_rate_badge": "No rate: JPY",
        "no_rate": "no rate for JPY in this batch",
        "no_cost": "no cost",
        "missing_help": "No exchange rate for JPY yet",
        "rate_error": "JPY rate: enter a number above 0",
        "saved": "Saved.",
        "closed": "Closed",
        "open": "Open",
        "empty": "Nothing to report yet.",
        "reopen": "Reopen batch",
        "close": "Close batch",
        "per_month": "Per month",
        "per_batch": "Per batch",
        "month": "Month",
        "without_cost": "1 without cost",
        "counted": "Profit counts 3 of 4 orders.",
        "closed_msg": "is closed",
        "no_payments": "No payments on this order yet.",
    },
    "zh": {
        "items": "商品",
        "orders": "訂單",
        "batches": "批次",
        "reports": "報表",
        "save": "儲存",
        "whole": "JPY 沒有小數",
        "no_rate_badge": "缺匯率：JPY",
        "no_rate": "此批次沒有 JPY 匯率",
        "no_cost": "沒有成本",
        "missing_help": "還沒有 JPY 的匯率",
        "rate_error": "JPY 匯率：請輸入大於 0",
        "saved": "已儲存",
        "closed": "已結單",
        "open": "進行中",
        "empty": "目前沒有資料。",
        "reopen": "重新開啟",
        "close": "結單",
        "per_month": "依月份",
        "per_batch": "依批次",
        "month": "月份",
        "without_cost": "1 筆沒有成本",
        "counted": "利潤計入 4 筆訂單中的 3 筆。",
        "closed_msg": "已結單",
        "no_payments": "這筆訂單還沒有付款。",
    },
}


def scroll_to(page, selector):
    """`selector` at the top of the screen, below the sticky bar (for a shot of the screen)."""
    page.evaluate(
        """(sel) => window.scrollTo({top: document.querySelector(sel).getBoundingClientRect().top
            + window.scrollY - document.querySelector('nav').offsetHeight - 8, behavior: 'instant'})""",
        selector,
    )
    settled(page)


def fits_phone(page, area=None):
    """Nothing wider than the phone's screen (the page never scrolls sideways); in `area`,
    every visible control at least 44 px high."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if area:
        small = page.evaluate(
            """(area) => [...document.querySelectorAll(`${area} button, ${area} input, ${area} select`)]
                .filter((el) => el.offsetParent !== null && !el.classList.contains("btn-check"))
                .map((el) => [el.id || el.name || el.className, Math.round(el.getBoundingClientRect().height)])
                .filter(([, h]) => h < 44)""",
            area,
        )
        assert small == [], small


def batch_order(page, no):
    return page.locator(f'#batch-orders tr[data-order-no="{no}"]')


def seed(stack, token, item_id):
    """After #1001 (two Tokyo Bananas, made in the page): #1002 one (+60 shipping) with the
    item's ¥1,200 cost; #1003 Pocky and #1004 Kit Kat without a cost; all in BATCH."""
    bodies = [
        {"item_id": item_id, "quantity": 1, "unit_price": 450, "shipping_fee": 60},
        {"item_name": "Pocky", "quantity": 1, "unit_price": 100},
        {"item_name": "Kit Kat", "quantity": 1, "unit_price": 80},
    ]
    for i, body in enumerate(bodies):
        api_call(
            stack,
            "POST",
            "/orders",
            token,
            {
                "buyer_email": f"buyer{(i + 1) % 2}@example.com",
                "buyer_name": ["Amy Chen", "Ben Wu"][(i + 1) % 2],
                "batch": BATCH,
                **body,
            },
        )


@pytest.mark.parametrize(
    ("locale", "viewport"), [("en-US", DESKTOP), ("zh-TW", PHONE)], ids=["en-desktop", "zh-phone"]
)
def test_costs_rates_and_profit_per_trip(stack, seller_page, locale, viewport):
    zh = locale == "zh-TW"
    phone = viewport == PHONE
    w = WORDS["zh" if zh else "en"]
    tag = "zh-phone" if zh else "en-desktop"
    page = seller_page(viewport=viewport, locale=locale)
    token = page.evaluate("localStorage.getItem('token')")

    # An item with its cost in yen: decimals are refused before anything is sent.
    page.get_by_role("tab", name=w["items"]).click()
    form = page.locator("#item-form")
    expect(form.locator("[name=cost_currency]")).to_have_value("TWD")  # the shop's
    form.locator("[name=item_name]").fill("Tokyo Banana 8 pcs")
    form.locator("[name=price]").fill("450")
    form.locator("[name=cost]").fill("1200.5")
    form.locator("[name=cost_currency]").select_option("JPY")
    form.get_by_role("button", name=w["save"]).click()
    expect(page.locator("#item-form-msg")).to_contain_text(w["whole"])
    expect(form.locator("[name=cost]")).to_have_class(re.compile(r"\bis-invalid\b"))
    assert api_call(stack, "GET", "/items", token)["items"] == []
    form.locator("[name=cost]").fill("1200")
    form.get_by_role("button", name=w["save"]).click()
    row = page.locator("#items-body tr", has_text="Tokyo Banana")
    expect(row.locator(".item-cost")).to_have_text("¥1,200")
    item = api_call(stack, "GET", "/items", token)["items"][0]
    assert (item["cost"], item["cost_currency"]) == (1200, "JPY")
    scroll_top(page)
    shot(page, f"profit-items-{tag}")
    if phone:
        fits_phone(page)

    # A new order takes the item's cost along (and sends it).
    page.get_by_role("tab", name=w["orders"]).click()
    page.locator("#new-order-box summary").click()
    new = page.locator("#order-form")
    new.locator("[name=buyer_email]").fill("buyer0@example.com")
    new.locator("[name=buyer_name]").fill("Amy Chen")
    new.locator("[name=item_name]").fill("Tokyo Banana 8 pcs")
    expect(new.locator("[name=cost]")).to_have_value("1200")
    expect(new.locator("[name=cost_currency]")).to_have_value("JPY")
    new.locator("[name=quantity]").fill("2")
    new.locator("[name=batch]").fill(BATCH)
    new.locator("[type=submit]").click()
    expect(page.locator("#order-form-msg")).to_contain_text("#1001")
    first = api_call(stack, "GET", "/orders", token)["items"][0]
    assert (first["cost"], first["cost_currency"], first["cost_amount"]) == (1200, "JPY", None)
    if phone:
        fits_phone(page)
    seed(stack, token, item["id"])

    # The batch list: four orders, the yen rate missing.
    page.get_by_role("tab", name=w["batches"]).click()
    listed = page.locator(f'#batch-list tr[data-batch="{BATCH}"]')
    expect(listed).to_contain_text(w["no_rate_badge"])
    expect(listed).to_contain_text("NT$1,590")
    scroll_top(page)
    shot(page, f"profit-batches-{tag}")
    if phone:
        fits_phone(page)

    # Its page: cost and profit unknown, and why.
    listed.locator(".batch-open-btn").click()
    expect(page.locator("#batch-page-title")).to_have_text(BATCH)
    expect(page.locator("#batch-missing")).to_contain_text(w["missing_help"])
    expect(page.locator("#batch-orders tbody tr[data-id]")).to_have_count(4)
    expect(batch_order(page, 1001).locator(".cell-cost")).to_contain_text(w["no_rate"])
    expect(batch_order(page, 1003).locator(".cell-profit")).to_contain_text(w["no_cost"])
    expect(page.locator("#batch-summary .batch-profit")).to_have_text("—")
    expect(page.locator("#rate-JPY")).to_have_attribute("inputmode", "decimal")
    expect(page.locator("#rate-JPY")).to_have_attribute("type", "text")
    scroll_top(page)
    shot(page, f"profit-batch-no-rate-{tag}")
    if phone:
        fits_phone(page, "#tab-batches")
    problems = serious(page, f"batch page {tag}")

    # The order panel says the same before there is a rate.
    batch_order(page, 1001).locator(".order-open").click()
    panel = page.locator("#order-detail")
    expect(panel.locator("#detail-cost-amount")).to_have_text("—")
    expect(panel.locator("#detail-cost-hint")).to_have_text(w["no_rate"])
    expect(panel.locator("#detail-profit-amount")).to_have_text("—")
    expect(panel.locator("[name=cost]")).to_have_value("1200")
    expect(panel.locator("[name=cost_currency]")).to_have_value("JPY")
    page.locator("#detail-close").click()

    # A rate with 7 decimals is refused in the page; the right one is saved as typed.
    page.locator("#rate-JPY").fill("0.2115001")
    page.locator("#batch-save").click()
    expect(page.locator("#batch-msg")).to_contain_text(w["rate_error"])
    expect(page.locator("#rate-JPY")).to_have_class(re.compile(r"\bis-invalid\b"))
    page.locator("#rate-JPY").fill(RATE)
    page.locator("#batch-save").click()
    expect(page.locator("#batch-msg")).to_contain_text(w["saved"])
    expect(page.locator("#batch-missing")).to_be_empty()
    saved = next(b for b in api_call(stack, "GET", "/batches", token) if b["name"] == BATCH)
    assert saved["rates"] == {"JPY": RATE} and saved["missing_rates"] == []
    # 1,200 yen × 2 × 0.2115 = NT$507.60; 900 − 507.60 = NT$392.40.
    expect(batch_order(page, 1001).locator(".cell-cost")).to_have_text("NT$507.60")
    expect(batch_order(page, 1001).locator(".cell-profit")).to_have_text("NT$392.40")
    # 510 − 60 shipping − 253.80 = NT$196.20.
    expect(batch_order(page, 1002).locator(".cell-profit")).to_have_text("NT$196.20")
    # Counted: 900 + 510 − 60 − 761.40 = NT$588.60 of NT$1,410: 41.7 %.
    expect(page.locator("#batch-summary .batch-profit")).to_have_text("NT$588.60")
    expect(page.locator("#batch-summary .batch-margin")).to_have_text("41.7%")

    # Another currency: added, saved beside the yen (rates merge), then taken out again.
    page.locator("#batch-add-currency").select_option("KRW")
    page.locator("#batch-add-rate").click()
    expect(page.locator("#rate-KRW")).to_be_focused()
    page.locator("#rate-KRW").fill("0.0235")
    page.locator("#batch-save").click()
    expect(page.locator("#batch-msg")).to_contain_text(w["saved"])
    expect(page.locator("#rate-KRW")).to_have_value("0.0235")
    saved = next(b for b in api_call(stack, "GET", "/batches", token) if b["name"] == BATCH)
    assert saved["rates"] == {"JPY": RATE, "KRW": "0.0235"}
    page.locator('.rate-row[data-currency="KRW"] .rate-remove').click()
    expect(page.locator("#rate-KRW")).to_have_count(0)  # no order costs won
    page.locator("#batch-save").click()
    expect(page.locator("#batch-msg")).to_contain_text(w["saved"])
    saved = next(b for b in api_call(stack, "GET", "/batches", token) if b["name"] == BATCH)
    assert saved["rates"] == {"JPY": RATE}

    # The panel: the order's cost in NT$ and its profit; a cost typed for Pocky.
    batch_order(page, 1001).locator(".order-open").click()
    expect(panel.locator("#detail-cost-amount")).to_have_text("NT$507.60")
    expect(panel.locator("#detail-cost-hint")).to_have_text("¥1,200 × 2" + (" 件" if zh else ""))
    expect(panel.locator("#detail-profit-amount")).to_have_text("NT$392.40")
    panel.locator("#detail-profit").scroll_into_view_if_needed()
    settled(page)  # the panel slid in: axe checks its final colours
    shot(page, f"profit-order-panel-{tag}", full_page=False)
    problems += serious(page, f"order panel {tag}")
    page.locator("#detail-close").click()
    batch_order(page, 1003).locator(".order-open").click()
    expect(panel.locator("#detail-profit-hint")).to_have_text(w["no_cost"])
    # The server's copy of the order is in (its payments are read after it).
    expect(panel.locator("#detail-payments")).to_have_text(w["no_payments"])
    panel.locator("[name=cost]").fill("50")
    expect(panel.locator("[name=cost_currency]")).to_have_value("TWD")
    panel.locator("#detail-save").click()
    expect(panel.locator("#detail-cost-amount")).to_have_text("NT$50")
    expect(panel.locator("#detail-profit-amount")).to_have_text("NT$50")
    page.locator("#detail-close").click()
    expect(batch_order(page, 1003).locator(".cell-profit")).to_have_text("NT$50")
    # Now 1,510 − 60 − 811.40 = NT$638.60 of NT$1,510: 42.3 %; Kit Kat still has no cost.
    expect(page.locator("#batch-summary .batch-profit")).to_have_text("NT$638.60")
    expect(page.locator("#batch-summary .batch-margin")).to_have_text("42.3%")
    expect(page.locator("#batch-counted")).to_contain_text(w["counted"])
    scroll_top(page)
    shot(page, f"profit-batch-{tag}")
    if phone:
        fits_phone(page, "#tab-batches")

    # Close the batch: rates locked here and by the server; new orders refused.
    page.locator("#batch-close").click()
    expect(page.locator("#batch-msg")).to_contain_text(w["closed_msg"])
    expect(page.locator("#batch-status")).to_have_text(w["closed"])
    expect(page.locator("#rate-JPY")).to_be_disabled()
    expect(page.locator("#batch-close")).to_have_text(w["reopen"])
    status, out = api_request(stack, "PATCH", f"/batches/{quote(BATCH)}", token, {"rates": {"JPY": "0.3"}})
    assert status == 409 and out["error"]["code"] == "batch_closed", out
    status, out = api_request(
        stack,
        "POST",
        "/orders",
        token,
        {
            "buyer_email": "buyer0@example.com",
            "item_name": "Late",
            "quantity": 1,
            "unit_price": 1,
            "batch": BATCH,
        },
    )
    assert status == 409 and out["error"]["code"] == "batch_closed", out
    settled(page)  # the close's message and buttons have their final colours
    problems += serious(page, f"closed batch {tag}")
    scroll_top(page)
    shot(page, f"profit-batch-closed-{tag}", full_page=False)
    page.locator("#batch-back").click()
    expect(page.locator(f'#batch-list tr[data-batch="{BATCH}"] .batch-closed')).to_have_text(w["closed"])

    # Reports: the Profit chart and table, per batch and per month.
    page.get_by_role("tab", name=w["reports"]).click()
    profit_row = page.locator(f'#rep-profit tbody tr[data-key="{BATCH}"]')
    expect(profit_row.locator(".profit-amount")).to_have_text("NT$638.60")
    expect(profit_row.locator(".profit-margin")).to_have_text("42.3%")
    expect(page.locator("#rep-profit tfoot .profit-amount")).to_have_text("NT$638.60")
    chart = page.evaluate(
        """() => { const c = Chart.getChart(document.querySelector('#rep-profit-chart'));
            return {labels: c.data.labels, sets: c.data.datasets.map((d) => d.data)}; }"""
    )
    assert chart["labels"] == [BATCH]
    assert chart["sets"] == [[1590], [811.4], [638.6]]
    scroll_top(page)
    shot(page, f"profit-reports-{tag}")
    scroll_to(page, "#rep-profit-box")
    shot(page, f"profit-reports-section-{tag}", full_page=False)
    if phone:
        fits_phone(page, "#rep-profit-box")
    with page.expect_download() as info:
        page.locator("[data-profit-csv=batch]").click()
    assert info.value.suggested_filename == "profit-batch.csv"
    text = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    assert BATCH in text and "638.6" in text, text
    page.get_by_text(w["per_month"], exact=True).click()
    expect(page.locator("#rep-profit-key")).to_have_text(w["month"])
    expect(page.locator("#rep-profit tbody tr")).to_have_count(1)
    expect(page.locator("#rep-profit tbody .profit-amount")).to_have_text("NT$638.60")
    assert len(page.evaluate("Chart.getChart(document.querySelector('#rep-profit-chart')).data.labels")) == 1
    settled(page)  # the buttons' colour transitions end
    problems += serious(page, f"reports {tag}")
    if phone:
        scroll_to(page, "#rep-profit")
        shot(page, f"profit-reports-month-{tag}", full_page=False)
        fits_phone(page)
    # A month range with no orders: nothing to report.
    page.locator("#rep-profit-from").fill("2099-01")
    expect(page.locator("#rep-profit tbody")).to_contain_text(w["empty"])
    page.locator("#rep-profit-from").fill("")
    expect(page.locator("#rep-profit tbody .profit-amount")).to_have_text("NT$638.60")

    # The batch's name opens its page; "1 without cost" opens its orders.
    page.get_by_text(w["per_batch"], exact=True).click()
    profit_row.locator("a.batch-link").click()
    expect(page.locator("#batch-page-title")).to_have_text(BATCH)
    expect(page.locator("#rate-JPY")).to_have_value(RATE)
    expect(page.locator("#batch-status")).to_have_text(w["closed"])
    # Reopened: the rates can change again.
    page.locator("#batch-close").click()
    expect(page.locator("#batch-status")).to_have_text(w["open"])
    expect(page.locator("#rate-JPY")).to_be_enabled()
    # The other language redraws the open batch (typed rates and all).
    page.locator("#rate-JPY").fill("0.22")
    page.locator("#lang").select_option("en" if zh else "zh-Hant")
    expect(page.locator("#batch-summary-title")).to_have_text("This batch's profit" if zh else "此批次的利潤")
    expect(page.locator("#rate-JPY")).to_have_value("0.22")
    page.locator("#lang").select_option("zh-Hant" if zh else "en")
    expect(page.locator("#batch-summary-title")).to_have_text("此批次的利潤" if zh else "This batch's profit")
    page.locator("#rate-JPY").fill(RATE)
    assert next(b for b in api_call(stack, "GET", "/batches", token) if b["name"] == BATCH)["closed"] is False
    # A parcel of the batch whose carrier cost the seller paid (issue 26): its own column,
    # taken off the profit.
    shipped = next(
        o
        for o in api_call(stack, "GET", "/orders?limit=200", token)["items"]
        if o["batch"] == BATCH and o["fulfillment_status"] != "cancelled"
    )
    api_call(
        stack,
        "POST",
        "/parcels",
        token,
        {
            "customer_id": shipped["customer_id"],
            "order_ids": [shipped["id"]],
            "method": "post",
            "shipping_paid_by": "seller",
            "shipping_cost": 38.6,
        },
    )
    page.get_by_role("tab", name=w["reports"]).click()
    expect(profit_row.locator(".profit-shipping-cost")).to_have_text("NT$38.60")
    expect(profit_row.locator(".profit-amount")).to_have_text("NT$600")
    missing = profit_row.locator(".profit-missing-cost")
    expect(missing).to_have_text(w["without_cost"])
    missing.click()
    expect(page.locator("#tab-orders")).to_be_visible()
    expect(page.locator("#order-filters [name=batch_prefix]")).to_have_value(BATCH)
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(4)
    expect(order_row(page, 1004)).to_be_visible()
    assert not problems, "\n".join(problems)
