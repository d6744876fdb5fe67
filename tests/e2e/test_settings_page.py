"""The settings tab: shop name, shop code, time zone, currency and language saved with
PATCH /auth/me (its fresh token stored), a password change that logs out other devices,
and log out; in both languages, on a desktop and a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, api_call, shot, sign_up_any_language

pytestmark = pytest.mark.e2e
NEW_PASSWORD = "lantern orchard fjord 4"


@pytest.mark.parametrize(
    ("locale", "viewport"), [("en-US", DESKTOP), ("zh-TW", PHONE)], ids=["en-desktop", "zh-phone"]
)
def test_shop_settings_password_and_logout(stack, open_page, locale, viewport):
    zh = locale == "zh-TW"
    page = open_page(viewport=viewport, locale=locale)
    email = sign_up_any_language(page, stack, zh)
    page.get_by_role("tab", name="設定" if zh else "Settings").click()
    form = page.locator("#shop-form")
    expect(page.locator("#shop-slug")).not_to_be_empty()
    expect(form.locator("[name=timezone]")).to_have_value("Asia/Taipei")
    expect(form.locator("[name=currency]")).to_have_value("TWD")
    shot(page, f"settings-{'phone-zh' if zh else 'desktop'}")
    old_token = page.evaluate("localStorage.getItem('token')")
    form.locator("[name=shop_name]").fill("大阪代購" if zh else "Osaka Picks")
    form.locator("[name=timezone]").fill("Asia/Tokyo")
    form.locator("[name=currency]").select_option("JPY")
    form.locator("[type=submit]").click()
    expect(page.locator("#shop-msg")).to_contain_text("已儲存" if zh else "Saved")
    expect(page.locator("#brand")).to_have_text("大阪代購" if zh else "Osaka Picks")
    new_token = page.evaluate("localStorage.getItem('token')")
    assert new_token != old_token
    me = api_call(stack, "GET", "/auth/me", new_token)
    assert (me["timezone"], me["currency"]) == ("Asia/Tokyo", "JPY")
    # An unknown zone is refused in the page's language.
    form.locator("[name=timezone]").fill("Mars/Olympus")
    form.locator("[type=submit]").click()
    expect(page.locator("#shop-msg")).to_contain_text("不是已知的時區" if zh else "is not a known time zone")
    form.locator("[name=timezone]").fill("Asia/Tokyo")
    # A new shop language switches this page too (a new shop is 繁體中文 by default).
    if not zh:
        form.locator("[name=language]").select_option("en")
        form.locator("[type=submit]").click()
        expect(page.locator("#shop-msg")).to_contain_text("Saved")
    form.locator("[name=language]").select_option("en" if zh else "zh-Hant")
    form.locator("[type=submit]").click()
    expect(page.get_by_role("tab", name="Orders" if zh else "訂單")).to_be_visible()
    zh = not zh
    # Change password: a wrong current one is said plainly; the right one works.
    pw = page.locator("#password-form")
    pw.locator("[name=current_password]").fill("not my password")
    pw.locator("[name=new_password]").fill(NEW_PASSWORD)
    pw.locator("[type=submit]").click()
    expect(page.locator("#password-msg")).to_contain_text(
        "目前的密碼不正確" if zh else "current password is wrong"
    )
    pw.locator("[name=current_password]").fill(PASSWORD)
    pw.locator("[type=submit]").click()
    expect(page.locator("#password-msg")).to_contain_text(
        "其他裝置已登出" if zh else "Other devices are logged out"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    # Log out from the settings tab.
    page.locator("#settings-logout").click()
    expect(page.locator("#login-form")).to_be_visible()
    login = page.locator("#login-form")
    login.locator("[name=email]").fill(email)
    login.locator("[name=password]").fill(NEW_PASSWORD)
    login.locator("[type=submit]").click()
    expect(page.locator("#brand")).to_have_text("大阪代購" if locale == "zh-TW" else "Osaka Picks")


@pytest.mark.parametrize(
    ("locale", "viewport"), [("en-US", DESKTOP), ("zh-TW", PHONE)], ids=["en-desktop", "zh-phone"]
)
def test_buyer_emails_can_be_turned_off_for_the_shop_and_for_one_buyer(stack, seller_page, locale, viewport):
    zh = locale == "zh-TW"
    page = seller_page(viewport=viewport, locale=locale)
    token = page.evaluate("localStorage.getItem('token')")
    buyer = api_call(stack, "POST", "/customers", token, {"name": "王小明", "email": "ming@example.com"})
    page.get_by_role("tab", name="設定" if zh else "Settings").click()
    switch = page.get_by_role("switch", name="寄 Email 通知買家" if zh else "Email buyers", exact=False)
    expect(switch).to_be_checked()
    switch.uncheck()
    page.locator("#pay-info-form [type=submit]").click()
    expect(page.locator("#pay-info-msg")).to_contain_text("已儲存" if zh else "Saved")
    assert (
        api_call(stack, "GET", "/auth/me", page.evaluate("localStorage.getItem('token')"))["notify_buyers"]
        is False
    )
    page.reload()
    page.get_by_role("tab", name="設定" if zh else "Settings").click()
    expect(
        page.get_by_role("switch", name="寄 Email 通知買家" if zh else "Email buyers", exact=False)
    ).not_to_be_checked()

    page.get_by_role("tab", name="買家" if zh else "Buyers").click()
    row = page.locator(f'#customers-body tr[data-id="{buyer["id"]}"]')
    row.get_by_role("button", name="編輯" if zh else "Edit").click()
    one = page.get_by_role("switch", name="寄出貨與付款通知" if zh else "Email this buyer", exact=False)
    expect(one).to_be_checked()
    one.uncheck()
    page.locator("#customer-form [type=submit]").click()
    expect(page.locator("#customer-form-msg")).to_contain_text("已儲存" if zh else "Saved")
    assert api_call(stack, "GET", f"/customers/{buyer['id']}", token)["notify"] is False
    row.get_by_role("button", name="編輯" if zh else "Edit").click()
    expect(one).not_to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
