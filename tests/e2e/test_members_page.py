"""The Members card of Settings (issue 31, accounts slice), in both languages: the owner
invites a helper and copies the link (for LINE); the helper opens it, chooses a password
and is in the shop, without the Members card; the owner sees them active and removes
them; the helper's next request ends at the login screen. A member who forgot their
password resets it from the login page with the emailed link (read in the local outbox);
the owner sends a new link for an expired invite, and only the new one works."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import api_call, api_request

pytestmark = pytest.mark.e2e
HELPER_PASSWORD = "violet teapot harbour 9"
NEW_PASSWORD = "quiet lantern meadow 4"
TEXTS = {
    "en-US": {
        "active": "active",
        "invited": "invited",
        "none": "No members yet.",
        "join": "Join",
        "forgot": "Forgot password?",
        "sent": "a link is on its way",
        "subject": "reset your password",
        "changed": "Your password is changed",
        "expired": "invite expired",
        "reissue": "New invite link",
        "bad_invite": "does not work",
        "invite_who": "{shop} invites you to help as Staff.",
    },
    "zh-TW": {
        "active": "使用中",
        "invited": "已邀請",
        "none": "還沒有成員。",
        "join": "加入",
        "forgot": "忘記密碼？",
        "sent": "重設連結已寄出",
        "subject": "重設密碼",
        "changed": "密碼已變更",
        "expired": "邀請已過期",
        "reissue": "重發邀請連結",
        "bad_invite": "無法使用",
        "invite_who": "「{shop}」邀請您以店員身分加入。",
    },
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
    # The page names the shop, the role and the email that will log in.
    shop_name = owner.locator("#brand").inner_text()
    expect(invite.locator("#invite-who")).to_have_text(words["invite_who"].format(shop=shop_name))
    expect(invite.locator("#invite-email")).to_have_value(helper_email)
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


def _invite(stack, owner, email):
    token = owner.evaluate("localStorage.getItem('token')")
    return api_call(stack, "POST", "/members", token, {"email": email, "role": "staff"})


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_a_member_resets_a_forgotten_password_from_the_login_page(stack, seller_page, open_page, locale):
    words = TEXTS[locale]
    owner = seller_page(locale=locale)
    if locale == "en-US":  # the email speaks the shop's language (zh-Hant unless changed)
        token = owner.evaluate("localStorage.getItem('token')")
        api_call(stack, "PATCH", "/auth/me", token, {"language": "en"})
    helper_email = f"forgot-{uuid.uuid4().hex[:6]}@example.com"
    made = _invite(stack, owner, helper_email)
    joined, _ = api_request(
        stack,
        "POST",
        "/members/accept",
        body={"token": made["invite_url"].split("#invite=")[1], "password": HELPER_PASSWORD},
    )
    assert joined == 200

    helper = open_page(locale=locale)
    helper.goto(f"{stack.site_url}/index.html")
    helper.get_by_role("button", name=words["forgot"]).click()
    helper.locator("#forgot-form [name=email]").fill(helper_email)
    helper.locator("#forgot-form [type=submit]").click()
    expect(helper.locator("#auth-msg")).to_contain_text(words["sent"])

    # The link, from the local outbox (as a seller's own reset is read).
    helper.goto(stack.outbox_url)
    mine = helper.locator("li").filter(has_text=helper_email).filter(has_text=words["subject"]).first
    mine.get_by_role("link").click()
    link = helper.locator(".text a")
    expect(link).to_have_attribute("href", re.compile(re.escape(f"{stack.site_url}/index.html#reset=")))
    link.click()
    form = helper.locator("#reset-form")
    form.locator("[name=new_password]").fill(NEW_PASSWORD)
    form.locator("[type=submit]").click()
    expect(helper.locator("#auth-msg")).to_contain_text(words["changed"])
    login = helper.locator("#login-form")
    login.locator("[name=email]").fill(helper_email)
    login.locator("[name=password]").fill(NEW_PASSWORD)
    login.locator("[type=submit]").click()
    expect(helper.locator("#app-view")).to_be_visible()
    expect(helper.locator("body")).to_have_attribute("data-role", "staff")
    expect(helper.locator("#brand")).to_have_text(owner.locator("#brand").inner_text())


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_the_owner_sends_a_new_link_for_an_expired_invite(stack, seller_page, open_page, locale):
    import datetime as dt

    import pymongo
    from bson import ObjectId

    words = TEXTS[locale]
    owner = seller_page(locale=locale)
    owner.on("dialog", lambda d: d.accept())
    helper_email = f"late-{uuid.uuid4().hex[:6]}@example.com"
    made = _invite(stack, owner, helper_email)
    client = pymongo.MongoClient(stack.api.env["MONGO_URI"])
    try:  # eight days later
        client[stack.api.env["MONGO_DB"]].members.update_one(
            {"_id": ObjectId(made["id"])},
            {"$set": {"expires_at": dt.datetime.now(dt.UTC) - dt.timedelta(days=1)}},
        )
    finally:
        client.close()

    owner.locator("[data-tab=settings]").click()
    card = owner.locator("#members-card")
    row = card.locator(f"[data-member='{helper_email}']")
    expect(row).to_contain_text(words["expired"])
    row.get_by_role("button", name=words["reissue"]).click()
    link = card.locator("#member-msg input")
    expect(link).to_have_value(re.compile(r"#invite=[A-Za-z0-9_-]{43}$"))
    new_url = link.input_value()
    assert new_url != made["invite_url"]
    expect(row).to_contain_text(words["invited"])
    expect(row).not_to_contain_text(words["expired"])

    helper = open_page(locale=locale)
    helper.goto(made["invite_url"])  # the old link no longer works: said on opening it
    expect(helper.locator("#auth-msg")).to_contain_text(words["bad_invite"])
    expect(helper.locator("#login-form")).to_be_visible()
    expect(helper.locator("#invite-form")).to_be_hidden()
    helper.goto(new_url)
    helper.reload()  # the same page, a new #invite=: read it afresh
    helper.locator("#invite-form [name=password]").fill(HELPER_PASSWORD)
    helper.locator("#invite-form").get_by_role("button", name=words["join"]).click()
    expect(helper.locator("#app-view")).to_be_visible()
    owner.reload()
    owner.locator("[data-tab=settings]").click()
    expect(row).to_contain_text(words["active"])
