"""Issue 25: the LINE-ready message per buyer (the Reports "Copy message") is there wherever
the seller looks at a buyer: the Buyers tab, the order panel and the Ship card, each with
the same text as Reports (one shared helper) and copied to the clipboard; English at
1280 px and 繁體中文 at 375 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, api_call, order_row, seed_orders, serious, settled, shot

pytestmark = pytest.mark.e2e

WORDS = {
    False: {"reports": "Reports", "buyers": "Buyers", "ship": "Ship", "copy": "Copy message for Amy Chen"},
    True: {"reports": "報表", "buyers": "買家", "ship": "出貨", "copy": "複製訊息：給 Amy Chen 的付款通知"},
}


def message_from(page, button, text_box):
    """Click a "Copy message" button and return (shown text, clipboard). No question first:
    the message carries the link the buyer already has (GET .../tracking-link)."""
    button.click()
    box = page.locator(text_box)
    expect(box).to_be_visible()
    text = box.input_value()
    expect(box.locator("xpath=..")).to_contain_text(re.compile("Copied|已複製"))
    return text, page.evaluate("navigator.clipboard.readText()")


@pytest.mark.parametrize(
    ("locale", "viewport"), [("en-US", DESKTOP), ("zh-TW", PHONE)], ids=["en", "zh-phone"]
)
def test_copy_message_is_the_same_in_buyers_order_panel_and_ship_as_in_reports(
    stack, seller_page, locale, viewport
):
    zh = locale == "zh-TW"
    w = WORDS[zh]
    page = seller_page(viewport=viewport, locale=locale)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.site_url)
    token = seed_orders(stack, page, n=3)  # Amy Chen: #1001, #1003
    api_call(stack, "PATCH", "/auth/me", token, {"payment_instructions": "國泰世華 013 帳號 1234-567-890"})
    for o in api_call(stack, "GET", "/orders", token)["items"]:
        api_call(stack, "PATCH", f"/orders/{o['id']}", token, {"fulfillment_status": "purchased"})
    page.reload()
    problems: list[str] = []

    page.get_by_role("tab", name=w["reports"]).click()
    amy = page.locator("#rep-buyers tbody tr", has_text="Amy Chen")
    reports, copied = message_from(page, amy.get_by_role("button", name=w["copy"]), "#rep-message-text")
    assert copied == reports and "#1001" in reports and "1234-567-890" in reports, reports

    page.get_by_role("tab", name=w["buyers"]).click()
    row = page.locator("#customers-body tr", has_text="Amy Chen")
    text, copied = message_from(page, row.get_by_role("button", name=w["copy"]), "#cust-message-text")
    assert text == reports and copied == text, (text, reports)
    settled(page)
    problems += serious(page, f"buyers tab message {locale}")
    shot(page, f"buyer-message-buyers-{locale}")

    page.get_by_role("tab", name="Orders" if not zh else "訂單").click()
    order_row(page, 1001).get_by_role("button", name=re.compile("1001")).click()
    panel = page.locator("#order-detail")
    expect(panel).to_be_visible()
    text, copied = message_from(page, panel.get_by_role("button", name=w["copy"]), "#detail-message-text")
    assert text == reports and copied == text, (text, reports)
    settled(page)
    shot(page, f"buyer-message-order-{locale}", full_page=False)
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()

    page.get_by_role("tab", name=w["ship"]).click()
    card = page.locator("#ship-ready .ship-buyer", has_text="Amy Chen")
    text, copied = message_from(
        page, card.get_by_role("button", name=w["copy"]), "#ship-ready .buyer-message-text"
    )
    assert text == reports and copied == text, (text, reports)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    settled(page)
    problems += serious(page, f"ship card message {locale}")
    shot(page, f"buyer-message-ship-{locale}")
    assert not problems, "\n".join(problems)
