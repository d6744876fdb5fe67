"""Issue 27, the orders list as fast as a spreadsheet: one line an order (25 or more at
1280×800 with the header and filters), a batch column, a phone card that opens its order
with a tap, and quantity, unit price, shipping fee and status edited in the row (Enter
saves, Esc cancels, Tab saves and goes on; the server's rules; the panel's undo)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, api_call, order_row, settled, shot

WORDS = {
    "en-US": {
        "batch": "Batch",
        "qty": "Qty",
        "fee": "Shipping fee",
        "not_an_amount": "#1003: Shipping fee: not an amount",
        "stock": "only 4 more in stock",
        "undo": "Undo",
        "undone": "Undone.",
        "purchased": "Purchased",
        "undo_qty": "#1001: Qty 3.",
    },
    "zh-TW": {
        "batch": "批次",
        "qty": "數量",
        "fee": "運費",
        "not_an_amount": "#1003：運費：不是金額",
        "stock": "的庫存只剩 4",
        "undo": "復原",
        "undone": "已復原。",
        "purchased": "已購買",
        "undo_qty": "#1001：數量 3。",
    },
}


def token_of(page):
    return page.evaluate("localStorage.getItem('token')")


def seed(stack, token, n, stocked=None, varied=False):
    """n orders of three buyers in two batches (#1001 first), one of NT$120 each unless
    `varied` (quantities 1-3, prices from NT$120, a fee on every fourth, as in a real shop);
    with `stocked` (an item id) the first order is of that item."""
    names = ["陳美玲", "王小明", "林雅婷"]
    for i in range(n):
        body = {
            "buyer_email": f"b{i % 3}@example.com",
            "buyer_name": names[i % 3],
            "quantity": 1 + i % 3 if varied else 1,
            "unit_price": 120 + 30 * (i % 5) if varied else 120,
            "shipping_fee": 60 if varied and i % 4 == 0 else 0,
            "batch": "2026-12 東京" if i % 2 else "2026-11 大阪",
        }
        if i == 0 and stocked:
            body["item_id"] = stocked
        else:
            body["item_name"] = f"白色戀人 {i}"
        api_call(stack, "POST", "/orders", token, body)


def server_order(stack, token, no):
    found = api_call(stack, "GET", f"/orders?q={no}&limit=5", token)["items"]
    return next(o for o in found if o["order_no"] == no)


def visible_rows(page):
    return page.evaluate(
        """() => [...document.querySelectorAll('#orders-body tr[data-id]')].filter((tr) => {
            const b = tr.getBoundingClientRect();
            return b.top >= 0 && b.bottom <= innerHeight;
        }).length"""
    )


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_25_orders_fit_at_1280x800_one_line_each_with_a_batch_column(stack, seller_page, locale):
    page = seller_page(locale=locale)
    token = token_of(page)
    seed(stack, token, 30, varied=True)
    # Some paid, bought and sent, as a day's list is (and the README's picture shows).
    for o in api_call(stack, "GET", "/orders?limit=30", token)["items"]:
        if o["order_no"] % 3 == 0:
            api_call(stack, "PATCH", f"/orders/{o['id']}", token, {"payment_status": "remitted"})
        if o["order_no"] % 4 == 0:
            api_call(stack, "PATCH", f"/orders/{o['id']}", token, {"fulfillment_status": "purchased"})
        if o["order_no"] % 7 == 0:
            api_call(stack, "PATCH", f"/orders/{o['id']}", token, {"fulfillment_status": "shipped"})
    page.reload()
    rows = page.locator("#orders-body tr[data-id]")
    expect(rows).to_have_count(30)
    settled(page, width=DESKTOP["width"])
    page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
    # The header, the tabs, the new-order box and the filters are all there, and still 25 fit.
    expect(page.locator("#order-filters")).to_be_visible()
    expect(page.locator("#new-order-box")).to_be_visible()
    assert visible_rows(page) >= 25, visible_rows(page)
    # A batch column; carrier and tracking are the panel's and the ship tab's, not the row's.
    w = WORDS[locale]
    heads = page.locator("#orders-table thead th").all_inner_texts()
    assert w["batch"] in heads and w["qty"] in heads and w["fee"] in heads, heads
    expect(order_row(page, 1002).locator(".cell-batch")).to_have_text("2026-12 東京")
    expect(rows.locator("[name=carrier], [name=tracking_number]")).to_have_count(0)
    # Every cell on one line: the date, a long batch, a buyer's name.
    one_line = page.evaluate(
        """() => [...document.querySelectorAll('#orders-body tr[data-id]')].every((tr) =>
            tr.getBoundingClientRect().height < 1.8 * parseFloat(getComputedStyle(tr.querySelector('.cell-date')).lineHeight))"""
    )
    assert one_line
    assert page.evaluate(
        "document.querySelector('.table-responsive').scrollWidth <= document.querySelector('.table-responsive').clientWidth"
    )
    if locale == "zh-TW":
        shot(page, "orders-dense", full_page=False)


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_a_phone_card_shows_batch_and_amount_and_a_tap_on_it_opens_the_order(stack, seller_page, locale):
    page = seller_page(locale=locale, viewport=PHONE)
    token = token_of(page)
    seed(stack, token, 6, varied=True)
    for o in api_call(stack, "GET", "/orders?limit=6", token)["items"]:
        if o["order_no"] in (1003, 1005):
            api_call(stack, "PATCH", f"/orders/{o['id']}", token, {"payment_status": "remitted"})
        if o["order_no"] == 1005:
            api_call(stack, "PATCH", f"/orders/{o['id']}", token, {"fulfillment_status": "shipped"})
    page.reload()
    card = order_row(page, 1002)
    if locale == "zh-TW":
        settled(page, width=PHONE["width"])
        # The first cards just under the sticky header (the filters above them scrolled away).
        page.evaluate(
            """() => scrollTo({top: document.querySelector('#orders-table').getBoundingClientRect().top + scrollY
                - document.querySelector('nav').getBoundingClientRect().height - 8, behavior: 'instant'})"""
        )
        settled(page)
        shot(page, "orders-phone", full_page=False)
    expect(card.locator(".cell-batch")).to_be_visible()
    expect(card.locator(".cell-batch")).to_have_text("2026-12 東京")
    expect(card.locator(".cell-total")).to_be_visible()
    expect(card.locator(".cell-total")).to_have_text("NT$300")  # 2 × NT$150
    # A tap on the buyer's name (no control there) opens the panel of that order.
    card.locator(".cell-buyer").click()
    panel = page.locator("#order-detail")
    expect(panel).to_be_visible()
    expect(panel.locator("#detail-title")).to_contain_text("1002")
    panel.locator("#detail-close").click()
    expect(panel).to_be_hidden()
    # A tap on a control in the card does what the control does, and opens nothing.
    card.locator(".cell-remitted .switch-label").click()
    expect(card.get_by_role("switch").first).to_be_checked()
    expect(panel).to_be_hidden()


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_quantity_price_fee_and_status_edit_in_the_row(stack, seller_page, locale):
    page = seller_page(locale=locale)
    token = token_of(page)
    item = api_call(stack, "POST", "/items", token, {"item_name": "Royce 生巧克力", "price": 120, "stock": 5})
    seed(stack, token, 3, stocked=item["id"])
    page.reload()
    w = WORDS[locale]
    patches = []
    page.on("request", lambda r: patches.append(r.url) if r.method == "PATCH" else None)
    editor = page.locator("#orders-body .inline-editor")

    # Click, type as people type (full-width), Enter: saved; the total follows.
    row = order_row(page, 1001)
    row.locator(".cell-qty .edit-cell").click()
    expect(editor).to_be_focused()
    editor.fill("３")
    editor.press("Enter")
    expect(editor).to_have_count(0)
    expect(row.locator(".cell-qty")).to_have_text("3")
    expect(row.locator(".cell-total")).to_have_text("NT$360")
    expect(row.locator(".cell-qty .edit-cell")).to_be_focused()
    assert server_order(stack, token, 1001)["quantity"] == 3
    # The panel's undo: the quantity goes back on the server.
    undo = page.locator("#undo-bar")
    expect(undo).to_contain_text(w["undo_qty"])
    undo.get_by_role("button", name=w["undo"]).click()
    expect(page.locator("#flash")).to_contain_text(w["undone"])
    expect(row.locator(".cell-qty")).to_have_text("1")
    assert server_order(stack, token, 1001)["quantity"] == 1

    # More than the stock: the server's refusal is said in the row, the old value stays.
    row.locator(".cell-qty .edit-cell").focus()
    page.keyboard.press("Enter")  # focus + Enter opens the cell as a click does
    expect(editor).to_be_focused()
    editor.fill("9")
    editor.press("Enter")
    msg = page.locator("#orders-body tr.row-msg")
    expect(msg).to_contain_text(w["stock"])
    expect(row.locator(".cell-qty")).to_have_text("1")
    assert server_order(stack, token, 1001)["quantity"] == 1

    # Esc: the value comes back and nothing is sent.
    sent = len(patches)
    row.locator(".cell-unit .edit-cell").click()
    editor.fill("999")
    editor.press("Escape")
    expect(editor).to_have_count(0)
    expect(row.locator(".cell-unit")).to_have_text("NT$120")
    assert len(patches) == sent
    assert server_order(stack, token, 1001)["unit_price"] == 120

    # Tab saves and opens the next editable cell: price → fee → status.
    ben = order_row(page, 1002)
    ben.locator(".cell-unit .edit-cell").click()
    editor.fill("NT$1,200")
    editor.press("Tab")
    expect(ben.locator(".cell-fee .inline-editor")).to_be_focused()
    expect(ben.locator(".cell-unit")).to_have_text("NT$1,200")
    page.keyboard.type("1,200")  # the fee's text was selected: typing replaces it
    page.keyboard.press("Tab")
    expect(ben.locator(".cell-status select.inline-editor")).to_be_focused()
    ben.locator(".cell-status select").select_option("purchased")  # a pick saves at once
    expect(ben.locator(".cell-status")).to_have_text(w["purchased"])
    expect(ben.locator(".cell-total")).to_have_text("NT$2,400")
    expect(ben).not_to_have_class(re.compile(r"\bbusy\b"))
    saved = server_order(stack, token, 1002)
    assert (saved["unit_price"], saved["shipping_fee"]) == (1200, 1200)
    assert saved["fulfillment_status"] == "purchased"

    # An amount that cannot be read: said in the row, naming the field; nothing is written.
    sent = len(patches)
    ben_fee = server_order(stack, token, 1003)["shipping_fee"]
    third = order_row(page, 1003)
    third.locator(".cell-fee .edit-cell").click()
    editor.fill("12abc")
    editor.press("Enter")
    expect(msg).to_have_text(w["not_an_amount"])
    expect(third.locator(".cell-fee .inline-editor")).to_have_class(re.compile(r"\bis-invalid\b"))
    assert len(patches) == sent
    assert server_order(stack, token, 1003)["shipping_fee"] == ben_fee
    third.locator(".cell-fee .inline-editor").press("Escape")
    expect(msg).to_have_count(0)
    expect(third.locator(".cell-fee")).to_have_text("NT$0")
    assert len(patches) == sent

    # The status by keyboard alone: Enter opens it, arrows choose (nothing sent yet), Enter saves.
    third.locator(".cell-status .edit-cell").focus()
    page.keyboard.press("Enter")
    expect(third.locator(".cell-status select.inline-editor")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(third.locator(".cell-status select")).to_have_value("purchased")
    assert len(patches) == sent
    page.keyboard.press("Enter")
    expect(third.locator(".cell-status")).to_have_text(w["purchased"])
    expect(third.locator(".cell-status .edit-cell")).to_be_focused()
    expect(third).not_to_have_class(re.compile(r"\bbusy\b"))
    assert server_order(stack, token, 1003)["fulfillment_status"] == "purchased"
