"""The buyer's side of payments on the tracking page (issue 12): what is owed, the shop's
payment details, "I have paid" (one report however often it is tapped), the seller's
answer shown back, partly paid orders; both languages, phone and desktop; user text is
never HTML; no serious axe violation.

Everything is seeded through the API; the seller confirms and rejects through the API
too (the seller page's payments tab is tested with that page).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, api_request, api_seller, serious, shot

pytestmark = pytest.mark.e2e

XSS = "<img src=x onerror=alert(1)>"
INSTRUCTIONS = f"玉山銀行 (808) 分行 0123\n帳號 1234-567-890123\nLINE Pay: tokyo.picks {XSS}"


def seed(stack, language="en"):
    """A seller with payment instructions, one buyer with two orders (NT$960 then NT$650,
    oldest first) and the buyer's tracking link."""
    token = api_seller(stack, shop="Kyoto Finds 京都", payment_instructions=INSTRUCTIONS, language=language)
    email = f"amy-{uuid.uuid4().hex[:6]}@example.com"
    customer_id = None
    for item, qty, price in [("Tokyo Banana 8 pcs", 2, 480), ("Royce Nama Chocolate", 1, 650)]:
        status, order = api_request(
            stack,
            "POST",
            "/orders",
            token,
            {
                "buyer_email": email,
                "buyer_name": "Amy Chen",
                "item_name": item,
                "quantity": qty,
                "unit_price": price,
            },
        )
        assert status == 201, order
        customer_id = order["customer_id"]
    status, link = api_request(stack, "POST", f"/customers/{customer_id}/tracking-link", token)
    assert status == 201, link
    return {"token": token, "customer_id": customer_id, "url": link["url"], "link_token": link["token"]}


def payments_of(stack, seller, status=None):
    query = f"?customer_id={seller['customer_id']}" + (f"&status={status}" if status else "")
    code, out = api_request(stack, "GET", f"/payments{query}", seller["token"])
    assert code == 200, out
    return out["items"]


