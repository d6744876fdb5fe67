"""Charges on the pages (issue 26): the seller adds a NT$60 customs duty to a buyer from the
Buyers tab, the buyer's tracking page lists it and owes 60 more, the seller records a payment
of 60 for it in the payments tab and both pages show it paid (en on a desktop, zh on a
375 px phone, where the amount is typed with full-width digits). Void asks first; a bad
amount is refused on the page and writes nothing; the buyers report opens the same panel."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    api_call,
    pick_buyer,
    scroll_still,
    scroll_top,
    seed_orders,
    serious,
    settled,
    shot,
)

pytestmark = pytest.mark.e2e

WORDS = {
    "en": {
        "buyers": "Buyers",
        "payments": "Payments",
        "reports": "Reports",
        "charges": "Charges",
        "duty": "Customs duty",
        "add": "Add charge",
        "unpaid": "Unpaid",
        "paid": "Paid",
        "voided": "Voided",
        "void": "Void",
        "void_yes": "Void charge",
        "keep": "Keep it",
        "record": "Record payment",
        "allocated": "Paid: Customs duty NT$60.",
        "owed": "Still owed NT$60",
        "includes": "Includes NT$60 of shipping and other charges.",
        "heading": "Shipping and other charges",
    },
    "zh": {
        "buyers": "買家",
        "payments": "收款",
        "reports": "報表",
        "charges": "費用",
        "duty": "關稅",
        "add": "新增費用",
        "unpaid": "未付款",
        "paid": "已付清",
        "voided": "已作廢",
        "void": "作廢",
        "void_yes": "作廢費用",
        "keep": "保留",
        "record": "記錄收款",
        "allocated": "已付：關稅 NT$60。",
        "owed": "尚欠 NT$60",
        "includes": "含運費及其他費用 NT$60。",
        "heading": "運費及其他費用",
    },
}
NOTE = "成田 customs <b>x</b>"


def seller_token(page):
    return page.evaluate("localStorage.getItem('token')")


def amy(stack, token):
    """Amy's id and the link of her tracking page."""
    items = api_call(stack, "GET", "/customers?limit=200", token)["items"]
    customer_id = next(c["id"] for c in items if c["name"] == "Amy Chen")
    link = api_call(stack, "GET", f"/customers/{customer_id}/tracking-link", token)
    return customer_id, link["url"]


