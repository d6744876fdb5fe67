"""Issue 29: the batch page's notices. The seller writes a notice to a batch of three buyers
(one with LINE only, one with an email, one with an email who opted out of notices); each
gets their own card with a Copy button for the LINE text and a Sent tick, and the emailed
one says so; the tick is read back through the API. 繁體中文 at 375 px, English at 1280 px."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, api_call, serious, settled, shot

pytestmark = pytest.mark.e2e

BATCH = "2026-12 東京"
WORDS = {
    False: {
        "tab": "Batches",
        "buyers": "Buyers",
        "edit": "Edit",
        "opt_out": "No batch notices by email",
        "saved": "Saved",
        "stop": "Stop batch notices by email",
        "stopped": "no more batch notices by email",
        "kind": "Payment due",
        "create": "Prepare notice",
        "copy": "Copy the LINE text for {}",
        "sent": "Sent",
        "emailed": "Emailed",
        "not_emailed": "Not emailed",
        "copied": "Copied",
        "reach": "3 buyers · 1 emailed · 1 sent on LINE",
        "due": "To pay: NT$",
    },
    True: {
        "tab": "批次",
        "buyers": "買家",
        "edit": "編輯",
        "opt_out": "不寄批次通知 Email",
        "saved": "已儲存",
        "stop": "停止批次通知 Email",
        "stopped": "不會再收到批次通知 Email",
        "kind": "尾款通知",
        "create": "建立通知",
        "copy": "複製給 {} 的 LINE 文字",
        "sent": "已傳送",
        "emailed": "已寄 Email",
        "not_emailed": "未寄 Email",
        "copied": "已複製",
        "reach": "3 位買家・已寄 Email 1・已傳 LINE 1",
        "due": "應付金額：NT$",
    },
}


def seed(stack, token, language):
    # The texts are in the shop's language (what its buyers read), whatever the page's.
    me = {"payment_instructions": "國泰世華 013 帳號 1234-567-890", "language": language}
    api_call(stack, "PATCH", "/auth/me", token, me)
    amy = api_call(stack, "POST", "/customers", token, {"name": "Amy Chen", "email": "amy@example.com"})
    bo = api_call(stack, "POST", "/customers", token, {"name": "Bo Lin", "line_id": "bo.lin"})
    cy = api_call(stack, "POST", "/customers", token, {"name": "Cy Wu", "email": "cy@example.com"})
    for who, item in ((amy, "Pocky 抹茶"), (bo, "Royce 生巧克力"), (cy, "Kit Kat")):
        body = {"customer_id": who["id"], "item_name": item, "quantity": 2, "unit_price": 120, "batch": BATCH}
        api_call(stack, "POST", "/orders", token, body)
    return amy, bo, cy


@pytest.mark.parametrize(
    ("locale", "viewport"), [("zh-TW", PHONE), ("en-US", DESKTOP)], ids=["zh-phone", "en"]
)
def test_a_notice_to_a_batch_copy_and_tick(stack, seller_page, locale, viewport):
    zh = locale == "zh-TW"
    w = WORDS[zh]
    page = seller_page(viewport=viewport, locale=locale)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.site_url)
    token = page.evaluate("localStorage.getItem('token')")
    amy, bo, cy = seed(stack, token, "zh-Hant" if zh else "en")
    page.reload()

    # Cy opts out through the Buyers tab's switch.
    page.get_by_role("tab", name=w["buyers"]).click()
    page.locator("#customers-body tr", has_text="Cy Wu").get_by_role("button", name=w["edit"]).click()
    form = page.locator("#customer-form")
    form.get_by_label(w["opt_out"]).check()
    form.locator("button[type=submit]").click()
    expect(page.locator("#customer-form-msg")).to_contain_text(w["saved"])
    assert api_call(stack, "GET", f"/customers/{cy['id']}", token)["notices_opt_out"] is True

    page.get_by_role("tab", name=w["tab"]).click()
    page.locator(f'#batch-list tr[data-batch="{BATCH}"] .batch-open-btn').click()
    box = page.locator("#batch-notices")
    expect(box.locator("#notice-none")).to_be_visible()
    box.locator("#notice-kind").select_option(label=w["kind"])
    box.locator("#notice-message").fill("週五前匯款，謝謝！")
    box.get_by_role("button", name=w["create"]).click()

    cards = box.locator(".notice-recipient")
    expect(cards).to_have_count(3)
    card = {c["name"]: box.locator(f'.notice-recipient[data-customer="{c["id"]}"]') for c in (amy, bo, cy)}
    expect(card["Amy Chen"].locator(".notice-emailed")).to_have_text(w["emailed"])
    expect(card["Bo Lin"].locator(".notice-no-email")).to_have_text(w["not_emailed"])
    expect(card["Cy Wu"].locator(".notice-no-email")).to_have_text(w["not_emailed"])

    # Copy Bo's LINE text: his orders only, what he owes, the link on a line of its own.
    card["Bo Lin"].get_by_role("button", name=w["copy"].format("Bo Lin")).click()
    shown = card["Bo Lin"].locator(".notice-text")
    expect(shown).to_be_visible()
    expect(card["Bo Lin"].get_by_role("status")).to_contain_text(w["copied"])
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == shown.input_value()
    assert "Royce 生巧克力" in copied and "Pocky" not in copied and "Kit Kat" not in copied, copied
    assert w["due"] + "240" in copied and "1234-567-890" in copied and "週五前匯款，謝謝！" in copied
    link = api_call(stack, "GET", f"/customers/{bo['id']}/tracking-link", token)["url"]
    assert f"\n{link}\n" in copied

    card["Bo Lin"].get_by_label(w["sent"]).check()
    expect(box.locator(".notice-reach").first).to_have_text(w["reach"])
    expect(card["Bo Lin"].get_by_label(w["sent"])).to_be_disabled()

    (notice,) = api_call(stack, "GET", f"/batches/{quote(BATCH)}/notices", token)["items"]
    reached = {r["customer_id"]: (r["emailed"], r["line_sent_at"] is not None) for r in notice["recipients"]}
    assert reached == {amy["id"]: (True, False), bo["id"]: (False, True), cy["id"]: (False, False)}

    # The cards fit a phone: nothing wider than the screen.
    settled(page, width=viewport["width"])
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow
    problems = serious(page, f"batch notices {locale}")
    shot(page, f"batch-notices-{locale}")
    assert problems == []

    # Amy stops batch notices by email from her own page (the link her email carries).
    amy_link = api_call(stack, "GET", f"/customers/{amy['id']}/tracking-link", token)["url"]
    buyer = page.context.new_page()
    buyer.goto(amy_link)
    buyer.get_by_role("button", name=w["stop"]).click()
    expect(buyer.locator("#notices-msg")).to_contain_text(w["stopped"])
    assert api_call(stack, "GET", f"/customers/{amy['id']}", token)["notices_opt_out"] is True
    buyer.close()

    # Reloaded: the notice is listed with its reach, the tick kept.
    page.reload()
    page.get_by_role("tab", name=w["tab"]).click()
    page.locator(f'#batch-list tr[data-batch="{BATCH}"] .batch-open-btn').click()
    expect(box.locator(".notice-reach").first).to_have_text(w["reach"])
    expect(card["Bo Lin"].get_by_label(w["sent"])).to_be_checked()
