"""Bulk 已匯款 on the orders tab (issue 26): while the call runs the bulk controls are
disabled and a spinner says what is being done; the "Set status…" menu is disabled from
the first choice, so one request is sent; the answer says how many were marked and which
failed, in both languages, at 375 px."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, api_call, seed_orders, settled, shot

pytestmark = pytest.mark.e2e

TEXT = {
    "en-US": {
        "working": "Marking 3 orders remitted…",
        "done": "2 marked remitted.",
        "failed": "1 could not be changed: #1003 (bulk actions only move forward",
    },
    "zh-TW": {
        "working": "正在將 3 筆訂單標記為已匯款…",
        "done": "2 筆已標記為已匯款。",
        "failed": "1 筆無法變更：#1003 （批次操作只能往後推進",
    },
}


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_bulk_remit_shows_progress_locks_its_buttons_and_says_what_happened(stack, seller_page, locale):
    text = TEXT[locale]
    page = seller_page(locale=locale, viewport=PHONE)
    token = seed_orders(stack, page, n=3)
    orders = api_call(stack, "GET", "/orders?sort=order_no", token)["items"]
    refunded = next(o for o in orders if o["order_no"] == 1003)
    api_call(stack, "PATCH", f"/orders/{refunded['id']}", token, {"payment_status": "refunded"})
    page.reload()
    expect(page.locator("#orders-body [data-id]")).to_have_count(3)

    sent = []
    page.on(
        "request", lambda r: sent.append(r) if r.method == "POST" and r.url.endswith("/orders/bulk") else None
    )
    held = []  # the bulk call is held until the page has been looked at while it runs
    page.route("**/orders/bulk", lambda route: held.append(route))

    for box in page.locator("#orders-body .row-select").all():  # a phone has no select-all
        box.check()
    menu = page.locator("#bulk-status")
    menu.select_option("remitted")
    # A second choice while the question is open lands on a disabled menu: one question.
    expect(menu).to_be_disabled()
    confirm = page.locator("dialog.confirm-dialog")
    expect(confirm).to_be_visible()
    confirm.locator("button[value=yes]").click()

    progress = page.locator("#bulk-progress")
    expect(progress).to_have_text(text["working"])
    expect(progress.locator(".spinner-border")).to_be_visible()
    for button in ("#bulk-status", "#bulk-carrier"):
        expect(page.locator(button)).to_be_disabled()
    expect(page.locator("#bulk-bar")).to_have_attribute("aria-busy", "true")
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:  # the route handler runs as events are read
        page.wait_for_timeout(20)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"bulk-remit-working-{locale}", full_page=False)

    assert len(held) == 1, held
    held[0].continue_()
    flash = page.locator("#flash")
    expect(flash).to_contain_text(text["done"])
    expect(flash).to_contain_text(text["failed"])
    expect(progress).to_be_hidden()
    expect(page.locator("#bulk-bar")).to_have_attribute("aria-busy", "false")
    page.locator("#orders-body .row-select").first.check()  # the list was reloaded, unselected
    expect(menu).to_be_enabled()
    settled(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"bulk-remit-done-{locale}", full_page=False)
    assert len(sent) == 1
    paid = {o["order_no"]: o for o in api_call(stack, "GET", "/orders", token)["items"]}
    assert (paid[1001]["payment_status"], paid[1002]["payment_status"]) == ("remitted", "remitted")
    assert paid[1003]["payment_status"] == "refunded"
