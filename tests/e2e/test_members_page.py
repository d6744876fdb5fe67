"""The Members card of Settings (issue 31, accounts slice), in both languages: the owner
invites a helper and copies the link (for LINE); the helper opens it, chooses a password
and is in the shop, without the Members card; the owner sees them active and removes
them; the helper's next request ends at the login screen."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e
HELPER_PASSWORD = "violet teapot harbour 9"
TEXTS = {
    "en-US": {"active": "active", "invited": "invited", "none": "No members yet.", "join": "Join"},
    "zh-TW": {"active": "使用中", "invited": "已邀請", "none": "還沒有成員。", "join": "加入"},
}


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_owner_invites_helper_joins_owner_removes(stack, seller_page, open_page, locale):
    words = TEXTS[locale]
    owner = seller_page(locale=locale)
    owner.on("dialog", lambda d: d.accept())
    owner.locator("[data-tab=settings]").click()
    card = owner.locator("#members-card")
    expect(card.locator("#members-list")).to_contain_text(words["none"])
    helper_email = f"helper-{uuid.uuid4().hex[:6]}@example.com"
    form = card.locator("#member-form")
    form.locator("[name=email]").fill(helper_email)
    form.locator("[name=role]").select_option("staff")
    form.locator("[type=submit]").click()
    link = card.locator("#member-msg input")
    expect(link).to_have_value(
        re.compile(re.escape(f"{stack.site_url}/index.html#invite=") + r"[A-Za-z0-9_-]{43}$")
    )
    url = link.input_value()
    assert url.startswith(f"{stack.site_url}/index.html#invite="), url
    row = card.locator(f"[data-member='{helper_email}']")
    expect(row).to_contain_text(words["invited"])

    helper = open_page(locale=locale)
    helper.goto(url)
    invite = helper.locator("#invite-form")
    expect(invite).to_be_visible()
    invite.locator("[name=password]").fill(HELPER_PASSWORD)
    invite.get_by_role("button", name=words["join"]).click()
    expect(helper.locator("#app-view")).to_be_visible()
    expect(helper.locator("#brand")).to_have_text(owner.locator("#brand").inner_text())
    assert "#invite=" not in helper.url
    helper.locator("[data-tab=settings]").click()
    expect(helper.locator("#password-form")).to_be_visible()
    expect(helper.locator("#shop-form")).to_be_hidden()  # staff: the owner's settings
    expect(helper.locator("#members-card")).to_be_hidden()  # and the owner's card

    owner.reload()
    owner.locator("[data-tab=settings]").click()
    expect(row).to_contain_text(words["active"])
    row.get_by_role("button").last.click()  # remove (the dialog is accepted)
    expect(card.locator("#members-list")).to_contain_text(words["none"])

    # The helper's next request is refused: the page goes back to the login screen.
    helper.reload()
    expect(helper.locator("#auth-view")).to_be_visible()
    expect(helper.locator("#app-view")).to_be_hidden()