def open_panel(page, w, name="Amy Chen"):
    """The Buyers tab, then the buyer's "Charges"."""
    page.get_by_role("tab", name=w["buyers"]).click()
    row = page.locator("#customers-body tr", has_text=name)
    expect(row).to_have_count(1)
    row.locator(".charges-open").click()
    panel = page.locator("#charges-box .charges-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".state-row .spinner-border")).to_have_count(0)
    return panel


def assert_phone_layout(page, scope):
    """Nothing wider than the screen; every visible control of `scope` at least 44 px high
    (the panel's own controls; Bootstrap's small buttons are the page's elsewhere)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    small = page.evaluate(
        """(scope) => [...document.querySelectorAll(`${scope} input, ${scope} select, ${scope} button:not(.btn-close)`)]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.className || el.name, el.getBoundingClientRect().height])
            .filter(([, h]) => h < 31)""",
        scope,
    )
    assert small == [], small


@pytest.mark.parametrize(
    ("locale", "viewport"), [("en-US", DESKTOP), ("zh-TW", PHONE)], ids=["en-desktop", "zh-phone"]
)
def test_a_duty_charge_shows_to_the_buyer_and_a_payment_covers_it(
    stack, seller_page, open_page, locale, viewport
):
    zh = locale == "zh-TW"
    w = WORDS["zh" if zh else "en"]
    page = seller_page(viewport=viewport, locale=locale)
    token = seed_orders(stack, page, n=1)  # Amy Chen: #1001 NT$150
    customer_id, url = amy(stack, token)
    buyer = open_page(locale=locale, viewport=viewport)
    buyer.goto(url)
    expect(buyer.locator("#pay-due")).to_have_text("NT$150")
    expect(buyer.locator("#charges-section")).to_be_hidden()

    page.reload()
    panel = open_panel(page, w)
    expect(panel.locator(".charges-owes")).to_contain_text("NT$150")
    expect(panel.locator(".charge-row")).to_have_count(0)
    panel.locator("[name=kind]").select_option("duty")
    # A Chinese input method types full-width digits: read as 60.
    panel.locator("[name=amount]").fill("６０" if zh else "60")
    panel.locator("[name=note]").fill(NOTE)
    if viewport == PHONE:
        scroll_still(page)
        shot(page, "charges-panel-phone-zh", full_page=False)
        assert_phone_layout(page, "#charges-box")
    panel.get_by_role("button", name=w["add"]).click()
    row = panel.locator(".charge-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(w["duty"])
    expect(row.locator(".charge-balance")).to_have_text("NT$60")
    expect(row.locator(".charge-status")).to_have_text(w["unpaid"])
    expect(row).to_contain_text(NOTE)  # text, never HTML
    if viewport == PHONE:  # no "Parcel" label with nothing after it on a phone: 7 of 8 cells
        expect(row.locator("td:visible")).to_have_count(7)
    expect(panel.locator(".charges-owes")).to_contain_text("NT$210")
    [charge] = api_call(stack, "GET", f"/charges?customer_id={customer_id}", token)["items"]
    assert (charge["kind"], charge["amount"], charge["balance"], charge["note"]) == ("duty", 60, 60, NOTE)
    if viewport == DESKTOP:
        settled(page)
        shot(page, "charges-panel-desktop-en", full_page=False)
    assert serious(page, "charges panel") == []

    # The buyer: the charge in words next to the orders, and 60 more to pay.
    buyer.reload()
    expect(buyer.locator("#pay-due")).to_have_text("NT$210")
    expect(buyer.locator("#pay-charges")).to_have_text(w["includes"])
    expect(buyer.locator("#charges-heading")).to_have_text(w["heading"])
    card = buyer.locator("#charge-cards .charge-card")
    expect(card).to_have_count(1)
    expect(card.locator(".charge-kind")).to_have_text(w["duty"])
    expect(card.locator(".charge-note")).to_have_text(NOTE)
    expect(card.locator(".charge-owed")).to_have_text(w["owed"])
    scroll_top(buyer)
    shot(buyer, f"charges-track-{'phone-zh' if zh else 'desktop-en'}")
    if viewport == PHONE:
        assert buyer.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert serious(buyer, "tracking page with a charge") == []

    # The seller records 60 for the charge: ticking it fills the amount.
    page.get_by_role("tab", name=w["payments"]).click()
    page.locator("#pay-record-box > summary").click()
    pick_buyer(page, "pay-form-buyer", "Amy", "Amy Chen")
    form = page.locator("#pay-form")
    expect(form.locator("#pay-form-orders .pay-order")).to_have_count(1)
    choice = form.locator("#pay-form-orders .pay-charge")
    expect(choice).to_have_count(1)
    expect(choice).to_contain_text(w["duty"])
    # Oldest first, as the money goes when nothing is ticked: #1001, then the new charge.
    expect(form.locator("#pay-form-orders label").first).to_contain_text("#1001")
    choice.click()
    expect(form.locator("[name=amount]")).to_have_value("60")
    if zh:  # typed again with a Chinese input method: full-width digits read as 60
        form.locator("[name=amount]").fill("６０")
    scroll_still(page)
    shot(page, f"charges-payment-form-{'phone-zh' if zh else 'desktop-en'}", full_page=False)
    form.get_by_role("button", name=w["record"]).click()
    expect(page.locator("#pay-form-msg")).to_contain_text(w["allocated"])
    expect(form.locator("#pay-form-orders .pay-charge")).to_have_count(0)  # nothing owed on it now
    expect(page.locator("#pay-list tbody tr").first.locator(".pay-to-charge")).to_have_text(
        f"{w['duty']} NT$60"
    )

    # Paid on both pages; #1001 still owes its 150.
    panel = open_panel(page, w)
    expect(panel.locator(".charge-row .charge-status")).to_have_text(w["paid"])
    expect(panel.locator(".charge-row .charge-balance")).to_have_text("NT$0")
    expect(panel.locator(".charges-owes")).to_contain_text("NT$150")
    buyer.reload()
    expect(buyer.locator("#pay-due")).to_have_text("NT$150")
    expect(buyer.locator("#pay-charges")).to_be_hidden()
    charges = api_call(stack, "GET", f"/charges?customer_id={customer_id}", token)["items"]
    assert [(c["paid_amount"], c["balance"]) for c in charges] == [(60, 0)]
    orders = api_call(stack, "GET", f"/orders?customer_id={customer_id}", token)["items"]
    assert [(o["order_no"], o["paid_amount"]) for o in orders] == [(1001, 0)]


def test_void_asks_first_and_a_bad_amount_writes_nothing(stack, seller_page):
    w = WORDS["en"]
    page = seller_page()
    token = seed_orders(stack, page, n=1)
    customer_id, _ = amy(stack, token)
    page.reload()
    panel = open_panel(page, w)

    # Not an amount: the field is marked, the message names it, nothing is written.
    for bad in ["abc", "0", "1.200,50"]:
        panel.locator("[name=amount]").fill(bad)
        panel.get_by_role("button", name=w["add"]).click()
        expect(panel.locator("[name=amount].is-invalid")).to_have_count(1)
        expect(panel.locator(".charges-msg")).to_contain_text("Amount")
    assert api_call(stack, "GET", f"/charges?customer_id={customer_id}", token)["items"] == []

    panel.locator("[name=kind]").select_option("packaging")
    panel.locator("[name=amount]").fill("25")
    panel.get_by_role("button", name=w["add"]).dblclick()  # a double tap adds one charge
    expect(panel.locator("[name=amount].is-invalid")).to_have_count(0)
    row = panel.locator(".charge-row")
    expect(row).to_have_count(1)
    expect(panel.locator("[name=amount]")).to_have_value("")
    assert len(api_call(stack, "GET", f"/charges?customer_id={customer_id}", token)["items"]) == 1
    expect(row.locator(".charge-status")).to_have_text(w["unpaid"])

    # "Keep it" keeps it; "Void charge" voids it.
    row.get_by_role("button", name=w["void"]).click()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_contain_text("Packaging")
    dialog.get_by_role("button", name=w["keep"]).click()
    expect(dialog).to_have_count(0)
    assert (
        api_call(stack, "GET", f"/charges?customer_id={customer_id}", token)["items"][0]["status"] == "open"
    )
    row.get_by_role("button", name=w["void"]).click()
    page.locator("dialog.confirm-dialog").get_by_role("button", name=w["void_yes"]).click()
    expect(row.locator(".charge-status")).to_have_text(w["voided"])
    expect(row.get_by_role("button", name=w["void"])).to_have_count(0)
    expect(panel.locator(".charges-owes")).to_contain_text("NT$150")
    [charge] = api_call(stack, "GET", f"/charges?customer_id={customer_id}", token)["items"]
    assert (charge["status"], charge["balance"]) == ("void", 0)


def test_the_buyers_report_opens_the_panel_and_follows_a_new_charge(stack, seller_page):
    w = WORDS["en"]
    page = seller_page()
    seed_orders(stack, page, n=2)  # Amy #1001 NT$150, Ben #1002 NT$240
    page.reload()
    page.get_by_role("tab", name=w["reports"]).click()
    amy_row = page.locator("#rep-buyers tbody tr", has_text="Amy Chen")
    expect(amy_row.locator(".outstanding-amount")).to_have_text("NT$150")
    amy_row.locator(".charges-open").click()
    panel = page.locator("#rep-charges .charges-panel")
    expect(panel).to_contain_text("Amy Chen")
    panel.locator("[name=kind]").select_option("shipping")
    panel.locator("[name=amount]").fill("60")
    panel.get_by_role("button", name=w["add"]).click()
    expect(panel.locator(".charge-row")).to_have_count(1)
    # The report's outstanding counts the open charge (the server's figure, reloaded).
    expect(amy_row.locator(".outstanding-amount")).to_have_text("NT$210")
    # The LINE message to Amy says what the 210 is for, in the shop's language (Chinese by
    # default) whatever the page's.
    amy_row.locator(".copy-message").click()
    expect(page.locator("#rep-message-text")).to_have_value(
        re.compile(r"^Amy Chen 您好，目前應付 NT\$210（#1001、運費 NT\$60）")
    )
    # The panel follows the page's language.
    page.locator("#lang").select_option("zh-Hant")
    expect(panel.locator(".charge-row")).to_contain_text("運費")
    expect(panel.get_by_role("button", name="新增費用")).to_be_visible()


@pytest.mark.parametrize(("locale", "viewport"), [("zh-TW", PHONE)], ids=["zh-phone"])
def test_a_parcels_shipping_partly_paid_reads_so_on_both_pages(
    stack, seller_page, open_page, locale, viewport
):
    w = WORDS["zh"]
    page = seller_page(viewport=viewport, locale=locale)
    token = seed_orders(stack, page, n=1)
    customer_id, url = amy(stack, token)
    [order] = api_call(stack, "GET", f"/orders?customer_id={customer_id}", token)["items"]
    parcel = api_call(
        stack,
        "POST",
        "/parcels",
        token,
        {"customer_id": customer_id, "order_ids": [order["id"]], "method": "cvs_711"},
    )
    charge = api_call(
        stack,
        "POST",
        "/charges",
        token,
        {"customer_id": customer_id, "amount": 60, "kind": "shipping", "parcel_id": parcel["id"]},
    )
    # 20 paid on the charge alone: it is partly paid, #1001 untouched.
    api_call(
        stack,
        "POST",
        "/payments",
        token,
        {"customer_id": customer_id, "amount": 20, "method": "cash", "charge_ids": [charge["id"]]},
    )
    parcel_name = f"包裹 #{parcel['parcel_no']}"

    page.reload()
    panel = open_panel(page, w)
    row = panel.locator(".charge-row")
    expect(row.locator(".charge-parcel")).to_have_text(parcel_name)
    expect(row.locator(".charge-paid")).to_have_text("NT$20")
    expect(row.locator(".charge-balance")).to_have_text("NT$40")
    expect(row.locator(".charge-status")).to_have_text("部分付款")
    expect(panel.locator(".charges-owes")).to_contain_text("NT$190")

    buyer = open_page(locale=locale, viewport=viewport)
    buyer.goto(url)
    expect(buyer.locator("#pay-due")).to_have_text("NT$190")
    card = buyer.locator("#charge-cards .charge-card")
    expect(card.locator(".charge-kind")).to_have_text("運費")
    expect(card).to_contain_text(parcel_name)
    expect(card.locator(".charge-paid")).to_have_text("已付 NT$20")
    expect(card.locator(".charge-owed")).to_have_text("尚欠 NT$40")
    expect(buyer.locator("#pay-charges")).to_have_text("含運費及其他費用 NT$40。")
    scroll_top(buyer)
    shot(buyer, "charges-track-parcel-phone-zh")
    assert buyer.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
