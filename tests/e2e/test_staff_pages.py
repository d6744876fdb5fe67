"""A shop with a helper (issue 31), in both languages: the owner invites a helper in
Settings and copies the link; the helper joins through it, packs a parcel in the Ship tab,
(its card says who packed it) and finds no Profit, no cost fields and no shop settings (a link straight to Reports or
Settings shows a "not for your role" note instead); the owner's order panel names the
helper as the one who shipped the order, and the payments list names who recorded."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import api_call, order_row

pytestmark = pytest.mark.e2e
HELPER_PASSWORD = "violet teapot harbour 9"
WORDS = {
    "en-US": {
        "join": "Join",
        "no_profit": "not for your role",
        "no_settings": "are the owner's",
        "shipped_by": "{who}（its parcel）",
        "paid_by": "by {who}",
        "login_as": "Logged in as {who} (Staff).",
        "packed_by": "packed by {who}",
    },
    "zh-TW": {
        "join": "加入",
        "no_profit": "你的角色無法查看",
        "no_settings": "商店設定與成員僅限店主",
        "shipped_by": "由{who}（包裹）",
        "paid_by": "由{who}經手",
        "login_as": "登入帳號：{who}（店員）",
        "packed_by": "由{who}包裝",
    },
}


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_helper_packs_a_parcel_and_sees_no_costs(stack, seller_page, open_page, locale):
    words = WORDS[locale]
    owner = seller_page(locale=locale)
    owner.on("dialog", lambda d: d.accept())
    token = owner.evaluate("localStorage.getItem('token')")
    order = api_call(
        stack,
        "POST",
        "/orders",
        token,
        {
            "buyer_email": "amy@example.com",
            "buyer_name": "Amy Chen",
            "item_name": "Pocky",
            "quantity": 1,
            "unit_price": 120,
            "cost": 80,
        },
    )
    api_call(stack, "PATCH", f"/orders/{order['id']}", token, {"fulfillment_status": "purchased"})

    # The owner invites the helper and copies the link (for LINE).
    owner.locator("[data-tab=settings]").click()
    helper_email = f"helper-{uuid.uuid4().hex[:6]}@example.com"
    form = owner.locator("#member-form")
    form.locator("[name=email]").fill(helper_email)
    form.locator("[name=role]").select_option("staff")
    form.locator("[type=submit]").click()
    link = owner.locator("#member-msg input")
    expect(link).to_have_value(re.compile(r"#invite=[A-Za-z0-9_-]{43}$"))

    helper = open_page(locale=locale)
    helper.goto(link.input_value())
    helper.locator("#invite-form [name=password]").fill(HELPER_PASSWORD)
    helper.locator("#invite-form").get_by_role("button", name=words["join"]).click()
    expect(helper.locator("#app-view")).to_be_visible()
    expect(helper.locator("body")).to_have_attribute("data-role", "staff")

    # No cost on the orders page or in the order panel.
    expect(helper.locator("#order-form [name=cost]")).to_be_hidden()
    expect(helper.locator("#export-csv")).to_be_hidden()
    order_row(helper, 1001).locator(".order-open").click()
    expect(helper.locator("#detail-history")).to_be_visible()
    expect(helper.locator("#order-detail [name=cost]")).to_be_hidden()
    expect(helper.locator("#detail-profit")).to_be_hidden()
    helper.keyboard.press("Escape")

    # The helper packs Amy's order (Ship tab); no shipping cost field for them.
    helper.locator("[data-tab=ship]").click()
    amy = helper.locator("#ship-ready .ship-buyer", has_text="Amy Chen")
    expect(amy.locator("input[name=order]:checked")).to_have_count(1)
    expect(amy.locator("[name=shipping_cost]")).to_be_hidden()
    expect(amy.locator(".ship-fee-help")).to_be_visible()
    expect(amy.locator(".ship-fee-help .owner-only")).to_be_hidden()  # "counts in the profit report"
    amy.locator(".ship-create").click()
    parcel = helper.locator('#ship-parcels .ship-parcel[data-parcel-no="1"]')
    expect(parcel.locator(".ship-who")).to_have_text(words["packed_by"].format(who=helper_email))
    # And records Amy's payment.
    amy_id = api_call(stack, "GET", "/customers?limit=10", token)["items"][0]["id"]
    helper_token = helper.evaluate("localStorage.getItem('token')")
    api_call(
        stack, "POST", "/payments", helper_token, {"customer_id": amy_id, "amount": 120, "method": "cash"}
    )

    # Profit and the shop's settings are not there, a link straight to them says why.
    helper.locator("[data-tab=reports]").click()
    expect(helper.locator("#rep-profit-box")).to_be_hidden()
    expect(helper.locator("#rep-profit-staff")).to_contain_text(words["no_profit"])
    helper.locator("[data-tab=settings]").click()
    expect(helper.locator("#shop-form")).to_be_hidden()
    expect(helper.locator("#pay-info-form")).to_be_hidden()
    expect(helper.locator("#members-card")).to_be_hidden()
    expect(helper.locator("#settings-staff")).to_contain_text(words["no_settings"])
    expect(helper.locator("#password-form")).to_be_visible()
    # Their own login, not the owner's email (the page's words and the password manager's).
    expect(helper.locator("#set-login-as")).to_have_text(words["login_as"].format(who=helper_email))
    expect(helper.locator("#password-form [name=username]")).to_have_value(helper_email)
    for tab, hidden, note in (
        ("reports", "#rep-profit-box", "#rep-profit-staff"),
        ("settings", "#shop-form", "#settings-staff"),
    ):
        helper.goto(f"{stack.site_url}/index.html?tab={tab}")
        expect(helper.locator(f"#tab-{tab}")).to_be_visible()
        expect(helper.locator(note)).to_be_visible()
        expect(helper.locator(hidden)).to_be_hidden()
    helper.goto(f"{stack.site_url}/index.html?tab=items")
    expect(helper.locator("#tab-items th[data-i18n='item.cost']")).to_be_hidden()

    # The owner still sees everything, and who shipped the order.
    owner.goto(f"{stack.site_url}/index.html")
    expect(owner.locator("body")).to_have_attribute("data-role", "owner")
    order_row(owner, 1001).locator(".order-open").click()
    history = owner.locator("#detail-history")
    expect(history).to_contain_text(words["shipped_by"].format(who=helper_email))
    expect(owner.locator("#detail-payments")).to_contain_text(words["paid_by"].format(who=helper_email))
    expect(owner.locator("#detail-profit")).to_be_visible()
    expect(owner.locator("#order-detail [name=cost]")).to_have_value("80")
    owner.keyboard.press("Escape")
    owner.locator("[data-tab=ship]").click()
    expect(owner.locator('#ship-parcels .ship-parcel[data-parcel-no="1"] .ship-who')).to_have_text(
        words["packed_by"].format(who=helper_email)
    )
