"""One language at a time: every error code and detail code the API can answer with has
a text in both languages, server English never reaches the Chinese page, and money looks
the same in both languages."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from chalicelib.platform.errors import DETAIL_CODES, ERROR_CODES
from tests.e2e.conftest import api_call, settled, sign_up_any_language

pytestmark = pytest.mark.e2e


def i18n_has(page, keys):
    """{language: [keys without a text]} from the page's own i18n table."""
    src = page.locator("script[type=module]").get_attribute("src").rsplit("/", 1)[0]
    return page.evaluate(
        """async ([base, keys]) => {
            const m = await import("./" + base + "/i18n.js");
            return Object.fromEntries(["en", "zh-Hant"].map((l) => [l, keys.filter((k) => !m.has(k, l))]));
        }""",
        [src, keys],
    )


def test_every_api_code_has_a_text_in_both_languages(stack, page):
    page.goto(f"{stack.site_url}/index.html")
    keys = [f"code.{c}" for c in ERROR_CODES] + [f"detail.{c}" for c in DETAIL_CODES]
    assert i18n_has(page, keys) == {"en": [], "zh-Hant": []}


def test_the_chinese_page_says_everything_in_chinese(stack, seller_page):
    page = seller_page(locale="zh-TW")
    page.get_by_role("tab", name="買家").click()
    form = page.locator("#customer-form")
    form.locator("[name=name]").fill("林小美")
    form.locator("[name=email]").fill("amy@example.com")
    form.locator("[type=submit]").click()
    expect(page.locator("#customers-body")).to_contain_text("amy@example.com")
    # The same email again: 409 duplicate_email, said in Chinese.
    form.locator("[name=name]").fill("Amy")
    form.locator("[name=email]").fill("AMY@example.com")
    form.locator("[type=submit]").click()
    msg = page.locator("#customer-form-msg")
    expect(msg).to_contain_text("已有使用這個 Email 的買家")
    # A bad email: 400 with a detail naming the field and its reason, in Chinese.
    form.locator("[name=email]").fill("not-an-email")
    form.locator("[type=submit]").click()
    expect(msg).to_contain_text("Email：不是有效的 Email")  # the language's colon (issue 27)
    expect(msg).to_contain_text("請檢查表單。")
    text = msg.inner_text()
    assert "value is not" not in text and "invalid_email" not in text and "already exists" not in text, text
    # Bulk refusals are reasons, not codes: cancel one order, then mark both shipped.
    token = page.evaluate("localStorage.getItem('token')")
    for item in ("Pocky", "KitKat"):
        api_call(
            stack,
            "POST",
            "/orders",
            token,
            {"buyer_email": "amy@example.com", "item_name": item, "quantity": 1, "unit_price": 1650},
        )
    first = api_call(stack, "GET", "/orders?limit=1&sort=order_no", token)["items"][0]
    api_call(stack, "PATCH", f"/orders/{first['id']}", token, {"fulfillment_status": "cancelled"})
    page.get_by_role("tab", name="訂單").click()
    # The tab reads its list again; a tick before the rows come is cleared with the old rows.
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(2)
    settled(page)
    page.locator("#select-all").check()
    page.locator("#bulk-status").select_option("shipped")
    page.locator("dialog.confirm-dialog button[value=yes]").click()
    flash = page.locator("#flash")
    expect(flash).to_contain_text("1 筆無法變更")
    assert "order_cancelled" not in flash.inner_text() and "invalid_transition" not in flash.inner_text()
    # Money: the shop's currency with the same symbol as in English.
    expect(page.locator("#orders-body")).to_contain_text("NT$1,650")


def test_a_detail_code_the_table_lacks_still_reads_as_a_sentence(stack, page):
    """A code added to the API later (not in the page's table) is not shown raw."""
    sign_up_any_language(page, stack, zh=False)
    body = json.dumps(
        {
            "error": {
                "code": "brand_new_code",
                "message": "English only",
                "details": [{"field": "note", "code": "new_reason", "message": "English only"}],
            }
        }
    )
    page.route(
        f"{stack.api_url}/customers",
        lambda route: (
            route.continue_()
            if route.request.method != "POST"
            else route.fulfill(
                status=400,
                body=body,
                headers={"Content-Type": "application/json", "Access-Control-Allow-Origin": stack.site_url},
            )
        ),
    )
    page.get_by_role("tab", name="Buyers").click()
    add = page.locator("#customer-form")
    add.locator("[name=name]").fill("X")
    add.locator("[name=email]").fill("x@example.com")
    add.get_by_role("button", name="Save").click()
    msg = page.locator("#customer-form-msg")
    expect(msg).to_contain_text("Please check the form. Note: is not valid")
    assert "English only" not in msg.inner_text() and "brand_new_code" not in msg.inner_text()