def watch(page):
    """Dialogs that fire (a script payload that ran) and report POSTs that left the page."""
    seen = {"dialogs": [], "reports": []}
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on(
        "request",
        lambda r: (
            seen["reports"].append(r.headers.get("idempotency-key"))
            if r.method == "POST" and r.url.endswith("/payments")
            else None
        ),
    )
    return seen


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def small_targets(page):
    """Visible buttons and form controls of the payment part smaller than 44 px."""
    return page.evaluate(
        """() => [...document.querySelectorAll('#pay-section button, #pay-section input, #pay-section textarea, #lang')]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.id || el.name || el.textContent.trim(), el.getBoundingClientRect()])
            .filter(([, r]) => r.height < 44 || r.width < 44)
            .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )


def unlabelled(page):
    return page.evaluate(
        """() => [...document.querySelectorAll('#pay-form input, #pay-form textarea, #lang')]
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map((el) => el.id || el.name)"""
    )


def test_buyer_reports_a_transfer_and_sees_the_sellers_answer(stack, open_page):
    seller = seed(stack, language="en")
    page = open_page(viewport=DESKTOP, locale="en-US")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.site_url)
    seen = watch(page)
    page.goto(seller["url"])
    expect(page.locator("#shop-name")).to_have_text("Kyoto Finds 京都")
    # What is owed, prominently, and the shop's details as plain text.
    expect(page.locator("#pay-heading")).to_have_text("Amount due")
    expect(page.locator("#pay-due")).to_have_text("NT$1,610")
    expect(page.locator("#pay-credit")).to_be_hidden()
    box = page.locator("#pay-instructions")
    expect(box).to_have_text(INSTRUCTIONS)
    assert box.evaluate("(el) => el.innerText") == INSTRUCTIONS  # newlines kept
    expect(box.locator("img")).to_have_count(0)
    page.get_by_role("button", name="Copy the payment details").click()
    expect(page.locator("#pay-copy-msg")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == INSTRUCTIONS
    expect(page.locator("#pay-history")).to_be_hidden()

    # "I have paid": amount prefilled with the balance, today's date.
    page.get_by_role("button", name="I have paid").click()
    form = page.locator("#pay-form")
    expect(form).to_be_visible()
    expect(page.get_by_label("Amount paid")).to_have_value("1610")
    expect(page.get_by_label("Date of transfer")).to_have_value(dt.date.today().isoformat())
    page.get_by_label("Amount paid").fill("1000")
    page.get_by_label("Last 5 digits of your account").fill("12345")
    page.get_by_label("Note").fill(f"paid from mum's account {XSS}")
    # A double click while the answer is slow: the page sends one report.
    mode = {"now": "slow"}

    def reports(route):
        if mode["now"] == "slow":
            time.sleep(0.6)
            route.continue_()
        elif mode["now"] == "lose":  # written by the API, but the answer never arrives
            route.fetch()
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/track/*/payments", reports)
    page.locator("#pay-submit").dblclick()
    item = page.locator("#pay-list .pay-item")
    expect(item).to_have_count(1)
    expect(item.first).to_contain_text("NT$1,000")
    expect(item.first.locator(".pay-status")).to_have_text("Reported — waiting for the seller")
    expect(item.first).to_contain_text("Account …12345")
    expect(page.locator("#pay-msg")).to_contain_text("The shop confirms your payment once they see the money")
    expect(form).to_be_hidden()
    # Nothing moved yet: the balance stays until the seller confirms.
    expect(page.locator("#pay-due")).to_have_text("NT$1,610")
    shot(page, "track-payments-reported-desktop")

    # Exactly one report reached the API, with the note as typed.
    reported = payments_of(stack, seller, "reported")
    assert len(reported) == 1, reported
    assert reported[0]["amount"] == 1000
    assert reported[0]["account_last5"] == "12345"
    assert reported[0]["note"] == f"paid from mum's account {XSS}"
    assert reported[0]["source"] == "buyer"
    assert len(seen["reports"]) == 1 and seen["reports"][0], seen["reports"]

    # The seller confirms: oldest order first, #1001 (960) is paid, #1002 gets 40.
    code, out = api_request(stack, "POST", f"/payments/{reported[0]['id']}/confirm", seller["token"])
    assert code == 200, out
    # A second report whose answer is lost: the buyer taps Send again, the same key goes
    # out and the shop still gets one report.
    page.get_by_role("button", name="I have paid").click()
    page.get_by_label("Amount paid").fill("50")
    mode["now"] = "lose"
    page.locator("#pay-submit").click()
    expect(page.locator("#pay-form-msg")).to_contain_text("The server cannot be reached")
    mode["now"] = "pass"
    page.locator("#pay-submit").click()
    expect(item).to_have_count(2)
    expect(item.first).to_contain_text("NT$50")
    assert len(seen["reports"]) == 3 and seen["reports"][1] == seen["reports"][2], seen["reports"]
    page.unroute("**/track/*/payments")
    rejected = payments_of(stack, seller, "reported")
    assert len(rejected) == 1, rejected
    # A seller's reason that looks like HTML stays text.
    code, out = api_request(
        stack,
        "POST",
        f"/payments/{rejected[0]['id']}/reject",
        seller["token"],
        {"reason": f"not received {XSS}"},
    )
    assert code == 200, out

    page.reload()
    expect(page.locator("#pay-due")).to_have_text("NT$610")
    expect(item).to_have_count(2)
    # Newest first: the rejected 50, then the confirmed 1,000.
    expect(item.nth(0).locator(".pay-status")).to_have_text("Not accepted")
    expect(item.nth(0).locator(".pay-reason")).to_have_text(f"The shop says: not received {XSS}")
    expect(item.nth(1).locator(".pay-status")).to_have_text("Confirmed")
    expect(page.locator("#pay-list img")).to_have_count(0)
    first = page.locator('.order-card[data-order-no="1001"]')
    second = page.locator('.order-card[data-order-no="1002"]')
    expect(first.locator("li.done")).to_have_text(["Ordered", "Remitted"])
    expect(first.locator(".paid-part")).to_have_count(0)
    expect(second.locator("li.done")).to_have_text(["Ordered"])
    expect(second.locator('li[data-step="remitted"]')).to_have_class("partial")
    expect(second.locator(".paid-part")).to_have_text("Partly paidPaid NT$40 of NT$650")
    assert no_horizontal_scroll(page)
    shot(page, "track-payments-desktop")
    problems = serious(page, "track payments en 1280")
    page.get_by_role("button", name="I have paid").click()
    problems += serious(page, "track payment form en 1280")
    assert not problems, "\n".join(problems)

    # The seller records 700 in cash: 610 pays #1002, 90 stays as the buyer's credit.
    code, out = api_request(
        stack,
        "POST",
        "/payments",
        seller["token"],
        {"customer_id": seller["customer_id"], "amount": 700, "method": "cash"},
    )
    assert code == 201, out
    page.reload()
    expect(page.locator("#pay-due")).to_have_text("NT$0")
    expect(page.locator("#pay-settled")).to_have_text("Nothing to pay right now.")
    expect(page.locator("#pay-credit")).to_have_text(
        "Credit: NT$90 (the shop applies it to your orders and charges)"
    )
    expect(item).to_have_count(3)
    expect(item.first.locator(".pay-status")).to_have_text("Confirmed")
    expect(item.first).to_contain_text("Recorded by the shop")
    expect(second.locator("li.done")).to_have_text(["Ordered", "Remitted"])
    expect(second.locator(".paid-part")).to_have_count(0)
    # Nothing due: nothing to report paying (issue 27).
    expect(page.locator("#pay-open")).to_be_hidden()
    shot(page, "track-payments-paid-desktop")

    # A charge of 150: the credit pays 90 of it and the 60 left is due again.
    code, out = api_request(
        stack,
        "POST",
        "/charges",
        seller["token"],
        {"customer_id": seller["customer_id"], "amount": 150, "kind": "duty"},
    )
    assert code == 201, out
    page.reload()
    expect(page.locator("#pay-due")).to_have_text("NT$60")

    # The link is replaced while the form is open: the page says so and offers a new one.
    page.get_by_role("button", name="I have paid").click()
    code, out = api_request(
        stack, "POST", f"/customers/{seller['customer_id']}/tracking-link", seller["token"]
    )
    assert code == 201, out
    expect(page.get_by_label("Amount paid")).to_have_value("60")  # what the charge still owes
    page.get_by_label("Amount paid").fill("100")
    page.locator("#pay-submit").click()
    expect(page.locator("#track-msg")).to_contain_text("not valid any more")
    expect(page.locator("#request-form")).to_be_visible()
    expect(page.locator("#orders-view")).to_be_hidden()
    assert not seen["dialogs"], seen["dialogs"]


def test_chinese_phone_report_with_a_bad_account_number(stack, open_page):
    seller = seed(stack, language="zh-Hant")
    page = open_page(viewport=PHONE, locale="zh-TW")
    seen = watch(page)
    page.goto(seller["url"])
    expect(page.locator("#pay-heading")).to_have_text("應付金額")
    expect(page.locator("#pay-due")).to_have_text("NT$1,610")
    expect(page.locator("#pay-instructions-heading")).to_have_text("匯款資訊")
    expect(page.locator("#pay-instructions")).to_have_text(INSTRUCTIONS)
    expect(page.get_by_role("button", name="複製匯款資訊")).to_be_visible()
    assert no_horizontal_scroll(page)
    shot(page, "track-payments-phone-zh-top", full_page=False)

    page.get_by_role("button", name="我已匯款").click()
    expect(page.get_by_label("匯款金額")).to_have_value("1610")
    assert not unlabelled(page), unlabelled(page)
    assert not small_targets(page), small_targets(page)

    # The amount is checked in the page: 3 decimals never leave it.
    page.get_by_label("匯款金額").fill("10.005")
    page.get_by_role("button", name="送出回報").click()
    expect(page.locator("#pay-amount-error")).to_have_text("請輸入大於 0、最多兩位小數的金額。")
    assert seen["reports"] == []

    # A bad account number goes to the server; its 400 is shown in 繁體中文, at the field.
    page.get_by_label("匯款金額").fill("610")
    page.get_by_label("帳號後五碼").fill("12a45")
    page.get_by_label("備註").fill(XSS)
    page.get_by_role("button", name="送出回報").click()
    expect(page.locator("#pay-last5-error")).to_have_text("請輸入 5 位數字（帳號的最後五碼），或留空。")
    expect(page.locator("#pay-last5-error")).to_be_visible()
    expect(page.get_by_label("帳號後五碼")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#pay-form-msg")).to_have_text("請檢查表單。")
    expect(page.locator("#pay-amount-error")).to_have_text("")
    assert len(seen["reports"]) == 1
    form_text = page.locator("#pay-form").inner_text()
    for english in ("must", "match", "pattern", "account_last5", "digits"):
        assert english not in form_text, form_text
    assert no_horizontal_scroll(page)
    shot(page, "track-payments-phone-zh-error")
    # The switcher says it again in English, and back.
    page.locator("#lang").select_option("en")
    expect(page.locator("#pay-last5-error")).to_have_text(
        "Enter exactly 5 digits (the end of your account number), or leave it empty."
    )
    page.locator("#lang").select_option("zh-Hant")
    expect(page.locator("#pay-last5-error")).to_have_text("請輸入 5 位數字（帳號的最後五碼），或留空。")
    problems = serious(page, "track payment form with error zh 375")

    # Full-width digits from a Chinese input method are fine.
    page.get_by_label("帳號後五碼").fill("５４３２１")
    page.get_by_role("button", name="送出回報").click()
    item = page.locator("#pay-list .pay-item")
    expect(item).to_have_count(1)
    expect(item.first.locator(".pay-status")).to_have_text("已回報，等待賣家確認")
    expect(item.first).to_contain_text("帳號後五碼 54321")
    expect(page.locator("#pay-last5-error")).to_have_text("")
    expect(page.locator("#pay-form-msg")).to_be_empty()
    reported = payments_of(stack, seller)
    assert [(p["amount"], p["account_last5"], p["note"]) for p in reported] == [(610, "54321", XSS)]

    code, out = api_request(stack, "POST", f"/payments/{reported[0]['id']}/confirm", seller["token"])
    assert code == 200, out
    page.reload()
    expect(item.first.locator(".pay-status")).to_have_text("已確認")
    expect(page.locator("#pay-due")).to_have_text("NT$1,000")
    # 610 paid the oldest order (960) in part: 部分付款, no 已匯款 step yet.
    first = page.locator('.order-card[data-order-no="1001"]')
    expect(first.locator(".paid-part")).to_have_text("部分付款已付 NT$610／共 NT$960")
    expect(first.locator("li.done")).to_have_text(["已下單"])
    assert no_horizontal_scroll(page)
    assert not small_targets(page), small_targets(page)
    shot(page, "track-payments-phone-zh")
    problems += serious(page, "track payments zh 375")
    assert not problems, "\n".join(problems)
    assert not seen["dialogs"], seen["dialogs"]


def test_sixth_report_of_the_day_is_refused_in_the_buyers_language(stack, open_page):
    seller = seed(stack)
    for i in range(5):
        code, out = api_request(
            stack, "POST", f"/track/{seller['link_token']}/payments", body={"amount": 10 + i}
        )
        assert code == 201, out
    page = open_page(viewport=PHONE, locale="zh-TW")
    page.goto(seller["url"])
    expect(page.locator("#pay-list .pay-item")).to_have_count(5)
    page.get_by_role("button", name="我已匯款").click()
    page.get_by_role("button", name="送出回報").click()
    expect(page.locator("#pay-form-msg")).to_have_text(
        "每個連結一天最多回報 5 次匯款，請明天再試，或直接聯絡賣家。"
    )
    expect(page.locator("#pay-form")).to_be_visible()  # what was typed is kept
    expect(page.get_by_label("匯款金額")).to_have_value("1610")
