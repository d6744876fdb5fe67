"""The payments tab (收款): a payment recorded for two orders makes one remitted and one
partly paid (both languages, desktop and phone); a payment the buyer reported waits under
"to confirm" with a badge on the tab and is confirmed in one click, another is rejected with
a reason; a confirmed payment is voided after asking; the order panel shows what is paid;
the reports tab's "copy message" makes a LINE message in the shop's language."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    api_call,
    order_row,
    pick_buyer,
    scroll_still,
    seed_orders,
    serious,
    shot,
    show_filters,
    sign_up_any_language,
)

pytestmark = pytest.mark.e2e

WORDS = {
    "en": {
        "tab": "Payments",
        "orders": "Orders",
        "reports": "Reports",
        "settings": "Settings",
        "record": "Record payment",
        "partial": "Partly paid",
        "remitted": "Remitted",
        "confirm": "Confirm",
        "void": "Void",
        "void_yes": "Void payment",
        "reject": "Reject",
        "reject_send": "Reject payment",
        "saved": "Saved",
        "copy": "Copy message",
    },
    "zh": {
        "tab": "收款",
        "orders": "訂單",
        "reports": "報表",
        "settings": "設定",
        "record": "記錄收款",
        "partial": "部分付款",
        "remitted": "已匯款",
        "confirm": "確認收款",
        "void": "作廢",
        "void_yes": "作廢付款",
        "reject": "退回",
        "reject_send": "退回付款",
        "saved": "已儲存",
        "copy": "複製訊息",
    },
}


def customer_id(stack, token, email):
    items = api_call(stack, "GET", "/customers?limit=200", token)["items"]
    return next(c["id"] for c in items if c["email"] == email)


def orders_by_no(stack, token):
    return {o["order_no"]: o for o in api_call(stack, "GET", "/orders?limit=200", token)["items"]}


def still_shot(page, name, full_page):
    """shot() once a smooth scroll (Bootstrap's `scroll-behavior: smooth`) has ended."""
    scroll_still(page)
    shot(page, name, full_page=full_page)


def assert_phone_layout(page, scope):
    """Nothing wider than the screen, every visible control at least 44 px high."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    small = page.evaluate(
        """(scope) => [...document.querySelectorAll(`${scope} button, ${scope} input:not([type=checkbox]),
                ${scope} select, ${scope} .pay-order, .nav-link`)]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.id || el.className || el.name, el.getBoundingClientRect().height])
            .filter(([, h]) => h < 44)""",
        scope,
    )
    assert small == [], small


@pytest.mark.parametrize(
    ("locale", "viewport"), [("en-US", DESKTOP), ("zh-TW", PHONE)], ids=["en-desktop", "zh-phone"]
)
def test_a_payment_for_two_orders_makes_one_remitted_and_one_partly_paid(
    stack, seller_page, locale, viewport
):
    zh = locale == "zh-TW"
    w = WORDS["zh" if zh else "en"]
    page = seller_page(viewport=viewport, locale=locale)
    # Amy: #1001 NT$150 and #1003 NT$360; Ben: #1002 NT$240.
    token = seed_orders(stack, page, n=3)
    page.reload()
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(3)
    page.get_by_role("tab", name=w["tab"]).click()
    page.locator("#pay-record-box > summary").click()
    form = page.locator("#pay-form")
    pick_buyer(page, "pay-form-buyer", "Amy", "Amy Chen")
    boxes = form.locator("#pay-form-orders .pay-order")
    expect(boxes).to_have_count(2)  # Amy's two unpaid orders, not Ben's
    expect(boxes.nth(0)).to_contain_text("#1001")
    expect(boxes.nth(1)).to_contain_text("#1003")
    boxes.nth(0).click()
    boxes.nth(1).click()
    expect(form.locator("[name=amount]")).to_have_value("510")  # what the two owe
    form.locator("[name=amount]").fill("300")  # less than both: #1001 paid, #1003 partly
    form.locator("[name=method]").select_option("line_pay")
    form.locator("[name=account_last5]").fill("54321")
    form.locator("[name=note]").fill("first part")
    if viewport == PHONE:
        form.scroll_into_view_if_needed()
        still_shot(page, "payments-record-phone-zh", False)
        assert_phone_layout(page, "#tab-payments")
    # The answer is lost on the way back (the server did record it): the seller taps
    # again, the same Idempotency-Key goes with it, and there is still one payment.
    keys: list[str] = []

    def lose_first_answer(route):
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) == 1:
            route.fetch()
            route.abort()
        else:
            route.continue_()

    page.route(
        re.compile(r".*/payments$"),
        lambda route: lose_first_answer(route) if route.request.method == "POST" else route.continue_(),
    )
    form.locator("[type=submit]").dblclick()  # a double tap sends one request
    msg = page.locator("#pay-form-msg")
    expect(msg).to_contain_text("無法連線到伺服器" if zh else "cannot be reached")
    assert len(keys) == 1
    form.locator("[type=submit]").click()
    expect(msg).to_contain_text(
        "已記錄 Amy Chen 的付款 NT$300。" if zh else "Payment of NT$300 from Amy Chen recorded."
    )
    expect(msg).to_contain_text("#1001 NT$150")
    expect(msg).to_contain_text("#1003 NT$150")
    page.unroute(re.compile(r".*/payments$"))
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) >= 32, keys
    payments = api_call(stack, "GET", "/payments", token)["items"]
    assert len(payments) == 1, payments
    assert (payments[0]["amount"], payments[0]["method"], payments[0]["account_last5"]) == (
        300,
        "line_pay",
        "54321",
    )
    # After it, only #1003 still owes (NT$210).
    expect(boxes).to_have_count(1)
    expect(boxes.first).to_contain_text(w["partial"])
    expect(boxes.first).to_contain_text("NT$210")
    row = page.locator("#pay-list tbody tr[data-id]")
    expect(row).to_have_count(1)
    expect(row.first).to_contain_text("Amy Chen")
    expect(row.first).to_contain_text("LINE Pay")
    expect(row.first).to_contain_text("已確認" if zh else "Confirmed")
    still_shot(page, f"payments-{'phone-zh' if zh else 'desktop'}", full_page=not zh)
    if viewport == PHONE:
        assert_phone_layout(page, "#tab-payments")

    if not zh:
        # The page's language switch redraws the tab from what it holds.
        page.locator("#lang").select_option("zh-Hant")
        expect(page.locator("#pay-list-title")).to_have_text("收款紀錄")
        expect(row.first).to_contain_text("已確認")
        expect(boxes.first).to_contain_text("部分付款")
        expect(form.locator("[name=method] option:checked")).to_have_text("LINE Pay")
        page.locator("#lang").select_option("en")
        expect(row.first).to_contain_text("Confirmed")

    by_no = orders_by_no(stack, token)
    assert (by_no[1001]["payment_status"], by_no[1001]["balance"]) == ("remitted", 0)
    assert (by_no[1003]["payment_status"], by_no[1003]["paid_amount"], by_no[1003]["balance"]) == (
        "partial",
        150,
        210,
    )
    assert by_no[1002]["payment_status"] == "unpaid"
    # The list: #1001's switch on; #1003's off, marked partly paid.
    page.get_by_role("tab", name=w["orders"]).click()
    expect(order_row(page, 1001).get_by_role("switch", name=w["remitted"])).to_be_checked()
    expect(order_row(page, 1003).get_by_role("switch", name=w["remitted"])).not_to_be_checked()
    expect(order_row(page, 1003).locator(".pay-state")).to_have_text(w["partial"])
    expect(order_row(page, 1002).locator(".pay-state")).to_have_count(0)
    # The filter offers partly paid.
    show_filters(page)  # folded on a phone
    page.locator("#order-filters [name=payment_status]").select_option("partial")
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(1)
    expect(order_row(page, 1003)).to_be_visible()
    if viewport == PHONE:
        order_row(page, 1003).scroll_into_view_if_needed()
        still_shot(page, "payments-orders-partial-phone-zh", full_page=False)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The panel: paid, balance, the payment's line; partial shown, not offered.
    order_row(page, 1003).locator(".order-open").click()
    panel = page.locator("#order-detail")
    expect(panel.locator("#detail-paid")).to_have_text("NT$150")
    expect(panel.locator("#detail-balance")).to_have_text("NT$210")
    expect(panel.locator("#detail-partial")).to_be_visible()
    line = panel.locator("#detail-payments li[data-payment-id]")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("NT$150")
    expect(line).to_contain_text("LINE Pay")
    expect(line).to_contain_text("NT$300")
    select = panel.locator("[name=payment_status]")
    expect(select.locator("option:checked")).to_have_text(w["partial"])
    choices = select.locator("option:not([disabled])")
    assert choices.evaluate_all("(os) => os.map((o) => o.value)") == ["unpaid", "remitted", "refunded"]
    panel.locator("#detail-payments").scroll_into_view_if_needed()
    still_shot(page, f"payments-order-panel-{'phone-zh' if zh else 'desktop'}", full_page=False)
    if viewport == PHONE:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Saving another field leaves the payment status alone.
    panel.locator("[name=note]").fill("half paid")
    panel.locator("#detail-save").click()
    expect(panel.locator("#detail-msg")).to_contain_text(w["saved"])
    assert orders_by_no(stack, token)[1003]["payment_status"] == "partial"


@pytest.mark.parametrize(
    ("locale", "viewport"), [("en-US", DESKTOP), ("zh-TW", PHONE)], ids=["en-desktop", "zh-phone"]
)
def test_a_reported_payment_is_confirmed_in_one_click_then_voided(stack, seller_page, locale, viewport):
    zh = locale == "zh-TW"
    w = WORDS["zh" if zh else "en"]
    page = seller_page(viewport=viewport, locale=locale)
    token = seed_orders(stack, page, n=2)  # Amy #1001 NT$150, Ben #1002 NT$240
    amy = customer_id(stack, token, "buyer0@example.com")
    ben = customer_id(stack, token, "buyer1@example.com")
    for cid, amount, note in ((amy, 150, "ATM 轉帳"), (ben, 99, "wrong amount")):
        link = api_call(stack, "POST", f"/customers/{cid}/tracking-link", token)
        api_call(
            stack,
            "POST",
            f"/track/{link['token']}/payments",
            token,
            {"amount": amount, "account_last5": "12345", "note": note},
        )
    page.reload()
    tab = page.get_by_role("tab", name=w["tab"])
    expect(tab.locator("#pay-badge")).to_be_visible()
    expect(tab.locator("#pay-badge")).to_contain_text("2")
    expect(tab).to_contain_text("2 筆付款待確認" if zh else "2 payments to confirm")  # for screen readers
    tab.click()
    waiting = page.locator("#pay-reported tbody tr[data-id]")
    expect(waiting).to_have_count(2)
    amy_row = waiting.filter(has_text="Amy Chen")
    expect(amy_row).to_contain_text("NT$150")
    expect(amy_row).to_contain_text("12345")
    expect(amy_row).to_contain_text("ATM 轉帳")
    still_shot(page, f"payments-to-confirm-{'phone-zh' if zh else 'desktop'}", full_page=not zh)
    if viewport == PHONE:
        assert_phone_layout(page, "#tab-payments")
    assert serious(page, "payments to confirm") == []
    # One click confirms Amy's: #1001 is paid.
    amy_row.get_by_role("button", name=re.compile(w["confirm"])).click()
    expect(waiting).to_have_count(1)
    expect(page.locator("#flash")).to_contain_text("#1001 NT$150")
    expect(tab.locator("#pay-badge")).to_contain_text("1")
    assert orders_by_no(stack, token)[1001]["payment_status"] == "remitted"
    # Ben's is rejected with a reason the buyer will see.
    ben_row = waiting.filter(has_text="Ben Wu")
    ben_row.get_by_role("button", name=re.compile(w["reject"])).click()
    ben_row.locator("[name=reason]").fill("金額不對 / wrong amount")
    assert serious(page, "reject reason") == []
    ben_row.scroll_into_view_if_needed()
    still_shot(page, f"payments-reject-{'phone-zh' if zh else 'desktop'}", full_page=False)
    if viewport == PHONE:
        assert_phone_layout(page, "#tab-payments")
    ben_row.get_by_role("button", name=w["reject_send"]).click()
    expect(waiting).to_have_count(0)
    expect(page.locator("#pay-reported tbody")).to_contain_text(
        "沒有待確認的付款" if zh else "Nothing to confirm"
    )
    expect(tab.locator("#pay-badge")).to_be_hidden()
    rejected = [p for p in api_call(stack, "GET", "/payments?status=rejected", token)["items"]]
    assert [(p["buyer_name"], p["reject_reason"]) for p in rejected] == [
        ("Ben Wu", "金額不對 / wrong amount")
    ]
    assert orders_by_no(stack, token)[1002]["payment_status"] == "unpaid"
    # The list: filter by buyer and by status.
    listed = page.locator("#pay-list tbody tr[data-id]")
    expect(listed).to_have_count(2)
    page.locator("#pay-filter-status").select_option("rejected")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text("金額不對")
    page.locator("#pay-filter-status").select_option("")
    pick_buyer(page, "pay-filter-buyer", "Amy", "Amy Chen")
    expect(listed).to_have_count(1)
    confirmed = listed.first
    expect(confirmed).to_have_attribute("data-status", "confirmed")
    # Void asks first; "keep" keeps it, "void" voids it and #1001 owes again.
    confirmed.get_by_role("button", name=re.compile(w["void"])).click()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_contain_text("NT$150")
    dialog.get_by_role("button", name="保留" if zh else "Keep it").click()
    expect(confirmed).to_have_attribute("data-status", "confirmed")
    confirmed.get_by_role("button", name=re.compile(w["void"])).click()
    dialog.get_by_role("button", name=w["void_yes"]).click()
    expect(listed.first).to_have_attribute("data-status", "voided")
    expect(listed.first).to_contain_text("已作廢" if zh else "Voided")
    expect(listed.first.get_by_role("button")).to_have_count(0)
    order = orders_by_no(stack, token)[1001]
    assert (order["payment_status"], order["paid_amount"], order["balance"]) == ("unpaid", 0, 150)
    still_shot(page, f"payments-voided-{'phone-zh' if zh else 'desktop'}", full_page=not zh)
    if viewport == PHONE:
        assert_phone_layout(page, "#tab-payments")


@pytest.mark.parametrize(
    ("locale", "viewport"), [("en-US", DESKTOP), ("zh-TW", PHONE)], ids=["en-desktop", "zh-phone"]
)
def test_reports_record_a_payment_and_copy_a_message_in_the_shops_language(
    stack, open_page, locale, viewport
):
    zh = locale == "zh-TW"
    w = WORDS["zh" if zh else "en"]
    page = open_page(viewport=viewport, locale=locale)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.site_url)
    sign_up_any_language(page, stack, zh)
    token = seed_orders(stack, page, n=3)  # Amy #1001 NT$150, #1003 NT$360
    if not zh:
        api_call(stack, "PATCH", "/auth/me", token, {"language": "en"})  # the message follows the shop
    amy = customer_id(stack, token, "buyer0@example.com")
    api_call(stack, "POST", "/payments", token, {"customer_id": amy, "amount": 200, "method": "cash"})
    # 200 pays #1001 (150) and 50 of #1003: Amy owes 310 on #1003 alone.
    old_link = api_call(stack, "POST", f"/customers/{amy}/tracking-link", token)
    # Payment instructions, saved in the settings tab.
    page.reload()
    page.get_by_role("tab", name=w["settings"]).click()
    info = page.locator("#pay-info-form [name=payment_instructions]")
    info.fill("國泰世華 013 帳號 1234-567-890")
    page.locator("#pay-info-form [type=submit]").click()
    expect(page.locator("#pay-info-msg")).to_contain_text(w["saved"])
    assert (
        api_call(stack, "GET", "/auth/me", token)["payment_instructions"] == "國泰世華 013 帳號 1234-567-890"
    )
    page.reload()
    expect(page.locator("#pay-info-form [name=payment_instructions]")).to_have_value(
        "國泰世華 013 帳號 1234-567-890"
    )
    if viewport == PHONE:
        page.locator("#pay-info-form").scroll_into_view_if_needed()
        still_shot(page, "payments-settings-phone-zh", full_page=False)

    page.get_by_role("tab", name=w["reports"]).click()
    amy_row = page.locator("#rep-buyers tbody tr", has_text="Amy Chen")
    expect(amy_row.locator(".credit-amount")).to_have_text("NT$0")
    expect(amy_row.locator(".outstanding-amount")).to_have_text("NT$310")
    # The message carries the link Amy already has (issue 25): nothing to ask, nothing breaks.
    amy_row.get_by_role("button", name=re.compile(w["copy"])).click()
    text_box = page.locator("#rep-message-text")
    expect(text_box).to_be_visible()
    text = text_box.input_value()
    url = re.search(r"https?://\S+", text).group(0)
    assert old_link["token"] in text
    if zh:
        assert text.startswith(
            "Amy Chen 您好，目前應付 NT$310（#1003），匯款資訊：國泰世華 013 帳號 1234-567-890　查詢訂單：http"
        ), text
    else:
        assert text.startswith(
            "Hi Amy Chen, you currently owe NT$310 (#1003). Payment details: 國泰世華 013 帳號 1234-567-890 Your orders: http"
        ), text
    # The link in the message is the one Amy has, and it works.
    token_in_url = re.split(r"[#=/]", url)[-1]
    assert token_in_url == old_link["token"]
    assert api_call(stack, "GET", f"/track/{token_in_url}", token)["orders"]
    assert page.locator("dialog.confirm-dialog").count() == 0
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == text
    expect(page.locator("#rep-message")).to_contain_text("已複製" if zh else "Copied")
    still_shot(page, f"payments-report-message-{'phone-zh' if zh else 'desktop'}", full_page=not zh)
    if viewport == PHONE:
        assert_phone_layout(page, "#tab-reports #rep-buyers")

    # "Record payment" opens the form with Amy chosen and her open order listed.
    amy_row.get_by_role("button", name=re.compile(w["record"])).click()
    expect(page.locator("#tab-payments")).to_be_visible()
    form = page.locator("#pay-form")
    expect(form).to_be_visible()
    expect(form.locator("[name=customer_id] option:checked")).to_have_text("Amy Chen")
    expect(form.locator("#pay-form-orders .pay-order")).to_have_count(1)
    expect(form.locator("#pay-form-orders")).to_contain_text("#1003")
    form.locator("[name=amount]").fill("400")  # 310 for #1003, 90 left as credit
    form.locator("[type=submit]").click()
    expect(page.locator("#pay-form-msg")).to_contain_text("#1003 NT$310")
    expect(page.locator("#pay-form-msg")).to_contain_text("NT$90")
    page.get_by_role("tab", name=w["reports"]).click()
    expect(amy_row.locator(".credit-amount")).to_have_text("NT$90")
    expect(amy_row.locator(".outstanding-amount")).to_have_text("NT$0")
