"""The orders tab grown up: an order opened and edited in its panel (desktop side panel,
phone full screen, both languages), a cancel that asks first, undo after a status change
and after a bulk action."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    api_call,
    order_row,
    seed_orders,
    settled,
    shot,
    sign_up_any_language,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("locale", "viewport"),
    [("en-US", DESKTOP), ("zh-TW", PHONE), ("en-US", PHONE)],
    ids=["en-desktop", "zh-phone", "en-phone"],
)
def test_an_order_is_opened_edited_and_its_history_shown(stack, seller_page, locale, viewport):
    zh = locale == "zh-TW"
    page = seller_page(viewport=viewport, locale=locale)
    seed_orders(stack, page, n=1)
    page.reload()
    row = order_row(page, 1001)
    row.get_by_role("button", name=re.compile("1001")).click()
    panel = page.locator("#order-detail")
    expect(panel).to_be_visible()
    expect(panel.locator("#detail-title")).to_have_text("訂單 #1001" if zh else "Order #1001")
    form = panel.locator("#detail-form")
    expect(form.locator("[name=note]")).to_have_value("gift wrap")
    expect(form.locator("[name=unit_price]")).to_have_value("120")
    expect(form.locator("[name=shipping_fee]")).to_have_value("30")
    box = panel.bounding_box()
    if viewport == PHONE:
        assert box["width"] >= PHONE["width"] - 1, box  # the whole screen
    else:
        assert box["x"] > DESKTOP["width"] / 2, box  # a side panel on the right

    expect(form.locator("[name=buyer_email]")).to_have_value("buyer0@example.com")
    form.locator("[name=buyer_email]").fill("mei@example.com")  # the wrong buyer: a new one
    form.locator("[name=quantity]").fill("3")
    form.locator("[name=unit_price]").fill("99.5")
    form.locator("[name=shipping_fee]").fill("0")
    expect(panel.locator("#detail-total")).to_contain_text("298.5")
    form.locator("[name=batch]").fill("2027-01 大阪")
    form.locator("[name=note]").fill("no wrap")
    form.locator("[name=payment_status]").select_option("remitted")
    form.locator("[name=fulfillment_status]").select_option("shipped")
    form.locator("[name=shipped_date]").fill("2026-11-20")
    form.locator("[name=carrier]").fill("黑貓")
    form.locator("[name=tracking_number]").fill("TW-777")
    form.locator("#detail-save").click()
    expect(panel.locator("#detail-msg")).to_contain_text("已儲存" if zh else "Saved")
    # Newest first: the 已匯款 switch records its payment after the other changes.
    history = panel.locator("#detail-history li")
    expect(history.first).to_contain_text("已匯款" if zh else "Remitted")
    expect(panel.locator("#detail-history")).to_contain_text("已出貨" if zh else "Shipped")
    expect(panel.locator("#detail-history")).to_contain_text(
        "買家：Amy Chen → mei" if zh else "Buyer: Amy Chen → mei"
    )
    expect(panel.locator("#detail-buyer")).to_have_text("mei")
    # Every edited field says from → to (money formatted) and who: the shop's owner (a
    # member would be named by email, issue 31).
    seller = "店主" if zh else "the owner"
    edits = {
        "unit_price": ("單價" if zh else "Unit price", r"120 → \S*99\.50"),
        "shipping_fee": ("運費" if zh else "Shipping fee", r"30 → \S*0\b"),
        "quantity": ("數量" if zh else "Qty", "1 → 3"),
        "batch": ("批次" if zh else "Batch", "2026-12 東京 → 2027-01 大阪"),
    }
    for field, (label, change) in edits.items():
        entry = panel.locator(f"#detail-history li[data-field={field}]")
        expect(entry).to_have_count(1)
        expect(entry).to_contain_text(f"{label}：" if zh else f"{label}: ")  # 繁中's colon (issue 27)
        expect(entry).to_contain_text(re.compile(change))
        expect(entry.locator("time")).to_contain_text(seller)
    payment = panel.locator("#detail-history li[data-field=payment_status]")
    expect(payment.locator("time")).to_contain_text("付款" if zh else "a payment")  # the 已匯款 switch
    panel.locator("#detail-history").scroll_into_view_if_needed()
    name = f"order-detail-{'phone' if viewport == PHONE else 'desktop'}{'-zh' if zh else ''}"
    shot(page, name, full_page=False)
    panel.locator("#detail-close").click()
    expect(panel).to_be_hidden()
    # The list shows the edit at once, and the server has it.
    row = order_row(page, 1001)
    expect(row).to_contain_text("× 3")
    expect(row).to_contain_text("2027-01 大阪")
    token = page.evaluate("localStorage.getItem('token')")
    order = api_call(stack, "GET", "/orders?limit=1", token)["items"][0]
    assert (order["quantity"], order["unit_price"], order["shipping_fee"]) == (3, 99.5, 0)
    assert (order["note"], order["carrier"], order["tracking_number"]) == ("no wrap", "黑貓", "TW-777")
    assert (order["buyer_email"], order["buyer_name"]) == ("mei@example.com", "mei")
    assert (order["payment_status"], order["fulfillment_status"], order["shipped_date"]) == (
        "remitted",
        "shipped",
        "2026-11-20",
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_cancel_asks_first_and_a_status_change_can_be_undone(stack, page):
    sign_up_any_language(page, stack, zh=False)
    seed_orders(stack, page, n=2)
    page.reload()
    # Cancel from the row's status (edited in place): asked first; "Keep the order" leaves it as it was.
    order_row(page, 1001).locator(".cell-status .edit-cell").click()
    order_row(page, 1001).locator(".cell-status select").select_option("cancelled")
    confirm = page.locator("dialog.confirm-dialog")
    expect(confirm).to_contain_text("cannot be undone")
    confirm.get_by_role("button", name="Keep the order").click()
    expect(order_row(page, 1001).locator(".cell-status")).to_have_text("Ordered")
    # Shipping with the switch offers undo; undo puts it back.
    order_row(page, 1002).get_by_role("switch", name="Shipped").check()
    expect(order_row(page, 1002).get_by_role("switch", name="Shipped")).to_be_checked()
    undo = page.locator("#undo-bar")
    expect(undo).to_contain_text("#1002: Shipped.")
    undo.get_by_role("button", name="Undo").click()
    expect(order_row(page, 1002).get_by_role("switch", name="Shipped")).not_to_be_checked()
    expect(order_row(page, 1002).locator(".cell-status")).to_have_text("Ordered")
    # Cancel for real: confirmed, and no undo is offered.
    order_row(page, 1001).locator(".cell-status .edit-cell").click()
    order_row(page, 1001).locator(".cell-status select").select_option("cancelled")
    confirm.get_by_role("button", name="Cancel the order").click()
    expect(order_row(page, 1001)).to_have_class(re.compile("text-decoration-line-through"))
    expect(undo).to_be_empty()
    # Cancel from the panel asks too.
    order_row(page, 1002).get_by_role("button", name=re.compile("1002")).click()
    page.locator("#detail-cancel-order").click()
    expect(confirm).to_contain_text("Cancel order #1002?")
    confirm.get_by_role("button", name="Keep the order").click()
    expect(page.locator("#detail-form [name=fulfillment_status]")).to_have_value("pending")


def test_bulk_action_asks_with_the_count_and_can_be_undone(stack, seller_page):
    page = seller_page(locale="zh-TW")
    seed_orders(stack, page, n=3)
    page.reload()
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(3)
    page.locator("#select-all").check()
    page.locator("#bulk-status").select_option("remitted")
    confirm = page.locator("dialog.confirm-dialog")
    expect(confirm).to_contain_text("要將 3 筆訂單標記為已匯款嗎？")
    confirm.locator("button[value=yes]").click()
    expect(page.locator("#flash")).to_contain_text("3")
    for no in (1001, 1002, 1003):
        expect(order_row(page, no).locator("[name=remitted]")).to_be_checked()
    page.locator("#undo-bar").get_by_role("button", name="復原").click()
    expect(page.locator("#flash")).to_contain_text("已復原")
    for no in (1001, 1002, 1003):
        expect(order_row(page, no).locator("[name=remitted]")).not_to_be_checked()


def test_the_list_scales_and_keeps_its_place_in_the_address(stack, seller_page):
    """Total count, sort, partial batch, date range; filters and tab in the address
    (reload, back/forward, a second tab); a half-typed order survives a reload."""
    page = seller_page()
    token = seed_orders(stack, page, n=3)
    api_call(
        stack,
        "POST",
        "/orders",
        token,
        {
            "buyer_email": "cy@example.com",
            "item_name": "Hello Kitty",
            "quantity": 1,
            "unit_price": 999,
            "batch": "2027-01 大阪",
        },
    )
    page.reload()
    expect(page.locator("#orders-count")).to_have_text("4 orders")
    # Sort by amount, largest first: the 999 order (#1004) on top.
    page.locator("#order-sort").select_option("-total_amount")
    expect(page.locator("#orders-body tr[data-id]").first).to_have_attribute("data-order-no", "1004")
    # Partial batch: 東京 finds "2026-12 東京".
    page.locator("#order-filters [name=batch_prefix]").fill("東京")
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(3)
    expect(page.locator("#orders-count")).to_have_text("3 orders")
    assert "batch_prefix=" in page.url and "sort=-total_amount" in page.url
    # A date range ending yesterday has none of today's orders.
    page.locator("#order-filters [name=to]").fill("2000-01-02")
    expect(page.locator("#orders-body")).to_contain_text("No orders match")
    # Back: the range is gone again; reload keeps the rest.
    page.go_back()
    expect(page.locator("#order-filters [name=to]")).to_have_value("")
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(3)
    page.reload()
    expect(page.locator("#order-filters [name=batch_prefix]")).to_have_value("東京")
    expect(page.locator("#order-sort")).to_have_value("-total_amount")
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(3)
    # The same address in a second tab shows the same list.
    second = page.context.new_page()
    second.goto(page.url)
    expect(second.locator("#orders-body tr[data-id]")).to_have_count(3)
    second.close()
    # The open tab is kept too.
    page.get_by_role("tab", name="Reports").click()
    assert "tab=reports" in page.url
    page.reload()
    expect(page.locator("#tab-reports")).to_be_visible()
    page.go_back()
    expect(page.locator("#tab-orders")).to_be_visible()
    # A half-typed new order survives a reload.
    page.locator("#new-order-box summary").click()
    form = page.locator("#order-form")
    form.locator("[name=buyer_email]").fill("dee@example.com")
    form.locator("[name=item_name]").fill("Royce")
    form.locator("[name=unit_price]").fill("780")
    page.reload()
    expect(page.locator("#new-order-box")).to_have_attribute("open", "")
    expect(form.locator("[name=buyer_email]")).to_have_value("dee@example.com")
    expect(form.locator("[name=unit_price]")).to_have_value("780")
    expect(page.locator("#order-total")).to_have_text("NT$780")
    shot(page, "orders-filtered-desktop")


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_layout_nothing_cut_off_on_desktop_and_compact_cards_on_a_phone(stack, seller_page, locale):
    page = seller_page(locale=locale)
    token = seed_orders(stack, page, n=21)
    order = api_call(stack, "GET", "/orders?limit=1", token)["items"][0]
    api_call(stack, "PATCH", f"/orders/{order['id']}", token, {"fulfillment_status": "cancelled"})
    page.reload()
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(21)
    # 1280 px: the status menu (a cell edited in place) is wide enough for its longest choice,
    # no sideways scroll.
    order_row(page, 1002).locator(".cell-status .edit-cell").click()
    expect(page.locator("#orders-body select[name=fulfillment_status]")).to_have_count(1)
    fits = page.evaluate(
        """() => [...document.querySelectorAll('#orders-body select[name=fulfillment_status]')].every((s) => {
            const probe = document.createElement('span');
            probe.style.font = getComputedStyle(s).font;
            probe.textContent = [...s.options].reduce((a, o) => (o.text.length > a.length ? o.text : a), '');
            document.body.append(probe);
            const ok = probe.getBoundingClientRect().width + 24 <= s.clientWidth;
            probe.remove();
            return ok;
        })"""
    )
    assert fits
    page.keyboard.press("Escape")
    expect(page.locator("#orders-body select[name=fulfillment_status]")).to_have_count(0)
    assert page.evaluate(
        "document.querySelector('.table-responsive').scrollWidth <= document.querySelector('.table-responsive').clientWidth"
    )
    # 375 px: compact cards, switches in one line, every tap target at least 44 px.
    page.set_viewport_size(PHONE)
    settled(page, width=PHONE["width"])
    page.locator("#orders-table").scroll_into_view_if_needed()
    shot(page, f"orders-cards-phone-{'zh' if locale == 'zh-TW' else 'en'}", full_page=False)
    height = page.evaluate("document.querySelector('#orders-table').getBoundingClientRect().height")
    assert height < 21 * 180, height
    first = page.locator("#orders-body tr[data-id]").first
    rem = first.locator(".cell-remitted").bounding_box()
    ship = first.locator(".cell-shipped").bounding_box()
    assert abs(rem["y"] - ship["y"]) < 4, (rem, ship)
    small = page.evaluate(
        """() => [...document.querySelectorAll('#tab-orders button, #tab-orders .switch-label, #tab-orders .select-hit, #tab-orders input:not([type=checkbox]), #tab-orders select, .nav-link')]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.id || el.className || el.name, el.getBoundingClientRect().height])
            .filter(([, h]) => h < 44)"""
    )
    assert small == [], small
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_on_a_phone_in_chinese_cancel_from_the_panel_and_undo_a_switch(stack, seller_page):
    page = seller_page(viewport=PHONE, locale="zh-TW")
    seed_orders(stack, page, n=2)
    page.reload()
    # A tap on the switch's words ships the order; 復原 puts it back.
    order_row(page, 1002).locator(".cell-shipped .switch-label").click()
    expect(order_row(page, 1002).get_by_role("switch", name="已出貨")).to_be_checked()
    undo = page.locator("#undo-bar")
    expect(undo).to_contain_text("#1002：已出貨。")
    undo.get_by_role("button", name="復原").click()
    expect(order_row(page, 1002).get_by_role("switch", name="已出貨")).not_to_be_checked()
    # Cancel from the full-screen panel: asked first, in Chinese, and final.
    order_row(page, 1001).locator(".order-open").click()
    panel = page.locator("#order-detail")
    page.locator("#detail-cancel-order").click()
    confirm = page.locator("dialog.confirm-dialog")
    expect(confirm).to_contain_text("要取消訂單 #1001 嗎？")
    expect(confirm).to_contain_text("此動作不能復原")
    confirm.get_by_role("button", name="取消訂單").click()
    expect(panel.locator("#detail-cancelled")).to_be_visible()
    expect(panel.locator("[name=fulfillment_status]")).to_be_disabled()
    expect(panel.locator("#detail-history li").first).to_contain_text("已取消")
    expect(undo).to_be_empty()
    panel.locator("#detail-close").click()
    expect(order_row(page, 1001)).to_have_class(re.compile("text-decoration-line-through"))


def test_an_edit_typed_as_the_panel_opens_survives_its_second_read_and_is_saved(stack, seller_page):
    """The panel shows the list's copy at once and reads the order again: what the seller
    types before that read lands stays in its field (and is saved); a field they did not
    touch shows the server's newer value. The read is held until the typing is done."""
    page = seller_page(viewport=PHONE, locale="zh-TW")
    token = seed_orders(stack, page, n=1)
    page.reload()
    expect(order_row(page, 1001)).to_be_visible()
    (order,) = api_call(stack, "GET", "/orders", token)["items"]
    api_call(stack, "PATCH", f"/orders/{order['id']}", token, {"note": "改成紙袋"})  # after the list read
    held = []
    one = re.compile(rf".*/orders/{order['id']}$")

    def hold(route):
        held.append(route)

    page.route(one, hold)
    order_row(page, 1001).locator(".order-open").click()
    panel = page.locator("#detail-form")
    panel.locator("[name=quantity]").fill("3")
    expect(panel.locator("[name=quantity]")).to_have_value("3")
    for _ in range(200):  # until the panel's read arrives (the route holds it)
        if held:
            break
        page.wait_for_timeout(25)
    assert held, "the panel did not read the order again"
    held[0].continue_()
    expect(panel.locator("[name=note]")).to_have_value("改成紙袋")  # the read landed and was drawn
    expect(panel.locator("[name=quantity]")).to_have_value("3")
    page.unroute(one, hold)
    panel.locator("#detail-save").click()
    expect(page.locator("#detail-msg .alert-success")).to_be_visible()
    saved = api_call(stack, "GET", f"/orders/{order['id']}", token)
    assert (saved["quantity"], saved["note"]) == (3, "改成紙袋")


