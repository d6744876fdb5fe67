"""Merging two buyers who are the same person in the Buyers tab (issue 25), on a phone, in
English and in Chinese: the panel lists the same-name buyer with their contacts, says
what moves and that the other is deleted, and the list then has one buyer with every order."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, api_call, api_request, settled, shot

pytestmark = pytest.mark.e2e

NAME = "林志明"
TEXTS = {
    "en": {
        "tab": "Buyers",
        "merge": "Merge…",
        "moves": "The orders, payments, parcels and tracking links of",
        "go": "Merge and delete the other",
        "done": "is merged into",
    },
    "zh": {
        "tab": "買家",
        "merge": "合併…",
        "moves": "的訂單、付款、包裹與查詢連結會移到",
        "go": "合併並刪除另一位",
        "done": "已將",
    },
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_merge_two_buyers_of_one_name_on_a_phone(stack, seller_page, lang):
    page = seller_page(locale="zh-TW" if lang == "zh" else "en-US", viewport=PHONE)
    text = TEXTS[lang]
    token = page.evaluate("localStorage.getItem('token')")
    keep = api_call(stack, "POST", "/customers", token, {"name": NAME, "email": "lin@example.com"})
    other = api_call(
        stack,
        "POST",
        "/customers",
        token,
        {"name": NAME, "email": "lin.line@example.com", "phone": "0912-345-678"},
    )
    for who in (keep, other):
        body = {"customer_id": who["id"], "item_name": "抹茶", "quantity": 1, "unit_price": 300}
        api_call(stack, "POST", "/orders", token, body)

    page.get_by_role("tab", name=text["tab"]).click()
    rows = page.locator("#customers-body tr")
    expect(rows).to_have_count(2)
    rows.filter(has_text="lin@example.com").get_by_role("button", name=text["merge"]).click()
    panel = page.locator(".merge-panel")
    choice = panel.locator(".merge-choices label")
    # Only the other buyer is offered, told apart by their contacts.
    expect(choice).to_have_count(1)
    expect(choice).to_contain_text(NAME)
    expect(choice).to_contain_text("lin.line@example.com")
    expect(panel.get_by_role("button", name=text["go"])).to_be_disabled()
    choice.click()
    warning = panel.locator(".merge-warning")
    expect(warning).to_contain_text(text["moves"])
    settled(page, 375)
    shot(page, f"merge-buyers-confirm-{lang}", full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone

    panel.get_by_role("button", name=text["go"]).click()
    expect(page.locator("#merge-box")).to_contain_text(text["done"])
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("lin@example.com")
    settled(page, 375)
    shot(page, f"merge-buyers-done-{lang}", full_page=False)

    status, _ = api_request(stack, "GET", f"/customers/{other['id']}", token)
    assert status == 404
    mine = api_call(stack, "GET", f"/orders?customer_id={keep['id']}", token)["items"]
    assert len(mine) == 2
