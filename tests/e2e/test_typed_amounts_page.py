"""Amounts as people type them, on the pages (issue 27): a Chinese input method's `１２００`
in the new-order form and `NT$60` in the charge form are read as 1200 and 60 (the total
shows before Create); `1.200,50` is refused on the page as "not an amount" (不是金額), not
"at most 2 decimals", and writes nothing. In English on a desktop and 繁中 on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, api_call, seed_orders
from tests.e2e.test_charges_page import WORDS, amy, open_panel

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("locale", "viewport"), [("en-US", DESKTOP), ("zh-TW", PHONE)])
def test_typed_amounts_are_read_in_the_order_and_charge_forms(stack, seller_page, locale, viewport):
    zh = locale == "zh-TW"
    w = WORDS["zh" if zh else "en"]
    not_an_amount = "不是金額" if zh else "not an amount"
    page = seller_page(locale=locale, viewport=viewport)
    token = seed_orders(stack, page, n=1)  # Amy Chen: #1001
    page.reload()

    page.locator("#new-order-box summary").click()
    form = page.locator("#order-form")
    form.locator("[name=buyer_email]").fill("dee@example.com")
    form.locator("[name=item_name]").fill("Royce")
    form.locator("[name=unit_price]").fill("1.200,50")
    form.locator("[type=submit]").click()
    # Named by its field, with the language's colon (單價：).
    expect(page.locator("#order-form-msg .alert-danger")).to_contain_text(
        f"單價：{not_an_amount}" if zh else f"Unit price: {not_an_amount}"
    )
    expect(form.locator("[name=unit_price]")).to_have_class("form-control is-invalid")
    assert len(api_call(stack, "GET", "/orders?limit=10", token)["items"]) == 1

    form.locator("[name=unit_price]").fill("１２００")
    form.locator("[name=shipping_fee]").fill("NT$60")
    expect(page.locator("#order-total")).to_have_text("NT$1,260")
    form.locator("[type=submit]").click()
    expect(page.locator("#order-form-msg .alert-success")).to_contain_text("1002")
    orders = api_call(stack, "GET", "/orders?limit=10", token)["items"]
    royce = next(o for o in orders if o["item_name"] == "Royce")
    assert (royce["unit_price"], royce["shipping_fee"], royce["total_amount"]) == (1200, 60, 1260)

    customer_id, _ = amy(stack, token)
    panel = open_panel(page, w)
    panel.locator("[name=kind]").select_option("duty")
    panel.locator("[name=amount]").fill("NT$1200元")  # two signs: not guessed
    panel.get_by_role("button", name=w["add"]).click()
    expect(panel.locator(".charges-msg")).to_contain_text(not_an_amount)
    assert api_call(stack, "GET", f"/charges?customer_id={customer_id}", token)["items"] == []
    panel.locator("[name=amount]").fill("NT$60")
    panel.get_by_role("button", name=w["add"]).click()
    expect(panel.locator(".charge-row")).to_have_count(1)
    [charge] = api_call(stack, "GET", f"/charges?customer_id={customer_id}", token)["items"]
    assert (charge["kind"], charge["amount"]) == ("duty", 60)
