"""Issue 27's smaller things a new seller hit, each in both languages where a text is
involved (the phone width where a layout is)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE


@pytest.mark.parametrize(
    ("locale", "says"),
    [("en-US", "at least 10 characters"), ("zh-TW", "至少要 10 個字元")],
)
def test_a_short_password_is_said_to_be_too_short(stack, open_page, locale, says):
    page = open_page(locale=locale, viewport=PHONE)
    page.goto(f"{stack.site_url}/index.html")
    page.locator("[data-show=signup-form]").click()
    form = page.locator("#signup-form")
    form.locator("[name=shop_name]").fill("Short")
    form.locator("[name=email]").fill("short-pw@example.com")
    form.locator("[name=password]").fill("abcde")
    form.locator("[type=submit]").click()
    msg = page.locator("#auth-msg")
    expect(msg).to_contain_text(says)
    expect(msg).not_to_contain_text("empty")
    expect(msg).not_to_contain_text("空")