@pytest.mark.parametrize(
    ("locale", "viewport"), [("en-US", DESKTOP), ("zh-TW", PHONE)], ids=["en-desktop", "zh-phone"]
)
def test_importing_the_same_file_twice_asks_about_the_duplicates(stack, seller_page, locale, viewport):
    zh = locale == "zh-TW"
    page = seller_page(viewport=viewport, locale=locale)
    csv = (
        "buyer_email,buyer_name,item_name,quantity,unit_price,payment_status,fulfillment_status,note\n"
        "dan@example.com,Dan,Pocky,2,120,unpaid,pending,\nfay@example.com,Fay 林,抹茶 KitKat,1,300,unpaid,pending,\n"
    )
    page.locator("[data-toggle-box=import-box]").click()
    box = page.locator("#import-box")
    files = [{"name": "orders.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    box.locator("[name=file]").set_input_files(files=files)
    box.locator("[type=submit]").click()
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(2)
    # The same file again: the page asks, naming the rows and the orders they match.
    box.locator("[name=file]").set_input_files(files=files)
    box.locator("[type=submit]").click()
    msg = page.locator("#import-msg")
    expect(msg.locator(".import-duplicates li")).to_have_count(2)
    expect(msg.locator(".import-duplicates li").first).to_contain_text(
        "與訂單 #" if zh else "matches order #"
    )
    msg.get_by_role(
        "button", name="略過這些列，匯入其餘" if zh else "Leave them out, import the rest"
    ).click()
    expect(msg).to_contain_text(
        "已略過 2 列" if zh else "2 rows matching orders you already have were left out"
    )
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(2)
    assert "duplicate_row" not in msg.inner_text()


@pytest.mark.parametrize(
    ("locale", "viewport"), [("zh-TW", DESKTOP), ("en-US", PHONE)], ids=["zh-desktop", "en-phone"]
)
def test_checking_an_export_says_how_many_rows_are_already_there(stack, seller_page, locale, viewport):
    """The shop's own export read back (issue 27): the check says the rows are already
    in the shop and none is new, not "All 0 rows are valid"; nothing is written."""
    zh = locale == "zh-TW"
    page = seller_page(viewport=viewport, locale=locale)
    seed_orders(stack, page, n=3)
    page.reload()
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(3)
    with page.expect_download() as got:
        page.locator("#export-csv").click()
    exported = Path(got.value.path()).read_bytes()
    # The zh shop's file is in its words: zh headers and status words, no codes.
    if zh:
        text = exported.decode("utf-8-sig")
        assert text.startswith("訂單ID,訂單編號") and "已下單" in text and "pending" not in text
    page.locator("[data-toggle-box=import-box]").click()
    box = page.locator("#import-box")
    box.locator("[name=dry_run]").check()
    box.locator("[name=file]").set_input_files(
        files=[{"name": "orders.csv", "mimeType": "text/csv", "buffer": exported}]
    )
    box.locator("[type=submit]").click()
    msg = page.locator("#import-msg")
    expect(msg).to_have_text(
        "3 列是商店裡已有的訂單；新資料 0 列。" if zh else "3 rows are orders the shop already has; 0 new."
    )
    page.reload()
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(3)
