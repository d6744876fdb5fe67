"""axe-core (npm, injected from node_modules) finds no serious or critical violation on
any tab, the login screen or an open order, in either language, at 1280 and 375 px;
keyboard focus stays on a switch after Space toggles it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    order_row,
    seed_orders,
    serious,
    settled,
    sign_up_any_language,
)

pytestmark = pytest.mark.e2e
TABS = {
    "en": ["Orders", "Payments", "Ship", "Batches", "Forms", "Buyers", "Items", "Reports", "Settings"],
    "zh": ["訂單", "收款", "出貨", "批次", "表單", "買家", "商品", "報表", "設定"],
}


@pytest.mark.parametrize(
    ("locale", "viewport"),
    [("en-US", DESKTOP), ("zh-TW", DESKTOP), ("en-US", PHONE), ("zh-TW", PHONE)],
    ids=["en-1280", "zh-1280", "en-375", "zh-375"],
)
def test_no_serious_axe_violations_on_any_tab(stack, open_page, locale, viewport):
    zh = locale == "zh-TW"
    page = open_page(viewport=viewport, locale=locale)
    page.goto(f"{stack.site_url}/index.html")
    expect(page.locator("#login-form")).to_be_visible()
    problems = serious(page, "login")
    sign_up_any_language(page, stack, zh)
    seed_orders(stack, page, n=2)
    page.reload()
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(2)
    for name in TABS["zh" if zh else "en"]:
        page.get_by_role("tab", name=name).click()
        expect(page.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true")
        settled(page)  # its list loaded, the fade over: axe checks the final colours
        problems += serious(page, name)
    page.get_by_role("tab", name=TABS["zh" if zh else "en"][0]).click()
    order_row(page, 1001).locator(".order-open").click()
    expect(page.locator("#order-detail")).to_be_visible()
    problems += serious(page, "order panel")
    assert not problems, "\n".join(problems)


def test_focus_stays_on_a_switch_after_space(stack, page):
    sign_up_any_language(page, stack, zh=False)
    seed_orders(stack, page, n=1)
    page.reload()
    switch = order_row(page, 1001).get_by_role("switch", name="Remitted")
    switch.focus()
    page.keyboard.press("Space")
    expect(order_row(page, 1001).get_by_role("switch", name="Remitted")).to_be_checked()
    expect(order_row(page, 1001)).not_to_have_class(re.compile(r"\bbusy\b"))
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Remitted"
    assert page.evaluate("document.activeElement.closest('tr').dataset.orderNo") == "1001"
    # Space again: back to unpaid, focus still there.
    page.keyboard.press("Space")
    expect(order_row(page, 1001).get_by_role("switch", name="Remitted")).not_to_be_checked()
    expect(order_row(page, 1001)).not_to_have_class(re.compile(r"\bbusy\b"))
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Remitted"
